"""OCPP 1.6 Reservation profile, CSMS under test (1.6 5.13 ReserveNow, 5.1 CancelReservation,
4.8 StartTransaction with a reservationId, 4.9 status Reserved).

The suite plays the Charge Point; each docstring lists the case's steps and what is validated.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    authorized,
    check,
    csms_sends,
    now_iso,
    status_payload,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

EXPIRY_S = 3600.0


async def _status(station: TestStation, status: str, connector: int = 1,
                  error_code: str = "NoError") -> None:
    await station.call("StatusNotification",
                       status_payload(station.version, connector, status, error_code),
                       step=f"StatusNotification {status}")


def _future(value: Any) -> bool:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None and moment > datetime.now(UTC)


async def _reserve(station: TestStation, triggers: Triggers, sut: Sut, answer: str, *,
                   connector_id: int = 1, token: str | None = None,
                   parent: str | None = None) -> IncomingCall:
    """The Central System sends ReserveNow for ``connector_id`` and ``token``; the Charge
    Point answers ``answer``. Validates connectorId, idTag, a reservationId and an expiryDate
    in the future (and parentIdTag when one is asked for)."""
    token = token or sut.tokens.valid
    request: dict[str, Any] = {"connectorId": connector_id, "expiryDate": now_iso(EXPIRY_S),
                               "idTag": token, "reservationId": random.randint(10_000, 2**30)}
    if parent:
        request["parentIdTag"] = parent
    call = await csms_sends(station, triggers, "ReserveNow", request, {"status": answer},
                            step="ReserveNow.req", timeout_s=sut.action_timeout_s)
    payload = call.payload
    check(payload.get("connectorId") == connector_id, "ReserveNow.req",
          f"connectorId {connector_id}", payload)
    check(payload.get("idTag") == token, "ReserveNow.req", f"idTag {token}", payload)
    check(isinstance(payload.get("reservationId"), int), "ReserveNow.req", "a reservationId",
          payload)
    check(_future(payload.get("expiryDate")), "ReserveNow.req", "an expiryDate in the future",
          payload)
    if parent:
        check(payload.get("parentIdTag") == parent, "ReserveNow.req", f"parentIdTag {parent}",
              payload)
    return call


async def _start_reserved(station: TestStation, token: str, reservation_id: int,
                          connector_id: int = 1) -> None:
    """Authorize, Preparing, StartTransaction with the reservationId (Accepted), Charging."""
    await _status(station, "Preparing", connector_id)
    started = await station.call("StartTransaction", {
        "connectorId": connector_id, "idTag": token, "meterStart": 0, "timestamp": now_iso(),
        "reservationId": reservation_id}, step="StartTransaction (reservationId)")
    check(started.get("idTagInfo", {}).get("status") == "Accepted", "StartTransaction.conf",
          "idTagInfo.status Accepted", started)
    check(isinstance(started.get("transactionId"), int), "StartTransaction.conf",
          "a transactionId", started)
    await _status(station, "Charging", connector_id)


@pytest.mark.case("TC_046_CSMS")
async def test_TC_046_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reservation of a connector, transaction (1.6 5.13, 4.8).

    Steps: the Central System sends ReserveNow.req (connector 1, a valid tag); the Charge
    Point answers Accepted and reports connector 1 Reserved; the tag is presented: Authorize
    (Accepted), Preparing, StartTransaction with the reservationId, Charging.
    Validated: ReserveNow.req with connectorId 1, the idTag, a reservationId and an expiryDate
    in the future; Authorize.conf Accepted; StartTransaction.conf idTagInfo.status Accepted.
    """
    station = await stations.booted()
    call = await _reserve(station, triggers, sut, "Accepted")
    await _status(station, "Reserved")
    await authorized(station, sut.tokens.valid)
    await _start_reserved(station, sut.tokens.valid, call.payload["reservationId"])


@pytest.mark.case("TC_047_CSMS")
async def test_TC_047_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reservation of a connector, expire (1.6 5.13).

    Steps: the Central System sends ReserveNow.req (connector 1); the Charge Point answers
    Accepted and reports Reserved; the reservation expires unused: the Charge Point reports
    connector 1 Available.
    Validated: ReserveNow.req with connectorId 1, the idTag, a reservationId and an expiryDate
    in the future; both StatusNotifications are answered.
    """
    station = await stations.booted()
    await _reserve(station, triggers, sut, "Accepted")
    await _status(station, "Reserved")
    await _status(station, "Available")


async def _refused(stations: StationPool, triggers: Triggers, sut: Sut, answer: str,
                   status: str | None, error_code: str = "NoError") -> None:
    station = await stations.booted()
    if status is not None:
        await _status(station, status, error_code=error_code)
    await _reserve(station, triggers, sut, answer)


@pytest.mark.case("TC_048_1_CSMS")
async def test_TC_048_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reservation of a connector, Faulted (1.6 5.13).

    Before: connector 1 is Faulted (StatusNotification Faulted).
    Steps: the Central System sends ReserveNow.req for connector 1; the Charge Point answers
    Faulted.
    Validated: ReserveNow.req with connectorId 1, the idTag, a reservationId and an expiryDate
    in the future.
    """
    await _refused(stations, triggers, sut, "Faulted", "Faulted", "OtherError")


