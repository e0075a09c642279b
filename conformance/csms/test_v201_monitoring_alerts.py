"""OCPP 2.0.1 block N (Diagnostics), CSMS under test: a rejected monitoring level (N05), clearing
more monitors than one request may hold (N06), and the alert events a station sends for its
monitors (N07: NotifyEventRequest), which the CSMS must answer whatever the monitor reports.

The NotifyEvent cases play the station's side only: the monitors they report on are the
station's (set up before the case); the CSMS answers NotifyEventResponse.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import StationPool, booted_station, check, csms_sends, now_iso
from conformance.harness_station import TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import CaseFailed

pytestmark = pytest.mark.asyncio

POWER = {"component": {"name": "ChargingStation"}, "variable": {"name": "Power"}}
BASIC_AUTH_PASSWORD = {"component": {"name": "SecurityCtrlr"},
                       "variable": {"name": "BasicAuthPassword"}}


async def _notify_event(station: TestStation, event: dict[str, Any], *, step: str) -> None:
    """A NotifyEventRequest with one eventData element; the CSMS must answer it (a
    schema-valid NotifyEventResponse, no CALLERROR)."""
    await station.call("NotifyEvent", {
        "generatedAt": now_iso(), "seqNo": 0, "tbc": False,
        "eventData": [{"eventId": 1, "timestamp": now_iso(), **event}]}, step=step)


@pytest.mark.case("TC_N_17_CSMS")
async def test_TC_N_17_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Monitoring Level, out of range (N05.FR.02). The station rejects the level (the
    document's station always answers Rejected, as one does for a severity out of range).
    Steps: "Booted"; the CSMS sends SetMonitoringLevelRequest, answered Rejected; the CSMS
    takes the rejection (the next Heartbeat is answered). Validated: severity 4, as asked."""
    station = await stations.booted()
    call = await csms_sends(station, triggers, "SetMonitoringLevel", {"severity": 4},
                            {"status": "Rejected"}, step="SetMonitoringLevelRequest",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("severity") == 4, "SetMonitoringLevelRequest", "severity 4",
          call.payload)
    await station.call("Heartbeat", {}, step="Heartbeat after the rejection")


ITEMS_PER_CLEAR = {"component": {"name": "MonitoringCtrlr"},
                   "variable": {"name": "ItemsPerMessage", "instance": "ClearVariableMonitoring"}}
CLEAR_LIMIT = 2  # the station's ItemsPerMessageClearVariableMonitoring
CLEAR_IDS = [1, 2, 3, 4, 5]  # the monitors the CSMS is asked to clear: more than the limit


def _items_per_clear_answer(payload: dict[str, Any]) -> dict[str, Any]:
    """GetVariablesResponse: ItemsPerMessageClearVariableMonitoring is CLEAR_LIMIT; any other
    variable asked for is unknown to the station."""
    results = []
    for item in payload.get("getVariableData", []):
        target = {"component": item.get("component"), "variable": item.get("variable")}
        if target == ITEMS_PER_CLEAR:
            results.append({**target, "attributeStatus": "Accepted",
                            "attributeValue": str(CLEAR_LIMIT)})
        else:
            results.append({**target, "attributeStatus": "UnknownVariable"})
    return {"getVariableResult": results}


