"""Payments as stored: the records (a session's or a fee's payment, its refunds), their
statuses, and the reads the payment service and the APIs make of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.money import Money
from csms.domain.transactions import COMPLETED
from csms.storage import tables as t
from csms.storage.database import Database

SESSION, FEE = "session", "fee"
PENDING, AUTHORIZED, DECLINED = "pending", "authorized", "declined"
CAPTURED, RELEASED, EXPIRED, UNPAID = "captured", "released", "expired", "unpaid"
PARTIALLY_REFUNDED, REFUNDED = "partially_refunded", "refunded"
REFUNDABLE = frozenset({CAPTURED, PARTIALLY_REFUNDED})

SessionKey = tuple[str, str]  # (station id, OCPP transaction id)
_p = t.payments.c


class PaymentNotFound(LookupError):
    pass


class PaymentRefused(Exception):
    """A request that conflicts with the payment's state (409 in the API): a refund beyond
    what was captured, of a payment that captured nothing, an idempotency key reused."""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    payment_id: str
    status: str
    amount: Money
    reason: str | None = None
    decline_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.status not in (DECLINED, PENDING)


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    account_id: str
    kind: str
    status: str
    currency: str
    method_id: str | None
    provider: str
    authorization_id: str | None
    capture_id: str | None
    held: Decimal
    captured: Decimal
    refunded: Decimal
    outstanding: Decimal
    due: Decimal | None  # the final cost of a session, or the fee
    station_id: str | None
    evse_id: int | None
    transaction_id: str | None
    id_token: str | None
    reason: str | None
    decline_code: str | None
    stop_requested_at: datetime | None
    created_at: datetime
    updated_at: datetime
    settled_at: datetime | None

    @property
    def refundable(self) -> Decimal:
        return self.captured - self.refunded

    @classmethod
    def from_row(cls, row: Any) -> Payment:
        due = row["amount_due"]
        return cls(row["id"], row["account_id"], row["kind"], row["status"], row["currency"],
                   row["method_id"], row["provider"], row["authorization_id"],
                   row["capture_id"], Decimal(row["amount_held"]),
                   Decimal(row["amount_captured"]), Decimal(row["amount_refunded"]),
                   Decimal(row["amount_outstanding"]), None if due is None else Decimal(due),
                   row["station_id"], row["evse_id"], row["transaction_id"], row["id_token"],
                   row["reason"], row["decline_code"], row["stop_requested_at"],
                   row["created_at"], row["updated_at"], row["settled_at"])


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    payment_id: str
    status: str
    amount: Decimal
    currency: str
    reason: str
    actor: str
    actor_role: str
    provider_refund_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Refund:
        return cls(row["id"], row["payment_id"], row["status"], Decimal(row["amount"]),
                   row["currency"], row["reason"], row["actor"], row["actor_role"],
                   row["provider_refund_id"], row["created_at"])


class PaymentRecords:
    """Reads of the ``payments``, ``payment_refunds`` and ``payment_provider_events`` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, payment_id: str) -> Payment | None:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.payments).where(_p.id == payment_id))
                    ).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Payment.from_row(row)

    async def for_session(self, station_id: str, transaction_id: str) -> Payment | None:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.payments).where(
                _p.station_id == station_id, _p.transaction_id == transaction_id,
                _p.kind == SESSION).order_by(_p.created_at.desc()))).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Payment.from_row(row)

    async def listing(self, *, account_id: str | None = None, station_id: str | None = None,
                      status: str | None = None, kind: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[Payment]]:
        where = and_(_p.account_id == account_id if account_id else true(),
                     _p.station_id == station_id if station_id else true(),
                     _p.status == status if status else true(),
                     _p.kind == kind if kind else true())

        async def read(conn: AsyncConnection) -> tuple[int, list[Any]]:
            total = (await conn.execute(select(func.count()).select_from(t.payments)
                                        .where(where))).scalar_one()
            rows = (await conn.execute(select(t.payments).where(where).order_by(
                _p.created_at.desc(), _p.id).limit(limit).offset(offset))).mappings().all()
            return int(total), list(rows)

        total, rows = await self.db.read(read)
        return total, [Payment.from_row(r) for r in rows]

    async def refunds(self, payment_id: str) -> list[Refund]:
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(t.payment_refunds).where(
                t.payment_refunds.c.payment_id == payment_id).order_by(
                t.payment_refunds.c.created_at))).mappings())

        return [Refund.from_row(r) for r in await self.db.read(read)]

    async def provider_events(self, *, payment_id: str | None = None,
                              limit: int = 100) -> list[dict[str, Any]]:
        e = t.payment_provider_events.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.payment_provider_events).where(
                e.payment_id == payment_id if payment_id else true()).order_by(
                e.id.desc()).limit(limit))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    async def by_key(self, idempotency_key: str) -> Payment | None:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.payments).where(
                _p.idempotency_key == idempotency_key))).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Payment.from_row(row)

    async def refund_by_key(self, idempotency_key: str) -> Refund | None:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.payment_refunds).where(
                t.payment_refunds.c.idempotency_key == idempotency_key,
                t.payment_refunds.c.status == "succeeded"))).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Refund.from_row(row)

    async def reference_of(self, method_id: str | None) -> str:
        """The provider's card reference of a payment method, removed ones included."""
        async def read(conn: AsyncConnection) -> str | None:
            return (await conn.execute(select(t.payment_methods.c.reference).where(
                t.payment_methods.c.id == method_id))).scalar()

        return await self.db.read(read) or ""

    async def pending(self) -> list[Payment]:
        """Session payments whose provider answer was never recorded."""
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(t.payments).where(
                _p.status == PENDING, _p.kind == SESSION))).mappings())

        return [Payment.from_row(row) for row in await self.db.read(read)]

    async def ended_unsettled(self) -> list[SessionKey]:
        """Sessions that ended with their payment not settled (a restart in between)."""
        tx = t.transactions.c

        async def read(conn: AsyncConnection) -> list[SessionKey]:
            rows = await conn.execute(select(_p.station_id, _p.transaction_id).join(
                t.transactions, and_(tx.station_id == _p.station_id,
                                     tx.ocpp_transaction_id == _p.transaction_id)).where(
                _p.kind == SESSION, _p.settled_at.is_(None), tx.state == COMPLETED))
            return [(station, transaction) for station, transaction in rows]

        return await self.db.read(read)
