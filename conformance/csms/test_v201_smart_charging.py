"""OCPP 2.0.1 block K (Smart Charging), profile SC, CSMS under test.

The CSMS installs, replaces and clears charging profiles (K01, K10), asks for the profiles a
station holds (K09, with ReportChargingProfiles coming back) and for composite schedules (K08),
and starts a transaction remotely with a TxProfile (K05 with F01). The ISO 15118-only cases
(K_53, K_55, K_57, K_58, K_59) need an EV speaking ISO 15118 and are not here.
"""

from __future__ import annotations

from typing import Any

import pytest

from chargeloop.ocppj.errors import ErrorKind
from conformance.csms.harness import (
    StationPool,
    Transaction201,
    check,
    csms_sends,
    energy_transfer_started_201,
    id_token,
    now_iso,
    status_payload,
)
from conformance.csms.smart_charging201 import EVSE, charging_profile, new_tx_id
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio


async def _set(station: TestStation, triggers: Triggers, sut: Sut, evse_id: int,
               profile: dict[str, Any], *, status: str = "Accepted",
               step: str = "SetChargingProfileRequest") -> dict[str, Any]:
    """The CSMS sends SetChargingProfile for ``evse_id`` with ``profile``; answered
    ``status``. Checks the common fields and returns the profile the CSMS sent."""
    call = await csms_sends(station, triggers, "SetChargingProfile",
                            {"evseId": evse_id, "chargingProfile": profile}, {"status": status},
                            step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    check(got.get("evseId") == evse_id, step, f"evseId {evse_id}", got)
    sent = got.get("chargingProfile", {})
    purpose = profile["chargingProfilePurpose"]
    check(sent.get("chargingProfilePurpose") == purpose, step,
          f"chargingProfile.chargingProfilePurpose {purpose}", got)
    return sent


def _no_transaction_id(sent: dict[str, Any], step: str) -> None:
    check("transactionId" not in sent, step,
          "no chargingProfile.transactionId (only a TxProfile names a transaction)", sent)


@pytest.mark.case("TC_K_01_CSMS")
async def test_TC_K_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile, TxDefaultProfile for a specific EVSE (K01).

    Steps: "Booted"; the CSMS sends SetChargingProfileRequest; the station answers Accepted.
    Validated: evseId is the EVSE's id (> 0); chargingProfile.chargingProfilePurpose is
    TxDefaultProfile; no transactionId in the profile.
    """
    station = await stations.booted()
    sent = await _set(station, triggers, sut, EVSE, charging_profile(601, "TxDefaultProfile"))
    _no_transaction_id(sent, "SetChargingProfileRequest")


@pytest.mark.case("TC_K_02_CSMS")
async def test_TC_K_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile, TxProfile without an ongoing transaction on the EVSE (K01).

    Steps: "Booted" (no transaction); the CSMS sends SetChargingProfileRequest with a TxProfile
    for the EVSE; the station answers Rejected (there is no transaction to apply it to).
    Validated: evseId > 0 and chargingProfilePurpose TxProfile; the CSMS takes the rejection:
    the connection stays and the next Heartbeat is answered.
    """
    station = await stations.booted()
    await _set(station, triggers, sut, EVSE,
               charging_profile(602, "TxProfile", transaction_id="CONF-TX-NONE"),
               status="Rejected")
    await station.call("Heartbeat", {}, step="Heartbeat after the rejection")


@pytest.mark.case("TC_K_03_CSMS")
async def test_TC_K_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile, ChargingStationMaxProfile (K01).

    Steps: "Booted"; the CSMS sends SetChargingProfileRequest; the station answers Accepted.
    Validated: evseId 0 (a ChargingStationMaxProfile is for the whole station);
    chargingProfilePurpose ChargingStationMaxProfile; chargingProfileKind not Relative; no
    transactionId.
    """
    station = await stations.booted()
    sent = await _set(station, triggers, sut, 0,
                      charging_profile(603, "ChargingStationMaxProfile", limit=32.0))
    check(sent.get("chargingProfileKind") != "Relative", "SetChargingProfileRequest",
          "chargingProfileKind Absolute or Recurring", sent)
    _no_transaction_id(sent, "SetChargingProfileRequest")


@pytest.mark.case("TC_K_04_CSMS")
async def test_TC_K_04_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Replace a charging profile with the same chargingProfileId (K01.FR.05).

    Steps: "Booted"; the CSMS sends SetChargingProfileRequest (TxDefaultProfile, EVSE), answered
    Accepted; then it sends SetChargingProfileRequest again to replace it, answered Accepted.
    Validated: the second request is for the same EVSE and purpose and carries the same
    chargingProfile.id as the first (that is what replaces it).
    """
    station = await stations.booted()
    first = await _set(station, triggers, sut, EVSE, charging_profile(604, "TxDefaultProfile"),
                       step="SetChargingProfileRequest (first)")
    second = await _set(station, triggers, sut, EVSE,
                        charging_profile(604, "TxDefaultProfile", limit=10.0),
                        step="SetChargingProfileRequest (replacement)")
    check(second.get("id") == first.get("id"), "SetChargingProfileRequest (replacement)",
          f"chargingProfile.id {first.get('id')} (the profile installed first)", second)


async def _clear(station: TestStation, triggers: Triggers, sut: Sut, payload: dict[str, Any],
                 status: str) -> IncomingCall:
    return await csms_sends(station, triggers, "ClearChargingProfile", payload,
                            {"status": status}, step="ClearChargingProfileRequest",
                            timeout_s=sut.action_timeout_s)


@pytest.mark.case("TC_K_05_CSMS")
async def test_TC_K_05_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Charging Profile with chargingProfileId (K10).

    Steps: "Booted"; the CSMS installs a profile (SetChargingProfileRequest, Accepted); then it
    sends ClearChargingProfileRequest; the station answers Accepted.
    Validated: chargingProfileId is the id of the installed profile.
    """
    station = await stations.booted()
    sent = await _set(station, triggers, sut, EVSE, charging_profile(605, "TxDefaultProfile"))
    call = await _clear(station, triggers, sut, {"chargingProfileId": sent.get("id")},
                        "Accepted")
    check(call.payload.get("chargingProfileId") == sent.get("id"),
          "ClearChargingProfileRequest", f"chargingProfileId {sent.get('id')}", call.payload)


@pytest.mark.case("TC_K_06_CSMS")
async def test_TC_K_06_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Charging Profile by stackLevel and purpose, matching one profile (K10).

    Steps: "Booted"; the CSMS installs a profile (SetChargingProfileRequest, Accepted); then it
    sends ClearChargingProfileRequest with chargingProfileCriteria; the station answers
    Accepted.
    Validated: no chargingProfileId; chargingProfileCriteria.chargingProfilePurpose and
    .stackLevel are those of the installed profile.
    """
    station = await stations.booted()
    sent = await _set(station, triggers, sut, EVSE,
                      charging_profile(606, "TxDefaultProfile", stack_level=3))
    criteria = {"chargingProfilePurpose": sent.get("chargingProfilePurpose"),
                "stackLevel": sent.get("stackLevel")}
    call = await _clear(station, triggers, sut, {"chargingProfileCriteria": criteria},
                        "Accepted")
    got = call.payload
    check("chargingProfileId" not in got, "ClearChargingProfileRequest",
          "no chargingProfileId", got)
    found = got.get("chargingProfileCriteria", {})
    check(found.get("chargingProfilePurpose") == criteria["chargingProfilePurpose"]
          and found.get("stackLevel") == criteria["stackLevel"], "ClearChargingProfileRequest",
          f"chargingProfileCriteria with {criteria}", got)


@pytest.mark.case("TC_K_08_CSMS")
async def test_TC_K_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Charging Profile without a previous charging profile (K10).

    Steps: "Booted" (no profile installed); the CSMS sends ClearChargingProfileRequest; the
    station answers Unknown.
    Validated: a schema-valid ClearChargingProfileRequest; the CSMS takes the Unknown answer:
    the connection stays and the next Heartbeat is answered.
    """
    station = await stations.booted()
    await _clear(station, triggers, sut, {"chargingProfileCriteria": {
        "chargingProfilePurpose": "TxDefaultProfile"}}, "Unknown")
    await station.call("Heartbeat", {}, step="Heartbeat after the Unknown answer")


@pytest.mark.case("TC_K_10_CSMS")
async def test_TC_K_10_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile, TxDefaultProfile for all EVSEs (K01; conditional).

    Steps: "Booted"; the CSMS sends SetChargingProfileRequest; the station answers Accepted.
    Validated: evseId 0 (the profile applies to every EVSE); chargingProfilePurpose
    TxDefaultProfile; no transactionId.
    """
    if not sut.claims("tx_default_profile_all_evses"):
        not_applicable("feature tx_default_profile_all_evses not claimed")
    station = await stations.booted()
    sent = await _set(station, triggers, sut, 0, charging_profile(610, "TxDefaultProfile"))
    _no_transaction_id(sent, "SetChargingProfileRequest")


@pytest.mark.case("TC_K_15_CSMS")
async def test_TC_K_15_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile to a station that does not support smart charging (K01).

    Steps: "Booted"; the CSMS sends SetChargingProfileRequest; the station, which has no smart
    charging, answers with a CALLERROR NotSupported.
    Validated: a schema-valid SetChargingProfileRequest; the CSMS takes the CALLERROR: the
    connection stays and the next Heartbeat is answered.
    """
    station = await stations.booted()
    step = "SetChargingProfileRequest"
    call = await csms_sends(station, triggers, "SetChargingProfile", {
        "evseId": EVSE, "chargingProfile": charging_profile(615, "TxDefaultProfile")}, None,
        step=step, timeout_s=sut.action_timeout_s)
    call.respond_error(ErrorKind.NOT_SUPPORTED, "no smart charging here")
    check("chargingProfile" in call.payload, step, "a chargingProfile", call.payload)
    await station.call("Heartbeat", {}, step="Heartbeat after the CALLERROR")


@pytest.mark.case("TC_K_19_CSMS")
async def test_TC_K_19_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile, chargingProfileKind Recurring (K01).

    Steps: "Booted"; the CSMS sends SetChargingProfileRequest with a recurring profile; the
    station answers Accepted.
    Validated: chargingProfileKind Recurring; recurrencyKind (Daily or Weekly) present; every
    chargingSchedule has a startSchedule (a recurring schedule needs its start).
    """
    station = await stations.booted()
    sent = await _set(station, triggers, sut, EVSE,
                      charging_profile(619, "TxDefaultProfile", kind="Recurring"))
    step = "SetChargingProfileRequest"
    check(sent.get("chargingProfileKind") == "Recurring", step,
          "chargingProfileKind Recurring", sent)
    check(sent.get("recurrencyKind") in ("Daily", "Weekly"), step,
          "recurrencyKind Daily or Weekly", sent)
    schedules = sent.get("chargingSchedule", [])
    check(bool(schedules) and all("startSchedule" in s for s in schedules), step,
          "a startSchedule in every chargingSchedule", sent)


# -- K09: GetChargingProfiles, answered by ReportChargingProfiles --------------------------------


async def _get_profiles(stations: StationPool, triggers: Triggers, sut: Sut,
                        evse_id: int | None, criterion: dict[str, Any], *,
                        profile_id: int, purpose: str = "TxDefaultProfile",
                        stack_level: int = 0) -> dict[str, Any]:
    """The CSMS asks for the profiles matching ``evse_id`` (None: no evseId) and
    ``criterion``; the station answers Accepted and reports one matching profile with
    ReportChargingProfiles. Returns the request; checks its requestId and the report's answer.
    """
    station = await stations.booted()
    payload: dict[str, Any] = {"requestId": 700 + profile_id % 100, "chargingProfile": criterion}
    if evse_id is not None:
        payload["evseId"] = evse_id
    step = "GetChargingProfilesRequest"
    call = await csms_sends(station, triggers, "GetChargingProfiles", payload,
                            {"status": "Accepted"}, step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    check(isinstance(got.get("requestId"), int), step, "a requestId", got)
    if evse_id is None:
        check("evseId" not in got, step, "no evseId (profiles of every EVSE)", got)
    else:
        check(got.get("evseId") == evse_id, step, f"evseId {evse_id}", got)
    sent_criterion = got.get("chargingProfile", {})
    for key, value in criterion.items():
        check(sent_criterion.get(key) == value, step, f"chargingProfile.{key} {value}", got)
    await station.call("ReportChargingProfiles", {
        "requestId": got["requestId"], "chargingLimitSource": "CSO",
        "evseId": evse_id if evse_id is not None else EVSE, "tbc": False,
        "chargingProfile": [charging_profile(profile_id, purpose, stack_level=stack_level)]},
        step="ReportChargingProfilesRequest")
    return got


@pytest.mark.case("TC_K_29_CSMS")
async def test_TC_K_29_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles, evseId 0 (K09).

    Steps: "Booted"; the CSMS sends GetChargingProfilesRequest; the station answers Accepted and
    sends ReportChargingProfilesRequest (requestId of the request, evseId 0, the station-wide
    profile).
    Validated: the request has a requestId and evseId 0; the report is answered (no CALLERROR).
    """
    await _get_profiles(stations, triggers, sut, 0, {"chargingLimitSource": ["CSO"]},
                        profile_id=629, purpose="ChargingStationMaxProfile")


@pytest.mark.case("TC_K_30_CSMS")
async def test_TC_K_30_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles, evseId > 0 (K09).

    Steps as TC_K_29, for the EVSE. Validated: requestId; evseId is the EVSE's id (> 0); the
    ReportChargingProfilesRequest is answered.
    """
    await _get_profiles(stations, triggers, sut, EVSE, {"chargingLimitSource": ["CSO"]},
                        profile_id=630)


@pytest.mark.case("TC_K_31_CSMS")
async def test_TC_K_31_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles, no evseId (K09: the profiles of every EVSE).

    Steps as TC_K_29. Validated: requestId; no evseId in the request; the
    ReportChargingProfilesRequest is answered.
    """
    await _get_profiles(stations, triggers, sut, None, {"chargingLimitSource": ["CSO"]},
                        profile_id=631)


@pytest.mark.case("TC_K_32_CSMS")
async def test_TC_K_32_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles by chargingProfileId (K09).

    Steps: "Booted"; the CSMS sends GetChargingProfilesRequest for one profile id; the station
    answers Accepted and reports that profile.
    Validated: requestId; chargingProfile.chargingProfileId holds the profile's id; the
    ReportChargingProfilesRequest is answered.
    """
    await _get_profiles(stations, triggers, sut, None, {"chargingProfileId": [632]},
                        profile_id=632)


@pytest.mark.case("TC_K_33_CSMS")
async def test_TC_K_33_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles, evseId > 0 and stackLevel (K09).

    Validated: requestId; evseId of the EVSE; chargingProfile.stackLevel as asked; the
    ReportChargingProfilesRequest (a profile of that stack level) is answered.
    """
    await _get_profiles(stations, triggers, sut, EVSE, {"stackLevel": 2}, profile_id=633,
                        stack_level=2)


@pytest.mark.case("TC_K_34_CSMS")
async def test_TC_K_34_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles, evseId > 0 and chargingLimitSource (K09).

    Validated: requestId; evseId of the EVSE; chargingProfile.chargingLimitSource [CSO]; the
    ReportChargingProfilesRequest is answered.
    """
    await _get_profiles(stations, triggers, sut, EVSE, {"chargingLimitSource": ["CSO"]},
                        profile_id=634)


@pytest.mark.case("TC_K_35_CSMS")
async def test_TC_K_35_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles, evseId > 0 and chargingProfilePurpose (K09).

    Validated: requestId; evseId of the EVSE; chargingProfile.chargingProfilePurpose
    TxDefaultProfile; the ReportChargingProfilesRequest is answered.
    """
    await _get_profiles(stations, triggers, sut, EVSE,
                        {"chargingProfilePurpose": "TxDefaultProfile"}, profile_id=635)


@pytest.mark.case("TC_K_36_CSMS")
async def test_TC_K_36_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Charging Profiles, evseId > 0, chargingProfilePurpose and stackLevel (K09).

    Validated: requestId; evseId of the EVSE; chargingProfile.chargingProfilePurpose
    TxDefaultProfile and .stackLevel as asked; the ReportChargingProfilesRequest is answered.
    """
    await _get_profiles(stations, triggers, sut, EVSE,
                        {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
                        profile_id=636, stack_level=1)


@pytest.mark.case("TC_K_37_CSMS")
async def test_TC_K_37_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Remote start transaction with a charging profile, success (K05 with F01).

    Steps: "Booted"; the CSMS sends RequestStartTransactionRequest with an idToken, the EVSE and
    a chargingProfile; the station answers Accepted; the cable is plugged in and the station
    sends TransactionEventRequest Started (triggerReason RemoteStart, the remoteStartId, the
    idToken), answered Accepted.
    Validated: chargingProfile.chargingProfilePurpose TxProfile and no transactionId in it
    (the transaction does not exist yet); the idToken is the one asked for; the Started event
    is answered with idTokenInfo.status Accepted.
    """
    station = await stations.booted()
    step = "RequestStartTransactionRequest"
    call = await csms_sends(station, triggers, "RequestStartTransaction", {
        "idToken": id_token(sut.tokens.valid), "evseId": EVSE, "remoteStartId": 637,
        "chargingProfile": charging_profile(637, "TxProfile")}, {"status": "Accepted"},
        step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    profile = got.get("chargingProfile")
    check(profile is not None, step, "a chargingProfile", got)
    check(profile.get("chargingProfilePurpose") == "TxProfile", step,
          "chargingProfile.chargingProfilePurpose TxProfile", got)
    _no_transaction_id(profile, step)
    check(got.get("idToken", {}).get("idToken") == sut.tokens.valid, step,
          f"idToken {sut.tokens.valid}", got)
    await station.call("StatusNotification", status_payload(station.version, EVSE, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, new_tx_id("K37"), EVSE)
    step = "TransactionEventRequest (Started, RemoteStart)"
    answer = await tx.event("Started", "RemoteStart", token=sut.tokens.valid,
                            charging_state="EVConnected", meter_wh=0, step=step,
                            extra={"transactionInfo": {
                                "transactionId": tx.id, "chargingState": "EVConnected",
                                "remoteStartId": got.get("remoteStartId", 637)}})
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted", step,
          "idTokenInfo.status Accepted", answer)


async def _composite(stations: StationPool, triggers: Triggers, sut: Sut, evse_id: int) -> None:
    station = await stations.booted()
    step = "GetCompositeScheduleRequest"
    answer = {"status": "Accepted", "schedule": {
        "evseId": evse_id, "duration": 3600, "scheduleStart": now_iso(),
        "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}
    call = await csms_sends(station, triggers, "GetCompositeSchedule",
                            {"evseId": evse_id, "duration": 3600}, None, step=step,
                            timeout_s=sut.action_timeout_s)
    got = call.payload
    answer["schedule"]["duration"] = got.get("duration", 3600)
    call.respond(answer)
    check(got.get("evseId") == evse_id, step, f"evseId {evse_id}", got)
    check(isinstance(got.get("duration"), int) and got["duration"] > 0, step,
          "a duration > 0", got)
    await station.call("Heartbeat", {}, step="Heartbeat after the composite schedule")


@pytest.mark.case("TC_K_43_CSMS")
async def test_TC_K_43_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Composite Schedule for a specific EVSE (K08).

    Steps: "Booted"; the CSMS sends GetCompositeScheduleRequest; the station answers Accepted
    with the EVSE's schedule.
    Validated: evseId is the EVSE's id (> 0); duration > 0; the CSMS takes the answer (the
    connection stays).
    """
    await _composite(stations, triggers, sut, EVSE)


@pytest.mark.case("TC_K_44_CSMS")
async def test_TC_K_44_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Composite Schedule for the Charging Station (K08: evseId 0, the grid connection).

    Validated: evseId 0; duration > 0; the CSMS takes the answer (the connection stays).
    """
    await _composite(stations, triggers, sut, 0)


@pytest.mark.case("TC_K_60_CSMS")
async def test_TC_K_60_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile, TxProfile with an ongoing transaction on the EVSE (K01).

    Steps: "Booted", "EnergyTransferStarted" on the EVSE; the CSMS sends
    SetChargingProfileRequest; the station answers Accepted.
    Validated: evseId is the transaction's EVSE; chargingProfilePurpose TxProfile;
    chargingProfile.transactionId is the ongoing transaction's id.
    """
    station = await stations.booted()
    tx = await energy_transfer_started_201(station, sut.tokens.valid, new_tx_id("K60"),
                                           evse_id=EVSE)
    sent = await _set(station, triggers, sut, EVSE,
                      charging_profile(660, "TxProfile", transaction_id=tx.id))
    check(sent.get("transactionId") == tx.id, "SetChargingProfileRequest",
          f"chargingProfile.transactionId {tx.id}", sent)


def _start_schedule(sent: dict[str, Any], step: str) -> None:
    schedules = sent.get("chargingSchedule", [])
    check(bool(schedules) and all(s.get("startSchedule") for s in schedules), step,
          "chargingSchedule.startSchedule given", sent)


@pytest.mark.case("TC_K_70_CSMS")
async def test_TC_K_70_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Charging Profile, multiple profiles: the CSMS sets two profiles that differ in
    purpose (K01).

    Steps: "Booted", "EnergyTransferStarted" on the EVSE; the CSMS sends
    SetChargingProfileRequest with a TxDefaultProfile, answered Accepted; then
    SetChargingProfileRequest with a ChargingStationMaxProfile, answered Accepted.
    Validated: first: chargingProfilePurpose TxDefaultProfile, chargingProfileKind Absolute or
    Recurring, startSchedule given; second: a chargingProfile.id other than the first's,
    evseId 0, chargingProfilePurpose ChargingStationMaxProfile, chargingProfileKind Absolute,
    startSchedule given.
    """
    station = await stations.booted()
    await energy_transfer_started_201(station, sut.tokens.valid, new_tx_id("K70"),
                                      evse_id=EVSE)
    step = "SetChargingProfileRequest (TxDefaultProfile)"
    first = await _set(station, triggers, sut, EVSE, charging_profile(701, "TxDefaultProfile"),
                       step=step)
    check(first.get("chargingProfileKind") in ("Absolute", "Recurring"), step,
          "chargingProfileKind Absolute or Recurring", first)
    _start_schedule(first, step)
    step = "SetChargingProfileRequest (ChargingStationMaxProfile)"
    second = await _set(station, triggers, sut, 0,
                        charging_profile(702, "ChargingStationMaxProfile", limit=32.0),
                        step=step)
    check(second.get("id") != first.get("id"), step,
          f"a chargingProfile.id other than the first's ({first.get('id')})", second)
    check(second.get("chargingProfileKind") == "Absolute", step, "chargingProfileKind Absolute",
          second)
    _start_schedule(second, step)
