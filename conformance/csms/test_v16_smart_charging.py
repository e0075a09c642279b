"""OCPP 1.6 Smart Charging profile, CSMS under test (test case document FINAL 2024-04).

The Central System installs charging profiles (SetChargingProfile, RemoteStartTransaction with
a chargingProfile), asks for the composite schedule and clears profiles (1.6 section 3.13,
5.5, 5.7, 5.11, 5.16; the ChargingProfile and ChargingSchedule types).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    check,
    csms_sends,
    energy_transfer_started_16,
    now_iso,
    status_payload,
)
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


def _profile(purpose: str, profile_id: int, *, transaction_id: int | None = None,
             kind: str = "Absolute") -> dict[str, Any]:
    """A charging profile the trigger asks the Central System for: 16 A, then 10 A."""
    profile: dict[str, Any] = {
        "chargingProfileId": profile_id, "stackLevel": 0, "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind, "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0}, {"startPeriod": 600, "limit": 10.0}]}}
    if kind == "Absolute":
        profile["chargingSchedule"]["startSchedule"] = now_iso()
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


def _check_schedule(profile: dict[str, Any], step: str) -> None:
    periods = profile.get("chargingSchedule", {}).get("chargingSchedulePeriod") or []
    check(bool(periods), step, "a chargingSchedule with at least one period", profile)
    starts = [p.get("startPeriod") for p in periods]
    check(starts == sorted(starts) and len(set(starts)) == len(starts), step,
          "chargingSchedulePeriods in increasing startPeriod order", profile)


@pytest.mark.case("TC_056_CSMS")
async def test_TC_056_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Central smart charging, TxDefaultProfile.

    Steps: Booted; the Central System sends SetChargingProfile.req with a TxDefaultProfile;
    the station answers Accepted.
    Validated: csChargingProfiles.chargingProfilePurpose TxDefaultProfile; no transactionId
    (only a TxProfile has one: ChargingProfile.transactionId); connectorId 0 (all connectors)
    or an existing connector; a charging schedule with at least one period, in increasing
    startPeriod order (ChargingSchedule).
    """
    station = await stations.booted()
    call = await csms_sends(station, triggers, "SetChargingProfile",
                            {"connectorId": 0,
                             "csChargingProfiles": _profile("TxDefaultProfile", 5601)},
                            {"status": "Accepted"}, step="SetChargingProfile.req",
                            timeout_s=sut.action_timeout_s)
    profile = call.payload.get("csChargingProfiles", {})
    check(profile.get("chargingProfilePurpose") == "TxDefaultProfile",
          "SetChargingProfile.req", "chargingProfilePurpose TxDefaultProfile", call.payload)
    check("transactionId" not in profile, "SetChargingProfile.req",
          "no transactionId in a TxDefaultProfile", call.payload)
    check(call.payload.get("connectorId") in range(0, sut.stations[0].evses + 1),
          "SetChargingProfile.req", "connectorId 0 or an existing connector", call.payload)
    _check_schedule(profile, "SetChargingProfile.req")


