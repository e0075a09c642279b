"""The simulated OCPP 2.0.1 station against the real reference CSMS (in-process), on simulated
time."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import OcppVersion
from simulator.drivers import IdToken
from simulator.station import ConnectorSpec, EvseSpec, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import events, sent, statuses, world

V201 = OcppVersion.V201


def spec201(station_id: str, **overrides: Any) -> StationSpec:
    options: dict[str, Any] = {"start_jitter_s": 0.0, "retry_backoff_min_s": 1,
                               "retry_backoff_random_s": 1}
    options.update(overrides)
    return StationSpec(station_id, V201, **options)


async def test_full_session_energy_matches_the_csms(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TOKEN-201")
        station = w.station(spec201("CS201-S", evses=(EvseSpec(1, 50_000, "DC", 3),)))
        station.start()
        await w.run(60)
        car = Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2, target_soc=0.8)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            yield from station.plug_in(1, car)
            yield w.clock.env.timeout(20)
            outcome["accepted"] = yield from station.present_token(1, IdToken("TOKEN-201"))
            yield w.clock.env.timeout(3 * 3600)
            yield from station.unplug(1)

        w.drive(driver())
        await w.run(4 * 3600)
        assert outcome == {"accepted": True}
        assert statuses(w.recorder, "CS201-S", 1) == ["Available", "Occupied", "Available"]
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "EVDisconnected"
        tx = await w.core.transactions.get("CS201-S", session["transaction_id"])
        assert tx["state"] == "Completed" and tx["id_token"] == "TOKEN-201"
        assert tx["energy_wh"] == pytest.approx(session["energy_wh"], abs=0.5)
        assert tx["seq_gaps"] == [] and tx["charging_state"] == "Idle"
        assert session["energy_wh"] == pytest.approx(60_000 * 0.6 / 0.95, rel=0.01)
        assert all(r["power_w"] <= 50_000 + 1e-6 for r in w.recorder.rows("meter_values"))
        kinds = [m["action"] for m in sent(w.recorder, "CS201-S")]
        assert kinds.count("TransactionEvent") > 3 * 60
        assert not events(w.recorder, "CS201-S", "token_rejected")


async def _csms_meter_rows(w: Any, station_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from csms.storage import tables as t

    async def read(conn: Any) -> list[dict[str, Any]]:
        rows = await conn.execute(select(t.meter_values).where(
            t.meter_values.c.station_id == station_id))
        return [dict(r) for r in rows.mappings()]

    return await w.core.db.read(read)


async def test_connection_loss_during_a_transaction(tmp_path: Path) -> None:
    """TC_E_40: the queued TransactionEvents go out after the reconnect with offline = true,
    in seqNo order; the CSMS takes them as late and the transaction is complete."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TOKEN-OFF")
        station = w.station(spec201("CS201-OFF"))
        station.start()
        await w.run(10)
        car = Vehicle(VEHICLE_CATALOG["Tesla Model 3 LR"], soc=0.1)

        def driver() -> Any:
            yield from station.plug_in(1, car)
            assert (yield from station.present_token(1, IdToken("TOKEN-OFF")))
            yield w.clock.env.timeout(300)
            station.go_offline(1200)
            yield w.clock.env.timeout(900)
            yield from station.unplug(1)

        w.drive(driver())
        await w.run(2400)
        assert station.online and station.queued_messages == 0
        events_sent = [m["outcome"] for m in sent(w.recorder, "CS201-OFF", "TransactionEvent")]
        assert events_sent.count("queued") == events_sent.count("replayed") >= 15
        [session] = w.recorder.rows("sessions")
        tx = await w.core.transactions.get("CS201-OFF", session["transaction_id"])
        assert tx["state"] == "Completed" and tx["seq_gaps"] == []
        assert tx["stop_reason"] == "EVDisconnected"
        assert tx["energy_wh"] == pytest.approx(session["energy_wh"], abs=0.5)
        late = [r for r in await _csms_meter_rows(w, "CS201-OFF") if r["late"]]
        assert len(late) >= 15
        assert statuses(w.recorder, "CS201-OFF", 1)[-1] == "Available"
        assert [m["outcome"] for m in sent(w.recorder, "CS201-OFF", "StatusNotification")
                ][-2:] == ["dropped", "ok"]


