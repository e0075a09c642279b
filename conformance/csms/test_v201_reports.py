"""OCPP 2.0.1 block B (Provisioning), CSMS under test: the summary base report (B07) and a custom
report by component criteria and component/variables (B08). The CSMS asks for the report, the
station accepts and sends it in NotifyReportRequests (same requestId, seqNo from 0, tbc true
but on the last), which the CSMS answers.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import StationPool, check, csms_sends, now_iso
from conformance.harness_station import TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

EVSE_AVAILABILITY = {"component": {"name": "EVSE", "evse": {"id": 1}},
                     "variable": {"name": "AvailabilityState"}}
CONNECTOR_AVAILABILITY = {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                          "variable": {"name": "AvailabilityState"}}


def _item(target: dict[str, Any], value: str) -> dict[str, Any]:
    return {**target, "variableAttribute": [{"type": "Actual", "value": value,
                                             "mutability": "ReadOnly"}]}


async def _notify_report(station: TestStation, request_id: Any,
                         items: list[dict[str, Any]]) -> None:
    """The report in one NotifyReportRequest per item; each answered (an empty
    NotifyReportResponse)."""
    for seq_no, item in enumerate(items):
        step = f"NotifyReportRequest seqNo {seq_no}"
        answer = await station.call("NotifyReport", {
            "requestId": request_id, "generatedAt": now_iso(), "seqNo": seq_no,
            "tbc": seq_no < len(items) - 1, "reportData": [item]}, step=step)
        check(set(answer) <= {"customData"}, f"NotifyReportResponse seqNo {seq_no}",
              "an (empty) NotifyReportResponse", answer)


@pytest.mark.case("TC_B_14_CSMS")
async def test_TC_B_14_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Base Report, SummaryInventory (B07; errata 2025-09: also optional in Core).

    Before: Booted. Steps: 1. the CSMS sends GetBaseReportRequest; 2. the station answers
    Accepted; 3. the station sends the summary (the availability of the station, its EVSE and
    connector) in NotifyReportRequests; 4. the CSMS answers each. Validated: reportBase
    SummaryInventory; every NotifyReportRequest answered with a NotifyReportResponse."""
    station = await stations.booted()
    step = "GetBaseReportRequest"
    call = await csms_sends(station, triggers, "GetBaseReport",
                            {"requestId": 1401, "reportBase": "SummaryInventory"},
                            {"status": "Accepted"}, step=step, timeout_s=sut.action_timeout_s)
    check(call.payload.get("reportBase") == "SummaryInventory", step,
          "reportBase SummaryInventory", call.payload)
    await _notify_report(station, call.payload.get("requestId"), [
        _item({"component": {"name": "ChargingStation"},
               "variable": {"name": "AvailabilityState"}}, "Available"),
        _item(EVSE_AVAILABILITY, "Available"), _item(CONNECTOR_AVAILABILITY, "Available")])


@pytest.mark.case("TC_B_18_CSMS")
async def test_TC_B_18_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Custom Report, with componentCriteria and component/variables (B08).

    Before: Booted. Steps: 1. the CSMS sends GetReportRequest for the components that are
    Available among EVSE 1 / AvailabilityState and its connector / AvailabilityState; 2. the
    station answers Accepted; 3. the station sends what matches in NotifyReportRequests; 4. the
    CSMS answers each. Validated: a requestId; componentCriteria [Available]; componentVariable
    the two component/variables asked for (by name and EVSE, no instances); every
    NotifyReportRequest answered with a NotifyReportResponse."""
    station = await stations.booted()
    step = "GetReportRequest"
    targets = [EVSE_AVAILABILITY, CONNECTOR_AVAILABILITY]
    call = await csms_sends(station, triggers, "GetReport", {
        "requestId": 1801, "componentCriteria": ["Available"], "componentVariable": targets},
        {"status": "Accepted"}, step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    check(isinstance(got.get("requestId"), int), step, "a requestId", got)
    check(got.get("componentCriteria") == ["Available"], step, "componentCriteria [Available]",
          got)
    check(got.get("componentVariable") == targets, step,
          f"componentVariable {targets} (no instances)", got)
    await _notify_report(station, got["requestId"],
                         [_item(EVSE_AVAILABILITY, "Available"),
                          _item(CONNECTOR_AVAILABILITY, "Available")])
