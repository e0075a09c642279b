"""Chargers of the fleet mode: specs, and spreading a bare count over the populations' sites."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.drivers import Population
from simulator.vehicles import ChargeKind

AC_MAX_W = 22_000.0  # above this a bare power figure means a DC charger (defaults section 2)


@dataclass(frozen=True, slots=True)
class ChargerSpec:
    """``count`` chargers (one connector each) of ``power_w`` at ``site_id``; ``kind`` defaults
    to AC up to 22 kW and DC above."""

    site_id: str
    power_w: float
    kind: ChargeKind | None = None
    count: int = 1

    def __post_init__(self) -> None:
        if self.power_w <= 0:
            raise ValueError(f"charger at {self.site_id!r}: power_w must be > 0")
        if self.count < 1:
            raise ValueError(f"charger at {self.site_id!r}: count must be >= 1")
        if self.kind not in (None, "AC", "DC"):
            raise ValueError(f"charger at {self.site_id!r}: kind must be AC or DC")

    @property
    def charge_kind(self) -> ChargeKind:
        if self.kind is not None:
            return self.kind
        return "DC" if self.power_w > AC_MAX_W else "AC"


@dataclass(frozen=True, slots=True)
class ChargerClass:
    """Chargers that behave alike: same kind, same rating."""

    kind: ChargeKind
    power_w: float


def spread_chargers(count: int, power_w: float | Sequence[float],
                    populations: Sequence[Population]) -> list[ChargerSpec]:
    """``count`` chargers over the populations' sites, in proportion to their weekday arrivals
    (largest remainder, at least one per site); ``power_w`` is one rating or one per charger."""
    sites = list(dict.fromkeys(p.site_id for p in populations))
    if not sites:
        raise ValueError("no populations, so no sites to put chargers at")
    if count < len(sites):
        raise ValueError(f"{count} chargers cannot serve {len(sites)} sites")
    demand = np.array([sum(p.arrivals_per_day for p in populations if p.site_id == s) or 1.0
                       for s in sites])
    share = (count - len(sites)) * demand / demand.sum()
    per_site = 1 + np.floor(share).astype(int)
    remainder = count - per_site.sum()
    per_site[np.argsort(-(share - np.floor(share)), kind="stable")[:remainder]] += 1
    if isinstance(power_w, int | float):
        powers = [float(power_w)] * count
    else:
        powers = [float(p) for p in power_w]
        if len(powers) != count:
            raise ValueError(f"power_w has {len(powers)} ratings for {count} chargers")
    specs, k = [], 0
    for site, n in zip(sites, per_site, strict=True):
        specs.extend(ChargerSpec(site, powers[k + j]) for j in range(n))
        k += n
    return specs
