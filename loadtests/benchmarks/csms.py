"""The reference CSMS under load: throughput with durable storage, memory per idle connection,
and a boot storm, with the ``ocpp`` package's ChargePoint as the throughput baseline.

What is measured
    1. Throughput. N stations (default 1,000) connect over loopback WebSockets (OCPP 1.6), boot,
       start a transaction each, and then send MeterValues carrying their transactionId: six
       sampled values, an energy register that only rises. Two windows follow:

       * closed loop: every station keeps exactly one CALL outstanding and sends the next as
         soon as the answer is in; the answers per second are the most the server sustains;
       * paced: the stations together send R messages per second (default 1,000; each station
         every N/R seconds, evenly spread); latency is timed from the moment a message was due,
         so a server that falls behind cannot hide it (no coordinated omission).

       Each window follows a warm-up (--warmup seconds) of the same load that is not counted.

       The CSMS (``csms.server.running_csms``, with the garbage collector settings of
       ``chargeloop csms serve``) stores everything in a SQLite file (WAL) and answers only
       after the commit. The baseline is a minimal CSMS on the ``ocpp`` package's
       ``ocpp.v16.ChargePoint`` (``@on`` handlers for BootNotification, StartTransaction,
       MeterValues, ...) on plain ``websockets``, storing nothing. Both are driven by the same
       load generator.
    2. Memory per idle connection: the CSMS process's resident set size (VmRSS) before and after
       M stations (default 10,000) have connected and booted and then stay idle, divided by M.
       Before the "before" reading a few stations connect, boot and leave, so that lazily
       loaded code and compiled schemas are not counted as per-connection memory.
    3. Boot storm: S stations (default 5,000) that the CSMS has never seen connect and send
       BootNotification at the same moment, against a freshly started CSMS on an empty
       database; the figure is the seconds from that moment until the last one is Accepted.
       A station whose connection or boot fails tries again at once, as a charger would.

    Each server runs in a process of its own and the stations in separate processes (asyncio
    tasks running chargeloop's ``OcppSession`` over ``connect_ocpp``), so the generator has its
    own interpreter; the table shows the CPU both sides used, to show which one was the limit,
    and what everything else on the machine used meanwhile: figures taken while other work
    ran (other CPU well above 0%) are not worth comparing.
    On a 2-core machine one load process is the right number for (1): a second one only takes
    CPU from the server. (2) and (3) use several load processes for the file descriptors and
    the handshakes; RLIMIT_NOFILE is raised in every process.

Targets (2-core machine)
    (1) CSMS >= 1.5x the baseline's closed-loop rate, and p99 <= 100 ms at 1,000 msg/s;
    (2) <= 50 KiB per idle connection; (3) <= 30 s.

Figures
    A table, then the last line: one JSON object
    ``{"baseline_msgs_per_s": ..., "csms_msgs_per_s": ..., "ratio": ..., "p99_ms_at_1000": ...,
    "kib_per_idle_connection": ..., "boot_storm_s": ...}`` (``p99_ms_at_1000`` is the CSMS's
    p99 at --rate; a part left out with --skip, or a storm not all Accepted, is null).

Run
    python loadtests/benchmarks/csms.py [--stations 1000] [--seconds 10] [--rate 1000]
        [--idle 10000] [--storm 5000] [--load-processes 1]
    A quick run: --stations 100 --seconds 3 --rate 100 --idle 500 --storm 300
    Parts can be left out: --skip baseline|csms|idle|storm (repeatable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import logging
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would hide the
# ``csms`` package: take the folder out, and make sure the repository root is in.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(_HERE.parents[1]))

HOST = "127.0.0.1"
CLOCK = time.monotonic  # CLOCK_MONOTONIC: one clock for every process on the machine
CONNECT_CONCURRENCY = 200  # handshakes in flight per load process while setting up
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Settings:
    stations: int
    seconds: float
    warmup: float
    rate: float
    idle: int
    storm: int
    load_processes: int
    idle_processes: int
    storm_processes: int
    skip: frozenset[str]


# -- process plumbing -------------------------------------------------------------------------


def raise_nofile(needed: int) -> None:
    """Let this process hold ``needed`` sockets (root may also raise the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 1024
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (all its threads) so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICKS


def run_async(coro: Any) -> Any:
    with asyncio.Runner() as runner:
        return runner.run(coro)


async def until_set(stop: ProcessEvent) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.1)


