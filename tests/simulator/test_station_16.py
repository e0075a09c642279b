"""The simulated OCPP 1.6J station against the real reference CSMS (in-process, memory
transport), on simulated time."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.config import UnknownStations
from simulator.station import ConnectorSpec, EvseSpec, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import WAIT_S, events, sent, statuses, world

V16 = OcppVersion.V16


def spec16(station_id: str, **overrides: Any) -> StationSpec:
    options: dict[str, Any] = {"start_jitter_s": 0.0, "heartbeat_interval_s": 300,
                               "retry_backoff_min_s": 1, "retry_backoff_random_s": 1}
    options.update(overrides)
    return StationSpec(station_id, V16, **options)


async def test_boot_statuses_and_heartbeats(tmp_path: Path) -> None:
    async with world(tmp_path, heartbeat_interval_s=120) as w:
        station = w.station(spec16("CS16-BOOT", evses=(EvseSpec(1), EvseSpec(2))))
        station.start()
        await w.run(1000)
        assert station.online
        assert [e["kind"] for e in events(w.recorder, "CS16-BOOT")][:2] == [
            "connected", "boot_accepted"]
        boots = sent(w.recorder, "CS16-BOOT", "StatusNotification")
        assert len(boots) == 3  # connector 0 and both connectors
        heartbeats = [m["t_s"] for m in sent(w.recorder, "CS16-BOOT", "Heartbeat")]
        # the interval comes from the boot answer (120 s), the first one is jittered
        assert len(heartbeats) >= 7
        assert all(b - a == pytest.approx(120) for a, b in pairwise(heartbeats))
        assert w.core.stations.get("CS16-BOOT").accepted


async def test_full_session_energy_matches_the_csms(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-16")
        station = w.station(spec16("CS16-S"))
        station.start()
        await w.run(60)
        car = Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.5, target_soc=0.9)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            yield from station.plug_in(1, car)
            yield w.clock.env.timeout(30)
            outcome["accepted"] = yield from station.present_token(1, "TAG-16")
            yield w.clock.env.timeout(4 * 3600)
            outcome["stopped"] = yield from station.stop_by_driver(1, "TAG-16")
            yield w.clock.env.timeout(600)
            yield from station.unplug(1)

        w.drive(driver())
        await w.run(5 * 3600)
        assert outcome == {"accepted": True, "stopped": True}
        assert statuses(w.recorder, "CS16-S", 1) == [
            "Available", "Preparing", "Charging", "SuspendedEV", "Finishing", "Available"]
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "Local" and session["id_token"] == "TAG-16"
        assert session["energy_wh"] == pytest.approx(car.model.capacity_wh * 0.4 / 0.92, rel=0.01)
        tx = await w.core.transactions.get("CS16-S", session["transaction_id"])
        assert tx["state"] == "Completed"
        assert tx["energy_wh"] == pytest.approx(session["energy_wh"], abs=1.0)
        periodic = [r for r in w.recorder.rows("meter_values") if r["context"] == "Sample.Periodic"]
        assert len(periodic) >= 4 * 60 - 2
        assert all(r["power_w"] <= 11_000 + 1e-6 for r in periodic)
        assert car.full


async def test_pending_boot_is_retried_at_the_interval_given(tmp_path: Path) -> None:
    async with world(tmp_path, unknown_stations=UnknownStations.PENDING) as w:
        station = w.station(spec16("CS16-PEND"))
        station.start()
        await w.run(150)
        assert not station.online
        boots = [m["t_s"] for m in sent(w.recorder, "CS16-PEND", "BootNotification")]
        assert boots == [0, 60, 120]  # the CSMS answers Pending with interval 60
        assert not sent(w.recorder, "CS16-PEND", "StatusNotification")
        await w.core.stations.register("CS16-PEND", registration="Accepted")
        await w.run(100)
        assert station.online
        assert [e["kind"] for e in events(w.recorder, "CS16-PEND")
                if e["kind"].startswith("boot")] == [
            "boot_pending", "boot_pending", "boot_pending", "boot_accepted"]
        assert len(sent(w.recorder, "CS16-PEND", "StatusNotification")) == 2


def _outcomes(recorder: Any, station_id: str, action: str) -> list[str]:
    return [m["outcome"] for m in sent(recorder, station_id, action)]


async def _csms_meter_rows(w: Any, station_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from csms.storage import tables as t

    async def read(conn: Any) -> list[dict[str, Any]]:
        rows = await conn.execute(select(t.meter_values).where(
            t.meter_values.c.station_id == station_id))
        return [dict(r) for r in rows.mappings()]

    return await w.core.db.read(read)


async def test_offline_period_queues_and_replays_with_original_timestamps(
        tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-OFF")
        station = w.station(spec16("CS16-OFF"))
        station.start()
        await w.run(30)
        car = Vehicle(VEHICLE_CATALOG["Tesla Model 3 LR"], soc=0.1, target_soc=1.0)

        def driver() -> Any:
            yield from station.plug_in(1, car)
            assert (yield from station.present_token(1, "TAG-OFF"))
            yield w.clock.env.timeout(600)
            station.go_offline(3600)
            yield w.clock.env.timeout(1800)
            assert (yield from station.stop_by_driver(1, "TAG-OFF"))
            yield w.clock.env.timeout(60)
            yield from station.unplug(1)

        w.drive(driver())
        await w.run(630)
        assert not station.online
        await w.run(1800 + 60 + 10)
        queued = station.queued_messages
        assert queued >= 30  # sampled and clock-aligned meter values, and the stop
        await w.run(3600)
        assert station.online and station.queued_messages == 0
        # held while offline, replayed in order; statuses and heartbeats were dropped
        meter = _outcomes(w.recorder, "CS16-OFF", "MeterValues")
        assert meter.count("queued") == meter.count("replayed") >= 29
        assert _outcomes(w.recorder, "CS16-OFF", "StopTransaction") == ["queued", "replayed"]
        status_outcomes = _outcomes(w.recorder, "CS16-OFF", "StatusNotification")
        assert status_outcomes.count("dropped") == 2  # Finishing, Available
        assert status_outcomes[-1] == "ok"  # the current status, sent after the reconnect
        assert [e["kind"] for e in events(w.recorder, "CS16-OFF")
                if e["kind"] in ("network_down", "disconnected", "connected")] == [
            "connected", "network_down", "disconnected", "connected"]

        [session] = w.recorder.rows("sessions")
        tx = await w.core.transactions.get("CS16-OFF", session["transaction_id"])
        assert tx["state"] == "Completed" and tx["stop_reason"] == "Local"
        assert tx["energy_wh"] == pytest.approx(session["energy_wh"], abs=1.0)
        assert tx["stopped_at"].replace(tzinfo=None).isoformat() == \
            session["stopped_utc"].removesuffix("Z")
        rows = await _csms_meter_rows(w, "CS16-OFF")
        late = [r for r in rows if r["late"]]
        offline_end = w.clock.utc(630 + 3600).replace(tzinfo=None)
        assert len(late) >= 29
        assert all(r["timestamp"].replace(tzinfo=None) <= offline_end for r in late)
        connector = w.core.connectors
        assert connector is not None
        assert statuses(w.recorder, "CS16-OFF", 1)[-1] == "Available"


async def test_transaction_started_and_stopped_offline(tmp_path: Path) -> None:
    """TC_039: the token is known from the cache; start, meter values and stop are queued and
    the CSMS's transaction id reaches the queued messages when the start is answered."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-CACHE")
        station = w.station(spec16("CS16-TC39", local_authorize_offline=True))
        station.start()
        await w.run(30)
        car = Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.3, target_soc=0.9)

        def driver() -> Any:
            verdict = yield from station.authorize("TAG-CACHE")  # online: learnt by the cache
            assert verdict.accepted and verdict.source == "Csms"
            station.go_offline(7200)
            yield w.clock.env.timeout(60)
            yield from station.plug_in(1, car)
            assert (yield from station.present_token(1, "TAG-CACHE"))
            yield w.clock.env.timeout(1800)
            assert (yield from station.stop_by_driver(1, "TAG-CACHE"))
            yield from station.unplug(1)

        w.drive(driver())
        await w.run(3 * 3600)
        assert station.online and station.queued_messages == 0
        [session] = w.recorder.rows("sessions")
        assert session["started_offline"] is True
        assert session["transaction_id"].isdigit()  # the CSMS's id, known after the replay
        tx = await w.core.transactions.get("CS16-TC39", session["transaction_id"])
        assert tx["late"] and tx["state"] == "Completed"
        assert tx["energy_wh"] == pytest.approx(session["energy_wh"], abs=1.0)
        assert {r["transaction_id"] for r in w.recorder.rows("meter_values")
                if r["context"] != "Sample.Clock" or r["transaction_id"]} == {
            session["transaction_id"]}
        assert _outcomes(w.recorder, "CS16-TC39", "StartTransaction") == ["queued", "replayed"]


