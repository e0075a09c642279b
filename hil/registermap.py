"""Meter register maps as data: one YAML file per meter model in ``hil/maps/``.

A map says which Modbus tables the meter has (``input`` = FC4, ``holding`` = FC3), which
address spans each table answers (bulk reads across unmapped gaps return zeros, as on the real
device; anything outside is an illegal address), the word order, and each register: its address,
type, unit and either a live ``quantity`` of the simulated meter or a constant ``value``.

Adding a meter is adding a file; :func:`load_map` checks it against a JSON Schema and then for
overlaps and spans, and every problem names the file, the line and what would be valid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs

from chargeloop.yamldoc import DocumentError, Problem, choices, load_checked
from hil.quantities import QUANTITIES

MAPS_DIR = Path(__file__).parent / "maps"

Table = Literal["input", "holding"]
TABLES: tuple[str, ...] = ("input", "holding")
# Modbus function codes that read or write each table.
READ_FC = {"holding": 3, "input": 4}

# words per type; strings say their own length
TYPE_WORDS = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "uint64": 4, "int64": 4,
              "float32": 2, "string": 0}
# the SI value of one unit (energies in Wh, fractions as 0..1)
UNIT_FACTORS = {"V": 1.0, "A": 1.0, "W": 1.0, "kW": 1000.0, "VA": 1.0, "var": 1.0, "Hz": 1.0,
                "Wh": 1.0, "kWh": 1000.0, "varh": 1.0, "kvarh": 1000.0, "1": 1.0, "%": 0.01}

_RANGE = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 65535},
          "minItems": 2, "maxItems": 2}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "title", "word_order", "tables", "registers"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9_]+$"},
        "title": {"type": "string", "minLength": 1},
        "word_order": {"enum": ["ABCD", "CDAB"]},
        "serial": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "baud": {"enum": [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]},
                "parity": {"enum": ["N", "E", "O"]},
                "stopbits": {"enum": [1, 2]},
                "unit": {"type": "integer", "minimum": 1, "maximum": 247},
            },
        },
        "sunspec": {
            "type": "object", "additionalProperties": False,
            "required": ["base", "model", "model_address"],
            "properties": {"base": {"type": "integer", "minimum": 0, "maximum": 65535},
                           "model": {"type": "integer", "minimum": 1, "maximum": 65534},
                           "model_address": {"type": "integer", "minimum": 0,
                                             "maximum": 65535}},
        },
        "tables": {
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {t: {
                "type": "object", "additionalProperties": False, "required": ["ranges"],
                "properties": {"ranges": {"type": "array", "items": _RANGE, "minItems": 1},
                               "writable": {"type": "boolean"},
                               "shared_with_holding": {"type": "boolean"}},
            } for t in TABLES},
        },
        "registers": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["table", "address", "type"],
                "properties": {
                    "table": {"enum": list(TABLES)},
                    "address": {"type": "integer", "minimum": 0, "maximum": 65535},
                    "type": {"enum": list(TYPE_WORDS)},
                    "words": {"type": "integer", "minimum": 1, "maximum": 64},
                    "unit": {"enum": list(UNIT_FACTORS)},
                    "scale": {"type": "number", "exclusiveMinimum": 0},
                    "scale_register": {"type": "integer", "minimum": 0, "maximum": 65535},
                    "quantity": {"enum": sorted(QUANTITIES)},
                    "name": {"type": "string", "minLength": 1},
                    "value": {"type": ["number", "string"]},
                    "word_order": {"enum": ["ABCD", "CDAB"]},
                },
            },
        },
    },
}


class MapError(DocumentError):
    """A register map that cannot be used; ``str()`` lists every problem with file and line."""


@dataclass(frozen=True, slots=True)
class Register:
    """One value in the map: ``words`` registers from ``address`` in ``table``.

    SI value = raw x ``scale`` x unit factor (x 10^SF with a ``scale_register``). ``quantity``
    (live, from the simulated meter) or ``value`` (a constant) says what it holds.
    """

    table: Table
    address: int
    type: str
    words: int
    word_order: Literal["ABCD", "CDAB"]
    unit: str
    scale: float
    scale_register: int | None
    quantity: str | None
    name: str
    value: float | str | None

    @property
    def end(self) -> int:
        """The last address this register covers."""
        return self.address + self.words - 1

    @property
    def factor(self) -> float:
        return self.scale * UNIT_FACTORS[self.unit]


@dataclass(frozen=True, slots=True)
class TableSpec:
    ranges: tuple[tuple[int, int], ...]
    writable: bool = False
    shared_with_holding: bool = False

    def covers(self, first: int, last: int) -> bool:
        return any(lo <= first and last <= hi for lo, hi in self.ranges)


@dataclass(frozen=True, slots=True)
class SerialDefaults:
    baud: int = 9600
    parity: str = "N"
    stopbits: int = 1
    unit: int = 1


@dataclass(frozen=True, slots=True)
class SunSpecChain:
    base: int
    model: int
    model_address: int


@dataclass(frozen=True, slots=True)
class RegisterMap:
    name: str
    title: str
    word_order: Literal["ABCD", "CDAB"]
    tables: Mapping[str, TableSpec]
    registers: tuple[Register, ...]
    serial: SerialDefaults
    sunspec: SunSpecChain | None
    source: str

    def live(self) -> tuple[Register, ...]:
        """Registers that carry a quantity of the meter."""
        return tuple(r for r in self.registers if r.quantity is not None)

    def register(self, quantity: str) -> Register:
        """The first register holding ``quantity``."""
        for r in self.registers:
            if r.quantity == quantity:
                return r
        raise KeyError(f"map {self.name} has no register for {quantity!r}")

    def quantities(self) -> list[str]:
        return sorted({r.quantity for r in self.registers if r.quantity is not None})

    def read_function(self, table: str) -> int:
        return READ_FC[table]

    def constant_at(self, table: str, address: int) -> Register | None:
        for r in self.registers:
            if r.table == table and r.address == address and r.value is not None:
                return r
        return None


# -- loading ---------------------------------------------------------------------------------------


def available_maps() -> list[str]:
    """Names of the maps shipped in ``hil/maps``."""
    return sorted(p.stem for p in MAPS_DIR.glob("*.yaml"))


def load_map(name_or_path: str | Path) -> RegisterMap:
    """A shipped map by name (``sdm630``) or a map file by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        shipped = MAPS_DIR / f"{name_or_path}.yaml"
        if not shipped.is_file():
            raise MapError([Problem(str(name_or_path), 1, 1, "",
                                    f"no register map named {str(name_or_path)!r}"
                                    f"{choices(str(name_or_path), available_maps(), 'maps')} "
                                    "(or give the path of a .yaml map file)")])
        path = shipped
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MapError([Problem(str(path), 1, 1, "", f"cannot read the map: {exc}")]) from None
    return _load_cached(text, str(path))


