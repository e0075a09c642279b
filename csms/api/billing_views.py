"""Bodies of the accounts, payments and driver APIs, and how their domain errors become HTTP
answers. Money is decimal text in JSON ("12.34"): exact, whatever the client's number type."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from fastapi import HTTPException, status
from pydantic import BaseModel, Field, field_validator

from csms.domain.accounts import (
    TOKEN_TYPES,
    Account,
    AccountConflict,
    AccountNotFound,
    InvalidField,
    PaymentMethod,
    check_currency,
    check_email,
)
from csms.domain.authorization import TokenRecord
from csms.domain.money import to_minor
from csms.domain.payments import Payment, PaymentNotFound, PaymentRefused, PaymentResult, Refund
from csms.domain.receipts import Receipt, RevenueRow, Statement
from csms.payments.provider import CardRejected

TokenType = Literal["ISO14443", "ISO15693", "Central", "eMAID", "KeyCode", "Local", "MacAddress"]
assert set(get_args(TokenType)) == set(TOKEN_TYPES)  # one list of token types


def money(amount: Decimal, currency: str) -> str:
    """An amount as the driver reads it: to the currency's minor unit ("0.00", not "0")."""
    return str(to_minor(amount, currency))


def unprocessable(field: str, message: str, where: str = "body") -> HTTPException:
    return HTTPException(422, [{"loc": [where, field], "msg": message, "type": "value_error"}])


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """Domain refusals as HTTP answers: 422 naming the field, 409 conflicts, 404 missing."""
    try:
        yield
    except InvalidField as error:
        raise unprocessable(error.field, str(error)) from error
    except CardRejected as error:
        field = "exp_month" if error.code in ("expired_card", "invalid_expiry") \
            else "test_funds" if error.code == "invalid_funds" else "card_number"
        raise unprocessable(field, str(error)) from error
    except (AccountConflict, PaymentRefused) as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except (AccountNotFound, PaymentNotFound) as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error.args[0])) from error


# -- accounts ------------------------------------------------------------------------------------

class AccountCreate(BaseModel):
    id: str | None = Field(None, min_length=1, max_length=64,
                           description="The account id; default: one is made (acc_...).")
    name: str = Field(min_length=1, max_length=100)
    email: str = Field(max_length=254)
    currency: str = Field("EUR", description="ISO 4217: statements, and holds where no "
                                             "tariff applies.")
    status: Literal["active", "suspended"] = "active"

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return check_email(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)


class AccountPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    email: str | None = Field(None, max_length=254)
    status: Literal["active", "suspended"] | None = Field(
        None, description="A suspended account's tokens are Blocked at every station.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else check_email(value)


class AccountView(BaseModel):
    id: str
    name: str
    email: str
    currency: str
    status: Literal["active", "suspended"]
    created_at: datetime
    updated_at: datetime


class PaymentMethodView(BaseModel):
    id: str
    provider: str
    brand: str
    last4: str = Field(description="The card's last four digits; the number is never stored.")
    exp_month: int
    exp_year: int
    is_default: bool
    created_at: datetime


class LinkedTokenView(BaseModel):
    token: str
    type: str
    status: str = Field(description="The token's own status (Accepted, Blocked, ...).")


class AccountDetail(AccountView):
    tokens: list[LinkedTokenView]
    payment_methods: list[PaymentMethodView]


class TokenLink(BaseModel):
    token: str = Field(min_length=1, max_length=36, description="The OCPP idToken / idTag.")
    type: TokenType = Field("ISO14443", description="RFID cards: ISO14443 or ISO15693; app "
                                                    "tokens: Central or eMAID; ad-hoc codes "
                                                    "(QR, keypad): KeyCode.")


class CardBody(BaseModel):
    card_number: str = Field(min_length=12, max_length=23, description=(
        "Given to the payment provider only; the CSMS keeps its reference, brand, last four "
        "digits and expiry. Test provider: 4242 4242 4242 4242 pays; 4000 0000 0000 9995 is "
        "short of funds, ...0069 expired, ...0002 refused by its issuer."))
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    make_default: bool = Field(False, description="The first card is the default anyway.")
    test_funds: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2,
                                       description="Test provider only: the card's spending "
                                                   "room (default 1000.00).")


def account_view(account: Account) -> AccountView:
    return AccountView(id=account.id, name=account.name, email=account.email,
                       currency=account.currency, status=account.status,  # type: ignore[arg-type]
                       created_at=account.created_at, updated_at=account.updated_at)


def method_view(method: PaymentMethod) -> PaymentMethodView:
    return PaymentMethodView(id=method.id, provider=method.provider, brand=method.brand,
                             last4=method.last4, exp_month=method.exp_month,
                             exp_year=method.exp_year, is_default=method.is_default,
                             created_at=method.created_at)


def token_view(record: TokenRecord) -> LinkedTokenView:
    return LinkedTokenView(token=record.token, type=record.type, status=record.status)


# -- payments ------------------------------------------------------------------------------------

class PaymentView(BaseModel):
    id: str
    account_id: str
    kind: Literal["session", "fee"]
    status: str = Field(description="pending, authorized, declined, captured, released, "
                                    "expired, unpaid, partially_refunded, refunded")
    currency: str
    held: str = Field(description="The hold on the card (the amount authorised).")
    captured: str
    refunded: str
    outstanding: str = Field(description="Owed but not paid (a declined card).")
    due: str | None = Field(description="A session's final cost, or the fee.")
    station_id: str | None
    evse_id: int | None
    transaction_id: str | None
    id_token: str | None
    reason: str | None
    decline_code: str | None
    method_id: str | None
    stop_requested_at: datetime | None = Field(
        description="When the CSMS stopped the session because nobody pays for it.")
    created_at: datetime
    updated_at: datetime
    settled_at: datetime | None


