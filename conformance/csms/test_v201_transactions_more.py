"""OCPP 2.0.1 block E (Transactions), CSMS under test: the start and stop options
(TxStartPoint / TxStopPoint as the station is configured), suspended and resumed transactions,
sequence numbers, and GetTransactionStatus.

The station's configuration (TxStartPoint, TxStopPoint, StopTxOnEVSideDisconnect) decides
which TransactionEvents it sends; the CSMS sees only those events, so each case plays the
events of its configuration and checks the CSMS's answers to them.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    authorized,
    check,
    csms_sends,
    energy_transfer_started_201,
    now_iso,
    status_payload,
)
from conformance.harness_station import TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio


def _accepted(answer: dict[str, Any], step: str) -> None:
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted", step,
          "idTokenInfo.status Accepted", answer)


def _accepted_or_none(answer: dict[str, Any], step: str) -> None:
    info = answer.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted", step,
          "no idTokenInfo, or idTokenInfo.status Accepted", answer)


async def _occupied(station: TestStation) -> None:
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")


async def _available(station: TestStation) -> None:
    await station.call("StatusNotification", status_payload(station.version, 1, "Available"),
                       step="StatusNotification Available")


# -- start options (E01) ------------------------------------------------------------------------


@pytest.mark.case("TC_E_01_CSMS")
async def test_TC_E_01_CSMS(stations: StationPool, sut: Sut) -> None:
    """Start transaction options, PowerPathClosed (E01, TxStartPoint PowerPathClosed). Steps:
    Authorized (Authorize Accepted); the EV is plugged in (StatusNotification Occupied); the
    power path closes: TransactionEvent Started (triggerReason ChargingStateChanged,
    chargingState SuspendedEV, the idToken); the EV draws: Updated Charging.
    Validated: Authorize and the Started event answered idTokenInfo.status Accepted."""
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    await _occupied(station)
    tx = Transaction201(station, "CONF-TX-E01")
    answer = await tx.event("Started", "ChargingStateChanged", charging_state="SuspendedEV",
                            token=sut.tokens.valid, meter_wh=0,
                            step="TransactionEvent Started (PowerPathClosed)")
    _accepted(answer, "TransactionEventResponse (Started)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")


@pytest.mark.case("TC_E_02_CSMS")
async def test_TC_E_02_CSMS(stations: StationPool, sut: Sut) -> None:
    """Start transaction options, EnergyTransfer (E01, TxStartPoint EnergyTransfer). Steps:
    Authorized; StatusNotification Occupied; energy flows: TransactionEvent Started
    (triggerReason ChargingStateChanged, chargingState Charging, the idToken, meter value
    Transaction.Begin). Validated: Authorize and the Started event answered Accepted."""
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    await _occupied(station)
    tx = Transaction201(station, "CONF-TX-E02")
    answer = await tx.event("Started", "ChargingStateChanged", charging_state="Charging",
                            token=sut.tokens.valid, meter_wh=0,
                            step="TransactionEvent Started (EnergyTransfer)")
    _accepted(answer, "TransactionEventResponse (Started)")


@pytest.mark.case("TC_E_09_CSMS")
async def test_TC_E_09_CSMS(stations: StationPool, sut: Sut) -> None:
    """Start transaction options, EVConnected (E01, TxStartPoint EVConnected). Steps: the EV is
    plugged in: StatusNotification Occupied, TransactionEvent Started (triggerReason
    CablePluggedIn, chargingState EVConnected, no idToken); the token is presented: Authorize,
    TransactionEvent Updated (triggerReason Authorized, the idToken); Charging.
    Validated: the Started event answered without a refusal; Authorize and the Updated event
    with the idToken answered Accepted."""
    station = await stations.booted()
    await _occupied(station)
    tx = Transaction201(station, "CONF-TX-E09")
    started = await tx.event("Started", "CablePluggedIn", charging_state="EVConnected",
                             meter_wh=0, step="TransactionEvent Started (CablePluggedIn)")
    _accepted_or_none(started, "TransactionEventResponse (Started)")
    await authorized(station, sut.tokens.valid)
    answer = await tx.event("Updated", "Authorized", token=sut.tokens.valid,
                            step="TransactionEvent Updated (Authorized)")
    _accepted(answer, "TransactionEventResponse (Authorized)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")


@pytest.mark.case("TC_E_10_CSMS")
async def test_TC_E_10_CSMS(stations: StationPool, sut: Sut) -> None:
    """Start transaction options, Authorized, local (E01, TxStartPoint Authorized). Steps:
    Authorize; TransactionEvent Started (triggerReason Authorized, the idToken, no cable yet);
    then the cable (Updated CablePluggedIn) and Charging. Validated: Authorize and the Started
    event answered idTokenInfo.status Accepted."""
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    tx = Transaction201(station, "CONF-TX-E10")
    answer = await tx.event("Started", "Authorized", token=sut.tokens.valid, meter_wh=0,
                            step="TransactionEvent Started (Authorized)")
    _accepted(answer, "TransactionEventResponse (Started)")
    await _occupied(station)
    await tx.event("Updated", "CablePluggedIn", charging_state="EVConnected",
                   step="TransactionEvent Updated (CablePluggedIn)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")


def _signed_begin(value_wh: float) -> list[dict[str, Any]]:
    """A Transaction.Begin meter value whose energy register carries a signedMeterValue
    (OCMF-like data, base64; the CSMS takes it, it need not verify it)."""
    data = (f'OCMF|{{"RD":[{{"TM":"{now_iso()}","RV":{value_wh / 1000:.3f},'
            '"RI":"1-b:1.8.0","RU":"kWh","ST":"G"}]}|{"SA":"ECDSA-secp256r1-SHA256"}')
    signed = {"signedMeterData": base64.b64encode(data.encode()).decode(),
              "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF",
              "publicKey": base64.b64encode(b"conformance-test-public-key").decode()}
    return [{"timestamp": now_iso(), "sampledValue": [{
        "value": value_wh, "context": "Transaction.Begin",
        "measurand": "Energy.Active.Import.Register", "signedMeterValue": signed}]}]


@pytest.mark.case("TC_E_11_CSMS")
async def test_TC_E_11_CSMS(stations: StationPool, sut: Sut) -> None:
    """Start transaction options, DataSigned (E01, TxStartPoint DataSigned). Steps:
    Authorized; StatusNotification Occupied; the signed start meter value is received:
    TransactionEvent Started (triggerReason SignedDataReceived, chargingState EVConnected, the
    idToken, a Transaction.Begin meter value with signedMeterValue); then Charging.
    Validated: Authorize and the Started event answered idTokenInfo.status Accepted."""
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    await _occupied(station)
    tx = Transaction201(station, "CONF-TX-E11")
    answer = await tx.event("Started", "SignedDataReceived", charging_state="EVConnected",
                            token=sut.tokens.valid, extra={"meterValue": _signed_begin(0.0)},
                            step="TransactionEvent Started (SignedDataReceived)")
    _accepted(answer, "TransactionEventResponse (Started)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")


@pytest.mark.case("TC_E_12_CSMS")
async def test_TC_E_12_CSMS(stations: StationPool, sut: Sut) -> None:
    """Start transaction options, ParkingBayOccupied (E01, TxStartPoint ParkingBayOccupancy).
    Steps: the bay detector sees an EV: TransactionEvent Started (triggerReason EVDetected, no
    idToken); Authorize and TransactionEvent Updated (Authorized, the idToken); the cable and
    Charging. Validated: the Started event answered without a refusal; Authorize and the
    Updated event with the idToken answered Accepted."""
    station = await stations.booted()
    tx = Transaction201(station, "CONF-TX-E12")
    started = await tx.event("Started", "EVDetected", meter_wh=0,
                             step="TransactionEvent Started (EVDetected)")
    _accepted_or_none(started, "TransactionEventResponse (Started)")
    await authorized(station, sut.tokens.valid)
    answer = await tx.event("Updated", "Authorized", token=sut.tokens.valid,
                            step="TransactionEvent Updated (Authorized)")
    _accepted(answer, "TransactionEventResponse (Authorized)")
    await _occupied(station)
    await tx.event("Updated", "CablePluggedIn", charging_state="EVConnected",
                   step="TransactionEvent Updated (CablePluggedIn)")


@pytest.mark.case("TC_E_38_CSMS")
async def test_TC_E_38_CSMS(stations: StationPool, sut: Sut) -> None:
    """Local start, EV not ready (E01/E02): Authorized, EnergyTransferStarted steps but the EV
    does not take energy: TransactionEvent Started (Authorized, the idToken, chargingState
    EVConnected), then Updated (ChargingStateChanged, SuspendedEV). Validated: Authorize and
    the Started event answered Accepted; the SuspendedEV event answered without a refusal."""
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    await _occupied(station)
    tx = Transaction201(station, "CONF-TX-E38")
    answer = await tx.event("Started", "Authorized", token=sut.tokens.valid,
                            charging_state="EVConnected", meter_wh=0,
                            step="TransactionEvent Started (Authorized)")
    _accepted(answer, "TransactionEventResponse (Started)")
    suspended = await tx.event("Updated", "ChargingStateChanged", charging_state="SuspendedEV",
                               step="TransactionEvent Updated (SuspendedEV)")
    _accepted_or_none(suspended, "TransactionEventResponse (SuspendedEV)")


# -- stop options (E06) -------------------------------------------------------------------------


async def _charging(stations: StationPool, sut: Sut, tx_id: str
                    ) -> tuple[TestStation, Transaction201]:
    station = await stations.booted()
    tx = await energy_transfer_started_201(station, sut.tokens.valid, tx_id)
    return station, tx


@pytest.mark.case("TC_E_07_CSMS")
async def test_TC_E_07_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, PowerPathClosed, local stop (E06, TxStopPoint
    PowerPathClosed). Steps: a transaction charges (Authorized, EnergyTransferStarted); the
    same token is presented again; the power path opens and the transaction ends at once:
    TransactionEvent Ended (triggerReason StopAuthorized, stoppedReason Local, the idToken,
    meter value Transaction.End). Validated: the Ended event with the idToken answered
    idTokenInfo.status Accepted."""
    _, tx = await _charging(stations, sut, "CONF-TX-E07")
    answer = await tx.event("Ended", "StopAuthorized", charging_state="EVConnected",
                            token=sut.tokens.valid, stopped_reason="Local", meter_wh=700,
                            step="TransactionEvent Ended (StopAuthorized)")
    _accepted(answer, "TransactionEventResponse (Ended)")


