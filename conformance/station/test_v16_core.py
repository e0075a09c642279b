"""OCPP 1.6 Core profile, charging station under test (test case document FINAL 2024-04).

The harness plays the Central System; ``h.act`` has the actions adapter do what the tester
does at the charger.
"""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check, transaction_id

pytestmark = pytest.mark.asyncio(loop_scope="session")

HEARTBEAT_SLACK = 0.25  # a heartbeat may come this share of the interval early or late
EARLY_SLACK_S = 0.2  # clock resolution between the station's timer and ours


@pytest.mark.case("TC_001_CS")
async def test_TC_001_CS(h: Harness) -> None:
    """Cold boot: the first BootNotification is Rejected with a retry interval; the next comes
    not before it and is Accepted; a status for connector 0 and every connector; heartbeats at
    the interval the Accepted answer gave."""
    csms, interval = h.csms, h.sut.intervals.boot_retry_s
    beat = h.sut.intervals.heartbeat_s
    csms.answer_next("BootNotification", {"status": "Rejected", "currentTime": _now(),
                                          "interval": interval})
    await h.fresh(step="power cycle")
    first = await csms.receive("BootNotification", step="BootNotification (Rejected)")
    second = await csms.receive("BootNotification", step="BootNotification after interval",
                                timeout_s=interval + h.wait_s)
    gap = second.at - first.at
    check(gap >= interval - EARLY_SLACK_S, "BootNotification after interval",
          f"the second BootNotification not before {interval} s", f"after {gap:.2f} s")
    check(second.answer is not None and second.answer["status"] == "Accepted",
          "BootNotification.conf", "Accepted", second.answer)
    await h.all_statuses("Available", step="StatusNotification")
    beats = [await csms.receive("Heartbeat", step=f"Heartbeat {n}", timeout_s=beat * 2 + 5)
             for n in (1, 2)]
    period = beats[1].at - beats[0].at
    check(abs(period - beat) <= beat * HEARTBEAT_SLACK + EARLY_SLACK_S, "Heartbeat",
          f"heartbeats {beat} s apart (the interval of BootNotification.conf)",
          f"{period:.2f} s apart")


@pytest.mark.case("TC_003_CS")
async def test_TC_003_CS(h: Harness) -> None:
    """Plug in first: Preparing, Authorize (Accepted), StartTransaction (Accepted), Charging
    (Preparing before Charging)."""
    await h.booted()
    token = h.sut.tokens.valid
    await h.act("plug_in", step="plug in", evse=1)
    preparing = await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("present_token", step="present token", evse=1, token=token)
    authorize = await h.csms.receive("Authorize", step="Authorize",
                                     where=lambda p: p.get("idTag") == token)
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token and start.payload.get("connectorId") == 1,
          "StartTransaction.req", f"idTag {token} on connector 1", start.payload)
    charging = await h.status(1, "Charging", step="StatusNotification Charging")
    check(preparing.index < authorize.index < start.index and preparing.index <
          charging.index, "StatusNotification", "Preparing, Authorize, StartTransaction, "
          "Charging in this order", [preparing.payload, authorize.payload, start.payload,
                                     charging.payload])


@pytest.mark.case("TC_004_1_CS")
async def test_TC_004_1_CS(h: Harness) -> None:
    """Identification first: Authorize (Accepted), Preparing, plug in, StartTransaction
    (Accepted), Charging."""
    await h.booted()
    token = h.sut.tokens.valid
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.csms.receive("Authorize", step="Authorize", where=lambda p: p.get("idTag") == token)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("plug_in", step="plug in", evse=1)
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token, "StartTransaction.req", f"idTag {token}",
          start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")


@pytest.mark.case("TC_004_2_CS")
async def test_TC_004_2_CS(h: Harness) -> None:
    """Identification first, connection time-out: ConnectionTimeOut set; Authorize (Accepted),
    Preparing; no cable: Available again, not before ConnectionTimeOut, no StartTransaction."""
    await h.booted()
    timeout = h.sut.intervals.connection_timeout_s
    await h.configure("ConnectionTimeOut", str(timeout), step="ChangeConfiguration")
    token = h.sut.tokens.valid
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.csms.receive("Authorize", step="Authorize", where=lambda p: p.get("idTag") == token)
    preparing = await h.status(1, "Preparing", step="StatusNotification Preparing")
    available = await h.status(1, "Available", step="StatusNotification Available",
                               timeout_s=timeout + h.wait_s)
    waited = available.at - preparing.at
    check(waited >= timeout - EARLY_SLACK_S, "StatusNotification Available",
          f"Available not before ConnectionTimeOut ({timeout} s)", f"after {waited:.2f} s")
    await h.csms.nothing("StartTransaction", step="no transaction", within_s=0.0)


