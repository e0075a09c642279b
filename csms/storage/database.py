"""The database: an async SQLAlchemy engine, and a writer that commits in groups.

A message is answered only after what it carries is committed. Committing each message alone
would cap the CSMS at the database's commit rate, so writes queue up and one writer task runs
each queued batch in one transaction (group commit): the answer waits for its batch's commit,
never longer. If a batch fails, its writes are retried one by one, so one bad write cannot fail
the others.

Writes must only touch the database; callers update any in-memory state after ``write`` returns,
so a rolled-back batch leaves nothing half done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from csms.storage.checkpoint import WalCheckpointer
from csms.storage.threaded import ThreadedWriter, is_file_sqlite

log = logging.getLogger("chargeloop.csms.storage")

T = TypeVar("T")
Write = Callable[[AsyncConnection], Awaitable[T]]
_STOP: Any = object()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers do not block the writer. synchronous=NORMAL: a commit survives the process
    # being killed (the WAL is in the OS's hands), though not a power cut mid-checkpoint.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_writer_pragmas(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    # The writer never checkpoints itself (see csms.storage.checkpoint); a larger page cache
    # keeps the meter value indexes' hot pages in memory.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=4, max_overflow=4)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


class Database:
    def __init__(self, url: str, *, max_batch: int = 256) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Write[Any], asyncio.Future[Any]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.writes = 0
        # SQLite file: batches run in one hop to a writer thread (see csms.storage.threaded).
        self._threaded = ThreadedWriter(url, _sqlite_writer_pragmas) \
            if is_file_sqlite(url) else None
        self._checkpointer = WalCheckpointer(make_url(url).database) \
            if self._threaded is not None else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="csms-db-writer")
            if self._checkpointer is not None:
                self._checkpointer.start()

    async def close(self) -> None:
        """Commit what is queued (its callers wait for it), then stop."""
        if self._writer is not None:
            self._queue.put_nowait(_STOP)
            await self._writer
            self._writer = None
        if self._threaded is not None:
            self._threaded.close()
        if self._checkpointer is not None:
            await self._checkpointer.stop()
        await self.engine.dispose()

    async def write(self, operation: Write[T]) -> T:
        """Run ``operation`` in the next group commit; returns its result once committed."""
        if self._writer is None:
            raise RuntimeError("Database.start() was not called")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((operation, future))
        return await future

    async def read(self, operation: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.engine.connect() as connection:
            return await operation(connection)

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stopping = _STOP in batch
            batch = [item for item in batch if item is not _STOP and not item[1].cancelled()]
            if not batch:
                continue
            try:
                results = await self._run([op for op, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(RuntimeError("database closed"))
                raise
            except Exception:
                log.warning("group commit of %d writes failed; retrying them one by one",
                            len(batch), exc_info=True)
                await self._write_singly(batch)
                continue
            self.batches += 1
            self.writes += len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _run(self, operations: list[Write[Any]]) -> list[Any]:
        """``operations`` in one transaction; their results once it is committed."""
        if self._threaded is not None:
            return await asyncio.get_running_loop().run_in_executor(
                self._threaded.executor, self._threaded.run, operations)
        async with self.engine.begin() as connection:
            return [await op(connection) for op in operations]

    async def _write_singly(self, batch: list[tuple[Write[Any], asyncio.Future[Any]]]) -> None:
        for operation, future in batch:
            try:
                [result] = await self._run([operation])
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                if not future.done():
                    future.set_exception(exc)
            else:
                self.batches += 1
                self.writes += 1
                if not future.done():
                    future.set_result(result)
