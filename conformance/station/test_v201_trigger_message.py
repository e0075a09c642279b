"""OCPP 2.0.1 block F, trigger message, charging station under test (use case F06): TC_F_11..F_19,
F_23, F_24, F_26, F_27 (Part 6 Edition 3, errata 2025-09). The Heartbeat trigger (TC_F_20) is
in test_v201_core.py.

Each case applies where the station says it supports triggering that message (the SUT file's
``trigger_*`` features, Part 5 C-29.x); TC_F_27 where it does not implement the
SignCombinedCertificate trigger. Only what the station sends after the trigger counts: the same
message sent before (a status at boot, say) is set aside first.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest

from conformance.station.csms import Where
from conformance.station.firmware201 import firmware_status, get_log, log_status, update_firmware
from conformance.station.harness import Harness, Received, check, started_earlier
from conformance.station.listener import file_server, signed_firmware
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVSE = 1  # <Configured evseId>
CONNECTOR = 1  # <Configured connectorId>


def _supports(h: Harness, feature: str, what: str) -> None:
    if not h.sut.claims(feature):
        not_applicable(f"{feature} (the station supports TriggerMessage {what})")


def _only_new(h: Harness, *actions: str) -> None:
    """Set aside what the station sent of ``actions`` so far: only messages sent after the
    trigger count."""
    for action in actions:
        for record in h.csms.received(action):
            record.consumed = True


async def _trigger(h: Harness, requested: str, *, evse: int | None = None,
                   connector: int | None = None, expected: str = "Accepted") -> None:
    """TriggerMessage for ``requested`` (for ``evse`` / ``connector`` if given), answered
    ``expected``."""
    request: dict[str, Any] = {"requestedMessage": requested}
    if evse is not None:
        request["evse"] = {"id": evse} if connector is None else \
            {"id": evse, "connectorId": connector}
    answer = await h.csms.call("TriggerMessage", request, step="TriggerMessageRequest")
    check(answer.get("status") == expected, "TriggerMessageResponse", expected, answer)


def _first_context(message: dict[str, Any]) -> str | None:
    """meterValue[0].sampledValue[0].context of a MeterValues / TransactionEvent."""
    values = message.get("meterValue") or [{}]
    sampled = values[0].get("sampledValue") or [{}]
    return sampled[0].get("context")


# -- MeterValues (C-29.1) --------------------------------------------------------------------


async def _triggered_meter_values(h: Harness, evse: int) -> None:
    """A MeterValuesRequest for ``evse`` whose meterValue[0].sampledValue[0].context is
    Trigger."""
    step = f"MeterValuesRequest (EVSE {evse})"
    sent = await h.csms.receive("MeterValues", step=step,
                                where=lambda p: p.get("evseId") == evse,
                                expected=f"MeterValues for EVSE {evse}")
    check(_first_context(sent.payload) == "Trigger", step,
          "meterValue[0].sampledValue[0].context Trigger", sent.payload)


@pytest.mark.case("TC_F_11_CS")
async def test_TC_F_11_CS(h: Harness) -> None:
    """Trigger message, MeterValues, specific EVSE: TriggerMessage MeterValues for the EVSE
    Accepted; MeterValuesRequest for that EVSE, meterValue[0].sampledValue[0].context
    Trigger."""
    _supports(h, "trigger_meter_values", "MeterValues")
    await h.booted()
    _only_new(h, "MeterValues")
    await _trigger(h, "MeterValues", evse=EVSE)
    await _triggered_meter_values(h, EVSE)


@pytest.mark.case("TC_F_12_CS")
async def test_TC_F_12_CS(h: Harness) -> None:
    """Trigger message, MeterValues, all EVSE: TriggerMessage MeterValues without evse
    Accepted; a MeterValuesRequest for every EVSE, each meterValue[0].sampledValue[0].context
    Trigger."""
    _supports(h, "trigger_meter_values", "MeterValues")
    await h.booted()
    _only_new(h, "MeterValues")
    await _trigger(h, "MeterValues")
    for evse in range(1, h.evses + 1):
        await _triggered_meter_values(h, evse)


# -- TransactionEvent (C-29.2) ---------------------------------------------------------------


async def _charging_everywhere(h: Harness, evses: range) -> None:
    """"EnergyTransferStarted" on each of ``evses`` (a valid token each)."""
    tokens = (h.sut.tokens.valid, h.sut.tokens.valid_2)
    for n, evse in enumerate(evses):
        await h.charging201(tokens[n % len(tokens)], step=f"EnergyTransferStarted EVSE {evse}",
                            evse=evse)


async def _triggered_transaction_event(h: Harness, evse: int, *, named: bool) -> None:
    """The triggered TransactionEventRequest of ``evse``'s transaction: triggerReason
    Trigger, chargingState Charging, with meterValue whose [0].sampledValue[0].context is
    Trigger; evse.id ``evse`` (``named``), else omitted or ``evse``."""
    step = f"TransactionEventRequest (EVSE {evse})"
    sent = await h.csms.receive(
        "TransactionEvent", step=step,
        where=lambda p: p.get("triggerReason") == "Trigger" and
        p.get("evse", {}).get("id", None if named else evse) == evse,
        expected=f"a TransactionEvent with triggerReason Trigger for EVSE {evse}")
    p = sent.payload
    check(p.get("transactionInfo", {}).get("chargingState") == "Charging" and
          bool(p.get("meterValue")) and _first_context(p) == "Trigger", step,
          "chargingState Charging, meterValue with meterValue[0].sampledValue[0].context "
          "Trigger", p)


@pytest.mark.case("TC_F_13_CS")
async def test_TC_F_13_CS(h: Harness) -> None:
    """Trigger message, TransactionEvent, specific EVSE: (EnergyTransferStarted)
    TriggerMessage TransactionEvent for the EVSE Accepted; TransactionEventRequest with
    evse.id omitted or the EVSE, triggerReason Trigger, chargingState Charging, meterValue
    with meterValue[0].sampledValue[0].context Trigger."""
    _supports(h, "trigger_transaction_event", "TransactionEvent")
    await h.booted()
    await _charging_everywhere(h, range(EVSE, EVSE + 1))
    _only_new(h, "TransactionEvent")
    await _trigger(h, "TransactionEvent", evse=EVSE)
    await _triggered_transaction_event(h, EVSE, named=False)


@pytest.mark.case("TC_F_14_CS")
async def test_TC_F_14_CS(h: Harness) -> None:
    """Trigger message, TransactionEvent, all EVSE: (EnergyTransferStarted on every EVSE)
    TriggerMessage TransactionEvent without evse Accepted; for every EVSE a
    TransactionEventRequest with evse.id that EVSE, triggerReason Trigger, chargingState
    Charging, meterValue with meterValue[0].sampledValue[0].context Trigger."""
    _supports(h, "trigger_transaction_event", "TransactionEvent")
    await h.booted()
    await _charging_everywhere(h, range(1, h.evses + 1))
    _only_new(h, "TransactionEvent")
    await _trigger(h, "TransactionEvent")
    for evse in range(1, h.evses + 1):
        await _triggered_transaction_event(h, evse, named=True)


# -- LogStatusNotification (C-29.3) ----------------------------------------------------------


@pytest.mark.case("TC_F_15_CS")
async def test_TC_F_15_CS(h: Harness) -> None:
    """Trigger message, LogStatusNotification, Idle: (no log upload going on) TriggerMessage
    LogStatusNotification Accepted; LogStatusNotificationRequest with status Idle."""
    _supports(h, "trigger_log_status", "LogStatusNotification")
    await h.booted()
    _only_new(h, "LogStatusNotification")
    await _trigger(h, "LogStatusNotification")
    sent = await h.csms.receive("LogStatusNotification", step="LogStatusNotificationRequest")
    check(sent.payload.get("status") == "Idle", "LogStatusNotificationRequest", "status Idle",
          sent.payload)


@pytest.mark.case("TC_F_16_CS")
async def test_TC_F_16_CS(h: Harness) -> None:
    """Trigger message, LogStatusNotification, Uploading: GetLog (DiagnosticsLog, to a
    location that takes its time) Accepted; LogStatusNotification Uploading; TriggerMessage
    LogStatusNotification Accepted; LogStatusNotificationRequest Uploading with the GetLog's
    requestId."""
    _supports(h, "trigger_log_status", "LogStatusNotification")
    await h.booted()
    folder = f"/upload/{secrets.token_hex(4)}/"
    async with file_server(h.csms.url) as files:
        release = files.hold(folder)  # the upload lasts until released: still Uploading
        request_id = await get_log(h, "DiagnosticsLog", files.url(folder))
        await log_status(h, request_id, ("Uploading",), step="LogStatusNotification Uploading")
        await _trigger(h, "LogStatusNotification")
        sent = await h.csms.receive("LogStatusNotification",
                                    step="LogStatusNotificationRequest (triggered)")
        release.set()
    check(sent.payload.get("status") == "Uploading" and
          sent.payload.get("requestId") == request_id,
          "LogStatusNotificationRequest (triggered)",
          f"status Uploading, requestId {request_id}", sent.payload)


# -- FirmwareStatusNotification (C-29.4) -----------------------------------------------------


async def _firmware_idle(h: Harness, *, evse: int | None = None) -> None:
    """(No firmware update going on) TriggerMessage FirmwareStatusNotification (for ``evse``,
    which does not matter to it) Accepted; FirmwareStatusNotificationRequest Idle."""
    await h.booted()
    _only_new(h, "FirmwareStatusNotification")
    await _trigger(h, "FirmwareStatusNotification", evse=evse)
    sent = await h.csms.receive("FirmwareStatusNotification",
                                step="FirmwareStatusNotificationRequest")
    check(sent.payload.get("status") == "Idle", "FirmwareStatusNotificationRequest",
          "status Idle", sent.payload)


@pytest.mark.case("TC_F_17_CS")
async def test_TC_F_17_CS(h: Harness) -> None:
    """Trigger message, FirmwareStatusNotification, specific EVSE not relevant:
    TriggerMessage FirmwareStatusNotification with an evse Accepted;
    FirmwareStatusNotificationRequest Idle."""
    _supports(h, "trigger_firmware_status", "FirmwareStatusNotification")
    await _firmware_idle(h, evse=EVSE)


@pytest.mark.case("TC_F_18_CS")
async def test_TC_F_18_CS(h: Harness) -> None:
    """Trigger message, FirmwareStatusNotification, Idle: (no firmware update going on)
    TriggerMessage FirmwareStatusNotification Accepted; FirmwareStatusNotificationRequest
    Idle."""
    _supports(h, "trigger_firmware_status", "FirmwareStatusNotification")
    await _firmware_idle(h)


@pytest.mark.case("TC_F_19_CS")
async def test_TC_F_19_CS(h: Harness) -> None:
    """Trigger message, FirmwareStatusNotification, Downloading: UpdateFirmware (a signed
    image at a location that takes its time) Accepted; FirmwareStatusNotification Downloading;
    TriggerMessage FirmwareStatusNotification Accepted; FirmwareStatusNotificationRequest
    Downloading with the UpdateFirmware's requestId. (The image is then withdrawn: the
    download fails, nothing is installed.)"""
    _supports(h, "trigger_firmware_status", "FirmwareStatusNotification")
    await h.booted()
    folder = f"/firmware/{secrets.token_hex(4)}/"
    image = signed_firmware(h.sut.firmware)
    async with file_server(h.csms.url) as files:
        release = files.hold(folder)  # the download lasts until released: still Downloading
        path = f"{folder}firmware.bin"
        location = files.publish(path, image.image)
        request_id = await update_firmware(h, location, image, retrieve=started_earlier(60))
        await firmware_status(h, request_id, ("Downloading",),
                              step="FirmwareStatusNotification Downloading")
        await _trigger(h, "FirmwareStatusNotification")
        sent = await h.csms.receive("FirmwareStatusNotification",
                                    step="FirmwareStatusNotificationRequest (triggered)")
        files.files.pop(path)
        release.set()
    check(sent.payload.get("status") == "Downloading" and
          sent.payload.get("requestId") == request_id,
          "FirmwareStatusNotificationRequest (triggered)",
          f"status Downloading, requestId {request_id}", sent.payload)


# -- StatusNotification (C-29.5) -------------------------------------------------------------


def _is_connector(p: dict[str, Any]) -> bool:
    return p.get("evseId") == EVSE and p.get("connectorId") == CONNECTOR


def _availability_event(p: dict[str, Any]) -> bool:
    """A NotifyEvent about the configured connector's AvailabilityState."""
    return any(_availability(d) for d in p.get("eventData", []))


