"""OCPP 2.0.1 Smart Charging (mandatory cases), charging station under test (Part 6 Edition 3,
errata 2025-09)."""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIMIT_A = 8.0
REMOTE_START_ID = 31


@pytest.mark.case("TC_K_37_CS")
async def test_TC_K_37_CS(h: Harness) -> None:
    """Remote start with a charging profile: (cable plugged in) RequestStartTransaction with a
    TxProfile Accepted; a TransactionEvent with triggerReason RemoteStart and the
    remoteStartId; the station's composite schedule for the EVSE then follows the profile's
    limit."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Occupied", step="StatusNotification Occupied")
    answer = await h.csms.call("RequestStartTransaction", {
        "evseId": 1, "remoteStartId": REMOTE_START_ID,
        "idToken": {"idToken": h.sut.tokens.valid, "type": "ISO14443"},
        "chargingProfile": {
            "id": 21, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative", "chargingSchedule": [{
                "id": 1, "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT_A}]}]}},
        step="RequestStartTransaction")
    check(answer.get("status") == "Accepted", "RequestStartTransactionResponse", "Accepted",
          answer)
    event = await h.csms.receive(
        "TransactionEvent", step="TransactionEvent RemoteStart",
        where=lambda p: p.get("triggerReason") == "RemoteStart",
        expected="TransactionEvent with triggerReason RemoteStart")
    check(event.payload.get("transactionInfo", {}).get("remoteStartId") == REMOTE_START_ID,
          "TransactionEventRequest", f"remoteStartId {REMOTE_START_ID}", event.payload)
    schedule = await h.csms.call("GetCompositeSchedule", {
        "evseId": 1, "duration": 300, "chargingRateUnit": "A"}, step="GetCompositeSchedule")
    check(schedule.get("status") == "Accepted", "GetCompositeScheduleResponse", "Accepted",
          schedule)
    periods = (schedule.get("schedule") or {}).get("chargingSchedulePeriod", [])
    limits = [float(p["limit"]) for p in periods]
    check(bool(limits) and max(limits) <= LIMIT_A, "GetCompositeScheduleResponse",
          f"a schedule limited to {LIMIT_A:g} A (the TxProfile)", limits)
