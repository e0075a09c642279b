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
