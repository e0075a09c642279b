"""Receipts per session, monthly statements per account and revenue per station and period, all
computed from what is stored: payments, their refunds and the receipts issued.

A receipt is issued once per session (unique per station and transaction), in the same database
transaction that records the session's capture, so a receipt never exists without its payment
nor a settled session without its receipt. Amounts are decimal text in storage and ``Decimal``
here.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from sqlalchemy import and_, func, insert, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.money import Money
from csms.domain.timeutil import Clock, utcnow
from csms.storage import tables as t
from csms.storage.database import Database

Period = Literal["day", "month"]


@dataclass(frozen=True, slots=True)
class Receipt:
    id: str
    account_id: str
    payment_id: str
    station_id: str
    transaction_id: str
    evse_id: int | None
    currency: str
    net: Decimal
    vat_percent: Decimal
    vat: Decimal
    total: Decimal  # the session's cost, VAT included
    paid: Decimal
    outstanding: Decimal
    energy_wh: float | None
    started_at: datetime | None
    stopped_at: datetime | None
    tariff_id: str | None
    tariff_version: int | None
    lines: list[dict[str, Any]]
    issued_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Receipt:
        return cls(row["id"], row["account_id"], row["payment_id"], row["station_id"],
                   row["transaction_id"], row["evse_id"], row["currency"],
                   Decimal(row["net"]), Decimal(row["vat_percent"]), Decimal(row["vat"]),
                   Decimal(row["total"]), Decimal(row["paid"]), Decimal(row["outstanding"]),
                   row["energy_wh"], row["started_at"], row["stopped_at"], row["tariff_id"],
                   row["tariff_version"], list(row["lines"] or []), row["issued_at"])

    def row(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        for name in ("net", "vat_percent", "vat", "total", "paid", "outstanding"):
            values[name] = str(values[name])
        return values


@dataclass(frozen=True, slots=True)
class StatementTotal:
    currency: str
    sessions: int
    charged: Decimal  # sessions paid and fees, when captured
    refunded: Decimal
    outstanding: Decimal  # session costs not paid (declined cards)

    @property
    def net(self) -> Decimal:
        return self.charged - self.refunded


@dataclass(frozen=True, slots=True)
class Statement:
    account_id: str
    month: str  # YYYY-MM
    period_start: datetime
    period_end: datetime  # exclusive
    receipts: list[Receipt]
    fees: list[dict[str, Any]]  # fee payments captured in the month
    refunds: list[dict[str, Any]]  # refunds made in the month, of any payment of the account
    totals: list[StatementTotal]


@dataclass(frozen=True, slots=True)
class RevenueRow:
    station_id: str | None  # None: fees not tied to a station
    period: str  # YYYY-MM-DD or YYYY-MM (UTC)
    currency: str
    payments: int  # payments captured in the period
    captured: Decimal
    refunded: Decimal  # refunds made in the period (of payments of any period)

    @property
    def net(self) -> Decimal:
        return self.captured - self.refunded


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as ``[first instant, first instant of the next month)`` in UTC."""
    try:
        if len(month) != 7:
            raise ValueError(month)
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)") from None
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 \
        else start.replace(month=start.month + 1)
    return start, end


def period_of(moment: datetime, period: Period) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d" if period == "day" else "%Y-%m")


