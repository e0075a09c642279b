"""The live stream (server-sent events at /api/me/events) over a real HTTP connection, on
SQLite and PostgreSQL: a driver gets their own notifications and nobody else's, and resumes
after a reconnect with Last-Event-ID."""

from __future__ import annotations

import httpx
import orjson

from csms.server import RunningCsms
from tests.csms.notification_support import SseReader, driver_client


async def test_live_stream_delivers_my_notifications_and_not_another_accounts(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    service = csms.core.notifications
    alice = await driver_client(csms, api, "acct-alice")
    bob = await driver_client(csms, api, "acct-bob")
    async with alice, bob:
        async with alice.stream("GET", "/api/me/events") as response, \
                bob.stream("GET", "/api/me/events") as bobs:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream, bob_stream = SseReader(response), SseReader(bobs)
            assert await stream.comment() == "connected"
            assert await bob_stream.comment() == "connected"
            # Bob's comes first: had it leaked, it would be the first frame Alice reads.
            for_bob = await service.notify("acct-bob", "ticket.updated", {"ticket_id": 3})
            first = await service.notify("acct-alice", "booking.reminder",
                                         {"booking_id": 9, "station_id": "CS-9"},
                                         dedup_key="booking.reminder:9")
            assert first is not None and for_bob is not None
            frame = await stream.frame()
            assert frame["id"] == str(first.id) and frame["event"] == "booking.reminder"
            data = orjson.loads(frame["data"])
            assert data["account_id"] == "acct-alice" and data["data"]["booking_id"] == 9
            bobs_frame = await bob_stream.frame()
            assert bobs_frame["id"] == str(for_bob.id)

        # Missed while disconnected: replayed from the outbox after Last-Event-ID, in order.
        missed = [await service.notify("acct-alice", "session.progress", {"energy_wh": wh})
                  for wh in (100, 200)]
        await service.notify("acct-bob", "session.progress", {"energy_wh": 1})
        async with alice.stream("GET", "/api/me/events",
                                headers={"Last-Event-ID": str(first.id)}) as response:
            stream = SseReader(response)
            frames = [await stream.frame(), await stream.frame()]
            assert [int(f["id"]) for f in frames] == [n.id for n in missed if n is not None]
            live = await service.notify("acct-alice", "session.completed", {"energy_wh": 300})
            assert live is not None and (await stream.frame())["id"] == str(live.id)

        bad = await alice.get("/api/me/events", headers={"Last-Event-ID": "yesterday"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["header", "last-event-id"]
    # The driver stream is for drivers; operators watch /api/events.
    assert (await api.get("/api/me/events")).status_code == 403
