"""Group commits on SQLite in one thread hop.

Through aiosqlite, every statement of a write is several round trips between the event loop and
aiosqlite's thread (cursor, execute, fetch, close), each a wake-up of both: about a dozen hops
for one MeterValues message, which capped the CSMS at a few hundred messages per second while
the event loop mostly waited. Here a whole batch runs in a dedicated thread on a synchronous
pysqlite connection to the same file, in one transaction, and the loop hears back once.

Write operations keep their shape, ``async def op(conn)`` awaiting ``conn.execute(...)``: they
get a :class:`SyncConnection` whose coroutines finish without ever suspending, so the thread
drives each one to its end with a single ``send``. An operation that awaits anything else
breaks the rule that writes only touch the database, and fails loudly here.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url


def is_file_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


class SyncConnection:
    """The part of ``AsyncConnection`` write operations use, answered synchronously."""

    __slots__ = ("sync_connection",)

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection

    @property
    def dialect(self) -> Any:
        return self.sync_connection.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.execute(statement, parameters, **kwargs)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kwargs: Any
                              ) -> Any:
        return self.sync_connection.exec_driver_sql(statement, parameters, **kwargs)

    async def scalar(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.scalar(statement, parameters, **kwargs)

    async def scalars(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.scalars(statement, parameters, **kwargs)

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(self.sync_connection, *args, **kwargs)


def drive(awaitable: Any) -> Any:
    """Run an operation's coroutine to its end; it must not suspend."""
    steps = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value
    steps.close()
    raise RuntimeError("a database write awaited something other than its connection")


class ThreadedWriter:
    """Runs batches of write operations in one transaction on a thread of their own."""

    def __init__(self, url: str, on_connect: Callable[[Any, Any], None]) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self.engine: Engine = create_engine(sync_url, pool_size=1, max_overflow=0)
        event.listen(self.engine, "connect", on_connect)
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="csms-sqlite-writer")
        self._connection: Connection | None = None  # the writer thread's, kept open
        self._closed = False

    def run(self, operations: Sequence[Callable[[Any], Any]]) -> list[Any]:
        """In the writer thread: all of ``operations`` in one transaction, or none."""
        if self._connection is None or self._connection.invalidated:
            self._connection = self.engine.connect()
        connection = self._connection
        with connection.begin():
            conn = SyncConnection(connection)
            return [drive(op(conn)) for op in operations]

    def _release(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Close the thread's connection and stop the thread (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        self.executor.submit(self._release).result()
        self.executor.shutdown(wait=True)
        self.engine.dispose()
