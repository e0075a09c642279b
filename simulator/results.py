"""What a scenario run produced: its tables as pandas DataFrames, its KPIs and the verdicts of
its expectations, and the run folder they were written to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.expectations import NOT_CHECKABLE, PASSED, Verdict
from simulator.power_series import peak_w


@dataclass
class SimulationResult:
    scenario: str
    seed: int
    tables: dict[str, pd.DataFrame]
    verdicts: list[Verdict]
    kpis: dict[str, Any]
    run_folder: Path | None = None
    lateness: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every expectation held (one that could not be checked does not hold)."""
        return all(v.status == PASSED for v in self.verdicts)

    @property
    def sessions(self) -> pd.DataFrame:
        return self.tables["sessions"]

    @property
    def meter_values(self) -> pd.DataFrame:
        return self.tables["meter_values"]

    @property
    def statuses(self) -> pd.DataFrame:
        return self.tables["status_changes"]

    @property
    def events(self) -> pd.DataFrame:
        return self.tables["events"]

    @property
    def visits(self) -> pd.DataFrame:
        return self.tables["visits"]

    def figures(self) -> dict[str, Any]:
        """The run report's plots as matplotlib figures, by name (``site_power``,
        ``occupancy``, ``soc``, ``latency``, ``message_rate``, ...): a notebook shows each as it
        is, ``fig.savefig("power.pdf")`` keeps one for a paper. Made by ``reports`` from this
        result's tables, exactly as ``chargeloop report`` makes them from the run folder."""
        from reports import figures

        return figures(self.report_data())

    def report_data(self) -> Any:
        """This result as ``reports.RunData`` (the run folder's shape, from memory), for
        ``reports.run_kpis(...)``, ``reports.render_run(...)`` and the plots."""
        from reports import RunData

        manifest: dict[str, Any] = {"kind": "scenario", "scenario": self.scenario,
                                    "seed": self.seed}
        if self.run_folder is not None and (self.run_folder / "manifest.json").is_file():
            import orjson

            manifest = orjson.loads((self.run_folder / "manifest.json").read_bytes())
        else:
            manifest.update(self._inferred_context())
        return RunData.from_tables(self.scenario, self.tables, manifest=manifest,
                                   summary=self.summary())

    def _inferred_context(self) -> dict[str, Any]:
        """Start and length of a run written nowhere, read off its tables: the start from any
        row with both simulation seconds and UTC time; the length up to the last message
        (heartbeats run to the end, so at most one interval short)."""
        found: dict[str, Any] = {}
        messages = self.tables.get("messages")
        if messages is not None and len(messages) and "t_utc" in messages:
            first = messages.iloc[0]
            start = pd.Timestamp(first["t_utc"]) - pd.to_timedelta(first["t_s"], unit="s")
            found["start"] = start.isoformat()
            found["duration_s"] = float(messages["t_s"].max())
        return found

    def summary(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seed": self.seed, "passed": self.passed,
                "kpis": self.kpis, "lateness": self.lateness,
                "verdicts": [{"kind": v.kind, "status": v.status, "expected": v.expected,
                              "observed": v.observed, "location": v.location}
                             for v in self.verdicts]}


def kpis(tables: dict[str, pd.DataFrame], duration_s: float, evses: int) -> dict[str, Any]:
    """The run's headline figures (reports compute the rest from the tables)."""
    sessions, visits = tables["sessions"], tables["visits"]
    messages, power = tables["messages"], tables.get("power", pd.DataFrame())
    energy_wh = float(sessions["energy_wh"].sum()) if len(sessions) else 0.0
    charging_s = _charging_seconds(sessions, duration_s)
    latencies = messages["latency_ms"].dropna() if len(messages) else pd.Series(dtype=float)
    outcomes = visits["outcome"].value_counts().to_dict() if len(visits) else {}
    return {
        "sessions": len(sessions),
        "energy_kwh": round(energy_wh / 1000, 3),
        "visits": len(visits),
        "visit_outcomes": {str(k): int(v) for k, v in sorted(outcomes.items())},
        "mean_wait_min": round(float(visits["waited_s"].dropna().mean()) / 60, 2)
        if len(visits) and visits["waited_s"].notna().any() else 0.0,
        "utilisation": round(charging_s / (evses * duration_s), 4) if evses else 0.0,
        "peak_power_kw": round(peak_w(power) / 1000, 3),
        "ocpp_messages": len(messages),
        "messages_by_action": {str(k): int(v) for k, v in sorted(
            messages["action"].value_counts().to_dict().items())} if len(messages) else {},
        "latency_ms": {"p50": _pct(latencies, 50), "p99": _pct(latencies, 99),
                       "max": round(float(latencies.max()), 2) if len(latencies) else None},
        "message_outcomes": {str(k): int(v) for k, v in sorted(
            messages["outcome"].value_counts().to_dict().items())} if len(messages) else {},
    }


def summarise(verdicts: list[Verdict]) -> str:
    held = sum(v.status == PASSED for v in verdicts)
    unknown = sum(v.status == NOT_CHECKABLE for v in verdicts)
    return f"{held}/{len(verdicts)} expectations held" + (
        f", {unknown} not checkable" if unknown else "")


def _charging_seconds(sessions: pd.DataFrame, duration_s: float) -> float:
    if not len(sessions):
        return 0.0
    stopped = sessions["stopped_s"].fillna(duration_s).clip(upper=duration_s)
    return float((stopped - sessions["started_s"]).clip(lower=0).sum())


def _pct(values: pd.Series, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if len(values) else None
