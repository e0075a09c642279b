"""The CSMS the suite plays when a charging station is under test (OCTT's "test system").

``TestCsms`` listens (``serve_ocpp``: OCPP-J subprotocol, HTTP Basic auth for security profile 1
and 2, TLS and mutual TLS for 2 and 3) and runs each station connection through ``OcppSession``
in strict mode: what the station sends is checked against the official schemas and the framing
rules, and a frame that breaks them is a violation the case fails on.

Every CALL of the station is answered at once, by a default a compliant CSMS would give
(``Answers``: BootNotification Accepted, Authorize by the SUT file's tokens, transaction ids,
...) or by what the case set beforehand (``answer_next``), and is kept in the case's inbox.
Cases read the inbox in order of arrival: ``receive`` waits for the next CALL of an action that
matches, ``nothing`` checks that none comes within a time, ``call`` sends the CSMS's CALLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from chargeloop.ocppj import OcppError, OcppSession, OcppVersion, TraceRecord
from chargeloop.ocppj.actions import Role, may_send
from chargeloop.ocppj.errors import CallErrorReceived, CallTimeout, PayloadInvalid, SessionClosed
from chargeloop.ocppj.schemas import known_actions, warm_up
from chargeloop.ocppj.transport.base import TransportClosed
from chargeloop.ocppj.transport.websocket import (
    ConnectionInfo,
    OcppServer,
    WebSocketTransport,
    serve_ocpp,
)
from conformance.sut import Sut
from conformance.verdicts import CaseFailed

Where = Callable[[dict[str, Any]], bool]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Received:
    """One CALL of the station, as the harness answered it."""

    index: int  # arrival order over the whole run
    connection: int  # which connection (a reboot opens a new one)
    action: str
    payload: dict[str, Any]
    at: float  # time.monotonic() on arrival
    answer: dict[str, Any] | None = None  # None: answered with a CALLERROR
    consumed: bool = False


class Answers:
    """What a compliant CSMS answers, from the SUT file's tokens and intervals."""

    def __init__(self, sut: Sut) -> None:
        self.sut = sut
        self.transaction_ids = itertools.count(1)
        tokens = sut.tokens
        self.token_status = {tokens.valid: "Accepted", tokens.valid_2: "Accepted",
                             tokens.invalid: "Invalid", tokens.blocked: "Blocked",
                             tokens.expired: "Expired", tokens.master_pass: "Accepted"}
        self.transactions: dict[int, str] = {}  # 1.6 transaction id -> idTag

    def status_of(self, token: str | None) -> str:
        return self.token_status.get(token or "", "Invalid")

    def info16(self, token: str | None) -> dict[str, Any]:
        status = self.status_of(token)
        info: dict[str, Any] = {"status": status}
        if status == "Accepted":
            info["parentIdTag"] = self.sut.tokens.group_id
        return info

    def group_of(self, token: str | None) -> str:
        """The group of an Accepted token: the master pass is in the MasterPassGroupId."""
        tokens = self.sut.tokens
        return tokens.master_pass_group_id if token == tokens.master_pass else tokens.group_id

    def info201(self, token: dict[str, Any] | None) -> dict[str, Any]:
        id_token = (token or {}).get("idToken")
        status = self.status_of(id_token)
        info: dict[str, Any] = {"status": status}
        if status == "Accepted":
            info["groupIdToken"] = {"idToken": self.group_of(id_token), "type": "Central"}
        return info

    def default(self, version: OcppVersion, action: str, payload: dict[str, Any]
                ) -> dict[str, Any]:
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": now_iso(),
                    "interval": self.sut.intervals.heartbeat_s}
        if action == "Heartbeat":
            return {"currentTime": now_iso()}
        if version is OcppVersion.V16:
            if action == "Authorize":
                return {"idTagInfo": self.info16(payload.get("idTag"))}
            if action == "StartTransaction":
                tx_id = next(self.transaction_ids)
                self.transactions[tx_id] = payload.get("idTag", "")
                return {"transactionId": tx_id, "idTagInfo": self.info16(payload.get("idTag"))}
            if action == "StopTransaction":
                return {"idTagInfo": self.info16(payload["idTag"])} if "idTag" in payload \
                    else {}
            if action == "DataTransfer":
                return {"status": "Accepted"}
            return {}
        if action == "Authorize":
            return {"idTokenInfo": self.info201(payload.get("idToken"))}
        if action == "TransactionEvent":
            return {"idTokenInfo": self.info201(payload["idToken"])} if "idToken" in payload \
                else {}
        if action == "DataTransfer":
            return {"status": "Accepted"}
        if action in ("SignCertificate", "Get15118EVCertificate", "GetCertificateStatus"):
            return {"status": "Rejected"} if action != "Get15118EVCertificate" else \
                {"status": "Failed", "exiResponse": ""}
        return {}


