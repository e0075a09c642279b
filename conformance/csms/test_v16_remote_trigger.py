"""OCPP 1.6 Remote Trigger profile, CSMS under test (1.6 5.17 TriggerMessage).

The suite plays the Charge Point; each docstring lists the case's steps and what is validated.
"""

from __future__ import annotations

import pytest

from conformance.csms.harness import (
    StationPool,
    boot_payload,
    booted_station,
    check,
    csms_sends,
    now_iso,
    status_payload,
)
from conformance.harness_station import TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


def _meter_values(connector_id: int) -> dict:
    return {"connectorId": connector_id, "meterValue": [{"timestamp": now_iso(), "sampledValue": [
        {"value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "Wh",
         "context": "Trigger"}]}]}


async def _triggered(station: TestStation, message: str) -> dict:
    """The message the Charge Point sends because it was triggered, and the answer."""
    if message == "BootNotification":
        answer = await station.call(message, boot_payload(station.version),
                                    step="BootNotification (triggered)")
        check(answer.get("status") == "Accepted", "BootNotification.conf (triggered)",
              "status Accepted", answer)
        return answer
    if message == "Heartbeat":
        answer = await station.call(message, {}, step="Heartbeat (triggered)")
        check("currentTime" in answer, "Heartbeat.conf (triggered)", "currentTime", answer)
        return answer
    if message == "MeterValues":
        return await station.call(message, _meter_values(1), step="MeterValues (triggered)")
    return await station.call(message, status_payload(station.version, 1, "Available"),
                              step="StatusNotification (triggered)")


TRIGGERED = ("BootNotification", "Heartbeat", "MeterValues", "StatusNotification")


@pytest.mark.case("TC_054_CSMS")
async def test_TC_054_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message (1.6 5.17; 4.2, 4.6, 4.7, 4.9).

    Steps, for each of BootNotification, Heartbeat, MeterValues (connector 1) and
    StatusNotification (connector 1): the Central System sends TriggerMessage.req with that
    requestedMessage; the Charge Point answers Accepted and sends the requested message.
    Validated: each TriggerMessage.req names the requested message (and connector 1 where one
    is given); the triggered messages are answered (BootNotification Accepted, Heartbeat with
    currentTime).
    """
    station = await booted_station(stations)
    for message in TRIGGERED:
        request = {"requestedMessage": message}
        if message in ("MeterValues", "StatusNotification"):
            request["connectorId"] = 1
        call = await csms_sends(station, triggers, "TriggerMessage", request,
                                {"status": "Accepted"}, step=f"TriggerMessage.req ({message})",
                                timeout_s=sut.action_timeout_s)
        check(call.payload.get("requestedMessage") == message, "TriggerMessage.req",
              f"requestedMessage {message}", call.payload)
        check(call.payload.get("connectorId", 1) == 1, "TriggerMessage.req",
              "connectorId 1 (or none)", call.payload)
        await _triggered(station, message)


@pytest.mark.case("TC_055_CSMS")
async def test_TC_055_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Trigger message, rejected (1.6 5.17).

    Steps: the Central System sends TriggerMessage.req (MeterValues for connector 1); the
    Charge Point answers Rejected and sends nothing.
    Validated: TriggerMessage.req with requestedMessage MeterValues.
    """
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "TriggerMessage",
                            {"requestedMessage": "MeterValues", "connectorId": 1},
                            {"status": "Rejected"}, step="TriggerMessage.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("requestedMessage") == "MeterValues", "TriggerMessage.req",
          "requestedMessage MeterValues", call.payload)
