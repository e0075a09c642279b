"""A notification for a driver, and the JSON every channel carries."""

from __future__ import annotations

from dataclasses import dataclass, is_dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

from csms.domain.money import Money
from csms.domain.timeutil import ocpp_time

# Delivery states of a notification (the notifications table's ``state``).
SENT, HELD, COALESCED = "sent", "held", "coalesced"

MAX_KIND = 40
MAX_DEDUP_KEY = 200


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    account_id: str
    kind: str  # e.g. session.started, availability.free, payment.declined
    data: dict[str, Any]
    created_at: datetime

    def payload(self) -> dict[str, Any]:
        """What a webhook receives and the live stream sends, for this notification."""
        return {"id": self.id, "kind": self.kind, "account_id": self.account_id,
                "created_at": ocpp_time(self.created_at), "data": self.data}

    def body(self) -> bytes:
        """The payload as JSON bytes, the same on every attempt (keys sorted)."""
        return orjson.dumps(self.payload(), option=orjson.OPT_SORT_KEYS)


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: money and decimals as exact strings (never floats),
    times in OCPP form, dataclasses and enums by their fields and values."""
    if isinstance(value, Money):
        return {"amount": str(value.rounded().amount), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return ocpp_time(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def matches_kind(kind: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``kind`` is one of ``patterns`` or under one of them (``session`` and
    ``session.`` both cover ``session.started``)."""
    for pattern in patterns:
        stem = pattern.rstrip(".")
        if kind == stem or kind.startswith(stem + "."):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification decided on by a matcher, not yet deduplicated, limited or stored."""

    account_id: str
    kind: str
    data: dict[str, Any]
    dedup_key: str | None = None
