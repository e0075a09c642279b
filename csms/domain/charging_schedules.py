"""Charging profiles, version-neutral, and the composite schedule the CSMS computes itself.

Purposes use 2.0.1's names (1.6 ``ChargePointMaxProfile`` is ``ChargingStationMaxProfile``).
Limits are in the profile's own unit (A or W); a composite in the other unit converts with
:data:`NOMINAL_VOLTAGE` per phase and the period's number of phases (3 when unsaid).

The composite follows OCPP's stacking rules:

* within one purpose the valid profile with the highest stackLevel wins at each instant; when
  its schedule has ended (its duration is over, or it is outside validFrom/validTo) the next
  lower stack level applies;
* a TxProfile (for the EVSE's transaction) overrides TxDefaultProfiles; a TxDefaultProfile on
  the EVSE overrides one installed on EVSE 0 (all EVSEs);
* the result is the minimum of ChargingStationMaxProfile, ChargingStationExternalConstraints
  and the transaction limit. For EVSE 0 only the station-wide purposes count.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.timeutil import ocpp_time, parse_timestamp

STATION_MAX = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PURPOSES = (STATION_MAX, TX_DEFAULT, TX, EXTERNAL)
_PURPOSE_16 = {STATION_MAX: "ChargePointMaxProfile"}
_PURPOSE_FROM_16 = {"ChargePointMaxProfile": STATION_MAX}
NOMINAL_VOLTAGE = 230.0
_RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(weeks=1)}


def purpose_from_wire(name: str) -> str:
    return _PURPOSE_FROM_16.get(name, name)


def purpose_to_wire(version: OcppVersion, name: str) -> str:
    return _PURPOSE_16.get(name, name) if version is OcppVersion.V16 else name


@dataclass(frozen=True, slots=True)
class Period:
    start_s: int
    limit: float
    number_phases: int | None = None
    phase_to_use: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    rate_unit: str  # A or W
    periods: tuple[Period, ...]
    duration_s: int | None = None
    start: datetime | None = None
    min_rate: float | None = None
    id: int | None = None  # 2.0.1 schedule id


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    stack_level: int
    purpose: str
    kind: str  # Absolute, Recurring, Relative
    schedule: Schedule
    evse_id: int = 0
    recurrency_kind: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # 2.0.1 extra schedules


# -- wire format -----------------------------------------------------------------------------

def _period_wire(p: Period, version: OcppVersion) -> dict[str, Any]:
    data: dict[str, Any] = {"startPeriod": p.start_s, "limit": p.limit}
    if p.number_phases is not None:
        data["numberPhases"] = p.number_phases
    if p.phase_to_use is not None and version is not OcppVersion.V16:
        data["phaseToUse"] = p.phase_to_use
    return data


def schedule_to_wire(s: Schedule, version: OcppVersion, schedule_id: int) -> dict[str, Any]:
    data: dict[str, Any] = {"chargingRateUnit": s.rate_unit,
                            "chargingSchedulePeriod": [_period_wire(p, version)
                                                       for p in s.periods]}
    if version is not OcppVersion.V16:
        data["id"] = s.id if s.id is not None else schedule_id
    if s.duration_s is not None:
        data["duration"] = s.duration_s
    if s.start is not None:
        data["startSchedule"] = ocpp_time(s.start)
    if s.min_rate is not None:
        data["minChargingRate"] = s.min_rate
    return data


def profile_to_wire(p: Profile, version: OcppVersion) -> dict[str, Any]:
    """csChargingProfiles (1.6) or chargingProfile (2.0.1)."""
    data: dict[str, Any] = {"stackLevel": p.stack_level,
                            "chargingProfilePurpose": purpose_to_wire(version, p.purpose),
                            "chargingProfileKind": p.kind}
    schedule = schedule_to_wire(p.schedule, version, p.id)
    if version is OcppVersion.V16:
        data = {"chargingProfileId": p.id, **data, "chargingSchedule": schedule}
        if p.transaction_id is not None:
            data["transactionId"] = int(p.transaction_id)
    else:
        data = {"id": p.id, **data, "chargingSchedule": [schedule, *p.extra.get("schedules", [])]}
        if p.transaction_id is not None:
            data["transactionId"] = p.transaction_id
    if p.recurrency_kind is not None:
        data["recurrencyKind"] = p.recurrency_kind
    if p.valid_from is not None:
        data["validFrom"] = ocpp_time(p.valid_from)
    if p.valid_to is not None:
        data["validTo"] = ocpp_time(p.valid_to)
    return data


def schedule_from_wire(d: dict[str, Any]) -> Schedule:
    return Schedule(
        d["chargingRateUnit"],
        tuple(Period(int(p["startPeriod"]), float(p["limit"]), p.get("numberPhases"),
                     p.get("phaseToUse")) for p in d["chargingSchedulePeriod"]),
        d.get("duration"), parse_timestamp(d.get("startSchedule")), d.get("minChargingRate"),
        d.get("id"))


def profile_from_wire(d: dict[str, Any], evse_id: int = 0) -> Profile:
    """A profile as either version sends it."""
    raw = d["chargingSchedule"]
    schedules = raw if isinstance(raw, list) else [raw]
    transaction = d.get("transactionId")
    return Profile(
        d["chargingProfileId"] if "chargingProfileId" in d else d["id"], d["stackLevel"],
        purpose_from_wire(d["chargingProfilePurpose"]), d["chargingProfileKind"],
        schedule_from_wire(schedules[0]), evse_id, d.get("recurrencyKind"),
        parse_timestamp(d.get("validFrom")), parse_timestamp(d.get("validTo")),
        None if transaction is None else str(transaction),
        {"schedules": schedules[1:]} if len(schedules) > 1 else {})


def periods_json(periods: Iterable[Period | CompositePeriod]) -> list[dict[str, Any]]:
    return [{"start_s": p.start_s, "limit": p.limit, "number_phases": p.number_phases}
            for p in periods]


# -- validation of what an operator asks for ---------------------------------------------------

def problems(p: Profile) -> list[tuple[str, str]]:
    """What is wrong with ``p`` as a profile for the CSMS to install: (field, reason) pairs."""
    found: list[tuple[str, str]] = []
    if p.purpose == EXTERNAL:
        found.append(("purpose", "ChargingStationExternalConstraints is set by the station's "
                                 "external energy management, not by the CSMS"))
    if p.purpose == STATION_MAX and p.evse_id != 0:
        found.append(("evse_id", "a ChargingStationMaxProfile applies to EVSE 0 only"))
    if p.purpose == TX:
        if p.transaction_id is None:
            found.append(("transaction_id", "a TxProfile needs the transaction it limits"))
        if p.evse_id == 0:
            found.append(("evse_id", "a TxProfile belongs to the EVSE of its transaction"))
    elif p.transaction_id is not None:
        found.append(("transaction_id", "only a TxProfile names a transaction"))
    if p.kind == "Recurring":
        if p.recurrency_kind is None:
            found.append(("recurrency_kind", "a Recurring profile needs Daily or Weekly"))
        if p.schedule.start is None:
            found.append(("schedule.start_schedule",
                          "a Recurring profile needs the start of its recurrence"))
    elif p.recurrency_kind is not None:
        found.append(("recurrency_kind", "only a Recurring profile recurs"))
    if p.kind == "Relative" and p.schedule.start is not None:
        found.append(("schedule.start_schedule",
                      "a Relative schedule starts with the transaction, not at a set time"))
    if p.valid_from and p.valid_to and p.valid_from >= p.valid_to:
        found.append(("valid_to", "must be after valid_from"))
    periods = p.schedule.periods
    if not periods:
        found.append(("schedule.periods", "at least one period"))
    elif periods[0].start_s != 0:
        found.append(("schedule.periods.0.start_s", "the first period starts at 0"))
    for i, (a, b) in enumerate(itertools.pairwise(periods)):
        if b.start_s <= a.start_s:
            found.append((f"schedule.periods.{i + 1}.start_s",
                          "periods must start in ascending order"))
    for i, period in enumerate(periods):
        if period.limit < 0 or not math.isfinite(period.limit):
            found.append((f"schedule.periods.{i}.limit", "must be 0 or more"))
        if period.phase_to_use is not None and period.number_phases != 1:
            found.append((f"schedule.periods.{i}.phase_to_use",
                          "only with number_phases 1"))
    if p.schedule.duration_s is not None and periods and \
            p.schedule.duration_s <= periods[-1].start_s:
        found.append(("schedule.duration_s", "ends before the last period starts"))
    return found


# -- the composite schedule ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CompositePeriod:
    start_s: int
    limit: float | None  # None: no profile limits this time
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class _Piece:
    start: datetime
    end: datetime
    limit: float
    phases: int | None
    stack_level: int


def _convert(limit: float, unit: str, wanted: str, phases: int | None,
             voltage: float) -> float:
    if unit == wanted:
        return limit
    factor = voltage * (phases or 3)
    return limit * factor if wanted == "W" else limit / factor


def _occurrences(p: Profile, window_start: datetime, window_end: datetime,
                 anchor: datetime) -> list[tuple[datetime, datetime]]:
    """(start, end) of each run of ``p``'s schedule that may touch the window."""
    duration = p.schedule.duration_s
    far = window_end + timedelta(days=1)
    if p.kind == "Recurring" and p.schedule.start is not None and p.recurrency_kind:
        every = _RECURRENCE[p.recurrency_kind]
        length = min(timedelta(seconds=duration), every) if duration else every
        first = p.schedule.start + every * math.floor((window_start - p.schedule.start) / every)
        runs = []
        start = first
        while start < window_end:
            runs.append((start, start + length))
            start += every
        return runs
    start = anchor if p.kind == "Relative" or p.schedule.start is None else p.schedule.start
    return [(start, start + timedelta(seconds=duration) if duration else far)]


