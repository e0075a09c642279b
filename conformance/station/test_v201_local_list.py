"""OCPP 2.0.1 Local Auth List Management (mandatory cases), charging station under test
(Part 6 Edition 3, errata 2025-09)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _entry(token: str, status: str = "Accepted") -> dict[str, Any]:
    return {"idToken": {"idToken": token, "type": "ISO14443"},
            "idTokenInfo": {"status": status}}


async def _send(h: Harness, version: int, update: str, entries: list[dict[str, Any]] | None,
                *, step: str) -> str:
    payload: dict[str, Any] = {"versionNumber": version, "updateType": update}
    if entries is not None:
        payload["localAuthorizationList"] = entries
    answer = await h.csms.call("SendLocalList", payload, step=step)
    return str(answer.get("status"))


async def _version(h: Harness, *, step: str) -> int:
    answer = await h.csms.call("GetLocalListVersion", {}, step=step)
    return int(answer.get("versionNumber", -99))


@pytest.mark.case("TC_D_01_CS")
async def test_TC_D_01_CS(h: Harness) -> None:
    """Send Local Authorization List, Full: Accepted; GetLocalListVersion reports its
    versionNumber."""
    await h.booted()
    status = await _send(h, 3, "Full", [_entry(h.sut.tokens.valid)], step="SendLocalList")
    check(status == "Accepted", "SendLocalListResponse", "Accepted", status)
    version = await _version(h, step="GetLocalListVersion")
    check(version == 3, "GetLocalListVersionResponse", "versionNumber 3", version)


@pytest.mark.case("TC_D_02_CS")
async def test_TC_D_02_CS(h: Harness) -> None:
    """Differential update: after a Full list, a Differential with a higher versionNumber
    adding a token is Accepted; the version follows it."""
    await h.booted()
    status = await _send(h, 1, "Full", [_entry(h.sut.tokens.valid)], step="SendLocalList Full")
    check(status == "Accepted", "SendLocalListResponse (Full)", "Accepted", status)
    status = await _send(h, 2, "Differential", [_entry(h.sut.tokens.valid_2)],
                         step="SendLocalList Differential")
    check(status == "Accepted", "SendLocalListResponse (Differential)", "Accepted", status)
    version = await _version(h, step="GetLocalListVersion")
    check(version == 2, "GetLocalListVersionResponse", "versionNumber 2", version)


@pytest.mark.case("TC_D_06_CS")
async def test_TC_D_06_CS(h: Harness) -> None:
    """VersionMismatch: a list with versionNumber 5 installed; a Differential with version 4
    is answered VersionMismatch; GetLocalListVersion still reports 5."""
    await h.booted()
    status = await _send(h, 5, "Full", [_entry(h.sut.tokens.valid)], step="set-up: Full list")
    check(status == "Accepted", "SendLocalListResponse (set-up)", "Accepted", status)
    status = await _send(h, 4, "Differential", [_entry(h.sut.tokens.valid_2)],
                         step="SendLocalList Differential")
    check(status == "VersionMismatch", "SendLocalListResponse", "VersionMismatch", status)
    version = await _version(h, step="GetLocalListVersion")
    check(version == 5, "GetLocalListVersionResponse", "versionNumber 5", version)


@pytest.mark.case("TC_D_08_CS")
async def test_TC_D_08_CS(h: Harness) -> None:
    """Get Local List Version, success: with no list installed the station answers
    versionNumber 0; after a Full list, that list's versionNumber."""
    await h.booted()
    empty = await _version(h, step="GetLocalListVersion (no list)")
    check(empty == 0, "GetLocalListVersionResponse", "versionNumber 0 (no list)", empty)
    status = await _send(h, 7, "Full", [_entry(h.sut.tokens.valid)], step="SendLocalList")
    check(status == "Accepted", "SendLocalListResponse", "Accepted", status)
    version = await _version(h, step="GetLocalListVersion")
    check(version == 7, "GetLocalListVersionResponse", "versionNumber 7", version)


async def _set_variable(h: Harness, component: str, name: str, value: str, *, step: str
                        ) -> None:
    """SetVariables of one variable, which must be Accepted (a set-up step)."""
    answer = await h.csms.call("SetVariables", {"setVariableData": [{
        "component": {"name": component}, "variable": {"name": name},
        "attributeValue": value}]}, step=step)
    statuses = [r.get("attributeStatus") for r in answer.get("setVariableResult", [])]
    check(statuses == ["Accepted"], step, f"{component}.{name} = {value} Accepted", answer)


