"""Validation against the official OCPP JSON schemas shipped in the ``ocpp`` package.

Each schema is compiled once (jsonschema-rs, a compiled validator) and cached for the process.
jsonschema-rs checks ``multipleOf`` exactly, so ``8.1`` is a multiple of ``0.1`` as the OCPP-J
rules demand, where binary floating point says it is not.

Strict mode rejects whatever the schema rejects. Lenient mode repairs the quirks real chargers
are known for (unknown fields, enum values in the wrong case, timestamps without a zone, numbers
sent as strings) and returns a note per repair, so the trace shows every leniency taken.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson

from chargeloop.ocppj.errors import ErrorKind, PayloadInvalid
from chargeloop.ocppj.versions import OcppVersion


class ValidationMode(StrEnum):
    STRICT = "strict"
    LENIENT = "lenient"
    OFF = "off"


class Direction(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"


_OCCURRENCE = {"required", "minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems"}
_FORMAT = {"additionalProperties", "additionalItems", "falseSchema"}
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_NAIVE_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$")
_MAX_REPAIRS = 32


def _kind_of(keyword: str) -> ErrorKind:
    if keyword in _OCCURRENCE:
        return ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION
    if keyword in _FORMAT:
        return ErrorKind.FORMAT_VIOLATION
    if keyword == "type":
        return ErrorKind.TYPE_CONSTRAINT_VIOLATION
    return ErrorKind.PROPERTY_CONSTRAINT_VIOLATION


def _schema_name(version: OcppVersion, action: str, direction: Direction) -> str:
    if direction is Direction.RESPONSE:
        return f"{action}Response"
    if version is OcppVersion.V16 or action in _send_only(version):
        return action
    return f"{action}Request"


@cache
def _send_only(version: OcppVersion) -> frozenset[str]:
    """2.1 names its SEND-only messages without a suffix (``NotifyPeriodicEventStream.json``)."""
    if version is OcppVersion.V16:
        return frozenset()
    return frozenset(n for n in _schema_files(version)
                     if not n.endswith(("Request", "Response")))


@cache
def _schema_files(version: OcppVersion) -> dict[str, Any]:
    folder = resources.files("ocpp") / version.package_dir / "schemas"
    return {entry.name.removesuffix(".json"): entry for entry in folder.iterdir()
            if entry.name.endswith(".json")}


@cache
def known_actions(version: OcppVersion) -> frozenset[str]:
    """Every action ``version`` defines (those with a request schema)."""
    names = _schema_files(version)
    if version is OcppVersion.V16:
        return frozenset(n for n in names if not n.endswith("Response"))
    return frozenset(n.removesuffix("Request") for n in names if n.endswith("Request")
                     ) | _send_only(version)


@cache
def _validator(version: OcppVersion, action: str, direction: Direction) -> Any:
    entry = _schema_files(version).get(_schema_name(version, action, direction))
    if entry is None:
        return None
    # The 2.x schemas start with a byte order mark.
    schema = orjson.loads(entry.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    schema.pop("$id", None)
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@dataclass(frozen=True, slots=True)
class Validated:
    payload: dict[str, Any]
    leniencies: tuple[str, ...] = ()


def _path_text(path: list[Any]) -> str:
    return "/" + "/".join(str(p) for p in path)


def _locate(payload: Any, path: list[Any]) -> tuple[Any, Any]:
    """The container holding the value at ``path``, and that value's key in it."""
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    return parent, path[-1]


def _repair(payload: dict[str, Any], error: Any) -> str | None:
    """Mend one known charger quirk in place; return what was done, or None if it is no quirk."""
    keyword = error.kind.name
    path = list(error.instance_path)
    if keyword == "additionalProperties":
        target = payload
        for step in path:
            target = target[step]
        for name in error.kind.unexpected:
            target.pop(name, None)
        return f"removed unknown field(s) {', '.join(error.kind.unexpected)} at {_path_text(path)}"
    if not path:
        return None
    parent, key = _locate(payload, path)
    value = parent[key]
    if keyword == "enum" and isinstance(value, str):
        for option in error.kind.options:
            if isinstance(option, str) and option.lower() == value.lower():
                parent[key] = option
                return f"enum value {value!r} read as {option!r} at {_path_text(path)}"
    if keyword == "format" and isinstance(value, str) and _NAIVE_DATETIME.match(value):
        # RFC 3339 wants seconds: "12:00" becomes "12:00:00Z".
        parent[key] = value + ("Z" if value.count(":") == 2 else ":00Z")
        return f"timestamp {value!r} without a zone read as UTC at {_path_text(path)}"
    if keyword == "type" and isinstance(value, str) and _NUMBER.match(value.strip()):
        number = _as_number(value.strip(), set(error.kind.types))
        if number is None:
            return None
        parent[key] = number
        return f"number sent as string {value!r} read as {number!r} at {_path_text(path)}"
    return None


def _as_number(text: str, types: set[str]) -> int | float | None:
    """The number ``text`` spells, as a type the schema allows; None if that would change it."""
    exact = Decimal(text)
    if not exact.is_finite() or not math.isfinite(float(exact)):
        return None
    if exact == exact.to_integral_value() and "integer" in types:
        return int(exact)
    if "number" in types:
        return float(exact)
    return None  # a fraction where only an integer fits: no notation slip, a wrong value


def validate(version: OcppVersion, action: str, direction: Direction, payload: dict[str, Any],
             mode: ValidationMode = ValidationMode.STRICT) -> Validated:
    """Check ``payload`` of ``action`` against its official schema.

    Raises :class:`PayloadInvalid` naming the error kind (for the CALLERROR), the reason and the
    JSON path. An action with no schema in ``version`` passes unchecked; callers decide whether
    the action is known before they get here.
    """
    if mode is ValidationMode.OFF:
        return Validated(payload)
    validator = _validator(version, action, direction)
    if validator is None or validator.is_valid(payload):
        return Validated(payload)
    first = next(iter(validator.iter_errors(payload)))
    if mode is ValidationMode.STRICT:
        raise _invalid(first)

    repaired = copy.deepcopy(payload)
    notes: list[str] = []
    for _ in range(_MAX_REPAIRS):
        error = next(iter(validator.iter_errors(repaired)), None)
        if error is None:
            return Validated(repaired, tuple(notes))
        note = _repair(repaired, error)
        if note is None:
            raise _invalid(error)
        notes.append(note)
    raise _invalid(first)


def _invalid(error: Any) -> PayloadInvalid:
    keyword = error.kind.name
    return PayloadInvalid(_kind_of(keyword), error.message, _path_text(list(error.instance_path)))


def warm_up(version: OcppVersion) -> int:
    """Compile every schema of ``version`` now rather than on first use; returns how many."""
    count = 0
    for action in known_actions(version):
        for direction in Direction:
            count += _validator(version, action, direction) is not None
    return count
