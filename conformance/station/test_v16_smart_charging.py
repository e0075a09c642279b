"""OCPP 1.6 Smart Charging, charging station under test (test case document FINAL 2024-04)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import (
    Harness,
    check,
    parse_utc,
    periods_match,
    started_earlier,
    transaction_id,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMIT_A = 10.0


def _profile(purpose: str, *, profile_id: int = 11, stack: int = 0, limit: float = LIMIT_A,
             transaction: int | None = None) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "chargingProfileId": profile_id, "stackLevel": stack,
        "chargingProfilePurpose": purpose, "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": limit}]}}
    if transaction is not None:
        profile["transactionId"] = transaction
    return profile


async def _set(h: Harness, connector: int, profile: dict[str, Any], *, step: str
               ) -> dict[str, Any] | Exception:
    return await h.csms.call_or_error("SetChargingProfile", {
        "connectorId": connector, "csChargingProfiles": profile}, step=step)


async def _composite_limits(h: Harness, *, step: str) -> list[float]:
    answer = await h.csms.call("GetCompositeSchedule", {
        "connectorId": 1, "duration": 300, "chargingRateUnit": "A"}, step=step)
    check(answer.get("status") == "Accepted", "GetCompositeSchedule.conf", "Accepted", answer)
    periods = (answer.get("chargingSchedule") or {}).get("chargingSchedulePeriod", [])
    return [float(p["limit"]) for p in periods]


@pytest.mark.case("TC_056_CS")
async def test_TC_056_CS(h: Harness) -> None:
    """Central smart charging, TxDefaultProfile: SetChargingProfile (TxDefaultProfile,
    connector 1) Accepted; the station's composite schedule for the connector then holds its
    limit."""
    await h.booted()
    answer = await _set(h, 1, _profile("TxDefaultProfile"), step="SetChargingProfile")
    check(isinstance(answer, dict) and answer.get("status") == "Accepted",
          "SetChargingProfile.conf", "Accepted", answer)
    limits = await _composite_limits(h, step="GetCompositeSchedule")
    check(bool(limits) and max(limits) <= LIMIT_A, "GetCompositeSchedule.conf",
          f"a schedule limited to {LIMIT_A:g} A", limits)


@pytest.mark.case("TC_058_1_CS")
async def test_TC_058_1_CS(h: Harness) -> None:
    """TxProfile without an ongoing transaction: Rejected, or a CALLERROR (the document
    accepts either)."""
    await h.booted()
    answer = await _set(h, 1, _profile("TxProfile", transaction=1), step="SetChargingProfile")
    check(not isinstance(answer, dict) or answer.get("status") == "Rejected",
          "SetChargingProfile.conf", "Rejected or a CALLERROR", answer)


@pytest.mark.case("TC_058_2_CS")
async def test_TC_058_2_CS(h: Harness) -> None:
    """TxProfile with a wrong transactionId while charging: Rejected, or a CALLERROR."""
    await h.booted()
    start = await h.charging16(h.sut.tokens.valid)
    wrong = transaction_id(start) + 1000
    answer = await _set(h, 1, _profile("TxProfile", transaction=wrong),
                        step="SetChargingProfile")
    check(not isinstance(answer, dict) or answer.get("status") == "Rejected",
          "SetChargingProfile.conf", "Rejected or a CALLERROR", answer)


@pytest.mark.case("TC_067_CS")
async def test_TC_067_CS(h: Harness) -> None:
    """Clear charging profile: a TxDefaultProfile set, then ClearChargingProfile by its id
    Accepted; clearing it again finds nothing (Unknown), so it is gone."""
    await h.booted()
    answer = await _set(h, 1, _profile("TxDefaultProfile", limit=LIMIT_A),
                        step="SetChargingProfile")
    check(isinstance(answer, dict) and answer.get("status") == "Accepted",
          "SetChargingProfile.conf", "Accepted", answer)
    cleared = await h.csms.call("ClearChargingProfile", {"id": 11},
                                step="ClearChargingProfile")
    check(cleared.get("status") == "Accepted", "ClearChargingProfile.conf", "Accepted", cleared)
    again = await h.csms.call("ClearChargingProfile", {"id": 11},
                              step="ClearChargingProfile again")
    check(again.get("status") == "Unknown", "ClearChargingProfile.conf (again)", "Unknown",
          again)


@pytest.mark.case("TC_059_CS")
async def test_TC_059_CS(h: Harness) -> None:
    """Remote start with a charging profile: (cable plugged in) RemoteStartTransaction with a
    TxProfile Accepted; StartTransaction; Charging; the composite schedule of the connector
    then follows the profile's limit."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    answer = await h.csms.call("RemoteStartTransaction", {
        "connectorId": 1, "idTag": h.sut.tokens.valid,
        "chargingProfile": _profile("TxProfile", profile_id=12)},
        step="RemoteStartTransaction")
    check(answer.get("status") == "Accepted", "RemoteStartTransaction.conf", "Accepted", answer)
    await h.csms.receive("StartTransaction", step="StartTransaction")
    await h.status(1, "Charging", step="StatusNotification Charging")
    limits = await _composite_limits(h, step="GetCompositeSchedule")
    check(bool(limits) and max(limits) <= LIMIT_A, "GetCompositeSchedule.conf",
          f"a schedule limited to {LIMIT_A:g} A (the TxProfile)", limits)


