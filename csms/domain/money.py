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
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3,
                "BIF": 0, "DJF": 0, "GNF": 0, "KMF": 0, "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0,
                "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0, "IQD": 3, "LYD": 3, "OMR": 3, "TND": 3}

# The active ISO 4217 currency codes (funds and precious metals left out).
CURRENCIES = frozenset({
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
    "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW",
    "ZWG", "ZWL",
})


def is_currency(code: str) -> bool:
    """Whether ``code`` is an active ISO 4217 currency (upper case, as written: "EUR")."""
    return code in CURRENCIES


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
