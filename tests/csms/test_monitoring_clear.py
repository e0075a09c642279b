"""2.0.1 ClearVariableMonitoring (TC_N_18_CSMS, N06.FR.04): the CSMS never puts more ids in one
request than the station's ItemsPerMessageClearVariableMonitoring; it asks for that limit
(GetVariables) when there is more than one id, and answers the command once for all."""

from __future__ import annotations

from typing import Any

import httpx

from chargeloop.ocppj import OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station

V201 = OcppVersion.V201
LIMIT = {"component": {"name": "MonitoringCtrlr"},
         "variable": {"name": "ItemsPerMessage", "instance": "ClearVariableMonitoring"}}


def _station(limit: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Routes of a station that answers GetVariables with ``limit`` (a getVariableResult
    element) and clears every monitor asked for; and what it was asked, in order."""
    asked: list[tuple[str, Any]] = []

    async def get_variables(payload: dict[str, Any]) -> dict[str, Any]:
        asked.append(("GetVariables", payload["getVariableData"]))
        return {"getVariableResult": [limit]}

    async def clear(payload: dict[str, Any]) -> dict[str, Any]:
        asked.append(("ClearVariableMonitoring", payload["id"]))
        return {"clearMonitoringResult": [{"id": i, "status": "Accepted"} for i in payload["id"]]}

    return {"GetVariables": get_variables, "ClearVariableMonitoring": clear}, asked


async def test_clear_monitoring_is_split_by_the_stations_items_per_message(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    routes, asked = _station({**LIMIT, "attributeStatus": "Accepted", "attributeValue": "2"})
    async with connected_station(csms, "CS-CLR1", V201, routes=routes) as station:
        await boot(station)
        answer = await api.post("/api/stations/CS-CLR1/ocpp/ClearVariableMonitoring",
                                json={"id": [1, 2, 3, 4, 5]})
    assert answer.status_code == 200, answer.text
    assert asked == [("GetVariables", [LIMIT]), ("ClearVariableMonitoring", [1, 2]),
                     ("ClearVariableMonitoring", [3, 4]), ("ClearVariableMonitoring", [5])]
    assert [r["id"] for r in answer.json()["response"]["clearMonitoringResult"]] == \
        [1, 2, 3, 4, 5]


async def test_one_id_needs_no_limit_and_an_unknown_limit_leaves_one_request(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    routes, asked = _station({**LIMIT, "attributeStatus": "UnknownVariable"})
    async with connected_station(csms, "CS-CLR2", V201, routes=routes) as station:
        await boot(station)
        one = await api.post("/api/stations/CS-CLR2/ocpp/ClearVariableMonitoring",
                             json={"id": [7]})
        many = await api.post("/api/stations/CS-CLR2/ocpp/ClearVariableMonitoring",
                              json={"id": [1, 2, 3]})
    assert one.status_code == 200 and many.status_code == 200, (one.text, many.text)
    assert asked == [("ClearVariableMonitoring", [7]), ("GetVariables", [LIMIT]),
                     ("ClearVariableMonitoring", [1, 2, 3])]
