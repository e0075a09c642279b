"""The driver app on a phone-sized Chromium against a running CSMS with simulated stations:
find stations near me (list and map), book an EVSE, start a charge from the app and follow it
live (energy, power, cost), stop it, read the receipt, see the notifications and open a
support ticket."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.web.conftest import HERE, UI_WAIT_MS, Network, PageWatch

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_WAIT_MS)

PHONE = {"width": 390, "height": 844}


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def test_driver_finds_books_charges_and_gets_a_receipt(network: Network,
                                                             browser: Any) -> None:
    base = network.csms.api_url
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, permissions=["geolocation"],
        geolocation={"latitude": HERE[0], "longitude": HERE[1]})
    page = await context.new_page()
    watch = PageWatch(base)
    watch.attach(page)
    driver = httpx.AsyncClient(base_url=base, timeout=10.0, headers={
        "Authorization": f"Bearer {network.driver_token}"})

    await page.goto(f"{base}/driver#token={network.driver_token}")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")

    # Find: "near me" takes the phone's position; nearest first, both on the map.
    await page.click("#locate")
    cards = page.locator("#results .station-card")
    await expect(cards).to_have_count(2)
    found = (await driver.get("/api/station-search", params={
        "latitude": HERE[0], "longitude": HERE[1], "radius_km": 5})).json()
    assert [await c.get_attribute("data-station") for c in await cards.all()] == \
        [m["station_id"] for m in found]
    for match in found:
        card = page.locator(f'.station-card[data-station="{match["station_id"]}"]')
        await expect(card).to_contain_text(f'{match["distance_km"]:.1f} km')
    await expect(page.locator("#map circle.station.free")).to_have_count(2)
    await page.locator('#map circle[data-station="CS-ALEX-DC"]').click()
    await expect(page.locator('.station-card[data-station="CS-ALEX-DC"]')) \
        .to_have_class(re.compile(r"\bselected\b"))
    network.save("driver-find.png", await page.screenshot())

    # Book the DC charger from now for 30 minutes; the CSMS reserves it at the station.
    dc_card = page.locator('.station-card[data-station="CS-ALEX-DC"]')
    await dc_card.locator('[data-evse="1"] button[data-action="book"]').click()
    await dc_card.locator('[data-evse="1"] button[data-action="confirm-booking"]').click()
    await expect(dc_card.locator(".booking-result")).to_contain_text("Booked: EVSE 1")

    async def booking() -> dict[str, Any]:
        [only] = (await driver.get("/api/me/bookings")).json()
        return only

    await network.until("the booking reserved at the station",
                        lambda: _status_is(booking(), "reserved"))

    # The car is plugged in; the driver starts from the app and follows the session live.
    network.spawn(network.stations["CS-ALEX-DC"].plug_in(
        1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2, target_soc=0.9)))
    await dc_card.locator('[data-evse="1"] button[data-action="start"]').click()
    session = page.locator("#active .session-card")
    await expect(session).to_have_count(1)
    await expect(session).to_have_attribute("data-station", "CS-ALEX-DC")
    energy = session.locator('[data-figure="energy"] .value')
    power = session.locator('[data-figure="power"] .value')
    cost = session.locator('[data-figure="cost"] .value')
    await expect(energy).not_to_have_text("0 Wh")
    first = await energy.text_content()
    await expect(energy).not_to_have_text(first or "")  # it keeps growing, live
    await expect(power).to_have_text(re.compile(r"^\d+\.\d kW$"))
    await expect(cost).to_contain_text("EUR")
    running = (await driver.get("/api/me/sessions", params={"active": "true"})).json()
    [mine] = running
    assert mine["power_w"] > 1000 and mine["cost"]["final"] is False
    network.save("driver-session.png", await page.screenshot())
    # the station's clock and the CSMS's agree: the session started inside the booked window
    window_start = datetime.fromisoformat((await booking())["starts_at"])
    assert window_start <= datetime.fromisoformat(mine["started_at"])
    assert (await booking())["status"] == "used"
    assert (await booking())["transaction_id"] == mine["transaction_id"]

    # Stop from the app: the station's answer, then the session is over.
    await session.locator('button[data-action="stop"]').click()
    await expect(page.locator("#start-result")).to_contain_text("answered Accepted")
    await expect(page.locator("#active .session-card")).to_have_count(0)

    async def receipts() -> list[dict[str, Any]]:
        return (await driver.get("/api/me/receipts")).json()

    await network.until("the receipt issued", lambda: _non_empty(receipts()))
    [receipt] = await receipts()
    assert receipt["transaction_id"] == mine["transaction_id"]

    # The receipt: its total is the tariff applied by hand to the energy delivered.
    energy_line = cents(Decimal(str(receipt["energy_wh"])) / 1000 * Decimal("0.50"))
    net = energy_line + Decimal("0.30")
    total = net + cents(net * Decimal("0.19"))
    assert Decimal(receipt["total"]) == total
    await page.click('#tabs button[data-view="receipts"]')
    await page.locator(f'#receipts [data-receipt="{receipt["id"]}"]').click()
    shown = page.locator("#receipt")
    await expect(shown).to_have_attribute("data-receipt", receipt["id"])
    await expect(shown.locator(".total")).to_have_text(f"{total} EUR")
    network.save("driver-receipt.png", await page.screenshot())

    # Notifications: what happened, as the live stream delivered it.
    await page.click('#tabs button[data-view="inbox"]')
    for kind in ("session.started", "session.completed", "receipt.issued"):
        await expect(page.locator(f'#notifications [data-kind="{kind}"]').first).to_be_visible()

    # Help: a ticket about this session.
    await page.click('#tabs button[data-view="help"]')
    await page.select_option("#ticket-category", "wrong_charge")
    await page.select_option("#ticket-session", f'CS-ALEX-DC\u0000{mine["transaction_id"]}')
    await page.fill("#ticket-message", "The price looks higher than the tariff.")
    await page.click("#ticket-form button[type=submit]")
    await expect(page.locator("#ticket-result")).to_contain_text("opened")
    tickets = (await network.admin.get("/api/support/tickets", params={
        "account_id": network.account_id})).json()["items"]
    assert [(t["category"], t["station_id"], t["transaction_id"]) for t in tickets] == [
        ("wrong_charge", "CS-ALEX-DC", mine["transaction_id"])]
    await expect(page.locator(f'#tickets [data-ticket="{tickets[0]["id"]}"]')).to_be_visible()

    await driver.aclose()
    await context.close()
    assert watch.errors == []
    assert watch.foreign == []


async def _status_is(booking: Any, wanted: str) -> bool:
    return (await booking)["status"] == wanted


async def _non_empty(items: Any) -> bool:
    return bool(await items)
