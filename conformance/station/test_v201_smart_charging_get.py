"""OCPP 2.0.1 Smart Charging, charging station under test: what the station reports of the
profiles it holds (GetChargingProfiles, use case K09; GetCompositeSchedule, K08) and when a
profile is in force (persistence, recurrence, validFrom / validTo / startSchedule, K01). Part 6
Edition 3, errata 2025-09.

Composite schedules are checked as OCTT does: each period's limit, and its startPeriod within a
few seconds of where the profiles put it (the time the harness's calls take, and the offset
``x`` between a profile's startSchedule and the composite's scheduleStart).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conformance.station.harness import (
    CLOCK_DEVIATION_S,
    STACK_SLACK_S,
    Harness,
    check,
    is_charging,
    parse_utc,
    periods_match,
    started_earlier,
    tx_id201,
)
from conformance.station.smart_charging201 import (
    EVSE,
    charging_profile,
    report_holds,
    reported_profiles,
    set_accepted,
)
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
STATION_MAX = "ChargingStationMaxProfile"
WHOLE_STATION = 0  # evseId 0: the charging station itself
LIMIT_A = 6.0  # OCTT's "6 * <limit multiplier>" in A
DEVIATION_S = CLOCK_DEVIATION_S  # OCTT's <Configured max time deviation>
IN_FORCE_AFTER_S = 60  # TC_K_21..23: when the profile starts to count (or stops)
REMOTE_START_ID = 38


def _at(seconds: float) -> str:
    """An OCPP timestamp ``seconds`` from now (negative: in the past)."""
    return started_earlier(-seconds)


def _profile(profile_id: int, purpose: str, *, stack_level: int = 0, start: str | None = None,
             periods: list[tuple[int, float]] | None = None, duration: int | None = None,
             **fields: Any) -> dict[str, Any]:
    """The shared builder's profile (Absolute, from now less the deviation, ``LIMIT_A``) with
    its schedule's ``start``, ``periods`` (startPeriod, limit in A; numberPhases 3, OCTT's
    <Configured numberPhases>) and ``duration``, and other profile ``fields`` (validFrom,
    validTo, chargingProfileKind, ...)."""
    profile = charging_profile(profile_id, purpose, stack_level=stack_level, limit=LIMIT_A)
    schedule = profile["chargingSchedule"][0]
    if start is not None:
        schedule["startSchedule"] = start
    schedule["chargingSchedulePeriod"] = [
        {"startPeriod": at, "limit": limit, "numberPhases": 3}
        for at, limit in (periods or [(0, LIMIT_A)])]
    if duration is not None:
        schedule["duration"] = duration
    return {**profile, **fields}


# -- K09 GetChargingProfiles --------------------------------------------------------------------

# the profiles the GetChargingProfiles cases install (each case the ones its criteria tell apart)
ON_STATION = _profile(301, TX_DEFAULT, stack_level=0)  # on evseId 0: every EVSE
LOW = _profile(302, TX_DEFAULT, stack_level=1)  # on the EVSE
HIGH = _profile(303, TX_DEFAULT, stack_level=2)  # on the EVSE


async def _installed(h: Harness, *profiles: tuple[int, dict[str, Any]]) -> None:
    """Memory state: each (evseId, profile) set, and Accepted."""
    for evse_id, profile in profiles:
        await set_accepted(h, evse_id, profile, step=f"SetChargingProfile id {profile['id']} "
                                                     f"on evseId {evse_id}")


async def _reports_exactly(h: Harness, criteria: dict[str, Any], expected: dict[int, int], *,
                           evse_id: int | None = None) -> None:
    """GetChargingProfiles (``evse_id``, ``criteria``) Accepted; the ReportChargingProfiles
    (requestId of the request, tbc on all but the last) give from chargingLimitSource CSO the
    profiles ``expected`` (id -> the evseId it is installed on), each on its evseId, and no
    other."""
    step = "GetChargingProfiles"
    reports = await reported_profiles(h, criteria, step=step, evse_id=evse_id)
    shown = [r.payload for r in reports]
    got: dict[int, int] = {}
    for report in shown:
        check(report.get("chargingLimitSource") == "CSO", f"{step}: "
              "ReportChargingProfilesRequest", "chargingLimitSource CSO (the profiles the "
              "test system installed)", report)
        for profile in report.get("chargingProfile", []):
            check(profile.get("id") not in got, f"{step}: ReportChargingProfilesRequest",
                  "each profile reported once", shown)
            got[profile.get("id")] = report.get("evseId")
    wanted = ", ".join(f"id {i} on evseId {e}" for i, e in sorted(expected.items()))
    check(got == expected, f"{step}: ReportChargingProfilesRequest",
          f"the profiles that match and no other: {wanted}", shown)


@pytest.mark.case("TC_K_29_CS")
async def test_TC_K_29_CS(h: Harness) -> None:
    """Get charging profiles, evseId 0: (TxDefaultProfiles on evseId 0 and on EVSE 1)
    GetChargingProfiles (evseId 0, purpose TxDefaultProfile) Accepted; ReportChargingProfiles
    with its requestId, chargingLimitSource CSO, evseId 0 and only the profile installed on
    evseId 0."""
    await h.booted()
    await _installed(h, (WHOLE_STATION, ON_STATION), (EVSE, LOW))
    await _reports_exactly(h, {"chargingProfilePurpose": TX_DEFAULT},
                           {ON_STATION["id"]: WHOLE_STATION}, evse_id=WHOLE_STATION)


@pytest.mark.case("TC_K_30_CS")
async def test_TC_K_30_CS(h: Harness) -> None:
    """Get charging profiles, evseId > 0: (TxDefaultProfiles on evseId 0 and on EVSE 1)
    GetChargingProfiles (evseId 1, purpose TxDefaultProfile) Accepted; ReportChargingProfiles
    with its requestId, CSO, evseId 1 and only the profile installed on EVSE 1."""
    await h.booted()
    await _installed(h, (WHOLE_STATION, ON_STATION), (EVSE, LOW))
    await _reports_exactly(h, {"chargingProfilePurpose": TX_DEFAULT}, {LOW["id"]: EVSE},
                           evse_id=EVSE)


@pytest.mark.case("TC_K_31_CS")
async def test_TC_K_31_CS(h: Harness) -> None:
    """Get charging profiles, no evseId: (TxDefaultProfiles on evseId 0 and on EVSE 1)
    GetChargingProfiles (purpose TxDefaultProfile, no evseId) Accepted; the
    ReportChargingProfiles (tbc true on all but the last) give both, each on its evseId."""
    await h.booted()
    await _installed(h, (WHOLE_STATION, ON_STATION), (EVSE, LOW))
    await _reports_exactly(h, {"chargingProfilePurpose": TX_DEFAULT},
                           {ON_STATION["id"]: WHOLE_STATION, LOW["id"]: EVSE})


@pytest.mark.case("TC_K_32_CS")
async def test_TC_K_32_CS(h: Harness) -> None:
    """Get charging profiles by chargingProfileId: (TxDefaultProfiles on evseId 0 and on EVSE
    1) GetChargingProfiles (chargingProfileId of the EVSE's profile) Accepted; the reports
    give that profile on EVSE 1 and no other."""
    await h.booted()
    await _installed(h, (WHOLE_STATION, ON_STATION), (EVSE, LOW))
    await _reports_exactly(h, {"chargingProfileId": [LOW["id"]]}, {LOW["id"]: EVSE})


@pytest.mark.case("TC_K_33_CS")
async def test_TC_K_33_CS(h: Harness) -> None:
    """Get charging profiles, evseId > 0 and stackLevel: (TxDefaultProfiles at stackLevel 1
    and 2 on EVSE 1) GetChargingProfiles (evseId 1, stackLevel 2) Accepted; the reports give
    the stackLevel 2 profile only."""
    await h.booted()
    await _installed(h, (EVSE, LOW), (EVSE, HIGH))
    await _reports_exactly(h, {"stackLevel": HIGH["stackLevel"]}, {HIGH["id"]: EVSE},
                           evse_id=EVSE)


@pytest.mark.case("TC_K_34_CS")
async def test_TC_K_34_CS(h: Harness) -> None:
    """Get charging profiles, evseId > 0 and chargingLimitSource: (TxDefaultProfiles on evseId
    0 and on EVSE 1) GetChargingProfiles (evseId 1, chargingLimitSource CSO) Accepted; the
    reports, chargingLimitSource CSO, give the EVSE's profile only."""
    await h.booted()
    await _installed(h, (WHOLE_STATION, ON_STATION), (EVSE, LOW))
    await _reports_exactly(h, {"chargingLimitSource": ["CSO"]}, {LOW["id"]: EVSE},
                           evse_id=EVSE)


async def _charging_with_profiles(h: Harness) -> dict[str, Any]:
    """EnergyTransferStarted on EVSE 1, then a TxProfile (stackLevel 1) for its transaction
    and TxDefaultProfiles at stackLevel 1 and 2 on the EVSE: the TxProfile."""
    await h.booted()
    transaction = tx_id201(await h.charging201(h.sut.tokens.valid, evse=EVSE))
    tx_profile = _profile(304, TX, stack_level=1, transactionId=transaction)
    await _installed(h, (EVSE, tx_profile), (EVSE, LOW), (EVSE, HIGH))
    return tx_profile


@pytest.mark.case("TC_K_35_CS")
async def test_TC_K_35_CS(h: Harness) -> None:
    """Get charging profiles, evseId > 0 and chargingProfilePurpose: (EnergyTransferStarted; a
    TxProfile and TxDefaultProfiles on EVSE 1) GetChargingProfiles (evseId 1, purpose
    TxProfile) Accepted; the reports give the TxProfile only."""
    tx_profile = await _charging_with_profiles(h)
    await _reports_exactly(h, {"chargingProfilePurpose": TX}, {tx_profile["id"]: EVSE},
                           evse_id=EVSE)


@pytest.mark.case("TC_K_36_CS")
async def test_TC_K_36_CS(h: Harness) -> None:
    """Get charging profiles, evseId > 0, chargingProfilePurpose and stackLevel:
    (EnergyTransferStarted; a TxProfile at stackLevel 1, TxDefaultProfiles at stackLevel 1
    and 2 on EVSE 1) GetChargingProfiles (evseId 1, TxDefaultProfile, stackLevel 1) Accepted;
    the reports give the TxDefaultProfile at stackLevel 1 only."""
    await _charging_with_profiles(h)
    await _reports_exactly(h, {"chargingProfilePurpose": TX_DEFAULT,
                               "stackLevel": LOW["stackLevel"]}, {LOW["id"]: EVSE},
                           evse_id=EVSE)


# -- K01 profiles kept and in force --------------------------------------------------------------


@pytest.mark.case("TC_K_13_CS")
async def test_TC_K_13_CS(h: Harness) -> None:
    """Set charging profile, persistent over reboot: a TxDefaultProfile on EVSE 1 Accepted;
    the station is power-cycled (BootNotification, statuses Available); GetChargingProfiles
    (evseId 1, TxDefaultProfile) still reports the profile as set, from the CSO."""
    await h.booted()
    profile = _profile(131, TX_DEFAULT)
    await set_accepted(h, EVSE, profile, step="SetChargingProfile")
    await h.power_cycled(step="reboot (power cycle)")
    await h.all_statuses("Available", step="Booted after reboot")
    await report_holds(h, profile, EVSE, step="GetChargingProfiles after reboot")


async def _composite(h: Harness, evse_id: int, duration: int, *,
                     step: str = "GetCompositeSchedule") -> dict[str, Any]:
    """GetCompositeSchedule (``evse_id``, ``duration``, A) Accepted, its schedule for that
    EVSE, that duration and unit, starting when the request went out (within the maximum
    clock deviation): the schedule."""
    sent = datetime.now(UTC)
    answer = await h.csms.call("GetCompositeSchedule", {
        "evseId": evse_id, "duration": duration, "chargingRateUnit": "A"}, step=step)
    check(answer.get("status") == "Accepted", f"{step}Response", "status Accepted", answer)
    schedule = answer.get("schedule") or {}
    start = schedule.get("scheduleStart")
    off_by = abs((parse_utc(start) - sent).total_seconds()) if start else None
    check(schedule.get("evseId") == evse_id and schedule.get("duration") == duration and
          schedule.get("chargingRateUnit") == "A" and off_by is not None and
          off_by <= DEVIATION_S, f"{step}Response",
          f"a schedule for evseId {evse_id}, duration {duration}, chargingRateUnit A, "
          f"scheduleStart the request's time +/- {DEVIATION_S} s", answer)
    return schedule


def _offset(schedule: dict[str, Any], moment: str) -> float:
    """Seconds from the composite's scheduleStart to ``moment``."""
    return (parse_utc(moment) - parse_utc(schedule["scheduleStart"])).total_seconds()


def _check_periods(schedule: dict[str, Any], expected: list[tuple[float, float]],
                   step: str = "GetCompositeScheduleResponse") -> None:
    check(periods_match(schedule, expected), step,
          "periods " + ", ".join(f"{limit:g} A at {at:.0f} s" for at, limit in expected),
          schedule.get("chargingSchedulePeriod"))


def _limit_changes(schedule: dict[str, Any], at: float, before_above: bool) -> bool:
    """The schedule has two periods: one from 0 and one from ``at`` (within the slack); the
    profile's LIMIT_A holds in the second (``before_above``) or in the first, the other is
    above it (no profile limits it)."""
    periods = [(float(p["startPeriod"]), float(p["limit"]))
               for p in schedule.get("chargingSchedulePeriod", [])]
    if len(periods) != 2 or periods[0][0] != 0 or abs(periods[1][0] - at) > STACK_SLACK_S:
        return False
    limited, free = (periods[1][1], periods[0][1]) if before_above else \
        (periods[0][1], periods[1][1])
    return limited == LIMIT_A and free > LIMIT_A


async def _in_force_from(h: Harness, moment: str, *, until: bool = False) -> None:
    """The composite schedule of EVSE 1 (300 s) is limited to LIMIT_A from ``moment`` on and
    not before (``until``: up to ``moment`` and not after)."""
    schedule = await _composite(h, EVSE, 300)
    at = _offset(schedule, moment)
    what = f"{LIMIT_A:g} A {'until' if until else 'from'} {at:.0f} s, more " \
           f"{'after' if until else 'before'}"
    check(_limit_changes(schedule, at, before_above=not until),
          "GetCompositeScheduleResponse", what, schedule.get("chargingSchedulePeriod"))


@pytest.mark.case("TC_K_19_CS")
async def test_TC_K_19_CS(h: Harness) -> None:
    """Set charging profile, chargingProfileKind Recurring: a TxDefaultProfile on EVSE 1,
    Recurring Daily, its startSchedule a day ago (less the clock deviation), 6 A from 0 s and
    10 A from 300 s, Accepted; the composite schedule (300 s) follows today's recurrence:
    6 A from 0, 10 A from 300 - x (x: from today's start of the schedule to the composite's
    start)."""
    await h.booted()
    today = _at(-DEVIATION_S)
    start = (parse_utc(today) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    profile = _profile(191, TX_DEFAULT, start=start, periods=[(0, LIMIT_A), (300, 10.0)],
                       chargingProfileKind="Recurring", recurrencyKind="Daily")
    await set_accepted(h, EVSE, profile, step="SetChargingProfile (Recurring Daily)")
    schedule = await _composite(h, EVSE, 300)
    x = -_offset(schedule, today)
    _check_periods(schedule, [(0.0, LIMIT_A), (300 - x, 10.0)])


@pytest.mark.case("TC_K_21_CS")
async def test_TC_K_21_CS(h: Harness) -> None:
    """Set charging profile, validFrom: a TxDefaultProfile on EVSE 1 (Absolute, from now less
    the clock deviation, 6 A) valid from 60 s on, Accepted; the composite schedule (300 s)
    holds 6 A only from validFrom on."""
    await h.booted()
    valid_from = _at(IN_FORCE_AFTER_S)
    profile = _profile(211, TX_DEFAULT, validFrom=valid_from, validTo=_at(DEVIATION_S + 400))
    await set_accepted(h, EVSE, profile, step="SetChargingProfile (validFrom in 60 s)")
    await _in_force_from(h, valid_from)


@pytest.mark.case("TC_K_22_CS")
async def test_TC_K_22_CS(h: Harness) -> None:
    """Set charging profile, validTo: a TxDefaultProfile on EVSE 1 (Absolute, from now less the
    clock deviation, 6 A) valid until 60 s from now, Accepted; the composite schedule (300 s)
    holds 6 A only until validTo."""
    await h.booted()
    valid_to = _at(IN_FORCE_AFTER_S)
    profile = _profile(221, TX_DEFAULT, validFrom=_at(-DEVIATION_S), validTo=valid_to)
    await set_accepted(h, EVSE, profile, step="SetChargingProfile (validTo in 60 s)")
    await _in_force_from(h, valid_to, until=True)


@pytest.mark.case("TC_K_23_CS")
async def test_TC_K_23_CS(h: Harness) -> None:
    """Set charging profile, startSchedule: a TxDefaultProfile on EVSE 1 (Absolute, 6 A) whose
    schedule starts 60 s from now (errata 2025-04: no validFrom / validTo), Accepted; the
    composite schedule (300 s) holds 6 A only from startSchedule on."""
    await h.booted()
    start = _at(IN_FORCE_AFTER_S)
    await set_accepted(h, EVSE, _profile(231, TX_DEFAULT, start=start),
                       step="SetChargingProfile (startSchedule in 60 s)")
    await _in_force_from(h, start)


@pytest.mark.case("TC_K_38_CS")
async def test_TC_K_38_CS(h: Harness) -> None:
    """Remote start with a charging profile, ignored (a station without Smart Charging):
    (EVConnectedPreSession) RequestStartTransaction with a Relative TxProfile (6 A, no
    transactionId) is Accepted, not refused for its profile (F01.FR.12); a TransactionEvent
    with triggerReason RemoteStart and the remoteStartId; the station charges."""
    if "SC" in h.sut.profiles:
        not_applicable("a station without Smart Charging (the SUT claims the Smart Charging "
                       "profile)")
    await h.booted()
    await h.act("plug_in", step="plug in", evse=EVSE)
    await h.status(EVSE, "Occupied", step="StatusNotification Occupied")
    profile = charging_profile(381, TX, limit=LIMIT_A)
    profile["chargingProfileKind"] = "Relative"
    del profile["chargingSchedule"][0]["startSchedule"]
    answer = await h.csms.call("RequestStartTransaction", {
        "evseId": EVSE, "remoteStartId": REMOTE_START_ID, "chargingProfile": profile,
        "idToken": {"idToken": h.sut.tokens.valid, "type": "ISO14443"}},
        step="RequestStartTransaction with a TxProfile")
    check(answer.get("status") == "Accepted", "RequestStartTransactionResponse",
          "status Accepted (the profile ignored)", answer)
    event = await h.csms.receive(
        "TransactionEvent", step="TransactionEventRequest RemoteStart",
        where=lambda p: p.get("triggerReason") == "RemoteStart",
        expected="a TransactionEvent with triggerReason RemoteStart")
    check(event.payload["transactionInfo"].get("remoteStartId") == REMOTE_START_ID,
          "TransactionEventRequest", f"remoteStartId {REMOTE_START_ID}", event.payload)
    await h.csms.receive(
        "TransactionEvent", step="TransactionEventRequest (Charging)",
        where=is_charging,
        expected="a TransactionEvent with chargingState Charging")


# -- K08 GetCompositeSchedule --------------------------------------------------------------------


@pytest.mark.case("TC_K_39_CS")
async def test_TC_K_39_CS(h: Harness) -> None:
    """Get composite schedule, no charging profile installed: GetCompositeSchedule (evseId 0,
    300 s, A) Accepted, with a schedule for evseId 0, duration 300, chargingRateUnit A,
    scheduleStart the request's time (+/- the clock deviation), its first period at 0."""
    await h.booted()
    schedule = await _composite(h, WHOLE_STATION, 300)
    periods = schedule.get("chargingSchedulePeriod") or [{}]
    check(periods[0].get("startPeriod") == 0, "GetCompositeScheduleResponse",
          "chargingSchedulePeriod[0].startPeriod 0", schedule)


@pytest.mark.case("TC_K_40_CS")
async def test_TC_K_40_CS(h: Harness) -> None:
    """Get composite schedule, stacking (errata 2025-04): two TxDefaultProfiles on EVSE 1, both
    starting at now less the deviation d, valid until now + d + 401 s: stackLevel 0 (400 + d s:
    6 A, 8 A from 100 s, 10 A from 200 s) and stackLevel 1 (150 + d s: 7 A, 9 A from 100 s);
    GetCompositeSchedule (350 s) gives 7 A at 0, 9 A at 100 - x, 8 A at 150 - x + d and 10 A
    at 200 - x (x: from their startSchedule to the composite's scheduleStart)."""
    await h.booted()
    start = _at(-DEVIATION_S)
    validity = {"validFrom": start, "validTo": _at(DEVIATION_S + 401)}
    await _installed(
        h, (EVSE, _profile(401, TX_DEFAULT, start=start, duration=400 + DEVIATION_S,
                           periods=[(0, 6.0), (100, 8.0), (200, 10.0)], **validity)),
        (EVSE, _profile(402, TX_DEFAULT, stack_level=1, start=start,
                        duration=150 + DEVIATION_S, periods=[(0, 7.0), (100, 9.0)],
                        **validity)))
    schedule = await _composite(h, EVSE, 350)
    x = -_offset(schedule, start)
    _check_periods(schedule, [(0.0, 7.0), (100 - x, 9.0), (150 - x + DEVIATION_S, 8.0),
                              (200 - x, 10.0)])


@pytest.mark.case("TC_K_41_CS")
async def test_TC_K_41_CS(h: Harness) -> None:
    """Get composite schedule, combining purposes (errata 2025-04): EnergyTransferStarted on
    EVSE 1; from now less the deviation a ChargingStationMaxProfile (evseId 0, 86400 s, 10 A),
    a TxDefaultProfile (300 s: 6, 10, 8, 15, 8 A from 0, 60, 120, 180, 260 s) and a TxProfile
    (260 s: 8, 11, 16, 6, 12 A from 0, 50, 140, 200, 240 s); GetCompositeSchedule (400 s)
    gives 8 A at 0, 10 A at 50 - x, 6 A at 200 - x, 10 A at 240 - x, 8 A at 260 - x and 10 A
    at 300 - x (x: from their startSchedule to the composite's scheduleStart)."""
    await h.booted()
    transaction = tx_id201(await h.charging201(h.sut.tokens.valid, evse=EVSE))
    start = _at(-DEVIATION_S)
    validity = {"validFrom": start, "validTo": _at(DEVIATION_S + 401)}
    await _installed(
        h, (WHOLE_STATION, _profile(411, STATION_MAX, start=start, duration=86_400,
                                    periods=[(0, 10.0)])),
        (EVSE, _profile(412, TX_DEFAULT, start=start, duration=300, **validity, periods=[
            (0, 6.0), (60, 10.0), (120, 8.0), (180, 15.0), (260, 8.0)])),
        (EVSE, _profile(413, TX, start=start, duration=260, transactionId=transaction,
                        **validity, periods=[(0, 8.0), (50, 11.0), (140, 16.0), (200, 6.0),
                                             (240, 12.0)])))
    schedule = await _composite(h, EVSE, 400)
    x = -_offset(schedule, start)
    _check_periods(schedule, [(0.0, 8.0), (50 - x, 10.0), (200 - x, 6.0), (240 - x, 10.0),
                              (260 - x, 8.0), (300 - x, 10.0)])


@pytest.mark.case("TC_K_42_CS")
async def test_TC_K_42_CS(h: Harness) -> None:
    """Get composite schedule, chargingRateUnit not supported: (a station supporting one
    rate unit, SmartChargingCtrlr.RateUnit) GetCompositeSchedule for EVSE 1 in the other
    unit is answered Rejected."""
    if not h.sut.claims("single_charging_rate_unit"):
        not_applicable("single_charging_rate_unit (a station that supports only A or only W)")
    await h.booted()
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"}}]},
        step="GetVariables SmartChargingCtrlr.RateUnit")
    results = answer.get("getVariableResult") or [{}]
    supported = {u.strip() for u in str(results[0].get("attributeValue", "")).split(",")}
    check(len(supported) == 1 and supported <= {"A", "W"}, "GetVariablesResponse",
          "RateUnit: one of A and W (the station claims a single rate unit)", answer)
    other = "W" if supported == {"A"} else "A"
    answer = await h.csms.call("GetCompositeSchedule", {
        "evseId": EVSE, "duration": 300, "chargingRateUnit": other},
        step=f"GetCompositeSchedule in {other}")
    check(answer.get("status") == "Rejected", "GetCompositeScheduleResponse",
          f"status Rejected ({other} is not supported)", answer)


@pytest.mark.case("TC_K_47_CS")
async def test_TC_K_47_CS(h: Harness) -> None:
    """Get composite schedule, unknown EVSE: GetCompositeSchedule for an evseId the station
    does not have (one above its EVSEs), 300 s, A, is answered Rejected."""
    await h.booted()
    unknown = h.evses + 1
    answer = await h.csms.call("GetCompositeSchedule", {
        "evseId": unknown, "duration": 300, "chargingRateUnit": "A"},
        step=f"GetCompositeSchedule for evseId {unknown}")
    check(answer.get("status") == "Rejected", "GetCompositeScheduleResponse",
          f"status Rejected (no EVSE {unknown})", answer)
