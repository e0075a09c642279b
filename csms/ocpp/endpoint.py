"""The OCPP-J WebSocket endpoint as an ASGI application (``/ocpp/{stationId}``).

It applies chargeloop's :class:`~chargeloop.ocppj.transport.handshake.HandshakePolicy`, the same
one the standalone websockets server uses: refusals are HTTP responses at the handshake (401 for
Basic auth, 404 for unknown stations) where the server supports the ASGI
``websocket.http.response`` extension, and a station offering no common version gets a completed
handshake without ``Sec-WebSocket-Protocol`` and then a close, as OCPP-J demands.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from chargeloop.ocppj import OcppVersion
from chargeloop.ocppj.transport import TransportClosed
from chargeloop.ocppj.transport.handshake import (
    NO_SUBPROTOCOL_CLOSE,
    HandshakePolicy,
    Refused,
    no_version_reason,
)
from csms.core import CsmsCore
from csms.ocpp.connection import serve_station

log = logging.getLogger("chargeloop.csms.ocpp")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

OCPP_PREFIX = "/ocpp/"


class AsgiWebSocketTransport:
    """A chargeloop transport over an accepted ASGI WebSocket."""

    def __init__(self, receive: Receive, send: Send, subprotocol: str) -> None:
        self._receive = receive
        self._send = send
        self._subprotocol = subprotocol
        self._closed: TransportClosed | None = None

    @property
    def subprotocol(self) -> str | None:
        return self._subprotocol

    async def send(self, text: str) -> None:
        if self._closed is not None:
            raise self._closed
        try:
            await self._send({"type": "websocket.send", "text": text})
        except Exception as exc:
            self._closed = TransportClosed(1006, f"send failed: {exc}")
            raise self._closed from exc

    async def recv(self) -> str | bytes:
        if self._closed is not None:
            raise self._closed
        message = await self._receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            return text if text is not None else message.get("bytes") or b""
        self._closed = TransportClosed(message.get("code", 1005), message.get("reason") or "")
        raise self._closed

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed is not None:
            return
        self._closed = TransportClosed(code, reason)
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception:
            log.debug("close after disconnect", exc_info=True)


def _headers(scope: Scope) -> dict[str, str]:
    # Header names are case-insensitive; the policy asks for "Authorization".
    return {k.decode("latin-1").title(): v.decode("latin-1") for k, v in scope["headers"]}


def _peer_common_name(scope: Scope) -> str | None:
    tls = scope.get("extensions", {}).get("tls") or {}
    return tls.get("client_cert_name")


class OcppEndpoint:
    def __init__(self, core: CsmsCore, *, require_certificate_identity: bool = False) -> None:
        self.core = core
        self.policy = HandshakePolicy(
            versions=core.config.versions, check_password=core.stations.check_password,
            known_identity=core.stations.known,
            require_certificate_identity=require_certificate_identity)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        verdict = await self.policy.admit(path, _headers(scope), _peer_common_name(scope))
        if isinstance(verdict, Refused):
            await self._refuse(scope, send, verdict)
            return
        version = self.policy.select_version(scope.get("subprotocols") or [])
        if version is None:
            offered = _headers(scope).get("Sec-Websocket-Protocol")
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": NO_SUBPROTOCOL_CLOSE,
                        "reason": no_version_reason(offered, self.policy)})
            return
        await send({"type": "websocket.accept", "subprotocol": version.value})
        transport = AsgiWebSocketTransport(receive, send, version.value)
        await serve_station(self.core, transport, verdict.identity, OcppVersion(version))

    async def _refuse(self, scope: Scope, send: Send, refusal: Refused) -> None:
        if "websocket.http.response" in scope.get("extensions", {}):
            body = (refusal.reason + "\n").encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8"),
                       (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in refusal.headers]
            await send({"type": "websocket.http.response.start", "status": int(refusal.status),
                        "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403
