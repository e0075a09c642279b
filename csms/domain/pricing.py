"""The one pricing function: every figure of a charging session from its meter series, its times
and the tariff version in force at its start.

:func:`price_session` gives the running cost while a session is active, the final cost once it
has ended, the invoice lines, and (:meth:`SessionCost.cdr`) the charge detail record. Nothing
here reads a clock, a database or the network; the same facts always give the same figures.

The rules, each tested in ``tests/csms/test_pricing.py``:

* **Prices are net** (before VAT). Energy is priced per kWh, charging time and idle time per
  minute, billed to the microsecond (90 s at 0.10/min is 0.15), never rounded up to a minute.
* **Energy in a band.** The energy drawn between two consecutive register readings belongs to
  the band of that interval. Where an interval crosses a band boundary, its energy is split in
  proportion to the time on either side (10 kWh over 21:30-22:30 with a 22:00 boundary: 5 kWh in
  each band). Readings that go backwards are ignored (the caller drops flagged readings).
* **Bands** are in the tariff's local time zone (IANA name), so they follow daylight saving.
  A band covers ``[start, end)`` on its weekdays; a band whose end is before its start runs past
  midnight and belongs to the weekday it starts on (a Friday 22:00-06:00 band covers Saturday
  00:00-06:00). The first listed band that covers a moment applies; outside every band, the base
  prices do. A band overrides the energy price, the time price or both; what it leaves out is
  the base price.
* **Charging time** is the charging periods when the station reported them (OCPP 2.0.1
  ``chargingState`` Charging), else from the session start to the end of energy flow (the last
  reading that rose). While a session runs and no reading has yet shown the flow stopping (the
  latest reading rose, or there is none after the start), the EV counts as charging until
  ``now``. A pause between two charging periods costs neither time nor idle fee.
* **Idle time** runs from the end of charging (or the session start, if the EV never charged)
  to the end of the session (or ``now`` while it runs). The first ``idle_grace_min`` minutes
  are free; the idle fee is charged for the rest.
* **Rounding.** Quantities are exact; each invoice line is rounded to the currency's minor unit,
  half up; the net total is the sum of the rounded lines; VAT is computed on that net total and
  rounded half up; total = net + VAT. JPY has no minor unit, so every line is whole yen.
* A line appears when its quantity and its unit price are both non-zero; the session fee when it
  is non-zero.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from csms.domain.money import Money, to_minor

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO order: 1 = Monday
MINUTES_PER_DAY = 24 * 60
ZERO = Decimal(0)
_MICROS_PER_MINUTE = Decimal(60_000_000)
_WH_PER_KWH = Decimal(1000)
# Proportional splits are divisions: a context of its own, far beyond any currency's precision.
_EXACT = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN)

LineKind = Literal["energy", "time", "idle", "session_fee"]
PeriodState = Literal["charging", "paused", "idle"]


# -- the tariff, as pricing reads it --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Band:
    """A time-of-day and weekday band: from ``start_min`` to ``end_min`` minutes after local
    midnight (``end_min`` 1440 is midnight at the end of the day; below ``start_min`` the band
    runs past midnight) on the ISO ``weekdays`` (1 Monday ... 7 Sunday)."""

    name: str
    weekdays: frozenset[int]
    start_min: int
    end_min: int
    energy_price_per_kwh: Decimal | None = None
    time_price_per_min: Decimal | None = None

    def covers(self, local: datetime) -> bool:
        """Whether the band applies at ``local`` (a time in the tariff's zone)."""
        minute = local.hour * 60 + local.minute  # edges are whole minutes
        weekday = local.isoweekday()
        if self.start_min < self.end_min:
            return weekday in self.weekdays and self.start_min <= minute < self.end_min
        previous_day = (weekday - 2) % 7 + 1
        return (weekday in self.weekdays and minute >= self.start_min) or \
            (previous_day in self.weekdays and minute < self.end_min)


@dataclass(frozen=True, slots=True)
class Tariff:
    """One version of a tariff: immutable; a change is a new version from ``valid_from``."""

    tariff_id: str
    version: int
    name: str
    currency: str
    time_zone: str  # IANA, e.g. Europe/Berlin: where the bands' clock times are read
    valid_from: datetime
    energy_price_per_kwh: Decimal = ZERO
    time_price_per_min: Decimal = ZERO  # while charging
    idle_price_per_min: Decimal = ZERO  # after charging, beyond the grace period
    idle_grace_min: Decimal = ZERO
    session_fee: Decimal = ZERO
    vat_percent: Decimal = ZERO
    bands: tuple[Band, ...] = ()
    no_show_fee: Decimal | None = None  # for bookings not used
    preauth_amount: Decimal | None = None  # what payments should hold at the start

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def band_at(self, moment: datetime) -> Band | None:
        if not self.bands:
            return None
        local = moment.astimezone(self.zone)
        return next((band for band in self.bands if band.covers(local)), None)


# -- the session, as pricing reads it -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Reading:
    """An energy register reading: the station's time and the register in Wh."""

    at: datetime
    wh: Decimal


@dataclass(frozen=True, slots=True)
class SessionFacts:
    station_id: str
    transaction_id: str
    started_at: datetime
    ended_at: datetime | None  # None: still running
    readings: tuple[Reading, ...]  # in time order; the start reading first when known
    # Charging periods (start, end or None while charging) when the station reports them;
    # None when unknown (1.6, or a 2.0.1 station that never sent a chargingState).
    charging_periods: tuple[tuple[datetime, datetime | None], ...] | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None


# -- what pricing gives -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CostLine:
    kind: LineKind
    band: str | None  # the band whose price applies; None: the base price
    quantity: Decimal  # exact: kWh, minutes, or 1 session
    unit: str  # kWh, min, session
    unit_price: Decimal
    amount: Decimal  # net, rounded to the currency's minor unit


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of the session in one state and one band (the CDR's charging periods)."""

    start: datetime
    end: datetime
    state: PeriodState
    band: str | None
    energy_wh: Decimal


@dataclass(frozen=True, slots=True)
class ChargeDetailRecord:
    """What a session cost and why, in the spirit of OCPI's CDR (times in minutes here)."""

    id: str
    station_id: str
    evse_id: int | None
    connector_id: int | None
    transaction_id: str
    id_token: str | None
    start: datetime
    end: datetime
    currency: str
    tariff_id: str
    tariff_version: int
    total_energy_kwh: Decimal
    total_time_min: Decimal
    total_charging_time_min: Decimal
    total_idle_time_min: Decimal
    total_energy_cost: Decimal
    total_time_cost: Decimal
    total_idle_cost: Decimal
    total_fixed_cost: Decimal
    total_cost_excl_vat: Decimal
    vat_percent: Decimal
    total_vat: Decimal
    total_cost_incl_vat: Decimal
    lines: tuple[CostLine, ...]
    periods: tuple[Period, ...]


@dataclass(frozen=True, slots=True)
class SessionCost:
    station_id: str
    transaction_id: str
    tariff_id: str
    tariff_version: int
    currency: str
    final: bool  # the session has ended: these figures do not change any more
    started_at: datetime
    as_of: datetime  # the session's end, or the moment a running cost was computed
    energy_wh: Decimal
    charging_s: Decimal
    idle_s: Decimal
    billed_idle_s: Decimal  # beyond the grace period
    lines: tuple[CostLine, ...]
    vat_percent: Decimal
    net: Money
    vat: Money
    total: Money  # incl. VAT
    periods: tuple[Period, ...] = field(default=())
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None

    def cdr(self) -> ChargeDetailRecord:
        def cost_of(*kinds: str) -> Decimal:
            return sum((line.amount for line in self.lines if line.kind in kinds), ZERO)

        return ChargeDetailRecord(
            id=f"{self.station_id}:{self.transaction_id}", station_id=self.station_id,
            evse_id=self.evse_id, connector_id=self.connector_id,
            transaction_id=self.transaction_id, id_token=self.id_token,
            start=self.started_at, end=self.as_of, currency=self.currency,
            tariff_id=self.tariff_id, tariff_version=self.tariff_version,
            total_energy_kwh=self.energy_wh / _WH_PER_KWH,
            total_time_min=_minutes(self.as_of - self.started_at),
            total_charging_time_min=self.charging_s / 60, total_idle_time_min=self.idle_s / 60,
            total_energy_cost=cost_of("energy"), total_time_cost=cost_of("time"),
            total_idle_cost=cost_of("idle"), total_fixed_cost=cost_of("session_fee"),
            total_cost_excl_vat=self.net.amount, vat_percent=self.vat_percent,
            total_vat=self.vat.amount, total_cost_incl_vat=self.total.amount,
            lines=self.lines, periods=self.periods)


# -- the function --------------------------------------------------------------------------------

def price_session(facts: SessionFacts, tariff: Tariff, now: datetime) -> SessionCost:
    """Every figure of ``facts`` under ``tariff``: final if the session has ended, else the
    running cost as of ``now``."""
    with decimal.localcontext(_EXACT):
        return _price(facts, tariff, now)


def _price(facts: SessionFacts, tariff: Tariff, now: datetime) -> SessionCost:
    start = facts.started_at
    end = max(facts.ended_at if facts.ended_at is not None else now, start)
    readings = _rising(facts.readings)

    energy: dict[tuple[str | None, Decimal], Decimal] = {}  # (band, price) -> kWh
    flow_end: datetime | None = None
    for before, after in pairwise(readings):
        drawn = after.wh - before.wh
        if drawn <= 0:
            continue
        flow_end = after.at if flow_end is None else max(flow_end, after.at)
        for key, share in _energy_shares(before, after, drawn, tariff):
            energy[key] = energy.get(key, ZERO) + share / _WH_PER_KWH

    charging = _charging_periods(facts, start, end, flow_end, readings)
    charging_end = max((b for _, b in charging), default=start)
    time_used: dict[tuple[str | None, Decimal], Decimal] = {}  # (band, price) -> minutes
    for a, b in charging:
        for piece_start, piece_end, band in _split(a, b, tariff):
            key = _time_price(band, tariff)
            time_used[key] = time_used.get(key, ZERO) + _minutes(piece_end - piece_start)

    idle_s = _seconds(end - charging_end)
    billed_idle_s = max(ZERO, idle_s - tariff.idle_grace_min * 60)

    lines = [*_lines("energy", "kWh", energy, tariff), *_lines("time", "min", time_used, tariff)]
    if billed_idle_s and tariff.idle_price_per_min:
        quantity = billed_idle_s / 60
        lines.append(CostLine("idle", None, quantity, "min", tariff.idle_price_per_min,
                              to_minor(quantity * tariff.idle_price_per_min, tariff.currency)))
    if tariff.session_fee:
        lines.append(CostLine("session_fee", None, Decimal(1), "session", tariff.session_fee,
                              to_minor(tariff.session_fee, tariff.currency)))

    net = sum((line.amount for line in lines), to_minor(ZERO, tariff.currency))
    vat = to_minor(net * tariff.vat_percent / 100, tariff.currency)
    currency = tariff.currency
    first = readings[0].wh if readings else ZERO
    last = readings[-1].wh if readings else ZERO
    return SessionCost(
        station_id=facts.station_id, transaction_id=facts.transaction_id,
        tariff_id=tariff.tariff_id, tariff_version=tariff.version, currency=currency,
        final=facts.ended_at is not None, started_at=start, as_of=end,
        energy_wh=last - first, charging_s=sum((_seconds(b - a) for a, b in charging), ZERO),
        idle_s=idle_s, billed_idle_s=billed_idle_s, lines=tuple(lines),
        vat_percent=tariff.vat_percent, net=Money(net, currency), vat=Money(vat, currency),
        total=Money(net + vat, currency),
        periods=tuple(_periods(readings, charging, charging_end, start, end, tariff)),
        evse_id=facts.evse_id, connector_id=facts.connector_id, id_token=facts.id_token)


# -- pieces --------------------------------------------------------------------------------------

def _rising(readings: Iterable[Reading]) -> list[Reading]:
    """The readings in time order, without any that would make the register go backwards."""
    kept: list[Reading] = []
    for reading in sorted(readings, key=lambda r: r.at):
        if kept and reading.wh < kept[-1].wh:
            continue
        kept.append(reading)
    return kept


def _energy_shares(before: Reading, after: Reading, drawn: Decimal, tariff: Tariff
                   ) -> Iterator[tuple[tuple[str | None, Decimal], Decimal]]:
    """The energy of one interval between readings, by the energy price that applies to it."""
    whole = _micros(after.at - before.at)
    for a, b, band in _split(before.at, after.at, tariff):
        share = drawn if whole == 0 else drawn * _micros(b - a) / whole
        yield _energy_price(band, tariff), share


def _energy_price(band: Band | None, tariff: Tariff) -> tuple[str | None, Decimal]:
    if band is not None and band.energy_price_per_kwh is not None:
        return band.name, band.energy_price_per_kwh
    return None, tariff.energy_price_per_kwh


def _time_price(band: Band | None, tariff: Tariff) -> tuple[str | None, Decimal]:
    if band is not None and band.time_price_per_min is not None:
        return band.name, band.time_price_per_min
    return None, tariff.time_price_per_min


def _lines(kind: LineKind, unit: str, quantities: dict[tuple[str | None, Decimal], Decimal],
           tariff: Tariff) -> list[CostLine]:
    """One line per price that was used: the base price first, then bands in tariff order."""
    order = {None: -1} | {band.name: i for i, band in enumerate(tariff.bands)}
    return [CostLine(kind, band, quantity, unit, price, to_minor(quantity * price,
                                                                 tariff.currency))
            for (band, price), quantity in sorted(quantities.items(),
                                                  key=lambda item: order[item[0][0]])
            if quantity and price]


def _charging_periods(facts: SessionFacts, start: datetime, end: datetime,
                      flow_end: datetime | None, readings: list[Reading]
                      ) -> list[tuple[datetime, datetime]]:
    """When the EV charged, within the session: reported periods, or start to end of flow (to
    ``now`` while nothing has shown the flow stopping)."""
    if facts.charging_periods is None:
        flow_seen_to = flow_end or start
        stopped = any(r.at > flow_seen_to for r in readings)
        if facts.ended_at is None and not stopped:
            stop = end
        else:
            stop = min(flow_end, end) if flow_end is not None else start
        return [(start, stop)] if stop > start else []
    periods = []
    for a, b in facts.charging_periods:
        a, b = max(a, start), min(end if b is None else b, end)
        if b > a:
            periods.append((a, b))
    return periods


def _split(a: datetime, b: datetime, tariff: Tariff
           ) -> list[tuple[datetime, datetime, Band | None]]:
    """``[a, b)`` cut where the applicable band may change, each piece with its band."""
    if not tariff.bands or b <= a:
        return [(a, b, tariff.band_at(a))]
    cuts = sorted({cut for cut in _band_edges(a, b, tariff) if a < cut < b})
    pieces: list[tuple[datetime, datetime, Band | None]] = []
    for piece_start, piece_end in pairwise([a, *cuts, b]):
        band = tariff.band_at(piece_start)
        if pieces and pieces[-1][2] is band:
            pieces[-1] = (pieces[-1][0], piece_end, band)
        else:
            pieces.append((piece_start, piece_end, band))
    return pieces


def _band_edges(a: datetime, b: datetime, tariff: Tariff) -> Iterator[datetime]:
    """Every local midnight and band start and end from the day before ``a`` to the day after
    ``b``, in UTC (a wrapped band's weekday changes at midnight)."""
    zone = tariff.zone
    minutes = {0, *(band.start_min for band in tariff.bands),
               *(band.end_min for band in tariff.bands)}
    day = a.astimezone(zone).date() - timedelta(days=1)
    last_day = b.astimezone(zone).date() + timedelta(days=1)
    while day <= last_day:
        for minute in minutes:
            yield _local(day, minute, zone)
        day += timedelta(days=1)


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute >= MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


def _periods(readings: list[Reading], charging: list[tuple[datetime, datetime]],
             charging_end: datetime, start: datetime, end: datetime, tariff: Tariff
             ) -> Iterator[Period]:
    """The session from start to end in charging, paused and idle stretches, cut at band
    edges, each with the energy drawn in it (readings outside the session count at its
    nearest edge)."""
    states: list[tuple[datetime, datetime, PeriodState]] = []
    cursor = start
    for a, b in charging:
        if a > cursor:
            states.append((cursor, a, "paused"))
        states.append((a, b, "charging"))
        cursor = b
    if end > charging_end:
        states.append((max(cursor, charging_end), end, "idle"))
    pieces = [(piece_start, piece_end, state, band)
              for a, b, state in states for piece_start, piece_end, band in _split(a, b, tariff)]
    drawn = [ZERO] * len(pieces)
    for r0, r1 in pairwise(readings):
        if r1.wh <= r0.wh or not pieces:
            continue
        a, b = min(max(r0.at, start), end), min(max(r1.at, start), end)
        if a == b:  # an instant (or wholly outside the session): the piece that holds it
            index = next((i for i, p in enumerate(pieces) if p[0] <= a < p[1]), len(pieces) - 1)
            drawn[index] += r1.wh - r0.wh
            continue
        for i, (piece_start, piece_end, _, _) in enumerate(pieces):
            overlap = _micros(min(b, piece_end) - max(a, piece_start))
            if overlap > 0:
                drawn[i] += (r1.wh - r0.wh) * overlap / _micros(b - a)
    for (piece_start, piece_end, state, band), energy_wh in zip(pieces, drawn, strict=True):
        yield Period(piece_start, piece_end, state, None if band is None else band.name,
                     energy_wh)


def _micros(span: timedelta) -> Decimal:
    return Decimal(span // timedelta(microseconds=1))


def _seconds(span: timedelta) -> Decimal:
    return max(ZERO, _micros(span) / 1_000_000)


def _minutes(span: timedelta) -> Decimal:
    return max(ZERO, _micros(span) / _MICROS_PER_MINUTE)
