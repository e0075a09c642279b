"""What the CSMS needs from a payment provider, and nothing more.

A card payment for a charging session is a hold (``authorize``) placed when the driver is
identified, a ``capture`` of the final amount when the session ends (card processors release
what is left of the hold with it), or a ``release`` when nothing is owed; ``refund`` gives money
back from a capture. When the final amount exceeds the hold, the CSMS asks for an ``increment``
(an incremental authorisation, as card networks allow for open-amount purchases such as fuel,
hotels and charging) and captures the whole amount if it is approved.

Every operation takes an idempotency key: the same key always returns the first answer and
never moves money twice, so a call may be retried after a crash or a timeout. A key reused for a
different request raises :class:`IdempotencyMismatch`.

Declines are answers (``ProviderResult.approved`` false with a ``decline_code``), not errors:
they are part of normal business. Requests that can never succeed (capturing more than is held,
refunding more than was captured, an unknown authorisation) raise :class:`ProviderRefused`.

What the provider learns on its own (a hold that lapsed, a refund that settled) comes back as
:class:`ProviderEvent` s to the listeners registered with ``on_event``; a real provider would
feed them from its webhooks.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from csms.domain.money import Money

log = logging.getLogger("chargeloop.csms.payments")

# Why a card payment was declined, in the words card processors use.
INSUFFICIENT_FUNDS = "insufficient_funds"
EXPIRED_CARD = "expired_card"
DO_NOT_HONOR = "do_not_honor"
CURRENCY_NOT_SUPPORTED = "currency_not_supported"

DECLINE_MESSAGES = {
    INSUFFICIENT_FUNDS: "insufficient funds on the card",
    EXPIRED_CARD: "the card has expired",
    DO_NOT_HONOR: "the card issuer declined the payment (do not honour)",
    CURRENCY_NOT_SUPPORTED: "the card does not support this currency",
}


def decline_message(code: str | None) -> str:
    if code is None:
        return "declined"
    return DECLINE_MESSAGES.get(code, f"declined ({code})")


class ProviderError(Exception):
    """A request the provider could not carry out (not a decline)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ProviderRefused(ProviderError):
    """A request that can never succeed: more than is held or captured, an unknown or closed
    authorisation, an amount of zero or less."""


class IdempotencyMismatch(ProviderError):
    def __init__(self, key: str) -> None:
        super().__init__("idempotency_mismatch",
                         f"idempotency key {key!r} was already used for a different request")


class CardRejected(ProviderError):
    """A card that cannot be registered (invalid number, already expired)."""


@dataclass(frozen=True, slots=True)
class CardDetails:
    """A card as a driver types it. Only the provider sees the number; the CSMS keeps the
    reference the provider gives back."""

    number: str
    exp_month: int
    exp_year: int
    # Test provider only: how much the card may spend (default: a comfortable limit).
    funds: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CardReference:
    reference: str  # the provider's token for the card
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """The provider's answer to one operation."""

    id: str  # the provider's id of this operation (an authorisation, a capture, a refund)
    kind: str  # authorization, increment, capture, release, refund
    approved: bool
    amount: Money  # what the operation concerned (held, added, captured, released, refunded)
    authorization_id: str | None = None  # the hold the operation belongs to
    decline_code: str | None = None
    released: Money | None = None  # on a capture: what was left of the hold, now released

    @property
    def message(self) -> str | None:
        return None if self.approved else decline_message(self.decline_code)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "approved": self.approved,
                "amount": str(self.amount.amount), "currency": self.amount.currency,
                "authorization_id": self.authorization_id, "decline_code": self.decline_code,
                "released": None if self.released is None else str(self.released.amount)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProviderResult:
        currency = data["currency"]
        released = data.get("released")
        return cls(data["id"], data["kind"], data["approved"],
                   Money(Decimal(data["amount"]), currency), data.get("authorization_id"),
                   data.get("decline_code"),
                   None if released is None else Money(Decimal(released), currency))


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    id: str  # unique per provider: the same event delivered twice is recorded once
    kind: str  # authorization.approved, authorization.declined, capture.succeeded, ...
    object_id: str  # the operation it is about
    occurred_at: datetime
    authorization_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


EventListener = Callable[[ProviderEvent], Awaitable[None]]


class PaymentProvider(ABC):
    """A card processor behind the CSMS. Implementations: :class:`TestProvider` (built in);
    a real one wraps its processor's API and feeds its webhooks to ``emit``."""

    name: str

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []

    def on_event(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    async def emit(self, event: ProviderEvent) -> None:
        for listener in self._listeners:
            try:
                await listener(event)
            except Exception:
                log.exception("payment provider event listener failed on %s", event.kind)

    async def load(self) -> None:  # noqa: B027 - optional, nothing by default
        """Prepare after the database is up."""

    async def tick(self) -> None:  # noqa: B027 - optional, nothing by default
        """Do what the provider does with time (holds lapsing); called periodically."""

    @abstractmethod
    async def register_card(self, card: CardDetails) -> CardReference: ...

    @abstractmethod
    async def authorize(self, amount: Money, card_reference: str,
                        idempotency_key: str) -> ProviderResult: ...

    @abstractmethod
    async def increment(self, authorization_id: str, amount: Money,
                        idempotency_key: str) -> ProviderResult: ...

    @abstractmethod
    async def capture(self, authorization_id: str, amount: Money,
                      idempotency_key: str) -> ProviderResult: ...

    @abstractmethod
    async def release(self, authorization_id: str, idempotency_key: str) -> ProviderResult: ...

    @abstractmethod
    async def refund(self, capture_id: str, amount: Money | None,
                     idempotency_key: str) -> ProviderResult: ...
