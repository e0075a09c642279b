"""OCPP 1.6 Core profile, CSMS under test: the cases beyond ``test_v16_core.py`` (session ends,
cached and offline authorization, unlock, remote actions refused, power loss, configuration).

The suite plays the Charge Point (OCTT's "test system"); the Central System is under test. Each
docstring lists the case's steps and what is validated (OCPP 1.6 edition 2 section numbers).
"""

from __future__ import annotations

import pytest

from conformance.csms.harness import (
    StationPool,
    authorized,
    booted,
    check,
    csms_sends,
    energy_transfer_started_16,
    now_iso,
    status_payload,
)
from conformance.harness_station import TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

OFFLINE_S = 600.0  # how long ago the queued (offline) messages happened


async def _status(station: TestStation, status: str, connector: int = 1,
                  error_code: str = "NoError") -> None:
    await station.call("StatusNotification",
                       status_payload(station.version, connector, status, error_code),
                       step=f"StatusNotification {status}"
                       + ("" if error_code == "NoError" else f" ({error_code})"))


async def _stop(station: TestStation, transaction_id: int, reason: str, *,
                token: str | None = None, timestamp: str | None = None) -> dict:
    payload = {"transactionId": transaction_id, "meterStop": 1000,
               "timestamp": timestamp or now_iso(), "reason": reason}
    if token:
        payload["idTag"] = token
    answer = await station.call("StopTransaction", payload, step=f"StopTransaction ({reason})")
    info = answer.get("idTagInfo")
    if token:  # an idTag in the request: the answer says how the tag stands (4.10, 6.48)
        check(isinstance(info, dict) and info.get("status") == "Accepted",
              "StopTransaction.conf", "idTagInfo.status Accepted", answer)
    return answer


async def _start(station: TestStation, token: str, *, step: str, timestamp: str | None = None,
                 connector_id: int = 1) -> dict:
    return await station.call("StartTransaction", {
        "connectorId": connector_id, "idTag": token, "meterStart": 0,
        "timestamp": timestamp or now_iso()}, step=step)


def _accepted(answer: dict, step: str) -> int:
    check(answer.get("idTagInfo", {}).get("status") == "Accepted", step,
          "idTagInfo.status Accepted", answer)
    check(isinstance(answer.get("transactionId"), int), step, "a transactionId", answer)
    return int(answer["transactionId"])


# -- session ends, cached id -------------------------------------------------------------------


@pytest.mark.case("TC_005_1_CSMS")
async def test_TC_005_1_CSMS(stations: StationPool, sut: Sut) -> None:
    """EV side disconnected (StopTransactionOnEVSideDisconnect and
    UnlockConnectorOnEVSideDisconnect true; 1.6 4.10, 4.9, 9.1).

    Before: state Charging (Authorize, Preparing, StartTransaction Accepted, Charging).
    Steps: the EV unplugs: the Charge Point stops the transaction, StopTransaction with reason
    EVDisconnected and the idTag; StatusNotification Finishing, then Available (the connector is
    unlocked and the cable gone).
    Validated: the Central System answers the StopTransaction with idTagInfo.status Accepted
    and answers both StatusNotifications.
    """
    station = await stations.booted()
    transaction_id = await energy_transfer_started_16(station, sut.tokens.valid)
    await _stop(station, transaction_id, "EVDisconnected", token=sut.tokens.valid)
    await _status(station, "Finishing")
    await _status(station, "Available")


@pytest.mark.case("TC_007_CSMS")
async def test_TC_007_CSMS(stations: StationPool, sut: Sut) -> None:
    """Regular start charging session, cached id (1.6 authorization cache, 4.8).

    Before: the tag is in the Charge Point's authorization cache, so it sends no Authorize.
    Steps: StatusNotification Preparing; StartTransaction with the tag (no Authorize before
    it); StatusNotification Charging.
    Validated: StartTransaction.conf with idTagInfo.status Accepted and a transactionId.
    """
    station = await stations.booted()
    await _status(station, "Preparing")
    started = await _start(station, sut.tokens.valid, step="StartTransaction (cached id)")
    _accepted(started, "StartTransaction.conf")
    await _status(station, "Charging")


# -- unlock ------------------------------------------------------------------------------------


async def _unlock(station: TestStation, triggers: Triggers, sut: Sut, connector_id: int,
                  answer: str) -> None:
    call = await csms_sends(station, triggers, "UnlockConnector", {"connectorId": connector_id},
                            {"status": answer}, step="UnlockConnector.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("connectorId") == connector_id, "UnlockConnector.req",
          f"connectorId {connector_id}", call.payload)


