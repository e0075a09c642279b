"""OCPP 2.0.1 block F (Remote Control), CSMS under test.

The CSMS is made to act through the trigger adapter; each case checks the CALL the CSMS sends
(the fields the OCTT case validates) and that the CSMS takes the station's answer and the
messages that follow it.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    booted,
    booted_station,
    check,
    csms_sends,
    energy_transfer_started_201,
    id_token,
    now_iso,
    status_payload,
)
from conformance.harness_station import TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio


# -- F01..F04: remote start ---------------------------------------------------------------------


async def _remote_start(station: TestStation, triggers: Triggers, sut: Sut,
                        answer: dict[str, Any], *, remote_start_id: int) -> dict[str, Any]:
    """The CSMS sends RequestStartTransaction for the valid token on EVSE 1 (F01.FR.01,
    F02.FR.01): checked are idToken (the token asked for), evseId 1 and a remoteStartId; the
    station answers ``answer``. Returns the request."""
    call = await csms_sends(station, triggers, "RequestStartTransaction", {
        "idToken": id_token(sut.tokens.valid), "evseId": 1, "remoteStartId": remote_start_id},
        answer, step="RequestStartTransactionRequest", timeout_s=sut.action_timeout_s)
    got = call.payload
    check(got.get("idToken", {}).get("idToken") == sut.tokens.valid,
          "RequestStartTransactionRequest", f"idToken.idToken {sut.tokens.valid}", got)
    check(got.get("evseId") == 1, "RequestStartTransactionRequest", "evseId 1", got)
    check(isinstance(got.get("remoteStartId"), int), "RequestStartTransactionRequest",
          "an integer remoteStartId", got)
    return got


def _accepted(answer: dict[str, Any], step: str) -> None:
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted", step,
          "idTokenInfo.status Accepted", answer)


@pytest.mark.case("TC_F_01_CSMS")
async def test_TC_F_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start, cable plugged in first (F01). Steps: Booted; the EV is plugged in
    (StatusNotification Occupied, TransactionEvent Started, triggerReason CablePluggedIn,
    chargingState EVConnected); the CSMS sends RequestStartTransaction; the station answers
    Accepted with the running transactionId (use case F01); TransactionEvent Updated
    (triggerReason RemoteStart, the idToken, the request's remoteStartId); then Charging.
    Validated: RequestStartTransaction has the valid idToken and evseId 1 with a remoteStartId;
    the TransactionEvent with the idToken is answered idTokenInfo.status Accepted."""
    station = await booted_station(stations)
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, "CONF-TX-F01")
    await tx.event("Started", "CablePluggedIn", charging_state="EVConnected", meter_wh=0,
                   step="TransactionEvent Started (CablePluggedIn)")
    request = await _remote_start(station, triggers, sut,
                                  {"status": "Accepted", "transactionId": tx.id},
                                  remote_start_id=101)
    answer = await tx.event("Updated", "RemoteStart", token=sut.tokens.valid,
                            extra={"transactionInfo": {"transactionId": tx.id,
                                                       "remoteStartId":
                                                           request["remoteStartId"]}},
                            step="TransactionEvent Updated (RemoteStart)")
    _accepted(answer, "TransactionEventResponse (RemoteStart)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")


async def _remote_first(stations: StationPool, triggers: Triggers, sut: Sut, tx_id: str, *,
                        authorize: bool) -> tuple[TestStation, Transaction201]:
    station = await booted_station(stations)
    request = await _remote_start(station, triggers, sut, {"status": "Accepted"},
                                  remote_start_id=102 if authorize else 103)
    if authorize:
        answer = await station.call("Authorize", {"idToken": id_token(sut.tokens.valid)},
                                    step="AuthorizeRequest")
        _accepted(answer, "AuthorizeResponse")
    tx = Transaction201(station, tx_id)
    answer = await tx.event("Started", "RemoteStart", token=sut.tokens.valid,
                            extra={"transactionInfo": {"transactionId": tx_id,
                                                       "remoteStartId":
                                                           request["remoteStartId"]}},
                            step="TransactionEvent Started (RemoteStart)")
    _accepted(answer, "TransactionEventResponse (RemoteStart)")
    return station, tx


