"""Robustness of a charging station beyond the OCTT catalogue (not part of OCA certification):
the CSMS-direction matrix (``conformance/csms/test_robustness.py``) in the other direction.
The harness, as the CSMS, sends the station broken frames, wrong types, unknown actions, bad
ids, pipelined CALLs, a stray CALLRESULT, non-UTF-8 and huge frames.

The expectations are OCPP-J's (1.6 section 4, 2.0.1 Part 4) as the negative-input matrix of
``../shared/conformance/sequences.md`` B.5 sums them up: the station answers with the right
CALLERROR (echoing the message id where it can be read, ``"-1"`` where not), or drops what it
cannot even read, and stays connected and working: after each fault a valid CALL on the same
connection still gets its answer (GetConfiguration on 1.6, GetVariables on 2.0.1).

Strict mode (``--strict-octt``) reads the matrix as the CSMS checks do: a frame that cannot be
read must get its CALLERROR (no silent drop), and only the code the specification names counts
(``RpcFrameworkError`` / ``FormationViolation`` for unreadable frames,
``OccurrenceConstraintViolation`` rather than ``ProtocolError`` for a missing field,
``NotSupported`` rather than ``NotImplemented`` for another version's action).

ROB_19 of the CSMS side (a second station is served beside a connection that never reads) has
no counterpart here: a station has one connection to its CSMS.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from chargeloop.ocppj import OcppVersion, TraceRecord
from conformance.station.harness import Harness, check
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUIET_S = 1.0  # how long "no answer" is waited for, where silence is the right answer
UNREADABLE = "-1"  # the id of a CALLERROR to a frame whose id cannot be read

FORMAT = {"RpcFrameworkError", "FormatViolation"}, {"FormationViolation", "ProtocolError"}
FRAMEWORK = {"RpcFrameworkError", "ProtocolError"}, {"ProtocolError"}
# What strict mode accepts: the one code the specification names, 2.0.1 and 1.6.
STRICT_FORMAT = {"RpcFrameworkError"}, {"FormationViolation"}
STRICT_FRAMEWORK = {"RpcFrameworkError"}, {"ProtocolError"}


def codes(h: Harness, v201: set[str], v16: set[str]) -> set[str]:
    return v16 if h.version is OcppVersion.V16 else v201


def _parsed(record: TraceRecord) -> list[Any] | None:
    try:
        frame = json.loads(record.raw)
    except ValueError:
        return None
    return frame if isinstance(frame, list) else None


def _answer_to(message_id: Any) -> Any:
    """Picks the station's CALLRESULT or CALLERROR for ``message_id``."""
    def where(record: TraceRecord) -> bool:
        frame = _parsed(record)
        return frame is not None and len(frame) >= 2 and frame[0] in (3, 4) \
            and frame[1] == message_id
    return where


async def booted(h: Harness) -> int:
    """Booted (OCTT), then the connection the checks run on."""
    await h.booted()
    connection = h.csms.connection
    assert connection is not None
    return connection.number


def valid_call(h: Harness) -> tuple[str, dict[str, Any]]:
    """A CALL every station answers: GetConfiguration (1.6) / GetVariables (2.0.1)."""
    if h.version is OcppVersion.V16:
        return "GetConfiguration", {"key": ["HeartbeatInterval"]}
    return "GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}


async def still_answers(h: Harness, number: int, step: str) -> None:
    """The station is still on connection ``number`` and answers a valid CALL there."""
    connection = h.csms.connections[number]
    check(not connection.closed.is_set(), step, "the station still connected",
          "it closed the connection")
    action, payload = valid_call(h)
    answer = await h.csms.call(action, payload, step=step)
    check(not connection.closed.is_set() and h.csms.connection is connection, step,
          f"a {action} answer on the same connection", "the station closed the connection")
    check(isinstance(answer, dict), step, f"a {action} response", answer)


async def still_serves(h: Harness, number: int, step: str) -> None:
    """As ``still_answers``; a station that closed the connection (allowed after a frame it
    cannot take at all) must connect again and answer there."""
    if h.csms.connections[number].closed.is_set() and not h.csms.connected:
        await h.csms.new_connection(number + 1, h.connect_s, step=step)
    if h.csms.connection is not h.csms.connections[number]:
        # a station that connects anew may boot first (not every one does after a lost
        # connection): its CALLs wait until that is answered
        with contextlib.suppress(CaseFailed):
            await h.csms.receive("BootNotification", step=f"{step}: BootNotification",
                                 timeout_s=QUIET_S)
    connection = h.csms.connection
    check(connection is not None, step, "a connected station", "not connected")
    assert connection is not None
    await still_answers(h, connection.number, step)


