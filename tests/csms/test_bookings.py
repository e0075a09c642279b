"""Bookings over real websockets: a driver books an EVSE for a window, the CSMS reserves it on
the station (ReserveNow) at the lead time, reminds the driver, notices the driver's transaction,
cancels (CancelReservation), expires unused bookings and fails those the station refuses.

The scheduler is driven with ``core.bookings.scan(moment)``: windows lie half an hour ahead of
the real clock, so the background loop stays idle while the test looks at the moments it wants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppSession, OcppVersion
from csms.domain.timeutil import ocpp_time
from csms.payments.provider import CardDetails
from csms.server import RunningCsms
from tests.csms.harness import EventWatch, custom_csms, watch_events
from tests.csms.support import boot, connected_station, stamp
from tests.csms.test_station_search import driver_client, place

LEAD = timedelta(minutes=15)  # CsmsConfig.booking_lead_time_s default
REMINDER = timedelta(minutes=10)  # CsmsConfig.booking_reminder_s default


class ReservingStation:
    """Answers ReserveNow with the given statuses in turn (then Accepted); records frames."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def routes(self) -> dict[str, Any]:
        return {"ReserveNow": self.reserve_now, "CancelReservation": self.cancel_reservation}

    async def reserve_now(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("ReserveNow", p))
        return {"status": self.answers.pop(0) if self.answers else "Accepted"}

    async def cancel_reservation(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("CancelReservation", p))
        return {"status": "Accepted"}

    def sent(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.frames if a == action]


def window(start_in: timedelta = timedelta(minutes=30),
           length: timedelta = timedelta(hours=1)) -> tuple[datetime, datetime]:
    start = datetime.now(UTC).replace(microsecond=0) + start_in
    return start, start + length


