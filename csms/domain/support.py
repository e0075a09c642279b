"""User support (``core.support``): tickets, the facts an agent needs, agent actions, and an
agent's view of one driver.

A ticket is opened by a driver (``/api/me/tickets``) or by an agent on an account's behalf,
about a station, a session and/or a payment. Its thread holds driver and agent messages,
internal notes drivers never see, status changes, assignments and agent actions with the
station's answers. Statuses and their transitions: :mod:`csms.support.workflow`.

Events (``core.events``), each with ``account_id``, ``ticket_id``, ``status``, ``category``,
``station_id``, ``change`` (opened, status, message, assignment, links, action), ``by``
(driver or agent) and ``internal`` (true for assignment and links: not for the driver):
``ticket.opened``; ``ticket.resolved`` when it becomes resolved; ``ticket.updated`` for any
other change a driver may see or an agent must know. Internal notes publish nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from csms.support.actions import ActionResult, AgentActions
from csms.support.agent_view import AgentView
from csms.support.facts import FactGatherer
from csms.support.model import (
    Author,
    InvalidInput,
    Links,
    NotYourTicket,
    SupportError,
    Ticket,
    TicketConflict,
)
from csms.support.tickets import Change, NewEntry, Refusal, TicketQuery, TicketStore
from csms.support.workflow import (
    AFTER_DRIVER_MESSAGE,
    Category,
    Status,
    allowed_text,
    may_move,
)

if TYPE_CHECKING:
    from csms.core import CsmsCore

log = logging.getLogger("chargeloop.csms.support")

DEFAULT_SUBJECTS = {
    Category.CABLE_STUCK: "The cable is stuck",
    Category.WONT_START: "The session does not start",
    Category.WRONG_CHARGE: "The charge looks wrong",
    Category.PAYMENT: "A payment problem",
    Category.OTHER: "A problem",
}

_UNSET: Any = object()
AGENT_ROLES = frozenset({"support", "operator", "admin"})
# Changes only agents see: their events say internal=true, so no driver is told of them.
INTERNAL_CHANGES = frozenset({"assignment", "links"})

__all__ = ["ActionResult", "Author", "Category", "Links", "Status", "SupportError",
           "SupportService", "Ticket", "TicketQuery"]


class SupportService:
    def __init__(self, core: CsmsCore) -> None:
        # The whole core: facts and actions read many services, and some (payments,
        # tariffs, accounts) are wired after this one.
        self.core = core
        self.store = TicketStore(core.db, core.clock)
        self.facts = FactGatherer(core)
        self.actions = AgentActions(core, self.store)
        self.agent_view = AgentView(core, self.store)

    # -- tickets -------------------------------------------------------------------------------

    async def open(self, account_id: str, category: Category, message: str, author: Author, *,
                   subject: str | None = None, links: Links | None = None) -> Ticket:
        """A new ticket with ``message`` as the first entry of its thread and its facts
        gathered. Raises :class:`InvalidInput` for links that name nothing (or, for a driver,
        a session of another account)."""
        if not author.is_driver:
            await self._check_account(account_id)
        links = await self._checked_links(account_id, links or Links(), author)
        ticket_id = await self.store.create(
            account_id, category, subject or DEFAULT_SUBJECTS[category], links, author,
            [NewEntry(author, "message", message)])
        ticket = await self._gather(ticket_id)
        self._publish("ticket.opened", ticket, "opened", author)
        return ticket

    async def get(self, ticket_id: int, *, account_id: str | None = None) -> Ticket:
        """The ticket with its whole thread; with ``account_id`` (a driver asking), only if
        it is that account's (:class:`NotYourTicket` otherwise)."""
        ticket = await self.store.get(ticket_id)
        if account_id is not None and ticket.account_id != account_id:
            raise NotYourTicket(ticket_id)
        return ticket

    async def find(self, query: TicketQuery, limit: int = 100,
                   offset: int = 0) -> tuple[int, list[Ticket]]:
        return await self.store.query(query, limit, offset)

    async def post_message(self, ticket_id: int, author: Author, body: str, *,
                           internal: bool = False) -> Ticket:
        """A message on the thread (an agent's ``internal`` one is a note drivers never see).
        A driver's message moves ``waiting_for_driver`` back to ``in_progress`` and reopens a
        resolved ticket; a closed ticket takes no message."""
        if internal and author.is_driver:
            raise InvalidInput("internal", "drivers cannot write internal notes")
        ticket = await self.get(ticket_id, account_id=author.name if author.is_driver else None)

        def decide(row: dict[str, Any]) -> Change | Refusal:
            current = Status(row["status"])
            if current is Status.CLOSED:
                return Refusal(f"ticket {ticket_id} is closed; open a new ticket")
            entries = [NewEntry(author, "note" if internal else "message", body,
                                internal=internal)]
            moved = AFTER_DRIVER_MESSAGE.get(current) if author.is_driver else None
            if moved is None:
                return Change(entries=entries)
            entries.append(NewEntry(author, "status",
                                    f"status {current} -> {moved}: the driver answered"))
            return Change({"status": moved.value, "resolved_at": None}, entries)

        ticket = await self.store.change(ticket.id, decide)
        if not internal:
            self._publish("ticket.updated", ticket, "message", author)
        return ticket

    async def update(self, ticket_id: int, author: Author, *, status: Status | None = None,
                     note: str | None = None, assignee: str | None = _UNSET,
                     links: Links | None = None) -> Ticket:
        """An agent's change: a status (allowed transitions only, else
        :class:`TicketConflict`), an assignee (None: nobody), links (checked as on open; the
        facts are gathered again)."""
        before = await self.get(ticket_id)
        if links is not None:
            links = await self._checked_links(before.account_id, links, author)
        if assignee is not _UNSET and assignee is not None:
            await self._check_agent(assignee)
        now = self.core.clock()

        def decide(row: dict[str, Any]) -> Change | Refusal:
            current = Status(row["status"])
            if current is Status.CLOSED:
                return Refusal(f"ticket {ticket_id} is closed; closed is final")
            values: dict[str, Any] = {}
            entries: list[NewEntry] = []
            if status is not None and status is not current:
                if not may_move(current, status):
                    return Refusal(f"ticket {ticket_id} cannot go from {current} to {status}; "
                                   f"from {current} it may go to {allowed_text(current)}")
                values["status"] = status.value
                if status is Status.RESOLVED:
                    values["resolved_at"] = now
                elif status is Status.CLOSED:
                    values["closed_at"] = now
                else:
                    values["resolved_at"] = None
                text = f"status {current} -> {status}"
                entries.append(NewEntry(author, "status", f"{text}: {note}" if note else text))
            elif note:
                entries.append(NewEntry(author, "message", note))
            if assignee is not _UNSET and assignee != row["assignee"]:
                values["assignee"] = assignee
                entries.append(NewEntry(author, "assignment",
                                        f"assigned to {assignee}" if assignee else "unassigned",
                                        internal=True))
            if links is not None and links != _links_of(row):
                values.update(station_id=links.station_id, evse_id=links.evse_id,
                              connector_id=links.connector_id,
                              transaction_id=links.transaction_id, payment_id=links.payment_id)
                entries.append(NewEntry(author, "links", f"now about {_describe(links)}",
                                        internal=True))
            return Change(values, entries)

        ticket = await self.store.change(ticket_id, decide)
        if links is not None and ticket.links != before.links:
            ticket = await self._gather(ticket_id)
        change = _what_changed(before, ticket)
        if change == "status" and ticket.status is Status.RESOLVED:
            self._publish("ticket.resolved", ticket, change, author)
        elif change is not None:
            self._publish("ticket.updated", ticket, change, author)
        return ticket

    async def refresh_facts(self, ticket_id: int) -> Ticket:
        await self.store.get(ticket_id)  # TicketNotFound before any work
        return await self._gather(ticket_id)

    # -- agent actions -------------------------------------------------------------------------

    async def unlock(self, ticket_id: int, author: Author, *, evse_id: int | None = None,
                     connector_id: int | None = None) -> ActionResult:
        ticket = await self._actionable(ticket_id)
        return self._acted(await self.actions.unlock(ticket, author, evse_id, connector_id),
                           author)

    async def stop_session(self, ticket_id: int, author: Author) -> ActionResult:
        ticket = await self._actionable(ticket_id)
        return self._acted(await self.actions.stop(ticket, author), author)

    async def restart_session(self, ticket_id: int, author: Author) -> ActionResult:
        ticket = await self._actionable(ticket_id)
        return self._acted(await self.actions.restart(ticket, author), author)

    async def refund(self, ticket_id: int, author: Author, *, amount: Decimal | None,
                     reason: str, payment_id: str | None = None,
                     idempotency_key: str | None = None) -> ActionResult:
        """Refund through ``core.payments`` (None: all that is left), recorded on the ticket;
        the same ``idempotency_key`` on the same ticket refunds once."""
        ticket = await self._actionable(ticket_id)
        return self._acted(await self.actions.refund(
            ticket, author, amount=amount, reason=reason, payment_id=payment_id,
            idempotency_key=idempotency_key), author)

    # -- an agent's view of one driver ---------------------------------------------------------

    async def account_view(self, account_id: str) -> dict[str, Any]:
        """The account, its tokens, recent sessions (live state of the active ones), payments,
        tickets and stations, as JSON-ready data (:class:`AccountNotKnown` if nothing at all
        is known of ``account_id``)."""
        return await self.agent_view.account(account_id)

    # -- inside ----------------------------------------------------------------------------------

    async def _actionable(self, ticket_id: int) -> Ticket:
        ticket = await self.store.get(ticket_id)
        if ticket.status is Status.CLOSED:
            raise TicketConflict(f"ticket {ticket_id} is closed; open a new ticket")
        return ticket

    def _acted(self, result: ActionResult, author: Author) -> ActionResult:
        self._publish("ticket.updated", result.ticket, "action", author)
        return result

    async def _gather(self, ticket_id: int) -> Ticket:
        ticket = await self.store.get(ticket_id)
        facts = await self.facts.gather(ticket)
        await self.store.set_facts(ticket_id, facts)
        return replace(ticket, facts=facts, facts_at=self.core.clock())

    async def _check_account(self, account_id: str) -> None:
        """An agent names an account: it must be one the CSMS knows (an account, or an id
        token linked to it), so a typing mistake does not file a ticket nobody will read."""
        if await self.core.accounts.get(account_id) is None and not any(
                r.account_id == account_id for r in self.core.auth.all()):
            raise InvalidInput("account_id", f"no account {account_id!r}")

    async def _checked_links(self, account_id: str, links: Links, author: Author) -> Links:
        if links.payment_id is not None:
            payment = await self.core.payments.get(links.payment_id)
            if payment is None:
                raise InvalidInput("payment_id", f"no payment {links.payment_id!r}")
            if payment.account_id != account_id:
                raise InvalidInput("payment_id", f"payment {links.payment_id!r} is not of "
                                                 f"account {account_id!r}")
        if links.station_id is None:
            for name in ("evse_id", "connector_id", "transaction_id"):
                if getattr(links, name) is not None:
                    raise InvalidInput(name, "needs station_id (the station it is at)")
            return links
        if self.core.stations.get(links.station_id) is None:
            raise InvalidInput("station_id", f"unknown station {links.station_id!r}")
        if links.connector_id is not None and links.evse_id is None:
            raise InvalidInput("connector_id", "needs evse_id")
        if links.transaction_id is None:
            return links
        tx = await self.core.transactions.get(links.station_id, links.transaction_id)
        if tx is None:
            raise InvalidInput("transaction_id", f"no session {links.transaction_id!r} at "
                                                 f"station {links.station_id!r}")
        if author.is_driver and self._token_account(tx.get("id_token")) != account_id:
            raise InvalidInput("transaction_id", f"session {links.transaction_id!r} at "
                                                 f"{links.station_id!r} is not one of yours")
        if links.evse_id is not None and tx["evse_id"] is not None \
                and links.evse_id != tx["evse_id"]:
            raise InvalidInput("evse_id", f"session {links.transaction_id!r} ran on EVSE "
                                          f"{tx['evse_id']}, not {links.evse_id}")
        if links.evse_id is None:
            links = replace(links, evse_id=tx["evse_id"], connector_id=tx["connector_id"])
        return links

    async def _check_agent(self, name: str) -> None:
        agents = {row["name"] for row in await self.core.api_tokens.listing()
                  if row["revoked_at"] is None and row["role"] in AGENT_ROLES}
        if name not in agents:
            raise InvalidInput("assignee", f"no agent named {name!r} (an API token of role "
                                           "support, operator or admin)")

    def _token_account(self, token: str | None) -> str | None:
        record = self.core.auth.get(token) if token else None
        return record.account_id if record else None

    def _publish(self, kind: str, ticket: Ticket, change: str, author: Author) -> None:
        self.core.events.publish(kind, account_id=ticket.account_id, ticket_id=ticket.id,
                                 status=ticket.status.value, category=ticket.category.value,
                                 station_id=ticket.links.station_id, change=change,
                                 by="driver" if author.is_driver else "agent",
                                 internal=change in INTERNAL_CHANGES)


def _links_of(row: dict[str, Any]) -> Links:
    return Links(row["station_id"], row["evse_id"], row["connector_id"], row["transaction_id"],
                 row["payment_id"])


def _describe(links: Links) -> str:
    parts = []
    if links.station_id:
        parts.append(f"station {links.station_id}")
    if links.evse_id is not None:
        parts.append(f"EVSE {links.evse_id}")
    if links.transaction_id:
        parts.append(f"session {links.transaction_id}")
    if links.payment_id:
        parts.append(f"payment {links.payment_id}")
    return ", ".join(parts) or "nothing in particular"


def _what_changed(before: Ticket, after: Ticket) -> str | None:
    if before.status is not after.status:
        return "status"
    if len(after.thread) == len(before.thread):
        return None
    kinds = {e.kind for e in after.thread[len(before.thread):]}
    for kind, change in (("message", "message"), ("links", "links"),
                         ("assignment", "assignment")):
        if kind in kinds:
            return change
    return None
