"""Faulty-station variants for OCPP 2.0.1 station cases (area: res_dm): the conditional
Reservation cases (an unspecified EVSE, a connector type, reservations switched off) and the
device model cases (the mandatory variables of a FullInventory report, a base report not
supported, a network connection profile Rejected): case id -> the fault that breaks the rule
the case checks (merged into ``faulty_station.FAULTS``)."""

from __future__ import annotations

from typing import Any

from simulator.station import SimStation
from simulator.station.reservations import DefaultReservationSettings
from tests.conformance.station.fault_kit import (
    Fault,
    Payload,
    answer,
    request_changed,
    with_fields,
)
from tests.conformance.station.faults_v201_lal_res import group_ignored


def _unspecified(request: Payload) -> bool:
    return "evseId" not in request


def _typed(request: Payload) -> bool:
    return "connectorType" in request


def unspecified_never_reserved(station: SimStation) -> None:
    """Reservations of an unspecified EVSE never show as Reserved, even when they take up
    every free EVSE (only reservations of a given EVSE do)."""
    reservations = station.reservations
    original = reservations.reserved_evses

    def reserved_evses(evse_states: Any) -> dict[int, Any]:
        return {e: r for e, r in original(evse_states).items() if r is not None}

    reservations.reserved_evses = reserved_evses  # type: ignore[method-assign]


def reservations_never_disabled(station: SimStation) -> None:
    """ReservationCtrlr.Enabled is stored but the station reserves whatever it says."""
    station.reservations.settings = DefaultReservationSettings(
        reservation_enabled=True, reserve_any_evse=station.settings.reserve_any_evse)


def required_variable_unreported(station: SimStation) -> None:
    """The base reports leave out a required variable (OCPPCommCtrlr.OfflineThreshold)."""
    device_model = station.settings
    original = device_model.base_report  # type: ignore[attr-defined]

    def base_report(base: str) -> list[dict[str, Any]]:
        return [item for item in original(base)
                if item["variable"]["name"] != "OfflineThreshold"]

    device_model.base_report = base_report  # type: ignore[attr-defined]


FAULTS: dict[str, Fault] = {
    "TC_H_08_CS": answer("ReserveNow", with_fields(status="Rejected"), when=_unspecified),
    # the station takes the reservation whatever the EVSEs are (reserved, occupied, ...)
    "TC_H_09_CS": answer("ReserveNow", with_fields(status="Accepted"), when=_unspecified),
    "TC_H_10_CS": answer("ReserveNow", with_fields(status="Accepted"), when=_unspecified),
    "TC_H_12_CS": answer("ReserveNow", with_fields(status="Occupied"), when=_unspecified),
    "TC_H_13_CS": answer("ReserveNow", with_fields(status="Accepted"), when=_unspecified),
    "TC_H_14_CS": unspecified_never_reserved,
    "TC_H_15_CS": answer("ReserveNow", with_fields(status="Rejected"), when=_typed),
    # one reservation of a type too many is taken as well
    "TC_H_16_CS": answer("ReserveNow", with_fields(status="Accepted"), when=_typed),
    "TC_H_22_CS": reservations_never_disabled,
    "TC_H_24_CS": group_ignored,
    "TC_B_53_CS": required_variable_unreported,
    # a base report it does not have is Accepted (and never sent)
    "TC_B_15_CS": answer("GetBaseReport", with_fields(status="Accepted"),
                         when=lambda p: p["reportBase"] == "SummaryInventory"),
    # a profile for a slot the station does not have goes into slot 1
    "TC_B_43_CS": request_changed("SetNetworkProfile",
                                  lambda p: {**p, "configurationSlot": 1}),
}
