"""The charging station the suite plays when a CSMS is under test (OCTT's "test system").

Cases drive it step by step: ``call`` sends what the station sends and returns the CSMS's
answer; ``expect`` waits for a CALL of the CSMS and hands it to the case, which answers it. A
CALL nobody expects gets a plain default answer (``DEFAULT_ANSWERS``) and is remembered, so a
case can check that the CSMS did *not* send something.

Every frame both ways goes through ``OcppSession`` in strict mode: what the CSMS sends is checked
against the official schemas and the framing rules, and a frame that breaks them is recorded as
a violation the case fails on (``violations``), even when the case itself did not look at it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets

from chargeloop.ocppj import OcppError, OcppSession, OcppVersion, TraceRecord
from chargeloop.ocppj.actions import Role, may_send
from chargeloop.ocppj.errors import (
    CallErrorReceived,
    CallTimeout,
    ErrorKind,
    PayloadInvalid,
    SessionClosed,
)
from chargeloop.ocppj.schemas import known_actions
from chargeloop.ocppj.transport.websocket import HandshakeRefused, connect_ocpp, station_url
from conformance.verdicts import CaseFailed

# What the station answers to a CALL no step expects: the least a compliant station says.
DEFAULT_ANSWERS: dict[str, dict[str, Any]] = {
    "ChangeAvailability": {"status": "Accepted"}, "ChangeConfiguration": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"}, "ClearChargingProfile": {"status": "Accepted"},
    "DataTransfer": {"status": "UnknownVendorId"},
    "GetConfiguration": {"configurationKey": [], "unknownKey": []},
    "GetLocalListVersion": {"listVersion": 0}, "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"}, "ReserveNow": {"status": "Accepted"},
    "CancelReservation": {"status": "Accepted"}, "Reset": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"}, "SetChargingProfile": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"}, "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {}, "GetDiagnostics": {},
    "GetVariables": {"getVariableResult": []}, "SetVariables": {"setVariableResult": []},
    "GetBaseReport": {"status": "Accepted"}, "GetReport": {"status": "Accepted"},
    "SetNetworkProfile": {"status": "Accepted"},
    "RequestStartTransaction": {"status": "Accepted"},
    "RequestStopTransaction": {"status": "Accepted"},
    "GetTransactionStatus": {"messagesInQueue": False},
    "CostUpdated": {}, "ClearDisplayMessage": {"status": "Accepted"},
    "SetDisplayMessage": {"status": "Accepted"},
    "GetDisplayMessages": {"status": "Unknown"},
    "GetChargingProfiles": {"status": "NoProfiles"},
    "GetCompositeSchedule": {"status": "Rejected"},
    "GetLog": {"status": "Rejected"}, "GetMonitoringReport": {"status": "Accepted"},
    "SetMonitoringBase": {"status": "Accepted"}, "SetMonitoringLevel": {"status": "Accepted"},
    "SetVariableMonitoring": {"setMonitoringResult": []},
    "ClearVariableMonitoring": {"clearMonitoringResult": []},
    "CustomerInformation": {"status": "Accepted"},
    "CertificateSigned": {"status": "Accepted"}, "InstallCertificate": {"status": "Accepted"},
    "DeleteCertificate": {"status": "NotFound"},
    "GetInstalledCertificateIds": {"status": "NotFound"},
    "ExtendedTriggerMessage": {"status": "Accepted"},
    "SignedUpdateFirmware": {"status": "Accepted"},
    "PublishFirmware": {"status": "Accepted"}, "UnpublishFirmware": {"status": "NoFirmware"},
}


CASE_HEADER = "X-Conformance-Case"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class IncomingCall:
    """A CALL of the CSMS, waiting for the case's answer."""

    action: str
    payload: dict[str, Any]
    _answer: asyncio.Future[dict[str, Any] | OcppError] = field(repr=False)

    def respond(self, payload: dict[str, Any]) -> None:
        if not self._answer.done():
            self._answer.set_result(payload)

    def respond_error(self, kind: ErrorKind, description: str = "") -> None:
        if not self._answer.done():
            self._answer.set_result(OcppError(kind, description))


@dataclass
class _Expectation:
    action: str
    arrived: asyncio.Future[IncomingCall]


