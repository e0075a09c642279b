"""One page of rows and the total they come from, in a single read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage.database import Database


async def read_page(db: Database, source: FromClause, where: ColumnElement[bool],
                    query: Select[Any], limit: int, offset: int,
                    ) -> tuple[int, list[dict[str, Any]]]:
    """``(total, rows)``: how many rows of ``source`` match ``where``, and ``query`` (ordered,
    filtered by ``where``) from ``offset`` for at most ``limit`` rows."""
    async def read(conn: AsyncConnection) -> tuple[int, list[dict[str, Any]]]:
        total = (await conn.execute(select(func.count()).select_from(source)
                                    .where(where))).scalar_one()
        rows = await conn.execute(query.where(where).limit(limit).offset(offset))
        return int(total), [dict(r) for r in rows.mappings()]

    return await db.read(read)