@pytest.mark.case("TC_057_CSMS")
async def test_TC_057_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Central smart charging, TxProfile.

    Steps: Booted; a transaction is charging on connector 1 (Authorize, StartTransaction,
    StatusNotification Charging); the Central System sends SetChargingProfile.req with a
    TxProfile for it; the station answers Accepted.
    Validated: connectorId is the transaction's connector (a TxProfile is never for connector
    0, 1.6 §5.16); chargingProfilePurpose TxProfile; transactionId the running transaction's
    id (ChargingProfile.transactionId); a charging schedule with at least one period, in
    increasing startPeriod order.
    """
    station = await stations.booted()
    transaction_id = await energy_transfer_started_16(station, sut.tokens.valid)
    call = await csms_sends(station, triggers, "SetChargingProfile",
                            {"connectorId": 1, "csChargingProfiles": _profile(
                                "TxProfile", 5701, transaction_id=transaction_id,
                                kind="Relative")},
                            {"status": "Accepted"}, step="SetChargingProfile.req",
                            timeout_s=sut.action_timeout_s)
    profile = call.payload.get("csChargingProfiles", {})
    check(call.payload.get("connectorId") == 1, "SetChargingProfile.req",
          "connectorId 1 (the transaction's connector)", call.payload)
    check(profile.get("chargingProfilePurpose") == "TxProfile", "SetChargingProfile.req",
          "chargingProfilePurpose TxProfile", call.payload)
    check(profile.get("transactionId") == transaction_id, "SetChargingProfile.req",
          f"transactionId {transaction_id}", call.payload)
    _check_schedule(profile, "SetChargingProfile.req")


@pytest.mark.case("TC_059_CSMS")
async def test_TC_059_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start transaction with a charging profile.

    Steps: Booted; the Central System sends RemoteStartTransaction.req with the valid idTag and
    a chargingProfile; the station answers Accepted, reports Preparing, sends
    StartTransaction.req and StatusNotification Charging.
    Validated: RemoteStartTransaction.req idTag is the valid tag; its chargingProfile has
    purpose TxProfile (1.6 §5.11) and no transactionId (there is none yet), and a
    charging schedule with at least one period; StartTransaction.conf idTagInfo.status
    Accepted.
    """
    station = await stations.booted()
    call = await csms_sends(station, triggers, "RemoteStartTransaction",
                            {"connectorId": 1, "idTag": sut.tokens.valid,
                             "chargingProfile": _profile("TxProfile", 5901, kind="Relative")},
                            {"status": "Accepted"}, step="RemoteStartTransaction.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("idTag") == sut.tokens.valid, "RemoteStartTransaction.req",
          f"idTag {sut.tokens.valid}", call.payload)
    profile = call.payload.get("chargingProfile")
    check(isinstance(profile, dict), "RemoteStartTransaction.req", "a chargingProfile",
          call.payload)
    assert isinstance(profile, dict)
    check(profile.get("chargingProfilePurpose") == "TxProfile", "RemoteStartTransaction.req",
          "chargingProfile.chargingProfilePurpose TxProfile", call.payload)
    check("transactionId" not in profile, "RemoteStartTransaction.req",
          "no chargingProfile.transactionId", call.payload)
    _check_schedule(profile, "RemoteStartTransaction.req")
    connector = call.payload.get("connectorId", 1)
    await station.call("StatusNotification", status_payload(station.version, connector,
                                                            "Preparing"),
                       step="StatusNotification Preparing")
    started = await station.call("StartTransaction", {
        "connectorId": connector, "idTag": call.payload["idTag"], "meterStart": 0,
        "timestamp": now_iso()}, step="StartTransaction")
    check(started.get("idTagInfo", {}).get("status") == "Accepted", "StartTransaction.conf",
          "idTagInfo.status Accepted", started)
    await station.call("StatusNotification", status_payload(station.version, connector,
                                                            "Charging"),
                       step="StatusNotification Charging")


@pytest.mark.case("TC_066_CSMS")
async def test_TC_066_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get composite schedule.

    Steps: Booted; the Central System sends GetCompositeSchedule.req; the station answers
    Accepted with its composite schedule.
    Validated: connectorId 0 (the station's total) or an existing connector; duration above 0;
    chargingRateUnit, if given, A or W (schema) (1.6 §5.7).
    """
    station = await stations.booted()
    call = await csms_sends(station, triggers, "GetCompositeSchedule",
                            {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
                            None, step="GetCompositeSchedule.req",
                            timeout_s=sut.action_timeout_s)
    connector = call.payload.get("connectorId")
    call.respond({"status": "Accepted", "connectorId": connector if isinstance(connector, int)
                  else 1, "scheduleStart": now_iso(), "chargingSchedule": {
                      "duration": call.payload.get("duration", 3600), "chargingRateUnit":
                      call.payload.get("chargingRateUnit", "A"),
                      "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}})
    check(connector in range(0, sut.stations[0].evses + 1), "GetCompositeSchedule.req",
          "connectorId 0 or an existing connector", call.payload)
    check(isinstance(call.payload.get("duration"), int) and call.payload["duration"] > 0,
          "GetCompositeSchedule.req", "a duration above 0 s", call.payload)


@pytest.mark.case("TC_067_CSMS")
async def test_TC_067_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear charging profile.

    Steps: Booted; the Central System installs a TxDefaultProfile (SetChargingProfile.req,
    Accepted), then sends ClearChargingProfile.req for it; the station answers Accepted.
    Validated: the ClearChargingProfile.req selects the installed profile: its id, or (without
    an id) criteria that all match it: connectorId, chargingProfilePurpose, stackLevel
    (1.6 §5.5).
    """
    station = await stations.booted()
    set_call = await csms_sends(station, triggers, "SetChargingProfile",
                                {"connectorId": 0,
                                 "csChargingProfiles": _profile("TxDefaultProfile", 6701)},
                                {"status": "Accepted"}, step="SetChargingProfile.req",
                                timeout_s=sut.action_timeout_s)
    installed = set_call.payload.get("csChargingProfiles", {})
    profile_id = installed.get("chargingProfileId")
    call = await csms_sends(station, triggers, "ClearChargingProfile", {"id": profile_id},
                            {"status": "Accepted"}, step="ClearChargingProfile.req",
                            timeout_s=sut.action_timeout_s)
    request = call.payload
    if "id" in request:
        check(request["id"] == profile_id, "ClearChargingProfile.req",
              f"id {profile_id} (the installed profile)", request)
    else:
        criteria = {"connectorId": set_call.payload.get("connectorId"),
                    "chargingProfilePurpose": installed.get("chargingProfilePurpose"),
                    "stackLevel": installed.get("stackLevel")}
        check(all(request.get(k, v) == v for k, v in criteria.items()),
              "ClearChargingProfile.req", f"criteria matching the installed profile "
              f"{criteria}", request)
