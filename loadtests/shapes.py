"""locustfile part: the chargeloop load shapes (``--shape``, ``--stations``,
``--shape-duration``, ``--arrive-within``) as one locust ``LoadTestShape``.

Load it next to the stations: ``locust -f loadtests/locustfile.py,loadtests/shapes.py ...``.
Only the master (or the local runner) runs a shape; workers just start what they are told.

When the shape's time is up the stations are stopped first (each ends its session, so the CSMS
is not left with open transactions) and, with workers, the master waits for their last report
before the test ends (each flushes its figures when told to quit; the master waits only half a
second for that, too short for stations still ending their sessions), so the round trips made
while stopping are counted too.
"""

from __future__ import annotations

import time

from locust import LoadTestShape
from locust.runners import MasterRunner

from loadtests import reporting
from loadtests.shape_plan import ShapePlan

STOP_ALL_RATE = 10_000.0  # stations stopped per second when the time is up
SETTLE_S = 1.0


class StationLoadShape(LoadTestShape):
    _plan: ShapePlan | None = None
    _all_stopped_at: float | None = None

    def plan(self) -> ShapePlan:
        if self._plan is None:
            assert self.runner is not None
            parsed = self.runner.environment.parsed_options
            self._plan = ShapePlan(parsed.shape, parsed.stations, parsed.shape_duration,
                                   parsed.arrive_within)
        return self._plan

    def tick(self) -> tuple[int, float] | None:
        planned = self.plan().tick(self.get_run_time())
        if planned is not None:
            return planned
        assert self.runner is not None
        reporting.gauge.mark_before_stop(self.runner.environment)
        if self.runner.user_count > 0:
            return 0, STOP_ALL_RATE
        if not isinstance(self.runner, MasterRunner):
            return None
        # A moment for the last stopped stations' reports to settle.
        if self._all_stopped_at is None:
            self._all_stopped_at = time.monotonic()
        if time.monotonic() - self._all_stopped_at < SETTLE_S:
            return 0, STOP_ALL_RATE
        return None
