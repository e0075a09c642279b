"""OCPP 2.0.1 Core (C), charging station under test: the start and stop transaction options
(block E, E01 and E06): with TxCtrlr.TxStartPoint / TxStopPoint set to one point, a driver
(or the CSMS) takes the station through a session and the TransactionEvents must start and
end the transaction at that point (Part 6 Edition 3, errata 2025-09).

Each point is a station feature (``tx_start_<point>`` / ``tx_stop_<point>``, snake case): a
case whose point the SUT does not claim is not applicable. The EV-side disconnect cases are in
``test_v201_ev_disconnect.py``; both take their set-up and reusable states from
``transactions201.py``."""

from __future__ import annotations

import time

import pytest

from conformance.station.harness import (
    Harness,
    Received,
    check,
    is_charging,
    is_ended,
    of_transaction,
    tx_id201,
)
from conformance.station.transactions201 import (
    authorization_on,
    charging_session,
    check_event,
    energy_transfer_started,
    ensure_variable,
    tx_event,
    tx_points,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _check_token(event: Received, step: str, token: str) -> None:
    check(event.payload.get("idToken", {}).get("idToken") == token, step,
          f"idToken {token}", event.payload)


# -- reusable states -----------------------------------------------------------------------------


async def _connected(h: Harness, *, step: str = "EVConnectedPreSession") -> float:
    """The driver connects the EV: StatusNotification Occupied. When it was connected
    (time.monotonic())."""
    since = time.monotonic()
    await h.act("plug_in", step=f"{step}: connect the EV", evse=1)
    await h.status(1, "Occupied", step=f"{step}: StatusNotificationRequest")
    return since


async def _authorized_locally(h: Harness, *, step: str = "Authorized (local)") -> None:
    """The driver presents the valid token and the station asks the CSMS
    (AuthorizeRequest)."""
    await h.act("present_token", step=f"{step}: present token", evse=1,
                token=h.sut.tokens.valid)
    await h.csms.receive("Authorize", step=f"{step}: AuthorizeRequest")


def _started_after(event: Received, since: float, step: str, what: str) -> None:
    """The transaction must not have started before ``what`` (at ``since``)."""
    check(event.at >= since, step, f"the transaction started only after {what}",
          "TransactionEvent Started before it")


# -- start options -------------------------------------------------------------------------------


async def _start_on_cable_after_token(h: Harness, point: str) -> Received:
    """(Authorized) the EV is connected: the first TransactionEvent is Started, after the
    connection, with the token and the EVSE."""
    await tx_points(h, start=point)
    await _authorized_locally(h, step="Authorized")
    since = await _connected(h)
    started = await tx_event(h, step="TransactionEventRequest Started",
                             expected="TransactionEvent Started")
    check(started.payload.get("eventType") == "Started", "TransactionEventRequest",
          "eventType Started", started.payload)
    _started_after(started, since, "TransactionEventRequest", "the EV was connected")
    _check_token(started, "TransactionEventRequest", h.sut.tokens.valid)
    check("connectorId" in started.payload.get("evse", {}), "TransactionEventRequest",
          "evse.id and evse.connectorId", started.payload)
    return started


@pytest.mark.case("TC_E_01_CS")
async def test_TC_E_01_CS(h: Harness) -> None:
    """Start transaction options - PowerPathClosed: (TxStartPoint PowerPathClosed, Authorized)
    EVConnectedPreSession: StatusNotification Occupied and the transaction starts only now,
    TransactionEvent Started (triggerReason CablePluggedIn or ChargingStateChanged, the
    idToken); errata: then EnergyTransferStarted (chargingState Charging)."""
    started = await _start_on_cable_after_token(h, "PowerPathClosed")
    check_event(started, "TransactionEventRequest Started",
                triggerReason=("CablePluggedIn", "ChargingStateChanged"))
    await energy_transfer_started(h, tx_id201(started))


@pytest.mark.case("TC_E_02_CS")
async def test_TC_E_02_CS(h: Harness) -> None:
    """Start transaction options - EnergyTransfer: (TxStartPoint EnergyTransfer, Authorized)
    the EV is connected: StatusNotification Occupied; the transaction starts as energy flows,
    TransactionEvent Started with triggerReason ChargingStateChanged, chargingState Charging,
    the idToken and the EVSE."""
    started = await _start_on_cable_after_token(h, "EnergyTransfer")
    check_event(started, "TransactionEventRequest Started",
                triggerReason="ChargingStateChanged", chargingState="Charging")


@pytest.mark.case("TC_E_09_CS")
async def test_TC_E_09_CS(h: Harness) -> None:
    """Start transaction options - EVConnected: (TxStartPoint EVConnected) the EV is
    connected: StatusNotification Occupied; TransactionEvent Started, triggerReason
    CablePluggedIn, chargingState EVConnected, the EVSE; errata: then Authorized (Updated,
    triggerReason Authorized, the idToken) and EnergyTransferStarted."""
    await tx_points(h, start="EVConnected")
    await _connected(h)
    started = await tx_event(h, step="TransactionEventRequest Started",
                             expected="TransactionEvent Started")
    check_event(started, "TransactionEventRequest", eventType="Started",
                triggerReason="CablePluggedIn", chargingState="EVConnected")
    check(started.payload.get("evse", {}).get("id") == 1, "TransactionEventRequest",
          "evse.id 1 with its connectorId", started.payload)
    tx = tx_id201(started)
    await h.act("present_token", step="Authorized: present token", evse=1,
                token=h.sut.tokens.valid)
    authorized = await tx_event(h, step="Authorized: TransactionEventRequest",
                                where=of_transaction(tx, lambda p: "idToken" in p),
                                expected=f"a TransactionEvent of {tx} with the idToken")
    check_event(authorized, "Authorized: TransactionEventRequest", eventType="Updated",
                triggerReason="Authorized")
    _check_token(authorized, "Authorized: TransactionEventRequest", h.sut.tokens.valid)
    await energy_transfer_started(h, tx)


async def _connected_then_charging(h: Harness, tx: str) -> None:
    """(``tx`` started, authorized, no EV yet) EVConnectedPreSession: TransactionEvent Updated
    (CablePluggedIn); then EnergyTransferStarted."""
    await _connected(h)
    plugged = await tx_event(h, step="EVConnectedPreSession: TransactionEventRequest",
                             where=of_transaction(tx), expected=f"a TransactionEvent of {tx}")
    check_event(plugged, "EVConnectedPreSession: TransactionEventRequest", eventType="Updated",
                triggerReason="CablePluggedIn")
    await energy_transfer_started(h, tx)


@pytest.mark.case("TC_E_10_CS")
async def test_TC_E_10_CS(h: Harness) -> None:
    """Start transaction options - Authorized - Local: (TxStartPoint Authorized) the driver
    presents the token: AuthorizeRequest; TransactionEvent Started, triggerReason Authorized,
    the idToken; errata: then EVConnectedPreSession (Updated, CablePluggedIn) and
    EnergyTransferStarted."""
    await tx_points(h, start="Authorized")
    await authorization_on(h)
    await _authorized_locally(h)
    started = await tx_event(h, step="TransactionEventRequest Started",
                             expected="TransactionEvent Started")
    check_event(started, "TransactionEventRequest", eventType="Started",
                triggerReason="Authorized")
    _check_token(started, "TransactionEventRequest", h.sut.tokens.valid)
    await _connected_then_charging(h, tx_id201(started))


@pytest.mark.case("TC_E_13_CS")
async def test_TC_E_13_CS(h: Harness) -> None:
    """Start transaction options - Authorized - Remote: (TxStartPoint Authorized)
    RequestStartTransaction for EVSE 1 with the valid token: Accepted; TransactionEvent
    Started, triggerReason RemoteStart, the remoteStartId and the idToken; errata: then
    EVConnectedPreSession and EnergyTransferStarted."""
    await tx_points(h, start="Authorized")
    await authorization_on(h)
    remote_start_id = 1313
    answer = await h.csms.call("RequestStartTransaction", {
        "evseId": 1, "remoteStartId": remote_start_id,
        "idToken": {"idToken": h.sut.tokens.valid, "type": "ISO14443"}},
        step="RequestStartTransactionRequest")
    check(answer.get("status") == "Accepted", "RequestStartTransactionResponse", "Accepted",
          answer)
    started = await tx_event(h, step="TransactionEventRequest Started",
                             where=lambda p: p.get("eventType") == "Started",
                             expected="TransactionEvent Started")
    check_event(started, "TransactionEventRequest", triggerReason="RemoteStart")
    check(started.payload["transactionInfo"].get("remoteStartId") == remote_start_id,
          "TransactionEventRequest", f"remoteStartId {remote_start_id}", started.payload)
    _check_token(started, "TransactionEventRequest", h.sut.tokens.valid)
    await _connected_then_charging(h, tx_id201(started))


@pytest.mark.case("TC_E_11_CS")
async def test_TC_E_11_CS(h: Harness) -> None:
    """Start transaction options - DataSigned: (TxStartPoint DataSigned, Authorized) the EV
    is connected: the transaction starts when the signed meter data is there, TransactionEvent
    Started with triggerReason SignedDataReceived and a signedMeterValue."""
    started = await _start_on_cable_after_token(h, "DataSigned")
    check_event(started, "TransactionEventRequest Started",
                triggerReason="SignedDataReceived")
    signed = [v for m in started.payload.get("meterValue", [])
              for v in m.get("sampledValue", []) if "signedMeterValue" in v]
    check(bool(signed), "TransactionEventRequest Started", "a sampledValue with "
          "signedMeterValue", started.payload)


@pytest.mark.case("TC_E_12_CS")
async def test_TC_E_12_CS(h: Harness) -> None:
    """Start transaction options - ParkingBayOccupied: (TxStartPoint ParkingBayOccupancy) an
    EV parks: TransactionEvent Started, triggerReason EVDetected; errata: then Authorized
    (Updated, the idToken), EVConnectedPreSession (Updated, CablePluggedIn) and
    EnergyTransferStarted."""
    await tx_points(h, start="ParkingBayOccupancy")
    await h.act("parking_bay_occupied", step="ParkingBayOccupied: an EV parks", evse=1)
    started = await tx_event(h, step="TransactionEventRequest Started",
                             expected="TransactionEvent Started")
    check_event(started, "TransactionEventRequest", eventType="Started",
                triggerReason="EVDetected")
    tx = tx_id201(started)
    await h.act("present_token", step="Authorized: present token", evse=1,
                token=h.sut.tokens.valid)
    authorized = await tx_event(h, step="Authorized: TransactionEventRequest",
                                where=of_transaction(tx, lambda p: "idToken" in p),
                                expected=f"a TransactionEvent of {tx} with the idToken")
    check_event(authorized, "Authorized: TransactionEventRequest", triggerReason="Authorized")
    await _connected_then_charging(h, tx)


# -- stop options --------------------------------------------------------------------------------


async def _local_stop(h: Harness, point: str) -> None:
    """(TxStopPoint ``point``, EnergyTransferStarted) the driver presents the token again
    (StopAuthorized): TransactionEvent Ended, triggerReason StopAuthorized, stoppedReason
    Local."""
    await tx_points(h, stop=point)
    tx = await charging_session(h)
    await h.act("present_token", step="StopAuthorized: present token", evse=1,
                token=h.sut.tokens.valid)
    event = await tx_event(h, step="StopAuthorized: TransactionEventRequest",
                           where=of_transaction(tx, lambda p: not is_charging(p)),
                           expected=f"a TransactionEvent of {tx} after the stop")
    check_event(event, "StopAuthorized: TransactionEventRequest", eventType="Ended",
                triggerReason="StopAuthorized", stoppedReason="Local")


@pytest.mark.case("TC_E_07_CS")
async def test_TC_E_07_CS(h: Harness) -> None:
    """Stop transaction options - PowerPathClosed - Local stop: (TxStopPoint PowerPathClosed,
    EnergyTransferStarted) the driver presents the token: StopAuthorized, TransactionEvent
    Ended with triggerReason StopAuthorized and stoppedReason Local."""
    await _local_stop(h, "PowerPathClosed")


@pytest.mark.case("TC_E_15_CS")
async def test_TC_E_15_CS(h: Harness) -> None:
    """Stop transaction options - StopAuthorized - Local: (TxStopPoint Authorized,
    EnergyTransferStarted) the driver presents the token: TransactionEvent Ended,
    triggerReason StopAuthorized, stoppedReason Local."""
    await _local_stop(h, "Authorized")


@pytest.mark.case("TC_E_08_CS")
async def test_TC_E_08_CS(h: Harness) -> None:
    """Stop transaction options - EnergyTransfer stopped - StopAuthorized: (TxStopPoint
    EnergyTransfer, EnergyTransferStarted) StopAuthorized ends the energy transfer and so the
    transaction: TransactionEvent Ended, triggerReason StopAuthorized, stoppedReason Local."""
    await _local_stop(h, "EnergyTransfer")


async def _remote_stop(h: Harness, point: str, *, stop_event_ends: bool) -> None:
    """(TxStopPoint ``point``, EnergyTransferStarted) RequestStopTransaction: Accepted; the
    transaction ends with stoppedReason Remote, a TransactionEvent with triggerReason
    RemoteStop (``stop_event_ends``: the Ended one itself)."""
    await tx_points(h, stop=point)
    tx = await charging_session(h)
    answer = await h.csms.call("RequestStopTransaction", {"transactionId": tx},
                               step="RequestStopTransactionRequest")
    check(answer.get("status") == "Accepted", "RequestStopTransactionResponse", "Accepted",
          answer)
    last = await tx_event(h, step="TransactionEventRequest Ended",
                          where=of_transaction(tx, is_ended),
                          expected=f"TransactionEvent Ended of {tx}")
    check_event(last, "TransactionEventRequest Ended", stoppedReason="Remote")
    if stop_event_ends:
        check_event(last, "TransactionEventRequest Ended", triggerReason="RemoteStop")
        return
    events = h.csms.received("TransactionEvent", of_transaction(tx))
    check(any(e.payload.get("triggerReason") == "RemoteStop" for e in events),
          "TransactionEventRequest", "triggerReason RemoteStop in one of the transaction's "
          "events", [e.payload.get("triggerReason") for e in events])


@pytest.mark.case("TC_E_21_CS")
async def test_TC_E_21_CS(h: Harness) -> None:
    """Stop transaction options - StopAuthorized - Remote: (TxStopPoint Authorized,
    EnergyTransferStarted) RequestStopTransaction: Accepted; TransactionEvent Ended,
    triggerReason RemoteStop, stoppedReason Remote."""
    await _remote_stop(h, "Authorized", stop_event_ends=True)


@pytest.mark.case("TC_E_35_CS")
async def test_TC_E_35_CS(h: Harness) -> None:
    """Stop transaction options - PowerPathClosed - Remote stop: (TxStopPoint PowerPathClosed,
    EnergyTransferStarted) RequestStopTransaction: Accepted; errata: triggerReason RemoteStop
    in one of the TransactionEvents, the last one Ended with stoppedReason Remote."""
    await _remote_stop(h, "PowerPathClosed", stop_event_ends=False)


@pytest.mark.case("TC_E_14_CS")
async def test_TC_E_14_CS(h: Harness) -> None:
    """Stop transaction options - EVDisconnected - Charging Station side: (TxStopPoint
    EVConnected) EVConnectedPostSession: charging, the driver presents the token, the
    transaction goes on (Updated, StopAuthorized); the EV is disconnected: StatusNotification
    Available; TransactionEvent Ended, triggerReason EVCommunicationLost, chargingState Idle,
    errata: stoppedReason Local, EVDisconnected or none."""
    await tx_points(h, stop="EVConnected")
    tx = await charging_session(h)
    await h.act("present_token", step="EVConnectedPostSession: present token", evse=1,
                token=h.sut.tokens.valid)
    stopped = await tx_event(h, step="EVConnectedPostSession: TransactionEventRequest",
                             where=of_transaction(tx, lambda p: p.get("triggerReason") ==
                                                  "StopAuthorized"),
                             expected=f"a TransactionEvent of {tx}, triggerReason "
                                      "StopAuthorized")
    check_event(stopped, "EVConnectedPostSession: TransactionEventRequest",
                eventType="Updated")
    await h.act("unplug", step="disconnect the EV", evse=1)
    await h.status(1, "Available", step="StatusNotificationRequest")
    last = await tx_event(h, step="TransactionEventRequest", where=of_transaction(tx, is_ended),
                          expected=f"TransactionEvent Ended of {tx}")
    check_event(last, "TransactionEventRequest", triggerReason="EVCommunicationLost",
                chargingState="Idle", stoppedReason=("Local", "EVDisconnected", None))


@pytest.mark.case("TC_E_16_CS")
async def test_TC_E_16_CS(h: Harness) -> None:
    """Stop transaction options - Deauthorized - Invalid idToken: (TxStopPoint Authorized or
    PowerPathClosed, OfflineTxForUnknownIdEnabled and StopTxOnInvalidId true)
    StartOfflineTransaction: offline, the EV is connected and the token presented; back
    online the queued TransactionEvent with the idToken is answered Invalid: TransactionEvent
    Ended, triggerReason Deauthorized, stoppedReason DeAuthorized."""
    point = "Authorized" if h.sut.claims("tx_stop_authorized") else "PowerPathClosed"
    await tx_points(h, stop=point)
    await authorization_on(h)
    await ensure_variable(h, "AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true",
                          optional=True, step="set-up: OfflineTxForUnknownIdEnabled")
    await ensure_variable(h, "TxCtrlr", "StopTxOnInvalidId", "true",
                          step="set-up: StopTxOnInvalidId")
    await h.go_offline(step="StartOfflineTransaction: the station goes offline")
    await h.act("plug_in", step="StartOfflineTransaction: connect the EV", evse=1)
    await h.act("present_token", step="StartOfflineTransaction: present token", evse=1,
                token=h.sut.tokens.valid)
    h.csms.answer_next("TransactionEvent", {"idTokenInfo": {"status": "Invalid"}})
    await h.back_online(step="StartOfflineTransaction: the station comes back online")
    first = await tx_event(h, step="queued TransactionEventRequest",
                           where=lambda p: "idToken" in p, timeout_s=h.connect_s,
                           expected="the queued TransactionEvent with the idToken")
    check(first.answer == {"idTokenInfo": {"status": "Invalid"}}, "TransactionEventResponse",
          "the queued event with the idToken answered Invalid", first.answer)
    tx = tx_id201(first)
    last = await tx_event(h, step="TransactionEventRequest", where=of_transaction(tx, is_ended),
                          timeout_s=h.connect_s, expected=f"TransactionEvent Ended of {tx}")
    check_event(last, "TransactionEventRequest", triggerReason="Deauthorized",
                stoppedReason="DeAuthorized")


@pytest.mark.case("TC_E_22_CS")
async def test_TC_E_22_CS(h: Harness) -> None:
    """Stop transaction options - EnergyTransfer stopped - SuspendedEV: (TxStopPoint
    EnergyTransfer, EnergyTransferStarted) the EV suspends the energy transfer; errata: this
    ends the transaction, TransactionEvent Ended, triggerReason ChargingStateChanged,
    stoppedReason StoppedByEV, chargingState EVConnected or SuspendedEV."""
    await tx_points(h, stop="EnergyTransfer")
    tx = await charging_session(h)
    await h.act("ev_suspends", step="the EV suspends the energy transfer", evse=1)
    event = await tx_event(h, step="TransactionEventRequest", where=of_transaction(tx),
                           expected=f"a TransactionEvent of {tx}")
    check_event(event, "TransactionEventRequest", eventType="Ended",
                triggerReason="ChargingStateChanged", stoppedReason="StoppedByEV",
                chargingState=("EVConnected", "SuspendedEV"))


@pytest.mark.case("TC_E_19_CS")
async def test_TC_E_19_CS(h: Harness) -> None:
    """Stop transaction options - ParkingBayUnoccupied: (TxStopPoint ParkingBayOccupancy) an
    EV parks and charges; the EV is disconnected: StatusNotification Available, the
    transaction goes on (Updated, triggerReason EVCommunicationLost, chargingState Idle); the
    EV leaves the parking bay: TransactionEvent Ended, triggerReason EVDeparted."""
    await tx_points(h, stop="ParkingBayOccupancy")
    await h.act("parking_bay_occupied", step="ParkingBayOccupied: an EV parks", evse=1)
    tx = await charging_session(h)
    await h.act("unplug", step="EVDisconnected: disconnect the EV", evse=1)
    await h.status(1, "Available", step="EVDisconnected: StatusNotificationRequest")
    unplugged = await tx_event(h, step="EVDisconnected: TransactionEventRequest",
                               where=of_transaction(tx), expected=f"a TransactionEvent of {tx}")
    check_event(unplugged, "EVDisconnected: TransactionEventRequest", eventType="Updated",
                triggerReason="EVCommunicationLost", chargingState="Idle")
    await h.act("parking_bay_vacated", step="ParkingBayUnoccupied: the EV leaves", evse=1)
    last = await tx_event(h, step="TransactionEventRequest", where=of_transaction(tx, is_ended),
                          expected=f"TransactionEvent Ended of {tx}")
    check_event(last, "TransactionEventRequest", triggerReason="EVDeparted")
