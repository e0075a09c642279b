"""The webhook delivery worker: sends pending deliveries in the background, retries with
exponential back-off, dead-letters what keeps failing.

Outcomes of one attempt (each recorded in the delivery log with its latency and status code):

* 2xx: delivered.
* 5xx, 408 and 429 (whose ``Retry-After`` is honoured up to the back-off cap), a timeout or a
  connection error: retried after ``webhook_backoff_s * 2 ** (attempt - 1)`` (capped at
  ``webhook_backoff_max_s``, plus up to 10 % jitter so a receiver coming back is not hit by
  every retry at once), until ``webhook_max_attempts`` attempts have failed: dead.
* any other status (a 3xx: redirects are not followed; a 4xx): the receiver refuses it and
  would refuse it again: dead at once.

Deliveries live in the database, so a restart resumes them; in memory there is only a heap of
(when, delivery id). At most ``webhook_concurrency`` attempts run at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import logging
import random
import ssl
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from csms.config import CsmsConfig
from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.notifications.signing import DELIVERY_HEADER, KIND_HEADER, signed_headers
from csms.notifications.store import Attempt, NotificationStore
from csms.notifications.webhook_targets import WebhookTargets, url_problem

log = logging.getLogger("chargeloop.csms.notifications")

DELIVERED, RETRY, DEAD = "delivered", "retry", "dead"
RETRYABLE_STATUS = frozenset({408, 429})
USER_AGENT = "chargeloop-csms-webhooks/1"


def backoff_s(config: CsmsConfig, failures: int) -> float:
    """The wait before the next attempt after ``failures`` failed attempts (no jitter)."""
    return min(config.webhook_backoff_max_s, config.webhook_backoff_s * 2 ** (failures - 1))


def _retry_after_s(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None



@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once per process: loading the CA bundle
    takes about 0.1 s, which every CSMS start (hundreds in the test suite) would pay again."""
    return httpx.create_ssl_context()


