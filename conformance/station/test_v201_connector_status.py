"""OCPP 2.0.1 block G (Availability), charging station under test: the connector status a
station reports when its connector lock fails (G05) (Part 6 Edition 3, errata 2025-09)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _lock_problem(evse: int) -> Any:
    """An eventData of EVSE ``evse``: trigger Delta, ConnectorPlugRetentionLock Problem
    true."""
    def where(payload: dict[str, Any]) -> bool:
        return any(event.get("trigger") == "Delta" and
                   event.get("component", {}).get("name") == "ConnectorPlugRetentionLock" and
                   event.get("component", {}).get("evse", {}).get("id") == evse and
                   event.get("variable", {}).get("name") == "Problem" and
                   str(event.get("actualValue")).lower() == "true"
                   for event in payload.get("eventData", []))
    return where


@pytest.mark.case("TC_G_20_CS")
async def test_TC_G_20_CS(h: Harness) -> None:
    """Connector status notification, lock failure (G05.FR.02): (Booted) the connector lock
    of EVSE 1 fails as the EV is plugged in: NotifyEventRequest with an eventData of trigger
    Delta, component ConnectorPlugRetentionLock of EVSE 1, variable Problem, actualValue
    true."""
    await h.booted()
    await h.act("lock_failure", step="make the connector lock fail", evse=1)
    await h.act("plug_in", step="plug in", evse=1)
    await h.csms.receive("NotifyEvent", step="NotifyEventRequest", where=_lock_problem(1),
                         expected="NotifyEvent ConnectorPlugRetentionLock Problem true "
                                  "(trigger Delta) for EVSE 1")