@dataclass
class _Connection:
    number: int
    identity: str
    session: OcppSession
    info: ConnectionInfo
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    tls_version: str | None = None  # "TLSv1.3", ...; None over ws://
    endpoint: str = ""  # the URL it came to ("": the harness's main one)
    opened: float = field(default_factory=time.monotonic)  # when it came (TC_B_57)


class TestCsms:
    """The harness as the CSMS: one server for the whole run, cases in turn."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, sut: Sut, trace: Callable[[TraceRecord], None] | None = None) -> None:
        self.sut = sut
        self.version = sut.version
        self._trace = trace
        self.answers = Answers(sut)
        self.server: OcppServer | None = None
        self.connections: list[_Connection] = []
        self.inbox: list[Received] = []
        self.frames: list[TraceRecord] = []  # this case's frames
        # answers the case set (answer_next): per action, (which CALL, the answer)
        self._next: dict[str, list[tuple[Where | None, dict[str, Any] | OcppError]]] = {}
        # answers held back (hold_next): per action, (which CALL, when to answer it)
        self._held: dict[str, list[tuple[Where | None, asyncio.Event]]] = {}
        self._arrived = asyncio.Condition()
        self._counter = itertools.count()
        self.first_connection = 0  # the case's messages come from this connection on
        self.refused: list[str] = []  # handshakes refused (wrong password, ...)
        # a password a case changed (TC_A_09, TC_073): identity -> what the station must send
        self.passwords: dict[str, str] = {}
        self._frame_came = asyncio.Event()  # set on every frame traced (``frame_in`` waits)
        self._listen: tuple[str, ssl.SSLContext | None] = ("127.0.0.1", None)
        # connection attempts a case has the harness refuse (HTTP 404, TC_B_57), and when
        # refused ones came (time.monotonic())
        self._refusing = 0
        self.refused_at: list[float] = []
        self.second_refused_at: list[float] = []  # at a refusing second endpoint

    # -- serving -------------------------------------------------------------------------------

    async def start(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        # compile every schema now: the first frame of each action must not arrive late because
        # the harness was busy compiling (TC_001 measures the station's retry interval)
        warm_up(self.version)
        await self._serve(host, port, ssl_context)

    async def _serve(self, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        self._listen = (host, ssl_context)
        password_check = None
        if self.sut.security_profile in (1, 2):
            password_check = self._check_password
        self.server = await serve_ocpp(
            self._on_connect, host, port, versions=[self.version],
            check_password=password_check, ssl_context=ssl_context,
            require_certificate_identity=self.sut.security_profile == 3,
            known_identity=self._admit, ping_interval=None)

    async def relisten(self, ssl_context: ssl.SSLContext | None) -> None:
        """Serve on the same address again, with ``ssl_context`` (None: ws://) and Basic auth
        as before (1.6 TC_083: a station upgraded to security profile 2 keeps its address);
        the old server's connections close."""
        assert self.server is not None
        port = urlsplit(self.server.url).port
        assert port is not None
        self.server.close()
        await self.server.wait_closed()
        await self._serve(self._listen[0], port, ssl_context)

    def refuse_next(self, attempts: int) -> None:
        """Refuse the station's next ``attempts`` connection attempts (HTTP 404), as a CSMS
        that cannot be reached would make them fail."""
        self._refusing = attempts

    async def _admit(self, identity: str) -> bool:
        if self._refusing <= 0:
            return True
        self._refusing -= 1
        self.refused.append(f"{identity}: attempt refused by the case")
        self.refused_at.append(time.monotonic())
        async with self._arrived:
            self._arrived.notify_all()
        return False

    async def refused_attempt(self, after: int, timeout_s: float, *, step: str) -> float:
        """When the station's connection attempt numbered ``after`` (counting refused ones
        only) or later was refused."""
        async def came() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.refused_at) > after)

        try:
            await asyncio.wait_for(came(), timeout_s)
        except TimeoutError:
            raise CaseFailed(step, f"a connection attempt within {timeout_s:g} s",
                             "none came") from None
        return self.refused_at[after]

    def _check_password(self, identity: str, password: str | None) -> bool:
        expected = self.passwords.get(identity) or \
            {s.id: s.password for s in self.sut.stations}.get(identity)
        ok = password is not None and password == expected
        if not ok:
            self.refused.append(f"{identity}: {'no' if password is None else 'wrong'} "
                                "password")
        return ok

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @contextlib.asynccontextmanager
    async def second_endpoint(self, ssl_context: ssl.SSLContext | None = None,
                              tls: bool = True, refusing: bool = False
                              ) -> AsyncIterator[str]:
        """Listen also on another port of the same host for a case (a new network connection
        profile's CSMS address): the same CSMS, with ``ssl_context`` (default: the main
        one's; ``tls=False``: none) and Basic auth unless mutual TLS or profile 0. Its URL
        (``ws(s)://host:port/ocpp``); connections to it have it as ``endpoint``. ``refusing``:
        it refuses every connection attempt (HTTP 404), a CSMS the station cannot reach, and
        notes when each came in ``second_refused_at`` (TC_B_49)."""
        host, main_context = self._listen
        context = (ssl_context or main_context) if tls else None
        mutual = context is not None and context.verify_mode == ssl.CERT_REQUIRED
        basic_auth = not mutual and self.sut.security_profile > 0

        async def refuse(identity: str) -> bool:
            self.refused.append(f"{identity}: attempt at {url} refused by the case")
            self.second_refused_at.append(time.monotonic())
            return False

        server = await serve_ocpp(
            lambda transport, info: self._on_connect(transport, info, endpoint=url),
            host, 0, versions=[self.version],
            check_password=self._check_password if basic_auth else None, ssl_context=context,
            require_certificate_identity=mutual, known_identity=refuse if refusing else None,
            ping_interval=None)
        url = server.url
        try:
            yield url
        finally:
            server.close()
            await server.wait_closed()

    async def close(self) -> None:
        for connection in self.connections:
            if not connection.session.closed:
                await connection.session.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _on_connect(self, transport: WebSocketTransport, info: ConnectionInfo,
                          endpoint: str = "") -> None:
        session = OcppSession(transport, self.version, role=Role.CSMS, identity=info.identity,
                              call_timeout=self.sut.answer_timeout_s, trace=self._record)
        connection = _Connection(len(self.connections), info.identity, session, info,
                                 tls_version=_tls_version(transport), endpoint=endpoint)
        for action in known_actions(self.version):
            if may_send(self.version, Role.STATION, action):
                session.route(action, self._handler(connection, action))
        self.connections.append(connection)
        async with self._arrived:
            self._arrived.notify_all()
        try:
            await session.serve()
        finally:
            connection.closed.set()
            async with self._arrived:
                self._arrived.notify_all()

    def _handler(self, connection: _Connection, action: str) -> Callable[[dict[str, Any]], Any]:
        async def handle(payload: dict[str, Any]) -> dict[str, Any]:
            queued = self._next.get(action, [])
            picked = next((n for n, (where, _) in enumerate(queued)
                           if where is None or where(payload)), None)
            answer: dict[str, Any] | OcppError = queued.pop(picked)[1] if picked is not None \
                else self.answers.default(self.version, action, payload)
            received = Received(next(self._counter), connection.number, action, payload,
                                time.monotonic(),
                                None if isinstance(answer, OcppError) else answer)
            self.inbox.append(received)
            async with self._arrived:
                self._arrived.notify_all()
            release = self._hold_for(action, payload)
            if release is not None:  # a CSMS slow to answer: the case says when (hold_next)
                await release.wait()
            if isinstance(answer, OcppError):
                raise answer
            return answer

        return handle

    def _record(self, record: TraceRecord) -> None:
        self.frames.append(record)
        self._frame_came.set()
        if self._trace is not None:
            self._trace(record)

    # -- a case --------------------------------------------------------------------------------

    def begin_case(self) -> None:
        """Forget the previous case's messages and answers."""
        self.inbox = [r for r in self.inbox if r.connection >= len(self.connections)]
        self.frames = []
        self._next = {}
        for holds in self._held.values():
            for _, release in holds:
                release.set()
        self._held = {}
        self._refusing = 0
        self.first_connection = len(self.connections) - 1 if self.connected else \
            len(self.connections)

    @property
    def connection(self) -> _Connection | None:
        live = [c for c in self.connections if not c.closed.is_set()]
        return live[-1] if live else None

    @property
    def connected(self) -> bool:
        return self.connection is not None

    def hold_next(self, action: str, where: Where | None = None) -> asyncio.Event:
        """Hold the answer to the station's next ``action`` (matching ``where``; it is in
        the inbox at once) until the returned event is set; a case ending releases what it
        still holds."""
        release = asyncio.Event()
        self._held.setdefault(action, []).append((where, release))
        return release

    def _hold_for(self, action: str, payload: dict[str, Any]) -> asyncio.Event | None:
        holds = self._held.get(action, [])
        for n, (where, release) in enumerate(holds):
            if where is None or where(payload):
                del holds[n]
                return release
        return None

    def answer_next(self, action: str, answer: dict[str, Any] | OcppError,
                    where: Where | None = None) -> None:
        """Answer the station's next ``action`` (that matches ``where``) with ``answer``
        (queued: several in turn)."""
        self._next.setdefault(action, []).append((where, answer))

    async def new_connection(self, after: int, timeout_s: float, *, step: str) -> int:
        """Wait until the station opens a connection numbered ``after`` or later."""
        async def opened() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.connections) > after)

        try:
            await asyncio.wait_for(opened(), timeout_s)
        except TimeoutError:
            detail = "; ".join(self.refused[-3:]) or "no connection"
            raise CaseFailed(step, f"the station to connect within {timeout_s:g} s",
                             detail) from None
        self.first_connection = max(self.first_connection, after)
        return len(self.connections) - 1

    async def disconnected(self, number: int, timeout_s: float, *, step: str) -> None:
        connection = self.connections[number]
        try:
            await asyncio.wait_for(connection.closed.wait(), timeout_s)
        except TimeoutError:
            raise CaseFailed(step, f"the station to close its connection within "
                             f"{timeout_s:g} s", "still connected") from None

    def _mine(self, record: Received) -> bool:
        return record.connection >= self.first_connection

    def received(self, action: str, where: Where | None = None) -> list[Received]:
        """What the station sent of ``action`` in this case so far (consumed or not)."""
        return [r for r in self.inbox if self._mine(r) and r.action == action
                and (where is None or where(r.payload))]

    async def receive(self, action: str, *, step: str, where: Where | None = None,
                      timeout_s: float | None = None, expected: str | None = None) -> Received:
        """The station's next not yet consumed ``action`` that matches ``where``."""
        timeout_s = self.sut.action_timeout_s if timeout_s is None else timeout_s

        def found() -> Received | None:
            for record in self.inbox:
                if self._mine(record) and not record.consumed and record.action == action \
                        and (where is None or where(record.payload)):
                    return record
            return None

        async def wait() -> Received:
            async with self._arrived:
                await self._arrived.wait_for(lambda: found() is not None)
            record = found()
            assert record is not None
            return record

        try:
            record = await asyncio.wait_for(wait(), timeout_s)
        except TimeoutError:
            seen = [r.payload for r in self.received(action)][-3:]
            raise CaseFailed(step, f"{expected or action} within {timeout_s:g} s",
                             f"none came; {action} seen: {seen}" if seen else "nothing came"
                             ) from None
        record.consumed = True
        return record

    async def nothing(self, action: str, *, step: str, within_s: float,
                      where: Where | None = None, expected: str | None = None) -> None:
        """Fail ``step`` if the station sends ``action`` (matching ``where``) within
        ``within_s`` seconds (those already here count too)."""
        def came() -> Received | None:
            return next((r for r in self.received(action, where) if not r.consumed), None)

        async def wait() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: came() is not None)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wait(), within_s)
        record = came()
        if record is not None:
            raise CaseFailed(step, expected or f"no {action}", record.payload)

    # -- CSMS -> station -----------------------------------------------------------------------

    def _session(self, step: str) -> OcppSession:
        connection = self.connection
        if connection is None:
            raise CaseFailed(step, "a connected station", "the station is not connected")
        return connection.session

    async def call(self, action: str, payload: dict[str, Any], *, step: str
                   ) -> dict[str, Any]:
        """Send ``action`` to the station; its answer, or ``CaseFailed`` naming ``step`` when
        it answers with a CALLERROR, not at all, or with a payload its schema refuses."""
        try:
            return await self._session(step).call(action, payload)
        except CallErrorReceived as exc:
            raise CaseFailed(step, f"a {action} response", f"CALLERROR {exc.code}: "
                             f"{exc.description}") from None
        except CallTimeout:
            raise CaseFailed(step, f"a {action} response within "
                             f"{self.sut.answer_timeout_s:g} s", "no answer") from None
        except SessionClosed:
            raise CaseFailed(step, f"a {action} response", "the station closed the "
                             "connection") from None
        except (OcppError, PayloadInvalid) as exc:
            raise CaseFailed(step, f"a schema-valid {action} response",
                             f"{exc.kind.value}: {exc}") from None

    async def call_or_error(self, action: str, payload: dict[str, Any], *, step: str
                            ) -> dict[str, Any] | CallErrorReceived:
        """For steps where the document accepts a response or a CALLERROR."""
        try:
            return await self._session(step).call(action, payload)
        except CallErrorReceived as exc:
            return exc
        except CallTimeout:
            raise CaseFailed(step, f"an answer to {action}", "no answer") from None
        except SessionClosed:
            raise CaseFailed(step, f"an answer to {action}", "the station closed the "
                             "connection") from None
        except (OcppError, PayloadInvalid) as exc:
            raise CaseFailed(step, f"a schema-valid {action} response",
                             f"{exc.kind.value}: {exc}") from None

    # -- raw frames (the robustness checks) ----------------------------------------------------

    async def send_raw(self, data: str | bytes, *, step: str) -> int:
        """Put ``data`` on the wire as it is, valid OCPP-J or not (``bytes``: a binary frame),
        on the station's current connection; that connection's number."""
        connection = self.connection
        if connection is None:
            raise CaseFailed(step, "a connected station", "the station is not connected")
        session = connection.session
        try:
            if isinstance(data, str):
                await session.send_text(data)
            else:
                # the session sends text only: a binary frame goes to the transport directly
                await session.transport.send(data)  # type: ignore[arg-type]
                self._record(TraceRecord(
                    direction="out", identity=connection.identity, version=self.version.value,
                    wall_time=time.time(), sim_time=None,
                    raw=data.decode("utf-8", errors="backslashreplace"), message_type=None,
                    message_id=None, action=None, outcome="raw"))
        except (SessionClosed, TransportClosed):
            raise CaseFailed(step, "the frame sent to the station",
                             "the station had closed the connection") from None
        return connection.number

    async def frame_in(self, where: Callable[[TraceRecord], bool], timeout_s: float,
                       direction: str = "in") -> TraceRecord | None:
        """The first frame the station sent in this case that ``where`` picks (parsed by the
        strict session: ``message_type``, ``message_id``, ``raw``), waiting at most
        ``timeout_s`` for it; None when none came. ``direction="out"``: a frame the harness
        sent (an answer on its way, TC_B_30)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            self._frame_came.clear()
            found = next((r for r in self.frames if r.direction == direction and where(r)),
                         None)
            left = deadline - loop.time()
            if found is not None or left <= 0:
                return found
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._frame_came.wait(), left)

    @property
    def violations(self) -> list[TraceRecord]:
        """Frames from the station in this case that broke the schemas or framing rules."""
        return [r for r in self.frames if r.direction == "in"
                and r.outcome.startswith(("invalid", "malformed"))]


def _tls_version(transport: WebSocketTransport) -> str | None:
    """The TLS version of the connection under ``transport``; None without TLS."""
    ssl_object = transport.connection.transport.get_extra_info("ssl_object")
    return None if ssl_object is None else ssl_object.version()
