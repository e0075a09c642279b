"""OCPP 2.0.1 Smart Charging, charging station under test: SetChargingProfile and
ClearChargingProfile (use cases K01 and K10; Part 6 Edition 3, errata 2025-09).

The test system reads back what the station installed with GetChargingProfiles (the
ReportChargingProfiles that follow) and, where a profile must be in force on a running
transaction, with GetCompositeSchedule.
"""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check, tx_id201
from conformance.station.smart_charging201 import (
    EVSE,
    LIMIT_A,
    charging_profile,
    clear,
    composite_holds,
    composite_limits,
    in_unit,
    no_profiles,
    profile_unit,
    report_holds,
    set_accepted,
    set_rejected,
    unsupported_rate_unit,
)
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
STATION_MAX = "ChargingStationMaxProfile"
PROFILE_ID = 101
REPLACING_LIMIT_A = 6.0  # TC_K_04: the same profile again, with this limit
STACK_LEVEL = 1  # <Configured stackLevel> of the clear cases
UNKNOWN_TRANSACTION = "OCTT-UNKNOWN-TX"


async def _booted(h: Harness) -> str:
    """OCTT "Booted": the chargingRateUnit the case's profiles take."""
    await h.booted()
    return await profile_unit(h, step="GetVariables SmartChargingCtrlr.RateUnit")


async def _charging(h: Harness) -> tuple[str, str]:
    """Booted, then OCTT "EnergyTransferStarted" on the configured EVSE: the rate unit and the
    transactionId."""
    unit = await _booted(h)
    return unit, tx_id201(await h.charging201(h.sut.tokens.valid, evse=EVSE))


# -- K01 SetChargingProfile --------------------------------------------------------------------


@pytest.mark.case("TC_K_01_CS")
async def test_TC_K_01_CS(h: Harness) -> None:
    """TxDefaultProfile on a specific EVSE: SetChargingProfile (evseId 1, TxDefaultProfile)
    Accepted; GetChargingProfiles (evseId 1, purpose TxDefaultProfile) Accepted, and the
    ReportChargingProfiles give the profile as set on evseId 1, chargingLimitSource CSO."""
    profile = charging_profile(PROFILE_ID, TX_DEFAULT, unit=await _booted(h))
    await set_accepted(h, EVSE, profile, step="SetChargingProfile")
    await report_holds(h, profile, EVSE, step="GetChargingProfiles")


@pytest.mark.case("TC_K_02_CS")
async def test_TC_K_02_CS(h: Harness) -> None:
    """TxProfile without an ongoing transaction on the EVSE: SetChargingProfile (evseId 1,
    TxProfile with a transactionId) is Rejected."""
    unit = await _booted(h)
    await set_rejected(h, EVSE, charging_profile(PROFILE_ID, TX, unit=unit,
                                                 transaction_id=UNKNOWN_TRANSACTION),
                       step="SetChargingProfile")


@pytest.mark.case("TC_K_03_CS")
async def test_TC_K_03_CS(h: Harness) -> None:
    """ChargingStationMaxProfile: SetChargingProfile (evseId 0, ChargingStationMaxProfile)
    Accepted; GetChargingProfiles (evseId 0, that purpose) Accepted, and the reports give the
    profile as set on evseId 0."""
    profile = charging_profile(PROFILE_ID, STATION_MAX, unit=await _booted(h))
    await set_accepted(h, 0, profile, step="SetChargingProfile")
    await report_holds(h, profile, 0, step="GetChargingProfiles")


@pytest.mark.case("TC_K_04_CS")
async def test_TC_K_04_CS(h: Harness) -> None:
    """Replace a charging profile with its chargingProfileId: a TxDefaultProfile of 8 A
    Accepted, then the same id, kind, purpose and stackLevel with 6 A Accepted (K01.FR.05);
    GetChargingProfiles (that id) reports the profile once, with 6 A."""
    unit = await _booted(h)
    await set_accepted(h, EVSE, charging_profile(PROFILE_ID, TX_DEFAULT, unit=unit),
                       step="SetChargingProfile (8 A)")
    replacing = charging_profile(PROFILE_ID, TX_DEFAULT, unit=unit,
                                 limit=REPLACING_LIMIT_A)
    await set_accepted(h, EVSE, replacing, step="SetChargingProfile (6 A, same id)")
    await report_holds(h, replacing, EVSE, step="GetChargingProfiles",
                       criteria={"chargingProfileId": [PROFILE_ID]})


@pytest.mark.case("TC_K_10_CS")
async def test_TC_K_10_CS(h: Harness) -> None:
    """TxDefaultProfile for all EVSEs: SetChargingProfile (evseId 0, TxDefaultProfile)
    Accepted; GetChargingProfiles (evseId 0, purpose TxDefaultProfile) reports it on
    evseId 0."""
    profile = charging_profile(PROFILE_ID, TX_DEFAULT, unit=await _booted(h))
    await set_accepted(h, 0, profile, step="SetChargingProfile")
    await report_holds(h, profile, 0, step="GetChargingProfiles")


