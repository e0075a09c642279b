"""SimPy models of vehicles, drivers, charging stations, meters, sites and faults; scenario
loading; backends (the in-process reference CSMS or any CSMS by URL).

For notebooks::

    import simulator
    result = simulator.run("quickstart", seed=7)
    result.sessions          # pandas DataFrames: sessions, meter_values, statuses, events, ...
    result.verdicts          # the scenario's expectations, checked
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.results import SimulationResult


def run(scenario: str | Path, *, seed: int | None = None, csms_url: str | None = None,
        speed: float | None = None, runs_root: Path | None = Path("runs")
        ) -> SimulationResult:
    """Run a scenario file (or a shipped scenario by name) and return its result.

    Works in a plain interpreter and in Jupyter (whose event loop is already running: the run
    then gets a loop of its own on a worker thread).
    """
    from simulator.engine import run_scenario, with_url
    from simulator.library import scenario_path
    from simulator.scenario import load_scenario

    path = Path(scenario)
    spec = load_scenario(path if path.exists() else scenario_path(str(scenario)))
    if seed is not None:
        spec = replace(spec, seed=seed)
    if csms_url is not None:
        spec = with_url(spec, csms_url, speed)
    elif speed is not None:
        spec = replace(spec, speed=speed)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_scenario(spec, runs_root=runs_root))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run_scenario(spec, runs_root=runs_root)).result()


__all__ = ["run"]
