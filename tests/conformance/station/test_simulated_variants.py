"""The simulated 1.6 station can be built as the other station configurations the suite's
variant runs need: without a local list, without reservations of connector 0 (the power
failure that ends transactions only after the reboot is exercised by TC_032_2 in the
``1.6-plain`` variant run)."""

from __future__ import annotations

from chargeloop.ocppj import OcppVersion
from conformance.station.simulated import SimulatedOptions, station_spec


def _options(**changes: bool) -> SimulatedOptions:
    return SimulatedOptions(url="ws://127.0.0.1:1/ocpp", identity="CS-1",
                            version=OcppVersion.V16, **changes)


def test_the_usual_station_has_a_local_list_and_reserves_connector_zero() -> None:
    seed = station_spec(_options()).settings_seed()
    assert "LocalAuthListManagement" in seed.features
    assert seed.reserve_any_evse


def test_a_plain_station_has_neither() -> None:
    seed = station_spec(_options(local_auth_list=False,
                                 reserve_connector_zero=False)).settings_seed()
    assert "LocalAuthListManagement" not in seed.features
    assert "Reservation" in seed.features and not seed.reserve_any_evse