async def test_remote_control_and_device_model(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("APP-201")
        station = w.station(spec201("CS201-C", evses=(
            EvseSpec(1, 22_000, connectors=(ConnectorSpec(1, "sType2", fixed_cable=False),)),
            EvseSpec(2, 22_000)), tx_start_points=("EVConnected",),
            tx_stop_points=("EVConnected",)))
        station.start()
        await w.run(10)
        cmd = w.command
        assert (await cmd("CS201-C", "TriggerMessage", {
            "requestedMessage": "BootNotification"}))["status"] == "Rejected"

        # TxStartPoint EVConnected: the transaction starts at the cable
        w.drive(station.plug_in(1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.4)))
        await w.run(10)
        tx = station.transaction(1)
        assert tx is not None and tx.id_token is None and station.power_w(1) == 0
        answer = await cmd("CS201-C", "RequestStartTransaction", {
            "evseId": 1, "remoteStartId": 5, "idToken": {"idToken": "APP-201",
                                                         "type": "Central"}})
        assert answer == {"status": "Accepted", "transactionId": tx.local_id}
        await w.run(60)
        assert station.power_w(1) == pytest.approx(11_000)  # the car's AC limit
        csms_tx = await w.core.transactions.get("CS201-C", tx.local_id)
        assert csms_tx["remote_start_id"] == 5 and csms_tx["id_token"] == "APP-201"
        assert (await cmd("CS201-C", "UnlockConnector", {"evseId": 1, "connectorId": 1}))[
            "status"] == "OngoingAuthorizedTransaction"
        assert (await cmd("CS201-C", "UnlockConnector", {"evseId": 2, "connectorId": 1}))[
            "status"] == "UnlockFailed"
        assert (await cmd("CS201-C", "UnlockConnector", {"evseId": 3, "connectorId": 1}))[
            "status"] == "UnknownConnector"
        status = await cmd("CS201-C", "GetTransactionStatus", {"transactionId": tx.local_id})
        assert status == {"ongoingIndicator": True, "messagesInQueue": False}

        # device model: the heartbeat interval, read and changed
        variable = {"component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"}}
        got = await cmd("CS201-C", "GetVariables", {"getVariableData": [variable]})
        assert got["getVariableResult"][0]["attributeValue"] == "300"
        result = await cmd("CS201-C", "SetVariables", {"setVariableData": [
            {**variable, "attributeValue": "90"}]})
        assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
        began = w.clock.now
        await w.run(400)
        beats = [m["t_s"] for m in sent(w.recorder, "CS201-C", "Heartbeat") if m["t_s"] > began]
        assert all(b - a == pytest.approx(90) for a, b in pairwise(beats)) and \
            len(beats) >= 4
        report = await cmd("CS201-C", "GetBaseReport", {"requestId": 77,
                                                        "reportBase": "FullInventory"})
        assert report["status"] == "Accepted"
        await w.run(5)
        parts = sent(w.recorder, "CS201-C", "NotifyReport")
        assert len(parts) >= 2 and all(p["outcome"] == "ok" for p in parts)

        # OnIdle reset waits for the transaction; RequestStop ends it; then the reboot
        assert (await cmd("CS201-C", "Reset", {"type": "OnIdle"}))["status"] == "Scheduled"
        assert (await cmd("CS201-C", "RequestStopTransaction", {
            "transactionId": "nope"}))["status"] == "Rejected"
        assert (await cmd("CS201-C", "RequestStopTransaction", {
            "transactionId": tx.local_id}))["status"] == "Accepted"
        await w.run(60)
        assert station.transaction(1) is not None  # TxStopPoint EVConnected: still plugged
        w.drive(station.unplug(1))
        await w.run(60)
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "EVDisconnected"
        assert [e["kind"] for e in events(w.recorder, "CS201-C")
                if e["kind"] in ("reboot", "boot_accepted")] == [
            "boot_accepted", "reboot", "boot_accepted"]
        boot = w.core.stations.get("CS201-C")
        assert boot.accepted
        status = await cmd("CS201-C", "GetTransactionStatus", {"transactionId": tx.local_id})
        assert status == {"ongoingIndicator": False, "messagesInQueue": False}

        # availability of the whole station, and back
        assert (await cmd("CS201-C", "ChangeAvailability",
                          {"operationalStatus": "Inoperative"}))["status"] == "Accepted"
        await w.run(5)
        assert station.status(1) == station.status(2) == "Unavailable"
        assert (await cmd("CS201-C", "ChangeAvailability",
                          {"operationalStatus": "Operative"}))["status"] == "Accepted"
        assert (await cmd("CS201-C", "ChangeAvailability", {
            "operationalStatus": "Inoperative", "evse": {"id": 2}}))["status"] == "Accepted"
        await w.run(5)
        assert station.status(1) == "Available" and station.status(2) == "Unavailable"


