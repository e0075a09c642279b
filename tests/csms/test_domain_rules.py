"""The domain rules the field has taught, one test each, over real websockets on SQLite and
PostgreSQL, checked through what an operator sees (the REST API) wherever it shows them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chargeloop.ocppj import CallErrorReceived, OcppVersion, ValidationMode
from chargeloop.ocppj.transport import connect_ocpp
from chargeloop.ocppj.transport.websocket import HandshakeRefused
from csms.config import UnknownStations
from csms.server import RunningCsms
from csms.storage import tables as t
from tests.csms.harness import custom_csms, watch_events
from tests.csms.support import boot, connected_station, stamp


def register(value: float, offset_s: float = 0.0, **extra: Any) -> dict[str, Any]:
    """A 2.0.1 meterValue with one energy register reading in Wh."""
    return {"timestamp": stamp(offset_s), "sampledValue": [{"value": value, **extra}]}


def register16(value: float, offset_s: float = 0.0, **extra: Any) -> dict[str, Any]:
    return {"timestamp": stamp(offset_s), "sampledValue": [{"value": str(value), **extra}]}


async def tx_detail(api: httpx.AsyncClient, station_id: str, tx: str) -> dict[str, Any]:
    response = await api.get(f"/api/transactions/{station_id}/{tx}")
    assert response.status_code == 200, response.text
    return response.json()


# -- idempotency ----------------------------------------------------------------------------------


async def test_ocpp16_retried_start_and_duplicate_stop_make_one_transaction_and_one_stop(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    with watch_events(csms, "transaction.") as events:
        async with connected_station(csms, "CS-DUP16", OcppVersion.V16) as station:
            await boot(station)
            start = {"connectorId": 1, "idTag": "TAG", "meterStart": 100, "timestamp": stamp()}
            first = await station.call("StartTransaction", start)
            again = await station.call("StartTransaction", start)
            assert again["transactionId"] == first["transactionId"]
            tx = first["transactionId"]
            stop = {"transactionId": tx, "meterStop": 600, "timestamp": stamp(10)}
            await station.call("StopTransaction", stop)
            # The same stop again, and a later one for the same transaction: no second stop.
            await station.call("StopTransaction", stop)
            await station.call("StopTransaction", {**stop, "meterStop": 900,
                                                   "timestamp": stamp(60)})
    listed = (await api.get("/api/transactions", params={"station_id": "CS-DUP16"})).json()
    assert listed["total"] == 1
    detail = await tx_detail(api, "CS-DUP16", str(tx))
    assert detail["state"] == "Completed"
    assert detail["meter_stop_wh"] == 600 and detail["energy_wh"] == 500
    events.pending("transaction.")
    kinds = [e.kind for e in events.seen]
    assert kinds.count("transaction.started") == 1
    assert kinds.count("transaction.ended") == 1


async def test_ocpp201_repeated_started_and_ended_make_one_transaction_and_one_stop(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    started = {"eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
               "seqNo": 0, "transactionInfo": {"transactionId": "TX-DUP"},
               "idToken": {"idToken": "TAG", "type": "ISO14443"},
               "evse": {"id": 1, "connectorId": 1}, "meterValue": [register(100)]}
    ended = {"eventType": "Ended", "timestamp": stamp(10), "triggerReason": "StopAuthorized",
             "seqNo": 1, "transactionInfo": {"transactionId": "TX-DUP",
                                             "stoppedReason": "Local"},
             "meterValue": [register(600, 10, context="Transaction.End")]}
    await csms.core.auth.upsert("TAG")
    with watch_events(csms, "transaction.") as events:
        async with connected_station(csms, "CS-DUP201", OcppVersion.V201) as station:
            await boot(station)
            assert (await station.call("TransactionEvent", started))["idTokenInfo"][
                "status"] == "Accepted"
            await station.call("TransactionEvent", started)
            await station.call("TransactionEvent", ended)
            await station.call("TransactionEvent", ended)
            await station.call("TransactionEvent", {
                **ended, "seqNo": 2, "timestamp": stamp(30),
                "meterValue": [register(900, 30, context="Transaction.End")]})
    listed = (await api.get("/api/transactions", params={"station_id": "CS-DUP201"})).json()
    assert listed["total"] == 1
    detail = await tx_detail(api, "CS-DUP201", "TX-DUP")
    assert detail["energy_wh"] == 500 and detail["stop_reason"] == "Local"
    kinds = [e.kind for e in events.pending("transaction.ended")]
    assert kinds == ["transaction.ended"]
    assert [e.kind for e in events.seen].count("transaction.started") == 1


# -- metering ------------------------------------------------------------------------------------


async def test_non_monotonic_register_readings_are_flagged_and_energy_never_negative(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with connected_station(csms, "CS-MONO", OcppVersion.V16) as station:
        await boot(station)
        tx = (await station.call("StartTransaction", {
            "connectorId": 1, "idTag": "TAG", "meterStart": 1000,
            "timestamp": stamp()}))["transactionId"]
        await station.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                           "meterValue": [register16(5000, 1)]})
        await station.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                           "meterValue": [register16(4000, 2)]})
        await station.call("StopTransaction", {"transactionId": tx, "meterStop": 3000,
                                               "timestamp": stamp(3)})
    detail = await tx_detail(api, "CS-MONO", str(tx))
    flags = [(s["value"], s["flag"]) for s in detail["meter_values"]]
    assert flags == [(5000, None), (4000, "non_monotonic")]
    assert detail["energy_wh"] == 4000  # 5000 - 1000: the lower readings count for nothing
    assert detail["meter_stop_wh"] == 5000

    async with connected_station(csms, "CS-MONO2", OcppVersion.V201) as station:
        await boot(station)
        await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
            "seqNo": 0, "transactionInfo": {"transactionId": "TX-NEG"},
            "evse": {"id": 1, "connectorId": 1}, "meterValue": [register(10_000)]})
        await station.call("TransactionEvent", {
            "eventType": "Ended", "timestamp": stamp(5), "triggerReason": "StopAuthorized",
            "seqNo": 1, "transactionInfo": {"transactionId": "TX-NEG"},
            "meterValue": [register(9_000, 5)]})
    negative = await tx_detail(api, "CS-MONO2", "TX-NEG")
    assert negative["energy_wh"] == 0
    assert [s["flag"] for s in negative["meter_values"]] == [None, "non_monotonic"]


async def test_zero_reading_after_offline_period_is_not_a_register_reset(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with connected_station(csms, "CS-ZERO", OcppVersion.V201) as station:
        await boot(station)
        await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(-900), "triggerReason": "Authorized",
            "seqNo": 0, "offline": True, "transactionInfo": {"transactionId": "TX-Z"},
            "evse": {"id": 1, "connectorId": 1}, "meterValue": [register(5000, -900)]})
        await station.call("TransactionEvent", {
            "eventType": "Updated", "timestamp": stamp(-600), "offline": True,
            "triggerReason": "MeterValuePeriodic", "seqNo": 1,
            "transactionInfo": {"transactionId": "TX-Z"}, "meterValue": [register(0, -600)]})
        await station.call("TransactionEvent", {
            "eventType": "Updated", "timestamp": stamp(), "triggerReason": "MeterValuePeriodic",
            "seqNo": 2, "transactionInfo": {"transactionId": "TX-Z"},
            "meterValue": [register(6000)]})
    detail = await tx_detail(api, "CS-ZERO", "TX-Z")
    assert [s["flag"] for s in detail["meter_values"]] == [None, "zero_after_offline", None]
    assert detail["energy_wh"] == 1000  # not 6000, as a "reset to 0" would make it

    async with connected_station(csms, "CS-ZERO16", OcppVersion.V16) as station:
        await boot(station)
        tx = (await station.call("StartTransaction", {
            "connectorId": 1, "idTag": "TAG", "meterStart": 2000,
            "timestamp": stamp(-900)}))["transactionId"]
        await station.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                           "meterValue": [register16(0, -600)]})
        await station.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                           "meterValue": [register16(2500)]})
    detail16 = await tx_detail(api, "CS-ZERO16", str(tx))
    assert [s["flag"] for s in detail16["meter_values"]] == ["zero_after_offline", None]
    assert detail16["energy_wh"] == 500


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_meter_values_without_a_transaction_are_kept(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    async with connected_station(csms, "CS-NOTX", version) as station:
        await boot(station)
        if version is OcppVersion.V16:
            await station.call("MeterValues", {"connectorId": 1, "meterValue": [
                {"timestamp": stamp(), "sampledValue": [
                    {"value": "12.5", "unit": "kWh"},
                    {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1"}]}]})
        else:
            await station.call("MeterValues", {"evseId": 1, "meterValue": [
                {"timestamp": stamp(), "sampledValue": [
                    {"value": 12.5, "unitOfMeasure": {"unit": "kWh"}},
                    {"value": 230.1, "measurand": "Voltage", "phase": "L1",
                     "unitOfMeasure": {"unit": "V"}}]}]})
    kept = (await api.get("/api/stations/CS-NOTX/meter-values",
                          params={"without_transaction": "true"})).json()
    assert kept["total"] == 2
    by_measurand = {s["measurand"]: s for s in kept["items"]}
    energy = by_measurand["Energy.Active.Import.Register"]
    assert energy["value"] == 12_500 and energy["unit"] == "Wh"  # SI units in storage
    assert energy["transaction_id"] is None and energy["evse_id"] == 1
    assert by_measurand["Voltage"]["phase"] == "L1"
    assert by_measurand["Voltage"]["value"] == pytest.approx(230.1)


async def test_ocpp201_offline_queued_events_are_accepted_ordered_and_marked_late(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with connected_station(csms, "CS-LATE201", OcppVersion.V201) as station:
        await boot(station)
        # Queued while offline, delivered on reconnection: old timestamps, offline true.
        await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(-1200), "offline": True,
            "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-OFF"},
            "evse": {"id": 1, "connectorId": 1}, "meterValue": [register(100, -1200)]})
        # One message carrying readings out of order.
        await station.call("TransactionEvent", {
            "eventType": "Updated", "timestamp": stamp(-300), "offline": True,
            "triggerReason": "MeterValuePeriodic", "seqNo": 1,
            "transactionInfo": {"transactionId": "TX-OFF"},
            "meterValue": [register(400, -300), register(200, -900)]})
        await station.call("TransactionEvent", {
            "eventType": "Updated", "timestamp": stamp(), "triggerReason": "MeterValuePeriodic",
            "seqNo": 2, "transactionInfo": {"transactionId": "TX-OFF"},
            "meterValue": [register(500)]})
    detail = await tx_detail(api, "CS-LATE201", "TX-OFF")
    assert detail["late"] is True
    series = [(s["value"], s["late"], s["flag"]) for s in detail["meter_values"]]
    assert series == [(100, True, None), (200, True, None), (400, True, None),
                      (500, False, None)]
    times = [s["timestamp"] for s in detail["meter_values"]]
    assert times == sorted(times)
    assert detail["energy_wh"] == 400
    started = datetime.fromisoformat(detail["started_at"])
    assert abs((datetime.now(UTC) - started).total_seconds() - 1200) < 30


async def test_ocpp16_old_timestamps_are_accepted_ordered_and_marked_late(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with connected_station(csms, "CS-LATE16", OcppVersion.V16) as station:
        await boot(station)
        tx = (await station.call("StartTransaction", {
            "connectorId": 1, "idTag": "TAG", "meterStart": 1000,
            "timestamp": stamp(-1800)}))["transactionId"]
        await station.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                           "meterValue": [register16(1600, -600)]})
        await station.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                  "status": "Charging",
                                                  "timestamp": stamp(-1790)})
        # The stop's transactionData repeats the start reading and a periodic one, both
        # older than what the CSMS has already seen: no false non-monotonic flags.
        await station.call("StopTransaction", {
            "transactionId": tx, "meterStop": 2000, "timestamp": stamp(-60),
            "transactionData": [
                register16(1000, -1800, context="Transaction.Begin"),
                register16(1300, -1200, context="Sample.Periodic"),
                register16(2000, -60, context="Transaction.End")]})
    detail = await tx_detail(api, "CS-LATE16", str(tx))
    assert detail["late"] is True and detail["energy_wh"] == 1000
    series = [(s["value"], s["late"], s["flag"]) for s in detail["meter_values"]]
    # Late: what was queued (the old MeterValues); the stop itself came live.
    assert series == [(1000, False, None), (1300, False, None), (1600, True, None),
                      (2000, False, None)]
    history = (await api.get("/api/stations/CS-LATE16/status-history")).json()
    assert history["items"][0]["status"] == "Charging" and history["items"][0]["late"] is True


# -- connections ---------------------------------------------------------------------------------


async def test_a_new_connection_replaces_the_old_one_without_an_offline_flap(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    with watch_events(csms, "station.connection") as events:
        async with connected_station(csms, "CS-TWICE", OcppVersion.V201) as old:
            await boot(old)
            async with connected_station(csms, "CS-TWICE", OcppVersion.V201) as new:
                await asyncio.wait_for(old.wait_closed(), 5)  # the old socket is closed
                assert "currentTime" in await new.call("Heartbeat")
                view = (await api.get("/api/stations/CS-TWICE")).json()
                assert view["connected"] is True and view["online"] is True
                assert csms.core.registry.get("CS-TWICE") is not None
                flags = [e.data["connected"] for e in events.pending("station.connection")]
                assert flags == [True, True]  # never offline in between
        await events.next("station.connection", connected=False)
    assert (await api.get("/api/stations/CS-TWICE")).json()["connected"] is False


async def test_last_seen_and_connected_since_are_tracked(csms: RunningCsms,
                                                         api: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    async with connected_station(csms, "CS-SEEN", OcppVersion.V16) as station:
        await boot(station)
        view = (await api.get("/api/stations/CS-SEEN")).json()
        since = datetime.fromisoformat(view["connected_since"])
        assert before <= since <= datetime.now(UTC)
        await station.call("Heartbeat")
        seen = datetime.fromisoformat((await api.get("/api/stations/CS-SEEN")).json()[
            "last_seen"])
        assert seen >= since
    after = (await api.get("/api/stations/CS-SEEN")).json()
    assert after["connected"] is False
    assert datetime.fromisoformat(after["last_seen"]) == seen  # kept when it left

    async def read(conn: Any) -> Any:
        return (await conn.execute(select(t.stations.c.last_seen, t.stations.c.connected_since)
                                   .where(t.stations.c.id == "CS-SEEN"))).one()

    stored = await csms.core.db.read(read)
    assert stored.last_seen == seen and stored.connected_since == since


async def test_offline_detected_after_missed_heartbeats(csms: RunningCsms,
                                                        api: httpx.AsyncClient) -> None:
    core = csms.core
    async with connected_station(csms, "CS-QUIET", OcppVersion.V201) as station:
        booted = await boot(station)
        interval = booted["interval"]
        limit = interval * core.config.offline_after_heartbeats
        now = core.clock()
        with watch_events(csms, "alert.") as alerts:
            await core.alerts.scan(now + timedelta(seconds=limit - 5))
            await core.alerts.settle()
            assert core.alerts.open_alerts("CS-QUIET") == []
            await core.alerts.scan(now + timedelta(seconds=limit + 5))
            raised = (await alerts.next("alert.raised", alert_kind="offline")).data["alert"]
            assert "silent" in raised["message"]
            listed = (await api.get("/api/alerts", params={"station_id": "CS-QUIET",
                                                           "state": "open"})).json()
            assert [a["kind"] for a in listed["items"]] == ["offline"]
            await station.call("Heartbeat")  # alive after all: resolved on its next message
            resolved = (await alerts.next("alert.resolved", alert_kind="offline")).data
            assert resolved["alert"]["id"] == raised["id"]


async def test_clock_skew_is_measured_and_flagged_beyond_the_threshold(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    threshold = csms.core.config.clock_skew_threshold_s
    async with connected_station(csms, "CS-SKEW", OcppVersion.V201) as station:
        await boot(station)

        async def report(offset_s: float) -> dict[str, Any]:
            await station.call("StatusNotification", {
                "timestamp": stamp(offset_s), "connectorStatus": "Available", "evseId": 1,
                "connectorId": 1})
            await csms.core.alerts.settle()
            return (await api.get("/api/stations/CS-SKEW")).json()

        within = await report(threshold / 2)
        assert within["clock_skew_s"] == pytest.approx(threshold / 2, abs=5)
        assert csms.core.alerts.open_alerts("CS-SKEW") == []
        beyond = await report(threshold * 3)
        assert beyond["clock_skew_s"] == pytest.approx(threshold * 3, abs=5)
        assert [a["kind"] for a in csms.core.alerts.open_alerts("CS-SKEW")] == ["clock_skew"]
        # A slow clock: a live (offline false) TransactionEvent stamped in the past.
        await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(-threshold * 5), "offline": False,
            "triggerReason": "CablePluggedIn", "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-SKEW"}, "evse": {"id": 1,
                                                                     "connectorId": 1}})
        behind = (await api.get("/api/stations/CS-SKEW")).json()
        assert behind["clock_skew_s"] == pytest.approx(-threshold * 5, abs=5)
        # An offline-queued (late) message is old, not skewed: the measurement stays.
        late = await report(-3600)
        assert late["clock_skew_s"] == pytest.approx(-threshold * 5, abs=5)
        await report(0)  # back in step: measured, and the alert resolved
        assert csms.core.alerts.open_alerts("CS-SKEW") == []


async def test_all_times_are_stored_in_utc(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    in_plus_two = moment.astimezone(timezone(timedelta(hours=2))).isoformat()
    async with connected_station(csms, "CS-UTC", OcppVersion.V201) as station:
        await boot(station)
        await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": in_plus_two, "triggerReason": "Authorized",
            "seqNo": 0, "transactionInfo": {"transactionId": "TX-UTC"},
            "evse": {"id": 1, "connectorId": 1}})
    detail = await tx_detail(api, "CS-UTC", "TX-UTC")
    assert detail["started_at"].endswith(("Z", "+00:00"))
    assert datetime.fromisoformat(detail["started_at"]) == moment

    async def read(conn: Any) -> Any:
        return (await conn.exec_driver_sql(
            "SELECT started_at FROM transactions WHERE ocpp_transaction_id = 'TX-UTC'")).scalar()

    raw = await csms.core.db.read(read)
    if isinstance(raw, str):  # SQLite: the UTC wall time, without a zone
        assert datetime.fromisoformat(raw) == moment.replace(tzinfo=None)
    else:  # PostgreSQL: timestamptz
        assert raw == moment and raw.utcoffset() is not None


# -- admission ------------------------------------------------------------------------------------


async def test_unknown_stations_are_accepted_by_the_accept_policy(
        database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path,
                           unknown_stations=UnknownStations.ACCEPT) as (csms, api):
        async with connected_station(csms, "CS-NEW", OcppVersion.V16) as station:
            assert (await boot(station))["status"] == "Accepted"
            assert "currentTime" in await station.call("Heartbeat")
        assert (await api.get("/api/stations/CS-NEW")).json()["registration"] == "Accepted"


async def test_unknown_stations_are_held_pending_until_an_operator_accepts(
        database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path,
                           unknown_stations=UnknownStations.PENDING) as (csms, api):
        async with connected_station(csms, "CS-WAIT", OcppVersion.V201) as station:
            assert (await boot(station))["status"] == "Pending"
            with pytest.raises(CallErrorReceived) as refused:
                await station.call("Heartbeat")
            assert refused.value.code == "SecurityError"
            assert (await api.get("/api/stations/CS-WAIT")).json()["registration"] == "Pending"
            patched = await api.patch("/api/stations/CS-WAIT", json={"registration": "Accepted"})
            assert patched.status_code == 200
            assert (await boot(station))["status"] == "Accepted"
            assert "currentTime" in await station.call("Heartbeat")
        assert (await api.get("/api/stations/CS-WAIT")).json()["registration"] == "Accepted"


async def test_unknown_stations_are_refused_with_404_by_the_reject_policy(
        database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path,
                           unknown_stations=UnknownStations.REJECT) as (csms, api):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(csms.ocpp_url, identity="CS-STRANGER",
                               versions=[OcppVersion.V16])
        assert refused.value.status == 404
        assert (await api.get("/api/stations/CS-STRANGER")).status_code == 404
        assert (await api.post("/api/stations", json={"id": "CS-KNOWN"})).status_code == 201
        async with connected_station(csms, "CS-KNOWN", OcppVersion.V16) as station:
            assert (await boot(station))["status"] == "Accepted"


async def test_a_wrong_basic_auth_password_is_refused_at_the_handshake(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    password = "correct-horse-battery"
    created = await api.post("/api/stations", json={"id": "CS-AUTH", "password": password,
                                                    "security_profile": 1})
    assert created.status_code == 201
    for wrong in ("wrong-horse-battery!", None):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(csms.ocpp_url, identity="CS-AUTH", versions=[OcppVersion.V201],
                               password=wrong)
        assert refused.value.status == 401
    assert csms.core.registry.get("CS-AUTH") is None
    async with connected_station(csms, "CS-AUTH", OcppVersion.V201,
                                 password=password) as station:
        assert (await boot(station))["status"] == "Accepted"


# -- validation ----------------------------------------------------------------------------------


BROKEN_STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "available",
                 "timestamp": stamp()}  # enum value in the wrong case


async def test_schema_invalid_payloads_are_rejected_in_strict_mode(
        database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path,
                           validation=ValidationMode.STRICT) as (csms, api):
        async with connected_station(csms, "CS-STRICT", OcppVersion.V16,
                                     validation=ValidationMode.OFF) as station:
            await boot(station)
            with pytest.raises(CallErrorReceived) as refused:
                await station.call("StatusNotification", BROKEN_STATUS)
            assert refused.value.code in ("FormationViolation", "PropertyConstraintViolation")
            with pytest.raises(CallErrorReceived):
                await station.call("StatusNotification", {"connectorId": 1, "status": "Faulted"})
        assert (await api.get("/api/stations/CS-STRICT")).json()["connectors"] == []


async def test_schema_invalid_payloads_are_repaired_in_lenient_mode(
        database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path,
                           validation=ValidationMode.LENIENT) as (csms, api):
        async with connected_station(csms, "CS-LENIENT", OcppVersion.V16,
                                     validation=ValidationMode.OFF) as station:
            await boot(station)
            assert await station.call("StatusNotification",
                                      {**BROKEN_STATUS, "vendorField": "x"}) == {}
        connectors = (await api.get("/api/stations/CS-LENIENT")).json()["connectors"]
        assert [c["status"] for c in connectors] == ["Available"]
        frames = (await api.get("/api/stations/CS-LENIENT/messages",
                                params={"action": "StatusNotification"})).json()
        assert frames[0]["outcome"].startswith("lenient")


async def test_invalid_rest_input_gets_422_naming_the_field_and_reason(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    short = await api.post("/api/stations", json={"id": "CS-X", "password": "short"})
    assert short.status_code == 422
    error = short.json()["detail"][0]
    assert error["loc"] == ["body", "password"]
    assert "at least 16 characters" in error["msg"]

    missing = await api.post("/api/stations", json={})
    assert missing.json()["detail"][0]["loc"] == ["body", "id"]
    assert missing.json()["detail"][0]["type"] == "missing"

    for params, field in (({"limit": 0}, "limit"), ({"state": "Running"}, "state"),
                          ({"started_from": "yesterday"}, "started_from")):
        bad = await api.get("/api/transactions", params=params)
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["query", field]
        assert bad.json()["detail"][0]["msg"]


# -- commands ------------------------------------------------------------------------------------


async def test_a_command_to_an_offline_station_gets_409(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await api.post("/api/stations", json={"id": "CS-OFF"})
    response = await api.post("/api/stations/CS-OFF/ocpp/Reset", json={"type": "Soft"})
    assert response.status_code == 409
    assert response.json()["detail"]["outcome"] == "offline"
    audit = (await api.get("/api/audit", params={"station_id": "CS-OFF"})).json()
    assert [e["outcome"] for e in audit["items"]] == ["offline"]


async def test_a_command_that_is_not_answered_gets_504(database_url: str,
                                                       tmp_path: Path) -> None:
    never = asyncio.Event()

    async def silent(_: dict[str, Any]) -> dict[str, Any]:
        await never.wait()  # the station never answers
        return {"status": "Accepted"}

    async with custom_csms(database_url, tmp_path, call_timeout_s=0.3) as (csms, api):
        async with connected_station(csms, "CS-MUTE", OcppVersion.V201,
                                     routes={"Reset": silent}) as station:
            await boot(station)
            response = await api.post("/api/stations/CS-MUTE/ocpp/Reset",
                                      json={"type": "Immediate"})
            assert response.status_code == 504
            assert response.json()["detail"]["outcome"] == "timeout"
        audit = (await api.get("/api/audit", params={"station_id": "CS-MUTE"})).json()
        assert [e["outcome"] for e in audit["items"]] == ["timeout"]