def is_error(frame: list[Any] | None, allowed: set[str]) -> bool:
    return frame is not None and len(frame) == 5 and frame[0] == 4 and frame[2] in allowed


async def error_to(h: Harness, message_id: Any, allowed: set[str], step: str) -> None:
    """The station answers ``message_id`` with a CALLERROR of one of ``allowed``."""
    record = await h.csms.frame_in(_answer_to(message_id), h.sut.answer_timeout_s)
    frame = _parsed(record) if record is not None else None
    check(is_error(frame, allowed), step,
          f"a CALLERROR {' or '.join(sorted(allowed))} with id {message_id!r}",
          record.raw if record is not None else "no answer")


async def error_or_silence(h: Harness, message_id: Any, allowed: set[str], step: str) -> None:
    """What comes for ``message_id`` within QUIET_S is a CALLERROR of ``allowed``, or
    nothing."""
    record = await h.csms.frame_in(_answer_to(message_id), QUIET_S)
    check(record is None or is_error(_parsed(record), allowed), step,
          f"a CALLERROR {' or '.join(sorted(allowed))}, or no answer", record and record.raw)


async def unreadable_answered(h: Harness, strict: bool, lenient: set[str], exact: set[str],
                              step: str) -> None:
    """A frame the station cannot read: a CALLERROR with id "-1" or silence; strictly, the
    exact CALLERROR."""
    if strict:
        await error_to(h, UNREADABLE, exact, step)
    else:
        await error_or_silence(h, UNREADABLE, lenient, step)


async def raw_call(h: Harness, message_id: Any, action: str, payload: Any, *, step: str
                   ) -> None:
    await h.csms.send_raw(json.dumps([2, message_id, action, payload]), step=step)


async def unreadable_frame(h: Harness, strict: bool, frame: str, what: str, lenient: set[str],
                           exact: set[str]) -> None:
    """Booted; ``frame`` (a ``what``) is sent: it is answered as unreadable (see
    ``unreadable_answered``) and the station still answers after it."""
    number = await booted(h)
    await h.csms.send_raw(frame, step=what)
    await unreadable_answered(h, strict, lenient, exact, what)
    await still_answers(h, number, f"after the {what}")


@pytest.mark.robustness("ROB_01_CS", "Not JSON")
async def test_ROB_01_CS(h: Harness, strict: bool) -> None:
    await unreadable_frame(h, strict, "this is not json", "not-JSON frame",
                           codes(h, *FORMAT), codes(h, *STRICT_FORMAT))


@pytest.mark.robustness("ROB_02_CS", "Truncated frame")
async def test_ROB_02_CS(h: Harness, strict: bool) -> None:
    await unreadable_frame(h, strict, '[2,"rob-trunc","GetVariables",{', "truncated frame",
                           codes(h, *FORMAT), codes(h, *STRICT_FORMAT))


@pytest.mark.robustness("ROB_03_CS", "Top level not an array")
async def test_ROB_03_CS(h: Harness, strict: bool) -> None:
    await unreadable_frame(h, strict, '{"messageTypeId": 2, "action": "ClearCache"}',
                           "object instead of an array",
                           codes(h, *FRAMEWORK) | codes(h, *FORMAT), codes(h, *STRICT_FRAMEWORK))


@pytest.mark.robustness("ROB_04_CS", "Wrong number of elements")
async def test_ROB_04_CS(h: Harness) -> None:
    number = await booted(h)
    await h.csms.send_raw('[2,"rob-short","ClearCache"]', step="CALL with three elements")
    await error_to(h, "rob-short", codes(h, *FRAMEWORK) | codes(h, *FORMAT),
                   "CALL with three elements")
    await still_answers(h, number, "after the short CALL")


@pytest.mark.robustness("ROB_05_CS", "Unknown message type")
async def test_ROB_05_CS(h: Harness) -> None:
    number = await booted(h)
    await h.csms.send_raw('[7,"rob-type","ClearCache",{}]', step="message type 7")
    if h.version is OcppVersion.V16:  # OCPP-J 1.6: ignored (ProtocolError is tolerated)
        await error_or_silence(h, "rob-type", {"ProtocolError"}, "message type 7")
    else:
        await error_to(h, "rob-type", {"MessageTypeNotSupported"}, "message type 7")
        # SEND (6) exists from 2.1 on: a 2.0.1 station does not know it either
        await h.csms.send_raw('[6,"rob-send","ClearCache",{}]', step="message type 6")
        await error_to(h, "rob-send", {"MessageTypeNotSupported"}, "message type 6 (2.1 SEND)")
    await still_answers(h, number, "after message type 7")


