"""Run folders: what every run (scenario, suite, load test, HIL session) leaves behind.

One folder per run, ``runs/<UTC stamp>-<name>/``::

    manifest.json   what ran: versions, kind, seed, configuration, scenario text hash, ...
    ocpp.jsonl      the frame trace (one TraceRecord per line)
    <table>.parquet result tables (sessions, meter_values, status_changes, alerts, ...)
    summary.json    KPIs and verdicts
    report.html     written by ``reports``

``reports`` reads only this, never live objects, so a run can be reported later, elsewhere, or
compared with another. JSON files are written with sorted keys and Parquet files without
timestamps, so the same results give the same bytes; every file is written to a temporary name
and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import chargeloop
from chargeloop.ocppj.trace import JsonlTraceWriter

DEFAULT_ROOT = Path("runs")
MANIFEST = "manifest.json"
SUMMARY = "summary.json"
TRACE = "ocpp.jsonl"
REPORT = "report.html"
TABLE_SUFFIX = ".parquet"

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Distributions whose versions go into every manifest (those that shape results).
_VERSIONED = ("ocpp", "simpy", "numpy", "pandas", "pyarrow", "websockets", "jsonschema-rs")
_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | \
    orjson.OPT_APPEND_NEWLINE


def utc_stamp(moment: datetime) -> str:
    """``20261121T123456Z`` for a moment (naive moments are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)


def safe_name(name: str) -> str:
    """``name`` as a folder-name part: runs of other characters than letters, digits, ``.``,
    ``_`` and ``-`` become ``-``."""
    cleaned = _UNSAFE.sub("-", name).strip("-.")
    if not cleaned:
        raise ValueError(f"run name {name!r} has nothing usable in a folder name")
    return cleaned


