"""API bearer tokens with roles. Only a hash of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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


# A token stays trusted from memory this long; then the database is asked again, so tokens
# created or revoked by another process (``chargeloop csms token``) take effect while serving.
RECHECK_AFTER_S = 30.0


class ApiTokenService:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._known: dict[str, tuple[ApiPrincipal, float]] = {}  # digest -> (who, trusted until)

    async def load(self) -> None:
        """Nothing to preload: principals are looked up on first use."""

    async def principal(self, token: str) -> ApiPrincipal | None:
        digest = _digest(token)
        known = self._known.get(digest)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        rows = await self._active(t.api_tokens.c.token_hash == digest)
        if not rows:
            self._known.pop(digest, None)
            return None
        return self._remember(digest, _principal(rows[0]))

    async def has_admin(self) -> bool:
        return bool(await self._active(t.api_tokens.c.role == ApiRole.ADMIN.value))

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
        self._remember(digest, ApiPrincipal(token_id, name, role, subject))
        return token

    async def revoke(self, token_id: int) -> bool:
        tokens = t.api_tokens.c

        async def write(conn: AsyncConnection) -> str | None:
            result = await conn.execute(
                update(t.api_tokens).where(tokens.id == token_id, tokens.revoked_at.is_(None))
                .values(revoked_at=self.clock()).returning(tokens.token_hash))
            return result.scalar_one_or_none()

        digest = await self.db.write(write)
        if digest is None:
            return False
        self._known.pop(digest, None)
        return True

    async def listing(self) -> list[dict[str, Any]]:
        """Every token ever made, newest first, without its hash."""
        tokens = t.api_tokens.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(
                tokens.id, tokens.name, tokens.role, tokens.subject, tokens.created_at,
                tokens.revoked_at).order_by(tokens.id.desc()))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    async def _active(self, condition: Any) -> list[dict[str, Any]]:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.api_tokens).where(
                condition, t.api_tokens.c.revoked_at.is_(None)).limit(1))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    def _remember(self, digest: str, who: ApiPrincipal) -> ApiPrincipal:
        self._known[digest] = (who, time.monotonic() + RECHECK_AFTER_S)
        return who


def _principal(row: dict[str, Any]) -> ApiPrincipal:
    return ApiPrincipal(row["id"], row["name"], ApiRole(row["role"]), row["subject"])