SOCKETS = (EvseSpec(1, 11_000, connectors=(ConnectorSpec(1, "sType2", fixed_cable=False),)),
           EvseSpec(2, 22_000))


async def test_remote_start_stop_and_connection_timeout(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for token in ("APP-1", "APP-2", "APP-3", "APP-4"):
            await w.core.auth.upsert(token)
        station = w.station(spec16("CS16-RS", evses=SOCKETS, connection_timeout_s=90))
        station.start()
        await w.run(10)
        car = Vehicle(VEHICLE_CATALOG["Hyundai Ioniq 5 LR"], soc=0.2)
        w.drive(station.plug_in(1, car))
        await w.run(10)
        assert station.status(1) == "Preparing"
        answer = await w.command("CS16-RS", "RemoteStartTransaction",
                                 {"connectorId": 1, "idTag": "APP-1"})
        assert answer == {"status": "Accepted"}
        await w.run(60)
        tx = station.transaction(1)
        assert tx is not None and tx.id_token == "APP-1" and station.status(1) == "Charging"
        assert not sent(w.recorder, "CS16-RS", "Authorize")  # AuthorizeRemoteTxRequests false
        # busy connector, unknown connector
        for payload in ({"connectorId": 1, "idTag": "APP-2"}, {"connectorId": 7, "idTag": "X"}):
            assert (await w.command("CS16-RS", "RemoteStartTransaction", payload)) == {
                "status": "Rejected"}
        await w.run(3600)
        assert (await w.command("CS16-RS", "RemoteStopTransaction",
                                {"transactionId": 999})) == {"status": "Rejected"}
        assert (await w.command("CS16-RS", "RemoteStopTransaction",
                                {"transactionId": int(tx.ocpp_id)})) == {"status": "Accepted"}
        await w.run(30)
        assert station.transaction(1) is None and station.status(1) == "Finishing"
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "Remote" and session["energy_wh"] > 10_000

        # a remote start before the cable: the station waits for it, up to the timeout
        assert (await w.command("CS16-RS", "RemoteStartTransaction",
                                {"connectorId": 2, "idTag": "APP-3"}))["status"] == "Accepted"
        await w.run(30)
        assert station.status(2) == "Preparing" and station.transaction(2) is None
        w.drive(station.plug_in(2, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.5)))
        await w.run(30)
        assert station.transaction(2) is not None and station.status(2) == "Charging"
        w.drive(station.unplug(2))
        await w.run(10)
        assert (await w.command("CS16-RS", "RemoteStartTransaction",
                                {"connectorId": 2, "idTag": "APP-4"}))["status"] == "Accepted"
        await w.run(120)
        assert station.status(2) == "Available" and station.transaction(2) is None
        assert events(w.recorder, "CS16-RS", "connection_timeout")
        assert statuses(w.recorder, "CS16-RS", 2) == [
            "Available", "Preparing", "Charging", "Available", "Preparing", "Available"]


