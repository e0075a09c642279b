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


async def test_bulk_meter_values_read_back_as_the_core_insert_stores_them(
        tmp_path: Path) -> None:
    """The SQLite fast path renders datetimes and booleans itself; what it stores must read
    back exactly as rows stored through SQLAlchemy's own insert (the PostgreSQL path)."""
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import insert, select

    from csms.storage import tables as t
    from csms.storage.bulk import BulkInsert

    url = f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}"
    await upgrade_async(url)
    db = Database(url)
    await db.start()
    at = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    cet = at.astimezone(timezone(timedelta(hours=1)))  # the same instant, another zone

    def row(station: str, n: int, late: bool) -> dict[str, object]:
        return {"station_id": station, "evse_id": 1, "transaction_id": None,
                "timestamp": at if n % 2 else cet, "received_at": at + timedelta(seconds=n),
                "measurand": "Energy.Active.Import.Register", "phase": None, "location": None,
                "context": None, "unit": "Wh", "value": 1000.5 + n, "signed_data": None,
                "signing_method": None, "encoding_method": None, "public_key": None,
                "late": late, "flag": "non_monotonic" if late else None}

    try:
        fast = [row("FAST", n, n == 2) for n in range(4)]
        core = [row("CORE", n, n == 2) for n in range(4)]

        async def write(conn: object) -> None:
            await BulkInsert(t.meter_values)(conn, fast)
            await conn.execute(insert(t.meter_values), core)

        await db.write(write)

        async def read(conn: object) -> list[dict[str, object]]:
            rows = await conn.execute(select(t.meter_values).order_by(t.meter_values.c.id))
            return [dict(r) for r in rows.mappings()]

        stored = await db.read(read)

        async def raw(conn: object) -> list[tuple[str, str, str, int]]:
            # the text itself: SQL compares these strings when it filters by time
            rows = await conn.execute(text(
                "SELECT station_id, timestamp, received_at, late FROM meter_values ORDER BY id"))
            return [tuple(r) for r in rows]

        texts = await db.read(raw)
    finally:
        await db.close()

    def comparable(r: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in r.items() if k not in ("id", "station_id")}

    by_station = {s: [comparable(r) for r in stored if r["station_id"] == s]
                  for s in ("FAST", "CORE")}
    assert len(by_station["FAST"]) == 4
    assert by_station["FAST"] == by_station["CORE"]
    assert [r[1:] for r in texts if r[0] == "FAST"] == [r[1:] for r in texts if r[0] == "CORE"]
    assert by_station["FAST"][0]["timestamp"] == at and by_station["FAST"][2]["late"] is True