class WebhookDispatcher:
    def __init__(self, store: NotificationStore, targets: WebhookTargets, events: EventBus,
                 config: CsmsConfig, clock: Clock = utcnow) -> None:
        self.store = store
        self.targets = targets
        self.events = events
        self.config = config
        self.clock = clock
        self._due: list[tuple[float, int]] = []  # (loop time, delivery id), a heap
        self._queued: set[int] = set()  # in the heap
        self._in_flight: set[int] = set()
        self._again: set[int] = set()  # fell due again while in flight (redelivered)
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(max(1, config.webhook_concurrency))
        self._client: httpx.AsyncClient | None = None

    async def load(self) -> None:
        """Schedule every pending delivery (those a restart interrupted, too)."""
        now = self.clock()
        for delivery_id, next_at in await self.store.pending():
            delay = 0.0 if next_at is None else max(0.0, (next_at - now).total_seconds())
            self.schedule(delivery_id, delay)

    def schedule(self, delivery_id: int, delay_s: float = 0.0) -> None:
        if delivery_id in self._queued:
            return
        self._queued.add(delivery_id)
        loop = asyncio.get_running_loop()
        heapq.heappush(self._due, (loop.time() + delay_s, delivery_id))
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Deliveries waiting for their next attempt or in flight."""
        return len(self._queued | self._in_flight)

    async def run(self) -> None:
        """Start attempts as they fall due; runs until cancelled (then in-flight attempts are
        cancelled too: their deliveries stay pending and are resumed on the next start)."""
        self._client = httpx.AsyncClient(
            verify=_tls_context(), follow_redirects=False, headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=max(1, self.config.webhook_concurrency)))
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._wake.clear()
                now = loop.time()
                while self._due and self._due[0][0] <= now:
                    _, delivery_id = heapq.heappop(self._due)
                    self._queued.discard(delivery_id)
                    if delivery_id in self._in_flight:
                        self._again.add(delivery_id)  # one attempt at a time per delivery
                        continue
                    self._in_flight.add(delivery_id)
                    task = asyncio.create_task(self._send(delivery_id),
                                               name=f"csms-webhook-{delivery_id}")
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                timeout = self._due[0][0] - now if self._due else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            for task in list(self._running):
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
            await self._client.aclose()
            self._client = None

    async def _send(self, delivery_id: int) -> None:
        retry_in: float | None = None
        try:
            async with self._slots:
                retry_in = await self.attempt(delivery_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The attempt could not be recorded (the database failed): the delivery is still
            # pending in the table; try again later rather than lose it.
            log.exception("webhook delivery %d failed unexpectedly", delivery_id)
            retry_in = self.config.webhook_backoff_max_s
        finally:
            self._in_flight.discard(delivery_id)
        if delivery_id in self._again:
            self._again.discard(delivery_id)
            retry_in = 0.0
        if retry_in is not None:
            self.schedule(delivery_id, retry_in)

    async def attempt(self, delivery_id: int) -> float | None:
        """Make one attempt now; returns the delay before the next one, or None if there is
        none to make (delivered, dead, cancelled)."""
        found = await self.store.for_attempt(delivery_id)
        if found is None:
            return None
        delivery, notification = found
        webhook = self.targets.get(delivery["webhook_id"])
        number = delivery["attempts"] + 1
        body = notification.body()
        status_code: int | None = None
        error: str | None = None
        retry_after: float | None = None
        started = time.perf_counter()
        problem = None if webhook is None else url_problem(
            webhook.url, allow_private=self.config.webhook_allow_private)
        if webhook is None:
            error, retryable = "the webhook was deleted", False
        elif problem is not None:
            error, retryable = f"refused receiver: {problem}", False
        else:
            headers = {"Content-Type": "application/json", DELIVERY_HEADER: str(delivery_id),
                       KIND_HEADER: notification.kind, **signed_headers(webhook.secret, body)}
            try:
                assert self._client is not None, "the dispatcher is not running"
                async with self._client.stream(
                        "POST", webhook.url, content=body, headers=headers,
                        timeout=self.config.webhook_timeout_s) as response:
                    # The answer's body is never read: a receiver cannot make us hold it.
                    status_code = response.status_code
                    retry_after = _retry_after_s(response.headers.get("Retry-After"),
                                                 self.clock())
            except httpx.TimeoutException as exc:
                error = f"timeout after {self.config.webhook_timeout_s:g} s " \
                        f"({type(exc).__name__})"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
            retryable = status_code is None or status_code >= 500 \
                or status_code in RETRYABLE_STATUS
            if status_code is not None and not 200 <= status_code < 300:
                error = f"HTTP {status_code}" + ("" if retryable else " (not retried)")
        latency_ms = (time.perf_counter() - started) * 1000.0
        now = self.clock()
        if status_code is not None and 200 <= status_code < 300:
            outcome, delay = DELIVERED, None
        elif retryable and number < self.config.webhook_max_attempts:
            delay = backoff_s(self.config, number) * (1.0 + random.random() * 0.1)
            if retry_after is not None:
                delay = min(max(delay, retry_after), self.config.webhook_backoff_max_s)
            outcome = RETRY
        else:
            outcome, delay = DEAD, None
        attempt = Attempt(now, number, status_code, latency_ms, error, outcome)
        stored = await self.store.record(
            delivery_id, attempt, None if delay is None else now + timedelta(seconds=delay))
        if stored is None:
            return None  # redelivered or cancelled meanwhile: that round goes on by itself
        if outcome == DEAD:
            log.warning("webhook delivery %d to %s dead-lettered after %d attempts: %s",
                        delivery_id, delivery["url"], number, error)
        self.events.publish("notification.delivery", account_id=delivery["account_id"],
                            delivery_id=delivery_id, notification_id=notification.id,
                            webhook_id=delivery["webhook_id"], notification_kind=notification.kind,
                            attempt=number, outcome=outcome, status_code=status_code,
                            error=error, latency_ms=round(latency_ms, 3))
        return delay
