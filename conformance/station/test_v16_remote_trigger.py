"""OCPP 1.6 Remote Trigger, charging station under test (test case document FINAL 2024-04)."""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check

pytestmark = pytest.mark.asyncio(loop_scope="session")

# what TriggerMessage asks for, and the message that must follow
TRIGGERED = (("MeterValues", "MeterValues"), ("Heartbeat", "Heartbeat"),
             ("StatusNotification", "StatusNotification"),
             ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
             ("FirmwareStatusNotification", "FirmwareStatusNotification"),
             ("BootNotification", "BootNotification"))


@pytest.mark.case("TC_054_CS")
async def test_TC_054_CS(h: Harness) -> None:
    """Trigger Message: for each requested message (connector 1 where it applies) the station
    answers Accepted and then sends that message."""
    await h.booted()
    for requested, action in TRIGGERED:
        for record in h.csms.received(action):
            record.consumed = True  # only what comes after the trigger counts
        payload = {"requestedMessage": requested}
        if requested in ("MeterValues", "StatusNotification"):
            payload["connectorId"] = 1
        answer = await h.csms.call("TriggerMessage", payload,
                                   step=f"TriggerMessage {requested}")
        check(answer.get("status") == "Accepted", f"TriggerMessage.conf {requested}",
              "Accepted", answer)
        await h.csms.receive(action, step=f"{action} after the trigger", timeout_s=h.wait_s)


@pytest.mark.case("TC_055_CS")
async def test_TC_055_CS(h: Harness) -> None:
    """Trigger Message, Rejected: a trigger for a connector the station does not have is
    Rejected, and no message follows."""
    await h.booted()
    for record in h.csms.received("MeterValues"):
        record.consumed = True
    answer = await h.csms.call("TriggerMessage", {"requestedMessage": "MeterValues",
                                                  "connectorId": h.evses + 1},
                               step="TriggerMessage")
    check(answer.get("status") == "Rejected", "TriggerMessage.conf", "Rejected", answer)
    await h.csms.nothing("MeterValues", step="no MeterValues", within_s=0.5)
