"""``conformance station --simulated`` without a SUT file claims what the simulator's station
implements (its profiles besides Core), so the one-command demo runs those cases instead of
reporting them "not applicable"; ``--profile`` still narrows the claim to what is asked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.reference import chargeloop_command

pytestmark = pytest.mark.timeout(300)


def _run(tmp_path: Path, *args: str) -> dict[str, Any]:
    runs = tmp_path / "runs"
    done = subprocess.run([*chargeloop_command(), "conformance", "station", "--simulated",
                           "--version", "1.6", "--case", "TC_043_CS", "--runs-dir", str(runs),
                           *args], capture_output=True, text=True, timeout=240, check=False,
                          env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)})
    summaries = sorted(runs.glob("*/summary.json"))
    assert summaries, done.stdout + done.stderr
    return dict(json.loads(summaries[-1].read_text()))


def test_simulated_without_a_sut_file_claims_the_simulated_stations_profiles(
        tmp_path: Path) -> None:
    summary = _run(tmp_path)
    assert set(summary["profiles_claimed"]) >= {"Core", "LocalAuthList", "Reservation",
                                                "SmartCharging", "RemoteTrigger"}
    verdict = {c["case"]: c["verdict"] for c in summary["cases"]}
    assert verdict["TC_043_CS"] == "passed"


def test_a_profile_option_narrows_the_claim(tmp_path: Path) -> None:
    summary = _run(tmp_path, "--profile", "core")
    assert summary["profiles_claimed"] == ["Core"]
    verdict = {c["case"]: c["verdict"] for c in summary["cases"]}
    assert verdict["TC_043_CS"] == "not_applicable"
