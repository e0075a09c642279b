"""Two runs side by side (A vs B), and many runs of one scenario (a sweep).

A delta has a direction: *better* or *worse* where the KPI says which way is better (less
latency, more energy), *changed* where it does not (peak power), *same* when equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reports.kpis import KpiSpec, run_kpis, spec
from reports.run import ReportError, RunData


@dataclass(frozen=True)
class Delta:
    spec: KpiSpec
    a: float | None
    b: float | None

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def change_pct(self) -> float | None:
        change = self.change
        if change is None or not self.a:
            return None
        return 100 * change / abs(self.a)

    @property
    def direction(self) -> str:
        """``better``, ``worse``, ``changed``, ``same`` or ``only A`` / ``only B``."""
        if self.a is None:
            return "only B"
        if self.b is None:
            return "only A"
        change = self.change or 0.0
        if abs(change) < 10 ** -(self.spec.digits + 1):
            return "same"
        if self.spec.better is None:
            return "changed"
        return "better" if (change > 0) == (self.spec.better == "higher") else "worse"

    @property
    def arrow(self) -> str:
        change = self.change
        if change is None or self.direction == "same":
            return "="
        return "\u2191" if change > 0 else "\u2193"


def compare_runs(a: RunData, b: RunData) -> list[Delta]:
    """Every KPI either run has, A's value, B's value and the direction of the change."""
    ka, kb = run_kpis(a), run_kpis(b)
    keys = list(ka) + [k for k in kb if k not in ka]
    return [Delta(spec(k), _number(ka.get(k)), _number(kb.get(k))) for k in keys]


@dataclass
class Sweep:
    table: pd.DataFrame  # one row per run: run, the swept parameters, passed, the KPIs
    parameters: list[str]  # manifest settings that differ between the runs
    kpis: list[str]


def sweep(runs: list[RunData]) -> Sweep:
    """One row per run: the manifest settings that differ between the runs (the swept
    parameters: seed, duration, ...), the verdict, then every KPI. All runs must be of one
    scenario (or suite)."""
    if len(runs) < 2:
        raise ReportError("a sweep needs at least two runs of one scenario")
    titles = {run.title for run in runs}
    if len(titles) > 1:
        listed = ", ".join(f"{run.name} ({run.title})" for run in runs)
        raise ReportError(f"a sweep compares runs of one scenario; these are of "
                          f"{len(titles)}: {listed}")
    parameters = _varying(runs)
    rows, kpis = [], []
    for run in runs:
        row: dict[str, Any] = {"run": run.name}
        row.update({p: _flat(run.manifest.get(p)) for p in parameters})
        row["passed"] = run.passed
        figures = run_kpis(run)
        kpis += [k for k in figures if k not in kpis]
        row.update(figures)
        rows.append(row)
    return Sweep(pd.DataFrame(rows), parameters, kpis)


# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom (beyond: normal).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def sweep_stats(result: Sweep) -> pd.DataFrame:
    """Per KPI over the sweep: mean, standard deviation, min, max, and the half-width of the
    95 % confidence interval of the mean (replications of a stochastic model)."""
    rows = []
    for key in result.kpis:
        values = result.table[key].dropna().to_numpy(float)
        if not len(values):
            continue
        n = len(values)
        sd = float(values.std(ddof=1)) if n > 1 else 0.0
        t = _T95[n - 2] if 1 < n <= len(_T95) + 1 else 1.960
        rows.append({"kpi": key, "label": spec(key).label, "unit": spec(key).unit,
                     "mean": float(values.mean()), "sd": sd, "min": float(values.min()),
                     "max": float(values.max()),
                     "ci95": t * sd / float(np.sqrt(n)) if n > 1 else 0.0, "runs": n})
    return pd.DataFrame(rows)


_IGNORED = {"run_id", "created_at", "platform", "python_version", "versions", "finished_at",
            "chargeloop_version", "url"}


def _varying(runs: list[RunData]) -> list[str]:
    keys: list[str] = []
    for run in runs:
        keys += [k for k in run.manifest if k not in keys and k not in _IGNORED]
    return [k for k in keys if len({repr(_flat(run.manifest.get(k))) for run in runs}) > 1]


def _flat(value: Any) -> Any:
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, sort_keys=True)
    return value


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
