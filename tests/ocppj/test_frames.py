"""The sans-IO frame layer: parse_frame, encode, peek_message_id, error codes and message ids."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from chargeloop.ocppj import (
    Call,
    CallError,
    CallErrorReceived,
    CallResult,
    CallResultError,
    ErrorKind,
    Malformed,
    MessageType,
    OcppError,
    OcppVersion,
    Send,
    error_code,
    parse_frame,
)
from chargeloop.ocppj.errors import error_kind, valid_error_codes
from chargeloop.ocppj.frames import MAX_MESSAGE_ID, UNREADABLE_ID, peek_message_id
from chargeloop.ocppj.ids import MessageIdFactory

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
ALL = [V16, V201, V21]
TWO_X = [V201, V21]


def framework(version: OcppVersion) -> ErrorKind:
    """The kind for a frame that is no valid RPC message (1.6 has only ProtocolError)."""
    return ErrorKind.RPC_FRAMEWORK_ERROR if version.is_2x else ErrorKind.PROTOCOL_ERROR


# -- well-formed frames --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_call_parses(version: OcppVersion) -> None:
    frame = parse_frame('[2, "abc-1", "Heartbeat", {}]', version)
    assert frame == Call("abc-1", "Heartbeat", {})
    assert frame.message_type is MessageType.CALL


@pytest.mark.parametrize("version", ALL)
def test_call_with_nested_payload_parses(version: OcppVersion) -> None:
    raw = '[2,"7","DataTransfer",{"vendorId":"v","data":{"a":[1,2.5,"x",null,true]}}]'
    frame = parse_frame(raw, version)
    assert isinstance(frame, Call)
    assert frame.payload == {"vendorId": "v", "data": {"a": [1, 2.5, "x", None, True]}}


@pytest.mark.parametrize("version", ALL)
def test_callresult_parses(version: OcppVersion) -> None:
    frame = parse_frame('[3,"abc-1",{"currentTime":"2024-01-01T00:00:00Z"}]', version)
    assert frame == CallResult("abc-1", {"currentTime": "2024-01-01T00:00:00Z"})
    assert frame.message_type is MessageType.CALLRESULT


@pytest.mark.parametrize("version", ALL)
def test_callerror_parses(version: OcppVersion) -> None:
    frame = parse_frame('[4,"abc-1","NotImplemented","no such action",{"x":1}]', version)
    assert frame == CallError("abc-1", "NotImplemented", "no such action", {"x": 1})
    assert type(frame) is CallError
    assert frame.message_type is MessageType.CALLERROR


@pytest.mark.parametrize("version", ALL)
def test_utf8_bytes_frame_parses(version: OcppVersion) -> None:
    raw = '[2,"b-1","DataTransfer",{"vendorId":"Großmann €"}]'.encode()
    frame = parse_frame(raw, version)
    assert frame == Call("b-1", "DataTransfer", {"vendorId": "Großmann €"})


def test_send_and_callresulterror_parse_on_21() -> None:
    send = parse_frame('[6,"s-1","NotifyPeriodicEventStream",{"id":1}]', V21)
    assert send == Send("s-1", "NotifyPeriodicEventStream", {"id": 1})
    assert send.message_type is MessageType.SEND
    cre = parse_frame('[5,"r-1","FormatViolation","bad answer",{}]', V21)
    assert cre == CallResultError("r-1", "FormatViolation", "bad answer", {})
    assert type(cre) is CallResultError
    assert cre.message_type is MessageType.CALLRESULTERROR


@pytest.mark.parametrize("type_id", [5, 6])
def test_21_only_types_are_not_supported_on_201(type_id: int) -> None:
    raw = (f'[{type_id},"m-1","Heartbeat",{{}}]' if type_id == 6
           else f'[{type_id},"m-1","X","",{{}}]')
    frame = parse_frame(raw, V201)
    assert isinstance(frame, Malformed)
    assert frame.reply is ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED
    assert frame.message_id == "m-1"
    assert frame.message_type == type_id


@pytest.mark.parametrize("type_id", [5, 6])
def test_21_only_types_are_ignored_on_16(type_id: int) -> None:
    raw = (f'[{type_id},"m-1","Heartbeat",{{}}]' if type_id == 6
           else f'[{type_id},"m-1","X","",{{}}]')
    frame = parse_frame(raw, V16)
    assert isinstance(frame, Malformed)
    assert frame.reply is None  # OCPP-J 1.6: an unknown message type is ignored
    assert frame.message_type == type_id


@pytest.mark.parametrize("type_id", [0, 1, 7, 42, -2])
@pytest.mark.parametrize("version", ALL)
def test_unknown_message_type(version: OcppVersion, type_id: int) -> None:
    frame = parse_frame(f'[{type_id},"m-9","Heartbeat",{{}}]', version)
    assert isinstance(frame, Malformed)
    assert frame.message_id == "m-9"
    expected = ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED if version.is_2x else None
    assert frame.reply is expected


# -- encoding ------------------------------------------------------------------------------------


def test_encode_exact_text() -> None:
    assert Call("1", "Heartbeat", {}).encode() == '[2,"1","Heartbeat",{}]'
    assert CallResult("1", {"a": 1}).encode() == '[3,"1",{"a":1}]'
    assert CallError("1", "GenericError").encode() == '[4,"1","GenericError","",{}]'
    assert Send("1", "X", {}).encode() == '[6,"1","X",{}]'
    assert CallResultError("1", "GenericError", "d").encode() == '[5,"1","GenericError","d",{}]'


@pytest.mark.parametrize("frame", [
    Call("id-1", "BootNotification", {"reason": "PowerUp", "n": [1, 2.5, None, True]}),
    CallResult("id-2", {"status": "Accepted", "nested": {"x": "ü€"}}),
    CallError("id-3", "PropertyConstraintViolation", "too long", {"path": "/a"}),
    CallResultError("id-4", "FormatViolation", "could not process", {}),
    Send("id-5", "NotifyPeriodicEventStream", {"id": 3}),
])
def test_encode_parse_round_trip_21(frame: object) -> None:
    text = frame.encode()
    assert isinstance(json.loads(text), list)
    assert parse_frame(text, V21) == frame
    assert parse_frame(text.encode(), V21) == frame


@pytest.mark.parametrize("version", ALL)
def test_encode_parse_round_trip_common_types(version: OcppVersion) -> None:
    for frame in (Call("a", "Heartbeat", {}), CallResult("b", {}),
                  CallError("c", error_code(ErrorKind.FORMAT_VIOLATION, version), "x", {})):
        assert parse_frame(frame.encode(), version) == frame


def test_encode_decimals_and_datetimes() -> None:
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    text = CallResult("1", {"limit": Decimal("8.1"), "whole": Decimal("16"), "at": when}).encode()
    assert json.loads(text) == [3, "1", {"limit": 8.1, "whole": 16, "at": when.isoformat()}]
    assert '"whole":16,' in text  # integral decimals stay integers on the wire


def test_encode_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        CallResult("1", {"x": object()}).encode()


def test_callerror_description_truncated_to_255() -> None:
    long = "é" * 300
    for cls in (CallError, CallResultError):
        data = json.loads(cls("1", "GenericError", long, {}).encode())
        assert data[3] == "é" * 255
    assert len(OcppError(ErrorKind.GENERIC_ERROR, "x" * 1000).description) == 255


def test_callerror_empty_description_and_details() -> None:
    assert json.loads(CallError("1", "GenericError").encode()) == [4, "1", "GenericError", "", {}]


# -- message ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_message_id_of_36_characters_is_fine(version: OcppVersion) -> None:
    mid = "x" * MAX_MESSAGE_ID
    assert parse_frame(f'[2,"{mid}","Heartbeat",{{}}]', version) == Call(mid, "Heartbeat", {})
    mid = "é" * MAX_MESSAGE_ID  # characters count, not bytes
    assert parse_frame(f'[3,"{mid}",{{}}]', version) == CallResult(mid, {})


@pytest.mark.parametrize("raw_id", ['"' + "x" * 37 + '"', '""', "17", "null", "[]", '{"a":1}',
                                    "true", "1.5"])
@pytest.mark.parametrize("version", ALL)
def test_unreadable_call_id_answers_with_minus_one(version: OcppVersion, raw_id: str) -> None:
    frame = parse_frame(f'[2,{raw_id},"Heartbeat",{{}}]', version)
    assert isinstance(frame, Malformed)
    assert frame.message_id == UNREADABLE_ID == "-1"
    assert frame.reply is framework(version)
    assert frame.message_type == MessageType.CALL


@pytest.mark.parametrize("raw", ['[3,17,{}]', '[3,"' + "y" * 37 + '",{}]',
                                 '[4,null,"GenericError","",{}]'])
@pytest.mark.parametrize("version", ALL)
def test_unreadable_answer_id_is_dropped(version: OcppVersion, raw: str) -> None:
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed)
    assert frame.reply is None  # an answer is never answered
    assert frame.message_id == UNREADABLE_ID


@pytest.mark.parametrize("version", ALL)
def test_call_without_id(version: OcppVersion) -> None:
    frame = parse_frame("[2]", version)
    assert isinstance(frame, Malformed)
    assert frame.message_id == "-1"
    assert frame.reply is framework(version)


def test_message_id_factory_unique_and_short() -> None:
    factory = MessageIdFactory()
    ids = [factory() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(0 < len(i) <= MAX_MESSAGE_ID for i in ids)
    other = MessageIdFactory()
    assert not set(ids) & {other() for _ in range(1000)}  # a new factory (connection) differs


def test_message_id_factory_prefix_and_huge_counter_fits() -> None:
    factory = MessageIdFactory("abc")
    assert factory() == "abc-1"
    assert factory() == "abc-2"
    prefixed = MessageIdFactory()
    first = prefixed()
    prefix = first.rsplit("-", 1)[0]
    assert len(prefix) == 12
    assert len(f"{prefix}-{10**23 - 1}") <= MAX_MESSAGE_ID


# -- broken frames -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "not json", "[2,", '[2,"1","Heartbeat",{}', "{", "[2,'1']",
                                 '[2,"1","Heartbeat",{"a":NaN}]', "[2,\"1\",\"X\",{}]]"])
@pytest.mark.parametrize("version", ALL)
def test_not_json(version: OcppVersion, raw: str) -> None:
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed)
    assert frame.message_id == "-1"
    expected = ErrorKind.RPC_FRAMEWORK_ERROR if version.is_2x else ErrorKind.FORMAT_VIOLATION
    assert frame.reply is expected
    if version is V16:
        assert error_code(frame.reply, version) == "FormationViolation"


@pytest.mark.parametrize("raw", [b"\xff\xfe", b'[2,"1","DataTransfer",{"vendorId":"\xc3"}]',
                                 b'[2,"1","DataTransfer",{"vendorId":"\xed\xa0\x80"}]'])
@pytest.mark.parametrize("version", ALL)
def test_not_utf8(version: OcppVersion, raw: bytes) -> None:
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed)
    assert frame.message_id == "-1"
    expected = ErrorKind.RPC_FRAMEWORK_ERROR if version.is_2x else ErrorKind.FORMAT_VIOLATION
    assert frame.reply is expected


@pytest.mark.parametrize("raw", [
    '[2,"\\ud800","Heartbeat",{}]',
    '[2,"1","DataTransfer",{"vendorId":"\\udc00"}]',
    '[2,"1","DataTransfer",{"\\ud83d":"x"}]',
    '[3,"1",{"a":"\\ud800"}]',
    '[2,"1","DataTransfer",{"vendorId":"\ud800"}]',  # the character itself in a str frame
])
@pytest.mark.parametrize("version", ALL)
def test_lone_surrogate_escapes_are_refused(version: OcppVersion, raw: str) -> None:
    # Valid JSON syntax, but no Unicode text: nothing decoded from it could be sent back out.
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed), frame
    assert frame.message_id == "-1"


@pytest.mark.parametrize("version", ALL)
def test_paired_surrogate_escapes_are_text(version: OcppVersion) -> None:
    frame = parse_frame('[2,"1","DataTransfer",{"vendorId":"\\ud83d\\ude00"}]', version)
    assert frame == Call("1", "DataTransfer", {"vendorId": "😀"})


@pytest.mark.parametrize("raw", ['{"a":1}', '"text"', "17", "null", "[]", "true"])
@pytest.mark.parametrize("version", ALL)
def test_not_a_non_empty_array(version: OcppVersion, raw: str) -> None:
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed)
    assert frame.reply is framework(version)
    assert frame.message_id == "-1"


@pytest.mark.parametrize("raw", ['["2","1","Heartbeat",{}]', '[2.0,"1","Heartbeat",{}]',
                                 '[true,"1","Heartbeat",{}]', '[null,"1","Heartbeat",{}]'])
@pytest.mark.parametrize("version", ALL)
def test_message_type_not_an_integer(version: OcppVersion, raw: str) -> None:
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed)
    assert frame.reply is framework(version)


@pytest.mark.parametrize("raw", ['[2,"c-1"]', '[2,"c-1","Heartbeat"]',
                                 '[2,"c-1","Heartbeat",{},{}]', '[2,"c-1","Heartbeat",{},1,2]'])
@pytest.mark.parametrize("version", ALL)
def test_call_with_wrong_element_count(version: OcppVersion, raw: str) -> None:
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed)
    assert frame.reply is framework(version)
    assert frame.message_id == "c-1"  # the id is readable, so the CALLERROR carries it
    assert frame.message_type == MessageType.CALL


@pytest.mark.parametrize("action", ['""', "17", "null", "{}", '["Heartbeat"]'])
@pytest.mark.parametrize("version", ALL)
def test_call_with_bad_action(version: OcppVersion, action: str) -> None:
    frame = parse_frame(f'[2,"c-2",{action},{{}}]', version)
    assert isinstance(frame, Malformed)
    assert frame.reply is framework(version)
    assert frame.message_id == "c-2"


@pytest.mark.parametrize("payload", ["null", "[]", '"x"', "1", "true"])
@pytest.mark.parametrize("version", ALL)
def test_call_payload_not_an_object(version: OcppVersion, payload: str) -> None:
    frame = parse_frame(f'[2,"c-3","Heartbeat",{payload}]', version)
    assert isinstance(frame, Malformed)
    assert frame.reply is ErrorKind.FORMAT_VIOLATION
    assert frame.message_id == "c-3"
    assert error_code(frame.reply, version) == (
        "FormatViolation" if version.is_2x else "FormationViolation")


@pytest.mark.parametrize("raw", ['[3,"r-1"]', '[3,"r-1",{},{}]', '[3,"r-1",null]',
                                 '[3,"r-1",[]]', '[4,"r-1","GenericError",""]',
                                 '[4,"r-1","GenericError","",{},1]', '[4,"r-1",1,"",{}]',
                                 '[4,"r-1","GenericError",null,{}]',
                                 '[4,"r-1","GenericError","",null]'])
@pytest.mark.parametrize("version", ALL)
def test_broken_answers_are_dropped_but_keep_their_id(version: OcppVersion, raw: str) -> None:
    frame = parse_frame(raw, version)
    assert isinstance(frame, Malformed)
    assert frame.reply is None
    assert frame.message_id == "r-1"  # so the CALL waiting for it can still fail
    assert frame.message_type == json.loads(raw)[0]


@pytest.mark.parametrize("raw", ['[6,"s-1","X"]', '[6,"s-1","X",null]', '[6,"s-1",1,{}]',
                                 '[6,17,"X",{}]', '[5,"s-1","X",""]'])
def test_broken_send_and_callresulterror_are_never_answered(raw: str) -> None:
    frame = parse_frame(raw, V21)
    assert isinstance(frame, Malformed)
    assert frame.reply is None


def test_large_numbers_are_still_json() -> None:
    frame = parse_frame('[2,"n-1","DataTransfer",{"vendorId":"v","data":123456789012345678901234}]',
                        V201)
    assert isinstance(frame, Call)
    assert frame.payload["data"] == pytest.approx(1.23456789012345678901234e23)


# -- peek_message_id -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ('[2,"abc-1","DataTransfer",{"data":"' + "x" * 5000 + '"}]', "abc-1"),
    ('[ 2 , "abc-2" , "DataTransfer", {}]', "abc-2"),
    ('\n[2,\t"abc-3","X",{}]', "abc-3"),
    (b'[2,"abc-4","X",{"data":"' + b"\xff" * 500 + b'"}]', "abc-4"),
    ('[2,17,"X",{}]', "-1"),
    ('[2,"' + "x" * 37 + '","X",{}]', "-1"),
    ('[2,"a\\"b","X",{}]', "-1"),
    ('[2,"","X",{}]', "-1"),
    ('[2,"' + "x" * 200, "-1"),
    ('[2,"\udbff\udbff","X",{}]', "-1"),  # lone surrogates could not be sent back
    ("garbage", "-1"),
    ("", "-1"),
])
def test_peek_message_id(raw: str | bytes, expected: str) -> None:
    assert peek_message_id(raw) == expected


# -- error codes ---------------------------------------------------------------------------------

CODES_2X = {"NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
            "FormatViolation", "PropertyConstraintViolation", "OccurrenceConstraintViolation",
            "TypeConstraintViolation", "GenericError", "MessageTypeNotSupported",
            "RpcFrameworkError"}
CODES_16 = {"NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
            "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
            "TypeConstraintViolation", "GenericError"}


def test_error_codes_16_keep_the_misspellings() -> None:
    assert error_code(ErrorKind.FORMAT_VIOLATION, V16) == "FormationViolation"
    assert error_code(ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION, V16) == (
        "OccurenceConstraintViolation")
    # 1.6 has no framework codes: ProtocolError stands in for both.
    assert error_code(ErrorKind.RPC_FRAMEWORK_ERROR, V16) == "ProtocolError"
    assert error_code(ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, V16) == "ProtocolError"
    assert valid_error_codes(V16) == CODES_16


@pytest.mark.parametrize("version", TWO_X)
def test_error_codes_2x(version: OcppVersion) -> None:
    assert error_code(ErrorKind.FORMAT_VIOLATION, version) == "FormatViolation"
    assert error_code(ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION, version) == (
        "OccurrenceConstraintViolation")
    assert error_code(ErrorKind.RPC_FRAMEWORK_ERROR, version) == "RpcFrameworkError"
    assert error_code(ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, version) == "MessageTypeNotSupported"
    assert valid_error_codes(version) == CODES_2X


@pytest.mark.parametrize("kind", [k for k in ErrorKind if k not in (
    ErrorKind.FORMAT_VIOLATION, ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
    ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED)])
def test_error_codes_spelled_alike_in_all_versions(kind: ErrorKind) -> None:
    assert {error_code(kind, v) for v in ALL} == {kind.value}


def test_error_kind_reads_both_spellings() -> None:
    assert error_kind("FormationViolation") is ErrorKind.FORMAT_VIOLATION
    assert error_kind("FormatViolation") is ErrorKind.FORMAT_VIOLATION
    assert error_kind("OccurenceConstraintViolation") is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION
    assert error_kind("ProtocolError") is ErrorKind.PROTOCOL_ERROR
    assert error_kind("RpcFrameworkError") is ErrorKind.RPC_FRAMEWORK_ERROR
    assert error_kind("formatviolation") is None
    assert error_kind("Nonsense") is None
    assert CallErrorReceived("X", "OccurenceConstraintViolation", "", {}).kind is (
        ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION)
