"""Pass or fail for CI: limits on a load test's summary, each with its verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Each limit is optional; ``None`` means not checked."""

    max_p95_ms: float | None = None  # OCPP round trips, all actions together
    max_p99_ms: float | None = None
    max_fail_ratio: float | None = None  # failed / all requests (round trips and connects)
    min_rps: float | None = None  # OCPP round trips per second
    max_connect_p95_ms: float | None = None  # WebSocket handshakes
    min_connected_ratio: float | None = None  # peak connected stations / stations asked for


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    limit: float
    value: float | None
    passed: bool

    def as_row(self) -> dict[str, Any]:
        return {"threshold": self.name, "limit": self.limit, "value": self.value,
                "passed": self.passed}


def evaluate(thresholds: Thresholds, summary: dict[str, Any]) -> list[Verdict]:
    """A verdict per limit that is set. A figure that is missing (no round trip at all, so no
    p95) fails its limit: a test that measured nothing has not shown the CSMS holds."""
    ocpp, connect, stations = summary["ocpp"], summary["connect"], summary["stations"]
    target = stations["target"] or 0
    figures: list[tuple[str, float | None, float | None, bool]] = [
        ("max_p95_ms", thresholds.max_p95_ms, ocpp["p95_ms"], True),
        ("max_p99_ms", thresholds.max_p99_ms, ocpp["p99_ms"], True),
        ("max_fail_ratio", thresholds.max_fail_ratio,
         summary["all"]["fail_ratio"] if summary["all"]["requests"] else None, True),
        ("min_rps", thresholds.min_rps, ocpp["rps"] if ocpp["requests"] else None, False),
        ("max_connect_p95_ms", thresholds.max_connect_p95_ms, connect["p95_ms"], True),
        ("min_connected_ratio", thresholds.min_connected_ratio,
         stations["peak_connected"] / target if target else None, False),
    ]
    verdicts = []
    for name, limit, value, is_max in figures:
        if limit is None:
            continue
        passed = value is not None and (value <= limit if is_max else value >= limit)
        verdicts.append(Verdict(name, limit, value, passed))
    return verdicts
