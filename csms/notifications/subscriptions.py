"""Driver subscriptions: "tell me when a connector of type X with at least P kW within R km of
(lat, lon) becomes free" (availability), and "tell me about such a connector near me as I
drive" (approaching, matched against the positions the driver posts).

All subscriptions are kept in memory (matching runs on every status change), indexed by kind
and by account; the table is written only when a driver changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.geo import Position
from csms.domain.timeutil import Clock, utcnow
from csms.storage import tables as t
from csms.storage.database import Database

AVAILABILITY, APPROACHING = "availability", "approaching"
KINDS = (AVAILABILITY, APPROACHING)
MAX_PER_ACCOUNT = 20


class TooManySubscriptions(Exception):
    """The account already has as many subscriptions as it may."""


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    account_id: str
    kind: str
    radius_km: float
    connector_type: str | None = None
    min_power_w: float | None = None
    latitude: float | None = None  # availability only
    longitude: float | None = None
    label: str | None = None
    created_at: datetime | None = None

    @property
    def place(self) -> Position | None:
        if self.latitude is None or self.longitude is None:
            return None
        return Position(self.latitude, self.longitude)

    def wants(self, connector_type: str | None, max_power_w: float | None) -> bool:
        """Whether a connector of this type and power is one this subscription is about."""
        if self.connector_type is not None and connector_type != self.connector_type:
            return False
        return self.min_power_w is None or (max_power_w is not None
                                            and max_power_w >= self.min_power_w)


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(row["id"], row["account_id"], row["kind"], row["radius_km"],
                        row["connector_type"], row["min_power_w"], row["latitude"],
                        row["longitude"], row["label"], row["created_at"])


class SubscriptionStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._by_id: dict[int, Subscription] = {}
        self._by_account: dict[str, dict[int, Subscription]] = {}

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            return [dict(r) for r in (await conn.execute(
                select(t.notification_subscriptions))).mappings()]

        self._by_id.clear()
        self._by_account.clear()
        for row in await self.db.read(read):
            self._keep(_subscription(row))

    async def create(self, account_id: str, kind: str, radius_km: float, *,
                     connector_type: str | None = None, min_power_w: float | None = None,
                     place: Position | None = None, label: str | None = None) -> Subscription:
        if kind not in KINDS:
            raise ValueError(f"unknown subscription kind {kind!r}")
        if kind == AVAILABILITY and place is None:
            raise ValueError("an availability subscription needs a place")
        if len(self.of_account(account_id)) >= MAX_PER_ACCOUNT:
            raise TooManySubscriptions(
                f"account {account_id} already has {MAX_PER_ACCOUNT} subscriptions; "
                "delete one first")
        values = {"account_id": account_id, "kind": kind, "radius_km": radius_km,
                  "connector_type": connector_type, "min_power_w": min_power_w,
                  "latitude": place.latitude if place and kind == AVAILABILITY else None,
                  "longitude": place.longitude if place and kind == AVAILABILITY else None,
                  "label": label, "created_at": self.clock()}

        async def write(conn: AsyncConnection) -> int:
            return (await conn.execute(insert(t.notification_subscriptions).values(**values)
                                       .returning(t.notification_subscriptions.c.id))
                    ).scalar_one()

        subscription = _subscription({"id": await self.db.write(write), **values})
        self._keep(subscription)
        return subscription

    async def delete(self, account_id: str, subscription_id: int) -> bool:
        found = self._by_id.get(subscription_id)
        if found is None or found.account_id != account_id:
            return False
        await self.db.write(lambda conn: conn.execute(delete(t.notification_subscriptions).where(
            t.notification_subscriptions.c.id == subscription_id)))
        self._by_id.pop(subscription_id, None)
        mine = self._by_account.get(account_id, {})
        mine.pop(subscription_id, None)
        if not mine:
            self._by_account.pop(account_id, None)
        return True

    def get(self, subscription_id: int) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def of_account(self, account_id: str, kind: str | None = None) -> list[Subscription]:
        mine = self._by_account.get(account_id, {})
        return [mine[i] for i in sorted(mine) if kind is None or mine[i].kind == kind]

    def of_kind(self, kind: str) -> list[Subscription]:
        return [s for s in self._by_id.values() if s.kind == kind]

    def _keep(self, subscription: Subscription) -> None:
        self._by_id[subscription.id] = subscription
        self._by_account.setdefault(subscription.account_id, {})[subscription.id] = subscription
