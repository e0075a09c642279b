"""Availability and approaching over real websockets, on SQLite and PostgreSQL: a subscription
hears when a matching connector near its place turns free (once per free period), and an
approaching driver posting positions along a line gets exactly one alert at the right distance
and an update when the station is taken."""

from __future__ import annotations

import math
from datetime import timedelta

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.domain.geo import EARTH_RADIUS_KM
from csms.server import RunningCsms
from tests.csms.notification_support import driver_client, kinds_of, place
from tests.csms.support import boot, connected_station, stamp

ORIGIN = (52.5, 13.4)


def km_between(lat_a: float, lat_b: float) -> float:
    """Distance along a meridian: R times the latitude difference in radians."""
    return EARTH_RADIUS_KM * math.radians(abs(lat_a - lat_b))


def status_16(connector: int, status: str) -> dict[str, object]:
    return {"connectorId": connector, "errorCode": "NoError", "status": status,
            "timestamp": stamp()}


def status_201(evse: int, status: str) -> dict[str, object]:
    return {"timestamp": stamp(), "connectorStatus": status, "evseId": evse, "connectorId": 1}


async def check_subscriptions_api(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """Subscriptions are checked (422 naming the field), listed and deleted per account."""
    driver = await driver_client(csms, api, "acct-subs")
    async with driver:
        no_place = await driver.post("/api/me/subscriptions", json={
            "kind": "availability", "radius_km": 5})
        assert no_place.status_code == 422 and "latitude" in no_place.text
        placed = await driver.post("/api/me/subscriptions", json={
            "kind": "approaching", "radius_km": 5, "latitude": 52.5, "longitude": 13.4})
        assert placed.status_code == 422 and "positions" in placed.text
        far = await driver.post("/api/me/subscriptions", json={
            "kind": "approaching", "radius_km": 0})
        assert far.status_code == 422 and far.json()["detail"][0]["loc"] == [
            "body", "radius_km"]
        wrong_type = await driver.post("/api/me/subscriptions", json={
            "kind": "approaching", "radius_km": 5, "connector_type": "Schuko"})
        assert wrong_type.status_code == 422
        made = await driver.post("/api/me/subscriptions", json={
            "kind": "availability", "radius_km": 5, "latitude": 52.5, "longitude": 13.4,
            "connector_type": "cCCS2", "min_power_w": 50_000, "label": "Home"})
        assert made.status_code == 201, made.text
        listed = (await driver.get("/api/me/subscriptions")).json()
        assert [(s["kind"], s["label"], s["connector_type"]) for s in listed] == [
            ("availability", "Home", "cCCS2")]
        other = await driver_client(csms, api, "acct-nosy")
        async with other:
            assert (await other.get("/api/me/subscriptions")).json() == []
            gone = await other.delete(f"/api/me/subscriptions/{made.json()['id']}")
            assert gone.status_code == 404  # not theirs
        assert (await driver.delete(
            f"/api/me/subscriptions/{made.json()['id']}")).status_code == 204
        assert (await driver.get("/api/me/subscriptions")).json() == []


async def test_availability_fires_when_a_matching_connector_turns_free(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await check_subscriptions_api(csms, api)
    await place(api, "CS-AV", 52.52, ORIGIN[1], [(1, "cCCS2", 150_000), (2, "cType2", 22_000)])
    await place(api, "CS-FAR", 52.80, ORIGIN[1], [(1, "cCCS2", 150_000)])
    service = csms.core.notifications
    dc = await driver_client(csms, api, "acct-dc")
    ac = await driver_client(csms, api, "acct-ac")
    async with dc, ac:
        for driver, kind, power in ((dc, "cCCS2", 50_000), (ac, "cType2", None)):
            made = await driver.post("/api/me/subscriptions", json={
                "kind": "availability", "radius_km": 5, "latitude": ORIGIN[0],
                "longitude": ORIGIN[1], "connector_type": kind, "min_power_w": power})
            assert made.status_code == 201, made.text
        async with connected_station(csms, "CS-AV", OcppVersion.V16) as station, \
                connected_station(csms, "CS-FAR", OcppVersion.V16) as far:
            await boot(station)
            await boot(far)
            for session, connector in ((station, 1), (station, 2), (far, 1)):
                await session.call("StatusNotification", status_16(connector, "Charging"))
            await service.settle()
            assert await kinds_of(dc) == [] and await kinds_of(ac) == []

            await station.call("StatusNotification", status_16(1, "Available"))
            await station.call("StatusNotification", status_16(1, "Available"))  # still free
            await far.call("StatusNotification", status_16(1, "Available"))  # too far
            await service.settle()
            [free] = await kinds_of(dc)
            assert free["kind"] == "availability.free"
            data = free["data"]
            assert (data["station_id"], data["evse_id"], data["connector_id"]) == ("CS-AV", 1, 1)
            assert data["connector_type"] == "cCCS2" and data["max_power_w"] == 150_000
            assert data["distance_km"] == pytest.approx(km_between(52.52, ORIGIN[0]), abs=0.01)
            assert data["name"] == "CS-AV car park"
            assert await kinds_of(ac) == []  # not its type

            await station.call("StatusNotification", status_16(2, "Available"))
            # Taken and free again: a new free period, told again.
            await station.call("StatusNotification", status_16(1, "Preparing"))
            await station.call("StatusNotification", status_16(1, "Available"))
            await service.settle()
            assert [(n["kind"], n["data"]["evse_id"]) for n in await kinds_of(ac)] == [
                ("availability.free", 2)]
            assert [n["data"]["evse_id"] for n in await kinds_of(dc)] == [1, 1]


async def test_an_approaching_driver_gets_one_alert_and_an_update_when_taken(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    station_lat = 52.60
    await place(api, "CS-AP", station_lat, ORIGIN[1], [(1, "cCCS2", 150_000)])
    await place(api, "CS-AC", 52.58, ORIGIN[1], [(1, "cType2", 22_000)])  # not the type
    service = csms.core.notifications
    driver = await driver_client(csms, api, "acct-road")
    async with driver, connected_station(csms, "CS-AP", OcppVersion.V201) as station, \
            connected_station(csms, "CS-AC", OcppVersion.V201) as ac_station:
        await boot(station)
        await boot(ac_station)
        await station.call("StatusNotification", status_201(1, "Available"))
        await ac_station.call("StatusNotification", status_201(1, "Available"))
        assert (await driver.post("/api/me/subscriptions", json={
            "kind": "approaching", "radius_km": 5, "connector_type": "cCCS2",
            "min_power_w": 50_000})).status_code == 201

        # Driving north along the meridian, a position every 0.01 degrees (about 1.1 km).
        alerts: list[tuple[float, dict]] = []
        for step in range(14):  # 52.45 ... 52.58
            latitude = round(52.45 + step * 0.01, 5)
            posted = await driver.post("/api/me/positions", json={
                "latitude": latitude, "longitude": ORIGIN[1]})
            assert posted.status_code == 200, posted.text
            alerts += [(latitude, n) for n in posted.json()["notifications"]]
        [(where, alert)] = alerts
        assert where == 52.56  # the first position within 5 km (52.55 is 5.6 km away)
        assert alert["kind"] == "approaching.free"
        assert alert["data"]["distance_km"] == pytest.approx(km_between(52.56, station_lat),
                                                             abs=0.001)
        assert alert["data"]["station_id"] == "CS-AP" and alert["data"]["again"] is False
        assert [c["evse_id"] for c in alert["data"]["connectors"]] == [1]
        assert posted.json()["nearby"] == [{"subscription_id": alert["data"]["subscription_id"],
                                            "station_id": "CS-AP", "state": "alerted",
                                            "distance_km": pytest.approx(2.224, abs=0.001)}]

        # Someone else takes it before the driver arrives: told at once, not on a position.
        await station.call("StatusNotification", status_201(1, "Occupied"))
        await service.settle()
        taken = (await kinds_of(driver, "approaching"))[-1]
        assert taken["kind"] == "approaching.taken"
        assert taken["data"]["statuses"] == ["Occupied"] and taken["data"]["station_online"]
        nothing = await driver.post("/api/me/positions", json={
            "latitude": 52.59, "longitude": ORIGIN[1]})
        assert nothing.json()["notifications"] == []
        assert nothing.json()["nearby"][0]["state"] == "taken"

        # Free again while still on the way: told again; then the driver arrives.
        await station.call("StatusNotification", status_201(1, "Available"))
        await service.settle()
        arrived = await driver.post("/api/me/positions", json={
            "latitude": 52.5995, "longitude": ORIGIN[1]})
        assert arrived.json()["nearby"][0]["state"] == "arrived"
        await station.call("StatusNotification", status_201(1, "Occupied"))  # by the driver
        await service.settle()
        assert [(n["kind"], n["data"].get("again")) for n in await kinds_of(
            driver, "approaching")] == [("approaching.free", False),
                                        ("approaching.taken", None),
                                        ("approaching.free", True)]

        # A position older than the last one is ignored.
        stale = await driver.post("/api/me/positions", json={
            "latitude": 52.40, "longitude": ORIGIN[1],
            "at": (csms.core.clock() - timedelta(minutes=5)).isoformat()})
        assert stale.status_code == 200 and stale.json()["accepted"] is False
        naive = await driver.post("/api/me/positions", json={
            "latitude": 52.40, "longitude": ORIGIN[1], "at": "2024-01-01T10:00:00"})
        assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["body", "at"]
