"""Keeping drivers from being spammed: deduplication and rate limits.

* **Deduplication**: a notification may carry a dedup key (``booking.reminder:42``); the same key
  for the same account within the window is dropped. Keys are reserved before the notification
  is stored, so two concurrent notifications with one key cannot both pass.
* **Rate limits**: a token bucket per account and kind: a burst of ``capacity``, then one token
  per ``refill_s``. What finds the bucket empty is held back (see the service: the latest held
  one replaces the one before, so at most one waits per account and kind).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

Key = tuple[str, str]  # (account id, dedup key or kind)


class Deduplicator:
    def __init__(self, window_s: float) -> None:
        self.window = timedelta(seconds=window_s)
        # Insertion order is time order (keys are remembered as they arrive), so expiry pops
        # from the front; a key seen again moves to the back.
        self._seen: OrderedDict[Key, datetime] = OrderedDict()

    def check_and_reserve(self, account_id: str, key: str, now: datetime) -> bool:
        """True (and the key reserved) if ``key`` was not seen within the window."""
        seen = self._seen.get((account_id, key))
        if seen is not None and now - seen < self.window:
            return False
        self._seen[(account_id, key)] = now
        self._seen.move_to_end((account_id, key))
        return True

    def release(self, account_id: str, key: str) -> None:
        """Forget a reservation whose notification could not be stored."""
        self._seen.pop((account_id, key), None)

    def remember(self, account_id: str, key: str, at: datetime) -> None:
        """A key seen at ``at`` (loading what was stored before a restart)."""
        if (account_id, key) not in self._seen or self._seen[(account_id, key)] < at:
            self._seen[(account_id, key)] = at
            self._seen.move_to_end((account_id, key))

    def expire(self, now: datetime) -> None:
        while self._seen:
            _, seen = next(iter(self._seen.items()))
            if now - seen < self.window:
                break
            self._seen.popitem(last=False)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: datetime


class RateLimiter:
    """Token buckets by (account, kind)."""

    def __init__(self, capacity: int, refill_s: float) -> None:
        self.capacity = max(1, capacity)
        self.refill_s = max(refill_s, 1e-6)
        self._buckets: dict[Key, _Bucket] = {}

    def _bucket(self, key: Key, now: datetime) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
        elif now > bucket.at:
            gained = (now - bucket.at).total_seconds() / self.refill_s
            bucket.tokens = min(float(self.capacity), bucket.tokens + gained)
            bucket.at = now
        return bucket

    def take(self, account_id: str, kind: str, now: datetime) -> bool:
        """Spend a token if there is one."""
        bucket = self._bucket((account_id, kind), now)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def empty_since(self, account_id: str, kind: str, at: datetime) -> None:
        """The bucket was empty at ``at`` (a notification was held then): buckets live in memory
        only, and after a restart a full one would release every held notification at once."""
        self._buckets[(account_id, kind)] = _Bucket(0.0, at)

    def forget_full(self, now: datetime) -> None:
        """Drop buckets that have refilled: a full bucket is the same as none (bounded memory)."""
        for key in [k for k, b in self._buckets.items()
                    if b.tokens + (now - b.at).total_seconds() / self.refill_s >= self.capacity]:
            del self._buckets[key]