def _pieces(p: Profile, window_start: datetime, window_end: datetime, anchor: datetime,
            unit: str, voltage: float) -> list[_Piece]:
    lower = p.valid_from or datetime.min.replace(tzinfo=window_start.tzinfo)
    upper = p.valid_to or datetime.max.replace(tzinfo=window_start.tzinfo)
    pieces: list[_Piece] = []
    for run_start, run_end in _occurrences(p, window_start, window_end, anchor):
        periods = p.schedule.periods
        for i, period in enumerate(periods):
            start = run_start + timedelta(seconds=period.start_s)
            end = run_start + timedelta(seconds=periods[i + 1].start_s) \
                if i + 1 < len(periods) else run_end
            start, end = max(start, lower, window_start), min(end, run_end, upper, window_end)
            if start < end:
                pieces.append(_Piece(start, end, _convert(
                    period.limit, p.schedule.rate_unit, unit, period.number_phases, voltage),
                    period.number_phases, p.stack_level))
    return pieces


def _winner(pieces: list[_Piece], at: datetime) -> _Piece | None:
    """The highest stack level's piece covering ``at``."""
    best = None
    for piece in pieces:
        if piece.start <= at < piece.end and (best is None or
                                               piece.stack_level > best.stack_level):
            best = piece
    return best


