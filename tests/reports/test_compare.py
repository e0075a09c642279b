"""A vs B deltas with their direction, and sweeps over runs of one scenario."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reports import RunData, compare_runs, render_comparison, render_sweep, sweep, sweep_stats
from reports.run import ReportError


def small_run(name: str, *, seed: int, energy_wh: list[float], latency_ms: list[float],
              peak_w: float, scenario: str = "depot") -> RunData:
    sessions = pd.DataFrame({
        "station_id": "CS-1", "evse_id": 1, "transaction_id": [str(i) for i in
                                                               range(len(energy_wh))],
        "started_s": [600.0 * i for i in range(len(energy_wh))],
        "stopped_s": [600.0 * i + 300 for i in range(len(energy_wh))],
        "energy_wh": energy_wh})
    messages = pd.DataFrame({"station_id": "CS-1", "action": "Heartbeat", "direction": "out",
                             "t_s": [float(i) for i in range(len(latency_ms))],
                             "latency_ms": latency_ms, "outcome": "ok"})
    power = pd.DataFrame({"station_id": ["CS-1", "CS-1"], "evse_id": [1, 1],
                          "t_s": [0.0, 300.0], "power_w": [peak_w, 0.0]})
    return RunData.from_tables(name, {"sessions": sessions, "messages": messages,
                                      "power": power},
                               manifest={"kind": "scenario", "scenario": scenario,
                                         "seed": seed, "duration_s": 3600.0},
                               summary={"passed": True})


def test_deltas_say_which_way_is_better() -> None:
    a = small_run("a", seed=1, energy_wh=[1000, 1000], latency_ms=[10, 20, 30], peak_w=11000)
    b = small_run("b", seed=2, energy_wh=[1000, 2000], latency_ms=[5, 10, 15], peak_w=22000)
    deltas = {d.spec.key: d for d in compare_runs(a, b)}
    energy = deltas["energy_kwh"]
    assert (energy.a, energy.b, energy.change) == (2.0, 3.0, 1.0)
    assert energy.change_pct == pytest.approx(50.0)
    assert (energy.direction, energy.arrow) == ("better", "\u2191")
    assert deltas["latency_p50_ms"].direction == "better"  # 20 -> 10 ms: less is better
    assert deltas["latency_p50_ms"].arrow == "\u2193"
    assert deltas["peak_power_kw"].direction == "changed"  # no better way for peak power
    assert deltas["sessions"].direction == "same"
    assert deltas["message_errors"].direction == "same"

    worse = {d.spec.key: d for d in compare_runs(b, a)}
    assert worse["energy_kwh"].direction == "worse"
    assert worse["latency_p99_ms"].direction == "worse"

    html = render_comparison(a, b)
    row = html.split(">energy metered<")[1].split("</tr>")[0]
    assert ">+1.00<" in row and 'class="better"' in row


def test_sweep_lists_runs_and_statistics() -> None:
    runs = [small_run(f"r{i}", seed=i, energy_wh=[1000.0 * i], latency_ms=[float(i)],
                      peak_w=1000.0) for i in (1, 2, 3)]
    result = sweep(runs)
    assert result.parameters == ["seed"]
    assert list(result.table["seed"]) == [1, 2, 3]
    stats = sweep_stats(result).set_index("kpi")
    energy = stats.loc["energy_kwh"]
    assert (energy["mean"], energy["min"], energy["max"], energy["runs"]) == (2.0, 1.0, 3.0, 3)
    assert energy["sd"] == pytest.approx(1.0)
    assert energy["ci95"] == pytest.approx(4.303 * 1.0 / math.sqrt(3))  # t(0.975, 2 df)
    html = render_sweep(runs)
    assert "depot: 3 runs" in html and 'id="plot-sweep"' in html


def test_sweep_refuses_mixed_scenarios_and_single_runs() -> None:
    one = small_run("a", seed=1, energy_wh=[1.0], latency_ms=[1.0], peak_w=1.0)
    other = small_run("b", seed=1, energy_wh=[1.0], latency_ms=[1.0], peak_w=1.0,
                      scenario="highway")
    with pytest.raises(ReportError, match="runs of one scenario; these are of 2"):
        sweep([one, other])
    with pytest.raises(ReportError, match="at least two runs"):
        sweep([one])
