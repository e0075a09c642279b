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


POWER = "Power.Active.Import"
PHASES = ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N")


async def latest_power_w(db: Database, transaction_row_id: int) -> float | None:
    """The power a running session draws now: its latest Power.Active.Import reading (the
    total, or the sum of the phases when the station reports them one by one); None before
    the first reading."""
    m = t.meter_values.c

    # Outlet (the default location) is what goes to the car; Inlet would be the grid side.
    reading = and_(m.transaction_id == transaction_row_id, m.measurand == POWER,
                   m.location.is_(None) | (m.location == "Outlet"))

    async def read(conn: AsyncConnection) -> list[Any]:
        newest = select(m.timestamp).where(reading).order_by(m.timestamp.desc()).limit(1)
        return list((await conn.execute(select(m.phase, m.value).where(
            reading, m.timestamp == newest.scalar_subquery()))).all())

    rows = await db.read(read)
    if not rows:
        return None
    total = [value for phase, value in rows if phase is None]
    if total:
        return float(total[-1])
    return float(sum(value for phase, value in rows if phase in PHASES))
