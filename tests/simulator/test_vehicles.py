"""Vehicles: curves, the catalogue against the defaults file, the live car's invariants, and the
exact integration tables against a step-by-step reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.vehicles import (
    DEFAULT_AC_CURVE,
    DEFAULT_DC_CURVE,
    VEHICLE_CATALOG,
    ChargingCurve,
    Vehicle,
    VehicleModel,
    default_mix,
    energy_in_time,
    energy_table,
    mix_probabilities,
    sample_model,
    time_to_energy,
)

FAST = settings(max_examples=60, deadline=None)
BEVS = [m for m in VEHICLE_CATALOG.values() if m.dc_max_w > 0]
soc = st.floats(0.0, 1.0)


def step_reference(model: VehicleModel, kind: str, charger_w: float, soc0: float,
                   target: float, seconds: float, dt: float = 0.5) -> float:
    """Grid energy by explicit stepping of the live Vehicle: the slow, obvious way."""
    car = Vehicle(model, soc0, target)
    delivered, t = 0.0, 0.0
    while t < seconds - 1e-9 and not car.full:
        step = min(dt, seconds - t)
        power = min(charger_w, car.max_power_w(kind, t))  # type: ignore[arg-type]
        delivered += car.charge(min(power * step / 3600.0, car.needed_wh()))
        t += step
    return delivered


# -- curves ---------------------------------------------------------------------------------------


def test_default_curves_interpolate_the_defaults_table_points_exactly() -> None:
    dc = {0.0: 0.7, 0.1: 1.0, 0.4: 1.0, 0.6: 0.8, 0.8: 0.5, 0.9: 0.3, 1.0: 0.05}
    for s, f in dc.items():
        assert DEFAULT_DC_CURVE.fraction(s) == f
    assert DEFAULT_DC_CURVE.fraction(0.5) == pytest.approx(0.9)  # halfway 1.0 -> 0.8
    assert DEFAULT_AC_CURVE.fraction(0.0) == DEFAULT_AC_CURVE.fraction(0.8) == 1.0
    assert DEFAULT_AC_CURVE.fraction(0.9) == 0.4  # SAP city-ev taper
    assert DEFAULT_AC_CURVE.fraction(1.0) == 0.08


@FAST
@given(soc)
def test_curve_fraction_lies_between_its_neighbouring_points(s: float) -> None:
    for curve in (DEFAULT_DC_CURVE, DEFAULT_AC_CURVE):
        socs, fracs = curve.socs, curve.fractions
        i = min(int(np.searchsorted(socs, s, side="right")), len(socs) - 1)
        low, high = sorted((fracs[i - 1], fracs[i]))
        assert low - 1e-12 <= curve.fraction(s) <= high + 1e-12
        assert curve.fraction(s) == pytest.approx(float(np.interp(s, socs, fracs)))


@pytest.mark.parametrize("points", [
    ((0.0, 1.0),),
    ((0.1, 1.0), (1.0, 0.5)),
    ((0.0, 1.0), (0.5, 0.5), (0.5, 0.4), (1.0, 0.1)),
    ((0.0, 1.0), (1.0, 0.0)),
    ((0.0, 1.2), (1.0, 0.5)),
])
def test_bad_curves_are_refused(points: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValueError):
        ChargingCurve(points)


# -- catalogue and mix ----------------------------------------------------------------------------


def test_default_mix_follows_the_suggested_battery_pool() -> None:
    mix = default_mix()
    p = mix_probabilities(mix)
    by_class: dict[float, float] = {}
    for (model, _), weight in zip(mix, p, strict=True):
        by_class[model.capacity_wh] = by_class.get(model.capacity_wh, 0.0) + weight
    assert by_class == pytest.approx({40e3: 0.3, 60e3: 0.4, 77e3: 0.2, 100e3: 0.1})


def test_default_mix_power_figures_follow_the_defaults() -> None:
    mix = default_mix()
    p = mix_probabilities(mix)
    dc = np.array([m.dc_max_w for m, _ in mix])
    ac = np.array([m.ac_max_w for m, _ in mix])
    assert dc.min() >= 77e3 and dc.max() <= 170e3
    assert 110e3 <= float(dc @ p) <= 130e3  # "around a 121 kW mean"
    assert set(ac) <= {11e3, 7.4e3}
    assert float(p[ac == 11e3].sum()) >= 0.8  # mostly 11 kW
    assert 10.5e3 <= float(ac @ p) <= 11e3  # anchor: 10.9 kW weighted


def test_catalogue_has_an_ac_only_phev_and_real_model_names() -> None:
    phev = VEHICLE_CATALOG["VW Golf GTE (PHEV)"]
    assert (phev.capacity_wh, phev.ac_max_w, phev.ac_phases, phev.dc_max_w) == (15e3, 3.7e3, 1, 0)
    for name in ("Tesla Model 3 LR", "VW ID.3", "Hyundai Kona Electric", "Kia Niro EV",
                 "Renault Zoe", "Nissan Leaf 40"):
        assert name in VEHICLE_CATALOG
    assert VEHICLE_CATALOG["Tesla Model 3 LR"].dc_max_w == 170e3  # anchors
    assert VEHICLE_CATALOG["Hyundai Kona Electric"].dc_max_w == 77e3
    assert default_mix(0.1)[-1] == (phev, pytest.approx(0.1))


def test_sample_model_is_seeded_and_follows_the_weights() -> None:
    draws = [sample_model(np.random.default_rng(7)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    rng = np.random.default_rng(1)
    names = [sample_model(rng).name for _ in range(4000)]
    assert names.count("VW ID.3") / 4000 == pytest.approx(0.15, abs=0.03)
    assert "VW Golf GTE (PHEV)" not in names


# -- the live car ---------------------------------------------------------------------------------


@FAST
@given(st.sampled_from(BEVS), st.floats(0.0, 0.99), st.floats(0, 200e3), st.floats(0.0, 60.0),
       st.sampled_from(["AC", "DC"]))
def test_energy_is_power_times_time(model: VehicleModel, s: float, power: float, dt: float,
                                    kind: str) -> None:
    car = Vehicle(model, s)
    energy = power * dt / 3600.0
    taken = car.charge(energy, kind)  # type: ignore[arg-type]
    eff = model.efficiency_for(kind)  # type: ignore[arg-type]
    if s + energy * eff / model.capacity_wh <= 1.0:
        assert taken == pytest.approx(energy)
        assert car.soc == pytest.approx(s + power * dt * eff / 3600.0 / model.capacity_wh)
    else:
        assert car.soc == 1.0
        assert taken <= energy


@FAST
@given(st.sampled_from(BEVS), soc, st.lists(st.floats(0, 50e3), max_size=30))
def test_soc_never_decreases_and_never_passes_one(model: VehicleModel, s: float,
                                                   chunks: list[float]) -> None:
    car = Vehicle(model, s)
    last = car.soc
    for energy in chunks:
        car.charge(energy, "DC")
        assert last <= car.soc <= 1.0
        last = car.soc


def test_needed_full_and_max_power() -> None:
    model = VEHICLE_CATALOG["VW ID.3"]
    car = Vehicle(model, 0.5, 0.8)
    assert car.needed_wh("AC") == pytest.approx(0.3 * 60e3 / 0.92)
    assert car.max_power_w("AC") == 11e3
    assert car.max_power_w("DC") == pytest.approx(120e3 * 0.9)
    assert car.max_power_w("DC", 10.0) == pytest.approx(120e3 * 0.9 / 2)  # linear ramp, 20 s
    assert car.max_power_w("DC", 0.0) == 0.0
    car.charge(car.needed_wh())  # last kind asked for: DC
    assert car.full and car.soc == pytest.approx(0.8)
    assert car.max_power_w("DC") == 0.0  # a full car stops drawing
    with pytest.raises(ValueError):
        car.charge(-1.0)
    with pytest.raises(ValueError):
        Vehicle(model, 1.2)


# -- exact integration ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "charger_w", "soc0", "target", "seconds"), [
    ("VW ID.3", "DC", 150e3, 0.2, 0.8, 600.0),
    ("Tesla Model 3 LR", "DC", 50e3, 0.1, 0.8, 1800.0),
    ("BMW iX xDrive50 (large SUV)", "DC", 350e3, 0.05, 0.95, 2400.0),
    ("Renault Zoe", "AC", 22e3, 0.5, 1.0, 4 * 3600.0),
    ("Nissan Leaf 40", "AC", 3.7e3, 0.6, 0.95, 6 * 3600.0),
])
def test_analytic_energy_agrees_with_step_by_step_reference(
        name: str, kind: str, charger_w: float, soc0: float, target: float,
        seconds: float) -> None:
    model = VEHICLE_CATALOG[name]
    exact = energy_in_time(model, kind, charger_w, soc0, seconds, target)  # type: ignore[arg-type]
    reference = step_reference(model, kind, charger_w, soc0, target, seconds)
    assert exact == pytest.approx(reference, rel=0.005)
    full = float(energy_table(model, kind, charger_w).charge_time_s(soc0, target))  # type: ignore[arg-type]
    assert step_reference(model, kind, charger_w, soc0, target, full * 1.005) == pytest.approx(
        (target - soc0) * model.capacity_wh / model.efficiency_for(kind), rel=1e-6)  # type: ignore[arg-type]


@FAST
@given(st.sampled_from(BEVS), st.sampled_from([("AC", 3.7e3), ("AC", 22e3), ("DC", 50e3),
                                               ("DC", 150e3)]), soc)
def test_time_and_soc_are_inverse(model: VehicleModel, charger: tuple[str, float],
                                  s: float) -> None:
    table = energy_table(model, *charger)  # type: ignore[arg-type]
    assert float(table.soc_at(table.time_at(s))) == pytest.approx(s, abs=1e-9)


@FAST
@given(st.sampled_from(BEVS), st.sampled_from([("AC", 11e3), ("DC", 150e3)]), soc, soc,
       st.floats(0, 48 * 3600))
def test_energy_delivered_never_exceeds_the_need(model: VehicleModel, charger: tuple[str, float],
                                                 s: float, target: float, seconds: float) -> None:
    kind, power = charger
    energy = energy_in_time(model, kind, power, s, seconds, target)  # type: ignore[arg-type]
    need = max(target - s, 0.0) * model.capacity_wh / model.efficiency_for(kind)  # type: ignore[arg-type]
    assert 0.0 <= energy <= need + 1e-6
    assert energy <= power * seconds / 3600.0 + 1e-6  # never more than the charger's rating


def test_time_to_energy_round_trips_and_refuses_overfilling() -> None:
    model = VEHICLE_CATALOG["Kia Niro EV"]
    seconds = time_to_energy(model, "DC", 150e3, 0.2, 20e3)
    assert energy_in_time(model, "DC", 150e3, 0.2, seconds) == pytest.approx(20e3)
    assert time_to_energy(model, "DC", 150e3, 0.9, 60e3) == math.inf


def test_a_car_without_dc_inlet_cannot_charge_on_dc() -> None:
    phev = VEHICLE_CATALOG["VW Golf GTE (PHEV)"]
    table = energy_table(phev, "DC", 150e3)
    assert table.blocked
    assert float(table.charge_time_s(0.2, 0.8)) == math.inf
    assert energy_in_time(phev, "DC", 150e3, 0.2, 3600) == 0.0
    assert energy_in_time(phev, "AC", 22e3, 0.2, 3600) == pytest.approx(3.7e3, rel=1e-9)
