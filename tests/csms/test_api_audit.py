"""The audit log over the API: every command with who sent it and what came back, filtered,
newest first, for admins, operators and support only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.domain.api_tokens import ApiRole
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station

RESET = {OcppVersion.V16: {"type": "Soft"}, OcppVersion.V201: {"type": "OnIdle"}}


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_audit_log_records_who_sent_what_and_the_outcome(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    core = csms.core
    received: list[dict[str, Any]] = []

    async def reset(payload: dict[str, Any]) -> dict[str, Any]:
        received.append(payload)
        return {"status": "Accepted"}

    operator = await core.api_tokens.create("ops-anna", ApiRole.OPERATOR)
    support = await core.api_tokens.create("support-bo", ApiRole.SUPPORT)
    async with connected_station(csms, "CS-AUDIT", version, routes={"Reset": reset}) as station:
        await boot(station)
        async with httpx.AsyncClient(base_url=csms.api_url, headers={
                "Authorization": f"Bearer {operator}"}) as client:
            answered = await client.post("/api/stations/CS-AUDIT/ocpp/Reset",
                                         json=RESET[version])
            assert answered.status_code == 200
            assert answered.json()["response"] == {"status": "Accepted"}
        async with httpx.AsyncClient(base_url=csms.api_url, headers={
                "Authorization": f"Bearer {support}"}) as client:
            # The station has no handler for ClearCache: it answers with a CALLERROR.
            refused = await client.post("/api/stations/CS-AUDIT/ocpp/ClearCache", json={})
            assert refused.status_code == 502
            assert (await client.get("/api/audit")).status_code == 200  # support may read it
    assert received == [RESET[version]]
    offline = await api.post("/api/stations/CS-AUDIT/ocpp/Reset", json=RESET[version])
    assert offline.status_code == 409

    log = (await api.get("/api/audit", params={"station_id": "CS-AUDIT"})).json()
    assert log["total"] == 3
    assert [(e["actor"], e["role"], e["action"], e["outcome"]) for e in log["items"]] == [
        ("admin", "admin", "Reset", "offline"),
        ("support-bo", "support", "ClearCache", "callerror"),
        ("ops-anna", "operator", "Reset", "answered")]
    answered_entry = log["items"][2]
    assert answered_entry["request"] == RESET[version]
    assert answered_entry["response"] == {"status": "Accepted"}
    assert log["items"][1]["response"]["error_code"] == "NotSupported"

    async def actions(**params: Any) -> list[str]:
        return [e["action"] for e in (await api.get("/api/audit", params=params)).json()["items"]]

    assert await actions(actor="ops-anna") == ["Reset"]
    assert await actions(action="ClearCache") == ["ClearCache"]
    assert await actions(outcome="offline") == ["Reset"]
    assert await actions(station_id="ELSEWHERE") == []
    assert await actions(limit=1, offset=1) == ["ClearCache"]


@pytest.mark.parametrize("role", [ApiRole.READ_ONLY, ApiRole.DRIVER])
async def test_audit_log_is_not_for_readers_or_drivers(csms: RunningCsms, role: ApiRole) -> None:
    token = await csms.core.api_tokens.create("someone", role)
    async with httpx.AsyncClient(base_url=csms.api_url, headers={
            "Authorization": f"Bearer {token}"}) as client:
        assert (await client.get("/api/audit")).status_code == 403


def test_the_audit_log_never_keeps_passwords() -> None:
    from csms.domain.commands import REDACTED, redact_secrets

    change = redact_secrets({"key": "AuthorizationKey", "value": "0123456789abcdef0123"})
    assert change == {"key": "AuthorizationKey", "value": REDACTED}
    assert redact_secrets({"key": "HeartbeatInterval", "value": "300"})["value"] == "300"
    set_variables = redact_secrets({"setVariableData": [
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
         "attributeValue": "a-new-16-char-password"},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "60"}]})
    assert set_variables["setVariableData"][0]["attributeValue"] == REDACTED
    assert set_variables["setVariableData"][1]["attributeValue"] == "60"
    assert redact_secrets({"connectionData": {"basicAuthPassword": "x" * 16}}) == {
        "connectionData": {"basicAuthPassword": REDACTED}}
    assert redact_secrets({"key": ["AuthorizationKey", "HeartbeatInterval"]}) == {
        "key": ["AuthorizationKey", "HeartbeatInterval"]}  # GetConfiguration asks, tells nothing
