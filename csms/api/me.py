"""The driver API: my account, my id tokens and cards, my sessions (live, with their running
cost), my payments, receipts and monthly statements. A driver API token (role driver, subject =
the account id) sees its own account only: another account's session or receipt is a 404, as
if it did not exist."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from csms.api.accounts import (
    add_card,
    detail,
    existing,
    link,
    make_default,
    remove_card,
    statement_of,
    unlink,
)
from csms.api.billing_views import (
    AccountDetail,
    CardBody,
    LinkedTokenView,
    PaymentMethodView,
    PaymentView,
    ReceiptView,
    StatementView,
    TokenLink,
    method_view,
    payment_view,
    receipt_view,
    statement_view,
    token_view,
)
from csms.api.schemas import ErrorBody
from csms.api.security import Core, DriverAccount
from csms.core import CsmsCore
from csms.domain.driver_sessions import DriverSession, latest_power_w, sessions_of
from csms.domain.receipts import Receipt, plain
from csms.domain.tariffs import UnknownTransaction
from csms.payments.documents import receipt_html, statement_html

router = APIRouter(prefix="/api/me", tags=["driver"])

NOT_FOUND = {404: {"model": ErrorBody, "description": "Not found on your account."}}


class SessionCostView(BaseModel):
    total: str = Field(description="VAT included.")
    net: str
    vat: str
    currency: str
    final: bool = Field(description="False: the running cost so far.")
    as_of: datetime
    tariff_id: str
    tariff_version: int
    lines: list[dict[str, object]]


class SessionPaymentView(BaseModel):
    id: str
    status: str
    currency: str
    held: str
    captured: str
    outstanding: str
    reason: str | None


class DriverSessionView(BaseModel):
    station_id: str
    transaction_id: str
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    state: str = Field(description="Active or Completed.")
    charging_state: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    energy_wh: float
    power_w: float | None = Field(None, description="While it runs: the power of the latest "
                                                    "reading, in W; None once ended or before "
                                                    "the first reading.")
    cost: SessionCostView | None = Field(description="None: no tariff applies (free).")
    payment: SessionPaymentView
    receipt_id: str | None


def _mine(core: CsmsCore, account_id: str) -> None:
    existing(core, account_id)  # a driver token for an account that no longer exists: 404


async def _session_view(core: CsmsCore, session: DriverSession) -> DriverSessionView:
    tx, payment = session.transaction, session.payment
    try:  # the running cost on demand, the final one once ended: never per meter value
        cost = await core.tariffs.session_cost(tx["station_id"], tx["ocpp_transaction_id"])
    except UnknownTransaction:
        cost = None
    power_w = await latest_power_w(core.db, tx["id"]) if tx["state"] == "Active" else None
    return DriverSessionView(
        station_id=tx["station_id"], transaction_id=tx["ocpp_transaction_id"],
        evse_id=tx["evse_id"], connector_id=tx["connector_id"], id_token=tx["id_token"],
        state=tx["state"], charging_state=tx["charging_state"], started_at=tx["started_at"],
        stopped_at=tx["stopped_at"], energy_wh=tx["energy_wh"], power_w=power_w,
        cost=None if cost is None else SessionCostView(
            total=str(cost.total.amount), net=str(cost.net.amount), vat=str(cost.vat.amount),
            currency=cost.currency, final=cost.final, as_of=cost.as_of,
            tariff_id=cost.tariff_id, tariff_version=cost.tariff_version,
            lines=plain(list(cost.lines))),
        payment=SessionPaymentView(
            id=payment.id, status=payment.status, currency=payment.currency,
            held=str(payment.held), captured=str(payment.captured),
            outstanding=str(payment.outstanding), reason=payment.reason),
        receipt_id=session.receipt_id)


async def _my_receipt(core: CsmsCore, account_id: str, receipt_id: str) -> Receipt:
    receipt = await core.receipts.get(receipt_id)
    if receipt is None or receipt.account_id != account_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no receipt {receipt_id!r} on your "
                                                       "account")
    return receipt


@router.get("", response_model=AccountDetail, responses=NOT_FOUND,
            summary="My account, with my id tokens and cards")
async def my_account(core: Core, account_id: DriverAccount) -> AccountDetail:
    return detail(core, existing(core, account_id))


@router.get("/tokens", response_model=list[LinkedTokenView], summary="My id tokens")
async def my_tokens(core: Core, account_id: DriverAccount) -> list[LinkedTokenView]:
    _mine(core, account_id)
    return [token_view(r) for r in core.accounts.tokens(account_id)]


@router.post("/tokens", response_model=LinkedTokenView, status_code=status.HTTP_201_CREATED,
             responses={409: {"model": ErrorBody,
                              "description": "The token belongs to another account."}},
             summary="Link an id token (an RFID card, an app token) to my account")
async def link_my_token(body: TokenLink, core: Core,
                        account_id: DriverAccount) -> LinkedTokenView:
    _mine(core, account_id)
    return await link(core, account_id, body)


@router.delete("/tokens/{token}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND,
               summary="Unlink one of my id tokens")
async def unlink_my_token(token: str, core: Core, account_id: DriverAccount) -> Response:
    _mine(core, account_id)
    await unlink(core, account_id, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/payment-methods", response_model=list[PaymentMethodView],
            summary="My cards, the default first")
async def my_methods(core: Core, account_id: DriverAccount) -> list[PaymentMethodView]:
    _mine(core, account_id)
    return [method_view(m) for m in core.accounts.methods(account_id)]


@router.post("/payment-methods", response_model=PaymentMethodView,
             status_code=status.HTTP_201_CREATED, summary="Add a card")
async def add_my_method(body: CardBody, core: Core,
                        account_id: DriverAccount) -> PaymentMethodView:
    _mine(core, account_id)
    return await add_card(core, account_id, body)


@router.post("/payment-methods/{method_id}/default", response_model=PaymentMethodView,
             responses=NOT_FOUND, summary="Pay with this card from now on")
async def default_my_method(method_id: str, core: Core,
                            account_id: DriverAccount) -> PaymentMethodView:
    _mine(core, account_id)
    return await make_default(core, account_id, method_id)


@router.delete("/payment-methods/{method_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=NOT_FOUND, summary="Remove one of my cards")
async def remove_my_method(method_id: str, core: Core, account_id: DriverAccount) -> Response:
    _mine(core, account_id)
    await remove_card(core, account_id, method_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sessions", response_model=list[DriverSessionView],
            summary="My charging sessions, newest first, live ones with their running cost")
async def my_sessions(core: Core, account_id: DriverAccount,
                      active: bool | None = Query(None, description="true: only running "
                                                                    "sessions"),
                      limit: int = Query(20, ge=1, le=200),
                      offset: int = Query(0, ge=0)) -> list[DriverSessionView]:
    _mine(core, account_id)
    sessions = await sessions_of(core.db, account_id, active=active, limit=limit,
                                 offset=offset)
    return [await _session_view(core, s) for s in sessions]


@router.get("/sessions/{station_id}/{transaction_id}", response_model=DriverSessionView,
            responses=NOT_FOUND, summary="One of my sessions, live while it runs")
async def my_session(station_id: str, transaction_id: str, core: Core,
                     account_id: DriverAccount) -> DriverSessionView:
    _mine(core, account_id)
    found = await sessions_of(core.db, account_id, station_id=station_id,
                              transaction_id=transaction_id, limit=1)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no session {transaction_id!r} at "
                                                       f"{station_id!r} on your account")
    return await _session_view(core, found[0])


@router.get("/payments", response_model=list[PaymentView],
            summary="My payments (session holds and captures, fees), newest first")
async def my_payments(core: Core, account_id: DriverAccount,
                      limit: int = Query(50, ge=1, le=500),
                      offset: int = Query(0, ge=0)) -> list[PaymentView]:
    _mine(core, account_id)
    _total, payments = await core.payments.listing(account_id=account_id, limit=limit,
                                                   offset=offset)
    return [payment_view(p) for p in payments]


@router.get("/receipts", response_model=list[ReceiptView], summary="My receipts, newest first")
async def my_receipts(core: Core, account_id: DriverAccount,
                      limit: int = Query(50, ge=1, le=500),
                      offset: int = Query(0, ge=0)) -> list[ReceiptView]:
    _mine(core, account_id)
    _total, receipts = await core.receipts.listing(account_id=account_id, limit=limit,
                                                   offset=offset)
    return [receipt_view(r) for r in receipts]


@router.get("/receipts/{receipt_id}", response_model=ReceiptView, responses=NOT_FOUND,
            summary="One of my receipts")
async def my_receipt(receipt_id: str, core: Core, account_id: DriverAccount) -> ReceiptView:
    return receipt_view(await _my_receipt(core, account_id, receipt_id))


@router.get("/receipts/{receipt_id}/html", response_class=HTMLResponse, responses=NOT_FOUND,
            summary="One of my receipts as a web page")
async def my_receipt_html(receipt_id: str, core: Core,
                          account_id: DriverAccount) -> HTMLResponse:
    receipt = await _my_receipt(core, account_id, receipt_id)
    return HTMLResponse(receipt_html(receipt, existing(core, account_id)))


@router.get("/statements", response_model=list[str],
            summary="The months (YYYY-MM) I have statements for, newest first")
async def my_statement_months(core: Core, account_id: DriverAccount) -> list[str]:
    _mine(core, account_id)
    return await core.receipts.months(account_id)


@router.get("/statements/{month}", response_model=StatementView,
            summary="My statement for a month (YYYY-MM, UTC)")
async def my_statement(month: str, core: Core, account_id: DriverAccount) -> StatementView:
    _mine(core, account_id)
    return statement_view(await statement_of(core, account_id, month))


@router.get("/statements/{month}/html", response_class=HTMLResponse,
            summary="My statement for a month, as a web page")
async def my_statement_html(month: str, core: Core, account_id: DriverAccount) -> HTMLResponse:
    account = existing(core, account_id)
    return HTMLResponse(statement_html(await statement_of(core, account_id, month), account))
