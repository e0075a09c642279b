"""Vehicles: charging curves, the model catalogue and default mix, the live car, and the exact
curve integration that both the networked simulation and the fleet mode use.

Figures follow ``shared/reference/simulation-defaults.md`` sections 1 and 3. Power is grid-side
(what the charger delivers); the battery receives ``energy * efficiency``.

Delivered power = min(charger power, vehicle max power x curve(SoC)). Between the breakpoints of
that minimum the power is linear in SoC, so dSoC/dt = a + b*SoC has a closed-form solution on every
segment (logarithm for time, exponential for SoC). ``EnergyTable`` stores those segments once per
(model, AC/DC, charger power) and evaluates them on numpy arrays: exact, and fast enough for the
fleet mode's million sessions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Literal

import numpy as np

ChargeKind = Literal["AC", "DC"]
KINDS: tuple[ChargeKind, ...] = ("AC", "DC")

AC_EFFICIENCY = 0.92  # grid -> battery through the on-board charger
DC_EFFICIENCY = 0.95  # grid -> battery, off-board rectifier losses are the charger's
DC_RAMP_UP_S = 20.0  # CCS/CHAdeMO handshake and pre-charge take 10-30 s (defaults section 3)


# -- curves ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargingCurve:
    """Fraction of the vehicle's maximum power it accepts, by state of charge.

    ``points`` are (SoC 0..1, fraction) pairs, interpolated linearly. The first point must be at
    SoC 0 and the last at SoC 1 so that every SoC has a value; fractions must be in (0, 1],
    because a zero would make the last per cent take forever (real cars keep a trickle).
    """

    points: tuple[tuple[float, float], ...]
    _soc: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _frac: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        points = tuple((float(s), float(f)) for s, f in self.points)
        if len(points) < 2:
            raise ValueError("a charging curve needs at least two points")
        socs = [s for s, _ in points]
        if socs[0] != 0.0 or socs[-1] != 1.0:
            raise ValueError(
                f"curve points must run from SoC 0 to SoC 1, got {socs[0]}..{socs[-1]}")
        if any(b <= a for a, b in pairwise(socs)):
            raise ValueError(f"curve SoC values must increase strictly: {socs}")
        bad = [f for _, f in points if not 0.0 < f <= 1.0]
        if bad:
            raise ValueError(f"curve fractions must be in (0, 1], got {bad}")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "_soc", tuple(socs))
        object.__setattr__(self, "_frac", tuple(f for _, f in points))

    def fraction(self, soc: float) -> float:
        """The fraction of maximum power at ``soc`` (clamped to 0..1)."""
        s = min(max(soc, 0.0), 1.0)
        socs, fracs = self._soc, self._frac
        # A short linear scan: curves have a handful of points and this runs per station step.
        for i in range(1, len(socs)):
            if s <= socs[i]:
                w = (s - socs[i - 1]) / (socs[i] - socs[i - 1])
                # This form returns the table's points exactly at w = 0 and w = 1.
                return fracs[i - 1] * (1.0 - w) + fracs[i] * w
        return fracs[-1]

    @property
    def socs(self) -> np.ndarray:
        return np.array(self._soc)

    @property
    def fractions(self) -> np.ndarray:
        return np.array(self._frac)


# Defaults section 3, "Suggested DC default" row.
DEFAULT_DC_CURVE = ChargingCurve(
    ((0.0, 0.7), (0.1, 1.0), (0.4, 1.0), (0.6, 0.8), (0.8, 0.5), (0.9, 0.3), (1.0, 0.05)))
# Flat to 0.8 (the two-stage transition_soc of ACN-Sim and EV2Gym), then the SAP city-ev taper.
DEFAULT_AC_CURVE = ChargingCurve(((0.0, 1.0), (0.8, 1.0), (0.9, 0.4), (1.0, 0.08)))


# -- models ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VehicleModel:
    """What a kind of car can take. ``dc_max_w`` 0 means no DC inlet (a PHEV, say).

    ``efficiency`` is grid -> battery on AC; ``dc_efficiency`` on DC (the design page's
    "0.92 AC / 0.95 DC").
    """

    name: str
    capacity_wh: float
    ac_max_w: float
    ac_phases: int = 3
    dc_max_w: float = 0.0
    dc_curve: ChargingCurve = DEFAULT_DC_CURVE
    ac_curve: ChargingCurve = DEFAULT_AC_CURVE
    efficiency: float = AC_EFFICIENCY
    ramp_up_s: float = DC_RAMP_UP_S
    dc_efficiency: float = DC_EFFICIENCY

    def __post_init__(self) -> None:
        if self.capacity_wh <= 0:
            raise ValueError(f"{self.name}: capacity_wh must be > 0")
        if self.ac_max_w < 0 or self.dc_max_w < 0:
            raise ValueError(f"{self.name}: power limits must be >= 0")
        if self.ac_phases not in (1, 2, 3):
            raise ValueError(f"{self.name}: ac_phases must be 1, 2 or 3")
        for eff in (self.efficiency, self.dc_efficiency):
            if not 0.0 < eff <= 1.0:
                raise ValueError(f"{self.name}: efficiencies must be in (0, 1]")
        if self.ramp_up_s < 0:
            raise ValueError(f"{self.name}: ramp_up_s must be >= 0")

    def max_w(self, kind: ChargeKind) -> float:
        return self.ac_max_w if kind == "AC" else self.dc_max_w

    def curve(self, kind: ChargeKind) -> ChargingCurve:
        return self.ac_curve if kind == "AC" else self.dc_curve

    def efficiency_for(self, kind: ChargeKind) -> float:
        return self.efficiency if kind == "AC" else self.dc_efficiency


_KWH = 1000.0
_KW = 1000.0

# Capacities are snapped to the suggested pool (40 / 60 / 77 / 100 kWh, weights .3/.4/.2/.1) and
# power to the suggested limits (AC 11 kW, some 7.4; DC 77-170 kW around a 121 kW mean); the real
# car's figure is in the comment where it differs. The DC mean of the default mix is about 119 kW.
VEHICLE_CATALOG: dict[str, VehicleModel] = {m.name: m for m in (
    # small, 40 kWh
    VehicleModel("Nissan Leaf 40", 40 * _KWH, 7.4 * _KW, 1, 77 * _KW),  # real: 6.6 kW AC, 46 kW DC
    VehicleModel("Renault Zoe", 40 * _KWH, 11 * _KW, 3, 77 * _KW),  # real: 22 kW AC, 50 kW DC
    VehicleModel("Peugeot e-208", 40 * _KWH, 11 * _KW, 3, 100 * _KW),  # real: 46-50 kWh
    # medium, 60 kWh
    VehicleModel("VW ID.3", 60 * _KWH, 11 * _KW, 3, 120 * _KW),  # real: 58 kWh
    VehicleModel("Tesla Model 3 RWD", 60 * _KWH, 11 * _KW, 3, 170 * _KW),
    VehicleModel("Hyundai Kona Electric", 60 * _KWH, 11 * _KW, 3, 77 * _KW),  # real: 64 kWh
    VehicleModel("Kia Niro EV", 60 * _KWH, 11 * _KW, 3, 80 * _KW),  # real: 64 kWh
    # large, 77 kWh
    VehicleModel("Tesla Model 3 LR", 77 * _KWH, 11 * _KW, 3, 170 * _KW),  # real: 75-79 kWh
    VehicleModel("Hyundai Ioniq 5 LR", 77 * _KWH, 11 * _KW, 3, 170 * _KW),  # real: 220 kW DC
    # XL, 100 kWh
    VehicleModel("BMW iX xDrive50 (large SUV)", 100 * _KWH, 11 * _KW, 3, 170 * _KW),  # 195 kW
    # PHEV: AC only, one phase
    VehicleModel("VW Golf GTE (PHEV)", 15 * _KWH, 3.7 * _KW, 1, 0.0),  # real: 13 kWh
)}

_DEFAULT_WEIGHTS: dict[str, float] = {
    "Nissan Leaf 40": 0.10, "Renault Zoe": 0.10, "Peugeot e-208": 0.10,
    "VW ID.3": 0.15, "Tesla Model 3 RWD": 0.05, "Hyundai Kona Electric": 0.10,
    "Kia Niro EV": 0.10,
    "Tesla Model 3 LR": 0.10, "Hyundai Ioniq 5 LR": 0.10,
    "BMW iX xDrive50 (large SUV)": 0.10,
}

VehicleMix = Sequence[tuple[VehicleModel, float]]


def default_mix(phev_share: float = 0.0) -> list[tuple[VehicleModel, float]]:
    """The BEV catalogue weighted to the suggested battery pool; ``phev_share`` (0..1) of PHEVs
    on top, the BEV weights scaled down to make room. PHEVs are off by default because they
    cannot use DC chargers."""
    if not 0.0 <= phev_share < 1.0:
        raise ValueError("phev_share must be in [0, 1)")
    mix = [(VEHICLE_CATALOG[name], w * (1.0 - phev_share)) for name, w in _DEFAULT_WEIGHTS.items()]
    if phev_share:
        mix.append((VEHICLE_CATALOG["VW Golf GTE (PHEV)"], phev_share))
    return mix


def mix_probabilities(mix: VehicleMix) -> np.ndarray:
    """Normalised weights of a mix, checked."""
    if not mix:
        raise ValueError("a vehicle mix needs at least one model")
    weights = np.array([w for _, w in mix], dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("mix weights must be >= 0 and not all 0")
    return weights / weights.sum()


def sample_model(rng: np.random.Generator, mix: VehicleMix | None = None) -> VehicleModel:
    """One model drawn from ``mix`` (default: ``default_mix()``)."""
    mix = default_mix() if mix is None else mix
    return mix[int(rng.choice(len(mix), p=mix_probabilities(mix)))][0]


# -- the live car ---------------------------------------------------------------------------------


class Vehicle:
    """A car with a state of charge, as a station sees it while charging.

    The kind of the last ``max_power_w`` call is remembered, so that ``charge`` and ``needed_wh``
    use the efficiency of the inlet in use without the station repeating it.
    """

    __slots__ = ("kind", "model", "soc", "target_soc")

    def __init__(self, model: VehicleModel, soc: float, target_soc: float = 1.0) -> None:
        if not 0.0 <= soc <= 1.0:
            raise ValueError(f"soc must be in [0, 1], got {soc}")
        if not 0.0 <= target_soc <= 1.0:
            raise ValueError(f"target_soc must be in [0, 1], got {target_soc}")
        self.model = model
        self.soc = float(soc)
        self.target_soc = float(target_soc)
        self.kind: ChargeKind = "AC"

    def __repr__(self) -> str:
        return (f"Vehicle({self.model.name!r}, soc={self.soc:.4f}, "
                f"target_soc={self.target_soc:.3f})")

    @property
    def full(self) -> bool:
        return self.soc >= self.target_soc or self.soc >= 1.0

    def max_power_w(self, kind: ChargeKind, since_start_s: float = math.inf) -> float:
        """Grid power the car accepts now: curve by SoC, a linear DC ramp-up over
        ``ramp_up_s`` from the start of charging, and 0 once full (it stops drawing)."""
        self.kind = kind
        if self.full:
            return 0.0
        model = self.model
        power = model.max_w(kind) * model.curve(kind).fraction(self.soc)
        if kind == "DC" and since_start_s < model.ramp_up_s:
            power *= max(since_start_s, 0.0) / model.ramp_up_s
        return power

    def charge(self, energy_wh: float, kind: ChargeKind | None = None) -> float:
        """Take ``energy_wh`` from the grid; the battery gets it times the efficiency and never
        passes 100 %. Returns the grid energy actually taken."""
        if energy_wh < 0:
            raise ValueError(f"energy_wh must be >= 0, got {energy_wh}")
        eff = self.model.efficiency_for(kind or self.kind)
        room_wh = (1.0 - self.soc) * self.model.capacity_wh / eff
        taken = min(energy_wh, room_wh)
        self.soc = min(1.0, self.soc + taken * eff / self.model.capacity_wh)
        return taken

    def needed_wh(self, kind: ChargeKind | None = None) -> float:
        """Grid energy to reach the target SoC."""
        eff = self.model.efficiency_for(kind or self.kind)
        return max(0.0, self.target_soc - self.soc) * self.model.capacity_wh / eff


# -- exact curve integration ----------------------------------------------------------------------


def _log1p_over(x: np.ndarray) -> np.ndarray:
    """log(1 + x) / x, 1 at x = 0 (the limit), without cancellation near 0."""
    out = np.ones_like(x)
    nz = np.abs(x) > 1e-12
    out[nz] = np.log1p(x[nz]) / x[nz]
    return out


def _expm1_over(y: np.ndarray) -> np.ndarray:
    """(exp(y) - 1) / y, 1 at y = 0."""
    out = np.ones_like(y)
    nz = np.abs(y) > 1e-12
    out[nz] = np.expm1(y[nz]) / y[nz]
    return out


@dataclass(frozen=True, eq=False)
class EnergyTable:
    """Charging one model on one charger, integrated exactly once.

    ``soc`` are the breakpoints of delivered power p(SoC) = min(charger, vehicle curve): the
    curve's points plus where the curve crosses the charger's rating. ``power_w`` is p at those
    points (linear in SoC between them), ``vehicle_w`` what the car alone would take there,
    ``time_s`` the time from SoC 0 to each point. All methods take floats or numpy arrays.

    DC ramp-up: the car's power rises linearly over ``ramp_up_s``; with SoC nearly constant
    during those seconds that costs exactly a dead time of ramp_up_s / 2 x p / vehicle power
    (the ramp reaches the charger's rating early when the charger is the limit).
    """

    soc: np.ndarray
    power_w: np.ndarray
    vehicle_w: np.ndarray
    time_s: np.ndarray
    wh_per_soc: float  # grid Wh per unit of SoC: capacity / efficiency
    ramp_up_s: float = 0.0

    @property
    def blocked(self) -> bool:
        """The car cannot charge here at all (no DC inlet, or a 0 W charger)."""
        return not bool(self.power_w[0] > 0)

    def _segment(self, soc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        k = np.clip(np.searchsorted(self.soc, soc, side="right") - 1, 0, len(self.soc) - 2)
        s0, s1 = self.soc[k], self.soc[k + 1]
        p0, p1 = self.power_w[k], self.power_w[k + 1]
        return k, s0, p0, (p1 - p0) / (s1 - s0)

    def power_at(self, soc: np.ndarray | float) -> np.ndarray:
        return np.interp(soc, self.soc, self.power_w)

    def time_at(self, soc: np.ndarray | float) -> np.ndarray:
        """Seconds from SoC 0 to ``soc`` at full ramp: t = K/m ln(p(s)/p0) on each segment."""
        s = np.clip(np.asarray(soc, dtype=float), 0.0, 1.0)
        if self.blocked:
            return np.where(s > 0, np.inf, 0.0)
        k, s0, p0, m = self._segment(s)
        ds = s - s0
        k_s = 3600.0 * self.wh_per_soc
        return self.time_s[k] + k_s * ds / p0 * _log1p_over(np.atleast_1d(m * ds / p0)).reshape(
            ds.shape)

    def soc_at(self, time_s: np.ndarray | float) -> np.ndarray:
        """The inverse of ``time_at``: s = s0 + p0 t/K (e^(m t/K) - 1)/(m t/K)."""
        t = np.maximum(np.asarray(time_s, dtype=float), 0.0)
        if self.blocked:
            return np.zeros_like(t)
        k = np.clip(np.searchsorted(self.time_s, t, side="right") - 1, 0, len(self.soc) - 2)
        s0, p0 = self.soc[k], self.power_w[k]
        m = (self.power_w[k + 1] - p0) / (self.soc[k + 1] - s0)
        tau = np.minimum(t - self.time_s[k], self.time_s[k + 1] - self.time_s[k])
        k_s = 3600.0 * self.wh_per_soc
        y = np.atleast_1d(m * tau / k_s).reshape(tau.shape)
        return np.minimum(s0 + p0 * tau / k_s * _expm1_over(y), 1.0)

    def ramp_delay_s(self, soc: np.ndarray | float) -> np.ndarray:
        s = np.asarray(soc, dtype=float)
        if self.ramp_up_s <= 0 or self.blocked:
            return np.zeros_like(s)
        ratio = self.power_at(s) / np.interp(s, self.soc, self.vehicle_w)
        return 0.5 * self.ramp_up_s * ratio

    def charge_time_s(self, soc0: np.ndarray | float, soc1: np.ndarray | float) -> np.ndarray:
        """Seconds from plug-in at ``soc0`` until ``soc1`` (0 if already there; inf if blocked)."""
        s0 = np.asarray(soc0, dtype=float)
        s1 = np.maximum(np.asarray(soc1, dtype=float), s0)
        if self.blocked:
            return np.where(s1 > s0, np.inf, 0.0)
        t = self.ramp_delay_s(s0) + self.time_at(s1) - self.time_at(s0)
        return np.where(s1 > s0, t, 0.0)

    def soc_after(self, soc0: np.ndarray | float, seconds: np.ndarray | float,
                  target_soc: np.ndarray | float = 1.0) -> np.ndarray:
        """SoC after charging ``seconds`` from ``soc0`` (never past the target or 100 %)."""
        s0 = np.asarray(soc0, dtype=float)
        if self.blocked:
            return s0 + np.zeros_like(np.asarray(seconds, dtype=float))
        run = np.maximum(np.asarray(seconds, dtype=float) - self.ramp_delay_s(s0), 0.0)
        reached = self.soc_at(self.time_at(s0) + run)
        return np.maximum(np.minimum(reached, np.maximum(target_soc, s0)), s0)

    def energy_wh(self, soc0: np.ndarray | float, soc1: np.ndarray | float) -> np.ndarray:
        """Grid energy between two SoCs."""
        return self.wh_per_soc * np.maximum(np.asarray(soc1) - np.asarray(soc0), 0.0)


@lru_cache(maxsize=4096)
def energy_table(model: VehicleModel, kind: ChargeKind, charger_w: float) -> EnergyTable:
    """The exact integration table for ``model`` on a ``kind`` charger rated ``charger_w``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be AC or DC, got {kind!r}")
    curve = model.curve(kind)
    vmax = model.max_w(kind)
    wh_per_soc = model.capacity_wh / model.efficiency_for(kind)
    ramp = model.ramp_up_s if kind == "DC" else 0.0
    if vmax <= 0 or charger_w <= 0:
        zeros = np.zeros(2)
        return EnergyTable(np.array([0.0, 1.0]), zeros, zeros, np.array([0.0, np.inf]),
                           wh_per_soc, ramp)
    socs: list[float] = []
    vehicle: list[float] = []
    points = curve.points
    for (sa, fa), (sb, fb) in pairwise(points):
        va, vb = vmax * fa, vmax * fb
        socs.append(sa)
        vehicle.append(va)
        if (va - charger_w) * (vb - charger_w) < 0:  # the curve crosses the charger's rating
            socs.append(sa + (charger_w - va) * (sb - sa) / (vb - va))
            vehicle.append(charger_w)
    socs.append(points[-1][0])
    vehicle.append(vmax * points[-1][1])
    soc = np.array(socs)
    vehicle_w = np.array(vehicle)
    power = np.minimum(vehicle_w, charger_w)
    ds = np.diff(soc)
    p0, p1 = power[:-1], power[1:]
    m = (p1 - p0) / ds
    seg = 3600.0 * wh_per_soc * ds / p0 * _log1p_over(m * ds / p0)
    time_s = np.concatenate(([0.0], np.cumsum(seg)))
    for array in (soc, power, vehicle_w, time_s):
        array.flags.writeable = False
    return EnergyTable(soc, power, vehicle_w, time_s, wh_per_soc, ramp)


def time_to_energy(model: VehicleModel, kind: ChargeKind, charger_w: float, soc: float,
                   energy_wh: float) -> float:
    """Seconds (from plug-in, ramp included) to deliver ``energy_wh`` from the grid starting at
    ``soc``; inf if that would take the battery past 100 % or the car cannot charge here."""
    table = energy_table(model, kind, charger_w)
    soc1 = soc + energy_wh / table.wh_per_soc
    if soc1 > 1.0 + 1e-12:
        return math.inf
    return float(table.charge_time_s(soc, min(soc1, 1.0)))


def energy_in_time(model: VehicleModel, kind: ChargeKind, charger_w: float, soc: float,
                   seconds: float, target_soc: float = 1.0) -> float:
    """Grid Wh delivered in ``seconds`` from plug-in at ``soc``, stopping at ``target_soc``."""
    table = energy_table(model, kind, charger_w)
    return float(table.energy_wh(soc, table.soc_after(soc, seconds, target_soc)))
