"""The driver API the app needs beside what existed: start and stop charging
(``POST /api/me/sessions``, ``POST /api/me/sessions/{station}/{tx}/stop``) and the power of a
running session (``power_w``). A real CSMS on loopback; we play an OCPP 1.6 station over a
real WebSocket."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.config import CsmsConfig
from csms.server import RunningCsms, running_csms
from tests.csms.support import boot, connected_station, stamp
from tests.web.conftest import ID_TOKEN, WAIT_S, _setup_accounts


@dataclass
class DriverApi:
    csms: RunningCsms
    admin: httpx.AsyncClient
    driver: httpx.AsyncClient
    operator_token: str
    account_id: str


@pytest.fixture
async def driver_api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[DriverApi]:
    database = tmp_path / "csms.db"
    shutil.copyfile(sqlite_template, database)
    config = CsmsConfig(port=0, database_url=f"sqlite+aiosqlite:///{database}",
                        admin_token_file=tmp_path / "admin.token", watchdog_interval_s=3600.0)
    async with running_csms(config) as csms, httpx.AsyncClient(
            base_url=csms.api_url, timeout=WAIT_S,
            headers={"Authorization": f"Bearer {csms.admin_token}"}) as admin:
        operator, driver_token, account_id = await _setup_accounts(admin)
        async with httpx.AsyncClient(base_url=csms.api_url, timeout=WAIT_S, headers={
                "Authorization": f"Bearer {driver_token}"}) as driver:
            yield DriverApi(csms, admin, driver, operator, account_id)


class Station16:
    """What the station was asked, and its answers."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.routes = {action: self._answer(action) for action in (
            "RemoteStartTransaction", "RemoteStopTransaction")}

    def _answer(self, action: str) -> Any:
        def handle(payload: dict[str, Any]) -> dict[str, Any]:
            self.received.append((action, payload))
            return {"status": "Accepted"}

        return handle


async def test_a_driver_starts_follows_and_stops_a_session(driver_api: DriverApi) -> None:
    station = Station16()
    async with connected_station(driver_api.csms, "CS-API-16", OcppVersion.V16,
                                 routes=station.routes) as cs:
        await boot(cs)
        started = await driver_api.driver.post("/api/me/sessions",
                                               json={"station_id": "CS-API-16", "evse_id": 1})
        assert started.status_code == 200, started.text
        assert started.json() == {"station_id": "CS-API-16", "evse_id": 1,
                                  "id_token": ID_TOKEN, "status": "Accepted",
                                  "remote_start_id": None}
        assert station.received == [("RemoteStartTransaction",
                                     {"idTag": ID_TOKEN, "connectorId": 1})]

        # The station starts, then reports energy and the power phase by phase.
        answer = await cs.call("StartTransaction", {"connectorId": 1, "idTag": ID_TOKEN,
                                                    "meterStart": 1000, "timestamp": stamp()})
        tx = answer["transactionId"]
        await cs.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
            "timestamp": stamp(1), "sampledValue": [
                {"value": "1500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                *({"value": "2.4", "measurand": "Power.Active.Import", "unit": "kW",
                   "phase": phase} for phase in ("L1", "L2", "L3"))]}]})
        [running] = (await driver_api.driver.get("/api/me/sessions",
                                                 params={"active": "true"})).json()
        assert running["transaction_id"] == str(tx)
        assert running["energy_wh"] == pytest.approx(500.0)
        assert running["power_w"] == pytest.approx(7200.0)

        stopped = await driver_api.driver.post(f"/api/me/sessions/CS-API-16/{tx}/stop")
        assert stopped.status_code == 200, stopped.text
        assert stopped.json() == {"station_id": "CS-API-16", "transaction_id": str(tx),
                                  "status": "Accepted"}
        assert station.received[-1] == ("RemoteStopTransaction", {"transactionId": tx})
        await cs.call("StopTransaction", {"transactionId": tx, "meterStop": 1600,
                                          "timestamp": stamp(2), "reason": "Remote"})

    ended = (await driver_api.driver.get(f"/api/me/sessions/CS-API-16/{tx}")).json()
    assert ended["state"] == "Completed" and ended["power_w"] is None
    again = await driver_api.driver.post(f"/api/me/sessions/CS-API-16/{tx}/stop")
    assert again.status_code == 409 and "already ended" in again.json()["detail"]
    audit = (await driver_api.admin.get("/api/audit", params={
        "station_id": "CS-API-16", "action": "RemoteStartTransaction"})).json()["items"]
    assert [(a["actor"], a["role"]) for a in audit] == [("dana-phone", "driver")]


async def test_start_and_stop_refuse_what_is_not_the_drivers(driver_api: DriverApi) -> None:
    driver, admin = driver_api.driver, driver_api.admin

    not_mine = await driver.post("/api/me/sessions", json={"station_id": "CS-X",
                                                           "id_token": "SOMEONE-ELSE"})
    assert not_mine.status_code == 422
    assert not_mine.json()["detail"][0]["loc"] == ["body", "id_token"]

    unknown = await driver.post("/api/me/sessions", json={"station_id": "CS-NOWHERE"})
    assert unknown.status_code == 404 and "CS-NOWHERE" in unknown.json()["detail"]

    assert (await admin.post("/api/stations", json={"id": "CS-OFF"})).status_code == 201
    offline = await driver.post("/api/me/sessions", json={"station_id": "CS-OFF"})
    assert offline.status_code == 409
    assert offline.json()["detail"]["outcome"] == "offline"

    missing = await driver.post("/api/me/sessions", json={"evse_id": 1})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "station_id"]

    bad_evse = await driver.post("/api/me/sessions", json={"station_id": "CS-OFF",
                                                           "evse_id": 0})
    assert bad_evse.status_code == 422
    assert bad_evse.json()["detail"][0]["loc"] == ["body", "evse_id"]

    nobody = await driver.post("/api/me/sessions/CS-OFF/42/stop")
    assert nobody.status_code == 404 and "on your account" in nobody.json()["detail"]

    operator = await admin.post("/api/me/sessions", json={"station_id": "CS-OFF"}, headers={
        "Authorization": f"Bearer {driver_api.operator_token}"})
    assert operator.status_code == 403 and "driver" in operator.json()["detail"]
    async with httpx.AsyncClient(base_url=driver_api.csms.api_url) as nobody_at_all:
        anonymous = await nobody_at_all.post("/api/me/sessions", json={"station_id": "CS-OFF"})
    assert anonymous.status_code == 401


async def test_the_pages_are_served_with_a_same_origin_policy(driver_api: DriverApi) -> None:
    async with httpx.AsyncClient(base_url=driver_api.csms.api_url) as client:
        assert (await client.get("/")).headers["location"] == "/web"
        for path in ("/web", "/dashboard", "/driver", "/web/static/common.js"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert "default-src 'self'" in page.headers["content-security-policy"], path
        assert (await client.get("/web/static/nothing.js")).status_code == 404
        # the package's Python files are not among the assets, however the path is spelt
        assert (await client.get("/web/static/%2e%2e/pages.py")).status_code == 404
        spec = (await client.get("/openapi.json")).json()
        assert "/dashboard" not in spec["paths"]
        assert spec["paths"]["/api/me/sessions"]["post"]["summary"]
