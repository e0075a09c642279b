"""One OCPP-J conversation over any transport, in either role.

The session reads frames with the sans-IO parser, dispatches CALLs to handlers by action,
correlates answers to the one CALL it may have outstanding, validates every payload in both
directions and answers every fault with the CALLERROR the rules ask for. Nothing a peer sends
can end the session: only the transport closing does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chargeloop.ocppj import typed
from chargeloop.ocppj.actions import Role, defined_elsewhere, may_send
from chargeloop.ocppj.errors import (
    CallErrorReceived,
    CallTimeout,
    ErrorKind,
    OcppError,
    PayloadInvalid,
    SessionClosed,
    error_code,
)
from chargeloop.ocppj.frames import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    Malformed,
    MessageType,
    Send,
    parse_frame,
    peek_message_id,
)
from chargeloop.ocppj.ids import MessageIdFactory
from chargeloop.ocppj.schemas import Direction, ValidationMode, known_actions, validate
from chargeloop.ocppj.trace import TraceHook, TraceRecord
from chargeloop.ocppj.transport.base import Transport, TransportClosed
from chargeloop.ocppj.versions import OcppVersion

log = logging.getLogger("chargeloop.ocppj")

Handler = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a handler may want besides the payload: pass ``context=True`` when routing."""

    session: OcppSession
    message_id: str
    action: str
    leniencies: tuple[str, ...]


@dataclass(slots=True)
class _Route:
    handler: Handler
    typed: bool
    with_context: bool


@dataclass(slots=True)
class _Pending:
    message_id: str
    action: str
    future: asyncio.Future[dict[str, Any]]


