"""Faulty-station variants for OCPP 2.0.1 station cases (area: sc_get): case id -> the fault that
breaks the rule the case checks (merged into ``faulty_station.FAULTS``).

GetChargingProfiles: the station drops one criterion of the request (the evseId, the profile
ids, the stackLevel, the purpose), misnames the limit source, or leaves out ``tbc``.
GetCompositeSchedule and profile validity: the station forgets its profiles at a reboot, takes a
Recurring profile for an Absolute one, ignores validFrom / validTo / startSchedule, drops a
profile it answered Accepted, or answers Rejected / Accepted the wrong way round. Without Smart
Charging (TC_K_38) it refuses a remote start for the profile it should ignore.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from simulator.station import SimStation
from simulator.station.smart_charging import iso_utc
from tests.conformance.station.fault_kit import (
    Fault,
    Payload,
    answer,
    ignored,
    message_with,
    message_without,
    request_changed,
    request_without,
    with_fields,
)


def profiles_lost_on_reboot(station: SimStation) -> None:
    """The station keeps its charging profiles in volatile memory: a reboot clears them."""
    original = station._reboot

    def reboot(kind: str, boot_reason: str | None = None) -> Any:
        station.profiles.clear({})
        return (yield from original(kind, boot_reason))

    station._reboot = reboot  # type: ignore[method-assign]


def _profile_changed(change: Callable[[Payload], Payload]) -> Callable[[Payload], Payload]:
    """A request whose chargingProfile (SetChargingProfile: the profile; GetChargingProfiles:
    the criteria) is ``change``d."""
    return lambda request: {**request, "chargingProfile": change(dict(request[
        "chargingProfile"]))}


def _as_absolute(profile: Payload) -> Payload:
    """A Recurring profile taken for an Absolute one (its recurrence forgotten)."""
    if profile.get("chargingProfileKind") != "Recurring":
        return profile
    return {**request_without("recurrencyKind")(profile), "chargingProfileKind": "Absolute"}


def _starting_now(profile: Payload) -> Payload:
    """The schedule's startSchedule replaced by the time it arrives."""
    now = iso_utc(datetime.now(UTC))
    return {**profile, "chargingSchedule": [{**s, "startSchedule": now}
                                            for s in profile["chargingSchedule"]]}


def _criteria_without(key: str) -> Callable[[Payload], Payload]:
    """A GetChargingProfiles request whose criteria leave out ``key``."""
    return _profile_changed(request_without(key))


def _is_stack_level(level: int) -> Callable[[Payload], bool]:
    return lambda request: request["chargingProfile"]["stackLevel"] == level


def _is_purpose(purpose: str) -> Callable[[Payload], bool]:
    return lambda request: request["chargingProfile"]["chargingProfilePurpose"] == purpose


FAULTS: dict[str, Fault] = {
    "TC_K_13_CS": profiles_lost_on_reboot,
    "TC_K_19_CS": request_changed("SetChargingProfile", _profile_changed(_as_absolute)),
    "TC_K_21_CS": request_changed("SetChargingProfile",
                                  _profile_changed(request_without("validFrom"))),
    "TC_K_22_CS": request_changed("SetChargingProfile",
                                  _profile_changed(request_without("validTo"))),
    "TC_K_23_CS": request_changed("SetChargingProfile", _profile_changed(_starting_now)),
    "TC_K_29_CS": request_changed("GetChargingProfiles", request_without("evseId")),
    "TC_K_30_CS": request_changed("GetChargingProfiles", request_without("evseId")),
    "TC_K_31_CS": message_without("ReportChargingProfiles", "tbc"),
    "TC_K_32_CS": request_changed("GetChargingProfiles",
                                  _criteria_without("chargingProfileId")),
    "TC_K_33_CS": request_changed("GetChargingProfiles", _criteria_without("stackLevel")),
    "TC_K_34_CS": message_with("ReportChargingProfiles", chargingLimitSource="EMS"),
    "TC_K_35_CS": request_changed("GetChargingProfiles",
                                  _criteria_without("chargingProfilePurpose")),
    "TC_K_36_CS": request_changed("GetChargingProfiles", _criteria_without("stackLevel")),
    "TC_K_38_CS": answer("RequestStartTransaction", with_fields(status="Rejected"),
                         drop_follow=True),
    "TC_K_39_CS": answer("GetCompositeSchedule", with_fields(status="Rejected")),
    "TC_K_40_CS": ignored("SetChargingProfile", {"status": "Accepted"}, when=_is_stack_level(1)),
    "TC_K_41_CS": ignored("SetChargingProfile", {"status": "Accepted"},
                          when=_is_purpose("ChargingStationMaxProfile")),
    "TC_K_42_CS": answer("GetCompositeSchedule", with_fields(status="Accepted")),
    "TC_K_47_CS": answer("GetCompositeSchedule", with_fields(status="Accepted")),
}
