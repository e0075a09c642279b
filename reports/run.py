"""A run as reports see it: the manifest, the summary and the tables of a run folder, read once.

Reports read only what a run folder holds (``chargeloop/runs.py``), never live objects, so a
run can be reported later, elsewhere, or next to another. :class:`RunData` can also be built
from tables already in memory (a notebook's ``simulator.run(...)`` result), with the same
shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow.parquet as pq

from chargeloop.runs import MANIFEST, SUMMARY, TABLE_SUFFIX, TRACE


class ReportError(ValueError):
    """A run folder (or a set of them) that cannot be reported, with the reason and the
    place."""


@dataclass
class RunData:
    """One run: what ran (``manifest``), its verdicts and headline figures (``summary``) and
    its tables, loaded on first use."""

    name: str
    manifest: dict[str, Any]
    summary: dict[str, Any]
    path: Path | None = None
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _table_files: dict[str, Path] = field(default_factory=dict, repr=False)

    @classmethod
    def from_tables(cls, name: str, tables: Mapping[str, pd.DataFrame], *,
                    manifest: Mapping[str, Any] | None = None,
                    summary: Mapping[str, Any] | None = None) -> RunData:
        """A run from tables in memory (the same names and columns a run folder holds)."""
        return cls(name=name, manifest=dict(manifest or {}), summary=dict(summary or {}),
                   _tables=dict(tables))

    # -- what ran --

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind") or ("scenario" if "sessions" in self.table_names
                                                 else "run"))

    @property
    def title(self) -> str:
        return str(self.manifest.get("scenario") or self.manifest.get("name") or self.name)

    @property
    def start(self) -> datetime | None:
        """The simulated start (scenario runs), in UTC."""
        value = self.manifest.get("start")
        if not isinstance(value, str):
            return None
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    @property
    def horizon_s(self) -> float | None:
        """How long the run simulated, in seconds (scenario runs)."""
        value = self.manifest.get("duration_s")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    @property
    def verdicts(self) -> list[dict[str, Any]]:
        return list(self.summary.get("verdicts") or [])

    @property
    def passed(self) -> bool | None:
        """The run's verdict: ``None`` when the summary carries none."""
        for key in ("passed", "ok"):
            if isinstance(self.summary.get(key), bool):
                return bool(self.summary[key])
        return None

    # -- tables --

    @property
    def table_names(self) -> list[str]:
        return sorted(set(self._tables) | set(self._table_files))

    def has(self, name: str) -> bool:
        return name in self._tables or name in self._table_files

    def table(self, name: str) -> pd.DataFrame:
        """A table by name; an empty frame when the run has none of that name."""
        if name not in self._tables:
            path = self._table_files.get(name)
            if path is None:
                return pd.DataFrame()
            try:
                self._tables[name] = pq.read_table(path).to_pandas()
            except Exception as exc:  # any Arrow error: name the file
                raise ReportError(f"{path}: not a readable Parquet table ({exc})") from exc
        return self._tables[name]

    @property
    def trace_path(self) -> Path | None:
        if self.path is None:
            return None
        path = self.path / TRACE
        return path if path.is_file() else None


def load_run(path: Path | str) -> RunData:
    """Open a run folder for reporting. A folder without ``manifest.json`` and ``summary.json``
    (not a run, or one that has not finished) is a :class:`ReportError` naming what is
    missing."""
    path = Path(path)
    if not path.is_dir():
        raise ReportError(f"{path}: no such run folder (a folder under runs/, such as "
                          f"runs/20260105T070000Z-quickstart)")
    missing = [name for name in (MANIFEST, SUMMARY) if not (path / name).is_file()]
    if missing:
        raise ReportError(f"{path}: not a finished run folder: {' and '.join(missing)} "
                          f"missing (a run folder holds manifest.json, summary.json, "
                          f"ocpp.jsonl and Parquet tables)")
    documents = {}
    for name in (MANIFEST, SUMMARY):
        try:
            value = orjson.loads((path / name).read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ReportError(f"{path / name}: not valid JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise ReportError(f"{path / name}: a JSON object was expected, found "
                              f"{type(value).__name__}")
        documents[name] = value
    files = {p.name.removesuffix(TABLE_SUFFIX): p for p in sorted(path.glob("*" + TABLE_SUFFIX))}
    return RunData(name=path.name, manifest=documents[MANIFEST], summary=documents[SUMMARY],
                   path=path, _table_files=files)