class OcppSession:
    """An OCPP-J session.

    ``serve()`` runs the receive loop until the transport closes. ``call()`` sends a CALL and
    returns the answer's payload; callers queue so that at most one CALL is outstanding.
    """

    def __init__(
        self,
        transport: Transport,
        version: OcppVersion,
        *,
        role: Role,
        identity: str = "",
        validation: ValidationMode = ValidationMode.STRICT,
        call_timeout: float = 30.0,
        trace: TraceHook | None = None,
        sim_time: Callable[[], float | None] | None = None,
        max_message_bytes: int | None = None,
        answer_cache_size: int = 64,
    ) -> None:
        self.transport = transport
        self.version = version
        self.role = role
        self.identity = identity
        self.validation = validation
        self.call_timeout = call_timeout
        self.trace = trace
        self.sim_time = sim_time
        self.max_message_bytes = max_message_bytes
        self._routes: dict[str, _Route] = {}
        self._call_lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._new_id = MessageIdFactory()
        self._incoming: set[str] = set()
        # Recent answers by CALL id: a retransmitted CALL gets the same answer again instead of
        # running its handler twice (a retried StartTransaction must not start twice).
        self._answers: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._answer_cache_size = answer_cache_size
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = asyncio.Event()
        self._known = known_actions(version)

    # -- routing -------------------------------------------------------------------------------

    def route(self, action: str, handler: Handler | None = None, *, typed: bool = False,
              context: bool = False) -> Any:
        """Register ``handler`` for incoming CALLs (and 2.1 SENDs) of ``action``.

        The handler gets the payload dict (or the ``ocpp`` request dataclass with ``typed``),
        plus a :class:`CallContext` as second argument with ``context``; it may be sync or async
        and returns the answer's payload (dict or dataclass). Raising :class:`OcppError` answers
        with that CALLERROR. Usable as a decorator when ``handler`` is omitted.
        """
        def register(fn: Handler) -> Handler:
            self._routes[action] = _Route(fn, typed, context)
            return fn

        return register(handler) if handler is not None else register

    # -- sending -------------------------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any] | None = None, *,
                   timeout: float | None = None) -> dict[str, Any]:
        """Send a CALL and return the CALLRESULT payload.

        Raises :class:`CallErrorReceived`, :class:`CallTimeout`, :class:`SessionClosed`, or
        :class:`PayloadInvalid` when the request (strict mode: before sending) or the answer does
        not match its schema.
        """
        payload = {} if payload is None else payload
        checked = validate(self.version, action, Direction.REQUEST, payload, self._own_mode)
        async with self._call_lock:
            if self._closed.is_set():
                raise SessionClosed(f"{self.identity}: cannot send {action}, session closed")
            message_id = self._new_id()
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending = _Pending(message_id, action, future)
            try:
                await self._send_frame(Call(message_id, action, checked.payload), action)
                async with asyncio.timeout(self.call_timeout if timeout is None else timeout):
                    return await future
            except TimeoutError:
                raise CallTimeout(f"{self.identity}: no answer to {action} ({message_id}) "
                                  f"within {self.call_timeout if timeout is None else timeout} s"
                                  ) from None
            finally:
                self._pending = None

    async def call_typed(self, request: Any, *, timeout: float | None = None) -> Any:
        """Send an ``ocpp`` request dataclass; return the ``ocpp`` result dataclass."""
        action = typed.action_of(request)
        result = await self.call(action, typed.to_payload(request), timeout=timeout)
        return typed.result_object(self.version, action, result)

    async def send(self, action: str, payload: dict[str, Any]) -> None:
        """OCPP 2.1 SEND: a one-way message, never answered."""
        if not self.version.has_send:
            raise ValueError(f"SEND does not exist in {self.version}")
        checked = validate(self.version, action, Direction.REQUEST, payload, self._own_mode)
        await self._send_frame(Send(self._new_id(), action, checked.payload), action)

    async def send_text(self, text: str) -> None:
        """Put any text on the wire, valid or not: for tests that send broken frames."""
        await self._send_raw(text, None, None, None, "raw")

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until the answers handlers are still preparing
        have been sent: closing right after a handler returned must not swallow its answer."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        with contextlib.suppress(TransportClosed):
            await self.transport.close(code, reason)
        self._mark_closed()

    async def serve(self) -> None:
        """Receive and handle frames until the transport closes."""
        try:
            while True:
                try:
                    raw = await self.transport.recv()
                except TransportClosed as exc:
                    log.info("%s: connection closed (%s %s)", self.identity, exc.code, exc.reason)
                    return
                await self._receive(raw)
        finally:
            self._mark_closed()
            for task in list(self._tasks):
                task.cancel()

    def _mark_closed(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        pending = self._pending
        if pending is not None and not pending.future.done():
            pending.future.set_exception(
                SessionClosed(f"{self.identity}: connection closed while {pending.action} "
                              "waited for its answer"))

    # -- receiving -----------------------------------------------------------------------------

    @property
    def _own_mode(self) -> ValidationMode:
        # What we send is held to the schema in strict and lenient mode alike: leniency is for
        # other people's quirks, never for our own.
        off = self.validation is ValidationMode.OFF
        return ValidationMode.OFF if off else ValidationMode.STRICT

    async def _receive(self, raw: str | bytes) -> None:
        if self.max_message_bytes is not None and _size(raw) > self.max_message_bytes:
            await self._oversize(raw)
            return
        frame = parse_frame(raw, self.version)
        if isinstance(frame, Malformed):
            await self._malformed(raw, frame)
        elif isinstance(frame, Call):
            await self._on_call(raw, frame)
        elif isinstance(frame, CallResult):
            await self._on_result(raw, frame)
        elif isinstance(frame, CallResultError):
            self._record_in(raw, frame, None, "ok")
            log.warning("%s: peer could not process our answer %s: %s %s", self.identity,
                        frame.message_id, frame.code, frame.description)
        elif isinstance(frame, CallError):
            self._on_error(raw, frame)
        else:
            self._on_send(raw, frame)

    async def _oversize(self, raw: str | bytes) -> None:
        message_id = peek_message_id(raw)
        reason = f"frame of {_size(raw)} bytes exceeds the limit of {self.max_message_bytes}"
        log.warning("%s: %s", self.identity, reason)
        self._record_in(_show(raw[:256]), None, None, f"malformed: {reason}")
        if raw[:8].lstrip("[ \t\r\n" if isinstance(raw, str) else b"[ \t\r\n")[:1] in ("2", b"2"):
            await self._reply_error(message_id, ErrorKind.FORMAT_VIOLATION, reason)

    async def _malformed(self, raw: str | bytes, frame: Malformed) -> None:
        log.warning("%s: malformed frame (%s): %.200r", self.identity, frame.reason, raw)
        self._record_in(_show(raw), None, None, f"malformed: {frame.reason}",
                        message_type=frame.message_type, message_id=frame.message_id)
        if frame.reply is not None:
            await self._reply_error(frame.message_id, frame.reply, frame.reason)
        pending = self._pending
        if (pending is not None and frame.message_id == pending.message_id
                and frame.message_type in (MessageType.CALLRESULT, MessageType.CALLERROR)
                and not pending.future.done()):
            pending.future.set_exception(PayloadInvalid(ErrorKind.PROTOCOL_ERROR, frame.reason, ""))

    async def _on_call(self, raw: str | bytes, call: Call) -> None:
        mid, action = call.message_id, call.action
        if mid in self._incoming:
            reason = f"message id {mid} repeats a CALL that is still being handled"
            self._record_in(raw, call, action, f"invalid: {reason}")
            await self._reply_error(mid, ErrorKind.RPC_FRAMEWORK_ERROR, reason)
            return
        cached = self._answers.get(mid)
        if cached is not None:
            fingerprint, answer = cached
            if fingerprint == _fingerprint(raw):
                self._record_in(raw, call, action, "ignored: retransmission, answer repeated")
                log.info("%s: retransmitted %s %s answered again", self.identity, action, mid)
                await self._send_quietly(answer, MessageType.CALLRESULT, mid, action)
                return
        rejection = self._check_action(action)
        if rejection is not None:
            kind, reason = rejection
            self._record_in(raw, call, action, f"invalid: {reason}")
            log.warning("%s: %s", self.identity, reason)
            await self._reply_error(mid, kind, reason)
            return
        try:
            checked = validate(self.version, action, Direction.REQUEST, call.payload,
                               self.validation)
        except PayloadInvalid as exc:
            self._record_in(raw, call, action, f"invalid: {exc}")
            log.warning("%s: %s %s rejected: %s", self.identity, action, mid, exc)
            await self._reply_error(mid, exc.kind, f"{action}: {exc}", {"path": exc.path})
            return
        self._record_in(raw, call, action, _outcome(checked.leniencies))
        self._incoming.add(mid)
        route = self._routes[action]
        await self._dispatch(route, call, checked.payload, checked.leniencies, _fingerprint(raw))

    def _check_action(self, action: str) -> tuple[ErrorKind, str] | None:
        if action not in self._known:
            if defined_elsewhere(self.version, action):
                return ErrorKind.NOT_SUPPORTED, f"{action} is not an action of {self.version}"
            return ErrorKind.NOT_IMPLEMENTED, f"unknown action {action!r}"
        if not may_send(self.version, self.role.peer, action):
            return ErrorKind.NOT_SUPPORTED, (f"{action} is sent by the {self.role.value}, "
                                             f"not to it")
        if action not in self._routes:
            return ErrorKind.NOT_SUPPORTED, f"{action} is not supported here"
        return None

    async def _dispatch(self, route: _Route, call: Call, payload: dict[str, Any],
                  leniencies: tuple[str, ...], fingerprint: str) -> None:
        try:
            result = self._invoke(route, call.message_id, call.action, payload, leniencies)
        except Exception as exc:  # noqa: BLE001 - every handler fault becomes a CALLERROR
            await self._handler_failed(call, exc)
            return
        if inspect.isawaitable(result):
            self._spawn(self._finish_async(call, result, fingerprint))
        else:
            await self._answer(call, result, fingerprint)

    def _invoke(self, route: _Route, message_id: str, action: str, payload: dict[str, Any],
                leniencies: tuple[str, ...]) -> Any:
        argument = typed.request_object(self.version, action, payload) if route.typed else payload
        if route.with_context:
            return route.handler(argument, CallContext(self, message_id, action, leniencies))
        return route.handler(argument)

    async def _finish_async(self, call: Call, pending: Awaitable[Any], fingerprint: str) -> None:
        try:
            result = await pending
        except asyncio.CancelledError:
            self._incoming.discard(call.message_id)
            raise
        except Exception as exc:  # noqa: BLE001 - every handler fault becomes a CALLERROR
            await self._handler_failed(call, exc)
            return
        await self._answer(call, result, fingerprint)

    async def _answer(self, call: Call, result: Any, fingerprint: str) -> None:
        mid, action = call.message_id, call.action
        try:
            payload = typed.to_payload({} if result is None else result)
            payload = validate(self.version, action, Direction.RESPONSE, payload,
                               self._own_mode).payload
            text = CallResult(mid, payload).encode()
        except (PayloadInvalid, TypeError, ValueError) as exc:
            # A schema error, or a value JSON cannot carry (the validator and the encoder
            # refuse those with ValueError and TypeError): the handler's fault, not the peer's.
            log.error("%s: our own answer to %s is invalid: %s", self.identity, action, exc)
            self._incoming.discard(mid)
            await self._reply_error(mid, ErrorKind.INTERNAL_ERROR, f"invalid answer to {action}")
            return
        self._answers[mid] = (fingerprint, text)
        if len(self._answers) > self._answer_cache_size:
            self._answers.popitem(last=False)
        self._incoming.discard(mid)
        await self._send_quietly(text, MessageType.CALLRESULT, mid, action)

    async def _handler_failed(self, call: Call, exc: Exception) -> None:
        self._incoming.discard(call.message_id)
        if isinstance(exc, OcppError):
            await self._reply_error(call.message_id, exc.kind, exc.description, exc.details)
            return
        log.error("%s: handler for %s failed", self.identity, call.action, exc_info=exc)
        await self._reply_error(call.message_id, ErrorKind.INTERNAL_ERROR,
                          f"{call.action} handler failed: {type(exc).__name__}")

    def _on_send(self, raw: str | bytes, send: Send) -> None:
        rejection = self._check_action(send.action)
        if rejection is not None:
            self._record_in(raw, send, send.action, f"ignored: {rejection[1]}")
            return
        try:
            checked = validate(self.version, send.action, Direction.REQUEST, send.payload,
                               self.validation)
        except PayloadInvalid as exc:
            self._record_in(raw, send, send.action, f"invalid: {exc}")
            return
        self._record_in(raw, send, send.action, _outcome(checked.leniencies))
        route = self._routes[send.action]
        try:
            result = self._invoke(route, send.message_id, send.action, checked.payload,
                                  checked.leniencies)
        except Exception:
            log.exception("%s: handler for SEND %s failed", self.identity, send.action)
            return
        if inspect.isawaitable(result):
            self._spawn(_swallow(result, self.identity, send.action))

    async def _on_result(self, raw: str | bytes, result: CallResult) -> None:
        pending = self._pending
        if pending is None or pending.message_id != result.message_id or pending.future.done():
            self._record_in(raw, result, None, "ignored: answer to no CALL of ours")
            log.warning("%s: CALLRESULT for unknown id %s ignored", self.identity,
                        result.message_id)
            return
        try:
            checked = validate(self.version, pending.action, Direction.RESPONSE, result.payload,
                               self.validation)
        except PayloadInvalid as exc:
            self._record_in(raw, result, pending.action, f"invalid: {exc}")
            log.warning("%s: answer to %s is invalid: %s", self.identity, pending.action, exc)
            if self.version.has_send:
                await self._send_quietly(
                    CallResultError(result.message_id, error_code(exc.kind, self.version),
                                    str(exc)).encode(),
                    MessageType.CALLRESULTERROR, result.message_id, pending.action)
            pending.future.set_exception(exc)
            return
        self._record_in(raw, result, pending.action, _outcome(checked.leniencies))
        pending.future.set_result(checked.payload)

    def _on_error(self, raw: str | bytes, error: CallError) -> None:
        pending = self._pending
        if pending is None or pending.message_id != error.message_id or pending.future.done():
            self._record_in(raw, error, None, "ignored: answer to no CALL of ours")
            log.warning("%s: CALLERROR for unknown id %s ignored", self.identity,
                        error.message_id)
            return
        self._record_in(raw, error, pending.action, "ok")
        pending.future.set_exception(
            CallErrorReceived(pending.action, error.code, error.description, error.details))

    # -- writing -------------------------------------------------------------------------------

    async def _reply_error(self, message_id: str, kind: ErrorKind, description: str,
                     details: dict[str, Any] | None = None) -> None:
        frame = CallError(message_id, error_code(kind, self.version), description, details or {})
        await self._send_quietly(frame.encode(), MessageType.CALLERROR, message_id, None)

    async def _send_frame(self, frame: Call | Send, action: str) -> None:
        await self._send_raw(frame.encode(), frame.message_type, frame.message_id, action, "ok")

    async def _send_raw(self, text: str, message_type: int | None, message_id: str | None,
                        action: str | None, outcome: str) -> None:
        try:
            await self.transport.send(text)
        except TransportClosed as exc:
            raise SessionClosed(f"{self.identity}: connection closed") from exc
        if self.trace is not None:
            self.trace(self._record("out", text, message_type, message_id, action, outcome))

    async def _send_quietly(self, text: str, message_type: int, message_id: str,
                            action: str | None) -> None:
        # An answer that cannot go out because the peer left is no error worth a traceback:
        # the receive loop ends on the same closed transport right after.
        with contextlib.suppress(SessionClosed):
            await self._send_raw(text, message_type, message_id, action, "ok")

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(_quiet_close(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- tracing -------------------------------------------------------------------------------

    def _record_in(self, raw: str | bytes, frame: Any, action: str | None, outcome: str, *,
                   message_type: int | None = None, message_id: str | None = None) -> None:
        if self.trace is None:
            return
        if frame is not None:
            message_type, message_id = int(frame.message_type), frame.message_id
            action = action or getattr(frame, "action", None)
        self.trace(self._record("in", _show(raw), message_type, message_id, action, outcome))

    def _record(self, direction: str, raw: str, message_type: int | None,
                message_id: str | None, action: str | None, outcome: str) -> TraceRecord:
        return TraceRecord(
            direction=direction, identity=self.identity, version=self.version.value,
            wall_time=time.time(), sim_time=self.sim_time() if self.sim_time else None,
            raw=raw, message_type=message_type, message_id=message_id, action=action,
            outcome=outcome)


def _show(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="backslashreplace")
    if not raw.isascii():
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates (only an in-process peer can send them) would break every JSON
            # trace writer: show them escaped, like the bytes of a binary frame.
            return raw.encode("utf-8", errors="backslashreplace").decode("utf-8")
    return raw


def _size(raw: str | bytes) -> int:
    """The frame's size in bytes as it travelled (UTF-8 for text frames)."""
    if isinstance(raw, bytes):
        return len(raw)
    # ASCII text has one byte per character: encode only when that is not so.
    return len(raw) if raw.isascii() else len(raw.encode("utf-8", errors="surrogatepass"))


def _fingerprint(raw: str | bytes) -> str:
    data = raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _outcome(leniencies: tuple[str, ...]) -> str:
    return "lenient: " + "; ".join(leniencies) if leniencies else "ok"


async def _quiet_close(coro: Awaitable[None]) -> None:
    # An answer that cannot be sent because the peer left is not an error worth a traceback.
    with contextlib.suppress(SessionClosed):
        await coro


async def _swallow(pending: Awaitable[Any], identity: str, action: str) -> None:
    try:
        await pending
    except Exception:
        log.exception("%s: handler for SEND %s failed", identity, action)
