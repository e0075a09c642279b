"""The frame trace: one record per frame in either direction, for run folders and reports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import orjson


@dataclass(frozen=True, slots=True)
class TraceRecord:
    direction: str  # "in" (received) or "out" (sent)
    identity: str  # the station id of the connection
    version: str  # the subprotocol, e.g. "ocpp2.0.1"
    wall_time: float  # Unix seconds
    sim_time: float | None  # simulation seconds, when a simulation clock is attached
    raw: str  # the frame as it travelled (binary frames are shown with \\x escapes)
    message_type: int | None
    message_id: str | None
    action: str | None
    outcome: str  # "ok", "lenient: ...", "invalid: ...", "malformed: ...", "ignored: ..."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


TraceHook = Callable[[TraceRecord], None]


class JsonlTraceWriter:
    """A trace hook that appends records to a JSON-lines file (``ocpp.jsonl`` of a run folder).

    Safe to share between sessions; ``close`` flushes.
    """

    def __init__(self, path: str | Path) -> None:
        self._file: IO[bytes] = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()

    def __call__(self, record: TraceRecord) -> None:
        line = orjson.dumps(record.to_dict()) + b"\n"
        with self._lock:
            self._file.write(line)

    def close(self) -> None:
        with self._lock:
            self._file.close()


def format_record(record: TraceRecord) -> str:
    """One human line per frame, for printed traces."""
    arrow = "<-" if record.direction == "in" else "->"
    note = "" if record.outcome == "ok" else f"   [{record.outcome}]"
    return f"{record.identity} {arrow} {record.raw}{note}"
