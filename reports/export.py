"""A run's tables, and its KPIs as one more table, written as CSV or Parquet for other tools
(spreadsheets, R, DuckDB)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.kpis import run_kpis, spec
from reports.run import RunData

KPI_TABLE = "kpis"


def kpi_frame(run: RunData) -> pd.DataFrame:
    """The KPIs as rows: key, label, value, unit, which way is better."""
    return pd.DataFrame([{"kpi": key, "label": spec(key).label, "value": float(value),
                          "unit": spec(key).unit, "better": spec(key).better or ""}
                         for key, value in run_kpis(run).items()],
                        columns=["kpi", "label", "value", "unit", "better"])


def export_tables(run: RunData, *, csv_dir: Path | None = None,
                  parquet_dir: Path | None = None) -> list[Path]:
    """Write every table of the run plus ``kpis`` to ``csv_dir`` (``<table>.csv``) and/or
    ``parquet_dir`` (``<table>.parquet``); returns the files written."""
    written: list[Path] = []
    frames = {name: run.table(name) for name in run.table_names}
    frames[KPI_TABLE] = kpi_frame(run)
    for directory, suffix in ((csv_dir, ".csv"), (parquet_dir, ".parquet")):
        if directory is None:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            path = directory / f"{name}{suffix}"
            if suffix == ".csv":
                frame.to_csv(path, index=False)
            else:
                frame.to_parquet(path, index=False, compression="zstd")
            written.append(path)
    return written
