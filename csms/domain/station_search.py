"""Station search for drivers: stations near a position, with a connector of a type, at least a
power, free now.

Everything it reads is in memory (station locations in :class:`StationState`, connector specs and
statuses in :class:`ConnectorService`, active reservations, bookings that hold an EVSE), so a
search does no I/O and :meth:`StationSearch.matching_connectors` is cheap enough to call on every
status change (the notification service does, for "a free charger near me").

A connector is **free** when its latest status is ``Available`` (the same word in 1.6 and
2.0.1), its station is connected, accepted and not silent beyond the offline threshold, and its
EVSE is neither under an active reservation nor held by a booking right now.

A station takes part in searches once it has a position; its connectors are those its operator
described (type, power) and those that ever reported a status (EVSE and connector ids >= 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from csms.domain.connectors import ConnectorService, ConnectorSpec
from csms.domain.geo import Position, distance_km
from csms.domain.reservations import ReservationService
from csms.domain.stations import StationService, StationState
from csms.domain.timeutil import Clock, utcnow

AVAILABLE = "Available"
DEFAULT_LIMIT = 20
MAX_LIMIT = 200

# Who else holds EVSEs (bookings): (station_id, now) -> the EVSE ids held at that moment.
HoldSource = Callable[[str, datetime], set[int]]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    latitude: float
    longitude: float
    radius_km: float
    connector_type: str | None = None  # 2.0.1 ConnectorEnumType name, e.g. cCCS2, cType2
    min_power_w: float | None = None
    free_now: bool = False  # only connectors free now (and stations with one)
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True, slots=True)
class ConnectorMatch:
    evse_id: int
    connector_id: int
    connector_type: str | None
    max_power_w: float | None
    status: str | None  # the latest reported status, None before the first report
    free: bool


@dataclass(frozen=True, slots=True)
class StationMatch:
    station_id: str
    name: str | None
    address: str | None
    position: Position
    distance_km: float
    online: bool
    connectors: tuple[ConnectorMatch, ...]  # only those matching the query

    @property
    def free(self) -> bool:
        return any(c.free for c in self.connectors)


class StationSearch:
    def __init__(self, stations: StationService, connectors: ConnectorService,
                 reservations: ReservationService, clock: Clock = utcnow) -> None:
        self.stations = stations
        self.connectors = connectors
        self.reservations = reservations
        self.clock = clock
        self._hold_sources: list[HoldSource] = []

    def add_hold_source(self, source: HoldSource) -> None:
        """Let another service (bookings) say which EVSEs it holds, so they are not free."""
        self._hold_sources.append(source)

    # -- the driver's search ---------------------------------------------------------------------

    async def find(self, query: SearchQuery) -> list[StationMatch]:
        """Stations within ``radius_km`` of the position with at least one connector matching
        the query, nearest first (ties by station id), at most ``limit``. No I/O."""
        origin = Position(query.latitude, query.longitude)
        now = self.clock()
        found: list[StationMatch] = []
        for state in self.stations.all():
            position = _position_of(state)
            if position is None:
                continue
            distance = distance_km(origin, position)
            if distance > query.radius_km:
                continue
            connectors = self._connectors(state, query.connector_type, query.min_power_w, now)
            if query.free_now:
                connectors = [c for c in connectors if c.free]
            if not connectors:
                continue
            found.append(StationMatch(state.id, state.name, state.address, position,
                                      round(distance, 3), self._online(state, now),
                                      tuple(connectors)))
        found.sort(key=lambda m: (m.distance_km, m.station_id))
        return found[:max(0, min(query.limit, MAX_LIMIT))]

    # -- cheap checks for other services ---------------------------------------------------------

    def position(self, station_id: str) -> Position | None:
        """Where the station is, or None (unknown station or no position set)."""
        state = self.stations.get(station_id)
        return None if state is None else _position_of(state)

    def matching_connectors(self, station_id: str, connector_type: str | None = None,
                            min_power_w: float | None = None) -> list[ConnectorMatch]:
        """The station's connectors of ``connector_type`` with at least ``min_power_w``, each
        with its status and whether it is free now. No I/O."""
        state = self.stations.get(station_id)
        if state is None:
            return []
        return self._connectors(state, connector_type, min_power_w, self.clock())

    def held_evses(self, station_id: str, now: datetime | None = None) -> set[int]:
        """EVSEs of the station under an active reservation or held by a booking at ``now``."""
        now = now or self.clock()
        held = {r.evse_id for r in self.reservations.active_at(station_id)
                if r.evse_id is not None}
        for source in self._hold_sources:
            held |= source(station_id, now)
        return held

    # -- internals -------------------------------------------------------------------------------

    def _connectors(self, state: StationState, connector_type: str | None,
                    min_power_w: float | None, now: datetime) -> list[ConnectorMatch]:
        specs = self.connectors.specs.get(state.id, {})
        keys = set(specs)
        keys.update((r.evse_id, r.connector_id) for r in self.connectors.of_station(state.id))
        online = self._online(state, now)
        held: set[int] | None = None  # computed once, only if a connector could be free
        matches = []
        for evse_id, connector_id in sorted(keys):
            if evse_id < 1 or connector_id < 1:
                continue  # the station or an EVSE as a whole
            spec = specs.get((evse_id, connector_id)) or ConnectorSpec(None, None)
            if connector_type is not None and spec.connector_type != connector_type:
                continue
            if min_power_w is not None and (spec.max_power_w is None
                                            or spec.max_power_w < min_power_w):
                continue
            report = self.connectors.status_of(state.id, evse_id, connector_id)
            status = report.status if report else None
            free = online and status == AVAILABLE
            if free:
                if held is None:
                    held = self.held_evses(state.id, now)
                free = evse_id not in held
            matches.append(ConnectorMatch(evse_id, connector_id, spec.connector_type,
                                          spec.max_power_w, status, free))
        return matches

    def _online(self, state: StationState, now: datetime) -> bool:
        return state.accepted and not self.stations.is_offline(state, now)


def _position_of(state: StationState) -> Position | None:
    if state.latitude is None or state.longitude is None:
        return None
    return Position(state.latitude, state.longitude)
