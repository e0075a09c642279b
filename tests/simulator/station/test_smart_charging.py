"""The station's charging profiles: what it accepts (1.6 5.16 / 2.0.1 K01), clears, reports and
the limit it derives, every response checked against the official schema of its version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargeloop.ocppj import Direction, OcppVersion, validate
from simulator.station.settings import SettingsSeed, settings_for
from simulator.station.smart_charging import ChargingProfiles, DefaultLimits, iso_utc

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
VERSIONS = ["1.6", "2.0.1"]


def check(version: str, action: str, payload: dict[str, Any],
          direction: Direction = Direction.RESPONSE) -> dict[str, Any]:
    validate(OcppVersion.parse(version), action, direction, payload)
    return payload


def profile(version: str, pid: int, purpose: str, stack: int, periods: list[tuple[int, float]],
            *, unit: str = "A", kind: str = "Absolute", start: datetime | None = NOW,
            duration: int | None = None, recurrency: str | None = None,
            valid_from: datetime | None = None, valid_to: datetime | None = None,
            tx: str | int | None = None, phases: int | None = None) -> dict[str, Any]:
    schedule: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": s, "limit": limit, **({"numberPhases": phases} if phases else {})}
        for s, limit in periods]}
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = iso_utc(start)
    if duration is not None:
        schedule["duration"] = duration
    if version == "1.6":
        purpose = "ChargePointMaxProfile" if purpose == "ChargingStationMaxProfile" else purpose
        data: dict[str, Any] = {"chargingProfileId": pid, "stackLevel": stack,
                                "chargingProfilePurpose": purpose,
                                "chargingProfileKind": kind, "chargingSchedule": schedule}
    else:
        data = {"id": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
                "chargingProfileKind": kind, "chargingSchedule": [{"id": pid, **schedule}]}
    if recurrency:
        data["recurrencyKind"] = recurrency
    if valid_from:
        data["validFrom"] = iso_utc(valid_from)
    if valid_to:
        data["validTo"] = iso_utc(valid_to)
    if tx is not None:
        data["transactionId"] = int(tx) if version == "1.6" else str(tx)
    return data


def install(profiles: ChargingProfiles, version: str, evse: int, data: dict[str, Any],
            tx: str | int | None = None, **options: Any) -> dict[str, Any]:
    request = {"connectorId": evse, "csChargingProfiles": data} if version == "1.6" else \
        {"evseId": evse, "chargingProfile": data}
    check(version, "SetChargingProfile", request, Direction.REQUEST)
    answer = profiles.set(evse, data, active_transaction_id=tx, **options)
    return check(version, "SetChargingProfile", answer)


def composite(profiles: ChargingProfiles, version: str, evse: int, duration: int,
              unit: str | None = None, now: datetime = NOW, **options: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"duration": duration}
    request["connectorId" if version == "1.6" else "evseId"] = evse
    if unit:
        request["chargingRateUnit"] = unit
    check(version, "GetCompositeSchedule", request, Direction.REQUEST)
    return check(version, "GetCompositeSchedule",
                 profiles.get_composite_schedule(request, now, **options))


def periods_of(version: str, answer: dict[str, Any]) -> list[tuple[int, float]]:
    schedule = answer["chargingSchedule"] if version == "1.6" else answer["schedule"]
    return [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_tx_profile_needs_a_running_transaction(version: str) -> None:
    """1.6 TC_058_1, 2.0.1 TC_K_02: a TxProfile without a transaction on the EVSE is
    Rejected; with the transaction running it is Accepted; on all EVSEs at once never
    (TC_K_11)."""
    profiles = ChargingProfiles(version, evse_ids=[1, 2])
    answer = install(profiles, version, 1, profile(version, 1, "TxProfile", 0, [(0, 16)], tx=7))
    assert answer["status"] == "Rejected"
    if version == "2.0.1":
        assert answer["statusInfo"]["reasonCode"] == "TxNotFound"
    assert install(profiles, version, 1, profile(version, 1, "TxProfile", 0, [(0, 16)], tx=8),
                   tx=7)["status"] == "Rejected"  # another transaction than the running one
    assert install(profiles, version, 0, profile(version, 1, "TxProfile", 0, [(0, 16)], tx=7),
                   tx=7)["status"] == "Rejected"
    assert install(profiles, version, 1, profile(version, 1, "TxProfile", 0, [(0, 16)], tx=7),
                   tx=7)["status"] == "Accepted"
    assert len(profiles) == 1


def test_2_0_1_tx_profile_must_name_its_transaction_unless_from_a_remote_start() -> None:
    profiles = ChargingProfiles("2.0.1")
    bare = profile("2.0.1", 1, "TxProfile", 0, [(0, 16)], kind="Relative")
    answer = install(profiles, "2.0.1", 1, bare, tx="tx-1")
    assert answer["statusInfo"]["reasonCode"] == "MissingParam"
    assert install(profiles, "2.0.1", 1, bare, tx="tx-1", remote_start=True)["status"] == \
        "Accepted"
    [installed] = profiles.profiles()
    assert installed.wire["transactionId"] == "tx-1"  # bound to the transaction it started
    default = profile("2.0.1", 2, "TxDefaultProfile", 0, [(0, 16)])
    assert install(profiles, "2.0.1", 1, default, tx="tx-1", remote_start=True)["status"] == \
        "Rejected"


@pytest.mark.parametrize("version", VERSIONS)
def test_station_maximum_only_on_evse_zero(version: str) -> None:
    """1.6 ChargePointMaxProfile / 2.0.1 ChargingStationMaxProfile (TC_K_03): EVSE 0 only."""
    profiles = ChargingProfiles(version)
    cap = profile(version, 1, "ChargingStationMaxProfile", 0, [(0, 32)])
    assert install(profiles, version, 1, cap)["status"] == "Rejected"
    assert install(profiles, version, 0, cap)["status"] == "Accepted"
    assert install(profiles, version, 9, profile(version, 2, "TxDefaultProfile", 0, [(0, 8)])
                   )["status"] == "Rejected"  # TC_K_14: no such EVSE


@pytest.mark.parametrize("version", VERSIONS)
def test_stacked_tx_default_profiles_composite(version: str) -> None:
    """1.6 TC_072 = 2.0.1 TC_K_40: the higher stack level wins while its schedule runs, then
    the lower one shows through: 7 at 0, 9 at 100-x, 8 at 150-x, 10 at 200-x."""
    profiles = ChargingProfiles(version)
    x = 5
    begin = NOW - timedelta(seconds=x)
    install(profiles, version, 1, profile(version, 1, "TxDefaultProfile", 0,
                                          [(0, 6), (100, 8), (200, 10)], start=begin,
                                          duration=400, valid_from=begin))
    install(profiles, version, 1, profile(version, 2, "TxDefaultProfile", 1, [(0, 7), (100, 9)],
                                          start=begin, duration=150, valid_from=begin))
    answer = composite(profiles, version, 1, 350, "A")
    assert answer["status"] == "Accepted"
    assert periods_of(version, answer) == [(0, 7), (100 - x, 9), (150 - x, 8), (200 - x, 10)]
    watts = periods_of(version, composite(profiles, version, 1, 350, "W"))
    assert watts == [(0, 7 * 690), (95, 9 * 690), (145, 8 * 690), (195, 10 * 690)]
    if version == "1.6":
        assert answer["connectorId"] == 1 and answer["scheduleStart"] == "2026-01-05T08:00:00Z"
        assert answer["chargingSchedule"]["duration"] == 350
    else:
        assert answer["schedule"]["evseId"] == 1 and answer["schedule"]["duration"] == 350
    # the limit now and when it changes next follow the same stacking
    assert profiles.limit_w(1, NOW) == 7 * 690
    assert profiles.limit_w(1, NOW + timedelta(seconds=100)) == 9 * 690
    assert profiles.limit_w(1, NOW + timedelta(seconds=150)) == 8 * 690
    assert profiles.next_change_utc(1, NOW) == NOW + timedelta(seconds=95)
    assert profiles.limit_w(1, NOW + timedelta(seconds=400)) is None  # both schedules over


@pytest.mark.parametrize("version", VERSIONS)
def test_station_max_caps_everything_and_tx_profile_beats_tx_default(version: str) -> None:
    """1.6 TC_066 / 2.0.1 TC_K_41: ChargingStationMaxProfile, TxDefaultProfile and TxProfile
    combined."""
    profiles = ChargingProfiles(version, evse_ids=[1, 2])
    install(profiles, version, 1, profile(version, 1, "TxDefaultProfile", 5, [(0, 10)]))
    assert profiles.limit_w(1, NOW) == 10 * 690
    install(profiles, version, 1, profile(version, 2, "TxProfile", 0, [(0, 20)], tx=42), tx=42)
    assert profiles.limit_w(1, NOW) == 20 * 690  # TxProfile beats a higher-stacked default
    assert profiles.limit_w(2, NOW) is None  # no default on EVSE 2
    install(profiles, version, 0, profile(version, 3, "ChargingStationMaxProfile", 0,
                                          [(0, 12)]))
    assert profiles.limit_w(1, NOW) == 12 * 690  # the station maximum caps it
    assert profiles.limit_w(2, NOW) == 12 * 690
    answer = composite(profiles, version, 1, 60, "A")
    assert periods_of(version, answer) == [(0, 12)]
    assert periods_of(version, composite(profiles, version, 0, 60, "A")) == [(0, 12)]
    # the transaction ends: its TxProfile goes and the default shows through again
    assert [p.profile.id for p in profiles.expire_transaction(42)] == [2]
    assert profiles.limit_w(1, NOW) == 10 * 690


def test_1_6_connector_zero_tx_default_applies_to_every_connector() -> None:
    profiles = ChargingProfiles("1.6", evse_ids=[1, 2, 3])
    install(profiles, "1.6", 0, profile("1.6", 1, "TxDefaultProfile", 0, [(0, 16)]))
    assert [profiles.limit_w(c, NOW) for c in (1, 2, 3)] == [16 * 690] * 3
    # a connector's own default competes by stack level
    install(profiles, "1.6", 2, profile("1.6", 2, "TxDefaultProfile", 1, [(0, 6)]))
    assert [profiles.limit_w(c, NOW) for c in (1, 2, 3)] == [16 * 690, 6 * 690, 16 * 690]


def test_2_0_1_tx_default_same_stack_level_on_evse_zero_and_an_evse_is_refused() -> None:
    """K01.FR.52/53."""
    profiles = ChargingProfiles("2.0.1", evse_ids=[1, 2])
    install(profiles, "2.0.1", 0, profile("2.0.1", 1, "TxDefaultProfile", 0, [(0, 16)]))
    answer = install(profiles, "2.0.1", 2, profile("2.0.1", 2, "TxDefaultProfile", 0, [(0, 6)]))
    assert answer["statusInfo"]["reasonCode"] == "DuplicateProfile"
    assert install(profiles, "2.0.1", 2, profile("2.0.1", 2, "TxDefaultProfile", 1, [(0, 6)])
                   )["status"] == "Accepted"


@pytest.mark.parametrize("version", VERSIONS)
def test_same_profile_id_replaces(version: str) -> None:
    """TC_K_04 / K01.FR.05: the same id replaces the installed profile (even elsewhere)."""
    profiles = ChargingProfiles(version, evse_ids=[1, 2])
    install(profiles, version, 1, profile(version, 1, "TxDefaultProfile", 0, [(0, 8)]))
    install(profiles, version, 2, profile(version, 1, "TxDefaultProfile", 0, [(0, 6)]))
    assert [(p.evse_id, p.profile.id) for p in profiles.profiles()] == [(2, 1)]
    assert profiles.limit_w(1, NOW) is None and profiles.limit_w(2, NOW) == 6 * 690


def test_1_6_same_stack_level_and_purpose_replaces() -> None:
    """1.6 5.16: the same stackLevel / purpose (on the same connector) replaces."""
    profiles = ChargingProfiles("1.6", evse_ids=[1, 2])
    install(profiles, "1.6", 1, profile("1.6", 1, "TxDefaultProfile", 0, [(0, 8)]))
    install(profiles, "1.6", 2, profile("1.6", 2, "TxDefaultProfile", 0, [(0, 10)]))
    install(profiles, "1.6", 1, profile("1.6", 3, "TxDefaultProfile", 0, [(0, 6)]))
    assert sorted(p.profile.id for p in profiles.profiles()) == [2, 3]
    assert profiles.limit_w(1, NOW) == 6 * 690


def test_2_0_1_same_stack_level_and_purpose_with_overlapping_validity_is_refused() -> None:
    """K01.FR.06 (TxProfile: K01.FR.39): the CSMS must not send it; the station refuses it
    instead of dropping a profile; without overlap both are kept."""
    profiles = ChargingProfiles("2.0.1")
    install(profiles, "2.0.1", 1, profile("2.0.1", 1, "TxDefaultProfile", 0, [(0, 8)],
                                          valid_to=NOW + timedelta(hours=1)))
    answer = install(profiles, "2.0.1", 1, profile("2.0.1", 2, "TxDefaultProfile", 0, [(0, 6)]))
    assert answer == {"status": "Rejected", "statusInfo": {
        "reasonCode": "DuplicateProfile",
        "additionalInfo": "profile 1 has this purpose and stackLevel"}}
    later = profile("2.0.1", 2, "TxDefaultProfile", 0, [(0, 6)],
                    valid_from=NOW + timedelta(hours=1))
    assert install(profiles, "2.0.1", 1, later)["status"] == "Accepted"
    assert profiles.limit_w(1, NOW) == 8 * 690
    assert profiles.limit_w(1, NOW + timedelta(hours=2)) == 6 * 690
    install(profiles, "2.0.1", 1, profile("2.0.1", 3, "TxProfile", 0, [(0, 8)], tx="t"), tx="t")
    assert install(profiles, "2.0.1", 1, profile("2.0.1", 4, "TxProfile", 0, [(0, 9)], tx="t"),
                   tx="t")["statusInfo"]["reasonCode"] == "DuplicateProfile"


@pytest.mark.parametrize("version", VERSIONS)
def test_schedules_the_station_cannot_follow_are_rejected(version: str) -> None:
    limits = DefaultLimits(max_stack_level=3, max_schedule_periods=2, rate_units=("A",))
    profiles = ChargingProfiles(version, limits=limits)
    refused = [
        profile(version, 1, "TxDefaultProfile", 4, [(0, 8)]),  # stack level above the maximum
        profile(version, 1, "TxDefaultProfile", 0, [(0, 8)], unit="W"),  # TC_K_12
        profile(version, 1, "TxDefaultProfile", 0, [(10, 8)]),  # first period not at 0
        profile(version, 1, "TxDefaultProfile", 0, [(0, 8), (60, 9), (120, 10)]),  # too many
        profile(version, 1, "TxDefaultProfile", 0, [(0, 8), (0, 9)]),  # not ascending
        profile(version, 1, "TxDefaultProfile", 0, [(0, 8)], kind="Recurring"),  # no kind
        profile(version, 1, "TxDefaultProfile", 0, [(0, 8)], valid_from=NOW, valid_to=NOW),
    ]
    if version == "2.0.1":
        refused.append(profile(version, 1, "TxDefaultProfile", 0, [(0, 8)], start=None))
        refused.append(profile(version, 1, "ChargingStationExternalConstraints", 0, [(0, 8)]))
    for data in refused:
        assert install(profiles, version, 1 if "External" not in str(data) else 0,
                       data)["status"] == "Rejected", data
    assert len(profiles) == 0
    full = ChargingProfiles(version, limits=DefaultLimits(max_charging_profiles=1))
    install(full, version, 1, profile(version, 1, "TxDefaultProfile", 0, [(0, 8)]))
    assert install(full, version, 1, profile(version, 2, "TxDefaultProfile", 1, [(0, 8)])
                   )["status"] == "Rejected"


def test_recurring_daily_schedule_wraps_at_midnight() -> None:
    """A Daily schedule from 22:00: 6 A from 22:00 through midnight to 02:00, then 16 A."""
    profiles = ChargingProfiles("2.0.1")
    first = datetime(2026, 1, 1, 22, 0, tzinfo=UTC)
    install(profiles, "2.0.1", 1, profile("2.0.1", 1, "TxDefaultProfile", 0,
                                          [(0, 6), (4 * 3600, 16)], kind="Recurring",
                                          recurrency="Daily", start=first))
    day = datetime(2026, 1, 10, tzinfo=UTC)
    assert profiles.limit_w(1, day + timedelta(hours=23)) == 6 * 690
    assert profiles.limit_w(1, day + timedelta(hours=25)) == 6 * 690  # 01:00 the next day
    assert profiles.limit_w(1, day + timedelta(hours=27)) == 16 * 690  # 03:00
    assert profiles.limit_w(1, day + timedelta(hours=21, minutes=59)) == 16 * 690
    assert profiles.next_change_utc(1, day + timedelta(hours=21)) == day + timedelta(hours=22)
    assert profiles.next_change_utc(1, day + timedelta(hours=23)) == day + timedelta(hours=26)
    answer = composite(profiles, "2.0.1", 1, 6 * 3600, "A", now=day + timedelta(hours=21))
    assert periods_of("2.0.1", answer) == [(0, 16), (3600, 6), (5 * 3600, 16)]


def test_weekly_recurrence_and_relative_profiles() -> None:
    profiles = ChargingProfiles("1.6")
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    install(profiles, "1.6", 0, profile("1.6", 1, "ChargePointMaxProfile", 0,
                                        [(0, 10), (86_400, 32)], kind="Recurring",
                                        recurrency="Weekly", start=monday))
    assert profiles.limit_w(1, monday + timedelta(weeks=3, hours=5)) == 10 * 690  # a Monday
    assert profiles.limit_w(1, monday + timedelta(weeks=3, days=2)) == 32 * 690
    relative = ChargingProfiles("1.6")
    install(relative, "1.6", 1, profile("1.6", 1, "TxProfile", 0, [(0, 32), (1800, 8)],
                                        kind="Relative", start=None, tx=3), tx=3)
    started = NOW - timedelta(minutes=40)  # the schedule runs from the transaction's start
    assert relative.limit_w(1, NOW, transaction_start_utc=started) == 8 * 690
    assert relative.limit_w(1, NOW, transaction_start_utc=NOW - timedelta(minutes=10)) == \
        32 * 690
    assert relative.next_change_utc(1, NOW, transaction_start_utc=NOW - timedelta(minutes=10)
                                    ) == NOW + timedelta(minutes=20)


def test_amps_become_watts_by_phases_and_voltage() -> None:
    profiles = ChargingProfiles("2.0.1", evse_ids=[1, 2])
    install(profiles, "2.0.1", 1, profile("2.0.1", 1, "TxDefaultProfile", 0, [(0, 16)]))
    assert profiles.limit_w(1, NOW, phases=3) == 16 * 230 * 3
    assert profiles.limit_w(1, NOW, phases=1) == 16 * 230  # a one-phase vehicle
    assert profiles.limit_w(1, NOW, phases=3, voltage_v=120) == 16 * 120 * 3
    install(profiles, "2.0.1", 2, profile("2.0.1", 2, "TxDefaultProfile", 0, [(0, 16)],
                                          phases=1))
    assert profiles.limit_w(2, NOW, phases=3) == 16 * 230  # numberPhases 1 allows one phase
    watts = ChargingProfiles("2.0.1")
    install(watts, "2.0.1", 1, profile("2.0.1", 1, "TxDefaultProfile", 0, [(0, 7400)],
                                       unit="W"))
    assert watts.limit_w(1, NOW, phases=1) == 7400
    # a composite in A of a W limit divides by numberPhases (3 when unsaid) x 230 V
    assert periods_of("2.0.1", composite(watts, "2.0.1", 1, 60, "A")) == [(0, 10.7)]


def test_validity_period_bounds_a_profile() -> None:
    profiles = ChargingProfiles("1.6")
    start, end = NOW + timedelta(hours=1), NOW + timedelta(hours=3)
    install(profiles, "1.6", 1, profile("1.6", 1, "TxDefaultProfile", 0, [(0, 10)],
                                        valid_from=start, valid_to=end))
    assert profiles.limit_w(1, NOW) is None
    assert profiles.next_change_utc(1, NOW) == start
    assert profiles.limit_w(1, start) == 10 * 690
    assert profiles.next_change_utc(1, start) == end
    assert profiles.limit_w(1, end) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_composite_without_profiles_and_rejections(version: str) -> None:
    """TC_K_39 (no profile: the EVSE's rating), TC_K_42 (unsupported unit), TC_K_47 (unknown
    EVSE)."""
    profiles = ChargingProfiles(version, evse_ids=[1, 2], evse_max_w={1: 11_040, 2: 22_080},
                                limits=DefaultLimits(rate_units=("A",)))
    answer = composite(profiles, version, 1, 300)
    assert periods_of(version, answer) == [(0, 16.0)]
    assert periods_of(version, composite(profiles, version, 0, 300)) == [(0, 48.0)]
    assert composite(profiles, version, 1, 300, "W")["status"] == "Rejected"
    assert composite(profiles, version, 3, 300)["status"] == "Rejected"
    assert profiles.limit_w(1, NOW) is None and profiles.next_change_utc(1, NOW) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_clear_charging_profile(version: str) -> None:
    """TC_K_05..K_09 / 1.6 ClearChargingProfile: by id, by criteria, Unknown when nothing
    matched."""
    profiles = ChargingProfiles(version, evse_ids=[1, 2])
    install(profiles, version, 1, profile(version, 1, "TxDefaultProfile", 0, [(0, 8)]))
    install(profiles, version, 2, profile(version, 2, "TxDefaultProfile", 0, [(0, 8)]))
    install(profiles, version, 2, profile(version, 3, "TxDefaultProfile", 1, [(0, 8)]))
    install(profiles, version, 0, profile(version, 4, "ChargingStationMaxProfile", 0, [(0, 32)]))

    def clear(profile_id: int | None = None, **criteria: Any) -> str:
        if version == "1.6":
            request: dict[str, Any] = {k: v for k, v in (("id", profile_id),
                                                          ("connectorId", criteria.get("evse")),
                                                          ("stackLevel", criteria.get("stack")),
                                                          ("chargingProfilePurpose",
                                                           criteria.get("purpose")))
                                       if v is not None}
        else:
            request = {}
            if profile_id is not None:
                request["chargingProfileId"] = profile_id
            found = {k: v for k, v in (("evseId", criteria.get("evse")),
                                       ("stackLevel", criteria.get("stack")),
                                       ("chargingProfilePurpose", criteria.get("purpose")))
                     if v is not None}
            if found:
                request["chargingProfileCriteria"] = found
        check(version, "ClearChargingProfile", request, Direction.REQUEST)
        return check(version, "ClearChargingProfile", profiles.clear(request))["status"]

    assert clear(99) == "Unknown"
    assert clear(1) == "Accepted"
    assert clear(purpose="TxDefaultProfile", stack=5) == "Unknown"  # TC_K_07
    assert clear(evse=2, purpose="TxDefaultProfile", stack=1) == "Accepted"
    assert sorted(p.profile.id for p in profiles.profiles()) == [2, 4]
    assert clear(evse=0) == "Accepted"  # EVSE 0: what is installed on EVSE 0
    assert [p.profile.id for p in profiles.profiles()] == [2]
    assert clear() == "Accepted" and clear() == "Unknown"  # everything, then nothing (TC_K_08)


def test_2_0_1_external_constraints_cannot_be_cleared() -> None:
    profiles = ChargingProfiles("2.0.1")
    request = {"chargingProfileCriteria": {"chargingProfilePurpose":
                                           "ChargingStationExternalConstraints"}}
    answer = check("2.0.1", "ClearChargingProfile", profiles.clear(request))
    assert answer["status"] == "Unknown" and answer["statusInfo"]["reasonCode"] == "InvalidValue"


def test_get_charging_profiles_reports_per_evse() -> None:
    """TC_K_29..K_36: the criteria filter, one ReportChargingProfiles per EVSE, tbc on all but
    the last; nothing matching means NoProfiles."""
    profiles = ChargingProfiles("2.0.1", evse_ids=[1, 2])
    install(profiles, "2.0.1", 0, profile("2.0.1", 1, "ChargingStationMaxProfile", 0, [(0, 32)]))
    install(profiles, "2.0.1", 1, profile("2.0.1", 2, "TxDefaultProfile", 0, [(0, 16)]))
    install(profiles, "2.0.1", 2, profile("2.0.1", 3, "TxDefaultProfile", 0, [(0, 16)]))
    install(profiles, "2.0.1", 2, profile("2.0.1", 4, "TxProfile", 1, [(0, 10)], tx="T-9"),
            tx="T-9")

    def report(**request: Any) -> list[dict[str, Any]]:
        request = {"requestId": 17, "chargingProfile": {}, **request}
        check("2.0.1", "GetChargingProfiles", request, Direction.REQUEST)
        parts = profiles.report(request)
        for part in parts:
            check("2.0.1", "ReportChargingProfiles", part, Direction.REQUEST)
        status = "Accepted" if parts else "NoProfiles"
        check("2.0.1", "GetChargingProfiles", {"status": status})
        return parts

    everything = report()
    assert [(p["evseId"], [c["id"] for c in p["chargingProfile"]], p["tbc"])
            for p in everything] == [(0, [1], True), (1, [2], True), (2, [3, 4], False)]
    assert all(p["requestId"] == 17 and p["chargingLimitSource"] == "CSO" for p in everything)
    assert [p["evseId"] for p in report(evseId=0)] == [0]
    assert [[c["id"] for c in p["chargingProfile"]]
            for p in report(evseId=2, chargingProfile={"stackLevel": 1})] == [[4]]
    assert report(chargingProfile={"chargingProfileId": [3]})[0]["chargingProfile"][0]["id"] == 3
    assert report(evseId=2, chargingProfile={"chargingProfilePurpose": "TxProfile"}
                  )[0]["chargingProfile"][0]["transactionId"] == "T-9"
    assert report(chargingProfile={"chargingLimitSource": ["EMS"]}) == []
    assert report(evseId=1, chargingProfile={"chargingProfilePurpose": "TxProfile"}) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_limits_come_from_the_station_settings(version: str) -> None:
    """The station's settings bound stack level, periods and units; 2.0.1 reports the number of
    installed profiles in SmartChargingCtrlr.Entries."""
    settings = settings_for(version, SettingsSeed(max_stack_level=2, rate_units=("W",)))
    profiles = ChargingProfiles(version, limits=settings)  # type: ignore[arg-type]
    assert install(profiles, version, 1, profile(version, 1, "TxDefaultProfile", 3,
                                                 [(0, 7000)], unit="W"))["status"] == "Rejected"
    assert install(profiles, version, 1, profile(version, 1, "TxDefaultProfile", 2,
                                                 [(0, 16)]))["status"] == "Rejected"
    assert install(profiles, version, 1, profile(version, 1, "TxDefaultProfile", 2,
                                                 [(0, 7000)], unit="W"))["status"] == "Accepted"
    if version == "2.0.1":
        [entries] = settings.get_variables({"getVariableData": [  # type: ignore[attr-defined]
            {"component": {"name": "SmartChargingCtrlr"},
             "variable": {"name": "Entries", "instance": "ChargingProfiles"}}]}
        )["getVariableResult"]
        assert entries["attributeValue"] == "1"
        profiles.clear({})
        assert settings.find("SmartChargingCtrlr", "Entries",  # type: ignore[attr-defined]
                             instance="ChargingProfiles").read() == "0"
