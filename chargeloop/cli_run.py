"""``chargeloop run``: run scenarios (a file, a folder of them as a suite, or a shipped
scenario by name), with a progress bar, a summary, expectation verdicts, an exit code for CI and
JUnit XML."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from simulator.results import SimulationResult
    from simulator.scenario.spec import ScenarioSpec

console = Console()
err_console = Console(stderr=True)

BAD_INPUT_EXIT = 2
STATUS_STYLE = {"passed": "green", "failed": "bold red", "not_checkable": "yellow"}


def run(
    scenarios: Annotated[list[str], typer.Argument(
        help="Scenario files, folders of them (a suite), or names of shipped scenarios "
             "(quickstart, workplace-ac, ...).", show_default=False)],
    csms_url: Annotated[str | None, typer.Option(
        "--csms-url", help="Run against this CSMS instead (ws:// or wss://; each station's id "
                           "is appended to the path).")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    speed: Annotated[float | None, typer.Option(
        help="Simulated seconds per wall second (1 = real time). Default: the scenario's; "
             "against --csms-url a scenario written as fast as possible runs at 60.")] = None,
    duration: Annotated[str | None, typer.Option(
        help="Override the scenario's duration (90s, 15m, 8h, 1d).")] = None,
    out: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here (for CI).")] = None,
    allow_unchecked: Annotated[bool, typer.Option(
        help="Do not fail on expectations that cannot be checked against an external "
             "CSMS.")] = False,
) -> None:
    """Run scenarios against the reference CSMS (default) or any CSMS; exit 0 only if every
    expectation holds."""
    from simulator.scenario import ScenarioError, parse_duration

    try:
        files = resolve_scenarios(scenarios)
        specs = [load(path, seed=seed, speed=speed, csms_url=csms_url,
                      duration_s=parse_duration(duration) if duration else None)
                 for path in files]
    except (ScenarioError, ValueError, FileNotFoundError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(BAD_INPUT_EXIT) from exc
    results: list[tuple[ScenarioSpec, SimulationResult, float]] = []
    for spec in specs:
        started = time.monotonic()
        results.append((spec, _run_one(spec, out), time.monotonic() - started))
    _show(results)
    if junit is not None:
        _write_junit(junit, results, allow_unchecked)
        console.print(f"JUnit XML: {junit}")
    failed = [spec.name for spec, result, _ in results if not _held(result, allow_unchecked)]
    if failed:
        err_console.print(f"[bold red]{len(failed)} of {len(results)} scenarios failed:[/] "
                          f"{', '.join(failed)}")
        raise typer.Exit(1)


def resolve_scenarios(names: list[str]) -> list[Path]:
    from simulator.library import scenario_path

    files: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
            if not found:
                raise FileNotFoundError(f"{name}: a folder with no .yaml scenarios in it")
            files.extend(found)
        else:
            files.append(path if path.exists() else scenario_path(name))
    return files


def load(path: Path, *, seed: int | None, speed: float | None, csms_url: str | None,
         duration_s: float | None) -> ScenarioSpec:
    from dataclasses import replace

    from simulator.engine import with_url
    from simulator.scenario import load_scenario

    spec = load_scenario(path)
    if seed is not None:
        spec = replace(spec, seed=seed)
    if duration_s is not None:
        spec = replace(spec, duration_s=duration_s)
    if speed is not None and not speed > 0:
        raise ValueError(f"--speed {speed}: must be > 0 (1 is real time)")
    if csms_url is not None:
        return with_url(spec, csms_url, speed)
    if speed is not None:
        spec = replace(spec, speed=speed)
    return spec


def _run_one(spec: ScenarioSpec, out: Path) -> SimulationResult:
    from simulator.engine import run_scenario

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.fields[sim]}"), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        task = bar.add_task(spec.name, total=spec.duration_s, sim="")

        def progress(done: float, total: float) -> None:
            bar.update(task, completed=done, sim=f"{done / 3600:.1f} of {total / 3600:.1f} h")

        result = asyncio.run(run_scenario(spec, runs_root=out, progress=progress))
    if result.run_folder is not None:
        from reports import write_report

        report = write_report(result.run_folder)  # the run folder's report.html
        console.print(f"report: {report}")
    return result


def _held(result: SimulationResult, allow_unchecked: bool) -> bool:
    return all(v.status == "passed" or (allow_unchecked and v.status == "not_checkable")
               for v in result.verdicts)


def _show(results: list[tuple[ScenarioSpec, SimulationResult, float]]) -> None:
    summary = Table(title="Scenarios")
    for column in ("scenario", "stations", "sessions", "energy kWh", "messages", "p99 ms",
                   "wall s", "expectations", "run folder"):
        summary.add_column(column, justify="left" if column in ("scenario", "expectations",
                                                                 "run folder") else "right")
    for spec, result, seconds in results:
        k = result.kpis
        held = sum(v.status == "passed" for v in result.verdicts)
        style = "green" if result.passed else "bold red"
        summary.add_row(spec.name, str(len(spec.stations)), str(k["sessions"]),
                        f"{k['energy_kwh']:.1f}", str(k["ocpp_messages"]),
                        str(k["latency_ms"]["p99"]), f"{seconds:.1f}",
                        f"[{style}]{held}/{len(result.verdicts)}[/]",
                        str(result.run_folder or ""))
    console.print(summary)
    for spec, result, _ in results:
        late = result.lateness
        if spec.speed is not None and late.get("steps"):
            # paced runs: how far behind the wall clock the simulation fell
            console.print(f"{spec.name}: clock lateness p50 {late['p50_ms']:.1f} ms, "
                          f"p99 {late['p99_ms']:.1f} ms, max {late['max_ms']:.1f} ms "
                          f"over {late['steps']:,} steps at speed {spec.speed:g}")
    for spec, result, _ in results:
        if not result.verdicts:
            continue
        table = Table(title=f"{spec.name}: expectations")
        for column in ("expectation", "verdict", "expected", "observed", "where"):
            table.add_column(column)
        for v in result.verdicts:
            where = Path(v.location).name if v.location else ""  # file:line, short
            table.add_row(v.kind, f"[{STATUS_STYLE[v.status]}]{v.status}[/]", v.expected,
                          escape(v.observed), where)
        console.print(table)


def _write_junit(path: Path, results: list[tuple[ScenarioSpec, SimulationResult, float]],
                 allow_unchecked: bool) -> None:
    from chargeloop.junit import Case, Suite, write_junit

    suites = []
    for spec, result, seconds in results:
        cases = []
        for v in result.verdicts:
            outcome = {"passed": "passed", "failed": "failed"}.get(
                v.status, "skipped" if allow_unchecked else "failed")
            cases.append(Case(name=f"{v.kind} ({v.location})" if v.location else v.kind,
                              outcome=outcome,  # type: ignore[arg-type]
                              message=f"expected {v.expected}; observed {v.observed}",
                              details=f"{v.status}: {v.observed}"))
        suites.append(Suite(name=spec.name, cases=cases, seconds=seconds))
    write_junit(path, suites)
