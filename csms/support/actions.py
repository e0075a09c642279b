"""What an agent does about a ticket: unlock the connector, stop or restart the session, refund
a payment.

Station commands go through ``core.commands.call``, which checks the station is online, waits
for the answer and writes the audit log with the agent's name. Every attempt, answered or not,
is also recorded on the ticket's thread (kind ``action``) with who, what, the request, the
answer or failure, and the audit log entry, so the ticket tells its whole story. A failed
command (offline, timeout, CALLERROR) is recorded first and then raised to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj import OcppVersion
from csms.domain.accounts import InvalidField
from csms.domain.commands import Actor, CommandError
from csms.domain.money import Money
from csms.domain.payments import Payment, PaymentRefused
from csms.payments.provider import ProviderError, ProviderRefused
from csms.storage import tables as t
from csms.support.model import Author, InvalidInput, Ticket, TicketConflict
from csms.support.tickets import NewEntry, TicketStore

if TYPE_CHECKING:
    from csms.core import CsmsCore


@dataclass(frozen=True, slots=True)
class ActionResult:
    """An agent action as recorded on the ticket. ``outcome``: ``answered`` (the station or
    the payment provider answered; ``status`` says what, e.g. Unlocked, Accepted, Rejected,
    refunded), or for a command without an answer ``offline``, ``timeout``, ``callerror``,
    ``invalid``, and for a refund ``refused`` (beyond what is left, nothing captured) or
    ``failed`` (the provider could not do it); ``error`` then holds the failure."""

    ticket: Ticket
    action: str  # unlock, stop, restart, refund
    station_id: str | None
    ocpp_action: str | None
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    outcome: str
    status: str | None
    message: str
    entry_id: int
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class _Command:
    action: str
    station_id: str
    ocpp_action: str
    payload: dict[str, Any]
    what: str  # for the thread: "unlock EVSE 1 connector 1"
    remote_start_id: int | None = None


class AgentActions:
    def __init__(self, core: CsmsCore, store: TicketStore) -> None:
        self.core = core
        self.store = store

    # -- the actions -----------------------------------------------------------------------------

    async def unlock(self, ticket: Ticket, author: Author, evse_id: int | None = None,
                     connector_id: int | None = None) -> ActionResult:
        station_id = _station_of(ticket)
        session = await self._session(ticket) if ticket.links.transaction_id else None
        evse = _first(evse_id, ticket.links.evse_id, (session or {}).get("evse_id"))
        if evse is None:
            raise InvalidInput("evse_id", f"ticket {ticket.id} names no EVSE or session; "
                                          "say which EVSE to unlock")
        connector = _first(connector_id, ticket.links.connector_id,
                           (session or {}).get("connector_id"), 1)
        version = self._version(ticket, station_id)
        if version is OcppVersion.V16:
            if connector != 1:
                raise InvalidInput("connector_id", "an OCPP 1.6 connector is EVSE n, "
                                                   "connector 1")
            payload: dict[str, Any] = {"connectorId": evse}
        else:
            payload = {"evseId": evse, "connectorId": connector}
        return await self._send(ticket, author, _Command(
            "unlock", station_id, "UnlockConnector", payload,
            f"unlock EVSE {evse} connector {connector} at {station_id}"))

    async def stop(self, ticket: Ticket, author: Author) -> ActionResult:
        session = await self._required_session(ticket)
        if session["state"] != "Active":
            raise TicketConflict(f"session {session['ocpp_transaction_id']} at "
                                 f"{session['station_id']} already ended")
        station_id = session["station_id"]
        transaction = session["ocpp_transaction_id"]
        version = self._version(ticket, station_id)
        if version is OcppVersion.V16:
            if not transaction.isdigit():
                raise TicketConflict(f"session {transaction} is not an OCPP 1.6 transaction "
                                     f"but {station_id} now speaks 1.6")
            command = _Command("stop", station_id, "RemoteStopTransaction",
                               {"transactionId": int(transaction)},
                               f"stop session {transaction} at {station_id}")
        else:
            command = _Command("stop", station_id, "RequestStopTransaction",
                               {"transactionId": transaction},
                               f"stop session {transaction} at {station_id}")
        return await self._send(ticket, author, command)

    async def restart(self, ticket: Ticket, author: Author) -> ActionResult:
        """A new session for the same token on the same EVSE (remote start)."""
        session = await self._required_session(ticket)
        if session["state"] == "Active":
            raise TicketConflict(f"session {session['ocpp_transaction_id']} at "
                                 f"{session['station_id']} is still running; stop it first")
        token = session["id_token"]
        if not token:
            raise TicketConflict(f"session {session['ocpp_transaction_id']} had no id token "
                                 "to start again with")
        station_id, evse = session["station_id"], session["evse_id"]
        version = self._version(ticket, station_id)
        where = f"EVSE {evse}" if evse is not None else "any EVSE"
        what = f"start a session for token {token} on {where} at {station_id}"
        if version is OcppVersion.V16:
            payload: dict[str, Any] = {"idTag": token}
            if evse is not None:
                payload["connectorId"] = evse
            return await self._send(ticket, author, _Command(
                "restart", station_id, "RemoteStartTransaction", payload, what))
        known = self.core.auth.get(token)
        remote_start_id = await self.core.provisioning.next_remote_start_id(station_id)
        payload = {"idToken": {"idToken": token, "type": known.type if known else "Central"},
                   "remoteStartId": remote_start_id}
        if evse is not None:
            payload["evseId"] = evse
        await self.core.provisioning.remote_start_requested(station_id, remote_start_id,
                                                            token, evse)
        return await self._send(ticket, author, _Command(
            "restart", station_id, "RequestStartTransaction", payload, what, remote_start_id))

    async def refund(self, ticket: Ticket, author: Author, *, amount: Decimal | None,
                     reason: str, payment_id: str | None = None,
                     idempotency_key: str | None = None) -> ActionResult:
        """Refund ``amount`` (None: all that is left) of a payment of the ticket's account:
        ``payment_id``, else the ticket's payment, else its session's payment."""
        payments = self.core.payments
        payment = await self._payment(ticket, payment_id)
        money = None if amount is None else Money(amount, payment.currency)
        request = {"payment_id": payment.id, "amount": None if amount is None else str(amount),
                   "currency": payment.currency, "reason": reason}
        key = None if idempotency_key is None else f"support:{ticket.id}:{idempotency_key}"
        what = (f"refund {'all that is left' if money is None else money} of payment "
                f"{payment.id}")
        error: Exception | None = None
        response: dict[str, Any] | None = None
        try:
            result = await payments.refund(payment.id, money,
                                           f"support ticket {ticket.id}: {reason}",
                                           Actor(author.name, author.role), key)
        except InvalidField as invalid:
            raise InvalidInput("amount", str(invalid)) from invalid
        except (PaymentRefused, ProviderError) as failure:
            error = failure
            outcome = "refused" if isinstance(failure, PaymentRefused | ProviderRefused) \
                else "failed"
            message = f"{what}: {outcome}: {failure}"
            status = None
        else:
            outcome, status = "answered", result.status
            response = {"payment_id": result.payment_id, "status": result.status,
                        "amount": str(result.amount.amount),
                        "currency": result.amount.currency}
            message = f"{what}: refunded {result.amount}; the payment is now {result.status}"
        details = {"action": "refund", "station_id": payment.station_id, "ocpp_action": None,
                   "request": request, "response": response, "outcome": outcome,
                   "status": status, "payment_id": payment.id}
        updated, entry_id = await self.record(ticket, author, message, details)
        return ActionResult(updated, "refund", payment.station_id, None, request, response,
                            outcome, status, message, entry_id, error)

    async def _payment(self, ticket: Ticket, payment_id: str | None) -> Payment:
        payments = self.core.payments
        payment_id = payment_id or ticket.links.payment_id
        if payment_id is None:
            links = ticket.links
            paid = None if not (links.station_id and links.transaction_id) else \
                await payments.for_session(links.station_id, links.transaction_id)
            if paid is None:
                raise InvalidInput("payment_id", f"ticket {ticket.id} names no payment and no "
                                                 "paid session; say which payment")
            payment_id = paid.id
        payment = await payments.get(payment_id)
        if payment is None:
            raise InvalidInput("payment_id", f"no payment {payment_id!r}")
        if payment.account_id != ticket.account_id:
            raise InvalidInput("payment_id", f"payment {payment_id} is not of account "
                                             f"{ticket.account_id}")
        return payment

    # -- recording -------------------------------------------------------------------------------

    async def record(self, ticket: Ticket, author: Author, body: str,
                     details: dict[str, Any]) -> tuple[Ticket, int]:
        """Add an action entry to the ticket's thread; the ticket after it, and the entry's
        id."""
        entry_id = await self.store.append(ticket.id, NewEntry(author, "action", body,
                                                               details=details))
        return await self.store.get(ticket.id), entry_id

    async def _send(self, ticket: Ticket, author: Author, command: _Command) -> ActionResult:
        actor = Actor(author.name, author.role)
        error: CommandError | None = None
        answer: dict[str, Any] | None = None
        try:
            answer = await self.core.commands.call(command.station_id, command.ocpp_action,
                                                   command.payload, actor)
        except CommandError as failure:
            error = failure
            if command.remote_start_id is not None:
                await self.core.provisioning.remote_start_failed(
                    command.station_id, command.remote_start_id, failure.outcome)
        audit_id = await self._audit_id(command, actor)
        status = (answer or {}).get("status")
        if error is None:
            message = f"{command.what}: the station answered {status or 'without a status'}"
        else:
            message = f"{command.what}: failed ({error.outcome}): {error}"
        details = {"action": command.action, "station_id": command.station_id,
                   "ocpp_action": command.ocpp_action, "request": command.payload,
                   "response": answer if error is None else (error.details or None),
                   "outcome": "answered" if error is None else error.outcome,
                   "status": status, "audit_id": audit_id}
        if command.remote_start_id is not None:
            details["remote_start_id"] = command.remote_start_id
        updated, entry_id = await self.record(ticket, author, message, details)
        return ActionResult(updated, command.action, command.station_id, command.ocpp_action,
                            command.payload, details["response"], details["outcome"], status,
                            message, entry_id, error)

    def _version(self, ticket: Ticket, station_id: str) -> OcppVersion:
        """The version the station speaks, or spoke when last connected: it names the message.
        Offline, the command is still built and handed to ``commands.call``, which refuses it
        and writes the refusal to the audit log like any other failure."""
        state = self.core.stations.get(station_id)
        if state is None:
            raise TicketConflict(f"station {station_id} of ticket {ticket.id} is unknown")
        try:
            return self.core.commands.version_of(station_id)
        except CommandError:
            try:
                return OcppVersion(state.ocpp_version or OcppVersion.V201.value)
            except ValueError:
                return OcppVersion.V201

    async def _audit_id(self, command: _Command, actor: Actor) -> int | None:
        """The audit log entry ``commands.call`` just wrote for this command (the newest of
        this agent, station and action)."""
        a = t.audit_log.c

        async def read(conn: AsyncConnection) -> int | None:
            return (await conn.execute(select(func.max(a.id)).where(and_(
                a.station_id == command.station_id, a.action == command.ocpp_action,
                a.actor == actor.name, a.role == actor.role)))).scalar_one_or_none()

        return await self.core.db.read(read)

    # -- what the ticket names -----------------------------------------------------------------

    async def _session(self, ticket: Ticket) -> dict[str, Any] | None:
        links = ticket.links
        if not (links.station_id and links.transaction_id):
            return None
        return await self.core.transactions.get(links.station_id, links.transaction_id)

    async def _required_session(self, ticket: Ticket) -> dict[str, Any]:
        session = await self._session(ticket)
        if session is None:
            raise TicketConflict(f"ticket {ticket.id} names no session (station_id and "
                                 "transaction_id); link one first")
        return session


def _station_of(ticket: Ticket) -> str:
    if not ticket.links.station_id:
        raise TicketConflict(f"ticket {ticket.id} names no station; link one first")
    return ticket.links.station_id


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)
