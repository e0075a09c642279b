"""Approaching: the driver's app or car posts positions; an approaching subscription (connector
type, minimum power, radius R) tells the driver once about each station within R km that has a
matching free connector, and again only if that changes before they arrive:

* first within R of a station with a matching free connector: ``approaching.free`` (with the
  distance and the free connectors), once, however many positions follow;
* that station's matching connectors all taken (Occupied, Reserved, Faulted, the station
  offline, ...) before the driver arrives: ``approaching.taken``, at once on the status change;
  free again while still approaching: ``approaching.free`` again;
* in range of a matching station with nothing free: nothing until one frees up;
* arrived (within ``approach_arrived_km`` of it, or a session of theirs started there): no more
  about that station;
* left the range (with a margin, so driving along its edge does not flap): forgotten, so a
  later approach is told again.

Positions are kept in memory only (the last one per account): the CSMS does not keep a
driver's movements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csms.domain.geo import Position, distance_km
from csms.domain.station_search import MAX_LIMIT, SearchQuery, StationMatch, StationSearch
from csms.notifications.model import Outgoing
from csms.notifications.subscriptions import APPROACHING, Subscription, SubscriptionStore

WATCHING, ALERTED, TAKEN, ARRIVED = "watching", "alerted", "taken", "arrived"
FORGET_POSITIONS_AFTER = timedelta(hours=2)


def leave_margin_km(radius_km: float) -> float:
    """How far beyond the radius a driver must be to count as gone (hysteresis)."""
    return max(0.2, radius_km * 0.1)


@dataclass(slots=True)
class Track:
    """One subscription's view of one station during an approach."""

    state: str
    distance_km: float
    free_alerts: int = 0  # approaching.free sent in this approach
    # When this approach began: in the dedup keys, so a later approach within the dedup window
    # is told again (its alerts are new, not repeats of the last approach's).
    since: str = ""


@dataclass(frozen=True, slots=True)
class Nearby:
    subscription_id: int
    station_id: str
    distance_km: float
    state: str


