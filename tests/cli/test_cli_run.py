"""``chargeloop run`` as CI uses it: exit codes, errors that point into the file, JUnit XML and
the run folder."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.cli.test_cli import run

TINY = """name: tiny
seed: 3
duration: 3h
start: 2026-01-05T07:00:00Z
station_templates:
  ac: {ocpp: "1.6", evses: 2, connectors: [{type: Type2, max_power_kw: 11}]}
sites:
  - {id: office, kind: workplace, stations: [{template: ac, count: 1}]}
drivers:
  - {name: staff, site: office, arrivals: {profile: workplace, per_day: 20}, tokens: {count: 5}}
expectations:
  - all_stations_booted: true
  - min_sessions: {sessions}
"""


def scenario(tmp_path: Path, sessions: int) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.replace("{sessions}", str(sessions)))
    return path


def test_a_passing_scenario_exits_0_with_a_run_folder_and_junit(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = run("run", str(scenario(tmp_path, 1)), "--out", str(tmp_path / "runs"),
                 "--junit", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tiny" in result.stdout and "2/2" in result.stdout
    [folder] = (tmp_path / "runs").iterdir()
    assert (folder / "summary.json").exists() and (folder / "sessions.parquet").exists()
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "0"


def test_an_expectation_that_does_not_hold_exits_1_and_junit_says_why(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = run("run", str(scenario(tmp_path, 10_000)), "--out", str(tmp_path / "runs"),
                 "--junit", str(junit))
    assert result.returncode == 1
    assert "failed" in result.stdout
    failure = ET.parse(junit).getroot().find(".//failure")
    assert failure is not None and "at least 10000 sessions" in failure.get("message", "")


def test_a_bad_scenario_names_file_line_and_key_and_exits_2(tmp_path: Path) -> None:
    path = scenario(tmp_path, 1)
    path.write_text(path.read_text().replace("per_day: 20", "per_day: -5"))
    result = run("run", str(path))
    assert result.returncode == 2
    assert "tiny.yaml:10:" in result.stderr
    assert "per_day" in result.stderr


def test_an_unknown_scenario_name_lists_the_shipped_ones() -> None:
    result = run("run", "no-such-scenario")
    assert result.returncode == 2
    assert "quickstart" in result.stderr


EXTERNAL = """name: external
seed: 11
duration: 2h
start: 2026-01-05T10:00:00Z
station_templates:
  dc: {ocpp: "2.0.1", connectors: [{type: CCS2, max_power_kw: 150}]}
  ac: {ocpp: "1.6", connectors: [{type: Type2, max_power_kw: 22}]}
sites:
  - {id: road, kind: highway, stations: [{template: dc, count: 1}, {template: ac, count: 1}]}
drivers:
  - name: known
    site: road
    arrivals: {profile: flat, per_day: 60}
    tokens: {kind: rfid, ids: [CARD-0001, CARD-0002, CARD-0003]}
expectations:
  - all_stations_booted: true
  - min_sessions: 2
  - all_sessions_completed: true
  - transactions_match_csms: {energy_tolerance_wh: 1}
"""


def test_a_scenario_runs_against_an_external_csms_given_on_the_command_line(
        tmp_path: Path) -> None:
    import httpx

    from csms.process import CsmsProcess

    csms = CsmsProcess(tmp_path / "external-csms")
    csms.start()
    try:
        admin = csms.headers
        for card in ("CARD-0001", "CARD-0002", "CARD-0003"):  # the CSMS must know the cards
            assert httpx.put(f"{csms.api_url}/api/tokens/{card}", json={}, headers=admin,
                             timeout=10).status_code in (200, 201)
        path = tmp_path / "external.yaml"
        path.write_text(EXTERNAL)
        junit = tmp_path / "junit.xml"
        strict = run("run", str(path), "--csms-url", csms.ocpp_url, "--speed", "900",
                     "--out", str(tmp_path / "runs"), "--junit", str(junit))
        # looking inside an external CSMS is not possible: never a pass
        assert strict.returncode == 1, strict.stdout + strict.stderr
        assert "not_checkable" in strict.stdout
        lenient = run("run", str(path), "--csms-url", csms.ocpp_url, "--speed", "900",
                      "--out", str(tmp_path / "runs"), "--allow-unchecked")
        assert lenient.returncode == 0, lenient.stdout + lenient.stderr
        stored = httpx.get(f"{csms.api_url}/api/transactions", headers=admin, timeout=10).json()
        assert stored["total"] >= 2
    finally:
        csms.stop()
