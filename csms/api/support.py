"""User support over REST.

Drivers (role ``driver``, their own account only) under ``/api/me/tickets``: open a ticket,
list and read their tickets (internal notes are never shown), answer on the thread.

Agents (roles ``support``, ``operator``, ``admin``) under ``/api/support``: open a ticket for an
account, list and filter tickets, read one with its gathered facts and whole thread, change its
status (allowed transitions only: 409 otherwise) and assignee, write messages and internal
notes, refresh the facts, act (unlock, stop, restart, refund: the answer is recorded on the
ticket), and see one driver's sessions, payments, tickets and stations.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Query, status
from pydantic import BaseModel, Field

from csms.api.commands import command_http_error
from csms.api.schemas import ErrorBody
from csms.api.security import Commander, Core, DriverAccount
from csms.api.transactions import MAX_PAGE
from csms.core import CsmsCore
from csms.domain.api_tokens import ApiPrincipal
from csms.domain.commands import CommandError
from csms.domain.support import SupportService
from csms.support.actions import ActionResult
from csms.support.agent_view import AccountNotKnown
from csms.support.model import (
    Author,
    InvalidInput,
    Links,
    NotAvailable,
    NotYourTicket,
    SupportError,
    ThreadEntry,
    Ticket,
    TicketConflict,
    TicketNotFound,
)
from csms.support.tickets import TicketQuery
from csms.support.workflow import UNFINISHED, Category, Status

router = APIRouter()
driver_routes = APIRouter(prefix="/api/me/tickets", tags=["driver: support"])
agent_routes = APIRouter(prefix="/api/support", tags=["support"])

MESSAGE_LENGTH = 4000
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "Not your ticket, or a role that may not."},
    404: {"model": ErrorBody, "description": "No such ticket."},
    409: {"model": ErrorBody, "description": "The ticket's status does not allow it."},
}
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": ErrorBody, "description": "The ticket does not allow it, or the station "
                                             "is not connected (recorded on the ticket)."},
    502: {"model": ErrorBody, "description": "The station answered with a CALLERROR "
                                             "(recorded on the ticket)."},
    504: {"model": ErrorBody, "description": "The station did not answer in time (recorded "
                                             "on the ticket)."},
}


# -- bodies -------------------------------------------------------------------------------------


class LinksBody(BaseModel):
    station_id: str | None = Field(None, min_length=1, max_length=255,
                                   description="The station the problem is at.")
    evse_id: int | None = Field(None, ge=1, description="The EVSE (1.6: the connector).")
    connector_id: int | None = Field(None, ge=1, description="The connector of the EVSE.")
    transaction_id: str | None = Field(None, min_length=1, max_length=36,
                                       description="The session: its OCPP transaction id at "
                                                   "station_id.")
    payment_id: str | None = Field(None, min_length=1, max_length=64)

    def links(self) -> Links:
        return Links(self.station_id, self.evse_id, self.connector_id, self.transaction_id,
                     self.payment_id)


class DriverTicketCreate(LinksBody):
    category: Category = Field(description="cable_stuck, wont_start, wrong_charge, payment "
                                           "or other.")
    message: str = Field(min_length=1, max_length=MESSAGE_LENGTH,
                         description="What happened, in the driver's words.")
    subject: str | None = Field(None, min_length=1, max_length=200,
                                description="Default: a title for the category.")


class AgentTicketCreate(DriverTicketCreate):
    account_id: str = Field(min_length=1, max_length=64,
                            description="The driver account the ticket is for.")


class MessageBody(BaseModel):
    body: str = Field(min_length=1, max_length=MESSAGE_LENGTH)


class AgentMessageBody(MessageBody):
    internal: bool = Field(False, description="An internal note: drivers never see it.")


class TicketPatch(BaseModel):
    status: Status | None = Field(None, description="The next status; see the allowed "
                                  "transitions in the README.")
    note: str | None = Field(None, min_length=1, max_length=MESSAGE_LENGTH,
                             description="Why (shown to the driver with the status change).")
    assignee: str | None = Field(None, max_length=100,
                                 description="The agent's API token name; null: nobody.")
    links: LinksBody | None = Field(None, description="Replaces what the ticket is about "
                                    "(the facts are gathered again).")


class UnlockBody(BaseModel):
    evse_id: int | None = Field(None, ge=1, description="Default: the ticket's EVSE, else its "
                                "session's.")
    connector_id: int | None = Field(None, ge=1, description="Default: the ticket's, else 1.")


# -- views ------------------------------------------------------------------------------------


class DriverEntryView(BaseModel):
    id: int
    at: datetime
    author: str
    author_role: str = Field(description="driver, or the agent's role.")
    kind: str = Field(description="message, status, action.")
    body: str


class EntryView(DriverEntryView):
    kind: str = Field(description="message, note (internal), status, assignment, links, "
                                  "action.")
    internal: bool
    details: dict[str, Any] | None = Field(
        None, description="An action's station, OCPP request, answer, outcome and audit id.")


class LinksView(BaseModel):
    station_id: str | None
    evse_id: int | None
    connector_id: int | None
    transaction_id: str | None
    payment_id: str | None


class DriverTicketSummary(LinksView):
    id: int
    category: Category
    status: Status
    subject: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None


class DriverTicketView(DriverTicketSummary):
    thread: list[DriverEntryView]


class TicketSummary(DriverTicketSummary):
    account_id: str
    assignee: str | None
    opened_by: str
    opened_by_role: str


class TicketView(TicketSummary):
    facts: dict[str, Any] | None = Field(description="What was gathered for the agent (see "
                                         "the README); times in UTC.")
    facts_at: datetime | None
    thread: list[EntryView]


class TicketPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[TicketSummary]


class DriverTicketPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[DriverTicketSummary]


class ActionView(BaseModel):
    ticket_id: int
    action: str = Field(description="unlock, stop, restart or refund.")
    station_id: str | None
    ocpp_action: str | None = Field(description="The OCPP message sent, if any.")
    request: dict[str, Any] | None
    response: dict[str, Any] | None = Field(description="The station's (or payment "
                                            "provider's) answer.")
    outcome: str = Field(description="answered, or offline, timeout, callerror, invalid.")
    status: str | None = Field(description="The answer's status, e.g. Unlocked, Accepted, "
                                           "Rejected.")
    message: str
    entry_id: int = Field(description="The thread entry that records it.")


def _summary_fields(ticket: Ticket) -> dict[str, Any]:
    links = ticket.links
    return {"id": ticket.id, "category": ticket.category, "status": ticket.status,
            "subject": ticket.subject, "station_id": links.station_id,
            "evse_id": links.evse_id, "connector_id": links.connector_id,
            "transaction_id": links.transaction_id, "payment_id": links.payment_id,
            "created_at": ticket.created_at, "updated_at": ticket.updated_at,
            "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at}


def _agent_fields(ticket: Ticket) -> dict[str, Any]:
    return {**_summary_fields(ticket), "account_id": ticket.account_id,
            "assignee": ticket.assignee, "opened_by": ticket.opened_by,
            "opened_by_role": ticket.opened_by_role}


def driver_view(ticket: Ticket) -> DriverTicketView:
    return DriverTicketView(**_summary_fields(ticket), thread=[
        _driver_entry(e) for e in ticket.visible_thread(driver=True)])


def agent_view(ticket: Ticket) -> TicketView:
    return TicketView(**_agent_fields(ticket), facts=ticket.facts, facts_at=ticket.facts_at,
                      thread=[_entry(e) for e in ticket.thread])


def _driver_entry(entry: ThreadEntry) -> DriverEntryView:
    return DriverEntryView(id=entry.id, at=entry.at, author=entry.author,
                           author_role=entry.author_role, kind=entry.kind, body=entry.body)


def _entry(entry: ThreadEntry) -> EntryView:
    return EntryView(id=entry.id, at=entry.at, author=entry.author,
                     author_role=entry.author_role, kind=entry.kind, body=entry.body,
                     internal=entry.internal, details=entry.details)


# -- errors -------------------------------------------------------------------------------------


def http_error(error: SupportError) -> HTTPException:
    if isinstance(error, InvalidInput):
        return HTTPException(422, [{"loc": ["body", error.field], "msg": error.message,
                                    "type": "value_error"}])
    code = {TicketNotFound: status.HTTP_404_NOT_FOUND, AccountNotKnown: status.HTTP_404_NOT_FOUND,
            NotYourTicket: status.HTTP_403_FORBIDDEN,
            TicketConflict: status.HTTP_409_CONFLICT,
            NotAvailable: status.HTTP_503_SERVICE_UNAVAILABLE}.get(type(error), 409)
    return HTTPException(code, str(error))


def support(core: CsmsCore) -> SupportService:
    return core.support


def agent(who: ApiPrincipal) -> Author:
    return Author(who.name, who.role.value)


def driver(account_id: str) -> Author:
    return Author(account_id, "driver")


# -- driver routes ----------------------------------------------------------------------------


@driver_routes.post("", response_model=DriverTicketView, status_code=status.HTTP_201_CREATED,
                    responses=ERRORS, summary="Open a support ticket (driver)")
async def driver_open(body: DriverTicketCreate, core: Core,
                      account: DriverAccount) -> DriverTicketView:
    try:
        ticket = await support(core).open(account, body.category, body.message,
                                          driver(account), subject=body.subject,
                                          links=body.links())
    except SupportError as error:
        raise http_error(error) from error
    return driver_view(ticket)


@driver_routes.get("", response_model=DriverTicketPage,
                   summary="My support tickets, most recently changed first (driver)")
async def driver_list(core: Core, account: DriverAccount,
                      limit: int = Query(50, ge=1, le=MAX_PAGE),
                      offset: int = Query(0, ge=0)) -> DriverTicketPage:
    total, tickets = await support(core).find(TicketQuery(account_id=account), limit, offset)
    return DriverTicketPage(total=total, limit=limit, offset=offset, items=[
        DriverTicketSummary(**_summary_fields(t)) for t in tickets])


@driver_routes.get("/{ticket_id}", response_model=DriverTicketView, responses=ERRORS,
                   summary="One of my tickets with its thread (driver; no internal notes)")
async def driver_get(ticket_id: int, core: Core, account: DriverAccount) -> DriverTicketView:
    try:
        return driver_view(await support(core).get(ticket_id, account_id=account))
    except SupportError as error:
        raise http_error(error) from error


@driver_routes.post("/{ticket_id}/messages", response_model=DriverTicketView, responses=ERRORS,
                    summary="Answer on one of my tickets (driver)")
async def driver_message(ticket_id: int, body: MessageBody, core: Core,
                         account: DriverAccount) -> DriverTicketView:
    try:
        return driver_view(await support(core).post_message(ticket_id, driver(account),
                                                            body.body))
    except SupportError as error:
        raise http_error(error) from error


# -- agent routes -------------------------------------------------------------------------------


@agent_routes.post("/tickets", response_model=TicketView, status_code=status.HTTP_201_CREATED,
                   responses=ERRORS, summary="Open a ticket for a driver account (agent)")
async def agent_open(body: AgentTicketCreate, core: Core, who: Commander) -> TicketView:
    try:
        ticket = await support(core).open(body.account_id, body.category, body.message,
                                          agent(who), subject=body.subject, links=body.links())
    except SupportError as error:
        raise http_error(error) from error
    return agent_view(ticket)


@agent_routes.get("/tickets", response_model=TicketPage,
                  summary="Tickets, most recently changed first; by default the unfinished "
                          "ones (agent)")
async def agent_list(
        core: Core, _: Commander,
        status_: list[Status] = Query([], alias="status", description="Any of these "
                                      "(repeat the parameter). Default: open, in_progress, "
                                      "waiting_for_driver."),
        category: list[Category] = Query([], description="Any of these categories."),
        account_id: str | None = Query(None, max_length=64),
        station_id: str | None = Query(None, max_length=255),
        assignee: str | None = Query(None, max_length=100),
        limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0)) -> TicketPage:
    query = TicketQuery(statuses=frozenset(status_) or UNFINISHED,
                        categories=frozenset(category), account_id=account_id,
                        station_id=station_id, assignee=assignee)
    total, tickets = await support(core).find(query, limit, offset)
    return TicketPage(total=total, limit=limit, offset=offset,
                      items=[TicketSummary(**_agent_fields(t)) for t in tickets])


@agent_routes.get("/tickets/{ticket_id}", response_model=TicketView, responses=ERRORS,
                  summary="One ticket with its facts and whole thread (agent)")
async def agent_get(ticket_id: int, core: Core, _: Commander) -> TicketView:
    try:
        return agent_view(await support(core).get(ticket_id))
    except SupportError as error:
        raise http_error(error) from error


@agent_routes.patch("/tickets/{ticket_id}", response_model=TicketView, responses=ERRORS,
                    summary="Change a ticket's status, assignee or links (agent)")
async def agent_patch(ticket_id: int, body: TicketPatch, core: Core,
                      who: Commander) -> TicketView:
    changes: dict[str, Any] = {"status": body.status, "note": body.note}
    if "assignee" in body.model_fields_set:
        changes["assignee"] = body.assignee or None
    if body.links is not None:
        changes["links"] = body.links.links()
    try:
        return agent_view(await support(core).update(ticket_id, agent(who), **changes))
    except SupportError as error:
        raise http_error(error) from error


@agent_routes.post("/tickets/{ticket_id}/messages", response_model=TicketView,
                   responses=ERRORS,
                   summary="Write to the driver, or an internal note (agent)")
async def agent_message(ticket_id: int, body: AgentMessageBody, core: Core,
                        who: Commander) -> TicketView:
    try:
        return agent_view(await support(core).post_message(ticket_id, agent(who), body.body,
                                                           internal=body.internal))
    except SupportError as error:
        raise http_error(error) from error


@agent_routes.post("/tickets/{ticket_id}/facts", response_model=TicketView, responses=ERRORS,
                   summary="Gather the ticket's facts again, as they are now (agent)")
async def agent_refresh_facts(ticket_id: int, core: Core, _: Commander) -> TicketView:
    try:
        return agent_view(await support(core).refresh_facts(ticket_id))
    except SupportError as error:
        raise http_error(error) from error


def _action_view(result: ActionResult) -> ActionView:
    view = ActionView(ticket_id=result.ticket.id, action=result.action,
                      station_id=result.station_id, ocpp_action=result.ocpp_action,
                      request=result.request, response=result.response,
                      outcome=result.outcome, status=result.status, message=result.message,
                      entry_id=result.entry_id)
    error = result.error
    if error is None:
        return view
    if isinstance(error, CommandError):
        failure = command_http_error(error)
        raise HTTPException(failure.status_code, {**view.model_dump(), **failure.detail,
                                                  "message": result.message})
    code = status.HTTP_409_CONFLICT if result.outcome == "refused" \
        else status.HTTP_502_BAD_GATEWAY
    raise HTTPException(code, view.model_dump())


@agent_routes.post("/tickets/{ticket_id}/actions/unlock", response_model=ActionView,
                   responses=ACTION_ERRORS,
                   summary="Unlock the ticket's connector (UnlockConnector), recorded on the "
                           "ticket (agent)")
async def action_unlock(ticket_id: int, core: Core, who: Commander,
                        body: UnlockBody | None = None) -> ActionView:
    body = body or UnlockBody()
    try:
        result = await support(core).unlock(ticket_id, agent(who), evse_id=body.evse_id,
                                            connector_id=body.connector_id)
    except SupportError as error:
        raise http_error(error) from error
    return _action_view(result)


@agent_routes.post("/tickets/{ticket_id}/actions/stop", response_model=ActionView,
                   responses=ACTION_ERRORS,
                   summary="Stop the ticket's session (1.6 RemoteStopTransaction, 2.0.1 "
                           "RequestStopTransaction), recorded on the ticket (agent)")
async def action_stop(ticket_id: int, core: Core, who: Commander) -> ActionView:
    try:
        result = await support(core).stop_session(ticket_id, agent(who))
    except SupportError as error:
        raise http_error(error) from error
    return _action_view(result)


@agent_routes.post("/tickets/{ticket_id}/actions/restart", response_model=ActionView,
                   responses=ACTION_ERRORS,
                   summary="Start the ticket's session again: remote start with the same "
                           "token on the same EVSE, recorded on the ticket (agent)")
async def action_restart(ticket_id: int, core: Core, who: Commander) -> ActionView:
    try:
        result = await support(core).restart_session(ticket_id, agent(who))
    except SupportError as error:
        raise http_error(error) from error
    return _action_view(result)


class RefundBody(BaseModel):
    amount: Decimal | None = Field(None, gt=0, description="In the payment's currency, e.g. "
                                   "\"2.50\". Absent: all that is left to refund.")
    reason: str = Field(min_length=1, max_length=200, description="Why (kept with the "
                        "refund and on the ticket).")
    payment_id: str | None = Field(None, min_length=1, max_length=64, description="Default: "
                                   "the ticket's payment, else its session's.")


@agent_routes.post("/tickets/{ticket_id}/actions/refund", response_model=ActionView,
                   responses={**ERRORS, 409: {"model": ErrorBody, "description": "Closed "
                              "ticket; or beyond what is left to refund, nothing captured "
                              "(recorded on the ticket)."},
                              502: {"model": ErrorBody, "description": "The payment provider "
                                    "failed (recorded on the ticket)."}},
                   summary="Refund part or all of the ticket's payment, recorded on the "
                           "ticket (agent)")
async def action_refund(ticket_id: int, body: RefundBody, core: Core, who: Commander,
                        idempotency_key: str | None = Header(
                            None, max_length=64, description="A repeated request with the "
                            "same key (on the same ticket) refunds once.")) -> ActionView:
    try:
        result = await support(core).refund(ticket_id, agent(who), amount=body.amount,
                                            reason=body.reason, payment_id=body.payment_id,
                                            idempotency_key=idempotency_key)
    except SupportError as error:
        raise http_error(error) from error
    return _action_view(result)


# -- an agent's view of one driver -------------------------------------------------------------


class AccountOverview(BaseModel):
    account_id: str
    account: dict[str, Any] | None = Field(description="The account (name, email, currency, "
                                           "status), if one exists.")
    tokens: list[dict[str, Any]] = Field(description="Its id tokens with the verdict the "
                                         "CSMS would give now.")
    sessions: list[dict[str, Any]] = Field(description="Recent sessions, newest first; an "
                                           "active one has `live` (connector status, station "
                                           "online, energy, running cost).")
    payments: list[dict[str, Any]] = Field(description="Recent payments, newest first.")
    tickets: list[TicketSummary] = Field(description="Recent tickets, most recently changed "
                                         "first.")
    ticket_total: int
    stations: list[dict[str, Any]] = Field(description="Live state of every station of "
                                           "those sessions and tickets.")


@agent_routes.get("/accounts/{account_id}", response_model=AccountOverview,
                  responses={404: {"model": ErrorBody, "description": "Nothing is known of "
                                                                       "this account."}},
                  summary="One driver at a glance: sessions, payments, tickets and the "
                          "stations' live state (agent)")
async def account_overview(account_id: str, core: Core, _: Commander) -> AccountOverview:
    try:
        view = await support(core).account_view(account_id)
    except SupportError as error:
        raise http_error(error) from error
    return AccountOverview(**{**view, "tickets": [TicketSummary(**_agent_fields(t))
                                                  for t in view["tickets"]]})


router.include_router(driver_routes)
router.include_router(agent_routes)