@pytest.mark.case("TC_017_2_CSMS")
async def test_TC_017_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unlock connector, no charging session, fixed cable (1.6 5.18).

    Steps: the Central System sends UnlockConnector.req for connector 1; the Charge Point (a
    fixed cable) answers NotSupported.
    Validated: UnlockConnector.req with connectorId 1.
    """
    station = await stations.booted()
    await _unlock(station, triggers, sut, 1, "NotSupported")


@pytest.mark.case("TC_018_1_CSMS")
async def test_TC_018_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unlock connector with a charging session, not a fixed cable (1.6 5.18).

    Before: state Charging on connector 1.
    Steps: the Central System sends UnlockConnector.req for connector 1; the Charge Point
    answers Unlocked, stops the transaction (StopTransaction reason UnlockCommand) and reports
    Finishing, then Available.
    Validated: UnlockConnector.req with the transaction's connectorId 1; the StopTransaction
    (reason UnlockCommand) and the StatusNotifications are answered.
    """
    station = await stations.booted()
    transaction_id = await energy_transfer_started_16(station, sut.tokens.valid)
    await _unlock(station, triggers, sut, 1, "Unlocked")
    await _stop(station, transaction_id, "UnlockCommand")
    await _status(station, "Finishing")
    await _status(station, "Available")


@pytest.mark.case("TC_030_CSMS")
async def test_TC_030_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unlock connector, unlock failure (1.6 5.18).

    Steps: the Central System sends UnlockConnector.req for connector 1; the Charge Point
    answers UnlockFailed.
    Validated: UnlockConnector.req with connectorId 1.
    """
    station = await stations.booted()
    await _unlock(station, triggers, sut, 1, "UnlockFailed")


@pytest.mark.case("TC_031_CSMS")
async def test_TC_031_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unlock connector, unknown connector (1.6 5.18).

    Steps: the Central System sends UnlockConnector.req for a connector the Charge Point does
    not have (one above its connector count); the Charge Point answers NotSupported.
    Validated: UnlockConnector.req with that connectorId.
    """
    station = await stations.booted()
    unknown = sut.stations[0].evses + 1
    await _unlock(station, triggers, sut, unknown, "NotSupported")


# -- non-happy basic and remote actions --------------------------------------------------------


@pytest.mark.case("TC_024_CSMS")
async def test_TC_024_CSMS(stations: StationPool, sut: Sut) -> None:
    """Start charging session, lock failure (1.6 4.9, 7.7 ConnectorLockFailure).

    Steps: Authorize with a valid tag (Accepted); StatusNotification Preparing; the connector
    cannot be locked: StatusNotification Faulted with errorCode ConnectorLockFailure; no
    transaction is started.
    Validated: Authorize.conf idTagInfo.status Accepted; the StatusNotifications, the one
    with ConnectorLockFailure included, are answered.
    """
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    await _status(station, "Preparing")
    await _status(station, "Faulted", error_code="ConnectorLockFailure")


@pytest.mark.case("TC_026_CSMS")
async def test_TC_026_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start charging session, rejected (1.6 5.11).

    Steps: the Central System sends RemoteStartTransaction.req with a valid tag; the Charge
    Point answers Rejected; no transaction starts.
    Validated: RemoteStartTransaction.req with the tag.
    """
    station = await stations.booted()
    call = await csms_sends(station, triggers, "RemoteStartTransaction",
                            {"idTag": sut.tokens.valid, "connectorId": 1},
                            {"status": "Rejected"}, step="RemoteStartTransaction.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("idTag") == sut.tokens.valid, "RemoteStartTransaction.req",
          f"idTag {sut.tokens.valid}", call.payload)
    check(call.payload.get("connectorId", 1) == 1, "RemoteStartTransaction.req",
          "connectorId 1 (or none)", call.payload)


@pytest.mark.case("TC_028_CSMS")
async def test_TC_028_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote stop transaction, rejected (1.6 5.12).

    Before: state Charging.
    Steps: the Central System sends RemoteStopTransaction.req for the running transaction; the
    Charge Point answers Rejected and the transaction goes on (StatusNotification Charging
    stays).
    Validated: RemoteStopTransaction.req with the running transaction's id.
    """
    station = await stations.booted()
    transaction_id = await energy_transfer_started_16(station, sut.tokens.valid)
    call = await csms_sends(station, triggers, "RemoteStopTransaction",
                            {"transactionId": transaction_id}, {"status": "Rejected"},
                            step="RemoteStopTransaction.req", timeout_s=sut.action_timeout_s)
    check(call.payload.get("transactionId") == transaction_id, "RemoteStopTransaction.req",
          f"transactionId {transaction_id}", call.payload)


# -- power loss, offline -----------------------------------------------------------------------


@pytest.mark.case("TC_032_1_CSMS")
async def test_TC_032_1_CSMS(stations: StationPool, sut: Sut) -> None:
    """Power failure, boot of a Charge Point configured to stop transactions (1.6 4.2,
    4.10: stop reason PowerLoss).

    Before: state Charging.
    Steps: the power fails (the connection drops); on power-up the Charge Point sends
    BootNotification, StatusNotification for its connectors, and the StopTransaction of the
    interrupted transaction with reason PowerLoss.
    Validated: BootNotification.conf Accepted; the StopTransaction (reason PowerLoss) is
    answered with idTagInfo.status Accepted for its tag; the StatusNotifications are answered.
    """
    station = await stations.booted()
    transaction_id = await energy_transfer_started_16(station, sut.tokens.valid)
    station.open_transactions.clear()  # the power failed: nothing is stopped on closing
    await station.close()
    rebooted = await stations.connected()
    rebooted.open_transactions[str(transaction_id)] = {"connectorId": 1}
    await booted(rebooted, step="BootNotification after the power failure")
    await _stop(rebooted, transaction_id, "PowerLoss", token=sut.tokens.valid)