@pytest.mark.robustness("ROB_06_CS", "Message id longer than 36 characters")
async def test_ROB_06_CS(h: Harness) -> None:
    number = await booted(h)
    action, payload = valid_call(h)
    await raw_call(h, "x" * 37, action, payload, step="37-character message id")
    # the id is not a valid one, so the answer may carry it or "-1"
    record = await h.csms.frame_in(
        lambda r: _answer_to("x" * 37)(r) or _answer_to(UNREADABLE)(r), h.sut.answer_timeout_s)
    frame = _parsed(record) if record is not None else None
    allowed = codes(h, *FRAMEWORK)
    check(is_error(frame, allowed), "37-character message id",
          f"a CALLERROR {' or '.join(sorted(allowed))}", record.raw if record else "no answer")
    await still_answers(h, number, "after the long id")


@pytest.mark.robustness("ROB_07_CS", "Message id not a string")
async def test_ROB_07_CS(h: Harness) -> None:
    number = await booted(h)
    action, payload = valid_call(h)
    await raw_call(h, 12345, action, payload, step="numeric message id")
    record = await h.csms.frame_in(
        lambda r: _answer_to(12345)(r) or _answer_to("12345")(r) or _answer_to(UNREADABLE)(r),
        h.sut.answer_timeout_s)
    frame = _parsed(record) if record is not None else None
    allowed = codes(h, *FRAMEWORK)
    check(is_error(frame, allowed), "numeric message id",
          f"a CALLERROR {' or '.join(sorted(allowed))}", record.raw if record else "no answer")
    await still_answers(h, number, "after the numeric id")


@pytest.mark.robustness("ROB_08_CS", "Unknown action")
async def test_ROB_08_CS(h: Harness) -> None:
    number = await booted(h)
    await raw_call(h, "rob-unknown", "MakeCoffee", {}, step="unknown action")
    await error_to(h, "rob-unknown", {"NotImplemented"}, "unknown action")
    await still_answers(h, number, "after the unknown action")


@pytest.mark.robustness("ROB_09_CS", "Action of another OCPP version")
async def test_ROB_09_CS(h: Harness, strict: bool) -> None:
    if h.version is OcppVersion.V16:
        not_applicable("2.0.1 only (the matrix gives 1.6 no expectation)")
    number = await booted(h)
    await raw_call(h, "rob-other", "RemoteStartTransaction", {"idTag": h.sut.tokens.valid},
                   step="RemoteStartTransaction on 2.0.1")
    await error_to(h, "rob-other", {"NotSupported"} if strict else
                   {"NotSupported", "NotImplemented"}, "RemoteStartTransaction on 2.0.1")
    await still_answers(h, number, "after the 1.6 action")


def _change_availability(h: Harness) -> dict[str, Any]:
    if h.version is OcppVersion.V16:
        return {"connectorId": 1, "type": "Operative"}
    return {"operationalStatus": "Operative", "evse": {"id": 1}}


@pytest.mark.robustness("ROB_10_CS", "Required field missing")
async def test_ROB_10_CS(h: Harness, strict: bool) -> None:
    number = await booted(h)
    payload = _change_availability(h)
    payload.pop("type" if h.version is OcppVersion.V16 else "operationalStatus")
    await raw_call(h, "rob-missing", "ChangeAvailability", payload,
                   step="ChangeAvailability without its status")
    # ProtocolError is seen in the field and tolerated, except in strict mode
    tolerated = set() if strict else {"ProtocolError"}
    await error_to(h, "rob-missing", codes(h, {"OccurrenceConstraintViolation"} | tolerated,
                                           {"OccurenceConstraintViolation"} | tolerated),
                   "required field missing")
    await still_answers(h, number, "after the incomplete ChangeAvailability")


@pytest.mark.robustness("ROB_11_CS", "Property not in the schema")
async def test_ROB_11_CS(h: Harness) -> None:
    number = await booted(h)
    await raw_call(h, "rob-extra", "ClearCache", {"colour": "blue"}, step="extra property")
    await error_to(h, "rob-extra", codes(h, {"FormatViolation"}, {"FormationViolation"}),
                   "extra property")
    await still_answers(h, number, "after the extra property")


@pytest.mark.robustness("ROB_12_CS", "Field of the wrong JSON type")
async def test_ROB_12_CS(h: Harness) -> None:
    number = await booted(h)
    payload = _change_availability(h)
    if h.version is OcppVersion.V16:
        payload["connectorId"] = "one"
    else:
        payload["evse"]["id"] = "one"
    await raw_call(h, "rob-type", "ChangeAvailability", payload, step="EVSE id a string")
    await error_to(h, "rob-type", {"TypeConstraintViolation"}, "EVSE id a string")
    await still_answers(h, number, "after the wrong type")