# -- servers ----------------------------------------------------------------------------------


def csms_main(database_dir: str, ready: Connection, stop: ProcessEvent, nofile: int) -> None:
    raise_nofile(nofile)
    logging.getLogger("chargeloop").setLevel(logging.ERROR)  # first-start notices

    async def main() -> None:
        from csms.config import CsmsConfig
        from csms.server import running_csms, tune_gc

        config = CsmsConfig(port=0, database_url=f"sqlite+aiosqlite:///{database_dir}/csms.db",
                            admin_token_file=Path(database_dir) / "admin.token")
        async with running_csms(config) as running:
            tune_gc()  # as `chargeloop csms serve` does
            ready.send((os.getpid(), running.port))
            await until_set(stop)

    run_async(main())


def baseline_main(ready: Connection, stop: ProcessEvent, nofile: int) -> None:
    """A minimal CSMS on the ``ocpp`` package: ChargePoint with @on handlers, no storage."""
    raise_nofile(nofile)

    async def main() -> None:
        from ocpp.routing import on
        from ocpp.v16 import ChargePoint, call_result
        from ocpp.v16.enums import AuthorizationStatus, RegistrationStatus
        from websockets.asyncio.server import ServerConnection, serve
        from websockets.exceptions import ConnectionClosed
        from websockets.typing import Subprotocol

        transaction_ids = itertools.count(1)
        accepted = {"status": AuthorizationStatus.accepted}

        def now() -> str:
            return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

        class Csms(ChargePoint):  # type: ignore[misc]
            @on("BootNotification")
            def on_boot(self, **_: Any) -> Any:
                return call_result.BootNotification(current_time=now(), interval=300,
                                                    status=RegistrationStatus.accepted)

            @on("Heartbeat")
            def on_heartbeat(self, **_: Any) -> Any:
                return call_result.Heartbeat(current_time=now())

            @on("StatusNotification")
            def on_status(self, **_: Any) -> Any:
                return call_result.StatusNotification()

            @on("Authorize")
            def on_authorize(self, **_: Any) -> Any:
                return call_result.Authorize(id_tag_info=accepted)

            @on("StartTransaction")
            def on_start(self, **_: Any) -> Any:
                return call_result.StartTransaction(transaction_id=next(transaction_ids),
                                                    id_tag_info=accepted)

            @on("MeterValues")
            def on_meter_values(self, **_: Any) -> Any:
                return call_result.MeterValues()

            @on("StopTransaction")
            def on_stop(self, **_: Any) -> Any:
                return call_result.StopTransaction(id_tag_info=accepted)

        async def handler(connection: ServerConnection) -> None:
            assert connection.request is not None
            identity = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
            with contextlib.suppress(ConnectionClosed):
                await Csms(identity, connection).start()

        async with serve(handler, HOST, 0, subprotocols=[Subprotocol("ocpp1.6")],
                         compression=None, backlog=2048) as server:
            ready.send((os.getpid(), server.sockets[0].getsockname()[1]))
            await until_set(stop)

    run_async(main())


# -- stations ---------------------------------------------------------------------------------


BOOT = {"chargePointVendor": "chargeloop", "chargePointModel": "bench-16"}


class StationClock:
    """An OCPP timestamp of now, refreshed every 100 ms (not formatted per message)."""

    def __init__(self) -> None:
        self.text = self._now()

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            self.text = self._now()


