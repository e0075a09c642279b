"""OCPP-J frames: parse text into a frame or a :class:`Malformed` verdict, and encode frames.

Pure functions, no I/O: the asyncio session, the in-memory backend and the gevent world of locust
share them. The rules follow OCPP-J 1.6 §4, OCPP-J 2.0.1 Part 4 and OCPP 2.1 Part 4 (see
``../shared/conformance/sequences.md``, Part B).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

import orjson

from chargeloop.ocppj.errors import MAX_DESCRIPTION, ErrorKind
from chargeloop.ocppj.versions import OcppVersion

MAX_MESSAGE_ID = 36
UNREADABLE_ID = "-1"


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5  # 2.1
    SEND = 6  # 2.1


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A Decimal with no fraction stays an integer on the wire; others go by their shortest
        # float form, which is what a JSON peer would parse anyway.
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} into an OCPP frame")


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=_json_default).decode()


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]
    message_type = MessageType.CALL

    def encode(self) -> str:
        return dumps([2, self.message_id, self.action, self.payload])


@dataclass(frozen=True, slots=True)
class Send:
    """2.1: a one-way message shaped like a CALL that is never answered."""

    message_id: str
    action: str
    payload: dict[str, Any]
    message_type = MessageType.SEND

    def encode(self) -> str:
        return dumps([6, self.message_id, self.action, self.payload])


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]
    message_type = MessageType.CALLRESULT

    def encode(self) -> str:
        return dumps([3, self.message_id, self.payload])


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    message_type = MessageType.CALLERROR

    def encode(self) -> str:
        return dumps(
            [int(self.message_type), self.message_id, self.code,
             self.description[:MAX_DESCRIPTION], self.details]
        )


@dataclass(frozen=True, slots=True)
class CallResultError(CallError):
    """2.1: sent when a received CALLRESULT cannot be processed; shaped like a CALLERROR."""

    message_type = MessageType.CALLRESULTERROR


Frame = Call | CallResult | CallError | Send


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame that is not valid OCPP-J.

    ``reply`` is the error kind to answer with (``None``: drop it silently, as the rules say for
    broken answers and for unknown message types on 1.6). ``message_id`` is the id to answer
    with, ``"-1"`` when it cannot be read. ``message_type`` is set when it could be read, so a
    broken answer can still fail the CALL that waits for it.
    """

    reason: str
    reply: ErrorKind | None
    message_id: str = UNREADABLE_ID
    message_type: int | None = None


def _framework_error(version: OcppVersion) -> ErrorKind:
    return ErrorKind.RPC_FRAMEWORK_ERROR if version.is_2x else ErrorKind.PROTOCOL_ERROR


def _decode_json(raw: str | bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson refuses some valid JSON (integers beyond 64 bits in older releases, numbers
        # that overflow a double), so ask the standard library before giving up.
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        data = json.loads(raw, parse_constant=_reject_constant)
        # The standard library also accepts lone surrogates ("\ud800"), which are no Unicode
        # text: nothing decoded from them could be validated or sent back out.
        _reject_surrogates(data)
        return data


def _reject_surrogates(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def valid_message_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_MESSAGE_ID


def parse_frame(raw: str | bytes, version: OcppVersion) -> Frame | Malformed:
    """Read one WebSocket message as an OCPP-J frame of ``version``."""
    try:
        data = _decode_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        kind = ErrorKind.RPC_FRAMEWORK_ERROR if version.is_2x else ErrorKind.FORMAT_VIOLATION
        return Malformed(f"not UTF-8 JSON: {exc}", kind)

    if not isinstance(data, list) or not data:
        return Malformed("top level is not a non-empty JSON array", _framework_error(version))
    type_id = data[0]
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        reason = f"message type id {type_id!r} is not an integer"
        return Malformed(reason, _framework_error(version))

    raw_id = data[1] if len(data) > 1 else None
    readable_id = raw_id if valid_message_id(raw_id) else UNREADABLE_ID

    known = {2, 3, 4, 5, 6} if version.has_send else {2, 3, 4}
    if type_id not in known:
        reason = f"message type {type_id} is not part of {version.value}"
        if version.is_2x:
            return Malformed(reason, ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, readable_id, type_id)
        return Malformed(reason, None, readable_id, type_id)  # OCPP-J 1.6: ignored

    answerable = type_id in (MessageType.CALL,)
    if not valid_message_id(raw_id):
        reason = f"message id {raw_id!r} is not a string of 1 to {MAX_MESSAGE_ID} characters"
        return Malformed(reason, _framework_error(version) if answerable else None,
                         UNREADABLE_ID, type_id)
    message_id: str = raw_id

    if type_id in (MessageType.CALL, MessageType.SEND):
        return _parse_call(data, message_id, type_id, version)
    if type_id == MessageType.CALLRESULT:
        if len(data) != 3:
            return Malformed(f"CALLRESULT has {len(data)} elements, not 3", None, message_id, 3)
        if not isinstance(data[2], dict):
            return Malformed("CALLRESULT payload is not a JSON object", None, message_id, 3)
        return CallResult(message_id, data[2])
    return _parse_error(data, message_id, type_id)


def _parse_call(data: list[Any], message_id: str, type_id: int,
                version: OcppVersion) -> Frame | Malformed:
    name = "CALL" if type_id == MessageType.CALL else "SEND"
    # A SEND is never answered, not even with an error.
    framework = _framework_error(version) if type_id == MessageType.CALL else None
    if len(data) != 4:
        return Malformed(f"{name} has {len(data)} elements, not 4", framework, message_id, type_id)
    action, payload = data[2], data[3]
    if not isinstance(action, str) or not action:
        return Malformed(f"{name} action {action!r} is not a non-empty string", framework,
                         message_id, type_id)
    if not isinstance(payload, dict):
        kind = ErrorKind.FORMAT_VIOLATION if type_id == MessageType.CALL else None
        return Malformed(f"{name} payload is {type(payload).__name__}, not a JSON object", kind,
                         message_id, type_id)
    if type_id == MessageType.SEND:
        return Send(message_id, action, payload)
    return Call(message_id, action, payload)


def _parse_error(data: list[Any], message_id: str, type_id: int) -> Frame | Malformed:
    name = "CALLERROR" if type_id == MessageType.CALLERROR else "CALLRESULTERROR"
    if len(data) != 5:
        return Malformed(f"{name} has {len(data)} elements, not 5", None, message_id, type_id)
    _, _, code, description, details = data
    if not isinstance(code, str) or not isinstance(description, str):
        return Malformed(f"{name} code and description must be strings", None, message_id,
                         type_id)
    if not isinstance(details, dict):
        return Malformed(f"{name} details must be a JSON object", None, message_id, type_id)
    cls = CallError if type_id == MessageType.CALLERROR else CallResultError
    return cls(message_id, code, description, details)


def peek_message_id(raw: str | bytes, limit: int = 128) -> str:
    """Read the message id from the head of an oversize frame without parsing all of it."""
    head = raw[:limit]
    if isinstance(head, bytes):
        head = head.decode("utf-8", errors="replace")
    parts = head.lstrip("[ \t\r\n").split(",", 2)
    if len(parts) >= 2:
        candidate = parts[1].strip()
        if len(candidate) >= 2 and candidate[0] == candidate[-1] == '"':
            candidate = candidate[1:-1]
            if (valid_message_id(candidate) and "\\" not in candidate
                    and _is_text(candidate)):
                return candidate
    return UNREADABLE_ID


def _is_text(value: str) -> bool:
    """No lone surrogates: the id can go back out in a CALLERROR."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