@pytest.mark.robustness("ROB_13_CS", "Enum value out of range, string too long")
async def test_ROB_13_CS(h: Harness) -> None:
    number = await booted(h)
    payload = _change_availability(h)
    payload["type" if h.version is OcppVersion.V16 else "operationalStatus"] = "Exploded"
    await raw_call(h, "rob-enum", "ChangeAvailability", payload, step="status Exploded")
    allowed = {"PropertyConstraintViolation", "TypeConstraintViolation"}
    await error_to(h, "rob-enum", allowed, "status Exploded")
    await raw_call(h, "rob-long", "DataTransfer", {"vendorId": "v" * 256},
                   step="vendorId longer than its maxLength")
    await error_to(h, "rob-long", allowed, "vendorId longer than its maxLength")
    await still_answers(h, number, "after the out-of-range values")


@pytest.mark.robustness("ROB_14_CS", "A second CALL before the first is answered")
async def test_ROB_14_CS(h: Harness) -> None:
    number = await booted(h)
    action, payload = valid_call(h)
    await raw_call(h, "rob-first", action, payload, step="first CALL")
    await raw_call(h, "rob-second", action, payload, step="second CALL")
    for message_id in ("rob-first", "rob-second"):
        record = await h.csms.frame_in(_answer_to(message_id), h.sut.answer_timeout_s)
        frame = _parsed(record) if record is not None else None
        check(frame is not None and frame[0] == 3, f"pipelined {action} {message_id}",
              "its own CALLRESULT", record.raw if record else "no answer")
    await still_answers(h, number, "after the pipelined CALLs")


@pytest.mark.robustness("ROB_15_CS", "CALLRESULT with an unknown id")
async def test_ROB_15_CS(h: Harness) -> None:
    number = await booted(h)
    await h.csms.send_raw(json.dumps([3, "rob-nobody-asked", {}]), step="stray CALLRESULT")
    record = await h.csms.frame_in(_answer_to("rob-nobody-asked"), QUIET_S)
    check(record is None, "CALLRESULT nobody asked for", "no answer (ignored)",
          record and record.raw)
    await still_answers(h, number, "after the stray CALLRESULT")


@pytest.mark.robustness("ROB_16_CS", "Retransmitted CALL (same message id)")
async def test_ROB_16_CS(h: Harness) -> None:
    number = await booted(h)
    action, payload = valid_call(h)
    answered: list[TraceRecord] = []
    for attempt in (1, 2):
        await raw_call(h, "rob-again", action, payload, step=f"{action}, attempt {attempt}")
        record = await h.csms.frame_in(
            lambda r: _answer_to("rob-again")(r) and all(r is not a for a in answered),
            h.sut.answer_timeout_s)
        if record is not None:
            answered.append(record)
        frame = _parsed(record) if record is not None else None
        check(frame is not None and frame[0] == 3, f"{action} rob-again, attempt {attempt}",
              "a CALLRESULT", record.raw if record else "no answer")
    await still_answers(h, number, "after the retransmission")


@pytest.mark.robustness("ROB_17_CS", "Not UTF-8")
async def test_ROB_17_CS(h: Harness) -> None:
    number = await booted(h)
    await h.csms.send_raw(b'[2,"rob-bytes","ClearCache",{"x":"\xff\xfe"}]',
                          step="binary frame that is not UTF-8")
    allowed = codes(h, *FORMAT) | codes(h, *FRAMEWORK)
    record = await h.csms.frame_in(
        lambda r: _answer_to("rob-bytes")(r) or _answer_to(UNREADABLE)(r), QUIET_S)
    check(record is None or is_error(_parsed(record), allowed),
          "binary frame that is not UTF-8", "a CALLERROR, no answer, or the connection closed",
          record and record.raw)
    await still_serves(h, number, "after the non-UTF-8 frame")


@pytest.mark.robustness("ROB_18_CS", "Huge payload")
async def test_ROB_18_CS(h: Harness) -> None:
    """A 2 MiB DataTransfer (above the 1 MiB many WebSocket stacks take by default): an
    answer, an error, or a close (1009) are all acceptable; the station must then still (or
    again) answer."""
    number = await booted(h)
    await raw_call(h, "rob-huge", "DataTransfer", {"vendorId": "org.example.conformance",
                                                   "data": "x" * (2 * 2**20)},
                   step="a 2 MiB frame")
    await h.csms.frame_in(_answer_to("rob-huge"), QUIET_S)
    await still_serves(h, number, "after a 2 MiB frame")
