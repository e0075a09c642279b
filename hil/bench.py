"""Bench files: which devices on the bench are real and which simulated, and what a run does.

A bench file is YAML checked against :data:`SCHEMA` and then for cross references (a session's
charger, a charger's meters, a simulated meter's charger); every problem names the file, line,
key and what would be valid, as scenario files do. See ``docs/hil.md`` for an example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from chargeloop.ocppj import OcppVersion
from chargeloop.yamldoc import DocumentError, Locator, Problem, choices, load_checked
from hil.comparison import DEFAULT_ABSOLUTE, Tolerance
from hil.realtime import LatenessBudget
from hil.registermap import MapError, available_maps, load_map
from simulator.vehicles import VEHICLE_CATALOG

_ID = {"type": "string", "pattern": r"^[A-Za-z0-9._-]+$"}
_HOSTPORT = {"type": "string", "pattern": r"^[A-Za-z0-9.:\[\]-]+:[0-9]{1,5}$",
             "title": "address", "description": "host:port, for example 127.0.0.1:5020"}
_SERIAL = {
    "type": "object", "additionalProperties": False, "required": ["port"],
    "properties": {
        "port": {"type": "string", "minLength": 1},
        "baud": {"enum": [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]},
        "parity": {"enum": ["N", "E", "O"]},
        "stopbits": {"enum": [1, 2]},
        "line_timing": {"type": "boolean"},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "duration_s"],
    "properties": {
        "name": _ID,
        "duration_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 7 * 86400},
        "seed": {"type": "integer", "minimum": 0},
        "harness": {"type": "object", "additionalProperties": False,
                    "properties": {"listen": _HOSTPORT}},
        "lateness_budget": {
            "type": "object", "additionalProperties": False,
            "properties": {"p99_ms": {"type": "number", "exclusiveMinimum": 0},
                           "max_ms": {"type": "number", "exclusiveMinimum": 0},
                           "on_exceed": {"enum": ["warn", "fail"]}},
        },
        "tolerance": {
            "type": "object", "additionalProperties": False,
            "properties": {"relative": {"type": "number", "minimum": 0, "maximum": 1},
                           "max_gap_s": {"type": "number", "exclusiveMinimum": 0},
                           **{f"{family}": {"type": "number", "minimum": 0}
                              for family in DEFAULT_ABSOLUTE}},
        },
        "meters": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "real", "map"],
                "properties": {
                    "id": _ID,
                    "real": {"type": "boolean"},
                    "map": {"type": "string", "minLength": 1},
                    "tcp": _HOSTPORT,
                    "serial": _SERIAL,
                    "unit": {"type": "integer", "minimum": 1, "maximum": 247},
                    "poll_interval_s": {"type": "number", "minimum": 0.05},
                    "timeout_s": {"type": "number", "exclusiveMinimum": 0},
                    "follows": {"type": "object", "additionalProperties": False,
                                "required": ["charger"],
                                "properties": {"charger": _ID,
                                               "evse": {"type": "integer", "minimum": 1}}},
                    "load_w": {"type": "number", "minimum": 0},
                    "publish_interval_s": {"type": "number", "minimum": 0.05},
                },
            },
        },
        "chargers": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "real", "ocpp"],
                "properties": {
                    "id": _ID,
                    "real": {"type": "boolean"},
                    "ocpp": {"enum": ["1.6", "2.0.1"]},
                    "csms_url": {"type": "string", "pattern": r"^wss?://[^\s]+$"},
                    "meter": _ID,
                    "reference_meter": _ID,
                    "public_key": {"type": "string", "minLength": 1},
                    "signed": {"type": "boolean"},
                    "max_power_w": {"type": "number", "exclusiveMinimum": 0},
                    "phases": {"enum": [1, 2, 3]},
                    "sample_interval_s": {"type": "integer", "minimum": 1},
                },
            },
        },
        "sessions": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["charger", "at_s", "token"],
                "properties": {
                    "charger": _ID,
                    "evse": {"type": "integer", "minimum": 1},
                    "at_s": {"type": "number", "minimum": 0},
                    "token": {"type": "string", "minLength": 1, "maxLength": 20},
                    "vehicle": {"type": "string"},
                    "soc": {"type": "number", "minimum": 0, "maximum": 1},
                    "target_soc": {"type": "number", "minimum": 0, "maximum": 1},
                    "unplug_at_s": {"type": "number", "minimum": 0},
                },
            },
        },
    },
}


class BenchError(DocumentError):
    """A bench file that cannot be run; ``str()`` lists every problem with file and line."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a meter is reached: ``tcp`` (host, port) or a serial line."""

    tcp: tuple[str, int] | None = None
    serial_port: str | None = None
    baud: int | None = None
    parity: str | None = None
    stopbits: int | None = None
    line_timing: bool = False

    @property
    def key(self) -> str:
        return f"tcp:{self.tcp[0]}:{self.tcp[1]}" if self.tcp else f"serial:{self.serial_port}"


