"""Robustness of a CSMS beyond the OCTT catalogue (not part of OCA certification): broken frames,
wrong types, unknown actions, bad ids, pipelined CALLs, non-UTF-8, huge payloads, slow readers.

The expectations are OCPP-J's (1.6 section 4, 2.0.1 Part 4) as the negative-input matrix of
``../shared/conformance/sequences.md`` B.5 sums them up: the CSMS answers with the right
CALLERROR (or drops what it cannot even read) and stays up for this station and the others.

Where the matrix tolerates what is seen in the field, strict mode (``--strict-octt``) does not:
a frame that cannot be read must get its CALLERROR (no silent drop), and only the error code the
specification names counts (``RpcFrameworkError`` / ``FormationViolation`` for unreadable
frames, ``OccurrenceConstraintViolation`` rather than ``ProtocolError`` for a missing field,
``NotSupported`` rather than ``NotImplemented`` for another version's action).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from chargeloop.ocppj import OcppVersion
from conformance.csms.harness import StationPool, boot_payload, check, status_payload
from conformance.rawpeer import RawPeer
from conformance.sut import Sut
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio

QUIET_S = 1.0  # how long "no answer" is waited for, where silence is the right answer


def codes(sut: Sut, v201: set[str], v16: set[str]) -> set[str]:
    return v16 if sut.version is OcppVersion.V16 else v201


async def booted_peer(stations: StationPool, sut: Sut, index: int = 0) -> RawPeer:
    peer = stations.raw(index)
    await peer.open()
    await peer.call("rob-boot", "BootNotification", boot_payload(sut.version))
    answer = await peer.answer_to("rob-boot", sut.answer_timeout_s)
    check(answer is not None and answer[0] == 3 and answer[2].get("status") == "Accepted",
          "BootNotification", "CALLRESULT with status Accepted", answer)
    return peer


async def still_answers(peer: RawPeer, sut: Sut, step: str) -> None:
    """The connection still serves: a Heartbeat gets its CALLRESULT."""
    message_id = f"rob-hb-{len(peer.sent)}"
    await peer.call(message_id, "Heartbeat", {})
    answer = await peer.answer_to(message_id, sut.answer_timeout_s)
    check(answer is not None and answer[0] == 3 and "currentTime" in answer[2], step,
          "the connection still answers (Heartbeat CALLRESULT)", answer)


async def still_serves(stations: StationPool, sut: Sut, step: str, index: int = 0) -> None:
    """The CSMS still takes a new connection (of the ``index``-th station) and answers it."""
    await still_answers(await booted_peer(stations, sut, index), sut, step)


def is_error(answer: Any, allowed: set[str]) -> bool:
    return isinstance(answer, list) and len(answer) >= 3 and answer[0] == 4 \
        and answer[2] in allowed


async def error_or_silence(peer: RawPeer, allowed: set[str], step: str) -> None:
    """What comes within QUIET_S is a CALLERROR with one of ``allowed``, or nothing."""
    frame = await peer.frame(QUIET_S)
    check(frame is None or is_error(frame, allowed), step,
          f"a CALLERROR {' or '.join(sorted(allowed))}, or no answer", frame)


async def error_to(peer: RawPeer, message_id: Any, allowed: set[str], step: str,
                   sut: Sut) -> None:
    frame = await peer.frame(sut.answer_timeout_s)
    check(is_error(frame, allowed), step, f"a CALLERROR {' or '.join(sorted(allowed))}",
          frame)


FORMAT = {"RpcFrameworkError", "FormatViolation"}, {"FormationViolation", "ProtocolError"}
FRAMEWORK = {"RpcFrameworkError", "ProtocolError"}, {"ProtocolError"}
# What strict mode accepts: the one code the specification names, 2.0.1 and 1.6.
STRICT_FORMAT = {"RpcFrameworkError"}, {"FormationViolation"}
STRICT_FRAMEWORK = {"RpcFrameworkError"}, {"ProtocolError"}


async def unreadable_answered(peer: RawPeer, sut: Sut, strict: bool, lenient: set[str],
                              exact: set[str], step: str) -> None:
    """A frame the CSMS cannot read: a CALLERROR or silence; strictly, the exact CALLERROR."""
    if strict:
        await error_to(peer, "-1", exact, step, sut)
    else:
        await error_or_silence(peer, lenient, step)


@pytest.mark.robustness("ROB_01_CSMS", "Not JSON")
async def test_ROB_01_CSMS(stations: StationPool, sut: Sut, strict: bool) -> None:
    peer = await booted_peer(stations, sut)
    await peer.send("this is not json")
    await unreadable_answered(peer, sut, strict, codes(sut, *FORMAT),
                              codes(sut, *STRICT_FORMAT), "not-JSON frame")
    await still_answers(peer, sut, "after the not-JSON frame")


@pytest.mark.robustness("ROB_02_CSMS", "Truncated frame")
async def test_ROB_02_CSMS(stations: StationPool, sut: Sut, strict: bool) -> None:
    peer = await booted_peer(stations, sut)
    await peer.send('[2,"rob-trunc","Heartbeat",{')
    await unreadable_answered(peer, sut, strict, codes(sut, *FORMAT),
                              codes(sut, *STRICT_FORMAT), "truncated frame")
    await still_answers(peer, sut, "after the truncated frame")


@pytest.mark.robustness("ROB_03_CSMS", "Top level not an array")
async def test_ROB_03_CSMS(stations: StationPool, sut: Sut, strict: bool) -> None:
    peer = await booted_peer(stations, sut)
    await peer.send('{"messageTypeId": 2, "action": "Heartbeat"}')
    await unreadable_answered(peer, sut, strict, codes(sut, *FRAMEWORK) | codes(sut, *FORMAT),
                              codes(sut, *STRICT_FRAMEWORK), "object instead of an array")
    await still_answers(peer, sut, "after the object frame")


@pytest.mark.robustness("ROB_04_CSMS", "Wrong number of elements")
async def test_ROB_04_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.send('[2,"rob-short","Heartbeat"]')
    await error_to(peer, "rob-short", codes(sut, *FRAMEWORK) | codes(sut, *FORMAT),
                   "CALL with three elements", sut)
    await still_answers(peer, sut, "after the short CALL")


@pytest.mark.robustness("ROB_05_CSMS", "Unknown message type")
async def test_ROB_05_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.send('[7,"rob-type","Heartbeat",{}]')
    if sut.version is OcppVersion.V16:  # OCPP-J 1.6: ignored (ProtocolError is tolerated)
        await error_or_silence(peer, {"ProtocolError"}, "message type 7")
    else:
        await error_to(peer, "rob-type", {"MessageTypeNotSupported"}, "message type 7", sut)
    await still_answers(peer, sut, "after message type 7")


@pytest.mark.robustness("ROB_06_CSMS", "Message id longer than 36 characters")
async def test_ROB_06_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.call("x" * 37, "Heartbeat", {})
    await error_to(peer, "x" * 37, codes(sut, *FRAMEWORK), "37-character message id", sut)
    await still_answers(peer, sut, "after the long id")


@pytest.mark.robustness("ROB_07_CSMS", "Message id not a string")
async def test_ROB_07_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.call(12345, "Heartbeat", {})
    await error_to(peer, 12345, codes(sut, *FRAMEWORK), "numeric message id", sut)
    await still_answers(peer, sut, "after the numeric id")


@pytest.mark.robustness("ROB_08_CSMS", "Unknown action")
async def test_ROB_08_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.call("rob-unknown", "MakeCoffee", {})
    await error_to(peer, "rob-unknown", {"NotImplemented"}, "unknown action", sut)
    await still_answers(peer, sut, "after the unknown action")


@pytest.mark.robustness("ROB_09_CSMS", "Action of another OCPP version")
async def test_ROB_09_CSMS(stations: StationPool, sut: Sut, strict: bool) -> None:
    if sut.version is OcppVersion.V16:
        not_applicable("2.0.1 only (the matrix gives 1.6 no expectation)")
    peer = await booted_peer(stations, sut)
    await peer.call("rob-other", "StartTransaction", {
        "connectorId": 1, "idTag": sut.tokens.valid, "meterStart": 0,
        "timestamp": "2026-01-01T00:00:00Z"})
    await error_to(peer, "rob-other", {"NotSupported"} if strict else
                   {"NotSupported", "NotImplemented"},
                   "StartTransaction on 2.0.1", sut)
    await still_answers(peer, sut, "after the 1.6 action")


def _status_without_required(sut: Sut) -> dict[str, Any]:
    payload = status_payload(sut.version, 1, "Available")
    payload.pop("status" if sut.version is OcppVersion.V16 else "connectorStatus")
    return payload


@pytest.mark.robustness("ROB_10_CSMS", "Required field missing")
async def test_ROB_10_CSMS(stations: StationPool, sut: Sut, strict: bool) -> None:
    peer = await booted_peer(stations, sut)
    await peer.call("rob-missing", "StatusNotification", _status_without_required(sut))
    # ProtocolError is seen in the field and tolerated, except in strict mode
    tolerated = set() if strict else {"ProtocolError"}
    await error_to(peer, "rob-missing", codes(
        sut, {"OccurrenceConstraintViolation"} | tolerated,
        {"OccurenceConstraintViolation"} | tolerated), "required field missing", sut)
    await still_answers(peer, sut, "after the incomplete StatusNotification")


@pytest.mark.robustness("ROB_11_CSMS", "Property not in the schema")
async def test_ROB_11_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.call("rob-extra", "Heartbeat", {"colour": "blue"})
    await error_to(peer, "rob-extra", codes(sut, {"FormatViolation"}, {"FormationViolation"}),
                   "extra property", sut)
    await still_answers(peer, sut, "after the extra property")


@pytest.mark.robustness("ROB_12_CSMS", "Field of the wrong JSON type")
async def test_ROB_12_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    payload = status_payload(sut.version, 1, "Available")
    payload["connectorId"] = "one"
    await peer.call("rob-type", "StatusNotification", payload)
    await error_to(peer, "rob-type", {"TypeConstraintViolation"}, "connectorId a string", sut)
    await still_answers(peer, sut, "after the wrong type")


@pytest.mark.robustness("ROB_13_CSMS", "Enum value out of range, string too long")
async def test_ROB_13_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    payload = status_payload(sut.version, 1, "Exploded")
    await peer.call("rob-enum", "StatusNotification", payload)
    allowed = {"PropertyConstraintViolation", "TypeConstraintViolation"}
    await error_to(peer, "rob-enum", allowed, "status Exploded", sut)
    token = {"idTag": "T" * 21} if sut.version is OcppVersion.V16 else \
        {"idToken": {"idToken": "T" * 37, "type": "ISO14443"}}
    await peer.call("rob-long", "Authorize", token)
    await error_to(peer, "rob-long", allowed, "idToken longer than its maxLength", sut)
    await still_answers(peer, sut, "after the out-of-range values")


@pytest.mark.robustness("ROB_14_CSMS", "A second CALL before the first is answered")
async def test_ROB_14_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.call("rob-first", "Heartbeat", {})
    await peer.call("rob-second", "Heartbeat", {})
    answered: dict[str, Any] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + sut.answer_timeout_s
    while len(answered) < 2 and (left := deadline - loop.time()) > 0:
        frame = await peer.frame(left)
        if isinstance(frame, list) and frame[0] in (3, 4):
            answered[frame[1]] = frame
    for message_id in ("rob-first", "rob-second"):
        answer = answered.get(message_id)
        check(answer is not None and answer[0] == 3 and "currentTime" in answer[2],
              f"pipelined Heartbeat {message_id}", "its own CALLRESULT", answer)


@pytest.mark.robustness("ROB_15_CSMS", "CALLRESULT with an unknown id")
async def test_ROB_15_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.send(json.dumps([3, "rob-nobody-asked", {}]))
    frame = await peer.frame(QUIET_S)
    check(frame is None, "CALLRESULT nobody asked for", "no answer (ignored)", frame)
    await still_answers(peer, sut, "after the stray CALLRESULT")


@pytest.mark.robustness("ROB_16_CSMS", "Retransmitted CALL (same message id)")
async def test_ROB_16_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    for attempt in (1, 2):
        await peer.call("rob-again", "Heartbeat", {})
        answer = await peer.answer_to("rob-again", sut.answer_timeout_s)
        check(answer is not None and answer[0] == 3, f"Heartbeat rob-again, attempt {attempt}",
              "a CALLRESULT", answer)


@pytest.mark.robustness("ROB_17_CSMS", "Not UTF-8")
async def test_ROB_17_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.send(b'[2,"rob-bytes","Heartbeat",{"x":"\xff\xfe"}]')
    frame = await peer.frame(QUIET_S)
    allowed = codes(sut, *FORMAT) | codes(sut, *FRAMEWORK)
    check(frame is None or is_error(frame, allowed), "binary frame that is not UTF-8",
          "a CALLERROR, no answer, or the connection closed", frame)
    await still_serves(stations, sut, "a new connection after the non-UTF-8 frame")


@pytest.mark.robustness("ROB_18_CSMS", "Huge payload")
async def test_ROB_18_CSMS(stations: StationPool, sut: Sut) -> None:
    peer = await booted_peer(stations, sut)
    await peer.call("rob-huge", "DataTransfer", {"vendorId": "org.example.conformance",
                                                 "data": "x" * (8 * 2**20)})
    await peer.frame(QUIET_S)  # an answer, an error, or a close (1009): all acceptable
    await still_serves(stations, sut, "a new connection after an 8 MiB frame")


@pytest.mark.robustness("ROB_19_CSMS", "A reader that does not read")
async def test_ROB_19_CSMS(stations: StationPool, sut: Sut) -> None:
    """One connection sends 500 CALLs and never reads an answer; another station (the SUT
    file's second, if it has one) must still be served."""
    slow = await booted_peer(stations, sut)
    for n in range(500):
        await slow.call(f"rob-slow-{n}", "Heartbeat", {})
    await still_serves(stations, sut, "another station beside a connection that never reads",
                       index=1)
