"""API bearer tokens with roles. Only a hash of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock, utcnow
from csms.storage import tables as t
from csms.storage.database import Database


class ApiRole(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    SUPPORT = "support"
    DRIVER = "driver"
    READ_ONLY = "read-only"


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    token_id: int
    name: str
    role: ApiRole
    subject: str | None  # the driver account of a driver token


def _digest(token: str) -> str:
    # Tokens are 256-bit random secrets: a plain hash is enough, no stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenService:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._by_digest: dict[str, ApiPrincipal] = {}

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[dict]:
            rows = await conn.execute(select(t.api_tokens).where(
                t.api_tokens.c.revoked_at.is_(None)))
            return [dict(r) for r in rows.mappings()]

        self._by_digest = {r["token_hash"]: ApiPrincipal(r["id"], r["name"], ApiRole(r["role"]),
                                                         r["subject"])
                           for r in await self.db.read(read)}

    def principal(self, token: str) -> ApiPrincipal | None:
        return self._by_digest.get(_digest(token))

    def has_admin(self) -> bool:
        return any(p.role is ApiRole.ADMIN for p in self._by_digest.values())

    async def create(self, name: str, role: ApiRole, subject: str | None = None) -> str:
        """A new token; the clear text is returned once and never stored."""
        token = "clp_" + secrets.token_urlsafe(32)
        digest = _digest(token)

        async def write(conn: AsyncConnection) -> int:
            result = await conn.execute(insert(t.api_tokens).values(
                name=name, role=role.value, token_hash=digest, subject=subject,
                created_at=self.clock()).returning(t.api_tokens.c.id))
            return result.scalar_one()

        token_id = await self.db.write(write)
        self._by_digest[digest] = ApiPrincipal(token_id, name, role, subject)
        return token

    async def revoke(self, token_id: int) -> bool:
        digest = next((d for d, p in self._by_digest.items() if p.token_id == token_id), None)
        if digest is None:
            return False
        await self.db.write(lambda conn: conn.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token_id)
            .values(revoked_at=self.clock())))
        del self._by_digest[digest]
        return True
