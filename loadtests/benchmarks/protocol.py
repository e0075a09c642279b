"""OCPP-J protocol throughput: chargeloop's OcppSession against the ``ocpp`` package's ChargePoint.

What is measured
    Round trips of one realistic MeterValues CALL and its CALLRESULT over loopback WebSockets,
    with full JSON-schema validation on both ends (request and answer, each checked by sender and
    receiver). N stations (default 100) each keep exactly one CALL outstanding and send the next
    as soon as the answer is in, so the figure is the most the stack can carry, not a paced load.

    Two implementations run one after the other, in fresh processes each time:

    * baseline:   the ``ocpp`` package's ``ChargePoint`` (v16 or v201) on both ends, on plain
                  ``websockets`` (its routing with ``@on("MeterValues")``, its jsonschema
                  validation in a thread pool);
    * chargeloop: ``OcppSession`` on both ends in strict validation mode, on chargeloop's
                  WebSocket transport (``serve_ocpp`` / ``connect_ocpp``).

    The server runs in one process and the stations (asyncio tasks) in another, so that each
    side has its own interpreter and core, like a CSMS and a fleet simulator would. Neither side
    negotiates permessage-deflate, and both use the same event loop (asyncio, or uvloop with
    ``--uvloop`` when it is installed).

Why
    chargeloop drives thousands of simulated stations from few processes; its per-message cost
    decides how many a core can carry. The ``ocpp`` package is the reference most users know.

Figures
    After a warm-up (schemas compiled, connections settled) every round trip that completes within
    the measuring window counts: round trips per second summed over all stations, and the 50th
    and 99th percentile latency per call, timed in the station process with ``perf_counter``. The
    last line printed is one JSON object for scripts, with chargeloop's p99 as ``p99_ms``:
    ``{"baseline_rps": ..., "chargeloop_rps": ..., "ratio": ..., "p99_ms": ...}``.

Run
    python loadtests/benchmarks/protocol.py [--stations 100] [--seconds 10] [--version 1.6|2.0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None
IMPLEMENTATIONS = ("baseline", "chargeloop")
HOST = "127.0.0.1"
TIMESTAMP = "2025-06-01T12:00:00Z"

RoundTrip = Callable[[], Awaitable[Any]]
Failures = tuple[type[BaseException], ...]


@dataclass(frozen=True, slots=True)
class Settings:
    stations: int
    seconds: float
    warmup: float
    version: str  # "1.6" or "2.0.1"
    uvloop: bool

    @property
    def subprotocol(self) -> str:
        return "ocpp" + self.version


@dataclass(frozen=True, slots=True)
class Result:
    implementation: str
    round_trips: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float


# -- payloads ---------------------------------------------------------------------------------


def meter_values_16() -> dict[str, Any]:
    """A 1.6 MeterValues request as a charger sends it during a three-phase session."""
    def sample(value: str, measurand: str, unit: str, phase: str | None = None) -> dict[str, Any]:
        entry = {"value": value, "context": "Sample.Periodic", "measurand": measurand,
                 "location": "Outlet", "unit": unit}
        return entry | ({"phase": phase} if phase else {})

    return {"connectorId": 1, "transactionId": 4711, "meterValue": [{
        "timestamp": TIMESTAMP,
        "sampledValue": [
            sample("12345.6", "Energy.Active.Import.Register", "Wh"),
            sample("11040.0", "Power.Active.Import", "W"),
            sample("16.0", "Current.Import", "A", "L1"),
            sample("15.9", "Current.Import", "A", "L2"),
            sample("16.1", "Current.Import", "A", "L3"),
            sample("230.1", "Voltage", "V", "L1-N"),
        ],
    }]}


def meter_values_201() -> dict[str, Any]:
    """The 2.0.1 equivalent: numeric values, units as unitOfMeasure, evseId for the connector."""
    def sample(value: float, measurand: str, unit: str, phase: str | None = None
               ) -> dict[str, Any]:
        entry = {"value": value, "context": "Sample.Periodic", "measurand": measurand,
                 "location": "Outlet", "unitOfMeasure": {"unit": unit}}
        return entry | ({"phase": phase} if phase else {})

    return {"evseId": 1, "meterValue": [{
        "timestamp": TIMESTAMP,
        "sampledValue": [
            sample(12345.6, "Energy.Active.Import.Register", "Wh"),
            sample(11040.0, "Power.Active.Import", "W"),
            sample(16.0, "Current.Import", "A", "L1"),
            sample(15.9, "Current.Import", "A", "L2"),
            sample(16.1, "Current.Import", "A", "L3"),
            sample(230.1, "Voltage", "V", "L1-N"),
        ],
    }]}


def meter_values(version: str) -> dict[str, Any]:
    return meter_values_16() if version == "1.6" else meter_values_201()


# -- event loop -------------------------------------------------------------------------------


def run_loop(coro: Coroutine[Any, Any, Any], use_uvloop: bool) -> Any:
    """Run ``coro`` on asyncio's default loop, or on uvloop when asked (and installed)."""
    factory = None
    if use_uvloop:
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


