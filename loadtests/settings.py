"""The load test's knobs: what each station does, how fast, and which mix of stations.

Pure data and parsing, no locust import, so the CLI can check its arguments before anything
starts and tests can check the parsing on its own. The locust side registers the same knobs as
command-line options in :mod:`loadtests.options`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from chargeloop.ocppj.schemas import ValidationMode
from chargeloop.ocppj.versions import OcppVersion

# Behaviour name -> (locust user class name, OCPP version, full sessions?)
BEHAVIOURS: dict[str, tuple[str, OcppVersion, bool]] = {
    "heartbeat-1.6": ("Heartbeat16Station", OcppVersion.V16, False),
    "heartbeat-2.0.1": ("Heartbeat201Station", OcppVersion.V201, False),
    "sessions-1.6": ("Sessions16Station", OcppVersion.V16, True),
    "sessions-2.0.1": ("Sessions201Station", OcppVersion.V201, True),
}
DEFAULT_MIX = "sessions-1.6=1,sessions-2.0.1=1"
# 1.6 idTag is a CiString20 and our tokens are the station ids: "<prefix>-<worker>-<n>".
MAX_PREFIX = 8
_PREFIX = re.compile(r"^[A-Za-z0-9]+$")


class SettingsError(ValueError):
    """A load-test setting that cannot work; the message names the option and what is valid."""


def parse_mix(text: str) -> dict[str, int]:
    """``"sessions-1.6=3,heartbeat-2.0.1=1"`` -> ``{user class name: weight}``. A behaviour
    without ``=weight`` weighs 1."""
    weights: dict[str, int] = {}
    valid = ", ".join(BEHAVIOURS)
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, weight_text = part.partition("=")
        name = name.strip()
        if name not in BEHAVIOURS:
            raise SettingsError(f"--mix: unknown behaviour {name!r}; valid: {valid}")
        try:
            weight = int(weight_text) if weight_text.strip() else 1
        except ValueError as exc:
            raise SettingsError(f"--mix: weight of {name} must be a whole number, "
                                f"not {weight_text!r}") from exc
        if weight < 1:
            raise SettingsError(f"--mix: weight of {name} must be at least 1, not {weight}")
        weights[BEHAVIOURS[name][0]] = weight
    if not weights:
        raise SettingsError(f"--mix: name at least one behaviour ({valid}), e.g. {DEFAULT_MIX}")
    return weights


def check_prefix(prefix: str) -> str:
    if not (_PREFIX.match(prefix) and len(prefix) <= MAX_PREFIX):
        raise SettingsError(f"--station-prefix: {prefix!r} must be 1 to {MAX_PREFIX} letters or "
                            "digits (station ids are also 1.6 idTags, at most 20 characters)")
    return prefix


def station_identity(prefix: str, worker_index: int, number: int) -> str:
    """``LOAD-0-17``: unique across workers (their index) and within one (a counter)."""
    return f"{prefix}-{worker_index}-{number}"


@dataclass(frozen=True, slots=True)
class StationTiming:
    """What a station does when, in simulated seconds; ``speed`` divides them all into wall
    seconds (speed 60: a 20-minute session takes 20 s)."""

    speed: float = 1.0
    heartbeat_interval_s: float = 0.0  # 0: the interval the CSMS gives at boot
    meter_interval_s: float = 60.0
    session_duration_s: float = 1200.0
    session_pause_s: float = 600.0
    call_timeout_s: float = 30.0  # wall seconds, never compressed: it is the CSMS's latency
    connect_timeout_s: float = 30.0
    reconnect_at_s: float = 0.0  # wall seconds after the start; 0: no reconnect storm
    reconnect_within_s: float = 5.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise SettingsError(f"--speed must be a number > 0, not {self.speed}")
        for name in ("heartbeat_interval_s", "reconnect_at_s"):
            if getattr(self, name) < 0:
                raise SettingsError(f"--{_option(name)} must not be negative")
        for name in ("meter_interval_s", "session_duration_s", "call_timeout_s",
                     "connect_timeout_s"):
            if not getattr(self, name) > 0:
                raise SettingsError(f"--{_option(name)} must be > 0")
        if self.session_pause_s < 0 or self.reconnect_within_s < 0:
            raise SettingsError("--session-pause and --reconnect-within must not be negative")

    def wall(self, simulated_s: float) -> float:
        return simulated_s / self.speed


def _option(field_name: str) -> str:
    return field_name.removesuffix("_s").replace("_", "-")


def validation_mode(text: str) -> ValidationMode:
    try:
        return ValidationMode(text)
    except ValueError as exc:
        raise SettingsError(f"--validation: {text!r}; valid: strict, lenient, off") from exc
