"""Nobody is spammed, on SQLite and PostgreSQL: the same dedup key within the window is dropped,
each account and kind has a token bucket (what exceeds waits as one held notification,
coalescing any before it), muted kinds are dropped, and all of it holds across a restart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.csms.harness import custom_csms
from tests.csms.notification_support import driver_client

LIMITS = {"notification_burst": 2, "notification_refill_s": 600.0}


async def states(driver: httpx.AsyncClient, kind: str) -> list[tuple[str, int]]:
    page = (await driver.get("/api/me/notifications", params={"kind": kind})).json()
    return [(n["state"], n["data"]["n"]) for n in page["items"]]


async def test_dedup_rate_limit_and_mute(database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path, **LIMITS) as (csms, api):
        service = csms.core.notifications
        driver = await driver_client(csms, api, "acct-busy")
        async with driver:
            first = await service.notify("acct-busy", "booking.reminder", {"n": 1},
                                         dedup_key="booking.reminder:41")
            assert first is not None
            assert await service.notify("acct-busy", "booking.reminder", {"n": 2},
                                        dedup_key="booking.reminder:41") is None
            # Another account's key is its own.
            assert await service.notify("acct-other", "booking.reminder", {"n": 1},
                                        dedup_key="booking.reminder:41") is not None

            # A burst of two, then the latest waits; a later one replaces it (coalesced).
            for n in range(1, 5):
                assert await service.notify("acct-busy", "session.progress", {"n": n})
            assert await states(driver, "session.progress") == [
                ("held", 4), ("coalesced", 3), ("sent", 2), ("sent", 1)]
            # Other kinds have buckets of their own.
            assert await service.notify("acct-busy", "session.completed", {"n": 1})
            assert await states(driver, "session.completed") == [("sent", 1)]

            muted = await driver.put("/api/me/notification-settings",
                                     json={"muted_kinds": ["ticket"]})
            assert muted.status_code == 200, muted.text
            assert await service.notify("acct-busy", "ticket.updated", {"n": 1}) is None
            bad = await driver.put("/api/me/notification-settings",
                                   json={"session_update_interval_s": 5})
            assert bad.status_code == 422
            assert bad.json()["detail"][0]["loc"] == ["body", "session_update_interval_s"]
            stats = (await api.get("/api/notifications/stats")).json()["counters"]
            assert stats["duplicate"] == 1 and stats["coalesced"] == 1 and stats["muted"] == 1

    # After a restart: the dedup window, the held notification and the mute still stand.
    async with custom_csms(database_url, tmp_path, **LIMITS) as (csms, api):
        service = csms.core.notifications
        driver = await driver_client(csms, api, "acct-busy")
        async with driver:
            assert await service.notify("acct-busy", "booking.reminder", {"n": 3},
                                        dedup_key="booking.reminder:41") is None
            assert await service.notify("acct-busy", "ticket.opened", {"n": 1}) is None
            await service.tick()  # the bucket is still empty after the restart: nothing goes out
            assert await states(driver, "session.progress") == [
                ("held", 4), ("coalesced", 3), ("sent", 2), ("sent", 1)]
            # The bucket refills: the held one goes out (and nothing waits without bound).
            await service.tick(service.clock() + timedelta(seconds=600))
            assert await states(driver, "session.progress") == [
                ("sent", 4), ("coalesced", 3), ("sent", 2), ("sent", 1)]
            assert service.stats()["held_now"] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_notify_refuses_what_it_cannot_store(database_url: str, tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path) as (csms, _):
        service = csms.core.notifications
        with pytest.raises(ValueError, match="account id"):
            await service.notify("", "session.started", {})
        with pytest.raises(ValueError, match="kind"):
            await service.notify("acct-x", "k" * 41, {})
        # A dedup key longer than its column is kept distinct by a digest, not cut short.
        long_key = "availability:" + "s" * 300
        assert await service.notify("acct-x", "availability.free", {}, long_key + "a")
        assert await service.notify("acct-x", "availability.free", {}, long_key + "b")
        assert await service.notify("acct-x", "availability.free", {}, long_key + "a") is None
