"""Running the reference CSMS: uvicorn around :class:`~csms.app.CsmsApp`.

``serve(config)`` runs until cancelled (the CLI). ``running_csms(config)`` is an async context
manager that starts it on a socket it binds first (port 0 picks a free one), for tests and for
the simulator's embedded backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from csms.app import CsmsApp
from csms.config import CsmsConfig
from csms.core import CsmsCore
from csms.domain.api_tokens import ApiRole
from csms.domain.timeutil import Clock, utcnow
from csms.ocpp.tls_protocol import TlsAwareWebSocketProtocol

log = logging.getLogger("chargeloop.csms")

WS_MAX_SIZE = 16 * 1024 * 1024
STARTUP_TIMEOUT_S = 30.0
# A busy CSMS allocates a few hundred container objects per message, and with the default
# threshold (700) the in-flight ones survive young collections, pile up in the oldest
# generation and trigger full collections: with 1,000 stations those took a quarter of the CPU
# and paused the event loop for up to half a second each. Collect young objects rarely (most
# are freed by reference counting long before), and never scan what exists after start.
GC_THRESHOLDS = (50_000, 20, 10)


@dataclass
class RunningCsms:
    core: CsmsCore
    host: str
    port: int
    admin_token: str | None  # set when this start created it
    tls: bool = False

    @property
    def ocpp_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self._host}:{self.port}/ocpp"

    @property
    def api_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self._host}:{self.port}"

    @property
    def _host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


async def ensure_admin_token(core: CsmsCore, token_file: Path) -> str | None:
    """On first start, create an admin token and keep it in ``token_file`` (mode 0600)."""
    if await core.api_tokens.has_admin():
        return None
    token = await core.api_tokens.create("admin", ApiRole.ADMIN)
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    log.warning("created the first admin API token; it is kept in %s", token_file.resolve())
    return token


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # whose proto says TCP, and accepted sockets inherit it. With proto 0, every small answer
    # after the first on a connection waited for the peer's delayed ACK (about 40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _uvicorn_config(app: CsmsApp, config: CsmsConfig) -> uvicorn.Config:
    tls: dict[str, object] = {}
    if config.tls_certfile is not None:
        tls = {"ssl_certfile": str(config.tls_certfile),
               "ssl_keyfile": str(config.tls_keyfile) if config.tls_keyfile else None}
        if config.tls_client_ca is not None:
            tls |= {"ssl_ca_certs": str(config.tls_client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return uvicorn.Config(
        app, lifespan="off", access_log=False, log_level="warning",
        ws=TlsAwareWebSocketProtocol, ws_max_size=WS_MAX_SIZE, ws_ping_interval=30.0,
        ws_ping_timeout=30.0, ws_per_message_deflate=True, timeout_keep_alive=30,
        backlog=2048, host=config.host, port=config.port, **tls)  # type: ignore[arg-type]


class CsmsHttpServer(uvicorn.Server):
    """uvicorn's server, stopped by an event rather than by its polling loop.

    uvicorn checks ``should_exit`` every 0.1 s; the test suite starts and stops hundreds of
    CSMSs, and each stop waited for that tick. ``start`` returns once connections are accepted.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            # one pass a second; on_tick refreshes the Date header on every tenth count
            counter = (counter + 10) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), 1.0)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)  # Ctrl-C: runs in a signal handler, hence threadsafe
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._exit.set)

    async def start(self, sock: socket.socket, name: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self.serve(sockets=[sock]), name=name)
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not self.started:  # uvicorn offers no event to wait on
                if self._task.done():
                    await self._task  # raises what stopped it
                    raise RuntimeError("the CSMS server stopped while starting")
                await asyncio.sleep(0.005)

    async def stop(self, core: CsmsCore) -> None:
        """Stop accepting, close every station's connection, and wait for uvicorn to finish."""
        self.should_exit = True
        self._exit.set()
        with contextlib.suppress(asyncio.CancelledError):
            await core.registry.close_all()
            if self._task is not None:
                await self._task


def http_server(app: CsmsApp, config: CsmsConfig) -> CsmsHttpServer:
    return CsmsHttpServer(_uvicorn_config(app, config))


@contextlib.asynccontextmanager
async def running_csms(config: CsmsConfig, *, migrate: bool = True,
                       clock: Clock = utcnow) -> AsyncIterator[RunningCsms]:
    core = CsmsCore(config, clock=clock)  # a test may run the CSMS on a clock of its own
    await core.start(migrate=migrate)
    sock = _bind(config.host, config.port)
    server = http_server(CsmsApp(
        core, require_certificate_identity=config.tls_client_ca is not None), config)
    try:
        await server.start(sock, "csms-uvicorn")
        admin = await ensure_admin_token(core, config.admin_token_file)
        yield RunningCsms(core, config.host, sock.getsockname()[1], admin,
                          tls=config.tls_certfile is not None)
    finally:
        await server.stop(core)
        await core.stop()
        sock.close()


def tune_gc() -> None:
    """Garbage collector settings for a process that is a CSMS (``serve`` applies them after
    start; not applied to processes that only embed one)."""
    gc.freeze()  # modules, schemas, the API: never garbage, never scanned again
    gc.set_threshold(*GC_THRESHOLDS)


async def serve(config: CsmsConfig) -> None:
    """Run the CSMS until cancelled (Ctrl-C)."""
    async with running_csms(config) as running:
        tune_gc()
        log.warning("reference CSMS: OCPP at %s/{stationId}, API at %s/docs (unknown stations: "
                    "%s)", running.ocpp_url, running.api_url,
                    config.unknown_station_policy.value)
        await asyncio.Event().wait()
