"""OCPP 1.6 Reservation, charging station under test (test case document FINAL 2024-04)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conformance.station.harness import Harness, check

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


@pytest.mark.case("TC_046_1_CS")
async def test_TC_046_1_CS(h: Harness) -> None:
    """Reservation of a connector, local start: ReserveNow Accepted; Reserved; the tag is
    presented and the cable plugged in; StartTransaction carries the reservationId;
    Charging."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNow.conf", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    token = h.sut.tokens.valid
    await h.act("present_token", step="present token", evse=1, token=token)
    await h.act("plug_in", step="plug in", evse=1)
    start = await h.csms.receive("StartTransaction", step="StartTransaction")
    check(start.payload.get("idTag") == token and
          start.payload.get("reservationId") == RESERVATION_ID, "StartTransaction.req",
          f"idTag {token}, reservationId {RESERVATION_ID}", start.payload)
    await h.status(1, "Charging", step="StatusNotification Charging")


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
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNow.conf", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
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
