"""Fleet mode: repeatable tables, exact energy that agrees with step-by-step integration of the
live Vehicle, a FIFO queue with patience, and meter series consistent with the sessions."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from simulator.drivers import Population, plan_visit_table
from simulator.fleet import ChargerSpec, FleetResult, run_fleet
from simulator.vehicles import VEHICLE_CATALOG, Vehicle, energy_in_time, energy_table

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)

SPECS = [ChargerSpec("HW", 150e3, count=3), ChargerSpec("PU", 22e3, count=3),
         ChargerSpec("MIX", 50e3, count=1), ChargerSpec("MIX", 11e3, count=2)]
POPULATIONS = [
    Population("highway", "HW", "highway", arrivals_per_day=14, drivers=200),
    Population("public", "PU", "public", arrivals_per_day=7, drivers=30),
    Population("mixed", "MIX", "public", arrivals_per_day=6, drivers=30, token_kind="ad-hoc"),
]


def small_fleet(seed: int = 1, days: float = 5.0) -> FleetResult:
    return run_fleet(np.random.default_rng(seed), SPECS, None, POPULATIONS, MONDAY, days)


@pytest.fixture(scope="module")
def fleet() -> FleetResult:
    return small_fleet()


def seconds(column: pd.Series) -> np.ndarray:
    return (column - pd.Timestamp(MONDAY)).dt.total_seconds().to_numpy()


def test_sessions_table(fleet: FleetResult) -> None:
    s = fleet.sessions
    assert len(s) > 100
    for column in ("charger", "arrival", "start", "end", "departure", "energy_wh", "soc_in",
                   "soc_out", "waited_s", "token", "model", "site", "population", "kind"):
        assert column in s.columns
    assert (s["arrival"] <= s["start"]).all() and (s["start"] <= s["end"]).all()
    assert (s["end"] <= s["departure"]).all()
    assert (s["soc_in"] <= s["soc_out"]).all() and (s["soc_out"] <= 1.0).all()
    assert s["arrival"].is_monotonic_increasing
    assert set(s.loc[s["site"] == "HW", "kind"]) == {"DC"}
    summary = fleet.summary()
    assert summary["sessions"] == len(s)
    assert summary["energy_mwh"] == pytest.approx(s["energy_wh"].sum() / 1e6)


def test_same_seed_same_tables_different_seed_different(fleet: FleetResult) -> None:
    again = small_fleet()
    assert again.sessions.equals(fleet.sessions)
    assert again.abandoned.equals(fleet.abandoned)
    assert not small_fleet(seed=2).sessions.equals(fleet.sessions)


def test_fleet_draws_the_same_visits_as_the_networked_mode() -> None:
    pop = POPULATIONS[0]
    result = run_fleet(np.random.default_rng(4), [ChargerSpec("HW", 150e3, count=50)], None,
                       [pop], MONDAY, 2.0)
    table = plan_visit_table(np.random.default_rng(4), pop, MONDAY, 2 * 86_400.0)
    assert result.abandoned.empty
    assert np.allclose(seconds(result.sessions["arrival"]), table.arrival_s, atol=1e-6)
    assert np.allclose(result.sessions["soc_in"], table.soc_in)


def test_energy_is_the_sum_of_per_session_analytic_energy(fleet: FleetResult) -> None:
    s = fleet.sessions
    for row in s.sample(40, random_state=0).itertuples():
        model = VEHICLE_CATALOG[row.model]
        exact = energy_in_time(model, row.kind, row.charger_w, row.soc_in, row.plugged_s,
                               row.target_soc)
        assert row.energy_wh == pytest.approx(exact, rel=1e-9, abs=1e-6)
    assert fleet.summary()["energy_mwh"] * 1e6 == pytest.approx(float(s["energy_wh"].sum()))


def test_energy_never_exceeds_the_need(fleet: FleetResult) -> None:
    s = fleet.sessions
    capacity = s["model"].map(lambda name: VEHICLE_CATALOG[name].capacity_wh).astype(float)
    efficiency = np.where(s["kind"] == "DC", 0.95, 0.92)
    need = (s["target_soc"] - s["soc_in"]) * capacity / efficiency
    assert (s["energy_wh"] <= need + 1e-6).all()
    assert (s["energy_wh"] <= s["charger_w"] * s["charging_s"] / 3600 + 1e-6).all()


def test_energy_agrees_with_step_by_step_reference(fleet: FleetResult) -> None:
    s = fleet.sessions
    picks = pd.concat([s[(s["kind"] == "DC") & (s["energy_wh"] > 5e3)].head(3),
                       s[(s["charger_w"] == 11e3) & (s["energy_wh"] > 5e3)].head(2)])
    assert len(picks) == 5
    for row in picks.itertuples():
        car = Vehicle(VEHICLE_CATALOG[row.model], row.soc_in, row.target_soc)
        delivered, t, dt = 0.0, 0.0, 1.0
        while t < row.plugged_s and not car.full:
            step = min(dt, row.plugged_s - t)
            power = min(row.charger_w, car.max_power_w(row.kind, t))
            delivered += car.charge(min(power * step / 3600, car.needed_wh()))
            t += step
        assert row.energy_wh == pytest.approx(delivered, rel=0.005)


def test_queue_is_fifo_with_patience() -> None:
    crowd = Population("crowd", "ONE", "highway", arrivals_per_day=120, patience_s=600.0)
    result = run_fleet(np.random.default_rng(6), [ChargerSpec("ONE", 50e3)], None, [crowd],
                       MONDAY, 2.0)
    s, gone = result.sessions, result.abandoned
    assert len(gone) > 0  # one slow charger cannot serve 120 cars a day
    assert (s["waited_s"] <= 600.0 + 1e-6).all() and (s["waited_s"] > 0).any()
    assert (gone["waited_s"] == 600.0).all()
    assert s["start"].is_monotonic_increasing  # first come, first served
    start, leave = seconds(s["start"]), seconds(s["departure"])
    assert (start[1:] >= leave[:-1] - 1e-6).all()  # never two cars on one charger
    assert len(s) + len(gone) == len(plan_visit_table(np.random.default_rng(6), crowd, MONDAY,
                                                      2 * 86_400.0))


def test_chargers_never_overlap(fleet: FleetResult) -> None:
    for _, group in fleet.sessions.groupby("charger"):
        start = np.sort(seconds(group["start"]))
        leave = np.sort(seconds(group["departure"]))
        assert (start[1:] >= leave[:-1] - 1e-6).all()


def test_meter_series_follow_the_sessions(fleet: FleetResult) -> None:
    series = fleet.meter_series()
    assert series is fleet.meter_series()  # computed once
    samples = int(5 * 86_400 / 900) + 1
    assert len(series) == len(fleet.chargers) * samples
    assert (series["power_w"] >= -1e-6).all()
    for charger, group in series.groupby("charger"):
        register = group["energy_wh"].to_numpy()
        assert (np.diff(register) >= -1e-6).all()  # the register never decreases
        mine = fleet.sessions[fleet.sessions["charger"] == charger]
        at = seconds(group["time"])
        expected = np.zeros(samples)
        for row, begun in zip(mine.itertuples(), seconds(mine["start"]), strict=True):
            table = energy_table(VEHICLE_CATALOG[row.model], row.kind, row.charger_w)
            elapsed = np.clip(at - begun, 0.0, row.charging_s)
            reached = table.soc_after(row.soc_in, elapsed, row.target_soc)
            expected += np.where(elapsed > 0, table.energy_wh(row.soc_in, reached), 0.0)
        assert np.allclose(register, expected, rtol=1e-9, atol=1e-3)
    peak = series.groupby("charger")["power_w"].max()
    rating = fleet.chargers.set_index("charger")["power_w"]
    assert (peak <= rating.loc[peak.index] + 1e-6).all()


def test_meter_series_subset_and_other_interval(fleet: FleetResult) -> None:
    series = fleet.meter_series(interval_s=3600, chargers=[0, 4])
    assert set(series["charger"]) == {0, 4} and len(series) == 2 * (5 * 24 + 1)
    full = fleet.meter_series()
    hourly = full[full["time"].dt.minute == 0]
    hourly = hourly[hourly["charger"].isin([0, 4])]
    assert np.allclose(series["energy_wh"].to_numpy(), hourly["energy_wh"].to_numpy())


def test_charger_count_is_spread_over_sites() -> None:
    result = run_fleet(np.random.default_rng(1), 12, 22e3, POPULATIONS[1:], MONDAY, 1.0)
    per_site = result.chargers.groupby("site", observed=True).size()
    assert per_site.sum() == 12 and per_site["PU"] >= per_site["MIX"] >= 1
    assert set(result.chargers["kind"]) == {"AC"}


def test_bad_fleet_arguments() -> None:
    with pytest.raises(ValueError, match="no chargers at site"):
        run_fleet(np.random.default_rng(1), [ChargerSpec("X", 11e3)], None, POPULATIONS,
                  MONDAY, 1.0)
    with pytest.raises(ValueError, match="power_w"):
        run_fleet(np.random.default_rng(1), 5, None, POPULATIONS, MONDAY, 1.0)
    with pytest.raises(ValueError):
        ChargerSpec("X", 0.0)
