"""How one station reaches its CSMS: a factory for connected transports.

``await link.open(password)`` returns a connected :class:`~chargeloop.ocppj.transport.Transport`
(HTTP Basic auth with ``password`` when it is set; the station passes its current one, which the
CSMS may have changed), or raises :class:`~simulator.backends.BackendUnreachable` so the station
backs off and tries again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chargeloop.ocppj import OcppVersion
from chargeloop.ocppj.transport import Transport
from simulator.backends import Backend, BackendUnreachable

__all__ = ["BackendUnreachable", "Link"]

Opener = Callable[[str | None], Awaitable[Transport]]


class Link:
    """``Link(opener)`` with any coroutine function ``opener(password) -> Transport``, or
    :meth:`Link.to` a backend for one station."""

    def __init__(self, opener: Opener) -> None:
        self._opener = opener

    @classmethod
    def to(cls, backend: Backend, station_id: str, version: OcppVersion) -> Link:
        async def open_backend(password: str | None) -> Transport:
            return await backend.connect(station_id, version, password)

        return cls(open_backend)

    async def open(self, password: str | None = None) -> Transport:
        return await self._opener(password)
