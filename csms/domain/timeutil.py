"""UTC time for the CSMS: one clock to read (replaceable in tests) and OCPP timestamp parsing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_timestamp(text: str | None, default: datetime | None = None) -> datetime | None:
    """An OCPP timestamp as an aware UTC datetime; a zoneless one is read as UTC."""
    if not text:
        return default
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return default
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ocpp_time(value: datetime) -> str:
    """A datetime as OCPP wants it: UTC, ISO 8601, with a Z."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
