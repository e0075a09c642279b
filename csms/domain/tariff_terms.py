"""A tariff's terms as operators write them and as they are stored: band clock times, bands
as JSON, and the checks that make a version priceable (the API checks shapes; these checks hold
for every caller)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csms.domain.money import is_currency
from csms.domain.pricing import MINUTES_PER_DAY, WEEKDAYS, Band, Tariff

PRICES = ("energy_price_per_kwh", "time_price_per_min", "idle_price_per_min", "idle_grace_min",
          "session_fee", "vat_percent")
OPTIONAL_PRICES = ("no_show_fee", "preauth_amount")


class TariffError(Exception):
    pass


class TariffInvalid(TariffError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def clock_minutes(text: str, *, end: bool) -> int:
    """``"HH:MM"`` as minutes after midnight; as an end, ``"00:00"`` and ``"24:00"`` are the
    midnight that closes the day (1440)."""
    hours, sep, minutes = text.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and hours.isdigit()
            and minutes.isdigit()):
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59"
                         f"{', or 24:00 as an end' if end else ''})")
    return MINUTES_PER_DAY if end and value == 0 else value


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def band_json(band: Band) -> dict[str, Any]:
    return {"name": band.name, "days": [WEEKDAYS[d - 1] for d in sorted(band.weekdays)],
            "start": clock_text(band.start_min), "end": clock_text(band.end_min),
            "energy_price_per_kwh": decimal_text(band.energy_price_per_kwh),
            "time_price_per_min": decimal_text(band.time_price_per_min)}


def band_from_json(data: Mapping[str, Any]) -> Band:
    return Band(name=data["name"],
                weekdays=frozenset(WEEKDAYS.index(day) + 1 for day in data["days"]),
                start_min=clock_minutes(data["start"], end=False),
                end_min=clock_minutes(data["end"], end=True),
                energy_price_per_kwh=text_decimal(data.get("energy_price_per_kwh")),
                time_price_per_min=text_decimal(data.get("time_price_per_min")))


def check_terms(tariff: Tariff) -> None:
    """Raise :class:`TariffInvalid` naming the first field that cannot be priced with."""
    if not is_currency(tariff.currency):
        raise TariffInvalid("currency", f"{tariff.currency!r} is not an active ISO 4217 "
                                        "currency code (e.g. EUR, USD, JPY)")
    try:
        ZoneInfo(tariff.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TariffInvalid("time_zone", f"{tariff.time_zone!r} is not an IANA time zone "
                                         "(e.g. Europe/Berlin, UTC)") from None
    for name in (*PRICES, *OPTIONAL_PRICES):
        _check_amount(name, getattr(tariff, name))
    if tariff.vat_percent > 100:
        raise TariffInvalid("vat_percent", "must be at most 100")
    names: set[str] = set()
    for i, band in enumerate(tariff.bands):
        where = f"bands.{i}"
        if band.name in names:
            raise TariffInvalid(f"{where}.name", f"another band is named {band.name!r}")
        names.add(band.name)
        if not band.weekdays:
            raise TariffInvalid(f"{where}.days", "name at least one day")
        if band.start_min == band.end_min % MINUTES_PER_DAY:
            raise TariffInvalid(f"{where}.end", "a band must not start and end at the same "
                                                "time (00:00 to 24:00 is the whole day)")
        _check_amount(f"{where}.energy_price_per_kwh", band.energy_price_per_kwh)
        _check_amount(f"{where}.time_price_per_min", band.time_price_per_min)


def _check_amount(field: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not value.is_finite():
        raise TariffInvalid(field, "must be a finite number")
    if value < 0:
        raise TariffInvalid(field, "must not be negative")


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def text_decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