@pytest.mark.case("TC_E_08_CSMS")
async def test_TC_E_08_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, energy transfer stopped, StopAuthorized (E06, TxStopPoint
    EnergyTransfer). Steps: a transaction charges; the token is presented again: Authorize
    Accepted; energy transfer stops and the transaction ends: TransactionEvent Ended
    (triggerReason StopAuthorized, stoppedReason Local, chargingState EVConnected, the
    idToken). Validated: Authorize and the Ended event answered Accepted."""
    station, tx = await _charging(stations, sut, "CONF-TX-E08")
    await authorized(station, sut.tokens.valid, step="StopAuthorized")
    answer = await tx.event("Ended", "StopAuthorized", charging_state="EVConnected",
                            token=sut.tokens.valid, stopped_reason="Local", meter_wh=800,
                            step="TransactionEvent Ended (StopAuthorized)")
    _accepted(answer, "TransactionEventResponse (Ended)")


async def _unplugged_end(stations: StationPool, sut: Sut, tx_id: str) -> None:
    """A charging transaction ends because the cable is unplugged (TxStopPoint EVConnected):
    StatusNotification Available, TransactionEvent Ended (EVCommunicationLost, Idle,
    EVDisconnected)."""
    station, tx = await _charging(stations, sut, tx_id)
    await _available(station)
    answer = await tx.event("Ended", "EVCommunicationLost", charging_state="Idle",
                            stopped_reason="EVDisconnected", meter_wh=900,
                            step="TransactionEvent Ended (EVCommunicationLost)")
    _accepted_or_none(answer, "TransactionEventResponse (Ended)")


@pytest.mark.case("TC_E_14_CSMS")
async def test_TC_E_14_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, EVDisconnected, charging station side (E06, TxStopPoint
    EVConnected). Steps: a transaction charges; the cable is unplugged at the station:
    StatusNotification Available, TransactionEvent Ended (triggerReason EVCommunicationLost,
    chargingState Idle, stoppedReason EVDisconnected). Validated: every message answered; the
    Ended event without a refusal of the token."""
    await _unplugged_end(stations, sut, "CONF-TX-E14")


