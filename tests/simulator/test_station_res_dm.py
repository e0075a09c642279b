"""The simulated station's reservations of a connector type and its 2.0.1 configurations for the
conformance cases of an unspecified EVSE, a connector type (TC_H_13..H_16) and a base report it
does not support (TC_B_15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargeloop.ocppj import OcppVersion
from conformance.station.simulated import SimulatedOptions, station_spec
from simulator.station.reservations import (
    DefaultReservationSettings,
    EvseAvailability,
    Reservations,
)
from simulator.station.settings import DeviceModel201

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
STATES = {1: EvseAvailability("Available", ("cCCS2",)),
          2: EvseAvailability("Available", ("cType2",)),
          3: EvseAvailability("Available", ("cType2",))}


def _reserve(reservations: Reservations, rid: int, kind: str) -> str:
    request = {"id": rid, "expiryDateTime": (NOW + timedelta(hours=1)).isoformat(),
               "idToken": {"idToken": f"TAG-{rid}", "type": "ISO14443"}, "connectorType": kind}
    return str(reservations.reserve(request, STATES, now=NOW)["status"])


def test_reservations_of_a_type_reserve_its_evses_once_they_take_them_all_up() -> None:
    """H01 / TC_H_15, TC_H_16: the only cCCS2 EVSE shows Reserved at once, the two cType2
    EVSEs only when two cType2 reservations take both up."""
    reservations = Reservations("2.0.1",
                                settings=DefaultReservationSettings(reserve_any_evse=True))
    assert _reserve(reservations, 1, "cCCS2") == "Accepted"
    assert reservations.reserved_evses(STATES) == {1: None}
    assert _reserve(reservations, 2, "cType2") == "Accepted"
    assert reservations.reserved_evses(STATES) == {1: None}
    assert _reserve(reservations, 3, "cType2") == "Accepted"
    assert reservations.reserved_evses(STATES) == {1: None, 2: None, 3: None}
    assert _reserve(reservations, 4, "cType2") == "Occupied"


def _device_model(**changes: bool) -> DeviceModel201:
    options = SimulatedOptions(url="ws://127.0.0.1:1/ocpp", identity="CS-1",
                               version=OcppVersion.V201, **changes)
    seed = station_spec(options).settings_seed()
    return DeviceModel201(seed)


def test_the_usual_2_0_1_station_reserves_any_evse_and_reports_a_summary() -> None:
    model = _device_model()
    assert model.reserve_any_evse
    answer, _ = model.get_base_report({"requestId": 1, "reportBase": "SummaryInventory"})
    assert answer["status"] == "Accepted"


def test_a_plain_2_0_1_station_has_neither() -> None:
    model = _device_model(reserve_unspecified_evse=False, summary_inventory=False)
    assert not model.reserve_any_evse
    variable = model.find("ReservationCtrlr", "NonEvseSpecific")
    assert variable is not None and variable.read() == "false"
    answer, items = model.get_base_report({"requestId": 1, "reportBase": "SummaryInventory"})
    assert answer["status"] == "NotSupported" and items == []
    answer, _ = model.get_base_report({"requestId": 1, "reportBase": "FullInventory"})
    assert answer["status"] == "Accepted"
