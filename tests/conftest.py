"""Shared test helpers: a traced pair of OCPP-J sessions over the in-memory transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from chargeloop.ocppj import OcppSession, OcppVersion, Role, TraceRecord
from chargeloop.ocppj.transport.memory import memory_pair

WAIT = 5.0  # upper bound for anything the tests wait for; a healthy run takes milliseconds


class Trace:
    """A trace hook that keeps every record and lets a test await the one it expects."""

    def __init__(self) -> None:
        self.records: list[TraceRecord] = []
        self._waiters: list[tuple[Callable[[TraceRecord], bool], asyncio.Future[TraceRecord]]] = []

    def __call__(self, record: TraceRecord) -> None:
        self.records.append(record)
        for predicate, future in self._waiters:
            if not future.done() and predicate(record):
                future.set_result(record)

    def find(self, predicate: Callable[[TraceRecord], bool], start: int = 0) -> list[TraceRecord]:
        return [r for r in self.records[start:] if predicate(r)]

    async def wait_for(self, predicate: Callable[[TraceRecord], bool], *, start: int = 0,
                       timeout: float = WAIT) -> TraceRecord:
        """The first record from index ``start`` on that matches, waiting if there is none yet."""
        seen = self.find(predicate, start)
        if seen:
            return seen[0]
        waiter = (predicate, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter[1], timeout)
        finally:
            self._waiters.remove(waiter)

    @property
    def inbound(self) -> list[TraceRecord]:
        return [r for r in self.records if r.direction == "in"]

    @property
    def outbound(self) -> list[TraceRecord]:
        return [r for r in self.records if r.direction == "out"]


def _chain(trace: Trace, extra: Callable[[TraceRecord], None] | None) -> Any:
    """The pair's own trace, plus a hook the test passed in (a JSONL writer, say)."""
    if extra is None:
        return trace

    def both(record: TraceRecord) -> None:
        trace(record)
        extra(record)

    return both


class SessionPair:
    """A station session and a CSMS session joined by ``memory_pair``, both serving.

    Use as ``async with SessionPair(version) as pair``; ``station`` and ``csms`` hold options for
    one session, the other keywords go to both. Leaving it closes both sessions, waits
    for their receive loops and fails the test if a loop died of an exception or the event loop
    saw an unhandled task exception.
    """

    def __init__(self, version: OcppVersion, *, station: dict[str, Any] | None = None,
                 csms: dict[str, Any] | None = None, **common: Any) -> None:
        self.version = version
        a, b = memory_pair(version.value)
        self.station_trace = Trace()
        self.csms_trace = Trace()
        station_options = {**common, **(station or {})}
        csms_options = {**common, **(csms or {})}
        self.station = OcppSession(
            a, version, role=Role.STATION, identity="CS-1",
            trace=_chain(self.station_trace, station_options.pop("trace", None)),
            **station_options)
        self.csms = OcppSession(
            b, version, role=Role.CSMS, identity="CS-1",
            trace=_chain(self.csms_trace, csms_options.pop("trace", None)), **csms_options)
        self.loop_errors: list[dict[str, Any]] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> SessionPair:
        loop = asyncio.get_running_loop()
        self._old_handler = loop.get_exception_handler()
        loop.set_exception_handler(lambda _loop, context: self.loop_errors.append(context))
        self.tasks = [asyncio.create_task(self.station.serve(), name="station-serve"),
                      asyncio.create_task(self.csms.serve(), name="csms-serve")]
        return self

    def assert_serving(self) -> None:
        """Both receive loops are still running: nothing the peer sent has ended them."""
        for task in self.tasks:
            if task.done():
                exc = None if task.cancelled() else task.exception()
                raise AssertionError(f"{task.get_name()} ended early: {exc!r}")

    async def __aexit__(self, exc_type: Any, *_: Any) -> None:
        loop = asyncio.get_running_loop()
        try:
            failed = [t for t in self.tasks if t.done() and not t.cancelled() and t.exception()]
            await self.station.close()
            await self.csms.close()
            results = await asyncio.wait_for(
                asyncio.gather(*self.tasks, return_exceptions=True), WAIT)
        finally:
            loop.set_exception_handler(self._old_handler)
        if exc_type is None:
            assert not failed, f"a receive loop died: {[t.exception() for t in failed]!r}"
            assert all(r is None for r in results), results
            assert not self.loop_errors, self.loop_errors


@pytest.fixture
def session_pair() -> type[SessionPair]:
    return SessionPair


@pytest.fixture
def trace_class() -> type[Trace]:
    return Trace
