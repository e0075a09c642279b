"""The operator dashboard in a real Chromium against a running CSMS with simulated stations:
sign in, live status over the event stream, a station's detail, alerts with acknowledge, and
commands (remote stop, unlock) with the station's answers."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.web.conftest import ID_TOKEN, UI_WAIT_MS, Network, PageWatch

pytestmark = pytest.mark.browser
expect.set_options(timeout=UI_WAIT_MS)


def chip(page: Any, station_id: str, evse_id: int) -> Any:
    return page.locator(f'#stations tr[data-station="{station_id}"] .chip[data-evse="{evse_id}"]')


async def test_dashboard_live_status_alerts_and_commands(network: Network, browser: Any) -> None:
    base = network.csms.api_url
    page = await browser.new_page(viewport={"width": 1440, "height": 1100})
    watch = PageWatch(base)
    watch.attach(page)

    # A token that is not one: the sign-in form says so; the right one opens the dashboard.
    await page.goto(f"{base}/dashboard#token=clp_not-a-token")
    await expect(page.locator("#login-error")).to_contain_text("401")
    assert "clp_not-a-token" not in page.url  # taken out of the address bar
    assert [e for e in watch.errors if "401" in e] == watch.errors != []  # the refused call
    watch.errors.clear()
    await page.fill("#token-input", network.operator_token)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    await expect(chip(page, "CS-ALEX-AC", 1)).to_have_attribute("data-status", "Available")
    await expect(chip(page, "CS-ALEX-DC", 1)).to_have_attribute("data-status", "Available")
    await expect(page.locator("#station-count")).to_have_text("2 of 2 online")

    # Live: a car plugs in and its driver presents a card; the page hears it on the stream.
    ac = network.stations["CS-ALEX-AC"]

    def arrive() -> Any:
        yield from ac.plug_in(1, Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.3))
        yield from ac.present_token(1, ID_TOKEN)

    network.spawn(arrive())
    await expect(chip(page, "CS-ALEX-AC", 1)).to_have_attribute("data-status", "Charging")

    # The station's detail: its connectors, the running session, the OCPP messages.
    await page.click('#stations tr[data-station="CS-ALEX-AC"]')
    detail = page.locator("#detail")
    await expect(detail).to_have_attribute("data-station", "CS-ALEX-AC")
    await expect(detail.locator('#connectors tr[data-evse="1"] .chip')).to_have_text("Charging")
    session_row = detail.locator("#sessions tr[data-transaction]")
    await expect(session_row).to_have_count(1)
    [active] = (await network.admin.get("/api/transactions",
                                        params={"state": "Active"})).json()["items"]
    await expect(session_row).to_have_attribute("data-transaction", active["transaction_id"])
    await expect(session_row).to_contain_text(ID_TOKEN)
    await expect(detail.locator('#messages tr[data-action="StartTransaction"]').first) \
        .to_be_attached()

    # An alert: EVSE 2 faults; it shows up live and is acknowledged from the page.
    network.spawn(ac.fault(2, "GroundFailure", None))
    await expect(chip(page, "CS-ALEX-AC", 2)).to_have_attribute("data-status", "Faulted")
    alert = page.locator("#alerts .alert").filter(has_text="CS-ALEX-AC").first
    await expect(alert).to_be_visible()
    alert_id = await alert.get_attribute("data-alert")
    await expect(detail.locator("#sessions .energy")).not_to_have_text("0 Wh")
    network.save("dashboard.png", await page.screenshot(full_page=True))
    await alert.locator("button.ack").click()
    await expect(alert).to_contain_text("acknowledged by web-operator")
    stored = (await network.admin.get(f"/api/alerts/{alert_id}")).json()
    assert stored["acknowledged_by"] == "web-operator"

    # Remote stop: the station's answer is shown, the session ends, the connector follows.
    await session_row.locator('button[data-command="remote-stop"]').click()
    result = page.locator("#results .result").first
    await expect(result).to_contain_text("RemoteStopTransaction")
    await expect(result).to_contain_text("Accepted")
    await expect(result).to_have_attribute("data-ok", "true")
    await expect(chip(page, "CS-ALEX-AC", 1)).to_have_attribute("data-status", "Finishing")
    await expect(detail.locator("#sessions tr[data-transaction]")).to_have_count(0)
    ended = (await network.admin.get(
        f"/api/transactions/CS-ALEX-AC/{active['transaction_id']}")).json()
    assert ended["state"] == "Completed" and ended["stop_reason"] == "Remote"

    # Unlock: a fixed cable cannot be unlocked, and the page shows that answer as a failure.
    await detail.locator('#connectors tr[data-evse="1"] button[data-command="unlock"]').click()
    result = page.locator("#results .result").first
    await expect(result).to_contain_text("UnlockConnector")
    unlock_answer = (await network.admin.get("/api/audit", params={
        "station_id": "CS-ALEX-AC", "action": "UnlockConnector"})).json()
    answered = unlock_answer["items"][0]["response"]["status"]
    await expect(result).to_contain_text(f"answered {answered}")
    await expect(result).to_have_attribute("data-ok", str(answered == "Unlocked").lower())

    network.save("dashboard-commands.png", await page.screenshot(full_page=True))
    assert watch.errors == []
    assert watch.foreign == []