def composite_schedule(profiles: Iterable[Profile], *, evse_id: int, start: datetime,
                       duration_s: int, rate_unit: str | None = None,
                       transaction_id: str | None = None,
                       transaction_start: datetime | None = None,
                       voltage: float = NOMINAL_VOLTAGE) -> tuple[str, list[CompositePeriod]]:
    """The limit over ``[start, start + duration_s)`` for ``evse_id`` from ``profiles``, as
    (rate unit, periods relative to ``start``). ``transaction_id`` is the EVSE's running
    transaction (its TxProfile applies; Relative Tx profiles start at ``transaction_start``)."""
    chosen = list(profiles)
    unit = rate_unit or next((p.schedule.rate_unit for p in chosen), "A")
    end = start + timedelta(seconds=duration_s)
    anchor = transaction_start or start

    def group(purpose: str, evses: set[int], tx: str | None = None) -> list[_Piece]:
        pieces: list[_Piece] = []
        for p in chosen:
            if p.purpose == purpose and p.evse_id in evses and (
                    tx is None or p.transaction_id == tx):
                pieces.extend(_pieces(p, start, end, anchor, unit, voltage))
        return pieces

    station_max = group(STATION_MAX, {0})
    external = group(EXTERNAL, {0, evse_id})
    if evse_id > 0:
        tx_pieces = group(TX, {evse_id}, transaction_id) if transaction_id else []
        default_here = group(TX_DEFAULT, {evse_id})
        default_all = group(TX_DEFAULT, {0})
    else:
        tx_pieces = default_here = default_all = []
    groups = [station_max, external, tx_pieces, default_here, default_all]
    cuts = {start} | {x for g in groups for piece in g for x in (piece.start, piece.end)}
    periods: list[CompositePeriod] = []
    for at in sorted(c for c in cuts if start <= c < end):
        limits = [w for w in (_winner(station_max, at), _winner(external, at)) if w]
        tx_limit = _winner(tx_pieces, at) or _winner(default_here, at) or \
            _winner(default_all, at)
        if tx_limit is not None:
            limits.append(tx_limit)
        best = min(limits, key=lambda piece: piece.limit, default=None)
        offset = round((at - start).total_seconds())
        period = CompositePeriod(offset, None if best is None else best.limit,
                                 None if best is None else best.phases)
        if periods and (periods[-1].limit, periods[-1].number_phases) == \
                (period.limit, period.number_phases):
            continue
        if periods and periods[-1].start_s == offset:
            periods[-1] = period
            continue
        periods.append(period)
    return unit, periods
