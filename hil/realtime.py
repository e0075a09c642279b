"""Real-time runs: the lateness budget. A HIL run steps the shared clock at factor 1; every step
that comes late is measured (:meth:`chargeloop.clock.SimClock.lateness`) and judged here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OnExceed = Literal["warn", "fail"]


@dataclass(frozen=True, slots=True)
class LatenessBudget:
    """How late a step may be: p99 and max in ms; ``on_exceed`` says what excess does to the run
    (``warn``: a warning in the summary, ``fail``: the run fails)."""

    p99_ms: float = 5.0
    max_ms: float = 50.0
    on_exceed: OnExceed = "warn"

    def __post_init__(self) -> None:
        if not (self.p99_ms > 0 and self.max_ms > 0):
            raise ValueError("lateness budget p99_ms and max_ms must be > 0")
        if self.on_exceed not in ("warn", "fail"):
            raise ValueError(f"on_exceed must be 'warn' or 'fail', not {self.on_exceed!r}")

    def judge(self, lateness: dict[str, float]) -> tuple[str, list[str]]:
        """``("ok" | "warn" | "fail", messages)`` for a clock's lateness summary."""
        excess = []
        if lateness.get("p99_ms", 0.0) > self.p99_ms:
            excess.append(f"lateness p99 {lateness['p99_ms']:.2f} ms exceeds the budget of "
                          f"{self.p99_ms:g} ms")
        if lateness.get("max_ms", 0.0) > self.max_ms:
            excess.append(f"lateness max {lateness['max_ms']:.2f} ms exceeds the budget of "
                          f"{self.max_ms:g} ms")
        if not excess:
            return "ok", []
        return self.on_exceed, excess