async def test_smart_charging_firmware_and_reservation(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TOKEN-SC")
        station = w.station(spec201("CS201-M", evses=(EvseSpec(1, 22_000), EvseSpec(2, 22_000))))
        station.start()
        await w.run(10)
        cmd = w.command
        w.drive(station.plug_in(1, Vehicle(VEHICLE_CATALOG["Tesla Model 3 LR"], soc=0.1)))
        w.drive(station.present_token(1, "TOKEN-SC"))
        await w.run(60)
        tx = station.transaction(1)
        assert tx is not None and station.power_w(1) == pytest.approx(11_000)
        answer = await cmd("CS201-M", "SetChargingProfile", {"evseId": 1, "chargingProfile": {
            "id": 3, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative", "transactionId": tx.local_id,
            "chargingSchedule": [{"id": 1, "chargingRateUnit": "W", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 5000.0}]}]}})
        assert answer["status"] == "Accepted"
        since = w.clock.now
        await w.run(900)
        samples = [r for r in w.recorder.rows("meter_values")
                   if r["t_s"] > since and r["context"] == "Sample.Periodic"]
        assert samples and all(r["power_w"] <= 5000 + 1e-6 for r in samples)
        assert (await cmd("CS201-M", "GetChargingProfiles", {
            "requestId": 9, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}}))[
            "status"] == "Accepted"
        await w.run(5)
        assert [m["outcome"] for m in sent(w.recorder, "CS201-M",
                                           "ReportChargingProfiles")] == ["ok"]
        assert (await cmd("CS201-M", "GetChargingProfiles", {
            "requestId": 10, "chargingProfile": {"stackLevel": 9}}))["status"] == "NoProfiles"

        # a reservation that expires: ReservationStatusUpdate(Expired), Available again
        answer = await cmd("CS201-M", "ReserveNow", {
            "id": 11, "expiryDateTime": w.clock.iso(w.clock.now + 120), "evseId": 2,
            "idToken": {"idToken": "TOKEN-SC", "type": "ISO14443"}})
        assert answer["status"] == "Accepted"
        await w.run(5)
        assert station.status(2) == "Reserved"
        await w.run(200)
        assert station.status(2) == "Available"
        assert [m["outcome"] for m in sent(w.recorder, "CS201-M",
                                           "ReservationStatusUpdate")] == ["ok"]
        reservation = await w.core.reservations.get(11)
        assert reservation is not None and reservation.status == "Expired"

        # a signed firmware update: installed once the transaction is over
        answer = await cmd("CS201-M", "UpdateFirmware", {"requestId": 21, "firmware": {
            "location": "https://fw.example.com/v2.bin",
            "retrieveDateTime": w.clock.iso(w.clock.now - 7200),
            "installDateTime": w.clock.iso(w.clock.now - 7200),
            "signingCertificate": "-----BEGIN CERTIFICATE-----", "signature": "c2ln"}})
        assert answer["status"] == "Accepted"
        await w.run(120)
        w.drive(station.unplug(1))
        await w.run(300)
        assert [e["detail"] for e in events(w.recorder, "CS201-M", "firmware_status")] == [
            "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting",
            "Installed"]
        assert [m["outcome"] for m in sent(w.recorder, "CS201-M",
                                           "FirmwareStatusNotification")] == ["ok"] * 6
        assert [e["detail"] for e in events(w.recorder, "CS201-M", "boot_accepted")][-1:]
        assert w.core.stations.get("CS201-M").firmware_version == "1.0.0+v2.bin"


