"""OCPP 2.0.1 reservation steps the station cases share (block H): the reservation's id and expiry,
and the TransactionEvent that used it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conformance.station.harness import Harness, Received

RESERVATION_ID = 815


def expiry_in(seconds: float = 3600.0) -> str:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def iso14443_token(token: str) -> dict[str, str]:
    return {"idToken": token, "type": "ISO14443"}


async def event_with_reservation_id(h: Harness, *, step: str) -> Received:
    """The TransactionEvent that used the reservation (it carries its reservationId)."""
    return await h.csms.receive(
        "TransactionEvent", step=step,
        where=lambda p: p.get("reservationId") == RESERVATION_ID,
        expected=f"a TransactionEvent with reservationId {RESERVATION_ID}")