def text_sha256(text: str | bytes) -> str:
    """The hash run manifests record for a configuration text (a scenario file, say)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if hasattr(value, "isoformat"):  # pandas Timestamp, date, time
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars orjson does not take natively
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def dumps_json(value: Any) -> bytes:
    """JSON as run folders write it: sorted keys, indent 2, newline at the end."""
    return orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS)


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def _atomic(path: Path) -> Iterator[IO[bytes]]:
    """A file written under a temporary name next to ``path`` and renamed over it when done."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RunFolder:
    """One run's folder. Make a new one with :meth:`create`, open an existing one with
    :meth:`open`."""

    def __init__(self, path: Path, *, kind: str | None = None,
                 created_at: datetime | None = None) -> None:
        self.path = path
        self.kind = kind
        self.created_at = created_at
        self._writers: list[JsonlTraceWriter] = []

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def name(self) -> str:
        """The folder's name, ``<UTC stamp>-<name>[-N]``: the run's id."""
        return self.path.name

    # -- making and opening --

    @classmethod
    def create(cls, root: Path | str = DEFAULT_ROOT, name: str = "", *, kind: str,
               clock_start: datetime | None = None) -> RunFolder:
        """Make ``<root>/<UTC stamp>-<name>/`` (``-2``, ``-3``, ... appended if taken).

        ``kind`` says what runs (``scenario``, ``suite``, ``loadtest``, ``hil``, ...);
        ``clock_start`` is the wall-clock moment the run started (default: now), which names the
        folder and is the manifest's ``created_at``. ``name`` is required; characters a folder
        name should not hold become ``-``.
        """
        if not name:
            raise ValueError("a run needs a name: RunFolder.create(root, name, kind=...)")
        moment = clock_start or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        base = f"{utc_stamp(moment)}-{safe_name(name)}"
        for n in range(1, 10_000):
            path = root / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()  # atomic: two runs starting in the same second get different names
            except FileExistsError:
                continue
            return cls(path, kind=kind, created_at=moment.astimezone(UTC))
        raise FileExistsError(f"too many runs named {base} in {root}")

    @classmethod
    def open(cls, path: Path | str) -> RunFolder:
        """An existing run folder, for reading (reports) or adding to."""
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"no run folder at {path}")
        folder = cls(path)
        manifest = folder.manifest() if (path / MANIFEST).is_file() else {}
        folder.kind = manifest.get("kind")
        if isinstance(manifest.get("created_at"), str):
            folder.created_at = datetime.fromisoformat(manifest["created_at"])
        return folder

    def file(self, name: str) -> Path:
        """The path of a file in the folder (``report.html``, say)."""
        return self.path / name

    # -- manifest and summary --

    def write_manifest(self, data: Mapping[str, Any] | None = None) -> Path:
        """Write ``manifest.json``: chargeloop, Python and key library versions, platform, kind,
        created_at and run id, then whatever the caller adds (seed, configuration, scenario
        text hash, ...). Calling it again merges into what is there, so a run can add its end
        (``finished_at``, say) to what it wrote at its start."""
        current = self.manifest() if self.file(MANIFEST).is_file() else {}
        manifest: dict[str, Any] = {
            **current,
            "chargeloop_version": chargeloop.__version__,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "versions": dict(_library_versions()),
            "run_id": self.name,
        }
        if self.kind is not None:
            manifest["kind"] = self.kind
        if self.created_at is not None:
            manifest["created_at"] = _iso_utc(self.created_at)
        manifest.update(data or {})
        return self._write_bytes(MANIFEST, dumps_json(manifest))

    def manifest(self) -> dict[str, Any]:
        return orjson.loads(self.file(MANIFEST).read_bytes())

    def write_summary(self, data: Mapping[str, Any]) -> Path:
        """Write ``summary.json`` (KPIs and verdicts), replacing any earlier one."""
        return self._write_bytes(SUMMARY, dumps_json(dict(data)))

    def summary(self) -> dict[str, Any]:
        return orjson.loads(self.file(SUMMARY).read_bytes())

    # -- trace --

    def trace_writer(self) -> JsonlTraceWriter:
        """A trace hook appending to ``ocpp.jsonl``; :meth:`close` closes the ones made here."""
        writer = JsonlTraceWriter(self.file(TRACE))
        self._writers.append(writer)
        return writer

    def close(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tables --

    def write_table(self, name: str, data: pd.DataFrame | Sequence[Mapping[str, Any]], *,
                    schema: pa.Schema | None = None) -> Path:
        """Write ``<name>.parquet`` from a DataFrame or a list of dicts (rows).

        An empty list still gives a file, with no rows (and ``schema``'s columns when given, so
        readers find the columns they expect). A DataFrame's index is kept when it is not the
        default one. ``schema`` also fixes column types when inference would guess.
        """
        if not _TABLE_NAME.match(name):
            raise ValueError(f"table name {name!r}: use letters, digits, '_', '.' and '-'")
        table = _to_arrow(data, schema)
        with _atomic(self.file(name + TABLE_SUFFIX)) as file:
            pq.write_table(table, file, compression="zstd")
        return self.file(name + TABLE_SUFFIX)

    def read_table(self, name: str) -> pd.DataFrame:
        return pq.read_table(self.file(name + TABLE_SUFFIX)).to_pandas()

    def tables(self) -> list[str]:
        """Names of the tables in the folder, sorted."""
        return sorted(p.name.removesuffix(TABLE_SUFFIX)
                      for p in self.path.glob("*" + TABLE_SUFFIX))

    # -- helpers --

    def _write_bytes(self, name: str, data: bytes) -> Path:
        path = self.file(name)
        with _atomic(path) as file:
            file.write(data)
        return path


def _to_arrow(data: pd.DataFrame | Sequence[Mapping[str, Any]],
              schema: pa.Schema | None) -> pa.Table:
    if not isinstance(data, pd.DataFrame):
        if not data:
            return (schema or pa.schema([])).empty_table()
        # Through pandas, so rows with different keys give the union of columns in order of
        # first appearance, read-back equals pd.DataFrame(rows), and rows and the DataFrame
        # made of them give the same bytes.
        data = pd.DataFrame.from_records(list(data))
    return pa.Table.from_pandas(data, schema=schema, preserve_index=None)


@cache
def _library_versions() -> dict[str, str]:
    found = {}
    for dist in _VERSIONED:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return found
