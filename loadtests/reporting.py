"""Figures locust does not keep by itself, and the summary a run leaves behind.

* **Connected stations**, a gauge: each worker sends how many of its stations hold an open
  connection with every report to the master (``report_to_master``); the master keeps the last
  figure per worker and samples their sum, so it knows the peak, when all stations were first
  connected, and how many each worker held then. Without workers the local runner samples its
  own count.
* **The summary** (``--summary-json``), written by the master (or the local runner) when locust
  quits: all OCPP round trips taken together (count, failures, p50/p95/p99, round trips per
  second), the WebSocket handshakes, every action, every failure with its reason, and the
  gauge's figures. ``chargeloop load run`` checks its thresholds against this file.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import StatsEntry, StatsError

from loadtests.station_user import WS, connected_stations

log = logging.getLogger("chargeloop.loadtests")

GAUGE_KEY = "chargeloop_connected"
SAMPLE_S = 0.5


class ConnectedGauge:
    def __init__(self) -> None:
        self.by_worker: dict[str, int] = {}
        self.peak = 0
        self.peak_by_worker: dict[str, int] = {}
        self.all_connected_after_s: float | None = None
        self.started: float | None = None
        self.timeline: list[tuple[float, int]] = []
        self.before_stop: int | None = None
        self.stopping_at: float | None = None  # wall clock (time.time), like locust's stats
        self.sampler: gevent.Greenlet | None = None

    def current(self, environment: Environment) -> int:
        if isinstance(environment.runner, MasterRunner):
            return sum(self.by_worker.values())
        return connected_stations()

    def sample(self, environment: Environment, target: int) -> None:
        if self.started is None:
            self.started = time.monotonic()
        now = self.current(environment)
        elapsed = time.monotonic() - self.started
        self.timeline.append((round(elapsed, 3), now))
        if now > self.peak:
            self.peak = now
            self.peak_by_worker = dict(self.by_worker)
        if self.all_connected_after_s is None and target > 0 and now >= target:
            self.all_connected_after_s = round(elapsed, 3)

    def mark_before_stop(self, environment: Environment) -> None:
        """The figure before the stations are stopped (afterwards every connection closes)."""
        if self.before_stop is not None or self.started is None:
            return
        self.sample(environment, int(getattr(environment.parsed_options, "stations", 0) or 0))
        self.before_stop = self.current(environment)
        self.stopping_at = time.time()


gauge = ConnectedGauge()


@events.report_to_master.add_listener
def _report_connected(client_id: str, data: dict[str, Any]) -> None:
    data[GAUGE_KEY] = connected_stations()


@events.worker_report.add_listener
def _receive_connected(client_id: str, data: dict[str, Any]) -> None:
    if GAUGE_KEY in data:
        gauge.by_worker[client_id] = int(data[GAUGE_KEY])


@events.test_start.add_listener
def _start_sampling(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or gauge.started is not None:
        return
    target = int(getattr(environment.parsed_options, "stations", 0) or 0)

    def sample_forever() -> None:
        while True:
            gauge.sample(environment, target)
            gevent.sleep(SAMPLE_S)  # a sampling period, not synchronisation

    gauge.sampler = gevent.spawn(sample_forever)


@events.test_stopping.add_listener
def _stop_sampling(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    gauge.mark_before_stop(environment)
    if gauge.sampler is not None:
        gauge.sampler.kill(block=False)


@events.quitting.add_listener
def _write_summary(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    path = getattr(environment.parsed_options, "summary_json", "")
    if not path:
        return
    Path(path).write_text(json.dumps(summarise(environment), indent=2, sort_keys=True))


def _entry_figures(entry: StatsEntry, seconds: float) -> dict[str, Any]:
    count = entry.num_requests
    return {
        "requests": count, "failures": entry.num_failures,
        "fail_ratio": round(entry.fail_ratio, 6),
        "p50_ms": entry.get_response_time_percentile(0.5) if count else None,
        "p95_ms": entry.get_response_time_percentile(0.95) if count else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if count else None,
        "max_ms": round(entry.max_response_time, 3) if count else None,
        "avg_ms": round(entry.avg_response_time, 3) if count else None,
        "rps": round(count / seconds, 3) if seconds > 0 else 0.0,
    }


def summarise(environment: Environment) -> dict[str, Any]:
    stats = environment.stats
    # Rates are over the load phase: from the start until the stations were told to stop.
    end = gauge.stopping_at or stats.last_request_timestamp or stats.start_time
    seconds = max(0.0, end - stats.start_time)
    ocpp = StatsEntry(stats, "OCPP round trips", "", use_response_times_cache=False)
    connects = StatsEntry(stats, "connect", WS, use_response_times_cache=False)
    actions = []
    for entry in sorted(stats.entries.values(), key=lambda e: (e.method, e.name)):
        if entry.method == WS:
            if entry.name == "connect":
                connects.extend(entry)
            else:
                continue
        else:
            ocpp.extend(entry)
        actions.append({"type": entry.method, "name": entry.name,
                        **_entry_figures(entry, seconds)})
    total = stats.total
    # Locally the error is the exception; from workers it arrives as its repr: one form.
    failures = [{"type": e.method, "name": e.name, "error": StatsError.parse_error(e.error),
                 "occurrences": e.occurrences} for e in stats.errors.values()]
    return {
        "seconds": round(seconds, 3),
        "ocpp": _entry_figures(ocpp, seconds),
        "connect": _entry_figures(connects, seconds),
        "all": {"requests": total.num_requests, "failures": total.num_failures,
                "fail_ratio": round(total.fail_ratio, 6)},
        "actions": actions,
        "failures": sorted(failures, key=lambda f: -f["occurrences"]),
        "stations": {
            "target": int(getattr(environment.parsed_options, "stations", 0) or 0),
            "peak_connected": gauge.peak,
            "connected_before_stop": gauge.before_stop,
            "all_connected_after_s": gauge.all_connected_after_s,
            "peak_by_worker": sorted(gauge.peak_by_worker.values()),
            "workers": len(gauge.by_worker),
        },
        "connected_timeline": gauge.timeline,
    }
