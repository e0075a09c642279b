"""The station-under-test suite against the simulator's station: every implemented case passes
against the faithful station (but the recorded findings), fails against a station that breaks
its rule, and the CLI, the run folder and a real charger's path (``--listen``, Basic auth, HTTP
actions) work."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import OcppVersion
from conformance.catalogue import catalogue
from conformance.reference import chargeloop_command
from conformance.station.simulated import SimulatedOptions, simulated_station
from tests.conformance.station.faulty_station import FAULTS

ROOT = Path(__file__).resolve().parents[3]
SUITE = ROOT / "conformance" / "station"
FAULTY = "tests.conformance.station.faulty_station:FAULTS"
VERSIONS = {"1.6": OcppVersion.V16, "2.0.1": OcppVersion.V201}
# Findings in the simulator's station, recorded with their case (see docs/conformance-station.md):
# its paced SimClock delivers a round trip's answer at the simulated moment the call was sent,
# so a timer armed after it fires early by the round trip. They fail or pass by a few 100 ms.
FINDINGS = {"TC_001_CS", "TC_004_2_CS"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def sut_text(version: str, **extra: Any) -> str:
    """Short intervals and timeouts: the simulated station answers in milliseconds, and a
    faulty one must fail its case in seconds."""
    return json.dumps({"ocpp_version": version, "timeouts": {"answer_s": 3, "action_s": 3},
                       "intervals": {"heartbeat_s": 1, "boot_retry_s": 1,
                                     "connection_timeout_s": 2, "meter_sample_s": 1},
                       **extra})


def start_suite(tmp_path: Path, version: str, *args: str, sut: str | None = None
                ) -> tuple[subprocess.Popen[str], Path]:
    sut_file = tmp_path / "sut.yaml"
    sut_file.write_text(sut or sut_text(version))
    runs = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider", "-q",
         "-c", str(ROOT / "conformance" / "pytest.ini"), "--rootdir", str(ROOT / "conformance"),
         "--sut", str(sut_file), "--runs-dir", str(runs), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    return process, runs


def finish_suite(process: subprocess.Popen[str], runs: Path) -> dict[str, Any]:
    output, _ = process.communicate(timeout=500)
    summaries = sorted(runs.glob("*/summary.json"))
    assert summaries, f"no run folder:\n{output}"
    summary = json.loads(summaries[-1].read_text())
    summary["_output"] = output[-5000:]
    summary["_returncode"] = process.returncode
    return summary


def run_suite(tmp_path: Path, version: str, *args: str, sut: str | None = None
              ) -> dict[str, Any]:
    return finish_suite(*start_suite(tmp_path, version, *args, sut=sut))


def run_versions(factory: pytest.TempPathFactory, name: str, *args: str
                 ) -> dict[str, dict[str, Any]]:
    """Both versions at once (each run mostly waits on the station)."""
    started = {v: start_suite(factory.mktemp(name), v, *args) for v in VERSIONS}
    return {v: finish_suite(*running) for v, running in started.items()}


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    return {c["case"]: c["verdict"] for c in summary["cases"]}


@pytest.fixture(scope="module")
def faithful(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return run_versions(tmp_path_factory, "faithful", "--simulated")


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return run_versions(tmp_path_factory, "broken", "--simulated", "--simulated-faults", FAULTY)


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_the_suite_passes_against_the_simulated_station_and_every_case_has_a_control(
        version: str, faithful: dict[str, dict[str, Any]]) -> None:
    summary = faithful[version]
    got = verdicts(summary)
    ran = {case for case, verdict in got.items() if verdict in ("passed", "failed")}
    failed = {case for case, verdict in got.items() if verdict == "failed"}
    assert failed <= FINDINGS, summary["_output"]
    assert ran, summary["_output"]
    assert ran <= set(FAULTS), f"cases without a faulty station: {ran - set(FAULTS)}"
    # every _CS case of the catalogue's programme has a verdict, the rest not implemented
    programme = {r.id for r in catalogue(VERSIONS[version]) if r.sut == "CS" and r.in_programme}
    assert programme <= set(got)
    assert not any(case.endswith("_CSMS") for case in got)
    counts = {k: summary[k] for k in ("passed", "failed", "not_applicable", "not_run",
                                      "not_implemented")}
    assert sum(counts.values()) == len(summary["cases"])
    assert counts["not_implemented"] == len(programme) - len(ran)
    assert summary["profiles"]["Core"]["passed"] >= len(ran - FINDINGS) - 1


@pytest.mark.parametrize(("version", "case_id"), [
    (v, c) for v in sorted(VERSIONS) for c in sorted(FAULTS)
    if any(r.id == c for r in catalogue(VERSIONS[v]))])
def test_the_case_fails_against_a_station_that_breaks_its_rule(
        version: str, case_id: str, broken: dict[str, dict[str, Any]]) -> None:
    assert verdicts(broken[version])[case_id] == "failed", broken[version]["_output"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_charger_pointed_at_listen_with_basic_auth_and_http_actions(tmp_path: Path) -> None:
    """The real-charger path: the harness listens on a fixed address with security profile 1;
    the station (here the simulated one, started on its own, as a charger on the bench) is
    configured with that URL and its password; actions go through HTTP templates."""
    port = _free_port()
    password = "conformance-pass-0123"
    options = SimulatedOptions(url=f"ws://127.0.0.1:{port}/ocpp", identity="BENCH-CS-1",
                               version=OcppVersion.V16, password=password)
    with simulated_station(options, tmp_path / "station") as control:
        templates = {name: {"path": f"/actions/{name}", "body": {"evse": "{evse}",
                                                                 "token": "{token}"}}
                     for name in ("plug_in", "present_token")}
        sut = sut_text("1.6", listen=f"127.0.0.1:{port}", security_profile=1,
                       stations=[{"id": "BENCH-CS-1", "password": password}],
                       actions={"kind": "http", "base_url": control, "templates": templates})
        summary = run_suite(tmp_path, "1.6", "-k", "TC_003_CS or TC_019_CS",
                            sut=sut)
    got = verdicts(summary)
    assert got["TC_003_CS"] == "passed" and got["TC_019_CS"] == "passed", summary["_output"]
    manifest = json.loads(next((tmp_path / "runs").glob("*/manifest.json")).read_text())
    assert manifest["side_under_test"] == "CS" and manifest["listen"] == f"127.0.0.1:{port}"


def test_a_wrong_password_is_refused_and_the_case_says_so(tmp_path: Path) -> None:
    port = _free_port()
    options = SimulatedOptions(url=f"ws://127.0.0.1:{port}/ocpp", identity="BENCH-CS-2",
                               version=OcppVersion.V16, password="not-the-password-00")
    with simulated_station(options, tmp_path / "station"):
        sut = sut_text("1.6", listen=f"127.0.0.1:{port}", security_profile=1,
                       stations=[{"id": "BENCH-CS-2", "password": "conformance-pass-0123"}])
        summary = run_suite(tmp_path, "1.6", "-k", "TC_019_CS", sut=sut)
    case = next(c for c in summary["cases"] if c["case"] == "TC_019_CS")
    assert case["verdict"] == "failed" and "wrong password" in case["reason"], case


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*chargeloop_command(), "conformance", "station", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd, check=False,
                          env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)})


def test_the_cli_needs_a_station_and_names_bad_input(tmp_path: Path) -> None:
    nothing = cli(cwd=tmp_path)
    assert nothing.returncode == 2 and "--simulated" in nothing.stderr
    bad = cli("--listen", "localhost", cwd=tmp_path)
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr
    sut = tmp_path / "sut.yaml"
    sut.write_text('ocpp_version: "1.6"\nactions:\n  kind: http\n  base_url: http://x\n'
                   '  templates:\n    plug_inn: {path: /p}\n')
    wrong = cli("--simulated", "--sut", str(sut), cwd=tmp_path)
    assert wrong.returncode == 2
    assert "sut.yaml:6" in wrong.stdout + wrong.stderr and "plug_in" in wrong.stdout + \
        wrong.stderr
