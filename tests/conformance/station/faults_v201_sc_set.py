"""Faulty-station variants for the OCPP 2.0.1 SetChargingProfile / ClearChargingProfile cases
(conformance/station/test_v201_smart_charging_set.py): case id -> the fault that breaks the rule
the case checks (merged into ``faulty_station.FAULTS``).

Where a case reads back what the station installed or cleared, its fault has the station
answer as a faithful one would and then keep (or forget) the wrong profiles, so the case fails
on the read-back, not on the answer."""

from __future__ import annotations

from collections.abc import Callable

from simulator.station import SimStation
from tests.conformance.station.fault_kit import (
    Fault,
    Payload,
    answer,
    ignored,
    request_changed,
    with_fields,
)

ACCEPTED = {"status": "Accepted"}


def _purpose(purpose: str) -> Callable[[Payload], bool]:
    return lambda p: p["chargingProfile"]["chargingProfilePurpose"] == purpose


def _on_all_evses(p: Payload) -> bool:
    return p["evseId"] == 0


def _by_criteria(p: Payload) -> bool:
    return p.get("chargingProfileId") is None


def _same_id_kept(station: SimStation) -> None:
    """A profile with the id of an installed one is Accepted, and the installed one stays."""
    ignored("SetChargingProfile", ACCEPTED, when=lambda p: any(
        i.profile.id == p["chargingProfile"]["id"] for i in station.profiles.profiles()
    ))(station)


def _kept_while_charging(station: SimStation) -> None:
    """ClearChargingProfile is Accepted, but while a transaction runs nothing is cleared."""
    ignored("ClearChargingProfile", ACCEPTED,
            when=lambda p: any(e.tx is not None for e in station.evses))(station)


def _tx_default_only_for_new_transactions(station: SimStation) -> None:
    """A TxDefaultProfile that comes while a transaction runs is Accepted and not applied."""
    ignored("SetChargingProfile", ACCEPTED, when=lambda p: _purpose("TxDefaultProfile")(p) and
            any(e.tx is not None for e in station.evses))(station)


def _criteria_without(key: str) -> Callable[[Payload], Payload]:
    """ClearChargingProfile criteria without ``key``: the station disregards it."""
    def change(request: Payload) -> Payload:
        criteria = {k: v for k, v in (request.get("chargingProfileCriteria") or {}).items()
                    if k != key}
        return {**request, "chargingProfileCriteria": criteria}
    return change


def _criteria_first_evse(request: Payload) -> Payload:
    """ClearChargingProfile criteria without an EVSE taken for EVSE 1 alone."""
    criteria = request.get("chargingProfileCriteria") or {}
    return {**request, "chargingProfileCriteria": {"evseId": 1, **criteria}}


FAULTS: dict[str, Fault] = {
    # SetChargingProfile Accepted, and the profile is not kept
    "TC_K_01_CS": ignored("SetChargingProfile", ACCEPTED, when=_purpose("TxDefaultProfile")),
    "TC_K_03_CS": ignored("SetChargingProfile", ACCEPTED,
                          when=_purpose("ChargingStationMaxProfile")),
    "TC_K_10_CS": ignored("SetChargingProfile", ACCEPTED, when=_on_all_evses),
    "TC_K_60_CS": ignored("SetChargingProfile", ACCEPTED, when=_purpose("TxProfile")),
    "TC_K_28_CS": _tx_default_only_for_new_transactions,
    # a profile with the same id does not replace the installed one
    "TC_K_04_CS": _same_id_kept,
    # profiles the station must refuse, Accepted
    "TC_K_02_CS": answer("SetChargingProfile", with_fields(status="Accepted")),
    "TC_K_11_CS": answer("SetChargingProfile", with_fields(status="Accepted"),
                         when=_on_all_evses),
    "TC_K_12_CS": answer("SetChargingProfile", with_fields(status="Accepted")),
    "TC_K_14_CS": answer("SetChargingProfile", with_fields(status="Accepted")),
    "TC_K_16_CS": answer("SetChargingProfile", with_fields(status="Accepted"),
                         when=_purpose("TxProfile")),
    # ClearChargingProfile Accepted, and nothing cleared
    "TC_K_05_CS": ignored("ClearChargingProfile", ACCEPTED),
    "TC_K_06_CS": ignored("ClearChargingProfile", ACCEPTED, when=_by_criteria),
    "TC_K_09_CS": _kept_while_charging,
    # criteria the station disregards: it clears what it should not
    "TC_K_07_CS": request_changed("ClearChargingProfile", _criteria_without("stackLevel")),
    "TC_K_24_CS": request_changed("ClearChargingProfile", _criteria_first_evse),
    # Accepted with nothing to clear
    "TC_K_08_CS": answer("ClearChargingProfile", with_fields(status="Accepted")),
}
