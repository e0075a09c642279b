"""OCPP 2.0.1 block B (Provisioning), CSMS under test: the cases beyond the first ones
(multiple get/set variables, base reports, resets with transactions and of one EVSE, network
connection profiles)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    boot_payload,
    booted_station,
    check,
    csms_sends,
    energy_transfer_started_201,
    now_iso,
    status_payload,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio


def _tx_id(case: str) -> str:
    return f"CONF-TX-{case}-{uuid.uuid4().hex[:8]}"


# -- B_07 / B_10: several variables at once ----------------------------------------------------

_VARIABLES = [
    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
    {"component": {"name": "TxCtrlr"}, "variable": {"name": "EVConnectionTimeOut"}},
]


@pytest.mark.case("TC_B_07_CSMS")
async def test_TC_B_07_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Variables - multiple values (B06).

    Before: Booted. Steps: 1. the CSMS sends GetVariablesRequest for several variables; 2. the
    station answers a getVariableResult per requested variable, Accepted with a value.
    Validated: the request holds more than one getVariableData, each naming a component and a
    variable, no two the same."""
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "GetVariables", {"getVariableData": _VARIABLES},
                            None, step="GetVariablesRequest", timeout_s=sut.action_timeout_s)
    data = call.payload.get("getVariableData", [])
    call.respond({"getVariableResult": [{
        "attributeStatus": "Accepted", "attributeValue": "300",
        "component": item["component"], "variable": item["variable"]} for item in data]})
    check(len(data) > 1, "GetVariablesRequest", "more than one getVariableData", call.payload)
    keys = [(_key(item["component"]), _key(item["variable"]), item.get("attributeType"))
            for item in data]
    check(len(set(keys)) == len(keys), "GetVariablesRequest",
          "each variable asked for once", call.payload)


def _key(named: dict[str, Any]) -> str:
    return repr(sorted(named.items()))


@pytest.mark.case("TC_B_10_CSMS")
async def test_TC_B_10_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Variables - multiple values (B05).

    Before: Booted. Steps: 1. the CSMS sends SetVariablesRequest for several variables; 2. the
    station answers a setVariableResult per variable, Accepted. Validated: the request holds
    more than one setVariableData, each with a component, a variable and an attributeValue."""
    station = await booted_station(stations)
    wanted = [{**item, "attributeValue": value}
              for item, value in zip(_VARIABLES, ("600", "120"), strict=True)]
    call = await csms_sends(station, triggers, "SetVariables", {"setVariableData": wanted},
                            None, step="SetVariablesRequest", timeout_s=sut.action_timeout_s)
    data = call.payload.get("setVariableData", [])
    call.respond({"setVariableResult": [{
        "attributeStatus": "Accepted", "component": item["component"],
        "variable": item["variable"]} for item in data]})
    check(len(data) > 1, "SetVariablesRequest", "more than one setVariableData", call.payload)
    check(all("attributeValue" in item for item in data), "SetVariablesRequest",
          "every setVariableData with an attributeValue", call.payload)


# -- B_12 / B_13: base reports -----------------------------------------------------------------


async def _base_report(stations: StationPool, triggers: Triggers, sut: Sut,
                       report_base: str) -> None:
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "GetBaseReport",
                            {"requestId": 1201, "reportBase": report_base},
                            {"status": "Accepted"}, step="GetBaseReportRequest",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("reportBase") == report_base, "GetBaseReportRequest",
          f"reportBase {report_base}", call.payload)
    request_id = call.payload.get("requestId")
    reports = [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "variableAttribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite"}]},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"},
         "variableAttribute": [{"type": "Actual", "value": "1", "mutability": "ReadOnly"}]},
    ]
    for seq_no, item in enumerate(reports):
        answer = await station.call("NotifyReport", {
            "requestId": request_id, "generatedAt": now_iso(), "seqNo": seq_no,
            "tbc": seq_no < len(reports) - 1, "reportData": [item]},
            step=f"NotifyReportRequest seqNo {seq_no}")
        check(set(answer) <= {"customData"}, f"NotifyReportResponse seqNo {seq_no}",
              "an (empty) NotifyReportResponse", answer)


@pytest.mark.case("TC_B_12_CSMS")
async def test_TC_B_12_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Base Report - ConfigurationInventory (B07).

    Before: Booted. Steps: 1. the CSMS sends GetBaseReportRequest; 2. the station answers
    Accepted; 3. the station sends the report in NotifyReportRequests (same requestId, seqNo
    0.., tbc true but on the last); 4. the CSMS answers each. Validated: reportBase
    ConfigurationInventory; every NotifyReportRequest answered with a NotifyReportResponse."""
    await _base_report(stations, triggers, sut, "ConfigurationInventory")


