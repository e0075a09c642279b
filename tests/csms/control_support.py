"""Helpers for provisioning and remote-control flow tests: a station that answers the CSMS's
commands with canned answers and keeps what it got."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from sqlalchemy import select

from csms.events import Event, Subscription
from csms.server import RunningCsms
from csms.storage import tables as t

Answer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


class Answers:
    """``routes`` for :func:`tests.csms.support.connected_station`: each action answered with
    a fixed payload or a function of the request; ``got[action]`` lists the requests."""

    def __init__(self, **answers: Answer) -> None:
        self.answers = answers
        self.got: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def set(self, action: str, answer: Answer) -> None:
        self.answers[action] = answer

    @property
    def routes(self) -> dict[str, Any]:
        return {action: self._handler(action) for action in self.answers}

    def _handler(self, action: str) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
        async def handle(payload: dict[str, Any]) -> dict[str, Any]:
            self.got[action].append(payload)
            answer = self.answers[action]
            if callable(answer):
                answer = answer(payload)
                if inspect.isawaitable(answer):
                    answer = await answer
            return answer

        return handle

    def last(self, action: str) -> dict[str, Any]:
        assert self.got[action], f"the station got no {action}"
        return self.got[action][-1]


async def audit_rows(csms: RunningCsms, station_id: str, action: str) -> list[dict[str, Any]]:
    """The audit log's entries for ``action`` sent to ``station_id``, oldest first."""
    c = t.audit_log.c

    async def read(conn: Any) -> list[dict[str, Any]]:
        rows = await conn.execute(select(t.audit_log).where(
            c.station_id == station_id, c.action == action).order_by(c.id))
        return [dict(r) for r in rows.mappings()]

    return await csms.core.db.read(read)


class Events:
    """Events of the CSMS's bus from the moment of subscribing; ``next`` awaits (bounded) the
    next one of a kind whose data has the given items."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription

    async def next(self, kind: str, timeout: float = 5.0, **match: Any) -> Event:
        async with asyncio.timeout(timeout):
            while True:
                event = await self.subscription.queue.get()
                if event.kind == kind and all(event.data.get(k) == v for k, v in match.items()):
                    return event


@contextlib.contextmanager
def watch_events(csms: RunningCsms, *kinds: str) -> Iterator[Events]:
    bus = csms.core.events
    subscription = bus.subscribe(set(kinds) or None)
    try:
        yield Events(subscription)
    finally:
        bus.unsubscribe(subscription)