@dataclass(frozen=True, slots=True)
class BenchMeter:
    id: str
    real: bool
    map: str
    endpoint: Endpoint
    unit: int
    poll_interval_s: float = 1.0
    timeout_s: float = 1.0
    follows: tuple[str, int] | None = None
    load_w: float = 0.0
    publish_interval_s: float = 1.0


@dataclass(frozen=True, slots=True)
class BenchCharger:
    id: str
    real: bool
    version: OcppVersion
    csms_url: str | None = None
    meter: str | None = None
    reference_meter: str | None = None
    public_key: str | None = None
    signed: bool = False
    max_power_w: float = 11_000.0
    phases: int = 3
    sample_interval_s: int = 60


@dataclass(frozen=True, slots=True)
class BenchSession:
    charger: str
    evse: int
    at_s: float
    token: str
    vehicle: str
    soc: float
    target_soc: float
    unplug_at_s: float | None


@dataclass(frozen=True, slots=True)
class Bench:
    name: str
    duration_s: float
    seed: int
    listen: tuple[str, int]
    budget: LatenessBudget
    tolerance: Tolerance
    meters: tuple[BenchMeter, ...]
    chargers: tuple[BenchCharger, ...]
    sessions: tuple[BenchSession, ...]
    source: str
    text: str = field(repr=False, default="")

    def meter(self, meter_id: str) -> BenchMeter:
        return next(m for m in self.meters if m.id == meter_id)

    def charger(self, charger_id: str) -> BenchCharger:
        return next(c for c in self.chargers if c.id == charger_id)

    @property
    def needs_endpoint(self) -> bool:
        """Whether the harness must listen for chargers (real ones, or simulated ones that
        have no CSMS URL of their own)."""
        return any(c.real or c.csms_url is None for c in self.chargers)


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(SCHEMA)


def load_bench(path: str | Path) -> Bench:
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError([Problem(str(path), 1, 1, "", f"cannot read the bench file: {exc}")]) \
            from None
    return load_bench_text(text, str(path))


