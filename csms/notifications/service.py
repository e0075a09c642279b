"""The notification service: every part of this package wired together, and the one call
other services make, :meth:`NotificationService.notify`.

Life of a notification: decided on (by another service's call, or by a matcher from an event on
the bus) -> dropped if the driver muted its kind or its dedup key was seen within the window ->
rate limited (a token bucket per account and kind; when empty, it waits as the account's one
held notification of that kind, replacing any that waited before: coalesced) -> stored with one
delivery per webhook that wants it, in one commit -> handed to the live stream and the webhook
dispatcher. ``notification.sent`` and ``notification.delivery`` events on the bus say what
happened (for operators' event stream, and for tests to wait on).

Event listeners run synchronously inside ``EventBus.publish``, on the CSMS's hot path: they only
update memory and queue work; the worker task does the I/O in order.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from csms.config import CsmsConfig
from csms.domain.connectors import ConnectorService
from csms.domain.geo import Position
from csms.domain.station_search import StationSearch
from csms.domain.timeutil import Clock, utcnow
from csms.events import Event, EventBus
from csms.notifications.approaching import ApproachTracker
from csms.notifications.availability import AvailabilityMatcher
from csms.notifications.dispatcher import WebhookDispatcher
from csms.notifications.driver_events import FORWARDED_PREFIXES, forwarded
from csms.notifications.live import LiveStream
from csms.notifications.model import MAX_DEDUP_KEY, MAX_KIND, Notification, Outgoing, plain
from csms.notifications.peers import Peers
from csms.notifications.preferences import Preferences, PreferenceStore
from csms.notifications.sessions import SessionTracker, Work
from csms.notifications.store import NotificationStore
from csms.notifications.subscriptions import Subscription, SubscriptionStore
from csms.notifications.throttle import Deduplicator, RateLimiter
from csms.notifications.webhook_targets import Webhook, WebhookTargets, url_problem
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.notifications")

MAX_ACCOUNT_ID = 64
PURGE_EVERY = timedelta(hours=1)
# Reservations and bookings whose end may free an EVSE.
_RESERVATION_ENDED = frozenset({"Expired", "Cancelled", "Removed"})
_BOOKING_ENDED = frozenset({"booking.cancelled", "booking.expired", "booking.no_show"})


class InvalidWebhook(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def bounded_key(key: str) -> str:
    """A dedup key that fits its column: long ones keep a prefix and a digest of the whole."""
    if len(key) <= MAX_DEDUP_KEY:
        return key
    return key[:MAX_DEDUP_KEY - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()


class NotificationService:
    def __init__(self, db: Database, events: EventBus, config: CsmsConfig,
                 clock: Clock = utcnow, *, connectors: ConnectorService,
                 station_search: StationSearch, core: Any) -> None:
        self.db = db
        self.events = events
        self.config = config
        self.clock = clock
        self.store = NotificationStore(db)
        self.webhooks = WebhookTargets(db, clock)
        self.subscriptions = SubscriptionStore(db, clock)
        self.preferences = PreferenceStore(db, clock)
        self.live = LiveStream()
        self.dispatcher = WebhookDispatcher(self.store, self.webhooks, events, config, clock)
        self.dedup = Deduplicator(config.notification_dedup_window_s)
        self.limits = RateLimiter(config.notification_burst, config.notification_refill_s)
        self.peers = Peers(core)
        self.sessions = SessionTracker(db, self.peers, self.preferences, clock)
        self.availability = AvailabilityMatcher(self.subscriptions, station_search, connectors)
        self.approaching = ApproachTracker(self.subscriptions, station_search,
                                           config.approach_arrived_km)
        self.counters: Counter[str] = Counter()  # sent, duplicate, muted, held, coalesced
        self._held: dict[tuple[str, str], Notification] = {}
        self._held_lock = asyncio.Lock()
        self._work: asyncio.Queue[Work] = asyncio.Queue()
        self._purged_at: datetime | None = None
        events.listen(self._on_event)

    # -- lifecycle -------------------------------------------------------------------------------

    async def load(self) -> None:
        await self.webhooks.load()
        await self.subscriptions.load()
        await self.preferences.load()
        now = self.clock()
        since = now - timedelta(seconds=self.config.notification_dedup_window_s)
        for account_id, key, at in await self.store.dedup_keys_since(since):
            self.dedup.remember(account_id, key, at)
        held = await self.store.held()
        latest = {(n.account_id, n.kind): n for n in held}  # oldest first: the last one wins
        await self.store.coalesce([n.id for n in held if latest[(n.account_id, n.kind)] is not n])
        self._held = latest
        for notification in latest.values():
            self.limits.empty_since(notification.account_id, notification.kind,
                                    notification.created_at)
        await self.sessions.load()
        await self.dispatcher.load()

    async def run(self) -> None:
        """The worker, the tick and the webhook dispatcher; until cancelled (CsmsCore.stop)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._consume(), name="csms-notifications-worker")
            group.create_task(self._ticker(), name="csms-notifications-tick")
            group.create_task(self.dispatcher.run(), name="csms-notifications-webhooks")

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every event published so far has been turned into notifications."""
        async with asyncio.timeout(timeout):
            await self._work.join()

    async def _consume(self) -> None:
        while True:
            item = await self._work.get()
            try:
                outgoing = [item] if isinstance(item, Outgoing) else await item()
                for out in outgoing:
                    await self.notify(out.account_id, out.kind, out.data, out.dedup_key)
            except Exception:
                log.exception("a notification could not be made")
            finally:
                self._work.task_done()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.config.notification_tick_s)
            try:
                await self.tick()
            except Exception:
                log.exception("notification tick failed")

    async def tick(self, now: datetime | None = None) -> None:
        """Release held notifications whose bucket refilled, and queue what falls due with time
        (session updates, idle fees); tests call it with the moment they want to look at."""
        now = now or self.clock()
        self.dedup.expire(now)
        await self._release_held(now)
        self.limits.forget_full(now)
        for item in self.sessions.tick(now):
            self._work.put_nowait(item)
        self.approaching.forget_stale(now)
        if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
            self._purged_at = now
            await self.purge(now)

    async def purge(self, now: datetime | None = None) -> int:
        """Forget notifications older than the retention period (the tick does this hourly)."""
        now = now or self.clock()
        purged = await self.store.purge(
            now - timedelta(days=self.config.notification_retention_days))
        if purged:
            log.info("purged %d notifications older than %g days", purged,
                     self.config.notification_retention_days)
        return purged

    # -- the call other services make ------------------------------------------------------------

    async def notify(self, account_id: str, kind: str, data: dict[str, Any],
                     dedup_key: str | None = None) -> Notification | None:
        """Tell the driver of ``account_id`` something: stored, then delivered over their
        channels in the background. Returns the notification (state sent, or held by the rate
        limit), or None when it was dropped (muted kind, or a dedup key seen within the
        window)."""
        if not account_id or len(account_id) > MAX_ACCOUNT_ID:
            raise ValueError(f"account id must be 1 to {MAX_ACCOUNT_ID} characters")
        if not kind or len(kind) > MAX_KIND:
            raise ValueError(f"kind must be 1 to {MAX_KIND} characters")
        if self.preferences.get(account_id).mutes(kind):
            self.counters["muted"] += 1
            return None
        now = self.clock()
        key = bounded_key(dedup_key) if dedup_key else None
        if key is not None and not self.dedup.check_and_reserve(account_id, key, now):
            self.counters["duplicate"] += 1
            log.debug("dropped a duplicate %s for %s (%s)", kind, account_id, key)
            return None
        payload = plain(data)
        try:
            if self.limits.take(account_id, kind, now):
                notification, deliveries = await self.store.add(
                    account_id, kind, payload, key, now, webhooks=self._webhooks_for(
                        account_id, kind))
                self._sent(notification, deliveries)
                return notification
            return await self._hold(account_id, kind, payload, key, now)
        except Exception:
            if key is not None:
                self.dedup.release(account_id, key)
            raise

    def _webhooks_for(self, account_id: str, kind: str) -> list[Webhook]:
        return [w for w in self.webhooks.of_account(account_id) if w.wants(kind)]

    def _sent(self, notification: Notification, deliveries: list[int]) -> None:
        self.counters["sent"] += 1
        self.live.publish(notification)
        for delivery_id in deliveries:
            self.dispatcher.schedule(delivery_id)
        self.events.publish("notification.sent", account_id=notification.account_id,
                            notification_id=notification.id, notification_kind=notification.kind,
                            deliveries=len(deliveries))

    async def _hold(self, account_id: str, kind: str, payload: dict[str, Any],
                    key: str | None, now: datetime) -> Notification:
        async with self._held_lock:
            previous = self._held.get((account_id, kind))
            notification, _ = await self.store.add(
                account_id, kind, payload, key, now, held=True,
                coalesces=previous.id if previous else None)
            self._held[(account_id, kind)] = notification
        self.counters["held"] += 1
        if previous is not None:
            self.counters["coalesced"] += 1
            log.info("rate limit: %s for %s coalesced (notification %d replaced by %d)",
                     kind, account_id, previous.id, notification.id)
        return notification

    async def _release_held(self, now: datetime) -> None:
        async with self._held_lock:
            for (account_id, kind), notification in list(self._held.items()):
                if not self.limits.take(account_id, kind, now):
                    continue
                del self._held[(account_id, kind)]
                deliveries = await self.store.release(
                    notification, self._webhooks_for(account_id, kind), now)
                if deliveries is not None:
                    self._sent(notification, deliveries)

    # -- events from the bus (synchronous: memory only) ------------------------------------------

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind.startswith("notification.") or kind == "meter_values":
            return
        work: list[Work] = []
        if kind.startswith("transaction.") or kind == "alert.raised":
            work += self.sessions.on_event(event)
        elif kind == "station.status":
            work += self.sessions.on_event(event)
            work += self.availability.on_status(event.data)
            work += self.approaching.on_station_change(event.data.get("station_id", ""))
        elif kind == "station.connection":
            work += self.approaching.on_station_change(event.data.get("station_id", ""))
        elif kind == "reservation.updated":
            work += self._hold_changed(event.data, event.data.get("status")
                                       in _RESERVATION_ENDED)
        elif kind.startswith(FORWARDED_PREFIXES):
            out = forwarded(event)
            if out is not None:
                work.append(out)
            if kind.startswith("booking."):
                work += self._hold_changed(event.data, kind in _BOOKING_ENDED)
        for item in work:
            if isinstance(item, Outgoing) and item.kind == "session.started":
                self.approaching.arrived(item.account_id, item.data["station_id"])
            self._work.put_nowait(item)

    def _hold_changed(self, data: dict[str, Any], ended: bool) -> list[Work]:
        """A reservation or booking changed: an EVSE may be held now, or free again."""
        station_id = data.get("station_id")
        if not station_id:
            return []
        freed = self.availability.on_release(station_id, data.get("evse_id")) if ended else []
        return [*freed, *self.approaching.on_station_change(station_id)]

    # -- what drivers manage ---------------------------------------------------------------------

    async def subscribe(self, account_id: str, kind: str, radius_km: float, *,
                        connector_type: str | None = None, min_power_w: float | None = None,
                        place: Position | None = None, label: str | None = None
                        ) -> Subscription:
        return await self.subscriptions.create(
            account_id, kind, radius_km, connector_type=connector_type,
            min_power_w=min_power_w, place=place, label=label)

    async def unsubscribe(self, account_id: str, subscription_id: int) -> bool:
        if not await self.subscriptions.delete(account_id, subscription_id):
            return False
        self.availability.forget_subscription(subscription_id)
        self.approaching.forget_subscription(account_id, subscription_id)
        return True

    async def add_webhook(self, account_id: str, url: str, secret: str | None = None,
                          kinds: tuple[str, ...] | None = None) -> Webhook:
        problem = url_problem(url, allow_private=self.config.webhook_allow_private)
        if problem is not None:
            raise InvalidWebhook("url", problem)
        return await self.webhooks.create(account_id, url, secret, kinds)

    async def delete_webhook(self, account_id: str, webhook_id: int) -> bool:
        """Remove a webhook; what was still to be delivered to it is cancelled."""
        now = self.clock()
        return await self.webhooks.delete(
            account_id, webhook_id,
            also=lambda conn: self.store.cancel_for_webhook(conn, webhook_id, now))

    async def set_preferences(self, account_id: str, preferences: Preferences) -> Preferences:
        return await self.preferences.put(account_id, preferences)

    async def position(self, account_id: str, position: Position, at: datetime | None = None
                       ) -> tuple[list[Notification], bool]:
        """A position the driver's app or car posted: the notifications it caused, and
        whether it was taken (False: older than the last one)."""
        now = self.clock()
        # A time ahead of the CSMS's clock would make every later position look old.
        outgoing, taken = await self.approaching.position(account_id, position,
                                                          min(at or now, now))
        made = []
        for out in outgoing:
            notification = await self.notify(out.account_id, out.kind, out.data, out.dedup_key)
            if notification is not None:
                made.append(notification)
        return made, taken

    async def redeliver(self, delivery_id: int, by: str) -> dict[str, Any] | None:
        """Send a dead letter again (an operator's call): a new round of attempts."""
        row = await self.store.redeliver(delivery_id, by, self.clock())
        if row is not None:
            self.dispatcher.schedule(delivery_id)
        return row

    def stats(self) -> dict[str, int]:
        return {**self.counters, "held_now": len(self._held),
                "webhook_backlog": self.dispatcher.backlog}