def meter_values(transaction_id: int, register_wh: float, timestamp: str) -> dict[str, Any]:
    """A 1.6 MeterValues request as a charger sends it during a three-phase session."""
    def sample(value: str, measurand: str, unit: str, phase: str | None = None) -> dict[str, Any]:
        entry = {"value": value, "context": "Sample.Periodic", "measurand": measurand,
                 "location": "Outlet", "unit": unit}
        return entry | ({"phase": phase} if phase else {})

    return {"connectorId": 1, "transactionId": transaction_id, "meterValue": [{
        "timestamp": timestamp,
        "sampledValue": [
            sample(f"{register_wh:.1f}", "Energy.Active.Import.Register", "Wh"),
            sample("11040.0", "Power.Active.Import", "W"),
            sample("16.0", "Current.Import", "A", "L1"),
            sample("15.9", "Current.Import", "A", "L2"),
            sample("16.1", "Current.Import", "A", "L3"),
            sample("230.1", "Voltage", "V", "L1-N"),
        ],
    }]}


@dataclass
class Station:
    identity: str
    session: Any  # OcppSession
    task: asyncio.Task[None]
    transaction_id: int = 0
    register_wh: float = 10_000.0


async def open_station(url: str, identity: str, *, timeout: float = 60.0) -> Station:
    from chargeloop.ocppj import OcppSession, OcppVersion, Role
    from chargeloop.ocppj.transport import connect_ocpp

    transport = await connect_ocpp(url, identity=identity, versions=[OcppVersion.V16],
                                   open_timeout=timeout, ping_interval=None)
    session = OcppSession(transport, OcppVersion.V16, role=Role.STATION, identity=identity,
                          call_timeout=timeout)
    return Station(identity, session, asyncio.create_task(session.serve()))


async def close_stations(stations: list[Station]) -> None:
    async def close(station: Station) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(station.session.close(), 10)
        station.task.cancel()
        with contextlib.suppress(BaseException):
            await station.task

    await asyncio.gather(*(close(s) for s in stations))


