"""Load-test runs: the CSV files of a real locust run (``--csv``, captured once against a
loopback HTTP server) in a run folder give the load figures, a plot and the request table."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from chargeloop.runs import RunFolder
from reports import load_run, render_run, run_kpis

LOCUST = Path(__file__).with_name("data") / "locust"


def test_locust_csv_figures(tmp_path: Path) -> None:
    folder = RunFolder.create(tmp_path, "load-csms", kind="loadtest")
    (folder.path / "locust").mkdir()
    for path in LOCUST.glob("*.csv"):
        shutil.copy(path, folder.path / "locust" / path.name)
    folder.write_manifest({"name": "load-csms"})
    folder.write_summary({"passed": False})

    with (LOCUST / "run_stats.csv").open() as file:
        rows = list(csv.DictReader(file))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    per_name = [r for r in rows if r["Name"] != "Aggregated"]
    requests = sum(int(r["Request Count"]) for r in per_name)
    failed = sum(int(r["Failure Count"]) for r in per_name)
    assert requests == int(total["Request Count"]) and failed > 0

    figures = run_kpis(load_run(folder.path))
    assert figures["load_requests"] == requests
    assert figures["load_failures"] == failed
    assert abs(figures["load_failure_pct"] - 100 * failed / requests) < 1e-3
    assert figures["load_p95_ms"] == float(total["95%"])

    html = render_run(load_run(folder.path))
    assert 'id="verdict">FAILED<' in html
    assert 'id="plot-load"><svg' in html
    assert "404 Client Error" in html  # the failures table
    assert html.count("<tr>", html.index('id="load-requests-table"')) >= len(rows)
