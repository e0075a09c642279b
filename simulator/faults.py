"""Faults as data: specs (scheduled or random), the timeline they expand into, and the hooks a
station offers to apply them.

A :class:`FaultSpec` says what goes wrong, where (a glob over station ids), and when: at a fixed
time, or at random with a rate per station and day. :func:`fault_timeline` expands specs into a
sorted list of :class:`FaultEvent` up front, from the seeded generator, so the same seed gives the
same faults whatever else the run does. The station and the engine apply the events through the
:class:`FaultInjector` hooks; this module only describes them.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

import numpy as np
from ocpp.v16.enums import ChargePointErrorCode

from simulator.meters import METER_FAULT_KINDS, MeterFault

log = logging.getLogger(__name__)

FaultKind = Literal["network_drop", "csms_unreachable", "station_fault", "meter_fault",
                    "clock_skew", "corrupt_frame"]
FAULT_KINDS: tuple[str, ...] = ("network_drop", "csms_unreachable", "station_fault",
                                "meter_fault", "clock_skew", "corrupt_frame")
# NoError is how a station reports that a fault is over, so it is no fault to inject.
STATION_ERROR_CODES: tuple[str, ...] = tuple(
    code.value for code in ChargePointErrorCode if code.value != "NoError")
_SECONDS_PER_DAY = 86_400.0

# Parameters per kind: name -> required. meter_fault also takes its fault's own parameters.
_PARAMS: dict[str, dict[str, bool]] = {
    "network_drop": {},
    "csms_unreachable": {},
    "station_fault": {"error_code": True, "evse_id": False},
    "meter_fault": {"fault": True, "evse_id": False, "percent_per_h": False, "jump_wh": False,
                    "reset_to_wh": False},
    "clock_skew": {"seconds": True},
    "corrupt_frame": {"count": False},
}


@dataclass(frozen=True)
class FaultSpec:
    """One kind of fault for the stations whose id matches ``targets``.

    Exactly one of ``at_s`` (seconds after the start, once per matching station) and
    ``rate_per_day`` (a Poisson process per matching station) is given. ``duration_s`` is how
    long the fault lasts; None means until the end of the run (instant faults ignore it).
    Parameters per kind:

    * ``network_drop``, ``csms_unreachable``: none;
    * ``station_fault``: ``error_code`` (an OCPP 1.6 ChargePointErrorCode), ``evse_id`` (default
      1; 0 means the whole station);
    * ``meter_fault``: ``fault`` (stuck, drift, jump, reset) and its parameter
      (``percent_per_h``, ``jump_wh``, ``reset_to_wh``), ``evse_id`` (default 1);
    * ``clock_skew``: ``seconds`` (positive: the station's clock runs ahead);
    * ``corrupt_frame``: ``count`` (default 1).
    """

    kind: FaultKind
    at_s: float | None = None
    rate_per_day: float | None = None
    duration_s: float | None = None
    targets: str | tuple[str, ...] = "*"
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; valid: {', '.join(FAULT_KINDS)}")
        if (self.at_s is None) == (self.rate_per_day is None):
            raise ValueError(f"{self.kind}: give exactly one of at_s (scheduled) and "
                             f"rate_per_day (random)")
        if self.at_s is not None and not _finite_at_least(self.at_s, 0):
            raise ValueError(f"{self.kind}: at_s must be a finite number >= 0, not {self.at_s!r}")
        if self.rate_per_day is not None and not (_finite_at_least(self.rate_per_day, 0)
                                                  and self.rate_per_day > 0):
            raise ValueError(f"{self.kind}: rate_per_day must be a finite number > 0, "
                             f"not {self.rate_per_day!r}")
        if self.duration_s is not None and not _finite_at_least(self.duration_s, 0):
            raise ValueError(f"{self.kind}: duration_s must be a finite number >= 0 or None "
                             f"(until the end), not {self.duration_s!r}")
        targets = (self.targets,) if isinstance(self.targets, str) else tuple(self.targets)
        if not targets or not all(isinstance(t, str) and t for t in targets):
            raise ValueError(f"{self.kind}: targets must be one or more non-empty glob patterns")
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "params", MappingProxyType(_checked_params(self.kind,
                                                                            self.params)))

    def matches(self, station_id: str) -> bool:
        return any(fnmatch.fnmatchcase(station_id, pattern) for pattern in self.targets)


def _finite_at_least(value: Any, low: float) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value >= low)


def _checked_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    allowed = _PARAMS[kind]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"{kind}: unknown parameter(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(allowed) or 'none'}")
    missing = [name for name, required in allowed.items() if required and name not in params]
    if missing:
        raise ValueError(f"{kind}: missing parameter(s) {', '.join(missing)}")
    checked = dict(params)
    if "evse_id" in allowed:
        evse_id = checked.setdefault("evse_id", 1)
        if not (isinstance(evse_id, int) and not isinstance(evse_id, bool) and evse_id >= 0):
            raise ValueError(f"{kind}: evse_id must be an integer >= 0, not {evse_id!r}")
    if kind == "station_fault":
        code = checked["error_code"]
        if code not in STATION_ERROR_CODES:
            raise ValueError(f"station_fault: {code!r} is no OCPP 1.6 ChargePointErrorCode "
                             f"fault; valid: {', '.join(STATION_ERROR_CODES)}")
    elif kind == "meter_fault":
        if checked["fault"] not in METER_FAULT_KINDS:
            raise ValueError(f"meter_fault: unknown fault {checked['fault']!r}; valid: "
                             f"{', '.join(METER_FAULT_KINDS)}")
        own = {k: v for k, v in checked.items() if k not in ("fault", "evse_id")}
        MeterFault.from_params(checked["fault"], own)  # raises with what would be valid
    elif kind == "clock_skew":
        seconds = checked["seconds"]
        if not _finite_at_least(abs(seconds) if isinstance(seconds, int | float) else None, 0):
            raise ValueError(f"clock_skew: seconds must be a finite number, "
                             f"not {checked['seconds']!r}")
    elif kind == "corrupt_frame":
        count = checked.setdefault("count", 1)
        if not (isinstance(count, int) and not isinstance(count, bool) and count >= 1):
            raise ValueError(f"corrupt_frame: count must be an integer >= 1, not {count!r}")
    return checked


@dataclass(frozen=True)
class FaultEvent:
    """One fault at one station at one time; ``params`` as in the spec it came from."""

    at_s: float
    kind: FaultKind
    station_id: str
    duration_s: float | None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def evse_id(self) -> int | None:
        return self.params.get("evse_id")

    def meter_fault(self) -> MeterFault:
        """The :class:`MeterFault` a ``meter_fault`` event injects."""
        if self.kind != "meter_fault":
            raise ValueError(f"a {self.kind} event carries no meter fault")
        own = {k: v for k, v in self.params.items() if k not in ("fault", "evse_id")}
        return MeterFault.from_params(self.params["fault"], own)


def fault_timeline(rng: np.random.Generator, specs: Iterable[FaultSpec],
                   station_ids: Sequence[str], duration_s: float) -> list[FaultEvent]:
    """All fault events of a run of ``duration_s`` seconds, sorted by time.

    Random faults are a Poisson process per (spec, station). Each pair draws from its own
    generator seeded from one draw of ``rng`` plus the spec's position and the station id, so a
    station's faults do not change when stations are added or listed in another order.
    A spec whose targets match no station is an error (most likely a typo in the scenario).
    """
    if not _finite_at_least(duration_s, 0):
        raise ValueError(f"duration_s must be a finite number >= 0, not {duration_s!r}")
    stations = sorted(set(station_ids))
    base_seed = int(rng.integers(0, 2**63))
    events: list[tuple[tuple[Any, ...], FaultEvent]] = []
    for index, spec in enumerate(specs):
        matched = [s for s in stations if spec.matches(s)]
        if not matched:
            sample = ", ".join(stations[:5]) + (", ..." if len(stations) > 5 else "")
            raise ValueError(f"fault {index} ({spec.kind}): targets {', '.join(spec.targets)} "
                             f"match no station; stations are: {sample or 'none'}")
        for station_id in matched:
            for at_s in _times(spec, base_seed, index, station_id, duration_s):
                event = FaultEvent(at_s, spec.kind, station_id, spec.duration_s, spec.params)
                events.append(((at_s, station_id, index), event))
    events.sort(key=lambda pair: pair[0])
    log.debug("fault timeline: %d events", len(events))
    return [event for _, event in events]


def _times(spec: FaultSpec, base_seed: int, index: int, station_id: str,
           duration_s: float) -> list[float]:
    if spec.at_s is not None:
        return [float(spec.at_s)] if spec.at_s < duration_s else []
    assert spec.rate_per_day is not None
    stream = np.random.default_rng([base_seed, index, zlib.crc32(station_id.encode("utf-8"))])
    count = int(stream.poisson(spec.rate_per_day * duration_s / _SECONDS_PER_DAY))
    return sorted(stream.uniform(0.0, duration_s, count).tolist())


class MeterHook(Protocol):
    def inject(self, fault: MeterFault) -> None: ...

    def clear_faults(self) -> None: ...


class FaultInjector(Protocol):
    """The hooks a station offers for applying fault events (see docs/simulator-design.md).

    The methods may be SimPy generator functions; their return value is the station's business.
    ``csms_unreachable`` is applied by the engine at the backend side (or, lacking that, as
    ``go_offline``); ``duration_s`` None means until the end of the run.
    """

    clock_skew_s: float

    def go_offline(self, duration_s: float | None) -> Any: ...

    def fault(self, evse_id: int, error_code: str, duration_s: float | None) -> Any: ...

    def send_corrupt_frame(self) -> Any: ...

    def meter(self, evse_id: int) -> MeterHook: ...
