"""OCPP 2.0.1 Reservation (mandatory cases), charging station under test (Part 6 Edition 3,
errata 2025-09)."""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check, is_charging
from conformance.station.reservation201 import (
    RESERVATION_ID,
    event_with_reservation_id,
    expiry_in,
    iso14443_token,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _reserve(h: Harness, *, step: str, evse: int = 1, expiry_s: float = 3600.0) -> str:
    answer = await h.csms.call("ReserveNow", {
        "id": RESERVATION_ID, "expiryDateTime": expiry_in(expiry_s), "evseId": evse,
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


@pytest.mark.case("TC_H_01_CS")
async def test_TC_H_01_CS(h: Harness) -> None:
    """Reserve a specific EVSE, Accepted, valid idToken: ReserveNow for EVSE 1 Accepted;
    StatusNotification Reserved; the same idToken is presented (Authorized) and the EV
    plugged in (EnergyTransferStarted): the transaction's TransactionEvent carries the
    reservationId and the idToken."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNowResponse", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    await h.act("present_token", step="present the reserved token", evse=1,
                token=h.sut.tokens.valid)
    await h.act("plug_in", step="plug in", evse=1)
    used = await event_with_reservation_id(h, step="TransactionEventRequest")
    check(used.payload.get("idToken", {}).get("idToken") == h.sut.tokens.valid or
          any(r.payload.get("idToken", {}).get("idToken") == h.sut.tokens.valid
              for r in h.csms.received("TransactionEvent")),
          "TransactionEventRequest", f"the transaction of idToken {h.sut.tokens.valid}",
          used.payload)
    await h.csms.receive("TransactionEvent", step="TransactionEvent (charging)",
                         where=is_charging, expected="a TransactionEvent with chargingState "
                                                   "Charging")


@pytest.mark.case("TC_H_02_CS")
async def test_TC_H_02_CS(h: Harness) -> None:
    """Reserve a specific EVSE, Accepted, different idToken: ReserveNow for EVSE 1 (idToken
    valid) Accepted, Reserved; another idToken (Accepted by the CSMS, no common group) is
    presented and the EV plugged in: the station starts no transaction for it (no
    TransactionEvent with that idToken, no charging)."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNowResponse", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    other = h.sut.tokens.valid_2
    # the CSMS knows the other token as Accepted, without the reservation's group
    h.csms.answer_next("Authorize", {"idTokenInfo": {"status": "Accepted"}})
    await h.act("present_token", step="present another token", evse=1, token=other)
    await h.act("plug_in", step="plug in", evse=1)
    await h.csms.nothing(
        "TransactionEvent", step="no transaction for the other idToken", within_s=h.wait_s,
        where=lambda p: is_charging(p) or p.get("idToken", {}).get("idToken") == other,
        expected=f"no transaction for {other} on the reserved EVSE")


@pytest.mark.case("TC_H_03_CS")
async def test_TC_H_03_CS(h: Harness) -> None:
    """Reserve a specific EVSE, Occupied, EVSE reserved: (EVSE 1 reserved, Reserved) a
    ReserveNow with another reservation id for EVSE 1 is answered Occupied."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow (first)")
    check(status == "Accepted", "ReserveNowResponse (first)", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    answer = await h.csms.call("ReserveNow", {
        "id": RESERVATION_ID + 1, "expiryDateTime": expiry_in(), "evseId": 1,
        "idToken": iso14443_token(h.sut.tokens.valid_2)}, step="ReserveNow (second)")
    check(answer.get("status") == "Occupied", "ReserveNowResponse", "Occupied", answer)


@pytest.mark.case("TC_H_04_CS")
async def test_TC_H_04_CS(h: Harness) -> None:
    """Reserve a specific EVSE, Occupied, EVSE occupied: (an EV plugged in at EVSE 1,
    Occupied) ReserveNow for EVSE 1 is answered Occupied."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Occupied", step="StatusNotification Occupied")
    status = await _reserve(h, step="ReserveNow")
    check(status == "Occupied", "ReserveNowResponse", "Occupied", status)


@pytest.mark.case("TC_H_19_CS")
async def test_TC_H_19_CS(h: Harness) -> None:
    """Reserve a specific EVSE, use a reserved EVSE with GroupId: ReserveNow for EVSE 1 with
    idToken valid and groupIdToken G Accepted, Reserved; another idToken, which the CSMS
    accepts with groupIdToken G, is presented and the EV plugged in: its transaction starts
    and carries the reservationId."""
    await h.booted()
    tokens = h.sut.tokens
    answer = await h.csms.call("ReserveNow", {
        "id": RESERVATION_ID, "expiryDateTime": expiry_in(), "evseId": 1,
        "idToken": iso14443_token(tokens.valid),
        "groupIdToken": {"idToken": tokens.group_id, "type": "Central"}}, step="ReserveNow")
    check(answer.get("status") == "Accepted", "ReserveNowResponse", "Accepted", answer)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    h.csms.answer_next("Authorize", {"idTokenInfo": {
        "status": "Accepted", "groupIdToken": {"idToken": tokens.group_id, "type": "Central"}}})
    await h.act("present_token", step="present a token of the group", evse=1,
                token=tokens.valid_2)
    await h.act("plug_in", step="plug in", evse=1)
    await event_with_reservation_id(h, step="TransactionEventRequest")
    await h.csms.receive("TransactionEvent", step="TransactionEvent (charging)",
                         where=is_charging, expected="a TransactionEvent with chargingState "
                                                   "Charging")


@pytest.mark.case("TC_H_21_CS")
async def test_TC_H_21_CS(h: Harness) -> None:
    """The charging station cancels a reservation when Unavailable: (EVSE 1 reserved)
    ChangeAvailability Inoperative for EVSE 1 Accepted; ReservationStatusUpdate Removed for
    the reservation and StatusNotification Unavailable."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNowResponse", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                                      "evse": {"id": 1}},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    update = await h.csms.receive("ReservationStatusUpdate", step="ReservationStatusUpdate")
    check(update.payload == {"reservationId": RESERVATION_ID,
                             "reservationUpdateStatus": "Removed"},
          "ReservationStatusUpdateRequest", f"reservation {RESERVATION_ID} Removed",
          update.payload)
    await h.status(1, "Unavailable", step="StatusNotification Unavailable")


@pytest.mark.case("TC_H_23_CS")
async def test_TC_H_23_CS(h: Harness) -> None:
    """Reserve a specific EVSE, replace reservation: (reservation R on EVSE 1, an hour to
    go, Reserved) a ReserveNow with the same id R and an expiry a few seconds ahead is
    Accepted and replaces it: at the new expiry ReservationStatusUpdate R Expired, EVSE 1
    Available."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow (first)")
    check(status == "Accepted", "ReserveNowResponse (first)", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    expiry_s = 3.0
    status = await _reserve(h, step="ReserveNow (same id)", expiry_s=expiry_s)
    check(status == "Accepted", "ReserveNowResponse (same id)", "Accepted", status)
    update = await h.csms.receive("ReservationStatusUpdate", step="ReservationStatusUpdate",
                                  timeout_s=expiry_s + h.wait_s)
    check(update.payload == {"reservationId": RESERVATION_ID,
                             "reservationUpdateStatus": "Expired"},
          "ReservationStatusUpdateRequest", f"reservation {RESERVATION_ID} Expired at the "
          "replacement's expiry", update.payload)
    await h.status(1, "Available", step="StatusNotification Available")


@pytest.mark.case("TC_B_24_CS")
async def test_TC_B_24_CS(h: Harness) -> None:
    """Reset Charging Station, Reserved persists reset: (EVSE 1 reserved, Reserved) Reset
    OnIdle Accepted; the station reboots (BootNotification) and reports EVSE 1 Reserved
    again."""
    await h.booted()
    status = await _reserve(h, step="ReserveNow")
    check(status == "Accepted", "ReserveNowResponse", "Accepted", status)
    await h.status(1, "Reserved", step="StatusNotification Reserved")
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "OnIdle"}, step="ResetRequest")
    check(answer.get("status") == "Accepted", "ResetResponse", "Accepted", answer)
    await h.csms.new_connection(before, h.connect_s, step="reconnect after the reset")
    await h.csms.receive("BootNotification", step="BootNotification after the reset",
                         timeout_s=h.connect_s)
    await h.status(1, "Reserved", step="StatusNotification Reserved after the reset")
