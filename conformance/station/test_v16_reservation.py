"""OCPP 1.6 Reservation, charging station under test (test case document FINAL 2024-04)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from conformance.station.harness import Harness, check
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

RESERVATION_ID = 4711


def _expiry(seconds: float = 3600.0) -> str:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


async def _reserve(h: Harness, *, step: str, connector: int = 1, expiry_s: float = 3600.0
                   ) -> str:
    answer = await h.csms.call("ReserveNow", {
        "connectorId": connector, "expiryDate": _expiry(expiry_s),
        "idTag": h.sut.tokens.valid, "reservationId": RESERVATION_ID}, step=step)
    return str(answer.get("status"))

async def _reserved(h: Harness) -> None:
    """ReserveNow for connector 1 Accepted; the connector Reserved."""
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNow.conf", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")


async def _started_on_reservation(h: Harness, token: str) -> None:
    """The StartTransaction carries ``token`` and the reservationId; then Charging."""
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token and
          start.payload.get("reservationId") == RESERVATION_ID, "StartTransaction.req",
          f"idTag {token}, reservationId {RESERVATION_ID}", start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")


async def _present_and_plug(h: Harness, token: str) -> None:
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.act("plug_in", step="plug in", evse=1)


@pytest.mark.case("TC_046_1_CS")
async def test_TC_046_1_CS(h: Harness) -> None:
    """Reservation of a connector, local start: ReserveNow Accepted; Reserved; the tag is
    presented and the cable plugged in; StartTransaction carries the reservationId;
    Charging."""
    await h.booted()
    await _reserved(h)
    token = h.sut.tokens.valid
    await _present_and_plug(h, token)
    await _started_on_reservation(h, token)


@pytest.mark.case("TC_047_CS")
async def test_TC_047_CS(h: Harness) -> None:
    """Reservation expires: ReserveNow Accepted with an expiry a few seconds ahead; Reserved;
    Available again once it has expired, not before; then a transaction with another tag
    starts, which shows the reservation has lapsed."""
    await h.booted()
    expiry_s = 3.0
    status = await _reserve(h, step="ReserveNow", expiry_s=expiry_s)
    check(status == "Accepted", "ReserveNow.conf", "Accepted", status)
    reserved = await h.status(1, "Reserved", step="StatusNotification Reserved")
    available = await h.status(1, "Available", step="StatusNotification Available",
                               timeout_s=expiry_s + h.wait_s)
    # the expiry has whole seconds: it may fall up to 1 s before expiry_s from now
    check(available.at - reserved.at >= expiry_s - 1.2, "StatusNotification Available",
          f"Available when the reservation expired (~{expiry_s:g} s)",
          f"after {available.at - reserved.at:.2f} s")
    start = await h.charging16(h.sut.tokens.valid_2, step="another tag")
    check("reservationId" not in start.payload, "StartTransaction.req",
          "no reservationId (the reservation has expired)", start.payload)


@pytest.mark.case("TC_048_2_CS")
async def test_TC_048_2_CS(h: Harness) -> None:
    """Reservation of a connector that is charging: ReserveNow answered Occupied."""
    await h.booted()
    await h.charging16(h.sut.tokens.valid_2)
    status = await _reserve(h, step="ReserveNow")
    check(status == "Occupied", "ReserveNow.conf", "Occupied", status)


@pytest.mark.case("TC_048_3_CS")
async def test_TC_048_3_CS(h: Harness) -> None:
    """Reservation of an unavailable connector: (ChangeAvailability Inoperative first)
    ReserveNow answered Unavailable."""
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"},
                               step="ChangeAvailability")
    check(answer.get("status") == "Accepted", "ChangeAvailability.conf", "Accepted", answer)
    await h.status(1, "Unavailable", step="StatusNotification Unavailable")
    status = await _reserve(h, step="ReserveNow")
    check(status == "Unavailable", "ReserveNow.conf", "Unavailable", status)


@pytest.mark.case("TC_051_CS")
async def test_TC_051_CS(h: Harness) -> None:
    """Cancel reservation: ReserveNow Accepted, Reserved; CancelReservation Accepted;
    Available again."""
    await h.booted()
    await _reserved(h)
    answer = await h.csms.call("CancelReservation", {"reservationId": RESERVATION_ID},
                               step="CancelReservation")
    check(answer.get("status") == "Accepted", "CancelReservation.conf", "Accepted", answer)
    await h.status(1, "Available", step="StatusNotification Available")


@pytest.mark.case("TC_052_CS")
async def test_TC_052_CS(h: Harness) -> None:
    """Cancel reservation, Rejected: a reservation id the station does not know."""
    await h.booted()
    answer = await h.csms.call("CancelReservation", {"reservationId": RESERVATION_ID + 1},
                               step="CancelReservation")
    check(answer.get("status") == "Rejected", "CancelReservation.conf", "Rejected", answer)


@pytest.mark.case("TC_046_2_CS")
async def test_TC_046_2_CS(h: Harness) -> None:
    """Reservation of a connector, remote start: ReserveNow Accepted; Reserved;
    RemoteStartTransaction for that connector with the reserved tag Accepted; the cable is
    plugged in; StartTransaction carries the tag and the reservationId; Charging."""
    await h.booted()
    await _reserved(h)
    token = h.sut.tokens.valid
    answer = await h.csms.call("RemoteStartTransaction", {"connectorId": 1, "idTag": token},
                               step="RemoteStartTransaction")
    check(answer.get("status") == "Accepted", "RemoteStartTransaction.conf", "Accepted", answer)
    await h.act("plug_in", step="plug in", evse=1)
    await _started_on_reservation(h, token)


@pytest.mark.case("TC_048_1_CS")
async def test_TC_048_1_CS(h: Harness) -> None:
    """Reservation of a faulted connector: the tester causes a fault (Faulted); ReserveNow for
    that connector answered Faulted."""
    await h.booted()
    await h.act("fault", step="cause a fault", evse=1, seconds=5)
    await h.status(1, "Faulted", step="StatusNotification Faulted")
    status = await _reserve(h, step="ReserveNow")
    check(status == "Faulted", "ReserveNow.conf", "Faulted", status)


@pytest.mark.case("TC_053_CS")
async def test_TC_053_CS(h: Harness) -> None:
    """Use a reserved connector with the parentIdTag: ReserveNow for one tag with a
    parentIdTag, Accepted; Reserved; another tag of the same group (its Authorize answered
    Accepted with that parentIdTag) is presented and the cable plugged in: StartTransaction
    with that tag and the reservationId; Charging."""
    await h.booted()
    tokens = h.sut.tokens
    answer = await h.csms.call("ReserveNow", {
        "connectorId": 1, "expiryDate": _expiry(), "idTag": tokens.valid,
        "parentIdTag": tokens.group_id, "reservationId": RESERVATION_ID}, step="ReserveNow")
    check(answer.get("status") == "Accepted", "ReserveNow.conf", "Accepted", answer)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    other = tokens.valid_2
    await h.act("present_token", step="present another tag of the group", evse=1, token=other)
    authorize = await h.csms.receive("Authorize", step="Authorize",
                                     where=lambda p: p.get("idTag") == other)
    check(authorize.answer is not None and
          authorize.answer["idTagInfo"].get("parentIdTag") == tokens.group_id,
          "Authorize.conf", f"Accepted with parentIdTag {tokens.group_id} (the harness's answer)",
          authorize.answer)
    await h.act("plug_in", step="plug in", evse=1)
    await _started_on_reservation(h, other)


def _station_reservations(h: Harness) -> None:
    if not h.sut.claims("reservation_connector_zero"):
        not_applicable("reservation_connector_zero (ReserveConnectorZeroSupported)")


async def _reserve_station(h: Harness, *, step: str) -> str:
    answer = await h.csms.call("ReserveNow", {
        "connectorId": 0, "expiryDate": _expiry(), "idTag": h.sut.tokens.valid,
        "reservationId": RESERVATION_ID}, step=step)
    return str(answer.get("status"))


@pytest.mark.case("TC_049_CS")
async def test_TC_049_CS(h: Harness) -> None:
    """Reservation of the charge point, transaction: ReserveNow for connector 0 Accepted; the
    reserved tag is presented and the cable plugged in at connector 1: StartTransaction with
    the tag and the reservationId; Charging."""
    _station_reservations(h)
    await h.booted()
    status = await _reserve_station(h, step="ReserveNow (connector 0)")
    check(status == "Accepted", "ReserveNow.conf", "Accepted", status)
    token = h.sut.tokens.valid
    await _present_and_plug(h, token)
    await _started_on_reservation(h, token)


@pytest.mark.case("TC_050_1_CS")
async def test_TC_050_1_CS(h: Harness) -> None:
    """Reservation of the charge point, Faulted: the tester causes a fault of the whole
    charge point (connector 0 Faulted); ReserveNow for connector 0 answered Faulted."""
    _station_reservations(h)
    await h.booted()
    await h.act("fault", step="cause a fault of the charge point", evse=0, seconds=5)
    await h.status(0, "Faulted", step="StatusNotification Faulted (connector 0)")
    status = await _reserve_station(h, step="ReserveNow (connector 0)")
    check(status == "Faulted", "ReserveNow.conf", "Faulted", status)


@pytest.mark.case("TC_050_2_CS")
async def test_TC_050_2_CS(h: Harness) -> None:
    """Reservation of the charge point, Occupied: every connector charging; ReserveNow for
    connector 0 answered Occupied."""
    _station_reservations(h)
    await h.booted()
    for evse in range(1, h.evses + 1):
        await h.charging16(h.sut.tokens.valid_2, step=f"Charging on {evse}", evse=evse)
    status = await _reserve_station(h, step="ReserveNow (connector 0)")
    check(status == "Occupied", "ReserveNow.conf", "Occupied", status)


@pytest.mark.case("TC_050_3_CS")
async def test_TC_050_3_CS(h: Harness) -> None:
    """Reservation of the charge point, Unavailable: ChangeAvailability Inoperative for
    connector 0 Accepted, every connector Unavailable; ReserveNow for connector 0 answered
    Unavailable."""
    _station_reservations(h)
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"},
                               step="ChangeAvailability")
    check(answer.get("status") == "Accepted", "ChangeAvailability.conf", "Accepted", answer)
    try:
        await h.all_statuses("Unavailable", step="Unavailable")
        status = await _reserve_station(h, step="ReserveNow (connector 0)")
        check(status == "Unavailable", "ReserveNow.conf", "Unavailable", status)
    finally:  # a real charger stays Inoperative into the next case otherwise
        if h.csms.connected:
            with contextlib.suppress(CaseFailed):
                await h.csms.call_or_error("ChangeAvailability", {
                    "connectorId": 0, "type": "Operative"}, step="put back")


@pytest.mark.case("TC_048_4_CS")
async def test_TC_048_4_CS(h: Harness) -> None:
    """Reservation of a Connector - Rejected: the station is configured to reject
    reservations (action ``reject_reservations``); ReserveNow for the connector is answered
    Rejected and the connector stays Available (no StatusNotification Reserved)."""
    await h.booted()
    await h.act("reject_reservations", step="the station is set to reject reservations")
    status = await _reserve(h, step="ReserveNow")
    check(status == "Rejected", "ReserveNow.conf", "Rejected", status)
    await h.csms.nothing("StatusNotification", step="no StatusNotification Reserved",
                         within_s=1.0, where=lambda p: p.get("status") == "Reserved",
                         expected="the connector is not reserved")
