"""Fault detection and remediation over real websockets, on SQLite and PostgreSQL: each cause
raises, updates and resolves its alert, the API lists and acknowledges them, the event stream
carries them, and a long fault gets one soft reset."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.domain.alerts import monitor_severity
from csms.domain.api_tokens import ApiRole
from csms.server import RunningCsms
from tests.csms.harness import custom_csms, watch_events
from tests.csms.support import boot, connected_station, stamp

BOTH = pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])


def status_payload(version: OcppVersion, status: str, *, error: str = "NoError",
                   connector: int = 1, offset_s: float = 0.0) -> dict[str, Any]:
    if version is OcppVersion.V16:
        return {"connectorId": connector, "errorCode": error, "status": status,
                "timestamp": stamp(offset_s)}
    status = {"Charging": "Occupied", "Preparing": "Occupied"}.get(status, status)
    return {"timestamp": stamp(offset_s), "connectorStatus": status, "evseId": connector,
            "connectorId": 1}


@BOTH
async def test_faulted_connector_raises_updates_and_resolves_an_alert(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-FAULT", version) as station:
            await boot(station)
            await station.call("StatusNotification",
                               status_payload(version, "Faulted", error="GroundFailure"))
            raised = await alerts.next("alert.raised", alert_kind="faulted")
            assert raised.data["station_id"] == "CS-FAULT"
            alert = raised.data["alert"]
            assert alert["severity"] == "critical"
            assert alert["evse_id"] == 1
            if version is OcppVersion.V16:
                assert alert["details"]["error_code"] == "GroundFailure"

            listed = (await api.get("/api/alerts", params={"state": "open",
                                                           "kind": "faulted"})).json()
            assert [a["id"] for a in listed["items"]] == [alert["id"]]
            assert listed["items"][0]["open"] is True

            # Reported again while open: the same alert, counted.
            await station.call("StatusNotification",
                               status_payload(version, "Faulted", error="GroundFailure"))
            updated = await alerts.next("alert.updated", alert_kind="faulted")
            assert updated.data["alert"]["id"] == alert["id"]
            assert updated.data["alert"]["count"] == 2

            await station.call("StatusNotification", status_payload(version, "Available"))
            resolved = await alerts.next("alert.resolved", alert_kind="faulted")
            assert resolved.data["alert"]["id"] == alert["id"]

    stored = (await api.get(f"/api/alerts/{alert['id']}")).json()
    assert stored["open"] is False and stored["resolved_at"] is not None
    assert stored["count"] == 2
    assert (await api.get("/api/alerts", params={"state": "open"})).json()["total"] == 0
    assert (await api.get("/api/alerts", params={"state": "resolved"})).json()["total"] == 1


async def test_ocpp16_error_code_without_fault_is_a_warning_until_it_clears(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-WARN", OcppVersion.V16) as station:
            await boot(station)
            await station.call("StatusNotification", {
                "connectorId": 2, "errorCode": "HighTemperature", "status": "Available",
                "info": "derating", "vendorErrorCode": "T-17", "timestamp": stamp()})
            raised = (await alerts.next("alert.raised", alert_kind="connector_error")).data
            assert raised["alert"]["severity"] == "warning"
            assert raised["alert"]["details"]["vendor_error_code"] == "T-17"
            assert raised["alert"]["details"]["info"] == "derating"
            await station.call("StatusNotification", {"connectorId": 2, "errorCode": "NoError",
                                                      "status": "Available"})
            await alerts.next("alert.resolved", alert_key=raised["alert"]["key"])
    assert (await api.get("/api/alerts", params={"severity": "warning"})).json()["total"] == 1
    assert (await api.get("/api/alerts", params={"severity": "critical"})).json()["total"] == 0


@BOTH
async def test_faulted_station_gets_one_soft_reset(database_url: str, tmp_path: Path,
                                                   version: OcppVersion) -> None:
    resets: list[dict[str, Any]] = []

    async def reset(payload: dict[str, Any]) -> dict[str, Any]:
        resets.append(payload)
        return {"status": "Accepted"}

    async with custom_csms(database_url, tmp_path, remediation_soft_reset_after_s=600.0) \
            as (csms, api):
        core = csms.core
        with watch_events(csms, "alert.") as alerts:
            async with connected_station(csms, "CS-REMEDY", version,
                                         routes={"Reset": reset}) as station:
                await boot(station)
                await station.call("StatusNotification",
                                   status_payload(version, "Faulted", error="OtherError"))
                alert = (await alerts.next("alert.raised", alert_kind="faulted")).data["alert"]
                now = core.clock()
                await core.alerts.scan(now + timedelta(seconds=300))
                assert resets == []  # not long enough yet
                await core.alerts.scan(now + timedelta(seconds=601))
                assert resets == [{"type": "Soft" if version is OcppVersion.V16
                                   else "OnIdle"}]
                update = await alerts.next("alert.updated", alert_kind="faulted")
                remediation = update.data["alert"]["details"]["remediation"]
                assert remediation["outcome"] == "Accepted"
                assert remediation["action"] == "Reset"
                await core.alerts.scan(now + timedelta(seconds=1800))
                assert len(resets) == 1  # at most once per fault

        audit = (await api.get("/api/audit", params={"station_id": "CS-REMEDY",
                                                     "action": "Reset"})).json()
        assert audit["total"] == 1
        entry = audit["items"][0]
        assert entry["actor"] == "csms" and entry["role"] == "system"
        assert entry["outcome"] == "answered" and entry["response"] == {"status": "Accepted"}
        stored = (await api.get(f"/api/alerts/{alert['id']}")).json()
        assert stored["details"]["remediation"]["outcome"] == "Accepted"


async def test_remediation_waits_for_an_offline_station(database_url: str,
                                                        tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path, remediation_soft_reset_after_s=60.0,
                           offline_grace_s=3600.0) as (csms, api):
        core = csms.core
        with watch_events(csms, "alert.") as alerts:
            async with connected_station(csms, "CS-AWAY", OcppVersion.V16) as station:
                await boot(station)
                await station.call("StatusNotification", status_payload(
                    OcppVersion.V16, "Faulted", error="PowerMeterFailure"))
                await alerts.next("alert.raised", alert_kind="faulted")
            await core.alerts.scan(core.clock() + timedelta(seconds=120))
            audit = (await api.get("/api/audit", params={"action": "Reset"})).json()
            assert audit["total"] == 0  # nobody to reset: no attempt, no audit entry

            resets: list[dict[str, Any]] = []

            async def reset(payload: dict[str, Any]) -> dict[str, Any]:
                resets.append(payload)
                return {"status": "Rejected"}

            async with connected_station(csms, "CS-AWAY", OcppVersion.V16,
                                         routes={"Reset": reset}) as station:
                await boot(station)
                await core.alerts.scan(core.clock() + timedelta(seconds=120))
                assert resets == [{"type": "Soft"}]
                update = await alerts.next("alert.updated", alert_kind="faulted")
                assert update.data["alert"]["details"]["remediation"]["outcome"] == "Rejected"


@BOTH
async def test_stuck_session_raised_and_resolved_by_energy_flow(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    core = csms.core
    after = timedelta(seconds=core.config.stuck_session_after_s + 1)
    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-STUCK", version) as station:
            await boot(station)
            if version is OcppVersion.V16:
                started = await station.call("StartTransaction", {
                    "connectorId": 1, "idTag": "T1", "meterStart": 1000, "timestamp": stamp()})
                tx = str(started["transactionId"])
                await station.call("StatusNotification", status_payload(version, "Charging"))
            else:
                tx = "TX-STUCK"
                await station.call("TransactionEvent", {
                    "eventType": "Started", "timestamp": stamp(), "triggerReason": "CablePluggedIn",
                    "seqNo": 0, "transactionInfo": {"transactionId": tx,
                                                    "chargingState": "Charging"},
                    "evse": {"id": 1, "connectorId": 1},
                    "meterValue": [{"timestamp": stamp(), "sampledValue": [{"value": 1000.0}]}]})
            await core.alerts.scan(core.clock() + after / 2)
            assert not [a for a in core.alerts.open_alerts("CS-STUCK")
                        if a["kind"] == "stuck_session"]
            await core.alerts.scan(core.clock() + after)
            raised = (await alerts.next("alert.raised", alert_kind="stuck_session")).data
            assert raised["alert"]["details"]["transaction_id"] == tx
            assert raised["alert"]["key"] == f"stuck_session:CS-STUCK:{tx}"

            # Energy flows again: resolved at once, not at the next scan.
            if version is OcppVersion.V16:
                await station.call("MeterValues", {
                    "connectorId": 1, "transactionId": int(tx), "meterValue": [
                        {"timestamp": stamp(1), "sampledValue": [{"value": "1500"}]}]})
            else:
                await station.call("TransactionEvent", {
                    "eventType": "Updated", "timestamp": stamp(1),
                    "triggerReason": "MeterValuePeriodic", "seqNo": 1,
                    "transactionInfo": {"transactionId": tx},
                    "meterValue": [{"timestamp": stamp(1), "sampledValue": [{"value": 1500.0}]}]})
            resolved = await alerts.next("alert.resolved", alert_kind="stuck_session")
            assert resolved.data["alert"]["id"] == raised["alert"]["id"]


@BOTH
async def test_stuck_session_resolved_when_the_transaction_ends(
        csms: RunningCsms, version: OcppVersion) -> None:
    core = csms.core
    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-STOP", version) as station:
            await boot(station)
            if version is OcppVersion.V16:
                started = await station.call("StartTransaction", {
                    "connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": stamp()})
                await station.call("StatusNotification", status_payload(version, "Charging"))
                stop = ("StopTransaction", {"transactionId": started["transactionId"],
                                            "meterStop": 0, "timestamp": stamp(1)})
            else:
                await station.call("TransactionEvent", {
                    "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
                    "seqNo": 0, "transactionInfo": {"transactionId": "TX-STOP",
                                                    "chargingState": "Charging"},
                    "evse": {"id": 1, "connectorId": 1}})
                stop = ("TransactionEvent", {
                    "eventType": "Ended", "timestamp": stamp(1), "triggerReason": "StopAuthorized",
                    "seqNo": 1, "transactionInfo": {"transactionId": "TX-STOP",
                                                    "stoppedReason": "Local"}})
            await core.alerts.scan(core.clock() + timedelta(hours=1))
            raised = (await alerts.next("alert.raised", alert_kind="stuck_session")).data
            await station.call(*stop)
            resolved = await alerts.next("alert.resolved", alert_kind="stuck_session")
            assert resolved.data["alert"]["id"] == raised["alert"]["id"]
            assert "ended" in resolved.data["alert"]["details"]["resolution"]


async def test_a_suspended_session_is_not_stuck(csms: RunningCsms) -> None:
    core = csms.core
    async with connected_station(csms, "CS-SUSP", OcppVersion.V201) as station:
        await boot(station)
        await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
            "seqNo": 0, "transactionInfo": {"transactionId": "TX-S",
                                            "chargingState": "SuspendedEV"},
            "evse": {"id": 1, "connectorId": 1}})
        await core.alerts.scan(core.clock() + timedelta(hours=2))
        kinds = {a["kind"] for a in core.alerts.open_alerts("CS-SUSP")}
        assert kinds == {"offline"}  # silent for two hours, but not stuck


@BOTH
async def test_clock_skew_beyond_the_threshold_raises_an_alert(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-CLOCK", version) as station:
            await boot(station)
            await station.call("StatusNotification",
                               status_payload(version, "Available", offset_s=600))
            raised = (await alerts.next("alert.raised", alert_kind="clock_skew")).data["alert"]
            assert raised["details"]["skew_s"] == pytest.approx(600, abs=5)
            station_view = (await api.get("/api/stations/CS-CLOCK")).json()
            assert station_view["clock_skew_s"] == pytest.approx(600, abs=5)
            await station.call("StatusNotification", status_payload(version, "Available"))
            resolved = (await alerts.next("alert.resolved", alert_kind="clock_skew")).data
            assert resolved["alert"]["id"] == raised["id"]


@pytest.mark.parametrize("settle_s", [120.0, 0.0], ids=["replay", "slow-clock"])
async def test_a_16_queue_replayed_after_reconnect_is_not_a_slow_clock(
        database_url: str, tmp_path: Path, settle_s: float) -> None:
    """1.6 has no offline flag: a StatusNotification stamped 90 s ago, arriving right after a
    reconnect, is a queue being replayed, not a clock 90 s behind (which is flagged once the
    connection has settled)."""
    async with (custom_csms(database_url, tmp_path, clock_skew_settle_s=settle_s) as (csms, api),
                connected_station(csms, "CS-REPLAY", OcppVersion.V16) as station):
        await boot(station)
        await station.call("StatusNotification",
                           status_payload(OcppVersion.V16, "Available", offset_s=-90))
        await csms.core.alerts.settle()
        kinds = [a["kind"] for a in csms.core.alerts.open_alerts("CS-REPLAY")]
        skew = (await api.get("/api/stations/CS-REPLAY")).json()["clock_skew_s"]
    if settle_s:
        assert kinds == [] and skew is None
    else:
        assert kinds == ["clock_skew"] and skew == pytest.approx(-90, abs=5)


async def test_watchdog_raises_offline_for_a_disconnected_station_and_resolves_on_reconnect(
        database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path, watchdog_interval_s=0.05,
                           offline_grace_s=0.0) as (csms, api):
        with watch_events(csms, "alert.") as alerts:
            async with connected_station(csms, "CS-GONE", OcppVersion.V201) as station:
                await boot(station)
            raised = (await alerts.next("alert.raised", alert_kind="offline")).data["alert"]
            assert raised["station_id"] == "CS-GONE"
            assert raised["details"]["connected"] is False
            async with connected_station(csms, "CS-GONE", OcppVersion.V201) as station:
                resolved = (await alerts.next("alert.resolved", alert_kind="offline")).data
                assert resolved["alert"]["id"] == raised["id"]
                await boot(station)
                listed = (await api.get("/api/alerts", params={"kind": "offline"})).json()
                assert listed["total"] == 1 and listed["items"][0]["open"] is False


async def test_offline_grace_period_ignores_a_quick_reconnect(database_url: str,
                                                              tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path, offline_grace_s=60.0) as (csms, _):
        core = csms.core
        async with connected_station(csms, "CS-BLIP", OcppVersion.V16) as station:
            await boot(station)
        await core.alerts.settle()
        await core.alerts.scan(core.clock() + timedelta(seconds=30))
        assert core.alerts.open_alerts("CS-BLIP") == []
        await core.alerts.scan(core.clock() + timedelta(seconds=61))
        assert [a["kind"] for a in core.alerts.open_alerts("CS-BLIP")] == ["offline"]


def event_data(event_id: int, **overrides: Any) -> dict[str, Any]:
    """One NotifyEvent eventData: a connector's temperature monitor alerting."""
    data = {"eventId": event_id, "timestamp": stamp(), "trigger": "Alerting",
            "actualValue": "96", "techCode": "OT-1", "techInfo": "connector overheating",
            "eventNotificationType": "HardWiredMonitor",
            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "Temperature"}}
    return {**data, **overrides}


