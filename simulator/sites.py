"""A site's grid connection limit and the local load balancing that shares it among EVSEs.

EVSEs ask with ``site.request(evse_key, demand_w)`` whenever what they could draw changes, and
``site.release(evse_key)`` when they stop. Whenever any grant changes, ``site.changed`` fires
(with a copy of the grants) and is replaced by a fresh event, so every EVSE waiting on it wakes
up, reads its new grant, and waits on the new event.

Balancing modes:

* ``equal``: water-filling; every EVSE gets min(demand, fair share) and what small demands leave
  is shared among the rest.
* ``first_come``: by order of first request; an earlier EVSE keeps its grant (and may grow it at
  the cost of later ones), later ones get what is left.
* ``none``: no controller: every EVSE draws what it asks for. The limit is then only what the
  site's connection is rated for, and a run shows whether the chargers stayed within it
  (``site_power_within_limit``); in the field that is a tripped breaker or a DSO penalty.

With ``equal`` and ``first_come`` the sum of grants never exceeds ``grid_limit_w``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Mapping
from types import MappingProxyType
from typing import Literal

import simpy

log = logging.getLogger(__name__)

Balancing = Literal["none", "equal", "first_come"]
BALANCING_MODES: tuple[str, ...] = ("none", "equal", "first_come")


class Site:
    """One grid connection shared by the EVSEs of one or more stations."""

    def __init__(self, env: simpy.Environment, id: str, grid_limit_w: float | None = None,
                 balancing: Balancing = "equal") -> None:
        if balancing not in BALANCING_MODES:
            raise ValueError(f"unknown balancing {balancing!r}; valid: "
                             f"{', '.join(BALANCING_MODES)}")
        if grid_limit_w is not None and not (math.isfinite(grid_limit_w) and grid_limit_w >= 0):
            raise ValueError(f"grid_limit_w must be a finite number >= 0 or None (unlimited), "
                             f"not {grid_limit_w!r}")
        self.env = env
        self.id = id
        self.grid_limit_w = None if grid_limit_w is None else float(grid_limit_w)
        self.balancing = balancing
        # Insertion order is the order of first request: first_come relies on it.
        self._demands: dict[Hashable, float] = {}
        self._grants: dict[Hashable, float] = {}
        self.changed: simpy.Event = env.event()

    @property
    def grants(self) -> Mapping[Hashable, float]:
        """A live read-only view: EVSE key -> granted W."""
        return MappingProxyType(self._grants)

    @property
    def demands(self) -> Mapping[Hashable, float]:
        return MappingProxyType(self._demands)

    @property
    def granted_w(self) -> float:
        return math.fsum(self._grants.values())

    def request(self, evse_key: Hashable, demand_w: float) -> float:
        """Ask for ``demand_w`` (>= 0); returns the grant now in force for ``evse_key``."""
        if not (math.isfinite(demand_w) and demand_w >= 0):
            raise ValueError(f"demand_w must be a finite number >= 0, not {demand_w!r}")
        self._demands[evse_key] = float(demand_w)
        if self.balancing == "none":
            new = {**self._grants, evse_key: float(demand_w)}
        else:
            new = self._allocate()
        self._apply(new)
        return self._grants[evse_key]

    def release(self, evse_key: Hashable) -> None:
        """``evse_key`` draws nothing any more; unknown keys are ignored."""
        if evse_key not in self._demands:
            return
        del self._demands[evse_key]
        if self.balancing == "none":
            new = {k: g for k, g in self._grants.items() if k != evse_key}
        else:
            new = self._allocate()
        self._apply(new)

    # -- allocation ---------------------------------------------------------------------------

    def _allocate(self) -> dict[Hashable, float]:
        limit = self.grid_limit_w
        if limit is None:
            return dict(self._demands)
        if self.balancing == "first_come":
            grants: dict[Hashable, float] = {}
            left = limit
            for key, demand in self._demands.items():
                grants[key] = max(0.0, min(demand, left))
                left -= grants[key]
            return _within(grants, limit)
        # Water-filling: serve the smallest demands first; each gets at most an equal share of
        # what is still left, so what small demands do not use goes to the larger ones.
        grants = {}
        left = limit
        waiting = sorted(self._demands.items(), key=lambda item: item[1])
        for index, (key, demand) in enumerate(waiting):
            share = left / (len(waiting) - index)
            grants[key] = max(0.0, min(demand, share))
            left -= grants[key]
        return _within({key: grants[key] for key in self._demands}, limit)

    def _apply(self, new: dict[Hashable, float]) -> None:
        if new == self._grants:
            return
        self._grants = new
        log.debug("site %s grants now %s", self.id, new)
        fired, self.changed = self.changed, self.env.event()
        fired.succeed(dict(new))


def _within(grants: dict[Hashable, float], limit: float) -> dict[Hashable, float]:
    """Take back the few ulps floating-point rounding may have handed out beyond ``limit``,
    from the largest grant."""
    for _ in range(64):
        excess = max(math.fsum(grants.values()), sum(grants.values())) - limit
        if excess <= 0:
            return grants
        key = max(grants, key=grants.__getitem__)
        grants[key] = max(0.0, math.nextafter(grants[key] - excess, 0.0))
    raise AssertionError("could not fit the grants within the limit")  # unreachable in practice
