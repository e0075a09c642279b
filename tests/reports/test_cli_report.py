"""``chargeloop report``: one run, A vs B, a sweep, exports, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from chargeloop.cli_report import app
from reports import load_run, run_kpis

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args], terminal_width=200)
    return result.exit_code, result.output


def copy_run(source: Path, target: Path, *, seed: int) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.html"))
    manifest = json.loads((target / "manifest.json").read_text())
    (target / "manifest.json").write_text(json.dumps({**manifest, "seed": seed}))
    return target


def test_one_run_with_exports(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, output = invoke(tiny_run, "--out", out, "--csv", tmp_path / "csv",
                          "--parquet", tmp_path / "pq")
    assert code == 0, output
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert "energy metered" in output and "verdict: passed" in output
    run = load_run(tiny_run)
    for name in run.table_names:  # every table, unchanged
        exported = pd.read_parquet(tmp_path / "pq" / f"{name}.parquet")
        pd.testing.assert_frame_equal(exported, run.table(name), check_dtype=False)
        assert (tmp_path / "csv" / f"{name}.csv").is_file()
    figures = pd.read_csv(tmp_path / "csv" / "kpis.csv").set_index("kpi")["value"].to_dict()
    assert figures == {k: float(v) for k, v in run_kpis(run).items()}


def test_compare_says_what_got_worse(tiny_run: Path, tmp_path: Path) -> None:
    slower = copy_run(tiny_run, tmp_path / "slower", seed=5)
    messages = pd.read_parquet(slower / "messages.parquet")
    messages["latency_ms"] *= 2
    messages.to_parquet(slower / "messages.parquet")
    code, output = invoke(tiny_run, "--compare", slower, "--out", tmp_path / "c.html")
    assert code == 0, output
    latency = [line for line in output.splitlines() if "latency p99" in line]
    assert latency and "worse" in latency[0]
    energy = [line for line in output.splitlines() if "energy metered" in line]
    assert "same" in energy[0]
    assert "worse" in (tmp_path / "c.html").read_text()


def test_sweep_over_a_folder_of_runs(tiny_run: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for seed in (5, 6):
        copy_run(tiny_run, runs / f"20260101T00000{seed}Z-tiny", seed=seed)
    code, output = invoke(runs, "--out", tmp_path / "sweep.html")
    assert code == 0, output
    html = (tmp_path / "sweep.html").read_text()
    assert "tiny: 2 runs" in html and "varying: seed" in html


def test_bad_input_exits_2_with_the_reason(tiny_run: Path, tmp_path: Path) -> None:
    code, output = invoke(tmp_path / "nope")
    assert code == 2 and "nope: no such run folder" in output
    code, output = invoke(tmp_path)
    assert code == 2 and "neither a run folder" in output
    copy_run(tiny_run, tmp_path / "b", seed=1)
    code, output = invoke(tiny_run, tmp_path / "b", "--compare", tiny_run)
    assert code == 2 and "--compare takes one run as A; 2 were given" in output
