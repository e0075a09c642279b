"""INSERT ... ON CONFLICT DO UPDATE for both supported databases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def upsert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]],
                 keys: Sequence[str]) -> None:
    """Insert ``rows``, or update the columns they carry where the ``keys`` already exist."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    columns = [c for c in rows[0] if c not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: statement.excluded[c] for c in columns}) if columns else \
        statement.on_conflict_do_nothing(index_elements=list(keys))
    await conn.execute(statement, list(rows))
