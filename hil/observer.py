"""The harness's OCPP endpoint for real chargers on the bench: chargers connect to its listen
address (OCPP-J 1.6 or 2.0.1 over websockets), it accepts everything a charger needs to run a
session (boot, heartbeat, status, authorize, transactions, meter values) and records the meter
samples and signed meter values they carry, for comparison and verification.

It is deliberately not the reference CSMS: a bench run must judge the charger, so the endpoint
says yes to every well-formed message and lets schema validation (strict, by the session) catch
the ill-formed ones.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from chargeloop.clock import iso_utc
from chargeloop.ocppj import OcppSession, OcppVersion, Role
from chargeloop.ocppj.transport.websocket import (
    ConnectionInfo,
    OcppServer,
    WebSocketTransport,
    serve_ocpp,
)
from hil.samples import MeterSample, SignedSample, iter_samples

log = logging.getLogger("chargeloop.hil.observer")

HEARTBEAT_S = 300


@dataclass
class ChargerObserver:
    """``await ChargerObserver.start(host, port)``; chargers use :attr:`url` + their id."""

    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    server: OcppServer | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    samples: list[MeterSample] = field(default_factory=list)
    signed: list[SignedSample] = field(default_factory=list)
    connected: dict[str, asyncio.Event] = field(default_factory=dict)
    _tx_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _sessions: set[OcppSession] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    async def start(cls, host: str = "127.0.0.1", port: int = 0, *,
                    now: Callable[[], datetime] | None = None) -> ChargerObserver:
        observer = cls(now=now) if now is not None else cls()
        observer.server = await serve_ocpp(observer._on_connect, host, port,
                                           versions=[OcppVersion.V201, OcppVersion.V16])
        log.info("charger endpoint listening on %s", observer.url)
        return observer

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def waiter(self, station_id: str) -> asyncio.Event:
        """Set once ``station_id`` has connected."""
        return self.connected.setdefault(station_id, asyncio.Event())

    async def stop(self) -> None:
        for session in list(self._sessions):
            await session.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    # -- a connection -------------------------------------------------------------------------

    async def _on_connect(self, transport: WebSocketTransport, info: ConnectionInfo) -> None:
        session = OcppSession(transport, info.version, role=Role.CSMS, identity=info.identity)
        for action, answer in self._answers(info.version).items():
            session.route(action, self._handler(info, action, answer))
        self._sessions.add(session)
        self.waiter(info.identity).set()
        log.info("charger %s connected (OCPP %s)", info.identity, info.version.short)
        try:
            await session.serve()
        finally:
            self._sessions.discard(session)

    def _handler(self, info: ConnectionInfo, action: str,
                 answer: Callable[[dict[str, Any]], dict[str, Any]]
                 ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def handle(payload: dict[str, Any]) -> dict[str, Any]:
            self.messages.append({"wall_time": time.time(), "station_id": info.identity,
                                  "version": info.version.short, "action": action,
                                  "payload": orjson.dumps(payload).decode()})
            for item in iter_samples(info.identity, info.version.short, action, payload):
                (self.signed if isinstance(item, SignedSample) else self.samples).append(item)
            return answer(payload)

        return handle

    def _answers(self, version: OcppVersion) -> dict[str, Callable[[dict[str, Any]],
                                                                    dict[str, Any]]]:
        def now(_: dict[str, Any]) -> dict[str, Any]:
            return {"currentTime": iso_utc(self.now())}

        def empty(_: dict[str, Any]) -> dict[str, Any]:
            return {}

        if version is OcppVersion.V16:
            accepted = {"status": "Accepted"}
            return {
                "BootNotification": lambda p: {**now(p), "interval": HEARTBEAT_S, **accepted},
                "Heartbeat": now,
                "StatusNotification": empty,
                "Authorize": lambda p: {"idTagInfo": accepted},
                "StartTransaction": lambda p: {"transactionId": next(self._tx_ids),
                                               "idTagInfo": accepted},
                "StopTransaction": lambda p: {"idTagInfo": accepted} if "idTag" in p else {},
                "MeterValues": empty,
                "DataTransfer": lambda p: accepted,
                "FirmwareStatusNotification": empty,
                "DiagnosticsStatusNotification": empty,
            }
        token = {"idTokenInfo": {"status": "Accepted"}}
        return {
            "BootNotification": lambda p: {**now(p), "interval": HEARTBEAT_S,
                                           "status": "Accepted"},
            "Heartbeat": now,
            "StatusNotification": empty,
            "Authorize": lambda p: token,
            "TransactionEvent": lambda p: token if "idToken" in p else {},
            "MeterValues": empty,
            "NotifyEvent": empty,
            "NotifyReport": empty,
            "SecurityEventNotification": empty,
            "FirmwareStatusNotification": empty,
            "LogStatusNotification": empty,
            "DataTransfer": lambda p: {"status": "Accepted"},
        }