async def test_every_other_command_gets_a_valid_answer(tmp_path: Path) -> None:
    """Commands that are modelled lightly or refused: each answer passes the session's strict
    schema check (an invalid one would come back as a CALLERROR)."""
    async with world(tmp_path) as w:
        station = w.station(spec201("CS201-X"))
        station.start()
        await w.run(10)
        cmd = w.command
        component = {"name": "OCPPCommCtrlr"}
        answers = {
            "DataTransfer": await cmd("CS201-X", "DataTransfer", {"vendorId": "acme"}),
            "ClearCache": await cmd("CS201-X", "ClearCache", {}),
            "GetLocalListVersion": await cmd("CS201-X", "GetLocalListVersion", {}),
            "SetDisplayMessage": await cmd("CS201-X", "SetDisplayMessage", {"message": {
                "id": 1, "priority": "NormalCycle", "message": {"format": "UTF8",
                                                               "content": "Welcome"}}}),
            "GetDisplayMessages": await cmd("CS201-X", "GetDisplayMessages", {"requestId": 2}),
            "ClearDisplayMessage": await cmd("CS201-X", "ClearDisplayMessage", {"id": 1}),
            "CustomerInformation": await cmd("CS201-X", "CustomerInformation", {
                "requestId": 3, "report": True, "clear": False,
                "idToken": {"idToken": "X1", "type": "ISO14443"}}),
            "SetNetworkProfile": await cmd("CS201-X", "SetNetworkProfile", {
                "configurationSlot": 1, "connectionData": {
                    "ocppVersion": "OCPP20", "ocppTransport": "JSON",
                    "ocppCsmsUrl": "wss://x.example.com/ocpp", "messageTimeout": 30,
                    "securityProfile": 1, "ocppInterface": "Wired0"}}),
            "GetInstalledCertificateIds": await cmd("CS201-X", "GetInstalledCertificateIds",
                                                    {}),
            "CostUpdated": await cmd("CS201-X", "CostUpdated", {"totalCost": 1.5,
                                                                "transactionId": "t"}),
            "SetMonitoringBase": await cmd("CS201-X", "SetMonitoringBase",
                                           {"monitoringBase": "All"}),
            "SetMonitoringLevel": await cmd("CS201-X", "SetMonitoringLevel", {"severity": 5}),
            "SetVariableMonitoring": await cmd("CS201-X", "SetVariableMonitoring", {
                "setMonitoringData": [{"value": 1.0, "type": "Delta", "severity": 5,
                                       "component": component,
                                       "variable": {"name": "HeartbeatInterval"}}]}),
            "ClearVariableMonitoring": await cmd("CS201-X", "ClearVariableMonitoring",
                                                 {"id": [4]}),
            "GetMonitoringReport": await cmd("CS201-X", "GetMonitoringReport",
                                             {"requestId": 5}),
            "PublishFirmware": await cmd("CS201-X", "PublishFirmware", {
                "location": "https://x.example.com/f.bin", "checksum": "0" * 32,
                "requestId": 6}),
            "UnpublishFirmware": await cmd("CS201-X", "UnpublishFirmware",
                                           {"checksum": "0" * 32}),
            "GetLog": await cmd("CS201-X", "GetLog", {"logType": "DiagnosticsLog",
                                                      "requestId": 7, "log": {
                                                          "remoteLocation": "ftp://x/"}}),
            "TriggerMessage": await cmd("CS201-X", "TriggerMessage", {
                "requestedMessage": "SignCombinedCertificate"}),
        }
        await w.run(30)
        assert answers["DataTransfer"]["status"] == "UnknownVendorId"
        assert answers["SetDisplayMessage"]["status"] == "Accepted"
        assert answers["GetDisplayMessages"]["status"] == "Accepted"
        assert answers["ClearDisplayMessage"]["status"] == "Accepted"
        assert answers["SetNetworkProfile"]["status"] == "Rejected"
        assert answers["GetInstalledCertificateIds"]["status"] == "NotFound"
        assert answers["TriggerMessage"]["status"] == "NotImplemented"  # TC_F_27
        assert answers["GetLog"]["status"] == "Accepted"
        assert [m["outcome"] for m in sent(w.recorder, "CS201-X", "LogStatusNotification")] == [
            "ok", "ok"]  # Uploading, then UploadFailure: the simulator speaks no FTP
        assert events(w.recorder, "CS201-X", "log_upload")[0]["detail"].endswith("UploadFailure")
        assert sent(w.recorder, "CS201-X", "NotifyCustomerInformation")
        assert sent(w.recorder, "CS201-X", "NotifyDisplayMessages")
