"""The key figures of a run, computed from its tables.

Every figure is defined here once, with its unit and which way is better, so the single-run
report, the A-vs-B comparison and the sweep view all show the same numbers. A figure appears
only when the run has the table it is computed from (a run without payments has no revenue,
not a revenue of zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import numpy as np
import pandas as pd

from reports.locust import locust_kpis
from reports.run import RunData

Better = Literal["higher", "lower"] | None


@dataclass(frozen=True)
class KpiSpec:
    key: str
    label: str
    unit: str = ""
    better: Better = None  # which way a change is an improvement; None: neither
    digits: int = 0


_SPECS = (
    KpiSpec("sessions", "sessions", better="higher"),
    KpiSpec("sessions_completed", "sessions completed", better="higher"),
    KpiSpec("energy_kwh", "energy metered", "kWh", "higher", 2),  # at the stations' meters
    KpiSpec("utilisation_pct", "utilisation (charging time / EVSE time)", "%", "higher", 1),
    KpiSpec("occupancy_pct", "occupancy (plugged-in time / EVSE time)", "%", None, 1),
    KpiSpec("peak_power_kw", "peak power", "kW", None, 1),
    KpiSpec("average_power_kw", "average power over the run", "kW", None, 2),
    KpiSpec("average_charging_power_kw", "average power while charging", "kW", "higher", 2),
    KpiSpec("visits", "visits (drivers arriving)"),
    KpiSpec("visits_waited", "visits that waited for a charger", "", "lower"),
    KpiSpec("visits_abandoned", "visits that gave up waiting", "", "lower"),
    KpiSpec("mean_wait_min", "mean wait", "min", "lower", 2),
    KpiSpec("p95_wait_min", "95th percentile wait", "min", "lower", 2),
    KpiSpec("max_wait_min", "longest wait", "min", "lower", 2),
    KpiSpec("max_queue", "longest queue", "drivers", "lower"),
    KpiSpec("payments_captured", "payments captured", "", "higher"),
    KpiSpec("payments_declined", "payments declined", "", "lower"),
    KpiSpec("notifications_sent", "notifications sent"),
    KpiSpec("ocpp_messages", "OCPP messages (CALLs)"),
    KpiSpec("latency_p50_ms", "latency p50", "ms", "lower", 2),
    KpiSpec("latency_p90_ms", "latency p90", "ms", "lower", 2),
    KpiSpec("latency_p99_ms", "latency p99", "ms", "lower", 2),
    KpiSpec("latency_max_ms", "latency max", "ms", "lower", 2),
    KpiSpec("message_errors", "messages not answered OK", "", "lower"),
    KpiSpec("alerts", "alerts raised by the CSMS", "", "lower"),
    KpiSpec("faulted_status", "Faulted status notifications", "", "lower"),
    KpiSpec("faults_injected", "faults injected"),
    KpiSpec("lateness_p50_ms", "clock lateness p50", "ms", "lower", 1),
    KpiSpec("lateness_p99_ms", "clock lateness p99", "ms", "lower", 1),
    KpiSpec("lateness_max_ms", "clock lateness max", "ms", "lower", 1),
    KpiSpec("load_requests", "load test requests"),
    KpiSpec("load_failures", "load test failures", "", "lower"),
    KpiSpec("load_failure_pct", "load test failure rate", "%", "lower", 2),
    KpiSpec("load_requests_per_s", "load test throughput", "req/s", "higher", 1),
    KpiSpec("load_p50_ms", "response time p50", "ms", "lower", 1),
    KpiSpec("load_p95_ms", "response time p95", "ms", "lower", 1),
    KpiSpec("load_p99_ms", "response time p99", "ms", "lower", 1),
    KpiSpec("load_max_ms", "response time max", "ms", "lower", 1),
    KpiSpec("cases_passed", "cases passed", "", "higher"),
    KpiSpec("cases_failed", "cases failed", "", "lower"),
    KpiSpec("cases_not_applicable", "cases not applicable"),
    KpiSpec("cases_not_implemented", "cases not implemented", "", "lower"),
    KpiSpec("cases_not_run", "cases not run", "", "lower"),
)
SPECS: dict[str, KpiSpec] = {s.key: s for s in _SPECS}
REVENUE_PREFIX = "revenue_"


def spec(key: str) -> KpiSpec:
    """The spec of a KPI; revenue keys (``revenue_eur``) are made per currency."""
    if key in SPECS:
        return SPECS[key]
    if key.startswith(REVENUE_PREFIX):
        currency = key.removeprefix(REVENUE_PREFIX).upper()
        return KpiSpec(key, f"revenue (captured less refunded, {currency})", currency,
                       "higher", 2)
    return KpiSpec(key, key.replace("_", " "))


def run_kpis(run: RunData) -> dict[str, float | int]:
    """Every KPI the run has data for, in display order."""
    out: dict[str, float | int] = {}
    out.update(_session_kpis(run))
    out.update(_visit_kpis(run))
    out.update(_payment_kpis(run))
    if run.has("csms_notifications"):
        notes = run.table("csms_notifications")
        out["notifications_sent"] = int((notes["state"] == "sent").sum()) if len(notes) else 0
    out.update(_message_kpis(run))
    if run.has("csms_alerts"):
        out["alerts"] = len(run.table("csms_alerts"))
    if run.has("status_changes"):
        statuses = run.table("status_changes")
        out["faulted_status"] = int((statuses["status"] == "Faulted").sum()) \
            if len(statuses) else 0
    if run.has("faults"):
        out["faults_injected"] = len(run.table("faults"))
    lateness = run.summary.get("lateness") or {}
    if lateness.get("steps"):
        for q in ("p50", "p99", "max"):
            out[f"lateness_{q}_ms"] = round(float(lateness[f"{q}_ms"]), 1)
    out.update(locust_kpis(run))
    if run.kind == "conformance":
        for verdict in ("passed", "failed", "not_applicable", "not_implemented", "not_run"):
            if isinstance(run.summary.get(verdict), int):
                out[f"cases_{verdict}"] = run.summary[verdict]
    # plain Python numbers: numpy scalars would print as np.float64(...) and not JSON
    return {k: int(v) if isinstance(v, int | np.integer) else float(v) for k, v in out.items()}


# -- sessions, energy, utilisation, power --------------------------------------------------------


def _session_kpis(run: RunData) -> dict[str, float | int]:
    if not run.has("sessions"):
        return {}
    sessions = run.table("sessions")
    out: dict[str, float | int] = {"sessions": len(sessions)}
    if not len(sessions):
        return out | {"sessions_completed": 0, "energy_kwh": 0.0}
    out["sessions_completed"] = int(sessions["stopped_s"].notna().sum())
    energy_wh = float(sessions["energy_wh"].sum())
    out["energy_kwh"] = round(energy_wh / 1000, 3)
    horizon, evses = run.horizon_s, len(evse_table(run))
    if horizon and evses:
        out["utilisation_pct"] = round(
            100 * charging_seconds(sessions, horizon).sum() / (evses * horizon), 2)
        plugged = _plugged_intervals(run)
        if plugged is not None:
            out["occupancy_pct"] = round(
                100 * float((plugged[1] - plugged[0]).sum()) / (evses * horizon), 2)
    power = run.table("power")
    if run.has("power"):
        total = total_power_w(power)
        out["peak_power_kw"] = round(float(total.max()) / 1000, 3) if len(total) else 0.0
    if horizon:
        out["average_power_kw"] = round(energy_wh / horizon * 3.6, 3)  # Wh/s -> kW: x3600/1000
    charging_h = charging_seconds(sessions, horizon).sum() / 3600
    if charging_h > 0:
        out["average_charging_power_kw"] = round(energy_wh / 1000 / charging_h, 3)
    return out


def charging_seconds(sessions: pd.DataFrame, horizon_s: float | None) -> pd.Series:
    """Each session's time in transaction within the run (one still open runs to the end)."""
    end = horizon_s if horizon_s else float(sessions["stopped_s"].max())
    stopped = sessions["stopped_s"].fillna(end).clip(upper=end)
    return (stopped - sessions["started_s"].clip(lower=0)).clip(lower=0)


