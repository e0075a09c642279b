"""Durations as scenarios write them: a number of seconds, or units such as ``1h30m``.

The string form is whole or decimal amounts of ``d``, ``h``, ``m``, ``s`` and ``ms``, each at most
once and in that order (``1d``, ``8h``, ``15m``, ``90s``, ``1h30m``, ``1.5h``, ``500ms``). The same
pattern is in the scenario schema, so what the schema accepts this module can parse.
"""

from __future__ import annotations

import re

_AMOUNT = r"(\d+(?:\.\d+)?)"
PATTERN = (
    rf"^(?:{_AMOUNT}d)?(?:{_AMOUNT}h)?(?:{_AMOUNT}m)?(?:{_AMOUNT}s)?(?:{_AMOUNT}ms)?$"
)
_REGEX = re.compile(PATTERN)
_UNIT_S = (86_400.0, 3_600.0, 60.0, 1.0, 0.001)

EXAMPLES = "90s, 15m, 8h, 1d, 1h30m"


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``value``: a number of seconds, or a string like ``1h30m``.

    Raises ``ValueError`` for anything else (negative numbers, empty strings, unknown units,
    units out of order); booleans are not numbers here.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        if value < 0 or value != value:  # NaN is not a duration either
            raise ValueError(f"{value!r} is not a duration: it must not be negative")
        return float(value)
    if isinstance(value, str):
        match = _REGEX.match(value.strip())
        if match and value.strip():
            amounts = zip(match.groups(), _UNIT_S, strict=True)
            return sum(float(amount) * unit for amount, unit in amounts if amount is not None)
    raise ValueError(f"{value!r} is not a duration: use a number of seconds or a string like "
                     f"{EXAMPLES}")


def format_duration(seconds: float) -> str:
    """The shortest string form ``parse_duration`` reads back to ``seconds`` (``5400`` ->
    ``1h30m``); fractions of a second below a millisecond are rounded."""
    if seconds < 0:
        raise ValueError("durations are not negative")
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
                       ("ms", 1)):
        amount, ms = divmod(ms, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)