@pytest.mark.case("TC_057_CS")
async def test_TC_057_CS(h: Harness) -> None:
    """Central smart charging, TxProfile: charging; SetChargingProfile (TxProfile with the
    transactionId of the running transaction, connector 1) Accepted; the composite schedule
    of the connector then holds its limit."""
    await h.booted()
    start = await h.charging16(h.sut.tokens.valid)
    answer = await _set(h, 1, _profile("TxProfile", transaction=transaction_id(start)),
                        step="SetChargingProfile")
    check(isinstance(answer, dict) and answer.get("status") == "Accepted",
          "SetChargingProfile.conf", "Accepted", answer)
    limits = await _composite_limits(h, step="GetCompositeSchedule")
    check(bool(limits) and max(limits) <= LIMIT_A, "GetCompositeSchedule.conf",
          f"a schedule limited to {LIMIT_A:g} A (the TxProfile)", limits)


@pytest.mark.case("TC_060_CS")
async def test_TC_060_CS(h: Harness) -> None:
    """Remote start with a charging profile, Rejected: (cable plugged in)
    RemoteStartTransaction whose chargingProfile is not a TxProfile (TxDefaultProfile) is
    answered Rejected, or with a CALLERROR; no transaction starts."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Preparing", step="StatusNotification Preparing")
    answer = await h.csms.call_or_error("RemoteStartTransaction", {
        "connectorId": 1, "idTag": h.sut.tokens.valid,
        "chargingProfile": _profile("TxDefaultProfile", profile_id=13)},
        step="RemoteStartTransaction")
    check(not isinstance(answer, dict) or answer.get("status") == "Rejected",
          "RemoteStartTransaction.conf", "Rejected or a CALLERROR", answer)
    await h.csms.nothing("StartTransaction", step="no StartTransaction", within_s=1.0)


@pytest.mark.case("TC_082_CS")
async def test_TC_082_CS(h: Harness) -> None:
    """Central smart charging, TxDefaultProfile with an ongoing transaction: charging;
    SetChargingProfile (TxDefaultProfile, connector 1) Accepted; the composite schedule of the
    connector then holds its limit."""
    await h.booted()
    await h.charging16(h.sut.tokens.valid)
    answer = await _set(h, 1, _profile("TxDefaultProfile"), step="SetChargingProfile")
    check(isinstance(answer, dict) and answer.get("status") == "Accepted",
          "SetChargingProfile.conf", "Accepted", answer)
    limits = await _composite_limits(h, step="GetCompositeSchedule")
    check(bool(limits) and max(limits) <= LIMIT_A, "GetCompositeSchedule.conf",
          f"a schedule limited to {LIMIT_A:g} A (the TxDefaultProfile)", limits)


def _absolute(profile_id: int, stack: int, duration: int, start: str,
              periods: list[tuple[int, float]]) -> dict[str, Any]:
    return {"chargingProfileId": profile_id, "stackLevel": stack,
            "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
            "validFrom": start,
            "chargingSchedule": {"duration": duration, "startSchedule": start,
                                 "chargingRateUnit": "A", "chargingSchedulePeriod": [
                                     {"startPeriod": s, "limit": limit} for s, limit in periods]}}


@pytest.mark.case("TC_072_CS")
async def test_TC_072_CS(h: Harness) -> None:
    """Stacking charging profiles: a TxDefaultProfile at stackLevel 0 (Absolute, 400 s: 6 A
    from 0 s, 8 A from 100 s, 10 A from 200 s) and one at stackLevel 1 (150 s: 7 A from 0 s,
    9 A from 100 s), both starting now (less the maximum clock deviation) and Accepted;
    GetCompositeSchedule (350 s) gives 7 A at 0, 9 A at 100 - x, 8 A at 150 - x and 10 A at
    200 - x, x the time from the profiles' start to the schedule's start."""
    await h.booted()
    start = started_earlier()
    for profile in (_absolute(21, 0, 400, start, [(0, 6.0), (100, 8.0), (200, 10.0)]),
                    _absolute(22, 1, 150, start, [(0, 7.0), (100, 9.0)])):
        answer = await _set(h, 1, profile, step=f"SetChargingProfile stackLevel "
                                                f"{profile['stackLevel']}")
        check(isinstance(answer, dict) and answer.get("status") == "Accepted",
              "SetChargingProfile.conf", "Accepted", answer)
    answer = await h.csms.call("GetCompositeSchedule", {
        "connectorId": 1, "duration": 350, "chargingRateUnit": "A"},
        step="GetCompositeSchedule")
    check(answer.get("status") == "Accepted", "GetCompositeSchedule.conf", "Accepted", answer)
    schedule = answer.get("chargingSchedule") or {}
    begun = schedule.get("startSchedule") or answer.get("scheduleStart") or start
    x = (parse_utc(begun) - parse_utc(start)).total_seconds()
    expected = [(0.0, 7.0), (100 - x, 9.0), (150 - x, 8.0), (200 - x, 10.0)]
    check(periods_match(schedule, expected), "GetCompositeSchedule.conf",
        "periods " + ", ".join(f"{limit:g} A at {at:.0f} s" for at, limit in expected),
        schedule.get("chargingSchedulePeriod"))


@pytest.mark.case("TC_066_CS")
async def test_TC_066_CS(h: Harness) -> None:
    """Get composite schedule: a ChargePointMaxProfile (connector 0: 10 A, 16 A from 200 s),
    a TxDefaultProfile (connector 1: 16 A, 8 A from 100 s) and, while charging, a TxProfile
    (6 A, 14 A from 50 s, for 150 s), all Absolute from now (less the maximum clock
    deviation) and Accepted;
    GetCompositeSchedule (connector 1, 300 s, A) gives the lowest of the maximum and the
    TxProfile, where it runs, else the TxDefaultProfile: 6 A at 0, 10 A at 50 - x, 8 A at
    150 - x (x the time from the profiles' start to the schedule's start)."""
    await h.booted()
    start = started_earlier()
    maximum = {**_absolute(31, 0, 600, start, [(0, 10.0), (200, 16.0)]),
               "chargingProfilePurpose": "ChargePointMaxProfile"}
    default = _absolute(32, 0, 600, start, [(0, 16.0), (100, 8.0)])
    for connector, profile in ((0, maximum), (1, default)):
        answer = await _set(h, connector, profile, step=f"SetChargingProfile "
                                                        f"{profile['chargingProfilePurpose']}")
        check(isinstance(answer, dict) and answer.get("status") == "Accepted",
              "SetChargingProfile.conf", "Accepted", answer)
    started = await h.charging16(h.sut.tokens.valid)
    tx_profile = {**_absolute(33, 0, 150, start, [(0, 6.0), (50, 14.0)]),
                  "chargingProfilePurpose": "TxProfile",
                  "transactionId": transaction_id(started)}
    answer = await _set(h, 1, tx_profile, step="SetChargingProfile TxProfile")
    check(isinstance(answer, dict) and answer.get("status") == "Accepted",
          "SetChargingProfile.conf", "Accepted", answer)
    answer = await h.csms.call("GetCompositeSchedule", {
        "connectorId": 1, "duration": 300, "chargingRateUnit": "A"},
        step="GetCompositeSchedule")
    check(answer.get("status") == "Accepted", "GetCompositeSchedule.conf", "Accepted", answer)
    schedule = answer.get("chargingSchedule") or {}
    begun = schedule.get("startSchedule") or answer.get("scheduleStart") or start
    x = (parse_utc(begun) - parse_utc(start)).total_seconds()
    expected = [(0.0, 6.0), (50 - x, 10.0), (150 - x, 8.0)]
    check(periods_match(schedule, expected), "GetCompositeSchedule.conf",
          "periods " + ", ".join(f"{limit:g} A at {at:.0f} s" for at, limit in expected),
          schedule.get("chargingSchedulePeriod"))

