"""OCPP 1.6 Smart Charging, charging station under test (test case document FINAL 2024-04)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check, transaction_id

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