class RefundView(BaseModel):
    id: str
    payment_id: str
    status: Literal["pending", "succeeded", "refused"]
    amount: str
    currency: str
    reason: str
    actor: str
    actor_role: str
    created_at: datetime


class PaymentDetail(PaymentView):
    refunds: list[RefundView]


class RefundBody(BaseModel):
    amount: Decimal | None = Field(None, gt=0, max_digits=14,
                                   description="What to give back; none: all that is left.")
    reason: str = Field(min_length=1, max_length=255)


class PaymentResultView(BaseModel):
    payment_id: str
    status: str
    amount: str
    currency: str
    reason: str | None
    decline_code: str | None


class ProviderEventView(BaseModel):
    id: int
    provider: str
    event_id: str
    kind: str
    object_id: str
    payment_id: str | None
    data: dict[str, Any]
    occurred_at: datetime
    received_at: datetime


def payment_view(payment: Payment) -> PaymentView:
    currency = payment.currency
    return PaymentView(
        id=payment.id, account_id=payment.account_id, kind=payment.kind,  # type: ignore[arg-type]
        status=payment.status, currency=payment.currency, held=money(payment.held, currency),
        captured=money(payment.captured, currency), refunded=money(payment.refunded, currency),
        outstanding=money(payment.outstanding, currency),
        due=None if payment.due is None else money(payment.due, currency),
        station_id=payment.station_id,
        evse_id=payment.evse_id, transaction_id=payment.transaction_id,
        id_token=payment.id_token, reason=payment.reason, decline_code=payment.decline_code,
        method_id=payment.method_id, stop_requested_at=payment.stop_requested_at,
        created_at=payment.created_at, updated_at=payment.updated_at,
        settled_at=payment.settled_at)


def refund_view(refund: Refund) -> RefundView:
    return RefundView(id=refund.id, payment_id=refund.payment_id,
                      status=refund.status,  # type: ignore[arg-type]
                      amount=money(refund.amount, refund.currency), currency=refund.currency,
                      reason=refund.reason,
                      actor=refund.actor, actor_role=refund.actor_role,
                      created_at=refund.created_at)


def result_view(result: PaymentResult) -> PaymentResultView:
    return PaymentResultView(payment_id=result.payment_id, status=result.status,
                             amount=money(result.amount.amount, result.amount.currency),
                             currency=result.amount.currency,
                             reason=result.reason, decline_code=result.decline_code)


# -- receipts, statements, revenue ---------------------------------------------------------------

class ReceiptView(BaseModel):
    id: str
    account_id: str
    payment_id: str
    station_id: str
    transaction_id: str
    evse_id: int | None
    currency: str
    net: str
    vat_percent: str
    vat: str
    total: str = Field(description="The session's cost, VAT included.")
    paid: str
    outstanding: str
    energy_wh: float | None
    started_at: datetime | None
    stopped_at: datetime | None
    tariff_id: str | None
    tariff_version: int | None
    lines: list[dict[str, Any]] = Field(description="The pricing lines: kind, band, "
                                                    "quantity, unit, unit_price, amount.")
    issued_at: datetime


class StatementFee(BaseModel):
    payment_id: str
    reason: str | None
    currency: str
    amount: str
    charged_at: datetime


class StatementRefund(BaseModel):
    refund_id: str
    payment_id: str
    station_id: str | None
    transaction_id: str | None
    amount: str
    currency: str
    reason: str
    refunded_at: datetime


class StatementTotalView(BaseModel):
    currency: str
    sessions: int
    charged: str
    refunded: str
    net: str
    outstanding: str


class StatementView(BaseModel):
    account_id: str
    month: str
    period_start: datetime
    period_end: datetime = Field(description="Exclusive.")
    receipts: list[ReceiptView]
    fees: list[StatementFee]
    refunds: list[StatementRefund]
    totals: list[StatementTotalView]


class RevenueRowView(BaseModel):
    station_id: str | None = Field(description="None: fees not tied to a station.")
    period: str
    currency: str
    payments: int = Field(description="Payments captured in the period.")
    captured: str
    refunded: str = Field(description="Refunds made in the period.")
    net: str


class RevenueReport(BaseModel):
    since: datetime
    until: datetime
    period: Literal["day", "month"]
    rows: list[RevenueRowView]


def receipt_view(receipt: Receipt) -> ReceiptView:
    return ReceiptView(**receipt.row())


def statement_view(statement: Statement) -> StatementView:
    return StatementView(
        account_id=statement.account_id, month=statement.month,
        period_start=statement.period_start, period_end=statement.period_end,
        receipts=[receipt_view(r) for r in statement.receipts],
        fees=[StatementFee(**f) for f in statement.fees],
        refunds=[StatementRefund(**r) for r in statement.refunds],
        totals=[StatementTotalView(currency=s.currency, sessions=s.sessions,
                                   charged=money(s.charged, s.currency),
                                   refunded=money(s.refunded, s.currency),
                                   net=money(s.net, s.currency),
                                   outstanding=money(s.outstanding, s.currency))
                for s in statement.totals])


def revenue_row_view(row: RevenueRow) -> RevenueRowView:
    return RevenueRowView(station_id=row.station_id, period=row.period, currency=row.currency,
                          payments=row.payments, captured=money(row.captured, row.currency),
                          refunded=money(row.refunded, row.currency),
                          net=money(row.net, row.currency))
