"""The live stream: each connected app gets its account's notifications as they are accepted.

Subscribers have bounded queues: an app that does not read loses its oldest notifications (and
is told how many), it never makes the CSMS hold more. The notifications themselves are stored,
so an app that reconnects with ``Last-Event-ID`` gets what it missed from the outbox.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from csms.notifications.model import Notification

QUEUE_SIZE = 256


@dataclass(eq=False)  # kept in a set: hashed by identity
class LiveSubscriber:
    account_id: str
    queue: asyncio.Queue[Notification] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: int = 0


class LiveStream:
    def __init__(self) -> None:
        self._by_account: dict[str, set[LiveSubscriber]] = {}

    def subscribe(self, account_id: str) -> LiveSubscriber:
        subscriber = LiveSubscriber(account_id)
        self._by_account.setdefault(account_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: LiveSubscriber) -> None:
        subscribers = self._by_account.get(subscriber.account_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._by_account[subscriber.account_id]

    def publish(self, notification: Notification) -> int:
        """Hand ``notification`` to its account's subscribers; returns how many got it."""
        subscribers = self._by_account.get(notification.account_id, ())
        for subscriber in subscribers:
            if subscriber.queue.full():
                subscriber.queue.get_nowait()
                subscriber.dropped += 1
            subscriber.queue.put_nowait(notification)
        return len(subscribers)

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._by_account.values())
