"""SimClock: SimPy stepped from asyncio, bridges both ways, pacing and lateness."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargeloop.clock import Lateness, SimClock, iso_utc

START = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


async def test_as_fast_as_possible_runs_a_day_of_timeouts_in_milliseconds() -> None:
    clock = SimClock(START)
    env = clock.env
    ticks = [0]

    def ticker(period: float) -> Any:
        while True:
            yield env.timeout(period)
            ticks[0] += 1

    for n in range(10):
        env.process(ticker(60.0 + n))
    began = time.perf_counter()
    await clock.run(until=86_400)
    wall = time.perf_counter() - began
    assert clock.now == 86_400
    # events due exactly at ``until`` wait for the next run, as with SimPy's own run(until)
    assert ticks[0] == sum(86_399 // (60 + n) for n in range(10))  # 13,000-odd timeouts
    assert wall < 0.5, f"a simulated day took {wall:.3f} s"
    assert clock.lateness() == {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "steps": 0}


async def test_bridged_awaitable_holds_time_still() -> None:
    """A bridge that takes 50 ms of wall time: its result arrives at the sim time it was opened,
    and a process due 1 s later runs only after it."""
    clock = SimClock(START)
    env = clock.env
    log: list[tuple[str, float, Any]] = []

    async def slow() -> str:
        await asyncio.sleep(0.05)
        return "answer"

    def caller() -> Any:
        yield env.timeout(10)
        result = yield clock.bridge(slow())
        log.append(("result", env.now, result))

    def waiter() -> Any:
        yield env.timeout(11)
        log.append(("waiter", env.now, clock.pending))

    env.process(caller())
    env.process(waiter())
    began = time.perf_counter()
    await clock.run(until=20)
    assert time.perf_counter() - began >= 0.045
    assert log == [("result", 10, "answer"), ("waiter", 11, 0)]


async def test_bridge_exception_fails_the_event_in_the_process() -> None:
    clock = SimClock(START)
    env = clock.env
    caught: list[tuple[float, str]] = []

    async def broken() -> None:
        await asyncio.sleep(0)
        raise ValueError("no answer")

    def caller() -> Any:
        yield env.timeout(5)
        try:
            yield clock.bridge(broken())
        except ValueError as exc:
            caught.append((env.now, str(exc)))

    env.process(caller())
    await clock.run(until=10)
    assert caught == [(5, "no answer")]


async def test_bridge_failure_nobody_waits_for_does_not_crash_the_run() -> None:
    clock = SimClock(START)
    env = clock.env

    async def broken() -> None:
        await asyncio.sleep(0.01)
        raise ValueError("late failure")

    def impatient() -> Any:
        yield clock.bridge(broken()) | env.timeout(0)  # the timeout wins

    env.process(impatient())
    await clock.run(until=5)
    assert clock.now == 5 and clock.pending == 0


async def test_results_are_delivered_in_bridge_order_not_completion_order() -> None:
    """Deterministic ordering: the slow bridge opened first is handed over first."""
    async def run_once() -> list[tuple[str, float]]:
        clock = SimClock(START)
        env = clock.env
        order: list[tuple[str, float]] = []

        def one(name: str, delay_s: float) -> Any:
            yield env.timeout(1)
            yield clock.bridge(asyncio.sleep(delay_s))
            order.append((name, env.now))
            yield env.timeout(1)
            order.append((name + "+1", env.now))

        env.process(one("slow", 0.03))
        env.process(one("fast", 0.0))
        env.process(one("medium", 0.01))
        await clock.run(until=5)
        return order

    first = await run_once()
    assert first == [("slow", 1), ("fast", 1), ("medium", 1),
                     ("slow+1", 2), ("fast+1", 2), ("medium+1", 2)]
    assert await run_once() == first


async def test_in_sim_round_trip_while_running_and_while_stopped() -> None:
    clock = SimClock(START)
    env = clock.env

    def handler(x: int) -> Any:
        started = env.now
        yield env.timeout(0)
        answer = yield clock.bridge(asyncio.sleep(0, result=x * 2))
        return (started, env.now, answer)

    # stopped: events at the current time are processed for it, time does not move
    await clock.run(until=100)
    assert await clock.in_sim(handler, 21) == (100, 100, 42)
    assert clock.now == 100

    # running (paced, so the asyncio side gets a word in while the run goes on)
    clock.speed = 100.0
    runner = asyncio.create_task(clock.run(until=110))
    await asyncio.sleep(0.02)
    started, finished, answer = await asyncio.wait_for(clock.in_sim(handler, 5), 1)
    # paced: the answer comes at the simulated moment it arrived (a few ms later), never before
    assert 100 <= started <= finished < 110 and answer == 10
    await runner


async def test_in_sim_needing_time_finishes_in_the_next_run() -> None:
    clock = SimClock(START)
    env = clock.env

    def waits() -> Any:
        yield env.timeout(30)
        return env.now

    pending = asyncio.create_task(clock.in_sim(waits))
    await asyncio.sleep(0.01)
    assert not pending.done()
    await clock.run(until=60)
    assert await asyncio.wait_for(pending, 1) == 30


async def test_in_sim_exception_propagates() -> None:
    clock = SimClock(START)

    def fails() -> Any:
        yield clock.env.timeout(0)
        raise KeyError("nope")

    with pytest.raises(KeyError):
        await clock.in_sim(fails)


async def test_speed_paces_wall_time_and_records_lateness() -> None:
    clock = SimClock(START, speed=1000.0)
    env = clock.env
    seen: list[float] = []

    def ticker() -> Any:
        while True:
            yield env.timeout(10)
            seen.append(env.now)

    env.process(ticker())
    began = time.perf_counter()
    await clock.run(until=200)  # 200 s at 1000x: 0.2 s of wall time
    wall = time.perf_counter() - began
    assert 0.18 <= wall < 2.0, wall
    assert seen == [10.0 * k for k in range(1, 20)]
    late = clock.lateness()
    assert late["steps"] >= 20
    assert 0 <= late["p50_ms"] <= late["p99_ms"] <= late["max_ms"] < 1000
    # over time too: the worst step of every simulated second that had one
    series = clock.lateness_series()
    assert [row["t_s"] for row in series] == [10.0 * k for k in range(21)]  # start .. stop
    assert max(row["late_ms"] for row in series) == late["max_ms"]


async def test_paced_run_wakes_early_for_new_work() -> None:
    """Nothing is due for 0.5 s of wall time; an in_sim call is served at once, at the sim
    time that corresponds to its wall time."""
    clock = SimClock(START, speed=1000.0)
    env = clock.env

    def sleeper() -> Any:
        yield env.timeout(500)

    env.process(sleeper())

    def now() -> Any:
        yield env.timeout(0)
        return env.now

    runner = asyncio.create_task(clock.run(until=500))
    await asyncio.sleep(0.05)
    began = time.perf_counter()
    at = await asyncio.wait_for(clock.in_sim(now), 1)
    assert time.perf_counter() - began < 0.1
    # 0.05 s of wall time at speed 1000 is 50 simulated seconds, not the last event's time (0):
    # what comes from outside (a plug-in on a bench) is stamped when it happened
    assert 45 <= at < 500
    await runner
    assert clock.now == 500


async def test_paced_answer_arrives_at_the_wall_time_it_came() -> None:
    """At speed 1000 a call answered after 0.05 s of wall time resumes its process about 50
    simulated seconds later, so an interval timed from the answer is not cut short."""
    clock = SimClock(START, speed=1000.0)
    env = clock.env
    seen: list[float] = []

    def caller() -> Any:
        yield clock.bridge(asyncio.sleep(0.05))
        seen.append(env.now)

    env.process(caller())
    await clock.run(until=500)
    assert len(seen) == 1 and 45 <= seen[0] < 500


async def test_paced_answer_arrives_at_wall_time_even_when_a_timer_fell_due_meanwhile() -> None:
    """A heartbeat due while a call waits for its answer runs first (late), and the answer
    still arrives at the wall time it came, not at the heartbeat's moment: a retry timed from
    it fires when it should (the simulated station's TC_001, TC_004_2, TC_E_41/42)."""
    clock = SimClock(START, speed=1000.0)
    env = clock.env
    seen: list[tuple[str, float]] = []

    def heartbeat() -> Any:
        yield env.timeout(10)
        seen.append(("heartbeat", env.now))

    def caller() -> Any:
        yield clock.bridge(asyncio.sleep(0.05))
        seen.append(("answer", env.now))

    env.process(heartbeat())
    env.process(caller())
    await clock.run(until=500)
    assert [name for name, _ in seen] == ["heartbeat", "answer"]
    assert seen[0][1] == 10 and 45 <= seen[1][1] < 500


async def test_run_rules() -> None:
    clock = SimClock(START)
    await clock.run(until=0)
    await clock.run(until=10)
    assert clock.now == 10
    with pytest.raises(ValueError):
        await clock.run(until=5)
    with pytest.raises(ValueError):
        SimClock(datetime(2026, 1, 1))  # naive
    with pytest.raises(ValueError):
        SimClock(START, speed=0)


def test_utc_and_iso() -> None:
    clock = SimClock(START)
    assert clock.utc() == START
    assert clock.iso() == "2026-01-05T08:30:00Z"
    assert clock.iso(90.5) == "2026-01-05T08:31:30.500Z"
    assert clock.utc(3600) == START + timedelta(hours=1)
    assert clock.seconds(START + timedelta(minutes=2)) == 120
    assert iso_utc(datetime(2026, 1, 5, 9, tzinfo=UTC)) == "2026-01-05T09:00:00Z"


def test_lateness_percentiles() -> None:
    late = Lateness()
    for ms in range(1, 101):
        late.add(ms / 1000)
    summary = late.summary()
    assert summary["steps"] == 100 and summary["max_ms"] == pytest.approx(100)
    assert summary["p50_ms"] == pytest.approx(50, rel=0.03)
    assert summary["p99_ms"] == pytest.approx(99, rel=0.03)


async def test_wait_idle_returns_once_bridges_are_done() -> None:
    clock = SimClock(START)
    await clock.wait_idle()  # nothing pending
    event = clock.bridge(asyncio.sleep(0.01, result=1))
    assert clock.pending == 1
    await asyncio.wait_for(clock.wait_idle(), 1)
    assert clock.pending == 0 and event.triggered