async def bounded(coros: list[Any], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


@dataclass
class Window:
    """Answers that arrived inside [start, end), their latencies, and the load's CPU."""

    start: float
    end: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    cpu_s: float = 0.0


async def closed_loop(station: Station, clock: StationClock, window: Window) -> None:
    while (now := CLOCK()) < window.end:
        station.register_wh += 3.1
        payload = meter_values(station.transaction_id, station.register_wh, clock.text)
        try:
            await station.session.call("MeterValues", payload)
        except Exception:  # noqa: BLE001 - counted; a broken station stops
            window.errors += 1
            return
        done = CLOCK()
        if window.start <= done < window.end:
            window.latencies.append(done - now)


async def paced_loop(station: Station, clock: StationClock, window: Window, interval: float,
                     first_due: float) -> None:
    """Send every ``interval`` seconds from ``first_due``; count what was due inside the
    window (messages before it are the warm-up)."""
    due = first_due
    while due < window.end:
        delay = due - CLOCK()
        if delay > 0:
            await asyncio.sleep(delay)
        station.register_wh += 3.1
        payload = meter_values(station.transaction_id, station.register_wh, clock.text)
        try:
            await station.session.call("MeterValues", payload)
        except Exception:  # noqa: BLE001 - counted; a broken station stops
            window.errors += 1
            return
        if due >= window.start:
            window.latencies.append(CLOCK() - due)  # from when it was due, not when it went out
        due += interval


def load_main(url: str, first: int, count: int, total: int, control: Connection) -> None:
    """A throughput load process: stations ``first``..``first+count-1`` of ``total``."""
    raise_nofile(count)
    run_async(load_async(url, first, count, total, control))


async def load_async(url: str, first: int, count: int, total: int, control: Connection) -> None:
    clock = StationClock()
    ticking = asyncio.create_task(clock.run())

    async def setup(index: int) -> Station:
        station = await open_station(url, f"LOAD{index:06d}")
        boot = await station.session.call("BootNotification", BOOT)
        assert boot["status"] == "Accepted", boot
        started = await station.session.call("StartTransaction", {
            "connectorId": 1, "idTag": f"TAG{index:06d}", "meterStart": 10_000,
            "timestamp": clock.text})
        station.transaction_id = started["transactionId"]
        return station

    stations = await bounded([setup(i) for i in range(first, first + count)],
                             CONNECT_CONCURRENCY)
    # The generator's own garbage collections would pause it and show up as the server's
    # latency: keep what exists out of them, and collect young objects rarely.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    control.send(("ready", len(stations)))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, control.recv)
        if command[0] == "stop":
            break
        window = Window(command[1], command[2])
        cpu_before, wall_before = time.process_time(), CLOCK()
        if command[0] == "closed":
            await asyncio.gather(*(closed_loop(s, clock, window) for s in stations))
        else:
            interval, begin = command[3], command[4]
            await asyncio.gather(*(
                paced_loop(s, clock, window, interval, begin + interval * ((first + i) / total))
                for i, s in enumerate(stations)))
        window.cpu_s = time.process_time() - cpu_before
        control.send(("result", window.latencies, window.errors, window.cpu_s,
                      CLOCK() - wall_before))
    ticking.cancel()
    await close_stations(stations)
    control.send(("closed",))


def idle_main(url: str, first: int, count: int, control: Connection) -> None:
    raise_nofile(count)
    run_async(idle_async(url, first, count, control))


async def idle_async(url: str, first: int, count: int, control: Connection) -> None:
    async def setup(index: int) -> Station | None:
        try:
            station = await open_station(url, f"IDLE{index:06d}", timeout=120)
            boot = await station.session.call("BootNotification", BOOT)
        except Exception:  # noqa: BLE001 - counted by the caller
            return None
        return station if boot["status"] == "Accepted" else None

    results = await bounded([setup(i) for i in range(first, first + count)],
                            CONNECT_CONCURRENCY)
    stations = [s for s in results if s is not None]
    control.send(("ready", len(stations)))
    await asyncio.get_running_loop().run_in_executor(None, control.recv)
    for station in stations:  # leave without closing handshakes: the CSMS is gone already
        station.task.cancel()
    control.send(("closed",))


def storm_main(url: str, first: int, count: int, control: Connection) -> None:
    raise_nofile(count)
    run_async(storm_async(url, first, count, control))


async def storm_async(url: str, first: int, count: int, control: Connection) -> None:
    from chargeloop.ocppj import OcppVersion
    from chargeloop.ocppj.schemas import warm_up
    from chargeloop.ocppj.transport import connect_ocpp  # noqa: F401 - imported before the clock

    warm_up(OcppVersion.V16)  # compile the schemas before the clock starts
    control.send(("ready", count))
    go, deadline = await asyncio.get_running_loop().run_in_executor(None, control.recv)
    stations: list[Station] = []
    attempts = 0

    async def storm_station(index: int) -> float | None:
        nonlocal attempts
        while CLOCK() < deadline:
            attempts += 1
            try:
                station = await open_station(url, f"STORM{index:06d}",
                                             timeout=max(1.0, deadline - CLOCK()))
            except Exception:  # noqa: BLE001 - a charger tries again
                continue
            stations.append(station)
            try:
                boot = await station.session.call("BootNotification", BOOT)
            except Exception:  # noqa: BLE001 - a charger tries again
                continue
            if boot["status"] == "Accepted":
                return CLOCK()
        return None

    delay = go - CLOCK()
    if delay > 0:
        await asyncio.sleep(delay)
    done = await asyncio.gather(*(storm_station(i) for i in range(first, first + count)))
    accepted = [t for t in done if t is not None]
    control.send(("result", len(accepted), max(accepted, default=go), attempts - count))
    await asyncio.get_running_loop().run_in_executor(None, control.recv)
    for station in stations:
        station.task.cancel()
    control.send(("closed",))


# -- orchestration ----------------------------------------------------------------------------


class Server:
    """A server process: the CSMS (on a fresh SQLite file) or the baseline."""

    def __init__(self, kind: str, nofile: int) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.stop = self.ctx.Event()
        self.tmp = tempfile.TemporaryDirectory(prefix=f"chargeloop-bench-{kind}-")
        ready, theirs = self.ctx.Pipe()
        if kind == "csms":
            args: tuple[Any, ...] = (self.tmp.name, theirs, self.stop, nofile)
            target: Any = csms_main
        else:
            args, target = (theirs, self.stop, nofile), baseline_main
        self.process = self.ctx.Process(target=target, args=args, name=f"{kind}-server",
                                        daemon=True)
        self.process.start()
        deadline = CLOCK() + 60
        while not ready.poll(0.2):
            if not self.process.is_alive() or CLOCK() > deadline:
                self.close(grace=1)
                raise RuntimeError(f"the {kind} server did not start")
        self.pid, self.port = ready.recv()
        self.url = f"ws://{HOST}:{self.port}/ocpp"

    def health(self) -> dict[str, Any]:
        import httpx

        return httpx.get(f"http://{HOST}:{self.port}/api/health", timeout=30).json()

    def close(self, grace: float = 30.0) -> None:
        self.stop.set()
        self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)
        self.tmp.cleanup()