def _hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def load_bench_text(text: str, source: str = "<string>") -> Bench:
    data, locator = load_checked(
        text, source, schema=SCHEMA, validator=_validator(), error=BenchError,
        mapping="a bench file is a mapping (name, duration_s, meters, chargers, sessions)")
    problems: list[Problem] = []
    meters_data = data.get("meters", [])
    chargers_data = data.get("chargers", [])
    meter_ids = [m["id"] for m in meters_data]
    charger_ids = [c["id"] for c in chargers_data]
    problems.extend(_duplicates(locator, "meters", meter_ids))
    problems.extend(_duplicates(locator, "chargers", charger_ids))

    meters: list[BenchMeter] = []
    for k, m in enumerate(meters_data):
        where = ("meters", k)
        if ("tcp" in m) == ("serial" in m):
            problems.append(locator.problem(where, "give exactly one of 'tcp' (host:port) or "
                                                   "'serial' (port, baud, parity, stopbits)",
                                            at_key=True))
            continue
        try:
            regmap = load_map(m["map"])
        except MapError as exc:
            hint = choices(m["map"], available_maps(), "shipped maps")
            message = (f"unknown register map {m['map']!r}{hint}" if "no register map" in
                       str(exc) else f"register map {m['map']!r} is broken: {exc}")
            problems.append(locator.problem((*where, "map"), message))
            continue
        for key in ("follows", "load_w", "publish_interval_s") if m["real"] else (
                "poll_interval_s", "timeout_s"):
            if key in m:
                problems.append(locator.problem((*where, key), f"'{key}' applies only to "
                                                f"{'simulated' if m['real'] else 'real'} "
                                                "meters", at_key=True))
        serial = m.get("serial", {})
        endpoint = Endpoint(
            tcp=_hostport(m["tcp"]) if "tcp" in m else None,
            serial_port=serial.get("port"), baud=serial.get("baud", regmap.serial.baud),
            parity=serial.get("parity", regmap.serial.parity),
            stopbits=serial.get("stopbits", regmap.serial.stopbits),
            line_timing=serial.get("line_timing", False))
        follows = m.get("follows")
        if follows and follows["charger"] not in charger_ids:
            hint = choices(follows["charger"], charger_ids, "chargers")
            problems.append(locator.problem((*where, "follows", "charger"),
                                            f"no charger {follows['charger']!r}{hint}"))
        meters.append(BenchMeter(
            id=m["id"], real=m["real"], map=m["map"], endpoint=endpoint,
            unit=m.get("unit", regmap.serial.unit),
            poll_interval_s=m.get("poll_interval_s", 1.0), timeout_s=m.get("timeout_s", 1.0),
            follows=(follows["charger"], follows.get("evse", 1)) if follows else None,
            load_w=m.get("load_w", 0.0), publish_interval_s=m.get("publish_interval_s", 1.0)))
    problems.extend(_shared_units(locator, meters_data))

    real_meters = [m["id"] for m in meters_data if m["real"]]
    chargers: list[BenchCharger] = []
    for k, c in enumerate(chargers_data):
        where = ("chargers", k)
        for key in ("meter", "reference_meter"):
            if key in c and c[key] not in real_meters:
                problems.append(locator.problem(
                    (*where, key), f"{c[key]!r} is no real meter of this bench"
                    f"{choices(c[key], real_meters, 'real meters')}"))
        if c["real"]:
            for key in ("csms_url", "meter", "signed", "max_power_w", "phases",
                        "sample_interval_s"):
                if key in c:
                    problems.append(locator.problem(
                        (*where, key), f"'{key}' describes a simulated charger; a real one "
                        "brings its own", at_key=True))
        chargers.append(BenchCharger(
            id=c["id"], real=c["real"], version=OcppVersion.parse(c["ocpp"]),
            csms_url=c.get("csms_url"), meter=c.get("meter"),
            reference_meter=c.get("reference_meter"), public_key=c.get("public_key"),
            signed=c.get("signed", False), max_power_w=c.get("max_power_w", 11_000.0),
            phases=c.get("phases", 3), sample_interval_s=c.get("sample_interval_s", 60)))

    simulated = {c["id"] for c in chargers_data if not c["real"]}
    sessions: list[BenchSession] = []
    for k, s in enumerate(data.get("sessions", [])):
        where = ("sessions", k)
        if s["charger"] not in simulated:
            hint = choices(s["charger"], sorted(simulated), "simulated chargers")
            problems.append(locator.problem((*where, "charger"),
                                            f"{s['charger']!r} is no simulated charger (sessions "
                                            f"on real chargers are started on the bench){hint}"))
        vehicle = s.get("vehicle", "VW ID.3")
        if vehicle not in VEHICLE_CATALOG:
            hint = choices(vehicle, sorted(VEHICLE_CATALOG), "vehicles")
            problems.append(locator.problem((*where, "vehicle"),
                                            f"unknown vehicle {vehicle!r}{hint}"))
        if "unplug_at_s" in s and s["unplug_at_s"] <= s["at_s"]:
            problems.append(locator.problem((*where, "unplug_at_s"), "must come after at_s"))
        sessions.append(BenchSession(s["charger"], s.get("evse", 1), s["at_s"], s["token"],
                                     vehicle, s.get("soc", 0.2), s.get("target_soc", 0.8),
                                     s.get("unplug_at_s")))
    if problems:
        raise BenchError(problems)

    budget = LatenessBudget(**data.get("lateness_budget", {}))
    tolerance_data = dict(data.get("tolerance", {}))
    tolerance = Tolerance(
        relative=tolerance_data.pop("relative", 0.01),
        max_gap_s=tolerance_data.pop("max_gap_s", 5.0),
        absolute={**DEFAULT_ABSOLUTE, **tolerance_data})
    listen = _hostport(data.get("harness", {}).get("listen", "127.0.0.1:0"))
    return Bench(name=data["name"], duration_s=float(data["duration_s"]),
                 seed=data.get("seed", 1), listen=listen, budget=budget, tolerance=tolerance,
                 meters=tuple(meters), chargers=tuple(chargers), sessions=tuple(sessions),
                 source=source, text=text)


def _duplicates(locator: Locator, section: str, ids: list[str]) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for k, item in enumerate(ids):
        if item in seen:
            problems.append(locator.problem((section, k, "id"), f"id {item!r} is used twice"))
        seen.add(item)
    return problems


def _shared_units(locator: Locator, meters: list[dict[str, Any]]) -> list[Problem]:
    """Two simulated meters on one endpoint need different unit ids."""
    taken: dict[tuple[str, int], int] = {}
    problems = []
    for k, m in enumerate(meters):
        if m["real"]:
            continue
        where = m.get("tcp") or m.get("serial", {}).get("port", "")
        key = (where, m.get("unit", 1))
        if key in taken:
            problems.append(locator.problem(("meters", k, "unit"),
                                            f"unit {key[1]} on {where} is already "
                                            f"meters[{taken[key]}]; give each meter on one bus "
                                            "its own unit id"))
        taken[key] = k
    return problems
