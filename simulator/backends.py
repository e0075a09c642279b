"""Where simulated stations connect: the reference CSMS in-process, or any CSMS at a URL.

A backend hands each station a connected :class:`~chargeloop.ocppj.transport.Transport` through
``await backend.connect(station_id, version, password=None)``, or raises
:class:`BackendUnreachable` (refused, unreachable, timed out) so the station can back off and try
again.

* :class:`ReferenceBackend` starts the reference CSMS in this process, as an async context
  manager: ``"memory"`` serves each station over an in-memory transport pair (no sockets; the
  same handshake policy as the real endpoint), ``"websocket"`` runs the full server (OCPP, REST
  API, uploads) on an ephemeral loopback port. Its ``core`` lets expectations look inside.
* :class:`UrlBackend` connects to a CSMS at a URL with ``connect_ocpp`` (station id appended to
  the path, HTTP Basic auth when a password is set, TLS when a context is given).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

from chargeloop.ocppj import OcppVersion
from chargeloop.ocppj.transport import (
    HandshakeRefused,
    Transport,
    connect_ocpp,
    memory_pair,
)
from chargeloop.ocppj.transport.handshake import HandshakePolicy, Refused
from csms.config import CsmsConfig
from csms.core import CsmsCore
from csms.domain.timeutil import utcnow

log = logging.getLogger("chargeloop.simulator.backends")

CONNECT_TIMEOUT_S = 10.0


class BackendUnreachable(Exception):
    """The station could not connect: refused at the handshake, or nobody answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Backend(Protocol):
    inspectable: bool

    async def connect(self, station_id: str, version: OcppVersion,
                      password: str | None = None) -> Transport: ...


class ReferenceBackend:
    """The reference CSMS, started in-process for the length of an ``async with``.

    ``clock`` (a function returning the current aware UTC time; a simulation's
    ``SimClock.utc``) replaces the CSMS's wall clock, so that what it decides by time (late
    messages, liveness, expiry) follows simulated time.
    """

    inspectable = True

    def __init__(self, config: CsmsConfig,
                 transport: Literal["memory", "websocket"] = "memory", *,
                 clock: Callable[[], datetime] | None = None) -> None:
        if transport not in ("memory", "websocket"):
            raise ValueError(f"transport must be 'memory' or 'websocket', not {transport!r}")
        self.config = config
        self.transport = transport
        self._clock = clock or utcnow
        self._core: CsmsCore | None = None
        self._policy: HandshakePolicy | None = None
        self._serving: dict[asyncio.Task[None], Transport] = {}
        self._server: Any = None  # csms.server.CsmsHttpServer (websocket)
        self._socket: Any = None
        self.port: int | None = None
        self.admin_token: str | None = None

    # -- what tests and expectations read ----------------------------------------------------------

    @property
    def core(self) -> CsmsCore:
        if self._core is None:
            raise RuntimeError("the reference backend is not running (use 'async with')")
        return self._core

    @property
    def ocpp_url(self) -> str:
        """The websocket endpoint's base URL (websocket transport only)."""
        if self.port is None:
            raise RuntimeError("the memory transport has no URL")
        return f"ws://{_host(self.config.host)}:{self.port}/ocpp"

    @property
    def api_url(self) -> str:
        """The REST API's base URL (websocket transport only)."""
        if self.port is None:
            raise RuntimeError("the memory transport has no REST API")
        return f"http://{_host(self.config.host)}:{self.port}"

    # -- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> ReferenceBackend:
        core = CsmsCore(self.config, clock=self._clock)
        await core.start()
        self._core = core
        try:
            if self.transport == "websocket":
                await self._start_server(core)
            else:
                self._policy = HandshakePolicy(
                    versions=self.config.versions, check_password=core.stations.check_password,
                    known_identity=core.stations.known)
        except BaseException:
            await core.stop()
            self._core = None
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        core = self._core
        if core is None:
            return
        try:
            if self._server is not None:
                await self._server.stop(core)
            else:
                await core.registry.close_all()
                for csms_end in list(self._serving.values()):
                    await csms_end.close(1001, "CSMS shutting down")
                if self._serving:
                    await asyncio.wait(list(self._serving), timeout=5.0)
        finally:
            await core.stop()
            for task in list(self._serving):
                task.cancel()
            if self._socket is not None:
                self._socket.close()
            self._core = None

    async def _start_server(self, core: CsmsCore) -> None:
        # ``csms.server.running_csms`` builds its own core on the wall clock; this is the same
        # start-up around a core that runs on the simulation's clock.
        from csms.app import CsmsApp
        from csms.server import _bind, ensure_admin_token, http_server

        config = self.config
        self._socket = _bind(config.host, config.port)
        self._server = http_server(CsmsApp(
            core, require_certificate_identity=config.tls_client_ca is not None), config)
        await self._server.start(self._socket, "reference-csms")
        self.admin_token = await ensure_admin_token(core, config.admin_token_file)
        if self.admin_token is None and config.admin_token_file.exists():
            self.admin_token = config.admin_token_file.read_text().strip()
        self.port = self._socket.getsockname()[1]

    # -- connecting ------------------------------------------------------------------------------

    async def connect(self, station_id: str, version: OcppVersion,
                      password: str | None = None) -> Transport:
        core = self.core
        if self.transport == "websocket":
            return await _connect_url(self.ocpp_url, station_id, version, password, None)
        assert self._policy is not None
        headers = {}
        if password is not None:
            token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        verdict = await self._policy.admit("/ocpp/" + quote(station_id, safe=""), headers, None)
        if isinstance(verdict, Refused):
            raise BackendUnreachable(f"{station_id}: HTTP {int(verdict.status)} {verdict.reason}",
                                     int(verdict.status))
        if self._policy.select_version([version.value]) is None:
            raise BackendUnreachable(f"{station_id}: the CSMS does not speak {version}")
        station_end, csms_end = memory_pair(version.value)
        from csms.ocpp.connection import serve_station

        task = asyncio.create_task(serve_station(core, csms_end, station_id, version),
                                   name=f"csms-{station_id}")
        self._serving[task] = csms_end
        task.add_done_callback(self._served)
        return station_end

    def _served(self, task: asyncio.Task[None]) -> None:
        self._serving.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("the reference CSMS failed serving a station", exc_info=task.exception())


class UrlBackend:
    """A CSMS at ``url`` (``ws://`` or ``wss://``, without the station id): stations connect
    with their passwords from ``passwords`` (station id -> password) unless they bring one."""

    inspectable = False

    def __init__(self, url: str, passwords: dict[str, str] | None = None,
                 tls: ssl.SSLContext | None = None, *,
                 open_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.url = url
        self.passwords = dict(passwords or {})
        self.tls = tls
        self.open_timeout_s = open_timeout_s

    async def connect(self, station_id: str, version: OcppVersion,
                      password: str | None = None) -> Transport:
        if password is None:
            password = self.passwords.get(station_id)
        return await _connect_url(self.url, station_id, version, password, self.tls,
                                  self.open_timeout_s)


async def _connect_url(url: str, station_id: str, version: OcppVersion, password: str | None,
                       tls: ssl.SSLContext | None,
                       open_timeout_s: float = CONNECT_TIMEOUT_S) -> Transport:
    try:
        return await connect_ocpp(url, identity=station_id, versions=[version],
                                  password=password, ssl_context=tls,
                                  open_timeout=open_timeout_s)
    except HandshakeRefused as exc:
        raise BackendUnreachable(str(exc), exc.status) from exc
    except (OSError, TimeoutError) as exc:
        raise BackendUnreachable(f"{url}: {type(exc).__name__}: {exc}") from exc


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
