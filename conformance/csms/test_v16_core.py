"""OCPP 1.6 Core profile, CSMS under test (test case document FINAL 2024-04)."""

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


async def _stop(station: TestStation, transaction_id: int, reason: str = "Local",
                token: str | None = None) -> dict:
    payload = {"transactionId": transaction_id, "meterStop": 1000, "timestamp": now_iso(),
               "reason": reason}
    if token:
        payload["idTag"] = token
    return await station.call("StopTransaction", payload, step="StopTransaction")


async def _status(station: TestStation, status: str, connector: int = 1) -> None:
    await station.call("StatusNotification", status_payload(station.version, connector, status),
                       step=f"StatusNotification {status}")


@pytest.mark.case("TC_001_CSMS")
async def test_TC_001_CSMS(stations: StationPool) -> None:
    """Cold boot: BootNotification Accepted with a heartbeat interval; StatusNotifications and a
    Heartbeat are answered."""
    station = await stations.connected()
    answer = await booted(station)
    check(answer.get("interval", 0) > 0, "BootNotification.conf", "interval above 0", answer)
    beat = await station.call("Heartbeat", {}, step="Heartbeat")
    check("currentTime" in beat, "Heartbeat.conf", "currentTime", beat)


@pytest.mark.case("TC_003_CSMS")
async def test_TC_003_CSMS(stations: StationPool, sut: Sut) -> None:
    """Plugin first: Preparing, Authorize Accepted, StartTransaction Accepted, Charging, then a
    local stop answered with the tag Accepted."""
    station = await stations.booted()
    await _status(station, "Preparing")
    await authorized(station, sut.tokens.valid)
    started = await station.call("StartTransaction", {
        "connectorId": 1, "idTag": sut.tokens.valid, "meterStart": 0, "timestamp": now_iso()},
        step="StartTransaction")
    check(started.get("idTagInfo", {}).get("status") == "Accepted", "StartTransaction.conf",
          "idTagInfo.status Accepted", started)
    await _status(station, "Charging")
    stopped = await _stop(station, int(started["transactionId"]), token=sut.tokens.valid)
    check(stopped.get("idTagInfo", {}).get("status") in (None, "Accepted"),
          "StopTransaction.conf", "idTagInfo.status Accepted (or none)", stopped)
    await _status(station, "Finishing")
    await _status(station, "Available")


@pytest.mark.case("TC_004_1_CSMS")
async def test_TC_004_1_CSMS(stations: StationPool, sut: Sut) -> None:
    """Identification first: Authorize Accepted, then plug-in, StartTransaction Accepted."""
    station = await stations.booted()
    transaction_id = await energy_transfer_started_16(station, sut.tokens.valid)
    await _stop(station, transaction_id, token=sut.tokens.valid)


@pytest.mark.case("TC_004_2_CSMS")
async def test_TC_004_2_CSMS(stations: StationPool, sut: Sut) -> None:
    """Identification first, connection time-out: Authorize Accepted, Preparing, then Available
    again without a transaction; every message answered."""
    station = await stations.booted()
    await authorized(station, sut.tokens.valid)
    await _status(station, "Preparing")
    await _status(station, "Available")


async def _authorize_status(stations: StationPool, token: str) -> dict:
    station = await stations.booted()
    return await station.call("Authorize", {"idTag": token}, step="Authorize")


@pytest.mark.case("TC_023_1_CSMS")
async def test_TC_023_1_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorize with an unknown tag: idTagInfo.status Invalid."""
    answer = await _authorize_status(stations, sut.tokens.invalid)
    check(answer.get("idTagInfo", {}).get("status") == "Invalid", "Authorize.conf",
          "idTagInfo.status Invalid", answer)


@pytest.mark.case("TC_023_2_CSMS")
async def test_TC_023_2_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorize with an expired tag: idTagInfo.status Expired."""
    answer = await _authorize_status(stations, sut.tokens.expired)
    check(answer.get("idTagInfo", {}).get("status") == "Expired", "Authorize.conf",
          "idTagInfo.status Expired", answer)


@pytest.mark.case("TC_023_3_CSMS")
async def test_TC_023_3_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorize with a blocked tag: idTagInfo.status Blocked."""
    answer = await _authorize_status(stations, sut.tokens.blocked)
    check(answer.get("idTagInfo", {}).get("status") == "Blocked", "Authorize.conf",
          "idTagInfo.status Blocked", answer)


async def _remote_start(station: TestStation, triggers: Triggers, sut: Sut) -> dict:
    call = await csms_sends(station, triggers, "RemoteStartTransaction",
                            {"idTag": sut.tokens.valid, "connectorId": 1},
                            {"status": "Accepted"}, step="RemoteStartTransaction.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("idTag") == sut.tokens.valid, "RemoteStartTransaction.req",
          f"idTag {sut.tokens.valid}", call.payload)
    return call.payload


@pytest.mark.case("TC_010_CSMS")
async def test_TC_010_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start, cable plugged in first: Preparing; the CSMS sends RemoteStartTransaction
    with the tag; the StartTransaction that follows is Accepted."""
    station = await stations.booted()
    await _status(station, "Preparing")
    request = await _remote_start(station, triggers, sut)
    started = await station.call("StartTransaction", {
        "connectorId": request.get("connectorId", 1), "idTag": request["idTag"],
        "meterStart": 0, "timestamp": now_iso()}, step="StartTransaction")
    check(started.get("idTagInfo", {}).get("status") == "Accepted", "StartTransaction.conf",
          "idTagInfo.status Accepted", started)
    await _status(station, "Charging")


