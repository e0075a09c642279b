"""OCPP-J over WebSockets: a server and a client on the ``websockets`` library (asyncio).

What OCPP-J adds to plain WebSockets, and this module does:

* subprotocol negotiation: the server picks the best version both sides speak; when there is
  none (or the client offers none) it completes the handshake *without* a
  ``Sec-WebSocket-Protocol`` header and then closes the connection, as OCPP-J demands. The
  ``websockets`` library would answer HTTP 400 instead, so the choice is made here;
* the station identity is the last path segment, percent-decoded;
* HTTP Basic auth (security profiles 1 and 2): the username must be the station identity;
* TLS and mutual TLS (profiles 2 and 3), optionally checking the client certificate's CN;
* keepalive pings; compression never offered by our clients, accepted by our servers.
"""

from __future__ import annotations

import base64
import logging
import ssl
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.http11 import Request, Response

from chargeloop.ocppj.transport.base import TransportClosed
from chargeloop.ocppj.transport.handshake import (
    NO_SUBPROTOCOL_CLOSE,
    Admitted,
    HandshakePolicy,
    IdentityCheck,
    PasswordCheck,
    Refused,
    common_name,
    identity_from_path,
    no_version_reason,
)
from chargeloop.ocppj.versions import ALL_VERSIONS, OcppVersion

log = logging.getLogger("chargeloop.ocppj.websocket")

DEFAULT_MAX_SIZE = 16 * 1024 * 1024


class WebSocketTransport:
    """A :class:`~chargeloop.ocppj.transport.base.Transport` over a websockets connection."""

    def __init__(self, connection: ServerConnection | ClientConnection) -> None:
        self.connection = connection

    @property
    def subprotocol(self) -> str | None:
        return self.connection.subprotocol

    async def send(self, text: str) -> None:
        try:
            await self.connection.send(text)
        except ConnectionClosed as exc:
            raise _closed(exc) from exc

    async def recv(self) -> str | bytes:
        try:
            return await self.connection.recv()
        except ConnectionClosed as exc:
            raise _closed(exc) from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.connection.close(code, reason)


