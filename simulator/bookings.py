"""Drivers who book: a share of a group's visits book an EVSE of the site through the driver API
``book_lead`` before arriving, for a window that opens at the arrival; the CSMS reserves it on
the station (ReserveNow) its own lead time before the window, and the driver, arriving, takes
the bay held for their token (``SiteBays.claim`` prefers it), so the booking is used. A share
(``book_no_show``) book and then stay away: the booking expires, or is a no-show (with the
tariff's fee).

Which visits book is drawn from the group's generator; the CSMS's booking scheduler is stepped
on simulated time (its own loop sleeps in wall time, which an accelerated run outpaces).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import numpy as np

from chargeloop.clock import SimClock
from simulator.driver_services import DriverApp
from simulator.drivers import Visit
from simulator.scenario.spec import PopulationSpec, ScenarioSpec

log = logging.getLogger("chargeloop.simulator.bookings")

Gen = Generator[Any, Any, Any]

WINDOW_S = 1800.0  # the booked window: from the planned arrival, this long
EARLIEST_S = 120.0  # no booking before the stations have booted and reported their EVSEs
SCAN_S = 30.0  # how often the CSMS's booking scheduler runs (its booking_retry_s)
SEARCH_RADIUS_KM = 0.5  # the site's own stations (all at its location)

Choice = tuple[str, int | None]  # (station id, EVSE id or None: any of the station's)

BOOKING_REQUEST_COLUMNS = ("t_s", "population", "driver", "id_token", "account_id",
                           "arrival_s", "station_id", "booking_id", "http_status", "detail")
BOOKING_COLUMNS = ("id", "account_id", "population", "driver", "id_token", "station_id",
                   "evse_id", "status", "reservation_id", "transaction_id", "detail",
                   "arrival_s", "starts_s", "ends_s", "booked_s")


class Bookings:
    def __init__(self, clock: SimClock, app: DriverApp, spec: ScenarioSpec) -> None:
        self.clock = clock
        self.app = app
        self.spec = spec
        self.rows: list[dict[str, Any]] = []
        self.stay_away: set[int] = set()  # id() of the visits whose driver books, then stays away

    def plan(self, group: PopulationSpec, visits: list[Visit], rng: np.random.Generator) -> None:
        """Start a booking process for the visits of ``group`` that book."""
        share = group.behaviour.book
        if share <= 0 or not visits:
            return
        draws, stays = rng.random(len(visits)), rng.random(len(visits))
        lead = group.behaviour.book_lead_s
        for visit, draw, stay in zip(visits, draws, stays, strict=True):
            if draw < share and visit.arrival_s - lead >= EARLIEST_S \
                    and self.app.account_of(visit.token) is not None:
                self.clock.env.process(self._book(visit, lead))
                if stay < group.behaviour.book_no_show:
                    self.stay_away.add(id(visit))

    def _stations(self, visit: Visit) -> list[str]:
        """The site's stations the car can use (an AC-only car needs an AC station)."""
        wants_dc = visit.vehicle.model.dc_max_w > 0
        site = self.spec.site(visit.site_id)
        return [s for s in site.station_ids
                if wants_dc or all(c.current == "AC"
                                   for c in self.spec.station(s).template.connectors)]

    def _free_evses(self, visit: Visit, usable: list[str], answer: Any) -> list[Choice]:
        """The usable EVSEs the search found free now, nearest station first."""
        if not isinstance(answer, list):
            return []
        return [(m["station_id"], c["evse_id"]) for m in answer if m["station_id"] in usable
                for c in m["connectors"] if c["free"]]

    def _book(self, visit: Visit, lead_s: float) -> Gen:
        env = self.clock.env
        yield env.timeout(max(0.0, visit.arrival_s - lead_s - env.now))
        account = self.app.account_of(visit.token)
        assert account is not None
        usable = self._stations(visit)
        choices: list[Choice] = [(s, None) for s in usable]
        location = self.spec.site(visit.site_id).location
        if location is not None:  # as the app does: a charger free now, then book it
            status, answer = yield self.app.send(
                account, "search", "GET", f"/api/station-search?latitude={location.lat}"
                f"&longitude={location.lon}&radius_km={SEARCH_RADIUS_KM}&free_now=true")
            choices = self._free_evses(visit, usable, answer) if status == 200 else []
        starts = self.clock.start_utc + timedelta(seconds=visit.arrival_s)
        row = {"t_s": env.now, "population": visit.population, "driver": visit.driver,
               "id_token": visit.token.id, "account_id": account.account_id,
               "arrival_s": visit.arrival_s, "station_id": None, "booking_id": None,
               "http_status": None, "detail": "no free charger the car can use"}
        for station_id, evse_id in choices:  # the first that takes it
            body = {"station_id": station_id, "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(seconds=WINDOW_S)).isoformat(),
                    "id_token": visit.token.id}
            if evse_id is not None:
                body["evse_id"] = evse_id
            status, answer = yield self.app.send(account, "book", "POST", "/api/me/bookings",
                                                 body)
            row |= {"station_id": station_id, "http_status": status,
                    "detail": "" if status < 300 else str(answer.get("detail", ""))[:300]}
            if status < 300:
                row["booking_id"] = answer["id"]
                break
        self.rows.append(row)


def scheduler(clock: SimClock, core: Any) -> Gen:
    """The CSMS's booking scan (reserve within the lead time, end windows that passed) at
    simulated times, after the events published so far are handled."""
    bookings = core.bookings

    async def scan() -> None:
        try:
            await bookings.settle()
            await bookings.scan(clock.utc())
        except Exception:  # as the CSMS's own scheduler: a failed scan is not the end
            log.exception("booking scan failed")

    while True:
        yield clock.env.timeout(SCAN_S)
        yield clock.bridge(scan())
