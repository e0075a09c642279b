"""OCPP 1.6 Local Auth List Management, charging station under test (test case document
FINAL 2024-04)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from conformance.station.harness import Harness, check
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _list_version(h: Harness, *, step: str) -> int:
    answer = await h.csms.call("GetLocalListVersion", {}, step=step)
    return int(answer.get("listVersion", -99))


def _entry(tag: str, status: str = "Accepted") -> dict[str, Any]:
    return {"idTag": tag, "idTagInfo": {"status": status}}


def _supported(h: Harness) -> None:
    """The cases of a station with a local list; TC_042_1 and TC_043_1
    (test_v16_variants.py) are those of a station without one."""
    if not h.sut.claims("local_auth_list"):
        not_applicable("local_auth_list (a station with a local authorization list)")


@pytest.mark.case("TC_042_2_CS")
async def test_TC_042_2_CS(h: Harness) -> None:
    """Get Local List Version (empty): a station with no list installed (the initial state)
    answers listVersion 0 (0: empty, -1: no local list support)."""
    _supported(h)
    await h.booted()
    version = await _list_version(h, step="GetLocalListVersion")
    check(version == 0, "GetLocalListVersion.conf", "listVersion 0", version)


@pytest.mark.case("TC_043_CS")
async def test_TC_043_CS(h: Harness) -> None:
    """Send Local Authorization List: a Full update, then a Differential one with a higher
    version, both Accepted; GetLocalListVersion then reports the Differential's version."""
    _supported(h)
    await h.booted()
    tokens = h.sut.tokens
    full = await h.csms.call("SendLocalList", {
        "listVersion": 1, "updateType": "Full",
        "localAuthorizationList": [_entry(tokens.valid)]}, step="SendLocalList (Full)")
    check(full.get("status") == "Accepted", "SendLocalList.conf (Full)", "Accepted", full)
    differential = await h.csms.call("SendLocalList", {
        "listVersion": 2, "updateType": "Differential",
        "localAuthorizationList": [_entry(tokens.valid_2)]},
        step="SendLocalList (Differential)")
    check(differential.get("status") == "Accepted", "SendLocalList.conf (Differential)",
          "Accepted", differential)
    version = await _list_version(h, step="GetLocalListVersion")
    check(version == 2, "GetLocalListVersion.conf", "listVersion 2", version)


@pytest.mark.case("TC_043_2_CS")
async def test_TC_043_2_CS(h: Harness) -> None:
    """Send Local Authorization List, VersionMismatch: a Full list with version 5 installed, a
    Differential update with version 4 is answered VersionMismatch and the version stays 5."""
    _supported(h)
    await h.booted()
    full = await h.csms.call("SendLocalList", {
        "listVersion": 5, "updateType": "Full",
        "localAuthorizationList": [_entry(h.sut.tokens.valid)]}, step="SendLocalList (Full)")
    check(full.get("status") == "Accepted", "SendLocalList.conf (Full)", "Accepted", full)
    stale = await h.csms.call("SendLocalList", {
        "listVersion": 4, "updateType": "Differential",
        "localAuthorizationList": [_entry(h.sut.tokens.valid_2)]},
        step="SendLocalList (Differential, older)")
    check(stale.get("status") == "VersionMismatch", "SendLocalList.conf", "VersionMismatch",
          stale)
    version = await _list_version(h, step="GetLocalListVersion")
    check(version == 5, "GetLocalListVersion.conf", "listVersion 5", version)


@pytest.mark.case("TC_008_CS")
async def test_TC_008_CS(h: Harness) -> None:
    """Start with an id in the local authorization list: LocalAuthListEnabled and
    LocalPreAuthorize true; a Full list with the tag (Accepted); the tag is presented: no
    Authorize, Preparing; the cable is plugged in: StartTransaction with the tag, Charging."""
    _supported(h)
    await h.booted()
    await h.configure("LocalAuthListEnabled", "true", step="ChangeConfiguration")
    await h.configure("LocalPreAuthorize", "true", step="ChangeConfiguration")
    try:
        await _start_from_the_list(h)
    finally:  # a real charger keeps its configuration into the next case
        if h.csms.connected:
            with contextlib.suppress(CaseFailed):
                await h.csms.call_or_error("ChangeConfiguration", {
                    "key": "LocalPreAuthorize", "value": "false"}, step="put back")


async def _start_from_the_list(h: Harness) -> None:
    token = h.sut.tokens.valid
    full = await h.csms.call("SendLocalList", {
        "listVersion": 1, "updateType": "Full", "localAuthorizationList": [_entry(token)]},
        step="SendLocalList (Full)")
    check(full.get("status") == "Accepted", "SendLocalList.conf", "Accepted", full)
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    await h.act("plug_in", step="plug in", evse=1)
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token, "StartTransaction.req", f"idTag {token}",
          start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")
    await h.csms.nothing("Authorize", step="no Authorize (the tag is in the local list)",
                         within_s=0.0, expected="no Authorize.req for a tag in the list")


@pytest.mark.case("TC_043_3_CS")
async def test_TC_043_3_CS(h: Harness) -> None:
    """Send Local Authorization List - Failed: (LocalAuthListEnabled true) the tester brings
    the station into a state in which it fails to store a local list (action
    ``local_list_fails``); SendLocalList Full with listVersion 2 is answered Failed, and the
    list version stays what it was (nothing was stored)."""
    _supported(h)
    await h.booted()
    await h.configure("LocalAuthListEnabled", "true", step="LocalAuthListEnabled true")
    before = await _list_version(h, step="GetLocalListVersion (before)")
    await h.act("local_list_fails", step="the station cannot store a local list")
    answer = await h.csms.call("SendLocalList", {
        "listVersion": 2, "updateType": "Full",
        "localAuthorizationList": [_entry(h.sut.tokens.valid)]}, step="SendLocalList (Full)")
    check(answer.get("status") == "Failed", "SendLocalList.conf", "Failed", answer)
    after = await _list_version(h, step="GetLocalListVersion (after)")
    check(after == before, "GetLocalListVersion.conf",
          f"listVersion {before} (the failed list was not stored)", after)
