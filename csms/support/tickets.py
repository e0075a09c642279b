"""The support tables: tickets and their threads, read and written.

Every change to a ticket is one write that reads the ticket, decides, and updates it with its
thread entries, so two agents acting at once cannot both move it from the same status (the
writes are serialised; on PostgreSQL the row is also locked). A refusal is returned from the
write, not raised inside it: a raising write would make the group commit retry its batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.paging import read_page
from csms.support.model import Author, Links, ThreadEntry, Ticket, TicketConflict, TicketNotFound
from csms.support.workflow import Category, Status

_T = t.support_tickets.c
_M = t.support_messages.c


@dataclass(frozen=True, slots=True)
class NewEntry:
    author: Author
    kind: str
    body: str
    internal: bool = False
    details: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What a decision does to a ticket: column values and thread entries."""

    values: dict[str, Any] = field(default_factory=dict)
    entries: Sequence[NewEntry] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    message: str


Decision = Callable[[dict[str, Any]], Change | Refusal]


@dataclass(frozen=True, slots=True)
class TicketQuery:
    statuses: frozenset[Status] = frozenset()
    categories: frozenset[Category] = frozenset()
    account_id: str | None = None
    station_id: str | None = None
    assignee: str | None = None


class TicketStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create(self, account_id: str, category: Category, subject: str, links: Links,
                     author: Author, entries: Iterable[NewEntry]) -> int:
        now = self.clock()
        entries = list(entries)

        async def write(conn: AsyncConnection) -> int:
            result = await conn.execute(insert(t.support_tickets).values(
                account_id=account_id, category=category.value, status=Status.OPEN.value,
                subject=subject, station_id=links.station_id, evse_id=links.evse_id,
                connector_id=links.connector_id, transaction_id=links.transaction_id,
                payment_id=links.payment_id, opened_by=author.name,
                opened_by_role=author.role, created_at=now, updated_at=now,
            ).returning(_T.id))
            ticket_id = result.scalar_one()
            await _insert_entries(conn, ticket_id, entries, now)
            return int(ticket_id)

        return await self.db.write(write)

    async def get(self, ticket_id: int) -> Ticket:
        async def read(conn: AsyncConnection) -> Ticket | None:
            row = (await conn.execute(select(t.support_tickets).where(_T.id == ticket_id))
                   ).mappings().first()
            if row is None:
                return None
            thread = await conn.execute(select(t.support_messages).where(
                _M.ticket_id == ticket_id).order_by(_M.id))
            return Ticket.from_row(row, tuple(ThreadEntry.from_row(r)
                                              for r in thread.mappings()))

        ticket = await self.db.read(read)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    async def change(self, ticket_id: int, decide: Decision) -> Ticket:
        """Apply ``decide``'s change to the ticket as it stands in the database; raises
        :class:`TicketConflict` with its message if it refuses."""
        now = self.clock()

        async def write(conn: AsyncConnection) -> Refusal | None:
            query = select(t.support_tickets).where(_T.id == ticket_id)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return Refusal("")
            decision = decide(dict(row))
            if isinstance(decision, Refusal):
                return decision
            if not decision.values and not decision.entries:
                return None  # nothing changes: the ticket keeps its updated_at
            await conn.execute(update(t.support_tickets).where(_T.id == ticket_id)
                               .values(**decision.values, updated_at=now))
            await _insert_entries(conn, ticket_id, decision.entries, now)
            return None

        refusal = await self.db.write(write)
        if refusal is not None:
            if not refusal.message:
                raise TicketNotFound(ticket_id)
            raise TicketConflict(refusal.message)
        return await self.get(ticket_id)

    async def append(self, ticket_id: int, entry: NewEntry) -> int:
        """Add one entry to the thread whatever the ticket's status (a record of what was
        done, e.g. an action's answer); returns the entry's id."""
        now = self.clock()

        async def write(conn: AsyncConnection) -> int:
            await conn.execute(update(t.support_tickets).where(_T.id == ticket_id)
                               .values(updated_at=now))
            result = await conn.execute(insert(t.support_messages).values(
                ticket_id=ticket_id, at=now, author=entry.author.name,
                author_role=entry.author.role, kind=entry.kind, internal=entry.internal,
                body=entry.body, details=entry.details).returning(_M.id))
            return int(result.scalar_one())

        return await self.db.write(write)

    async def set_facts(self, ticket_id: int, facts: dict[str, Any]) -> None:
        """Store a facts snapshot; not a change an agent made, so ``updated_at`` stays."""
        now = self.clock()
        await self.db.write(lambda conn: conn.execute(
            update(t.support_tickets).where(_T.id == ticket_id).values(facts=facts,
                                                                       facts_at=now)))

    async def query(self, query: TicketQuery, limit: int,
                    offset: int) -> tuple[int, list[Ticket]]:
        """Tickets matching ``query``, most recently changed first, and how many match."""
        conditions = []
        if query.statuses:
            conditions.append(_T.status.in_(sorted(s.value for s in query.statuses)))
        if query.categories:
            conditions.append(_T.category.in_(sorted(c.value for c in query.categories)))
        for column, value in ((_T.account_id, query.account_id),
                              (_T.station_id, query.station_id), (_T.assignee, query.assignee)):
            if value is not None:
                conditions.append(column == value)
        where = and_(true(), *conditions)
        total, rows = await read_page(
            self.db, t.support_tickets, where,
            select(t.support_tickets).order_by(_T.updated_at.desc(), _T.id.desc()),
            limit, offset)
        return total, [Ticket.from_row(r) for r in rows]


async def _insert_entries(conn: AsyncConnection, ticket_id: int, entries: Sequence[NewEntry],
                          at: datetime) -> None:
    if entries:
        await conn.execute(insert(t.support_messages), [{
            "ticket_id": ticket_id, "at": at, "author": e.author.name,
            "author_role": e.author.role, "kind": e.kind, "internal": e.internal,
            "body": e.body, "details": e.details} for e in entries])
