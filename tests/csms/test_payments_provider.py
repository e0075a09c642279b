"""The built-in test payment provider behaves like a card processor: holds that take from the
card's funds, captures of at most what is held (the rest released), incremental authorisations,
releases, partial and full refunds never beyond the capture, scripted declines, idempotency keys,
provider events, lapsing holds, and books that survive a restart. No websockets: the provider
on a real database, as the CSMS runs it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.money import Money
from csms.payments.provider import (
    CardDetails,
    CardRejected,
    IdempotencyMismatch,
    ProviderEvent,
    ProviderRefused,
)
from csms.payments.test_provider import TestProvider
from csms.storage import tables as t
from csms.storage.database import Database


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 3, 14, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@contextlib.asynccontextmanager
async def provider_on(database_url: str, clock: Clock) -> AsyncIterator[TestProvider]:
    db = Database(database_url)
    await db.start()
    try:
        yield TestProvider(db, clock)
    finally:
        await db.close()


async def available(provider: TestProvider, reference: str) -> Decimal:
    """The card's spending room, as the provider's books say."""
    async def read(conn: AsyncConnection) -> str:
        return (await conn.execute(select(t.test_provider_cards.c.available).where(
            t.test_provider_cards.c.reference == reference))).scalar_one()

    return Decimal(await provider.db.read(read))


async def test_holds_take_funds_captures_release_the_rest(database_url: str) -> None:
    clock = Clock()
    async with provider_on(database_url, clock) as provider:
        events: list[ProviderEvent] = []

        async def listen(event: ProviderEvent) -> None:
            events.append(event)

        provider.on_event(listen)
        card = await provider.register_card(CardDetails("4242 4242 4242 4242", 12, 2031,
                                                        funds=Decimal("100.00")))
        assert (card.brand, card.last4, card.exp_month, card.exp_year) == \
            ("visa", "4242", 12, 2031)
        first = await provider.authorize(eur("60.00"), card.reference, "k-hold-1")
        assert first.approved and first.authorization_id == first.id
        # 40.00 left: a second hold of 50.00 is short of funds.
        short = await provider.authorize(eur("50.00"), card.reference, "k-hold-2")
        assert not short.approved and short.decline_code == "insufficient_funds"
        assert short.message == "insufficient funds on the card"
        with pytest.raises(ProviderRefused, match=r"exceeds the 60\.00 EUR held"):
            await provider.capture(first.id, eur("60.01"), "k-cap-too-much")
        capture = await provider.capture(first.id, eur("45.50"), "k-cap-1")
        assert capture.approved and capture.amount == eur("45.50")
        assert capture.released == eur("14.50")  # the rest of the hold, given back
        assert await available(provider, card.reference) == Decimal("54.50")
        with pytest.raises(ProviderRefused, match="is captured"):
            await provider.capture(first.id, eur("1.00"), "k-cap-again")  # one capture only
        second = await provider.authorize(eur("50.00"), card.reference, "k-hold-3")
        assert second.approved
        released = await provider.release(second.id, "k-rel-1")
        assert released.approved and released.amount == eur("50.00")
        assert await available(provider, card.reference) == Decimal("54.50")
        with pytest.raises(ProviderRefused, match="is released"):
            await provider.release(second.id, "k-rel-2")
        with pytest.raises(ProviderRefused, match="more decimals"):
            await provider.authorize(eur("1.005"), card.reference, "k-bad")
    assert [e.kind for e in events] == [
        "authorization.approved", "authorization.declined", "capture.succeeded",
        "authorization.approved", "authorization.released"]
    assert events[2].data["released"] == "14.50"
    assert events[2].data["idempotency_key"] == "k-cap-1"


async def test_incremental_authorisation_when_the_final_amount_exceeds_the_hold(
        database_url: str) -> None:
    async with provider_on(database_url, Clock()) as provider:
        card = await provider.register_card(CardDetails("5555555555554444", 1, 2032,
                                                        funds=Decimal("80.00")))
        assert card.brand == "mastercard"
        hold = await provider.authorize(eur("50.00"), card.reference, "inc-hold")
        more = await provider.increment(hold.id, eur("20.00"), "inc-1")
        assert more.approved and more.authorization_id == hold.id
        capture = await provider.capture(hold.id, eur("70.00"), "inc-cap")
        assert capture.amount == eur("70.00") and capture.released == eur("0.00")
        # 10.00 left on the card: an increment of 15.00 on a new hold is declined.
        hold2 = await provider.authorize(eur("5.00"), card.reference, "inc-hold-2")
        refused = await provider.increment(hold2.id, eur("15.00"), "inc-2")
        assert not refused.approved and refused.decline_code == "insufficient_funds"


@pytest.mark.parametrize(("number", "code"), [("4000000000009995", "insufficient_funds"),
                                              ("4000 0000 0000 0069", "expired_card"),
                                              ("4000-0000-0000-0002", "do_not_honor")])
async def test_test_cards_decline_with_their_reason(database_url: str, number: str,
                                                    code: str) -> None:
    async with provider_on(database_url, Clock()) as provider:
        card = await provider.register_card(CardDetails(number, 12, 2031))
        result = await provider.authorize(eur("1.00"), card.reference, f"decline-{code}")
        assert not result.approved and result.decline_code == code


async def test_cards_that_cannot_be_registered_and_cards_that_expire(database_url: str) -> None:
    clock = Clock()
    async with provider_on(database_url, clock) as provider:
        with pytest.raises(CardRejected, match="checksum"):
            await provider.register_card(CardDetails("4242424242424241", 12, 2031))
        with pytest.raises(CardRejected, match="expired"):
            await provider.register_card(CardDetails("4242424242424242", 2, 2030))
        card = await provider.register_card(CardDetails("4242424242424242", 3, 2030))
        assert (await provider.authorize(eur("5.00"), card.reference, "exp-1")).approved
        clock.now = datetime(2030, 4, 1, tzinfo=UTC)  # valid through March only
        late = await provider.authorize(eur("5.00"), card.reference, "exp-2")
        assert not late.approved and late.decline_code == "expired_card"


async def test_idempotency_keys_never_move_money_twice(database_url: str) -> None:
    async with provider_on(database_url, Clock()) as provider:
        card = await provider.register_card(CardDetails("4242424242424242", 12, 2031,
                                                        funds=Decimal("100.00")))
        hold = await provider.authorize(eur("30.00"), card.reference, "idem-hold")
        again = await provider.authorize(eur("30.00"), card.reference, "idem-hold")
        assert again == hold
        assert await available(provider, card.reference) == Decimal("70.00")
        with pytest.raises(IdempotencyMismatch):
            await provider.authorize(eur("31.00"), card.reference, "idem-hold")
        capture = await provider.capture(hold.id, eur("12.34"), "idem-cap")
        assert await provider.capture(hold.id, eur("12.34"), "idem-cap") == capture
        refund = await provider.refund(capture.id, eur("2.00"), "idem-ref")
        assert await provider.refund(capture.id, eur("2.00"), "idem-ref") == refund
        assert await available(provider, card.reference) == Decimal("89.66")
        declined_card = await provider.register_card(CardDetails("4000000000000002", 12, 2031))
        no = await provider.authorize(eur("1.00"), declined_card.reference, "idem-decl")
        assert await provider.authorize(eur("1.00"), declined_card.reference,
                                        "idem-decl") == no  # a decline is an answer too


async def test_partial_then_full_refunds_never_beyond_the_capture(database_url: str) -> None:
    async with provider_on(database_url, Clock()) as provider:
        card = await provider.register_card(CardDetails("4242424242424242", 12, 2031))
        hold = await provider.authorize(eur("50.00"), card.reference, "ref-hold")
        capture = await provider.capture(hold.id, eur("20.00"), "ref-cap")
        part = await provider.refund(capture.id, eur("7.50"), "ref-1")
        assert part.approved and part.amount == eur("7.50")
        with pytest.raises(ProviderRefused, match=r"exceeds the 12\.50 EUR still refundable"):
            await provider.refund(capture.id, eur("12.51"), "ref-2")
        rest = await provider.refund(capture.id, None, "ref-3")
        assert rest.amount == eur("12.50")
        with pytest.raises(ProviderRefused, match="nothing left to refund"):
            await provider.refund(capture.id, None, "ref-4")
        with pytest.raises(ProviderRefused, match="no capture"):
            await provider.refund("cap_unknown", None, "ref-5")


async def test_books_survive_a_restart_and_holds_lapse_after_seven_days(
        database_url: str) -> None:
    clock = Clock()
    async with provider_on(database_url, clock) as provider:
        card = await provider.register_card(CardDetails("4242424242424242", 12, 2031,
                                                        funds=Decimal("100.00")))
        kept = await provider.authorize(eur("40.00"), card.reference, "restart-hold")
        lapsing = await provider.authorize(eur("25.00"), card.reference, "restart-lapse")
    async with provider_on(database_url, clock) as provider:  # a new process, same database
        events: list[ProviderEvent] = []

        async def listen(event: ProviderEvent) -> None:
            events.append(event)

        provider.on_event(listen)
        assert await provider.authorize(eur("40.00"), card.reference, "restart-hold") == kept
        assert await available(provider, card.reference) == Decimal("35.00")
        capture = await provider.capture(kept.id, eur("40.00"), "restart-cap")
        assert capture.released == eur("0.00")
        clock.now += timedelta(days=6, hours=23)
        await provider.tick()
        assert [e.kind for e in events] == ["capture.succeeded"]
        clock.now += timedelta(hours=1)
        await provider.tick()
        assert events[-1].kind == "authorization.expired"
        assert events[-1].authorization_id == lapsing.id
        assert await available(provider, card.reference) == Decimal("60.00")
        with pytest.raises(ProviderRefused, match="is expired"):
            await provider.capture(lapsing.id, eur("1.00"), "restart-late-cap")
