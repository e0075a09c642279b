"""Fixtures for testing the conformance suite itself: the reference CSMS as its SUT, and the
suite run in a subprocess (as a vendor runs it) against it or a deliberately faulty copy."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import OcppVersion
from conformance.catalogue import PROFILES
from conformance.reference import REFERENCE_FEATURES, TLS_FEATURES, reference_csms
from conformance.sut import Sut, TlsSettings

SUITE = Path(__file__).resolve().parents[2] / "conformance" / "csms"


@dataclass
class SuiteRun:
    returncode: int
    summary: dict[str, Any]
    output: str

    def verdict(self, case_id: str) -> str:
        found = [c for c in self.summary["cases"] if c["case"] == case_id]
        assert found, f"{case_id} has no verdict in the summary"
        return found[0]["verdict"]


def sut_yaml(sut: Sut, url: str, version: str = "2.0.1", tls: TlsSettings | None = None
             ) -> str:
    """``sut`` (provisioned on the reference CSMS) as a SUT file pointing at ``url`` (JSON is
    YAML too), and at ``tls``'s endpoints (default: ``sut``'s) for the TLS cases. Answers and
    actions come quickly from the reference CSMS behind a proxy, and a faulty one that swallows
    a CALL should fail its case in seconds, not a minute."""
    tls = tls or sut.tls
    tls_section = {key: str(value) for key, value in (
        ("ca", tls.ca), ("client_cert", tls.client_cert), ("profile_2_url", tls.profile_2_url),
        ("profile_3_url", tls.profile_3_url)) if value is not None}
    return json.dumps({
        "name": "reference CSMS", "url": url, "ocpp_version": version,
        "timeouts": {"answer_s": 5, "action_s": 5},
        # the reference CSMS implements every profile the suite covers
        "profiles": sorted(PROFILES[OcppVersion.V16 if version == "1.6"
                                    else OcppVersion.V201]),
        # optional features the reference CSMS has, so their conditional cases run against it
        "features": sorted(REFERENCE_FEATURES | TLS_FEATURES),
        **({"tls": tls_section} if tls_section else {}),
        "stations": [{"id": s.id, **({"password": s.password} if s.password else {})}
                     for s in sut.stations],
        **{key: {"id": held.id, **({"password": held.password} if held.password else {})}
           for key, held in (("pending_station", sut.pending_station),
                             ("rejected_station", sut.rejected_station)) if held is not None},
        "triggers": {"kind": "reference", "base_url": sut.triggers.base_url,
                     "headers": sut.triggers.headers}})


def run_suite(tmp_path: Path, sut_text: str, *args: str) -> SuiteRun:
    sut_file = tmp_path / "sut.yaml"
    sut_file.write_text(sut_text)
    runs = tmp_path / "runs"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider", "-q",
         "--sut", str(sut_file), "--runs-dir", str(runs), *args],
        capture_output=True, text=True, timeout=600, check=False)
    summaries = sorted(runs.glob("*/summary.json"))
    assert summaries, f"no run folder:\n{completed.stdout}\n{completed.stderr}"
    return SuiteRun(completed.returncode, json.loads(summaries[-1].read_text()),
                    completed.stdout + completed.stderr)


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sut]:
    """The reference CSMS, provisioned with the suite's stations and tokens, for the whole
    test session (it serves 1.6 and 2.0.1 alike)."""
    with reference_csms(Sut(), tmp_path_factory.mktemp("reference-csms")) as sut:
        yield sut