@pytest.mark.case("TC_E_20_CSMS")
async def test_TC_E_20_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, EVDisconnected, EV side (IEC 61851-1 EV; E06, TxStopPoint
    EVConnected, StopTxOnEVSideDisconnect true): as TC_E_14 with the cable pulled at the EV:
    StatusNotification Available, TransactionEvent Ended (EVCommunicationLost, Idle,
    EVDisconnected). Validated: every message answered; the Ended event without a refusal."""
    await _unplugged_end(stations, sut, "CONF-TX-E20")


@pytest.mark.case("TC_E_19_CSMS")
async def test_TC_E_19_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, ParkingBayUnoccupied (E06, TxStopPoint ParkingBayOccupancy).
    Steps: a transaction charges; the cable is unplugged (StatusNotification Available,
    TransactionEvent Updated EVCommunicationLost, Idle); the EV leaves the bay:
    TransactionEvent Ended (triggerReason EVDeparted, stoppedReason EVDisconnected).
    Validated: every message answered; neither event refused."""
    station, tx = await _charging(stations, sut, "CONF-TX-E19")
    await _available(station)
    unplugged = await tx.event("Updated", "EVCommunicationLost", charging_state="Idle",
                               step="TransactionEvent Updated (EVCommunicationLost)")
    _accepted_or_none(unplugged, "TransactionEventResponse (EVCommunicationLost)")
    answer = await tx.event("Ended", "EVDeparted", charging_state="Idle",
                            stopped_reason="EVDisconnected", meter_wh=900,
                            step="TransactionEvent Ended (EVDeparted)")
    _accepted_or_none(answer, "TransactionEventResponse (Ended)")


