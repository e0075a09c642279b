"""A load test's run folder: locust's own files plus chargeloop's tables and summary.

Besides locust's CSV (``locust_stats.csv``, ``locust_stats_history.csv``,
``locust_failures.csv``, ``locust_exceptions.csv``), its HTML report (``locust.html``) and
logs, the folder gets the tables ``reports`` reads (:mod:`chargeloop.runs`):

* ``load_requests``: per action and type (``ocpp1.6``, ``ocpp2.0.1``, ``WS``): requests,
  failures, p50/p95/p99/max/avg ms, per second;
* ``load_failures``: each failure reason with its count;
* ``load_history``: locust's per-second history (users, requests/s, percentiles);
* ``load_connected``: connected stations over time;
* ``load_thresholds``: each limit, the figure and its verdict;

and ``summary.json`` with the KPIs and verdicts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from chargeloop.runs import RunFolder
from loadtests.runner import CSV_PREFIX
from loadtests.thresholds import Verdict

_REQUESTS = pa.schema([("type", pa.string()), ("name", pa.string()), ("requests", pa.int64()),
                       ("failures", pa.int64()), ("fail_ratio", pa.float64()),
                       ("p50_ms", pa.float64()), ("p95_ms", pa.float64()),
                       ("p99_ms", pa.float64()), ("max_ms", pa.float64()),
                       ("avg_ms", pa.float64()), ("rps", pa.float64())])
_FAILURES = pa.schema([("type", pa.string()), ("name", pa.string()), ("error", pa.string()),
                       ("occurrences", pa.int64())])
_THRESHOLDS = pa.schema([("threshold", pa.string()), ("limit", pa.float64()),
                         ("value", pa.float64()), ("passed", pa.bool_())])


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "column"


def kpis(summary: dict[str, Any]) -> dict[str, Any]:
    ocpp, connect, stations = summary["ocpp"], summary["connect"], summary["stations"]
    return {
        "round_trips": ocpp["requests"], "round_trip_failures": ocpp["failures"],
        "rps": ocpp["rps"], "p50_ms": ocpp["p50_ms"], "p95_ms": ocpp["p95_ms"],
        "p99_ms": ocpp["p99_ms"], "connects": connect["requests"],
        "connect_failures": connect["failures"], "connect_p95_ms": connect["p95_ms"],
        "fail_ratio": summary["all"]["fail_ratio"],
        "stations_target": stations["target"], "stations_peak_connected":
            stations["peak_connected"],
        "stations_connected_before_stop": stations["connected_before_stop"],
        "all_connected_after_s": stations["all_connected_after_s"],
        "stations_by_worker": stations["peak_by_worker"], "seconds": summary["seconds"],
    }


def write_results(folder: RunFolder, summary: dict[str, Any], verdicts: list[Verdict],
                  configuration: dict[str, Any]) -> dict[str, Any]:
    """Tables and ``summary.json``; returns what went into ``summary.json``."""
    folder.write_table("load_requests", summary["actions"], schema=_REQUESTS)
    folder.write_table("load_failures", summary["failures"], schema=_FAILURES)
    folder.write_table("load_thresholds", [v.as_row() for v in verdicts], schema=_THRESHOLDS)
    folder.write_table("load_connected", [{"elapsed_s": t, "connected": n}
                                          for t, n in summary["connected_timeline"]],
                       schema=pa.schema([("elapsed_s", pa.float64()),
                                         ("connected", pa.int64())]))
    history = folder.path / f"{CSV_PREFIX}_stats_history.csv"
    if history.is_file():
        frame = pd.read_csv(history)
        frame.columns = [_snake(c) for c in frame.columns]
        folder.write_table("load_history", frame)
    passed = all(v.passed for v in verdicts)
    result = {"kind": "loadtest", "passed": passed, "kpis": kpis(summary),
              "verdicts": [v.as_row() for v in verdicts], "failures": summary["failures"][:20],
              "configuration": configuration,
              "locust_exit_code": summary.get("locust_exit_code")}
    folder.write_summary(result)
    return result


def locust_files(folder: Path) -> list[Path]:
    """locust's own result files in the folder."""
    return sorted(p for p in folder.iterdir()
                  if p.name.startswith(CSV_PREFIX) and p.suffix in (".csv", ".html"))
