"""Driver accounts through the REST API: accounts, linked id tokens (one account at every
station), cards kept as provider references only, the driver's own view under /api/me, and the
answers to bad input (422 naming the field, 409 conflicts, 404 missing)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.money import Money
from csms.server import RunningCsms
from csms.storage import tables as t


def field_error(response: httpx.Response) -> tuple[str, str]:
    """(the field a 422 names, its message)."""
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    return error["loc"][-1], error["msg"]


async def new_account(api: httpx.AsyncClient, account_id: str, **body: Any) -> httpx.Response:
    return await api.post("/api/accounts", json={"id": account_id, "name": "Grace",
                                                 "email": f"{account_id}@example.com", **body})


async def test_accounts_and_their_tokens(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    created = await new_account(api, "acc-grace", currency="GBP")
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("id", "currency", "status")} == \
        {"id": "acc-grace", "currency": "GBP", "status": "active"}
    generated = await api.post("/api/accounts", json={"name": "Anon",
                                                      "email": "anon@example.org"})
    assert generated.json()["id"].startswith("acc_") and generated.json()["currency"] == "EUR"
    assert (await new_account(api, "acc-grace")).status_code == 409

    assert field_error(await new_account(api, "acc-x", email="grace.example.com")) == \
        ("email", "Value error, 'grace.example.com' is not an email address")
    assert field_error(await new_account(api, "acc-x", email="grace@localhost"))[0] == "email"
    assert field_error(await new_account(api, "acc-x", currency="XYZ"))[0] == "currency"
    assert field_error(await new_account(api, "acc-x", currency="eur"))[0] == "currency"
    assert field_error(await new_account(api, "bad id", email="g@example.com"))[0] == "id"

    listed = (await api.get("/api/accounts")).json()
    assert {a["id"] for a in listed} == {"acc-grace", generated.json()["id"]}
    suspended = await api.patch("/api/accounts/acc-grace", json={"status": "suspended"})
    assert suspended.json()["status"] == "suspended"
    assert [a["id"] for a in (await api.get("/api/accounts",
                                            params={"status": "suspended"})).json()] == \
        ["acc-grace"]
    assert field_error(await api.patch("/api/accounts/acc-grace",
                                       json={"email": "nope"}))[0] == "email"
    assert (await api.get("/api/accounts/acc-nobody")).status_code == 404
    assert (await api.patch("/api/accounts/acc-nobody", json={"name": "x"})).status_code == 404

    # A token belongs to one account at most.
    await new_account(api, "acc-a")
    await new_account(api, "acc-b")
    await api.put("/api/tokens/FLEET-CARD", json={"group_id": "FLEET", "type": "ISO15693"})
    linked = await api.post("/api/accounts/acc-a/tokens", json={"token": "FLEET-CARD"})
    assert linked.status_code == 201, linked.text
    # An existing token keeps what it was (type, group); it just pays through the account now.
    assert linked.json() == {"token": "FLEET-CARD", "type": "ISO15693", "status": "Accepted"}
    assert (await api.get("/api/tokens/FLEET-CARD")).json()["group_id"] == "FLEET"
    app = await api.post("/api/accounts/acc-a/tokens", json={"token": "APP-7", "type": "Central"})
    assert app.json()["type"] == "Central"
    assert csms.core.accounts.account_for_token("APP-7") == "acc-a"

    clash = await api.post("/api/accounts/acc-b/tokens", json={"token": "FLEET-CARD"})
    assert clash.status_code == 409
    assert clash.json()["detail"] == "id token 'FLEET-CARD' is linked to another account"
    again = await api.post("/api/accounts/acc-a/tokens", json={"token": "FLEET-CARD"})
    assert again.status_code == 201  # linking it again to its account changes nothing
    assert field_error(await api.post("/api/accounts/acc-a/tokens",
                                      json={"token": "T", "type": "Magic"}))[0] == "type"
    assert field_error(await api.post("/api/accounts/acc-a/tokens",
                                      json={"token": "x" * 37}))[0] == "token"
    assert (await api.post("/api/accounts/acc-nobody/tokens",
                           json={"token": "T"})).status_code == 404

    detail = (await api.get("/api/accounts/acc-a")).json()
    assert [t["token"] for t in detail["tokens"]] == ["APP-7", "FLEET-CARD"]
    assert (await api.delete("/api/accounts/acc-a/tokens/FLEET-CARD")).status_code == 204
    assert csms.core.accounts.account_for_token("FLEET-CARD") is None
    assert (await api.get("/api/tokens/FLEET-CARD")).status_code == 200  # still known
    assert (await api.delete("/api/accounts/acc-a/tokens/FLEET-CARD")).status_code == 404
    moved = await api.post("/api/accounts/acc-b/tokens", json={"token": "FLEET-CARD"})
    assert moved.status_code == 201


async def test_cards_kept_as_provider_references_and_the_driver_api(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await new_account(api, "acc-card")
    url = "/api/accounts/acc-card/payment-methods"
    visa = await api.post(url, json={"card_number": "4242 4242 4242 4242", "exp_month": 7,
                                     "exp_year": 2099})
    assert visa.status_code == 201, visa.text
    assert {k: visa.json()[k] for k in ("brand", "last4", "exp_month", "exp_year",
                                        "is_default", "provider")} == \
        {"brand": "visa", "last4": "4242", "exp_month": 7, "exp_year": 2099,
         "is_default": True, "provider": "test"}
    master = await api.post(url, json={"card_number": "5555555555554444", "exp_month": 1,
                                       "exp_year": 2099, "make_default": True})
    assert [(m["brand"], m["is_default"]) for m in (await api.get(url)).json()] == \
        [("mastercard", True), ("visa", False)]

    assert field_error(await api.post(url, json={"card_number": "4242424242424241",
                                                 "exp_month": 7, "exp_year": 2099})) == \
        ("card_number", "not a valid card number (checksum)")
    assert field_error(await api.post(url, json={"card_number": "4242424242424242",
                                                 "exp_month": 1, "exp_year": 2001})) == \
        ("exp_month", "the card has expired")
    assert field_error(await api.post(url, json={"card_number": "4242424242424242",
                                                 "exp_month": 13, "exp_year": 2099}))[0] == \
        "exp_month"

    removed = await api.delete(f"{url}/{master.json()['id']}")
    assert removed.status_code == 204
    assert [(m["brand"], m["is_default"]) for m in (await api.get(url)).json()] == \
        [("visa", True)]  # the remaining card took over as default
    assert (await api.delete(f"{url}/{master.json()['id']}")).status_code == 404

    async def stored(conn: AsyncConnection) -> list[str]:
        rows = []
        for table in (t.payment_methods, t.test_provider_cards):
            rows += [repr(dict(r)) for r in (await conn.execute(select(table))).mappings()]
        return rows

    rows = await csms.core.db.read(stored)
    assert rows and not [r for r in rows if "4242424242424242" in r or "5555555555554444" in r]

    # The driver API serves the driver token's own account.
    await new_account(api, "acc-me")
    made = await api.post("/api/api-tokens", json={"name": "Grace's phone", "role": "driver",
                                                   "subject": "acc-me"})
    async with httpx.AsyncClient(base_url=csms.api_url, headers={
            "Authorization": f"Bearer {made.json()['token']}"}) as me:
        assert (await me.get("/api/me")).json()["id"] == "acc-me"
        linked = await me.post("/api/me/tokens", json={"token": "MY-RFID"})
        assert linked.status_code == 201
        card = await me.post("/api/me/payment-methods", json={
            "card_number": "4242424242424242", "exp_month": 3, "exp_year": 2099})
        assert card.status_code == 201
        mine = (await me.get("/api/me")).json()
        assert [t["token"] for t in mine["tokens"]] == ["MY-RFID"]
        assert [m["last4"] for m in mine["payment_methods"]] == ["4242"]
        assert (await me.get("/api/me/statements")).json() == []
        assert field_error(await me.get("/api/me/statements/2024-13")) == \
            ("month", "'2024-13' is not a month (YYYY-MM)")
        empty = (await me.get("/api/me/statements/2024-02")).json()
        assert (empty["receipts"], empty["totals"]) == ([], [])
        assert (await me.post("/api/accounts", json={"name": "x", "email": "x@y.z"})
                ).status_code == 403
    # Someone else's token cannot be taken over through the driver API either.
    await new_account(api, "acc-other")
    other = await api.post("/api/api-tokens", json={"name": "other", "role": "driver",
                                                    "subject": "acc-other"})
    async with httpx.AsyncClient(base_url=csms.api_url, headers={
            "Authorization": f"Bearer {other.json()['token']}"}) as them:
        assert (await them.post("/api/me/tokens", json={"token": "MY-RFID"})).status_code == 409
        assert (await them.delete("/api/me/tokens/MY-RFID")).status_code == 404
    unlinked = await api.post("/api/api-tokens", json={"name": "no account", "role": "driver"})
    async with httpx.AsyncClient(base_url=csms.api_url, headers={
            "Authorization": f"Bearer {unlinked.json()['token']}"}) as nobody:
        assert (await nobody.get("/api/me")).status_code == 403


async def test_refunds_and_reports_refuse_bad_input(csms: RunningCsms,
                                                    api: httpx.AsyncClient) -> None:
    await new_account(api, "acc-fee")
    await api.post("/api/accounts/acc-fee/payment-methods", json={
        "card_number": "4242424242424242", "exp_month": 3, "exp_year": 2099})
    # A booking's no-show fee: charged at once, once per idempotency key.
    fee = await csms.core.payments.charge_fee("acc-fee", Money(Decimal("12.00"), "EUR"),
                                              "no-show fee", "booking-1")
    assert await csms.core.payments.charge_fee("acc-fee", Money(Decimal("12.00"), "EUR"),
                                               "no-show fee", "booking-1") == fee
    assert (fee.status, fee.amount) == ("captured", Money(Decimal("12.00"), "EUR"))
    refunds = f"/api/payments/{fee.payment_id}/refunds"
    assert field_error(await api.post(refunds, json={"amount": "1.234", "reason": "x"})) == \
        ("amount", "1.234 has more decimals than EUR has")
    assert field_error(await api.post(refunds, json={"amount": "-1", "reason": "x"}))[0] == \
        "amount"
    assert field_error(await api.post(refunds, json={"amount": "1.00"}))[0] == "reason"
    beyond = await api.post(refunds, json={"amount": "12.01", "reason": "x"})
    assert beyond.status_code == 409
    assert beyond.json()["detail"] == ("a refund of 12.01 EUR exceeds what is left to refund: "
                                       "12.00 EUR (captured 12.00 EUR, refunded so far 0.00 "
                                       "EUR)")
    assert (await api.post("/api/payments/pay_nobody/refunds",
                           json={"reason": "x"})).status_code == 404
    assert field_error(await api.get("/api/revenue", params={
        "since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}))[0] == "until"
    report = (await api.get("/api/revenue")).json()
    assert [(r["station_id"], r["payments"], r["captured"]) for r in report["rows"]] == \
        [(None, 1, "12.00")]  # once, however often it was asked for
    await new_account(api, "acc-nocard")
    refused = await csms.core.payments.charge_fee("acc-nocard", Money(Decimal("5"), "EUR"),
                                                  "no-show fee", "booking-2")
    assert (refused.status, refused.decline_code) == ("declined", "no_payment_method")
    assert (await api.get("/api/accounts/acc-fee/statements/2024-1")).status_code == 422
