"""Fleet-mode speed, and the networked simulator's real-time ceiling.

What is measured
    1. Fleet mode (``simulator.fleet.run_fleet``): N chargers (default 1,000) over D days
       (default 365), sessions simulated as events with exact analytic energy curves. The fleet
       is half DC (highway sites, 150 kW, about 4 sessions per charger and day), 30 % public AC
       (22 kW, about 2) and 20 % workplace AC (11 kW, about 1.25), in sites of four chargers,
       with the default vehicle mix; about a million sessions at full size. The wall time
       covers everything ``run_fleet`` does: drawing the visits, the queues, the energy, and
       the pandas tables. Meter series are lazy and not part of it (``--meter-series`` times
       them separately at the run's sample interval).
    2. Networked ceiling (``measure_realtime_ceiling``): how many simulated stations
       (``SimStation``) one simulator process keeps in real time (``SimClock`` speed 1.0)
       against the reference CSMS over loopback WebSockets, with 60 s meter values, while the
       clock's lateness p99 stays under 100 ms. For each count N of --ceiling-steps (default
       1,000, 2,000, 5,000, 8,000, 12,000, 16,000), in fresh processes:

       * the reference CSMS (``csms.server.running_csms`` with the garbage collector settings
         of ``chargeloop csms serve``) runs in a process of its own on a new SQLite file;
         unknown stations are accepted, the heartbeat interval is 300 s, and the drivers'
         tokens are registered before the stations start;
       * one simulator process builds N stations: about 70 % OCPP 2.0.1 and 30 % OCPP 1.6J
         (--v16-share), one EVSE each, 80 % AC 11 kW and 20 % DC 150 kW, meter values every
         60 s (Energy.Active.Import.Register and Power.Active.Import), heartbeats every 300 s,
         connected through ``UrlBackend`` (no compression, WebSocket pings every 30 s both
         ways). Their first connects are spread uniformly over max(10 s, N / 50 s), as the VCP
         demo spreads 2,000 over 180 s. 30 % of them get a driver who, once the station is
         online, plugs in a 100 kWh car at 10 % SoC and presents a registered token
         (Authorize, then StartTransaction / TransactionEvent Started): they charge for hours;
       * the clock runs at speed 1.0 until every station is booted and every driver's
         transaction runs (at most 120 s after the connect spread), 10 s more to settle; then
         the simulator process collects and freezes its garbage collector (``gc.freeze()``:
         the stations and their connections are never garbage, and without it a full
         collection of their objects pauses the process for about a third of a millisecond
         per station, every few minutes: --no-gc-freeze shows it); then one measuring window
         (--window, default 120 s) in a clock run of its own.

       Figures of the window: stations online and charging; OCPP calls per second (all sent by
       the stations: heartbeats, meter values, whatever else) and their round trips p50 / p99 /
       max as the stations timed them; the clock's lateness p50 / p99 / max over the window's
       steps (a step's wall time minus the wall time it was due; the answer to a bridged call
       is a step at the call's own simulation time, so round trips count too); how long the
       clock was held by pending calls (time may not advance while a bridged call is
       pending: calls decided at different simulation instants go out one after the other,
       and one slow answer holds every station), and how long it was behind (next event
       overdue by more than 50 ms) while waiting for answers and while busy (nothing pending:
       the simulator's event loop was the limit);
       the CPU of the simulator and of the CSMS (fractions of one core) and of everything else
       on the machine (well above 0 % spoils the figures); the simulator's resident memory;
       its full (generation 2) garbage collections. A count holds when every station booted
       and stayed online, every transaction runs, no call failed, the periodic meter values
       were sent on time (at least 95 % of those due) and the p99 stayed under 100 ms. The
       machine is shared: a count that does not hold is run again (--tries, default 2), and
       the search stops at the first count that does not hold in any try. "other CPU" shows in
       brackets the part the hypervisor gave to other machines (steal, from /proc/stat): time
       when neither the CSMS nor the simulator could run.
       Clock-aligned meter values are off (--aligned-interval 0): at every quarter hour all
       stations would send at once, a burst of N calls that measures the CSMS rather than the
       simulator; --aligned-interval 900 puts them back (then a window may or may not hold one).

Why
    Research runs sweep many fleet configurations over a year; the target is 1,000 chargers x
    365 days in <= 60 s on one core. Networked runs drive real CSMSs at real speed: the target
    is >= 5,000 stations per simulator process (a simulator process that drives 2,000 is the
    anchor to beat). On a 2-core machine the CSMS takes one core and the simulator the other:
    that is the setting measured.

Figures
    Tables, then the last line: one JSON object
    ``{"charger_days_per_s": ..., "year_1000_chargers_s": ..., "realtime_stations": ...,
    "lateness_p99_ms": ...}``; ``year_1000_chargers_s`` is 365,000 charger-days divided by
    the measured rate (the wall time itself at the default sizes); ``realtime_stations`` is the
    largest count that held and ``lateness_p99_ms`` its window's p99. A part left out, or a
    search where no count held, gives nulls.

Run
    python loadtests/benchmarks/fleet.py [--chargers 1000] [--days 365] [--seed 1]
        [--sample-interval 900] [--meter-series]
        [--ceiling-steps 1000,2000,5000,8000,12000,16000] [--window 120] [--v16-share 0.3]
        [--aligned-interval 0] [--no-gc-freeze] [--tries 2] [--skip-fleet]
        [--skip-realtime]
    A quick run: --chargers 100 --days 30 --ceiling-steps 200,500 --window 20
    Each count takes its connect spread (N / 50 s) + about a minute + the window: the full
    search up to 16,000 stations about 40 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its csms.py would hide the
# ``csms`` package: take the folder out, and make sure the repository root is in.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(_HERE.parents[1]))

from loadtests.benchmarks.csms import (  # noqa: E402 - after the path fix
    cpu_seconds,
    machine_busy_seconds,
    raise_nofile,
    rss_kib,
    run_async,
    until_set,
)

START_UTC = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SITE_SIZE = 4
# (kind share of chargers, site kind, charger W, sessions per charger per weekday)
FLEET_SHAPE = (
    (0.5, "highway", 150_000.0, 4.0),
    (0.3, "public", 22_000.0, 2.0),
    (0.2, "workplace", 11_000.0, 1.25),
)


# -- networked ceiling: what the stations are and do --------------------------------------------

LATENESS_BOUND_MS = 100.0  # p99 of the clock's lateness below this: the count holds
DEFAULT_STEPS = (1000, 2000, 5000, 8000, 12000, 16000)
CONNECTS_PER_S = 50.0  # first connects spread over N / 50 s ...
MIN_SPREAD_S = 10.0  # ... and at least the station's default start jitter
SETUP_GRACE_S = 120.0  # after the spread, at most this long for the last boots and plugs
SETTLE_S = 10.0  # then this long before the window
CHARGING_SHARE = 0.3
DC_SHARE = 0.2
AC_W, DC_W = 11_000.0, 150_000.0
SAMPLE_INTERVAL_S = 60
HEARTBEAT_INTERVAL_S = 300
PLUG_SPREAD_S = 30.0  # a driver plugs in within this after the station is online
KEEP_UP_SHARE = 0.95  # of the periodic meter values due in the window, at least this many sent
METER_ACTIONS = ("MeterValues", "TransactionEvent")


@dataclass(frozen=True, slots=True)
class Settings:
    chargers: int
    days: float
    seed: int
    sample_interval_s: float
    meter_series: bool
    ceiling_steps: tuple[int, ...] = DEFAULT_STEPS
    window_s: float = 120.0
    v16_share: float = 0.3
    aligned_interval_s: int = 0
    skip_fleet: bool = False
    skip_realtime: bool = False
    gc_freeze: bool = True
    tries: int = 2


@dataclass(frozen=True, slots=True)
class FleetFigures:
    chargers: int
    days: float
    sessions: int
    abandoned: int
    energy_mwh: float
    wall_s: float
    meter_series_s: float | None
    meter_rows: int | None

    @property
    def charger_days_per_s(self) -> float:
        return self.chargers * self.days / self.wall_s

    @property
    def year_1000_chargers_s(self) -> float:
        return 365 * 1000 / self.charger_days_per_s


def build_fleet(chargers: int) -> tuple[list[Any], list[Any]]:
    """Charger specs and populations of the benchmark fleet (see the module docstring)."""
    from simulator.drivers import Population
    from simulator.fleet import ChargerSpec

    counts = [round(share * chargers) for share, *_ in FLEET_SHAPE]
    counts[-1] = chargers - sum(counts[:-1])
    specs, populations = [], []
    for (_, kind, power_w, per_charger), count in zip(FLEET_SHAPE, counts, strict=True):
        for site_no, first in enumerate(range(0, count, SITE_SIZE)):
            size = min(SITE_SIZE, count - first)
            site = f"{kind[:2].upper()}{site_no:04d}"
            specs.append(ChargerSpec(site, power_w, count=size))
            # Destination sites have regulars; highway sites see many different drivers.
            drivers = 500 if kind == "highway" else 40 * size
            populations.append(Population(f"{kind}-{site_no}", site, kind,  # type: ignore[arg-type]
                                          arrivals_per_day=per_charger * size, drivers=drivers))
    return specs, populations


def measure_fleet(settings: Settings) -> FleetFigures:
    import numpy as np

    from simulator.fleet import run_fleet

    specs, populations = build_fleet(settings.chargers)
    began = time.perf_counter()
    result = run_fleet(np.random.default_rng(settings.seed), specs, None, populations,
                       START_UTC, settings.days, settings.sample_interval_s)
    wall = time.perf_counter() - began
    series_s = rows = None
    if settings.meter_series:
        began = time.perf_counter()
        rows = len(result.meter_series())
        series_s = time.perf_counter() - began
    summary = result.summary()
    return FleetFigures(settings.chargers, settings.days, summary["sessions"],
                        summary["abandoned"], summary["energy_mwh"], wall, series_s, rows)


# -- networked ceiling ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedStation:
    id: str
    v16: bool
    dc: bool
    token: str | None  # the driver's token when this station gets a charging car


def plan_stations(count: int, settings: Settings) -> list[PlannedStation]:
    """Which stations speak 1.6, which are DC and which get a driver: drawn from the seed."""
    import numpy as np

    rng = np.random.default_rng([settings.seed, count])
    v16 = rng.random(count) < settings.v16_share
    dc = rng.random(count) < DC_SHARE
    charging = np.zeros(count, dtype=bool)
    charging[rng.choice(count, size=round(CHARGING_SHARE * count), replace=False)] = True
    return [PlannedStation(f"RT{i:05d}", bool(v16[i]), bool(dc[i]),
                           f"RTTAG{i:05d}" if charging[i] else None) for i in range(count)]


def spread_s(count: int) -> float:
    return max(MIN_SPREAD_S, count / CONNECTS_PER_S)


def csms_main(database_dir: str, tokens: list[str], ready: Connection, stop: ProcessEvent,
              nofile: int) -> None:
    """The reference CSMS as ``chargeloop csms serve`` runs it, with ``tokens`` registered."""
    raise_nofile(nofile)
    logging.getLogger("chargeloop").setLevel(logging.ERROR)  # first-start notices

    async def main() -> None:
        from csms.config import CsmsConfig, UnknownStations
        from csms.server import running_csms, tune_gc

        config = CsmsConfig(port=0, database_url=f"sqlite+aiosqlite:///{database_dir}/csms.db",
                            admin_token_file=Path(database_dir) / "admin.token",
                            upload_dir=Path(database_dir) / "uploads",
                            unknown_stations=UnknownStations.ACCEPT,
                            heartbeat_interval_s=HEARTBEAT_INTERVAL_S)
        async with running_csms(config) as running:
            await asyncio.gather(*(running.core.auth.upsert(token) for token in tokens))
            tune_gc()  # as `chargeloop csms serve` does
            ready.send((os.getpid(), running.port))
            await until_set(stop)

    run_async(main())


class CsmsProcess:
    """The reference CSMS in a process of its own, on a fresh SQLite file."""

    def __init__(self, tokens: list[str], nofile: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        self.tmp = tempfile.TemporaryDirectory(prefix="chargeloop-bench-realtime-")
        ready, theirs = ctx.Pipe()
        self.process = ctx.Process(target=csms_main, name="csms-server", daemon=True,
                                   args=(self.tmp.name, tokens, theirs, self.stop, nofile))
        self.process.start()
        deadline = time.monotonic() + 120
        while not ready.poll(0.2):
            if not self.process.is_alive() or time.monotonic() > deadline:
                self.close(grace=1)
                raise RuntimeError("the CSMS did not start")
        self.pid, port = ready.recv()
        self.url = f"ws://127.0.0.1:{port}/ocpp"

    def close(self, grace: float = 10.0) -> None:
        self.stop.set()
        self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)
        self.tmp.cleanup()


def simulator_main(url: str, csms_pid: int, plan: list[PlannedStation], settings: Settings,
                   control: Connection) -> None:
    """The simulator process: builds the stations, runs them, sends back the window's figures."""
    raise_nofile(len(plan))
    logging.getLogger("chargeloop").setLevel(logging.ERROR)
    control.send(("result", run_async(simulate(url, csms_pid, plan, settings, control))))


