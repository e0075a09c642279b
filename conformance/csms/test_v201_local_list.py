"""OCPP 2.0.1 block D (Local Authorization List Management), CSMS under test.

Use cases D01 (Send Local List) and D02 (Get Local List Version). The operator's action in the
CSMS ("send the list", "ask the list version") is the trigger; the suite plays the station.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    booted_station,
    check,
    csms_sends,
    id_token,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


def _entry(token: str, status: str | None = "Accepted") -> dict[str, Any]:
    entry: dict[str, Any] = {"idToken": id_token(token)}
    if status is not None:
        entry["idTokenInfo"] = {"status": status}
    return entry


async def _send_local_list(station: TestStation, triggers: Triggers, sut: Sut,
                           payload: dict[str, Any]) -> IncomingCall:
    """Steps 1-2 of D_01..D_04: the CSMS sends SendLocalListRequest, the station answers
    Accepted."""
    return await csms_sends(station, triggers, "SendLocalList", payload, {"status": "Accepted"},
                            step="SendLocalListRequest", timeout_s=sut.action_timeout_s)


def _check_version(call: IncomingCall) -> None:
    version = call.payload.get("versionNumber")
    # versionNumber 0 means "no local list" (GetLocalListVersion, D02): a list sent has one above
    check(isinstance(version, int) and version > 0, "SendLocalListRequest",
          "versionNumber above 0", call.payload)


@pytest.mark.case("TC_D_01_CSMS")
async def test_TC_D_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send Local Authorization List - Full (D01).

    Before: Booted. Steps: 1. the CSMS sends SendLocalListRequest; 2. the station answers
    Accepted. Validated: updateType Full, versionNumber above 0, a localAuthorizationList with
    at least one entry, every entry with its idTokenInfo (a full list replaces the station's
    list: entries without idTokenInfo would be removals, only meaningful in a differential
    update)."""
    station = await booted_station(stations)
    call = await _send_local_list(station, triggers, sut, {
        "versionNumber": 1, "updateType": "Full",
        "localAuthorizationList": [_entry(sut.tokens.valid), _entry(sut.tokens.valid_2)]})
    check(call.payload.get("updateType") == "Full", "SendLocalListRequest", "updateType Full",
          call.payload)
    _check_version(call)
    entries = call.payload.get("localAuthorizationList") or []
    check(len(entries) > 0, "SendLocalListRequest", "a non-empty localAuthorizationList",
          call.payload)
    check(all("idTokenInfo" in e for e in entries), "SendLocalListRequest",
          "every entry of a full list with idTokenInfo", call.payload)


@pytest.mark.case("TC_D_02_CSMS")
async def test_TC_D_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send Local Authorization List - Differential Update (D01).

    Before: Booted. Steps: 1. the CSMS sends SendLocalListRequest (differential, adding or
    updating an entry); 2. the station answers Accepted. Validated: updateType Differential,
    versionNumber above 0, a localAuthorizationList whose entries carry idTokenInfo (an update,
    not a removal)."""
    station = await booted_station(stations)
    call = await _send_local_list(station, triggers, sut, {
        "versionNumber": 2, "updateType": "Differential",
        "localAuthorizationList": [_entry(sut.tokens.valid_2)]})
    check(call.payload.get("updateType") == "Differential", "SendLocalListRequest",
          "updateType Differential", call.payload)
    _check_version(call)
    entries = call.payload.get("localAuthorizationList") or []
    check(len(entries) > 0 and all("idTokenInfo" in e for e in entries),
          "SendLocalListRequest", "entries to add or update, each with idTokenInfo",
          call.payload)


@pytest.mark.case("TC_D_03_CSMS")
async def test_TC_D_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send Local Authorization List - Differential Remove (D01).

    Before: Booted. Steps: 1. the CSMS sends SendLocalListRequest (differential, removing an
    entry); 2. the station answers Accepted. Validated: updateType Differential, versionNumber
    above 0, a localAuthorizationList whose entries have no idTokenInfo (an entry without
    idTokenInfo is removed from the station's list)."""
    station = await booted_station(stations)
    call = await _send_local_list(station, triggers, sut, {
        "versionNumber": 3, "updateType": "Differential",
        "localAuthorizationList": [_entry(sut.tokens.valid_2, None)]})
    check(call.payload.get("updateType") == "Differential", "SendLocalListRequest",
          "updateType Differential", call.payload)
    _check_version(call)
    entries = call.payload.get("localAuthorizationList") or []
    check(len(entries) > 0 and not any("idTokenInfo" in e for e in entries),
          "SendLocalListRequest", "entries to remove, without idTokenInfo", call.payload)


@pytest.mark.case("TC_D_04_CSMS")
async def test_TC_D_04_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send Local Authorization List - Full with empty list (D01).

    Before: Booted. Steps: 1. the CSMS sends SendLocalListRequest (full, no entries: the
    station's list is emptied); 2. the station answers Accepted. Validated: updateType Full,
    versionNumber above 0, localAuthorizationList absent or empty."""
    station = await booted_station(stations)
    call = await _send_local_list(station, triggers, sut, {
        "versionNumber": 4, "updateType": "Full"})
    check(call.payload.get("updateType") == "Full", "SendLocalListRequest", "updateType Full",
          call.payload)
    _check_version(call)
    check(not call.payload.get("localAuthorizationList"), "SendLocalListRequest",
          "no localAuthorizationList, or an empty one", call.payload)


async def _get_version(stations: StationPool, triggers: Triggers, sut: Sut,
                       answer: int) -> None:
    station = await booted_station(stations)
    waiting = station.expect("GetLocalListVersion")
    handle = triggers.start("GetLocalListVersion", station.identity, {})
    call = await station.receive("GetLocalListVersion", sut.action_timeout_s,
                                 step="GetLocalListVersionRequest", waiting=waiting)
    call.respond({"versionNumber": answer})
    check(call.payload == {} or set(call.payload) <= {"customData"},
          "GetLocalListVersionRequest", "an empty request", call.payload)
    outcome = await handle.outcome(sut.answer_timeout_s)
    check(outcome.ok, "GetLocalListVersionResponse",
          f"the CSMS to take versionNumber {answer}", outcome.detail)


@pytest.mark.case("TC_D_08_CSMS")
async def test_TC_D_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Local List Version - Success (D02).

    Before: Booted. Steps: 1. the CSMS sends GetLocalListVersionRequest; 2. the station
    answers with its list's versionNumber (above 0). Validated: the CSMS sends the request
    (empty payload) and takes the answer."""
    await _get_version(stations, triggers, sut, 4)


@pytest.mark.case("TC_D_09_CSMS")
async def test_TC_D_09_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Local List Version - No list available (D02).

    Before: Booted. Steps: 1. the CSMS sends GetLocalListVersionRequest; 2. the station
    answers versionNumber 0 (no local list). Validated: the CSMS sends the request
    (empty payload) and takes the answer."""
    await _get_version(stations, triggers, sut, 0)
