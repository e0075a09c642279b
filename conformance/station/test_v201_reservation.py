"""OCPP 2.0.1 Reservation (mandatory cases), charging station under test (Part 6 Edition 3,
errata 2025-09)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conformance.station.harness import Harness, check

pytestmark = pytest.mark.asyncio(loop_scope="session")

RESERVATION_ID = 815


def _expiry(seconds: float = 3600.0) -> str:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


async def _reserve(h: Harness, *, step: str, evse: int = 1, expiry_s: float = 3600.0) -> str:
    answer = await h.csms.call("ReserveNow", {
        "id": RESERVATION_ID, "expiryDateTime": _expiry(expiry_s), "evseId": evse,
        "idToken": {"idToken": h.sut.tokens.valid, "type": "ISO14443"}}, step=step)
    return str(answer.get("status"))


@pytest.mark.case("TC_H_06_CS")
async def test_TC_H_06_CS(h: Harness) -> None:
    """Reserve a specific EVSE, Unavailable: (EVSE made Inoperative first) ReserveNow
    answered Unavailable."""
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                                      "evse": {"id": 1}},
                               step="ChangeAvailability")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    await h.status(1, "Unavailable", step="StatusNotification Unavailable")
    status = await _reserve(h, step="ReserveNow")
    check(status == "Unavailable", "ReserveNowResponse", "Unavailable", status)


@pytest.mark.case("TC_H_07_CS")
async def test_TC_H_07_CS(h: Harness) -> None:
    """Reservation ended, not used: ReserveNow Accepted with a short expiry; Reserved; at
    expiry the connector is Available again and ReservationStatusUpdate reports Expired."""
    await h.booted()
    expiry_s = 3.0
    status = await _reserve(h, step="ReserveNow", expiry_s=expiry_s)
    check(status == "Accepted", "ReserveNowResponse", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    update = await h.csms.receive("ReservationStatusUpdate", step="ReservationStatusUpdate",
                                  timeout_s=expiry_s + h.wait_s)
    check(update.payload == {"reservationId": RESERVATION_ID,
                             "reservationUpdateStatus": "Expired"},
          "ReservationStatusUpdateRequest", f"reservation {RESERVATION_ID} Expired",
          update.payload)
    await h.status(1, "Available", step="StatusNotification Available")


@pytest.mark.case("TC_H_17_CS")
async def test_TC_H_17_CS(h: Harness) -> None:
    """Cancel reservation of an EVSE, success: ReserveNow Accepted, Reserved;
    CancelReservation Accepted; Available again."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNowResponse", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    answer = await h.csms.call("CancelReservation", {"reservationId": RESERVATION_ID},
                               step="CancelReservation")
    check(answer.get("status") == "Accepted", "CancelReservationResponse", "Accepted", answer)
    await h.status(1, "Available", step="StatusNotification Available")


@pytest.mark.case("TC_H_18_CS")
async def test_TC_H_18_CS(h: Harness) -> None:
    """Cancel reservation of an EVSE, rejected: an unknown reservationId is Rejected."""
    await h.booted()
    answer = await h.csms.call("CancelReservation", {"reservationId": RESERVATION_ID + 1},
                               step="CancelReservation")
    check(answer.get("status") == "Rejected", "CancelReservationResponse", "Rejected", answer)
