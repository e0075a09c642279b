"""OCPP 2.0.1 block K (Smart Charging), CSMS under test: external charging limits.

Use cases K12 (Set / Update External Charging Limit without ongoing transaction) and K13
(Reset / Release External Charging Limit): an external control system (here an EMS) imposes
or releases a limit at the station, which tells the CSMS with NotifyChargingLimitRequest or
ClearedChargingLimitRequest; with a transaction running, the changed rate follows as a
TransactionEventRequest (triggerReason ChargingRateChanged). The CSMS answers each (a
schema-valid response, no CALLERROR); asked for the profiles a station holds (K09), it takes a
report of the ChargingStationExternalConstraints profile the limit became.

These cases are outside OCA's certification programme (the catalogue says so); they count with
the Smart Charging profile for scope.
"""

from __future__ import annotations

import pytest

from conformance.csms.harness import (
    StationPool,
    check,
    csms_sends,
    energy_transfer_started_201,
)
from conformance.csms.smart_charging201 import EVSE, charging_profile, new_tx_id
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

EXTERNAL = "ChargingStationExternalConstraints"
EMS_LIMIT_A = 10.0  # the limit the EMS imposes


def _ems_schedule(schedule_id: int) -> dict[str, object]:
    return {"id": schedule_id, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": EMS_LIMIT_A}]}


@pytest.mark.case("TC_K_48_CSMS")
async def test_TC_K_48_CSMS(stations: StationPool) -> None:
    """Set / Update External Charging Limit, not on a transaction (K12).

    Steps: "Booted"; the station sends NotifyChargingLimitRequest (chargingLimit with
    chargingLimitSource EMS, isGridCritical false; evseId 1; the EMS's chargingSchedule).
    Validated: the CSMS responds with a (schema-valid) NotifyChargingLimitResponse.
    """
    station = await stations.booted()
    await station.call("NotifyChargingLimit", {
        "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False},
        "evseId": EVSE, "chargingSchedule": [_ems_schedule(48)]},
        step="NotifyChargingLimitRequest")


@pytest.mark.case("TC_K_50_CSMS")
async def test_TC_K_50_CSMS(stations: StationPool) -> None:
    """Reset / release external charging limit, without ongoing transaction (K13).

    Steps: "Booted"; the station sends ClearedChargingLimitRequest (chargingLimitSource EMS,
    evseId 1).
    Validated: the CSMS responds with a (schema-valid) ClearedChargingLimitResponse.
    """
    station = await stations.booted()
    await station.call("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": EVSE},
                       step="ClearedChargingLimitRequest")


@pytest.mark.case("TC_K_51_CSMS")
async def test_TC_K_51_CSMS(stations: StationPool, sut: Sut) -> None:
    """Reset / release external charging limit, with ongoing transaction (K13).

    Steps: "EnergyTransferStarted" on EVSE 1; the station sends ClearedChargingLimitRequest
    (chargingLimitSource EMS, evseId 1); then TransactionEventRequest eventType Updated,
    triggerReason ChargingRateChanged (chargingState Charging).
    Validated: the CSMS responds with a ClearedChargingLimitResponse and a
    TransactionEventResponse (both schema-valid).
    """
    station = await stations.booted()
    tx = await energy_transfer_started_201(station, sut.tokens.valid, new_tx_id("K51"))
    await station.call("ClearedChargingLimit", {"chargingLimitSource": "EMS", "evseId": EVSE},
                       step="ClearedChargingLimitRequest")
    await tx.event("Updated", "ChargingRateChanged", charging_state="Charging",
                   step="TransactionEventRequest Updated ChargingRateChanged")


@pytest.mark.case("TC_K_52_CSMS")
async def test_TC_K_52_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set / Update External Charging Limit, ChargingStationExternalConstraints in the report
    (K12 with K09).

    Steps: "Booted"; the station sends NotifyChargingLimitRequest (chargingLimitSource EMS,
    evseId 1, the EMS's schedule), answered; the CSMS sends GetChargingProfilesRequest for
    the external constraints (the trigger asks for chargingProfilePurpose
    ChargingStationExternalConstraints), answered Accepted; the station sends
    ReportChargingProfilesRequest (the request's requestId, chargingLimitSource EMS, evseId 1,
    a profile with chargingProfilePurpose ChargingStationExternalConstraints).
    Validated: the GetChargingProfilesRequest has a requestId and selects the external
    constraints (chargingProfilePurpose ChargingStationExternalConstraints, or
    chargingLimitSource with EMS); the CSMS responds with a ReportChargingProfilesResponse.
    """
    station = await stations.booted()
    await station.call("NotifyChargingLimit", {
        "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False},
        "evseId": EVSE, "chargingSchedule": [_ems_schedule(52)]},
        step="NotifyChargingLimitRequest")
    step = "GetChargingProfilesRequest"
    call = await csms_sends(station, triggers, "GetChargingProfiles", {
        "requestId": 752, "chargingProfile": {"chargingProfilePurpose": EXTERNAL}},
        {"status": "Accepted"}, step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    check(isinstance(got.get("requestId"), int), step, "a requestId", got)
    criterion = got.get("chargingProfile", {})
    check(criterion.get("chargingProfilePurpose") == EXTERNAL
          or "EMS" in (criterion.get("chargingLimitSource") or []), step,
          f"chargingProfile selecting the external constraints (chargingProfilePurpose "
          f"{EXTERNAL} or chargingLimitSource EMS)", got)
    profile = charging_profile(952, EXTERNAL, limit=EMS_LIMIT_A)
    await station.call("ReportChargingProfiles", {
        "requestId": got["requestId"], "chargingLimitSource": "EMS", "evseId": EVSE,
        "tbc": False, "chargingProfile": [profile]}, step="ReportChargingProfilesRequest")
