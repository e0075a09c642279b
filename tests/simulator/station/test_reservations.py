"""Reservations (1.6 Reservation profile, 2.0.1 block H): ReserveNow answers by EVSE state,
replacement, cancellation, expiry and use, every message checked against the official schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargeloop.ocppj import Direction, OcppVersion, validate
from simulator.station.reservations import (
    DefaultReservationSettings,
    EvseAvailability,
    Reservations,
    status_update,
)
from simulator.station.settings import SettingsSeed, settings_for
from simulator.station.smart_charging import iso_utc

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=15)
VERSIONS = ["1.6", "2.0.1"]


def check(version: str, action: str, payload: dict[str, Any],
          direction: Direction = Direction.RESPONSE) -> dict[str, Any]:
    validate(OcppVersion.parse(version), action, direction, payload)
    return payload


def reserve(reservations: Reservations, version: str, rid: int, evse: int | None,
            states: dict[int, Any], *, tag: str = "TAG-1", group: str | None = None,
            expiry: datetime = LATER, connector_type: str | None = None) -> str:
    if version == "1.6":
        request: dict[str, Any] = {"connectorId": evse or 0, "expiryDate": iso_utc(expiry),
                                   "idTag": tag, "reservationId": rid}
        if group:
            request["parentIdTag"] = group
    else:
        request = {"id": rid, "expiryDateTime": iso_utc(expiry),
                   "idToken": {"idToken": tag, "type": "ISO14443"}}
        if evse is not None:
            request["evseId"] = evse
        if group:
            request["groupIdToken"] = {"idToken": group, "type": "Central"}
        if connector_type:
            request["connectorType"] = connector_type
    check(version, "ReserveNow", request, Direction.REQUEST)
    answer = check(version, "ReserveNow", reservations.reserve(request, states, now=NOW))
    return str(answer["status"])


def cancel(reservations: Reservations, version: str, rid: int) -> str:
    request = {"reservationId": rid}
    check(version, "CancelReservation", request, Direction.REQUEST)
    return str(check(version, "CancelReservation", reservations.cancel(request))["status"])


@pytest.mark.parametrize("version", VERSIONS)
def test_reserve_a_specific_evse_by_its_state(version: str) -> None:
    """TC_H_01 Accepted, TC_H_03 Occupied (reserved), TC_H_04 Occupied (in use), TC_H_06
    Unavailable, Faulted; 1.6 TC_048/TC_049 family."""
    reservations = Reservations(version)
    in_use = "Charging" if version == "1.6" else "Occupied"
    states = {1: "Available", 2: in_use, 3: "Faulted", 4: "Unavailable", 5: "Available"}
    assert reserve(reservations, version, 1, 1, states) == "Accepted"
    assert reserve(reservations, version, 2, 1, {**states, 1: "Reserved"}) == "Occupied"
    assert reserve(reservations, version, 3, 2, states) == "Occupied"
    assert reserve(reservations, version, 4, 3, states) == "Faulted"
    assert reserve(reservations, version, 5, 4, states) == "Unavailable"
    assert reserve(reservations, version, 6, 9, states) == "Rejected"  # no such EVSE
    if version == "1.6":
        for busy in ("Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing"):
            assert reserve(reservations, version, 7, 5, {**states, 5: busy}) == "Occupied"
    assert reserve(reservations, version, 8, 5, states, expiry=NOW - timedelta(seconds=1)) == \
        "Rejected"
    assert [(r.id, r.evse_id, r.token) for r in reservations.all()] == [(1, 1, "TAG-1")]
    assert reservations.reserved_evses(states) == {1: reservations.get(1)}


@pytest.mark.parametrize("version", VERSIONS)
def test_same_reservation_id_replaces(version: str) -> None:
    """1.6 5.13 / TC_H_23: a ReserveNow with a known reservationId replaces that reservation."""
    reservations = Reservations(version)
    states = {1: "Available", 2: "Available"}
    assert reserve(reservations, version, 7, 1, states) == "Accepted"
    assert reserve(reservations, version, 7, 1, {**states, 1: "Reserved"}, tag="TAG-2",
                   expiry=LATER + timedelta(hours=1)) == "Accepted"
    assert reserve(reservations, version, 7, 2, states, tag="TAG-3") == "Accepted"
    [only] = reservations.all()
    assert (only.evse_id, only.token) == (2, "TAG-3")


@pytest.mark.parametrize("version", VERSIONS)
def test_reservations_disabled_are_rejected(version: str) -> None:
    """TC_H_22: configured to reject."""
    settings = settings_for(version, SettingsSeed(reservation_enabled=False))
    reservations = Reservations(version, settings=settings)
    assert reserve(reservations, version, 1, 1, {1: "Available"}) == "Rejected"


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel(version: str) -> None:
    """TC_H_17 / TC_H_18, 1.6 CancelReservation."""
    reservations = Reservations(version)
    reserve(reservations, version, 3, 1, {1: "Available"})
    assert cancel(reservations, version, 4) == "Rejected"
    assert cancel(reservations, version, 3) == "Accepted"
    assert cancel(reservations, version, 3) == "Rejected"
    assert len(reservations) == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_expired_reservations_are_handed_back(version: str) -> None:
    """1.6 TC_047, 2.0.1 TC_H_07: at expiry the EVSE is available again and a 2.0.1 station
    reports ReservationStatusUpdate(Expired)."""
    reservations = Reservations(version)
    states = {1: "Available", 2: "Available"}
    reserve(reservations, version, 1, 1, states, expiry=NOW + timedelta(seconds=60))
    reserve(reservations, version, 2, 2, states, expiry=NOW + timedelta(seconds=120))
    assert reservations.next_expiry() == NOW + timedelta(seconds=60)
    assert reservations.expired(NOW + timedelta(seconds=59)) == []
    [gone] = reservations.expired(NOW + timedelta(seconds=60))
    assert gone.id == 1 and reservations.reserved_evses(states) == {2: reservations.get(2)}
    assert reservations.next_expiry() == NOW + timedelta(seconds=120)
    if version == "2.0.1":
        check(version, "ReservationStatusUpdate", status_update(gone, "Expired"),
              Direction.REQUEST)
    # the lapsed reservation no longer holds the EVSE for its token's rivals
    assert not reservations.blocks(1, "SOMEONE-ELSE", None, states)
    assert reservations.blocks(2, "SOMEONE-ELSE", None, states)


@pytest.mark.parametrize("version", VERSIONS)
def test_holder_by_token_or_group_and_use(version: str) -> None:
    """TC_H_19 / TC_H_24: the reserved token or any token of its group (1.6 parentIdTag,
    2.0.1 groupIdToken) may use the EVSE; the reservation ends when its transaction starts."""
    reservations = Reservations(version)
    states = {1: "Available", 2: "Available"}
    reserve(reservations, version, 11, 1, states, tag="Tag-A", group="FLEET-1")
    assert reservations.matches(1, "tag-a")  # tokens compare case-insensitively
    assert reservations.matches(1, "OTHER", "fleet-1")
    assert not reservations.matches(1, "OTHER", "FLEET-2")
    assert not reservations.matches(2, "TAG-A")  # reserved on EVSE 1 only
    assert reservations.blocks(1, "OTHER", None, states)
    assert not reservations.blocks(1, "OTHER", "FLEET-1", states)
    assert not reservations.blocks(2, "OTHER", None, states)
    assert reservations.consume(2, "TAG-A") is None
    used = reservations.consume(1, "OTHER", "FLEET-1")
    assert used is not None and used.id == 11 and len(reservations) == 0


def test_2_0_1_unspecified_evse_reservations() -> None:
    """TC_H_08 Accepted, TC_H_13 Rejected without NonEvseSpecific, TC_H_14 Occupied once the
    free EVSEs equal the reservations (the rest then show Reserved), TC_H_09/10/12."""
    states = {1: "Available", 2: "Available", 3: "Occupied"}
    assert reserve(Reservations("2.0.1"), "2.0.1", 1, None, states) == "Rejected"
    settings = DefaultReservationSettings(reserve_any_evse=True)
    reservations = Reservations("2.0.1", settings=settings)
    assert reserve(reservations, "2.0.1", 1, None, states, tag="A") == "Accepted"
    assert reservations.reserved_evses(states) == {}  # one free EVSE stays open for it
    assert reserve(reservations, "2.0.1", 2, None, states, tag="B") == "Accepted"
    assert reservations.reserved_evses(states) == {1: None, 2: None}
    assert reserve(reservations, "2.0.1", 3, None, states, tag="C") == "Occupied"
    assert reserve(reservations, "2.0.1", 4, 1, states, tag="D") == "Occupied"
    assert reservations.blocks(1, "D", None, states)
    assert not reservations.blocks(1, "a", None, states)  # A holds one of them
    assert reservations.consume(2, "A").id == 1  # type: ignore[union-attr]
    assert reservations.reserved_evses(states) == {}
    assert reserve(Reservations("2.0.1", settings=settings), "2.0.1", 5, None,
                   {1: "Faulted", 2: "Faulted"}) == "Faulted"
    assert reserve(Reservations("2.0.1", settings=settings), "2.0.1", 5, None,
                   {1: "Faulted", 2: "Unavailable"}) == "Unavailable"


def test_2_0_1_reservation_by_connector_type() -> None:
    """TC_H_15 / TC_H_16: only EVSEs with a connector of the type count."""
    settings = DefaultReservationSettings(reserve_any_evse=True)
    reservations = Reservations("2.0.1", settings=settings)
    states = {1: EvseAvailability("Available", ("cCCS2",)),
              2: EvseAvailability("Available", ("cType2",)),
              3: EvseAvailability("Available", ("cType2",))}
    assert reserve(reservations, "2.0.1", 1, None, states, connector_type="cCCS2") == "Accepted"
    assert reserve(reservations, "2.0.1", 2, None, states, connector_type="cCCS2") == "Occupied"
    assert reserve(reservations, "2.0.1", 3, None, states, connector_type="cType2") == "Accepted"
    assert reserve(reservations, "2.0.1", 4, None, states, connector_type="cTesla") == "Rejected"
    assert reserve(reservations, "2.0.1", 5, 1, states, connector_type="cType2") == "Rejected"


def test_1_6_connector_zero_needs_support() -> None:
    states = {1: "Available", 2: "Charging"}
    assert reserve(Reservations("1.6"), "1.6", 1, 0, states) == "Rejected"
    supported = settings_for("1.6", SettingsSeed(reserve_any_evse=True,
                                                 evse_connectors=(("cType2",),) * 2))
    reservations = Reservations("1.6", settings=supported)
    assert reserve(reservations, "1.6", 1, 0, states) == "Accepted"
    assert reserve(reservations, "1.6", 2, 0, states) == "Occupied"  # one connector is free
    assert reservations.reserved_evses(states) == {1: None}
    assert reservations.matches(2, "TAG-1")  # usable on any connector


@pytest.mark.parametrize("version", VERSIONS)
def test_evse_going_out_of_service_drops_its_reservation(version: str) -> None:
    """TC_H_21: the station cancels a reservation when the EVSE becomes Unavailable (2.0.1
    reports it Removed)."""
    reservations = Reservations(version)
    reserve(reservations, version, 9, 1, {1: "Available"})
    [dropped] = reservations.drop_evse(1)
    assert dropped.id == 9 and len(reservations) == 0
    if version == "2.0.1":
        check(version, "ReservationStatusUpdate", status_update(dropped, "Removed"),
              Direction.REQUEST)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_station_set_to_reject_reservations_rejects_them(version: str) -> None:
    """1.6 TC_048_4: the operator set the station to reject reservations."""
    reservations = Reservations(version)
    reservations.rejecting = True
    assert reserve(reservations, version, 1, 1, {1: "Available"}) == "Rejected"
    assert reservations.all() == []
