"""OCPP 2.0.1 device model reports (block B, Core), charging station under test (Part 6 Edition
3, errata 2025-09): the variables every station must report in a FullInventory (TC_B_53, the
errata 2025-04 make it check every required value), and a base report the station does not
support (TC_B_15)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from conformance.station.harness import Harness, check
from conformance.station.provisioning201 import REPORT_REQUEST_ID, get_base_report
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass(frozen=True)
class Required:
    """A variable the station must report: of the component itself (``at`` "station"), of every
    EVSE ("evse") or of every EVSE's connector 1 ("connector"); ``read_only`` where the
    appendix fixes the Actual attribute's mutability to ReadOnly."""

    component: str
    variable: str
    instance: str | None = None
    read_only: bool = False
    at: str = "station"


def _station(component: str, *variables: str, read_only: bool = False
             ) -> tuple[Required, ...]:
    return tuple(Required(component, v, read_only=read_only) for v in variables)


# OCPP 2.0.1 Part 2, Appendices: "Referenced Components and Variables" (the controller
# components) and the physical components ChargingStation, EVSE and Connector: the variables
# marked "Required: yes", by the certification profile that brings their functional block in.
# ReservationCtrlr (Available, Enabled, NonEvseSpecific) has none marked required.
REQUIRED_VARIABLES: dict[str, tuple[Required, ...]] = {
    "Core": (
        *_station("OCPPCommCtrlr", "FileTransferProtocols", "NetworkConfigurationPriority",
                  "NetworkProfileConnectionAttempts", "OfflineThreshold", "ResetRetries",
                  "RetryBackOffRandomRange", "RetryBackOffRepeatTimes",
                  "RetryBackOffWaitMinimum", "UnlockOnEVSideDisconnect",
                  "WebSocketPingInterval"),
        Required("OCPPCommCtrlr", "MessageTimeout", "Default"),
        Required("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
        Required("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
        *(Required("DeviceDataCtrlr", variable, instance, read_only=True)
          for variable in ("ItemsPerMessage", "BytesPerMessage")
          for instance in ("GetReport", "GetVariables", "SetVariables")),
        *_station("ClockCtrlr", "DateTime", "TimeSource"),
        *_station("SecurityCtrlr", "Identity", "OrganizationName"),
        *_station("SecurityCtrlr", "CertificateEntries", "SecurityProfile", read_only=True),
        *_station("AuthCtrlr", "AuthorizeRemoteStart", "LocalAuthorizeOffline",
                  "LocalPreAuthorize"),
        *_station("TxCtrlr", "EVConnectionTimeOut", "StopTxOnEVSideDisconnect",
                  "StopTxOnInvalidId", "TxStartPoint", "TxStopPoint"),
        *_station("SampledDataCtrlr", "TxEndedMeasurands", "TxEndedInterval",
                  "TxStartedMeasurands", "TxUpdatedMeasurands", "TxUpdatedInterval"),
        *_station("AlignedDataCtrlr", "Interval", "Measurands", "TxEndedInterval",
                  "TxEndedMeasurands"),
        *_station("ChargingStation", "AvailabilityState", "Available", "SupplyPhases",
                  read_only=True),
        *(Required("EVSE", v, read_only=True, at="evse")
          for v in ("AvailabilityState", "Available", "Power", "SupplyPhases")),
        *(Required("Connector", v, read_only=True, at="connector")
          for v in ("Available", "ConnectorType", "SupplyPhases")),
    ),
    "LAL": (
        *_station("LocalAuthListCtrlr", "Entries", "ItemsPerMessage", "BytesPerMessage",
                  read_only=True),
    ),
    "SC": (
        Required("SmartChargingCtrlr", "Entries", "ChargingProfiles", read_only=True),
        Required("SmartChargingCtrlr", "LimitChangeSignificance"),
        *_station("SmartChargingCtrlr", "PeriodsPerSchedule", "ProfileStackLevel", "RateUnit",
                  read_only=True),
    ),
    "Res": (),
    "UI": (
        *_station("DisplayMessageCtrlr", "DisplayMessages", "SupportedFormats",
                  "SupportedPriorities"),
    ),
    "ADM": (
        *(Required("MonitoringCtrlr", v, "SetVariableMonitoring", read_only=True)
          for v in ("ItemsPerMessage", "BytesPerMessage")),
    ),
}

Key = tuple[str, str, int | None, int | None]  # component, variable[instance], evse, connector


def _fold(text: str | None) -> str:
    return (text or "").casefold()


def _key(item: dict[str, Any]) -> Key:
    """Names compare case-insensitively (Part 2, 2.1 device model: names are
    case-insensitive)."""
    evse = item["component"].get("evse") or {}
    variable = item["variable"]
    return (_fold(item["component"]["name"]),
            f"{_fold(variable['name'])}[{_fold(variable.get('instance'))}]",
            evse.get("id"), evse.get("connectorId"))


def _wanted(h: Harness) -> list[tuple[Required, Key]]:
    """Every required variable of the claimed profiles (Core always among them), where the
    station must report it."""
    wanted = []
    for profile in h.sut.profiles:
        for r in REQUIRED_VARIABLES.get(profile, ()):
            name = f"{_fold(r.variable)}[{_fold(r.instance)}]"
            evses: list[int | None] = [None] if r.at == "station" else \
                list(range(1, h.evses + 1))
            for evse in evses:
                connector = 1 if r.at == "connector" else None
                wanted.append((r, (_fold(r.component), name, evse, connector)))
    return wanted


def _label(r: Required, key: Key) -> str:
    where = "" if key[2] is None else f" (EVSE {key[2]}" + (
        f" connector {key[3]})" if key[3] is not None else ")")
    return f"{r.component}.{r.variable}" + (f"[{r.instance}]" if r.instance else "") + where


def _actual(item: dict[str, Any]) -> dict[str, Any] | None:
    return next((a for a in item.get("variableAttribute", [])
                 if a.get("type", "Actual") == "Actual"), None)


@pytest.mark.case("TC_B_53_CS")
async def test_TC_B_53_CS(h: Harness) -> None:
    """Get Base Report, test mandatory DM variables via FullInventory: GetBaseReport
    FullInventory Accepted; the NotifyReport parts (requestId, seqNo from 0, tbc false on the
    last) report every variable Part 2's appendix marks required for the claimed profiles
    (Core; LocalAuthListCtrlr with LAL, SmartChargingCtrlr with SC, DisplayMessageCtrlr with
    UI, MonitoringCtrlr with ADM), each with an Actual attribute, ReadOnly where the appendix
    fixes it so."""
    await h.booted()
    items = await get_base_report(h, "FullInventory")
    reported = {_key(i): i for i in items}
    missing, no_actual, writable = [], [], []
    for required, key in _wanted(h):
        item = reported.get(key)
        if item is None:
            missing.append(_label(required, key))
            continue
        actual = _actual(item)
        if actual is None:
            no_actual.append(_label(required, key))
        elif required.read_only and actual.get("mutability", "ReadWrite") != "ReadOnly":
            writable.append(f"{_label(required, key)}: {actual.get('mutability', 'ReadWrite')}")
    check(not missing, "NotifyReportRequest", "every required variable reported",
          f"missing: {', '.join(missing)}")
    check(not no_actual, "NotifyReportRequest", "an Actual attribute for every required "
          "variable", f"without: {', '.join(no_actual)}")
    check(not writable, "NotifyReportRequest", "mutability ReadOnly where the appendix "
          "fixes it", ", ".join(writable))


@pytest.mark.case("TC_B_15_CS")
async def test_TC_B_15_CS(h: Harness) -> None:
    """Get Base Report, not supported base report (a station without the SummaryInventory
    report, NOT C-56): GetBaseReport SummaryInventory is answered NotSupported."""
    if h.sut.claims("summary_inventory"):
        not_applicable("a station without the SummaryInventory base report (the SUT file "
                       "claims summary_inventory)")
    await h.booted()
    answer = await h.csms.call("GetBaseReport", {"requestId": REPORT_REQUEST_ID,
                                                 "reportBase": "SummaryInventory"},
                               step="GetBaseReportRequest SummaryInventory")
    check(answer.get("status") == "NotSupported", "GetBaseReportResponse", "NotSupported",
          answer)
