"""Expectations over the driver services: payments, bookings, approach alerts.

Each reads the tables the run read from the reference CSMS (``csms_payments``, ``bookings``,
``csms_notifications``) against what the simulator did (``driver_accounts``, ``visits``,
``status_changes``, ``approaches``). Against an external CSMS those tables are not there: the
check is ``not_checkable``, never passed.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd

from simulator.drivers import haversine_m, route_positions
from simulator.expectations import FAILED, NOT_CHECKABLE, PASSED, Evidence, Outcome
from simulator.scenario.spec import ScenarioSpec

BLOCKED_WH = 1.0  # a declining card's session may open (2.0.1 on plug-in) but never deliver
ARRIVED_KM = 0.1  # the reference CSMS's approach_arrived_km: no more alerts within it
EPS_S = 1e-6


def _verdict(ok: bool, wanted: bool, expected: str, observed: str) -> Outcome:
    return (PASSED if ok == wanted else FAILED), expected, observed


def _money(value: Any) -> Decimal:
    return Decimal(0) if value is None or pd.isna(value) else Decimal(str(value))


def _first(problems: list[str]) -> str:
    return f"; e.g. {problems[0]}" if problems else ""


# -- payments ------------------------------------------------------------------------------------


def payments_match_costs(value: bool, ev: Evidence) -> Outcome:
    """Every session of an account-linked token captured exactly its final cost (the CDR's
    total incl. VAT; nothing for a free session) and owes nothing; a declining card was never
    charged and its sessions delivered nothing."""
    expected = "each account's session captured exactly its cost; declined cards never charged"
    payments = ev.tables.get("csms_payments")
    if payments is None or ev.csms_transactions is None:
        return NOT_CHECKABLE, expected, "the CSMS's payments cannot be read (external CSMS)"
    accounts = ev.table("driver_accounts")
    declines = dict(zip(accounts["id_token"], accounts["declines"], strict=True)) \
        if len(accounts) else {}
    tx = ev.csms_transactions
    tx = tx[tx["id_token"].isin(list(declines))]
    sessions = payments[payments["kind"] == "session"] if len(payments) else payments
    by_tx = {(r.station_id, str(r.transaction_id)): r for r in sessions.itertuples()}
    problems: list[str] = []
    paid = blocked = 0
    for row in tx.itertuples():
        key = (row.station_id, str(row.transaction_id))
        name = f"{key[0]} #{key[1]}"
        if declines[row.id_token]:
            blocked += 1
            if float(row.energy_wh or 0.0) > BLOCKED_WH:
                problems.append(f"{name} of a declining card delivered {row.energy_wh:.0f} Wh")
            continue
        payment = by_tx.get(key)
        if row.state != "Completed":
            problems.append(f"{name} never ended")
        elif payment is None:
            problems.append(f"{name} has no payment")
        elif _money(payment.captured) != _money(payment.cost) \
                or _money(payment.outstanding) != 0:
            problems.append(f"{name} captured {payment.captured} for a cost of "
                            f"{payment.cost} ({payment.status}, {payment.outstanding} owed)")
        else:
            paid += 1
    declining = set(accounts.loc[accounts["declines"], "account_id"]) if len(accounts) else set()
    for row in payments.itertuples():
        if row.account_id in declining and _money(row.captured) != 0:
            problems.append(f"declining account {row.account_id} charged {row.captured}")
    refused = 0
    visits = ev.table("visits")
    if len(visits) and declining:
        tokens = [t for t, d in declines.items() if d]
        refused = int((visits["id_token"].isin(tokens)
                       & visits["outcome"].isin(["rejected", "no_start"])).sum())
    observed = (f"{paid} sessions paid their cost, {blocked} sessions and {refused} refused "
                f"starts of declining cards, {len(problems)} problems{_first(problems)}")
    return _verdict(not problems and paid > 0, bool(value), expected, observed)


# -- bookings ------------------------------------------------------------------------------------


def bookings_honoured(value: bool, ev: Evidence) -> Outcome:
    """Every booking was reserved on its station (the EVSE shown Reserved) by the start of its
    window, then used by its driver's transaction if the driver charged there within the
    window, else ended expired or as a no-show."""
    expected = "every booking reserved before its window, then used, or expired if not"
    bookings = ev.tables.get("bookings")
    if bookings is None:
        return NOT_CHECKABLE, expected, "the CSMS's bookings cannot be read (external CSMS)"
    if not len(bookings):
        return _verdict(False, bool(value), expected, "no bookings")
    status, visits = ev.table("status_changes"), ev.table("visits")
    tx = ev.csms_transactions if ev.csms_transactions is not None else pd.DataFrame()
    problems: list[str] = []
    used = ended = 0
    for b in bookings.itertuples():
        name = f"booking {b.id} ({b.station_id} EVSE {b.evse_id})"
        if b.status == "failed" or pd.isna(b.reservation_id):
            problems.append(f"{name} never reserved: {b.status} {b.detail or ''}".strip())
            continue
        reserved = status[(status["station_id"] == b.station_id)
                          & (status["evse_id"] == b.evse_id) & (status["status"] == "Reserved")
                          & (status["t_s"] <= b.starts_s + EPS_S)] if len(status) else status
        if not len(reserved):
            problems.append(f"{name} not shown Reserved on the station before its window")
        since = b.booked_s if not pd.isna(b.booked_s) else b.starts_s
        came = visits[(visits["id_token"] == b.id_token) & (visits["station_id"] == b.station_id)
                      & (visits["evse_id"] == b.evse_id) & (visits["plugged_s"] >= since)
                      & (visits["plugged_s"] <= b.ends_s)] if len(visits) else visits
        if len(came):
            if b.status != "used":
                problems.append(f"{name}: its driver charged there but it is {b.status}")
                continue
            users = tx[(tx["station_id"] == b.station_id)
                       & (tx["transaction_id"].astype(str) == str(b.transaction_id))] \
                if len(tx) else tx
            if not len(users) or users.iloc[0]["id_token"] != b.id_token:
                problems.append(f"{name} used by transaction {b.transaction_id}, not its "
                                "driver's")
                continue
            used += 1
        elif b.status in ("expired", "no_show"):
            ended += 1
        else:
            problems.append(f"{name}: its driver did not charge there but it is {b.status}")
    observed = (f"{len(bookings)} bookings: {used} used, {ended} expired or no-show, "
                f"{len(problems)} problems{_first(problems)}")
    return _verdict(not problems, bool(value), expected, observed)


# -- approach alerts -----------------------------------------------------------------------------


def _matching_stations(spec: ScenarioSpec, connector_type: str | None,
                       min_power_w: float | None) -> dict[str, tuple[float, float]]:
    """Located stations with a connector that fits, and where they are."""
    out = {}
    for site in spec.sites:
        if site.location is None:
            continue
        for station_id in site.station_ids:
            connectors = spec.station(station_id).template.connectors
            if any((connector_type is None or c.type == connector_type)
                   and (min_power_w is None or c.max_power_w >= min_power_w)
                   for c in connectors):
                out[station_id] = (site.location.lat, site.location.lon)
    return out


class _Statuses:
    """Each EVSE's status over time, from the stations' StatusNotifications."""

    def __init__(self, table: pd.DataFrame) -> None:
        table = table[table["evse_id"] > 0] if len(table) else table
        self.by_station = {s: g.sort_values("t_s", kind="stable")
                           for s, g in table.groupby("station_id")} if len(table) else {}

    def free(self, station_id: str, t_s: float) -> bool:
        rows = self.by_station.get(station_id)
        if rows is None:
            return False
        last = rows[rows["t_s"] <= t_s].groupby("evse_id")["status"].last()
        return bool((last == "Available").any())

    def taken_between(self, station_id: str, after_s: float, before_s: float) -> bool:
        rows = self.by_station.get(station_id)
        if rows is None:
            return False
        moments = rows[(rows["t_s"] > after_s) & (rows["t_s"] < before_s)]["t_s"]
        return any(not self.free(station_id, t) for t in moments)


def approach_alerts(value: bool, ev: Evidence) -> Outcome:
    """Each approach: an ``approaching.free`` for a matching station found free in range of a
    posted position, at most one per station until it is taken, and an ``approaching.taken``
    when a station it was told about was taken before the driver got there."""
    expected = "one alert per free matching station on each approach, and taken updates"
    notes = ev.tables.get("csms_notifications")
    if notes is None:
        return NOT_CHECKABLE, expected, "the CSMS's notifications cannot be read (external CSMS)"
    approaches = ev.table("approaches")
    if not len(approaches):
        return _verdict(False, bool(value), expected, "no driver approached")
    groups = {g.name: g for g in ev.scenario.drivers}
    statuses = _Statuses(ev.table("status_changes"))
    problems: list[str] = []
    alerts = taken = 0
    for a in approaches.itertuples():
        group = groups[a.population]
        spec, route = group.notifications.approaching, group.route
        assert spec is not None and route is not None
        stations = _matching_stations(ev.scenario, spec.connector_type, spec.min_power_w)
        mine = notes[(notes["account_id"] == a.account_id)
                     & notes["kind"].str.startswith("approaching.")
                     & (notes["t_s"] >= a.first_s - EPS_S)
                     & (notes["t_s"] <= a.arrival_s + EPS_S)] if len(notes) else notes
        positions = [p for p in route_positions(route.polyline, route.speed_mps * 3.6,
                                                a.arrival_s, spec.position_every_s)
                     if p[0] >= 0.0]
        who = f"{a.account_id} arriving at {a.arrival_s:.0f} s"
        for station_id, (lat, lon) in stations.items():
            near = [t for t, plat, plon in positions
                    if haversine_m(plat, plon, lat, lon) / 1000 <= spec.radius_km]
            arrived = next((t for t, plat, plon in positions
                            if haversine_m(plat, plon, lat, lon) / 1000 <= ARRIVED_KM),
                           a.arrival_s)
            told = mine[mine["station_id"] == station_id].sort_values("t_s", kind="stable") \
                if len(mine) else mine
            kinds, times = list(told.get("kind", [])), list(told.get("t_s", []))
            wanted = "approaching.free"
            for kind in kinds:
                if kind != wanted:
                    problems.append(f"{who}: {kind} for {station_id} out of turn "
                                    f"({', '.join(kinds)})")
                    break
                wanted = "approaching.taken" if kind == "approaching.free" \
                    else "approaching.free"
            alerts += kinds.count("approaching.free")
            taken += kinds.count("approaching.taken")
            was_free = [t for t in near if t < arrived and statuses.free(station_id, t - EPS_S)]
            if was_free and not kinds:
                problems.append(f"{who}: {station_id} free in range at {was_free[0]:.0f} s, "
                                "no alert")
            if kinds[:1] == ["approaching.free"] and len(kinds) == 1 \
                    and statuses.taken_between(station_id, times[0], arrived):
                problems.append(f"{who}: {station_id} taken after its alert, no update")
    observed = (f"{len(approaches)} approaches: {alerts} free alerts, {taken} taken updates, "
                f"{len(problems)} problems{_first(problems)}")
    return _verdict(not problems and alerts > 0, bool(value), expected, observed)


SERVICE_CHECKS: dict[str, Callable[[Any, Evidence], Outcome]] = {
    "payments_match_costs": payments_match_costs,
    "bookings_honoured": bookings_honoured,
    "approach_alerts": approach_alerts,
}
