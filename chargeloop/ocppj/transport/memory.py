"""An in-memory transport pair: the websocket interface without sockets, for in-process backends
and fast simulations."""

from __future__ import annotations

import asyncio

from chargeloop.ocppj.transport.base import TransportClosed

_CLOSE = object()


class MemoryTransport:
    def __init__(self, inbox: asyncio.Queue, subprotocol: str | None) -> None:
        self._inbox = inbox
        self._peer: MemoryTransport | None = None
        self._subprotocol = subprotocol
        self._closed: TransportClosed | None = None

    @property
    def subprotocol(self) -> str | None:
        return self._subprotocol

    async def send(self, text: str) -> None:
        if self._closed or self._peer is None or self._peer._closed:
            raise self._closed or TransportClosed(1006, "peer gone")
        self._peer._inbox.put_nowait(text)

    async def recv(self) -> str | bytes:
        if self._closed:
            raise self._closed
        item = await self._inbox.get()
        if item is _CLOSE:
            self._closed = self._closed or TransportClosed(1000, "closed by peer")
            raise self._closed
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed:
            return
        self._closed = TransportClosed(code, reason)
        self._inbox.put_nowait(_CLOSE)
        if self._peer is not None and not self._peer._closed:
            self._peer._inbox.put_nowait(_CLOSE)


def memory_pair(subprotocol: str | None = "ocpp2.0.1") -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected transports: what one sends, the other receives."""
    a = MemoryTransport(asyncio.Queue(), subprotocol)
    b = MemoryTransport(asyncio.Queue(), subprotocol)
    a._peer, b._peer = b, a
    return a, b
