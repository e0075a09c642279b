"""The outbox and the delivery log in the database.

A notification is stored together with one delivery per webhook it goes to, in one commit,
before anything is sent: a restart finds the deliveries still pending and sends them. Each
attempt is recorded (time, status code, latency, error, outcome) with the delivery's new state
in one commit too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.notifications.model import COALESCED, HELD, SENT, Notification
from csms.notifications.webhook_targets import Webhook
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.paging import read_page

PENDING, DELIVERED, DEAD, CANCELLED = "pending", "delivered", "dead", "cancelled"
DELIVERY_STATES = (PENDING, DELIVERED, DEAD, CANCELLED)
REPLAY_LIMIT = 100
PURGE_BATCH = 2000

_n = t.notifications.c
_d = t.notification_deliveries.c
_a = t.notification_attempts.c


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one attempt to deliver went."""

    at: datetime
    number: int  # 1 for the first attempt of a round
    status_code: int | None
    latency_ms: float
    error: str | None
    outcome: str  # delivered, retry, dead


def notification_of(row: dict[str, Any]) -> Notification:
    return Notification(row["id"], row["account_id"], row["kind"], row["data"],
                        row["created_at"])


def _delivery_rows(notification_id: int, account_id: str, webhooks: Sequence[Webhook],
                   now: datetime) -> list[dict[str, Any]]:
    return [{"notification_id": notification_id, "webhook_id": w.id, "account_id": account_id,
             "url": w.url, "state": PENDING, "attempts": 0, "next_attempt_at": now,
             "created_at": now, "updated_at": now} for w in webhooks]


