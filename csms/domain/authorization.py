"""Authorisation of id tokens: status, group, expiry, blocking and concurrent use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock, utcnow
from csms.storage import tables as t
from csms.storage.database import Database

# Token types that need no lookup: the station vouches for them (free vend, local start).
_NO_LOOKUP = {"NoAuthorization", "Central"}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """The CSMS's verdict on a token. ``status`` uses 2.0.1's names (1.6 maps them)."""

    status: str  # Accepted, Blocked, Expired, Invalid, Unknown, ConcurrentTx, NoCredit
    group_id: str | None = None
    expiry: datetime | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token: str
    type: str
    status: str
    group_id: str | None
    expiry: datetime | None
    account_id: str | None
    language: str | None

    @classmethod
    def from_row(cls, row: Any) -> TokenRecord:
        return cls(row["token"], row["type"], row["status"], row["group_id"], row["expiry"],
                   row["account_id"], row["language"])


class AuthorizationService:
    def __init__(self, db: Database, clock: Clock = utcnow, *,
                 accept_unknown: bool = False) -> None:
        self.db = db
        self.clock = clock
        self.accept_unknown = accept_unknown
        self._tokens: dict[str, TokenRecord] = {}

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(t.id_tokens))).mappings())

        self._tokens = {row["token"]: TokenRecord.from_row(row) for row in await self.db.read(read)}

    def get(self, token: str) -> TokenRecord | None:
        return self._tokens.get(token)

    def all(self) -> list[TokenRecord]:
        return sorted(self._tokens.values(), key=lambda r: r.token)

    def authorize(self, token: str, token_type: str | None = None, *,
                  active_elsewhere: bool = False) -> TokenInfo:
        if token_type in _NO_LOOKUP:
            return TokenInfo("Accepted")
        record = self._tokens.get(token)
        if record is None:
            return TokenInfo("Accepted") if self.accept_unknown else TokenInfo("Unknown")
        if record.status != "Accepted":
            return TokenInfo(record.status, record.group_id, record.expiry, record.language)
        if record.expiry is not None and record.expiry <= self.clock():
            return TokenInfo("Expired", record.group_id, record.expiry, record.language)
        if active_elsewhere:
            return TokenInfo("ConcurrentTx", record.group_id, record.expiry, record.language)
        return TokenInfo("Accepted", record.group_id, record.expiry, record.language)

    async def upsert(self, token: str, *, type: str = "ISO14443", status: str = "Accepted",
                     group_id: str | None = None, expiry: datetime | None = None,
                     account_id: str | None = None, language: str | None = None) -> TokenRecord:
        record = TokenRecord(token, type, status, group_id, expiry, account_id, language)
        values = {"type": type, "status": status, "group_id": group_id, "expiry": expiry,
                  "account_id": account_id, "language": language, "updated_at": self.clock()}
        exists = token in self._tokens

        async def write(conn: AsyncConnection) -> None:
            if exists:
                await conn.execute(update(t.id_tokens).where(t.id_tokens.c.token == token)
                                   .values(**values))
            else:
                await conn.execute(insert(t.id_tokens).values(token=token,
                                                              created_at=self.clock(), **values))

        await self.db.write(write)
        self._tokens[token] = record
        return record

    async def delete(self, token: str) -> bool:
        if token not in self._tokens:
            return False
        await self.db.write(lambda conn: conn.execute(
            delete(t.id_tokens).where(t.id_tokens.c.token == token)))
        del self._tokens[token]
        return True
