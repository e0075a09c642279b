"""Availability: "tell me when a connector of type X with at least P kW within R km of
(lat, lon) becomes free".

Edge, not level: a subscription hears about a connector when it turns free (its status becomes
Available, or a reservation or booking holding its EVSE ends while it is Available), once per
connector per free period; a connector that is free when the subscription is made, or stays
free, is not news. "Free" is station search's: Available, the station online and accepted, the
EVSE neither reserved nor booked. Everything here is in memory; matching runs over the
availability subscriptions on each such edge, not on every status.
"""

from __future__ import annotations

from typing import Any

from csms.domain.connectors import ConnectorService
from csms.domain.geo import distance_km
from csms.domain.station_search import AVAILABLE, ConnectorMatch, StationSearch
from csms.domain.timeutil import ocpp_time
from csms.notifications.model import Outgoing
from csms.notifications.subscriptions import AVAILABILITY, SubscriptionStore

ConnectorKey = tuple[str, int, int]  # (station, evse, connector)


class AvailabilityMatcher:
    def __init__(self, subscriptions: SubscriptionStore, search: StationSearch,
                 connectors: ConnectorService) -> None:
        self.subscriptions = subscriptions
        self.search = search
        self.connectors = connectors
        # The subscriptions told about each connector in its current free period.
        self._told: dict[ConnectorKey, set[int]] = {}

    def on_status(self, data: dict[str, Any]) -> list[Outgoing]:
        station_id = data.get("station_id")
        evse_id, connector_id = data.get("evse_id") or 0, data.get("connector_id") or 0
        if not station_id or evse_id < 1 or connector_id < 1:
            return []  # the station or an EVSE as a whole
        key = (station_id, evse_id, connector_id)
        if data.get("status") != AVAILABLE:
            self._told.pop(key, None)  # its free period is over
            return []
        if data.get("previous") == AVAILABLE:
            return []  # still free: not news
        return self._turned_free(station_id, {(evse_id, connector_id)})

    def on_release(self, station_id: str, evse_id: int | None) -> list[Outgoing]:
        """A reservation or booking of the station (an EVSE, or None: any) has ended: what it
        held may be free now."""
        keys = {(r.evse_id, r.connector_id) for r in self.connectors.of_station(station_id)
                if r.status == AVAILABLE and r.evse_id >= 1 and r.connector_id >= 1
                and (evse_id is None or r.evse_id == evse_id)}
        return self._turned_free(station_id, keys) if keys else []

    def _turned_free(self, station_id: str, keys: set[tuple[int, int]]) -> list[Outgoing]:
        subscriptions = self.subscriptions.of_kind(AVAILABILITY)
        position = self.search.position(station_id)
        if not subscriptions or position is None:
            return []
        free = [c for c in self.search.matching_connectors(station_id)
                if (c.evse_id, c.connector_id) in keys and c.free]
        if not free:
            return []
        state = self.search.stations.get(station_id)
        out: list[Outgoing] = []
        for connector in free:
            key = (station_id, connector.evse_id, connector.connector_id)
            told = self._told.setdefault(key, set())
            since = self._free_since(key)
            for subscription in subscriptions:
                place = subscription.place
                if subscription.id in told or place is None or \
                        not subscription.wants(connector.connector_type, connector.max_power_w):
                    continue
                distance = distance_km(place, position)
                if distance > subscription.radius_km:
                    continue
                told.add(subscription.id)
                out.append(Outgoing(subscription.account_id, "availability.free", {
                    "subscription_id": subscription.id, "label": subscription.label,
                    "station_id": station_id, "name": state.name if state else None,
                    "address": state.address if state else None,
                    "latitude": position.latitude, "longitude": position.longitude,
                    "distance_km": round(distance, 3), **_connector(connector),
                    "free_since": since},
                    f"availability:{subscription.id}:{station_id}:{connector.evse_id}:"
                    f"{connector.connector_id}:{since}"))
        return out

    def _free_since(self, key: ConnectorKey) -> str | None:
        report = self.connectors.status_of(*key)
        return ocpp_time(report.timestamp) if report else None

    def forget_subscription(self, subscription_id: int) -> None:
        for told in self._told.values():
            told.discard(subscription_id)


def _connector(connector: ConnectorMatch) -> dict[str, Any]:
    return {"evse_id": connector.evse_id, "connector_id": connector.connector_id,
            "connector_type": connector.connector_type, "max_power_w": connector.max_power_w}
