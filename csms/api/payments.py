"""Payments for operators and support agents: payments and their refunds, receipts, the payment
provider's event log, and revenue by station and period."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Header, HTTPException, Query, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from csms.api.accounts import existing
from csms.api.billing_views import (
    PaymentDetail,
    PaymentResultView,
    PaymentView,
    ProviderEventView,
    ReceiptView,
    RefundBody,
    RevenueReport,
    domain_errors,
    payment_view,
    receipt_view,
    refund_view,
    result_view,
    revenue_row_view,
    unprocessable,
)
from csms.api.schemas import ErrorBody
from csms.api.security import Commander, Core, Reader, actor
from csms.api.transactions import as_utc
from csms.domain.money import Money
from csms.payments.documents import receipt_html

router = APIRouter(prefix="/api", tags=["payments"])

NOT_FOUND = {404: {"model": ErrorBody, "description": "Unknown payment or receipt."}}


class PaymentPage(BaseModel):
    total: int
    payments: list[PaymentView]


@router.get("/payments", response_model=PaymentPage, summary="Payments, newest first")
async def list_payments(core: Core, _: Reader, account_id: str | None = None,
                        station_id: str | None = None, status_: str | None = Query(
                            None, alias="status"),
                        kind: Literal["session", "fee"] | None = None,
                        limit: int = Query(100, ge=1, le=1000),
                        offset: int = Query(0, ge=0)) -> PaymentPage:
    total, payments = await core.payments.listing(
        account_id=account_id, station_id=station_id, status=status_, kind=kind, limit=limit,
        offset=offset)
    return PaymentPage(total=total, payments=[payment_view(p) for p in payments])


@router.get("/payments/{payment_id}", response_model=PaymentDetail, responses=NOT_FOUND,
            summary="One payment with its refunds")
async def get_payment(payment_id: str, core: Core, _: Reader) -> PaymentDetail:
    payment = await core.payments.get(payment_id)
    if payment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no payment {payment_id!r}")
    refunds = await core.payments.refunds(payment_id)
    return PaymentDetail(**payment_view(payment).model_dump(),
                         refunds=[refund_view(r) for r in refunds])


@router.post("/payments/{payment_id}/refunds", response_model=PaymentResultView,
             status_code=status.HTTP_201_CREATED,
             responses={**NOT_FOUND, 409: {"model": ErrorBody, "description":
                        "More than is left to refund, or nothing was captured."}},
             summary="Refund part or all of a captured payment (never more than captured)")
async def refund_payment(payment_id: str, body: RefundBody, core: Core, who: Commander,
                         idempotency_key: str | None = Header(
                             None, max_length=100, description="A repeated request with the "
                                                               "same key refunds once.")
                         ) -> PaymentResultView:
    payment = await core.payments.get(payment_id)
    if payment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no payment {payment_id!r}")
    amount = None if body.amount is None else Money(body.amount, payment.currency)
    with domain_errors():
        result = await core.payments.refund(payment_id, amount, body.reason, actor(who),
                                            idempotency_key=idempotency_key)
    return result_view(result)


@router.get("/payment-provider/events", response_model=list[ProviderEventView],
            summary="What the payment provider reported (holds, captures, refunds, lapses), "
                    "newest first")
async def provider_events(core: Core, _: Reader, payment_id: str | None = None,
                          limit: int = Query(100, ge=1, le=1000)) -> list[ProviderEventView]:
    return [ProviderEventView(**row)
            for row in await core.payments.provider_events(payment_id=payment_id, limit=limit)]


@router.get("/receipts", response_model=list[ReceiptView],
            summary="Session receipts, newest first")
async def list_receipts(core: Core, _: Reader, account_id: str | None = None,
                        station_id: str | None = None, limit: int = Query(100, ge=1, le=1000),
                        offset: int = Query(0, ge=0)) -> list[ReceiptView]:
    _total, receipts = await core.receipts.listing(account_id=account_id, station_id=station_id,
                                                   limit=limit, offset=offset)
    return [receipt_view(r) for r in receipts]


@router.get("/receipts/{receipt_id}", response_model=ReceiptView, responses=NOT_FOUND,
            summary="One receipt")
async def get_receipt(receipt_id: str, core: Core, _: Reader) -> ReceiptView:
    receipt = await core.receipts.get(receipt_id)
    if receipt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no receipt {receipt_id!r}")
    return receipt_view(receipt)


@router.get("/receipts/{receipt_id}/html", response_class=HTMLResponse, responses=NOT_FOUND,
            summary="One receipt as a web page")
async def get_receipt_html(receipt_id: str, core: Core, _: Reader) -> HTMLResponse:
    receipt = await core.receipts.get(receipt_id)
    if receipt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no receipt {receipt_id!r}")
    return HTMLResponse(receipt_html(receipt, existing(core, receipt.account_id)))


@router.get("/revenue", response_model=RevenueReport,
            summary="Revenue by station and period (captured, refunded, net per currency)")
async def revenue(core: Core, _: Reader,
                  since: datetime | None = Query(None, description="Default: the start of "
                                                                   "this month (UTC)."),
                  until: datetime | None = Query(None, description="Exclusive; default: now."),
                  period: Literal["day", "month"] = "month",
                  station_id: str | None = None) -> RevenueReport:
    now = core.clock()
    start = as_utc(since) or now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0,
                                                         microsecond=0)
    end = as_utc(until) or now
    if end <= start:
        raise unprocessable("until", "must be after since", "query")
    rows = await core.receipts.revenue(start, end, period, station_id=station_id)
    return RevenueReport(since=start, until=end, period=period,
                         rows=[revenue_row_view(r) for r in rows])
