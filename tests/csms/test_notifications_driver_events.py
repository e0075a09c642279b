"""What the other driver services publish becomes the driver's notification, on SQLite and
PostgreSQL: payments, receipts, bookings and tickets with an account (the contract in
docs/driver-services.md), each fact once; nothing for events without a driver; old
notifications are purged after the retention period."""

from __future__ import annotations

from datetime import timedelta

import httpx

from csms.server import RunningCsms
from tests.csms.notification_support import driver_client, kinds_of


async def test_payment_booking_and_ticket_events_reach_their_driver(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    core = csms.core
    events, service = core.events, core.notifications
    driver = await driver_client(csms, api, "acct-ev")
    async with driver:
        events.publish("payment.declined", account_id="acct-ev", payment_id="pay_9",
                       amount="30.00", currency="EUR", reason="insufficient funds",
                       station_id="CS-1", transaction_id="T-1")
        events.publish("payment.declined", account_id="acct-ev", payment_id="pay_9",
                       amount="30.00", currency="EUR", reason="insufficient funds",
                       station_id="CS-1", transaction_id="T-1")  # told again: once
        for kind in ("booking.reminder", "booking.expired"):
            events.publish(kind, account_id="acct-ev", booking_id=12, station_id="CS-1",
                           evse_id=1, starts_at="2030-01-01T10:00:00Z",
                           ends_at="2030-01-01T11:00:00Z")
        events.publish("ticket.updated", account_id="acct-ev", ticket_id=3, status="open",
                       internal=True)  # an agent's internal note: not for the driver
        events.publish("ticket.updated", account_id="acct-ev", ticket_id=3, status="open",
                       change="message", by="driver")  # their own message: they know
        events.publish("ticket.updated", account_id="acct-ev", ticket_id=3,
                       status="waiting_for_driver", change="message", by="agent")
        events.publish("payment.captured", payment_id="pay_op", amount="1.00",
                       currency="EUR")  # no driver concerned
        await service.settle()
        told = await kinds_of(driver)
        assert [n["kind"] for n in told] == ["payment.declined", "booking.reminder",
                                             "booking.expired", "ticket.updated"]
        declined = told[0]["data"]
        assert declined["reason"] == "insufficient funds" and declined["amount"] == "30.00"
        assert "account_id" not in declined
        assert told[1]["data"]["booking_id"] == 12
        assert told[0]["dedup_key"] == "payment.declined:pay_9"

        # Support sees the account's notifications too; a driver sees only their own.
        seen = (await api.get("/api/notifications", params={"account_id": "acct-ev"})).json()
        assert seen["total"] == 4
        assert (await driver.get("/api/notifications",
                                 params={"account_id": "acct-ev"})).status_code == 403
        assert (await driver.get(f"/api/me/notifications/{told[0]['id']}")).status_code == 200
        other = await driver_client(csms, api, "acct-other")
        async with other:
            assert (await other.get(f"/api/me/notifications/{told[0]['id']}")).status_code \
                == 404

        # After the retention period they are purged.
        assert await service.purge(core.clock() + timedelta(days=91)) == 4
        assert await kinds_of(driver) == []
