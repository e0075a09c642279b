"""Backends: the reference CSMS in-process over memory and loopback websockets, a CSMS at a
URL, and clean refusals."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from chargeloop.ocppj import OcppSession, OcppVersion, Role
from csms.config import UnknownStations
from simulator.backends import BackendUnreachable, ReferenceBackend, UrlBackend
from tests.simulator.station_support import WAIT_S, csms_config

V16, V201 = OcppVersion.V16, OcppVersion.V201
BOOT_16 = {"chargePointVendor": "chargeloop", "chargePointModel": "sim"}


async def boot_16(transport: object, station_id: str) -> dict[str, object]:
    session = OcppSession(transport, V16, role=Role.STATION, identity=station_id,  # type: ignore[arg-type]
                          call_timeout=WAIT_S)
    serving = asyncio.create_task(session.serve())
    try:
        return await session.call("BootNotification", BOOT_16)
    finally:
        await session.close()
        await asyncio.wait_for(serving, WAIT_S)


async def test_memory_backend_serves_stations_without_sockets(tmp_path: Path) -> None:
    async with ReferenceBackend(csms_config(tmp_path), "memory") as backend:
        assert backend.inspectable
        transport = await backend.connect("CS-MEM", V16)
        answer = await boot_16(transport, "CS-MEM")
        assert answer["status"] == "Accepted"
        assert backend.core.stations.get("CS-MEM").accepted
        with pytest.raises(RuntimeError):
            _ = backend.api_url


async def test_memory_backend_runs_the_csms_on_the_given_clock(tmp_path: Path) -> None:
    simulated = datetime(2030, 6, 1, 12, tzinfo=UTC)
    async with ReferenceBackend(csms_config(tmp_path), clock=lambda: simulated) as backend:
        answer = await boot_16(await backend.connect("CS-CLOCK", V16), "CS-CLOCK")
        assert answer["currentTime"].startswith("2030-06-01T12:00:00")


async def test_memory_backend_refuses_like_the_real_endpoint(tmp_path: Path) -> None:
    config = csms_config(tmp_path, unknown_stations=UnknownStations.REJECT,
                         versions=(V201,))
    async with ReferenceBackend(config) as backend:
        with pytest.raises(BackendUnreachable) as unknown:
            await backend.connect("CS-NOBODY", V201)
        assert unknown.value.status == 404
        await backend.core.stations.register("CS-PW", password="s3cret-password-16")
        with pytest.raises(BackendUnreachable) as no_password:
            await backend.connect("CS-PW", V201)
        assert no_password.value.status == 401
        with pytest.raises(BackendUnreachable):
            await backend.connect("CS-PW", V201, password="wrong")
        with pytest.raises(BackendUnreachable):
            await backend.connect("CS-PW", V16, password="s3cret-password-16")  # no 1.6 here
        assert await backend.connect("CS-PW", V201, password="s3cret-password-16")


async def test_websocket_backend_and_url_backend(tmp_path: Path) -> None:
    async with ReferenceBackend(csms_config(tmp_path), "websocket") as backend:
        assert backend.port and backend.ocpp_url.startswith("ws://127.0.0.1:")
        answer = await boot_16(await backend.connect("CS-WS", V16), "CS-WS")
        assert answer["status"] == "Accepted"
        async with httpx.AsyncClient(base_url=backend.api_url, timeout=WAIT_S, headers={
                "Authorization": f"Bearer {backend.admin_token}"}) as api:
            listed = await api.get("/api/stations/CS-WS")
            assert listed.status_code == 200, listed.text

        await backend.core.stations.register("CS-URL", password="another-password-1")
        url = UrlBackend(backend.ocpp_url, {"CS-URL": "another-password-1"}, None)
        assert not url.inspectable
        answer = await boot_16(await url.connect("CS-URL", V16), "CS-URL")
        assert answer["status"] == "Accepted"
        with pytest.raises(BackendUnreachable) as refused:
            await url.connect("CS-URL", V16, password="not-it")
        assert refused.value.status == 401


async def test_url_backend_unreachable_is_clean() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = UrlBackend(f"ws://127.0.0.1:{port}/ocpp", open_timeout_s=2.0)
    with pytest.raises(BackendUnreachable):
        await backend.connect("CS-GONE", V201)