async def until_set(stop: ProcessEvent) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.2)


# -- baseline: the ocpp package ---------------------------------------------------------------


def baseline_modules(version: str) -> tuple[type, Any, Any]:
    """(ChargePoint class, call module, call_result module) of the ``ocpp`` package."""
    if version == "1.6":
        from ocpp.v16 import ChargePoint, call, call_result
    else:
        from ocpp.v201 import ChargePoint, call, call_result
    return ChargePoint, call, call_result


async def baseline_server(settings: Settings, port_out: Connection, stop: ProcessEvent) -> None:
    from ocpp.routing import on
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed
    from websockets.typing import Subprotocol

    charge_point, _, call_result = baseline_modules(settings.version)

    class Csms(charge_point):  # type: ignore[misc, valid-type]
        @on("MeterValues")
        def on_meter_values(self, **_: Any) -> Any:
            return call_result.MeterValues()

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        with contextlib.suppress(ConnectionClosed):
            await Csms(identity, connection).start()

    subprotocols = [Subprotocol(settings.subprotocol)]
    async with serve(handler, HOST, 0, subprotocols=subprotocols, compression=None) as server:
        port_out.send(server.sockets[0].getsockname()[1])
        await until_set(stop)


def baseline_failures() -> Failures:
    """What a failed round trip raises in the ``ocpp`` package."""
    from ocpp.exceptions import OCPPError
    from websockets.exceptions import ConnectionClosed

    return OCPPError, ConnectionClosed, TimeoutError


async def baseline_station(settings: Settings, url: str, identity: str,
                           stack: contextlib.AsyncExitStack) -> RoundTrip:
    from ocpp.charge_point import camel_to_snake_case
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    charge_point, call, _ = baseline_modules(settings.version)
    subprotocols = [Subprotocol(settings.subprotocol)]
    connection = await connect(f"{url}/{identity}", subprotocols=subprotocols, compression=None,
                               proxy=None)
    stack.push_async_callback(connection.close)
    station = charge_point(identity, connection)
    stack.push_async_callback(cancel, asyncio.create_task(station.start()))
    request = call.MeterValues(**camel_to_snake_case(meter_values(settings.version)))
    return lambda: station.call(request, suppress=False)


# -- chargeloop: OcppSession ------------------------------------------------------------------


async def chargeloop_server(settings: Settings, port_out: Connection, stop: ProcessEvent) -> None:
    from chargeloop.ocppj import OcppSession, OcppVersion, Role
    from chargeloop.ocppj.transport.websocket import ConnectionInfo, WebSocketTransport, serve_ocpp

    async def on_connect(transport: WebSocketTransport, info: ConnectionInfo) -> None:
        session = OcppSession(transport, info.version, role=Role.CSMS, identity=info.identity)
        session.route("MeterValues", lambda payload: {})
        await session.serve()

    version = OcppVersion.parse(settings.version)
    async with await serve_ocpp(on_connect, HOST, 0, versions=[version]) as server:
        port_out.send(server.port)
        await until_set(stop)


def chargeloop_failures() -> Failures:
    """What a failed round trip raises in chargeloop."""
    from chargeloop.ocppj import CallErrorReceived, CallTimeout, PayloadInvalid, SessionClosed

    return CallErrorReceived, CallTimeout, PayloadInvalid, SessionClosed


async def chargeloop_station(settings: Settings, url: str, identity: str,
                             stack: contextlib.AsyncExitStack) -> RoundTrip:
    from chargeloop.ocppj import OcppSession, OcppVersion, Role
    from chargeloop.ocppj.transport.websocket import connect_ocpp

    version = OcppVersion.parse(settings.version)
    transport = await connect_ocpp(url, identity=identity, versions=[version])
    session = OcppSession(transport, version, role=Role.STATION, identity=identity)
    stack.push_async_callback(session.close)
    stack.push_async_callback(cancel, asyncio.create_task(session.serve()))
    payload = meter_values(settings.version)
    return lambda: session.call("MeterValues", payload)


SERVERS = {"baseline": baseline_server, "chargeloop": chargeloop_server}
STATIONS = {"baseline": baseline_station, "chargeloop": chargeloop_station}
FAILURES = {"baseline": baseline_failures, "chargeloop": chargeloop_failures}