def driver(env: Any, station: Any, vehicle: Any, token: str, plug_after_s: float,
           accepted: list[str]) -> Any:
    """Waits for the station to be online, plugs in, presents the token."""
    while not station.online:
        yield env.timeout(2.0)
    yield env.timeout(plug_after_s)
    yield from station.plug_in(1, vehicle)
    if (yield from station.present_token(1, token)):
        accepted.append(token)


async def simulate(url: str, csms_pid: int, plan: list[PlannedStation], settings: Settings,
                   control: Connection) -> dict[str, Any]:
    import numpy as np

    from chargeloop.clock import Lateness, SimClock
    from chargeloop.ocppj import OcppVersion
    from simulator.backends import UrlBackend
    from simulator.station import EvseSpec, Link, Recorder, SimStation, StationSpec
    from simulator.vehicles import VEHICLE_CATALOG, Vehicle

    count = len(plan)
    spread = spread_s(count)
    began = time.perf_counter()
    rss_start = rss_kib(os.getpid())
    # Simulation time is wall time: the CSMS checks message timestamps against its own clock.
    clock = SimClock(datetime.now(UTC), speed=1.0)
    env = clock.env
    recorder = Recorder(clock.start_utc)
    backend = UrlBackend(url)
    rng = np.random.default_rng(settings.seed)
    station_rngs = rng.spawn(count)
    car = VEHICLE_CATALOG["BMW iX xDrive50 (large SUV)"]  # 100 kWh: hours of charging
    stations, accepted = [], []
    for entry, station_rng in zip(plan, station_rngs, strict=True):
        version = OcppVersion.V16 if entry.v16 else OcppVersion.V201
        evse = EvseSpec(1, DC_W, "DC", 3) if entry.dc else EvseSpec(1, AC_W, "AC", 3)
        spec = StationSpec(entry.id, version, evses=(evse,), model="bench",
                           heartbeat_interval_s=HEARTBEAT_INTERVAL_S,
                           meter_sample_interval_s=SAMPLE_INTERVAL_S,
                           clock_aligned_interval_s=settings.aligned_interval_s,
                           start_jitter_s=spread)
        station = SimStation(spec, clock, Link.to(backend, entry.id, version), recorder,
                             station_rng)
        stations.append(station)
        if entry.token is not None:
            env.process(driver(env, station, Vehicle(car, soc=0.1), entry.token,
                               float(rng.uniform(0.0, PLUG_SPREAD_S)), accepted))
    planned_charging = sum(1 for entry in plan if entry.token is not None)
    build_s = time.perf_counter() - began
    rss_built = rss_kib(os.getpid())
    control.send(("built", build_s))

    def charging() -> int:
        return sum(1 for s in stations for e in s.evses if e.tx is not None)

    def online() -> int:
        return sum(1 for s in stations if s.online)

    # connect spread, boots and plugs: run in steps until everyone is there (or the grace ends)
    setup_began = time.perf_counter()
    for station in stations:
        station.start()
    await clock.run(spread)
    while clock.now < spread + SETUP_GRACE_S and (online() < count or
                                                  charging() < planned_charging):
        await clock.run(clock.now + 5.0)
    await clock.run(clock.now + SETTLE_S)
    setup_s = time.perf_counter() - setup_began
    booted = len({r for r, kind in zip(*_columns(recorder, "events", "station_id", "kind"),
                                       strict=True) if kind == "boot_accepted"})

    if settings.gc_freeze:
        # what exists now (the stations, their connections) is never garbage: keep it out of
        # every later collection, as the CSMS benchmark's load processes and the CSMS do
        gc.collect()
        gc.freeze()

    # the window: a run of its own, paced from its start, with a lateness histogram of its own
    # (SimClock keeps one per clock and offers no reset: replace it between runs)
    clock._lateness = Lateness()
    pauses: list[tuple[int, float, float]] = []  # generation, seconds into the window, pause s
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            done = time.perf_counter()
            pauses.append((info["generation"], gc_started[0] - wall0, done - gc_started[0]))

    online_start, charging_start = online(), charging()
    stalls = Stalls()
    t0 = clock.now
    messages_before = recorder.count("messages")
    cpu0, csms0, machine0, steal0, wall0 = (time.process_time(), cpu_seconds(csms_pid),
                                            machine_busy_seconds(), steal_seconds(),
                                            time.perf_counter())
    gc.callbacks.append(on_gc)
    watching = asyncio.create_task(watch(clock, t0, asyncio.get_running_loop().time(), stalls))
    try:
        await clock.run(t0 + settings.window_s)
    finally:
        gc.callbacks.remove(on_gc)
        watching.cancel()
    wall = time.perf_counter() - wall0
    sim_cpu = (time.process_time() - cpu0) / wall
    csms_cpu = (cpu_seconds(csms_pid) - csms0) / wall
    machine = (machine_busy_seconds() - machine0) / wall
    steal = (steal_seconds() - steal0) / wall
    lateness = clock.lateness()
    t1 = clock.now

    # what the stations sent in the window (by the simulation time they decided it)
    actions, directions, times, latencies, outcomes = _columns(
        recorder, "messages", "action", "direction", "t_s", "latency_ms", "outcome",
        first=messages_before)
    sent = failed = meter_sent = 0
    round_trips: list[float] = []
    by_action: dict[str, int] = {}
    for action, direction, t, latency, outcome in zip(actions, directions, times, latencies,
                                                       outcomes, strict=True):
        if direction != "out" or not t0 <= t < t1:
            continue
        if outcome in ("ok", "replayed"):
            sent += 1
            round_trips.append(latency)
            meter_sent += action in METER_ACTIONS
            by_action[action] = by_action.get(action, 0) + 1
        else:
            failed += 1
    due = sum(1 for r in zip(*_columns(recorder, "meter_values", "t_s", "context"), strict=True)
              if t0 <= r[0] < t1 and r[1] == "Sample.Periodic")
    full = [p for g, _, p in pauses if g == 2]
    return {
        "stations": count, "v16": sum(e.v16 for e in plan), "dc": sum(e.dc for e in plan),
        "spread_s": spread, "build_s": build_s, "setup_s": setup_s, "booted": booted,
        "online_start": online_start, "online_end": online(),
        "planned_charging": planned_charging, "accepted_tokens": len(accepted),
        "charging_start": charging_start, "charging_end": charging(),
        "window_s": wall, "calls": sent, "calls_per_s": sent / wall, "failed": failed,
        "meter_due": due, "meter_sent": meter_sent, "by_action": by_action,
        "rtt_p50_ms": _quantile(round_trips, 0.5), "rtt_p99_ms": _quantile(round_trips, 0.99),
        "rtt_max_ms": max(round_trips, default=0.0),
        "behind_waiting_s": stalls.waiting_s, "behind_busy_s": stalls.busy_s,
        "pending_share": stalls.pending_s / wall,
        "loop_lag_max_ms": stalls.lag_max_s * 1000,
        "steps": lateness["steps"], "p50_ms": lateness["p50_ms"], "p99_ms": lateness["p99_ms"],
        "max_ms": lateness["max_ms"],
        "sim_cpu": sim_cpu, "csms_cpu": csms_cpu,
        "other_cpu": max(0.0, machine - sim_cpu - csms_cpu), "steal_cpu": steal,
        "rss_start_mib": rss_start / 1024, "rss_built_mib": rss_built / 1024,
        "rss_mib": rss_kib(os.getpid()) / 1024, "csms_rss_mib": rss_kib(csms_pid) / 1024,
        "gc_full": len(full), "gc_full_max_ms": max(full, default=0.0) * 1000,
        "gc_pause_ms": sum(p for _, _, p in pauses) * 1000,
        "gc_full_at_s": [round(at, 1) for g, at, _ in pauses if g == 2],
        "gc_young_max_ms": max((p for g, _, p in pauses if g < 2), default=0.0) * 1000,
        "gc_objects": len(gc.get_objects()),
    }