async def test_notify_event_problems_raise_and_cleared_resolves(csms: RunningCsms) -> None:
    core = csms.core
    seq = iter(range(100))

    async def notify(station: Any, *items: dict[str, Any]) -> None:
        await station.call("NotifyEvent", {"generatedAt": stamp(), "seqNo": next(seq),
                                           "eventData": list(items)})

    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-NE", OcppVersion.V201) as station:
            await boot(station)
            await notify(station, event_data(7))
            raised = (await alerts.next("alert.raised", alert_kind="notify_event")).data["alert"]
            assert raised["severity"] == "warning"
            assert raised["evse_id"] == 1
            assert raised["key"] == "notify_event:CS-NE:Connector@1.1:Temperature"
            assert raised["details"]["tech_code"] == "OT-1"
            await notify(station, event_data(8, actualValue="97"))
            updated = (await alerts.next("alert.updated", alert_kind="notify_event")).data
            assert updated["alert"]["id"] == raised["id"] and updated["alert"]["count"] == 2
            await notify(station, event_data(9, actualValue="60", cleared=True, cause=7))
            resolved = (await alerts.next("alert.resolved", alert_kind="notify_event")).data
            assert resolved["alert"]["id"] == raised["id"]

            # Routine reports raise nothing; a Problem variable does until it turns false.
            await notify(station, event_data(
                10, trigger="Delta", variable={"name": "AvailabilityState"},
                actualValue="Available"), event_data(
                11, trigger="Delta", component={"name": "ChargingStation"},
                variable={"name": "Problem"}, actualValue="true"))
            problem = (await alerts.next("alert.raised", alert_kind="notify_event")).data
            assert problem["alert"]["key"] == "notify_event:CS-NE:ChargingStation:Problem"
            assert problem["alert"]["severity"] == "warning"
            await notify(station, event_data(
                12, trigger="Delta", component={"name": "ChargingStation"},
                variable={"name": "Problem"}, actualValue="false"))
            await alerts.next("alert.resolved", alert_key=problem["alert"]["key"])
    await core.alerts.settle()
    assert core.alerts.open_alerts("CS-NE") == []


