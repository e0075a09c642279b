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
# another CSMS address (a 2.0.1 network connection profile): (url, security profile, password)
UrlOpener = Callable[[str, int, str | None], Awaitable[Transport]]


class Link:
    """``Link(opener)`` with any coroutine function ``opener(password) -> Transport``, or
    :meth:`Link.to` a backend for one station."""

    def __init__(self, opener: Opener, url_opener: UrlOpener | None = None) -> None:
        self._opener = opener
        self._url_opener = url_opener

    @classmethod
    def to(cls, backend: Backend, station_id: str, version: OcppVersion,
           url_opener: UrlOpener | None = None) -> Link:
        async def open_backend(password: str | None) -> Transport:
            return await backend.connect(station_id, version, password)

        return cls(open_backend, url_opener)

    async def open(self, password: str | None = None) -> Transport:
        return await self._opener(password)

    async def open_url(self, url: str, security_profile: int,
                       password: str | None = None) -> Transport:
        """Connect to another CSMS address (a network connection profile the CSMS set)."""
        if self._url_opener is None:
            raise BackendUnreachable(f"{url}: this link reaches only its own CSMS")
        return await self._url_opener(url, security_profile, password)