async def _plug_in_and_charge(station: TestStation, tx: Transaction201) -> None:
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    await tx.event("Updated", "CablePluggedIn", charging_state="EVConnected",
                   step="TransactionEvent Updated (CablePluggedIn)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")


@pytest.mark.case("TC_F_02_CSMS")
async def test_TC_F_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start first, AuthorizeRemoteStart true (F02). Steps: Booted; the CSMS sends
    RequestStartTransaction, answered Accepted; the station authorizes the token (Authorize,
    AuthorizeRemoteStart true); TransactionEvent Started (triggerReason RemoteStart, the
    idToken, the remoteStartId); then the cable is plugged in and charging starts.
    Validated: RequestStartTransaction has the valid idToken, evseId 1 and a remoteStartId;
    Authorize is answered Accepted; the Started event is answered idTokenInfo Accepted."""
    station, tx = await _remote_first(stations, triggers, sut, "CONF-TX-F02", authorize=True)
    await _plug_in_and_charge(station, tx)


@pytest.mark.case("TC_F_03_CSMS")
async def test_TC_F_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start first, AuthorizeRemoteStart false (F02): as TC_F_02 without the Authorize
    step: the CSMS must accept the RemoteStart TransactionEvent with the token it sent itself.
    Validated: the RequestStartTransaction fields; the Started event answered Accepted."""
    station, tx = await _remote_first(stations, triggers, sut, "CONF-TX-F03", authorize=False)
    await _plug_in_and_charge(station, tx)


@pytest.mark.case("TC_F_04_CSMS")
async def test_TC_F_04_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start first, cable plug-in timeout (F02, E05/EVConnectionTimeOut). Steps: the CSMS
    sends RequestStartTransaction (answered Accepted); TransactionEvent Started (RemoteStart);
    no cable comes: TransactionEvent Ended (triggerReason EVConnectTimeout, stoppedReason
    Timeout). Validated: the RequestStartTransaction fields; the Started event answered
    Accepted; the Ended event answered (no idTokenInfo, or Accepted)."""
    _, tx = await _remote_first(stations, triggers, sut, "CONF-TX-F04", authorize=False)
    ended = await tx.event("Ended", "EVConnectTimeout", stopped_reason="Timeout", meter_wh=0,
                           step="TransactionEvent Ended (EVConnectTimeout)")
    info = ended.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted", "TransactionEventResponse (Ended)",
          "no idTokenInfo, or status Accepted", ended)


# -- F05: unlock connector ----------------------------------------------------------------------


@pytest.mark.case("TC_F_06_CSMS")
async def test_TC_F_06_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote unlock connector without an ongoing transaction, Accepted (F05). Steps: Booted;
    the CSMS sends UnlockConnector for EVSE 1 connector 1; the station answers Unlocked.
    Validated: UnlockConnectorRequest evseId 1 and connectorId 1 (F05.FR.01)."""
    if not sut.claims("unlock_connector"):
        not_applicable("unlock_connector: the SUT does not claim to send UnlockConnector")
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "UnlockConnector",
                            {"evseId": 1, "connectorId": 1}, {"status": "Unlocked"},
                            step="UnlockConnectorRequest", timeout_s=sut.action_timeout_s)
    check(call.payload.get("evseId") == 1 and call.payload.get("connectorId") == 1,
          "UnlockConnectorRequest", "evseId 1, connectorId 1", call.payload)


# -- F06: trigger message -----------------------------------------------------------------------


