"""Test helpers for the CSMS's detection and API tests: waiting for events without sleeping
(subscribe before acting, then await the event you expect, bounded) and a CSMS with custom
settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

from csms.events import Event
from csms.server import RunningCsms, running_csms
from tests.csms.conftest import make_config

TIMEOUT_S = 5.0


class EventWatch:
    def __init__(self, csms: RunningCsms, kinds: set[str] | None) -> None:
        self.bus = csms.core.events
        self.subscription = self.bus.subscribe(kinds)
        self.seen: list[Event] = []

    async def next(self, kind: str, timeout: float = TIMEOUT_S, **match: Any) -> Event:
        """The next event of ``kind`` whose data has the ``match`` items (``alert_kind`` and
        ``alert_key`` look into an alert event's alert)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.subscription.queue.get()
                self.seen.append(event)
                if event.kind == kind and _matches(event, match):
                    return event

    def pending(self, kind: str, **match: Any) -> list[Event]:
        """Events of ``kind`` already queued (nothing is awaited)."""
        found = []
        while not self.subscription.queue.empty():
            event = self.subscription.queue.get_nowait()
            self.seen.append(event)
            if event.kind == kind and _matches(event, match):
                found.append(event)
        return found


def _matches(event: Event, match: dict[str, Any]) -> bool:
    for name, expected in match.items():
        if name == "alert_kind":
            actual = event.data.get("alert", {}).get("kind")
        elif name == "alert_key":
            actual = event.data.get("alert", {}).get("key")
        else:
            actual = event.data.get(name)
        if actual != expected:
            return False
    return True


@contextlib.contextmanager
def watch_events(csms: RunningCsms, *kinds: str) -> Iterator[EventWatch]:
    watch = EventWatch(csms, set(kinds) or None)
    try:
        yield watch
    finally:
        watch.bus.unsubscribe(watch.subscription)


@contextlib.asynccontextmanager
async def custom_csms(database_url: str, tmp_path: Path,
                      **overrides: Any) -> AsyncIterator[tuple[RunningCsms, httpx.AsyncClient]]:
    """A CSMS with its own settings and an admin API client; its watchdog stays out of the way
    (tests call ``core.alerts.scan``) unless ``watchdog_interval_s`` says otherwise."""
    overrides.setdefault("watchdog_interval_s", 3600.0)
    async with running_csms(make_config(database_url, tmp_path, **overrides)) as running:
        token = running.admin_token or (tmp_path / "admin.token").read_text().strip()
        async with httpx.AsyncClient(base_url=running.api_url, timeout=10.0,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            yield running, client