async def test_reset_unlock_availability_configuration_trigger(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-C")
        station = w.station(spec16("CS16-C", evses=SOCKETS))
        station.start()
        await w.run(10)
        cmd = w.command

        # configuration: read, change, and the change takes effect
        config = await cmd("CS16-C", "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
        assert config["configurationKey"][0]["value"] == "300"  # from the boot answer
        assert config["unknownKey"] == ["Nope"]
        assert (await cmd("CS16-C", "ChangeConfiguration",
                          {"key": "HeartbeatInterval", "value": "60"}))["status"] == "Accepted"
        assert (await cmd("CS16-C", "ChangeConfiguration",
                          {"key": "MeterValueSampleInterval", "value": "30"}))["status"] == \
            "Accepted"
        assert (await cmd("CS16-C", "ChangeConfiguration",
                          {"key": "NoSuchKey", "value": "1"}))["status"] == "NotSupported"
        began = w.clock.now
        await w.run(600)
        beats = [m["t_s"] for m in sent(w.recorder, "CS16-C", "Heartbeat") if m["t_s"] > began]
        assert len(beats) >= 9 and all(b - a == pytest.approx(60) for a, b in
                                       pairwise(beats))

        # a session; availability of its connector is Scheduled, the other's Accepted
        car = Vehicle(VEHICLE_CATALOG["Kia Niro EV"], soc=0.3)

        def driver() -> Any:
            yield from station.plug_in(1, car)
            assert (yield from station.present_token(1, "TAG-C"))

        w.drive(driver())
        await w.run(95)
        samples = [r["t_s"] for r in w.recorder.rows("meter_values")
                   if r["context"] == "Sample.Periodic"]
        assert samples and all(b - a == pytest.approx(30) for a, b in pairwise(samples))
        assert (await cmd("CS16-C", "ChangeAvailability",
                          {"connectorId": 1, "type": "Inoperative"}))["status"] == "Scheduled"
        assert (await cmd("CS16-C", "ChangeAvailability",
                          {"connectorId": 2, "type": "Inoperative"}))["status"] == "Accepted"
        await w.run(5)
        assert station.status(2) == "Unavailable" and station.status(1) == "Charging"

        # triggers
        assert (await cmd("CS16-C", "TriggerMessage", {"requestedMessage": "StatusNotification",
                                                       "connectorId": 9}))["status"] == "Rejected"
        before = len(sent(w.recorder, "CS16-C", "StatusNotification"))
        assert (await cmd("CS16-C", "TriggerMessage", {"requestedMessage": "StatusNotification",
                                                       "connectorId": 1}))["status"] == "Accepted"
        assert (await cmd("CS16-C", "TriggerMessage",
                          {"requestedMessage": "MeterValues"}))["status"] == "Accepted"
        await w.run(5)
        assert len(sent(w.recorder, "CS16-C", "StatusNotification")) == before + 1
        assert any(r["context"] == "Trigger" for r in w.recorder.rows("meter_values"))

        # unlock: the transaction ends first; a fixed cable cannot be unlocked
        assert (await cmd("CS16-C", "UnlockConnector", {"connectorId": 1}))["status"] == \
            "Unlocked"
        assert (await cmd("CS16-C", "UnlockConnector", {"connectorId": 2}))["status"] == \
            "NotSupported"
        assert (await cmd("CS16-C", "UnlockConnector", {"connectorId": 5}))["status"] == \
            "NotSupported"
        await w.run(5)
        assert w.recorder.rows("sessions")[0]["stop_reason"] == "UnlockCommand"
        assert station.status(1) == "Unavailable"  # the scheduled change, now in force
        assert (await cmd("CS16-C", "ChangeAvailability",
                          {"connectorId": 0, "type": "Operative"}))["status"] == "Accepted"
        await w.run(5)
        assert station.status(1) == "Finishing" and station.status(2) == "Available"

        # a soft reset: reboot, boot again, report everything again
        assert (await cmd("CS16-C", "Reset", {"type": "Soft"}))["status"] == "Accepted"
        await w.run(60)
        assert len(sent(w.recorder, "CS16-C", "BootNotification")) == 2
        assert station.online
        assert [e["kind"] for e in events(w.recorder, "CS16-C")
                if e["kind"] in ("reboot", "boot_accepted")] == [
            "boot_accepted", "reboot", "boot_accepted"]
        assert (await cmd("CS16-C", "DataTransfer", {"vendorId": "acme"}))["status"] == \
            "UnknownVendorId"


async def test_reservation_firmware_and_charging_profile(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for token in ("TAG-RES", "TAG-OTHER"):
            await w.core.auth.upsert(token)
        station = w.station(spec16("CS16-M", evses=SOCKETS))
        station.start()
        await w.run(10)
        cmd = w.command

        # reservation: Reserved, another token refused, the holder's start carries the id
        expiry = w.clock.iso(w.clock.now + 3600)
        assert (await cmd("CS16-M", "ReserveNow", {
            "connectorId": 1, "expiryDate": expiry, "idTag": "TAG-RES",
            "reservationId": 42}))["status"] == "Accepted"
        await w.run(5)
        assert station.status(1) == "Reserved"
        car = Vehicle(VEHICLE_CATALOG["Tesla Model 3 LR"], soc=0.1)
        results: list[bool] = []

        def driver() -> Any:
            yield from station.plug_in(1, car)
            results.append((yield from station.present_token(1, "TAG-OTHER")))
            results.append((yield from station.present_token(1, "TAG-RES")))

        w.drive(driver())
        await w.run(60)
        assert results == [False, True]
        tx = station.transaction(1)
        assert tx is not None and tx.reservation_id == 42
        assert len(station.reservations) == 0

        # a TxProfile of 6 A on three phases: at most 6 x 230 x 3 = 4140 W from now on
        answer = await cmd("CS16-M", "SetChargingProfile", {"connectorId": 1,
                           "csChargingProfiles": {
                               "chargingProfileId": 7, "transactionId": int(tx.ocpp_id),
                               "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                               "chargingProfileKind": "Relative", "chargingSchedule": {
                                   "chargingRateUnit": "A", "chargingSchedulePeriod": [
                                       {"startPeriod": 0, "limit": 6.0}]}}})
        assert answer["status"] == "Accepted"
        limited_from = w.clock.now
        await w.run(1800)
        after = [r for r in w.recorder.rows("meter_values")
                 if r["t_s"] > limited_from and r["context"] == "Sample.Periodic"]
        assert after and all(r["power_w"] <= 4140 + 1e-6 for r in after)
        assert after[-1]["power_w"] == pytest.approx(4140)
        composite = await cmd("CS16-M", "GetCompositeSchedule",
                              {"connectorId": 1, "duration": 600, "chargingRateUnit": "W"})
        assert composite["status"] == "Accepted"
        assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 4140
        assert (await cmd("CS16-M", "ClearChargingProfile", {"id": 7}))["status"] == "Accepted"
        await w.run(120)
        assert station.power_w(1) == pytest.approx(11_000)

        # firmware: Downloading, Downloaded, Installing (once idle), reboot, Installed
        assert await cmd("CS16-M", "UpdateFirmware", {
            "location": "https://firmware.example.com/cs-2.0.bin",
            "retrieveDate": w.clock.iso(w.clock.now + 60)}) == {}
        await w.run(600)
        firmware = [e["detail"] for e in events(w.recorder, "CS16-M", "firmware_status")]
        assert firmware == ["Downloading", "Downloaded"]  # installs only once idle
        w.drive(station.unplug(1))
        await w.run(300)
        firmware = [e["detail"] for e in events(w.recorder, "CS16-M", "firmware_status")]
        assert firmware == ["Downloading", "Downloaded", "Installing", "Installed"]
        assert _outcomes(w.recorder, "CS16-M", "FirmwareStatusNotification") == ["ok"] * 4
        assert len(sent(w.recorder, "CS16-M", "BootNotification")) == 2
        assert station.firmware_version == "1.0.0+cs-2.0.bin"
        assert w.core.stations.get("CS16-M").firmware_version == "1.0.0+cs-2.0.bin"

        # a reservation nobody uses expires
        assert (await cmd("CS16-M", "ReserveNow", {
            "connectorId": 2, "expiryDate": w.clock.iso(w.clock.now + 300),
            "idTag": "TAG-RES", "reservationId": 43}))["status"] == "Accepted"
        await w.run(600)
        assert statuses(w.recorder, "CS16-M", 2)[-2:] == ["Reserved", "Available"]
        assert events(w.recorder, "CS16-M", "reservation_expired")


async def test_diagnostics_and_log_upload_over_loopback_websockets(tmp_path: Path) -> None:
    """The whole path on real sockets: the station connects over websockets, the operator asks
    through the REST API, and the station uploads to the CSMS's upload endpoint over HTTP."""
    async with world(tmp_path, transport="websocket") as w:
        station = w.station(spec16("CS16-WS"))
        station.start()
        await w.run(10)
        assert station.online
        async with httpx.AsyncClient(base_url=w.backend.api_url, timeout=WAIT_S, headers={
                "Authorization": f"Bearer {w.backend.admin_token}"}) as api:
            answer = await api.post("/api/stations/CS16-WS/logs", json={})
            assert answer.status_code == 200, answer.text
            diagnostics = answer.json()
            assert diagnostics["action"] == "GetDiagnostics"
            assert diagnostics["filename"].startswith("CS16-WS-Diagnostics-")
            await w.run(30)  # uploaded (a second request while one runs would cancel it)
            answer = await api.post("/api/stations/CS16-WS/logs", json={"type": "SecurityLog"})
            security = answer.json()
            assert security["action"] == "GetLog" and security["status"] == "Accepted"
            await w.run(30)
            overview = (await api.get("/api/stations/CS16-WS/logs")).json()
            assert overview["diagnostics_status"] == "Uploaded"
            detail = (await api.get(f"/api/stations/CS16-WS/logs/{security['request_id']}")
                      ).json()
            assert [h["status"] for h in detail["history"]] == ["Uploading", "Uploaded"]
            uploads = (await api.get("/api/stations/CS16-WS/uploads")).json()
            assert sorted(u["filename"] for u in uploads["items"]) == sorted(
                [diagnostics["filename"], security["filename"]])
            content = await api.get(f"/api/uploads/{uploads['items'][0]['id']}/content")
            assert b"CS16-WS" in content.content
        assert [e["detail"].rsplit(" ", 1)[-1] for e in events(w.recorder, "CS16-WS",
                                                               "log_upload")] == [
            "Uploaded", "Uploaded"]


async def test_local_list_authorizes_offline_and_security_commands(tmp_path: Path) -> None:
    """The CSMS pushes a local list; offline, a listed token starts, an unknown one does not.
    The Security whitepaper commands get valid answers."""
    import trustme

    from csms.domain.commands import SYSTEM

    async with world(tmp_path) as w:
        await w.core.auth.upsert("LISTED")
        station = w.station(spec16("CS16-LL", evses=SOCKETS))
        station.start()
        await w.run(10)
        pushed = await w.core.local_lists.push("CS16-LL", "full", SYSTEM, tokens=["LISTED"])
        assert pushed.status == "Accepted"
        assert (await w.command("CS16-LL", "GetLocalListVersion", {}))["listVersion"] >= 1
        results: list[bool] = []

        def driver() -> Any:
            station.go_offline(3600)
            yield w.clock.env.timeout(10)
            yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.5))
            results.append((yield from station.present_token(1, "STRANGER")))
            results.append((yield from station.present_token(1, "LISTED")))

        w.drive(driver())
        await w.run(4000)
        assert results == [False, True]
        assert station.transaction(1) is not None and station.online
        assert not sent(w.recorder, "CS16-LL", "Authorize")  # offline: the list decided
        assert (await w.command("CS16-LL", "ClearCache", {}))["status"] == "Accepted"

        ca = trustme.CA()
        pem = ca.cert_pem.bytes().decode()
        cmd = w.command
        assert (await cmd("CS16-LL", "InstallCertificate", {
            "certificateType": "CentralSystemRootCertificate", "certificate": pem}))[
            "status"] == "Accepted"
        ids = await cmd("CS16-LL", "GetInstalledCertificateIds",
                        {"certificateType": "CentralSystemRootCertificate"})
        assert ids["status"] == "Accepted" and len(ids["certificateHashData"]) == 1
        assert (await cmd("CS16-LL", "DeleteCertificate", {
            "certificateHashData": ids["certificateHashData"][0]}))["status"] == "Accepted"
        assert (await cmd("CS16-LL", "GetInstalledCertificateIds", {
            "certificateType": "ManufacturerRootCertificate"}))["status"] == "NotFound"
        assert (await cmd("CS16-LL", "CertificateSigned", {"certificateChain": pem}))[
            "status"] == "Accepted"
        assert (await cmd("CS16-LL", "ExtendedTriggerMessage", {
            "requestedMessage": "FirmwareStatusNotification"}))["status"] == "Accepted"
        assert (await cmd("CS16-LL", "CancelReservation", {"reservationId": 5}))[
            "status"] == "Rejected"
        answer = await cmd("CS16-LL", "SignedUpdateFirmware", {
            "requestId": 3, "firmware": {
                "location": "https://fw.example.com/fail-install.bin",
                "retrieveDateTime": w.clock.iso(), "signingCertificate": pem,
                "signature": "c2ln"}})
        assert answer["status"] == "Accepted"
        w.drive(station.unplug(1))
        await w.run(300)
        signed = [m["outcome"] for m in sent(w.recorder, "CS16-LL",
                                             "SignedFirmwareStatusNotification")]
        assert len(signed) == 6 and set(signed) == {"ok"}  # the trigger's, then the sequence
        assert events(w.recorder, "CS16-LL", "firmware_done")[-1]["detail"] == \
            "InstallationFailed"