async def _trigger(station: TestStation, triggers: Triggers, sut: Sut, message: str,
                   evse: dict[str, int] | None, *, status: str = "Accepted") -> None:
    """The CSMS sends TriggerMessage for ``message`` (and ``evse``, None: no evse field)."""
    payload: dict[str, Any] = {"requestedMessage": message}
    if evse is not None:
        payload["evse"] = evse
    call = await csms_sends(station, triggers, "TriggerMessage", payload, {"status": status},
                            step="TriggerMessageRequest", timeout_s=sut.action_timeout_s)
    got = call.payload
    check(got.get("requestedMessage") == message, "TriggerMessageRequest",
          f"requestedMessage {message}", got)
    if evse is None:
        check("evse" not in got, "TriggerMessageRequest", "no evse (all EVSEs)", got)
    else:
        check(got.get("evse") == evse, "TriggerMessageRequest", f"evse {evse}", got)


def _needs_trigger_message(sut: Sut) -> None:
    if not sut.claims("trigger_message"):
        not_applicable("trigger_message: the SUT does not claim to send TriggerMessage")


def _meter_values(evse_id: int) -> dict[str, Any]:
    return {"evseId": evse_id, "meterValue": [{"timestamp": now_iso(), "sampledValue": [
        {"value": 1234.0, "context": "Trigger",
         "measurand": "Energy.Active.Import.Register"}]}]}


@pytest.mark.case("TC_F_11_CSMS")
async def test_TC_F_11_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message MeterValues, specific EVSE (F06). Steps: Booted; the CSMS sends
    TriggerMessage (requestedMessage MeterValues, evse 1); the station answers Accepted and
    sends MeterValues for EVSE 1 (context Trigger), which the CSMS answers.
    Validated: requestedMessage MeterValues and evse.id 1."""
    _needs_trigger_message(sut)
    station = await booted_station(stations)
    await _trigger(station, triggers, sut, "MeterValues", {"id": 1})
    await station.call("MeterValues", _meter_values(1), step="MeterValuesRequest (Trigger)")


@pytest.mark.case("TC_F_12_CSMS")
async def test_TC_F_12_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message MeterValues, all EVSEs (F06). Steps: Booted; the CSMS sends
    TriggerMessage (requestedMessage MeterValues) without evse; Accepted; the station sends
    MeterValues for every EVSE. Validated: requestedMessage MeterValues, no evse field."""
    _needs_trigger_message(sut)
    station = await stations.connected()
    evses = sut.stations[0].evses
    await booted(station, evses)
    await _trigger(station, triggers, sut, "MeterValues", None)
    for evse in range(1, evses + 1):
        await station.call("MeterValues", _meter_values(evse),
                           step=f"MeterValuesRequest EVSE {evse} (Trigger)")


async def _triggered_transaction_event(stations: StationPool, triggers: Triggers, sut: Sut,
                                       evse: dict[str, int] | None, tx_id: str) -> None:
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, tx_id)
    await _trigger(station, triggers, sut, "TransactionEvent", evse)
    await tx.event("Updated", "Trigger", charging_state="Charging", meter_wh=500,
                   step="TransactionEvent Updated (Trigger)")


@pytest.mark.case("TC_F_13_CSMS")
async def test_TC_F_13_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message TransactionEvent, specific EVSE (F06). Steps: a transaction runs on EVSE
    1 (Authorized, EnergyTransferStarted); the CSMS sends TriggerMessage (TransactionEvent,
    evse 1); Accepted; the station sends TransactionEvent Updated (triggerReason Trigger),
    which the CSMS answers. Validated: requestedMessage TransactionEvent and evse.id 1."""
    _needs_trigger_message(sut)
    await _triggered_transaction_event(stations, triggers, sut, {"id": 1}, "CONF-TX-F13")


@pytest.mark.case("TC_F_14_CSMS")
async def test_TC_F_14_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message TransactionEvent, all EVSEs (F06): as TC_F_13 with TriggerMessage
    without evse. Validated: requestedMessage TransactionEvent, no evse field."""
    _needs_trigger_message(sut)
    await _triggered_transaction_event(stations, triggers, sut, None, "CONF-TX-F14")


