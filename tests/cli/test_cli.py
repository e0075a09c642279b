"""The command line as a user meets it: the installed ``chargeloop`` script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chargeloop

SCRIPT = shutil.which("chargeloop") or str(Path(sys.executable).with_name("chargeloop"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=60,
                          env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)})


def test_version_matches_the_package() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"chargeloop {chargeloop.__version__}"


@pytest.mark.parametrize("group", [[], ["run"], ["csms"], ["csms", "serve"], ["conformance"],
                                   ["conformance", "station"], ["load"], ["load", "run"],
                                   ["hil"], ["hil", "meter"], ["report"], ["demo"],
                                   ["demo", "protocol"]])
def test_every_level_has_help(group: list[str]) -> None:
    result = run(*group, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_protocol_demo_runs_both_generations_and_writes_the_trace(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    result = run("demo", "protocol", "--trace-file", str(trace))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OCPP 1.6: session completed" in result.stdout
    assert "OCPP 2.0.1: session completed" in result.stdout
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    by_version: dict[str, list[str]] = {}
    for record in records:
        assert record["outcome"] == "ok", record
        if record["direction"] == "out":
            by_version.setdefault(record["version"], []).append(record["action"])
    assert by_version["ocpp1.6"] == [
        "BootNotification", "Heartbeat", "StatusNotification", "Authorize", "StartTransaction",
        "MeterValues", "MeterValues", "StopTransaction", "StatusNotification"]
    assert by_version["ocpp2.0.1"] == [
        "BootNotification", "Heartbeat", "StatusNotification", "Authorize", "TransactionEvent",
        "MeterValues", "MeterValues", "TransactionEvent", "StatusNotification"]
    # every CALL got exactly one answer
    answers = [r for r in records if r["direction"] == "in"]
    assert len(answers) == sum(len(actions) for actions in by_version.values())
    assert all(r["message_type"] == 3 for r in answers)


def test_protocol_demo_runs_ocpp_21() -> None:
    result = run("demo", "protocol", "--version", "2.1")
    assert result.returncode == 0, result.stderr
    assert "OCPP 2.1: session completed" in result.stdout


def test_bad_version_is_a_clear_error() -> None:
    result = run("demo", "protocol", "--version", "3.0")
    assert result.returncode == 2
    assert "unknown OCPP version '3.0'" in result.stderr
    assert "1.6, 2.0.1, 2.1" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--unknown-stations", "maybe"], "use accept, pending or reject"),
    (["--validation", "loose"], "use strict or lenient"),
    (["--database", "mysql://x/y"], "sqlite+aiosqlite:///path.db"),
])
def test_csms_serve_refuses_bad_options_clearly(args: list[str], message: str) -> None:
    result = run("csms", "serve", *args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())


def test_csms_migrate_and_token_create(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}"
    assert run("csms", "migrate", "--database", database).returncode == 0
    created = run("csms", "token", "create", "--role", "operator", "--name", "ops",
                  "--database", database)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("clp_")
    refused = run("csms", "token", "create", "--role", "boss", "--name", "x",
                  "--database", database)
    assert refused.returncode == 2
    assert "admin, operator, support, driver, read-only" in " ".join(refused.stderr.split())
