"""A ticket, an entry of its thread, the links a ticket may have, and the service's errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csms.support.workflow import Category, Status

# Who wrote a thread entry that no person wrote (the facts gatherer, automatic moves).
SYSTEM_AUTHOR = "csms"


@dataclass(frozen=True, slots=True)
class Links:
    """What a ticket is about; each part optional. A session is named by its station and
    OCPP transaction id."""

    station_id: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    transaction_id: str | None = None
    payment_id: str | None = None


@dataclass(frozen=True, slots=True)
class Author:
    """Who did something to a ticket: a driver (name = account id) or an agent (name = the API
    token's name, role = its role)."""

    name: str
    role: str

    @property
    def is_driver(self) -> bool:
        return self.role == "driver"


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    id: int
    ticket_id: int
    at: datetime
    author: str
    author_role: str
    kind: str  # message, note, status, assignment, action
    internal: bool
    body: str
    details: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: Any) -> ThreadEntry:
        return cls(row["id"], row["ticket_id"], row["at"], row["author"], row["author_role"],
                   row["kind"], row["internal"], row["body"], row["details"])


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    account_id: str
    category: Category
    status: Status
    subject: str
    links: Links
    assignee: str | None
    opened_by: str
    opened_by_role: str
    facts: dict[str, Any] | None
    facts_at: datetime | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    thread: tuple[ThreadEntry, ...] = field(default=())

    @classmethod
    def from_row(cls, row: Any, thread: tuple[ThreadEntry, ...] = ()) -> Ticket:
        return cls(
            id=row["id"], account_id=row["account_id"], category=Category(row["category"]),
            status=Status(row["status"]), subject=row["subject"],
            links=Links(row["station_id"], row["evse_id"], row["connector_id"],
                        row["transaction_id"], row["payment_id"]),
            assignee=row["assignee"], opened_by=row["opened_by"],
            opened_by_role=row["opened_by_role"], facts=row["facts"], facts_at=row["facts_at"],
            created_at=row["created_at"], updated_at=row["updated_at"],
            resolved_at=row["resolved_at"], closed_at=row["closed_at"], thread=thread)

    def visible_thread(self, *, driver: bool) -> tuple[ThreadEntry, ...]:
        """The thread as ``driver`` or an agent sees it: drivers never see internal notes."""
        return tuple(e for e in self.thread if not (driver and e.internal))


class SupportError(Exception):
    """A request the support service refuses; the API maps each kind to a status code."""


class TicketNotFound(SupportError):
    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no ticket {ticket_id}")
        self.ticket_id = ticket_id


class NotYourTicket(SupportError):
    """A driver asked about another account's ticket."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"ticket {ticket_id} belongs to another account")


class TicketConflict(SupportError):
    """The ticket's state does not allow it (an invalid transition, a closed ticket, a session
    that already ended, ...)."""


class InvalidInput(SupportError):
    """A field of the request names something that does not exist or does not fit."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class NotAvailable(SupportError):
    """The CSMS runs without the service this needs (e.g. no payments configured)."""
