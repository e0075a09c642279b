"""The driver services' part of a run against the reference CSMS: set-up before the stations
start, the drivers' app during the run, the tables at the end. The engine calls it only when
the scenario has tariffs or a driver group with an account (otherwise stations stay unknown to
the CSMS until they boot, which scenarios about unknown stations rely on).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chargeloop.clock import SimClock
from simulator import bookings as booking_parts
from simulator import notifications as notification_parts
from simulator import service_tables
from simulator.bookings import BOOKING_REQUEST_COLUMNS, Bookings
from simulator.driver_services import (
    ACCOUNT_COLUMNS,
    DRIVER_API_COLUMNS,
    Api,
    DriverAccount,
    DriverApp,
    account_rows,
    create_tariffs,
    locate_stations,
    open_accounts,
)
from simulator.drivers import IdToken, Visit
from simulator.notifications import APPROACH_COLUMNS, Approaches
from simulator.scenario.spec import PopulationSpec, ScenarioSpec


def used(spec: ScenarioSpec) -> bool:
    return bool(spec.tariffs) or any(g.account is not None for g in spec.drivers)


class DriverServicesRun:
    def __init__(self, clock: SimClock, spec: ScenarioSpec, rng: np.random.Generator) -> None:
        self.clock = clock
        self.spec = spec
        self._accounts_rng, self._booking_rng = rng.spawn(2)
        self.accounts: list[DriverAccount] = []
        self.app: DriverApp | None = None
        self.bookings: Bookings | None = None
        self.approaches: Approaches | None = None
        self._apis: list[Api] = []
        self._core: Any = None

    async def setup(self, core: Any, app: Any, operator_token: str,
                    plans: list[tuple[PopulationSpec, list[Visit]]]) -> None:
        """Tariffs, station locations, accounts and subscriptions through the API; then the
        drivers' bookings and approaches are scheduled and the CSMS's booking scheduler is
        stepped on simulated time."""
        from csms.domain.api_tokens import ApiRole

        self._core = core
        for station in self.spec.stations:  # tariffs and locations name known stations
            if core.stations.get(station.id) is None:
                await core.stations.register(station.id)
        admin_token = await core.api_tokens.create(f"scenario {self.spec.name} set-up",
                                                   ApiRole.ADMIN)
        operator, admin = Api(app, operator_token), Api(app, admin_token)
        self._apis = [operator, admin]
        await create_tariffs(operator, self.spec)
        await locate_stations(operator, self.spec)
        tokens: dict[str, dict[int, IdToken]] = {
            group.name: {v.driver: v.token for v in visits} for group, visits in plans}
        self.accounts = await open_accounts(operator, admin, self.spec, tokens,
                                            self._accounts_rng)
        self.app = DriverApp(self.clock, app, self.accounts)
        self.bookings = Bookings(self.clock, self.app, self.spec)
        self.approaches = Approaches(self.clock, self.app)
        rngs = self._booking_rng.spawn(len(plans))
        for (group, visits), rng in zip(plans, rngs, strict=True):
            if group.notifications.approaching is not None:
                await notification_parts.subscribe(self.app, group, self.accounts)
                self.approaches.plan(group, visits)
            self.bookings.plan(group, visits, rng)
        self.clock.env.process(booking_parts.scheduler(self.clock, core))

    def stays_away(self, visit: Visit) -> bool:
        """A driver who booked and then does not come (no visit process for them)."""
        return self.bookings is not None and id(visit) in self.bookings.stay_away

    async def tables(self) -> dict[str, pd.DataFrame]:
        """What the CSMS holds, read once what it still had to do is done."""
        core = self._core
        await core.bookings.settle()
        await core.payments.scan()  # settles sessions whose end it has not settled yet
        await core.notifications.settle()
        operator = self._apis[0]
        requests = self.bookings.rows if self.bookings else []
        return {
            "driver_accounts": _frame(account_rows(self.accounts), ACCOUNT_COLUMNS),
            # sorted: concurrent requests of one instant finish in any order
            "driver_api": _frame(sorted(self.app.rows if self.app else [], key=lambda r: (
                r["t_s"], r["account_id"], r["action"])), DRIVER_API_COLUMNS),
            "booking_requests": _frame(requests, BOOKING_REQUEST_COLUMNS),
            "approaches": _frame(self.approaches.rows if self.approaches else [],
                                 APPROACH_COLUMNS),
            "csms_payments": await service_tables.payments(operator, self.clock),
            "bookings": await service_tables.bookings(operator, self.clock, requests),
            "csms_notifications": await service_tables.notifications(operator, self.clock,
                                                                self.accounts),
        }

    async def close(self) -> None:
        if self.app is not None:
            await self.app.close()
        for api in self._apis:
            await api.close()


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))
