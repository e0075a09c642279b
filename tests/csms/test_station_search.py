"""Station locations and station search: operators describe where stations are and what their
connectors offer; drivers find stations by distance, connector type, power and "free now"
(stations played over real websockets report their statuses)."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.domain.geo import EARTH_RADIUS_KM, Position, distance_km
from csms.domain.station_search import SearchQuery
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp

ORIGIN = (52.5, 13.4)
# Stations due north of the origin: the great-circle distance is R * dlat (in radians).
NEAR, MID, FAR = 52.51, 52.545, 52.77


def north_km(latitude: float) -> float:
    return EARTH_RADIUS_KM * math.radians(latitude - ORIGIN[0])


def test_haversine_distance() -> None:
    berlin, paris = Position(52.5200, 13.4050), Position(48.8566, 2.3522)
    assert distance_km(berlin, paris) == pytest.approx(877.5, abs=1.0)
    assert distance_km(berlin, berlin) == 0.0
    assert distance_km(Position(0, 0), Position(0, 180)) == pytest.approx(
        math.pi * EARTH_RADIUS_KM)
    with pytest.raises(ValueError, match="latitude"):
        Position(91, 0)


async def driver_client(csms: RunningCsms, api: httpx.AsyncClient,
                        account: str) -> httpx.AsyncClient:
    made = await api.post("/api/api-tokens", json={"name": account, "role": "driver",
                                                   "subject": account})
    assert made.status_code == 201, made.text
    return httpx.AsyncClient(base_url=csms.api_url, timeout=10.0,
                             headers={"Authorization": f"Bearer {made.json()['token']}"})


async def place(api: httpx.AsyncClient, station_id: str, latitude: float,
                connectors: list[tuple[int, str, float]]) -> dict[str, Any]:
    if (await api.get(f"/api/stations/{station_id}")).status_code == 404:
        assert (await api.post("/api/stations", json={"id": station_id})).status_code == 201
    response = await api.put(f"/api/stations/{station_id}/location", json={
        "name": f"{station_id} car park", "address": "Somewhere 1, Berlin",
        "latitude": latitude, "longitude": ORIGIN[1],
        "connectors": [{"evse_id": evse, "connector_id": 1, "connector_type": kind,
                        "max_power_w": power} for evse, kind, power in connectors]})
    assert response.status_code == 200, response.text
    return response.json()


def summary(found: list[dict[str, Any]]) -> list[tuple[str, list[int]]]:
    return [(s["station_id"], [c["evse_id"] for c in s["connectors"]]) for s in found]


async def test_search_by_distance_type_power_and_free_now(csms: RunningCsms,
                                                          api: httpx.AsyncClient) -> None:
    await place(api, "CS-NEAR", NEAR, [(1, "cCCS2", 150_000), (2, "cType2", 22_000)])
    await place(api, "CS-MID", MID, [(1, "cType2", 11_000), (2, "cCCS2", 50_000)])
    await place(api, "CS-FAR", FAR, [(1, "cCCS2", 300_000)])
    assert (await api.post("/api/stations", json={"id": "CS-NOWHERE"})).status_code == 201

    async def accept(_: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    reserve = {"ReserveNow": accept}
    async with (connected_station(csms, "CS-NEAR", OcppVersion.V201) as near,
                connected_station(csms, "CS-MID", OcppVersion.V16, routes=reserve) as mid,
                await driver_client(csms, api, "acct-search") as driver):
        await boot(near)
        await boot(mid)
        for evse, state in ((1, "Available"), (2, "Occupied")):
            await near.call("StatusNotification", {
                "timestamp": stamp(), "connectorStatus": state, "evseId": evse,
                "connectorId": 1})
        for connector in (1, 2):
            await mid.call("StatusNotification", {"connectorId": connector, "status": "Available",
                                                  "errorCode": "NoError", "timestamp": stamp()})
        # An operator's reservation takes CS-MID's CCS connector out of "free".
        reserved = await api.post("/api/reservations", json={
            "station_id": "CS-MID", "evse_id": 2, "id_token": "SOMEONE", "expires_in_s": 600})
        assert reserved.json()["reservation"]["status"] == "Accepted", reserved.text

        async def search(**params: Any) -> list[dict[str, Any]]:
            response = await driver.get("/api/station-search", params={
                "latitude": ORIGIN[0], "longitude": ORIGIN[1], **params})
            assert response.status_code == 200, response.text
            return response.json()

        within_10 = await search(radius_km=10)
        assert summary(within_10) == [("CS-NEAR", [1, 2]), ("CS-MID", [1, 2])]
        assert [s["distance_km"] for s in within_10] == [
            pytest.approx(north_km(NEAR), abs=0.001), pytest.approx(north_km(MID), abs=0.001)]
        assert within_10[0]["name"] == "CS-NEAR car park" and within_10[0]["online"] is True
        assert within_10[0]["connectors"][0] == {
            "evse_id": 1, "connector_id": 1, "connector_type": "cCCS2",
            "max_power_w": 150_000.0, "status": "Available", "free": True}
        assert summary(await search(radius_km=50)) == [
            ("CS-NEAR", [1, 2]), ("CS-MID", [1, 2]), ("CS-FAR", [1])]
        assert summary(await search(radius_km=50, connector_type="cCCS2",
                                    min_power_w=100_000)) == [("CS-NEAR", [1]), ("CS-FAR", [1])]
        # Free now: Available, online, not reserved; CS-FAR is offline.
        assert summary(await search(radius_km=50, free_now=True)) == [
            ("CS-NEAR", [1]), ("CS-MID", [1])]
        assert summary(await search(radius_km=50, free_now=True, connector_type="cCCS2")) == [
            ("CS-NEAR", [1])]
        assert summary(await search(radius_km=50, limit=1)) == [("CS-NEAR", [1, 2])]
        assert await search(radius_km=1) == []

        # The in-memory checks the notification service uses on every status change.
        search_service = csms.core.station_search
        assert search_service.position("CS-MID") == Position(MID, ORIGIN[1])
        assert search_service.position("CS-NOWHERE") is None
        assert [(c.evse_id, c.free) for c in search_service.matching_connectors(
            "CS-MID", "cCCS2", 40_000)] == [(2, False)]
        found = await search_service.find(SearchQuery(*ORIGIN, radius_km=50, free_now=True,
                                                      min_power_w=100_000))
        assert [(m.station_id, m.free) for m in found] == [("CS-NEAR", True)]

        # A status change is seen by the next search at once.
        await near.call("StatusNotification", {"timestamp": stamp(), "connectorStatus":
                                               "Occupied", "evseId": 1, "connectorId": 1})
        assert summary(await search(radius_km=50, free_now=True)) == [("CS-MID", [1])]

        refused = await driver.put("/api/stations/CS-NEAR/location", json={"name": "mine"})
        assert refused.status_code == 403  # drivers search; operators describe stations


async def test_location_input_is_checked(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/stations", json={"id": "CS-LOC"})).status_code == 201
    half = await api.put("/api/stations/CS-LOC/location", json={"latitude": 52.5})
    assert half.status_code == 422 and "both latitude and longitude" in half.text
    wrong = await api.put("/api/stations/CS-LOC/location", json={
        "latitude": 95, "longitude": 13.4, "connectors": [
            {"evse_id": 0, "connector_id": 1, "max_power_w": -5, "connector_type": "Tesla"}]})
    assert wrong.status_code == 422
    fields = {tuple(error["loc"][1:]) for error in wrong.json()["detail"]}
    assert fields == {("latitude",), ("connectors", 0, "evse_id"),
                      ("connectors", 0, "max_power_w"), ("connectors", 0, "connector_type")}
    unknown = await api.put("/api/stations/NOPE/location", json={"name": "x"})
    assert unknown.status_code == 404
    one = await api.put("/api/stations/CS-LOC/evses/2/connectors/1",
                        json={"connector_type": "cType2", "max_power_w": 22000})
    assert one.status_code == 200, one.text
    assert one.json()["connectors"] == [{"evse_id": 2, "connector_id": 1,
                                         "connector_type": "cType2", "max_power_w": 22000.0,
                                         "status": None, "free": False}]
    search = await api.get("/api/station-search", params={"latitude": 91, "longitude": 0})
    assert search.status_code == 422 and search.json()["detail"][0]["loc"] == [
        "query", "latitude"]
    # The location survives a restart of the in-memory state (read back from the database).
    await api.put("/api/stations/CS-LOC/location", json={
        "name": "Depot", "latitude": 48.1, "longitude": 11.5})
    core = csms.core
    await core.stations.load()
    await core.connectors.load()
    view = (await api.get("/api/stations/CS-LOC/location")).json()
    assert (view["name"], view["latitude"], view["longitude"]) == ("Depot", 48.1, 11.5)
    assert view["connectors"][0]["connector_type"] == "cType2"
