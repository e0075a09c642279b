"""``chargeloop report``: a run folder as one self-contained HTML file; two runs compared; many
runs of one scenario as a sweep; tables exported as CSV or Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

if TYPE_CHECKING:
    from reports.run import RunData

console = Console()
err_console = Console(stderr=True)

BAD_INPUT_EXIT = 2
DIRECTION_STYLE = {"better": "green", "worse": "bold red", "changed": "yellow"}


def report(
    runs: Annotated[list[Path], typer.Argument(
        metavar="RUN",
        help="A run folder (runs/<stamp>-<name>); several, or a folder of run folders, for a "
             "sweep over runs of one scenario.", show_default=False)],
    compare: Annotated[Path | None, typer.Option(
        "--compare", help="Compare RUN (A) with this run folder (B): deltas with direction.")]
    = None,
    out: Annotated[Path | None, typer.Option(
        help="Where the HTML goes. Default: RUN/report.html; RUN/compare-<B>.html with "
             "--compare; sweep-<scenario>.html here for a sweep.")] = None,
    csv: Annotated[Path | None, typer.Option(
        "--csv", help="Also write every table and the KPIs as CSV files into this folder.")]
    = None,
    parquet: Annotated[Path | None, typer.Option(
        "--parquet", help="Also write every table and the KPIs as Parquet into this folder.")]
    = None,
) -> None:
    """Render run folders as HTML reports (verdicts, KPIs, plots, sessions, conformance
    traces), compare two runs, or sweep many; export tables."""
    from reports import ReportError

    try:
        folders = _expand(runs)
        if compare is not None and len(folders) != 1:
            raise ReportError(f"--compare takes one run as A; {len(folders)} were given")
        loaded = _load(folders)
        if compare is not None:
            _compare(loaded[0], compare, out)
        elif len(loaded) == 1:
            _single(loaded[0], out)
        else:
            _sweep(loaded, out)
        if csv is not None or parquet is not None:
            _export(loaded, csv, parquet)
    except (ReportError, OSError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(BAD_INPUT_EXIT) from exc


def _expand(paths: list[Path]) -> list[Path]:
    """Run folders as given; a folder that is not a run but holds runs stands for them all."""
    from chargeloop.runs import MANIFEST
    from reports import ReportError

    folders: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise ReportError(f"{path}: no such run folder")
        if (path / MANIFEST).is_file():
            folders.append(path)
            continue
        inside = sorted(p for p in path.iterdir() if (p / MANIFEST).is_file())
        if not inside:
            raise ReportError(f"{path}: neither a run folder (no manifest.json) nor a folder "
                              f"of run folders")
        folders.extend(inside)
    return folders


def _load(folders: list[Path]) -> list[RunData]:
    from reports import load_run

    if len(folders) == 1:
        return [load_run(folders[0])]
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("reading runs", total=len(folders))
        loaded = []
        for folder in folders:
            loaded.append(load_run(folder))
            bar.advance(task)
    return loaded


def _single(run: RunData, out: Path | None) -> None:
    from chargeloop.runs import REPORT
    from reports import render_run, run_kpis
    from reports.html import number, write_html
    from reports.kpis import spec

    assert run.path is not None
    target = out or run.path / REPORT
    with console.status(f"rendering {run.name}"):
        write_html(target, render_run(run))
    table = Table(title=f"{run.title}: {run.kind} run {run.name}")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for key, value in run_kpis(run).items():
        table.add_row(spec(key).label, number(value, spec(key).digits), spec(key).unit)
    console.print(table)
    verdict = {True: "[green]passed[/]", False: "[bold red]failed[/]",
               None: "no verdict"}[run.passed]
    console.print(f"verdict: {verdict}")
    console.print(f"report: {target}")


def _compare(a: RunData, other: Path, out: Path | None) -> None:
    from reports import compare_runs, load_run, render_comparison
    from reports.html import number, write_html

    b = load_run(other)
    assert a.path is not None
    target = out or a.path / f"compare-{b.name}.html"
    write_html(target, render_comparison(a, b))
    table = Table(title=f"A {a.name} vs B {b.name}")
    for column in ("KPI", "A", "B", "change", "direction"):
        table.add_column(column, justify="right" if column in ("A", "B", "change") else "left")
    for delta in compare_runs(a, b):
        digits = delta.spec.digits
        change = "" if delta.change is None else f"{delta.change:+,.{digits}f}"
        style = DIRECTION_STYLE.get(delta.direction, "dim")
        table.add_row(delta.spec.label, number(delta.a, digits), number(delta.b, digits),
                      change, f"[{style}]{delta.arrow} {delta.direction}[/]")
    console.print(table)
    console.print(f"comparison: {target}")


def _sweep(runs: list[RunData], out: Path | None) -> None:
    from chargeloop.runs import safe_name
    from reports import render_sweep, sweep, sweep_stats
    from reports.html import write_html

    target = out or Path(f"sweep-{safe_name(runs[0].title)}.html")
    with console.status(f"rendering a sweep of {len(runs)} runs"):
        write_html(target, render_sweep(runs))
    stats = sweep_stats(sweep(runs))
    table = Table(title=f"{runs[0].title}: {len(runs)} runs")
    for column in ("KPI", "mean", "± ci95", "min", "max"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for row in stats.itertuples():
        table.add_row(row.label, f"{row.mean:,.3g}", f"{row.ci95:,.3g}", f"{row.min:,.3g}",
                      f"{row.max:,.3g}")
    console.print(table)
    console.print(f"sweep: {target}")


def _export(runs: list[RunData], csv: Path | None, parquet: Path | None) -> None:
    from reports import export_tables

    for run in runs:
        # one run: straight into the folder; several: a subfolder per run
        csv_dir = csv if csv is None or len(runs) == 1 else csv / run.name
        parquet_dir = parquet if parquet is None or len(runs) == 1 else parquet / run.name
        written = export_tables(run, csv_dir=csv_dir, parquet_dir=parquet_dir)
        console.print(f"{run.name}: {len(written)} files in "
                      f"{', '.join(str(d) for d in (csv_dir, parquet_dir) if d)}")


app = typer.Typer(help="Render run folders as HTML reports.", add_completion=False)
app.command("report")(report)