class TestStation:
    """One station identity the suite plays, over a real WebSocket to the CSMS."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, url: str, identity: str, version: OcppVersion, *,
                 password: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 answer_timeout_s: float = 30.0,
                 trace: Callable[[TraceRecord], None] | None = None,
                 case_id: str | None = None) -> None:
        self.url, self.identity, self.version = url, identity, version
        self.password = password
        self.ssl_context = ssl_context
        self.answer_timeout_s = answer_timeout_s
        # Sent with the handshake (X-Conformance-Case): a CSMS's logs can tell which case a
        # connection belongs to, and the suite's own faulty CSMS breaks that case's rule.
        self.case_headers = {CASE_HEADER: case_id} if case_id else {}
        self.frames: list[TraceRecord] = []
        self.unexpected: list[tuple[str, dict[str, Any]]] = []  # CALLs answered by default
        self.answers: dict[str, dict[str, Any]] = dict(DEFAULT_ANSWERS)
        self._trace = trace
        self._session: OcppSession | None = None
        self._serving: asyncio.Task[None] | None = None
        self._expectations: list[_Expectation] = []
        self.open_transactions: dict[str, dict[str, Any]] = {}
        self._unanswered: list[asyncio.Future[dict[str, Any] | OcppError]] = []
        self._replying: list[tuple[asyncio.Future[Any], asyncio.Task[Any] | None]] = []

    # -- connection ----------------------------------------------------------------------------

    async def connect(self, *, step: str = "connect") -> None:
        """Open the WebSocket (HTTP Basic auth with the station's password, if it has one)."""
        try:
            transport = await connect_ocpp(self.url, identity=self.identity,
                                           versions=[self.version], password=self.password,
                                           ssl_context=self.ssl_context,
                                           headers=self.case_headers)
        except HandshakeRefused as exc:
            raise CaseFailed(step, "the CSMS to accept the WebSocket connection",
                             f"handshake refused: {exc}") from None
        except OSError as exc:
            raise CaseFailed(step, f"a CSMS listening at {self.url}",
                             f"{type(exc).__name__}: {exc}") from None
        session = OcppSession(transport, self.version, role=Role.STATION,
                              identity=self.identity, call_timeout=self.answer_timeout_s,
                              trace=self._record)
        for action in known_actions(self.version):
            if may_send(self.version, Role.CSMS, action):
                session.route(action, self._handler(action))
        self._session = session
        self._serving = asyncio.get_running_loop().create_task(session.serve())

    def basic_auth_headers(self, username: str | None = None,
                           password: str | None = None) -> dict[str, str]:
        """HTTP Basic auth as ``username`` (default: the identity) with ``password`` (default:
        the station's); none without a password."""
        secret = password if password is not None else self.password
        if secret is None:
            return {}
        user = username if username is not None else self.identity
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode())
                .decode()}

    async def handshake_status(self, headers: dict[str, str]) -> int:
        """Open a WebSocket with exactly ``headers`` and close it again: 101 if the CSMS
        accepted it, else the HTTP status it refused with (0 if it gave none)."""
        url = station_url(self.url, self.identity)
        try:
            async with websockets.connect(url, subprotocols=[self.version.value],  # type: ignore[list-item]
                                          additional_headers={**headers, **self.case_headers},
                                          ssl=self.ssl_context,
                                          proxy=None, open_timeout=self.answer_timeout_s):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code
        except (websockets.InvalidHandshake, OSError):
            return 0

    async def close(self) -> None:
        """Close the connection; answers the case gave are sent first, CALLs it left
        unanswered get a CALLERROR, and transactions it left open are ended."""
        for pending in self._unanswered:
            if not pending.done():
                pending.set_result(OcppError(ErrorKind.GENERIC_ERROR, "the case ended"))
        if self._session is not None and not self._session.closed:
            await self._session.drain(self.answer_timeout_s)
            await self.end_open_transactions()
        if self._session is not None:
            await self._session.close()
        if self._serving is not None:
            self._serving.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._serving
        self._session = self._serving = None

    @property
    def session(self) -> OcppSession:
        if self._session is None:
            raise RuntimeError(f"{self.identity} is not connected")
        return self._session

    @property
    def connected(self) -> bool:
        return self._session is not None and not self._session.closed

    # -- station -> CSMS -----------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any], *, step: str) -> dict[str, Any]:
        """Send ``action``; the CSMS's answer, or ``CaseFailed`` naming ``step`` when it answers
        with a CALLERROR, not at all, or with a payload its schema refuses."""
        await self._answers_sent()
        try:
            answer = await self.session.call(action, payload)
        except CallErrorReceived as exc:
            raise CaseFailed(step, f"a {action} response", f"CALLERROR {exc.code}: "
                             f"{exc.description}") from None
        except CallTimeout:
            raise CaseFailed(step, f"a {action} response within {self.answer_timeout_s:g} s",
                             "no answer") from None
        except SessionClosed:
            raise CaseFailed(step, f"a {action} response", "the CSMS closed the connection") \
                from None
        except (OcppError, PayloadInvalid) as exc:  # the answer did not match its schema
            raise CaseFailed(step, f"a schema-valid {action} response",
                             f"{exc.kind.value}: {exc}") from None
        self._track(action, payload, answer)
        return answer

    async def _answers_sent(self) -> None:
        """Wait until the answers the case gave are on the wire, so the station's next CALL
        follows them as the case's steps are ordered (``respond`` only hands the answer to the
        task that sends it)."""
        self._replying = [(given, task) for given, task in self._replying
                          if task is not None and not task.done()]
        pending = [task for given, task in self._replying if given.done() and task is not None]
        if pending:
            await asyncio.wait(pending, timeout=self.answer_timeout_s)

    # -- transactions left open ----------------------------------------------------------------

    def _track(self, action: str, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        """Remember the transactions this station runs, so a case that ends in the middle of
        one does not leave its token busy (ConcurrentTx) for the next case."""
        if action == "StartTransaction" and "transactionId" in answer:
            self.open_transactions[str(answer["transactionId"])] = {
                "connectorId": payload.get("connectorId")}
        elif action == "StopTransaction":
            self.open_transactions.pop(str(payload.get("transactionId")), None)
        elif action == "TransactionEvent":
            tx_id = str(payload.get("transactionInfo", {}).get("transactionId"))
            if payload.get("eventType") == "Ended":
                self.open_transactions.pop(tx_id, None)
            else:
                known = self.open_transactions.setdefault(tx_id, {})
                known["seqNo"] = payload.get("seqNo", 0)

    async def end_open_transactions(self) -> None:
        """Stop what this station left running (not part of any case's checks)."""
        for tx_id, known in list(self.open_transactions.items()):
            with contextlib.suppress(Exception):
                if self.version is OcppVersion.V16:
                    await self.session.call("StopTransaction", {
                        "transactionId": int(tx_id), "meterStop": 0, "reason": "Other",
                        "timestamp": _now()})
                else:
                    await self.session.call("TransactionEvent", {
                        "eventType": "Ended", "timestamp": _now(),
                        "triggerReason": "AbnormalCondition",
                        "seqNo": int(known.get("seqNo", 0)) + 1,
                        "transactionInfo": {"transactionId": tx_id, "stoppedReason": "Other"}})
            self.open_transactions.pop(tx_id, None)

    async def call_error(self, action: str, payload: dict[str, Any], *, step: str
                         ) -> CallErrorReceived:
        """Send ``action`` where the case expects a CALLERROR, and return it."""
        await self._answers_sent()
        try:
            answer = await self.session.call(action, payload)
        except CallErrorReceived as exc:
            return exc
        except CallTimeout:
            raise CaseFailed(step, f"a CALLERROR to {action}", "no answer") from None
        raise CaseFailed(step, f"a CALLERROR to {action}", answer)

    async def send_raw(self, text: str) -> None:
        await self.session.send_text(text)

    # -- CSMS -> station -----------------------------------------------------------------------

    def expect(self, action: str) -> asyncio.Future[IncomingCall]:
        """Start waiting for the CSMS's next ``action`` (call this before triggering it)."""
        arrived: asyncio.Future[IncomingCall] = asyncio.get_running_loop().create_future()
        self._expectations.append(_Expectation(action, arrived))
        return arrived

    async def receive(self, action: str, timeout_s: float, *, step: str,
                      waiting: asyncio.Future[IncomingCall] | None = None) -> IncomingCall:
        """The CSMS's ``action`` CALL (``waiting``: from an earlier ``expect``)."""
        waiting = waiting or self.expect(action)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), timeout_s)
        except TimeoutError:
            self._expectations = [e for e in self._expectations if e.arrived is not waiting]
            raise CaseFailed(step, f"the CSMS to send {action} within {timeout_s:g} s",
                             "nothing came") from None

    def _handler(self, action: str) -> Callable[[dict[str, Any]], Any]:
        async def handle(payload: dict[str, Any]) -> dict[str, Any]:
            for expectation in self._expectations:
                if expectation.action == action and not expectation.arrived.done():
                    self._expectations.remove(expectation)
                    answer: asyncio.Future[dict[str, Any] | OcppError] = \
                        asyncio.get_running_loop().create_future()
                    self._unanswered.append(answer)
                    # the task that will send the answer: once the case has given it, the
                    # station's next CALL waits until it is sent
                    self._replying.append((answer, asyncio.current_task()))
                    expectation.arrived.set_result(IncomingCall(action, payload, answer))
                    result = await answer
                    if isinstance(result, OcppError):
                        raise result
                    return result
            self.unexpected.append((action, payload))
            return self.answers.get(action, {})

        return handle

    # -- what travelled ------------------------------------------------------------------------

    def _record(self, record: TraceRecord) -> None:
        self.frames.append(record)
        if self._trace is not None:
            self._trace(record)

    @property
    def violations(self) -> list[TraceRecord]:
        """Frames from the CSMS that broke the schemas or the framing rules."""
        return [r for r in self.frames if r.direction == "in"
                and r.outcome.startswith(("invalid", "malformed"))]
