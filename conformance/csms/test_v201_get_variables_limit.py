"""OCPP 2.0.1 block B (Provisioning), CSMS under test: GetVariables within the station's limit.

Use case B06 (Get Variables): a station says how many getVariableData it takes in one
GetVariablesRequest (DeviceDataCtrlr.ItemsPerMessage[GetVariables], reported with its device
model); asked for more variables than that, the CSMS must spread them over several requests.

This case is outside OCA's certification programme (the catalogue says so); it counts with
the Core profile for scope.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import StationPool, check, now_iso
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import CaseFailed

pytestmark = pytest.mark.asyncio

ITEMS_PER_GET = 4  # the station's ItemsPerMessageGetVariables

# The variables of the scenario as the station reports them: (component, variable, instance,
# value, data type, mutability). Five: one more than the station takes in a request.
REPORTED = [
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport", str(ITEMS_PER_GET), "integer",
     "ReadOnly"),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", str(ITEMS_PER_GET), "integer",
     "ReadOnly"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport", "4096", "integer", "ReadOnly"),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables", "4096", "integer", "ReadOnly"),
    ("AuthCtrlr", "AuthorizeRemoteStart", None, "true", "boolean", "ReadWrite"),
]


def _target(component: str, variable: str, instance: str | None) -> dict[str, Any]:
    named: dict[str, Any] = {"name": variable}
    if instance is not None:
        named["instance"] = instance
    return {"component": {"name": component}, "variable": named}


WANTED = [_target(c, v, i) for c, v, i, *_ in REPORTED]
VALUES = {repr(_target(c, v, i)): value for c, v, i, value, *_ in REPORTED}


def _key(item: dict[str, Any]) -> str:
    return repr({"component": item.get("component"), "variable": item.get("variable")})


async def _report(station: TestStation) -> None:
    """The station's device model report (NotifyReport) with the five variables."""
    await station.call("NotifyReport", {
        "requestId": 0, "generatedAt": now_iso(), "seqNo": 0, "tbc": False, "reportData": [{
            **_target(c, v, i),
            "variableAttribute": [{"type": "Actual", "value": value, "mutability": mutability}],
            "variableCharacteristics": {"dataType": kind, "supportsMonitoring": False}}
            for c, v, i, value, kind, mutability in REPORTED]},
        step="NotifyReportRequest (ItemsPerMessageGetVariables 4)")


def _answer(call: IncomingCall) -> None:
    """A getVariableResult per variable asked for: the reported value, or UnknownVariable."""
    results = []
    for item in call.payload.get("getVariableData", []):
        target = {"component": item.get("component"), "variable": item.get("variable")}
        value = VALUES.get(_key(item))
        results.append({**target, "attributeStatus": "Accepted", "attributeValue": value}
                       if value is not None else {**target, "attributeStatus": "UnknownVariable"})
    call.respond({"getVariableResult": results})


@pytest.mark.case("TC_B_08_CSMS")
async def test_TC_B_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Variables - limit to maximum number of values (B06).

    Before: Booted; the station reports its device model (NotifyReportRequest, answered) with
    DeviceDataCtrlr.ItemsPerMessage[GetVariables] 4 and four other variables. Steps: the CSMS
    is asked for those five variables; it sends GetVariablesRequests, each answered with a
    getVariableResult per variable (Accepted with the reported value).
    Validated: no GetVariablesRequest holds more than 4 getVariableData; together they ask for
    the five variables, each once (so two or more requests)."""
    station = await stations.booted()
    await _report(station)
    step = "GetVariablesRequest (1)"
    waiting = station.expect("GetVariables")
    handle = triggers.start("GetVariables", station.identity, {"getVariableData": WANTED})
    asked: list[str] = []
    requests = 0
    while True:
        try:
            call = await station.receive("GetVariables", sut.action_timeout_s, step=step,
                                         waiting=waiting)
        except CaseFailed:
            outcome = await handle.outcome(1.0)
            if not outcome.ok:
                raise CaseFailed(step, "the CSMS to send GetVariables",
                                 f"the trigger failed: {outcome.detail}") from None
            raise CaseFailed(step, f"GetVariablesRequests for all five variables, at most "
                             f"{ITEMS_PER_GET} each", f"only {asked}") from None
        requests += 1
        data = call.payload.get("getVariableData", [])
        asked.extend(_key(item) for item in data)
        done = set(asked) >= set(VALUES)
        if not done:
            waiting = station.expect("GetVariables")
        _answer(call)
        check(len(data) <= ITEMS_PER_GET, step, f"at most {ITEMS_PER_GET} getVariableData "
              "(the station's ItemsPerMessageGetVariables)", call.payload)
        if done:
            break
        step = f"GetVariablesRequest ({requests + 1})"
    check(sorted(asked) == sorted(VALUES), "GetVariablesRequests",
          "the five variables asked for once each", asked)
