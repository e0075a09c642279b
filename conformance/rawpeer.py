"""A station connection that puts any bytes on the wire and reads what comes back, unparsed.

The robustness suite needs what ``OcppSession`` exists to prevent: frames that are not JSON,
ids that are too long, a second CALL before the first is answered. ``RawPeer`` is a bare
WebSocket with the OCPP subprotocol, Basic auth and the case header, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from chargeloop.ocppj import OcppVersion
from chargeloop.ocppj.transport.websocket import station_url


class RawPeer:
    def __init__(self, url: str, identity: str, version: OcppVersion,
                 headers: dict[str, str], ssl_context: ssl.SSLContext | None) -> None:
        self.url = station_url(url, identity)
        self.version = version
        self.headers = headers
        self.ssl_context = ssl_context
        self.connection: ClientConnection | None = None
        self.sent: list[str | bytes] = []
        self.received: list[str | bytes] = []

    async def open(self, *, max_size: int | None = 2**20) -> None:
        self.connection = await websockets.connect(
            self.url, subprotocols=[self.version.value],  # type: ignore[list-item]
            additional_headers=self.headers, ssl=self.ssl_context, proxy=None,
            max_size=max_size, ping_interval=None)

    async def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()

    async def send(self, data: str | bytes) -> None:
        """Send ``data``; on a connection the CSMS has closed this does nothing (what the case
        reads next shows it)."""
        assert self.connection is not None
        self.sent.append(data)
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.connection.send(data)

    async def call(self, message_id: Any, action: str, payload: Any) -> None:
        await self.send(json.dumps([2, message_id, action, payload]))

    async def frame(self, timeout_s: float) -> list[Any] | str | None:
        """The next frame (parsed when it is a JSON array, else the raw text), or None when
        nothing came within ``timeout_s`` or the connection is closed."""
        assert self.connection is not None
        try:
            raw = await asyncio.wait_for(self.connection.recv(), timeout_s)
        except (TimeoutError, websockets.ConnectionClosed):
            return None
        self.received.append(raw)
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw if isinstance(raw, str) else raw.decode(errors="replace")
        return parsed if isinstance(parsed, list) else json.dumps(parsed)

    async def answer_to(self, message_id: str, timeout_s: float) -> list[Any] | None:
        """The CALLRESULT or CALLERROR for ``message_id`` (CALLs of the CSMS in between are
        skipped), or None."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (left := deadline - loop.time()) > 0:
            frame = await self.frame(left)
            if frame is None:
                return None
            if isinstance(frame, list) and len(frame) >= 2 and frame[0] in (3, 4) \
                    and frame[1] == message_id:
                return frame
        return None

    @property
    def open_(self) -> bool:
        return self.connection is not None and self.connection.close_code is None
