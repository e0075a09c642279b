"""Conformance runs: verdicts per certification profile, and each case's frames from the run's
trace.

Cases run one after another, and the suite records the wall-clock moment each case's setup
began (``started_at``), so a case's frames are those of the trace from its start to the start
of the next case. Runs written before cases carried ``started_at`` get no per-case trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from reports.run import ReportError, RunData

VERDICTS = ("passed", "failed", "not_applicable", "not_run", "not_implemented")
MAX_FRAMES_PER_CASE = 500  # a case's trace beyond this is cut in the report (the file has all)


@dataclass
class Frame:
    offset_ms: float  # since the case started
    identity: str
    direction: str  # "out": sent by the test's station; "in": sent by the CSMS
    action: str
    raw: str
    outcome: str


@dataclass
class CaseView:
    case: str
    verdict: str
    title: str
    profiles: list[str]
    reason: str
    duration_s: float
    frames: list[Frame] = field(default_factory=list)
    frames_total: int = 0
    traced: bool = False  # the run let us find this case's frames

    @property
    def anchor(self) -> str:
        return "trace-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in self.case)


def profile_rows(run: RunData) -> list[dict[str, Any]]:
    """One row per profile: the count of each verdict and whether the profile holds (nothing
    failed; cases not implemented are shown, not hidden)."""
    rows = []
    for name, counts in sorted((run.summary.get("profiles") or {}).items()):
        row = {"profile": name, **{v: int(counts.get(v, 0)) for v in VERDICTS}}
        row["verdict"] = "failed" if row["failed"] else (
            "incomplete" if row["not_implemented"] or row["not_run"] else "passed")
        rows.append(row)
    return rows


def case_views(run: RunData) -> list[CaseView]:
    """Every case of the run with its frames (when the run recorded where each case began)."""
    cases = run.summary.get("cases")
    if not isinstance(cases, list):
        raise ReportError(f"{run.path or run.name}: summary.json of a conformance run has no "
                          f"'cases' list")
    views = [CaseView(case=str(c.get("case")), verdict=str(c.get("verdict")),
                      title=str(c.get("title") or ""), profiles=list(c.get("profiles") or []),
                      reason=str(c.get("reason") or ""),
                      duration_s=float(c.get("duration_s") or 0.0)) for c in cases]
    starts = {str(c.get("case")): c.get("started_at") for c in cases
              if isinstance(c.get("started_at"), int | float)}
    if starts and run.trace_path is not None:
        _attach_frames(views, starts, run.trace_path)
    return views


def _attach_frames(views: list[CaseView], starts: dict[str, float], trace: Path) -> None:
    order = sorted(starts.items(), key=lambda item: item[1])
    windows = {case: (start, order[i + 1][1] if i + 1 < len(order) else float("inf"))
               for i, (case, start) in enumerate(order)}
    by_case: dict[str, list[Frame]] = {case: [] for case in windows}
    totals = dict.fromkeys(windows, 0)
    bounds = [(start, end, case) for case, (start, end) in windows.items()]
    bounds.sort()
    with trace.open("rb") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                moment = float(record["wall_time"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ReportError(f"{trace}:{number}: not a trace record ({exc})") from exc
            case = _window_of(bounds, moment)
            if case is None:
                continue
            totals[case] += 1
            if len(by_case[case]) < MAX_FRAMES_PER_CASE:
                by_case[case].append(Frame(
                    offset_ms=round((moment - windows[case][0]) * 1000, 1),
                    identity=str(record.get("identity") or ""),
                    direction=str(record.get("direction") or ""),
                    action=str(record.get("action") or ""), raw=str(record.get("raw") or ""),
                    outcome=str(record.get("outcome") or "")))
    for view in views:
        if view.case in windows:
            view.traced = True
            view.frames = by_case[view.case]
            view.frames_total = totals[view.case]


def _window_of(bounds: list[tuple[float, float, str]], moment: float) -> str | None:
    import bisect

    index = bisect.bisect_right(bounds, (moment, float("inf"), "\uffff")) - 1
    if index < 0:
        return None
    start, end, case = bounds[index]
    return case if start <= moment < end else None
