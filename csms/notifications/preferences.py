"""What each driver chose: how often to hear about a running session's energy and cost, and
which kinds of notification they do not want at all. Kept in memory (one small row per
account that changed anything), so checking them costs nothing on the way to a notification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock, utcnow
from csms.notifications.model import matches_kind
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert


@dataclass(frozen=True, slots=True)
class Preferences:
    session_update_interval_s: int | None = None  # None: no energy and cost updates
    muted_kinds: tuple[str, ...] = ()

    def mutes(self, kind: str) -> bool:
        return matches_kind(kind, self.muted_kinds)


DEFAULT = Preferences()


class PreferenceStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._by_account: dict[str, Preferences] = {}

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            return [dict(r) for r in (await conn.execute(
                select(t.notification_settings))).mappings()]

        self._by_account = {row["account_id"]: Preferences(
            row["session_update_interval_s"], tuple(row["muted_kinds"] or ()))
            for row in await self.db.read(read)}

    def get(self, account_id: str) -> Preferences:
        return self._by_account.get(account_id, DEFAULT)

    async def put(self, account_id: str, preferences: Preferences) -> Preferences:
        row = {"account_id": account_id,
               "session_update_interval_s": preferences.session_update_interval_s,
               "muted_kinds": list(preferences.muted_kinds), "updated_at": self.clock()}
        await self.db.write(lambda conn: upsert(conn, t.notification_settings, [row],
                                                ("account_id",)))
        self._by_account[account_id] = preferences
        return preferences
