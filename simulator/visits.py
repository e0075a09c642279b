"""Drivers at the chargers: one SimPy process per planned visit.

A visit arrives, takes a free compatible EVSE at its site (queueing up to its patience, first
come first served), plugs in and identifies in the order its behaviour says (or starts from the
app through the CSMS), stays for its dwell or until full, ends the charge with its token and
unplugs. Each visit leaves one row in the ``visits`` table, whatever happened to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from simulator.drivers import IdToken, Visit
from simulator.station.station import SimStation

log = logging.getLogger("chargeloop.simulator.visits")

Gen = Generator[Any, Any, Any]

FULL_CHECK_S = 60.0  # how often a driver who leaves when full looks at the app
PLUG_AFTER_TOKEN_S = 20.0  # from badge to cable in, for drivers who badge first
REMOTE_START_WAIT_S = 60.0  # how long the app waits for the charge to start
PATIENCE_S = 900.0  # how long a driver queues for a free charger before leaving

# visit outcomes
CHARGED, ABANDONED, REJECTED, NO_START = "charged", "abandoned", "rejected", "no_start"
NO_DRIVER = "no_driver"  # every driver of the population was already at a charger
STAYED_AWAY = "stayed_away"  # booked a charger, then did not come (simulator.bookings)

VISIT_COLUMNS = ("population", "driver", "id_token", "vehicle_model", "site_id", "arrival_s",
                 "station_id", "evse_id", "plugged_s", "unplugged_s", "waited_s", "outcome",
                 "soc_in", "soc_out", "target_soc", "needed_wh", "remote_start")


@dataclass(frozen=True, slots=True)
class Bay:
    """One EVSE of a site, as drivers see it."""

    station: SimStation
    evse_id: int
    kind: str  # "AC" or "DC"

    @property
    def usable(self) -> bool:
        evse = self.station.evse(self.evse_id)
        return (self.station.operative and evse.operative and evse.fault is None
                and not evse.plugged)

    def usable_by(self, token_id: str) -> bool:
        """Usable, and not shown Reserved for somebody else (a driver leaves such a bay to
        the one who reserved it: the station would refuse the card anyway)."""
        if not self.usable:
            return False
        station = self.station
        return not (len(station.reservations) and station.reservations.blocks(
            self.evse_id, token_id, None, station.reservation_view()))

    def reserved_for(self, token_id: str) -> bool:
        """Holds a reservation of ``token_id`` (for this EVSE, or for any of the station's)."""
        reservations = self.station.reservations
        return bool(len(reservations)) and reservations.matches(self.evse_id, token_id)


class SiteBays:
    """The free EVSEs of one site, handed to waiting drivers in arrival order."""

    def __init__(self, env: simpy.Environment, bays: list[Bay]) -> None:
        self.env = env
        self.bays = bays
        self.free = simpy.FilterStore(env)
        self.free.items.extend(bays)

    def claim(self, wants_dc: bool, patience_s: float, token_id: str = "",
              station_id: str | None = None) -> Gen:
        """A compatible free bay, or None after ``patience_s``; the bay reserved for
        ``token_id`` if there is one, and never one reserved for somebody else. A replayed
        session that names its station (``station_id``) waits for a bay of that station."""
        def compatible(bay: Bay) -> bool:
            # An AC-only car cannot use a DC connector; a DC-capable car takes either, DC first.
            return ((bay.kind == "AC" or wants_dc)
                    and (station_id is None or bay.station.id == station_id))

        def fits(bay: Bay) -> bool:
            return compatible(bay) and bay.usable_by(token_id)

        if not any(compatible(bay) for bay in self.bays):
            return None
        mine = [bay for bay in self.free.items if bay.reserved_for(token_id) and fits(bay)]
        request = self.free.get((lambda bay: bay is mine[0]) if mine else fits)
        outcome = yield request | self.env.timeout(patience_s)
        if request in outcome:
            return outcome[request]
        request.cancel()
        return None

    def release(self, bay: Bay) -> None:
        self.free.put(bay)


RemoteStart = Callable[[SimStation, int, Visit], simpy.Event]


class DriverRoster:
    """Who of a population is at a charger now. Arrivals are drawn per population, so the
    driver a visit names may still be plugged in elsewhere (a second charge with the same card
    would be refused as ConcurrentTx); the visit then goes to a driver of the same population
    who is free, the lowest-numbered one, so runs repeat."""

    def __init__(self, visits: list[Visit]) -> None:
        self.tokens: dict[tuple[str, int], IdToken] = {
            (v.population, v.driver): v.token for v in visits}
        self.busy: set[tuple[str, int]] = set()

    def take(self, visit: Visit) -> bool:
        """Claim the visit's driver, or a free one of its population; False if none is free."""
        key = (visit.population, visit.driver)
        if key in self.busy:
            free = sorted(d for (p, d) in self.tokens if p == visit.population
                          and (p, d) not in self.busy)
            if not free:
                return False
            key = (visit.population, free[0])
            visit.driver, visit.token = free[0], self.tokens[key]
        self.busy.add(key)
        return True

    def release(self, visit: Visit) -> None:
        self.busy.discard((visit.population, visit.driver))


class VisitRecorder:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, visit: Visit, **values: Any) -> None:
        vehicle = visit.vehicle
        row = {"population": visit.population, "driver": visit.driver,
               "id_token": visit.token.id, "vehicle_model": vehicle.model.name,
               "site_id": visit.site_id, "arrival_s": visit.arrival_s, "station_id": None,
               "evse_id": None, "plugged_s": None, "unplugged_s": None, "waited_s": None,
               "outcome": None, "soc_in": None, "soc_out": vehicle.soc,
               "target_soc": vehicle.target_soc, "needed_wh": None,
               "remote_start": visit.remote_start}
        row.update(values)
        self.rows.append(row)


