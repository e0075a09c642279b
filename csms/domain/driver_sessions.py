"""A driver's charging sessions: the transactions their account paid for (or was asked to pay
for), with the payment and receipt of each.

A session is the account's when a payment of the account names it: the hold placed or used
when it started. A token's sessions from before it was linked to the account (another owner's,
perhaps) are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.payments import SESSION, Payment
from csms.storage import tables as t
from csms.storage.database import Database


@dataclass(frozen=True, slots=True)
class DriverSession:
    transaction: dict[str, Any]
    payment: Payment
    receipt_id: str | None


async def sessions_of(db: Database, account_id: str, *, active: bool | None = None,
                      station_id: str | None = None, transaction_id: str | None = None,
                      limit: int = 50, offset: int = 0) -> list[DriverSession]:
    """The account's sessions, newest first."""
    tx, p, r = t.transactions.c, t.payments.c, t.receipts.c
    where = and_(
        p.account_id == account_id, p.kind == SESSION,
        tx.state == ("Active" if active else "Completed") if active is not None else true(),
        tx.station_id == station_id if station_id else true(),
        tx.ocpp_transaction_id == transaction_id if transaction_id else true())

    async def read(conn: AsyncConnection) -> tuple[list[Any], dict[str, Any]]:
        rows = (await conn.execute(
            select(t.transactions, p.id.label("_payment_id"), r.id.label("_receipt_id"))
            .select_from(t.transactions.join(t.payments, and_(
                p.station_id == tx.station_id, p.transaction_id == tx.ocpp_transaction_id))
                .outerjoin(t.receipts, r.payment_id == p.id))
            .where(where).order_by(tx.started_at.desc(), tx.id.desc())
            .limit(limit).offset(offset))).mappings().all()
        ids = [row["_payment_id"] for row in rows]
        payments = {row["id"]: row for row in (await conn.execute(
            select(t.payments).where(p.id.in_(ids)))).mappings()} if ids else {}
        return list(rows), payments

    rows, payments = await db.read(read)
    found = []
    for row in rows:
        transaction = {k: v for k, v in row.items() if not k.startswith("_")}
        found.append(DriverSession(transaction, Payment.from_row(payments[row["_payment_id"]]),
                                   row["_receipt_id"]))
    return found