@pytest.mark.case("TC_N_18_CSMS")
async def test_TC_N_18_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Monitoring, too many elements (N06.FR.04). The CSMS is asked to clear five
    monitors; the station takes at most two ids per request. Steps: "Booted"; the CSMS sends
    GetVariablesRequest for MonitoringCtrlr.ItemsPerMessage[ClearVariableMonitoring], answered
    2; the CSMS sends ClearVariableMonitoringRequests, each answered Accepted for its ids.
    Validated: the GetVariablesRequest asks for that variable; two or more
    ClearVariableMonitoringRequests, none with more than 2 ids, together the five asked
    for."""
    station = await stations.booted()
    step = "GetVariablesRequest"
    waiting = station.expect("GetVariables")
    handle = triggers.start("ClearVariableMonitoring", station.identity, {"id": CLEAR_IDS})
    try:
        call = await station.receive("GetVariables", sut.action_timeout_s, step=step,
                                     waiting=waiting)
    except CaseFailed:
        outcome = await handle.outcome(1.0)
        if not outcome.ok:
            raise CaseFailed(step, "the CSMS to send GetVariables",
                             f"the trigger failed: {outcome.detail}") from None
        raise
    asked = [{"component": d.get("component"), "variable": d.get("variable")}
             for d in call.payload.get("getVariableData", [])]
    next_clear = station.expect("ClearVariableMonitoring")
    call.respond(_items_per_clear_answer(call.payload))
    check(ITEMS_PER_CLEAR in asked, step, "getVariableData MonitoringCtrlr / ItemsPerMessage, "
          "instance ClearVariableMonitoring", call.payload)
    requests: list[list[Any]] = []
    while True:
        step = f"ClearVariableMonitoringRequest ({len(requests) + 1})"
        clear = await station.receive("ClearVariableMonitoring", sut.action_timeout_s,
                                      step=step, waiting=next_clear)
        ids = list(clear.payload.get("id", []))
        requests.append(ids)
        done = {i for r in requests for i in r} >= set(CLEAR_IDS)
        if not done:
            next_clear = station.expect("ClearVariableMonitoring")
        clear.respond({"clearMonitoringResult": [{"id": i, "status": "Accepted"}
                                                 for i in ids]})
        check(len(ids) <= CLEAR_LIMIT, step, f"at most {CLEAR_LIMIT} ids (the station's "
              "ItemsPerMessageClearVariableMonitoring)", clear.payload)
        if done:
            break
    cleared = sorted(i for r in requests for i in r)
    check(len(requests) >= 2 and cleared == CLEAR_IDS, "ClearVariableMonitoringRequests",
          f"two or more requests clearing ids {CLEAR_IDS} once each", requests)


@pytest.mark.case("TC_N_48_CSMS")
async def test_TC_N_48_CSMS(stations: StationPool) -> None:
    """Alert Event, variable monitoring on a write-only variable (N07). The station has a
    Delta monitor on SecurityCtrlr.BasicAuthPassword, which is write-only: when it changes,
    the station reports it without its value. Steps: "Booted"; NotifyEventRequest (trigger
    Delta, SecurityCtrlr / BasicAuthPassword, actualValue "" (empty), eventNotificationType
    CustomMonitor, the monitor's id). Validated: the CSMS answers with a (schema-valid)
    NotifyEventResponse."""
    station = await stations.booted()
    await _notify_event(station, {
        "trigger": "Delta", "actualValue": "", "eventNotificationType": "CustomMonitor",
        "variableMonitoringId": 1, **BASIC_AUTH_PASSWORD},
        step="NotifyEventRequest (BasicAuthPassword, empty actualValue)")


@pytest.mark.case("TC_N_49_CSMS")
async def test_TC_N_49_CSMS(stations: StationPool) -> None:
    """Alert Event, LowerThreshold/UpperThreshold cleared after reboot (N07). An UpperThreshold
    monitor had raised an alert; the station rebooted and the value is back within its
    threshold. Steps: the station boots again ("Booted": BootNotification, connectors
    Available); NotifyEventRequest (trigger Alerting, cleared true, actualValue within the
    threshold, eventNotificationType CustomMonitor, the monitor's id). Validated: the CSMS
    answers with a (schema-valid) NotifyEventResponse."""
    station = await booted_station(stations)
    await _notify_event(station, {
        "trigger": "Alerting", "actualValue": "7400", "cleared": True,
        "eventNotificationType": "CustomMonitor", "variableMonitoringId": 1, **POWER},
        step="NotifyEventRequest (threshold alert cleared after reboot)")


@pytest.mark.case("TC_N_50_CSMS")
async def test_TC_N_50_CSMS(stations: StationPool) -> None:
    """Alert Event, Periodic triggered (N07, N08). The station has a Periodic monitor on
    ChargingStation.Power. Steps: "Booted"; the period elapses: NotifyEventRequest (trigger
    Periodic, the current actualValue, eventNotificationType CustomMonitor, the monitor's id);
    and again at the next period. Validated: the CSMS answers each with a (schema-valid)
    NotifyEventResponse."""
    station = await stations.booted()
    for n, value in enumerate(("7400", "7350"), start=1):
        await _notify_event(station, {
            "eventId": n, "trigger": "Periodic", "actualValue": value,
            "eventNotificationType": "CustomMonitor", "variableMonitoringId": 1, **POWER},
            step=f"NotifyEventRequest Periodic ({n})")
