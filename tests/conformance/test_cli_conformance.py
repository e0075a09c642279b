"""``chargeloop conformance csms``: the suite from one command, its reports, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chargeloop.ocppj import OcppVersion
from conformance.catalogue import catalogue
from conformance.reference import chargeloop_command


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*chargeloop_command(), "conformance", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, check=False,
                          env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)})


def test_reference_run_writes_run_folder_junit_and_allure(tmp_path: Path) -> None:
    result = run("csms", "--reference", "--runs-dir", "runs", "--case", "TC_B_01_CSMS",
                 "--junit", "junit.xml", "--allure-dir", "allure", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["ok"] is True and summary["failed"] == 0 and summary["passed"] >= 1
    verdicts = {c["case"]: c["verdict"] for c in summary["cases"]}
    assert verdicts["TC_B_01_CSMS"] == "passed"
    assert verdicts["TC_B_06_CSMS"] == "not_run"  # not selected
    # every 2.0.1 CSMS case of the catalogue has a verdict, each explained, those OCA does not
    # certify too (their title says so)
    rows = [row for row in catalogue(OcppVersion.V201) if row.sut == "CSMS"]
    assert {row.id for row in rows} <= set(verdicts)
    assert all(c["reason"] for c in summary["cases"] if c["verdict"] not in ("passed",))
    titles = {c["case"]: c["title"] for c in summary["cases"]}
    assert all(titles[row.id].endswith("[not in certification programme]")
               for row in rows if not row.in_programme)
    assert not any("certification" in titles[row.id] for row in rows if row.in_programme)
    assert summary["profiles"]["Core"]["passed"] >= 1
    assert (folder / "cases.parquet").is_file() and (folder / "ocpp.jsonl").stat().st_size > 0
    assert 'name="test_TC_B_01_CSMS"' in (tmp_path / "junit.xml").read_text()
    results = [json.loads(p.read_text()) for p in (tmp_path / "allure").glob("*-result.json")]
    assert any(r["name"].startswith("TC_B_01_CSMS") and r["status"] == "passed"
               and any(a["name"] == "OCPP trace" for a in r["attachments"]) for r in results)


def test_a_bad_sut_file_is_named_with_its_line_and_what_is_valid(tmp_path: Path) -> None:
    sut = tmp_path / "sut.yaml"
    sut.write_text('url: ws://127.0.0.1:9/ocpp\nocpp_version: "2.0.1"\nprofiles: [smart-chargin]\n')
    result = run("csms", "--sut", str(sut), cwd=tmp_path)
    assert result.returncode == 2
    assert "sut.yaml:3" in result.stderr + result.stdout
    assert 'did you mean "smart-charging"' in result.stderr + result.stdout


def test_without_a_csms_it_says_how_to_name_one(tmp_path: Path) -> None:
    result = run("csms", cwd=tmp_path)
    assert result.returncode == 2
    assert "--reference" in result.stderr
