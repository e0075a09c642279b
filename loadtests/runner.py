"""Run locust headless (alone, or one master and N workers on loopback) or with its web UI.

locust runs in processes of its own: it monkey-patches the standard library for gevent when
imported, which must not happen to the caller (the CLI, a test, a notebook). The processes'
output goes to log files in the run folder; the figures come back through locust's CSV and HTML
files and our ``--summary-json`` (:mod:`loadtests.reporting`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.reference import HOST, free_port
from loadtests.settings import StationTiming
from loadtests.shape_plan import ShapePlan

PACKAGE = Path(__file__).parent
LOCUSTFILE = PACKAGE / "locustfile.py"
SHAPES_FILE = PACKAGE / "shapes.py"
SUMMARY_FILE = "locust_summary.json"
CSV_PREFIX = "locust"
HTML_FILE = "locust.html"
# Beyond the shape's duration: start-up, stopping every station, writing the results.
GRACE_S = 90.0
STOP_TIMEOUT_S = 10


class LocustFailed(RuntimeError):
    """locust ended without results; the message carries the end of its log."""


@dataclass(frozen=True, slots=True)
class StationOptions:
    """Everything the stations need, as locust options (see :mod:`loadtests.options`)."""

    mix: str
    timing: StationTiming
    prefix: str = "LOAD"
    password: str | None = None
    seed: int = 0
    validation: str = "strict"

    def arguments(self) -> list[str]:
        t = self.timing
        args = ["--mix", self.mix, "--station-prefix", self.prefix, "--seed", str(self.seed),
                "--speed", repr(t.speed), "--heartbeat-interval", repr(t.heartbeat_interval_s),
                "--meter-interval", repr(t.meter_interval_s),
                "--session-duration", repr(t.session_duration_s),
                "--session-pause", repr(t.session_pause_s),
                "--call-timeout", repr(t.call_timeout_s),
                "--connect-timeout", repr(t.connect_timeout_s),
                "--reconnect-at", repr(t.reconnect_at_s),
                "--reconnect-within", repr(t.reconnect_within_s),
                "--validation", self.validation]
        if self.password:
            args += ["--station-password", self.password]
        return args


@dataclass
class HeadlessRun:
    url: str
    plan: ShapePlan
    stations: StationOptions
    folder: Path
    workers: int = 0  # 0: one local process; N: a master and N workers on loopback
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def summary_path(self) -> Path:
        return self.folder / SUMMARY_FILE


def locust_command() -> list[str]:
    return [sys.executable, "-m", "locust"]


def _common(url: str, files: list[Path]) -> list[str]:
    return [*locust_command(), "-f", ",".join(str(f) for f in files), "--host", url]


def headless_commands(run: HeadlessRun, master_port: int | None = None
                      ) -> tuple[list[str], list[list[str]]]:
    """The main locust command (local runner or master) and the workers' commands."""
    plan = run.plan
    main = [*_common(run.url, [LOCUSTFILE, SHAPES_FILE]), "--headless", "--only-summary",
            "--csv", str(run.folder / CSV_PREFIX), "--html", str(run.folder / HTML_FILE),
            "--summary-json", str(run.summary_path),
            "--shape", plan.shape, "--stations", str(plan.stations),
            "--shape-duration", repr(plan.duration_s),
            "--arrive-within", repr(plan.arrive_within_s),
            "--logfile", str(run.folder / "locust.log"), "--loglevel", "INFO",
            # Stations stop gracefully (end their session, close) within this, then are killed.
            "--stop-timeout", str(STOP_TIMEOUT_S), *run.stations.arguments()]
    workers: list[list[str]] = []
    if run.workers > 0:
        assert master_port is not None
        main += ["--master", "--master-bind-host", HOST, "--master-bind-port", str(master_port),
                 "--expect-workers", str(run.workers), "--expect-workers-max-wait", "60"]
        for index in range(run.workers):
            workers.append([*_common(run.url, [LOCUSTFILE]), "--worker", "--master-host", HOST,
                            "--master-port", str(master_port),
                            "--logfile", str(run.folder / f"locust-worker-{index}.log"),
                            "--loglevel", "INFO"])
    return main, workers


def _environment(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


@contextmanager
def _processes(commands: list[list[str]], logs: list[Path], env: dict[str, str]
               ) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        for command, log_path in zip(commands, logs, strict=True):
            with log_path.open("wb") as log:
                started.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                env=env))
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def run_headless(run: HeadlessRun, progress: Callable[[float], None] | None = None
                 ) -> dict[str, Any]:
    """Run the load test to its end and return the summary (:func:`loadtests.reporting.
    summarise`). ``progress`` is called with the seconds elapsed, about twice a second."""
    run.folder.mkdir(parents=True, exist_ok=True)
    master_port = free_port() if run.workers > 0 else None
    main, workers = headless_commands(run, master_port)
    logs = [run.folder / "locust.out"] + [run.folder / f"locust-worker-{i}.out"
                                          for i in range(len(workers))]
    deadline_s = run.plan.duration_s + GRACE_S + (60.0 if workers else 0.0)
    started = time.monotonic()
    with _processes([main, *workers], logs, _environment(run.extra_env)) as processes:
        master = processes[0]
        while master.poll() is None:
            elapsed = time.monotonic() - started
            if elapsed > deadline_s:
                raise LocustFailed(f"locust did not finish within {deadline_s:.0f} s:\n"
                                   f"{_tail(logs[0])}")
            if progress is not None:
                progress(elapsed)
            try:
                master.wait(0.5)
            except subprocess.TimeoutExpired:
                continue
        for worker in processes[1:]:
            try:
                worker.wait(30)  # workers quit when the master tells them
            except subprocess.TimeoutExpired:
                worker.terminate()
    if not run.summary_path.is_file():
        raise LocustFailed(f"locust exited with {master.returncode} and wrote no results:\n"
                           f"{_tail(logs[0])}\n{_tail(run.folder / 'locust.log')}")
    summary: dict[str, Any] = json.loads(run.summary_path.read_text())
    summary["locust_exit_code"] = master.returncode
    return summary


def ui_command(url: str, stations: StationOptions, *, web_port: int, web_host: str = HOST,
               shaped: bool = False) -> list[str]:
    """locust with its web UI; the stations' options become the UI's defaults."""
    files = [LOCUSTFILE, SHAPES_FILE] if shaped else [LOCUSTFILE]
    return [*_common(url, files), "--web-host", web_host, "--web-port", str(web_port),
            *stations.arguments()]


def _tail(path: Path, size: int = 3000) -> str:
    if not path.is_file():
        return f"({path.name} is missing)"
    return path.read_text(errors="replace")[-size:]