def spawn_loads(target: Any, server: Server, sizes: list[int], *extra: Any,
                ) -> list[tuple[Any, Connection]]:
    ctx = multiprocessing.get_context("spawn")
    loads = []
    first = 0
    for index, size in enumerate(sizes):
        mine, theirs = ctx.Pipe()
        process = ctx.Process(target=target, args=(server.url, first, size, *extra, theirs),
                              name=f"load-{index}", daemon=True)
        process.start()
        loads.append((process, mine))
        first += size
    return loads


def expect(control: Connection, kind: str, timeout: float) -> tuple[Any, ...]:
    if not control.poll(timeout):
        raise RuntimeError(f"a load process gave no {kind!r} within {timeout:.0f} s")
    message = control.recv()
    if message[0] != kind:
        raise RuntimeError(f"a load process sent {message[0]!r}, expected {kind!r}")
    return message


def finish(loads: list[tuple[Any, Connection]], message: Any = ("stop",)) -> None:
    for _, control in loads:
        with contextlib.suppress(OSError):
            control.send(message)
    for process, control in loads:
        with contextlib.suppress(RuntimeError, OSError, EOFError):
            expect(control, "closed", 60)
        process.join(10)
        if process.is_alive():
            process.kill()


def split(total: int, parts: int) -> list[int]:
    parts = max(1, min(parts, total))
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@dataclass(frozen=True, slots=True)
class Throughput:
    server: str
    mode: str  # closed, paced
    answers: int
    errors: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu: float  # fraction of one core
    load_cpu: float
    other_cpu: float  # everything else on the machine: more than a little spoils the figures


def percentiles(latencies: list[float]) -> tuple[float, float]:
    if len(latencies) < 2:
        return 0.0, 0.0
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def measure_throughput(kind: str, settings: Settings) -> list[Throughput]:
    server = Server(kind, settings.stations)
    loads: list[tuple[Any, Connection]] = []
    try:
        sizes = split(settings.stations, settings.load_processes)
        loads = spawn_loads(load_main, server, sizes, settings.stations)
        connected = sum(expect(c, "ready", 300)[1] for _, c in loads)
        assert connected == settings.stations
        results = []
        for mode in ("closed", "paced"):
            begin = CLOCK() + 0.5  # every load process has its command by then
            start = begin + settings.warmup
            end = start + settings.seconds
            if mode == "closed":
                command: tuple[Any, ...] = ("closed", start, end)
            else:  # paced from ``begin``: the warm-up runs at the same pace
                command = ("paced", start, end, settings.stations / settings.rate, begin)
            for _, control in loads:
                control.send(command)
            time.sleep(max(0.0, start - CLOCK()))
            cpu_before, machine_before = cpu_seconds(server.pid), machine_busy_seconds()
            time.sleep(max(0.0, end - CLOCK()))
            server_cpu = (cpu_seconds(server.pid) - cpu_before) / settings.seconds
            machine = (machine_busy_seconds() - machine_before) / settings.seconds
            latencies: list[float] = []
            errors, load_cpu = 0, 0.0
            for _, control in loads:
                _, lat, err, cpu_s, wall = expect(control, "result", 120 + settings.seconds)
                latencies += lat
                errors += err
                load_cpu += cpu_s / wall
            p50, p99 = percentiles(latencies)
            results.append(Throughput(kind, mode, len(latencies), errors, settings.seconds,
                                      len(latencies) / settings.seconds, p50, p99, server_cpu,
                                      load_cpu, max(0.0, machine - server_cpu - load_cpu)))
        finish(loads)
        return results
    finally:
        for process, _ in loads:
            if process.is_alive():
                process.kill()
        server.close()