@pytest.mark.case("TC_E_22_CSMS")
async def test_TC_E_22_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, energy transfer stopped, SuspendedEV (E06, TxStopPoint
    EnergyTransfer). Steps: a transaction charges; the EV stops taking energy and the
    transaction ends: TransactionEvent Ended (triggerReason ChargingStateChanged, chargingState
    SuspendedEV, stoppedReason StoppedByEV). Validated: the Ended event answered without a
    refusal."""
    _, tx = await _charging(stations, sut, "CONF-TX-E22")
    answer = await tx.event("Ended", "ChargingStateChanged", charging_state="SuspendedEV",
                            stopped_reason="StoppedByEV", meter_wh=600,
                            step="TransactionEvent Ended (SuspendedEV)")
    _accepted_or_none(answer, "TransactionEventResponse (Ended)")


@pytest.mark.case("TC_E_26_CSMS")
async def test_TC_E_26_CSMS(stations: StationPool, sut: Sut) -> None:
    """Disconnect the cable on the EV side, suspend the transaction (E10,
    StopTxOnEVSideDisconnect false). Steps: a transaction charges; the cable is pulled at the
    EV: TransactionEvent Updated (triggerReason EVCommunicationLost, chargingState Idle), the
    transaction stays; the EV is plugged in again: Updated (CablePluggedIn, EVConnected), then
    Charging; it ends with the same token (StopAuthorized, Local). Validated: every event
    answered, the closing one (with the idToken) Accepted."""
    _, tx = await _charging(stations, sut, "CONF-TX-E26")
    lost = await tx.event("Updated", "EVCommunicationLost", charging_state="Idle",
                          step="TransactionEvent Updated (EVCommunicationLost)")
    _accepted_or_none(lost, "TransactionEventResponse (EVCommunicationLost)")
    await tx.event("Updated", "CablePluggedIn", charging_state="EVConnected",
                   step="TransactionEvent Updated (CablePluggedIn)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")
    answer = await tx.event("Ended", "StopAuthorized", charging_state="EVConnected",
                            token=sut.tokens.valid, stopped_reason="Local", meter_wh=1200,
                            step="TransactionEvent Ended (StopAuthorized)")
    _accepted(answer, "TransactionEventResponse (Ended)")


@pytest.mark.case("TC_E_39_CSMS")
async def test_TC_E_39_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, Deauthorized, timeout (E03/E06, TxStartPoint Authorized,
    EVConnectionTimeOut). Steps: Authorize; TransactionEvent Started (Authorized, the idToken);
    no cable comes in time: TransactionEvent Ended (triggerReason EVConnectTimeout,
    stoppedReason Timeout). Validated: the Started event answered Accepted; the Ended event
    answered without a refusal."""
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    tx = Transaction201(station, "CONF-TX-E39")
    answer = await tx.event("Started", "Authorized", token=sut.tokens.valid, meter_wh=0,
                            step="TransactionEvent Started (Authorized)")
    _accepted(answer, "TransactionEventResponse (Started)")
    ended = await tx.event("Ended", "EVConnectTimeout", stopped_reason="Timeout", meter_wh=0,
                           step="TransactionEvent Ended (EVConnectTimeout)")
    _accepted_or_none(ended, "TransactionEventResponse (Ended)")


@pytest.mark.case("TC_E_53_CSMS")
async def test_TC_E_53_CSMS(stations: StationPool, sut: Sut) -> None:
    """Reset sequence number, the CSMS accepts seqNo 0 at the start of a transaction
    (E01/E02: seqNo counts per transaction). Steps: a transaction runs from seqNo 0 and ends;
    a second transaction starts again at seqNo 0. Validated: both Started events (seqNo 0)
    answered idTokenInfo.status Accepted."""
    station = await stations.booted()
    for n in (1, 2):
        await authorized(station, sut.tokens.valid, step=f"Authorized ({n})")
        tx = Transaction201(station, f"CONF-TX-E53-{n}")
        answer = await tx.event("Started", "Authorized", token=sut.tokens.valid,
                                charging_state="EVConnected", meter_wh=0,
                                step=f"TransactionEvent Started seqNo 0 (transaction {n})")
        _accepted(answer, f"TransactionEventResponse (Started, transaction {n})")
        await tx.event("Ended", "StopAuthorized", token=sut.tokens.valid,
                       stopped_reason="Local", meter_wh=100,
                       step=f"TransactionEvent Ended (transaction {n})")


