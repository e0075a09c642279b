"""``chargeloop load run``: headless locust with thresholds, for CI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from chargeloop.cli_load import app
from chargeloop.runs import RunFolder
from loadtests.reference import free_port

pytestmark = pytest.mark.slow


def _only_run(root: Path) -> RunFolder:
    (folder,) = list(root.iterdir())
    return RunFolder.open(folder)


def test_reference_run_distributed_with_sessions_passes_its_thresholds(tmp_path: Path) -> None:
    """The README's kind of run, small: the reference CSMS, full sessions in 1.6 and 2.0.1,
    one locust master and two workers on loopback, thresholds that must hold."""
    result = CliRunner().invoke(app, [
        "run", "--reference", "--workers", "2", "--stations", "8", "--duration", "6s",
        "--arrive-within", "1s", "--mix", "sessions-1.6=1,sessions-2.0.1=1", "--speed", "120",
        "--session-duration", "4m", "--session-pause", "1m", "--meter-interval", "30s",
        "--max-p95-ms", "2000", "--max-fail-ratio", "0", "--min-connected-ratio", "1",
        "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    run = _only_run(tmp_path)
    assert run.kind == "loadtest"
    for name in ("locust.html", "locust_stats.csv", "locust_stats_history.csv",
                 "locust_failures.csv", "summary.json", "manifest.json"):
        assert run.file(name).is_file(), name
    summary = run.summary()
    assert summary["passed"] is True
    assert [v["threshold"] for v in summary["verdicts"]] == [
        "max_p95_ms", "max_fail_ratio", "min_connected_ratio"]
    kpis = summary["kpis"]
    # The stations add up: each worker held some, together all eight, each connected once.
    assert kpis["stations_peak_connected"] == 8 and kpis["connect_failures"] == 0
    by_worker = kpis["stations_by_worker"]
    assert len(by_worker) == 2 and sum(by_worker) == 8 and min(by_worker) > 0
    requests = run.read_table("load_requests")
    done = {(t, n): r for t, n, r in zip(requests["type"], requests["name"],
                                          requests["requests"], strict=True)}
    assert done[("WS", "connect")] == 8
    # Full sessions in both versions: authorised, started, metered, stopped; every start has
    # its stop (a session still running at the end is stopped when locust stops the station).
    for action in ("BootNotification", "Authorize", "StatusNotification", "MeterValues",
                   "StartTransaction", "StopTransaction"):
        assert done[("ocpp1.6", action)] >= 1, action
    assert done[("ocpp1.6", "StartTransaction")] == done[("ocpp1.6", "StopTransaction")]
    assert done[("ocpp2.0.1", "Authorize")] >= 1
    assert done[("ocpp2.0.1", "TransactionEvent")] >= 3 * done[("ocpp2.0.1", "Authorize")]
    # locust's CSV agrees with the table.
    stats = pd.read_csv(run.file("locust_stats.csv"))
    row = stats[(stats["Type"] == "ocpp1.6") & (stats["Name"] == "StartTransaction")]
    assert int(row["Request Count"].iloc[0]) == done[("ocpp1.6", "StartTransaction")]
    assert not run.read_table("load_connected").empty


def test_a_csms_that_is_not_there_fails_the_run(tmp_path: Path) -> None:
    dead = f"ws://127.0.0.1:{free_port()}/ocpp"
    result = CliRunner().invoke(app, [
        "run", "--url", dead, "--stations", "2", "--duration", "2s", "--arrive-within", "1s",
        "--mix", "heartbeat-2.0.1", "--max-fail-ratio", "0.01", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    summary = _only_run(tmp_path).summary()
    assert summary["passed"] is False
    assert summary["verdicts"] == [{"threshold": "max_fail_ratio", "limit": 0.01,
                                    "value": 1.0, "passed": False}]
    (failure, *_) = summary["failures"]
    assert (failure["type"], failure["name"]) == ("WS", "connect")
    assert "connect failed" in failure["error"] and "ConnectionRefused" in failure["error"]
    assert json.loads(json.dumps(summary["kpis"]))["stations_peak_connected"] == 0