@cache
def _load_cached(text: str, source: str) -> RegisterMap:
    return load_map_text(text, source)


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(SCHEMA)


def load_map_text(text: str, source: str = "<string>") -> RegisterMap:
    data, locator = load_checked(
        text, source, schema=SCHEMA, validator=_validator(), error=MapError,
        mapping="a register map is a mapping (name, title, word_order, tables, registers)")
    problems: list[Problem] = []

    tables = {name: TableSpec(tuple((lo, hi) for lo, hi in spec["ranges"]),
                              spec.get("writable", False), spec.get("shared_with_holding", False))
              for name, spec in data["tables"].items()}
    for name, spec in data["tables"].items():
        for k, (lo, hi) in enumerate(spec["ranges"]):
            if lo > hi:
                problems.append(locator.problem(("tables", name, "ranges", k),
                                                f"span [{lo}, {hi}] ends before it starts"))
    registers: list[Register] = []
    for k, entry in enumerate(data["registers"]):
        where = ("registers", k)
        register, issues = _register(entry, data["word_order"])
        problems.extend(locator.problem(where, message) for message in issues)
        if register is None:
            continue
        if register.table not in tables:
            problems.append(locator.problem((*where, "table"),
                                            f"table {register.table!r} is not declared under "
                                            f"'tables' (declared: {', '.join(tables)})"))
        elif not tables[register.table].covers(register.address, register.end):
            problems.append(locator.problem((*where, "address"),
                                            f"{register.address:#06x}..{register.end:#06x} lies "
                                            f"outside the {register.table} table's ranges"))
        for other in registers:
            if other.table == register.table and other.address <= register.end \
                    and register.address <= other.end:
                problems.append(locator.problem((*where, "address"),
                                                f"overlaps the register at {other.address:#06x}"))
                break
        registers.append(register)
    for k, register in enumerate(registers):
        if register.scale_register is not None:
            sf = next((r for r in registers if r.table == register.table
                       and r.address == register.scale_register and r.type == "int16"
                       and isinstance(r.value, int | float)), None)
            if sf is None:
                problems.append(locator.problem(("registers", k, "scale_register"),
                                                "needs a constant int16 register (the scale "
                                                f"factor) at {register.scale_register}"))
    if problems:
        raise MapError(problems)

    serial = SerialDefaults(**data.get("serial", {}))
    chain = data.get("sunspec")
    return RegisterMap(
        name=data["name"], title=data["title"], word_order=data["word_order"], tables=tables,
        registers=tuple(registers), serial=serial,
        sunspec=SunSpecChain(**chain) if chain else None, source=source)


def _register(entry: dict[str, Any], word_order: str) -> tuple[Register | None, list[str]]:
    issues: list[str] = []
    kind = entry["type"]
    words = TYPE_WORDS[kind]
    if kind == "string":
        if "words" not in entry:
            issues.append("a string register needs 'words' (its length in registers)")
        words = entry.get("words", 1)
    elif "words" in entry and entry["words"] != words:
        issues.append(f"a {kind} register is {words} word(s) long; leave 'words' out")
    has_quantity, has_value = "quantity" in entry, "value" in entry
    if has_quantity == has_value:
        issues.append("give exactly one of 'quantity' (a live value of the meter) or 'value' "
                      "(a constant)")
    if has_value and not has_quantity and "name" not in entry:
        issues.append("a constant needs a 'name' saying what it is")
    value = entry.get("value")
    if kind == "string" and value is not None and not isinstance(value, str):
        issues.append("a string register's value must be text")
    if kind != "string" and isinstance(value, str):
        issues.append(f"a {kind} register's value must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        issues.append("value must be finite")
    if has_quantity and kind != "string" and "unit" not in entry \
            and entry["quantity"] != "unit_id":
        issues.append("a live register needs a 'unit' (what one raw step means)")
    if issues:
        return None, issues
    return Register(
        table=entry["table"], address=entry["address"], type=kind, words=words,
        word_order=entry.get("word_order", word_order), unit=entry.get("unit", "1"),
        scale=float(entry.get("scale", 1.0)), scale_register=entry.get("scale_register"),
        quantity=entry.get("quantity"), name=entry.get("name", entry.get("quantity", "")),
        value=value), []
