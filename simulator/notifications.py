"""Approaching drivers: each driver of a group with ``notifications.approaching`` subscribes
through the driver API before the run, and on each visit the app posts the driver's position
along the group's route every ``position_every`` until the arrival, so the CSMS can tell them
about free matching stations near them (``approaching.free``) and about one taken before they
get there (``approaching.taken``).

Positions are posted at their simulated times, bridged like operator commands, so runs repeat.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from chargeloop.clock import SimClock
from simulator.driver_services import CSMS_CONNECTOR_TYPES, DriverAccount, DriverApp
from simulator.drivers import Visit, route_positions
from simulator.scenario.spec import ApproachingSpec, PopulationSpec

Gen = Generator[Any, Any, Any]

APPROACH_COLUMNS = ("population", "driver", "account_id", "id_token", "first_s", "arrival_s",
                    "positions")
NOTIFICATION_COLUMNS = ("account_id", "kind", "t_s", "station_id", "state", "data")


def subscription(approaching: ApproachingSpec) -> dict[str, Any]:
    """The driver API's body for an approaching subscription."""
    body: dict[str, Any] = {"kind": "approaching", "radius_km": approaching.radius_km,
                            "label": "on the way"}
    if approaching.connector_type is not None:
        body["connector_type"] = CSMS_CONNECTOR_TYPES[approaching.connector_type]
    if approaching.min_power_w is not None:
        body["min_power_w"] = approaching.min_power_w
    return body


async def subscribe(app: DriverApp, group: PopulationSpec,
                    accounts: list[DriverAccount]) -> None:
    """Before the run: every driver of ``group`` subscribes."""
    approaching = group.notifications.approaching
    assert approaching is not None
    for account in accounts:
        if account.population == group.name:
            await app.setup_call(account, "POST", "/api/me/subscriptions",
                                 subscription(approaching))


class Approaches:
    def __init__(self, clock: SimClock, app: DriverApp) -> None:
        self.clock = clock
        self.app = app
        self.rows: list[dict[str, Any]] = []

    def plan(self, group: PopulationSpec, visits: list[Visit]) -> None:
        approaching, route = group.notifications.approaching, group.route
        if approaching is None or route is None:
            return
        for visit in visits:
            account = self.app.account_of(visit.token)
            if account is None:
                continue
            positions = [p for p in route_positions(
                route.polyline, route.speed_mps * 3.6, visit.arrival_s,
                approaching.position_every_s) if p[0] >= 0.0]
            if positions:
                self.rows.append({"population": visit.population, "driver": visit.driver,
                                  "account_id": account.account_id,
                                  "id_token": visit.token.id, "first_s": positions[0][0],
                                  "arrival_s": visit.arrival_s, "positions": len(positions)})
                self.clock.env.process(self._drive(account, positions))

    def _drive(self, account: DriverAccount, positions: list[tuple[float, float, float]]
               ) -> Gen:
        env = self.clock.env
        for t_s, lat, lon in positions:
            yield env.timeout(max(0.0, t_s - env.now))
            yield self.app.send(account, "position", "POST", "/api/me/positions", {
                "latitude": lat, "longitude": lon, "at": self.clock.utc().isoformat()})