async def _insert_deliveries(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    ids = []
    for row in rows:  # one by one: RETURNING of a multi-row insert is not portable
        ids.append((await conn.execute(insert(t.notification_deliveries).values(**row)
                                       .returning(_d.id))).scalar_one())
    return ids


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the outbox ------------------------------------------------------------------------------

    async def add(self, account_id: str, kind: str, data: dict[str, Any],
                  dedup_key: str | None, now: datetime, *, held: bool = False,
                  webhooks: Sequence[Webhook] = (), coalesces: int | None = None,
                  ) -> tuple[Notification, list[int]]:
        """Store a notification (sent, with its deliveries; or held) and, if it replaces a held
        one, mark that one coalesced; returns it and its delivery ids."""
        async def write(conn: AsyncConnection) -> tuple[int, list[int]]:
            if coalesces is not None:
                await conn.execute(update(t.notifications).where(
                    and_(_n.id == coalesces, _n.state == HELD)).values(state=COALESCED))
            notification_id = (await conn.execute(insert(t.notifications).values(
                account_id=account_id, kind=kind, data=data, dedup_key=dedup_key,
                state=HELD if held else SENT, created_at=now,
                sent_at=None if held else now).returning(_n.id))).scalar_one()
            deliveries = [] if held else await _insert_deliveries(
                conn, _delivery_rows(notification_id, account_id, webhooks, now))
            return notification_id, deliveries

        notification_id, deliveries = await self.db.write(write)
        return Notification(notification_id, account_id, kind, data, now), deliveries

    async def release(self, notification: Notification, webhooks: Sequence[Webhook],
                      now: datetime) -> list[int] | None:
        """Send a held notification now: its deliveries; None if it is no longer held."""
        async def write(conn: AsyncConnection) -> list[int] | None:
            changed = await conn.execute(update(t.notifications).where(
                and_(_n.id == notification.id, _n.state == HELD)).values(state=SENT,
                                                                          sent_at=now))
            if changed.rowcount != 1:
                return None
            return await _insert_deliveries(conn, _delivery_rows(
                notification.id, notification.account_id, webhooks, now))

        return await self.db.write(write)

    async def held(self) -> list[Notification]:
        """Notifications still held back by the rate limit, oldest first."""
        async def read(conn: AsyncConnection) -> list[Notification]:
            rows = await conn.execute(select(t.notifications).where(_n.state == HELD)
                                      .order_by(_n.id))
            return [notification_of(dict(r)) for r in rows.mappings()]

        return await self.db.read(read)

    async def coalesce(self, notification_ids: Sequence[int]) -> None:
        if notification_ids:
            await self.db.write(lambda conn: conn.execute(update(t.notifications).where(
                and_(_n.id.in_(list(notification_ids)), _n.state == HELD)).values(
                state=COALESCED)))

    async def dedup_keys_since(self, since: datetime) -> list[tuple[str, str, datetime]]:
        async def read(conn: AsyncConnection) -> list[tuple[str, str, datetime]]:
            rows = await conn.execute(select(_n.account_id, _n.dedup_key, _n.created_at).where(
                and_(_n.created_at >= since, _n.dedup_key.is_not(None))).order_by(_n.id))
            return [(r.account_id, r.dedup_key, r.created_at) for r in rows]

        return await self.db.read(read)

    async def after(self, account_id: str, last_id: int,
                    limit: int = REPLAY_LIMIT) -> list[Notification]:
        """The account's sent notifications after ``last_id`` (a live stream resuming)."""
        async def read(conn: AsyncConnection) -> list[Notification]:
            rows = await conn.execute(select(t.notifications).where(and_(
                _n.account_id == account_id, _n.id > last_id, _n.state == SENT))
                .order_by(_n.id).limit(limit))
            return [notification_of(dict(r)) for r in rows.mappings()]

        return await self.db.read(read)

    async def purge(self, before: datetime) -> int:
        """Forget notifications created before ``before`` with their deliveries and attempts,
        except those still held or with a delivery still pending; returns how many went. In
        batches, so no single commit holds the writer long."""
        async def write(conn: AsyncConnection) -> int:
            busy = select(_d.notification_id).where(_d.state == PENDING)
            ids = list((await conn.execute(select(_n.id).where(and_(
                _n.created_at < before, _n.state != HELD, _n.id.not_in(busy)))
                .order_by(_n.id).limit(PURGE_BATCH))).scalars())
            if ids:
                deliveries = select(_d.id).where(_d.notification_id.in_(ids))
                await conn.execute(delete(t.notification_attempts).where(
                    _a.delivery_id.in_(deliveries)))
                await conn.execute(delete(t.notification_deliveries).where(
                    _d.notification_id.in_(ids)))
                await conn.execute(delete(t.notifications).where(_n.id.in_(ids)))
            return len(ids)

        total = 0
        while (purged := await self.db.write(write)) > 0:
            total += purged
            if purged < PURGE_BATCH:
                break
        return total

    # -- deliveries ------------------------------------------------------------------------------

    async def pending(self) -> list[tuple[int, datetime | None]]:
        """(delivery id, next attempt time) of every delivery still to make."""
        async def read(conn: AsyncConnection) -> list[tuple[int, datetime | None]]:
            rows = await conn.execute(select(_d.id, _d.next_attempt_at)
                                      .where(_d.state == PENDING).order_by(_d.id))
            return [(r.id, r.next_attempt_at) for r in rows]

        return await self.db.read(read)

    async def for_attempt(self, delivery_id: int
                          ) -> tuple[dict[str, Any], Notification] | None:
        """A pending delivery and its notification, or None if it is no longer pending."""
        async def read(conn: AsyncConnection) -> tuple[dict[str, Any], Notification] | None:
            delivery = (await conn.execute(select(t.notification_deliveries).where(
                and_(_d.id == delivery_id, _d.state == PENDING)))).mappings().first()
            if delivery is None:
                return None
            notification = (await conn.execute(select(t.notifications).where(
                _n.id == delivery["notification_id"]))).mappings().one()
            return dict(delivery), notification_of(dict(notification))

        return await self.db.read(read)

    async def record(self, delivery_id: int, attempt: Attempt,
                     next_attempt_at: datetime | None) -> dict[str, Any] | None:
        """Log ``attempt`` and move the delivery on (delivered, retry at ``next_attempt_at``,
        dead); returns the delivery as it now stands (None if it was no longer pending)."""
        state = {"delivered": DELIVERED, "dead": DEAD}.get(attempt.outcome, PENDING)
        changes: dict[str, Any] = {
            "state": state, "attempts": attempt.number, "next_attempt_at": next_attempt_at,
            "last_status_code": attempt.status_code, "last_error": attempt.error,
            "updated_at": attempt.at}
        if state == DELIVERED:
            changes["delivered_at"] = attempt.at
        elif state == DEAD:
            changes["dead_at"] = attempt.at

        async def write(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(update(t.notification_deliveries).where(
                and_(_d.id == delivery_id, _d.state == PENDING)).values(**changes)
                .returning(*t.notification_deliveries.c))).mappings().first()
            if row is None:
                return None
            await conn.execute(insert(t.notification_attempts).values(
                delivery_id=delivery_id, at=attempt.at, attempt=attempt.number,
                status_code=attempt.status_code, latency_ms=round(attempt.latency_ms, 3),
                error=attempt.error, outcome=attempt.outcome))
            return dict(row)

        return await self.db.write(write)

    async def redeliver(self, delivery_id: int, by: str, now: datetime
                        ) -> dict[str, Any] | None:
        """A dead letter back to pending for a new round of attempts (None if it is not one)."""
        async def write(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(update(t.notification_deliveries).where(
                and_(_d.id == delivery_id, _d.state == DEAD)).values(
                state=PENDING, attempts=0, next_attempt_at=now, updated_at=now,
                redelivered_by=by).returning(*t.notification_deliveries.c))).mappings().first()
            return dict(row) if row else None

        return await self.db.write(write)

    @staticmethod
    async def cancel_for_webhook(conn: AsyncConnection, webhook_id: int, now: datetime) -> None:
        await conn.execute(update(t.notification_deliveries).where(
            and_(_d.webhook_id == webhook_id, _d.state == PENDING)).values(
            state=CANCELLED, next_attempt_at=None, updated_at=now,
            last_error="the webhook was deleted"))

    # -- the logs --------------------------------------------------------------------------------

    async def notifications_page(self, account_id: str, kind: str | None, limit: int,
                                 offset: int) -> tuple[int, list[dict[str, Any]]]:
        """The account's notifications, newest first, each with its deliveries."""
        where = _n.account_id == account_id
        if kind:
            where = and_(where, _n.kind.startswith(kind.rstrip(".")))
        total, rows = await read_page(self.db, t.notifications, where,
                                      select(t.notifications).order_by(_n.id.desc()),
                                      limit, offset)
        deliveries = await self._deliveries_of([r["id"] for r in rows])
        for row in rows:
            row["deliveries"] = deliveries.get(row["id"], [])
        return total, rows

    async def notification(self, account_id: str, notification_id: int
                           ) -> dict[str, Any] | None:
        """One of the account's notifications with its deliveries and their attempts."""
        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.notifications).where(and_(
                _n.id == notification_id, _n.account_id == account_id)))).mappings().first()
            return dict(row) if row else None

        row = await self.db.read(read)
        if row is None:
            return None
        deliveries = (await self._deliveries_of([notification_id])).get(notification_id, [])
        attempts = await self._attempts_of([d["id"] for d in deliveries])
        for delivery in deliveries:
            delivery["attempt_log"] = attempts.get(delivery["id"], [])
        row["deliveries"] = deliveries
        return row

    async def deliveries_page(self, *, state: str | None, account_id: str | None,
                              webhook_id: int | None, limit: int, offset: int
                              ) -> tuple[int, list[dict[str, Any]]]:
        """Deliveries, newest first (an operator's view; dead letters with state=dead)."""
        where: Any = true()
        if state:
            where = and_(where, _d.state == state)
        if account_id:
            where = and_(where, _d.account_id == account_id)
        if webhook_id is not None:
            where = and_(where, _d.webhook_id == webhook_id)
        query = select(t.notification_deliveries, _n.kind).join(
            t.notifications, _n.id == _d.notification_id).order_by(_d.id.desc())
        return await read_page(self.db, t.notification_deliveries, where, query, limit, offset)

    async def delivery(self, delivery_id: int) -> dict[str, Any] | None:
        """One delivery with its notification's kind and every attempt."""
        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.notification_deliveries, _n.kind).join(
                t.notifications, _n.id == _d.notification_id).where(_d.id == delivery_id))
            ).mappings().first()
            return dict(row) if row else None

        row = await self.db.read(read)
        if row is not None:
            row["attempt_log"] = (await self._attempts_of([delivery_id])).get(delivery_id, [])
        return row

    async def _deliveries_of(self, notification_ids: list[int]
                             ) -> dict[int, list[dict[str, Any]]]:
        if not notification_ids:
            return {}

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.notification_deliveries).where(
                _d.notification_id.in_(notification_ids)).order_by(_d.id))
            return [dict(r) for r in rows.mappings()]

        found: dict[int, list[dict[str, Any]]] = {}
        for row in await self.db.read(read):
            found.setdefault(row["notification_id"], []).append(row)
        return found

    async def _attempts_of(self, delivery_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not delivery_ids:
            return {}

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.notification_attempts).where(
                _a.delivery_id.in_(delivery_ids)).order_by(_a.id))
            return [dict(r) for r in rows.mappings()]

        found: dict[int, list[dict[str, Any]]] = {}
        for row in await self.db.read(read):
            found.setdefault(row["delivery_id"], []).append(row)
        return found