@pytest.mark.case("TC_K_11_CS")
async def test_TC_K_11_CS(h: Harness) -> None:
    """A TxProfile cannot be set on all EVSEs at once: (EnergyTransferStarted)
    SetChargingProfile with evseId 0, a TxProfile for the running transaction, is
    Rejected."""
    unit, transaction = await _charging(h)
    await set_rejected(h, 0, charging_profile(PROFILE_ID, TX, unit=unit,
                                              transaction_id=transaction),
                       step="SetChargingProfile (evseId 0)")


@pytest.mark.case("TC_K_12_CS")
async def test_TC_K_12_CS(h: Harness) -> None:
    """chargingRateUnit not supported (a station taking A or W only,
    SmartChargingCtrlr.RateUnit): SetChargingProfile (evseId 1, TxDefaultProfile) in the other
    unit is Rejected (K01.FR.26)."""
    if not h.sut.claims("single_charging_rate_unit"):
        not_applicable("single_charging_rate_unit (a station that supports only A or only W)")
    await h.booted()
    other = await unsupported_rate_unit(h, step="GetVariables SmartChargingCtrlr.RateUnit")
    await set_rejected(h, EVSE, charging_profile(PROFILE_ID, TX_DEFAULT, unit=other),
                       step=f"SetChargingProfile in {other}")


@pytest.mark.case("TC_K_14_CS")
async def test_TC_K_14_CS(h: Harness) -> None:
    """Unexisting EVSE: SetChargingProfile (TxDefaultProfile) for an evseId the station does
    not have is Rejected."""
    unit = await _booted(h)
    await set_rejected(h, h.evses + 1, charging_profile(PROFILE_ID, TX_DEFAULT, unit=unit),
                       step=f"SetChargingProfile (evseId {h.evses + 1})")


@pytest.mark.case("TC_K_16_CS")
async def test_TC_K_16_CS(h: Harness) -> None:
    """Unknown transactionId: (EnergyTransferStarted) SetChargingProfile (evseId 1, a
    TxProfile naming a transaction that does not run there) is Rejected."""
    unit, _ = await _charging(h)
    await set_rejected(h, EVSE, charging_profile(PROFILE_ID, TX, unit=unit,
                                                 transaction_id=UNKNOWN_TRANSACTION),
                       step="SetChargingProfile (unknown transactionId)")


@pytest.mark.case("TC_K_28_CS")
async def test_TC_K_28_CS(h: Harness) -> None:
    """TxDefaultProfile with a transaction ongoing: (EnergyTransferStarted)
    SetChargingProfile (evseId 1, TxDefaultProfile) Accepted; the composite schedule of the
    EVSE then holds its limit (the transaction has no TxProfile)."""
    unit, _ = await _charging(h)
    await set_accepted(h, EVSE, charging_profile(PROFILE_ID, TX_DEFAULT, unit=unit),
                       step="SetChargingProfile")
    await composite_holds(h, LIMIT_A, step="GetCompositeSchedule", unit=unit,
                          what="the TxDefaultProfile")


@pytest.mark.case("TC_K_60_CS")
async def test_TC_K_60_CS(h: Harness) -> None:
    """TxProfile with an ongoing transaction on the EVSE: (EnergyTransferStarted)
    SetChargingProfile (evseId 1, TxProfile with the transaction's id) Accepted; the
    composite schedule of the EVSE then holds its limit."""
    unit, transaction = await _charging(h)
    await set_accepted(h, EVSE, charging_profile(PROFILE_ID, TX, unit=unit,
                                                 transaction_id=transaction),
                       step="SetChargingProfile")
    await composite_holds(h, LIMIT_A, step="GetCompositeSchedule", unit=unit,
                          what="the TxProfile")


# -- K10 ClearChargingProfile ------------------------------------------------------------------


@pytest.mark.case("TC_K_05_CS")
async def test_TC_K_05_CS(h: Harness) -> None:
    """Clear with chargingProfileId: a TxDefaultProfile installed (Accepted);
    ClearChargingProfile with its chargingProfileId only: Accepted; GetChargingProfiles then
    finds none (NoProfiles)."""
    await set_accepted(h, EVSE, charging_profile(PROFILE_ID, TX_DEFAULT, unit=await _booted(h)),
                       step="SetChargingProfile")
    await clear(h, {"chargingProfileId": PROFILE_ID}, "Accepted", step="ClearChargingProfile")
    await no_profiles(h, {"chargingProfileId": [PROFILE_ID]}, step="GetChargingProfiles")