@pytest.mark.case("TC_011_1_CSMS")
async def test_TC_011_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start first: RemoteStartTransaction with the tag, then Preparing and a
    StartTransaction that is Accepted."""
    station = await stations.booted()
    request = await _remote_start(station, triggers, sut)
    await _status(station, "Preparing")
    started = await station.call("StartTransaction", {
        "connectorId": request.get("connectorId", 1), "idTag": request["idTag"],
        "meterStart": 0, "timestamp": now_iso()}, step="StartTransaction")
    check(started.get("idTagInfo", {}).get("status") == "Accepted", "StartTransaction.conf",
          "idTagInfo.status Accepted", started)


@pytest.mark.case("TC_011_2_CSMS")
async def test_TC_011_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start, time-out: RemoteStartTransaction Accepted, Preparing, then Available again
    (no cable within the time-out); every message answered."""
    station = await stations.booted()
    await _remote_start(station, triggers, sut)
    await _status(station, "Preparing")
    await _status(station, "Available")


@pytest.mark.case("TC_012_CSMS")
async def test_TC_012_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote stop: the CSMS sends RemoteStopTransaction with the running transaction's id; the
    StopTransaction (reason Remote) is answered."""
    station = await stations.booted()
    transaction_id = await energy_transfer_started_16(station, sut.tokens.valid)
    call = await csms_sends(station, triggers, "RemoteStopTransaction",
                            {"transactionId": transaction_id}, {"status": "Accepted"},
                            step="RemoteStopTransaction.req", timeout_s=sut.action_timeout_s)
    check(call.payload.get("transactionId") == transaction_id, "RemoteStopTransaction.req",
          f"transactionId {transaction_id}", call.payload)
    await _stop(station, transaction_id, reason="Remote")
    await _status(station, "Finishing")


async def _reset(stations: StationPool, triggers: Triggers, sut: Sut, kind: str) -> None:
    station = await stations.booted()
    call = await csms_sends(station, triggers, "Reset", {"type": kind}, {"status": "Accepted"},
                            step="Reset.req", timeout_s=sut.action_timeout_s)
    check(call.payload.get("type") == kind, "Reset.req", f"type {kind}", call.payload)
    await station.close()
    rebooted = await stations.connected()
    await booted(rebooted, step="BootNotification after the reset")


@pytest.mark.case("TC_013_CSMS")
async def test_TC_013_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Hard reset: Reset type Hard; after the reboot the BootNotification is Accepted."""
    await _reset(stations, triggers, sut, "Hard")


@pytest.mark.case("TC_014_CSMS")
async def test_TC_014_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Soft reset: Reset type Soft; after the reboot the BootNotification is Accepted."""
    await _reset(stations, triggers, sut, "Soft")


@pytest.mark.case("TC_017_1_CSMS")
async def test_TC_017_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unlock connector, no session: UnlockConnector for connector 1."""
    station = await stations.booted()
    call = await csms_sends(station, triggers, "UnlockConnector", {"connectorId": 1},
                            {"status": "Unlocked"}, step="UnlockConnector.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("connectorId") == 1, "UnlockConnector.req", "connectorId 1",
          call.payload)


@pytest.mark.case("TC_019_1_CSMS")
async def test_TC_019_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve all configuration keys: GetConfiguration without keys."""
    station = await stations.booted()
    call = await csms_sends(station, triggers, "GetConfiguration", {},
                            {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                                   "value": "300"}]},
                            step="GetConfiguration.req", timeout_s=sut.action_timeout_s)
    check(not call.payload.get("key"), "GetConfiguration.req", "no key (all of them)",
          call.payload)


@pytest.mark.case("TC_019_2_CSMS")
async def test_TC_019_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve a specific configuration key: GetConfiguration with exactly that key."""
    station = await stations.booted()
    call = await csms_sends(station, triggers, "GetConfiguration",
                            {"key": ["HeartbeatInterval"]}, None,
                            step="GetConfiguration.req", timeout_s=sut.action_timeout_s)
    keys = call.payload.get("key") or []
    call.respond({"configurationKey": [{"key": k, "readonly": False, "value": "300"}
                                       for k in keys]})
    check(keys == ["HeartbeatInterval"], "GetConfiguration.req", "key [HeartbeatInterval]",
          call.payload)


@pytest.mark.case("TC_021_CSMS")
async def test_TC_021_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Change configuration: ChangeConfiguration with the key and its new value."""
    station = await stations.booted()
    call = await csms_sends(station, triggers, "ChangeConfiguration",
                            {"key": "MeterValueSampleInterval", "value": "60"},
                            {"status": "Accepted"}, step="ChangeConfiguration.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload == {"key": "MeterValueSampleInterval", "value": "60"},
          "ChangeConfiguration.req", "key MeterValueSampleInterval, value 60", call.payload)


@pytest.mark.case("TC_061_CSMS")
async def test_TC_061_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear the authorization cache: the CSMS sends ClearCache."""
    station = await stations.booted()
    call = await csms_sends(station, triggers, "ClearCache", {}, {"status": "Accepted"},
                            step="ClearCache.req", timeout_s=sut.action_timeout_s)
    check(call.payload == {}, "ClearCache.req", "an empty ClearCache.req", call.payload)


@pytest.mark.case("TC_064_CSMS")
async def test_TC_064_CSMS(stations: StationPool) -> None:
    """Data transfer to the central system: a DataTransfer of an unknown vendor is answered
    with a status (UnknownVendorId for a vendor the CSMS does not know)."""
    station = await stations.booted()
    answer = await station.call("DataTransfer", {"vendorId": "org.example.conformance",
                                                 "messageId": "ping", "data": "1"},
                                step="DataTransfer")
    check(answer.get("status") in ("Accepted", "Rejected", "UnknownMessageId",
                                   "UnknownVendorId"), "DataTransfer.conf",
          "a DataTransfer status", answer)