@dataclass
class Stalls:
    """Wall time the clock was behind (its next event overdue by more than ``WATCH_LATE_S``),
    split by cause: waiting for answers (bridged calls pending: time may not advance) or busy
    (nothing pending, the event loop had no time for the clock); the wall time with any call
    pending at all; and the event loop's largest lag (a timer's overshoot)."""

    waiting_s: float = 0.0
    busy_s: float = 0.0
    lag_max_s: float = 0.0
    pending_s: float = 0.0  # wall time with at least one bridged call pending (time held)


WATCH_EVERY_S = 0.01
WATCH_LATE_S = 0.05


async def watch(clock: Any, sim0: float, wall0: float, stalls: Stalls) -> None:
    """Sample the clock every 10 ms while it runs at speed 1.0 from (``sim0``, ``wall0``)."""
    loop = asyncio.get_running_loop()
    env = clock.env
    last = loop.time()
    while True:
        await asyncio.sleep(WATCH_EVERY_S)
        now = loop.time()
        stalls.lag_max_s = max(stalls.lag_max_s, now - last - WATCH_EVERY_S)
        elapsed, last = now - last, now
        if clock.pending:
            stalls.pending_s += elapsed
        if now - (wall0 + env.peek() - sim0) > WATCH_LATE_S:
            if clock.pending:
                stalls.waiting_s += elapsed
            else:
                stalls.busy_s += elapsed