async def cancel(task: asyncio.Task[Any]) -> None:
    """Stop a receive loop at teardown, whether it is still running or already failed."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


# -- the station process ----------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """Latencies of the round trips that completed inside [start, end) of ``perf_counter``."""

    start: float
    end: float
    latencies: list[float]
    errors: int = 0


async def station_loop(round_trip: RoundTrip, failures: Failures, tally: Tally) -> None:
    """One station: the next CALL as soon as the last is answered, until the window closes.

    A failed round trip is counted and ends the station: the figures of a run with errors are
    not worth comparing, and a broken connection would only fail again at once.
    """
    clock = time.perf_counter
    done = clock()
    while done < tally.end:
        begun = clock()
        try:
            await round_trip()
        except failures:
            tally.errors += 1
            return
        done = clock()
        if tally.start <= done < tally.end:
            tally.latencies.append(done - begun)


def summarize(implementation: str, tally: Tally) -> Result:
    seconds = tally.end - tally.start
    latencies = sorted(tally.latencies)
    if len(latencies) < 2:
        return Result(implementation, len(latencies), tally.errors, seconds, 0.0, 0.0, 0.0)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Result(implementation, len(latencies), tally.errors, seconds,
                  len(latencies) / seconds, cuts[49] * 1000, cuts[98] * 1000)


async def drive_stations(implementation: str, settings: Settings, port: int) -> Result:
    url = f"ws://{HOST}:{port}/ocpp"
    connect = STATIONS[implementation]
    async with contextlib.AsyncExitStack() as stack:
        round_trips = await asyncio.gather(*(
            connect(settings, url, f"BENCH{i:05d}", stack) for i in range(settings.stations)))
        failures = FAILURES[implementation]()
        start = time.perf_counter() + settings.warmup
        tally = Tally(start, start + settings.seconds, [])
        await asyncio.gather(*(station_loop(rt, failures, tally) for rt in round_trips))
    return summarize(implementation, tally)


def stations_main(implementation: str, settings: Settings, port: int, out: Connection) -> None:
    result = run_loop(drive_stations(implementation, settings, port), settings.uvloop)
    out.send(asdict(result))


def server_main(implementation: str, settings: Settings, port_out: Connection,
                stop: ProcessEvent) -> None:
    run_loop(SERVERS[implementation](settings, port_out, stop), settings.uvloop)


# -- orchestration ----------------------------------------------------------------------------


def measure(implementation: str, settings: Settings) -> Result:
    """Start the server process, run the stations in a second process, and stop both."""
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    server_end, here = ctx.Pipe()
    server = ctx.Process(target=server_main, args=(implementation, settings, server_end, stop),
                         name=f"{implementation}-server", daemon=True)
    server.start()
    try:
        if not here.poll(30):
            raise RuntimeError(f"{implementation} server did not start")
        port = here.recv()
        stations_end, results = ctx.Pipe()
        stations = ctx.Process(target=stations_main,
                               args=(implementation, settings, port, stations_end),
                               name=f"{implementation}-stations", daemon=True)
        stations.start()
        limit = 60 + settings.warmup + settings.seconds
        if not results.poll(limit):
            stations.kill()
            raise RuntimeError(f"{implementation} stations gave no result within {limit:.0f} s")
        result = Result(**results.recv())
        stations.join(10)
        return result
    finally:
        stop.set()
        server.join(10)
        if server.is_alive():
            server.kill()


def report(settings: Settings, results: dict[str, Result]) -> dict[str, float]:
    from rich.console import Console
    from rich.table import Table

    loop = "uvloop" if settings.uvloop else "asyncio"
    table = Table(title=f"MeterValues round trips, OCPP {settings.version}, "
                        f"{settings.stations} stations, {settings.seconds:g} s, {loop}")
    for column in ("implementation", "round trips", "errors", "rt/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "implementation" else "right")
    for r in results.values():
        table.add_row(r.implementation, f"{r.round_trips:,}", str(r.errors), f"{r.rps:,.0f}",
                      f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}")
    baseline, chargeloop = results["baseline"], results["chargeloop"]
    ratio = chargeloop.rps / baseline.rps if baseline.rps else float("inf")
    console = Console()
    console.print(table)
    console.print(f"chargeloop / baseline: [bold]{ratio:.2f}x[/bold] round trips per second")
    return {"baseline_rps": round(baseline.rps, 1), "chargeloop_rps": round(chargeloop.rps, 1),
            "ratio": round(ratio, 2), "p99_ms": round(chargeloop.p99_ms, 3)}


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=100, help="concurrent stations")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds before measuring")
    parser.add_argument("--version", choices=("1.6", "2.0.1"), default="1.6")
    if HAS_UVLOOP:
        parser.add_argument("--uvloop", action="store_true",
                            help="run both sides on uvloop instead of asyncio's loop")
    args = parser.parse_args(argv)
    return Settings(args.stations, args.seconds, args.warmup, args.version,
                    getattr(args, "uvloop", False))


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    results = {name: measure(name, settings) for name in IMPLEMENTATIONS}
    summary = report(settings, results)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