def test_monitor_severity_levels_map_to_alert_severities() -> None:
    assert [monitor_severity(level) for level in (0, 3, 4, 6, 7, 9, None, "x")] == [
        "critical", "critical", "warning", "warning", "info", "info", "warning", "warning"]


@BOTH
async def test_security_events_raise_by_type_and_are_resolved_by_hand(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    core = csms.core
    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-SEC", version) as station:
            await boot(station)
            for event_type in ("StartupOfTheDevice", "TamperDetectionActivated"):
                await station.call("SecurityEventNotification", {
                    "type": event_type, "timestamp": stamp(), "techInfo": "lid opened"})
            raised = (await alerts.next("alert.raised", alert_kind="security_event")).data
            alert = raised["alert"]
            assert alert["details"]["type"] == "TamperDetectionActivated"
            assert alert["severity"] == "critical"
            assert "lid opened" in alert["message"]
            await core.alerts.settle()
            assert len(core.alerts.open_alerts("CS-SEC")) == 1  # the startup raised nothing
            await station.call("SecurityEventNotification", {
                "type": "TamperDetectionActivated", "timestamp": stamp(1)})
            updated = (await alerts.next("alert.updated", alert_kind="security_event")).data
            assert updated["alert"]["count"] == 2

        response = await api.post(f"/api/alerts/{alert['id']}/resolve")
        assert response.status_code == 200
        assert response.json()["open"] is False
        assert response.json()["details"]["resolved_by"] == "admin"
        await alerts.next("alert.resolved", alert_kind="security_event")
        assert (await api.post("/api/alerts/999999/resolve")).status_code == 404


async def test_acknowledge_records_who_and_when_once(csms: RunningCsms,
                                                     api: httpx.AsyncClient) -> None:
    core = csms.core
    with watch_events(csms, "alert.") as alerts:
        async with connected_station(csms, "CS-ACK", OcppVersion.V201) as station:
            await boot(station)
            await station.call("StatusNotification",
                               status_payload(OcppVersion.V201, "Faulted"))
            alert = (await alerts.next("alert.raised")).data["alert"]

        support = await core.api_tokens.create("night-shift", ApiRole.SUPPORT)
        reader = await core.api_tokens.create("wallboard", ApiRole.READ_ONLY)
        async with httpx.AsyncClient(base_url=csms.api_url, headers={
                "Authorization": f"Bearer {reader}"}) as client:
            assert (await client.get("/api/alerts")).status_code == 200
            refused = await client.post(f"/api/alerts/{alert['id']}/acknowledge")
            assert refused.status_code == 403
        async with httpx.AsyncClient(base_url=csms.api_url, headers={
                "Authorization": f"Bearer {support}"}) as client:
            acked = await client.post(f"/api/alerts/{alert['id']}/acknowledge")
            assert acked.status_code == 200
            assert acked.json()["acknowledged_by"] == "night-shift"
            assert acked.json()["acknowledged_at"] is not None
            assert acked.json()["open"] is True  # acknowledged is not resolved
        event = (await alerts.next("alert.acknowledged")).data["alert"]
        assert event["acknowledged_by"] == "night-shift"

    again = (await api.post(f"/api/alerts/{alert['id']}/acknowledge")).json()
    assert again["acknowledged_by"] == "night-shift"  # the first acknowledgement stands
    assert (await api.get("/api/alerts", params={"acknowledged": "true"})).json()["total"] == 1
    assert (await api.get("/api/alerts", params={"acknowledged": "false"})).json()["total"] == 0
    assert (await api.post("/api/alerts/999999/acknowledge")).status_code == 404
    assert (await api.get("/api/alerts/999999")).status_code == 404
    bad = await api.get("/api/alerts", params={"severity": "fatal"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "severity", 0]


async def test_event_stream_carries_alert_events(csms: RunningCsms,
                                                 api: httpx.AsyncClient) -> None:
    async with api.stream("GET", "/api/events", params={"kinds": "alert."}) as stream:
        lines = stream.aiter_lines()
        assert await asyncio.wait_for(anext(lines), 5) == ": connected"
        async with connected_station(csms, "CS-SSE", OcppVersion.V16) as station:
            await boot(station)
            await station.call("StatusNotification", status_payload(
                OcppVersion.V16, "Faulted", error="EVCommunicationError"))
            async with asyncio.timeout(5):
                async for line in lines:
                    if line.startswith("event: "):
                        assert line == "event: alert.raised"
                        data = await anext(lines)
                        break
    assert '"kind":"alert.raised"' in data
    assert '"station_id":"CS-SSE"' in data
    assert '"severity":"critical"' in data


async def test_open_alerts_survive_a_restart(database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path) as (csms, _):
        with watch_events(csms, "alert.") as alerts:
            async with connected_station(csms, "CS-DURABLE", OcppVersion.V16) as station:
                await boot(station)
                await station.call("StatusNotification", status_payload(
                    OcppVersion.V16, "Faulted", error="GroundFailure"))
                alert = (await alerts.next("alert.raised")).data["alert"]
    async with custom_csms(database_url, tmp_path) as (csms, api):
        assert [a["id"] for a in csms.core.alerts.open_alerts("CS-DURABLE")] == [alert["id"]]
        with watch_events(csms, "alert.") as alerts:
            async with connected_station(csms, "CS-DURABLE", OcppVersion.V16) as station:
                await boot(station)
                await station.call("StatusNotification", status_payload(
                    OcppVersion.V16, "Available"))
                resolved = (await alerts.next("alert.resolved")).data["alert"]
        assert resolved["id"] == alert["id"]
        assert (await api.get("/api/alerts", params={"state": "open"})).json()["total"] == 0