@pytest.mark.case("TC_D_03_CS")
async def test_TC_D_03_CS(h: Harness) -> None:
    """Send Local Authorization List, Differential Remove: (a Full list with two tokens
    installed) a Differential update with a higher versionNumber listing one of them without
    idTokenInfo (remove it) is Accepted; GetLocalListVersion reports the new versionNumber."""
    await h.booted()
    tokens = h.sut.tokens
    status = await _send(h, 1, "Full", [_entry(tokens.valid), _entry(tokens.valid_2)],
                         step="set-up: Full list")
    check(status == "Accepted", "SendLocalListResponse (set-up)", "Accepted", status)
    status = await _send(h, 2, "Differential",
                         [{"idToken": {"idToken": tokens.valid_2, "type": "ISO14443"}}],
                         step="SendLocalList Differential (remove)")
    check(status == "Accepted", "SendLocalListResponse", "Accepted", status)
    version = await _version(h, step="GetLocalListVersion")
    check(version == 2, "GetLocalListVersionResponse", "versionNumber 2", version)


@pytest.mark.case("TC_D_04_CS")
async def test_TC_D_04_CS(h: Harness) -> None:
    """Send Local Authorization List, Full with an empty list: (a list installed) a Full
    update without localAuthorizationList is Accepted; GetLocalListVersion then reports the
    update's versionNumber, or 0 (the specification does not say which version an emptied
    list has; 0 means "no list")."""
    await h.booted()
    status = await _send(h, 1, "Full", [_entry(h.sut.tokens.valid)], step="set-up: Full list")
    check(status == "Accepted", "SendLocalListResponse (set-up)", "Accepted", status)
    status = await _send(h, 2, "Full", None, step="SendLocalList Full (empty)")
    check(status == "Accepted", "SendLocalListResponse", "Accepted", status)
    version = await _version(h, step="GetLocalListVersion")
    check(version in (2, 0), "GetLocalListVersionResponse", "versionNumber 2 (or 0)", version)


@pytest.mark.case("TC_D_05_CS")
async def test_TC_D_05_CS(h: Harness) -> None:
    """Send Local Authorization List, Differential with an empty list: (a list installed) a
    Differential update with a higher versionNumber and no entries is Accepted;
    GetLocalListVersion reports the new versionNumber."""
    await h.booted()
    status = await _send(h, 1, "Full", [_entry(h.sut.tokens.valid)], step="set-up: Full list")
    check(status == "Accepted", "SendLocalListResponse (set-up)", "Accepted", status)
    status = await _send(h, 2, "Differential", None, step="SendLocalList Differential (empty)")
    check(status == "Accepted", "SendLocalListResponse", "Accepted", status)
    version = await _version(h, step="GetLocalListVersion")
    check(version == 2, "GetLocalListVersionResponse", "versionNumber 2", version)


@pytest.mark.case("TC_D_07_CS")
async def test_TC_D_07_CS(h: Harness) -> None:
    """Send Local Authorization List, persistent over reboot: a Full list (versionNumber 4)
    Accepted; Reset Immediate Accepted, the station reboots (BootNotification); afterwards
    GetLocalListVersion still reports 4."""
    await h.booted()
    status = await _send(h, 4, "Full", [_entry(h.sut.tokens.valid)], step="SendLocalList")
    check(status == "Accepted", "SendLocalListResponse", "Accepted", status)
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "Immediate"}, step="ResetRequest")
    check(answer.get("status") == "Accepted", "ResetResponse", "Accepted", answer)
    await h.csms.new_connection(before, h.connect_s, step="reconnect after the reset")
    await h.csms.receive("BootNotification", step="BootNotification after the reset",
                         timeout_s=h.connect_s)
    version = await _version(h, step="GetLocalListVersion after the reset")
    check(version == 4, "GetLocalListVersionResponse", "versionNumber 4 (kept over the "
          "reboot)", version)


@pytest.mark.case("TC_D_10_CS")
async def test_TC_D_10_CS(h: Harness) -> None:
    """Get Local List Version, function disabled: (a list with versionNumber 3 installed while
    enabled) LocalAuthListCtrlr.Enabled set to false; GetLocalListVersion answers
    versionNumber 0."""
    await h.booted()
    status = await _send(h, 3, "Full", [_entry(h.sut.tokens.valid)], step="set-up: Full list")
    check(status == "Accepted", "SendLocalListResponse (set-up)", "Accepted", status)
    await _set_variable(h, "LocalAuthListCtrlr", "Enabled", "false",
                        step="set-up: LocalAuthListCtrlr.Enabled false")
    version = await _version(h, step="GetLocalListVersion")
    check(version == 0, "GetLocalListVersionResponse", "versionNumber 0 (list disabled)",
          version)
