"""HIL meter emulation: Modbus TCP reads per second, their p99 latency, and the lateness of the
real-time clock while the emulator serves.

What is measured
    One process runs the meter emulator (``hil.emulator.MeterEmulator``, pymodbus TCP server on
    loopback) with ``--meters`` SDM630 units, and beside it, on the same asyncio loop, the shared
    simulation clock at factor 1 with one SimPy process per meter that publishes a new reading
    every ``--publish-ms`` (so the registers change while they are read, as on a bench), the
    meters' schedules spread over the period as independent devices' would be.
    Another process runs ``--clients`` pymodbus TCP clients, each reading the SDM630's first 76
    input registers (voltages to total power factor, one bulk read) from the units in turn,
    one request outstanding per client, as fast as answers come.

Why
    A bench polls meters every 100 ms to 1 s; an emulator that answers in well under 5 ms and a
    clock that stays on time while serving mean the harness, not the emulator, never limits a
    HIL run. Targets: >= 1,000 reads/s, p99 <= 5 ms, clock lateness p99 <= 5 ms.

Figures
    After a warm-up, every read completed within the window counts: reads per second summed
    over clients, the 50th/99th percentile of the read latency (``perf_counter`` around each
    request, in the client process) and the clock's lateness p50/p99/max over the whole serving
    time, warm-up included (the server's own histogram), the clients' window inside it. The
    last line is one JSON object:
    ``{"reads_per_s": ..., "p99_ms": ..., "lateness_p99_ms": ...}``.

Run
    python loadtests/benchmarks/hil.py [--seconds 10] [--clients 2] [--meters 20]
                                       [--publish-ms 100] [--warmup 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import statistics
import sys
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, and this file's name would hide
# the ``hil`` package it measures.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

HOST = "127.0.0.1"
READ_ADDRESS, READ_COUNT = 0, 76


def _serve(conn: Connection, meters: int, publish_ms: float, seconds: float,
           warmup: float) -> None:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    async def main() -> None:
        import numpy as np

        from chargeloop.clock import SimClock
        from hil.emulator import MeterEmulator
        from hil.registermap import load_map
        from simulator.meters import Meter

        emulator = MeterEmulator.of(load_map("sdm630"), range(1, meters + 1))
        _, port = await emulator.start_tcp(HOST, 0)
        clock = SimClock(datetime.now(UTC), speed=1.0)
        rng = np.random.default_rng(1)
        step = publish_ms / 1000.0

        def publisher(unit: int, meter: Any) -> Any:
            # meters refresh on their own schedules: spread them over the period instead of
            # having all due at the same instant (which would queue them behind each other)
            yield clock.env.timeout(step * (unit - 1) / meters)
            while True:
                meter.advance(7_400.0, step)
                emulator.publish(unit, meter.reading())
                yield clock.env.timeout(step)

        for unit, child in zip(range(1, meters + 1), rng.spawn(meters), strict=True):
            clock.env.process(publisher(unit, Meter(child, noise=0.005)))
        conn.send(port)
        loop = asyncio.get_running_loop()
        # the clock starts once the clients are connected ("go"): what is measured is serving,
        # not the other process starting up; it runs until they are done ("stop")
        await loop.run_in_executor(None, conn.recv)
        done = loop.run_in_executor(None, conn.recv)
        while not done.done():
            await clock.run(clock.now + 0.5)
        conn.send({"lateness": clock.lateness(), "requests": emulator.requests})
        await emulator.stop()

    asyncio.run(main())


def _read(conn: Connection, port: int, clients: int, meters: int, seconds: float,
          warmup: float) -> None:
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)

    async def main() -> None:
        from pymodbus.client import AsyncModbusTcpClient

        latencies: list[float] = []
        errors = 0
        loop = asyncio.get_running_loop()
        modbuses = [AsyncModbusTcpClient(HOST, port=port, timeout=2, retries=0)
                    for _ in range(clients)]
        for modbus in modbuses:
            if not await modbus.connect():
                raise RuntimeError(f"cannot connect to the emulator on port {port}")
        conn.send("ready")
        start = loop.time()
        window = (start + warmup, start + warmup + seconds)

        async def client(k: int) -> None:
            nonlocal errors
            modbus = modbuses[k]
            unit = k % meters
            while loop.time() < window[1]:
                unit = unit % meters + 1
                began = time.perf_counter()
                answer = await modbus.read_input_registers(READ_ADDRESS, count=READ_COUNT,
                                                           device_id=unit)
                took = (time.perf_counter() - began) * 1000.0
                if loop.time() >= window[0]:
                    if answer.isError() or len(answer.registers) != READ_COUNT:
                        errors += 1
                    else:
                        latencies.append(took)
            modbus.close()

        await asyncio.gather(*(client(k) for k in range(clients)))
        conn.send({"latencies": latencies, "errors": errors})

    asyncio.run(main())


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def measure(seconds: float, clients: int, meters: int, publish_ms: float,
            warmup: float) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    server_end, server_conn = context.Pipe()
    server = context.Process(target=_serve, args=(server_conn, meters, publish_ms, seconds,
                                                  warmup), daemon=True)
    server.start()
    deadline = time.monotonic() + 60
    while not server_end.poll(0.2):
        if not server.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator process did not start (see its error above)")
    port = server_end.recv()
    client_end, client_conn = context.Pipe()
    reader = context.Process(target=_read, args=(client_conn, port, clients, meters, seconds,
                                                 warmup), daemon=True)
    reader.start()
    if not client_end.poll(60):
        raise RuntimeError("the clients did not connect within 60 s")
    client_end.recv()
    server_end.send("go")
    if not client_end.poll(warmup + seconds + 60):
        raise RuntimeError("the clients did not report within the run time + 60 s")
    reads = client_end.recv()
    server_end.send("stop")
    if not server_end.poll(60):
        raise RuntimeError("the emulator did not report within 60 s")
    served = server_end.recv()
    reader.join(10)
    server.join(10)
    latencies = reads["latencies"]
    return {
        "reads": len(latencies), "errors": reads["errors"],
        "reads_per_s": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": _percentile(latencies, 0.99),
        "lateness": served["lateness"], "served_requests": served["requests"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window (s)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up before it (s)")
    parser.add_argument("--clients", type=int, default=2,
                        help="concurrent Modbus TCP clients, one request outstanding each")
    parser.add_argument("--meters", type=int, default=20, help="emulated meters (unit ids)")
    parser.add_argument("--publish-ms", type=float, default=100.0,
                        help="each meter publishes a new reading this often (ms); real "
                             "meters refresh their registers about ten times a second")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.clients < 1 or not 1 <= args.meters <= 247 \
            or args.publish_ms <= 0 or args.warmup < 0:
        parser.error("seconds and publish-ms must be > 0, clients >= 1, meters 1..247, "
                     "warmup >= 0")
    result = measure(args.seconds, args.clients, args.meters, args.publish_ms, args.warmup)
    late = result["lateness"]
    print(f"Modbus TCP, {args.clients} clients, {args.meters} SDM630 units, "
          f"{READ_COUNT}-register reads, {args.seconds:g} s window")
    print(f"  reads/s            {result['reads_per_s']:10.0f}   (target >= 1000; "
          f"{result['errors']} errors)")
    print(f"  latency p50 / p99  {result['p50_ms']:7.3f} / {result['p99_ms']:.3f} ms   "
          f"(target p99 <= 5)")
    print(f"  clock lateness     p50 {late['p50_ms']:.3f} / p99 {late['p99_ms']:.3f} / max "
          f"{late['max_ms']:.3f} ms over {late['steps']:.0f} steps   (target p99 <= 5)")
    print(json.dumps({"reads_per_s": round(result["reads_per_s"], 1),
                      "p99_ms": round(result["p99_ms"], 3),
                      "lateness_p99_ms": round(late["p99_ms"], 3)}))


if __name__ == "__main__":
    main()
