"""Drivers: tokens, behaviour, populations, the distributions of the defaults file, visits drawn
up front (same seed, same visits), replayed visits, and routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.arrivals import local_hour_weekday
from simulator.drivers import (
    NO_AUTHORIZATION,
    DriverBehaviour,
    IdToken,
    Population,
    Visit,
    adhoc_tokens,
    app_tokens,
    emaid_tokens,
    haversine_m,
    make_tokens,
    plan_visit_table,
    plan_visits,
    rfid_tokens,
    route_positions,
    unplug_after_s,
)
from simulator.vehicles import VEHICLE_CATALOG, Vehicle

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DAY = 86_400.0


def fingerprint(visits: list[Visit]) -> list[tuple[object, ...]]:
    return [(v.arrival_s, v.site_id, v.dwell_s, v.vehicle.model.name, v.vehicle.soc,
             v.vehicle.target_soc, v.token, v.plug_first, v.remote_start, v.leave_early_s,
             v.overstay_s, v.driver) for v in visits]


# -- tokens ---------------------------------------------------------------------------------------


def test_token_types_and_id_tags() -> None:
    assert IdToken("04A1B2C3D4E5F6").as_201() == {"idToken": "04A1B2C3D4E5F6", "type": "ISO14443"}
    assert IdToken("PAY1", "ad-hoc").type_201 == "Local"
    assert NO_AUTHORIZATION.as_201() == {"idToken": "", "type": "NoAuthorization"}
    long = IdToken("x" * 30, "Central")
    with pytest.raises(ValueError, match=r"1\.6 idTag"):
        _ = long.id_tag
    with pytest.raises(ValueError):
        IdToken("x" * 37, "Central")
    with pytest.raises(ValueError):
        IdToken("abc", "Bluetooth")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        IdToken("", "ISO14443")


def test_token_generators_are_unique_well_formed_and_seeded() -> None:
    cards = rfid_tokens(np.random.default_rng(1), 500, prefix="T")
    assert len({t.id for t in cards}) == 500
    assert all(re.fullmatch(r"T[0-9A-F]{14}", t.id) and len(t.id_tag) <= 20 for t in cards)
    assert cards == rfid_tokens(np.random.default_rng(1), 500, prefix="T")
    assert cards != rfid_tokens(np.random.default_rng(2), 500, prefix="T")
    apps = app_tokens(np.random.default_rng(1), 50)
    assert all(t.kind == "Central" and re.fullmatch(r"APP[0-9A-F]{16}", t.id) for t in apps)
    contracts = emaid_tokens(np.random.default_rng(1), 50)
    assert all(re.fullmatch(r"NLCLPC\d{8}", t.id) for t in contracts)
    payments = adhoc_tokens(np.random.default_rng(1), 50)
    assert len({t.id for t in payments}) == 50 and payments[0].type_201 == "Local"
    for kind in ("ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization"):
        assert {t.kind for t in make_tokens(np.random.default_rng(1), kind, 5)} == {kind}
    with pytest.raises(ValueError, match="prefix"):
        rfid_tokens(np.random.default_rng(1), 1, prefix="TOOLONGX")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["plug_first", "remote_start", "overstay", "leave_early"]),
       st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.000001), st.just(float("nan"))))
def test_behaviour_probabilities_are_validated(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        DriverBehaviour(**{name: value})


def test_population_is_validated() -> None:
    with pytest.raises(ValueError, match="site_kind"):
        Population("p", "S", "stadium")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="target_soc"):
        Population("p", "S", "home", target_soc=1.5)
    with pytest.raises(ValueError, match="dwell_sd_s"):
        Population("p", "S", "home", dwell_sd_s=60.0)
    with pytest.raises(ValueError, match="profile"):
        Population("p", "S", "home", profile="stadium")
    assert Population("p", "S", "highway").leaves_when_full
    assert not Population("p", "S", "public").leaves_when_full


# -- visits ---------------------------------------------------------------------------------------


def test_same_seed_same_visits_different_seed_different() -> None:
    pop = Population("commuters", "W1", "workplace", arrivals_per_day=30, drivers=40)
    a = plan_visits(np.random.default_rng(9), pop, None, MONDAY, 7 * DAY)
    b = plan_visits(np.random.default_rng(9), pop, "W1", MONDAY, 7 * DAY)
    c = plan_visits(np.random.default_rng(10), pop, None, MONDAY, 7 * DAY)
    assert a and fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)


def test_drivers_keep_their_token_and_car() -> None:
    pop = Population("p", "S", "public", arrivals_per_day=100, drivers=20)
    visits = plan_visits(np.random.default_rng(4), pop, None, MONDAY, 10 * DAY)
    assert len({v.token.id for v in visits}) <= 20
    car_of: dict[str, str] = {}
    for v in visits:
        assert car_of.setdefault(v.token.id, v.vehicle.model.name) == v.vehicle.model.name
    assert len({id(v.vehicle) for v in visits}) == len(visits)  # a live car per visit


def test_adhoc_visitors_get_a_fresh_token_each_time() -> None:
    pop = Population("p", "S", "public", arrivals_per_day=50, token_kind="ad-hoc", drivers=5)
    visits = plan_visits(np.random.default_rng(4), pop, None, MONDAY, 3 * DAY)
    assert len({v.token.id for v in visits}) == len(visits)
    assert {v.token.kind for v in visits} == {"ad-hoc"}


def test_plan_visits_takes_a_site_object() -> None:
    @dataclass
    class Site:
        id: str

    pop = Population("p", "S", "home", arrivals_per_day=5)
    visits = plan_visits(np.random.default_rng(1), pop, Site("HOME-7"), MONDAY, 2 * DAY)
    assert {v.site_id for v in visits} == {"HOME-7"}


def hourly_mean_dwell_h(kind: str, hours: range, per_day: float = 2000.0) -> float:
    pop = Population("p", "S", kind, arrivals_per_day=per_day)  # type: ignore[arg-type]
    table = plan_visit_table(np.random.default_rng(2), pop, MONDAY, 5 * DAY)
    hour, _ = local_hour_weekday(MONDAY, table.arrival_s)
    return float(table.dwell_s[np.isin(hour, list(hours))].mean() / 3600)


def test_dwell_times_follow_the_defaults() -> None:
    assert 8.1 * 0.95 <= hourly_mean_dwell_h("workplace", range(5, 9)) <= 8.4 * 1.05
    assert hourly_mean_dwell_h("workplace", range(9, 10)) == pytest.approx(6.6, rel=0.05)
    assert hourly_mean_dwell_h("workplace", range(10, 20)) <= 4.7
    assert 2.8 * 0.95 <= hourly_mean_dwell_h("public", range(9, 17)) <= 4.3 * 1.05
    assert 9.5 * 0.95 <= hourly_mean_dwell_h("public", range(17, 24)) <= 12.5 * 1.05
    assert 13 * 0.95 <= hourly_mean_dwell_h("home", range(15, 19)) <= 15.5 * 1.05
    highway = plan_visit_table(np.random.default_rng(2),
                               Population("h", "S", "highway", arrivals_per_day=500),
                               MONDAY, 2 * DAY)
    assert highway.dwell_s.min() >= 30 * 60 and highway.dwell_s.max() <= 45 * 60


def test_dwell_override() -> None:
    pop = Population("p", "S", "public", arrivals_per_day=2000, dwell_mean_s=3600,
                     dwell_sd_s=600)
    table = plan_visit_table(np.random.default_rng(2), pop, MONDAY, 2 * DAY)
    assert table.dwell_s.mean() == pytest.approx(3600, rel=0.03)
    assert table.dwell_s.std() == pytest.approx(600, rel=0.1)


def test_soc_at_arrival_override() -> None:
    pop = Population("p", "S", "highway", arrivals_per_day=2000, soc_in_mean=0.5,
                     soc_in_sd=0.05)
    table = plan_visit_table(np.random.default_rng(3), pop, MONDAY, DAY)
    assert table.soc_in.mean() == pytest.approx(0.5, abs=0.01)
    assert table.soc_in.std() == pytest.approx(0.05, rel=0.1)


@pytest.mark.parametrize(("kind", "low_kwh", "high_kwh"), [
    ("workplace", 11, 16), ("public", 12, 22), ("home", 15, 32)])
def test_energy_needed_per_visit_lands_in_the_defaults_range(kind: str, low_kwh: float,
                                                             high_kwh: float) -> None:
    pop = Population("p", "S", kind, arrivals_per_day=1000)  # type: ignore[arg-type]
    visits = plan_visits(np.random.default_rng(5), pop, None, MONDAY, 2 * DAY)
    mean_kwh = np.mean([v.vehicle.needed_wh("AC") for v in visits]) / 1000
    assert low_kwh <= mean_kwh <= high_kwh


def test_highway_drivers_arrive_low_and_leave_near_80_percent() -> None:
    pop = Population("h", "S", "highway", arrivals_per_day=1000)
    table = plan_visit_table(np.random.default_rng(5), pop, MONDAY, 2 * DAY)
    assert table.soc_in.min() >= 0.1 and table.soc_in.max() <= 0.3
    assert table.target_soc.mean() == pytest.approx(0.8, abs=0.01)
    assert (table.soc_in <= table.target_soc).all()


def test_behaviour_shares() -> None:
    behaviour = DriverBehaviour(plug_first=0.3, remote_start=0.5, overstay=0.2, leave_early=0.1)
    pop = Population("p", "S", "public", arrivals_per_day=2000, behaviour=behaviour)
    table = plan_visit_table(np.random.default_rng(8), pop, MONDAY, 2 * DAY)
    assert table.plug_first.mean() == pytest.approx(0.3, abs=0.03)
    assert table.remote_start.mean() == pytest.approx(0.5, abs=0.03)
    assert (table.overstay_s > 0).mean() == pytest.approx(0.2, abs=0.03)
    early = ~np.isnan(table.leave_early_s)
    assert early.mean() == pytest.approx(0.1, abs=0.03)
    assert (table.leave_early_s[early] < table.dwell_s[early]).all()


def test_unplug_rule() -> None:
    car = Vehicle(VEHICLE_CATALOG["VW ID.3"], 0.2, 0.8)
    token = IdToken("04AABBCCDDEEFF")
    stay = Visit(0.0, "S", 3600.0, car, token, overstay_s=60.0)
    assert stay.unplug_at(100.0, full_at_s=1000.0) == 100.0 + 3660.0  # destination: dwell
    leave = Visit(0.0, "S", 3600.0, car, token, overstay_s=60.0, unplug_when_full=True)
    assert leave.unplug_at(100.0, full_at_s=1000.0) == 1060.0  # full + overstay
    assert leave.unplug_at(100.0) == 3760.0  # not full (yet): the dwell
    early = Visit(0.0, "S", 3600.0, car, token, leave_early_s=500.0, unplug_when_full=True)
    assert early.unplug_at(100.0, full_at_s=1000.0) == 600.0
    assert unplug_after_s(3600.0, 0.0, None, True, float("inf")) == 3600.0


def test_replayed_visits_follow_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("arrival,dwell_s,energy_kwh,target_soc,site,token\n"
                    "3600,7200,20,,S,CARD0001\n"
                    "7200,3600,,0.7,S,CARD0001\n"
                    "9000,600,,,OTHER,\n"
                    "10800,1800,,,,\n", encoding="utf-8")
    pop = Population("replay", "S", "public", replay_csv=path, drivers=3)
    visits = plan_visits(np.random.default_rng(1), pop, None, MONDAY, DAY)
    assert [v.arrival_s for v in visits] == [3600.0, 7200.0, 10800.0]  # OTHER site left out
    assert [v.dwell_s for v in visits] == [7200.0, 3600.0, 1800.0]
    assert visits[0].token.id == visits[1].token.id == "CARD0001"
    assert visits[0].vehicle.model is visits[1].vehicle.model
    assert visits[0].vehicle.needed_wh("AC") == pytest.approx(20_000.0)
    assert visits[1].vehicle.target_soc == 0.7


# -- routes ---------------------------------------------------------------------------------------


def test_haversine_and_routes() -> None:
    assert haversine_m(52.0, 5.0, 53.0, 5.0) == pytest.approx(111_195, rel=1e-3)
    line = [(52.0, 5.0), (52.1, 5.0), (52.1, 5.1)]
    first, second = haversine_m(52.0, 5.0, 52.1, 5.0), haversine_m(52.1, 5.0, 52.1, 5.1)
    points = route_positions(line, 60.0, 10_000.0)
    assert points[-1] == (10_000.0, 52.1, 5.1)
    assert points[0][0] == pytest.approx(10_000.0 - (first + second) / (60 / 3.6))
    sampled = route_positions(line, 60.0, 10_000.0, step_s=60.0)
    assert sampled[0][1:] == pytest.approx((52.0, 5.0)) and sampled[-1] == points[-1]
    times = [t for t, _, _ in sampled]
    assert times == sorted(times)
    halfway = route_positions([(52.0, 5.0), (52.2, 5.0)], 36.0, 0.0, step_s=1.0)
    middle = halfway[len(halfway) // 2]
    assert middle[1] == pytest.approx(52.1, abs=1e-3)
    pop = Population("p", "S", "home", arrivals_per_day=10, route=tuple(line))
    visit = plan_visits(np.random.default_rng(1), pop, None, MONDAY, DAY)[0]
    assert visit.route is not None and visit.route[-1][0] == visit.arrival_s
    with pytest.raises(ValueError):
        route_positions([], 50.0, 0.0)


def test_visit_tables_match_visits() -> None:
    pop = Population("p", "S", "public", arrivals_per_day=40)
    table = plan_visit_table(np.random.default_rng(3), pop, MONDAY, 3 * DAY)
    visits = plan_visits(np.random.default_rng(3), pop, None, MONDAY, 3 * DAY)
    assert len(table) == len(visits)
    assert table.arrival_s.tolist() == [v.arrival_s for v in visits]
    assert [table.models[m].name for m in table.model] == [v.vehicle.model.name for v in visits]