# -- GetTransactionStatus (E14) -----------------------------------------------------------------


async def _transaction_status(stations: StationPool, triggers: Triggers, sut: Sut, tx_id: str,
                              *, with_id: bool, ongoing: bool, queued: bool) -> None:
    """A transaction (running, or ended with its Ended event still queued); the CSMS sends
    GetTransactionStatus (with the transaction's id or without); the station answers
    ongoingIndicator / messagesInQueue and then delivers what it queued (offline true)."""
    if not sut.claims("get_transaction_status"):
        not_applicable("get_transaction_status: the SUT does not claim to send "
                       "GetTransactionStatus")
    station, tx = await _charging(stations, sut, tx_id)
    payload: dict[str, Any] = {"transactionId": tx.id} if with_id else {}
    answer: dict[str, Any] = {"messagesInQueue": queued}
    if with_id:
        answer["ongoingIndicator"] = ongoing
    call = await csms_sends(station, triggers, "GetTransactionStatus", payload, answer,
                            step="GetTransactionStatusRequest", timeout_s=sut.action_timeout_s)
    got = call.payload
    if with_id:
        check(got.get("transactionId") == tx.id, "GetTransactionStatusRequest",
              f"transactionId {tx.id}", got)
    else:
        check("transactionId" not in got, "GetTransactionStatusRequest", "no transactionId",
              got)
    if not queued:
        return
    offline = {"offline": True}
    if ongoing:
        await tx.event("Updated", "MeterValuePeriodic", charging_state="Charging",
                       meter_wh=400, extra=offline,
                       step="TransactionEvent Updated (queued, offline)")
    else:
        answer_end = await tx.event("Ended", "StopAuthorized", token=sut.tokens.valid,
                                    stopped_reason="Local", meter_wh=500, extra=offline,
                                    step="TransactionEvent Ended (queued, offline)")
        _accepted(answer_end, "TransactionEventResponse (Ended)")


@pytest.mark.case("TC_E_29_CSMS")
async def test_TC_E_29_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Check transaction status, transaction with id ongoing, messages in queue (E14). Steps: a
    transaction charges; the CSMS sends GetTransactionStatus with its transactionId; the
    station answers ongoingIndicator true, messagesInQueue true and delivers the queued
    TransactionEvent (offline true). Validated: transactionId is the running transaction's;
    the queued event answered."""
    await _transaction_status(stations, triggers, sut, "CONF-TX-E29", with_id=True,
                              ongoing=True, queued=True)


@pytest.mark.case("TC_E_30_CSMS")
async def test_TC_E_30_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Check transaction status, transaction with id ongoing, no messages in queue (E14): as
    TC_E_29, answered ongoingIndicator true, messagesInQueue false. Validated: transactionId
    is the running transaction's."""
    await _transaction_status(stations, triggers, sut, "CONF-TX-E30", with_id=True,
                              ongoing=True, queued=False)


@pytest.mark.case("TC_E_31_CSMS")
async def test_TC_E_31_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Check transaction status, transaction with id ended, messages in queue (E14): the
    transaction ended on the station while its Ended event is still queued; the CSMS sends
    GetTransactionStatus with its id; answered ongoingIndicator false, messagesInQueue true;
    the queued Ended event (offline true) follows. Validated: transactionId; the Ended event
    answered Accepted."""
    await _transaction_status(stations, triggers, sut, "CONF-TX-E31", with_id=True,
                              ongoing=False, queued=True)


@pytest.mark.case("TC_E_33_CSMS")
async def test_TC_E_33_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Check transaction status without transactionId, messages in queue (E14): the CSMS sends
    GetTransactionStatus without a transactionId; answered messagesInQueue true; the queued
    TransactionEvent (offline true) follows. Validated: no transactionId; the event answered."""
    await _transaction_status(stations, triggers, sut, "CONF-TX-E33", with_id=False,
                              ongoing=True, queued=True)


@pytest.mark.case("TC_E_34_CSMS")
async def test_TC_E_34_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Check transaction status without transactionId, no messages in queue (E14): the CSMS
    sends GetTransactionStatus without a transactionId; answered messagesInQueue false.
    Validated: no transactionId."""
    await _transaction_status(stations, triggers, sut, "CONF-TX-E34", with_id=False,
                              ongoing=True, queued=False)