class ApproachTracker:
    def __init__(self, subscriptions: SubscriptionStore, search: StationSearch,
                 arrived_km: float) -> None:
        self.subscriptions = subscriptions
        self.search = search
        self.arrived_km = arrived_km
        self._positions: dict[str, tuple[Position, datetime]] = {}
        self._tracks: dict[str, dict[tuple[int, str], Track]] = {}  # by account
        self._by_station: dict[str, set[tuple[str, int]]] = {}  # -> (account, subscription)

    async def position(self, account_id: str, position: Position, at: datetime
                       ) -> tuple[list[Outgoing], bool]:
        """A position of the driver; returns what to tell them, and False if the position was
        older than one already taken (then it is ignored)."""
        last = self._positions.get(account_id)
        if last is not None and at < last[1]:
            return [], False
        self._positions[account_id] = (position, at)
        out: list[Outgoing] = []
        for subscription in self.subscriptions.of_account(account_id, APPROACHING):
            matches = await self.search.find(_query(subscription, position))
            in_range = {m.station_id: m for m in matches}
            for match in matches:
                out += self._seen(account_id, subscription, match, at)
            self._forget_left(account_id, subscription, position, set(in_range))
        return out, True

    def nearby(self, account_id: str) -> list[Nearby]:
        return sorted((Nearby(sub_id, station_id, round(track.distance_km, 3), track.state)
                       for (sub_id, station_id), track in self._tracks.get(account_id, {}).items()),
                      key=lambda n: (n.distance_km, n.station_id, n.subscription_id))

    def on_station_change(self, station_id: str) -> list[Outgoing]:
        """A status (or reservation, booking, connection) changed at the station: tell those
        approaching it if their matching connectors were all taken, or freed up."""
        out: list[Outgoing] = []
        for account_id, subscription_id in sorted(self._by_station.get(station_id, ())):
            subscription = self.subscriptions.get(subscription_id)
            track = self._tracks.get(account_id, {}).get((subscription_id, station_id))
            if subscription is None or track is None or track.state == ARRIVED:
                continue
            free = [c for c in self.search.matching_connectors(
                station_id, subscription.connector_type, subscription.min_power_w) if c.free]
            out += self._change(account_id, subscription, station_id, track, free)
        return out

    def arrived(self, account_id: str, station_id: str) -> None:
        """A session of the account started at the station: they are there."""
        for (_, tracked_station), track in self._tracks.get(account_id, {}).items():
            if tracked_station == station_id:
                track.state = ARRIVED

    def forget_subscription(self, account_id: str, subscription_id: int) -> None:
        for (sub_id, station_id) in [k for k in self._tracks.get(account_id, {})
                                     if k[0] == subscription_id]:
            self._drop(account_id, sub_id, station_id)

    def forget_stale(self, now: datetime) -> None:
        """Drop drivers who have not posted a position for a long time (bounded memory)."""
        for account_id, (_, at) in list(self._positions.items()):
            if now - at > FORGET_POSITIONS_AFTER:
                del self._positions[account_id]
                for sub_id, station_id in list(self._tracks.get(account_id, {})):
                    self._drop(account_id, sub_id, station_id)

    # -- internals -------------------------------------------------------------------------------

    def _seen(self, account_id: str, subscription: Subscription,
              match: StationMatch, at: datetime) -> list[Outgoing]:
        tracks = self._tracks.setdefault(account_id, {})
        key = (subscription.id, match.station_id)
        track = tracks.get(key)
        there = match.distance_km <= self.arrived_km
        if track is None:
            track = tracks[key] = Track(ARRIVED if there else WATCHING, match.distance_km,
                                        since=at.isoformat())
            self._by_station.setdefault(match.station_id, set()).add(
                (account_id, subscription.id))
        track.distance_km = match.distance_km
        if track.state == ARRIVED:
            return []
        if there:
            track.state = ARRIVED
            return []
        return self._change(account_id, subscription, match.station_id, track,
                            [c for c in match.connectors if c.free])

    def _change(self, account_id: str, subscription: Subscription, station_id: str,
                track: Track, free: list[Any]) -> list[Outgoing]:
        if free and track.state in (WATCHING, TAKEN):
            track.state = ALERTED
            track.free_alerts += 1
            return [Outgoing(account_id, "approaching.free", {
                **self._facts(subscription, station_id, track), "again": track.free_alerts > 1,
                "connectors": [{"evse_id": c.evse_id, "connector_id": c.connector_id,
                                "connector_type": c.connector_type,
                                "max_power_w": c.max_power_w} for c in free]},
                f"approaching:{subscription.id}:{station_id}:{track.since}:free:"
                f"{track.free_alerts}")]
        if not free and track.state == ALERTED:
            track.state = TAKEN
            statuses = sorted({c.status or "Unknown" for c in self.search.matching_connectors(
                station_id, subscription.connector_type, subscription.min_power_w)})
            state = self.search.stations.get(station_id)
            online = state is not None and state.accepted and \
                not self.search.stations.is_offline(state)
            return [Outgoing(account_id, "approaching.taken", {
                **self._facts(subscription, station_id, track), "statuses": statuses,
                "station_online": online},
                f"approaching:{subscription.id}:{station_id}:{track.since}:taken:"
                f"{track.free_alerts}")]
        return []

    def _facts(self, subscription: Subscription, station_id: str,
               track: Track) -> dict[str, Any]:
        state = self.search.stations.get(station_id)
        position = self.search.position(station_id)
        return {"subscription_id": subscription.id, "label": subscription.label,
                "station_id": station_id, "name": state.name if state else None,
                "address": state.address if state else None,
                "latitude": position.latitude if position else None,
                "longitude": position.longitude if position else None,
                "distance_km": round(track.distance_km, 3)}

    def _forget_left(self, account_id: str, subscription: Subscription, position: Position,
                     in_range: set[str]) -> None:
        for sub_id, station_id in list(self._tracks.get(account_id, {})):
            if sub_id != subscription.id or station_id in in_range:
                continue
            station = self.search.position(station_id)
            distance = None if station is None else distance_km(position, station)
            if distance is None or distance > subscription.radius_km + \
                    leave_margin_km(subscription.radius_km):
                self._drop(account_id, sub_id, station_id)
            else:
                self._tracks[account_id][(sub_id, station_id)].distance_km = distance

    def _drop(self, account_id: str, subscription_id: int, station_id: str) -> None:
        tracks = self._tracks.get(account_id, {})
        tracks.pop((subscription_id, station_id), None)
        if not tracks:
            self._tracks.pop(account_id, None)
        watchers = self._by_station.get(station_id)
        if watchers is not None:
            watchers.discard((account_id, subscription_id))
            if not watchers:
                del self._by_station[station_id]


def _query(subscription: Subscription, position: Position) -> SearchQuery:
    return SearchQuery(position.latitude, position.longitude, subscription.radius_km,
                       subscription.connector_type, subscription.min_power_w, free_now=False,
                       limit=MAX_LIMIT)
