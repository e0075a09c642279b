"""Load shapes as plain functions of time: how many stations, arriving how fast.

``loadtests/shapes.py`` hands these to locust as a ``LoadTestShape``; kept apart so they can be
read and tested without locust.

* **steady**: N stations, all connected within ``arrive_within`` (default: a tenth of the run,
  at most 10 s), held until the end.
* **ramp**: from 0 to N in equal steps over ``arrive_within`` (default: three quarters of the
  run), held for the rest.
* **boot storm**: N stations connect and boot within ``arrive_within`` seconds (default 10),
  as after a power cut; then held.
* **reconnect storm**: steady; the stations themselves drop their connections at once and come
  back (``--reconnect-at``, ``--reconnect-within``), as after a CSMS restart.
* **soak**: steady for a long run (hours); the ramp-up is gentle (a twentieth of the run, at
  most a minute) so the start does not dominate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SHAPES = ("steady", "ramp", "boot-storm", "reconnect-storm", "soak")


@dataclass(frozen=True, slots=True)
class ShapePlan:
    shape: str
    stations: int
    duration_s: float
    arrive_within_s: float = 0.0  # 0: the shape's default

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"--shape: {self.shape!r}; valid: {', '.join(SHAPES)}")
        if self.stations < 1:
            raise ValueError(f"--stations must be at least 1, not {self.stations}")
        if not (math.isfinite(self.duration_s) and self.duration_s > 0):
            raise ValueError(f"--duration must be > 0 s, not {self.duration_s}")
        if self.arrive_within_s < 0 or self.arrive_within_s > self.duration_s:
            raise ValueError(f"--arrive-within must be between 0 and the duration "
                             f"({self.duration_s:g} s), not {self.arrive_within_s:g}")

    @property
    def arrival_s(self) -> float:
        """Seconds over which the stations arrive."""
        if self.arrive_within_s > 0:
            return self.arrive_within_s
        d = self.duration_s
        return {"steady": min(10.0, d / 10), "reconnect-storm": min(10.0, d / 10),
                "ramp": d * 0.75, "boot-storm": min(10.0, d / 2),
                "soak": min(60.0, d / 20)}[self.shape]

    def tick(self, elapsed_s: float) -> tuple[int, float] | None:
        """(stations wanted now, arrivals per second), or None once the run is over."""
        if elapsed_s >= self.duration_s:
            return None
        rate = self.stations / max(self.arrival_s, 1e-3)
        if self.shape == "ramp":
            # Steps every second so locust shows the ramp as it goes.
            wanted = min(self.stations, math.ceil(rate * (math.floor(elapsed_s) + 1)))
            return wanted, rate
        return self.stations, rate