@pytest.mark.case("TC_F_15_CSMS")
async def test_TC_F_15_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message LogStatusNotification, Idle (F06: Idle when no upload runs).
    Steps: Booted; TriggerMessage (LogStatusNotification), Accepted; the station sends
    LogStatusNotification status Idle, which the CSMS answers.
    Validated: requestedMessage LogStatusNotification, no evse."""
    _needs_trigger_message(sut)
    station = await booted_station(stations)
    await _trigger(station, triggers, sut, "LogStatusNotification", None)
    await station.call("LogStatusNotification", {"status": "Idle"},
                       step="LogStatusNotificationRequest (Idle)")


@pytest.mark.case("TC_F_18_CSMS")
async def test_TC_F_18_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message FirmwareStatusNotification, Idle (F06). Steps: Booted; TriggerMessage
    (FirmwareStatusNotification), Accepted; the station sends FirmwareStatusNotification
    status Idle, which the CSMS answers. Validated: requestedMessage
    FirmwareStatusNotification, no evse."""
    _needs_trigger_message(sut)
    station = await booted_station(stations)
    await _trigger(station, triggers, sut, "FirmwareStatusNotification", None)
    await station.call("FirmwareStatusNotification", {"status": "Idle"},
                       step="FirmwareStatusNotificationRequest (Idle)")


@pytest.mark.case("TC_F_20_CSMS")
async def test_TC_F_20_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message Heartbeat (F06). Steps: Booted; the CSMS sends TriggerMessage
    (Heartbeat); Accepted; the station sends Heartbeat. Validated: requestedMessage Heartbeat,
    no evse; the Heartbeat is answered with a currentTime."""
    station = await booted_station(stations)
    await _trigger(station, triggers, sut, "Heartbeat", None)
    answer = await station.call("Heartbeat", {}, step="HeartbeatRequest (Trigger)")
    check(bool(answer.get("currentTime")), "HeartbeatResponse", "a currentTime", answer)


async def _triggered_status(stations: StationPool, triggers: Triggers, sut: Sut, *,
                            occupied: bool) -> None:
    station = await booted_station(stations)
    if occupied:
        await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                           step="StatusNotification Occupied (cable plugged in)")
    await _trigger(station, triggers, sut, "StatusNotification", {"id": 1, "connectorId": 1})
    shown = "Occupied" if occupied else "Available"
    await station.call("StatusNotification", status_payload(station.version, 1, shown),
                       step=f"StatusNotification {shown} (Trigger)")


@pytest.mark.case("TC_F_23_CSMS")
async def test_TC_F_23_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message StatusNotification, specific EVSE, Available (F06: a
    StatusNotification trigger names the connector). Steps: Booted; TriggerMessage
    (StatusNotification, evse 1 connector 1), Accepted; the station sends StatusNotification
    Available. Validated: requestedMessage StatusNotification, evse {id 1, connectorId 1}."""
    _needs_trigger_message(sut)
    await _triggered_status(stations, triggers, sut, occupied=False)


@pytest.mark.case("TC_F_24_CSMS")
async def test_TC_F_24_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message StatusNotification, specific EVSE, Occupied (F06): as TC_F_23 with the
    cable plugged in first; the station answers the trigger with StatusNotification Occupied.
    Validated: requestedMessage StatusNotification, evse {id 1, connectorId 1}."""
    _needs_trigger_message(sut)
    await _triggered_status(stations, triggers, sut, occupied=True)


@pytest.mark.case("TC_F_27_CSMS")
async def test_TC_F_27_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message, NotImplemented (F06: a station answers a trigger it does not
    implement with status NotImplemented, not a CALLERROR). Steps: Booted; the CSMS sends
    TriggerMessage (here: SignChargingStationCertificate); the station answers NotImplemented.
    Validated: a schema-valid TriggerMessageRequest with the requested message; the CSMS takes
    the answer and keeps serving the station (a Heartbeat is answered)."""
    station = await booted_station(stations)
    await _trigger(station, triggers, sut, "SignChargingStationCertificate", None,
                   status="NotImplemented")
    await station.call("Heartbeat", {}, step="Heartbeat after the NotImplemented answer")
