"""A CALLERROR (or an invalid answer) to a station's CALL reaches the SimPy process that made
the call as an exception it can catch, instead of crashing the simulation: SimPy hands a
waiting process ``type(exc)(*exc.args)``, which ``CallErrorReceived`` could not be rebuilt
from (found by TC_E_50_CS / TC_E_51_CS: the simulated station died at the first CALLERROR to a
TransactionEvent)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chargeloop.clock import SimClock
from chargeloop.ocppj import CallErrorReceived, ErrorKind, OcppVersion, PayloadInvalid
from simulator.station import StationSpec
from simulator.station.connection import copyable_errors
from tests.simulator.station_support import world

START = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


async def _refused() -> None:
    raise CallErrorReceived("TransactionEvent", "InternalError", "not processed", {"a": 1})


async def _invalid() -> None:
    raise PayloadInvalid(ErrorKind.FORMAT_VIOLATION, "unexpected field", "/x")


async def _caught(awaitable: Any) -> BaseException | None:
    clock = SimClock(START)
    caught: list[BaseException] = []

    def process() -> Any:
        try:
            yield clock.bridge(copyable_errors(awaitable))
        except (CallErrorReceived, PayloadInvalid) as exc:
            caught.append(exc)

    clock.env.process(process())
    await clock.run(until=1.0)
    return caught[0] if caught else None


async def test_a_callerror_reaches_the_process_with_its_code() -> None:
    exc = await _caught(_refused())
    assert isinstance(exc, CallErrorReceived)
    assert (exc.action, exc.code, exc.description, exc.details) == (
        "TransactionEvent", "InternalError", "not processed", {"a": 1})
    assert str(exc) == "TransactionEvent answered with CALLERROR InternalError: not processed"


async def test_an_invalid_answer_reaches_the_process() -> None:
    exc = await _caught(_invalid())
    assert isinstance(exc, PayloadInvalid)
    assert (exc.kind, str(exc)) == (ErrorKind.FORMAT_VIOLATION, "unexpected field (at /x)")


async def test_the_error_can_be_copied_again() -> None:
    """A failed message's result event passes the copy on to another waiting process
    (Authorize), which copies it once more."""
    exc = await _caught(_refused())
    assert exc is not None
    again = type(exc)(*exc.args)
    assert isinstance(again, CallErrorReceived) and again.code == "InternalError"


async def test_message_timeout_set_by_the_csms_bounds_the_station_calls(tmp_path: Path) -> None:
    """OCPPCommCtrlr.MessageTimeout[Default] is writable and in force at once, on the
    connection the station has and the ones it opens later (TC_E_41_CS / TC_E_42_CS)."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS201-TIMEOUT", OcppVersion.V201, start_jitter_s=0.0,
                                        call_timeout_s=30.0, retry_backoff_min_s=1,
                                        retry_backoff_random_s=0))
        station.start()
        await w.run(5)
        assert station._session is not None and station._session.call_timeout == 30.0
        answer = station.settings.set_variables({"setVariableData": [{  # type: ignore[attr-defined]
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "MessageTimeout", "instance": "Default"},
            "attributeValue": "2"}]})
        assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
        assert station._session.call_timeout == 2.0
        station.go_offline(1.0)
        await w.run(10)
        assert station.online and station._session is not None
        assert station._session.call_timeout == 2.0
