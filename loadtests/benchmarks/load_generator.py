"""The locust load generator's own limits: stations held and round trips driven per process.

What is measured
    One locust process (the local runner, which is what each worker of a distributed run is)
    running chargeloop's station users:

    * **stations held**: N stations (default 5,000) boot within a storm and then stay connected,
      heartbeating every ``--heartbeat-s`` seconds, against the minimal echo CSMS
      (``loadtests/echo_csms.py``: answers at once, stores nothing). The figure is the number of
      stations still connected when the run ends, counted only if no heartbeat failed.
    * **round trips per second**: ``--rps-stations`` stations (default 200) run full sessions
      (authorise, start, meter values, stop; half 1.6, half 2.0.1) compressed by a speed factor
      of 1,000, so each keeps a CALL outstanding nearly all the time. Measured against the
      reference CSMS (``chargeloop csms serve`` on a fresh SQLite file: every message is
      validated and committed before it is answered) and against the echo CSMS. Against the
      echo CSMS the generator is the only real work, so ``rps_echo`` is what one process can
      drive; ``rps_reference`` below it means the reference CSMS was the bottleneck.

    Each CSMS runs in a process of its own on loopback; on a 2-core machine CSMS and generator
    share the cores, so these are lower bounds for the generator.

Why
    To know how many worker processes a given load needs, and to show that a figure measured
    against a CSMS is the CSMS's and not the generator's.

Run
    python loadtests/benchmarks/load_generator.py [--stations 5000] [--hold-seconds 120]
        [--rps-stations 200] [--rps-seconds 30] [--quick]

    The last line printed is one JSON object:
    ``{"stations_held": ..., "rps_reference": ..., "rps_echo": ...}``.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# Run as a script, this file's folder comes first on sys.path, and its neighbour csms.py would
# hide the csms package that starts the reference CSMS.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from loadtests.reference import HOST, free_port, provision_tokens, reference_csms  # noqa: E402
from loadtests.runner import HeadlessRun, StationOptions, run_headless  # noqa: E402
from loadtests.settings import StationTiming, station_identity  # noqa: E402
from loadtests.shape_plan import ShapePlan  # noqa: E402

console = Console(stderr=True)
SESSIONS = "sessions-1.6=1,sessions-2.0.1=1"
HEARTBEATS = "heartbeat-1.6=1,heartbeat-2.0.1=1"
SPEED = 1000.0
STARTUP_LIMIT_S = 30.0


def _echo_csms(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "loadtests.echo_csms", "--port",
                                str(port)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return process
        except OSError:
            time.sleep(0.05)  # polling a starting process, bounded by the deadline
    process.kill()
    raise RuntimeError("the echo CSMS did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def hold_stations(folder: Path, stations: int, seconds: float, storm_s: float,
                  heartbeat_s: float) -> dict[str, Any]:
    port = free_port()
    echo = _echo_csms(port)
    try:
        timing = StationTiming(heartbeat_interval_s=heartbeat_s, connect_timeout_s=60,
                               call_timeout_s=60)
        run = HeadlessRun(f"ws://{HOST}:{port}/ocpp", ShapePlan("boot-storm", stations,
                                                                 seconds, storm_s),
                          StationOptions(HEARTBEATS, timing, prefix="HOLD"), folder)
        return run_headless(run)
    finally:
        _stop(echo)


def drive(folder: Path, url: str, stations: int, seconds: float) -> dict[str, Any]:
    timing = StationTiming(speed=SPEED, heartbeat_interval_s=60, meter_interval_s=10,
                           session_duration_s=1200, session_pause_s=60)
    run = HeadlessRun(url, ShapePlan("steady", stations, seconds, min(2.0, seconds / 4)),
                      StationOptions(SESSIONS, timing, prefix="RPS"), folder)
    return run_headless(run)


def held(summary: dict[str, Any]) -> int:
    beats = [a for a in summary["actions"] if a["name"] == "Heartbeat"]
    if any(a["failures"] for a in beats) or not beats:
        return 0
    return int(summary["stations"]["connected_before_stop"] or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=5000)
    parser.add_argument("--hold-seconds", type=float, default=120.0)
    parser.add_argument("--storm-seconds", type=float, default=50.0)
    parser.add_argument("--heartbeat-s", type=float, default=30.0)
    parser.add_argument("--rps-stations", type=int, default=200)
    parser.add_argument("--rps-seconds", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true",
                        help="500 stations held for 40 s, 50 stations for 10 s per CSMS.")
    args = parser.parse_args()
    if args.quick:
        args.stations, args.hold_seconds, args.storm_seconds = 500, 40.0, 10.0
        args.heartbeat_s, args.rps_stations, args.rps_seconds = 10.0, 50, 10.0

    rows = []
    with tempfile.TemporaryDirectory(prefix="chargeloop-load-bench-") as tmp:
        root = Path(tmp)
        console.print(f"holding {args.stations} stations for {args.hold_seconds:g} s ...")
        hold = hold_stations(root / "hold", args.stations, args.hold_seconds,
                             args.storm_seconds, args.heartbeat_s)
        rows.append(("stations held (echo CSMS)", hold))
        console.print(f"driving {args.rps_stations} stations against the echo CSMS ...")
        port = free_port()
        echo = _echo_csms(port)
        try:
            on_echo = drive(root / "echo", f"ws://{HOST}:{port}/ocpp", args.rps_stations,
                            args.rps_seconds)
        finally:
            _stop(echo)
        rows.append(("round trips, echo CSMS", on_echo))
        console.print(f"driving {args.rps_stations} stations against the reference CSMS ...")
        with reference_csms(root / "reference") as csms:
            provision_tokens(csms, [station_identity("RPS", 0, n)
                                    for n in range(1, args.rps_stations + 1)])
            on_reference = drive(root / "ref", csms.ocpp_url, args.rps_stations,
                                 args.rps_seconds)
        rows.append(("round trips, reference CSMS", on_reference))

    table = Table(title="locust load generator, one process")
    for column in ("run", "stations", "connected", "round trips", "per s", "p50 ms", "p95 ms",
                   "p99 ms", "failures"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, summary in rows:
        ocpp, st = summary["ocpp"], summary["stations"]
        table.add_row(name, str(st["target"]), str(st["connected_before_stop"]),
                      str(ocpp["requests"]), f"{ocpp['rps']:.0f}", str(ocpp["p50_ms"]),
                      str(ocpp["p95_ms"]), str(ocpp["p99_ms"]),
                      str(summary["all"]["failures"]))
    Console(width=120).print(table)
    result = {"stations_held": held(hold), "rps_reference": round(on_reference["ocpp"]["rps"]),
              "rps_echo": round(on_echo["ocpp"]["rps"])}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
