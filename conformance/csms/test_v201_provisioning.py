"""OCPP 2.0.1 block B (Provisioning), CSMS under test."""

from __future__ import annotations

import pytest
import websockets

from chargeloop.ocppj.transport.websocket import station_url
from conformance.csms.harness import StationPool, booted, booted_station, check, csms_sends
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


@pytest.mark.case("TC_B_01_CSMS")
async def test_TC_B_01_CSMS(stations: StationPool, sut: Sut) -> None:
    """Cold boot: BootNotification (PowerUp) is answered Accepted with a heartbeat interval;
    the connectors' StatusNotifications are answered."""
    station = await stations.connected()
    answer = await booted(station, sut.stations[0].evses, step="BootNotification")
    check(answer.get("interval", 0) > 0, "BootNotification", "a heartbeat interval above 0",
          answer)
    beat = await station.call("Heartbeat", {}, step="Heartbeat")
    check("currentTime" in beat, "Heartbeat", "currentTime", beat)


@pytest.mark.case("TC_B_06_CSMS")
async def test_TC_B_06_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Variables, single value: the CSMS asks for exactly one variable."""
    station = await booted_station(stations)
    wanted = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    call = await csms_sends(station, triggers, "GetVariables", {"getVariableData": [wanted]},
                            None, step="GetVariablesRequest", timeout_s=sut.action_timeout_s)
    data = call.payload.get("getVariableData", [])
    call.respond({"getVariableResult": [{
        "attributeStatus": "Accepted", "attributeValue": "300", **item} for item in data]})
    check(len(data) == 1, "GetVariablesRequest", "exactly one getVariableData", call.payload)


@pytest.mark.case("TC_B_09_CSMS")
async def test_TC_B_09_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Variables, single value: the CSMS sets exactly one variable, with a value."""
    station = await booted_station(stations)
    wanted = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
              "attributeValue": "600"}
    call = await csms_sends(station, triggers, "SetVariables", {"setVariableData": [wanted]},
                            None, step="SetVariablesRequest", timeout_s=sut.action_timeout_s)
    data = call.payload.get("setVariableData", [])
    call.respond({"setVariableResult": [{
        "attributeStatus": "Accepted", "component": item["component"],
        "variable": item["variable"]} for item in data]})
    check(len(data) == 1 and "attributeValue" in data[0], "SetVariablesRequest",
          "exactly one setVariableData with an attributeValue", call.payload)


@pytest.mark.case("TC_B_20_CSMS")
async def test_TC_B_20_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reset OnIdle without a transaction: the Reset has no evseId (errata 2024-09); after the
    station's reboot its BootNotification is answered Accepted."""
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "Reset", {"type": "OnIdle"},
                            {"status": "Accepted"}, step="ResetRequest",
                            timeout_s=sut.action_timeout_s)
    check("evseId" not in call.payload, "ResetRequest", "no evseId", call.payload)
    check(call.payload.get("type") == "OnIdle", "ResetRequest", "type OnIdle", call.payload)
    await station.close()
    rebooted = await stations.connected()
    await booted(rebooted, step="BootNotification after the reset")


@pytest.mark.case("TC_B_58_CSMS")
async def test_TC_B_58_CSMS(sut: Sut, stations: StationPool) -> None:
    """WebSocket subprotocol negotiation: offered an unknown subprotocol first and ocpp2.0.1
    second, the CSMS selects ocpp2.0.1."""
    station = stations.make()
    url = station_url(sut.url or "", station.identity)
    headers = {**station.basic_auth_headers(), **station.case_headers}
    async with websockets.connect(url, subprotocols=["ocpp9.9", "ocpp2.0.1"],  # type: ignore[list-item]
                                  additional_headers=headers, ssl=station.ssl_context,
                                  proxy=None) as connection:
        check(connection.subprotocol == "ocpp2.0.1", "WebSocket handshake",
              "Sec-WebSocket-Protocol: ocpp2.0.1", connection.subprotocol)
