"""In-process publish/subscribe for the event stream (server-sent events) and the dashboard.

Each subscriber has a bounded queue: a slow subscriber loses its oldest events (and is told how
many) rather than slowing the CSMS down.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csms.domain.timeutil import utcnow

SUBSCRIBER_QUEUE = 1000

log = logging.getLogger("chargeloop.csms.events")


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str  # station.status, station.connection, transaction.*, alert.*, ...
    at: datetime
    data: dict[str, Any]


@dataclass(eq=False)  # kept in a set: hashed by identity
class Subscription:
    kinds: frozenset[str] | None
    station_id: str | None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE))
    dropped: int = 0

    def wants(self, event: Event) -> bool:
        if self.kinds is not None and not any(event.kind.startswith(k) for k in self.kinds):
            return False
        return self.station_id is None or event.data.get("station_id") == self.station_id


Listener = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._listeners: list[Listener] = []
        self._ids = itertools.count(1)

    def listen(self, listener: Listener) -> None:
        """Call ``listener`` synchronously on every event (for in-process consumers such as
        fault detection); it must be quick and must not raise."""
        self._listeners.append(listener)

    def publish(self, kind: str, **data: Any) -> Event:
        event = Event(next(self._ids), kind, utcnow(), data)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", kind)
        for subscription in list(self._subscriptions):
            if not subscription.wants(event):
                continue
            if subscription.queue.full():
                subscription.queue.get_nowait()
                subscription.dropped += 1
            subscription.queue.put_nowait(event)
        return event

    def subscribe(self, kinds: set[str] | None = None,
                  station_id: str | None = None) -> Subscription:
        subscription = Subscription(frozenset(kinds) if kinds else None, station_id)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def stream(self, subscription: Subscription) -> AsyncIterator[Event]:
        try:
            while True:
                yield await subscription.queue.get()
        finally:
            self.unsubscribe(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
