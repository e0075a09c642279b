"""The built-in test payment provider: a card processor's behaviour, with its books in the CSMS's
database (tables ``test_provider_cards`` and ``test_provider_operations``) so that a restart
loses nothing.

How it behaves, as a card processor does:

* A hold (``authorize``) takes the amount from the card's spending room; it lapses after seven
  days (``tick``) unless captured or released first.
* ``capture`` takes at most what is held, once, and releases the rest of the hold with it.
  More than is held is refused: the CSMS asks for an ``increment`` (an incremental
  authorisation) first, which the card may decline like any authorisation.
* ``refund`` gives back part or all of a capture, never more than was captured in total.
* Declines: test card 4000 0000 0000 9995 is always short of funds, 4000 0000 0000 0069 is
  expired, 4000 0000 0000 0002 is refused by its issuer (do not honour); any other valid card
  declines when its spending room (``CardDetails.funds``, default 1000.00) is used up or its
  expiry month has passed.
* Idempotency keys: the same key returns the first answer (approved or declined) and moves no
  money again; a key reused for a different request raises ``IdempotencyMismatch``.
* Every operation sends a provider event (``authorization.approved``, ``capture.succeeded``,
  ``authorization.expired``, ...) to the listeners, after its commit.

It converts no currencies: a card's spending room counts amounts in any currency alike.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.money import Money, to_minor
from csms.domain.timeutil import Clock, utcnow
from csms.payments.cards import DECLINING_TEST_CARDS, brand_of, digits_of, luhn_valid
from csms.payments.provider import (
    EXPIRED_CARD,
    INSUFFICIENT_FUNDS,
    CardDetails,
    CardReference,
    CardRejected,
    IdempotencyMismatch,
    PaymentProvider,
    ProviderError,
    ProviderEvent,
    ProviderRefused,
    ProviderResult,
)
from csms.storage import tables as t
from csms.storage.database import Database

HOLD_LIFETIME = timedelta(days=7)  # how long card networks keep an uncaptured hold
DEFAULT_FUNDS = Decimal("1000.00")

_cards = t.test_provider_cards
_ops = t.test_provider_operations


@dataclass
class _Done:
    """What one operation's database work came to: an answer or a refusal, and the events to
    send once it is committed."""

    result: ProviderResult | None = None
    error: ProviderError | None = None
    events: list[ProviderEvent] = field(default_factory=list)


Perform = Callable[[AsyncConnection, str, datetime], Awaitable[_Done]]


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _event(kind: str, result: ProviderResult, at: datetime, key: str | None,
           **data: Any) -> ProviderEvent:
    # Like a card processor's webhook, the event names the request (its idempotency key) that
    # caused it, so the merchant can tie it to its own records.
    return ProviderEvent(_new_id("evt"), kind, result.id, at, result.authorization_id,
                         {"amount": str(result.amount.amount),
                          "currency": result.amount.currency,
                          "decline_code": result.decline_code, "idempotency_key": key,
                          **data})


def _dec(text: str) -> Decimal:
    return Decimal(text)


class TestProvider(PaymentProvider):
    __test__ = False  # a payment provider, not a pytest test class
    name = "test"

    def __init__(self, db: Database, clock: Clock = utcnow, *,
                 hold_lifetime: timedelta = HOLD_LIFETIME,
                 default_funds: Decimal = DEFAULT_FUNDS) -> None:
        super().__init__()
        self.db = db
        self.clock = clock
        self.hold_lifetime = hold_lifetime
        self.default_funds = default_funds

    # -- cards -------------------------------------------------------------------------------

    async def register_card(self, card: CardDetails) -> CardReference:
        number = digits_of(card.number)
        if not luhn_valid(number):
            raise CardRejected("invalid_number", "not a valid card number (checksum)")
        if not 1 <= card.exp_month <= 12:
            raise CardRejected("invalid_expiry", "the expiry month must be 1 to 12")
        now = self.clock()
        if (card.exp_year, card.exp_month) < (now.year, now.month):
            raise CardRejected(EXPIRED_CARD, "the card has expired")
        funds = self.default_funds if card.funds is None else card.funds
        if funds < 0:
            raise CardRejected("invalid_funds", "a card's funds cannot be negative")
        reference = CardReference(_new_id("card"), brand_of(number), number[-4:],
                                  card.exp_month, card.exp_year)
        await self.db.write(lambda conn: conn.execute(insert(_cards).values(
            reference=reference.reference, brand=reference.brand, last4=reference.last4,
            exp_month=card.exp_month, exp_year=card.exp_year,
            behaviour=DECLINING_TEST_CARDS.get(number), available=str(funds), created_at=now)))
        return reference

    # -- operations ----------------------------------------------------------------------------

    async def authorize(self, amount: Money, card_reference: str,
                        idempotency_key: str) -> ProviderResult:
        async def perform(conn: AsyncConnection, fingerprint: str, now: datetime) -> _Done:
            card = await _card(conn, card_reference)
            if card is None:
                return _Done(error=ProviderRefused("unknown_card",
                                                   f"no card {card_reference!r}"))
            op_id = _new_id("auth")
            code = _decline(card, amount.amount, now)
            result = ProviderResult(op_id, "authorization", code is None, amount, op_id, code)
            await _record(conn, result, idempotency_key, fingerprint, card_reference, None, now,
                          status="declined" if code else "authorized",
                          held=Decimal(0) if code else amount.amount,
                          expires_at=None if code else now + self.hold_lifetime)
            if code is not None:
                return _Done(result, events=[
                    _event("authorization.declined", result, now, idempotency_key)])
            await _add_funds(conn, card_reference, card, -amount.amount)
            return _Done(result, events=[
                _event("authorization.approved", result, now, idempotency_key)])

        return await self._run("authorization", idempotency_key,
                               {"card": card_reference, **_money(amount)}, amount, perform)

    async def increment(self, authorization_id: str, amount: Money,
                        idempotency_key: str) -> ProviderResult:
        async def perform(conn: AsyncConnection, fingerprint: str, now: datetime) -> _Done:
            auth, refusal = await _open_authorization(conn, authorization_id, amount.currency)
            if refusal is not None:
                return _Done(error=refusal)
            card = await _card(conn, auth["card_reference"])
            code = _decline(card, amount.amount, now)
            result = ProviderResult(_new_id("inc"), "increment", code is None, amount,
                                    authorization_id, code)
            await _record(conn, result, idempotency_key, fingerprint, auth["card_reference"],
                          authorization_id, now, status="declined" if code else "approved")
            if code is not None:
                return _Done(result, events=[_event("authorization.increment_declined",
                                                    result, now, idempotency_key)])
            await _add_funds(conn, auth["card_reference"], card, -amount.amount)
            await conn.execute(update(_ops).where(_ops.c.id == authorization_id).values(
                amount=str(_dec(auth["amount"]) + amount.amount),
                held=str(_dec(auth["held"]) + amount.amount), updated_at=now))
            return _Done(result, events=[
                _event("authorization.incremented", result, now, idempotency_key)])

        return await self._run("increment", idempotency_key,
                               {"authorization": authorization_id, **_money(amount)}, amount,
                               perform)

    async def capture(self, authorization_id: str, amount: Money,
                      idempotency_key: str) -> ProviderResult:
        async def perform(conn: AsyncConnection, fingerprint: str, now: datetime) -> _Done:
            auth, refusal = await _open_authorization(conn, authorization_id, amount.currency)
            if refusal is not None:
                return _Done(error=refusal)
            held = _dec(auth["held"])
            if amount.amount > held:
                return _Done(error=ProviderRefused(
                    "amount_exceeds_authorization",
                    f"capture of {amount} exceeds the {Money(held, amount.currency)} held; "
                    f"increment the authorisation first"))
            released = Money(held - amount.amount, amount.currency)
            result = ProviderResult(_new_id("cap"), "capture", True, amount, authorization_id,
                                    released=released)
            await _record(conn, result, idempotency_key, fingerprint, auth["card_reference"],
                          authorization_id, now, status="succeeded", captured=amount.amount)
            await conn.execute(update(_ops).where(_ops.c.id == authorization_id).values(
                status="captured", held="0", captured=str(amount.amount), updated_at=now))
            if released.amount:
                card = await _card(conn, auth["card_reference"])
                await _add_funds(conn, auth["card_reference"], card, released.amount)
            return _Done(result, events=[_event("capture.succeeded", result, now,
                                                idempotency_key,
                                                released=str(released.amount))])

        return await self._run("capture", idempotency_key,
                               {"authorization": authorization_id, **_money(amount)}, amount,
                               perform)

    async def release(self, authorization_id: str, idempotency_key: str) -> ProviderResult:
        async def perform(conn: AsyncConnection, fingerprint: str, now: datetime) -> _Done:
            auth, refusal = await _open_authorization(conn, authorization_id, None)
            if refusal is not None:
                return _Done(error=refusal)
            held = Money(_dec(auth["held"]), auth["currency"])
            result = ProviderResult(_new_id("rel"), "release", True, held, authorization_id)
            await _record(conn, result, idempotency_key, fingerprint, auth["card_reference"],
                          authorization_id, now, status="succeeded")
            await conn.execute(update(_ops).where(_ops.c.id == authorization_id).values(
                status="released", held="0", updated_at=now))
            card = await _card(conn, auth["card_reference"])
            await _add_funds(conn, auth["card_reference"], card, held.amount)
            return _Done(result, events=[
                _event("authorization.released", result, now, idempotency_key)])

        return await self._run("release", idempotency_key, {"authorization": authorization_id},
                               None, perform)

    async def refund(self, capture_id: str, amount: Money | None,
                     idempotency_key: str) -> ProviderResult:
        async def perform(conn: AsyncConnection, fingerprint: str, now: datetime) -> _Done:
            capture = (await conn.execute(select(_ops).where(
                _ops.c.id == capture_id, _ops.c.kind == "capture"))).mappings().first()
            if capture is None:
                return _Done(error=ProviderRefused("unknown_capture", f"no capture {capture_id}"))
            currency = capture["currency"]
            refundable = _dec(capture["captured"]) - _dec(capture["refunded"])
            wanted = Money(refundable, currency) if amount is None else amount
            if wanted.currency != currency:
                return _Done(error=ProviderRefused(
                    "currency_mismatch", f"the capture is in {currency}, not {wanted.currency}"))
            if wanted.amount > refundable:
                return _Done(error=ProviderRefused(
                    "amount_exceeds_captured",
                    f"refund of {wanted} exceeds the {Money(refundable, currency)} still "
                    f"refundable"))
            if wanted.amount <= 0:
                return _Done(error=ProviderRefused("nothing_to_refund",
                                                   "nothing left to refund on this capture"))
            result = ProviderResult(_new_id("ref"), "refund", True, wanted,
                                    capture["parent_id"])
            await _record(conn, result, idempotency_key, fingerprint, capture["card_reference"],
                          capture_id, now, status="succeeded")
            await conn.execute(update(_ops).where(_ops.c.id == capture_id).values(
                refunded=str(_dec(capture["refunded"]) + wanted.amount), updated_at=now))
            card = await _card(conn, capture["card_reference"])
            await _add_funds(conn, capture["card_reference"], card, wanted.amount)
            return _Done(result, events=[_event("refund.succeeded", result, now,
                                                idempotency_key, capture_id=capture_id)])

        request = {"capture": capture_id,
                   **(_money(amount) if amount is not None else {"amount": None})}
        return await self._run("refund", idempotency_key, request, amount, perform)

    async def tick(self) -> None:
        """Let holds older than their lifetime lapse, as issuers do."""
        now = self.clock()

        async def write(conn: AsyncConnection) -> list[ProviderEvent]:
            lapsed = (await conn.execute(select(_ops).where(
                _ops.c.kind == "authorization", _ops.c.status == "authorized",
                _ops.c.expires_at <= now))).mappings().all()
            events = []
            for auth in lapsed:
                held = Money(_dec(auth["held"]), auth["currency"])
                await conn.execute(update(_ops).where(_ops.c.id == auth["id"]).values(
                    status="expired", held="0", updated_at=now))
                card = await _card(conn, auth["card_reference"])
                await _add_funds(conn, auth["card_reference"], card, held.amount)
                result = ProviderResult(auth["id"], "authorization", True, held, auth["id"])
                events.append(_event("authorization.expired", result, now, None))
            return events

        for event in await self.db.write(write):
            await self.emit(event)

    # -- plumbing ------------------------------------------------------------------------------

    async def _run(self, kind: str, key: str, request: dict[str, Any], amount: Money | None,
                   perform: Perform) -> ProviderResult:
        """``perform`` once per idempotency key, in one database transaction; the events it
        produced are sent after the commit. A repeated key gets the stored answer."""
        if amount is not None:
            _check_amount(amount)
        fingerprint = hashlib.sha256(json.dumps({"kind": kind, **request},
                                                sort_keys=True).encode()).hexdigest()
        now = self.clock()

        async def write(conn: AsyncConnection) -> _Done:
            known = (await conn.execute(select(_ops.c.fingerprint, _ops.c.result).where(
                _ops.c.idempotency_key == key))).first()
            if known is not None:
                if known.fingerprint != fingerprint:
                    return _Done(error=IdempotencyMismatch(key))
                return _Done(ProviderResult.from_json(known.result))
            return await perform(conn, fingerprint, now)

        # Refusals are returned, not raised, inside the write: a raise would fail the whole
        # group commit and make every other write in it retry alone.
        done = await self.db.write(write)
        if done.error is not None:
            raise done.error
        for event in done.events:
            await self.emit(event)
        assert done.result is not None
        return done.result


def _money(amount: Money) -> dict[str, str]:
    return {"amount": str(amount.amount), "currency": amount.currency}


def _check_amount(amount: Money) -> None:
    if amount.amount <= 0:
        raise ProviderRefused("invalid_amount", f"amount must be positive, not {amount.amount}")
    if to_minor(amount.amount, amount.currency) != amount.amount:
        raise ProviderRefused("invalid_amount", f"{amount.amount} has more decimals than "
                                                f"{amount.currency} has")


def _decline(card: Any, amount: Decimal, now: datetime) -> str | None:
    if card["behaviour"]:
        return card["behaviour"]
    if (card["exp_year"], card["exp_month"]) < (now.year, now.month):
        return EXPIRED_CARD
    if amount > _dec(card["available"]):
        return INSUFFICIENT_FUNDS
    return None


async def _card(conn: AsyncConnection, reference: str) -> Any:
    return (await conn.execute(select(_cards).where(_cards.c.reference == reference))
            ).mappings().first()


async def _add_funds(conn: AsyncConnection, reference: str, card: Any, delta: Decimal) -> None:
    await conn.execute(update(_cards).where(_cards.c.reference == reference).values(
        available=str(_dec(card["available"]) + delta)))


async def _open_authorization(conn: AsyncConnection, authorization_id: str,
                              currency: str | None) -> tuple[Any, ProviderRefused | None]:
    auth = (await conn.execute(select(_ops).where(
        _ops.c.id == authorization_id, _ops.c.kind == "authorization"))).mappings().first()
    if auth is None:
        return None, ProviderRefused("unknown_authorization",
                                     f"no authorisation {authorization_id}")
    if auth["status"] != "authorized":
        return auth, ProviderRefused("authorization_not_active",
                                     f"authorisation {authorization_id} is {auth['status']}")
    if currency is not None and currency != auth["currency"]:
        return auth, ProviderRefused("currency_mismatch",
                                     f"the authorisation is in {auth['currency']}, "
                                     f"not {currency}")
    return auth, None


async def _record(conn: AsyncConnection, result: ProviderResult, key: str, fingerprint: str,
                  card_reference: str, parent_id: str | None, now: datetime, *, status: str,
                  held: Decimal = Decimal(0), captured: Decimal = Decimal(0),
                  expires_at: datetime | None = None) -> None:
    await conn.execute(insert(_ops).values(
        id=result.id, kind=result.kind, idempotency_key=key, fingerprint=fingerprint,
        card_reference=card_reference, parent_id=parent_id, status=status,
        currency=result.amount.currency, amount=str(result.amount.amount), held=str(held),
        captured=str(captured), refunded="0", decline_code=result.decline_code,
        result=result.to_json(), expires_at=expires_at, created_at=now, updated_at=now))