def evse_table(run: RunData) -> pd.DataFrame:
    """Every EVSE the run saw (from its status notifications and sessions), with its sessions,
    energy, time in transaction and utilisation."""
    keys: set[tuple[str, int]] = set()
    statuses = run.table("status_changes")
    if len(statuses):
        real = statuses[statuses["evse_id"] > 0]
        keys |= set(zip(real["station_id"], real["evse_id"].astype(int), strict=True))
    sessions = run.table("sessions")
    if len(sessions):
        keys |= set(zip(sessions["station_id"], sessions["evse_id"].astype(int), strict=True))
    frame = pd.DataFrame(sorted(keys), columns=["station_id", "evse_id"])
    if not len(frame):
        return frame
    horizon = run.horizon_s
    if len(sessions):
        grouped = sessions.assign(charging_s=charging_seconds(sessions, horizon)).groupby(
            ["station_id", "evse_id"]).agg(sessions=("energy_wh", "size"),
                                           energy_wh=("energy_wh", "sum"),
                                           charging_s=("charging_s", "sum")).reset_index()
        frame = frame.merge(grouped, on=["station_id", "evse_id"], how="left")
    for column in ("sessions", "energy_wh", "charging_s"):
        if column not in frame:
            frame[column] = 0
    frame = frame.fillna({"sessions": 0, "energy_wh": 0.0, "charging_s": 0.0})
    frame["sessions"] = frame["sessions"].astype(int)
    frame["energy_kwh"] = (frame["energy_wh"] / 1000).round(3)
    frame["charging_h"] = (frame["charging_s"] / 3600).round(2)
    if horizon:
        frame["utilisation_pct"] = (100 * frame["charging_s"] / horizon).round(2)
    return frame.drop(columns=["energy_wh", "charging_s"])