@pytest.mark.case("TC_048_2_CSMS")
async def test_TC_048_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reservation of a connector, Occupied (1.6 5.13).

    Before: connector 1 is occupied (StatusNotification Preparing: a cable is plugged in).
    Steps: the Central System sends ReserveNow.req for connector 1; the Charge Point answers
    Occupied.
    Validated: ReserveNow.req with connectorId 1, the idTag, a reservationId and an expiryDate
    in the future.
    """
    await _refused(stations, triggers, sut, "Occupied", "Preparing")


@pytest.mark.case("TC_048_3_CSMS")
async def test_TC_048_3_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reservation of a connector, Unavailable (1.6 5.13).

    Before: connector 1 is Unavailable (StatusNotification Unavailable).
    Steps: the Central System sends ReserveNow.req for connector 1; the Charge Point answers
    Unavailable.
    Validated: ReserveNow.req with connectorId 1, the idTag, a reservationId and an expiryDate
    in the future.
    """
    await _refused(stations, triggers, sut, "Unavailable", "Unavailable")


@pytest.mark.case("TC_048_4_CSMS")
async def test_TC_048_4_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reservation of a connector, Rejected (1.6 5.13).

    Steps: the Central System sends ReserveNow.req for connector 1; the Charge Point (not
    configured to accept reservations) answers Rejected.
    Validated: ReserveNow.req with connectorId 1, the idTag, a reservationId and an expiryDate
    in the future.
    """
    await _refused(stations, triggers, sut, "Rejected", None)


@pytest.mark.case("TC_049_CSMS")
async def test_TC_049_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reservation of a Charge Point, transaction (1.6 5.13, connectorId 0).

    Steps: the Central System sends ReserveNow.req for connector 0 (the whole Charge Point);
    the Charge Point answers Accepted; the tag is presented: Authorize (Accepted), Preparing
    on connector 1, StartTransaction with the reservationId, Charging.
    Validated: ReserveNow.req with connectorId 0, the idTag, a reservationId and an expiryDate
    in the future; StartTransaction.conf idTagInfo.status Accepted.
    """
    station = await stations.booted()
    call = await _reserve(station, triggers, sut, "Accepted", connector_id=0)
    await authorized(station, sut.tokens.valid)
    await _start_reserved(station, sut.tokens.valid, call.payload["reservationId"])


async def _cancel(stations: StationPool, triggers: Triggers, sut: Sut, answer: str) -> None:
    station = await stations.booted()
    reserved = await _reserve(station, triggers, sut, "Accepted")
    await _status(station, "Reserved")
    reservation_id = reserved.payload["reservationId"]
    call = await csms_sends(station, triggers, "CancelReservation",
                            {"reservationId": reservation_id}, {"status": answer},
                            step="CancelReservation.req", timeout_s=sut.action_timeout_s)
    check(call.payload.get("reservationId") == reservation_id, "CancelReservation.req",
          f"reservationId {reservation_id} (the ReserveNow's)", call.payload)
    if answer == "Accepted":
        await _status(station, "Available")


@pytest.mark.case("TC_051_CSMS")
async def test_TC_051_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Cancel reservation (1.6 5.1).

    Before: connector 1 reserved (ReserveNow Accepted, StatusNotification Reserved).
    Steps: the Central System sends CancelReservation.req; the Charge Point answers Accepted
    and reports connector 1 Available.
    Validated: CancelReservation.req with the reservationId of the ReserveNow.req.
    """
    await _cancel(stations, triggers, sut, "Accepted")


@pytest.mark.case("TC_052_CSMS")
async def test_TC_052_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Cancel reservation, rejected (1.6 5.1).

    Before: connector 1 reserved (ReserveNow Accepted, StatusNotification Reserved).
    Steps: the Central System sends CancelReservation.req; the Charge Point answers Rejected
    (it does not cancel).
    Validated: CancelReservation.req with the reservationId of the ReserveNow.req.
    """
    await _cancel(stations, triggers, sut, "Rejected")


@pytest.mark.case("TC_053_CSMS")
async def test_TC_053_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Use a reserved connector with parentIdTag (1.6 5.13: a reservation is also usable by
    a tag with the same parentIdTag).

    Steps: the Central System sends ReserveNow.req for connector 1 with the first valid tag and
    its group as parentIdTag; the Charge Point answers Accepted and reports Reserved; a second
    tag of the same group is presented: Authorize, whose answer gives the parentIdTag; the
    group matches, so Preparing, StartTransaction with the reservationId, Charging.
    Validated: ReserveNow.req with connectorId 1, the idTag, the parentIdTag, a reservationId
    and an expiryDate in the future; Authorize.conf of the second tag Accepted with the same
    parentIdTag; StartTransaction.conf idTagInfo.status Accepted.
    """
    station = await stations.booted()
    group = sut.tokens.group_id
    call = await _reserve(station, triggers, sut, "Accepted", parent=group)
    await _status(station, "Reserved")
    info = await authorized(station, sut.tokens.valid_2)
    check(info.get("parentIdTag") == group, "Authorize.conf", f"parentIdTag {group}", info)
    await _start_reserved(station, sut.tokens.valid_2, call.payload["reservationId"])
