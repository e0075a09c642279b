"""OcppSession over the in-memory transport: a station session and a CSMS session talking."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from chargeloop.ocppj import (
    CallContext,
    CallErrorReceived,
    CallTimeout,
    ErrorKind,
    JsonlTraceWriter,
    OcppError,
    OcppVersion,
    PayloadInvalid,
    SessionClosed,
    ValidationMode,
    error_code,
)
from chargeloop.ocppj.errors import valid_error_codes

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
ALL = [V16, V201, V21]
TWO_X = [V201, V21]
WAIT = 5.0
TS = "2024-05-01T12:00:00Z"
OFF, LENIENT = ValidationMode.OFF, ValidationMode.LENIENT

pytestmark = pytest.mark.timeout(20)


def code(kind: ErrorKind, version: OcppVersion) -> str:
    return error_code(kind, version)


async def bounded(awaitable: Any, timeout: float = WAIT) -> Any:
    return await asyncio.wait_for(awaitable, timeout)


def boot_request(version: OcppVersion) -> dict[str, Any]:
    if version is V16:
        return {"chargePointVendor": "ACME", "chargePointModel": "X1"}
    return {"reason": "PowerUp", "chargingStation": {"vendorName": "ACME", "model": "X1"}}


BOOT_RESPONSE = {"currentTime": TS, "interval": 300, "status": "Accepted"}
HEARTBEAT_RESPONSE = {"currentTime": TS}


def transaction_flow(version: OcppVersion) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(action, request, response) for boot, heartbeat, authorize, start, meter values, stop."""
    if version is V16:
        return [
            ("BootNotification", boot_request(version), BOOT_RESPONSE),
            ("Heartbeat", {}, HEARTBEAT_RESPONSE),
            ("Authorize", {"idTag": "TAG-1"}, {"idTagInfo": {"status": "Accepted"}}),
            ("StartTransaction",
             {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": TS},
             {"transactionId": 42, "idTagInfo": {"status": "Accepted"}}),
            ("MeterValues",
             {"connectorId": 1, "transactionId": 42, "meterValue": [
                 {"timestamp": TS, "sampledValue": [
                     {"value": "1500", "measurand": "Energy.Active.Import.Register",
                      "unit": "Wh"}]}]},
             {}),
            ("StopTransaction",
             {"transactionId": 42, "meterStop": 3000, "timestamp": TS, "reason": "Local"},
             {"idTagInfo": {"status": "Accepted"}}),
        ]
    token = {"idToken": "TAG-1", "type": "ISO14443"}
    return [
        ("BootNotification", boot_request(version), BOOT_RESPONSE),
        ("Heartbeat", {}, HEARTBEAT_RESPONSE),
        ("Authorize", {"idToken": token}, {"idTokenInfo": {"status": "Accepted"}}),
        ("TransactionEvent",
         {"eventType": "Started", "timestamp": TS, "triggerReason": "Authorized", "seqNo": 0,
          "transactionInfo": {"transactionId": "tx-1"}, "idToken": token,
          "evse": {"id": 1, "connectorId": 1}},
         {"idTokenInfo": {"status": "Accepted"}}),
        ("MeterValues",
         {"evseId": 1, "meterValue": [{"timestamp": TS, "sampledValue": [
             {"value": 1500.5, "measurand": "Energy.Active.Import.Register"}]}]},
         {}),
        ("TransactionEvent",
         {"eventType": "Ended", "timestamp": TS, "triggerReason": "StopAuthorized", "seqNo": 1,
          "transactionInfo": {"transactionId": "tx-1", "stoppedReason": "Local"}},
         {}),
    ]


def remote_start(version: OcppVersion) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A CSMS-to-station action of ``version`` with a valid request and response."""
    if version is V16:
        return "RemoteStartTransaction", {"idTag": "TAG-1"}, {"status": "Accepted"}
    return ("RequestStartTransaction",
            {"idToken": {"idToken": "TAG-1", "type": "ISO14443"}, "remoteStartId": 7},
            {"status": "Accepted"})


def heartbeat_route(session: Any) -> list[dict[str, Any]]:
    """Route Heartbeat on ``session``; the returned list collects what the handler got."""
    seen: list[dict[str, Any]] = []

    def on_heartbeat(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return HEARTBEAT_RESPONSE

    session.route("Heartbeat", on_heartbeat)
    return seen


def gated_heartbeat(session: Any) -> tuple[asyncio.Event, list[str]]:
    """An async Heartbeat handler that answers only once the returned event is set."""
    gate = asyncio.Event()
    started: list[str] = []

    async def on_heartbeat(payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        started.append(ctx.message_id)
        await gate.wait()
        return HEARTBEAT_RESPONSE

    session.route("Heartbeat", on_heartbeat, context=True)
    return gate, started


def is_in(message_type: int, message_id: str | None = None) -> Any:
    return lambda r: (r.direction == "in" and r.message_type == message_type
                      and (message_id is None or r.message_id == message_id))


def wire(record: Any) -> list[Any]:
    return json.loads(record.raw)


async def round_trip_still_works(pair: Any) -> None:
    """The connection survives: a fresh Heartbeat from the station is answered."""
    if "Heartbeat" not in pair.csms._routes:
        heartbeat_route(pair.csms)
    assert await bounded(pair.station.call("Heartbeat")) == HEARTBEAT_RESPONSE
    pair.assert_serving()


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("handler_style", ["sync", "async"])
@pytest.mark.parametrize("version", ALL)
async def test_transaction_round_trip(session_pair: Any, version: OcppVersion,
                                      handler_style: str) -> None:
    flow = transaction_flow(version)
    received: list[tuple[str, dict[str, Any]]] = []
    async with session_pair(version) as pair:
        answers: dict[str, list[dict[str, Any]]] = {}
        for action, _, response in flow:
            answers.setdefault(action, []).append(response)

        def make(action: str) -> Any:
            def sync_handler(payload: dict[str, Any]) -> dict[str, Any]:
                received.append((action, payload))
                return answers[action].pop(0)

            async def async_handler(payload: dict[str, Any]) -> dict[str, Any]:
                return sync_handler(payload)  # runs as a task of its own

            return sync_handler if handler_style == "sync" else async_handler

        for action in answers:
            pair.csms.route(action, make(action))
        for action, request, response in flow:
            assert await bounded(pair.station.call(action, request)) == response
        assert received == [(action, request) for action, request, _ in flow]
        # every frame went out and came in exactly once, in order, valid
        calls_out = [r for r in pair.station_trace.outbound if r.message_type == 2]
        assert [r.action for r in calls_out] == [a for a, _, _ in flow]
        assert all(r.outcome == "ok" for r in pair.station_trace.records)
        assert all(r.outcome == "ok" for r in pair.csms_trace.records)
        assert len(pair.csms_trace.records) == 2 * len(flow)


@pytest.mark.parametrize("version", ALL)
async def test_csms_to_station_call(session_pair: Any, version: OcppVersion) -> None:
    action, request, response = remote_start(version)
    async with session_pair(version) as pair:
        got: list[dict[str, Any]] = []
        pair.station.route(action, lambda p: got.append(p) or response)
        assert await bounded(pair.csms.call(action, request)) == response
        assert got == [request]


@pytest.mark.parametrize("version", ALL)
async def test_calls_may_cross(session_pair: Any, version: OcppVersion) -> None:
    # Each side has one CALL outstanding at the same time: legal, and both get answered.
    action, request, response = remote_start(version)
    async with session_pair(version) as pair:
        station_got_call = asyncio.Event()

        async def on_heartbeat(payload: dict[str, Any]) -> dict[str, Any]:
            await station_got_call.wait()  # answer only once the crossing CALL has arrived
            return HEARTBEAT_RESPONSE

        def on_remote(payload: dict[str, Any]) -> dict[str, Any]:
            station_got_call.set()
            return response

        pair.csms.route("Heartbeat", on_heartbeat)
        pair.station.route(action, on_remote)
        heartbeat = asyncio.create_task(pair.station.call("Heartbeat"))
        await bounded(pair.csms_trace.wait_for(is_in(2)))
        assert await bounded(pair.csms.call(action, request)) == response
        assert await bounded(heartbeat) == HEARTBEAT_RESPONSE


@pytest.mark.parametrize("version", ALL)
async def test_route_as_decorator_and_context(session_pair: Any, version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        contexts: list[CallContext] = []

        @pair.csms.route("Heartbeat", context=True)
        def on_heartbeat(payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
            contexts.append(ctx)
            return HEARTBEAT_RESPONSE

        await bounded(pair.station.call("Heartbeat"))
        (ctx,) = contexts
        assert ctx.session is pair.csms
        assert ctx.action == "Heartbeat"
        assert ctx.leniencies == ()
        sent = pair.station_trace.outbound[0]
        assert ctx.message_id == sent.message_id == wire(sent)[1]


async def test_typed_round_trip_201(session_pair: Any) -> None:
    async with session_pair(V201) as pair:
        got: list[Any] = []

        async def on_boot(request: call201.BootNotification) -> result201.BootNotification:
            got.append(request)
            return result201.BootNotification(current_time=TS, interval=300, status="Accepted")

        pair.csms.route("BootNotification", on_boot, typed=True)
        result = await bounded(pair.station.call_typed(call201.BootNotification(
            charging_station={"model": "X1", "vendor_name": "ACME"}, reason="PowerUp")))
        assert isinstance(result, result201.BootNotification)
        assert (result.status, result.interval, result.current_time) == ("Accepted", 300, TS)
        (request,) = got
        assert isinstance(request, call201.BootNotification)
        assert request.reason == "PowerUp"
        assert request.charging_station == {"model": "X1", "vendor_name": "ACME"}
        # camelCase on the wire
        assert wire(pair.csms_trace.inbound[0])[3] == boot_request(V201)
        assert wire(pair.csms_trace.outbound[0])[2] == BOOT_RESPONSE


async def test_typed_round_trip_16_sync_handler(session_pair: Any) -> None:
    async with session_pair(V16) as pair:

        def on_start(request: call16.StartTransaction) -> result16.StartTransaction:
            assert request.connector_id == 1
            assert request.id_tag == "TAG-1"
            return result16.StartTransaction(transaction_id=9, id_tag_info={"status": "Accepted"})

        pair.csms.route("StartTransaction", on_start, typed=True)
        result = await bounded(pair.station.call_typed(call16.StartTransaction(
            connector_id=1, id_tag="TAG-1", meter_start=0, timestamp=TS)))
        assert isinstance(result, result16.StartTransaction)
        assert result.transaction_id == 9
        assert wire(pair.csms_trace.outbound[0])[2] == {
            "transactionId": 9, "idTagInfo": {"status": "Accepted"}}


@pytest.mark.parametrize("version", ALL)
async def test_handler_returning_none_answers_empty_object(session_pair: Any,
                                                           version: OcppVersion) -> None:
    action, request, _ = transaction_flow(version)[4]  # MeterValues, whose answer is {}
    async with session_pair(version) as pair:
        pair.csms.route(action, lambda payload: None)
        assert await bounded(pair.station.call(action, request)) == {}


# -- handler failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("handler_style", ["sync", "async"])
@pytest.mark.parametrize("kind", [ErrorKind.SECURITY_ERROR, ErrorKind.FORMAT_VIOLATION,
                                  ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
                                  ErrorKind.GENERIC_ERROR])
@pytest.mark.parametrize("version", ALL)
async def test_handler_ocpp_error_becomes_that_callerror(
        session_pair: Any, version: OcppVersion, kind: ErrorKind, handler_style: str) -> None:
    async with session_pair(version) as pair:
        def fail(payload: dict[str, Any]) -> None:
            raise OcppError(kind, "not now", {"retry": 60})

        async def afail(payload: dict[str, Any]) -> None:
            fail(payload)

        pair.csms.route("Heartbeat", fail if handler_style == "sync" else afail)
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call("Heartbeat"))
        assert info.value.code == code(kind, version)
        assert info.value.kind is kind
        assert info.value.description == "not now"
        assert info.value.details == {"retry": 60}
        assert info.value.action == "Heartbeat"
        raw = wire(pair.station_trace.inbound[-1])
        assert raw[0] == 4
        assert raw[2] == code(kind, version)  # 1.6 spellings on the wire
        assert raw[2] in valid_error_codes(version)


@pytest.mark.parametrize("handler_style", ["sync", "async"])
@pytest.mark.parametrize("version", ALL)
async def test_handler_crash_is_internal_error_and_session_goes_on(
        session_pair: Any, version: OcppVersion, handler_style: str) -> None:
    async with session_pair(version) as pair:
        calls = 0

        def flaky(payload: dict[str, Any]) -> dict[str, Any]:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ValueError("boom")
            return HEARTBEAT_RESPONSE

        async def aflaky(payload: dict[str, Any]) -> dict[str, Any]:
            return flaky(payload)

        pair.csms.route("Heartbeat", flaky if handler_style == "sync" else aflaky)
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call("Heartbeat"))
        assert info.value.code == "InternalError"
        assert "boom" not in info.value.description  # no internals leak to the peer
        assert await bounded(pair.station.call("Heartbeat")) == HEARTBEAT_RESPONSE
        assert calls == 2
        pair.assert_serving()


@pytest.mark.parametrize("handler_style", ["sync", "async"])
@pytest.mark.parametrize("answer", [
    {"currentTime": "yesterday"},  # breaks the schema
    {"currentTime": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)},  # no JSON value at all
    {"currentTime": TS, "extra": {1, 2}},
    "not a payload",
])
@pytest.mark.parametrize("version", [V16, V201])
async def test_handler_returning_a_bad_answer_is_internal_error(
        session_pair: Any, version: OcppVersion, answer: Any, handler_style: str) -> None:
    async with session_pair(version) as pair:
        def bad(payload: dict[str, Any]) -> Any:
            return answer

        async def abad(payload: dict[str, Any]) -> Any:
            return answer

        pair.csms.route("Heartbeat", bad if handler_style == "sync" else abad)
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call("Heartbeat"))
        assert info.value.code == "InternalError"
        pair.csms.route("Heartbeat", lambda payload: HEARTBEAT_RESPONSE)
        assert await bounded(pair.station.call("Heartbeat")) == HEARTBEAT_RESPONSE
        pair.assert_serving()


async def test_bad_answer_is_not_validated_with_validation_off(session_pair: Any) -> None:
    # validation off: our own answer goes out as the handler returned it
    async with session_pair(V201, csms={"validation": OFF}, station={"validation": OFF}) as pair:
        pair.csms.route("Heartbeat", lambda payload: {"whatever": 1})
        assert await bounded(pair.station.call("Heartbeat")) == {"whatever": 1}


# -- actions the receiver will not run -----------------------------------------------------------


@pytest.mark.parametrize("action", ["FlyToTheMoon", "heartbeat", "HEARTBEAT", "Heartbeat "])
@pytest.mark.parametrize("version", ALL)
async def test_unknown_action_is_not_implemented(session_pair: Any, version: OcppVersion,
                                                 action: str) -> None:
    async with session_pair(version) as pair:
        heartbeat_route(pair.csms)
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call(action, {}))
        assert info.value.code == "NotImplemented"
        await round_trip_still_works(pair)


@pytest.mark.parametrize(("version", "action", "payload"), [
    (V201, "StartTransaction",
     {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": TS}),
    (V21, "StopTransaction", {"transactionId": 1, "meterStop": 0, "timestamp": TS}),
    (V201, "ChangeConfiguration", {"key": "a", "value": "b"}),
    (V16, "TransactionEvent", {}),
    (V201, "BatterySwap", {}),  # 2.1 only
])
async def test_action_of_another_version_is_not_supported(
        session_pair: Any, version: OcppVersion, action: str, payload: dict[str, Any]) -> None:
    async with session_pair(version) as pair:
        ran: list[Any] = []
        pair.csms.route(action, ran.append)  # even a route does not make it an action here
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call(action, payload))
        assert info.value.code == "NotSupported"
        assert ran == []


@pytest.mark.parametrize("version", ALL)
async def test_known_action_without_handler_is_not_supported(session_pair: Any,
                                                             version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call("BootNotification", boot_request(version)))
        assert info.value.code == "NotSupported"


@pytest.mark.parametrize("version", ALL)
async def test_csms_action_sent_by_a_station_is_not_supported(session_pair: Any,
                                                             version: OcppVersion) -> None:
    action, request, response = remote_start(version)
    async with session_pair(version) as pair:
        ran: list[Any] = []
        pair.csms.route(action, lambda p: ran.append(p) or response)
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call(action, request))
        assert info.value.code == "NotSupported"
        assert ran == []


@pytest.mark.parametrize("version", ALL)
async def test_station_action_sent_by_a_csms_is_not_supported(session_pair: Any,
                                                             version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        ran: list[Any] = []
        pair.station.route("BootNotification", lambda p: ran.append(p) or BOOT_RESPONSE)
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.csms.call("BootNotification", boot_request(version)))
        assert info.value.code == "NotSupported"
        assert ran == []


@pytest.mark.parametrize("version", ALL)
async def test_data_transfer_goes_both_ways(session_pair: Any, version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        for session in (pair.station, pair.csms):
            session.route("DataTransfer", lambda p: {"status": "Accepted", "data": p["vendorId"]})
        request = {"vendorId": "com.example"}
        expected = {"status": "Accepted", "data": "com.example"}
        assert await bounded(pair.station.call("DataTransfer", request)) == expected
        assert await bounded(pair.csms.call("DataTransfer", request)) == expected


# -- invalid payloads ----------------------------------------------------------------------------


def invalid_boot(version: OcppVersion, fault: str) -> dict[str, Any]:
    payload = boot_request(version)
    inner = payload if version is V16 else payload["chargingStation"]
    name = "chargePointModel" if version is V16 else "model"
    if fault == "missing":
        del inner[name]
    elif fault == "extra":
        payload["colour"] = "blue"
    elif fault == "type":
        inner[name] = 5
    elif fault == "too_long":
        inner[name] = "x" * 21
    elif fault == "enum":
        if version is V16:
            return {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}
        payload["reason"] = "Sleeping"
    return payload


FAULT_KIND = {"missing": ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION,
              "extra": ErrorKind.FORMAT_VIOLATION,
              "type": ErrorKind.TYPE_CONSTRAINT_VIOLATION,
              "too_long": ErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
              "enum": ErrorKind.PROPERTY_CONSTRAINT_VIOLATION}


@pytest.mark.parametrize("fault", list(FAULT_KIND))
@pytest.mark.parametrize("version", ALL)
async def test_invalid_payload_gets_the_versions_code(session_pair: Any, version: OcppVersion,
                                                      fault: str) -> None:
    payload = invalid_boot(version, fault)
    action = "StatusNotification" if version is V16 and fault == "enum" else "BootNotification"
    async with session_pair(version, station={"validation": OFF}) as pair:
        ran: list[Any] = []
        pair.csms.route(action, lambda p: ran.append(p) or BOOT_RESPONSE)
        with pytest.raises(CallErrorReceived) as info:
            await bounded(pair.station.call(action, payload))
        expected = code(FAULT_KIND[fault], version)
        assert info.value.code == expected
        assert "path" in info.value.details
        assert ran == []
        # the exact spelling is what travelled
        record = pair.station_trace.inbound[-1]
        assert wire(record)[2] == expected
        if version is V16 and fault == "missing":
            assert '"OccurenceConstraintViolation"' in record.raw
        if version is V16 and fault == "extra":
            assert '"FormationViolation"' in record.raw
        rejected = pair.csms_trace.inbound[-1]
        assert rejected.outcome.startswith("invalid: ")


@pytest.mark.parametrize("version", ALL)
async def test_strict_session_refuses_to_send_an_invalid_request(session_pair: Any,
                                                                 version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        with pytest.raises(PayloadInvalid) as info:
            await bounded(pair.station.call("BootNotification", {}))
        assert info.value.kind is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION
        assert pair.station_trace.records == []  # nothing went out
        await round_trip_still_works(pair)


@pytest.mark.parametrize("version", ALL)
async def test_invalid_answer_fails_the_call(session_pair: Any, version: OcppVersion) -> None:
    async with session_pair(version, csms={"validation": OFF}) as pair:
        pair.csms.route("Heartbeat", lambda payload: {"currentTime": "yesterday"})
        with pytest.raises(PayloadInvalid) as info:
            await bounded(pair.station.call("Heartbeat"))
        assert info.value.kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION
        sent = pair.station_trace.outbound[0]
        if version.has_send:
            # 2.1: the station tells the CSMS with a CALLRESULTERROR carrying the same id
            record = await bounded(pair.csms_trace.wait_for(is_in(5)))
            frame = wire(record)
            assert frame[1] == sent.message_id
            assert frame[2] == "PropertyConstraintViolation"
        pair.csms.route("Heartbeat", lambda payload: HEARTBEAT_RESPONSE)
        await round_trip_still_works(pair)
        if not version.has_send:
            assert not pair.csms_trace.find(lambda r: r.message_type == 5)


@pytest.mark.parametrize("version", ALL)
async def test_malformed_answer_fails_the_waiting_call(session_pair: Any,
                                                       version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        gate, started = gated_heartbeat(pair.csms)
        waiting = asyncio.create_task(pair.station.call("Heartbeat"))
        await bounded(pair.csms_trace.wait_for(is_in(2)))
        (mid,) = started
        await pair.csms.send_text(f'[3,"{mid}",null]')  # answer with a payload that is no object
        with pytest.raises(PayloadInvalid) as info:
            await bounded(waiting)
        assert info.value.kind is ErrorKind.PROTOCOL_ERROR
        gate.set()  # the real answer now comes too late and is dropped
        await bounded(pair.station_trace.wait_for(
            lambda r: r.direction == "in" and r.outcome.startswith("ignored")))
        await round_trip_still_works(pair)


# -- lenient mode --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
async def test_lenient_mode_repairs_and_traces(session_pair: Any, version: OcppVersion) -> None:
    quirky = boot_request(version)
    quirky["firmwareColour"] = "blue"
    if version.is_2x:
        quirky["reason"] = "powerup"
    async with session_pair(version, csms={"validation": LENIENT},
                            station={"validation": OFF}) as pair:
        got: list[tuple[dict[str, Any], tuple[str, ...]]] = []

        def on_boot(payload: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
            got.append((payload, ctx.leniencies))
            return BOOT_RESPONSE

        pair.csms.route("BootNotification", on_boot, context=True)
        assert await bounded(pair.station.call("BootNotification", quirky)) == BOOT_RESPONSE
        ((payload, leniencies),) = got
        assert payload == boot_request(version)  # the handler sees the repaired payload
        assert len(leniencies) == (2 if version.is_2x else 1)
        record = pair.csms_trace.inbound[0]
        assert record.outcome.startswith("lenient: ")
        assert "firmwareColour" in record.outcome
        assert all(note in record.outcome for note in leniencies)
        assert "firmwareColour" in record.raw  # the raw frame is kept as it travelled


@pytest.mark.parametrize("version", ALL)
async def test_lenient_mode_still_holds_own_frames_to_the_schema(session_pair: Any,
                                                                 version: OcppVersion) -> None:
    async with session_pair(version, station={"validation": LENIENT}) as pair:
        quirky = boot_request(version)
        quirky["firmwareColour"] = "blue"
        with pytest.raises(PayloadInvalid):
            await bounded(pair.station.call("BootNotification", quirky))


async def test_lenient_answer_is_repaired_for_the_caller(session_pair: Any) -> None:
    async with session_pair(V201, station={"validation": LENIENT},
                            csms={"validation": OFF}) as pair:
        pair.csms.route("BootNotification", lambda p: {**BOOT_RESPONSE, "status": "accepted",
                                                       "currentTime": "2024-05-01T12:00:00"})
        result = await bounded(pair.station.call("BootNotification", boot_request(V201)))
        assert result == BOOT_RESPONSE
        record = pair.station_trace.inbound[0]
        assert record.outcome.startswith("lenient: ")
        assert "'accepted'" in record.outcome


# -- answers, timeouts and closing ---------------------------------------------------------------


@pytest.mark.parametrize("frame", ['[3,"nobody-1",{}]', '[4,"nobody-1","GenericError","",{}]'])
@pytest.mark.parametrize("version", ALL)
async def test_answer_to_unknown_id_is_ignored_and_logged(
        session_pair: Any, version: OcppVersion, frame: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="chargeloop.ocppj")
    async with session_pair(version) as pair:
        await pair.csms.send_text(frame)
        record = await bounded(pair.station_trace.wait_for(
            lambda r: r.direction == "in" and r.message_id == "nobody-1"))
        assert record.outcome.startswith("ignored")
        assert any("nobody-1" in m and "unknown id" in m for m in caplog.messages)
        await round_trip_still_works(pair)
        # nothing was sent back for it (2.1 could, but this session does not)
        assert not pair.station_trace.find(lambda r: r.direction == "out"
                                           and r.message_id == "nobody-1")


@pytest.mark.parametrize("version", ALL)
async def test_at_most_one_outstanding_call(session_pair: Any, version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        gate, started = gated_heartbeat(pair.csms)
        first = asyncio.create_task(pair.station.call("Heartbeat"))
        second = asyncio.create_task(pair.station.call("Heartbeat"))
        await bounded(pair.csms_trace.wait_for(is_in(2)))
        # Both tasks have run to their first wait by now; only one CALL is on the wire.
        assert len([r for r in pair.station_trace.outbound if r.message_type == 2]) == 1
        assert len(started) == 1
        gate.set()
        assert await bounded(asyncio.gather(first, second)) == [HEARTBEAT_RESPONSE] * 2
        kinds = [(r.direction, r.message_type) for r in pair.station_trace.records]
        assert kinds == [("out", 2), ("in", 3), ("out", 2), ("in", 3)]
        out1, in1, out2, in2 = pair.station_trace.records
        assert in1.message_id == out1.message_id != out2.message_id == in2.message_id
        assert out2.wall_time >= in1.wall_time


@pytest.mark.parametrize("version", ALL)
async def test_call_timeout(session_pair: Any, version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        gate, started = gated_heartbeat(pair.csms)
        with pytest.raises(CallTimeout):
            await bounded(pair.station.call("Heartbeat", timeout=0.05))
        # The late answer is dropped; the next CALL uses a new id and works.
        gate.set()
        await bounded(pair.station_trace.wait_for(
            lambda r: r.direction == "in" and r.message_id == started[0]))
        assert pair.station_trace.inbound[-1].outcome.startswith("ignored")
        assert await bounded(pair.station.call("Heartbeat")) == HEARTBEAT_RESPONSE
        assert len(set(started)) == 2


async def test_session_level_call_timeout(session_pair: Any) -> None:
    async with session_pair(V201, station={"call_timeout": 0.05}) as pair:
        gated_heartbeat(pair.csms)
        started = time.monotonic()
        with pytest.raises(CallTimeout):
            await bounded(pair.station.call("Heartbeat"))
        assert time.monotonic() - started < WAIT


@pytest.mark.parametrize("who_closes", ["peer", "self"])
@pytest.mark.parametrize("version", ALL)
async def test_session_closed_while_waiting(session_pair: Any, version: OcppVersion,
                                            who_closes: str) -> None:
    async with session_pair(version) as pair:
        gated_heartbeat(pair.csms)
        waiting = asyncio.create_task(pair.station.call("Heartbeat"))
        queued = asyncio.create_task(pair.station.call("Heartbeat"))
        await bounded(pair.csms_trace.wait_for(is_in(2)))
        await (pair.csms if who_closes == "peer" else pair.station).close()
        with pytest.raises(SessionClosed):
            await bounded(waiting)
        with pytest.raises(SessionClosed):
            await bounded(queued)
        await bounded(pair.station.wait_closed())
        assert pair.station.closed
        with pytest.raises(SessionClosed):
            await bounded(pair.station.call("Heartbeat"))


# -- incoming CALL ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
async def test_duplicate_in_flight_id_is_rpc_framework_error(session_pair: Any,
                                                             version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        gate, started = gated_heartbeat(pair.csms)
        await pair.station.send_text('[2,"dup-1","Heartbeat",{}]')
        await bounded(pair.csms_trace.wait_for(is_in(2, "dup-1")))
        await pair.station.send_text('[2,"dup-1","Heartbeat",{}]')
        error = await bounded(pair.station_trace.wait_for(is_in(4, "dup-1")))
        assert wire(error)[2] == code(ErrorKind.RPC_FRAMEWORK_ERROR, version)
        gate.set()
        result = await bounded(pair.station_trace.wait_for(is_in(3, "dup-1")))
        assert wire(result) == [3, "dup-1", HEARTBEAT_RESPONSE]
        assert started == ["dup-1"]  # the handler ran once
        # once answered, the id is free again (as a retransmission)
        await pair.station.send_text('[2,"dup-1","Heartbeat",{}]')
        await round_trip_still_works(pair)
        assert len(pair.station_trace.find(is_in(3, "dup-1"))) == 2
        assert started.count("dup-1") == 1


@pytest.mark.parametrize("handler_style", ["sync", "async"])
@pytest.mark.parametrize("version", ALL)
async def test_retransmission_gets_the_cached_answer(session_pair: Any, version: OcppVersion,
                                                     handler_style: str) -> None:
    flow = transaction_flow(version)
    action, request, response = flow[3]  # StartTransaction / TransactionEvent Started
    async with session_pair(version) as pair:
        count = 0

        def start(payload: dict[str, Any]) -> dict[str, Any]:
            nonlocal count
            count += 1
            return {**response, **({"transactionId": 40 + count} if version is V16 else {})}

        async def astart(payload: dict[str, Any]) -> dict[str, Any]:
            return start(payload)

        pair.csms.route(action, start if handler_style == "sync" else astart)
        raw = json.dumps([2, "retry-1", action, request])
        await pair.station.send_text(raw)
        first = await bounded(pair.station_trace.wait_for(is_in(3, "retry-1")))
        await pair.station.send_text(raw)
        index = pair.station_trace.records.index(first) + 1
        second = await bounded(pair.station_trace.wait_for(is_in(3, "retry-1"), start=index))
        assert second.raw == first.raw
        assert count == 1
        repeat = pair.csms_trace.find(is_in(2, "retry-1"))
        assert len(repeat) == 2
        assert repeat[1].outcome.startswith("ignored: retransmission")


# -- size limit ----------------------------------------------------------------------------------


@pytest.mark.parametrize("as_bytes", [False, True])
@pytest.mark.parametrize("version", ALL)
async def test_oversize_call_is_format_violation_with_peeked_id(
        session_pair: Any, version: OcppVersion, as_bytes: bool) -> None:
    async with session_pair(version, csms={"max_message_bytes": 256}) as pair:
        ran: list[Any] = []
        pair.csms.route("DataTransfer", lambda p: ran.append(p) or {"status": "Accepted"})
        big = '[2,"big-1","DataTransfer",{"vendorId":"v","data":"' + "x" * 1000 + '"}]'
        await pair.station.send_text(big.encode() if as_bytes else big)
        error = await bounded(pair.station_trace.wait_for(is_in(4)))
        frame = wire(error)
        assert frame[1] == "big-1"
        assert frame[2] == code(ErrorKind.FORMAT_VIOLATION, version)
        assert len(frame[3]) <= 255
        assert ran == []
        record = pair.csms_trace.inbound[0]
        assert record.outcome.startswith("malformed: ")
        assert len(record.raw) <= 256  # the trace keeps the head only
        # at the limit it is handled normally
        exact = '[2,"fit-1","DataTransfer",{"vendorId":"v","data":"'
        exact += "x" * (256 - len(exact) - 3) + '"}]'
        assert len(exact) == 256
        await pair.station.send_text(exact)
        result = await bounded(pair.station_trace.wait_for(is_in(3, "fit-1")))
        assert wire(result)[2] == {"status": "Accepted"}


@pytest.mark.parametrize("version", ALL)
async def test_oversize_limit_counts_bytes_not_characters(session_pair: Any,
                                                          version: OcppVersion) -> None:
    async with session_pair(version, csms={"max_message_bytes": 256}) as pair:
        pair.csms.route("DataTransfer", lambda p: {"status": "Accepted"})
        text = '[2,"mb-1","DataTransfer",{"vendorId":"v","data":"' + "€" * 100 + '"}]'
        assert len(text) < 256 < len(text.encode())
        await pair.station.send_text(text)
        error = await bounded(pair.station_trace.wait_for(
            lambda r: r.direction == "in" and r.message_id == "mb-1"))
        assert wire(error)[:3] == [4, "mb-1", code(ErrorKind.FORMAT_VIOLATION, version)]


@pytest.mark.parametrize("version", ALL)
async def test_oversize_answer_is_dropped(session_pair: Any, version: OcppVersion) -> None:
    async with session_pair(version, csms={"max_message_bytes": 64}) as pair:
        heartbeat_route(pair.csms)
        await pair.station.send_text('[3,"x-1",{"data":"' + "x" * 500 + '"}]')
        await pair.station.send_text('[4,"x-2","GenericError","' + "x" * 500 + '",{}]')
        await round_trip_still_works(pair)
        assert [r.message_type for r in pair.station_trace.inbound] == [3]


# -- the negative-input matrix, end to end -------------------------------------------------------


@pytest.mark.parametrize(("frame", "kinds", "mid"), [
    ("not json", (ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.FORMAT_VIOLATION), "-1"),
    ('[2,"t-1","Heartbeat"', (ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.FORMAT_VIOLATION), "-1"),
    ('{"a":1}', (ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.PROTOCOL_ERROR), "-1"),
    ("[]", (ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.PROTOCOL_ERROR), "-1"),
    ('[2,"t-2","Heartbeat"]', (ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.PROTOCOL_ERROR), "t-2"),
    ('[2,"' + "i" * 37 + '","Heartbeat",{}]',
     (ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.PROTOCOL_ERROR), "-1"),
    ('[2,42,"Heartbeat",{}]', (ErrorKind.RPC_FRAMEWORK_ERROR, ErrorKind.PROTOCOL_ERROR), "-1"),
    ('[2,"t-3","Heartbeat",null]', (ErrorKind.FORMAT_VIOLATION, ErrorKind.FORMAT_VIOLATION),
     "t-3"),
    ('[7,"t-4","Heartbeat",{}]', (ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, None), "t-4"),
])
@pytest.mark.parametrize("version", ALL)
async def test_broken_frames_get_the_matrix_answer(
        session_pair: Any, version: OcppVersion, frame: str,
        kinds: tuple[ErrorKind, ErrorKind | None], mid: str) -> None:
    kind = kinds[0] if version.is_2x else kinds[1]
    async with session_pair(version) as pair:
        await pair.station.send_text(frame)
        await round_trip_still_works(pair)
        replies = [r for r in pair.station_trace.inbound if r.message_type == 4]
        if kind is None:
            assert replies == []  # 1.6 ignores unknown message types
        else:
            (reply,) = replies
            assert wire(reply)[:3] == [4, mid, code(kind, version)]
            assert wire(reply)[4] == {}  # never the raw invalid JSON


@pytest.mark.parametrize("type_id", [5, 6])
async def test_21_types_on_201_are_message_type_not_supported(session_pair: Any,
                                                             type_id: int) -> None:
    async with session_pair(V201) as pair:
        frame = '[6,"n-1","Heartbeat",{}]' if type_id == 6 else '[5,"n-1","X","",{}]'
        await pair.station.send_text(frame)
        reply = await bounded(pair.station_trace.wait_for(is_in(4, "n-1")))
        assert wire(reply)[2] == "MessageTypeNotSupported"
        await round_trip_still_works(pair)


# -- 2.1 SEND ------------------------------------------------------------------------------------

STREAM = {"id": 1, "pending": 0, "basetime": TS, "data": [{"t": 0.5, "v": "230.1"}]}


async def test_send_is_dispatched_and_never_answered(session_pair: Any) -> None:
    async with session_pair(V21) as pair:
        got = asyncio.get_running_loop().create_future()
        pair.csms.route("NotifyPeriodicEventStream", got.set_result)
        await pair.station.send("NotifyPeriodicEventStream", STREAM)
        assert await bounded(got) == STREAM
        (sent,) = pair.station_trace.outbound
        assert wire(sent)[0] == 6
        await round_trip_still_works(pair)
        # the only answer the CSMS ever sent is the Heartbeat's
        assert [r.message_type for r in pair.csms_trace.outbound] == [3]
        assert pair.csms_trace.inbound[0].message_type == 6
        assert pair.csms_trace.inbound[0].outcome == "ok"


async def test_async_send_handler_failure_is_not_answered(session_pair: Any) -> None:
    async with session_pair(V21) as pair:
        done = asyncio.Event()

        async def on_stream(payload: dict[str, Any]) -> None:
            done.set()
            raise OcppError(ErrorKind.GENERIC_ERROR, "nope")

        pair.csms.route("NotifyPeriodicEventStream", on_stream)
        await pair.station.send("NotifyPeriodicEventStream", STREAM)
        await bounded(done.wait())
        await round_trip_still_works(pair)
        assert [r.message_type for r in pair.csms_trace.outbound] == [3]


@pytest.mark.parametrize("frame", [
    '[6,"s-1","NotifyPeriodicEventStream",{"id":1}]',  # invalid payload
    '[6,"s-2","FlyToTheMoon",{}]',  # unknown action
    '[6,"s-3","Heartbeat",{}]',  # no handler
    '[6,"s-4","NotifyPeriodicEventStream",null]',  # broken
    '[6,"s-5","RequestStartTransaction",{}]',  # wrong direction
])
async def test_faulty_send_is_never_answered(session_pair: Any, frame: str) -> None:
    async with session_pair(V21) as pair:
        pair.csms.route("NotifyPeriodicEventStream", lambda p: None)
        await pair.station.send_text(frame)
        await round_trip_still_works(pair)
        assert [r.message_type for r in pair.csms_trace.outbound] == [3]
        assert pair.station_trace.inbound[-1].message_type == 3


@pytest.mark.parametrize("version", [V16, V201])
async def test_send_does_not_exist_before_21(session_pair: Any, version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        with pytest.raises(ValueError, match="SEND"):
            await pair.station.send("Heartbeat", {})
        assert pair.station_trace.records == []


# -- the trace -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
async def test_trace_records_every_frame_both_ways(session_pair: Any,
                                                   version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        heartbeat_route(pair.csms)
        before = time.time()
        await bounded(pair.station.call("Heartbeat"))
        with pytest.raises(CallErrorReceived):
            await bounded(pair.station.call("FlyToTheMoon"))
        after = time.time()
        st, cs = pair.station_trace.records, pair.csms_trace.records
        assert [(r.direction, r.message_type, r.action) for r in st] == [
            ("out", 2, "Heartbeat"), ("in", 3, "Heartbeat"),
            ("out", 2, "FlyToTheMoon"), ("in", 4, "FlyToTheMoon")]
        assert [(r.direction, r.message_type) for r in cs] == [
            ("in", 2), ("out", 3), ("in", 2), ("out", 4)]
        # the same text at both ends, in order
        assert [r.raw for r in st] == [r.raw for r in cs]
        for record in st + cs:
            assert record.identity == "CS-1"
            assert record.version == version.value
            assert before <= record.wall_time <= after
            assert record.sim_time is None
            assert record.message_id == wire(record)[1]
            assert record.to_dict()["raw"] == record.raw
        assert [r.outcome for r in st] == ["ok"] * 4
        assert cs[0].outcome == "ok"
        assert cs[2].outcome.startswith("invalid: ")
        times = [r.wall_time for r in st]
        assert times == sorted(times)


async def test_trace_carries_sim_time(session_pair: Any) -> None:
    clock = iter(range(100, 200))
    async with session_pair(V201, sim_time=lambda: float(next(clock))) as pair:
        heartbeat_route(pair.csms)
        await bounded(pair.station.call("Heartbeat"))
        st = [r.sim_time for r in pair.station_trace.records]
        cs = [r.sim_time for r in pair.csms_trace.records]
        assert len(st) == len(cs) == 2
        assert all(isinstance(t, float) and 100 <= t < 200 for t in st + cs)
        assert sorted(st + cs) == [100.0, 101.0, 102.0, 103.0]


@pytest.mark.parametrize("version", ALL)
async def test_trace_records_malformed_and_raw_frames(session_pair: Any,
                                                      version: OcppVersion) -> None:
    async with session_pair(version) as pair:
        await pair.station.send_text(b"\xff binary junk")  # type: ignore[arg-type]
        reply = await bounded(pair.station_trace.wait_for(is_in(4)))
        assert wire(reply)[1] == "-1"
        (junk,) = pair.csms_trace.inbound
        assert junk.outcome.startswith("malformed: ")
        assert junk.raw == "\\xff binary junk"  # binary shown with escapes
        assert junk.message_type is None
        sent = pair.station_trace.outbound[0]
        assert sent.outcome == "raw"


@pytest.mark.parametrize("version", ALL)
async def test_jsonl_trace_survives_frames_that_are_no_unicode(
        session_pair: Any, version: OcppVersion, tmp_path: Any) -> None:
    path = tmp_path / "ocpp.jsonl"
    writer = JsonlTraceWriter(path)
    async with session_pair(version, csms={"trace": writer}) as pair:
        # an in-process peer can put a lone surrogate into a text frame
        await pair.station.send_text('[2,"u-1","DataTransfer",{"vendorId":"\ud800"}]')
        await round_trip_still_works(pair)
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 4  # the bad frame, its CALLERROR, the Heartbeat and its answer
    assert lines[0]["outcome"].startswith("malformed: ")
    assert "\\ud800" in lines[0]["raw"]
    assert lines[1]["direction"] == "out"
    assert json.loads(lines[1]["raw"])[1] == "-1"
