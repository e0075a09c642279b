"""One station's OCPP-J connection in locust's gevent world.

asyncio libraries (``websockets``, the core's ``OcppSession``) cannot run inside locust, so this
is a small synchronous client on ``websocket-client``, whose blocking sockets become cooperative
under gevent's monkey patching. Everything OCPP about it comes from the sans-IO core: frames are
parsed and encoded by :mod:`chargeloop.ocppj.frames`, ids come from
:class:`~chargeloop.ocppj.ids.MessageIdFactory`, payloads both ways are checked against the
official schemas by :func:`chargeloop.ocppj.schemas.validate`, and CALLERROR codes are spelled
per version by :func:`chargeloop.ocppj.errors.error_code`.

A reader greenlet takes every frame off the socket: answers go to the one CALL waiting for them,
CALLs from the CSMS go to a handler whose answer is sent at once.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
import gevent.event
import gevent.lock
import websocket

from chargeloop.ocppj.errors import ErrorKind, OcppError, PayloadInvalid, error_code
from chargeloop.ocppj.frames import Call, CallError, CallResult, Malformed, parse_frame
from chargeloop.ocppj.ids import MessageIdFactory
from chargeloop.ocppj.schemas import Direction, ValidationMode, validate
from chargeloop.ocppj.versions import OcppVersion

log = logging.getLogger("chargeloop.loadtests")

CallHandler = Callable[[str, dict[str, Any]], dict[str, Any]]


class CallFailed(Exception):
    """A CALL got no usable CALLRESULT. ``reason`` is short and stable, so locust's failure
    table groups the same cause together (``CALLERROR NotImplemented``, ``timeout``, ...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class ConnectionLost(CallFailed):
    """The connection went away (closed by the CSMS, reset, refused)."""


class StationLink:
    """A connected station: ``call`` sends a CALL and waits for its answer; CSMS-initiated CALLs
    go to ``handler``. Only one CALL may be outstanding, as OCPP-J requires; callers send from
    one greenlet."""

    def __init__(self, socket: websocket.WebSocket, version: OcppVersion, identity: str,
                 handler: CallHandler, validation: ValidationMode,
                 answered: Callable[[], None] | None = None) -> None:
        self.version = version
        self.identity = identity
        self._socket = socket
        self._handler = handler
        self._answered = answered
        self._validation = validation
        self._ids = MessageIdFactory()
        self._send_lock = gevent.lock.Semaphore()
        self._waiting: tuple[str, str, gevent.event.AsyncResult] | None = None
        self.closed_by_us = False
        self.close_reason: str | None = None
        self.closed = gevent.event.Event()
        self._reader = gevent.spawn(self._read_loop)

    # -- making one --

    @classmethod
    def connect(cls, url: str, identity: str, version: OcppVersion, handler: CallHandler, *,
                password: str | None = None, timeout: float = 30.0,
                validation: ValidationMode = ValidationMode.STRICT,
                answered: Callable[[], None] | None = None) -> StationLink:
        """Open ``<url>/<identity>`` offering ``version`` as the subprotocol. Raises
        :class:`ConnectionLost` when the handshake fails or the CSMS picks no OCPP version.
        ``answered`` is called after each answer to a CSMS-initiated CALL has been sent (what
        the CALL asked for, a reset say, must not happen before the CSMS has its answer)."""
        headers = []
        if password is not None:
            secret = base64.b64encode(f"{identity}:{password}".encode()).decode()
            headers.append(f"Authorization: Basic {secret}")
        try:
            socket = websocket.create_connection(
                f"{url.rstrip('/')}/{identity}", timeout=timeout, header=headers,
                subprotocols=[version.value], enable_multithread=True,
                # Our OCPP frames are small JSON; checking UTF-8 in pure Python per frame
                # costs more than it is worth here (the JSON parser rejects bad text anyway).
                skip_utf8_validation=True)
        except websocket.WebSocketBadStatusException as exc:
            raise ConnectionLost(f"handshake HTTP {exc.status_code}") from exc
        except (OSError, websocket.WebSocketException) as exc:
            raise ConnectionLost("connect failed", f"{type(exc).__name__}: {exc}") from exc
        if socket.subprotocol != version.value:
            socket.close()
            raise ConnectionLost("no OCPP subprotocol",
                                 f"offered {version.value}, got {socket.subprotocol!r}")
        socket.settimeout(None)  # the reader blocks (cooperatively) until a frame arrives
        return cls(socket, version, identity, handler, validation, answered)

    # -- calling the CSMS --

    @property
    def busy(self) -> bool:
        """A CALL is outstanding."""
        return self._waiting is not None

    def call(self, action: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one CALL and return its CALLRESULT's payload, checked against the schema.

        Raises :class:`CallFailed` for a CALLERROR, a timeout or an answer that breaks the
        schema, :class:`ConnectionLost` when the connection goes away meanwhile."""
        if self._waiting is not None:
            raise RuntimeError("a CALL is already outstanding (OCPP-J allows one at a time)")
        if self.closed.is_set():
            raise ConnectionLost("connection closed", self.close_reason or "")
        message_id = self._ids()
        answer = gevent.event.AsyncResult()
        self._waiting = (message_id, action, answer)
        try:
            self._send(Call(message_id, action, payload).encode())
            frame = answer.get(timeout=timeout)
        except gevent.Timeout as exc:
            raise CallFailed("timeout", f"no answer within {timeout:g} s") from exc
        finally:
            self._waiting = None
        if isinstance(frame, CallFailed):
            raise frame
        if isinstance(frame, CallError):
            raise CallFailed(f"CALLERROR {frame.code}", frame.description)
        try:
            return validate(self.version, action, Direction.RESPONSE, frame.payload,
                            self._validation).payload
        except PayloadInvalid as exc:
            raise CallFailed("invalid CALLRESULT", str(exc)) from exc

    def close(self) -> None:
        self.closed_by_us = True
        self._finish("closed by the station")
        with contextlib.suppress(OSError, websocket.WebSocketException):
            self._socket.close(timeout=1)
        self._reader.kill(block=False)

    # -- the reader --

    def _send(self, text: str) -> None:
        try:
            with self._send_lock:
                self._socket.send(text)
        except (OSError, websocket.WebSocketException) as exc:
            self._finish(f"send failed: {type(exc).__name__}")
            raise ConnectionLost("send failed", f"{type(exc).__name__}: {exc}") from exc

    def _read_loop(self) -> None:
        while True:
            try:
                text = self._socket.recv()
            except websocket.WebSocketConnectionClosedException:
                self._finish("closed by the CSMS")
                return
            except (OSError, websocket.WebSocketException) as exc:
                self._finish(f"{type(exc).__name__}: {exc}")
                return
            if not text:  # a close frame arrived
                self._finish("closed by the CSMS")
                return
            self._on_frame(text)

    def _finish(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        waiting = self._waiting
        if waiting is not None and not waiting[2].ready():
            waiting[2].set(ConnectionLost("connection lost", reason))

    def _on_frame(self, text: str | bytes) -> None:
        frame = parse_frame(text, self.version)
        if isinstance(frame, Call):
            gevent.spawn(self._answer, frame)
            return
        waiting = self._waiting
        if isinstance(frame, Malformed):
            if frame.reply is not None:
                self._send_quietly(CallError(frame.message_id, error_code(frame.reply,
                                                                          self.version),
                                             frame.reason).encode())
            elif waiting is not None and frame.message_id == waiting[0]:
                waiting[2].set(CallFailed("malformed answer", frame.reason))
            return
        if isinstance(frame, CallResult | CallError) and waiting is not None \
                and frame.message_id == waiting[0]:
            waiting[2].set(frame)
            return
        log.debug("%s: ignored a frame nobody waits for: %.120s", self.identity, text)

    def _answer(self, call: Call) -> None:
        """Answer a CSMS-initiated CALL the way a station does: check it, run the handler,
        check our own answer too (a load generator that sends broken answers would blame the
        CSMS for its own faults)."""
        try:
            request = validate(self.version, call.action, Direction.REQUEST, call.payload,
                               self._validation).payload
            answer = self._handler(call.action, request)
        except OcppError as exc:
            reply = CallError(call.message_id, error_code(exc.kind, self.version),
                              exc.description, exc.details).encode()
        except PayloadInvalid as exc:
            reply = CallError(call.message_id, error_code(exc.kind, self.version),
                              str(exc)).encode()
        except Exception as exc:
            log.exception("%s: answering %s failed", self.identity, call.action)
            reply = CallError(call.message_id, error_code(ErrorKind.INTERNAL_ERROR,
                                                          self.version), str(exc)).encode()
        else:
            try:
                validate(self.version, call.action, Direction.RESPONSE, answer)
            except PayloadInvalid as exc:
                log.error("%s: our answer to %s breaks its schema: %s", self.identity,
                          call.action, exc)
                reply = CallError(call.message_id, error_code(ErrorKind.INTERNAL_ERROR,
                                                              self.version), str(exc)).encode()
            else:
                reply = CallResult(call.message_id, answer).encode()
        self._send_quietly(reply)
        if self._answered is not None:
            self._answered()

    def _send_quietly(self, text: str) -> None:
        # A lost connection: the reader has seen it too and the station's loop reconnects.
        with contextlib.suppress(ConnectionLost):
            self._send(text)


def not_implemented(action: str) -> OcppError:
    return OcppError(ErrorKind.NOT_IMPLEMENTED, f"{action} is not implemented by the load "
                                                 "test station")


def monotonic_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