def _availability(data: dict[str, Any]) -> bool:
    component = data.get("component", {})
    evse = component.get("evse", {})
    return component.get("name") == "Connector" and \
        data.get("variable", {}).get("name") == "AvailabilityState" and \
        evse.get("id", EVSE) == EVSE and evse.get("connectorId", CONNECTOR) == CONNECTOR


async def _first_of(h: Harness, waits: dict[str, Where], *, step: str) -> Received:
    """The first of the station's messages ``waits`` names (action: which)."""
    tasks = [asyncio.ensure_future(h.csms.receive(action, step=step, where=where))
             for action, where in waits.items()]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return next(iter(done)).result()
    finally:
        for task in tasks:
            task.cancel()


async def _triggered_connector_status(h: Harness, status: str) -> None:
    """TriggerMessage StatusNotification for the configured EVSE and connector Accepted; the
    station reports the connector's state ``status``: StatusNotificationRequest with
    connectorStatus ``status``, or NotifyEventRequest (trigger Delta, component Connector,
    variable AvailabilityState, actualValue ``status``)."""
    _only_new(h, "StatusNotification", "NotifyEvent")
    await _trigger(h, "StatusNotification", evse=EVSE, connector=CONNECTOR)
    step = "StatusNotificationRequest / NotifyEventRequest"
    sent = await _first_of(h, {"StatusNotification": _is_connector,
                               "NotifyEvent": _availability_event}, step=step)
    if sent.action == "StatusNotification":
        check(sent.payload.get("connectorStatus") == status, step,
              f"connectorStatus {status}", sent.payload)
        return
    data = next(d for d in sent.payload["eventData"] if _availability(d))
    check(data.get("trigger") == "Delta" and data.get("actualValue") == status, step,
          f"trigger Delta, actualValue {status}", sent.payload)


