"""The station's outgoing messages, in order, with OCPP's offline rules.

Every CALL a station makes after its boot goes through one :class:`Outbox` per station, in the
order the station decided to send them, one at a time (OCPP-J allows one outstanding CALL).
What happens to a message while the station is offline depends on its :class:`Kind`:
transaction messages and clock-aligned meter values are held (up to a bound) and replayed on
reconnect with their original timestamps; everything else is dropped, and a sender waiting for
an answer (Authorize) learns at once that there is none.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import simpy


class Kind(Enum):
    TRANSACTION = "transaction"  # held offline, retried on errors, replayed in order
    ALIGNED = "aligned"  # clock-aligned meter values: held offline, not retried
    LIVE = "live"  # status, heartbeat, notifications: dropped offline
    REQUEST = "request"  # the sender waits for the answer (Authorize): fails at once offline

    @property
    def held_offline(self) -> bool:
        return self in (Kind.TRANSACTION, Kind.ALIGNED)


class Undeliverable(Exception):
    """The message could not be delivered (offline, or an error after the last attempt)."""


@dataclass(slots=True, eq=False)
class OutMessage:
    action: str
    payload: dict[str, Any]
    kind: Kind = Kind.LIVE
    # never dropped from a full offline queue (transaction starts and ends)
    essential: bool = False
    # final touches at send time (ids known only then); returning None drops the message
    prepare: Callable[[OutMessage], dict[str, Any] | None] | None = None
    on_answer: Callable[[dict[str, Any]], None] | None = None
    on_failure: Callable[[Exception], None] | None = None  # given up on (dropped, errors)
    result: simpy.Event | None = None  # succeeds with the answer, or fails with the error
    queued: bool = False  # held while offline: its delivery is a replay
    attempts: int = 0


class Outbox:
    """The queue itself; the station's drain process sends from its head."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[OutMessage] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def head(self) -> OutMessage:
        return self._items[0]

    def pop(self) -> OutMessage:
        return self._items.popleft()

    def push(self, message: OutMessage) -> OutMessage | None:
        """Append ``message``; when the queue is full, the oldest message that is not essential
        is dropped and returned (or ``message`` itself if everything queued is essential)."""
        self._items.append(message)
        if len(self._items) <= self.limit:
            return None
        for index, queued in enumerate(self._items):
            if not queued.essential:
                del self._items[index]
                return queued
        return None  # only starts and stops: keep them all, bound or not

    def pending(self, predicate: Callable[[OutMessage], bool] | None = None) -> bool:
        """Whether any queued message (matching ``predicate``) waits to be delivered."""
        if predicate is None:
            return bool(self._items)
        return any(predicate(m) for m in self._items)

    def drop_live(self) -> list[OutMessage]:
        """Remove and return what must not outlive the connection (everything not held)."""
        dropped = [m for m in self._items if not m.kind.held_offline]
        if dropped:
            kept = [m for m in self._items if m.kind.held_offline]
            self._items = deque(kept)
        for message in self._items:
            message.queued = True
        return dropped
