"""A station's history over the API: status changes, meter values outside transactions, and
the OCPP frames it exchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_status_history_newest_first_with_filters(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    async with connected_station(csms, "CS-HIST", version) as station:
        await boot(station)
        for offset, connector, status in ((-600, 1, "Available"), (-10, 1, "Faulted"),
                                          (-5, 2, "Available"), (-300, 2, "Unavailable")):
            if version is OcppVersion.V16:
                await station.call("StatusNotification", {
                    "connectorId": connector, "status": status, "timestamp": stamp(offset),
                    "errorCode": "GroundFailure" if status == "Faulted" else "NoError"})
            else:
                await station.call("StatusNotification", {
                    "timestamp": stamp(offset), "connectorStatus": status,
                    "evseId": connector, "connectorId": 1})
    history = (await api.get("/api/stations/CS-HIST/status-history")).json()
    assert history["total"] == 4
    assert [(h["evse_id"], h["status"]) for h in history["items"]] == [
        (2, "Available"), (1, "Faulted"), (2, "Unavailable"), (1, "Available")]
    assert [h["late"] for h in history["items"]] == [False, False, True, True]
    if version is OcppVersion.V16:
        assert history["items"][1]["error_code"] == "GroundFailure"
        assert history["items"][0]["error_code"] is None

    only_one = (await api.get("/api/stations/CS-HIST/status-history",
                              params={"evse_id": 1})).json()
    assert [h["status"] for h in only_one["items"]] == ["Faulted", "Available"]
    recent = (await api.get("/api/stations/CS-HIST/status-history", params={
        "from": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()})).json()
    assert recent["total"] == 2
    paged = (await api.get("/api/stations/CS-HIST/status-history",
                           params={"limit": 1, "offset": 1})).json()
    assert [h["status"] for h in paged["items"]] == ["Faulted"] and paged["total"] == 4
    assert (await api.get("/api/stations/NOPE/status-history")).status_code == 404


async def test_station_meter_values_filter_by_measurand_and_time(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with connected_station(csms, "CS-MV", OcppVersion.V201) as station:
        await boot(station)
        await station.call("MeterValues", {"evseId": 0, "meterValue": [
            {"timestamp": stamp(-120), "sampledValue": [{"value": 100.0},
                                                         {"value": 49.9, "measurand": "Frequency",
                                                          "unitOfMeasure": {"unit": "Hz"}}]},
            {"timestamp": stamp(-30), "sampledValue": [{"value": 200.0}]}]})
    every = (await api.get("/api/stations/CS-MV/meter-values")).json()
    assert [(m["measurand"], m["value"]) for m in every["items"]] == [
        ("Energy.Active.Import.Register", 100), ("Frequency", 49.9),
        ("Energy.Active.Import.Register", 200)]
    energy = (await api.get("/api/stations/CS-MV/meter-values",
                            params={"measurand": "Energy.Active.Import.Register"})).json()
    assert [m["value"] for m in energy["items"]] == [100, 200]
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    recent = (await api.get("/api/stations/CS-MV/meter-values", params={"from": since})).json()
    assert [m["value"] for m in recent["items"]] == [200]
    assert (await api.get("/api/stations/NOPE/meter-values")).status_code == 404


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_recent_messages_show_both_directions(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    async with connected_station(csms, "CS-FRAMES", version) as station:
        await boot(station)
        await station.call("Heartbeat")
    frames = (await api.get("/api/stations/CS-FRAMES/messages")).json()
    assert [(f["direction"], f["action"], f["message_type"]) for f in frames] == [
        ("in", "BootNotification", 2), ("out", "BootNotification", 3),
        ("in", "Heartbeat", 2), ("out", "Heartbeat", 3)]
    assert frames[0]["version"] == version.value and frames[0]["outcome"] == "ok"
    assert frames[0]["message_id"] == frames[1]["message_id"]
    assert '"BootNotification"' in frames[0]["raw"]
    stamps = [datetime.fromisoformat(f["at"]) for f in frames]
    assert stamps == sorted(stamps)
    heartbeats = (await api.get("/api/stations/CS-FRAMES/messages",
                                params={"action": "Heartbeat"})).json()
    assert [f["direction"] for f in heartbeats] == ["in", "out"]
    last = (await api.get("/api/stations/CS-FRAMES/messages", params={"limit": 1})).json()
    assert [(f["direction"], f["action"]) for f in last] == [("out", "Heartbeat")]
    assert (await api.get("/api/stations/NOPE/messages")).status_code == 404
