"""Comparison mode: a real charger's OCPP meter samples against the reference meter on the bench.

Each sample is set beside the reference at the sample's own timestamp: energy registers are
interpolated between the two reference polls around it (they only grow), instantaneous values
take the nearest poll. A sample deviates when ``|charger - reference| > absolute + relative x
|reference|``; a sample with no reference poll within ``max_gap_s`` is a deviation too (it
cannot be vouched for). Every deviation is reported, not just the first.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hil.samples import MeterSample

# absolute allowance per quantity family, SI units
DEFAULT_ABSOLUTE = {"energy": 10.0, "power": 50.0, "current": 0.1, "voltage": 2.0,
                    "frequency": 0.05, "power_factor": 0.02}


@dataclass(frozen=True, slots=True)
class Tolerance:
    """``relative`` (0.01 = 1 %, about MID class B) plus an absolute allowance by quantity
    family (``energy`` in Wh, ``power`` W, ``current`` A, ``voltage`` V, ...)."""

    relative: float = 0.01
    absolute: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_ABSOLUTE))
    max_gap_s: float = 5.0

    def allowed(self, quantity: str, reference: float) -> float:
        family = next((f for f in ("power_factor", "energy", "power", "current", "voltage",
                                   "frequency") if f in quantity), "")
        return self.absolute.get(family, 0.0) + self.relative * abs(reference)


@dataclass(frozen=True, slots=True)
class ReferencePoll:
    at: datetime
    values: Mapping[str, float]


def _reference_value(polls: Sequence[ReferencePoll], times: list[float], quantity: str,
                     at: float, max_gap_s: float) -> float | None:
    k = bisect.bisect_left(times, at)
    before = k - 1 if k > 0 else None
    after = k if k < len(times) else None
    candidates = [i for i in (before, after) if i is not None
                  and abs(times[i] - at) <= max_gap_s and quantity in polls[i].values]
    if not candidates:
        return None
    if "energy" in quantity and len(candidates) == 2 and times[after] > times[before]:
        share = (at - times[before]) / (times[after] - times[before])
        low, high = polls[before].values[quantity], polls[after].values[quantity]
        return low + share * (high - low)
    nearest = min(candidates, key=lambda i: abs(times[i] - at))
    return polls[nearest].values[quantity]


def compare(samples: Sequence[MeterSample], reference: Sequence[ReferencePoll],
            tolerance: Tolerance | None = None) -> list[dict[str, Any]]:
    """One row per comparable sample: values, difference, allowance and ``ok``; samples of
    quantities the reference meter does not measure are left out."""
    tolerance = tolerance or Tolerance()
    polls = sorted(reference, key=lambda p: p.at)
    times = [p.at.timestamp() for p in polls]
    measured = set().union(*(p.values.keys() for p in polls)) if polls else set()
    rows: list[dict[str, Any]] = []
    for sample in samples:
        if sample.quantity is None or sample.quantity not in measured:
            continue
        row: dict[str, Any] = {
            "station_id": sample.station_id,
            "timestamp": sample.timestamp.isoformat() if sample.timestamp else None,
            "measurand": sample.measurand, "phase": sample.phase, "context": sample.context,
            "quantity": sample.quantity, "charger_value": sample.value,
            "reference_value": None, "difference": None, "allowed": None, "ok": False,
            "problem": sample.problem,
        }
        if sample.value is None or sample.timestamp is None:
            row["problem"] = sample.problem or "sample has no timestamp"
            rows.append(row)
            continue
        ref = _reference_value(polls, times, sample.quantity, sample.timestamp.timestamp(),
                               tolerance.max_gap_s)
        if ref is None:
            row["problem"] = f"no reference reading within {tolerance.max_gap_s:g} s"
            rows.append(row)
            continue
        difference = sample.value - ref
        allowed = tolerance.allowed(sample.quantity, ref)
        row.update(reference_value=ref, difference=difference, allowed=allowed,
                   ok=abs(difference) <= allowed)
        if not row["ok"]:
            row["problem"] = (f"{sample.quantity} {sample.value:g} differs from the reference "
                              f"{ref:g} by {difference:+g} (allowed +-{allowed:g})")
        rows.append(row)
    return rows


def deviations(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in rows if not r["ok"]]