@dataclass(frozen=True, slots=True)
class IdleMemory:
    connections: int
    rss_before_kib: int
    rss_after_kib: int
    kib_per_connection: float
    setup_s: float


def measure_idle(settings: Settings) -> IdleMemory:
    server = Server("csms", settings.idle)
    loads: list[tuple[Any, Connection]] = []
    try:
        # Warm up: load lazily imported code and compile schemas, then measure the baseline.
        warm = spawn_loads(idle_main, server, [20])
        expect(warm[0][1], "ready", 60)
        finish(warm, ("go",))
        time.sleep(2.0)
        before = rss_kib(server.pid)
        begun = CLOCK()
        loads = spawn_loads(idle_main, server, split(settings.idle, settings.idle_processes))
        connected = sum(expect(c, "ready", 600)[1] for _, c in loads)
        setup_s = CLOCK() - begun
        deadline = CLOCK() + 60
        while server.health()["connected_stations"] < connected and CLOCK() < deadline:
            time.sleep(0.5)
        time.sleep(3.0)  # let the last boots' writes and any buffers settle
        after = rss_kib(server.pid)
        server.process.kill()  # 10,000 orderly closes would only measure shutdown
        finish(loads, ("go",))
        return IdleMemory(connected, before, after, (after - before) / max(connected, 1),
                          setup_s)
    finally:
        for process, _ in loads:
            if process.is_alive():
                process.kill()
        server.close(grace=1)


@dataclass(frozen=True, slots=True)
class BootStorm:
    stations: int
    accepted: int
    retries: int
    seconds: float


def measure_storm(settings: Settings) -> BootStorm:
    server = Server("csms", settings.storm)
    loads: list[tuple[Any, Connection]] = []
    try:
        loads = spawn_loads(storm_main, server, split(settings.storm, settings.storm_processes))
        for _, control in loads:
            expect(control, "ready", 120)
        go = CLOCK() + 1.0
        deadline = go + 300
        for _, control in loads:
            control.send((go, deadline))
        accepted, last, retries = 0, go, 0
        for _, control in loads:
            _, count, finished, retried = expect(control, "result", 400)
            accepted += count
            last = max(last, finished)
            retries += retried
        server.process.kill()
        finish(loads, ("go",))
        return BootStorm(settings.storm, accepted, retries, last - go)
    finally:
        for process, _ in loads:
            if process.is_alive():
                process.kill()
        server.close(grace=1)


# -- report -----------------------------------------------------------------------------------