def station_table(run: RunData) -> pd.DataFrame:
    """Per station: EVSEs, sessions, energy and mean utilisation of its EVSEs."""
    evses = evse_table(run)
    if not len(evses):
        return evses
    agg: dict[str, Any] = {"evses": ("evse_id", "size"), "sessions": ("sessions", "sum"),
                           "energy_kwh": ("energy_kwh", "sum"),
                           "charging_h": ("charging_h", "sum")}
    if "utilisation_pct" in evses:
        agg["utilisation_pct"] = ("utilisation_pct", "mean")
    table = evses.groupby("station_id").agg(**agg).reset_index()
    return table.round({"energy_kwh": 3, "charging_h": 2, "utilisation_pct": 2})


def total_power_w(power: pd.DataFrame) -> pd.Series:
    """Total delivered power after each instant one EVSE's power changed (the ``power`` table
    holds one row per change, so the total moves by the difference), by simulation time."""
    if not len(power):
        return pd.Series(dtype=float)
    frame = power.sort_values("t_s", kind="stable")
    key = frame["station_id"].astype(str) + "/" + frame["evse_id"].astype(str)
    delta = frame["power_w"] - frame.groupby(key)["power_w"].shift(fill_value=0.0)
    return delta.groupby(frame["t_s"]).sum().cumsum()


def _plugged_intervals(run: RunData) -> tuple[np.ndarray, np.ndarray] | None:
    """(start, end) of every plug-in, clipped to the run, from the visits table."""
    visits = run.table("visits")
    if not run.has("visits") or "plugged_s" not in visits or not run.horizon_s:
        return None
    plugged = visits.dropna(subset=["plugged_s"])
    start = plugged["plugged_s"].clip(lower=0).to_numpy(float)
    end = plugged["unplugged_s"].fillna(run.horizon_s).clip(upper=run.horizon_s).to_numpy(float)
    keep = end > start
    return start[keep], end[keep]


# -- visits: waiting and queueing -----------------------------------------------------------------


def _visit_kpis(run: RunData) -> dict[str, float | int]:
    if not run.has("visits"):
        return {}
    visits = run.table("visits")
    out: dict[str, float | int] = {"visits": len(visits)}
    if not len(visits):
        return out
    waited = visits["waited_s"].dropna()
    out["visits_waited"] = int((waited > 0).sum())
    out["visits_abandoned"] = int((visits["outcome"] == "abandoned").sum())
    if len(waited):
        out["mean_wait_min"] = round(float(waited.mean()) / 60, 2)
        out["p95_wait_min"] = round(float(np.percentile(waited, 95)) / 60, 2)
        out["max_wait_min"] = round(float(waited.max()) / 60, 2)
    out["max_queue"] = max_queue(visits)
    return out


