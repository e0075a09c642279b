"""A scenario's expectations, checked against what the run left behind.

Each check reads the result tables (what the stations and drivers did) and, where it must look
inside the CSMS (its transactions, its alerts), the CSMS's own tables. Against an external CSMS
those are not there: such a check is reported ``not_checkable``, never passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from simulator.power_series import peak_w
from simulator.scenario.spec import ExpectationSpec, ScenarioSpec

PASSED, FAILED, NOT_CHECKABLE = "passed", "failed", "not_checkable"
Status = Literal["passed", "failed", "not_checkable"]

# OCPP message outcomes that mean a message held for the CSMS (transaction events, meter
# values) never reached it; "dropped" statuses and heartbeats are not sent offline by design
LOST = ("lost",)
# alerts each kind of fault must raise in the reference CSMS
ALERT_FOR_FAULT = {"station_fault": "faulted", "network_drop": "offline"}


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    status: Status
    expected: str
    observed: str
    location: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass
class Evidence:
    """What the checks look at. ``csms_*`` are None when the backend cannot be inspected."""

    scenario: ScenarioSpec
    tables: dict[str, pd.DataFrame]
    csms_transactions: pd.DataFrame | None = None
    csms_alerts: pd.DataFrame | None = None
    offline_after_s: float = math.inf  # the CSMS's offline detection delay
    notes: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())


def check_all(evidence: Evidence) -> list[Verdict]:
    return [check(expectation, evidence) for expectation in evidence.scenario.expectations]


def check(expectation: ExpectationSpec, evidence: Evidence) -> Verdict:
    status, expected, observed = CHECKS[expectation.kind](expectation.value, evidence)
    return Verdict(expectation.kind, status, expected, observed, expectation.location)


Outcome = tuple[Status, str, str]


def _verdict(ok: bool, expected: str, observed: str) -> Outcome:
    return (PASSED if ok else FAILED), expected, observed


def _all_sessions_completed(value: bool, ev: Evidence) -> Outcome:
    visits, sessions = ev.table("visits"), ev.table("sessions")
    refused = visits[visits["outcome"].isin(["rejected", "no_start"])] if len(visits) else visits
    open_ = sessions[sessions["stopped_s"].isna()] if len(sessions) else sessions
    problems = len(refused) + len(open_)
    wanted = bool(value)
    observed = (f"{len(sessions)} sessions; {len(open_)} not stopped by the end, "
                f"{len(refused)} visits refused or never started")
    return _verdict((problems == 0) == wanted, "every session completed" if wanted
                    else "some session incomplete", observed)


def _energy_within_pct(value: dict[str, Any], ev: Evidence) -> Outcome:
    """Delivered energy of the visits that stayed until full, against what their cars needed at
    plug-in: metering and physics agree."""
    pct = float(value["pct"])
    visits, sessions = ev.table("visits"), ev.table("sessions")
    expected = f"delivered energy within {pct:g} % of what the vehicles needed"
    if not len(visits) or not len(sessions):
        return FAILED, expected, "no sessions"
    full = visits[(visits["outcome"] == "charged")
                  & (visits["soc_out"] >= visits["target_soc"] - 1e-6)]
    if not len(full):
        return FAILED, expected, "no vehicle stayed until it was full"
    joined = full.merge(sessions, on=["station_id", "evse_id"], suffixes=("", "_session"))
    # A visit's own session started while it held the EVSE: from the moment it got the bay
    # (a badge before the cable may start it before plug-in) until it unplugged, that instant
    # excluded, because a queueing driver takes the bay and may start at that very instant.
    claimed_s = joined["arrival_s"] + joined["waited_s"].fillna(0.0)
    joined = joined[(joined["started_s"] >= claimed_s - 1e-6)
                    & (joined["started_s"] < joined["unplugged_s"] - 1e-6)]
    needed, delivered = joined["needed_wh"].sum(), joined["energy_wh"].sum()
    off = abs(delivered - needed) / needed * 100 if needed else math.inf
    return _verdict(off <= pct, expected,
                    f"{delivered / 1000:.2f} kWh delivered for {needed / 1000:.2f} kWh needed "
                    f"({off:.2f} % off, {len(joined)} sessions)")


def _transactions_match_csms(value: dict[str, Any], ev: Evidence) -> Outcome:
    tolerance = float(value["energy_tolerance_wh"])
    expected = f"every station transaction in the CSMS, energy within {tolerance:g} Wh"
    if ev.csms_transactions is None:
        return NOT_CHECKABLE, expected, "the CSMS's transactions cannot be read (external CSMS)"
    sessions = ev.table("sessions")
    sessions = sessions[sessions["transaction_id"].notna()] if len(sessions) else sessions
    csms = ev.csms_transactions.set_index(["station_id", "transaction_id"])
    missing, mismatched, unfinished = [], [], []
    for row in sessions.itertuples():
        key = (row.station_id, str(row.transaction_id))
        if key not in csms.index:
            missing.append(key)
            continue
        stored = csms.loc[key]
        if row.stopped_s is not None and not pd.isna(row.stopped_s):
            if stored["state"] != "Completed":
                unfinished.append(key)
            if abs(float(stored["energy_wh"] or 0.0) - float(row.energy_wh)) > tolerance:
                mismatched.append((key, float(row.energy_wh), float(stored["energy_wh"] or 0)))
    observed = (f"{len(sessions)} transactions: {len(missing)} missing, {len(unfinished)} not "
                f"completed, {len(mismatched)} with other energy")
    if mismatched:
        (station, tx), ours, theirs = mismatched[0]
        observed += f" (e.g. {station} #{tx}: station {ours:.1f} Wh, CSMS {theirs:.1f} Wh)"
    elif missing:
        observed += f" (e.g. {missing[0][0]} #{missing[0][1]})"
    return _verdict(not (missing or mismatched or unfinished) and len(sessions) > 0, expected,
                    observed)


def _p99_latency(value: float, ev: Evidence) -> Outcome:
    messages = ev.table("messages")
    latencies = messages["latency_ms"].dropna() if len(messages) else pd.Series(dtype=float)
    expected = f"p99 response latency below {value:g} ms"
    if not len(latencies):
        return FAILED, expected, "no answered messages"
    p99 = float(np.percentile(latencies, 99))
    return _verdict(p99 < float(value), expected, f"p99 {p99:.1f} ms over {len(latencies)} calls")


def _no_alert_missed(value: bool, ev: Evidence) -> Outcome:
    """Every injected station fault, and every network drop longer than the CSMS's offline
    detection, raised the matching alert for that station."""
    expected = "an alert for every injected fault the CSMS can see"
    if ev.csms_alerts is None:
        return NOT_CHECKABLE, expected, "the CSMS's alerts cannot be read (external CSMS)"
    alerts = ev.csms_alerts
    wanted, missed = 0, []
    for row in ev.table("faults").itertuples():
        alert = ALERT_FOR_FAULT.get(row.kind)
        if alert is None:
            continue
        lasted = math.inf if pd.isna(row.duration_s) else float(row.duration_s)
        if row.kind == "network_drop" and lasted <= ev.offline_after_s:
            continue  # over before the CSMS could tell it from a quiet station
        wanted += 1
        seen = alerts[(alerts["station_id"] == row.station_id) & (alerts["kind"] == alert)]
        if not len(seen):
            missed.append(f"{alert} for {row.station_id} at {row.t_s:.0f} s")
    ok = not missed if value else bool(missed)
    return _verdict(ok, expected, f"{wanted} faults needing an alert, {len(missed)} missed"
                    + (f" ({missed[0]})" if missed else ""))


def _min_sessions(value: int, ev: Evidence) -> Outcome:
    count = len(ev.table("sessions"))
    return _verdict(count >= int(value), f"at least {value} sessions", f"{count} sessions")


def _max_offline_queue_lost(value: int, ev: Evidence) -> Outcome:
    messages = ev.table("messages")
    lost = int(messages["outcome"].isin(LOST).sum()) if len(messages) else 0
    return _verdict(lost <= int(value), f"at most {value} queued messages lost",
                    f"{lost} lost")


def _alerts_raised(value: dict[str, Any], ev: Evidence) -> Outcome:
    kind, low, high = value["kind"], int(value.get("min", 1)), value.get("max")
    expected = f"{low}{'' if high is None else f'..{high}'} '{kind}' alerts"
    if ev.csms_alerts is None:
        return NOT_CHECKABLE, expected, "the CSMS's alerts cannot be read (external CSMS)"
    count = int((ev.csms_alerts["kind"] == kind).sum())
    return _verdict(count >= low and (high is None or count <= int(high)), expected,
                    f"{count} raised")


def _site_power_within_limit(value: bool, ev: Evidence) -> Outcome:
    """The sum of delivered power per site never above its grid limit (power as stepped by the
    stations' power changes)."""
    limits = {s.id: s.grid_limit_w for s in ev.scenario.sites if s.grid_limit_w}
    expected = "site power within its grid limit"
    if not limits:
        return PASSED, expected, "no site has a limit"
    peaks = site_peaks(ev)
    over = {site: peak for site, peak in peaks.items()
            if site in limits and peak > limits[site] * 1.001}
    observed = ", ".join(f"{site}: peak {peaks.get(site, 0.0) / 1000:.1f} of "
                         f"{limit / 1000:.1f} kW" for site, limit in limits.items())
    return _verdict(not over, expected, observed)


def site_peaks(ev: Evidence) -> dict[str, float]:
    """Peak delivered power per site."""
    power = ev.table("power")
    if not len(power):
        return {}
    site_of = {s.id: s.site_id for s in ev.scenario.stations}
    sites = power["station_id"].map(site_of)
    return {str(site): peak_w(steps) for site, steps in power.groupby(sites)}


def _all_stations_booted(value: bool, ev: Evidence) -> Outcome:
    events = ev.table("events")
    booted = set(events.loc[events["kind"] == "boot_accepted", "station_id"]) if len(events) \
        else set()
    stations = [s.id for s in ev.scenario.stations]
    missing = [s for s in stations if s not in booted]
    return _verdict((not missing) == bool(value), "every station's boot accepted",
                    f"{len(stations) - len(missing)} of {len(stations)} booted"
                    + (f" (not: {', '.join(missing[:5])})" if missing else ""))


CHECKS: dict[str, Callable[[Any, Evidence], Outcome]] = {
    "all_sessions_completed": _all_sessions_completed,
    "energy_within_pct": _energy_within_pct,
    "transactions_match_csms": _transactions_match_csms,
    "p99_latency_ms_below": _p99_latency,
    "no_alert_missed": _no_alert_missed,
    "min_sessions": _min_sessions,
    "max_offline_queue_lost": _max_offline_queue_lost,
    "alerts_raised": _alerts_raised,
    "site_power_within_limit": _site_power_within_limit,
    "all_stations_booted": _all_stations_booted,
}

# The driver services' checks live in their own module (which imports this one's names).
from simulator.service_expectations import SERVICE_CHECKS  # noqa: E402

CHECKS.update(SERVICE_CHECKS)
