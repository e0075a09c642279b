"""OCPP 1.6 Core profile, charging station under test, continued: boot Pending, EV side
disconnect, the authorization cache, resets and unlocks with a transaction, lock failure,
power failure, offline transactions, faults, data transfer and meter values (test case
document FINAL 2024-04).

The harness plays the Central System; ``h.act`` has the actions adapter do what the tester
does at the charger.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from conformance.station.csms import Received, now_iso
from conformance.station.flows16 import of_connector, unlock_while_charging
from conformance.station.harness import Harness, check, transaction_id
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

EARLY_SLACK_S = 0.2  # clock resolution between the station's timer and ours
INTERVAL_SLACK = 0.35  # a periodic message may come this share of its interval early or late
NOT_CHARGING = ("Available", "Preparing", "Finishing")  # a connector without a transaction
SLACK = timedelta(seconds=2)  # between the station's clock and ours (a paced clock may lag)


# what a case changed on the station, put back when it ends: a real charger keeps its
# configuration and availability from one case to the next (the simulated one is rebuilt)
_RESTORE: list[tuple[str, dict[str, Any]]] = []


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _put_back(h: Harness) -> AsyncIterator[None]:
    _RESTORE.clear()
    yield
    undo, _RESTORE[:] = list(reversed(_RESTORE)), []
    for action, payload in undo:
        if not h.csms.connected:
            return
        with contextlib.suppress(CaseFailed):
            await h.csms.call_or_error(action, payload, step="after the case: put back")


async def _configure(h: Harness, key: str, value: str, *, step: str) -> None:
    """ChangeConfiguration ``key`` = ``value`` (Accepted), put back after the case."""
    before = await h.csms.call("GetConfiguration", {"key": [key]}, step=f"{step}: before")
    old = next((k.get("value") for k in before.get("configurationKey", [])
                if k.get("key") == key), None)
    await h.configure(key, value, step=step)
    if old is not None and old != value:
        _RESTORE.append(("ChangeConfiguration", {"key": key, "value": old}))



async def _stop_with_token(h: Harness, token: str, *, step: str) -> Received:
    """The driver presents ``token`` again: the StopTransaction it causes."""
    await h.act("present_token", step=f"{step}: present token", evse=1, token=token)
    return await h.csms.receive("StopTransaction", step=f"{step}: StopTransaction")


async def _charge_and_leave(h: Harness, token: str, *, step: str) -> None:
    """A whole session with ``token`` (so the station has seen the CSMS accept it): start,
    stop with the same token, unplug, Available."""
    await h.charging16(token, step=step)
    await h.csms.receive("Authorize", step=f"{step}: Authorize",
                         where=lambda p: p.get("idTag") == token)
    await _stop_with_token(h, token, step=step)
    await h.act("unplug", step=f"{step}: unplug", evse=1)
    await h.status(1, "Available", step=f"{step}: StatusNotification Available")


# -- boot ------------------------------------------------------------------------------------


@pytest.mark.case("TC_002_CS")
async def test_TC_002_CS(h: Harness) -> None:
    """Cold boot, Pending: the first BootNotification is answered Pending with an interval;
    while Pending the station answers GetConfiguration (every key) and ChangeConfiguration
    (MeterValueSampleInterval, Accepted); the next BootNotification comes not before the
    interval and is Accepted; then a StatusNotification for connector 0 and every
    connector."""
    csms, interval = h.csms, max(2, h.sut.intervals.boot_retry_s)
    csms.answer_next("BootNotification", {"status": "Pending", "currentTime": now_iso(),
                                          "interval": interval})
    await h.fresh(step="power cycle")
    first = await csms.receive("BootNotification", step="BootNotification (Pending)",
                               timeout_s=h.connect_s)
    every = await csms.call("GetConfiguration", {}, step="GetConfiguration while Pending")
    check(bool(every.get("configurationKey")), "GetConfiguration.conf",
          "the configuration keys", every)
    await _configure(h, "MeterValueSampleInterval", str(h.sut.intervals.meter_sample_s + 14),
                      step="ChangeConfiguration while Pending")
    second = await csms.receive("BootNotification", step="BootNotification after interval",
                                timeout_s=interval + h.wait_s)
    gap = second.at - first.at
    check(gap >= interval - EARLY_SLACK_S, "BootNotification after interval",
          f"the second BootNotification not before {interval} s", f"after {gap:.2f} s")
    check(second.answer is not None and second.answer["status"] == "Accepted",
          "BootNotification.conf", "Accepted", second.answer)
    await h.all_statuses("Available", step="StatusNotification")


# -- EV side disconnected ----------------------------------------------------------------------


async def _ev_side_settings(h: Harness, stop: bool, unlock: bool) -> None:
    await _configure(h, "StopTransactionOnEVSideDisconnect", str(stop).lower(),
                      step="ChangeConfiguration StopTransactionOnEVSideDisconnect")
    await _configure(h, "UnlockConnectorOnEVSideDisconnect", str(unlock).lower(),
                      step="ChangeConfiguration UnlockConnectorOnEVSideDisconnect")


@pytest.mark.case("TC_005_1_CS")
async def test_TC_005_1_CS(h: Harness) -> None:
    """EV side disconnected, StopTransactionOnEVSideDisconnect and
    UnlockConnectorOnEVSideDisconnect true: charging; the cable is unplugged at the EV;
    StopTransaction of that transaction with reason EVDisconnected; the connector ends
    Available (Finishing may come between)."""
    await h.booted()
    await _ev_side_settings(h, stop=True, unlock=True)
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)
    await h.act("unplug", step="unplug at the EV", evse=1)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason") == "EVDisconnected", "StopTransaction.req",
          f"transactionId {tx}, reason EVDisconnected", stop.payload)
    await h.status(1, "Available", step="StatusNotification Available")


@pytest.mark.case("TC_005_2_CS")
async def test_TC_005_2_CS(h: Harness) -> None:
    """EV side disconnected, StopTransactionOnEVSideDisconnect true and
    UnlockConnectorOnEVSideDisconnect false (a socket): charging; the cable is unplugged at
    the EV; StopTransaction of that transaction with reason EVDisconnected; Finishing, and the
    cable stays locked (not Available) until the tag is presented; then Available."""
    _detachable(h)
    await h.booted()
    await _ev_side_settings(h, stop=True, unlock=False)
    token = h.sut.tokens.valid
    start = await h.charging16(token)
    tx = transaction_id(start)
    await h.act("unplug", step="unplug at the EV", evse=1)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason") == "EVDisconnected", "StopTransaction.req",
          f"transactionId {tx}, reason EVDisconnected", stop.payload)
    await h.status(1, "Finishing", step="StatusNotification Finishing")
    await h.csms.nothing("StatusNotification", step="the cable stays locked", within_s=1.0,
                         where=lambda p: p.get("connectorId") == 1 and
                         p.get("status") == "Available",
                         expected="no Available before the tag unlocks the cable")
    await h.act("present_token", step="present token to unlock", evse=1, token=token)
    await h.status(1, "Available", step="StatusNotification Available")


@pytest.mark.case("TC_005_3_CS")
async def test_TC_005_3_CS(h: Harness) -> None:
    """EV side disconnected, StopTransactionOnEVSideDisconnect and
    UnlockConnectorOnEVSideDisconnect false: charging; the cable is unplugged at the EV; the
    transaction goes on (no StopTransaction, the connector SuspendedEV or SuspendedEVSE); the
    cable is plugged in again: Charging; the tag ends the transaction (StopTransaction,
    reason Local or none)."""
    await h.booted()
    await _ev_side_settings(h, stop=False, unlock=False)
    token = h.sut.tokens.valid
    start = await h.charging16(token)
    tx = transaction_id(start)
    await h.act("unplug", step="unplug at the EV", evse=1)
    await h.csms.receive("StatusNotification", step="StatusNotification SuspendedEV(SE)",
                         where=lambda p: p.get("connectorId") == 1 and
                         p.get("status") in ("SuspendedEV", "SuspendedEVSE"),
                         expected="StatusNotification SuspendedEV or SuspendedEVSE")
    await h.csms.nothing("StopTransaction", step="no StopTransaction", within_s=1.0)
    await h.act("plug_in", step="plug in at the EV again", evse=1)
    await h.status(1, "Charging", step="StatusNotification Charging")
    stop = await _stop_with_token(h, token, step="stop")
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason", "Local") == "Local", "StopTransaction.req",
          f"transactionId {tx}, reason Local or none", stop.payload)


# -- authorization cache -------------------------------------------------------------------


@pytest.mark.case("TC_007_CS")
async def test_TC_007_CS(h: Harness) -> None:
    """Start with a cached id: AuthorizationCacheEnabled and LocalPreAuthorize true; a session
    with the tag puts it in the cache; the tag is presented again: no Authorize, Preparing,
    the cable is plugged in, StartTransaction with the tag, Charging."""
    await h.booted()
    await _configure(h, "AuthorizationCacheEnabled", "true", step="ChangeConfiguration cache")
    await _configure(h, "LocalPreAuthorize", "true", step="ChangeConfiguration LocalPreAuthorize")
    token = h.sut.tokens.valid
    await _charge_and_leave(h, token, step="cache the tag")
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("plug_in", step="plug in", evse=1)
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token, "StartTransaction.req", f"idTag {token}",
          start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")
    await h.csms.nothing("Authorize", step="no Authorize (the tag is cached)", within_s=0.0,
                         expected="no Authorize.req for a cached tag")


# -- remote start time out -----------------------------------------------------------------


@pytest.mark.case("TC_011_2_CS")
async def test_TC_011_2_CS(h: Harness) -> None:
    """Remote start, time out: ConnectionTimeOut set; RemoteStartTransaction Accepted;
    Preparing; no cable: Available again, not before ConnectionTimeOut, and no
    StartTransaction."""
    await h.booted()
    timeout = h.sut.intervals.connection_timeout_s
    await _configure(h, "ConnectionTimeOut", str(timeout), step="ChangeConfiguration")
    answer = await h.csms.call("RemoteStartTransaction", {
        "connectorId": 1, "idTag": h.sut.tokens.valid}, step="RemoteStartTransaction")
    check(answer.get("status") == "Accepted", "RemoteStartTransaction.conf", "Accepted", answer)
    preparing = await h.status(1, "Preparing", step="StatusNotification Preparing")
    available = await h.status(1, "Available", step="StatusNotification Available",
                               timeout_s=timeout + h.wait_s)
    waited = available.at - preparing.at
    check(waited >= timeout - EARLY_SLACK_S, "StatusNotification Available",
          f"Available not before ConnectionTimeOut ({timeout} s)", f"after {waited:.2f} s")
    await h.csms.nothing("StartTransaction", step="no transaction", within_s=0.0)


@pytest.mark.case("TC_026_CS")
async def test_TC_026_CS(h: Harness) -> None:
    """Remote start, Rejected: a remotely started transaction charges on connector 1; a
    second RemoteStartTransaction for that connector is answered Rejected (or with a
    CALLERROR), and no second transaction starts."""
    await h.booted()
    token = h.sut.tokens.valid
    answer = await h.csms.call("RemoteStartTransaction", {"connectorId": 1, "idTag": token},
                               step="RemoteStartTransaction")
    check(answer.get("status") == "Accepted", "RemoteStartTransaction.conf", "Accepted", answer)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("plug_in", step="plug in", evse=1)
    await h.csms.receive("StartTransaction", step="StartTransaction")
    await h.status(1, "Charging", step="StatusNotification Charging")
    again = await h.csms.call_or_error("RemoteStartTransaction", {
        "connectorId": 1, "idTag": h.sut.tokens.valid_2}, step="RemoteStartTransaction again")
    check(not isinstance(again, dict) or again.get("status") == "Rejected",
          "RemoteStartTransaction.conf", "Rejected or a CALLERROR (the connector is in use)",
          again)
    await h.csms.nothing("StartTransaction", step="no second StartTransaction", within_s=1.0)


# -- resets with a transaction ---------------------------------------------------------------


async def _reset_charging(h: Harness, kind: str) -> None:
    await h.booted()
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": kind}, step="Reset")
    check(answer.get("status") == "Accepted", "Reset.conf", "Accepted", answer)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason") == f"{kind}Reset", "StopTransaction.req",
          f"transactionId {tx}, reason {kind}Reset", stop.payload)
    await h.csms.new_connection(before, h.wait_s * 2, step="reconnect after reset")
    await h.csms.receive("BootNotification", step="BootNotification after reset")
    await h.status(0, "Available", step="after reset: StatusNotification 0")
    after = await h.csms.receive("StatusNotification", step="after reset: StatusNotification 1",
                                 where=of_connector(1))
    check(after.payload.get("status") in NOT_CHARGING, "StatusNotification.req",
          f"connector 1 without a transaction ({', '.join(NOT_CHARGING)})", after.payload)


@pytest.mark.case("TC_015_CS")
async def test_TC_015_CS(h: Harness) -> None:
    """Hard reset with a transaction: Reset Hard Accepted; StopTransaction of the transaction
    with reason HardReset; the station reboots (BootNotification) and reports connector 0
    Available and connector 1 without a transaction."""
    await _reset_charging(h, "Hard")


@pytest.mark.case("TC_016_CS")
async def test_TC_016_CS(h: Harness) -> None:
    """Soft reset with a transaction: as TC_015 with type Soft and reason SoftReset."""
    await _reset_charging(h, "Soft")


# -- unlock connector ------------------------------------------------------------------------


def _detachable(h: Harness) -> None:
    if h.sut.claims("fixed_cable"):
        not_applicable("a connector with a socket (the SUT claims fixed_cable)")


@pytest.mark.case("TC_017_1_CS")
async def test_TC_017_1_CS(h: Harness) -> None:
    """Unlock connector without a session, not a fixed cable: UnlockConnector for connector 1
    answered Unlocked."""
    _detachable(h)
    await h.booted()
    answer = await h.csms.call("UnlockConnector", {"connectorId": 1}, step="UnlockConnector")
    check(answer.get("status") == "Unlocked", "UnlockConnector.conf", "Unlocked", answer)


@pytest.mark.case("TC_018_1_CS")
async def test_TC_018_1_CS(h: Harness) -> None:
    """Unlock connector with a session, not a fixed cable: charging; UnlockConnector answered
    Unlocked; StopTransaction of the transaction with reason UnlockCommand; the connector
    leaves Charging (Finishing or Available)."""
    _detachable(h)
    await h.booted()
    await unlock_while_charging(h, "Unlocked")


# -- lock and unlock failures, faults --------------------------------------------------------


@pytest.mark.case("TC_024_CS")
async def test_TC_024_CS(h: Harness) -> None:
    """Lock failure: the tag is presented (Authorize Accepted, Preparing); the connector lock
    fails when the cable is plugged in: StatusNotification Faulted with errorCode
    ConnectorLockFailure, and no StartTransaction."""
    await h.booted()
    token = h.sut.tokens.valid
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.csms.receive("Authorize", step="Authorize", where=lambda p: p.get("idTag") == token)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("lock_failure", step="make the lock fail", evse=1)
    await h.act("plug_in", step="plug in", evse=1)
    await h.csms.receive("StatusNotification", step="StatusNotification ConnectorLockFailure",
                         where=lambda p: p.get("connectorId") == 1 and
                         p.get("status") == "Faulted" and
                         p.get("errorCode") == "ConnectorLockFailure",
                         expected="StatusNotification Faulted, errorCode ConnectorLockFailure")
    await h.csms.nothing("StartTransaction", step="no StartTransaction", within_s=1.0)


@pytest.mark.case("TC_030_CS")
async def test_TC_030_CS(h: Harness) -> None:
    """Unlock failure: the cable is plugged in and the connector lock is stuck;
    UnlockConnector answered UnlockFailed."""
    _detachable(h)
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("lock_failure", step="make the lock fail", evse=1)
    await h.csms.receive("StatusNotification", step="StatusNotification ConnectorLockFailure",
                         where=lambda p: p.get("errorCode") == "ConnectorLockFailure")
    answer = await h.csms.call("UnlockConnector", {"connectorId": 1}, step="UnlockConnector")
    check(answer.get("status") == "UnlockFailed", "UnlockConnector.conf", "UnlockFailed",
          answer)


@pytest.mark.case("TC_041_CS")
async def test_TC_041_CS(h: Harness) -> None:
    """Fault behaviour: the tester causes a fault at connector 1: StatusNotification Faulted
    with an errorCode other than NoError; the fault is cleared: StatusNotification Available
    with errorCode NoError."""
    await h.booted()
    await h.act("fault", step="cause a fault", evse=1, seconds=2)
    faulted = await h.status(1, "Faulted", step="StatusNotification Faulted")
    check(faulted.payload.get("errorCode", "NoError") != "NoError", "StatusNotification.req",
          "Faulted with an errorCode other than NoError", faulted.payload)
    cleared = await h.status(1, "Available", step="StatusNotification Available",
                             timeout_s=h.wait_s + 2)
    check(cleared.payload.get("errorCode") == "NoError", "StatusNotification.req",
          "Available with errorCode NoError", cleared.payload)


# -- power failure ---------------------------------------------------------------------------


@pytest.mark.case("TC_034_CS")
async def test_TC_034_CS(h: Harness) -> None:
    """Power failure with Unavailable status: ChangeAvailability Inoperative for the charge
    point (connector 0) Accepted, every connector Unavailable; power cycle: after the
    BootNotification connector 0 and every connector are reported Unavailable still."""
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"},
                               step="ChangeAvailability")
    check(answer.get("status") == "Accepted", "ChangeAvailability.conf", "Accepted", answer)
    _RESTORE.append(("ChangeAvailability", {"connectorId": 0, "type": "Operative"}))
    await h.all_statuses("Unavailable", step="Unavailable")
    before = len(h.csms.connections)
    await h.act("power_cycle", step="power cycle")
    await h.csms.new_connection(before, h.connect_s, step="reconnect after power cycle")
    await h.csms.receive("BootNotification", step="BootNotification", timeout_s=h.connect_s)
    for connector in range(0, h.evses + 1):
        status = await h.csms.receive("StatusNotification",
                                      step=f"after power cycle: StatusNotification {connector}",
                                      where=of_connector(connector))
        check(status.payload.get("status") == "Unavailable", "StatusNotification.req",
              f"connector {connector} Unavailable after the power cycle", status.payload)


@pytest.mark.case("TC_032_1_CS")
async def test_TC_032_1_CS(h: Harness) -> None:
    """Power failure, the station ends its transactions before it goes down: charging; power
    failure: StopTransaction of the transaction with reason PowerLoss and Finishing before the
    station goes down; it boots again (BootNotification) and reports connector 0 Available
    and connector 1 without a transaction."""
    if not h.sut.claims("power_loss_stop_before_down"):
        not_applicable("power_loss_stop_before_down (a station that stops transactions "
                       "before going down)")
    await h.booted()
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)
    before = len(h.csms.connections)
    await h.act("power_cycle", step="power failure")
    # read before the new connection: from then on the case reads that connection only
    stop = await h.csms.receive("StopTransaction", step="StopTransaction",
                                timeout_s=h.connect_s)
    finishing = await h.status(1, "Finishing", step="StatusNotification Finishing",
                               timeout_s=h.connect_s)
    await h.csms.new_connection(before, h.connect_s, step="reconnect after the power failure")
    boot = await h.csms.receive("BootNotification", step="BootNotification",
                                timeout_s=h.connect_s)
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason") == "PowerLoss" and stop.index < boot.index and
          finishing.index < boot.index,
          "StopTransaction.req", f"transactionId {tx}, reason PowerLoss, before the "
          "station went down (before its BootNotification)",
          {**stop.payload, "sent": "before" if stop.index < boot.index else "after boot"})
    await h.status(0, "Available", step="after boot: StatusNotification 0")
    after = await h.csms.receive("StatusNotification", step="after boot: StatusNotification 1",
                                 where=of_connector(1))
    check(after.payload.get("status") in NOT_CHARGING, "StatusNotification.req",
          f"connector 1 without a transaction ({', '.join(NOT_CHARGING)})", after.payload)


# -- offline ---------------------------------------------------------------------------------


def _meter_stamp(p: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(p["meterValue"][0]["timestamp"].replace("Z", "+00:00"))


@pytest.mark.case("TC_036_CS")
async def test_TC_036_CS(h: Harness) -> None:
    """Connection loss during a transaction: MeterValueSampleInterval set,
    ClockAlignedDataInterval 0; charging, periodic MeterValues; the connection is lost for a
    few intervals; after it comes back the MeterValues sampled meanwhile arrive (at least
    two, of the transaction, in chronological order, taken while offline), then the periodic
    ones go on; RemoteStopTransaction: StopTransaction with reason Remote."""
    await h.booted()
    interval = max(1, h.sut.intervals.meter_sample_s)
    await _configure(h, "MeterValueSampleInterval", str(interval), step="ChangeConfiguration")
    await _configure(h, "ClockAlignedDataInterval", "0", step="ChangeConfiguration")
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)

    def periodic(p: dict[str, Any]) -> bool:
        return p.get("transactionId") == tx

    for n in (1, 2):
        await h.csms.receive("MeterValues", step=f"MeterValues {n}", where=periodic,
                             timeout_s=interval * 2 + h.wait_s)
    offline_s = interval * 4
    connection = h.csms.connection
    assert connection is not None
    before = len(h.csms.connections)
    lost_at = datetime.now(UTC)
    await h.act("network_down", step="connection lost", seconds=offline_s)
    await h.csms.disconnected(connection.number, h.connect_s, step="connection lost")
    await h.csms.new_connection(before, offline_s + h.connect_s, step="connection restored")
    back_at = datetime.now(UTC)
    after = [await h.csms.receive("MeterValues", step=f"MeterValues after reconnect {n}",
                                  where=periodic, timeout_s=interval * 2 + h.wait_s)
             for n in range(1, 4)]
    stamps = [_meter_stamp(m.payload) for m in after]
    taken_offline = [t for t in stamps if lost_at - SLACK < t < back_at]
    check(len(taken_offline) >= 2 and stamps == sorted(stamps), "MeterValues.req",
          "at least two values sampled while offline, delivered after the reconnect, in "
          "chronological order", [t.isoformat() for t in stamps])
    live = await h.csms.receive("MeterValues", step="MeterValues live again", where=lambda p:
                                periodic(p) and _meter_stamp(p) >= back_at - SLACK,
                                timeout_s=interval * 2 + h.wait_s)
    check(live.payload.get("connectorId") == 1, "MeterValues.req", "connector 1", live.payload)
    answer = await h.csms.call("RemoteStopTransaction", {"transactionId": tx},
                               step="RemoteStopTransaction")
    check(answer.get("status") == "Accepted", "RemoteStopTransaction.conf", "Accepted", answer)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("transactionId") == tx and stop.payload.get("reason") == "Remote",
          "StopTransaction.req", f"transactionId {tx}, reason Remote", stop.payload)


async def _started_offline(h: Harness, token: str) -> Received:
    """Offline, ``token`` is presented and the cable plugged in; back online, the queued
    StartTransaction carries the tag."""
    await h.go_offline(step="connection lost")
    await h.act("present_token", step="present token offline", evse=1, token=token)
    await h.act("plug_in", step="plug in offline", evse=1)
    await h.back_online(step="connection restored")
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token, "StartTransaction.req", f"idTag {token}",
          start.payload)
    return start


async def _started_offline_invalid(h: Harness) -> Received:
    """An unknown (invalid) tag starts a transaction offline; the harness answers Invalid."""
    start = await _started_offline(h, h.sut.tokens.invalid)
    check(start.answer is not None and start.answer["idTagInfo"]["status"] == "Invalid",
          "StartTransaction.conf", "Invalid (the harness's answer)", start.answer)
    return start


@pytest.mark.case("TC_037_1_CS")
async def test_TC_037_1_CS(h: Harness) -> None:
    """Offline start, valid tag: LocalAuthorizeOffline and the authorization cache on; a
    session with the tag caches it; the connection is lost; the tag is presented and the
    cable plugged in; the connection comes back: StartTransaction with the tag (answered
    Accepted) and the connector Charging."""
    await h.booted()
    await _configure(h, "LocalAuthorizeOffline", "true", step="ChangeConfiguration")
    await _configure(h, "AuthorizationCacheEnabled", "true", step="ChangeConfiguration cache")
    token = h.sut.tokens.valid
    await _charge_and_leave(h, token, step="cache the tag")
    start = await _started_offline(h, token)
    check(start.payload.get("connectorId") == 1, "StartTransaction.req", "connector 1",
          start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")


@pytest.mark.case("TC_037_2_CS")
async def test_TC_037_2_CS(h: Harness) -> None:
    """Offline start, invalid tag, StopTransactionOnInvalidId false: AllowOfflineTxForUnknownId
    true, StopTransactionOnInvalidId false, MaxEnergyOnInvalidId 0; the connection is lost; an
    unknown (invalid) tag is presented and the cable plugged in; the connection comes back:
    StartTransaction with the tag, answered Invalid; the transaction is not stopped (no
    StopTransaction) but the energy transfer is: SuspendedEVSE."""
    await h.booted()
    await _configure(h, "AllowOfflineTxForUnknownId", "true", step="ChangeConfiguration")
    await _configure(h, "StopTransactionOnInvalidId", "false", step="ChangeConfiguration")
    await _configure(h, "MaxEnergyOnInvalidId", "0", step="ChangeConfiguration")
    await _started_offline_invalid(h)
    await h.status(1, "SuspendedEVSE", step="StatusNotification SuspendedEVSE")
    await h.csms.nothing("StopTransaction", step="no StopTransaction", within_s=1.0,
                         expected="the transaction goes on (StopTransactionOnInvalidId false)")


@pytest.mark.case("TC_037_3_CS")
async def test_TC_037_3_CS(h: Harness) -> None:
    """Offline start, invalid tag, StopTransactionOnInvalidId true: AllowOfflineTxForUnknownId
    and StopTransactionOnInvalidId true; the connection is lost; an unknown (invalid) tag is
    presented and the cable plugged in; the connection comes back: StartTransaction with the
    tag, answered Invalid; StopTransaction of that transaction with reason DeAuthorized;
    Finishing."""
    await h.booted()
    await _configure(h, "AllowOfflineTxForUnknownId", "true", step="ChangeConfiguration")
    await _configure(h, "StopTransactionOnInvalidId", "true", step="ChangeConfiguration")
    start = await _started_offline_invalid(h)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    tx = transaction_id(start)
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason") == "DeAuthorized", "StopTransaction.req",
          f"transactionId {tx}, reason DeAuthorized", stop.payload)
    await h.status(1, "Finishing", step="StatusNotification Finishing")


@pytest.mark.case("TC_038_CS")
async def test_TC_038_CS(h: Harness) -> None:
    """Offline stop: charging; the connection is lost; the tag that started ends the
    transaction; the connection comes back: StopTransaction of that transaction with the tag
    and reason Local (or none)."""
    await h.booted()
    token = h.sut.tokens.valid
    start = await h.charging16(token)
    tx = transaction_id(start)
    await h.go_offline(step="connection lost")
    await h.act("present_token", step="present token offline", evse=1, token=token)
    await h.back_online(step="connection restored")
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("transactionId") == tx and stop.payload.get("idTag") == token and
          stop.payload.get("reason", "Local") == "Local", "StopTransaction.req",
          f"transactionId {tx}, idTag {token}, reason Local or none", stop.payload)


@pytest.mark.case("TC_039_CS")
async def test_TC_039_CS(h: Harness) -> None:
    """Offline transaction: AllowOfflineTxForUnknownId true; the connection is lost; a
    transaction is started and stopped with the tag, the cable unplugged; the connection
    comes back: StartTransaction (answered Accepted), then StopTransaction of the id the
    answer gave with reason Local (or none)."""
    await h.booted()
    await _configure(h, "AllowOfflineTxForUnknownId", "true", step="ChangeConfiguration")
    token = h.sut.tokens.valid
    await h.go_offline(step="connection lost")
    await h.act("present_token", step="present token offline", evse=1, token=token)
    await h.act("plug_in", step="plug in offline", evse=1)
    await h.act("present_token", step="present token again offline", evse=1, token=token)
    await h.act("unplug", step="unplug offline", evse=1)
    await h.back_online(step="connection restored")
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token, "StartTransaction.req", f"idTag {token}",
          start.payload)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    tx = transaction_id(start)
    check(stop.index > start.index and stop.payload.get("transactionId") == tx and
          stop.payload.get("reason", "Local") == "Local", "StopTransaction.req",
          f"after StartTransaction, transactionId {tx}, reason Local or none", stop.payload)


# -- data transfer ---------------------------------------------------------------------------


@pytest.mark.case("TC_062_CS")
async def test_TC_062_CS(h: Harness) -> None:
    """Data transfer to a charge point: DataTransfer with a vendorId the station does not
    know is answered, not Accepted (UnknownVendorId, UnknownMessageId or Rejected)."""
    await h.booted()
    answer = await h.csms.call("DataTransfer", {
        "vendorId": "org.openchargealliance.conformance.unknown", "messageId": "Probe",
        "data": "1"}, step="DataTransfer")
    check(answer.get("status") in ("UnknownVendorId", "UnknownMessageId", "Rejected"),
          "DataTransfer.conf", "UnknownVendorId, UnknownMessageId or Rejected", answer)


# -- stop by another tag of the group ---------------------------------------------------------


@pytest.mark.case("TC_069_CS")
async def test_TC_069_CS(h: Harness) -> None:
    """Stop with a tag whose parentIdTag matches the starting tag's: charging with a tag
    (Authorize answered Accepted with a parentIdTag); another tag is presented, its Authorize
    answered Accepted with the same parentIdTag; StopTransaction of the transaction with that
    other tag, reason Local (or none)."""
    await h.booted()
    tokens = h.sut.tokens
    start = await h.charging16(tokens.valid)
    first = await h.csms.receive("Authorize", step="Authorize",
                                 where=lambda p: p.get("idTag") == tokens.valid)
    other = tokens.valid_2
    await h.act("present_token", step="present another tag of the group", evse=1, token=other)
    second = await h.csms.receive("Authorize", step="Authorize (other tag)",
                                  where=lambda p: p.get("idTag") == other)
    parents = [r.answer["idTagInfo"].get("parentIdTag") if r.answer else None
               for r in (first, second)]
    check(parents[0] is not None and parents[0] == parents[1], "Authorize.conf",
          "the same parentIdTag for both tags (the harness's answers)", parents)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    tx = transaction_id(start)
    check(stop.payload.get("transactionId") == tx and stop.payload.get("idTag") == other and
          stop.payload.get("reason", "Local") == "Local", "StopTransaction.req",
          f"transactionId {tx}, idTag {other}, reason Local or none", stop.payload)


# -- meter values ----------------------------------------------------------------------------


def _sampled(message: Received) -> list[dict[str, Any]]:
    return [v for mv in message.payload.get("meterValue", [])
            for v in mv.get("sampledValue", [])]


def _contexts(message: Received) -> set[str]:
    return {v.get("context", "Sample.Periodic") for v in _sampled(message)}


def _measurands(message: Received) -> set[str]:
    return {v.get("measurand", "Energy.Active.Import.Register") for v in _sampled(message)}


@pytest.mark.case("TC_070_CS")
async def test_TC_070_CS(h: Harness) -> None:
    """Sampled meter values: MeterValuesSampledData Energy.Active.Import.Register,
    MeterValueSampleInterval set, ClockAlignedDataInterval 0; charging: three MeterValues for
    the connector and the transaction with context Sample.Periodic and the configured
    measurand, at the configured interval."""
    await h.booted()
    interval = max(1, h.sut.intervals.meter_sample_s)
    await _configure(h, "MeterValuesSampledData", "Energy.Active.Import.Register",
                      step="ChangeConfiguration MeterValuesSampledData")
    await _configure(h, "MeterValueSampleInterval", str(interval),
                      step="ChangeConfiguration MeterValueSampleInterval")
    await _configure(h, "ClockAlignedDataInterval", "0",
                      step="ChangeConfiguration ClockAlignedDataInterval")
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)

    def periodic(p: dict[str, Any]) -> bool:
        return p.get("transactionId") == tx and any(
            v.get("context", "Sample.Periodic") == "Sample.Periodic"
            for mv in p.get("meterValue", []) for v in mv.get("sampledValue", []))

    samples = [await h.csms.receive("MeterValues", step=f"MeterValues {n}", where=periodic,
                                    timeout_s=interval * 2 + h.wait_s) for n in (1, 2, 3)]
    for sample in samples:
        check(sample.payload.get("connectorId") == 1 and
              _measurands(sample) == {"Energy.Active.Import.Register"},
              "MeterValues.req", "connector 1, Energy.Active.Import.Register only",
              sample.payload)
    gaps = [b.at - a.at for a, b in itertools.pairwise(samples)]
    check(all(abs(gap - interval) <= interval * INTERVAL_SLACK + EARLY_SLACK_S
              for gap in gaps), "MeterValues.req",
          f"MeterValues {interval} s apart (MeterValueSampleInterval)",
          [f"{gap:.2f} s" for gap in gaps])


def _timestamp(message: Received) -> datetime:
    text = message.payload["meterValue"][0]["timestamp"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.case("TC_071_CS")
async def test_TC_071_CS(h: Harness) -> None:
    """Clock-aligned meter values: MeterValueSampleInterval 0, MeterValuesAlignedData
    Energy.Active.Import.Register and ClockAlignedDataInterval set; charging: three
    MeterValues for the connector and the transaction with context Sample.Clock and the
    configured measurand, their timestamps on the interval's boundaries and one interval
    apart."""
    await h.booted()
    interval = max(2, h.sut.intervals.meter_sample_s * 2)
    await _configure(h, "MeterValueSampleInterval", "0",
                      step="ChangeConfiguration MeterValueSampleInterval")
    await _configure(h, "MeterValuesAlignedData", "Energy.Active.Import.Register",
                      step="ChangeConfiguration MeterValuesAlignedData")
    await _configure(h, "ClockAlignedDataInterval", str(interval),
                      step="ChangeConfiguration ClockAlignedDataInterval")
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)

    def aligned(p: dict[str, Any]) -> bool:
        return p.get("connectorId") == 1 and p.get("transactionId") == tx and any(
            v.get("context") == "Sample.Clock"
            for mv in p.get("meterValue", []) for v in mv.get("sampledValue", []))

    samples = [await h.csms.receive("MeterValues", step=f"MeterValues {n}", where=aligned,
                                    timeout_s=interval * 2 + h.wait_s) for n in (1, 2, 3)]
    stamps = [_timestamp(s) for s in samples]
    for sample, stamp in zip(samples, stamps, strict=True):
        check(_measurands(sample) == {"Energy.Active.Import.Register"} and
              _contexts(sample) == {"Sample.Clock"}, "MeterValues.req",
              "Sample.Clock, Energy.Active.Import.Register only", sample.payload)
        offset = stamp.timestamp() % interval
        check(min(offset, interval - offset) <= 0.5, "MeterValues.req",
              f"a timestamp on a {interval} s boundary (ClockAlignedDataInterval)",
              stamp.isoformat())
    apart = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    check(all(abs(gap - interval) <= 0.5 for gap in apart), "MeterValues.req",
          f"timestamps {interval} s apart", [f"{gap:.2f} s" for gap in apart])
