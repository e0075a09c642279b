"""Run folders for the report tests: a real scenario run with a fixed seed (once per session),
and small conformance folders written with ``RunFolder`` as the suite writes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import TraceRecord
from chargeloop.runs import RunFolder

TINY = Path(__file__).with_name("tiny.yaml")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a real run of ``tiny.yaml`` (seed 5) against the in-process reference
    CSMS."""
    import simulator

    result = simulator.run(TINY, runs_root=tmp_path_factory.mktemp("runs"))
    assert result.run_folder is not None
    return result.run_folder


@pytest.fixture(scope="session")
def tiny_report(tiny_run: Path) -> Path:
    """``report.html`` of the tiny run, written as ``chargeloop report`` writes it."""
    from reports import write_report

    return write_report(tiny_run)


def frame(identity: str, wall: float, direction: str, action: str, raw: str,
          outcome: str = "ok") -> TraceRecord:
    return TraceRecord(direction=direction, identity=identity, version="ocpp1.6", wall_time=wall,
                       sim_time=None, raw=raw, message_type=2 if direction == "out" else 3,
                       message_id="m", action=action, outcome=outcome)


def case(case_id: str, verdict: str, profiles: list[str], started_at: float | None,
         reason: str = "") -> dict[str, Any]:
    return {"case": case_id, "verdict": verdict, "title": f"title of {case_id}",
            "profiles": profiles, "reason": reason, "step": None, "expected": None,
            "actual": None, "duration_s": 0.1, "started_at": started_at}


@pytest.fixture
def conformance_run(tmp_path: Path) -> Callable[..., Path]:
    """Make a conformance run folder: ``cases`` as the suite's summary lists them, ``frames``
    as its trace."""

    def make(cases: list[dict[str, Any]], frames: list[TraceRecord]) -> Path:
        folder = RunFolder.create(tmp_path, "conformance-csms", kind="conformance")
        with folder:
            writer = folder.trace_writer()
            for record in frames:
                writer(record)
        profiles: dict[str, dict[str, int]] = {}
        verdicts = ("passed", "failed", "not_applicable", "not_run", "not_implemented")
        for c in cases:
            for p in c["profiles"]:
                profiles.setdefault(p, dict.fromkeys(verdicts, 0))[c["verdict"]] += 1
        totals = {v: sum(c["verdict"] == v for c in cases) for v in verdicts}
        folder.write_manifest({"name": "conformance-csms", "version": "ocpp1.6",
                               "sut": "CSMS under test"})
        folder.write_table("cases", [{k: v for k, v in c.items() if k != "actual"}
                                     for c in cases])
        folder.write_summary({**totals, "profiles": profiles, "cases": cases,
                              "ok": totals["failed"] == 0, "version": "ocpp1.6"})
        return folder.path

    return make