def report(settings: Settings, throughput: list[Throughput], idle: IdleMemory | None,
           storm: BootStorm | None) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 120))
    table = Table(title=f"OCPP 1.6 MeterValues, {settings.stations:,} stations in "
                        f"{settings.load_processes} load process(es), "
                        f"{settings.seconds:g} s windows")
    for column in ("server", "load", "answers", "errors", "msgs/s", "p50 ms", "p99 ms",
                   "server CPU", "load CPU", "other CPU"):
        table.add_column(column, justify="left" if column in ("server", "load") else "right")
    for r in throughput:
        mode = "closed loop" if r.mode == "closed" else f"paced {settings.rate:,.0f}/s"
        table.add_row(r.server, mode, f"{r.answers:,}", str(r.errors), f"{r.msgs_per_s:,.0f}",
                      f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", f"{r.server_cpu:.0%}",
                      f"{r.load_cpu:.0%}", f"{r.other_cpu:.0%}")
    if throughput:
        console.print(table)

    def find(server: str, mode: str) -> Throughput | None:
        return next((r for r in throughput if r.server == server and r.mode == mode), None)

    baseline, csms, paced = find("baseline", "closed"), find("csms", "closed"), \
        find("csms", "paced")
    ratio = csms.msgs_per_s / baseline.msgs_per_s if csms and baseline and \
        baseline.msgs_per_s else None
    if ratio is not None:
        console.print(f"CSMS (SQLite, durable) / baseline (ocpp ChargePoint, no storage): "
                      f"[bold]{ratio:.2f}x[/bold] (target >= 1.5x)")
    if paced:
        console.print(f"CSMS p99 at {settings.rate:,.0f} msg/s: [bold]{paced.p99_ms:.1f} ms"
                      "[/bold] (target <= 100 ms)")
    if idle:
        console.print(f"idle connections: {idle.connections:,} booted in {idle.setup_s:.1f} s; "
                      f"CSMS RSS {idle.rss_before_kib / 1024:,.1f} MiB -> "
                      f"{idle.rss_after_kib / 1024:,.1f} MiB: [bold]"
                      f"{idle.kib_per_connection:.1f} KiB[/bold] per connection "
                      "(target <= 50 KiB)")
    if storm:
        console.print(f"boot storm: {storm.accepted:,} of {storm.stations:,} stations Accepted "
                      f"after [bold]{storm.seconds:.1f} s[/bold] ({storm.retries} retries; "
                      "target <= 30 s)")

    def rounded(value: float | None, digits: int) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "baseline_msgs_per_s": rounded(baseline.msgs_per_s if baseline else None, 1),
        "csms_msgs_per_s": rounded(csms.msgs_per_s if csms else None, 1),
        "ratio": rounded(ratio, 2),
        "p99_ms_at_1000": rounded(paced.p99_ms if paced else None, 1),
        "kib_per_idle_connection": rounded(idle.kib_per_connection if idle else None, 1),
        "boot_storm_s": rounded(storm.seconds if storm and storm.accepted == storm.stations
                                else None, 2),
    }


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000,
                        help="stations sending MeterValues (throughput)")
    parser.add_argument("--seconds", type=float, default=10.0, help="each measuring window")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each window")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="messages per second of the paced window (all stations)")
    parser.add_argument("--idle", type=int, default=10_000, help="idle connections (memory)")
    parser.add_argument("--storm", type=int, default=5000, help="stations in the boot storm")
    parser.add_argument("--load-processes", type=int, default=1,
                        help="load processes for the throughput windows")
    parser.add_argument("--idle-processes", type=int, default=4)
    parser.add_argument("--storm-processes", type=int, default=2)
    parser.add_argument("--skip", action="append", default=[],
                        choices=("baseline", "csms", "idle", "storm"),
                        help="leave out a part (repeatable)")
    args = parser.parse_args(argv)
    return Settings(args.stations, args.seconds, args.warmup, args.rate, args.idle, args.storm,
                    args.load_processes, args.idle_processes, args.storm_processes,
                    frozenset(args.skip))


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    raise_nofile(1024)
    throughput: list[Throughput] = []
    for kind in ("baseline", "csms"):
        if kind not in settings.skip:
            throughput += measure_throughput(kind, settings)
    idle = None if "idle" in settings.skip else measure_idle(settings)
    storm = None if "storm" in settings.skip else measure_storm(settings)
    summary = report(settings, throughput, idle, storm)
    sys.stdout.flush()
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
