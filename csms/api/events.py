"""Server-sent events: station status changes, connections, transactions and alerts, live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from csms.api.security import Core, Reader
from csms.events import Event, EventBus, Subscription

router = APIRouter(prefix="/api", tags=["events"])

KEEPALIVE_S = 15.0


def sse_frame(event: Event) -> bytes:
    data = orjson.dumps({"kind": event.kind, "at": event.at, **event.data},
                        default=str, option=orjson.OPT_NON_STR_KEYS)
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.id, event.kind.encode(), data)


async def _frames(bus: EventBus, subscription: Subscription,
                  request: Request) -> AsyncIterator[bytes]:
    try:
        yield b": connected\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(subscription.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            yield sse_frame(event)
    finally:
        bus.unsubscribe(subscription)


@router.get("/events", summary="Live events as text/event-stream",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "One SSE frame per event; `event:` is its kind."}})
async def events(request: Request, core: Core, _: Reader,
                 kinds: str | None = Query(None, description="Comma-separated kind prefixes, "
                                           "e.g. `station.,alert.`"),
                 station_id: str | None = Query(None)) -> StreamingResponse:
    wanted = {k.strip() for k in kinds.split(",") if k.strip()} if kinds else None
    subscription = core.events.subscribe(wanted, station_id)
    return StreamingResponse(_frames(core.events, subscription, request),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
