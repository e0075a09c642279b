"""OCPP 1.6 Local Auth List Management profile, CSMS under test (1.6 5.10, 5.15).

The suite plays the Charge Point; each docstring lists the case's steps and what is validated.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import StationPool, check, csms_sends, now_iso
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


async def _list_version(stations: StationPool, triggers: Triggers, sut: Sut,
                        version: int) -> None:
    station = await stations.booted()
    call = await csms_sends(station, triggers, "GetLocalListVersion", {},
                            {"listVersion": version}, step="GetLocalListVersion.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload == {}, "GetLocalListVersion.req", "an empty GetLocalListVersion.req",
          call.payload)


@pytest.mark.case("TC_042_1_CSMS")
async def test_TC_042_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get local list version, not supported (1.6 5.10).

    Steps: the Central System sends GetLocalListVersion.req; the Charge Point (no local list
    support) answers listVersion -1.
    Validated: a (schema-valid, empty) GetLocalListVersion.req arrives.
    """
    await _list_version(stations, triggers, sut, -1)


@pytest.mark.case("TC_042_2_CSMS")
async def test_TC_042_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get local list version, empty list (1.6 5.10).

    Steps: the Central System sends GetLocalListVersion.req; the Charge Point (no list
    installed) answers listVersion 0.
    Validated: a (schema-valid, empty) GetLocalListVersion.req arrives.
    """
    await _list_version(stations, triggers, sut, 0)


def _entry(token: str, group: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": "Accepted", "expiryDate": now_iso(86400)}
    if group:
        info["parentIdTag"] = group
    return {"idTag": token, "idTagInfo": info}


async def _send_list(station: TestStation, triggers: Triggers, sut: Sut, update_type: str,
                     version: int, entries: list[dict[str, Any]], answer: str, *,
                     step: str = "SendLocalList.req") -> IncomingCall:
    call = await csms_sends(station, triggers, "SendLocalList",
                            {"listVersion": version, "updateType": update_type,
                             "localAuthorizationList": entries},
                            {"status": answer}, step=step, timeout_s=sut.action_timeout_s)
    payload = call.payload
    check(payload.get("updateType") == update_type, step, f"updateType {update_type}", payload)
    check(isinstance(payload.get("listVersion"), int) and payload["listVersion"] > 0, step,
          "a listVersion above 0", payload)
    return call


def _tags(call: IncomingCall) -> list[str]:
    return [e.get("idTag") for e in call.payload.get("localAuthorizationList") or []]


@pytest.mark.case("TC_043_1_CSMS")
async def test_TC_043_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send local authorization list, NotSupported (1.6 5.15).

    Steps: the Central System sends SendLocalList.req (updateType Full, a listVersion, the
    list); the Charge Point answers NotSupported.
    Validated: SendLocalList.req with updateType Full and a listVersion above 0.
    """
    station = await stations.booted()
    await _send_list(station, triggers, sut, "Full", 1, [_entry(sut.tokens.valid)],
                     "NotSupported")


@pytest.mark.case("TC_043_3_CSMS")
async def test_TC_043_3_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send local authorization list, Failed (1.6 5.15).

    Steps: the Central System sends SendLocalList.req (updateType Full); the Charge Point
    cannot store it and answers Failed.
    Validated: SendLocalList.req with updateType Full and a listVersion above 0.
    """
    station = await stations.booted()
    await _send_list(station, triggers, sut, "Full", 1, [_entry(sut.tokens.valid)], "Failed")


@pytest.mark.case("TC_043_4_CSMS")
async def test_TC_043_4_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send local authorization list, Full (1.6 5.15).

    Steps: the Central System sends SendLocalList.req with updateType Full, a listVersion and
    the list (the valid tags); the Charge Point answers Accepted.
    Validated: updateType Full; listVersion above 0; the list holds the valid tag, every entry
    with an idTagInfo (a Full update replaces the whole list, so entries carry their info).
    """
    station = await stations.booted()
    call = await _send_list(station, triggers, sut, "Full", 1,
                            [_entry(sut.tokens.valid), _entry(sut.tokens.valid_2)], "Accepted")
    entries = call.payload.get("localAuthorizationList") or []
    check(sut.tokens.valid in _tags(call), "SendLocalList.req",
          f"localAuthorizationList with {sut.tokens.valid}", call.payload)
    check(all(isinstance(e.get("idTagInfo"), dict) for e in entries), "SendLocalList.req",
          "every entry of a Full list with its idTagInfo", call.payload)


@pytest.mark.case("TC_043_5_CSMS")
async def test_TC_043_5_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Send local authorization list, Differential (1.6 5.15).

    Before: a Full list holding the first valid tag is installed (SendLocalList Full,
    Accepted; the Charge Point reports that version if asked with GetLocalListVersion).
    Steps: the Central System sends SendLocalList.req with updateType Differential adding the
    second valid tag; the Charge Point answers Accepted.
    Validated: updateType Differential; a listVersion higher than the installed list's; the
    list holds only the new entry (the second valid tag), with its idTagInfo.
    """
    station = await stations.booted()
    full = await _send_list(station, triggers, sut, "Full", 1, [_entry(sut.tokens.valid)],
                            "Accepted", step="SendLocalList.req (Full, before)")
    installed = int(full.payload["listVersion"])
    station.answers["GetLocalListVersion"] = {"listVersion": installed}
    call = await _send_list(station, triggers, sut, "Differential", installed + 1,
                            [_entry(sut.tokens.valid_2)], "Accepted")
    check(call.payload["listVersion"] > installed, "SendLocalList.req",
          f"a listVersion above the installed {installed}", call.payload)
    check(_tags(call) == [sut.tokens.valid_2], "SendLocalList.req",
          f"only the new entry {sut.tokens.valid_2}", call.payload)
    entry = (call.payload.get("localAuthorizationList") or [{}])[0]
    check(entry.get("idTagInfo", {}).get("status") == "Accepted", "SendLocalList.req",
          "the new entry with idTagInfo.status Accepted", call.payload)