@pytest.mark.case("TC_B_13_CSMS")
async def test_TC_B_13_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Base Report - FullInventory (B07).

    Before: Booted. Steps: 1. the CSMS sends GetBaseReportRequest; 2. the station answers
    Accepted; 3. the station sends the report in NotifyReportRequests (same requestId, seqNo
    0.., tbc true but on the last); 4. the CSMS answers each. Validated: reportBase
    FullInventory; every NotifyReportRequest answered with a NotifyReportResponse."""
    await _base_report(stations, triggers, sut, "FullInventory")


# -- B_21, B_22, B_25, B_26, B_27: resets ------------------------------------------------------


async def _reset(station: TestStation, triggers: Triggers, sut: Sut, reset_type: str | None,
                 answer: str, evse_id: int | None = None) -> IncomingCall:
    """The CSMS sends ResetRequest ``reset_type`` (None: either type) for the station or one
    EVSE; the station answers ``answer``."""
    payload: dict[str, Any] = {"type": reset_type or "OnIdle"}
    if evse_id is not None:
        payload["evseId"] = evse_id
    call = await csms_sends(station, triggers, "Reset", payload, {"status": answer},
                            step="ResetRequest", timeout_s=sut.action_timeout_s)
    types = (reset_type,) if reset_type else ("OnIdle", "Immediate")
    check(call.payload.get("type") in types, "ResetRequest", "type " + " or ".join(types),
          call.payload)
    if evse_id is None:
        check("evseId" not in call.payload, "ResetRequest", "no evseId (the whole station)",
              call.payload)
    else:
        check(call.payload.get("evseId") == evse_id, "ResetRequest", f"evseId {evse_id}",
              call.payload)
    return call


async def _stopped_by_driver(tx: Transaction201, token: str) -> None:
    """OCTT "StopAuthorized" then "EVConnectedPostSession"/"EVDisconnected": the driver ends
    the transaction with the same token."""
    answer = await tx.event("Updated", "StopAuthorized", token=token,
                            charging_state="EVConnected",
                            step="StopAuthorized: TransactionEvent StopAuthorized")
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted",
          "StopAuthorized: TransactionEvent StopAuthorized", "idTokenInfo status Accepted",
          answer)
    await tx.event("Ended", "EVCommunicationLost", charging_state="Idle",
                   stopped_reason="Local", meter_wh=tx.meter_wh + 1000,
                   step="EVDisconnected: TransactionEvent Ended")


async def _immediate_end(tx: Transaction201) -> None:
    """The station ends its transaction because of the reset (E07: triggerReason
    ResetCommand, stoppedReason ImmediateReset)."""
    await tx.event("Ended", "ResetCommand", stopped_reason="ImmediateReset",
                   meter_wh=tx.meter_wh + 1000, step="TransactionEvent Ended (ResetCommand)")


async def _reboot(stations: StationPool, station: TestStation) -> None:
    """The station restarts: BootNotification (RemoteReset) answered Accepted."""
    await station.close()
    rebooted = await stations.connected()
    answer = await rebooted.call("BootNotification",
                                 boot_payload(rebooted.version, "RemoteReset"),
                                 step="BootNotification after the reset")
    check(answer.get("status") == "Accepted", "BootNotification after the reset",
          "status Accepted", answer)
    await rebooted.call("StatusNotification", status_payload(rebooted.version, 1, "Available"),
                        step="StatusNotification Available after the reset")


@pytest.mark.case("TC_B_21_CSMS")
async def test_TC_B_21_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reset Charging Station - With Ongoing Transaction - OnIdle (B11, B12).

    Before: EnergyTransferStarted. Steps: 1. the CSMS sends ResetRequest OnIdle; 2. the station
    answers Scheduled; 3. the driver stops the transaction (StopAuthorized, EVDisconnected),
    the CSMS answers; 4. the station reboots: BootNotification. Validated: type OnIdle and no
    evseId (errata 2024-09); the stop token and the BootNotification accepted."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, _tx_id("B21"))
    await _reset(station, triggers, sut, "OnIdle", "Scheduled")
    await _stopped_by_driver(tx, sut.tokens.valid)
    await _reboot(stations, station)


@pytest.mark.case("TC_B_22_CSMS")
async def test_TC_B_22_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reset Charging Station - With Ongoing Transaction - Immediate (B11, B12).

    Before: EnergyTransferStarted. Steps: 1. the CSMS sends ResetRequest Immediate; 2. the
    station answers Accepted; 3. it ends the transaction: TransactionEvent Ended, triggerReason
    ResetCommand, stoppedReason ImmediateReset, answered by the CSMS; 4. it reboots:
    BootNotification. Validated: type Immediate and no evseId (errata 2024-09); the Ended
    event answered; the BootNotification accepted."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, _tx_id("B22"))
    await _reset(station, triggers, sut, "Immediate", "Accepted")
    await _immediate_end(tx)
    await _reboot(stations, station)


async def _evse_back(station: TestStation, evse_id: int) -> None:
    """The EVSE restarts: Unavailable, then Available again."""
    for status in ("Unavailable", "Available"):
        await station.call("StatusNotification", status_payload(station.version, evse_id,
                                                                status),
                           step=f"StatusNotification {status} (EVSE reset)")


@pytest.mark.case("TC_B_25_CSMS")
async def test_TC_B_25_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reset EVSE - Without ongoing transaction (B11).

    Before: Booted. Steps: 1. the CSMS sends ResetRequest for one EVSE; 2. the station answers
    Accepted; 3. the EVSE restarts (StatusNotification Unavailable, Available). Validated: the
    evseId of the station's EVSE (without a transaction OnIdle and Immediate both reset at
    once, so either type)."""
    station = await booted_station(stations)
    await _reset(station, triggers, sut, None, "Accepted", evse_id=1)
    await _evse_back(station, 1)


