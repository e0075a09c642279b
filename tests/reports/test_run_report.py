"""The report of a real run: its KPIs equal figures computed here by hand from the run's
tables (plain loops, not the report's pandas code), the HTML shows them, and the file stands
alone."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from reports import load_run, render_run, run_kpis
from reports.run import ReportError


def rows(folder: Path, table: str) -> list[dict]:
    return pd.read_parquet(folder / f"{table}.parquet").to_dict("records")


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), by hand."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def by_hand(folder: Path) -> dict[str, float]:
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    horizon = manifest["duration_s"]
    sessions = rows(folder, "sessions")
    evses = {(r["station_id"], r["evse_id"]) for r in rows(folder, "status_changes")
             if r["evse_id"] > 0}
    charging = 0.0
    for s in sessions:
        stop = horizon if missing(s["stopped_s"]) else min(s["stopped_s"], horizon)
        charging += max(0.0, stop - max(s["started_s"], 0.0))
    energy_wh = sum(s["energy_wh"] for s in sessions)

    # the power table has one row per change of one EVSE's power: replay it
    level: dict[tuple[str, int], float] = {}
    peak = 0.0
    changes = sorted(rows(folder, "power"), key=lambda r: r["t_s"])
    for i, r in enumerate(changes):
        level[(r["station_id"], r["evse_id"])] = r["power_w"]
        if i + 1 == len(changes) or changes[i + 1]["t_s"] != r["t_s"]:
            peak = max(peak, sum(level.values()))

    visits = rows(folder, "visits")
    waits = [v["waited_s"] for v in visits if not missing(v["waited_s"])]
    intervals = [(v["arrival_s"], v["arrival_s"] + v["waited_s"]) for v in visits
                 if not missing(v["waited_s"]) and v["waited_s"] > 0]
    queue = max((sum(a <= t < b for a, b in intervals) for t, _ in intervals), default=0)

    revenue = sum((Decimal(p["captured"]) - Decimal(p["refunded"])
                   for p in rows(folder, "csms_payments")), Decimal(0))
    messages = rows(folder, "messages")
    latency = [m["latency_ms"] for m in messages if not missing(m["latency_ms"])]
    return {
        "sessions": len(sessions),
        "energy_kwh": energy_wh / 1000,
        "utilisation_pct": 100 * charging / (len(evses) * horizon),
        "peak_power_kw": peak / 1000,
        "average_power_kw": energy_wh / horizon * 3600 / 1000,
        "visits": len(visits),
        "visits_waited": sum(w > 0 for w in waits),
        "visits_abandoned": sum(v["outcome"] == "abandoned" for v in visits),
        "mean_wait_min": sum(waits) / len(waits) / 60,
        "max_wait_min": max(waits) / 60,
        "max_queue": queue,
        "revenue_eur": float(revenue),
        "notifications_sent": sum(n["state"] == "sent" for n in rows(folder,
                                                                     "csms_notifications")),
        "ocpp_messages": len(messages),
        "latency_p50_ms": percentile(latency, 50),
        "latency_p99_ms": percentile(latency, 99),
        "latency_max_ms": max(latency),
        "message_errors": sum(m["outcome"] != "ok" for m in messages),
    }


def cards(html: str) -> dict[str, str]:
    """KPI key -> the number a person sees on its card."""
    return dict(re.findall(r'data-kpi="(\w+)">.*?class="kpi-value">([^<]*)<', html, re.S))


def test_kpis_match_hand_computation(tiny_run: Path) -> None:
    expected = by_hand(tiny_run)
    # the run must exercise what is checked: queueing, payments, traffic
    assert expected["sessions"] >= 3 and expected["max_queue"] >= 1
    assert expected["revenue_eur"] > 0 and expected["visits_abandoned"] >= 1
    figures = run_kpis(load_run(tiny_run))
    for key, value in expected.items():
        assert figures[key] == pytest.approx(value, abs=0.006), key
    # and the simulator's own headline figures, computed elsewhere, agree
    summary = load_run(tiny_run).summary["kpis"]
    assert figures["peak_power_kw"] == pytest.approx(summary["peak_power_kw"], abs=1e-3)
    assert figures["energy_kwh"] == pytest.approx(summary["energy_kwh"], abs=1e-3)


def test_html_shows_the_figures_verdicts_and_plots(tiny_run: Path, tiny_report: Path) -> None:
    assert tiny_report == tiny_run / "report.html"
    html = tiny_report.read_text()
    expected = by_hand(tiny_run)
    shown = cards(html)
    assert shown["sessions"] == str(expected["sessions"])
    assert shown["energy_kwh"] == f"{expected['energy_kwh']:,.2f}"
    assert shown["max_queue"] == str(expected["max_queue"])
    assert shown["revenue_eur"] == f"{expected['revenue_eur']:,.2f}"
    assert shown["latency_p99_ms"] == f"{expected['latency_p99_ms']:,.2f}"
    assert 'id="verdict">PASSED<' in html
    assert html.count("<td class=\"passed\">passed</td>") == 2  # both expectations
    for plot in ("site_power", "occupancy", "soc", "latency", "message_rate"):
        assert f'id="plot-{plot}"><svg' in html, plot
    # the sessions table: one row per session
    sessions = html.split('id="sessions-table"')[1].split("</table>")[0]
    assert sessions.count("<tr>") == 1 + expected["sessions"]


def test_report_is_self_contained_and_repeatable(tiny_run: Path, tiny_report: Path) -> None:
    html = tiny_report.read_text()
    # nothing fetched: no external scripts, styles, images or fonts
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "@import" not in html and "url(http" not in html
    assert render_run(load_run(tiny_run)) == html  # same folder, same bytes


def test_bad_folders_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such run folder"):
        load_run(tmp_path / "absent")
    with pytest.raises(ReportError, match=r"manifest\.json and summary\.json missing"):
        load_run(tmp_path)
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "summary.json").write_text("[1, 2")
    with pytest.raises(ReportError, match=r"summary\.json: not valid JSON"):
        load_run(tmp_path)
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "sessions.parquet").write_text("not parquet")
    with pytest.raises(ReportError, match=r"sessions\.parquet: not a readable Parquet table"):
        render_run(load_run(tmp_path))


def test_notebook_result_renders_the_same_plots(tiny_run: Path) -> None:
    """``SimulationResult.figures()`` plots from memory what the report plots from the
    folder."""
    from reports import figures
    from reports.plots import svg
    from simulator.results import SimulationResult

    run = load_run(tiny_run)
    result = SimulationResult(scenario="tiny", seed=5,
                              tables={n: run.table(n) for n in run.table_names},
                              verdicts=[], kpis={}, run_folder=None)
    from_memory = result.figures()
    from_folder = figures(run)
    assert sorted(from_memory) == sorted(from_folder)
    # the plot that needs the run's start and length (inferred from memory) too
    assert svg(from_memory["site_power"]) == svg(from_folder["site_power"])
