"""The pricing function, table-driven: every expectation below was computed by hand (in the
comments), from the rules in csms/domain/pricing.py's docstring. Pure: no database, no clock.

2025-03-03 is a Monday; 2025-03-07 a Friday; Europe/Berlin is UTC+1 until 2025-03-30 02:00
local time, UTC+2 from then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from csms.domain.pricing import Band, Reading, SessionFacts, Tariff, price_session
from csms.domain.tariff_terms import band_from_json, clock_minutes

ALL_DAYS = frozenset(range(1, 8))


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


MON_8 = at(3, 8)


def tariff(**terms: Any) -> Tariff:
    base: dict[str, Any] = {"tariff_id": "t", "version": 1, "name": "test", "currency": "EUR",
                            "time_zone": "UTC", "valid_from": at(1, 0)}
    return Tariff(**(base | terms))


def readings(*points: tuple[datetime, int]) -> tuple[Reading, ...]:
    return tuple(Reading(moment, D(wh)) for moment, wh in points)


@dataclass
class Case:
    id: str
    tariff: Tariff
    start: datetime
    end: datetime | None
    readings: tuple[Reading, ...]
    lines: list[tuple[str, str | None, str]]  # kind, band, amount
    net: str
    vat: str
    total: str
    periods: tuple[tuple[datetime, datetime | None], ...] | None = None
    now: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


CASES = [
    # 10 kWh at 0.40 = 4.00; VAT 19 % of 4.00 = 0.76; total 4.76.
    Case("energy-only", tariff(energy_price_per_kwh=D("0.40"), vat_percent=D(19)),
         MON_8, at(3, 9), readings((MON_8, 0), (at(3, 9), 10_000)),
         [("energy", None, "4.00")], "4.00", "0.76", "4.76"),
    # 12.345 kWh x 0.3456 = 4.266432 -> 4.27; charging 8:00-8:45 (end of flow) = 45 min x
    # 0.05 = 2.25; session fee 1.00; net 7.52; VAT 19 % = 1.4288 -> 1.43; total 8.95.
    Case("energy+time+fee+vat",
         tariff(energy_price_per_kwh=D("0.3456"), time_price_per_min=D("0.05"),
                session_fee=D("1.00"), vat_percent=D(19)),
         MON_8, at(3, 8, 45),
         readings((MON_8, 0), (at(3, 8, 20), 7_000), (at(3, 8, 45), 12_345)),
         [("energy", None, "4.27"), ("time", None, "2.25"), ("session_fee", None, "1.00")],
         "7.52", "1.43", "8.95"),
    # Charging ends 9:00 (last rise), session ends 10:00: idle 60 min, grace 15, billed 45 x
    # 0.10 = 4.50; energy 20 kWh x 0.30 = 6.00; total 10.50.
    Case("idle-after-grace",
         tariff(energy_price_per_kwh=D("0.30"), idle_price_per_min=D("0.10"),
                idle_grace_min=D(15)),
         MON_8, at(3, 10), readings((MON_8, 0), (at(3, 9), 20_000), (at(3, 10), 20_000)),
         [("energy", None, "6.00"), ("idle", None, "4.50")], "10.50", "0.00", "10.50"),
    # Idle exactly the grace period (15 min): no idle fee; 1 kWh x 0.30 = 0.30.
    Case("grace-edge-exact",
         tariff(energy_price_per_kwh=D("0.30"), idle_price_per_min=D("0.10"),
                idle_grace_min=D(15)),
         MON_8, at(3, 8, 45), readings((MON_8, 0), (at(3, 8, 30), 1_000)),
         [("energy", None, "0.30")], "0.30", "0.00", "0.30"),
    # 30 s past the grace period: 0.5 min x 0.10 = 0.05; total 0.35.
    Case("grace-edge-30s-over",
         tariff(energy_price_per_kwh=D("0.30"), idle_price_per_min=D("0.10"),
                idle_grace_min=D(15)),
         MON_8, at(3, 8, 45, 30), readings((MON_8, 0), (at(3, 8, 30), 1_000)),
         [("energy", None, "0.30"), ("idle", None, "0.05")], "0.35", "0.00", "0.35"),
    # Berlin 21:30-22:30 local (20:30-21:30 UTC) with a night band from 22:00 local: 10 kWh
    # split by time, 5 kWh x 0.30 = 1.50 (base) and 5 kWh x 0.20 = 1.00 (night); total 2.50.
    Case("band-crossing-in-local-time",
         tariff(time_zone="Europe/Berlin", energy_price_per_kwh=D("0.30"), bands=(
             Band("night", ALL_DAYS, 22 * 60, 6 * 60, energy_price_per_kwh=D("0.20")),)),
         at(3, 20, 30), at(3, 21, 30), readings((at(3, 20, 30), 0), (at(3, 21, 30), 10_000)),
         [("energy", None, "1.50"), ("energy", "night", "1.00")], "2.50", "0.00", "2.50"),
    # Friday 23:30 to Saturday 00:30 UTC, weekend band from Saturday 00:00: energy 3 kWh x
    # 0.35 = 1.05 and 3 kWh x 0.25 = 0.75; time 30 min x 0.04 = 1.20 and 30 min x 0.02 =
    # 0.60; net 3.60; VAT 20 % = 0.72; total 4.32.
    Case("weekday-band",
         tariff(energy_price_per_kwh=D("0.35"), time_price_per_min=D("0.04"),
                vat_percent=D(20), bands=(Band("weekend", frozenset({6, 7}), 0, 24 * 60,
                                               energy_price_per_kwh=D("0.25"),
                                               time_price_per_min=D("0.02")),)),
         at(7, 23, 30), at(8, 0, 30), readings((at(7, 23, 30), 0), (at(8, 0, 30), 6_000)),
         [("energy", None, "1.05"), ("energy", "weekend", "0.75"), ("time", None, "1.20"),
          ("time", "weekend", "0.60")], "3.60", "0.72", "4.32"),
    # A Friday 22:00-06:00 band covers Saturday until 06:00 (it belongs to the day it starts
    # on): Saturday 05:00-07:00, 1 kWh an hour: 1 kWh x 0.10 = 0.10 and 1 kWh x 0.30 = 0.30.
    Case("wrapping-band-belongs-to-its-start-day",
         tariff(energy_price_per_kwh=D("0.30"), bands=(
             Band("friday-night", frozenset({5}), 22 * 60, 6 * 60,
                  energy_price_per_kwh=D("0.10")),)),
         at(8, 5), at(8, 7), readings((at(8, 5), 0), (at(8, 7), 2_000)),
         [("energy", None, "0.30"), ("energy", "friday-night", "0.10")], "0.40", "0.00",
         "0.40"),
    # Sunday 30 March: Berlin springs forward at 02:00. The band 00:00-06:00 local is 23:00
    # (Sat) to 04:00 UTC: 5 of the 6 hours, 5 kWh x 0.10 = 0.50; 1 kWh x 0.30 = 0.30.
    Case("band-across-daylight-saving",
         tariff(time_zone="Europe/Berlin", energy_price_per_kwh=D("0.30"), bands=(
             Band("early", frozenset({7}), 0, 6 * 60, energy_price_per_kwh=D("0.10")),)),
         at(29, 23), at(30, 5), readings((at(29, 23), 0), (at(30, 5), 6_000)),
         [("energy", None, "0.30"), ("energy", "early", "0.50")], "0.80", "0.00", "0.80"),
    # A band that only overrides time: its energy is at the base price. 1 kWh x 0.30 = 0.30;
    # 60 min x 0.01 = 0.60 in band "peak" (base time price 0: no base time line).
    Case("band-overrides-time-only",
         tariff(energy_price_per_kwh=D("0.30"), bands=(
             Band("peak", ALL_DAYS, 8 * 60, 20 * 60, time_price_per_min=D("0.01")),)),
         MON_8, at(3, 9), readings((MON_8, 0), (at(3, 9), 1_000)),
         [("energy", None, "0.30"), ("time", "peak", "0.60")], "0.90", "0.00", "0.90"),
    # No energy: no charging, idle from the start. 5 min < 10 min grace: the fee only.
    Case("zero-energy-within-grace",
         tariff(energy_price_per_kwh=D("0.30"), session_fee=D("0.50"),
                idle_price_per_min=D("0.10"), idle_grace_min=D(10)),
         MON_8, at(3, 8, 5), readings((MON_8, 1_000), (at(3, 8, 5), 1_000)),
         [("session_fee", None, "0.50")], "0.50", "0.00", "0.50"),
    # No energy, 30 min plugged in: idle 30 - 10 = 20 min x 0.10 = 2.00; + fee 0.50 = 2.50.
    Case("zero-energy-blocking",
         tariff(energy_price_per_kwh=D("0.30"), session_fee=D("0.50"),
                idle_price_per_min=D("0.10"), idle_grace_min=D(10)),
         MON_8, at(3, 8, 30), readings((MON_8, 1_000), (at(3, 8, 30), 1_000)),
         [("idle", None, "2.00"), ("session_fee", None, "0.50")], "2.50", "0.00", "2.50"),
    # JPY has no minor unit: 12.345 kWh x 45.5 = 561.6975 -> 562; fee 100; net 662; VAT 10 %
    # = 66.2 -> 66; total 728.
    Case("jpy-whole-yen",
         tariff(currency="JPY", energy_price_per_kwh=D("45.5"), session_fee=D(100),
                vat_percent=D(10)),
         MON_8, at(3, 9), readings((MON_8, 0), (at(3, 9), 12_345)),
         [("energy", None, "562"), ("session_fee", None, "100")], "662", "66", "728"),
    # Half up per line: 1 kWh x 0.125 = 0.125 -> 0.13 (not 0.12); 1 min x 0.005 -> 0.01;
    # net 0.14; VAT on the net: 0.14 x 19 % = 0.0266 -> 0.03 (per line it would be 0.02).
    Case("rounding-half-up-and-vat-on-net",
         tariff(energy_price_per_kwh=D("0.125"), time_price_per_min=D("0.005"),
                vat_percent=D(19)),
         MON_8, at(3, 8, 1), readings((MON_8, 0), (at(3, 8, 1), 1_000)),
         [("energy", None, "0.13"), ("time", None, "0.01")], "0.14", "0.03", "0.17"),
    # Reported charging 8:00-8:30 and 8:40-9:00 (a pause between), ended 9:20: time 50 min x
    # 0.10 = 5.00; the pause is free; idle 20 - 5 grace = 15 min x 0.20 = 3.00; total 8.00.
    Case("charging-periods-with-pause",
         tariff(time_price_per_min=D("0.10"), idle_price_per_min=D("0.20"),
                idle_grace_min=D(5)),
         MON_8, at(3, 9, 20), readings((MON_8, 0), (at(3, 9, 20), 9_000)),
         [("time", None, "5.00"), ("idle", None, "3.00")], "8.00", "0.00", "8.00",
         periods=((MON_8, at(3, 8, 30)), (at(3, 8, 40), at(3, 9)))),
    # Running, still charging at 8:30 (period open): 5 kWh x 0.40 = 2.00, 30 min x 0.10 =
    # 3.00, no idle; total 5.00, not final.
    Case("running-while-charging",
         tariff(energy_price_per_kwh=D("0.40"), time_price_per_min=D("0.10"),
                idle_price_per_min=D("0.50"), idle_grace_min=D(5)),
         MON_8, None, readings((MON_8, 0), (at(3, 8, 20), 5_000)),
         [("energy", None, "2.00"), ("time", None, "3.00")], "5.00", "0.00", "5.00",
         periods=((MON_8, None),), now=at(3, 8, 30)),
    # Running, no charging periods reported: the latest reading rose, so the EV counts as
    # charging until now (8:30): 5 kWh x 0.40 = 2.00, 30 min x 0.10 = 3.00; total 5.00.
    Case("running-flow-not-seen-stopping",
         tariff(energy_price_per_kwh=D("0.40"), time_price_per_min=D("0.10"),
                idle_price_per_min=D("0.50"), idle_grace_min=D(5)),
         MON_8, None, readings((MON_8, 0), (at(3, 8, 20), 5_000)),
         [("energy", None, "2.00"), ("time", None, "3.00")], "5.00", "0.00", "5.00",
         now=at(3, 8, 30)),
    # The same with a reading at 8:25 that did not rise: charging ended 8:20; 20 min x 0.10 =
    # 2.00; idle 10 - 5 grace = 5 min x 0.50 = 2.50; 2.00 + 2.00 + 2.50 = 6.50.
    Case("running-flow-seen-stopping",
         tariff(energy_price_per_kwh=D("0.40"), time_price_per_min=D("0.10"),
                idle_price_per_min=D("0.50"), idle_grace_min=D(5)),
         MON_8, None, readings((MON_8, 0), (at(3, 8, 20), 5_000), (at(3, 8, 25), 5_000)),
         [("energy", None, "2.00"), ("time", None, "2.00"), ("idle", None, "2.50")], "6.50",
         "0.00", "6.50", now=at(3, 8, 30)),
    # A reading that goes backwards is ignored: 0, 2000, 1500 (dropped), 3000 -> 3 kWh x
    # 0.50 = 1.50.
    Case("register-going-backwards-is-ignored",
         tariff(energy_price_per_kwh=D("0.50")),
         MON_8, at(3, 9), readings((MON_8, 0), (at(3, 8, 20), 2_000), (at(3, 8, 40), 1_500),
                                   (at(3, 9), 3_000)),
         [("energy", None, "1.50")], "1.50", "0.00", "1.50"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_price_session(case: Case) -> None:
    facts = SessionFacts("CS-1", "TX-1", case.start, case.end, case.readings,
                         charging_periods=case.periods)
    cost = price_session(facts, case.tariff, case.now or case.end or case.start)
    assert [(line.kind, line.band, str(line.amount)) for line in cost.lines] == case.lines
    assert (str(cost.net.amount), str(cost.vat.amount), str(cost.total.amount)) == \
        (case.net, case.vat, case.total)
    assert cost.total.currency == case.tariff.currency
    assert cost.final is (case.end is not None)
    # The net is the sum of the rounded lines; the periods cover the session and its energy.
    assert sum(line.amount for line in cost.lines) == cost.net.amount
    assert sum(p.energy_wh for p in cost.periods) == cost.energy_wh
    assert sum((p.end - p.start for p in cost.periods), timedelta()) == cost.as_of - case.start


def test_the_charge_detail_record_adds_up() -> None:
    """Case energy+time+fee+vat as a CDR: totals by dimension, times in minutes."""
    case = CASES[1]
    cost = price_session(SessionFacts("CS-1", "TX-1", case.start, case.end, case.readings,
                                      evse_id=1, connector_id=1, id_token="TAG"),
                         case.tariff, case.start)
    cdr = cost.cdr()
    assert cdr.id == "CS-1:TX-1" and (cdr.start, cdr.end) == (MON_8, at(3, 8, 45))
    assert cdr.total_energy_kwh == D("12.345")
    assert (cdr.total_time_min, cdr.total_charging_time_min, cdr.total_idle_time_min) == \
        (45, 45, 0)
    assert (cdr.total_energy_cost, cdr.total_time_cost, cdr.total_fixed_cost,
            cdr.total_idle_cost) == (D("4.27"), D("2.25"), D("1.00"), D("0.00"))
    assert (cdr.total_cost_excl_vat, cdr.total_vat, cdr.total_cost_incl_vat) == \
        (D("7.52"), D("1.43"), D("8.95"))
    assert [p.state for p in cdr.periods] == ["charging"]


def test_cdr_periods_split_at_band_edges_and_charging_end() -> None:
    """Case band-crossing... with 30 min idle after: charging base, charging night, idle."""
    night = Band("night", ALL_DAYS, 22 * 60, 6 * 60, energy_price_per_kwh=D("0.20"))
    cost = price_session(
        SessionFacts("CS-1", "TX-1", at(3, 21, 30), at(3, 23),
                     readings((at(3, 21, 30), 0), (at(3, 22, 30), 10_000))),
        tariff(energy_price_per_kwh=D("0.30"), bands=(night,)), at(3, 23))
    assert [(p.start, p.end, p.state, p.band, p.energy_wh) for p in cost.periods] == [
        (at(3, 21, 30), at(3, 22), "charging", None, 5_000),
        (at(3, 22), at(3, 22, 30), "charging", "night", 5_000),
        (at(3, 22, 30), at(3, 23), "idle", "night", 0)]
    assert cost.idle_s == 30 * 60 and cost.charging_s == 60 * 60


@pytest.mark.parametrize(("text", "end", "minutes"), [
    ("00:00", False, 0), ("06:30", False, 390), ("23:59", False, 1439),
    ("24:00", True, 1440), ("00:00", True, 1440)])
def test_band_clock_times(text: str, end: bool, minutes: int) -> None:
    assert clock_minutes(text, end=end) == minutes


@pytest.mark.parametrize(("text", "end"), [("24:00", False), ("7:00", False), ("12:60", True),
                                           ("25:00", True), ("noon", False)])
def test_bad_band_clock_times_are_refused(text: str, end: bool) -> None:
    with pytest.raises(ValueError, match="time of day"):
        clock_minutes(text, end=end)


def test_stored_band_round_trip() -> None:
    band = band_from_json({"name": "night", "days": ["fri", "sat"], "start": "22:00",
                           "end": "06:00", "energy_price_per_kwh": "0.20",
                           "time_price_per_min": None})
    assert band == Band("night", frozenset({5, 6}), 22 * 60, 6 * 60, D("0.20"), None)
