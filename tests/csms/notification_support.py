"""Helpers for the notification tests: a driver's API client, and a real HTTP receiver for
webhooks (``asyncio.start_server`` on 127.0.0.1, port 0, speaking just enough HTTP/1.1 to take
a POST and answer with the status the test scripts). Tests await what they expect (bounded),
never sleep."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import orjson

from csms.server import RunningCsms

TIMEOUT_S = 5.0


async def driver_client(csms: RunningCsms, api: httpx.AsyncClient,
                        account_id: str) -> httpx.AsyncClient:
    """An API client with a driver token for ``account_id`` (made by the admin client)."""
    made = await api.post("/api/api-tokens", json={"name": f"app of {account_id}",
                                                   "role": "driver", "subject": account_id})
    assert made.status_code == 201, made.text
    return httpx.AsyncClient(base_url=csms.api_url, timeout=10.0,
                             headers={"Authorization": f"Bearer {made.json()['token']}"})
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 410: "Gone",
            500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> dict:
        return orjson.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.statuses: deque[int] = deque()  # answers to give, in order; then 200
        self.requests: asyncio.Queue[Received] = asyncio.Queue()
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/chargeloop"

    async def next(self, timeout: float = TIMEOUT_S) -> Received:
        return await asyncio.wait_for(self.requests.get(), timeout)

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                method, path, _ = request_line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = self.statuses.popleft() if self.statuses else 200
                await self.requests.put(Received(method, path, headers, body))
                writer.write(f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
                             "Content-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def webhook_receiver(port: int = 0) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start(port)
    try:
        yield receiver
    finally:
        await receiver.stop()


class SseReader:
    """Frames of a server-sent event stream, read line by line (comments skipped)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def comment(self, timeout: float = TIMEOUT_S) -> str:
        async with asyncio.timeout(timeout):
            while True:
                line = await anext(self._lines)
                if line.startswith(":"):
                    return line[1:].strip()

    async def frame(self, timeout: float = TIMEOUT_S) -> dict[str, str]:
        """The next frame's fields (``id``, ``event``, ``data``)."""
        fields: dict[str, str] = {}
        async with asyncio.timeout(timeout):
            while True:
                line = await anext(self._lines)
                if line.startswith(":"):
                    continue
                if not line:
                    if fields:
                        return fields
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.lstrip(" ")


async def place(api: httpx.AsyncClient, station_id: str, latitude: float, longitude: float,
                connectors: list[tuple[int, str, float]]) -> None:
    """Register the station (if new) and set its position and connectors (evse, type, W)."""
    if (await api.get(f"/api/stations/{station_id}")).status_code == 404:
        assert (await api.post("/api/stations", json={"id": station_id})).status_code == 201
    response = await api.put(f"/api/stations/{station_id}/location", json={
        "name": f"{station_id} car park", "latitude": latitude, "longitude": longitude,
        "connectors": [{"evse_id": evse, "connector_id": 1, "connector_type": kind,
                        "max_power_w": power} for evse, kind, power in connectors]})
    assert response.status_code == 200, response.text


async def kinds_of(driver: httpx.AsyncClient, prefix: str | None = None) -> list[dict]:
    """The driver's notifications (oldest first), optionally of a kind prefix."""
    params = {"kind": prefix} if prefix else {}
    page = (await driver.get("/api/me/notifications", params=params)).json()
    return list(reversed(page["items"]))