def body(station_id: str, start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    return {"station_id": station_id, "starts_at": start.isoformat(),
            "ends_at": end.isoformat(), **extra}


@asynccontextmanager
async def bookable(csms: RunningCsms, api: httpx.AsyncClient, station_id: str,
                   version: OcppVersion, station: ReservingStation, account: str = "acct-a",
                   token: str = "TAG-A") -> AsyncIterator[tuple[OcppSession, httpx.AsyncClient,
                                                                EventWatch]]:
    """A located station (EVSE 1 Type 2, EVSE 2 CCS) played over a websocket, a driver with a
    token linked to ``account``, and a watch on booking events."""
    await place(api, station_id, 52.5, [(1, "cType2", 22_000), (2, "cCCS2", 150_000)])
    await csms.core.auth.upsert(token, account_id=account)
    async with (connected_station(csms, station_id, version, routes=station.routes()) as cs,
                await driver_client(csms, api, account) as driver):
        await boot(cs)
        with watch_events(csms, "booking.") as watch:
            yield cs, driver, watch


async def book(driver: httpx.AsyncClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = await driver.post("/api/me/bookings", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_booking_is_reserved_at_the_lead_time_and_used_by_the_drivers_token(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    station = ReservingStation()
    core = csms.core
    async with bookable(csms, api, "CS-BOOK", version, station) as (cs, driver, watch):
        start, end = window()
        extra = {"evse_id": 1} if version is OcppVersion.V16 else {"connector_type": "cCCS2"}
        booking = await book(driver, body("CS-BOOK", start, end, **extra))
        evse = 1 if version is OcppVersion.V16 else 2  # 2.0.1: the EVSE with a CCS connector
        assert (booking["status"], booking["evse_id"], booking["id_token"]) == (
            "pending", evse, "TAG-A")
        created = await watch.next("booking.created", booking_id=booking["id"])
        assert created.data["account_id"] == "acct-a"
        assert created.data["starts_at"] == ocpp_time(start)

        await core.bookings.scan(start - LEAD - timedelta(seconds=1))
        assert station.sent("ReserveNow") == []  # not yet
        await core.bookings.scan(start - LEAD + timedelta(seconds=1))
        reserved = await watch.next("booking.reserved", booking_id=booking["id"])
        rid = reserved.data["reservation_id"]
        [sent] = station.sent("ReserveNow")
        if version is OcppVersion.V16:
            assert sent == {"connectorId": 1, "expiryDate": ocpp_time(end), "idTag": "TAG-A",
                            "reservationId": rid}
        else:
            assert sent == {"id": rid, "expiryDateTime": ocpp_time(end), "evseId": 2,
                            "connectorType": "cCCS2",
                            "idToken": {"idToken": "TAG-A", "type": "ISO14443"}}
        assert (await driver.get(f"/api/me/bookings/{booking['id']}")).json()["status"] == \
            "reserved"
        # Held for the driver: not free to others, whatever the connector's status says.
        assert evse in core.station_search.held_evses("CS-BOOK")

        # A second overlapping booking of the EVSE is refused; one right after it is fine.
        await core.auth.upsert("TAG-B", account_id="acct-b")
        async with await driver_client(csms, api, "acct-b") as other:
            clash = await other.post("/api/me/bookings", json=body(
                "CS-BOOK", start + timedelta(minutes=59), end + timedelta(hours=1),
                evse_id=evse))
            assert clash.status_code == 409 and f"EVSE {evse} of CS-BOOK is booked" in \
                clash.json()["detail"]
            after = await book(other, body("CS-BOOK", end, end + timedelta(hours=1),
                                           evse_id=evse))
            assert (await other.delete(f"/api/me/bookings/{after['id']}")).status_code == 200

        await core.bookings.scan(start - REMINDER + timedelta(seconds=1))
        reminder = await watch.next("booking.reminder", booking_id=booking["id"])
        assert reminder.data["account_id"] == "acct-a"

        if version is OcppVersion.V16:  # the station names the reservation it honours
            started = await cs.call("StartTransaction", {
                "connectorId": 1, "idTag": "TAG-A", "meterStart": 0, "timestamp": stamp(),
                "reservationId": rid})
            tx = str(started["transactionId"])
        else:  # or the driver's token simply starts on the booked EVSE
            tx = "TX-BOOKED"
            await cs.call("TransactionEvent", {
                "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
                "seqNo": 0, "transactionInfo": {"transactionId": tx},
                "idToken": {"idToken": "TAG-A", "type": "ISO14443"},
                "evse": {"id": 2, "connectorId": 1}})
        used = await watch.next("booking.used", booking_id=booking["id"])
        assert used.data["transaction_id"] == tx
        view = (await driver.get(f"/api/me/bookings/{booking['id']}")).json()
        assert (view["status"], view["active"], view["transaction_id"]) == ("used", False, tx)
        # Its window passing later changes nothing and charges nothing.
        await core.bookings.scan(end + timedelta(seconds=1))
        assert (await driver.get(f"/api/me/bookings/{booking['id']}")).json()["status"] == "used"
        assert station.sent("CancelReservation") == []


async def test_cancellation_sends_cancel_reservation(csms: RunningCsms,
                                                     api: httpx.AsyncClient) -> None:
    station = ReservingStation()
    async with bookable(csms, api, "CS-CANCEL", OcppVersion.V201, station) as (_, driver, watch):
        start, end = window()
        booking = await book(driver, body("CS-CANCEL", start, end, evse_id=1))
        await csms.core.bookings.scan(start - LEAD)
        rid = (await watch.next("booking.reserved", booking_id=booking["id"])).data[
            "reservation_id"]
        async with await driver_client(csms, api, "acct-stranger") as stranger:
            assert (await stranger.delete(f"/api/me/bookings/{booking['id']}")).status_code \
                == 404  # someone else's booking does not exist for them
        cancelled = await driver.delete(f"/api/me/bookings/{booking['id']}")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["cancelled_by"] == "driver acct-a"
        assert station.sent("CancelReservation") == [{"reservationId": rid}]
        event = await watch.next("booking.cancelled", booking_id=booking["id"])
        assert event.data["account_id"] == "acct-a"
        reservation = (await api.get(f"/api/reservations/{rid}")).json()
        assert reservation["status"] == "Cancelled"
        assert 1 not in csms.core.station_search.held_evses("CS-CANCEL")
        again = await driver.delete(f"/api/me/bookings/{booking['id']}")
        assert again.status_code == 409 and "is cancelled" in again.json()["detail"]
        # A pending booking is cancelled without a word to the station.
        later = await book(driver, body("CS-CANCEL", start + timedelta(hours=2),
                                        end + timedelta(hours=2)))
        assert (await api.delete(f"/api/bookings/{later['id']}")).json()["status"] == \
            "cancelled"
        assert len(station.sent("CancelReservation")) == 1
        # Booked within the lead time: the running scheduler reserves it straight away.
        soon = await book(driver, body("CS-CANCEL", *window(timedelta(minutes=5))))
        soon_rid = (await watch.next("booking.reserved", booking_id=soon["id"])).data[
            "reservation_id"]
        by_operator = (await api.delete(f"/api/bookings/{soon['id']}")).json()
        assert by_operator["cancelled_by"] == "admin admin"
        assert station.sent("CancelReservation")[-1] == {"reservationId": soon_rid}


async def test_expiry_without_use_frees_the_evse(csms: RunningCsms,
                                                 api: httpx.AsyncClient) -> None:
    station = ReservingStation()
    async with bookable(csms, api, "CS-EXPIRE", OcppVersion.V16, station) as (cs, driver, watch):
        await cs.call("StatusNotification", {"connectorId": 1, "status": "Available",
                                             "errorCode": "NoError", "timestamp": stamp()})
        start, end = window()
        booking = await book(driver, body("CS-EXPIRE", start, end, evse_id=1))
        search = {"latitude": 52.5, "longitude": 13.4, "radius_km": 1, "free_now": True}
        await csms.core.bookings.scan(start - LEAD)
        rid = (await watch.next("booking.reserved", booking_id=booking["id"])).data[
            "reservation_id"]
        assert (await driver.get("/api/station-search", params=search)).json() == []
        await csms.core.bookings.scan(end)
        expired = await watch.next("booking.expired", booking_id=booking["id"])
        assert expired.data["account_id"] == "acct-a" and "fee" not in expired.data
        # The station still held the reservation (its own expiry is the same moment, but our
        # clock said so first): the CSMS frees it.
        assert station.sent("CancelReservation") == [{"reservationId": rid}]
        view = (await driver.get(f"/api/me/bookings/{booking['id']}")).json()
        assert (view["status"], view["no_show_fee"], view["active"]) == ("expired", None, False)
        free = (await driver.get("/api/station-search", params=search)).json()
        assert [(s["station_id"], [c["evse_id"] for c in s["connectors"]]) for s in free] == [
            ("CS-EXPIRE", [1])]
        listed = (await api.get("/api/bookings", params={"station_id": "CS-EXPIRE"})).json()
        assert [(b["id"], b["status"]) for b in listed] == [(booking["id"], "expired")]


async def test_a_station_that_refuses_fails_the_booking_one_offline_is_retried(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    core = csms.core
    await place(api, "CS-REFUSE", 52.5, [(1, "cType2", 22_000)])
    await core.auth.upsert("TAG-R", account_id="acct-r")
    start, end = window()
    async with await driver_client(csms, api, "acct-r") as driver:
        booking = await book(driver, body("CS-REFUSE", start, end))
        with watch_events(csms, "booking.") as watch:
            # Not connected at the lead time: tried again later, still pending.
            await core.bookings.scan(start - LEAD)
            pending = (await driver.get(f"/api/me/bookings/{booking['id']}")).json()
            assert pending["status"] == "pending" and "not connected" in pending["detail"]
            station = ReservingStation("Occupied")
            async with connected_station(csms, "CS-REFUSE", OcppVersion.V201,
                                         routes=station.routes()) as cs:
                await boot(cs)
                await core.bookings.scan(start - LEAD + timedelta(seconds=10))
                assert station.sent("ReserveNow") == []  # too soon to try again
                await core.bookings.scan(start - LEAD + timedelta(seconds=30))
                failed = await watch.next("booking.failed", booking_id=booking["id"])
            assert len(station.sent("ReserveNow")) == 1
            assert failed.data["detail"] == "the station answered ReserveNow Occupied"
            assert failed.data["account_id"] == "acct-r"
            view = (await driver.get(f"/api/me/bookings/{booking['id']}")).json()
            assert (view["status"], view["active"]) == ("failed", False)
            # Failed bookings do not hold the window: it can be booked again.
            again = await book(driver, body("CS-REFUSE", start, end))
            # A station unreachable until the window ends fails the booking without a fee.
            await core.bookings.scan(start - LEAD + timedelta(seconds=60))
            await core.bookings.scan(end)
            never = await watch.next("booking.failed", booking_id=again["id"])
            assert never.data["detail"].startswith("never reserved: station CS-REFUSE is not "
                                                   "connected")


async def test_booking_input_is_checked(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    core = csms.core
    await place(api, "CS-IN", 52.5, [(1, "cType2", 22_000)])
    await core.auth.upsert("TAG-IN", account_id="acct-in")
    start, end = window()
    async with (await driver_client(csms, api, "acct-in") as driver,
                await driver_client(csms, api, "acct-none") as tokenless):

        async def refused(payload: dict[str, Any], code: int, client: httpx.AsyncClient = driver
                          ) -> Any:
            response = await client.post("/api/me/bookings", json=payload)
            assert response.status_code == code, response.text
            return response.json()["detail"]

        now = datetime.now(UTC)

        def field_of(detail: Any) -> tuple[str, str]:
            return detail[0]["loc"][-1], detail[0]["msg"]

        assert field_of(await refused(body("CS-IN", now - timedelta(hours=1), now), 422)) == (
            "starts_at", "is in the past")
        assert field_of(await refused(body("CS-IN", end, start), 422)) == (
            "ends_at", "must be after starts_at")
        assert field_of(await refused(body("CS-IN", start, start + timedelta(hours=3)),
                                      422)) == ("ends_at", "a booking lasts at most 120 minutes")
        assert field_of(await refused(body("CS-IN", start + timedelta(days=40),
                                           end + timedelta(days=40)), 422))[0] == "starts_at"
        naive = {"station_id": "CS-IN", "starts_at": "2030-01-01T10:00:00",
                 "ends_at": "2030-01-01T11:00:00"}
        assert {e["loc"][-1] for e in await refused(naive, 422)} == {"starts_at", "ends_at"}
        assert field_of(await refused(body("CS-IN", start, end, id_token="TAG-NOT-MINE"),
                                      422))[0] == "id_token"
        assert field_of(await refused(body("CS-IN", start, end, evse_id=1,
                                           connector_type="cCCS2"), 422))[0] == "connector_type"
        assert "unknown station" in await refused(body("CS-NOPE", start, end), 404)
        assert "has no EVSE 7" in await refused(body("CS-IN", start, end, evse_id=7), 404)
        assert "has no cCCS2 connector" in await refused(
            body("CS-IN", start, end, connector_type="cCCS2"), 404)
        assert "no accepted id token" in await refused(body("CS-IN", start, end), 409,
                                                       tokenless)
        # An operator's reservation on the EVSE blocks windows before its expiry.
        station = ReservingStation()
        async with connected_station(csms, "CS-IN", OcppVersion.V16,
                                     routes=station.routes()) as cs:
            await boot(cs)
            held = await api.post("/api/reservations", json={
                "station_id": "CS-IN", "evse_id": 1, "id_token": "WALK-IN",
                "expires_in_s": 3600})
            assert held.json()["reservation"]["status"] == "Accepted"
            assert "is reserved (reservation" in await refused(body("CS-IN", start, end), 409)
            booking = await book(driver, body("CS-IN", end + timedelta(minutes=30),
                                              end + timedelta(minutes=90)))
        # One booking at a time per account, at any station.
        await place(api, "CS-IN2", 52.6, [(1, "cType2", 22_000)])
        assert "already has booking" in await refused(
            body("CS-IN2", end + timedelta(minutes=60), end + timedelta(minutes=100)), 409)
        # Roles: /api/me is the driver's; the operator view is not.
        assert (await api.post("/api/me/bookings", json=body("CS-IN", start, end))
                ).status_code == 403
        assert (await driver.get("/api/bookings")).status_code == 403
        mine = (await driver.get("/api/me/bookings")).json()
        assert [b["id"] for b in mine] == [booking["id"]]
        assert (await driver.get("/api/me/bookings/999999")).status_code == 404
        assert (await api.get(f"/api/bookings/{booking['id']}")).json()["account_id"] == \
            "acct-in"


async def test_a_reserved_booking_survives_a_restart(database_url: str, tmp_path: Path) -> None:
    """Open bookings and their reservations are read back at start: the driver's transaction
    after a restart still marks the booking used."""
    station = ReservingStation()
    start, end = window()
    async with custom_csms(database_url, tmp_path) as (csms, api):  # noqa: SIM117 (uses csms)
        async with bookable(csms, api, "CS-RESTART", OcppVersion.V16, station) as (_, driver,
                                                                                  watch):
            booking = await book(driver, body("CS-RESTART", start, end, evse_id=1))
            await csms.core.bookings.scan(start - LEAD)
            rid = (await watch.next("booking.reserved", booking_id=booking["id"])).data[
                "reservation_id"]
    async with (custom_csms(database_url, tmp_path) as (csms, api),
                connected_station(csms, "CS-RESTART", OcppVersion.V16,
                                  routes=station.routes()) as cs):
        await boot(cs)
        with watch_events(csms, "booking.") as watch:
            await cs.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-A",
                                               "meterStart": 0, "timestamp": stamp(),
                                               "reservationId": rid})
            await watch.next("booking.used", booking_id=booking["id"])
        view = (await api.get(f"/api/bookings/{booking['id']}")).json()
        assert (view["status"], view["reservation_id"]) == ("used", rid)


async def test_a_no_show_is_charged_the_tariffs_fee_once(csms: RunningCsms,
                                                         api: httpx.AsyncClient) -> None:
    core = csms.core
    await core.accounts.create(name="Fee Payer", email="fee@example.com", account_id="acct-fee")
    await core.accounts.add_card("acct-fee", CardDetails("4242424242424242", 12, 2031))
    await core.accounts.link_token("acct-fee", "TAG-FEE")
    tariff = await api.post("/api/tariffs", json={"id": "booked", "name": "Booked",
                                                  "currency": "EUR", "no_show_fee": "4.50"})
    assert tariff.status_code == 201, tariff.text
    station = ReservingStation()
    async with bookable(csms, api, "CS-FEE", OcppVersion.V201, station, account="acct-fee",
                        token="TAG-FEE") as (_, driver, watch):
        assigned = await api.post("/api/tariffs/booked/assignments",
                                  json={"station_id": "CS-FEE"})
        assert assigned.status_code == 201, assigned.text
        start, end = window()
        booking = await book(driver, body("CS-FEE", start, end, evse_id=2))
        with watch_events(csms, "payment.") as payments:
            await core.bookings.scan(start - LEAD)
            await watch.next("booking.reserved", booking_id=booking["id"])
            await core.bookings.scan(end)
            no_show = await watch.next("booking.no_show", booking_id=booking["id"])
            assert (no_show.data["fee"], no_show.data["currency"], no_show.data["fee_status"]) \
                == ("4.50", "EUR", "captured")
            charged = await payments.next("payment.captured", account_id="acct-fee")
            assert charged.data["payment_id"] == no_show.data["payment_id"]
            await core.bookings.scan(end + timedelta(minutes=5))
            assert payments.pending("payment.captured") == []  # charged once
        assert watch.pending("booking.expired") == []  # a no-show, not also an expiry
        view = (await driver.get(f"/api/me/bookings/{booking['id']}")).json()
        assert (view["status"], view["no_show_fee"], view["fee_currency"], view["fee_status"]) \
            == ("no_show", "4.50", "EUR", "captured")
        assert len(station.sent("CancelReservation")) == 1
