"""Property tests: whatever a peer sends, the session answers correctly or drops it, and lives on.

Random text and bytes, random JSON, and valid frames with structural mutations are sent with
``send_text`` from one session (the attacker) to the other (the system under test), in both roles
and all versions. After each batch a normal CALL must still round-trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargeloop.ocppj import (
    CallError,
    CallResult,
    ErrorKind,
    OcppError,
    OcppVersion,
    Role,
    ValidationMode,
    parse_frame,
)
from chargeloop.ocppj.errors import MAX_DESCRIPTION, valid_error_codes
from chargeloop.ocppj.frames import MAX_MESSAGE_ID
from chargeloop.ocppj.schemas import known_actions

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
ALL = [V16, V201, V21]
WAIT = 5.0
TS = "2024-05-01T12:00:00Z"
MAX_BYTES = 2048
SENTINEL = {"vendorId": "sentinel"}

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

pytestmark = pytest.mark.timeout(60)


# -- the system under test -----------------------------------------------------------------------


def _raise_value_error(payload: dict[str, Any]) -> None:
    raise ValueError("handler bug")


def _raise_ocpp_error(payload: dict[str, Any]) -> None:
    raise OcppError(ErrorKind.SECURITY_ERROR, "x" * 400, {"why": "fuzz"})


def csms_routes(version: OcppVersion) -> dict[str, Any]:
    routes: dict[str, Any] = {
        "Heartbeat": lambda p: {"currentTime": TS},
        "BootNotification": lambda p: {"currentTime": TS, "interval": 60, "status": "Accepted"},
        "StatusNotification": lambda p: {},
        "DataTransfer": lambda p: {"status": "Accepted"},
        "MeterValues": _raise_value_error,
    }
    if version is V16:
        routes["Authorize"] = lambda p: {"idTagInfo": {"status": "Accepted"}}
        routes["StartTransaction"] = _raise_ocpp_error
    else:
        routes["Authorize"] = lambda p: {"idTokenInfo": {"status": "Accepted"}}
        routes["TransactionEvent"] = _raise_ocpp_error
    if version.has_send:
        routes["NotifyPeriodicEventStream"] = lambda p: None
    return routes


def station_routes(version: OcppVersion) -> dict[str, Any]:
    routes: dict[str, Any] = {
        "DataTransfer": lambda p: {"status": "Accepted"},
        "Reset": lambda p: {"status": "Accepted"},
        "ChangeAvailability": _raise_ocpp_error,
    }
    if version is V16:
        routes["RemoteStartTransaction"] = lambda p: {"status": "Accepted"}
        routes["GetConfiguration"] = _raise_value_error
    else:
        routes["RequestStartTransaction"] = lambda p: {"status": "Accepted"}
        routes["GetVariables"] = _raise_value_error
    return routes


def valid_frames(version: OcppVersion, sut: Role) -> list[list[Any]]:
    """Well-formed frames the attacker may send to ``sut``: the seeds for mutation."""
    frames: list[list[Any]] = [
        [3, "r-1", {"currentTime": TS}],
        [4, "e-1", "GenericError", "", {}],
        [2, "c-1", "DataTransfer", {"vendorId": "v", "data": "d"}],
    ]
    if sut is Role.CSMS:
        if version is V16:
            frames += [
                [2, "c-2", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}],
                [2, "c-3", "Authorize", {"idTag": "T"}],
                [2, "c-4", "StatusNotification",
                 {"connectorId": 1, "errorCode": "NoError", "status": "Available"}],
                [2, "c-5", "StartTransaction",
                 {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": TS}],
                [2, "c-6", "MeterValues", {"connectorId": 1, "meterValue": [
                    {"timestamp": TS, "sampledValue": [{"value": "1"}]}]}],
            ]
        else:
            frames += [
                [2, "c-2", "BootNotification",
                 {"reason": "PowerUp", "chargingStation": {"model": "B", "vendorName": "A"}}],
                [2, "c-3", "Authorize", {"idToken": {"idToken": "T", "type": "ISO14443"}}],
                [2, "c-4", "StatusNotification", {"timestamp": TS, "connectorStatus": "Available",
                                                  "evseId": 1, "connectorId": 1}],
                [2, "c-5", "TransactionEvent",
                 {"eventType": "Started", "timestamp": TS, "triggerReason": "Authorized",
                  "seqNo": 0, "transactionInfo": {"transactionId": "t"}}],
                [2, "c-6", "MeterValues", {"evseId": 1, "meterValue": [
                    {"timestamp": TS, "sampledValue": [{"value": 1.5}]}]}],
            ]
        frames.append([2, "c-7", "Heartbeat", {}])
    elif version is V16:
        frames += [
            [2, "c-2", "RemoteStartTransaction", {"idTag": "T"}],
            [2, "c-3", "Reset", {"type": "Soft"}],
            [2, "c-4", "GetConfiguration", {"key": ["a"]}],
            [2, "c-5", "ChangeAvailability", {"connectorId": 0, "type": "Operative"}],
        ]
    else:
        frames += [
            [2, "c-2", "RequestStartTransaction",
             {"idToken": {"idToken": "T", "type": "ISO14443"}, "remoteStartId": 1}],
            [2, "c-3", "Reset", {"type": "Immediate"}],
            [2, "c-4", "GetVariables", {"getVariableData": [
                {"component": {"name": "C"}, "variable": {"name": "V"}}]}],
            [2, "c-5", "ChangeAvailability", {"operationalStatus": "Operative"}],
        ]
    if version.has_send:
        frames += [
            [6, "s-1", "NotifyPeriodicEventStream",
             {"id": 1, "pending": 0, "basetime": TS, "data": [{"t": 0.5, "v": "1"}]}],
            [5, "x-1", "GenericError", "could not process", {}],
        ]
    return frames


class FuzzTarget:
    """A session pair on a private event loop; the hypothesis test feeds frames through it.

    One pair serves the whole test function. When a batch fails, the pair is rebuilt before the
    error goes up, so that hypothesis replays and shrinks the failing batch on a healthy pair.
    """

    def __init__(self, pair_class: Any, version: OcppVersion, sut_role: Role,
                 mode: ValidationMode) -> None:
        self.pair_class = pair_class
        self.version = version
        self.sut_role = sut_role
        self.mode = mode
        self.loop = asyncio.new_event_loop()
        self.valid_codes = valid_error_codes(version)
        self.batches = 0
        self._build()

    def _build(self) -> None:
        sut_options = {"validation": self.mode, "max_message_bytes": MAX_BYTES}
        if self.sut_role is Role.CSMS:
            self.pair = self.pair_class(self.version, csms=sut_options)
            self.sut, self.attacker = self.pair.csms, self.pair.station
            self.trace = self.pair.station_trace  # what the attacker received
            routes = csms_routes(self.version)
        else:
            self.pair = self.pair_class(self.version, station=sut_options)
            self.sut, self.attacker = self.pair.station, self.pair.csms
            self.trace = self.pair.csms_trace
            routes = station_routes(self.version)
        for action, handler in routes.items():
            self.sut.route(action, handler)
        self.attacker.route("DataTransfer", lambda p: {"status": "Accepted", "data": "back"})

    def __enter__(self) -> FuzzTarget:
        self.loop.run_until_complete(self.pair.__aenter__())
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                # the system under test can still start a CALL of its own
                result = self.loop.run_until_complete(self._call(self.sut))
                assert result == {"status": "Accepted", "data": "back"}
            self.loop.run_until_complete(self.pair.__aexit__(exc_type, exc, tb))
        finally:
            self.loop.close()

    def feed(self, frames: list[str | bytes]) -> None:
        try:
            self.loop.run_until_complete(self._feed(frames))
        except BaseException:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.pair.__aexit__(AssertionError, None, None))
            self._build()
            self.loop.run_until_complete(self.pair.__aenter__())
            raise

    async def _call(self, caller: Any) -> dict[str, Any]:
        """A DataTransfer from ``caller``; fails at once if a receive loop dies meanwhile."""
        call = asyncio.ensure_future(caller.call("DataTransfer", SENTINEL))
        try:
            await asyncio.wait({call, *self.pair.tasks}, timeout=WAIT,
                               return_when=asyncio.FIRST_COMPLETED)
            self.pair.assert_serving()
            assert call.done(), "the CALL after the batch got no answer"
            return call.result()
        finally:
            call.cancel()

    async def _feed(self, frames: list[str | bytes]) -> None:
        self.batches += 1
        start = len(self.trace.records)
        for frame in frames:
            await self.attacker.send_text(frame)  # type: ignore[arg-type]
        # The connection survives: a normal CALL after the batch is answered.
        assert await self._call(self.attacker) == {"status": "Accepted"}
        replies = [r for r in self.trace.records[start:] if r.direction == "in"]
        assert len(replies) <= len(frames) + 1  # at most one answer per frame
        for record in replies:
            self._check_reply(record.raw)

    def _check_reply(self, raw: str) -> None:
        data = json.loads(raw)  # valid JSON
        assert isinstance(data, list)
        frame = parse_frame(raw, self.version)
        # only answers: never a CALL, SEND or CALLRESULTERROR, never anything malformed
        assert type(frame) in (CallResult, CallError), (raw, frame)
        assert 0 < len(frame.message_id) <= MAX_MESSAGE_ID
        if isinstance(frame, CallError):
            assert frame.code in self.valid_codes, raw
            assert len(frame.description) <= MAX_DESCRIPTION
            assert isinstance(frame.details, dict)


# -- strategies ----------------------------------------------------------------------------------

# Text that may hold lone surrogates: json.dumps writes them as "\ud800" escapes, or (with
# ensure_ascii off) puts the character itself into the frame.
ANY_CHAR = st.characters(codec=None, categories=None) | st.characters(categories=["Cs"])
SURROGATES = st.sampled_from(["\ud800", "a\udfff", "\udbff\udbff", "\udc00x"])
# strings a lenient reader may take for numbers or timestamps
NUMBERISH = (st.sampled_from(["1e400", "-1e400", "8.5", "1.0", "-0", "007", " 12 ", "1e-400",
                              "2024-05-01T12:00", "2024-05-01T12:00:00.5", "ACCEPTED"])
             | st.integers().map(str) | st.floats(allow_nan=False).map(str))
texts = st.text(max_size=12) | st.text(ANY_CHAR, max_size=6) | SURROGATES | NUMBERISH
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10)

ALL_ACTIONS = sorted(set().union(*(known_actions(v) for v in ALL)))
actions = (st.sampled_from(ALL_ACTIONS) | st.sampled_from(ALL_ACTIONS).map(str.lower)
           | st.sampled_from(["", " ", "Heartbeat ", "FlyToTheMoon", "Heartbeat-Signed"]) | texts)
message_ids = (st.text(min_size=0, max_size=40) | SURROGATES
               | st.integers(MAX_MESSAGE_ID - 4, MAX_MESSAGE_ID + 4).map(lambda n: "i" * n)
               | st.sampled_from(["-1", "c-1", "r-1", "e-1"])
               | scalars)
type_ids = st.integers(-2, 9) | st.sampled_from([2.0, "2", True, None, 2**64])


@st.composite
def mutated_frame(draw: Any, seeds: list[list[Any]]) -> str:
    frame: Any = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        if not isinstance(frame, list):
            break
        op = draw(st.sampled_from(["drop", "insert", "replace", "type", "id", "action",
                                   "payload", "field", "grow", "wrap"]))
        size = len(frame)
        if op == "drop" and size:
            del frame[draw(st.integers(0, size - 1))]
        elif op == "insert":
            frame.insert(draw(st.integers(0, size)), draw(json_values))
        elif op == "replace" and size:
            frame[draw(st.integers(0, size - 1))] = draw(json_values)
        elif op == "type" and size:
            frame[0] = draw(type_ids)
        elif op == "id" and size > 1:
            frame[1] = draw(message_ids)
        elif op == "action" and size > 2:
            frame[2] = draw(actions)
        elif op == "payload" and size:
            frame[-1] = draw(json_values | st.dictionaries(texts, json_values, max_size=5))
        elif op == "field" and size and isinstance(frame[-1], dict):
            payload = frame[-1]
            keys = sorted(payload)
            if keys and draw(st.booleans()):
                key = draw(st.sampled_from(keys))
                if draw(st.booleans()):
                    del payload[key]
                else:
                    payload[key] = draw(json_values)
            else:
                payload[draw(texts)] = draw(json_values)
        elif op == "grow" and size:
            # big enough to cross the session's size limit now and then
            frame[-1] = {"data": "x" * draw(st.integers(MAX_BYTES - 200, MAX_BYTES + 200))}
        elif op == "wrap":
            frame = draw(st.sampled_from([{"frame": frame}, [frame], frame[:1]]))
    text = json.dumps(frame, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:
        text = text[:draw(st.integers(0, len(text)))]  # truncated frame
    return text


raw_frames = (st.text(max_size=200) | st.text(ANY_CHAR, max_size=50) | st.binary(max_size=200)
              | json_values.map(json.dumps)
              | st.lists(json_values, max_size=6).map(json.dumps))


# -- the properties ------------------------------------------------------------------------------


@pytest.mark.parametrize("sut_role", [Role.CSMS, Role.STATION])
@pytest.mark.parametrize("version", ALL)
def test_random_frames_never_break_the_session(session_pair: Any, version: OcppVersion,
                                              sut_role: Role) -> None:
    with FuzzTarget(session_pair, version, sut_role, ValidationMode.STRICT) as target:

        @FUZZ
        @given(st.lists(raw_frames, min_size=1, max_size=6))
        def check(frames: list[str | bytes]) -> None:
            target.feed(frames)

        check()
        assert target.batches >= 50


@pytest.mark.parametrize("mode", list(ValidationMode))
@pytest.mark.parametrize("sut_role", [Role.CSMS, Role.STATION])
@pytest.mark.parametrize("version", ALL)
def test_mutated_frames_never_break_the_session(session_pair: Any, version: OcppVersion,
                                               sut_role: Role, mode: ValidationMode) -> None:
    seeds = valid_frames(version, sut_role)
    with FuzzTarget(session_pair, version, sut_role, mode) as target:

        @FUZZ
        @given(st.lists(mutated_frame(seeds) | st.sampled_from(seeds).map(json.dumps),
                        min_size=1, max_size=6))
        def check(frames: list[str]) -> None:
            target.feed(frames)

        check()
        assert target.batches >= 50


@pytest.mark.parametrize("sut_role", [Role.CSMS, Role.STATION])
@pytest.mark.parametrize("version", ALL)
def test_seed_frames_are_answered(session_pair: Any, version: OcppVersion,
                                  sut_role: Role) -> None:
    """The seeds are what they claim: every CALL gets its answer, nothing else is answered."""
    seeds = valid_frames(version, sut_role)
    with FuzzTarget(session_pair, version, sut_role, ValidationMode.STRICT) as target:
        start = len(target.trace.records)
        target.feed([json.dumps(frame) for frame in seeds])
        replies = [json.loads(r.raw) for r in target.trace.records[start:] if r.direction == "in"]
        calls = [frame for frame in seeds if frame[0] == 2]
        assert [reply[1] for reply in replies[:-1]] == [frame[1] for frame in calls]
        results = [reply for reply in replies[:-1] if reply[0] == 3]
        errors = {reply[2] for reply in replies if reply[0] == 4}
        assert len(results) >= 3  # most seeds are accepted as they are
        assert errors == {"InternalError", "SecurityError"}  # from the failing handlers
