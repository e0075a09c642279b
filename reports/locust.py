"""Load-test runs: the CSV files locust writes with ``--csv PREFIX`` (``PREFIX_stats.csv``,
``PREFIX_stats_history.csv``, ``PREFIX_failures.csv``), found in the run folder or a folder
inside it, read as locust writes them (``N/A`` where a percentile has no data yet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from reports.run import ReportError, RunData

AGGREGATED = "Aggregated"  # locust's name for the row over all requests


def locust_file(run: RunData, kind: str) -> Path | None:
    """``stats``, ``stats_history`` or ``failures``: the run's file of that kind, if any."""
    if run.path is None:
        return None
    found = sorted(run.path.glob(f"*_{kind}.csv")) + sorted(run.path.glob(f"*/*_{kind}.csv"))
    return found[0] if found else None


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, na_values=["N/A"], keep_default_na=False)
    except (ValueError, OSError) as exc:
        raise ReportError(f"{path}: not a locust CSV file ({exc})") from exc


def stats(run: RunData) -> pd.DataFrame | None:
    path = locust_file(run, "stats")
    if path is None:
        return None
    frame = _read(path)
    needed = {"Name", "Request Count", "Failure Count", "Requests/s"}
    if not needed <= set(frame.columns):
        raise ReportError(f"{path}: a locust stats file has the columns "
                          f"{', '.join(sorted(needed))}; found {', '.join(frame.columns)}")
    return frame


def locust_kpis(run: RunData) -> dict[str, float | int]:
    frame = stats(run)
    if frame is None:
        return {}
    total = frame[frame["Name"] == AGGREGATED]
    if not len(total):
        return {}
    row = total.iloc[0]
    requests, failures = int(row["Request Count"]), int(row["Failure Count"])
    out: dict[str, float | int] = {
        "load_requests": requests, "load_failures": failures,
        "load_failure_pct": round(100 * failures / requests, 3) if requests else 0.0,
        "load_requests_per_s": round(float(row["Requests/s"]), 2)}
    for column, key in (("Median Response Time", "load_p50_ms"), ("95%", "load_p95_ms"),
                        ("99%", "load_p99_ms"), ("Max Response Time", "load_max_ms")):
        if column in row and pd.notna(row[column]):
            out[key] = round(float(row[column]), 2)
    return out


def load_plot(run: RunData) -> Figure | None:
    """Requests and failures per second, users, and response time percentiles over the
    test (the aggregated rows of the history file)."""
    path = locust_file(run, "stats_history")
    if path is None:
        return None
    history = _read(path)
    history = history[history["Name"] == AGGREGATED]
    if len(history) < 2:
        return None
    t = history["Timestamp"].to_numpy(float)
    t = t - t[0]
    from reports.plots import margins  # plots imports this module
    figure = Figure(figsize=(7.5, 4.4))
    margins(figure, right=0.6, hspace=0.15)
    rate, latency = figure.subplots(2, 1, sharex=True)
    rate.plot(t, history["Requests/s"], label="requests/s")
    rate.plot(t, history["Failures/s"], label="failures/s", color="#cf222e")
    users = rate.twinx()
    users.step(t, history["User Count"], where="post", color="grey", linestyle=":",
               label="users")
    users.set_ylabel("users")
    rate.set_ylabel("per second")
    rate.set_title("Load test: throughput and response time")
    rate.legend(loc="upper left", fontsize="small")
    for column in ("50%", "95%", "99%"):
        if column in history:
            latency.plot(t, history[column].to_numpy(float), label=f"p{column[:-1]}")
    latency.set_ylabel("response time (ms)")
    latency.set_xlabel("seconds since start")
    latency.legend(loc="upper left", fontsize="small")
    for axes in (rate, latency):
        axes.grid(alpha=0.3)
    latency.set_ylim(bottom=0, top=max(1.0, float(np.nanmax(
        history[[c for c in ("50%", "95%", "99%") if c in history]].to_numpy(float)))) * 1.1)
    return figure


def failures(run: RunData) -> pd.DataFrame | None:
    path = locust_file(run, "failures")
    return None if path is None else _read(path)