def visit_process(env: simpy.Environment, visit: Visit, bays: SiteBays, roster: DriverRoster,
                  record: VisitRecorder, remote_start: RemoteStart | None,
                  patience_s: float = PATIENCE_S) -> Gen:
    yield env.timeout(max(0.0, visit.arrival_s - env.now))
    if not roster.take(visit):
        record.add(visit, outcome=NO_DRIVER)
        return
    try:
        yield from _visit(env, visit, bays, record, remote_start, patience_s)
    finally:
        roster.release(visit)


def _visit(env: simpy.Environment, visit: Visit, bays: SiteBays, record: VisitRecorder,
           remote_start: RemoteStart | None, patience_s: float) -> Gen:
    vehicle = visit.vehicle
    soc_in = vehicle.soc
    wants_dc = vehicle.model.dc_max_w > 0
    bay = yield from bays.claim(wants_dc, patience_s, visit.token.id, visit.station_id)
    if bay is None:
        record.add(visit, outcome=ABANDONED, waited_s=env.now - visit.arrival_s, soc_in=soc_in)
        return
    station, evse_id = bay.station, bay.evse_id
    needed_wh = vehicle.needed_wh(bay.kind)
    row = {"station_id": station.id, "evse_id": evse_id, "waited_s": env.now - visit.arrival_s,
           "soc_in": soc_in, "needed_wh": needed_wh}
    try:
        started = yield from _start(env, visit, station, evse_id, remote_start)
        plugged_s = row["plugged_s"] = env.now
        if not started:
            yield from station.unplug(evse_id)
            record.add(visit, outcome=REJECTED if started is False else NO_START,
                       unplugged_s=env.now, **row)
            return
        yield from _stay(env, visit, station, evse_id, plugged_s)
        yield from station.stop_by_driver(evse_id, visit.token)  # if still charging
        yield from station.unplug(evse_id)
        record.add(visit, outcome=CHARGED, unplugged_s=env.now, **row)
    finally:
        bays.release(bay)


def _start(env: simpy.Environment, visit: Visit, station: SimStation, evse_id: int,
           remote_start: RemoteStart | None) -> Gen:
    """Plug in and get authorised; True if charging may begin, False if the token was
    refused, None if the app's start never arrived."""
    if visit.remote_start and remote_start is not None:
        yield from station.plug_in(evse_id, visit.vehicle)
        yield remote_start(station, evse_id, visit)
        return (yield from _wait_for_transaction(env, station, evse_id))
    if visit.plug_first:
        yield from station.plug_in(evse_id, visit.vehicle)
        return (yield from station.present_token(evse_id, visit.token))
    accepted = yield from station.present_token(evse_id, visit.token)
    yield env.timeout(PLUG_AFTER_TOKEN_S)
    yield from station.plug_in(evse_id, visit.vehicle)
    return accepted


def _wait_for_transaction(env: simpy.Environment, station: SimStation, evse_id: int) -> Gen:
    deadline = env.now + REMOTE_START_WAIT_S
    while env.now < deadline:
        if station.evse(evse_id).auth is not None:
            return True
        yield env.timeout(min(5.0, deadline - env.now))
    return None


def _stay(env: simpy.Environment, visit: Visit, station: SimStation, evse_id: int,
          plugged_s: float) -> Gen:
    """Until the visit's rule says to leave: its dwell, or full (checked in the app every
    minute), plus overstay, cut short by leaving early."""
    leave_at = visit.unplug_at(plugged_s)
    if visit.unplug_when_full:
        while env.now < leave_at:
            if visit.vehicle.full:
                leave_at = min(leave_at, visit.unplug_at(plugged_s, env.now))
                break
            yield env.timeout(min(FULL_CHECK_S, leave_at - env.now))
    if leave_at > env.now:
        yield env.timeout(leave_at - env.now)
