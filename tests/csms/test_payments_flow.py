"""Identify at the station and pay automatically, over real websockets for OCPP 1.6 and 2.0.1:
Authorize places a hold, the session's end captures the exact amount the tariff gives and
releases the rest, a receipt is issued; declined cards block the start; a decline at a start
that had no hold (offline) stops the session; refunds partial then full; a driver sees only
their own account (the others' are 404, operator views 403)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppSession, OcppVersion
from csms.domain.authorization import TokenInfo
from csms.server import RunningCsms
from tests.csms.harness import EventWatch, custom_csms, watch_events
from tests.csms.support import boot, connected_station, stamp

VERSIONS = [OcppVersion.V16, OcppVersion.V201]

# The tariff every flow here charges by. By hand, for 12.5 kWh:
#   energy  12.5 kWh x 0.3579 = 4.47375 -> 4.47 (each line rounded half up to the cent)
#   session fee                  1.00
#   net                          5.47
#   VAT 19 % of 5.47 = 1.0393 -> 1.04
#   total                        6.51 EUR; the hold of 30.00 leaves 23.49 to release.
TARIFF = {"name": "Standard AC", "currency": "EUR", "energy_price_per_kwh": "0.3579",
          "session_fee": "1.00", "vat_percent": "19", "preauth_amount": "30.00"}
METER_START_WH, METER_STOP_WH = 1_000, 13_500
EXPECTED_TOTAL, EXPECTED_HOLD, EXPECTED_RELEASE = "6.51", "30.00", "23.49"


async def priced_station(api: httpx.AsyncClient, station_id: str, **terms: str) -> None:
    """The tariff above (with ``terms`` changed), applied at ``station_id`` (booted)."""
    created = await api.post("/api/tariffs", json={"id": f"ac-{station_id.lower()}",
                                                   **TARIFF, **terms})
    assert created.status_code == 201, created.text
    assigned = await api.post(f"/api/tariffs/ac-{station_id.lower()}/assignments",
                              json={"station_id": station_id})
    assert assigned.status_code == 201, assigned.text


async def driver_account(api: httpx.AsyncClient, account_id: str, token: str,
                         card: str = "4242424242424242", funds: str = "1000.00") -> str:
    """An account with ``card`` and ``token`` linked; returns a driver API token for it."""
    made = await api.post("/api/accounts", json={"id": account_id, "name": "Ada Driver",
                                                 "email": f"{account_id}@example.com"})
    assert made.status_code == 201, made.text
    added = await api.post(f"/api/accounts/{account_id}/payment-methods", json={
        "card_number": card, "exp_month": 12, "exp_year": 2099, "test_funds": funds})
    assert added.status_code == 201, added.text
    linked = await api.post(f"/api/accounts/{account_id}/tokens", json={"token": token})
    assert linked.status_code == 201, linked.text
    issued = await api.post("/api/api-tokens", json={"name": f"app of {account_id}",
                                                     "role": "driver", "subject": account_id})
    assert issued.status_code == 201, issued.text
    return issued.json()["token"]


def as_driver(api: httpx.AsyncClient, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(api.base_url), timeout=10.0,
                             headers={"Authorization": f"Bearer {token}"})


def register(wh: int) -> list[dict[str, Any]]:
    """A 2.0.1 meterValue with the energy register at ``wh``."""
    return [{"timestamp": stamp(), "sampledValue": [{
        "value": wh, "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "Wh"}}]}]


async def authorize(cs: OcppSession, token: str) -> str:
    if cs.version is OcppVersion.V16:
        return (await cs.call("Authorize", {"idTag": token}))["idTagInfo"]["status"]
    answer = await cs.call("Authorize", {"idToken": {"idToken": token, "type": "ISO14443"}})
    return answer["idTokenInfo"]["status"]


async def start(cs: OcppSession, token: str, *, offline: bool = False) -> tuple[str, str]:
    """Start a session with ``token`` on EVSE 1; returns (transaction id, the token's
    status in the answer). ``offline``: 2.0.1 says the event was queued while offline."""
    if cs.version is OcppVersion.V16:
        answer = await cs.call("StartTransaction", {
            "connectorId": 1, "idTag": token, "meterStart": METER_START_WH,
            "timestamp": stamp()})
        return str(answer["transactionId"]), answer["idTagInfo"]["status"]
    transaction_id = f"TX-{token}"
    answer = await cs.call("TransactionEvent", {
        "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
        "seqNo": 0, "offline": offline, "transactionInfo": {
            "transactionId": transaction_id, "chargingState": "Charging"},
        "idToken": {"idToken": token, "type": "ISO14443"}, "evse": {"id": 1, "connectorId": 1},
        "meterValue": register(METER_START_WH)})
    return transaction_id, answer["idTokenInfo"]["status"]


async def stop(cs: OcppSession, transaction_id: str, meter_stop_wh: int = METER_STOP_WH,
               reason: str = "Local") -> None:
    if cs.version is OcppVersion.V16:
        await cs.call("StopTransaction", {"transactionId": int(transaction_id),
                                          "meterStop": meter_stop_wh, "timestamp": stamp(),
                                          "reason": reason})
        return
    await cs.call("TransactionEvent", {
        "eventType": "Ended", "timestamp": stamp(), "triggerReason": "StopAuthorized",
        "seqNo": 1, "transactionInfo": {"transactionId": transaction_id,
                                        "stoppedReason": reason},
        "evse": {"id": 1, "connectorId": 1}, "meterValue": register(meter_stop_wh)})


async def paid_session(csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion,
                       station_id: str, token: str, watch: EventWatch) -> tuple[str, str]:
    """Authorize, charge 12.5 kWh, stop; returns (transaction id, receipt id)."""
    async with connected_station(csms, station_id, version) as cs:
        await boot(cs)
        await priced_station(api, station_id)
        assert await authorize(cs, token) == "Accepted"
        hold = await watch.next("payment.authorized")
        assert (hold.data["amount"], hold.data["currency"]) == (EXPECTED_HOLD, "EUR")
        assert hold.data["transaction_id"] is None  # Authorize comes before any session
        transaction_id, status = await start(cs, token)
        assert status == "Accepted"
        await stop(cs, transaction_id)
        receipt = await watch.next("receipt.issued", transaction_id=transaction_id)
    return transaction_id, receipt.data["receipt_id"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_authorize_hold_charge_capture_exact_amount_receipt_and_refunds(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    driver = await driver_account(api, "acc-ada", "CARD-ADA")
    other_driver = await driver_account(api, "acc-bob", "CARD-BOB")
    with watch_events(csms, "payment.", "receipt.") as watch:
        transaction_id, receipt_id = await paid_session(csms, api, version, "CS-PAY", "CARD-ADA",
                                                        watch)
    captured = [e.data for e in watch.seen if e.kind == "payment.captured"]
    released = [e.data for e in watch.seen if e.kind == "payment.released"]
    assert [(c["amount"], c["transaction_id"]) for c in captured] == \
        [(EXPECTED_TOTAL, transaction_id)]
    assert [r["amount"] for r in released] == [EXPECTED_RELEASE]
    payment_id = captured[0]["payment_id"]

    async with as_driver(api, driver) as me:
        receipt = (await me.get(f"/api/me/receipts/{receipt_id}")).json()
        assert (receipt["net"], receipt["vat"], receipt["total"], receipt["paid"],
                receipt["outstanding"]) == ("5.47", "1.04", "6.51", "6.51", "0.00")
        assert [(line["kind"], line["amount"]) for line in receipt["lines"]] == \
            [("energy", "4.47"), ("session_fee", "1.00")]
        page = await me.get(f"/api/me/receipts/{receipt_id}/html")
        assert page.headers["content-type"].startswith("text/html")
        assert "6.51" in page.text and "Ada Driver" in page.text
        [session] = (await me.get("/api/me/sessions")).json()
        assert (session["transaction_id"], session["state"], session["receipt_id"]) == \
            (transaction_id, "Completed", receipt_id)
        assert session["payment"]["status"] == "captured"
        assert session["cost"]["total"] == "6.51" and session["cost"]["final"] is True
        assert (await me.get(f"/api/me/sessions/CS-PAY/{transaction_id}")).status_code == 200
    async with as_driver(api, other_driver) as them:  # another driver sees none of it
        assert (await them.get("/api/me")).json()["id"] == "acc-bob"
        assert (await them.get("/api/me/sessions")).json() == []
        assert (await them.get("/api/me/receipts")).json() == []
        assert (await them.get(f"/api/me/receipts/{receipt_id}")).status_code == 404
        assert (await them.get(f"/api/me/receipts/{receipt_id}/html")).status_code == 404
        assert (await them.get(f"/api/me/sessions/CS-PAY/{transaction_id}")).status_code == 404
        assert (await them.get(f"/api/receipts/{receipt_id}")).status_code == 403
        assert (await them.get(f"/api/payments/{payment_id}")).status_code == 403

    kinds = [e["kind"] for e in (await api.get("/api/payment-provider/events",
                                               params={"payment_id": payment_id})).json()]
    assert kinds == ["capture.succeeded", "authorization.approved"]  # newest first

    # Refunds: part, more than is left (refused, nothing moves), then the rest.
    refunds = f"/api/payments/{payment_id}/refunds"
    part = await api.post(refunds, json={"amount": "2.00", "reason": "slow charging"},
                          headers={"Idempotency-Key": "support-ticket-7"})
    assert part.status_code == 201, part.text
    assert (part.json()["status"], part.json()["amount"]) == ("partially_refunded", "2.00")
    again = await api.post(refunds, json={"amount": "2.00", "reason": "slow charging"},
                           headers={"Idempotency-Key": "support-ticket-7"})
    assert again.json()["amount"] == "2.00"  # the same request: refunded once
    too_much = await api.post(refunds, json={"amount": "4.52", "reason": "goodwill"})
    assert too_much.status_code == 409
    assert "exceeds what is left to refund: 4.51 EUR" in too_much.json()["detail"]
    rest = await api.post(refunds, json={"reason": "charger fault"})
    assert (rest.json()["status"], rest.json()["amount"]) == ("refunded", "4.51")
    assert (await api.post(refunds, json={"reason": "again"})).status_code == 409
    payment = (await api.get(f"/api/payments/{payment_id}")).json()
    assert (payment["captured"], payment["refunded"]) == ("6.51", "6.51")
    assert [r["amount"] for r in payment["refunds"]] == ["2.00", "4.51"]

    month = receipt["issued_at"][:7]
    async with as_driver(api, driver) as me:
        statement = (await me.get(f"/api/me/statements/{month}")).json()
        page = (await me.get(f"/api/me/statements/{month}/html")).text
        assert "2.00 EUR" in page and "slow charging" in page  # the refunds, listed
        assert (await me.get("/api/me/statements")).json() == [month]
    assert statement["totals"] == [{"currency": "EUR", "sessions": 1, "charged": "6.51",
                                    "refunded": "6.51", "net": "0.00", "outstanding": "0.00"}]
    revenue = (await api.get("/api/revenue", params={"period": "day"})).json()["rows"]
    assert [(r["station_id"], r["captured"], r["refunded"], r["net"]) for r in revenue] == \
        [("CS-PAY", "6.51", "6.51", "0.00")]


async def test_a_cost_above_the_hold_is_asked_for_as_an_incremental_authorisation(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """A hold of 5.00 and a session of 6.51: the card is asked for 1.51 more. A card with the
    room captures 6.51; one without it gives the 5.00 held and 1.51 stays outstanding."""
    await driver_account(api, "acc-roomy", "CARD-ROOMY")
    await driver_account(api, "acc-tight", "CARD-TIGHT", funds="5.00")
    receipts = {}
    with watch_events(csms, "payment.", "receipt.") as watch:
        async with connected_station(csms, "CS-INC", OcppVersion.V201) as cs:
            await boot(cs)
            await priced_station(api, "CS-INC", preauth_amount="5.00")
            for token in ("CARD-ROOMY", "CARD-TIGHT"):
                assert await authorize(cs, token) == "Accepted"
                transaction_id, _ = await start(cs, token)
                await stop(cs, transaction_id)
                receipts[token] = (await watch.next("receipt.issued",
                                                    transaction_id=transaction_id)).data
    assert [(e.kind, e.data["account_id"], e.data["amount"]) for e in watch.seen
            if e.kind != "receipt.issued"] == [
        ("payment.authorized", "acc-roomy", "5.00"),
        ("payment.authorized", "acc-roomy", "1.51"),  # the increment
        ("payment.captured", "acc-roomy", EXPECTED_TOTAL),
        ("payment.authorized", "acc-tight", "5.00"),
        ("payment.declined", "acc-tight", "1.51"),
        ("payment.captured", "acc-tight", "5.00")]
    assert (receipts["CARD-ROOMY"]["paid"], receipts["CARD-ROOMY"]["outstanding"]) == \
        (EXPECTED_TOTAL, "0.00")
    assert (receipts["CARD-TIGHT"]["paid"], receipts["CARD-TIGHT"]["outstanding"]) == \
        ("5.00", "1.51")


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_declined_card_blocks_the_start(csms: RunningCsms, api: httpx.AsyncClient,
                                                version: OcppVersion) -> None:
    await driver_account(api, "acc-broke", "CARD-BROKE", card="4000000000009995")
    with watch_events(csms, "payment.") as watch:
        async with connected_station(csms, "CS-DECLINE", version) as cs:
            await boot(cs)
            await priced_station(api, "CS-DECLINE")
            status = await authorize(cs, "CARD-BROKE")
            declined = await watch.next("payment.declined")
            await api.patch("/api/accounts/acc-broke", json={"status": "suspended"})
            suspended = await authorize(cs, "CARD-BROKE")
    # 2.0.1 says NoCredit; 1.6 has no such status and says Blocked.
    assert status == ("Blocked" if version is OcppVersion.V16 else "NoCredit")
    assert suspended == "Blocked"
    assert declined.data["account_id"] == "acc-broke"
    assert (declined.data["reason"], declined.data["decline_code"]) == \
        ("insufficient funds on the card", "insufficient_funds")
    assert declined.data["amount"] == EXPECTED_HOLD and declined.data["station_id"] == \
        "CS-DECLINE"
    payment = (await api.get(f"/api/payments/{declined.data['payment_id']}")).json()
    assert (payment["status"], payment["captured"]) == ("declined", "0.00")


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_decline_at_an_offline_started_session_stops_it(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    await driver_account(api, "acc-expired", "CARD-EXP", card="4000000000000069")
    stop_asked: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def remote_stop(payload: dict[str, Any]) -> dict[str, Any]:
        stop_asked.set_result(payload)
        return {"status": "Accepted"}

    routes = {"RemoteStopTransaction" if version is OcppVersion.V16
              else "RequestStopTransaction": remote_stop}
    with watch_events(csms, "payment.", "receipt.") as watch:
        async with connected_station(csms, "CS-OFFLINE", version, routes=routes) as cs:
            await boot(cs)
            await priced_station(api, "CS-OFFLINE")
            # Started on the station's own word (local list, offline): no Authorize, no hold.
            # (A start older than the tariff would be free: the tariff at the start applies.)
            transaction_id, status = await start(cs, "CARD-EXP", offline=True)
            asked = await asyncio.wait_for(stop_asked, 5)
            declined = await watch.next("payment.declined")
            await stop(cs, transaction_id, reason="Remote")
            receipt = await watch.next("receipt.issued", transaction_id=transaction_id)
    assert status == ("Blocked" if version is OcppVersion.V16 else "NoCredit")
    assert str(asked["transactionId"]) == transaction_id
    assert (declined.data["transaction_id"], declined.data["reason"]) == \
        (transaction_id, "the card has expired")
    payment = (await api.get(f"/api/payments/{declined.data['payment_id']}")).json()
    assert payment["stop_requested_at"] is not None
    # Nothing could be taken: the whole cost stays outstanding on the receipt.
    assert (payment["status"], payment["outstanding"]) == ("unpaid", EXPECTED_TOTAL)
    assert (receipt.data["paid"], receipt.data["outstanding"]) == ("0.00", EXPECTED_TOTAL)


async def test_a_session_paid_across_a_restart_of_the_csms(database_url: str,
                                                           tmp_path: Path) -> None:
    """Holds and the sessions they pay for are in the database: a CSMS restarted between the
    start and the stop still captures the exact amount and issues the receipt."""
    async with custom_csms(database_url, tmp_path) as (csms, api):
        await driver_account(api, "acc-ada", "CARD-ADA")
        async with connected_station(csms, "CS-RESTART", OcppVersion.V16) as cs:
            await boot(cs)
            await priced_station(api, "CS-RESTART")
            assert await authorize(cs, "CARD-ADA") == "Accepted"
            transaction_id, _ = await start(cs, "CARD-ADA")
    async with custom_csms(database_url, tmp_path) as (csms, api):
        with watch_events(csms, "payment.", "receipt.") as watch:
            async with connected_station(csms, "CS-RESTART", OcppVersion.V16) as cs:
                await boot(cs)
                await stop(cs, transaction_id)
                receipt = await watch.next("receipt.issued", transaction_id=transaction_id)
    assert (receipt.data["total"], receipt.data["paid"]) == (EXPECTED_TOTAL, EXPECTED_TOTAL)
    assert [e.data["amount"] for e in watch.seen if e.kind == "payment.captured"] == \
        [EXPECTED_TOTAL]


async def test_holds_no_session_uses_are_released_and_lapsed_ones_recorded(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """An Authorize whose driver never plugs in: the hold is released after
    payment_unused_hold_s. A hold the card issuer lets lapse comes back as a provider event."""
    await driver_account(api, "acc-gone", "CARD-GONE")
    await driver_account(api, "acc-slow", "CARD-SLOW")
    payments = csms.core.payments
    accepted = TokenInfo("Accepted")
    with watch_events(csms, "payment.") as watch:
        assert await payments.authorize_token("CS-A", "CARD-GONE", accepted) == accepted
        unused = await watch.next("payment.authorized")
        # No tariff applies at CS-A: the configured default hold, in the account's currency.
        assert (unused.data["amount"], unused.data["currency"]) == ("50.00", "EUR")
        assert await payments.authorize_token("CS-A", "CARD-GONE", accepted) == accepted
        assert watch.pending("payment.authorized") == []  # one hold per token and station
        payments.unused_hold_s = 0.0
        await payments.scan()
        released = await watch.next("payment.released")
        assert (released.data["payment_id"], released.data["reason"]) == \
            (unused.data["payment_id"], "no session used the hold")

        payments.unused_hold_s = 3600.0
        payments.provider.hold_lifetime = timedelta(0)  # this issuer keeps holds no time at all
        await payments.authorize_token("CS-A", "CARD-SLOW", accepted)
        lapsing = await watch.next("payment.authorized")
        await payments.scan()
        lapsed = await watch.next("payment.released")
    assert (lapsed.data["payment_id"], lapsed.data["reason"]) == \
        (lapsing.data["payment_id"], "the card issuer let the hold lapse")
    statuses = {p["id"]: p["status"] for p in (await api.get("/api/payments")).json()["payments"]}
    assert statuses == {unused.data["payment_id"]: "released",
                        lapsing.data["payment_id"]: "expired"}
    kinds = [e["kind"] for e in (await api.get("/api/payment-provider/events", params={
        "payment_id": lapsing.data["payment_id"]})).json()]
    assert kinds == ["authorization.expired", "authorization.approved"]
