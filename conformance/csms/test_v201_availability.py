"""OCPP 2.0.1 block G (Availability), CSMS under test."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    booted_station,
    check,
    csms_sends,
    energy_transfer_started_201,
    status_payload,
)
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

# the scope of each case: (evse in the request?, connectorId in it?)
STATION, EVSE, CONNECTOR = (False, False), (True, False), (True, True)


async def _change(stations: StationPool, triggers: Triggers, sut: Sut, scope: tuple[bool, bool],
                  status: str, *, ongoing: bool = False, case: str = "") -> None:
    station = await booted_station(stations)
    if ongoing:
        await energy_transfer_started_201(station, sut.tokens.valid, f"CONF-TX-{case}")
    wants_evse, wants_connector = scope
    payload: dict[str, Any] = {"operationalStatus": status}
    if wants_evse:
        payload["evse"] = {"id": 1, **({"connectorId": 1} if wants_connector else {})}
    answer = "Scheduled" if ongoing else "Accepted"
    call = await csms_sends(station, triggers, "ChangeAvailability", payload,
                            {"status": answer}, step="ChangeAvailabilityRequest",
                            timeout_s=sut.action_timeout_s)
    got = call.payload
    check(got.get("operationalStatus") == status, "ChangeAvailabilityRequest",
          f"operationalStatus {status}", got)
    evse = got.get("evse")
    if not wants_evse:
        check(evse is None, "ChangeAvailabilityRequest", "no evse (the whole station)", got)
    else:
        check(evse is not None and evse.get("id") == 1, "ChangeAvailabilityRequest",
              "evse.id 1", got)
        check(("connectorId" in evse) == wants_connector, "ChangeAvailabilityRequest",
              "evse.connectorId 1" if wants_connector else "no evse.connectorId", got)
    if not ongoing:
        shown = "Unavailable" if status == "Inoperative" else "Available"
        await station.call("StatusNotification", status_payload(station.version, 1, shown),
                           step=f"StatusNotification {shown}")


@pytest.mark.case("TC_G_03_CSMS")
async def test_TC_G_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """EVSE Operative to Inoperative: ChangeAvailability Inoperative for EVSE 1."""
    await _change(stations, triggers, sut, EVSE, "Inoperative")


@pytest.mark.case("TC_G_04_CSMS")
async def test_TC_G_04_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """EVSE Inoperative to Operative: ChangeAvailability Operative for EVSE 1."""
    await _change(stations, triggers, sut, EVSE, "Operative")


@pytest.mark.case("TC_G_05_CSMS")
async def test_TC_G_05_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Charging station Operative to Inoperative: ChangeAvailability Inoperative, no evse."""
    await _change(stations, triggers, sut, STATION, "Inoperative")


@pytest.mark.case("TC_G_06_CSMS")
async def test_TC_G_06_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Charging station Inoperative to Operative: ChangeAvailability Operative, no evse."""
    await _change(stations, triggers, sut, STATION, "Operative")


@pytest.mark.case("TC_G_07_CSMS")
async def test_TC_G_07_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Connector Operative to Inoperative: ChangeAvailability Inoperative for EVSE 1 connector
    1."""
    await _change(stations, triggers, sut, CONNECTOR, "Inoperative")


@pytest.mark.case("TC_G_08_CSMS")
async def test_TC_G_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Connector Inoperative to Operative: ChangeAvailability Operative for EVSE 1 connector
    1."""
    await _change(stations, triggers, sut, CONNECTOR, "Operative")


@pytest.mark.case("TC_G_11_CSMS")
async def test_TC_G_11_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """EVSE with an ongoing transaction: ChangeAvailability Inoperative for EVSE 1, answered
    Scheduled."""
    await _change(stations, triggers, sut, EVSE, "Inoperative", ongoing=True, case="G11")


@pytest.mark.case("TC_G_14_CSMS")
async def test_TC_G_14_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Charging station with an ongoing transaction: ChangeAvailability Inoperative without
    evse, answered Scheduled."""
    await _change(stations, triggers, sut, STATION, "Inoperative", ongoing=True, case="G14")


@pytest.mark.case("TC_G_17_CSMS")
async def test_TC_G_17_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Connector with an ongoing transaction: ChangeAvailability Inoperative for EVSE 1
    connector 1, answered Scheduled."""
    await _change(stations, triggers, sut, CONNECTOR, "Inoperative", ongoing=True, case="G17")