async def _reconnected(stations: StationPool) -> TestStation:
    """A booted Charge Point that loses its connection and gets it back (no reboot)."""
    station = await stations.booted()
    await station.close()
    return await stations.connected()


@pytest.mark.case("TC_037_1_CSMS")
async def test_TC_037_1_CSMS(stations: StationPool, sut: Sut) -> None:
    """Offline start transaction, valid idTag (1.6 offline authorization, 4.8).

    Steps: while offline the Charge Point starts a transaction with a tag it accepts
    (LocalAuthorizeOffline); the connection comes back; it sends the queued StartTransaction
    (timestamp from the offline period), then StatusNotification Charging.
    Validated: StartTransaction.conf with idTagInfo.status Accepted and a transactionId.
    """
    station = await _reconnected(stations)
    started = await _start(station, sut.tokens.valid, step="StartTransaction (queued)",
                           timestamp=now_iso(-OFFLINE_S))
    _accepted(started, "StartTransaction.conf")
    await _status(station, "Charging")


@pytest.mark.case("TC_037_3_CSMS")
async def test_TC_037_3_CSMS(stations: StationPool, sut: Sut) -> None:
    """Offline start transaction, invalid idTag, StopTransactionOnInvalidId true (1.6 offline
    authorization, 4.8, 9.1 StopTransactionOnInvalidId).

    Steps: while offline the Charge Point started a transaction with a tag the Central System
    does not know; back online it sends the queued StartTransaction; the Central System
    answers idTagInfo.status Invalid; the Charge Point stops the transaction: StopTransaction
    reason DeAuthorized, then StatusNotification Finishing.
    Validated: StartTransaction.conf with idTagInfo.status Invalid (and a transactionId); the
    StopTransaction is answered.
    """
    station = await _reconnected(stations)
    started = await _start(station, sut.tokens.invalid, step="StartTransaction (queued)",
                           timestamp=now_iso(-OFFLINE_S))
    check(started.get("idTagInfo", {}).get("status") == "Invalid", "StartTransaction.conf",
          "idTagInfo.status Invalid", started)
    check(isinstance(started.get("transactionId"), int), "StartTransaction.conf",
          "a transactionId", started)
    await _stop(station, int(started["transactionId"]), "DeAuthorized")
    await _status(station, "Finishing")


@pytest.mark.case("TC_039_CSMS")
async def test_TC_039_CSMS(stations: StationPool, sut: Sut) -> None:
    """Offline transaction (1.6 4.8, 4.10: messages queued while offline).

    Steps: the connection is cut; a whole transaction is started and stopped offline with a
    tag the Charge Point accepts; the connection comes back; the Charge Point sends the queued
    StartTransaction, then the queued StopTransaction (reason Local), both with their offline
    timestamps, then StatusNotification Available.
    Validated: StartTransaction.conf idTagInfo.status Accepted with a transactionId; the
    StopTransaction of that transaction is answered (idTagInfo Accepted for its tag).
    """
    station = await _reconnected(stations)
    started = await _start(station, sut.tokens.valid, step="StartTransaction (queued)",
                           timestamp=now_iso(-OFFLINE_S))
    transaction_id = _accepted(started, "StartTransaction.conf")
    await _stop(station, transaction_id, "Local", token=sut.tokens.valid,
                timestamp=now_iso(-OFFLINE_S / 2))
    await _status(station, "Available")


# -- configuration keys ------------------------------------------------------------------------


async def _change_configuration(stations: StationPool, triggers: Triggers, sut: Sut,
                                key: str, value: str, answer: str) -> None:
    station = await stations.booted()
    call = await csms_sends(station, triggers, "ChangeConfiguration",
                            {"key": key, "value": value}, {"status": answer},
                            step="ChangeConfiguration.req", timeout_s=sut.action_timeout_s)
    check(call.payload == {"key": key, "value": value}, "ChangeConfiguration.req",
          f"key {key}, value {value}", call.payload)


@pytest.mark.case("TC_040_1_CSMS")
async def test_TC_040_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Configuration keys, a key the Charge Point does not support (1.6 5.3).

    Steps: the Central System sends ChangeConfiguration.req for a key the Charge Point does not
    know; the Charge Point answers NotSupported.
    Validated: ChangeConfiguration.req with exactly that key and value.
    """
    await _change_configuration(stations, triggers, sut, "ConformanceUnknownKey", "1",
                                "NotSupported")


@pytest.mark.case("TC_040_2_CSMS")
async def test_TC_040_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Configuration keys, a value the Charge Point refuses (1.6 5.3).

    Steps: the Central System sends ChangeConfiguration.req for a known key with a value the
    Charge Point does not accept; the Charge Point answers Rejected.
    Validated: ChangeConfiguration.req with exactly that key and value.
    """
    await _change_configuration(stations, triggers, sut, "MeterValueSampleInterval", "-1",
                                "Rejected")
