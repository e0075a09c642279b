"""Driver accounts: who pays, with which card, for which id tokens.

One account works at every station: its id tokens (RFID cards, app tokens, ad-hoc codes) are
rows of ``id_tokens`` with ``account_id`` set, and whichever station reads one, the session is
billed to the account's default payment method. Cards are kept as the provider's reference to
them (brand, last four digits, expiry): never the card number.

Accounts and payment methods are few and read on every authorisation of a linked token, so they
live in memory, loaded at start and kept current on every write. Which token belongs to which
account is read from the authorisation service's own in-memory tokens: one source of truth,
current however the link was written.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.authorization import AuthorizationService, TokenRecord
from csms.domain.money import is_currency
from csms.domain.timeutil import Clock, utcnow
from csms.payments.provider import CardDetails, PaymentProvider
from csms.storage import tables as t
from csms.storage.database import Database

ACTIVE, SUSPENDED = "active", "suspended"
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")
# Deliberately loose: one @, a dotted domain, no spaces. Whether mail arrives is the only real
# test of an address; this catches typing mistakes.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
# OCPP 2.0.1 IdTokenEnumType values a driver's token can have: RFID cards are ISO14443 or
# ISO15693, app tokens Central or eMAID, ad-hoc codes (QR, keypad) KeyCode.
TOKEN_TYPES = ("ISO14443", "ISO15693", "Central", "eMAID", "KeyCode", "Local", "MacAddress")


class InvalidField(ValueError):
    """Input that breaks a rule; ``field`` names what was wrong (422 in the API)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AccountConflict(Exception):
    """The request clashes with what exists: an id taken, a token linked to another account."""


class AccountNotFound(LookupError):
    def __init__(self, what: str) -> None:
        super().__init__(what)


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    email: str
    currency: str
    status: str
    created_at: datetime
    updated_at: datetime

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @classmethod
    def from_row(cls, row: Any) -> Account:
        return cls(row["id"], row["name"], row["email"], row["currency"], row["status"],
                   row["created_at"], row["updated_at"])


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: str
    account_id: str
    provider: str
    reference: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> PaymentMethod:
        return cls(row["id"], row["account_id"], row["provider"], row["reference"], row["brand"],
                   row["last4"], row["exp_month"], row["exp_year"], row["is_default"],
                   row["created_at"])


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidField("email", f"{email!r} is not an email address")
    return email


def check_currency(currency: str) -> str:
    if not is_currency(currency):
        raise InvalidField("currency", f"{currency!r} is not an ISO 4217 currency code "
                                       f"(e.g. EUR, USD, GBP)")
    return currency