def plain(value: Any) -> Any:
    """A pricing result as JSON can keep it exactly: decimals as text, times in ISO 8601."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


class ReceiptService:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    @staticmethod
    def new_id() -> str:
        return f"rcpt_{secrets.token_hex(10)}"

    @staticmethod
    async def store(conn: AsyncConnection, receipt: Receipt) -> Receipt:
        """Insert ``receipt`` inside the caller's write, unless the session has one already
        (a settlement repeated after a crash): then that one stands."""
        known = (await conn.execute(select(t.receipts).where(
            t.receipts.c.payment_id == receipt.payment_id))).mappings().first()
        if known is not None:
            return Receipt.from_row(known)
        await conn.execute(insert(t.receipts).values(**receipt.row()))
        return receipt

    async def get(self, receipt_id: str) -> Receipt | None:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.receipts).where(
                t.receipts.c.id == receipt_id))).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Receipt.from_row(row)

    async def listing(self, *, account_id: str | None = None, station_id: str | None = None,
                      limit: int = 100, offset: int = 0) -> tuple[int, list[Receipt]]:
        c = t.receipts.c
        where = and_(c.account_id == account_id if account_id else true(),
                     c.station_id == station_id if station_id else true())

        async def read(conn: AsyncConnection) -> tuple[int, list[Any]]:
            total = (await conn.execute(select(func.count()).select_from(t.receipts)
                                        .where(where))).scalar_one()
            rows = (await conn.execute(select(t.receipts).where(where)
                                       .order_by(c.issued_at.desc(), c.id)
                                       .limit(limit).offset(offset))).mappings().all()
            return int(total), list(rows)

        total, rows = await self.db.read(read)
        return total, [Receipt.from_row(r) for r in rows]

    async def statement(self, account_id: str, month: str) -> Statement:
        start, end = month_bounds(month)
        p, r = t.payments.c, t.payment_refunds.c

        async def read(conn: AsyncConnection) -> tuple[list[Any], list[Any], list[Any]]:
            receipts = (await conn.execute(select(t.receipts).where(
                t.receipts.c.account_id == account_id, t.receipts.c.issued_at >= start,
                t.receipts.c.issued_at < end).order_by(t.receipts.c.issued_at))).mappings().all()
            fees = (await conn.execute(select(t.payments).where(
                p.account_id == account_id, p.kind == "fee", p.settled_at >= start,
                p.settled_at < end).order_by(p.settled_at))).mappings().all()
            refunds = (await conn.execute(
                select(t.payment_refunds, p.station_id, p.transaction_id, p.kind)
                .join(t.payments, p.id == r.payment_id)
                .where(p.account_id == account_id, r.status == "succeeded",
                       r.created_at >= start, r.created_at < end)
                .order_by(r.created_at))).mappings().all()
            return list(receipts), list(fees), list(refunds)

        receipt_rows, fee_rows, refund_rows = await self.db.read(read)
        receipts = [Receipt.from_row(row) for row in receipt_rows]
        fees = [{"payment_id": f["id"], "reason": f["reason"], "currency": f["currency"],
                 "amount": f["amount_captured"], "charged_at": f["settled_at"]}
                for f in fee_rows if Decimal(f["amount_captured"]) > 0]
        refunds = [{"refund_id": f["id"], "payment_id": f["payment_id"],
                    "station_id": f["station_id"], "transaction_id": f["transaction_id"],
                    "amount": f["amount"], "currency": f["currency"], "reason": f["reason"],
                    "refunded_at": f["created_at"]} for f in refund_rows]
        sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for receipt in receipts:
            sums[receipt.currency]["sessions"] += 1
            sums[receipt.currency]["charged"] += receipt.paid
            sums[receipt.currency]["outstanding"] += receipt.outstanding
        for fee in fees:
            sums[fee["currency"]]["charged"] += Decimal(fee["amount"])
        for refund in refunds:
            sums[refund["currency"]]["refunded"] += Decimal(refund["amount"])
        totals = [StatementTotal(currency, int(s["sessions"]), s["charged"], s["refunded"],
                                 s["outstanding"]) for currency, s in sorted(sums.items())]
        return Statement(account_id, month, start, end, receipts, fees, refunds, totals)

    async def months(self, account_id: str) -> list[str]:
        """The months (YYYY-MM) in which the account has a receipt, newest first."""
        async def read(conn: AsyncConnection) -> list[datetime]:
            return list((await conn.execute(select(t.receipts.c.issued_at).where(
                t.receipts.c.account_id == account_id))).scalars())

        return sorted({period_of(at, "month") for at in await self.db.read(read)},
                      reverse=True)

    async def revenue(self, since: datetime, until: datetime, period: Period = "month", *,
                      station_id: str | None = None) -> list[RevenueRow]:
        """Captured money by station, period and currency over ``[since, until)``, with the
        refunds made in the same periods; from stored payments only."""
        p, r = t.payments.c, t.payment_refunds.c
        station = p.station_id == station_id if station_id else true()

        async def read(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
            captured = (await conn.execute(select(
                p.station_id, p.currency, p.amount_captured, p.settled_at).where(
                p.settled_at >= since, p.settled_at < until, p.capture_id.is_not(None),
                station))).all()
            refunded = (await conn.execute(select(
                p.station_id, r.currency, r.amount, r.created_at)
                .join(t.payments, p.id == r.payment_id).where(
                r.status == "succeeded", r.created_at >= since, r.created_at < until,
                station))).all()
            return list(captured), list(refunded)

        captured, refunded = await self.db.read(read)
        rows: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(
            lambda: defaultdict(Decimal))
        for station_of, currency, amount, at in captured:
            row = rows[(station_of or "", period_of(at, period), currency)]
            row["payments"] += 1
            row["captured"] += Decimal(amount)
        for station_of, currency, amount, at in refunded:
            rows[(station_of or "", period_of(at, period), currency)]["refunded"] += \
                Decimal(amount)
        return [RevenueRow(station_of or None, when, currency, int(v["payments"]),
                           v["captured"], v["refunded"])
                for (station_of, when, currency), v in sorted(rows.items())]
