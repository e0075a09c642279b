"""2.0.1 GetVariables (TC_B_08_CSMS): the CSMS never puts more getVariableData in one request
than the station's reported DeviceDataCtrlr.ItemsPerMessage[GetVariables], and answers the
command once for all; without a reported limit the variables go in one request."""

from __future__ import annotations

from typing import Any

import httpx

from chargeloop.ocppj import OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp

V201 = OcppVersion.V201
WANTED = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": name}}
          for name in ("HeartbeatInterval", "MessageTimeout", "NetworkProfileConnectionAttempts",
                       "OfflineThreshold", "RetryBackOffRepeatTimes")]


def _station() -> tuple[dict[str, Any], list[int]]:
    """Routes of a station that answers every variable asked for; and how many each
    GetVariablesRequest held, in order."""
    sizes: list[int] = []

    async def get_variables(payload: dict[str, Any]) -> dict[str, Any]:
        sizes.append(len(payload["getVariableData"]))
        return {"getVariableResult": [{**item, "attributeStatus": "Accepted",
                                       "attributeValue": "1"}
                                      for item in payload["getVariableData"]]}

    return {"GetVariables": get_variables}, sizes


async def _report_limit(station: Any, limit: str) -> None:
    await station.call("NotifyReport", {
        "requestId": 0, "generatedAt": stamp(), "seqNo": 0, "tbc": False, "reportData": [{
            "component": {"name": "DeviceDataCtrlr"},
            "variable": {"name": "ItemsPerMessage", "instance": "GetVariables"},
            "variableAttribute": [{"type": "Actual", "value": limit,
                                   "mutability": "ReadOnly"}],
            "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False}}]})


async def test_get_variables_is_split_by_the_reported_items_per_message(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    routes, sizes = _station()
    async with connected_station(csms, "CS-GETV1", V201, routes=routes) as station:
        await boot(station)
        await _report_limit(station, "2")
        answer = await api.post("/api/stations/CS-GETV1/ocpp/GetVariables",
                                json={"getVariableData": WANTED})
    assert answer.status_code == 200, answer.text
    assert sizes == [2, 2, 1]
    results = answer.json()["response"]["getVariableResult"]
    assert [r["variable"]["name"] for r in results] == [w["variable"]["name"] for w in WANTED]


async def test_without_a_usable_limit_the_variables_go_in_one_request(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    routes, sizes = _station()
    async with connected_station(csms, "CS-GETV2", V201, routes=routes) as station:
        await boot(station)
        unknown = await api.post("/api/stations/CS-GETV2/ocpp/GetVariables",
                                 json={"getVariableData": WANTED})
        await _report_limit(station, "zero")  # not a number: no limit
        garbled = await api.post("/api/stations/CS-GETV2/ocpp/GetVariables",
                                 json={"getVariableData": WANTED})
    assert unknown.status_code == 200 and garbled.status_code == 200, garbled.text
    assert sizes == [5, 5]


async def test_the_operator_configuration_endpoint_keeps_the_limit_too(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    routes, sizes = _station()
    keys = [f"OCPPCommCtrlr.{w['variable']['name']}" for w in WANTED]
    async with connected_station(csms, "CS-GETV3", V201, routes=routes) as station:
        await boot(station)
        await _report_limit(station, "3")
        answer = await api.get("/api/stations/CS-GETV3/commands/configuration",
                               params={"key": keys})
    assert answer.status_code == 200, answer.text
    assert sizes == [3, 2]
    assert [r["key"] for r in answer.json()["results"]] == keys
