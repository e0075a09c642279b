"""Many rows into one table, the fast way each database allows.

Meter values are the CSMS's hottest write: a three-phase MeterValues message is six to ten rows.
On SQLite, SQLAlchemy's per-value bind processing (a format-string call per datetime) cost about
as much as SQLite itself, so rows go to the driver as tuples with datetimes already rendered in
the very text SQLAlchemy's SQLite ``DATETIME`` writes and reads back. Elsewhere the Core
``insert`` with its type processing is used unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection


class BulkInsert:
    def __init__(self, table: Table) -> None:
        self.table = table
        # Every column but a generated key; each row must give them all (no defaults applied).
        self.columns = tuple(c.name for c in table.columns
                             if not (c.primary_key and c.autoincrement in (True, "auto")))
        names = ", ".join(self.columns)
        marks = ", ".join("?" for _ in self.columns)
        self._sqlite_sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
        self._core = insert(table)

    async def __call__(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            await conn.execute(self._core, list(rows))
            return
        columns = self.columns
        await conn.exec_driver_sql(self._sqlite_sql, [
            tuple(_sqlite_value(row[name]) for name in columns) for row in rows])


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # What UtcDateTime + SQLite DATETIME store: naive UTC, microseconds, space separator.
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, bool):
        return int(value)
    return value
