"""The SQLite file under write load: answers never wait for a WAL checkpoint, and the WAL is
checkpointed beside the writer and left empty by a clean stop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import text

from csms.storage.database import Database
from csms.storage.migrate import upgrade_async


async def test_the_writer_never_checkpoints_and_the_wal_is_emptied_beside_it(
        tmp_path: Path) -> None:
    path = tmp_path / "csms.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    db = Database(url)
    await db.start()
    try:
        async def setting(conn: object) -> int:
            return (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()

        assert await db.write(setting) == 0

        async def insert(conn: object) -> None:
            await conn.execute(text(
                "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES "
                "(:n, 'read-only', :h, '2026-01-01 00:00:00.000000')"),
                [{"n": f"t{i}", "h": f"{i:064x}"} for i in range(2000)])

        await db.write(insert)
        assert (tmp_path / "csms.db-wal").stat().st_size > 0
        checkpointer = db._checkpointer
        assert checkpointer is not None
        # the background checkpointer gets to it within a few of its rounds
        for _ in range(100):
            if checkpointer.checkpoints:
                break
            await asyncio.sleep(checkpointer.every_s / 10)
        assert checkpointer.checkpoints > 0
    finally:
        await db.close()
    wal = tmp_path / "csms.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 2000