@pytest.mark.case("TC_B_26_CSMS")
async def test_TC_B_26_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reset EVSE - With Ongoing Transaction - OnIdle (B12).

    Before: EnergyTransferStarted. Steps: 1. the CSMS sends ResetRequest OnIdle for the EVSE
    of the transaction; 2. the station answers Scheduled; 3. the driver stops the transaction
    (StopAuthorized, EVDisconnected), the CSMS answers; 4. the EVSE restarts. Validated: type
    OnIdle with the transaction's evseId; the stop token accepted."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, _tx_id("B26"))
    await _reset(station, triggers, sut, "OnIdle", "Scheduled", evse_id=tx.evse_id)
    await _stopped_by_driver(tx, sut.tokens.valid)
    await _evse_back(station, tx.evse_id)


@pytest.mark.case("TC_B_27_CSMS")
async def test_TC_B_27_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reset EVSE - With Ongoing Transaction - Immediate (B12).

    Before: EnergyTransferStarted. Steps: 1. the CSMS sends ResetRequest Immediate for the EVSE
    of the transaction; 2. the station answers Accepted; 3. it ends the transaction
    (TransactionEvent Ended, ResetCommand, ImmediateReset), answered by the CSMS; 4. the EVSE
    restarts. Validated: type Immediate with the transaction's evseId; the Ended event
    answered."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, _tx_id("B27"))
    await _reset(station, triggers, sut, "Immediate", "Accepted", evse_id=tx.evse_id)
    await _immediate_end(tx)
    await _evse_back(station, tx.evse_id)


# -- B_42 / B_44: network connection profiles --------------------------------------------------


async def _network_profile(stations: StationPool, triggers: Triggers, sut: Sut,
                           answer: str) -> None:
    station = await booted_station(stations)
    profile = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": sut.url,
               "messageTimeout": 30, "securityProfile": 1 if station.password else 0,
               "ocppInterface": "Wired0"}
    waiting = station.expect("SetNetworkProfile")
    handle = triggers.start("SetNetworkProfile", station.identity,
                            {"configurationSlot": 1, "connectionData": profile})
    call = await station.receive("SetNetworkProfile", sut.action_timeout_s,
                                 step="SetNetworkProfileRequest", waiting=waiting)
    call.respond({"status": answer})
    data = call.payload.get("connectionData", {})
    check(data.get("ocppVersion") == "OCPP20", "SetNetworkProfileRequest",
          "connectionData.ocppVersion OCPP20", call.payload)
    check(data.get("ocppTransport") == "JSON", "SetNetworkProfileRequest",
          "connectionData.ocppTransport JSON", call.payload)
    url = str(data.get("ocppCsmsUrl", ""))
    check(url.startswith(("ws://", "wss://")), "SetNetworkProfileRequest",
          "connectionData.ocppCsmsUrl a ws:// or wss:// URL", call.payload)
    outcome = await handle.outcome(sut.answer_timeout_s)
    check(outcome.ok, "SetNetworkProfileResponse", f"the CSMS to take the answer {answer}",
          outcome.detail)


