"""Session billing: identify at the station and pay automatically; fees; refunds.

A session payment's life (table ``payments``, kind ``session``)::

    pending -> authorized     a hold on the account's default card, placed when a linked token
                              is authorised (Authorize) or, without one, when the session starts
            -> declined       the card (or the account) said no: the token's answer is NoCredit
                              (1.6 Blocked; suspended accounts Blocked) and a session that is
                              already running is stopped (RequestStopTransaction /
                              RemoteStopTransaction)
    authorized -> captured    the session ended: the exact final cost is captured and the rest
                              of the hold released with it. A cost above the hold is first
                              asked for as an incremental authorisation; if that is declined,
                              the hold is captured and the rest stays outstanding
               -> released    the session cost nothing, or no session used an Authorize's hold
                              within ``payment_unused_hold_s``
               -> expired     the card issuer let the hold lapse (a provider event)
    declined / expired -> unpaid   the session ended; its whole cost is outstanding
    captured -> partially_refunded -> refunded

Every settled session gets a receipt, written in the same database transaction as its capture.
A fee (kind ``fee``, e.g. a booking's no-show) is authorised and captured at once.

Provider calls carry idempotency keys made from the payment id (``pay_...:capture``), so an
operation repeated after a crash or a restart never moves money twice; ``scan`` finishes what a
restart interrupted. Tokens without an account never reach this module: the adapters ask
``accounts.account_for_token`` (memory) first, and meter values never come here.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj import OcppVersion
from csms.config import CsmsConfig
from csms.domain.accounts import Account, AccountService, InvalidField
from csms.domain.authorization import TokenInfo
from csms.domain.commands import Actor, CommandError, CommandService
from csms.domain.money import Money, to_minor
from csms.domain.receipts import Receipt, ReceiptService, plain
from csms.domain.timeutil import Clock, utcnow
from csms.domain.transactions import ACTIVE, COMPLETED, TransactionService
from csms.events import Event, EventBus
from csms.payments.locks import KeyedLocks
from csms.payments.provider import (
    PaymentProvider,
    ProviderError,
    ProviderEvent,
    ProviderRefused,
    ProviderResult,
)
from csms.payments.records import (
    AUTHORIZED,
    CAPTURED,
    DECLINED,
    EXPIRED,
    FEE,
    PARTIALLY_REFUNDED,
    PENDING,
    REFUNDABLE,
    REFUNDED,
    RELEASED,
    SESSION,
    UNPAID,
    Payment,
    PaymentNotFound,
    PaymentRecords,
    PaymentRefused,
    PaymentResult,
    Refund,
    SessionKey,
)
from csms.storage import tables as t
from csms.storage.database import Database

if TYPE_CHECKING:
    from csms.domain.pricing import SessionCost
    from csms.domain.tariffs import TariffService

log = logging.getLogger("chargeloop.csms.payments")

ACCEPTED, NO_CREDIT, BLOCKED = "Accepted", "NoCredit", "Blocked"
ACCOUNT_SUSPENDED, NO_PAYMENT_METHOD = "account_suspended", "no_payment_method"
PAYMENTS_ACTOR = Actor("payments", "system")
PENDING_GRACE_S = 60.0  # a pending payment younger than this may still be in flight

_p = t.payments.c


@dataclass(frozen=True, slots=True)
class _Hold:
    payment_id: str
    created_at: datetime


@dataclass
class _Collected:
    """What settling a session took from the card."""

    status: str
    held: Decimal
    captured: Decimal = Decimal(0)
    outstanding: Decimal = Decimal(0)
    capture_id: str | None = None
    reason: str | None = None
    events: list[tuple[str, Money, str | None]] = field(default_factory=list)  # to publish


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


class PaymentService:
    def __init__(self, db: Database, events: EventBus, accounts: AccountService,
                 provider: PaymentProvider, receipts: ReceiptService,
                 transactions: TransactionService, commands: CommandService,
                 tariffs: TariffService, config: CsmsConfig, clock: Clock = utcnow) -> None:
        self.db = db
        self.records = PaymentRecords(db)
        self.events = events
        self.accounts = accounts
        self.provider = provider
        self.receipts = receipts
        self.transactions = transactions
        self.commands = commands
        self.tariffs = tariffs
        self.clock = clock
        self.default_hold = config.payment_default_hold
        self.unused_hold_s = config.payment_unused_hold_s
        self.scan_interval_s = config.payment_scan_interval_s
        # Unsettled session payments by session; Authorize holds no session has used yet, by
        # (station, token). Both rebuilt from the table at start.
        self._sessions: dict[SessionKey, str] = {}
        self._holds: dict[tuple[str, str], _Hold] = {}
        self._locks = KeyedLocks()
        self._tasks: set[asyncio.Task[Any]] = set()
        events.listen(self._on_event)
        provider.on_event(self._on_provider_event)

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(
                _p.id, _p.status, _p.station_id, _p.transaction_id, _p.id_token,
                _p.created_at).where(_p.kind == SESSION, _p.settled_at.is_(None)))).mappings())

        self._sessions.clear()
        self._holds.clear()
        for row in await self.db.read(read):
            if row["transaction_id"] is not None:
                self._sessions[(row["station_id"], row["transaction_id"])] = row["id"]
            elif row["status"] == AUTHORIZED:
                self._holds[(row["station_id"], row["id_token"])] = _Hold(row["id"],
                                                                          row["created_at"])
        await self.provider.load()

    async def close(self) -> None:
        """Stop what is in flight; ``scan`` after the next start finishes it."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- identify at the station -------------------------------------------------------------

    async def authorize_token(self, station_id: str, id_token: str,
                              verdict: TokenInfo) -> TokenInfo:
        """An Authorize of a token linked to an account: place the session's hold now, so a
        card that will not pay never starts a session. One hold per token and station."""
        account = self._account_of(id_token)
        if account is None or verdict.status != ACCEPTED \
                or self.transactions.token_active(id_token):
            return verdict  # (an Authorize while the token charges is to stop: paid already)
        key = (station_id, id_token)
        async with self._locks.hold(("authorize", *key)):
            if key in self._holds:
                return verdict
            result = await self._place_hold(account, station_id, id_token, None)
            if result.ok:
                self._holds[key] = _Hold(result.payment_id, self.clock())
        return verdict if result.ok else _refused(verdict, result)

    async def session_token(self, station_id: str, transaction: dict[str, Any] | None,
                            id_token: str, verdict: TokenInfo | None) -> TokenInfo | None:
        """A transaction event carrying a linked token (a start, or the first event with the
        token): use the hold the token's Authorize placed, else place one now. A decline
        answers NoCredit and stops the session. Once a session has its payment, this is a
        dictionary lookup."""
        if transaction is None or verdict is None or verdict.status != ACCEPTED \
                or transaction["state"] != ACTIVE:
            return verdict
        key = (station_id, transaction["ocpp_transaction_id"])
        if key in self._sessions:
            return verdict
        account = self._account_of(id_token)
        if account is None:
            return verdict
        async with self._locks.hold(key):
            if key in self._sessions:
                return verdict
            hold = self._holds.pop((station_id, id_token), None)
            if hold is not None:
                await self._attach(hold.payment_id, transaction)
                self._sessions[key] = hold.payment_id
                return verdict
            result = await self._place_hold(account, station_id, id_token, transaction)
            self._sessions[key] = result.payment_id
        if result.ok:
            return verdict
        self._spawn(self._stop_unpaid(station_id, key[1], result.payment_id))
        return _refused(verdict, result)

    def _account_of(self, id_token: str) -> Account | None:
        account_id = self.accounts.account_for_token(id_token)
        return None if account_id is None else self.accounts.cached(account_id)

    async def _place_hold(self, account: Account, station_id: str, id_token: str,
                          transaction: dict[str, Any] | None) -> PaymentResult:
        now = self.clock()
        evse_id = transaction.get("evse_id") if transaction else None
        connector_id = transaction.get("connector_id") if transaction else None
        amount = await self._hold_amount(account, station_id, evse_id, connector_id, now)
        method = self.accounts.default_method(account.id)
        payment_id = _new_id("pay")
        row = {"id": payment_id, "account_id": account.id, "kind": SESSION,
               "currency": amount.currency, "method_id": method.id if method else None,
               "provider": self.provider.name, "amount_held": str(amount.amount),
               "station_id": station_id, "evse_id": evse_id, "id_token": id_token,
               "transaction_id": transaction["ocpp_transaction_id"] if transaction else None,
               "created_at": now, "updated_at": now}
        refusal = (ACCOUNT_SUSPENDED, "the account is suspended") if not account.active \
            else (NO_PAYMENT_METHOD, "no payment method on the account") if method is None \
            else None
        if refusal is not None:
            code, reason = refusal
            await self.db.write(lambda conn: conn.execute(insert(t.payments).values(
                **row, status=DECLINED, decline_code=code, reason=reason,
                settled_at=None if transaction else now)))
            result = PaymentResult(payment_id, DECLINED, amount, reason, code)
        else:
            assert method is not None
            await self.db.write(lambda conn: conn.execute(insert(t.payments).values(
                **row, status=PENDING)))
            answer = await self._authorize(payment_id, amount, method.reference)
            result = await self._record_authorization(payment_id, amount, answer,
                                                      settle_if_declined=transaction is None)
        self._publish(result, account.id, station_id, row["transaction_id"])
        return result

    async def _hold_amount(self, account: Account, station_id: str, evse_id: int | None,
                           connector_id: int | None, now: datetime) -> Money:
        tariff = await self.tariffs.tariff_for(station_id, evse_id, connector_id, now)
        currency = tariff.currency if tariff is not None else account.currency
        amount = tariff.preauth_amount if tariff is not None and tariff.preauth_amount \
            else self.default_hold
        return Money(to_minor(amount, currency), currency)

    async def _authorize(self, payment_id: str, amount: Money,
                         card_reference: str) -> ProviderResult | ProviderError:
        try:
            return await self.provider.authorize(amount, card_reference,
                                                 f"{payment_id}:authorize")
        except ProviderError as error:
            return error

    async def _record_authorization(self, payment_id: str, amount: Money,
                                    answer: ProviderResult | ProviderError, *,
                                    settle_if_declined: bool) -> PaymentResult:
        now = self.clock()
        if isinstance(answer, ProviderResult) and answer.approved:
            values: dict[str, Any] = {"status": AUTHORIZED,
                                      "authorization_id": answer.authorization_id}
            result = PaymentResult(payment_id, AUTHORIZED, amount)
        else:
            code = answer.decline_code if isinstance(answer, ProviderResult) else answer.code
            reason = answer.message if isinstance(answer, ProviderResult) else str(answer)
            values = {"status": DECLINED, "decline_code": code, "reason": reason,
                      "settled_at": now if settle_if_declined else None}
            result = PaymentResult(payment_id, DECLINED, amount, reason, code)
        await self.db.write(lambda conn: conn.execute(update(t.payments).where(
            _p.id == payment_id).values(**values, updated_at=now)))
        return result

    async def _attach(self, payment_id: str, transaction: dict[str, Any]) -> None:
        await self.db.write(lambda conn: conn.execute(update(t.payments).where(
            _p.id == payment_id).values(transaction_id=transaction["ocpp_transaction_id"],
                                        evse_id=transaction.get("evse_id"),
                                        updated_at=self.clock())))

    async def _stop_unpaid(self, station_id: str, transaction_id: str, payment_id: str) -> None:
        """Stop a session nobody pays for. The stop is recorded first: the adapter answers the
        start without awaiting anything more, so while this write commits, the answer goes
        out, and a 1.6 station knows its transactionId before the stop reaches it."""
        await self.db.write(lambda conn: conn.execute(update(t.payments).where(
            _p.id == payment_id).values(stop_requested_at=self.clock())))
        try:
            if self.commands.version_of(station_id) is OcppVersion.V16:
                action, payload = "RemoteStopTransaction", {"transactionId": int(transaction_id)}
            else:
                action, payload = "RequestStopTransaction", {"transactionId": transaction_id}
            await self.commands.call(station_id, action, payload, PAYMENTS_ACTOR)
        except (CommandError, ValueError) as error:
            log.warning("could not stop unpaid session %s at %s: %s", transaction_id,
                        station_id, error)

    # -- the session's end ---------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        # Called for every event, meter values included: one comparison for all but the end
        # of a transaction, and a dictionary lookup for those.
        if event.kind != "transaction.ended":
            return
        key = (event.data["station_id"], event.data["transaction_id"])
        if key in self._sessions or self._locks.busy(key):
            self._spawn(self.settle(*key))

    async def settle(self, station_id: str, transaction_id: str) -> PaymentResult | None:
        """Take the ended session's exact final cost, release the rest, issue its receipt.
        Idempotent: a settled session is left alone."""
        key = (station_id, transaction_id)
        async with self._locks.hold(key):
            payment_id = self._sessions.get(key)
            if payment_id is None:
                return None
            payment = await self.get(payment_id)
            transaction = await self.transactions.get(station_id, transaction_id)
            if payment is None or payment.settled_at is not None:
                self._sessions.pop(key, None)
                return None
            if transaction is None or transaction["state"] != COMPLETED:
                return None
            if payment.status == PENDING:
                payment = await self._resume_pending(payment)
            cost = await self.tariffs.session_cost(station_id, transaction_id)
            currency = cost.currency if cost is not None else payment.currency
            total = Money(to_minor(cost.total.amount, currency) if cost else Decimal(0),
                          currency)
            collected = await self._collect(payment, total)
            receipt = self._receipt(payment, transaction, cost, total, collected)
            now = self.clock()

            async def write(conn: AsyncConnection) -> Receipt:
                await conn.execute(update(t.payments).where(_p.id == payment.id).values(
                    status=collected.status, amount_held=str(collected.held),
                    amount_captured=str(collected.captured),
                    amount_outstanding=str(collected.outstanding), amount_due=str(total.amount),
                    capture_id=collected.capture_id,
                    reason=collected.reason or payment.reason, settled_at=now, updated_at=now))
                return await self.receipts.store(conn, receipt)

            receipt = await self.db.write(write)
            self._sessions.pop(key, None)
        for kind, amount, reason in collected.events:
            self._publish_kind(kind, payment, amount, reason)
        self.events.publish("receipt.issued", account_id=payment.account_id,
                            receipt_id=receipt.id, station_id=station_id,
                            transaction_id=transaction_id, total=str(receipt.total),
                            currency=receipt.currency, paid=str(receipt.paid),
                            outstanding=str(receipt.outstanding))
        return PaymentResult(payment.id, collected.status, Money(collected.captured, currency),
                             collected.reason)

    async def _collect(self, payment: Payment, total: Money) -> _Collected:
        """Capture ``total`` from the payment's hold (asking for more first if it is short),
        or release the hold when nothing is owed."""
        authorization = payment.authorization_id
        if payment.status != AUTHORIZED or authorization is None:
            return _Collected(UNPAID if total.amount else payment.status, payment.held,
                              outstanding=total.amount)
        held = payment.held
        if total.currency != payment.currency or not total.amount:
            try:
                await self.provider.release(authorization, f"{payment.id}:release")
            except ProviderRefused as error:  # nothing held any more: nothing to release
                log.warning("release of payment %s refused: %s", payment.id, error)
            collected = _Collected(RELEASED, held, outstanding=total.amount, events=[
                ("released", Money(held, payment.currency), None)])
            if total.amount:  # cannot happen with one tariff per session; never silently free
                collected.status = UNPAID
                collected.reason = f"the cost is in {total.currency}, the hold in " \
                                   f"{payment.currency}"
            return collected
        events: list[tuple[str, Money, str | None]] = []
        take, outstanding, reason = total.amount, Decimal(0), None
        if total.amount > held:
            extra = Money(total.amount - held, total.currency)
            try:
                more = await self.provider.increment(authorization, extra,
                                                     f"{payment.id}:increment")
            except ProviderRefused as error:
                more = ProviderResult("", "increment", False, extra, authorization, error.code)
            if more.approved:
                held = total.amount
                events.append(("authorized", extra, "incremental authorisation: the session "
                                                    "cost more than the hold"))
            else:
                take, outstanding = held, extra.amount
                reason = f"incremental authorisation of {extra} declined: {more.message}"
                events.append(("declined", extra, reason))
        try:
            capture = await self.provider.capture(authorization, Money(take, total.currency),
                                                  f"{payment.id}:capture")
        except ProviderRefused as error:
            log.warning("capture of payment %s refused: %s", payment.id, error)
            return _Collected(UNPAID, held, outstanding=total.amount, reason=str(error))
        events.append(("captured", Money(take, total.currency), None))
        if capture.released is not None and capture.released.amount:
            events.append(("released", capture.released, None))
        return _Collected(CAPTURED, held, take, outstanding, capture.id, reason, events)

    def _receipt(self, payment: Payment, transaction: dict[str, Any], cost: SessionCost | None,
                 total: Money, collected: _Collected) -> Receipt:
        def cents(amount: Decimal) -> Decimal:
            return to_minor(amount, total.currency)

        zero = Decimal(0)
        return Receipt(
            self.receipts.new_id(), payment.account_id, payment.id, transaction["station_id"],
            transaction["ocpp_transaction_id"], transaction.get("evse_id"), total.currency,
            cents(cost.net.amount if cost else zero), cost.vat_percent if cost else zero,
            cents(cost.vat.amount if cost else zero), cents(total.amount),
            cents(collected.captured), cents(collected.outstanding),
            transaction.get("energy_wh"), transaction.get("started_at"),
            transaction.get("stopped_at"), cost.tariff_id if cost else None,
            cost.tariff_version if cost else None, plain(list(cost.lines)) if cost else [],
            self.clock())

    # -- fees and refunds ----------------------------------------------------------------------

    async def charge_fee(self, account_id: str, amount: Money, reason: str,
                         idempotency_key: str) -> PaymentResult:
        """Charge a fee (a booking's no-show) to the account's default card at once. The same
        idempotency key always returns the first result and never charges twice."""
        async with self._locks.hold(("fee", idempotency_key)):
            known = await self.records.by_key(idempotency_key)
            if known is not None and known.account_id != account_id:
                raise PaymentRefused(f"idempotency key {idempotency_key!r} was used for "
                                     f"another account")
            if known is not None and known.status != PENDING:
                return _result_of(known, known.due or known.captured)
            account = self.accounts.require(account_id)
            # A price may have more digits than the currency; what is charged never does.
            amount = _check_amount(Money(to_minor(amount.amount, amount.currency),
                                         amount.currency))
            method = self.accounts.default_method(account_id)
            now = self.clock()
            payment_id = _new_id("pay")
            row = {"id": payment_id, "account_id": account.id, "kind": FEE,
                   "currency": amount.currency, "method_id": method.id if method else None,
                   "provider": self.provider.name, "amount_due": str(amount.amount),
                   "reason": reason, "idempotency_key": idempotency_key, "created_at": now,
                   "updated_at": now}
            if known is not None:  # interrupted before the provider answered: ask again
                reference = await self.records.reference_of(known.method_id)
                result = await self._charge_now(known.id, Money(known.due or Decimal(0),
                                                                known.currency),
                                                reference, reason)
            elif method is None:
                await self.db.write(lambda conn: conn.execute(insert(t.payments).values(
                    **row, status=DECLINED, decline_code=NO_PAYMENT_METHOD,
                    amount_outstanding=str(amount.amount), settled_at=now)))
                result = PaymentResult(payment_id, DECLINED, amount,
                                       "no payment method on the account", NO_PAYMENT_METHOD)
            else:
                await self.db.write(lambda conn: conn.execute(insert(t.payments).values(
                    **row, status=PENDING)))
                result = await self._charge_now(payment_id, amount, method.reference, reason)
        self._publish(result, account_id, None, None, reason)
        return result

    async def _charge_now(self, payment_id: str, amount: Money, card_reference: str,
                          reason: str) -> PaymentResult:
        answer = await self._authorize(payment_id, amount, card_reference)
        now = self.clock()
        if isinstance(answer, ProviderResult) and answer.approved:
            capture = await self.provider.capture(answer.id, amount, f"{payment_id}:capture")
            values: dict[str, Any] = {
                "status": CAPTURED, "authorization_id": answer.id, "capture_id": capture.id,
                "amount_held": str(amount.amount), "amount_captured": str(amount.amount)}
            result = PaymentResult(payment_id, CAPTURED, amount, reason)
        else:
            code = answer.decline_code if isinstance(answer, ProviderResult) else answer.code
            message = answer.message if isinstance(answer, ProviderResult) else str(answer)
            values = {"status": DECLINED, "decline_code": code,
                      "amount_outstanding": str(amount.amount)}
            result = PaymentResult(payment_id, DECLINED, amount, f"{reason}: {message}", code)
        await self.db.write(lambda conn: conn.execute(update(t.payments).where(
            _p.id == payment_id).values(**values, settled_at=now, updated_at=now)))
        return result

    async def refund(self, payment_id: str, amount: Money | None, reason: str, actor: Actor,
                     idempotency_key: str | None = None) -> PaymentResult:
        """Give back ``amount`` (None: all that is left) of what the payment captured.
        Never more than was captured in total: beyond that, :class:`PaymentRefused`. With an
        idempotency key, a repeated request returns the first refund."""
        async with self._locks.hold(("refund", payment_id)):
            payment = await self.get(payment_id)
            if payment is None:
                raise PaymentNotFound(f"no payment {payment_id!r}")
            if idempotency_key is not None:
                known = await self.records.refund_by_key(idempotency_key)
                if known is not None:
                    if known.payment_id != payment_id:
                        raise PaymentRefused(f"idempotency key {idempotency_key!r} was used "
                                             f"for a refund of another payment")
                    return PaymentResult(payment_id, payment.status,
                                         Money(known.amount, known.currency), known.reason)
            wanted = self._refund_amount(payment, amount)
            refund_id = _new_id("ref")
            key = idempotency_key or refund_id
            now = self.clock()
            await self.db.write(lambda conn: conn.execute(insert(t.payment_refunds).values(
                id=refund_id, payment_id=payment_id, status="pending",
                amount=str(wanted.amount), currency=wanted.currency, reason=reason,
                actor=actor.name, actor_role=actor.role, idempotency_key=key, created_at=now)))
            assert payment.capture_id is not None
            try:
                answer = await self.provider.refund(payment.capture_id, wanted,
                                                    f"{payment_id}:refund:{key}")
            except ProviderRefused as error:
                # Kept on record, with its key freed: the same request may be made again.
                await self.db.write(lambda conn: conn.execute(update(t.payment_refunds).where(
                    t.payment_refunds.c.id == refund_id).values(status="refused",
                                                                idempotency_key=refund_id)))
                raise PaymentRefused(f"the payment provider refused the refund: {error}") \
                    from error
            refunded = payment.refunded + wanted.amount
            status = REFUNDED if refunded >= payment.captured else PARTIALLY_REFUNDED

            async def write(conn: AsyncConnection) -> None:
                await conn.execute(update(t.payment_refunds).where(
                    t.payment_refunds.c.id == refund_id).values(
                    status="succeeded", provider_refund_id=answer.id))
                await conn.execute(update(t.payments).where(_p.id == payment_id).values(
                    status=status, amount_refunded=str(refunded), updated_at=self.clock()))

            await self.db.write(write)
        refunded_payment = replace(payment, status=status)
        self._publish_kind("refunded", refunded_payment, wanted, reason, refund_id=refund_id,
                           actor=actor.name)
        return PaymentResult(payment_id, status, wanted, reason)

    def _refund_amount(self, payment: Payment, amount: Money | None) -> Money:
        if payment.status not in REFUNDABLE or payment.capture_id is None:
            raise PaymentRefused(f"payment {payment.id} is {payment.status}: it captured "
                                 f"nothing that could be refunded")
        left = Money(payment.refundable, payment.currency)
        if amount is None:
            if not left.amount:
                raise PaymentRefused(f"payment {payment.id} is already refunded in full")
            return left
        if amount.currency != payment.currency:
            raise InvalidField("currency", f"the payment is in {payment.currency}")
        amount = _check_amount(amount)
        if amount.amount > left.amount:
            raise PaymentRefused(
                f"a refund of {amount} exceeds what is left to refund: {left} (captured "
                f"{Money(payment.captured, payment.currency)}, refunded so far "
                f"{Money(payment.refunded, payment.currency)})")
        return amount

    # -- provider events -----------------------------------------------------------------------

    async def _on_provider_event(self, event: ProviderEvent) -> None:
        """Record what the provider reports (the webhook log of a real provider) and act on
        what changes a payment: a hold the issuer let lapse."""
        key = event.data.get("idempotency_key") or ""
        named = key.partition(":")[0] if key.startswith("pay_") else None
        now = self.clock()

        async def write(conn: AsyncConnection) -> tuple[str | None, bool]:
            payment_id = named
            if payment_id is None and event.authorization_id is not None:
                payment_id = (await conn.execute(select(_p.id).where(
                    _p.authorization_id == event.authorization_id))).scalar()
            seen = (await conn.execute(select(t.payment_provider_events.c.id).where(
                t.payment_provider_events.c.event_id == event.id))).first()
            if seen is not None:
                return payment_id, False
            await conn.execute(insert(t.payment_provider_events).values(
                provider=self.provider.name, event_id=event.id, kind=event.kind,
                object_id=event.object_id, payment_id=payment_id, data=event.data,
                occurred_at=event.occurred_at, received_at=now))
            if event.kind != "authorization.expired" or payment_id is None:
                return payment_id, False
            lapsed = await conn.execute(update(t.payments).where(
                _p.id == payment_id, _p.status == AUTHORIZED).values(
                status=EXPIRED, reason="the card issuer let the hold lapse", updated_at=now))
            return payment_id, lapsed.rowcount == 1

        payment_id, lapsed = await self.db.write(write)
        if lapsed and payment_id is not None:
            payment = await self.get(payment_id)
            if payment is not None:
                if payment.transaction_id is None and payment.station_id and payment.id_token:
                    self._holds.pop((payment.station_id, payment.id_token), None)
                    await self.db.write(lambda conn: conn.execute(update(t.payments).where(
                        _p.id == payment_id).values(settled_at=now)))
                self._publish_kind("released", payment, Money(payment.held, payment.currency),
                                   payment.reason)

    # -- what time does ------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:
                log.warning("payment scan failed", exc_info=True)
            await asyncio.sleep(self.scan_interval_s)

    async def scan(self) -> None:
        """Let the provider do what it does with time, release Authorize holds no session used,
        finish payments a restart interrupted and settle sessions that ended meanwhile."""
        await self.provider.tick()
        now = self.clock()
        for key, hold in list(self._holds.items()):
            if (now - hold.created_at).total_seconds() >= self.unused_hold_s:
                await self._release_unused(key, hold)
        for payment in await self._stale_pending(now):
            # A hold whose answer was lost (a crash, an error): ask again with the same key.
            await self._resume_pending(payment)
        for key in await self.records.ended_unsettled():
            if key in self._sessions:
                await self.settle(*key)

    async def _release_unused(self, key: tuple[str, str], hold: _Hold) -> None:
        async with self._locks.hold(("authorize", *key)):
            if self._holds.get(key) is not hold:
                return  # a session took it meanwhile
            payment = await self.get(hold.payment_id)
            if payment is not None and payment.status == AUTHORIZED:
                assert payment.authorization_id is not None
                await self.provider.release(payment.authorization_id, f"{payment.id}:release")
                now = self.clock()
                await self.db.write(lambda conn: conn.execute(update(t.payments).where(
                    _p.id == hold.payment_id).values(
                    status=RELEASED, reason="no session used the hold", settled_at=now,
                    updated_at=now)))
                self._publish_kind("released", payment, Money(payment.held, payment.currency),
                                   "no session used the hold")
            self._holds.pop(key, None)

    async def _resume_pending(self, payment: Payment) -> Payment:
        amount = Money(payment.held, payment.currency)
        answer = await self._authorize(payment.id, amount,
                                       await self.records.reference_of(payment.method_id))
        if payment.transaction_id is None and isinstance(answer, ProviderResult) \
                and answer.approved and payment.station_id and payment.id_token:
            # An Authorize long answered: its hold is released once it has gone unused.
            self._holds[(payment.station_id, payment.id_token)] = _Hold(payment.id,
                                                                         payment.created_at)
        await self._record_authorization(payment.id, amount, answer,
                                         settle_if_declined=payment.transaction_id is None)
        refreshed = await self.get(payment.id)
        assert refreshed is not None
        return refreshed

    async def _stale_pending(self, now: datetime) -> list[Payment]:
        return [p for p in await self.records.pending()
                if (now - p.created_at).total_seconds() >= PENDING_GRACE_S
                and not self._locks.busy((p.station_id, p.transaction_id))
                and not self._locks.busy(("authorize", p.station_id, p.id_token))]

    # -- queries (see PaymentRecords) ----------------------------------------------------------

    async def get(self, payment_id: str) -> Payment | None:
        return await self.records.get(payment_id)

    async def for_session(self, station_id: str, transaction_id: str) -> Payment | None:
        return await self.records.for_session(station_id, transaction_id)

    async def listing(self, *, account_id: str | None = None, station_id: str | None = None,
                      status: str | None = None, kind: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[Payment]]:
        return await self.records.listing(account_id=account_id, station_id=station_id,
                                          status=status, kind=kind, limit=limit, offset=offset)

    async def refunds(self, payment_id: str) -> list[Refund]:
        return await self.records.refunds(payment_id)

    async def provider_events(self, *, payment_id: str | None = None,
                              limit: int = 100) -> list[dict[str, Any]]:
        return await self.records.provider_events(payment_id=payment_id, limit=limit)

    # -- plumbing ------------------------------------------------------------------------------

    def _publish(self, result: PaymentResult, account_id: str, station_id: str | None,
                 transaction_id: str | None, reason: str | None = None) -> None:
        kind = {AUTHORIZED: "authorized", CAPTURED: "captured"}.get(result.status, "declined")
        self.events.publish(f"payment.{kind}", account_id=account_id,
                            payment_id=result.payment_id, amount=str(result.amount.amount),
                            currency=result.amount.currency,
                            reason=result.reason if result.status == DECLINED else reason,
                            decline_code=result.decline_code, station_id=station_id,
                            transaction_id=transaction_id)

    def _publish_kind(self, kind: str, payment: Payment, amount: Money, reason: str | None,
                      **extra: Any) -> None:
        self.events.publish(f"payment.{kind}", account_id=payment.account_id,
                            payment_id=payment.id, amount=str(amount.amount),
                            currency=amount.currency, reason=reason,
                            station_id=payment.station_id,
                            transaction_id=payment.transaction_id, **extra)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("payment work failed", exc_info=task.exception())


def _refused(verdict: TokenInfo, result: PaymentResult) -> TokenInfo:
    return replace(verdict, status=BLOCKED if result.decline_code == ACCOUNT_SUSPENDED
                   else NO_CREDIT)


def _check_amount(amount: Money) -> Money:
    if amount.amount <= 0:
        raise InvalidField("amount", "must be more than zero")
    if to_minor(amount.amount, amount.currency) != amount.amount:
        raise InvalidField("amount", f"{amount.amount} has more decimals than "
                                     f"{amount.currency} has")
    return amount


def _result_of(payment: Payment, amount: Decimal) -> PaymentResult:
    return PaymentResult(payment.id, payment.status, Money(amount, payment.currency),
                         payment.reason, payment.decline_code)
