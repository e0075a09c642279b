"""Fixtures for the browser tests: a real CSMS on loopback (SQLite file), simulated stations
connected to it over real WebSockets running in real time, a driver account, and Debian's
Chromium driven by Playwright.

The stations are the simulator's :class:`~simulator.station.SimStation` on a :class:`SimClock`
at speed 1, so they answer commands, report statuses and send meter values as a charger would;
the test drives them (a car plugs in, a card is presented) with SimPy processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from chargeloop.clock import SimClock
from chargeloop.ocppj import OcppVersion
from csms.config import CsmsConfig
from csms.server import RunningCsms, running_csms
from simulator.backends import UrlBackend
from simulator.station import ConnectorSpec, EvseSpec, Link, Recorder, SimStation, StationSpec
from tests.csms.conftest import sqlite_template  # noqa: F401 (a fixture, used by name)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WAIT_S = 10.0  # bound for anything awaited; a healthy run takes far less
UI_WAIT_MS = 10_000

# A small network around Berlin's Alexanderplatz: one 1.6 AC station, one 2.0.1 DC station.
HERE = (52.5219, 13.4132)
ID_TOKEN = "WEB-CARD-1"

# Where a copy of each page's screenshot goes for the README (set when regenerating them).
SCREENSHOT_COPY_DIR = os.environ.get("CHARGELOOP_WEB_SCREENSHOTS")


@dataclass
class Network:
    csms: RunningCsms
    admin: httpx.AsyncClient
    clock: SimClock
    stations: dict[str, SimStation]
    operator_token: str
    driver_token: str
    account_id: str
    screenshots: Path
    _runner: asyncio.Task[None] | None = field(default=None, repr=False)

    def spawn(self, generator: Any) -> None:
        """Run a SimPy process (a driver's action) on the stations' clock."""
        self.clock.spawn(generator)

    async def until(self, what: str, check: Callable[[], Awaitable[bool] | bool],
                    timeout_s: float = WAIT_S) -> None:
        """Poll ``check`` until it holds, at most ``timeout_s`` (then fail naming ``what``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"{what}: not within {timeout_s:g} s")

    def save(self, name: str, data: bytes) -> Path:
        path = self.screenshots / name
        path.write_bytes(data)
        if SCREENSHOT_COPY_DIR:
            shutil.copyfile(path, Path(SCREENSHOT_COPY_DIR) / name)
        return path


def _spec(station_id: str, version: OcppVersion, evses: tuple[EvseSpec, ...]) -> StationSpec:
    return StationSpec(station_id, version, evses=evses, start_jitter_s=0.0,
                       heartbeat_interval_s=60, meter_sample_interval_s=1,
                       retry_backoff_min_s=1, retry_backoff_random_s=1, reboot_s=1.0,
                       model=f"web-test-{version.short}")


STATIONS = {
    "CS-ALEX-AC": (OcppVersion.V16, (EvseSpec(1, 11_000.0), EvseSpec(2, 11_000.0)),
                   {"name": "Alexa car park", "address": "Grunerstr. 20, Berlin",
                    "latitude": 52.5197, "longitude": 13.4155}, "cType2"),
    "CS-ALEX-DC": (OcppVersion.V201,
                   (EvseSpec(1, 50_000.0, "DC", connectors=(ConnectorSpec(1, "cCCS2"),)),),
                   {"name": "Rathaus fast charger", "address": "Rathausstr. 5, Berlin",
                    "latitude": 52.5186, "longitude": 13.4081}, "cCCS2"),
}


async def _setup_accounts(admin: httpx.AsyncClient) -> tuple[str, str, str]:
    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await admin.post(path, json=body)
        assert answer.status_code in (200, 201), f"{path}: {answer.status_code} {answer.text}"
        return answer.json()

    operator = await post("/api/api-tokens", {"name": "web-operator", "role": "operator"})
    account = await post("/api/accounts", {"name": "Dana Driver", "email": "dana@example.org",
                                           "currency": "EUR"})
    await post(f"/api/accounts/{account['id']}/tokens", {"token": ID_TOKEN, "type": "ISO14443"})
    await post(f"/api/accounts/{account['id']}/payment-methods",
               {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2035})
    driver = await post("/api/api-tokens", {"name": "dana-phone", "role": "driver",
                                            "subject": account["id"]})
    await post("/api/tariffs", {
        "id": "web", "name": "Web test", "currency": "EUR", "time_zone": "Europe/Berlin",
        "energy_price_per_kwh": "0.50", "session_fee": "0.30", "vat_percent": "19"})
    await post("/api/tariffs/web/assignments", {})
    return operator["token"], driver["token"], account["id"]


@pytest.fixture
async def network(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Network]:  # noqa: F811
    database = tmp_path / "csms.db"
    shutil.copyfile(sqlite_template, database)
    config = CsmsConfig(port=0, database_url=f"sqlite+aiosqlite:///{database}",
                        admin_token_file=tmp_path / "admin.token", watchdog_interval_s=1.0,
                        upload_dir=tmp_path / "uploads")
    async with running_csms(config) as csms:
        assert csms.admin_token is not None
        async with httpx.AsyncClient(base_url=csms.api_url, timeout=WAIT_S, headers={
                "Authorization": f"Bearer {csms.admin_token}"}) as admin:
            operator, driver, account_id = await _setup_accounts(admin)
            for station_id, (_, evses, place, connector_type) in STATIONS.items():
                created = await admin.post("/api/stations", json={"id": station_id})
                assert created.status_code == 201, created.text
                located = await admin.put(f"/api/stations/{station_id}/location", json={
                    **place, "connectors": [
                        {"evse_id": e.id, "connector_id": 1, "connector_type": connector_type,
                         "max_power_w": e.max_power_w} for e in evses]})
                assert located.status_code == 200, located.text

            start = datetime.now(UTC)
            clock = SimClock(start, speed=1.0)
            recorder = Recorder(start)
            backend = UrlBackend(csms.ocpp_url)
            stations = {}
            for n, (station_id, (version, evses, _, _)) in enumerate(STATIONS.items()):
                spec = _spec(station_id, version, evses)
                stations[station_id] = SimStation(spec, clock, Link.to(backend, station_id,
                                                                       version),
                                                  recorder, np.random.default_rng(n + 1))
            for station in stations.values():
                station.start()
            screenshots = tmp_path / "screenshots"
            screenshots.mkdir()
            here = Network(csms, admin, clock, stations, operator, driver, account_id,
                           screenshots)
            here._runner = asyncio.create_task(clock.run(6 * 3600.0))
            try:
                def all_available() -> bool:
                    for station_id, station in stations.items():
                        state = csms.core.stations.get(station_id)
                        if not (station.online and state is not None and state.connected):
                            return False
                        statuses = [c.status for c in csms.core.connectors.of_station(
                            station_id) if c.evse_id > 0]
                        if len(statuses) < len(station.evses) or \
                                any(s != "Available" for s in statuses):
                            return False
                    return True

                await here.until("both stations booted and Available", all_available)
                yield here
            finally:
                for station in stations.values():
                    station.shutdown()
                here._runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await here._runner


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, through Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        # skipped with the reason shown on a plain machine; in CI, whose .ci/run installs it,
        # a failed install must not hide
        missing = pytest.fail if os.environ.get("CHARGELOOP_CI") else pytest.skip
        missing(f"no {CHROMIUM}: apt-get install -y chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class PageWatch:
    """What a page did that a test must see: console errors, uncaught exceptions, and any
    request that left the CSMS's own origin."""

    origin: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: None if r.url.startswith((self.origin, "data:"))
                else self.foreign.append(r.url))
