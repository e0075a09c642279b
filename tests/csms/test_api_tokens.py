"""API tokens made or revoked by another process (``chargeloop csms token create``) take effect
on a running CSMS without a restart."""

from __future__ import annotations

import httpx
import pytest

from csms.config import CsmsConfig
from csms.core import CsmsCore
from csms.domain import api_tokens
from csms.domain.api_tokens import ApiRole
from csms.server import RunningCsms


async def _other_process_core(database_url: str) -> CsmsCore:
    # What the CLI does: its own core on the same database, next to the running server.
    core = CsmsCore(CsmsConfig(database_url=database_url))
    await core.start(migrate=False)
    return core


async def test_a_token_created_elsewhere_works_at_once_and_a_revoked_one_stops(
        csms: RunningCsms, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    other = await _other_process_core(database_url)
    try:
        token = await other.api_tokens.create("ops", ApiRole.OPERATOR)
        async with httpx.AsyncClient(base_url=csms.api_url, timeout=10.0, headers={
                "Authorization": f"Bearer {token}"}) as client:
            assert (await client.get("/api/stations")).status_code == 200

            token_id = (await other.api_tokens.principal(token)).token_id
            assert await other.api_tokens.revoke(token_id)
            # The server trusts what it saw for a while; with no grace it asks the database.
            monkeypatch.setattr(api_tokens, "RECHECK_AFTER_S", 0.0)
            csms.core.api_tokens._known.clear()
            refused = await client.get("/api/stations")
            assert refused.status_code == 401
            assert "revoked" in refused.json()["detail"]
    finally:
        await other.stop()


async def test_revoking_twice_or_an_unknown_token_says_not_found(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    made = await api.post("/api/api-tokens", json={"name": "tmp", "role": "read-only"})
    assert made.status_code == 201, made.text
    token_id = made.json()["id"]
    assert (await api.delete(f"/api/api-tokens/{token_id}")).status_code == 204
    assert (await api.delete(f"/api/api-tokens/{token_id}")).status_code == 404
    assert (await api.delete("/api/api-tokens/99999")).status_code == 404
    listed = {row["id"]: row for row in (await api.get("/api/api-tokens")).json()}
    assert listed[token_id]["revoked_at"] is not None
    assert "token" not in listed[token_id] and "token_hash" not in listed[token_id]
    with_revoked = httpx.AsyncClient(base_url=csms.api_url, headers={
        "Authorization": f"Bearer {made.json()['token']}"})
    async with with_revoked as client:
        assert (await client.get("/api/stations")).status_code == 401
