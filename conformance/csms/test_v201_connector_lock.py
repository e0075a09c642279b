"""OCPP 2.0.1 block G (Availability), G05 Lock Failure, CSMS under test: the station reports
that the connector's plug retention lock failed (NotifyEvent, ConnectorPlugRetentionLock
Problem true) and the CSMS answers (G05.FR.03)."""

from __future__ import annotations

import pytest

from conformance.csms.harness import StationPool, now_iso

pytestmark = pytest.mark.asyncio


@pytest.mark.case("TC_G_20_CSMS")
async def test_TC_G_20_CSMS(stations: StationPool) -> None:
    """Connector status Notification, Lock Failure (G05.FR.02, G05.FR.03). Steps: "Booted";
    the connector lock of EVSE 1 fails: NotifyEventRequest (eventData.trigger Delta, component
    ConnectorPlugRetentionLock of EVSE 1 connector 1, variable Problem, actualValue "true").
    Validated: the CSMS answers with a (schema-valid) NotifyEventResponse."""
    station = await stations.booted()
    await station.call("NotifyEvent", {
        "generatedAt": now_iso(), "seqNo": 0, "tbc": False, "eventData": [{
            "eventId": 1, "timestamp": now_iso(), "trigger": "Delta", "actualValue": "true",
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "ConnectorPlugRetentionLock",
                          "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "Problem"}}]},
        step="NotifyEventRequest (ConnectorPlugRetentionLock Problem true)")
