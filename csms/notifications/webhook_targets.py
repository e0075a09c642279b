"""Where a driver's webhooks go: URL, secret and the kinds they want, per account.

A webhook URL comes from a driver, so the CSMS must not become a way into its own network: a
URL whose host is a loopback, private, link-local or otherwise non-public address (or
``localhost``) is refused unless ``webhook_allow_private`` is set (labs, tests). The check is
made when the webhook is registered and again before each attempt. It sees literal addresses
and the names ``localhost``; a public name that resolves to a private address is not caught
here (put the CSMS's outbound traffic behind an egress proxy for that).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock, utcnow
from csms.notifications.model import matches_kind
from csms.notifications.signing import new_secret
from csms.storage import tables as t
from csms.storage.database import Database

MAX_PER_ACCOUNT = 5
MAX_URL = 2048


class TooManyWebhooks(Exception):
    """The account already has as many webhooks as it may."""


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    account_id: str
    url: str
    secret: str
    kinds: tuple[str, ...] | None  # None: every kind
    created_at: datetime

    def wants(self, kind: str) -> bool:
        return self.kinds is None or matches_kind(kind, self.kinds)

    @property
    def secret_hint(self) -> str:
        return "…" + self.secret[-4:]


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` may not receive webhooks, or None if it may."""
    if len(url) > MAX_URL:
        return f"longer than {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "has no host"
    if parts.username or parts.password:
        return "must not carry credentials (the signature authenticates deliveries)"
    if port == 0:
        return "port 0 cannot be reached"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback receivers are not allowed on this CSMS"
    address = _literal_address(host)
    if address is None:
        return None  # a name
    if not address.is_global:
        return f"{address} is not a public address; this CSMS refuses private receivers"
    return None


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells, including the shorthand IPv4 forms resolvers accept
    (``127.1``, ``2130706433``, ``0x7f.0.0.1``), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _webhook(row: dict[str, Any]) -> Webhook:
    kinds = row["kinds"]
    return Webhook(row["id"], row["account_id"], row["url"], row["secret"],
                   tuple(kinds) if kinds is not None else None, row["created_at"])


class WebhookTargets:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._by_id: dict[int, Webhook] = {}
        self._by_account: dict[str, dict[int, Webhook]] = {}

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            return [dict(r) for r in (await conn.execute(
                select(t.notification_webhooks))).mappings()]

        self._by_id.clear()
        self._by_account.clear()
        for row in await self.db.read(read):
            self._keep(_webhook(row))

    async def create(self, account_id: str, url: str, secret: str | None = None,
                     kinds: tuple[str, ...] | None = None) -> Webhook:
        if len(self.of_account(account_id)) >= MAX_PER_ACCOUNT:
            raise TooManyWebhooks(f"account {account_id} already has {MAX_PER_ACCOUNT} "
                                  "webhooks; delete one first")
        values = {"account_id": account_id, "url": url, "secret": secret or new_secret(),
                  "kinds": list(kinds) if kinds is not None else None,
                  "created_at": self.clock()}

        async def write(conn: AsyncConnection) -> int:
            return (await conn.execute(insert(t.notification_webhooks).values(**values)
                                       .returning(t.notification_webhooks.c.id))).scalar_one()

        webhook = _webhook({"id": await self.db.write(write), **values})
        self._keep(webhook)
        return webhook

    async def delete(self, account_id: str, webhook_id: int,
                     also: Callable[[AsyncConnection], Awaitable[Any]] | None = None) -> bool:
        """Remove the webhook; ``also(conn)`` runs in the same commit (cancelling what was
        still to be delivered to it)."""
        found = self._by_id.get(webhook_id)
        if found is None or found.account_id != account_id:
            return False

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(delete(t.notification_webhooks).where(
                t.notification_webhooks.c.id == webhook_id))
            if also is not None:
                await also(conn)

        await self.db.write(write)
        self._by_id.pop(webhook_id, None)
        mine = self._by_account.get(account_id, {})
        mine.pop(webhook_id, None)
        if not mine:
            self._by_account.pop(account_id, None)
        return True

    def get(self, webhook_id: int) -> Webhook | None:
        return self._by_id.get(webhook_id)

    def of_account(self, account_id: str) -> list[Webhook]:
        mine = self._by_account.get(account_id, {})
        return [mine[i] for i in sorted(mine)]

    def _keep(self, webhook: Webhook) -> None:
        self._by_id[webhook.id] = webhook
        self._by_account.setdefault(webhook.account_id, {})[webhook.id] = webhook
