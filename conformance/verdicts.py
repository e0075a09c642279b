"""Verdicts of conformance cases, and the exceptions a case raises to reach one.

A case ends in one of five verdicts. ``passed`` and ``failed`` are pytest's own outcomes;
``not_applicable`` and ``not_run`` are skips whose reason starts with that word, so plain
``pytest`` output already says which; ``not_implemented`` is a catalogue case in scope that
has no test yet (the summary lists it, it is never silently missing).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

import pytest


class Verdict(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"
    NOT_RUN = "not_run"
    NOT_IMPLEMENTED = "not_implemented"


NOT_APPLICABLE_PREFIX = "not applicable: "
NOT_RUN_PREFIX = "not run: "


class CaseFailed(AssertionError):
    """A validation of the case's document did not hold: which step, what was expected, what
    came (the frame, as it travelled, when there was one)."""

    def __init__(self, step: str, expected: str, actual: Any = None) -> None:
        self.step, self.expected, self.actual = step, expected, actual
        shown = actual if isinstance(actual, str) or actual is None else json.dumps(actual)
        super().__init__(f"{step}: expected {expected}; got {shown}")


def not_applicable(feature: str) -> None:
    """End the case as not applicable: the SUT does not claim ``feature``."""
    pytest.skip(NOT_APPLICABLE_PREFIX + feature)


def not_run(why: str) -> None:
    """End the case as not run (a trigger it needs is unavailable, ...)."""
    pytest.skip(NOT_RUN_PREFIX + why)


@dataclass
class CaseResult:
    case_id: str
    verdict: Verdict
    title: str = ""
    profiles: tuple[str, ...] = ()
    reason: str = ""  # failure message, or why not applicable / not run / not implemented
    step: str | None = None
    expected: str | None = None
    actual: Any = None
    duration_s: float = 0.0
    started_at: float | None = None  # wall clock (epoch s) at setup: finds the case's frames

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "verdict": self.verdict.value, "title": self.title,
                "profiles": list(self.profiles), "reason": self.reason, "step": self.step,
                "expected": self.expected, "actual": self.actual,
                "duration_s": round(self.duration_s, 3), "started_at": self.started_at}


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: {v.value: 0 for v in Verdict})

    def add(self, verdict: Verdict) -> None:
        self.counts[verdict.value] += 1


# the summary row of the catalogue's cases outside the certification programme (no profile)
UNCERTIFIED = "not certified"


def summarise(results: list[CaseResult]) -> dict[str, Any]:
    """Counts overall and per certification profile (a case counts in each of its profiles)."""
    overall = Tally()
    per_profile: dict[str, Tally] = {}
    for result in results:
        overall.add(result.verdict)
        for profile in result.profiles or (UNCERTIFIED,):
            per_profile.setdefault(profile, Tally()).add(result.verdict)
    return {**overall.counts,
            "profiles": {name: tally.counts for name, tally in sorted(per_profile.items())}}
