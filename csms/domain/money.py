"""Money: exact decimal amounts in a currency, and the one rounding rule every figure follows.

Amounts are ``decimal.Decimal``, never floats: 0.1 + 0.2 must be 0.3 on an invoice. Prices may
carry more digits than the currency (0.4567 EUR/kWh); an amount shown to a driver, held, captured
or refunded is rounded to the currency's minor unit, half up (``to_minor``), as card processors
and invoices do.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units of the currencies that differ from 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded to ``currency``'s minor unit, half up (2.345 EUR -> 2.35)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be a Decimal, not {type(self.amount).__name__}")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise ValueError(f"{self.currency!r} is not an ISO 4217 currency code")

    def rounded(self) -> Money:
        return Money(to_minor(self.amount, self.currency), self.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return f"{to_minor(self.amount, self.currency)} {self.currency}"
