"""What the stations did, as tables: one shared :class:`Recorder` for a whole run.

Tables are kept column by column (a list per column): a long run with thousands of stations
records millions of meter values and messages, and a dict per row would cost ten times the
memory. :meth:`Recorder.rows` gives plain dicts, :meth:`Recorder.frame` a pandas DataFrame; both
add a UTC ISO column beside every simulation-time column when the recorder knows the start.

Nothing here depends on wall time except ``messages.latency_ms``, so the same seed gives
identical tables (compare without that column).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from chargeloop.clock import iso_utc

TABLES: dict[str, tuple[str, ...]] = {
    "sessions": ("station_id", "evse_id", "connector_id", "transaction_id", "id_token",
                 "started_s", "stopped_s", "energy_wh", "meter_start_wh", "meter_stop_wh",
                 "stop_reason", "started_offline", "vehicle_model", "soc_start", "soc_end",
                 "needed_wh"),
    "meter_values": ("station_id", "evse_id", "transaction_id", "t_s", "context", "energy_wh",
                     "power_w"),
    "status_changes": ("station_id", "evse_id", "connector_id", "t_s", "status", "error_code"),
    "messages": ("station_id", "action", "direction", "t_s", "latency_ms", "outcome"),
    "events": ("station_id", "t_s", "kind", "detail"),
    # one row each time an EVSE's delivered power changes: the exact step function
    "power": ("station_id", "evse_id", "t_s", "power_w"),
}
# simulation-time columns and the UTC ISO column added beside each
TIME_COLUMNS = {"started_s": "started_utc", "stopped_s": "stopped_utc", "t_s": "t_utc"}
WALL_TIME_COLUMNS = frozenset({"latency_ms"})  # the only ones that differ between equal runs

# queued: held while offline, replayed: sent after the reconnect; dropped: not sent, as the
# protocol wants offline (statuses, heartbeats) or no longer needed; lost: a held message pushed
# out of a full offline queue, so the CSMS never hears of it
OUTCOMES = ("ok", "call_error", "timeout", "queued", "replayed", "dropped", "lost")


class Recorder:
    """Rows of the tables above; ``messages=False`` keeps no message rows (large fleets)."""

    def __init__(self, start_utc: datetime | None = None, *, messages: bool = True) -> None:
        self.start_utc = None if start_utc is None else start_utc.astimezone(UTC)
        self.keep_messages = messages
        self._columns: dict[str, list[list[Any]]] = {
            table: [[] for _ in columns] for table, columns in TABLES.items()}
        # (station, the station's own transaction id) -> the id the CSMS gave it (OCPP 1.6)
        self._tx_ids: dict[tuple[str, str], str] = {}

    def transaction_id(self, station_id: str, local_id: str, csms_id: str) -> None:
        """The CSMS numbered the transaction the station recorded as ``local_id``: tables
        show ``csms_id`` for it (1.6 ids come with the StartTransaction answer, which may be
        long after the station recorded the transaction's first meter values)."""
        if csms_id != local_id:
            self._tx_ids[(station_id, local_id)] = csms_id

    # -- writing (positional, in TABLES order, for speed) ------------------------------------------

    def _add(self, table: str, values: tuple[Any, ...]) -> None:
        for column, value in zip(self._columns[table], values, strict=True):
            column.append(value)

    def session(self, station_id: str, evse_id: int, connector_id: int,
                transaction_id: str | None, id_token: str | None, started_s: float,
                stopped_s: float | None, energy_wh: float, meter_start_wh: float,
                meter_stop_wh: float | None, stop_reason: str | None, started_offline: bool,
                vehicle_model: str | None, soc_start: float | None, soc_end: float | None,
                needed_wh: float | None) -> None:
        self._add("sessions", (station_id, evse_id, connector_id, transaction_id, id_token,
                               started_s, stopped_s, energy_wh, meter_start_wh, meter_stop_wh,
                               stop_reason, started_offline, vehicle_model, soc_start, soc_end,
                               needed_wh))

    def meter_value(self, station_id: str, evse_id: int, transaction_id: str | None, t_s: float,
                    context: str, energy_wh: float, power_w: float) -> None:
        self._add("meter_values", (station_id, evse_id, transaction_id, t_s, context, energy_wh,
                                   power_w))

    def status(self, station_id: str, evse_id: int, connector_id: int, t_s: float, status: str,
               error_code: str | None) -> None:
        self._add("status_changes", (station_id, evse_id, connector_id, t_s, status, error_code))

    def message(self, station_id: str, action: str, direction: str, t_s: float,
                latency_ms: float | None, outcome: str) -> None:
        if self.keep_messages:
            self._add("messages", (station_id, action, direction, t_s, latency_ms, outcome))

    def power(self, station_id: str, evse_id: int, t_s: float, power_w: float) -> None:
        self._add("power", (station_id, evse_id, t_s, power_w))

    def event(self, station_id: str, t_s: float, kind: str, detail: str = "") -> None:
        self._add("events", (station_id, t_s, kind, detail))

    # -- reading -----------------------------------------------------------------------------------

    def count(self, table: str) -> int:
        return len(self._columns[table][0])

    def rows(self, table: str, *, wall_time: bool = True) -> list[dict[str, Any]]:
        """The table as plain dicts; ``wall_time=False`` leaves out ``latency_ms``."""
        return list(self.iter_rows(table, wall_time=wall_time))

    def iter_rows(self, table: str, *, wall_time: bool = True) -> Iterator[dict[str, Any]]:
        names = TABLES[table]
        columns = self._columns[table]
        aliases = self._tx_ids
        for values in zip(*columns, strict=True):
            row: dict[str, Any] = {}
            for name, value in zip(names, values, strict=True):
                if not wall_time and name in WALL_TIME_COLUMNS:
                    continue
                if name == "transaction_id" and value is not None and aliases:
                    value = aliases.get((row["station_id"], value), value)
                row[name] = value
                if name in TIME_COLUMNS and self.start_utc is not None:
                    row[TIME_COLUMNS[name]] = (None if value is None else
                                               iso_utc(self.start_utc + timedelta(seconds=value)))
            yield row

    def frame(self, table: str) -> Any:
        """The table as a pandas DataFrame (UTC columns as timezone-aware datetimes)."""
        import pandas as pd

        data = dict(zip(TABLES[table], self._columns[table], strict=True))
        frame = pd.DataFrame(data, columns=list(TABLES[table]))
        if "transaction_id" in frame and self._tx_ids:
            aliases = self._tx_ids
            frame["transaction_id"] = [
                aliases.get((station, tx), tx) if tx is not None else None
                for station, tx in zip(frame["station_id"], frame["transaction_id"],
                                       strict=True)]
        if self.start_utc is not None:
            start = pd.Timestamp(self.start_utc)
            for name, utc_name in TIME_COLUMNS.items():
                if name in frame:
                    frame[utc_name] = start + pd.to_timedelta(frame[name], unit="s")
        return frame

    def tables(self, *, wall_time: bool = True) -> dict[str, list[dict[str, Any]]]:
        return {table: self.rows(table, wall_time=wall_time) for table in TABLES}
