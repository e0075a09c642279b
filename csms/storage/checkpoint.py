"""WAL checkpoints for the SQLite file, off the answering path.

With ``synchronous=NORMAL`` a WAL commit does not wait for the disk; the checkpoint that copies
the WAL back into the database file does, and SQLite runs it inside whichever commit crosses the
auto-checkpoint threshold. That commit, and every answer waiting on its batch, then stalls for
the fsync: the tail of the CSMS's latency. So the writer never checkpoints
(``wal_autocheckpoint=0``) and this task does it on a connection and thread of its own, in
PASSIVE mode, which never blocks the writer or readers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sqlite3

log = logging.getLogger("chargeloop.csms.storage")

CHECKPOINT_EVERY_S = 1.0


class WalCheckpointer:
    def __init__(self, path: str, every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.path = path
        self.every_s = every_s
        self.checkpoints = 0
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="csms-sqlite-checkpoint")
        self._task: asyncio.Task[None] | None = None
        self._connection: sqlite3.Connection | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="csms-wal-checkpoint")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # a last full checkpoint, so a cleanly stopped CSMS leaves a small WAL behind
        await asyncio.get_running_loop().run_in_executor(self._executor, self._final)
        self._executor.shutdown(wait=True)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await loop.run_in_executor(self._executor, self._checkpoint, "PASSIVE")
            except sqlite3.Error as exc:  # busy or locked: the next round tries again
                log.debug("WAL checkpoint skipped: %s", exc)

    def _checkpoint(self, mode: str) -> None:
        if self._connection is None:
            self._connection = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        self._connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        self.checkpoints += 1

    def _final(self) -> None:
        try:
            self._checkpoint("TRUNCATE")
        except sqlite3.Error as exc:
            log.debug("final WAL checkpoint skipped: %s", exc)
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