@pytest.mark.case("TC_B_42_CSMS")
async def test_TC_B_42_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set new NetworkConnectionProfile - Accepted (B09).

    Before: Booted. Steps: 1. the CSMS sends SetNetworkProfileRequest; 2. the station answers
    Accepted. Validated: connectionData for OCPP 2.0.1 (ocppVersion OCPP20) over JSON with a
    ws:// or wss:// ocppCsmsUrl; the CSMS takes the answer."""
    await _network_profile(stations, triggers, sut, "Accepted")


@pytest.mark.case("TC_B_44_CSMS")
async def test_TC_B_44_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set new NetworkConnectionProfile - Failed (B09).

    Before: Booted. Steps: 1. the CSMS sends SetNetworkProfileRequest; 2. the station answers
    Failed. Validated: connectionData for OCPP 2.0.1 (ocppVersion OCPP20) over JSON with a
    ws:// or wss:// ocppCsmsUrl; the CSMS takes the answer Failed."""
    await _network_profile(stations, triggers, sut, "Failed")


# -- B_30 / B_31: a station whose boot is not accepted -----------------------------------------


def _held_station(stations: StationPool, sut: Sut, *, rejected_too: bool) -> TestStation:
    """The SUT's station the CSMS answers Pending (or, ``rejected_too``, Rejected)."""
    held = sut.pending_station or (sut.rejected_station if rejected_too else None)
    if held is None:
        not_applicable("pending_boot: the SUT file names no pending_station"
                       + (" or rejected_station" if rejected_too else ""))
    assert held is not None
    return stations.make(identity=held.id, password=held.password)


async def _not_accepted(station: TestStation, expected: tuple[str, ...]) -> dict[str, Any]:
    answer = await station.call("BootNotification", boot_payload(station.version),
                                step="BootNotificationRequest")
    check(answer.get("status") in expected, "BootNotificationResponse",
          "status " + " or ".join(expected), answer)
    check(answer.get("interval", 0) > 0, "BootNotificationResponse",
          "an interval above 0 (when to retry)", answer)
    return answer


@pytest.mark.case("TC_B_30_CSMS")
async def test_TC_B_30_CSMS(stations: StationPool, sut: Sut) -> None:
    """Cold Boot Charging Station - Pending/Rejected - SecurityError (B02, B03).

    Steps: 1. the station sends BootNotificationRequest; 2. the CSMS answers Pending (or
    Rejected) with a retry interval; 3. the station sends messages it may not send before
    its boot is accepted (StatusNotification, Heartbeat). Validated: status Pending or
    Rejected with an interval above 0; each of those messages answered with CALLERROR
    SecurityError."""
    station = _held_station(stations, sut, rejected_too=True)
    await station.connect()
    await _not_accepted(station, ("Pending", "Rejected"))
    for action, payload in (("StatusNotification", status_payload(station.version, 1,
                                                                  "Available")),
                            ("Heartbeat", {})):
        error = await station.call_error(action, payload, step=f"{action}Request")
        check(error.code == "SecurityError", f"{action}Request", "CALLERROR SecurityError",
              f"CALLERROR {error.code}: {error.description}")


@pytest.mark.case("TC_B_31_CSMS")
async def test_TC_B_31_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Cold Boot Charging Station - Pending/Rejected - TriggerMessage (B02).

    Steps: 1. the station sends BootNotificationRequest; 2. the CSMS answers Pending; 3. the
    CSMS sends TriggerMessageRequest while the boot is pending; 4. the station answers
    Accepted and sends the requested message. Validated: status Pending; the CSMS answers the
    message it asked for (no CALLERROR SecurityError: what the CSMS triggered may be sent
    before acceptance)."""
    station = _held_station(stations, sut, rejected_too=False)
    await station.connect()
    await _not_accepted(station, ("Pending",))
    call = await csms_sends(station, triggers, "TriggerMessage", {
        "requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
        {"status": "Accepted"}, step="TriggerMessageRequest", timeout_s=sut.action_timeout_s)
    requested = call.payload.get("requestedMessage")
    evse = call.payload.get("evse") or {"id": 1, "connectorId": 1}
    if requested == "StatusNotification":
        payload = {**status_payload(station.version, evse.get("id", 1), "Available"),
                   "connectorId": evse.get("connectorId", 1)}
        await station.call("StatusNotification", payload,
                           step="StatusNotificationRequest (triggered)")
    elif requested == "Heartbeat":
        await station.call("Heartbeat", {}, step="HeartbeatRequest (triggered)")
    elif requested == "BootNotification":
        await station.call("BootNotification", boot_payload(station.version, "Triggered"),
                           step="BootNotificationRequest (triggered)")
    else:
        check(False, "TriggerMessageRequest", "a message the test station can send "
              "(StatusNotification, Heartbeat, BootNotification)", call.payload)
