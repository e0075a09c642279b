"""One simulation clock for everything that simulates: a SimPy environment stepped from asyncio.

``env.now`` is simulation seconds since ``start_utc``. :meth:`SimClock.run` steps the environment
from the asyncio loop under one rule that keeps results deterministic whatever the network does:
events at the current simulation time may always be processed, but **time advances only when no
bridged asyncio operation is pending**. With ``speed=None`` it then advances at once (as fast as
possible); with a speed it first sleeps until the wall time the next event is due (waking early
when something new is scheduled) and records the lateness of every step. A paced run also keeps
simulation time up with the wall clock for what comes from outside: when the last pending bridge
completes, or asyncio code starts or triggers something, simulation time first moves to the
present moment (never past the next scheduled event), so that a bench action or an answer is
stamped when it happened.

Two bridges join the worlds:

* :meth:`SimClock.bridge` runs an asyncio awaitable (an OCPP call) for a SimPy process:
  ``answer = yield clock.bridge(session.call(...))``. Results are handed to the simulation in the
  order the bridges were opened, not the order they finished, so processes waiting at the same
  simulation time always resume in the same order.
* :meth:`SimClock.in_sim` runs a SimPy process for asyncio code (an incoming CSMS call) and
  returns its value.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import simpy

log = logging.getLogger("chargeloop.clock")

YIELD_EVERY_STEPS = 512  # as fast as possible: let other asyncio tasks run this often


class Lateness:
    """Lateness of steps in a log-spaced histogram: constant memory however long the run.

    Buckets grow by 2 % from 1 µs, so a percentile is read to within about 1 %; values below
    1 µs (including the few a timer wakes early) count as zero.
    """

    _RATIO = 1.02
    _FLOOR_MS = 0.001
    _BUCKETS = 1200  # 1 µs .. beyond 20,000 s

    def __init__(self) -> None:
        self._counts = [0] * (self._BUCKETS + 1)  # index 0: below the floor
        self.steps = 0
        self.max_ms = 0.0
        self._log_ratio = math.log(self._RATIO)
        # The worst lateness of each simulated second, to plot it over a run (a day of real
        # time is 86,400 entries; faster runs have fewer late seconds to keep).
        self.worst_by_second: dict[int, float] = {}

    def add(self, late_s: float, sim_t: float | None = None) -> None:
        ms = late_s * 1000.0
        self.steps += 1
        if sim_t is not None and ms > self.worst_by_second.get(second := int(sim_t), -1.0):
            self.worst_by_second[second] = ms
        if ms < self._FLOOR_MS:
            self._counts[0] += 1
            return
        if ms > self.max_ms:
            self.max_ms = ms
        index = 1 + int(math.log(ms / self._FLOOR_MS) / self._log_ratio)
        self._counts[min(index, self._BUCKETS)] += 1

    def percentile(self, q: float) -> float:
        if self.steps == 0:
            return 0.0
        rank = q * (self.steps - 1)
        seen = 0
        for index, count in enumerate(self._counts):
            seen += count
            if seen > rank:
                if index == 0:
                    return 0.0
                # the bucket's geometric middle, never beyond the largest value seen
                value = self._FLOOR_MS * self._RATIO ** (index - 0.5)
                return min(value, self.max_ms)
        return self.max_ms

    def summary(self) -> dict[str, float]:
        return {"p50_ms": self.percentile(0.5), "p99_ms": self.percentile(0.99),
                "max_ms": self.max_ms, "steps": self.steps}


class _Bridge:
    __slots__ = ("done", "event", "ok", "value")

    def __init__(self, event: simpy.Event) -> None:
        self.event = event
        self.done = False
        self.ok = True
        self.value: Any = None


class SimClock:
    """A SimPy environment, its start instant in UTC, and the speed it runs at.

    ``speed=None`` runs as fast as possible (only sensible with in-memory backends), ``1.0`` in
    real time, ``N`` N times faster than real time.
    """

    def __init__(self, start_utc: datetime, speed: float | None = None) -> None:
        if start_utc.tzinfo is None:
            raise ValueError("start_utc must be timezone-aware (UTC)")
        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be None (as fast as possible) or > 0, not {speed!r}")
        self.start_utc = start_utc.astimezone(UTC)
        self.speed = speed
        self.env = simpy.Environment()
        self._lateness = Lateness()
        # Bridges by opening order; results go to the simulation strictly in that order.
        self._bridges: dict[int, _Bridge] = {}
        self._opened = 0
        self._delivered = 0
        self._wake: asyncio.Event | None = None
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._running = False
        self._stepping = asyncio.Lock()
        self._pace: tuple[float, float, float] | None = None  # wall0, sim0, until of a paced run

    # -- time ------------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.env.now

    def utc(self, t: float | None = None) -> datetime:
        """The UTC instant of simulation time ``t`` (default: now)."""
        return self.start_utc + timedelta(seconds=self.env.now if t is None else t)

    def iso(self, t: float | None = None) -> str:
        """An OCPP timestamp: ``2026-01-05T08:30:00Z``, milliseconds only when they matter."""
        return iso_utc(self.utc(t))

    def seconds(self, moment: datetime) -> float:
        """Simulation time of an aware instant (the inverse of :meth:`utc`)."""
        return (moment - self.start_utc).total_seconds()

    @property
    def pending(self) -> int:
        """Bridged operations opened whose results the simulation has not received yet."""
        return self._opened - self._delivered

    @property
    def running(self) -> bool:
        return self._running

    def lateness(self) -> dict[str, float]:
        """``p50_ms``, ``p99_ms``, ``max_ms`` and ``steps`` of the paced runs so far (zeros when
        running as fast as possible)."""
        return self._lateness.summary()

    def lateness_series(self) -> list[dict[str, float]]:
        """The worst lateness of each simulated second of the paced runs so far, as rows
        ``{"t_s": ..., "late_ms": ...}`` (the ``lateness`` table of a run folder)."""
        worst = self._lateness.worst_by_second
        return [{"t_s": float(t), "late_ms": worst[t]} for t in sorted(worst)]

    # -- bridges ---------------------------------------------------------------------------------

    def bridge(self, awaitable: Awaitable[Any]) -> simpy.Event:
        """Run ``awaitable`` on the asyncio loop; the returned event succeeds with its result (or
        fails with its exception) at the simulation time it completed, which, since time holds
        still while it is pending, is the time it was opened."""
        event = self.env.event()
        number = self._opened
        self._opened += 1
        entry = _Bridge(event)
        self._bridges[number] = entry
        task = asyncio.ensure_future(awaitable)
        task.add_done_callback(lambda t: self._finished(number, t))
        return event

    def _finished(self, number: int, task: asyncio.Future[Any]) -> None:
        entry = self._bridges[number]
        entry.done = True
        if task.cancelled():
            entry.ok, entry.value = False, asyncio.CancelledError("bridged operation cancelled")
        elif task.exception() is not None:
            entry.ok, entry.value = False, task.exception()
        else:
            entry.value = task.result()
        while self._delivered in self._bridges and self._bridges[self._delivered].done:
            ready = self._bridges.pop(self._delivered)
            self._delivered += 1
            arrived = self._wall_time() if self._delivered == self._opened else None
            if arrived is not None and self.env.peek() < arrived:
                # paced, and timers fell due while time stood still (a heartbeat): they run
                # first, and the answer arrives when it arrived, so that a timer started on it
                # (a retry interval, a connection timeout) does not fire early on the wall clock
                self.env.timeout(arrived - self.env.now).callbacks.append(
                    lambda _, ready=ready: _deliver(ready))
                continue
            if arrived is not None:
                self._catch_up()
            _deliver(ready)
        if self._opened == self._delivered and self._idle_waiters:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._notify()

    async def wait_idle(self) -> None:
        """Until no bridged operation is pending (the simulation's results are all in; for
        shutting down cleanly)."""
        if self._opened == self._delivered:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle_waiters.append(waiter)
        await waiter

    def trigger(self, event: simpy.Event, value: Any = None) -> None:
        """Succeed ``event`` from asyncio code (a connection that closed, say) and wake the run
        loop; ignored if it has already been triggered."""
        if not event.triggered:
            self._catch_up()
            event.succeed(value)
            self._notify()

    def spawn(self, generator: Generator[Any, Any, Any]) -> simpy.Process:
        """Start a SimPy process from asyncio code without waiting for it (what a station does
        after answering a CSMS call) and wake the run loop."""
        self._catch_up()
        process = self.env.process(generator)
        self._notify()
        return process

    async def in_sim(self, generator_function: Callable[..., Generator[Any, Any, Any]],
                     *args: Any) -> Any:
        """Run ``generator_function(*args)`` as a SimPy process now and return its value (or
        raise its exception). When :meth:`run` is not active, events at the current simulation
        time are processed here so that the process can finish without time advancing; if it
        needs time to pass, it finishes during the next :meth:`run`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._catch_up()
        process = self.env.process(generator_function(*args))

        def done(event: simpy.Event) -> None:
            if future.done():
                return
            if event.ok:
                future.set_result(event.value)
            else:
                event.defused = True
                future.set_exception(event.value)

        process.callbacks.append(done)
        self._notify()
        if not self._running:
            await self._drain_now(future)
        return await future

    def _wall_time(self) -> float | None:
        """In a paced run, the simulation time the wall clock stands at (never past the run's
        end); None otherwise."""
        if self._pace is None:
            return None
        wall0, sim0, until = self._pace
        assert self.speed is not None
        return min(sim0 + (asyncio.get_running_loop().time() - wall0) * self.speed, until)

    def _catch_up(self) -> None:
        """In a paced run, move simulation time up to the wall clock before something from
        outside (a plug-in on the bench, a CSMS call) happens, so that it is stamped when it
        happened rather than at the last event's time. Safe only where nothing is due before
        that moment and no bridge holds time still; SimPy has no public setter for ``now``."""
        wall = self._wall_time()
        if wall is None or self._opened != self._delivered:
            return
        target = min(wall, self.env.peek())
        if target > self.env.now:
            self.env._now = target

    def _notify(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- running ---------------------------------------------------------------------------------

    async def run(self, until: float) -> None:
        """Step the environment up to simulation time ``until`` (``env.now == until`` after).

        As with SimPy's own ``run(until)``, events due exactly at ``until`` that were scheduled
        after the call are left for the next run.
        """
        env = self.env
        if until < env.now:
            raise ValueError(f"until={until} lies before now={env.now}")
        if self._running:
            raise RuntimeError("SimClock.run is already running")
        self._running = True
        loop = asyncio.get_running_loop()
        self._wake = wake = asyncio.Event()
        stop = env.timeout(until - env.now)
        wall0, sim0, speed = loop.time(), env.now, self.speed
        if speed is not None:
            self._pace = (wall0, sim0, until)
        lateness = self._lateness
        since_yield = 0
        try:
            async with self._stepping:
                while not stop.processed:
                    wake.clear()
                    t = env.peek()
                    if t > env.now:
                        if self._opened != self._delivered:
                            await wake.wait()  # a bridge finishes, or asyncio scheduled work
                            continue
                        if speed is not None:
                            due = wall0 + (t - sim0) / speed
                            delay = due - loop.time()
                            if delay > 0 and await _sleep_or_wake(loop, wake, delay):
                                continue  # woken early: something new may be due sooner
                    if speed is not None:
                        lateness.add(max(0.0, loop.time() - (wall0 + (t - sim0) / speed)), t)
                    env.step()
                    since_yield += 1
                    if since_yield >= YIELD_EVERY_STEPS:
                        since_yield = 0
                        await asyncio.sleep(0)
        finally:
            self._running = False
            self._pace = None
            self._wake = None

    async def _drain_now(self, future: asyncio.Future[Any]) -> None:
        """Process events at the current time (waiting for bridges) until ``future`` is done or
        only later events remain; never advances time."""
        env = self.env
        async with self._stepping:
            if self._running:  # a run started meanwhile: it processes the events
                return
            self._wake = wake = asyncio.Event()
            try:
                while not future.done():
                    wake.clear()
                    if env.peek() <= env.now:
                        env.step()
                        await asyncio.sleep(0)
                    elif self._opened != self._delivered:
                        await wake.wait()
                    else:
                        return
            finally:
                self._wake = None


def _deliver(ready: _Bridge) -> None:
    """Succeed (or fail) a bridged operation's event with its outcome."""
    if ready.ok:
        ready.event.succeed(ready.value)
    else:
        if not ready.event.callbacks:
            # nobody waits any more (the process was interrupted): do not crash the run
            ready.event.defused = True
        ready.event.fail(ready.value)


async def _sleep_or_wake(loop: asyncio.AbstractEventLoop, wake: asyncio.Event,
                         delay: float) -> bool:
    """Sleep ``delay`` seconds unless ``wake`` is set first; True if woken early."""
    timed_out = False

    def expired() -> None:
        nonlocal timed_out
        timed_out = True
        wake.set()

    timer = loop.call_later(delay, expired)
    try:
        await wake.wait()
    finally:
        timer.cancel()
    return not timed_out


def iso_utc(moment: datetime) -> str:
    """``moment`` as an OCPP timestamp in UTC with a Z; whole seconds unless sub-second."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
