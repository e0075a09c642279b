"""Run folders -> tables -> KPIs -> plots -> one self-contained HTML report; comparisons of two
runs, sweeps over many; CSV and Parquet exports.

    from reports import load_run, write_report
    write_report("runs/20260105T000000Z-quickstart")     # -> .../report.html
"""

from reports.compare import Delta, Sweep, compare_runs, sweep, sweep_stats
from reports.export import export_tables
from reports.html import (
    render_comparison,
    render_run,
    render_sweep,
    write_comparison,
    write_report,
    write_sweep,
)
from reports.kpis import evse_table, run_kpis, station_table
from reports.plots import figures
from reports.run import ReportError, RunData, load_run

__all__ = [
    "Delta", "ReportError", "RunData", "Sweep", "compare_runs", "evse_table", "export_tables",
    "figures", "load_run", "render_comparison", "render_run", "render_sweep", "run_kpis",
    "station_table", "sweep", "sweep_stats", "write_comparison", "write_report", "write_sweep",
]
