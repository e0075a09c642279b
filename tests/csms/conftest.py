"""Fixtures for the reference CSMS: a real server on loopback over a real database.

Every flow test runs twice, on a SQLite file and on PostgreSQL. PostgreSQL comes from
``CHARGELOOP_TEST_POSTGRES`` (an asyncpg URL of a server where we may create databases), by
default ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``; each test gets a database of
its own, dropped afterwards. Where no server answers, the PostgreSQL runs are skipped with the
reason shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from csms.config import CsmsConfig
from csms.server import RunningCsms, running_csms

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


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    import asyncpg

    reason = await _postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)
    url = make_url(POSTGRES_ADMIN_URL)
    name = f"chargeloop_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                  password=url.password, database=url.database)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}"
        return
    async with postgres_database() as url:
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