async def test_charging_limit_zero_suspends_the_evse(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-Z")
        station = w.station(spec16("CS16-ZERO"))
        station.start()
        await w.run(10)
        w.drive(station.plug_in(1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2)))
        w.drive(station.present_token(1, "TAG-Z"))
        await w.run(60)
        assert station.status(1) == "Charging"
        profile = {"connectorId": 0, "csChargingProfiles": {
            "chargingProfileId": 1, "stackLevel": 0,
            "chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute",
            "chargingSchedule": {"startSchedule": w.clock.iso(), "chargingRateUnit": "W",
                                 "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 0.0},
                                                            {"startPeriod": 600,
                                                             "limit": 7000.0}]}}}
        assert (await w.command("CS16-ZERO", "SetChargingProfile", profile))["status"] == \
            "Accepted"
        await w.run(300)
        assert station.status(1) == "SuspendedEVSE" and station.power_w(1) == 0
        await w.run(400)  # the schedule's next period: re-evaluated at its start
        assert station.status(1) == "Charging" and station.power_w(1) == pytest.approx(7000)
        assert statuses(w.recorder, "CS16-ZERO", 1)[-3:] == [
            "Charging", "SuspendedEVSE", "Charging"]


async def test_a_reservation_expires_on_time_between_heartbeats(tmp_path: Path) -> None:
    """A reservation that expires before the next heartbeat is handed back at its expiry, not
    at the heartbeat (the station's timer is woken when a reservation is made)."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-RES")
        station = w.station(spec16("CS16-X", evses=SOCKETS))
        station.start()
        await w.run(10)
        assert station.settings.heartbeat_interval_s >= 60
        expiry = w.clock.iso(w.clock.now + 20)
        assert (await w.command("CS16-X", "ReserveNow", {
            "connectorId": 1, "expiryDate": expiry, "idTag": "TAG-RES",
            "reservationId": 43}))["status"] == "Accepted"
        await w.run(5)
        assert station.status(1) == "Reserved"
        await w.run(20)
        assert station.status(1) == "Available"
        assert len(station.reservations) == 0
