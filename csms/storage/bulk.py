"""Many rows into one table, the fast way each database allows.

Meter values are the CSMS's hottest write: a three-phase MeterValues message is six to ten rows.
On SQLite, SQLAlchemy's per-value bind processing (a format-string call per datetime) cost about
as much as SQLite itself, so rows go to the driver as tuples with datetimes already rendered in
the very text SQLAlchemy's SQLite ``DATETIME`` writes and reads back. Elsewhere the Core
``insert`` with its type processing is used unchanged.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator


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
        # Rows are picked in C (itemgetter) and only the datetime and boolean columns are
        # converted: per-value Python calls on every column were a tenth of the writer's time.
        self._pick = operator.itemgetter(*self.columns) if len(self.columns) > 1 else \
            (lambda row, name=self.columns[0]: (row[name],))
        self._converted = tuple(
            (index, kind) for index, name in enumerate(self.columns)
            if (kind := _python_type(table.columns[name])) in (datetime, bool))

    async def __call__(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            await conn.execute(self._core, list(rows))
            return
        await conn.exec_driver_sql(self._sqlite_sql, self._sqlite_rows(rows))

    def _sqlite_rows(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        pick, converted = self._pick, self._converted
        if not converted:
            return [pick(row) for row in rows]
        rendered: dict[datetime, str] = {}  # the samples of one message share their times
        out = []
        for row in rows:
            values = list(pick(row))
            for index, kind in converted:
                value = values[index]
                if value is None:
                    continue
                if kind is bool:
                    values[index] = int(value)
                elif not isinstance(value, datetime):
                    continue
                elif (text := rendered.get(value)) is not None:
                    values[index] = text
                else:
                    values[index] = rendered[value] = _sqlite_datetime(value)
            out.append(tuple(values))
        return out


def _python_type(column: Column[Any]) -> type | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # UtcDateTime says "object"; its impl knows
        kind = kind.impl_instance
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _sqlite_datetime(value: datetime) -> str:
    # What UtcDateTime + SQLite DATETIME store: naive UTC, microseconds, space separator.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