def max_queue(visits: pd.DataFrame) -> int:
    """The most drivers waiting at the same moment (a driver waits from arrival for
    ``waited_s``; one leaving as another arrives does not overlap)."""
    waiting = visits[visits["waited_s"].fillna(0) > 0]
    if not len(waiting):
        return 0
    starts = waiting["arrival_s"].to_numpy(float)
    ends = starts + waiting["waited_s"].to_numpy(float)
    # ends sort before starts at the same instant (-1 before +1)
    events = sorted([(t, 1) for t in starts] + [(t, -1) for t in ends])
    depth = peak = 0
    for _, step in events:
        depth += step
        peak = max(peak, depth)
    return peak


# -- payments --------------------------------------------------------------------------------------


def _payment_kpis(run: RunData) -> dict[str, float | int]:
    if not run.has("csms_payments"):
        return {}
    payments = run.table("csms_payments")
    out: dict[str, float | int] = {}
    if not len(payments):
        return {"payments_captured": 0, "payments_declined": 0}
    out["payments_captured"] = int((_decimals(payments["captured"]) > 0).sum())
    out["payments_declined"] = int((payments["status"] == "declined").sum())
    for currency, amount in sorted(revenue(payments).items()):
        out[REVENUE_PREFIX + currency.lower()] = float(amount)
    return out


def revenue(payments: pd.DataFrame) -> dict[str, Decimal]:
    """Captured less refunded, per currency, exactly (amounts are decimal strings)."""
    totals: dict[str, Decimal] = {}
    for currency, captured, refunded in zip(payments["currency"], payments["captured"],
                                            payments["refunded"], strict=True):
        totals[currency] = totals.get(currency, Decimal(0)) + _decimal(captured) \
            - _decimal(refunded)
    return totals


def _decimal(value: Any) -> Decimal:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _decimals(values: pd.Series) -> pd.Series:
    return values.map(_decimal)


# -- OCPP messages ---------------------------------------------------------------------------------


def _message_kpis(run: RunData) -> dict[str, float | int]:
    if not run.has("messages"):
        return {}
    messages = run.table("messages")
    out: dict[str, float | int] = {"ocpp_messages": len(messages)}
    if not len(messages):
        return out
    latency = messages["latency_ms"].dropna().to_numpy(float)
    if len(latency):
        for q in (50, 90, 99):
            out[f"latency_p{q}_ms"] = round(float(np.percentile(latency, q)), 2)
        out["latency_max_ms"] = round(float(latency.max()), 2)
    out["message_errors"] = int((messages["outcome"] != "ok").sum())
    return out


def messages_by_action(run: RunData) -> pd.DataFrame:
    """CALLs per action and direction (``out``: from the stations), with latency p50/p99."""
    messages = run.table("messages")
    if not len(messages):
        return pd.DataFrame(columns=["action", "direction", "count", "p50_ms", "p99_ms",
                                     "errors"])
    grouped = messages.groupby(["action", "direction"])
    table = grouped.agg(count=("action", "size")).reset_index()
    latency = grouped["latency_ms"]
    table["p50_ms"] = latency.quantile(0.5).round(2).to_numpy()
    table["p99_ms"] = latency.quantile(0.99).round(2).to_numpy()
    table["errors"] = grouped["outcome"].agg(lambda o: int((o != "ok").sum())).to_numpy()
    return table.sort_values(["count", "action"], ascending=[False, True]).reset_index(drop=True)


def count_by(run: RunData, table: str, columns: list[str]) -> pd.DataFrame:
    """Rows of ``table`` counted by ``columns`` (alerts by kind and severity, ...)."""
    frame = run.table(table)
    present = [c for c in columns if c in frame]
    if not len(frame) or not present:
        return pd.DataFrame(columns=[*columns, "count"])
    return frame.groupby(present, dropna=False).size().reset_index(name="count") \
        .sort_values("count", ascending=False).reset_index(drop=True)