async def _remote_start(h: Harness, connector: int = 1) -> None:
    answer = await h.csms.call("RemoteStartTransaction", {
        "connectorId": connector, "idTag": h.sut.tokens.valid}, step="RemoteStartTransaction")
    check(answer.get("status") == "Accepted", "RemoteStartTransaction.conf", "Accepted", answer)


@pytest.mark.case("TC_010_CS")
async def test_TC_010_CS(h: Harness) -> None:
    """Remote start, cable plugged in first: Preparing; RemoteStartTransaction Accepted;
    StartTransaction with the tag; Charging."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await _remote_start(h)
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == h.sut.tokens.valid and
          start.payload.get("connectorId") == 1, "StartTransaction.req",
          f"idTag {h.sut.tokens.valid} on connector 1", start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")


@pytest.mark.case("TC_011_1_CS")
async def test_TC_011_1_CS(h: Harness) -> None:
    """Remote start first: RemoteStartTransaction Accepted; Preparing; plug in;
    StartTransaction with the tag; Charging."""
    await h.booted()
    await _remote_start(h)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("plug_in", step="plug in", evse=1)
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == h.sut.tokens.valid, "StartTransaction.req",
          f"idTag {h.sut.tokens.valid}", start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")


@pytest.mark.case("TC_012_CS")
async def test_TC_012_CS(h: Harness) -> None:
    """Remote stop: RemoteStopTransaction Accepted; StopTransaction of that transaction with
    reason Remote; Finishing."""
    await h.booted()
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)
    answer = await h.csms.call("RemoteStopTransaction", {"transactionId": tx},
                               step="RemoteStopTransaction")
    check(answer.get("status") == "Accepted", "RemoteStopTransaction.conf", "Accepted", answer)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("transactionId") == tx and stop.payload.get("reason") == "Remote",
          "StopTransaction.req", f"transactionId {tx}, reason Remote", stop.payload)
    await h.status(1, "Finishing", step="StatusNotification Finishing")


async def _reset(h: Harness, kind: str) -> None:
    await h.booted()
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": kind}, step="Reset")
    check(answer.get("status") == "Accepted", "Reset.conf", "Accepted", answer)
    await h.csms.new_connection(before, h.wait_s * 2, step="reconnect after reset")
    await h.csms.receive("BootNotification", step="BootNotification after reset")
    await h.all_statuses("Available", step="after reset")


@pytest.mark.case("TC_013_CS")
async def test_TC_013_CS(h: Harness) -> None:
    """Hard reset without transaction: Reset Accepted; the station reboots (BootNotification)
    and reports every connector Available."""
    await _reset(h, "Hard")


@pytest.mark.case("TC_014_CS")
async def test_TC_014_CS(h: Harness) -> None:
    """Soft reset without transaction: as TC_013 with type Soft."""
    await _reset(h, "Soft")


REQUIRED_CORE_KEYS = (
    "AuthorizeRemoteTxRequests", "ClockAlignedDataInterval", "ConnectionTimeOut",
    "GetConfigurationMaxKeys", "HeartbeatInterval", "LocalAuthorizeOffline", "LocalPreAuthorize",
    "MeterValuesAlignedData", "MeterValuesSampledData", "MeterValueSampleInterval",
    "NumberOfConnectors", "ResetRetries", "ConnectorPhaseRotation",
    "StopTransactionOnEVSideDisconnect", "StopTransactionOnInvalidId", "StopTxnAlignedData",
    "StopTxnSampledData", "SupportedFeatureProfiles", "TransactionMessageAttempts",
    "TransactionMessageRetryInterval", "UnlockConnectorOnEVSideDisconnect",
    "WebSocketPingInterval")


@pytest.mark.case("TC_019_CS")
async def test_TC_019_CS(h: Harness) -> None:
    """Retrieve configuration: GetConfiguration without keys lists every (required Core)
    key; with a key, that key."""
    await h.booted()
    answer = await h.csms.call("GetConfiguration", {}, step="GetConfiguration (all)")
    keys = {k["key"] for k in answer.get("configurationKey", [])}
    missing = [k for k in REQUIRED_CORE_KEYS if k not in keys]
    check(not missing, "GetConfiguration.conf", "every required Core configuration key",
          f"missing {missing}")
    one = await h.csms.call("GetConfiguration", {"key": ["HeartbeatInterval"]},
                            step="GetConfiguration (HeartbeatInterval)")
    check([k["key"] for k in one.get("configurationKey", [])] == ["HeartbeatInterval"] and
          not one.get("unknownKey"), "GetConfiguration.conf", "HeartbeatInterval only", one)


@pytest.mark.case("TC_021_CS")
async def test_TC_021_CS(h: Harness) -> None:
    """Change configuration: ChangeConfiguration MeterValueSampleInterval Accepted, and
    GetConfiguration shows the new value."""
    await h.booted()
    value = str(h.sut.intervals.meter_sample_s + 7)
    await h.configure("MeterValueSampleInterval", value, step="ChangeConfiguration")
    answer = await h.csms.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]},
                               step="GetConfiguration")
    values = [k.get("value") for k in answer.get("configurationKey", [])]
    check(values == [value], "GetConfiguration.conf", f"MeterValueSampleInterval {value}",
          answer)


@pytest.mark.case("TC_023_CS")
async def test_TC_023_CS(h: Harness) -> None:
    """Authorize invalid: plug in, present an unknown tag; Authorize answered Invalid; no
    StartTransaction."""
    await h.booted()
    token = h.sut.tokens.invalid
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.csms.receive("Authorize", step="Authorize", where=lambda p: p.get("idTag") == token)
    await h.csms.nothing("StartTransaction", step="no StartTransaction", within_s=1.0)


@pytest.mark.case("TC_027_CS")
async def test_TC_027_CS(h: Harness) -> None:
    """Remote start with connectorId 0: Rejected, and no transaction."""
    await h.booted()
    answer = await h.csms.call("RemoteStartTransaction", {
        "connectorId": 0, "idTag": h.sut.tokens.valid}, step="RemoteStartTransaction")
    check(answer.get("status") == "Rejected", "RemoteStartTransaction.conf", "Rejected", answer)
    await h.csms.nothing("StartTransaction", step="no StartTransaction", within_s=0.5)


@pytest.mark.case("TC_028_CS")
async def test_TC_028_CS(h: Harness) -> None:
    """Remote stop of a transaction the station does not have: Rejected."""
    await h.booted()
    answer = await h.csms.call("RemoteStopTransaction", {"transactionId": 987654},
                               step="RemoteStopTransaction")
    check(answer.get("status") == "Rejected", "RemoteStopTransaction.conf", "Rejected", answer)


@pytest.mark.case("TC_031_CS")
async def test_TC_031_CS(h: Harness) -> None:
    """Unlock an unknown connector: NotSupported."""
    await h.booted()
    answer = await h.csms.call("UnlockConnector", {"connectorId": h.evses + 1},
                               step="UnlockConnector")
    check(answer.get("status") == "NotSupported", "UnlockConnector.conf", "NotSupported", answer)


@pytest.mark.case("TC_040_1_CS")
async def test_TC_040_1_CS(h: Harness) -> None:
    """ChangeConfiguration of a key the station does not know: NotSupported."""
    await h.booted()
    answer = await h.csms.call("ChangeConfiguration", {"key": "ConformanceUnknownKey",
                                                       "value": "1"}, step="ChangeConfiguration")
    check(answer.get("status") == "NotSupported", "ChangeConfiguration.conf", "NotSupported",
          answer)


@pytest.mark.case("TC_040_2_CS")
async def test_TC_040_2_CS(h: Harness) -> None:
    """ChangeConfiguration with an invalid value: Rejected, the old value stays."""
    await h.booted()
    before = await h.csms.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]},
                               step="GetConfiguration before")
    answer = await h.csms.call("ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                       "value": "-1"}, step="ChangeConfiguration")
    check(answer.get("status") == "Rejected", "ChangeConfiguration.conf", "Rejected", answer)
    after = await h.csms.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]},
                              step="GetConfiguration after")
    check(after.get("configurationKey") == before.get("configurationKey"), "GetConfiguration",
          "the value before the invalid change", after)


@pytest.mark.case("TC_061_CS")
async def test_TC_061_CS(h: Harness) -> None:
    """Clear the authorization cache: ClearCache Accepted."""
    await h.booted()
    answer = await h.csms.call("ClearCache", {}, step="ClearCache")
    check(answer.get("status") == "Accepted", "ClearCache.conf", "Accepted", answer)


@pytest.mark.case("TC_068_CS")
async def test_TC_068_CS(h: Harness) -> None:
    """Stop with the tag that started: StopTransaction carries that idTag, reason Local (or
    none), for the transaction started."""
    await h.booted()
    token = h.sut.tokens.valid
    start = await h.charging16(token)
    await h.act("present_token", step="present token again", evse=1, token=token)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("idTag") == token and
          stop.payload.get("transactionId") == transaction_id(start) and
          stop.payload.get("reason", "Local") == "Local", "StopTransaction.req",
          f"idTag {token}, the started transaction, reason Local or none", stop.payload)


def _now() -> str:
    from conformance.station.csms import now_iso

    return now_iso()