@pytest.mark.case("TC_K_06_CS")
async def test_TC_K_06_CS(h: Harness) -> None:
    """Clear with a stackLevel/purpose combination for one profile: a TxDefaultProfile at
    stackLevel 1 installed; ClearChargingProfile (criteria: evseId 1, TxDefaultProfile,
    stackLevel 1): Accepted; GetChargingProfiles then finds none."""
    unit = await _booted(h)
    await set_accepted(h, EVSE, charging_profile(PROFILE_ID, TX_DEFAULT, unit=unit,
                                                 stack_level=STACK_LEVEL),
                       step="SetChargingProfile")
    await clear(h, {"chargingProfileCriteria": {
        "evseId": EVSE, "chargingProfilePurpose": TX_DEFAULT, "stackLevel": STACK_LEVEL}},
        "Accepted", step="ClearChargingProfile")
    await no_profiles(h, {"chargingProfilePurpose": TX_DEFAULT}, step="GetChargingProfiles")


@pytest.mark.case("TC_K_07_CS")
async def test_TC_K_07_CS(h: Harness) -> None:
    """Clear with an unknown stackLevel/purpose combination: a TxDefaultProfile at stackLevel
    1 installed; ClearChargingProfile (evseId 1, TxDefaultProfile, stackLevel 2): Unknown;
    the profile is still there (GetChargingProfiles reports it)."""
    profile = charging_profile(PROFILE_ID, TX_DEFAULT, unit=await _booted(h),
                               stack_level=STACK_LEVEL)
    await set_accepted(h, EVSE, profile, step="SetChargingProfile")
    await clear(h, {"chargingProfileCriteria": {
        "evseId": EVSE, "chargingProfilePurpose": TX_DEFAULT, "stackLevel": STACK_LEVEL + 1}},
        "Unknown", step="ClearChargingProfile")
    await report_holds(h, profile, EVSE, step="GetChargingProfiles")


@pytest.mark.case("TC_K_08_CS")
async def test_TC_K_08_CS(h: Harness) -> None:
    """Clear without a previous charging profile: no profile installed;
    ClearChargingProfile (evseId 1, TxDefaultProfile, stackLevel 1): Unknown."""
    await h.booted()
    await clear(h, {"chargingProfileCriteria": {
        "evseId": EVSE, "chargingProfilePurpose": TX_DEFAULT, "stackLevel": STACK_LEVEL}},
        "Unknown", step="ClearChargingProfile")


@pytest.mark.case("TC_K_09_CS")
async def test_TC_K_09_CS(h: Harness) -> None:
    """Clear a TxDefaultProfile with a transaction ongoing: a TxDefaultProfile of 8 A
    installed (Accepted), then EnergyTransferStarted; GetCompositeSchedule of the EVSE holds
    8 A; ClearChargingProfile (criteria: TxDefaultProfile): Accepted; GetCompositeSchedule
    then is no longer held to 8 A (the transaction goes on without the profile)."""
    unit = await _booted(h)
    await set_accepted(h, EVSE, charging_profile(PROFILE_ID, TX_DEFAULT, unit=unit),
                       step="SetChargingProfile")
    await h.charging201(h.sut.tokens.valid, evse=EVSE)
    await composite_holds(h, LIMIT_A, step="GetCompositeSchedule (before)", unit=unit,
                          what="the TxDefaultProfile")
    await clear(h, {"chargingProfileCriteria": {"chargingProfilePurpose": TX_DEFAULT}},
                "Accepted", step="ClearChargingProfile")
    limits = await composite_limits(h, step="GetCompositeSchedule (after)", unit=unit)
    limit = in_unit(LIMIT_A, unit)
    check(bool(limits) and max(limits) > limit,
          "GetCompositeSchedule (after): GetCompositeScheduleResponse",
          f"a schedule no longer held to {limit:g} {unit} (the profile is cleared)", limits)


@pytest.mark.case("TC_K_24_CS")
async def test_TC_K_24_CS(h: Harness) -> None:
    """Clear with a stackLevel/purpose combination for several profiles (a station with more
    than one EVSE): a TxDefaultProfile at stackLevel 1 on EVSE 1 and another on EVSE 2, both
    Accepted; ClearChargingProfile (criteria: TxDefaultProfile, stackLevel 1, no evseId):
    Accepted; GetChargingProfiles then finds neither."""
    if h.evses < 2:
        not_applicable("a station with more than one EVSE (stations[0].evses)")
    unit = await _booted(h)
    for evse in (1, 2):
        await set_accepted(h, evse, charging_profile(PROFILE_ID + evse, TX_DEFAULT, unit=unit,
                                                     stack_level=STACK_LEVEL),
                           step=f"SetChargingProfile (EVSE {evse})")
    await clear(h, {"chargingProfileCriteria": {
        "chargingProfilePurpose": TX_DEFAULT, "stackLevel": STACK_LEVEL}},
        "Accepted", step="ClearChargingProfile")
    await no_profiles(h, {"chargingProfilePurpose": TX_DEFAULT}, step="GetChargingProfiles")

