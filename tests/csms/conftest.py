"""Fixtures for the reference CSMS: a real server on loopback over a real database.

Every flow test runs twice, on a SQLite file and on PostgreSQL. PostgreSQL comes from
``CHARGELOOP_TEST_POSTGRES`` (an asyncpg URL of a server where we may create databases), by
default ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``; each test gets a database of
its own, dropped afterwards. Where no server answers, the PostgreSQL runs are skipped with the
reason shown.

Migrating a fresh database for every test would dominate the suite's time, so each test run
migrates one template per database kind and every test gets a copy of it (a file copy for
SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL). The CSMS still runs its migrations on
start; on a copy at head that is a quick no-op, and the durability tests migrate from empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from csms.config import CsmsConfig
from csms.server import RunningCsms, running_csms
from csms.storage.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "CHARGELOOP_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")

_postgres_state: dict[str, str | None] = {}


async def _postgres_unavailable() -> str | None:
    """None if PostgreSQL answers, else why not (asked once per test run)."""
    if "reason" not in _postgres_state:
        import asyncpg

        url = make_url(POSTGRES_ADMIN_URL)
        try:
            conn = await asyncio.wait_for(asyncpg.connect(
                host=url.host, port=url.port or 5432, user=url.username,
                password=url.password, database=url.database), 5)
            await conn.close()
            _postgres_state["reason"] = None
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            _postgres_state["reason"] = f"no PostgreSQL at {url.host}:{url.port}: {exc}"
    return _postgres_state["reason"]


def _admin_connect() -> Any:
    import asyncpg

    url = make_url(POSTGRES_ADMIN_URL)
    return asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                           password=url.password, database=url.database)


def _database_url(name: str) -> str:
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def postgres_database(template: str | None = None) -> AsyncIterator[str]:
    """A new, empty (or ``template``-copied) PostgreSQL database, dropped afterwards."""
    reason = await _postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)
    name = f"chargeloop_test_{secrets.token_hex(6)}"
    admin = await _admin_connect()
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
        yield _database_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test run."""
    path = tmp_path_factory.mktemp("template") / "csms.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")  # fold the WAL into the file to copy
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A PostgreSQL database migrated to head once per test run (None: no server)."""
    if asyncio.run(_postgres_unavailable()) is not None:
        yield None
        return
    name = f"chargeloop_template_{secrets.token_hex(6)}"

    async def execute(statement: str) -> None:
        admin = await _admin_connect()
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(_database_url(name))
        yield name
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
                       postgres_template: str | None) -> AsyncIterator[str]:
    """A migrated database of its own for one test."""
    if request.param == "sqlite":
        path = tmp_path / "csms.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    async with postgres_database(postgres_template) as url:
        yield url


def make_config(database_url: str, tmp_path: Path, **overrides: Any) -> CsmsConfig:
    return CsmsConfig(port=0, database_url=database_url,
                      admin_token_file=tmp_path / "admin.token", **overrides)


@pytest.fixture
async def csms(database_url: str, tmp_path: Path) -> AsyncIterator[RunningCsms]:
    async with running_csms(make_config(database_url, tmp_path)) as running:
        yield running


@pytest.fixture
async def api(csms: RunningCsms) -> AsyncIterator[httpx.AsyncClient]:
    assert csms.admin_token is not None
    async with httpx.AsyncClient(base_url=csms.api_url, timeout=10.0, headers={
            "Authorization": f"Bearer {csms.admin_token}"}) as client:
        yield client