def _closed(exc: ConnectionClosed) -> TransportClosed:
    frame = exc.rcvd or exc.sent
    return TransportClosed(frame.code if frame else 1006, frame.reason if frame else "")


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What the handshake told us about a station."""

    identity: str
    version: OcppVersion
    path: str
    remote_address: Any
    headers: Headers
    basic_auth_user: str | None = None
    client_certificate_cn: str | None = None


OnConnect = Callable[[WebSocketTransport, ConnectionInfo], Awaitable[None]]


def _peer_common_name(connection: ServerConnection) -> str | None:
    ssl_object = connection.transport.get_extra_info("ssl_object")
    return common_name(ssl_object.getpeercert() if ssl_object is not None else None)


@dataclass
class OcppServer:
    """A running OCPP-J server; ``port`` is the bound port (useful with port 0)."""

    server: Server
    host: str
    port: int
    tls: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 literal
        return f"{'wss' if self.tls else 'ws'}://{host}:{self.port}/ocpp"

    def close(self) -> None:
        self.server.close()

    async def wait_closed(self) -> None:
        await self.server.wait_closed()

    async def __aenter__(self) -> OcppServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()


async def serve_ocpp(
    on_connect: OnConnect,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    versions: Sequence[OcppVersion] = ALL_VERSIONS,
    check_password: PasswordCheck | None = None,
    known_identity: IdentityCheck | None = None,
    ssl_context: ssl.SSLContext | None = None,
    require_certificate_identity: bool = False,
    accept_compression: bool = True,
    ping_interval: float | None = 30.0,
    ping_timeout: float | None = 30.0,
    max_size: int | None = DEFAULT_MAX_SIZE,
    **kwargs: Any,
) -> OcppServer:
    """Serve OCPP-J; ``on_connect`` runs once per accepted station connection.

    ``versions`` is the server's order of preference. ``check_password(identity, password)``
    turns on HTTP Basic auth (profile 1, or 2 with ``ssl_context``). ``known_identity`` answers
    HTTP 404 for stations it does not know. With mutual TLS (profile 3) and
    ``require_certificate_identity``, the client certificate's CN must be the identity.
    """
    if require_certificate_identity and ssl_context is None:
        raise ValueError("require_certificate_identity needs an ssl_context that asks for client "
                         "certificates (security profile 3)")
    policy = HandshakePolicy(tuple(versions), check_password, known_identity,
                             require_certificate_identity)
    # Weak keys: a request can pass process_request and still fail the upgrade (a plain GET,
    # a bad key), and then the handler that would pop its entry never runs.
    admitted: weakref.WeakKeyDictionary[ServerConnection, tuple[Admitted, Request]] = (
        weakref.WeakKeyDictionary())

    def select_subprotocol(connection: ServerConnection, offered: Sequence[str]) -> str | None:
        version = policy.select_version(offered)
        return version.value if version else None  # OCPP-J: no header, then close

    async def process_request(connection: ServerConnection, request: Request) -> Response | None:
        cn = _peer_common_name(connection) if ssl_context is not None else None
        verdict = await policy.admit(request.path, request.headers, cn)
        if isinstance(verdict, Refused):
            response = connection.respond(verdict.status, verdict.reason + "\n")
            for name, value in verdict.headers:
                response.headers[name] = value
            return response
        admitted[connection] = (verdict, request)
        return None

    async def handler(connection: ServerConnection) -> None:
        verdict, request = admitted.pop(connection)
        if connection.subprotocol is None:
            reason = no_version_reason(request.headers.get("Sec-WebSocket-Protocol"), policy)
            log.warning("%s: %s", verdict.identity, reason)
            await connection.close(NO_SUBPROTOCOL_CLOSE, reason)
            return
        info = ConnectionInfo(
            identity=verdict.identity, version=OcppVersion(connection.subprotocol),
            path=request.path, remote_address=connection.remote_address,
            headers=request.headers, basic_auth_user=verdict.basic_auth_user,
            client_certificate_cn=verdict.client_certificate_cn)
        await on_connect(WebSocketTransport(connection), info)

    server = await serve(
        handler, host, port,
        subprotocols=policy.subprotocols,  # type: ignore[arg-type]
        select_subprotocol=select_subprotocol,  # type: ignore[arg-type]
        process_request=process_request,
        compression="deflate" if accept_compression else None,
        ping_interval=ping_interval, ping_timeout=ping_timeout, max_size=max_size,
        ssl=ssl_context, **kwargs)
    bound_port = server.sockets[0].getsockname()[1] if port == 0 else port
    return OcppServer(server, host, bound_port, ssl_context is not None)


class HandshakeRefused(Exception):
    """The server refused the WebSocket upgrade (``status`` is the HTTP status, if any)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def station_url(base_url: str, identity: str) -> str:
    """``base_url`` with the percent-encoded station identity appended as the last segment."""
    return base_url.rstrip("/") + "/" + quote(identity, safe="")


async def connect_ocpp(
    url: str,
    *,
    identity: str | None = None,
    versions: Sequence[OcppVersion] = (OcppVersion.V201,),
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    compression: bool = False,
    ping_interval: float | None = 30.0,
    ping_timeout: float | None = 30.0,
    open_timeout: float | None = 10.0,
    max_size: int | None = DEFAULT_MAX_SIZE,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> WebSocketTransport:
    """Connect as a station. With ``identity``, it is appended to ``url``; else ``url`` ends
    with it. ``password`` sends HTTP Basic auth as ``identity:password``; ``headers`` go with
    the handshake too."""
    if identity is not None:
        url = station_url(url, identity)
    else:
        identity = identity_from_path(url)
    headers = dict(headers or {})
    if password is not None:
        token = base64.b64encode(f"{identity}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    offered = [v.value for v in versions]
    try:
        connection = await connect(
            url, subprotocols=offered,  # type: ignore[arg-type]
            additional_headers=headers, compression="deflate" if compression else None,
            ping_interval=ping_interval, ping_timeout=ping_timeout, open_timeout=open_timeout,
            max_size=max_size, ssl=ssl_context, proxy=None, **kwargs)
    except InvalidStatus as exc:
        status = exc.response.status_code
        body = exc.response.body.decode(errors="replace").strip()
        raise HandshakeRefused(f"{url}: HTTP {status} {body}".strip(), status) from exc
    except InvalidHandshake as exc:
        raise HandshakeRefused(f"{url}: {exc}") from exc
    except ssl.SSLError as exc:
        # A TLS failure is the server (or we) refusing the handshake: one error type for callers.
        raise HandshakeRefused(f"{url}: TLS handshake failed: {exc}") from exc
    if connection.subprotocol is None:
        await connection.close(NO_SUBPROTOCOL_CLOSE, "no OCPP subprotocol agreed")
        raise HandshakeRefused(f"{url}: the server accepted none of {', '.join(offered)}")
    return WebSocketTransport(connection)