def steal_seconds() -> float:
    """CPU seconds the hypervisor gave to others while this machine's CPUs wanted them (all
    cores), from /proc/stat: part of the machine's busy time, but not any process's."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return int(fields[7]) / os.sysconf("SC_CLK_TCK")


def _columns(recorder: Any, table: str, *names: str, first: int = 0) -> list[list[Any]]:
    """Columns of a recorder table from row ``first`` on, without building a row per dict."""
    from simulator.station.recorder import TABLES

    columns = recorder._columns[table]  # rows() would build 100,000s of dicts
    return [columns[TABLES[table].index(name)][first:] for name in names]


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class RealtimeStep:
    figures: dict[str, Any]
    reasons: tuple[str, ...]  # why the count did not hold; empty when it held

    @property
    def held(self) -> bool:
        return not self.reasons


def verdict(f: dict[str, Any]) -> tuple[str, ...]:
    reasons = []
    if f["booted"] < f["stations"] or f["online_end"] < f["stations"]:
        reasons.append(f"{f['stations'] - min(f['booted'], f['online_end'])} stations not "
                       "booted / online")
    if f["charging_end"] < f["planned_charging"]:
        reasons.append(f"{f['planned_charging'] - f['charging_end']} transactions not running")
    if f["failed"]:
        reasons.append(f"{f['failed']} calls failed")
    if f["meter_sent"] < KEEP_UP_SHARE * f["meter_due"]:
        reasons.append(f"meter values behind ({f['meter_sent']} of {f['meter_due']} sent)")
    if f["p99_ms"] >= LATENESS_BOUND_MS:
        reasons.append(f"lateness p99 {f['p99_ms']:.0f} ms")
    return tuple(reasons)


def measure_realtime_step(count: int, settings: Settings) -> RealtimeStep:
    plan = plan_stations(count, settings)
    csms = CsmsProcess([e.token for e in plan if e.token is not None], count)
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    simulator = ctx.Process(target=simulator_main, name="simulator", daemon=True,
                            args=(csms.url, csms.pid, plan, settings, theirs))
    try:
        simulator.start()
        _expect(mine, "built", 60 + count / 100)
        timeout = spread_s(count) + SETUP_GRACE_S + SETTLE_S + settings.window_s + 300
        _, figures = _expect(mine, "result", timeout)
        return RealtimeStep(figures, verdict(figures))
    finally:
        # the stations are dropped, not closed: thousands of closing handshakes would only
        # measure shutdown
        if simulator.is_alive():
            simulator.kill()
        simulator.join(10)
        csms.close()


def _expect(control: Connection, kind: str, timeout: float) -> tuple[Any, ...]:
    if not control.poll(timeout):
        raise RuntimeError(f"the simulator process sent no {kind!r} within {timeout:.0f} s")
    message = control.recv()
    if message[0] != kind:
        raise RuntimeError(f"the simulator process sent {message[0]!r}, expected {kind!r}")
    return message


@dataclass(frozen=True, slots=True)
class Ceiling:
    steps: list[RealtimeStep] = field(default_factory=list)

    @property
    def best(self) -> RealtimeStep | None:
        held = [s for s in self.steps if s.held]
        return max(held, key=lambda s: s.figures["stations"]) if held else None

    def summary(self) -> dict[str, float | None]:
        best = self.best
        return {"realtime_stations": best.figures["stations"] if best else None,
                "lateness_p99_ms": round(best.figures["p99_ms"], 1) if best else None}


def measure_realtime_ceiling(settings: Settings) -> Ceiling:
    """Stations one simulator process keeps in real time against the reference CSMS over
    WebSockets (60 s meter values), and the p99 clock lateness at that count: each count of
    ``settings.ceiling_steps`` in turn, until one does not hold (see the module docstring)."""
    from rich.console import Console

    console = Console()
    ceiling = Ceiling()
    for count in settings.ceiling_steps:
        for attempt in range(1, settings.tries + 1):
            console.print(f"[dim]real time: {count:,} stations (connect spread "
                          f"{spread_s(count):.0f} s, window {settings.window_s:g} s), try "
                          f"{attempt} ...[/dim]")
            step = measure_realtime_step(count, settings)
            ceiling.steps.append(step)
            f = step.figures
            console.print(f"[dim]  {f['online_end']:,} online, {f['calls_per_s']:.1f} calls/s,"
                          f" lateness p99 {f['p99_ms']:.1f} ms, simulator CPU "
                          f"{f['sim_cpu']:.0%}, CSMS CPU {f['csms_cpu']:.0%}, other CPU "
                          f"{f['other_cpu']:.0%}: " + ("held" if step.held else
                                                       "did not hold: " +
                                                       "; ".join(step.reasons)) + "[/dim]")
            if step.held:
                break
        else:
            break  # failed every try: the search ends here
    return ceiling


# -- report ---------------------------------------------------------------------------------------


def report(fleet: FleetFigures | None, ceiling: Ceiling | None,
           settings: Settings) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 180))
    if fleet is not None:
        table = Table(title=f"Fleet mode: {fleet.chargers:,} chargers x {fleet.days:g} days")
        table.add_column("figure")
        table.add_column("value", justify="right")
        full = fleet.chargers * fleet.days >= 365 * 1000
        rows = [
            ("sessions", f"{fleet.sessions:,}"),
            ("abandoned (no charger within patience)", f"{fleet.abandoned:,}"),
            ("energy", f"{fleet.energy_mwh:,.1f} MWh"),
            ("wall time", f"{fleet.wall_s:.2f} s"),
            ("charger-days per second", f"{fleet.charger_days_per_s:,.0f}"),
            ("sessions per second", f"{fleet.sessions / fleet.wall_s:,.0f}"),
            ("1,000 chargers x 365 days" + ("" if full else ", extrapolated"),
             f"{fleet.year_1000_chargers_s:.1f} s (target <= 60 s)"),
        ]
        if fleet.meter_series_s is not None:
            rows.append(("meter series",
                         f"{fleet.meter_rows:,} rows in {fleet.meter_series_s:.2f} s"))
        for row in rows:
            table.add_row(*row)
        console.print(table)
    realtime: dict[str, float | None] = {"realtime_stations": None, "lateness_p99_ms": None}
    if ceiling is not None and ceiling.steps:
        realtime = ceiling.summary()
        table = Table(title=f"Networked, real time (speed 1.0): one simulator process against "
                            f"the reference CSMS over loopback WebSockets, meter values every "
                            f"{SAMPLE_INTERVAL_S} s, {settings.window_s:g} s window, simulator "
                            + ("gc.freeze() after setup" if settings.gc_freeze else
                               "garbage collector as Python sets it"))
        for column in ("stations", "1.6 / 2.0.1", "online", "charging", "setup s",
                       "calls/s", "RTT p50 / p99 / max ms", "lateness p50 / p99 / max ms",
                       "time held by pending calls", "behind: waiting / busy s", "sim CPU",
                       "CSMS CPU",
                       "other CPU (steal)",
                       "sim RSS MiB", "full GCs (max ms)", "held"):
            table.add_column(column, justify="left" if column == "held" else "right")
        for step in ceiling.steps:
            f = step.figures
            table.add_row(
                f"{f['stations']:,}", f"{f['v16']:,} / {f['stations'] - f['v16']:,}",
                f"{f['online_end']:,}", f"{f['charging_end']:,}", f"{f['setup_s']:.0f}",
                f"{f['calls_per_s']:.1f}",
                f"{f['rtt_p50_ms']:.1f} / {f['rtt_p99_ms']:.1f} / {f['rtt_max_ms']:.0f}",
                f"{f['p50_ms']:.1f} / {f['p99_ms']:.1f} / {f['max_ms']:.0f}",
                f"{f['pending_share']:.0%}",
                f"{f['behind_waiting_s']:.1f} / {f['behind_busy_s']:.1f}",
                f"{f['sim_cpu']:.0%}", f"{f['csms_cpu']:.0%}",
                f"{f['other_cpu']:.0%} ({f['steal_cpu']:.0%})",
                f"{f['rss_mib']:,.0f}", f"{f['gc_full']} ({f['gc_full_max_ms']:.0f})",
                "yes" if step.held else "no: " + "; ".join(step.reasons))
        console.print(table)
        best = ceiling.best
        if best is None:
            console.print("real-time ceiling: no count held (target >= 5,000 stations)")
        else:
            console.print(f"real-time ceiling: [bold]{best.figures['stations']:,} stations"
                          f"[/bold] with lateness p99 [bold]{best.figures['p99_ms']:.1f} ms"
                          f"[/bold] (target >= 5,000 with p99 < {LATENESS_BOUND_MS:g} ms"
                          + ("; the largest count tried, so a lower bound)"
                             if best is ceiling.steps[-1] else ")"))
    summary: dict[str, Any] = {"charger_days_per_s": None, "year_1000_chargers_s": None}
    if fleet is not None:
        summary = {"charger_days_per_s": round(fleet.charger_days_per_s, 1),
                   "year_1000_chargers_s": round(fleet.year_1000_chargers_s, 2)}
    return summary | realtime


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000, help="chargers in the fleet")
    parser.add_argument("--days", type=float, default=365.0, help="simulated days")
    parser.add_argument("--seed", type=int, default=1, help="numpy Generator seed")
    parser.add_argument("--sample-interval", type=float, default=900.0,
                        help="meter series interval, seconds")
    parser.add_argument("--meter-series", action="store_true",
                        help="also time the (lazy) meter series of all chargers")
    parser.add_argument("--ceiling-steps", default=",".join(str(n) for n in DEFAULT_STEPS),
                        help="station counts tried for the real-time ceiling, in order "
                             "(comma-separated); the search stops at the first that fails "
                             "every try")
    parser.add_argument("--window", type=float, default=120.0,
                        help="measuring window of each count, seconds of real time")
    parser.add_argument("--v16-share", type=float, default=0.3,
                        help="share of OCPP 1.6J stations (the rest speak 2.0.1)")
    parser.add_argument("--aligned-interval", type=int, default=0,
                        help="clock-aligned meter values every so many seconds (0: off)")
    parser.add_argument("--no-gc-freeze", dest="gc_freeze", action="store_false",
                        help="leave the simulator's garbage collector as Python sets it (no "
                             "gc.freeze() once the stations are up)")
    parser.add_argument("--tries", type=int, default=2,
                        help="runs of a count before it counts as not held (the machine is "
                             "shared: one hiccup elsewhere should not end the search)")
    parser.add_argument("--skip-fleet", action="store_true", help="leave out the fleet mode")
    parser.add_argument("--skip-realtime", action="store_true",
                        help="leave out the real-time ceiling")
    args = parser.parse_args(argv)
    if args.chargers < 1 or args.days <= 0:
        parser.error("--chargers must be >= 1 and --days > 0")
    try:
        steps = tuple(int(n) for n in args.ceiling_steps.split(",") if n.strip())
    except ValueError:
        parser.error("--ceiling-steps takes station counts, e.g. 1000,2000,5000")
    if not steps or min(steps) < 1:
        parser.error("--ceiling-steps needs at least one count >= 1")
    if args.window <= 0 or not 0.0 <= args.v16_share <= 1.0 or args.aligned_interval < 0 or \
            args.tries < 1:
        parser.error("--window must be > 0, --v16-share in 0..1, --aligned-interval >= 0, "
                     "--tries >= 1")
    return Settings(args.chargers, args.days, args.seed, args.sample_interval, args.meter_series,
                    steps, args.window, args.v16_share, args.aligned_interval, args.skip_fleet,
                    args.skip_realtime, args.gc_freeze, args.tries)


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    raise_nofile(1024)
    fleet = None if settings.skip_fleet else measure_fleet(settings)
    ceiling = None if settings.skip_realtime else measure_realtime_ceiling(settings)
    summary = report(fleet, ceiling, settings)
    sys.stdout.flush()
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