@pytest.mark.case("TC_F_23_CS")
async def test_TC_F_23_CS(h: Harness) -> None:
    """Trigger message, StatusNotification, specific EVSE, Available: TriggerMessage
    StatusNotification for the EVSE and connector Accepted; the connector reported Available
    (StatusNotification, or NotifyEvent AvailabilityState)."""
    _supports(h, "trigger_status_notification", "StatusNotification")
    await h.booted()
    await _triggered_connector_status(h, "Available")


@pytest.mark.case("TC_F_24_CS")
async def test_TC_F_24_CS(h: Harness) -> None:
    """Trigger message, StatusNotification, specific EVSE, Occupied: (EVConnectedPreSession:
    EV plugged in, StatusNotification Occupied) TriggerMessage StatusNotification for the EVSE
    and connector Accepted; the connector reported Occupied (StatusNotification, or
    NotifyEvent AvailabilityState)."""
    _supports(h, "trigger_status_notification", "StatusNotification")
    await h.booted()
    await h.act("plug_in", step="EVConnectedPreSession: plug in", evse=EVSE)
    await h.status(EVSE, "Occupied", step="EVConnectedPreSession: StatusNotification Occupied")
    await _triggered_connector_status(h, "Occupied")


# -- BootNotification (C-29.6), not implemented ----------------------------------------------


@pytest.mark.case("TC_F_26_CS")
async def test_TC_F_26_CS(h: Harness) -> None:
    """Trigger message, BootNotification, Rejected: (Booted: the boot was Accepted already)
    TriggerMessage BootNotification: Rejected (F06.FR.17)."""
    _supports(h, "trigger_boot_notification", "BootNotification")
    await h.booted()
    await _trigger(h, "BootNotification", expected="Rejected")


@pytest.mark.case("TC_F_27_CS")
async def test_TC_F_27_CS(h: Harness) -> None:
    """Trigger message, NotImplemented: (a station that does not implement the
    SignCombinedCertificate trigger) TriggerMessage SignCombinedCertificate:
    NotImplemented."""
    if h.sut.claims("trigger_sign_combined_certificate"):
        not_applicable("a station that does not implement TriggerMessage "
                       "SignCombinedCertificate (the SUT claims "
                       "trigger_sign_combined_certificate)")
    await h.booted()
    await _trigger(h, "SignCombinedCertificate", expected="NotImplemented")