class AccountService:
    def __init__(self, db: Database, auth: AuthorizationService, provider: PaymentProvider,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self.auth = auth
        self.provider = provider
        self.clock = clock
        self._accounts: dict[str, Account] = {}
        self._methods: dict[str, PaymentMethod] = {}  # not removed, by id
        self._links = asyncio.Lock()  # one token link decision at a time

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
            accounts = (await conn.execute(select(t.accounts))).mappings().all()
            methods = (await conn.execute(select(t.payment_methods).where(
                t.payment_methods.c.removed_at.is_(None)))).mappings().all()
            return list(accounts), list(methods)

        accounts, methods = await self.db.read(read)
        self._accounts = {row["id"]: Account.from_row(row) for row in accounts}
        self._methods = {row["id"]: PaymentMethod.from_row(row) for row in methods}

    # -- what the other services ask (in memory) ----------------------------------------------

    def account_for_token(self, id_token: str) -> str | None:
        """The account ``id_token`` is linked to, if that account exists. No I/O."""
        record = self.auth.get(id_token)
        if record is None or record.account_id is None:
            return None
        return record.account_id if record.account_id in self._accounts else None

    def cached(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    async def get(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def all(self, status: str | None = None) -> list[Account]:
        found = (a for a in self._accounts.values() if status is None or a.status == status)
        return sorted(found, key=lambda a: a.created_at, reverse=True)

    def require(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            raise AccountNotFound(f"no account {account_id!r}")
        return account

    # -- accounts ------------------------------------------------------------------------------

    async def create(self, *, name: str, email: str, currency: str = "EUR",
                     account_id: str | None = None, status: str = ACTIVE) -> Account:
        if account_id is None:
            account_id = f"acc_{secrets.token_hex(8)}"
        elif not ACCOUNT_ID.match(account_id):
            raise InvalidField("id", "1 to 64 letters, digits and . _ : @ -, starting with a "
                                     "letter or digit")
        if account_id in self._accounts:
            raise AccountConflict(f"account {account_id!r} already exists")
        now = self.clock()
        account = Account(account_id, name.strip(), check_email(email),
                          check_currency(currency), _check_status(status), now, now)
        await self.db.write(lambda conn: conn.execute(insert(t.accounts).values(
            id=account.id, name=account.name, email=account.email, currency=account.currency,
            status=account.status, created_at=now, updated_at=now)))
        self._accounts[account.id] = account
        return account

    async def update(self, account_id: str, *, name: str | None = None,
                     email: str | None = None, status: str | None = None) -> Account:
        account = self.require(account_id)
        changed = replace(
            account, name=account.name if name is None else name.strip(),
            email=account.email if email is None else check_email(email),
            status=account.status if status is None else _check_status(status),
            updated_at=self.clock())
        await self.db.write(lambda conn: conn.execute(
            update(t.accounts).where(t.accounts.c.id == account_id).values(
                name=changed.name, email=changed.email, status=changed.status,
                updated_at=changed.updated_at)))
        self._accounts[account_id] = changed
        return changed

    # -- id tokens -----------------------------------------------------------------------------

    def tokens(self, account_id: str) -> list[TokenRecord]:
        return [r for r in self.auth.all() if r.account_id == account_id]

    async def link_token(self, account_id: str, token: str,
                         token_type: str = "ISO14443") -> TokenRecord:
        """Link ``token`` to the account (creating it, Accepted, if the CSMS does not know it
        yet). A token belongs to one account at most: linking one that is someone else's is a
        conflict; linking it again to the same account changes nothing."""
        self.require(account_id)
        if not 1 <= len(token) <= 36:
            raise InvalidField("token", "1 to 36 characters (the OCPP idToken limit)")
        if token_type not in TOKEN_TYPES:
            raise InvalidField("type", f"one of {', '.join(TOKEN_TYPES)}")
        async with self._links:
            record = self.auth.get(token)
            if record is None:
                return await self.auth.upsert(token, type=token_type, account_id=account_id)
            if record.account_id == account_id:
                return record
            if record.account_id is not None and record.account_id in self._accounts:
                raise AccountConflict(f"id token {token!r} is linked to another account")
            return await self.auth.upsert(
                token, type=record.type, status=record.status, group_id=record.group_id,
                expiry=record.expiry, account_id=account_id, language=record.language)

    async def unlink_token(self, account_id: str, token: str) -> None:
        """The token stays known to the CSMS (it may be a company card); it just pays for
        nothing any more."""
        self.require(account_id)
        async with self._links:
            record = self.auth.get(token)
            if record is None or record.account_id != account_id:
                raise AccountNotFound(f"id token {token!r} is not linked to {account_id}")
            await self.auth.upsert(
                token, type=record.type, status=record.status, group_id=record.group_id,
                expiry=record.expiry, account_id=None, language=record.language)

    # -- payment methods -----------------------------------------------------------------------

    def methods(self, account_id: str) -> list[PaymentMethod]:
        return sorted((m for m in self._methods.values() if m.account_id == account_id),
                      key=lambda m: (not m.is_default, m.created_at))

    def method(self, account_id: str, method_id: str) -> PaymentMethod:
        found = self._methods.get(method_id)
        if found is None or found.account_id != account_id:
            raise AccountNotFound(f"no payment method {method_id!r} on account {account_id}")
        return found

    def default_method(self, account_id: str) -> PaymentMethod | None:
        return next((m for m in self.methods(account_id) if m.is_default), None)

    async def add_card(self, account_id: str, card: CardDetails, *,
                       make_default: bool = False) -> PaymentMethod:
        """Register the card with the provider (it alone sees the number) and keep its
        reference. The first card of an account is its default."""
        self.require(account_id)
        reference = await self.provider.register_card(card)
        is_default = make_default or self.default_method(account_id) is None
        method = PaymentMethod(f"pm_{secrets.token_hex(10)}", account_id, self.provider.name,
                               reference.reference, reference.brand, reference.last4,
                               reference.exp_month, reference.exp_year, is_default,
                               self.clock())

        async def write(conn: AsyncConnection) -> None:
            if is_default:
                await _clear_default(conn, account_id)
            await conn.execute(insert(t.payment_methods).values(
                id=method.id, account_id=account_id, provider=method.provider,
                reference=method.reference, brand=method.brand, last4=method.last4,
                exp_month=method.exp_month, exp_year=method.exp_year, is_default=is_default,
                created_at=method.created_at))

        await self.db.write(write)
        if is_default:
            self._forget_default(account_id)
        self._methods[method.id] = method
        return method

    async def set_default(self, account_id: str, method_id: str) -> PaymentMethod:
        method = self.method(account_id, method_id)

        async def write(conn: AsyncConnection) -> None:
            await _clear_default(conn, account_id)
            await conn.execute(update(t.payment_methods).where(
                t.payment_methods.c.id == method_id).values(is_default=True))

        await self.db.write(write)
        self._forget_default(account_id)
        self._methods[method_id] = replace(method, is_default=True)
        return self._methods[method_id]

    async def remove_method(self, account_id: str, method_id: str) -> None:
        """Removed cards stay on record for the payments made with them; the newest remaining
        card becomes the default if the default went."""
        method = self.method(account_id, method_id)
        others = [m for m in self.methods(account_id) if m.id != method_id]
        successor = max(others, key=lambda m: m.created_at) \
            if method.is_default and others else None
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(update(t.payment_methods).where(
                t.payment_methods.c.id == method_id).values(removed_at=now, is_default=False))
            if successor is not None:
                await conn.execute(update(t.payment_methods).where(
                    t.payment_methods.c.id == successor.id).values(is_default=True))

        await self.db.write(write)
        del self._methods[method_id]
        if successor is not None:
            self._methods[successor.id] = replace(successor, is_default=True)

    def _forget_default(self, account_id: str) -> None:
        for method in self.methods(account_id):
            if method.is_default:
                self._methods[method.id] = replace(method, is_default=False)


async def _clear_default(conn: AsyncConnection, account_id: str) -> None:
    await conn.execute(update(t.payment_methods).where(
        t.payment_methods.c.account_id == account_id,
        t.payment_methods.c.is_default.is_(True)).values(is_default=False))


def _check_status(status: str) -> str:
    if status not in (ACTIVE, SUSPENDED):
        raise InvalidField("status", f"{ACTIVE} or {SUSPENDED}")
    return status
