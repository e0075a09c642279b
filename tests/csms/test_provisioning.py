"""Provisioning over real websockets: configuration and device model (1.6 GetConfiguration /
ChangeConfiguration, 2.0.1 GetVariables / SetVariables / GetBaseReport / GetReport /
NotifyReport), Basic auth password changes, boot Pending with triggered messages, DataTransfer
both ways, display messages."""

from __future__ import annotations

import binascii
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import CallErrorReceived, OcppVersion
from chargeloop.ocppj.transport.websocket import HandshakeRefused
from csms.domain.provisioning import DataTransferAnswer
from csms.server import RunningCsms
from tests.csms.control_support import Answers
from tests.csms.support import boot, connected_station, stamp

V16, V201 = OcppVersion.V16, OcppVersion.V201


async def stored(api: httpx.AsyncClient, station_id: str) -> dict[str, dict[str, Any]]:
    """The stored variables by "Component.Variable" (1.6: the key), Actual attributes first."""
    response = await api.get(f"/api/stations/{station_id}/variables")
    assert response.status_code == 200, response.text
    rows: dict[str, dict[str, Any]] = {}
    for row in response.json():
        name = row["variable"] if row["component"] == "" else \
            f"{row['component']}.{row['variable']}"
        if row["attribute_type"] != "Actual":
            name += f"#{row['attribute_type']}"
        if row["evse_id"]:
            name += f"@{row['evse_id']}"
        rows[name] = row
    return rows


async def report(api: httpx.AsyncClient, station_id: str, request_id: int) -> dict[str, Any]:
    reports = (await api.get(f"/api/stations/{station_id}/reports")).json()
    return next(r for r in reports if r["request_id"] == request_id)


# -- OCPP 1.6 configuration -------------------------------------------------------------------


async def test_ocpp16_configuration_is_read_changed_and_stored(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_019_1/2, TC_021, TC_040: GetConfiguration and ChangeConfiguration, stored."""
    config = {"HeartbeatInterval": ["300", False], "NumberOfConnectors": ["2", True],
              "MeterValueSampleInterval": ["60", False]}

    def get_configuration(p: dict[str, Any]) -> dict[str, Any]:
        keys = p.get("key") or list(config)
        answer: dict[str, Any] = {"configurationKey": [
            {"key": k, "value": config[k][0], "readonly": config[k][1]}
            for k in keys if k in config]}
        if unknown := [k for k in keys if k not in config]:
            answer["unknownKey"] = unknown
        return answer

    def change_configuration(p: dict[str, Any]) -> dict[str, Any]:
        if p["key"] not in config:
            return {"status": "NotSupported"}
        if config[p["key"]][1]:
            return {"status": "Rejected"}
        config[p["key"]][0] = p["value"]
        return {"status": "RebootRequired" if p["key"] == "MeterValueSampleInterval"
                else "Accepted"}

    station = Answers(GetConfiguration=get_configuration,
                      ChangeConfiguration=change_configuration)
    async with connected_station(csms, "CS-CFG16", V16, routes=station.routes) as cs:
        await boot(cs)
        url = "/api/stations/CS-CFG16/commands/configuration"
        some = await api.get(url, params={"key": ["HeartbeatInterval", "Nope"]})
        assert some.status_code == 200, some.text
        assert station.last("GetConfiguration") == {"key": ["HeartbeatInterval", "Nope"]}
        results = {r["key"]: r for r in some.json()["results"]}
        assert results["HeartbeatInterval"]["value"] == "300"
        assert results["HeartbeatInterval"]["mutability"] == "ReadWrite"
        assert results["Nope"]["status"] == "UnknownVariable"
        assert (await stored(api, "CS-CFG16"))["Nope"]["status"] == "UnknownVariable"

        # The whole configuration replaces what was stored ("Nope" is not a key of it).
        everything = await api.post("/api/stations/CS-CFG16/commands/base-report", json={})
        assert everything.json()["action"] == "GetConfiguration"
        assert station.last("GetConfiguration") == {}
        rows = await stored(api, "CS-CFG16")
        assert set(rows) == set(config)
        assert rows["NumberOfConnectors"]["mutability"] == "ReadOnly"
        assert rows["NumberOfConnectors"]["value"] == "2"

        changed = await api.put(url, json={"values": [
            {"key": "HeartbeatInterval", "value": "120"},
            {"key": "NumberOfConnectors", "value": "4"},
            {"key": "MeterValueSampleInterval", "value": "30"},
            {"key": "Bogus", "value": "1"}]})
        assert changed.status_code == 200, changed.text
        assert [r["status"] for r in changed.json()["results"]] == [
            "Accepted", "Rejected", "RebootRequired", "UnknownVariable"]
        assert [(p["key"], p["value"]) for p in station.got["ChangeConfiguration"]] == [
            ("HeartbeatInterval", "120"), ("NumberOfConnectors", "4"),
            ("MeterValueSampleInterval", "30"), ("Bogus", "1")]
        rows = await stored(api, "CS-CFG16")
        assert rows["HeartbeatInterval"]["value"] == "120"
        assert (rows["NumberOfConnectors"]["value"], rows["NumberOfConnectors"]["status"]) == \
            ("2", "Rejected")
        assert (rows["MeterValueSampleInterval"]["value"],
                rows["MeterValueSampleInterval"]["status"]) == ("30", "RebootRequired")
        assert (rows["Bogus"]["value"], rows["Bogus"]["status"]) == (None, "UnknownVariable")

        # However it is sent, an accepted change is recorded.
        raw = await api.post("/api/stations/CS-CFG16/ocpp/ChangeConfiguration",
                             json={"key": "HeartbeatInterval", "value": "90"})
        assert raw.json()["response"] == {"status": "Accepted"}
        assert (await stored(api, "CS-CFG16"))["HeartbeatInterval"]["value"] == "90"

        wrong = await api.put(url, json={"values": [{"component": "OCPPCommCtrlr",
                                                     "variable": "HeartbeatInterval",
                                                     "value": "1"}]})
        assert wrong.status_code == 422
        assert wrong.json()["detail"][0]["loc"] == ["body", "values.0"]


async def test_ocpp16_authorization_key_becomes_the_password(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_073_CSMS: ChangeConfiguration AuthorizationKey (hex) accepted -> the next connection
    must use the new password; the key's value is never stored."""
    old, new = "old-password-0123456", "new-password-abcdefg"
    await csms.core.stations.register("CS-KEY16", password=old, security_profile=1)
    station = Answers(ChangeConfiguration={"status": "Accepted"})
    url = "/api/stations/CS-KEY16/commands/configuration"
    async with connected_station(csms, "CS-KEY16", V16, password=old,
                                 routes=station.routes) as cs:
        await boot(cs)
        not_hex = await api.put(url, json={"values": [{"key": "AuthorizationKey",
                                                       "value": new}]})
        assert not_hex.status_code == 422
        assert not station.got["ChangeConfiguration"]
        key = binascii.hexlify(new.encode()).decode().upper()
        changed = await api.put(url, json={"values": [{"key": "AuthorizationKey",
                                                       "value": key}]})
        assert changed.status_code == 200, changed.text
        assert station.last("ChangeConfiguration") == {"key": "AuthorizationKey", "value": key}
        row = (await stored(api, "CS-KEY16"))["AuthorizationKey"]
        assert (row["value"], row["mutability"], row["status"]) == (None, "WriteOnly",
                                                                    "Accepted")
    with pytest.raises(HandshakeRefused) as refused:
        async with connected_station(csms, "CS-KEY16", V16, password=old):
            pass
    assert refused.value.status == 401
    async with connected_station(csms, "CS-KEY16", V16, password=new) as cs:
        assert (await boot(cs))["status"] == "Accepted"


# -- OCPP 2.0.1 variables ---------------------------------------------------------------------


async def test_ocpp201_get_and_set_variables_are_stored(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_B_06/07 GetVariables, TC_B_09/10 SetVariables."""
    values = {("OCPPCommCtrlr", "HeartbeatInterval", 0, "Actual"): "300",
              ("EVSE", "Power", 1, "MaxSet"): "22000"}

    def get_variables(p: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in p["getVariableData"]:
            name = (item["component"]["name"], item["variable"]["name"],
                    item["component"].get("evse", {}).get("id", 0),
                    item.get("attributeType", "Actual"))
            result = {"component": item["component"], "variable": item["variable"],
                      "attributeStatus": "Accepted" if name in values else "UnknownComponent"}
            if "attributeType" in item:
                result["attributeType"] = item["attributeType"]
            if name in values:
                result["attributeValue"] = values[name]
            results.append(result)
        return {"getVariableResult": results}

    def set_variables(p: dict[str, Any]) -> dict[str, Any]:
        words = {"HeartbeatInterval": "Accepted", "EVConnectionTimeOut": "RebootRequired",
                 "Bar": "UnknownComponent", "Power": "Rejected"}
        return {"setVariableResult": [
            {"component": i["component"], "variable": i["variable"],
             "attributeStatus": words[i["variable"]["name"]]}
            for i in p["setVariableData"]]}

    station = Answers(GetVariables=get_variables, SetVariables=set_variables)
    async with connected_station(csms, "CS-VAR", V201, routes=station.routes) as cs:
        await boot(cs)
        url = "/api/stations/CS-VAR/commands/configuration"
        got = await api.get(url, params={"key": ["OCPPCommCtrlr.HeartbeatInterval", "Foo.Bar"]})
        assert got.status_code == 200, got.text
        assert station.last("GetVariables") == {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {"component": {"name": "Foo"}, "variable": {"name": "Bar"}}]}
        assert [(r["key"], r["status"], r["value"]) for r in got.json()["results"]] == [
            ("OCPPCommCtrlr.HeartbeatInterval", "Accepted", "300"),
            ("Foo.Bar", "UnknownComponent", None)]

        full = await api.post(f"{url}/get", json={"variables": [
            {"component": "EVSE", "evse_id": 1, "variable": "Power",
             "attribute_type": "MaxSet"}]})
        assert full.status_code == 200, full.text
        assert station.last("GetVariables")["getVariableData"] == [
            {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"},
             "attributeType": "MaxSet"}]
        rows = await stored(api, "CS-VAR")
        assert rows["OCPPCommCtrlr.HeartbeatInterval"]["value"] == "300"
        assert rows["EVSE.Power#MaxSet@1"]["value"] == "22000"
        assert rows["Foo.Bar"]["status"] == "UnknownComponent"

        changed = await api.put(url, json={"values": [
            {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"},
            {"key": "TxCtrlr.EVConnectionTimeOut", "value": "30"},
            {"key": "EVSE.Power", "evse_id": 1, "attribute_type": "MaxSet", "value": "1"},
            {"key": "Foo.Bar", "value": "x"}]})
        assert changed.status_code == 200, changed.text
        assert len(station.got["SetVariables"]) == 1  # one message for all of them
        assert station.last("SetVariables")["setVariableData"][0] == {
            "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
            "attributeValue": "60"}
        assert [r["status"] for r in changed.json()["results"]] == [
            "Accepted", "RebootRequired", "Rejected", "UnknownComponent"]
        rows = await stored(api, "CS-VAR")
        assert rows["OCPPCommCtrlr.HeartbeatInterval"]["value"] == "60"
        assert (rows["TxCtrlr.EVConnectionTimeOut"]["value"],
                rows["TxCtrlr.EVConnectionTimeOut"]["status"]) == ("30", "RebootRequired")
        assert rows["EVSE.Power#MaxSet@1"]["value"] == "22000"  # rejected: unchanged

        for bad in ({"key": "NoDot", "value": "1"},
                    {"key": "A.B", "connector_id": 1, "value": "1"}):
            refused = await api.put(url, json={"values": [bad]})
            assert refused.status_code == 422, refused.text
        assert len(station.got["SetVariables"]) == 1


async def test_ocpp201_basic_auth_password_change(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_A_10 (rejected: the old password stays) and TC_A_09 (accepted: the next connection
    must use the new one)."""
    first, refused_pw, second = ("first-password-00001", "refused-password-0002",
                                 "second-password-0003")
    await csms.core.stations.register("CS-PW", password=first, security_profile=1)
    station = Answers(SetVariables=lambda p: {"setVariableResult": [
        {"component": i["component"], "variable": i["variable"], "attributeStatus": "Rejected"}
        for i in p["setVariableData"]]})
    body = {"values": [{"key": "SecurityCtrlr.BasicAuthPassword", "value": refused_pw}]}
    url = "/api/stations/CS-PW/commands/configuration"
    async with connected_station(csms, "CS-PW", V201, password=first,
                                 routes=station.routes) as cs:
        await boot(cs)
        assert (await api.put(url, json=body)).json()["results"][0]["status"] == "Rejected"
    with pytest.raises(HandshakeRefused):
        async with connected_station(csms, "CS-PW", V201, password=refused_pw):
            pass
    station.set("SetVariables", lambda p: {"setVariableResult": [
        {"component": i["component"], "variable": i["variable"], "attributeStatus": "Accepted"}
        for i in p["setVariableData"]]})
    async with connected_station(csms, "CS-PW", V201, password=first,
                                 routes=station.routes) as cs:
        await boot(cs)
        short = {"values": [{"key": "SecurityCtrlr.BasicAuthPassword", "value": "short"}]}
        assert (await api.put(url, json=short)).status_code == 422
        body["values"][0]["value"] = second
        answer = await api.put(url, json=body)
        assert answer.json()["results"][0] == {**answer.json()["results"][0],
                                               "status": "Accepted", "value": None}
        assert station.last("SetVariables")["setVariableData"][0]["attributeValue"] == second
    assert (await stored(api, "CS-PW"))["SecurityCtrlr.BasicAuthPassword"]["value"] is None
    with pytest.raises(HandshakeRefused) as old_refused:
        async with connected_station(csms, "CS-PW", V201, password=first):
            pass
    assert old_refused.value.status == 401
    async with connected_station(csms, "CS-PW", V201, password=second) as cs:
        assert (await boot(cs))["status"] == "Accepted"


def _report_item(component: str, variable: str, value: str, *, evse: int | None = None,
                 mutability: str = "ReadWrite") -> dict[str, Any]:
    comp: dict[str, Any] = {"name": component}
    if evse is not None:
        comp["evse"] = {"id": evse}
    return {"component": comp, "variable": {"name": variable},
            "variableAttribute": [{"value": value, "mutability": mutability,
                                   "persistent": True}],
            "variableCharacteristics": {"dataType": "integer", "unit": "s",
                                        "supportsMonitoring": False}}


async def test_ocpp201_base_report_in_parts_becomes_the_device_model(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_B_12/13/14: GetBaseReport, NotifyReport parts in any order (one before the answer,
    one repeated); a complete FullInventory replaces the stored device model."""
    session: dict[str, Any] = {}

    async def get_base_report(p: dict[str, Any]) -> dict[str, Any]:
        if p["reportBase"] == "FullInventory":
            # The first part arrives before the answer.
            await session["cs"].call("NotifyReport", {
                "requestId": p["requestId"], "generatedAt": stamp(), "seqNo": 0, "tbc": True,
                "reportData": [_report_item("OCPPCommCtrlr", "HeartbeatInterval", "300"),
                               _report_item("EVSE", "AvailabilityState", "Available", evse=1,
                                            mutability="ReadOnly")]})
            return {"status": "Accepted"}
        return {"status": "EmptyResultSet"}

    station = Answers(GetBaseReport=get_base_report,
                      GetVariables=lambda p: {"getVariableResult": [
                          {"component": {"name": "Old"}, "variable": {"name": "Gone"},
                           "attributeStatus": "Accepted", "attributeValue": "1"}]})
    async with connected_station(csms, "CS-REP", V201, routes=station.routes) as cs:
        session["cs"] = cs
        await boot(cs)
        await api.get("/api/stations/CS-REP/commands/configuration",
                      params={"key": "Old.Gone"})
        assert "Old.Gone" in await stored(api, "CS-REP")

        asked = await api.post("/api/stations/CS-REP/commands/base-report",
                               json={"report_base": "FullInventory"})
        assert asked.status_code == 200, asked.text
        request_id = asked.json()["request_id"]
        assert station.last("GetBaseReport") == {"requestId": request_id,
                                                 "reportBase": "FullInventory"}
        assert asked.json()["status"] == "Accepted"

        last = {"requestId": request_id, "generatedAt": stamp(), "seqNo": 2, "tbc": False,
                "reportData": [_report_item("TxCtrlr", "EVConnectionTimeOut", "60")]}
        middle = {"requestId": request_id, "generatedAt": stamp(), "seqNo": 1, "tbc": True,
                  "reportData": [_report_item("SecurityCtrlr", "SecurityProfile", "1",
                                              mutability="ReadOnly")]}
        assert await cs.call("NotifyReport", last) == {}
        waiting = await report(api, "CS-REP", request_id)
        assert (waiting["complete"], waiting["missing_parts"]) == (False, [1])
        assert "Old.Gone" in await stored(api, "CS-REP")  # not replaced before it is whole
        await cs.call("NotifyReport", middle)
        await cs.call("NotifyReport", middle)  # repeated: counted once
        done = await report(api, "CS-REP", request_id)
        assert done == {**done, "complete": True, "parts": 3, "entries": 4,
                        "missing_parts": [], "status": "Accepted", "action": "GetBaseReport",
                        "criteria": {"reportBase": "FullInventory"}}
        rows = await stored(api, "CS-REP")
        assert set(rows) == {"OCPPCommCtrlr.HeartbeatInterval", "EVSE.AvailabilityState@1",
                             "TxCtrlr.EVConnectionTimeOut", "SecurityCtrlr.SecurityProfile"}
        heartbeat = rows["OCPPCommCtrlr.HeartbeatInterval"]
        assert (heartbeat["value"], heartbeat["mutability"], heartbeat["persistent"],
                heartbeat["constant"]) == ("300", "ReadWrite", True, False)
        assert heartbeat["characteristics"] == {"dataType": "integer", "unit": "s",
                                                "supportsMonitoring": False}
        assert rows["SecurityCtrlr.SecurityProfile"]["mutability"] == "ReadOnly"

        empty = await api.post("/api/stations/CS-REP/commands/base-report",
                               json={"report_base": "SummaryInventory"})
        assert empty.json()["status"] == "EmptyResultSet"
        assert empty.json()["request_id"] == request_id + 1
        assert (await report(api, "CS-REP", request_id + 1))["complete"] is True
        assert len(await stored(api, "CS-REP")) == 4


async def test_ocpp201_custom_report_adds_to_the_device_model(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_B_18: GetReport with criteria and component/variables; NotifyReport adds, and
    removes nothing."""
    station = Answers(GetReport={"status": "Accepted"},
                      GetVariables=lambda p: {"getVariableResult": [
                          {"component": {"name": "Kept"}, "variable": {"name": "Here"},
                           "attributeStatus": "Accepted", "attributeValue": "1"}]})
    async with connected_station(csms, "CS-CUSTOM", V201, routes=station.routes) as cs:
        await boot(cs)
        await api.get("/api/stations/CS-CUSTOM/commands/configuration",
                      params={"key": "Kept.Here"})
        asked = await api.post("/api/stations/CS-CUSTOM/commands/report", json={
            "component_criteria": ["Problem"],
            "component_variables": [{"component": "EVSE", "evse_id": 1},
                                    {"component": "Connector", "evse_id": 1, "connector_id": 1,
                                     "variable": "AvailabilityState"}]})
        assert asked.status_code == 200, asked.text
        request_id = asked.json()["request_id"]
        assert station.last("GetReport") == {
            "requestId": request_id, "componentCriteria": ["Problem"],
            "componentVariable": [
                {"component": {"name": "EVSE", "evse": {"id": 1}}},
                {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                 "variable": {"name": "AvailabilityState"}}]}
        await cs.call("NotifyReport", {
            "requestId": request_id, "generatedAt": stamp(), "seqNo": 0,
            "reportData": [_report_item("EVSE", "Problem", "true", evse=1)]})
        assert (await report(api, "CS-CUSTOM", request_id))["complete"] is True
        assert set(await stored(api, "CS-CUSTOM")) == {"Kept.Here", "EVSE.Problem@1"}


# -- boot Pending -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", [V16, V201])
async def test_pending_station_is_provisioned_and_sends_only_what_was_triggered(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_B_02 (configure while Pending, then accept), TC_B_30 (SecurityError before
    acceptance), TC_B_31 (a triggered message may come while Pending)."""
    created = await api.post("/api/stations", json={"id": "CS-PEND", "registration": "Pending"})
    assert created.status_code == 201, created.text
    holder: dict[str, Any] = {}
    if version is V16:
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available",
                  "timestamp": stamp()}
        station = Answers(GetConfiguration={"configurationKey": [
            {"key": "HeartbeatInterval", "value": "300", "readonly": False}]},
            ChangeConfiguration={"status": "Accepted"})
        key = "HeartbeatInterval"
    else:
        status = {"timestamp": stamp(), "evseId": 1, "connectorId": 1,
                  "connectorStatus": "Available"}
        station = Answers(
            GetVariables=lambda p: {"getVariableResult": [
                {**p["getVariableData"][0], "attributeStatus": "Accepted",
                 "attributeValue": "300"}]},
            SetVariables=lambda p: {"setVariableResult": [
                {**{k: v for k, v in p["setVariableData"][0].items() if k != "attributeValue"},
                 "attributeStatus": "Accepted"}]})
        key = "OCPPCommCtrlr.HeartbeatInterval"

    async def triggered_first(p: dict[str, Any]) -> dict[str, Any]:
        # A station that sends the message before it answers the trigger.
        holder["early"] = await holder["cs"].call("StatusNotification", status)
        return {"status": "Accepted"}

    station.set("TriggerMessage", {"status": "Accepted"})
    async with connected_station(csms, "CS-PEND", version, routes=station.routes) as cs:
        holder["cs"] = cs
        assert (await boot(cs))["status"] == "Pending"
        with pytest.raises(CallErrorReceived) as refused:
            await cs.call("StatusNotification", status)
        assert refused.value.code == "SecurityError"

        url = "/api/stations/CS-PEND/commands/configuration"
        read = await api.get(url, params={"key": key})
        assert read.status_code == 200, read.text
        assert read.json()["results"][0]["value"] == "300"
        assert (await api.put(url, json={"values": [{"key": key, "value": "60"}]})
                ).json()["results"][0]["status"] == "Accepted"

        trigger = "/api/stations/CS-PEND/commands/trigger"
        answer = await api.post(trigger, json={"message": "StatusNotification", "evse_id": 1})
        assert answer.json()["status"] == "Accepted"
        assert await cs.call("StatusNotification", status) == {}
        with pytest.raises(CallErrorReceived):  # one message per trigger
            await cs.call("StatusNotification", status)

        station.set("TriggerMessage", {"status": "Rejected"})
        assert (await api.post(trigger, json={"message": "StatusNotification"})
                ).json()["status"] == "Rejected"
        with pytest.raises(CallErrorReceived):
            await cs.call("StatusNotification", status)

        station.set("TriggerMessage", triggered_first)
        assert (await api.post(trigger, json={"message": "StatusNotification"})
                ).json()["status"] == "Accepted"
        assert holder["early"] == {}
        # An untargeted trigger asks for every connector's status, not just one message.
        second = {**status, "connectorId": 2}
        assert await cs.call("StatusNotification", second) == {}

        accepted = await api.patch("/api/stations/CS-PEND", json={"registration": "Accepted"})
        assert accepted.status_code == 200
        assert (await boot(cs))["status"] == "Accepted"
        assert await cs.call("StatusNotification", status) == {}
    assert (await stored(api, "CS-PEND"))[key]["value"] == "60"


# -- DataTransfer -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", [V16, V201])
async def test_data_transfer_both_ways(csms: RunningCsms, api: httpx.AsyncClient,
                                       version: OcppVersion) -> None:
    """TC_064 / TC_P_02: unknown vendors get UnknownVendorId; a registered vendor answers;
    every transfer is stored. CSMS -> station through the neutral endpoint."""
    seen: list[tuple[str, str | None, Any]] = []

    def vendor(station_id: str, message_id: str | None, data: Any) -> DataTransferAnswer:
        seen.append((station_id, message_id, data))
        if message_id != "ping":
            return DataTransferAnswer("UnknownMessageId")
        return DataTransferAnswer("Accepted", {"pong": data})

    csms.core.provisioning.register_vendor("com.example", vendor)
    station = Answers(DataTransfer={"status": "Accepted", "data": "ok"})
    data: Any = "hello" if version is V16 else {"hello": [1, 2]}
    async with connected_station(csms, "CS-DT", version, routes=station.routes) as cs:
        await boot(cs)
        unknown = await cs.call("DataTransfer", {"vendorId": "org.other", "messageId": "x",
                                                 "data": data})
        assert unknown == {"status": "UnknownVendorId"}
        odd = await cs.call("DataTransfer", {"vendorId": "com.example", "messageId": "odd"})
        assert odd == {"status": "UnknownMessageId"}
        pong = await cs.call("DataTransfer", {"vendorId": "com.example", "messageId": "ping",
                                              "data": data})
        expected = {"pong": data}
        assert pong == {"status": "Accepted",
                        "data": '{"pong":"hello"}' if version is V16 else expected}
        assert seen[-1] == ("CS-DT", "ping", data)

        sent = await api.post("/api/stations/CS-DT/commands/data-transfer", json={
            "vendor_id": "com.example", "message_id": "cfg", "data": {"a": 1}})
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "Accepted"
        assert sent.json()["response"] == {"status": "Accepted", "data": "ok"}
        assert station.last("DataTransfer") == {
            "vendorId": "com.example", "messageId": "cfg",
            "data": '{"a":1}' if version is V16 else {"a": 1}}
    transfers = (await api.get("/api/stations/CS-DT/data-transfers")).json()
    assert [(t["vendor_id"], t["message_id"], t["status"]) for t in transfers] == [
        ("com.example", "ping", "Accepted"), ("com.example", "odd", "UnknownMessageId"),
        ("org.other", "x", "UnknownVendorId")]
    assert transfers[0]["data"] == data


# -- display messages -------------------------------------------------------------------------


async def test_ocpp201_display_messages_are_kept(csms: RunningCsms,
                                                 api: httpx.AsyncClient) -> None:
    """TC_O_01/02/03/04/05/06/12/17: set (new and replacing), get all (reports in parts
    replace the stored list), clear, clear unknown, nothing configured."""
    holder: dict[str, Any] = {}

    def set_display(p: dict[str, Any]) -> dict[str, Any]:
        if p["message"]["priority"] == "AlwaysFront":
            return {"status": "NotSupportedPriority"}
        return {"status": "Accepted"}

    station = Answers(SetDisplayMessage=set_display, GetDisplayMessages={"status": "Accepted"},
                      ClearDisplayMessage=lambda p: {
                          "status": "Accepted" if p["id"] != 99 else "Unknown"})
    url = "/api/stations/CS-DISP/commands/display-messages"
    async with connected_station(csms, "CS-DISP", V201, routes=station.routes) as cs:
        holder["cs"] = cs
        await boot(cs)
        first = await api.post(url, json={"content": "Welcome", "language": "en",
                                          "start": "2030-01-01T08:00:00Z",
                                          "transaction_id": "TX-9"})
        assert first.status_code == 200, first.text
        first_id = first.json()["message_id"]
        assert station.last("SetDisplayMessage") == {"message": {
            "id": first_id, "priority": "NormalCycle", "transactionId": "TX-9",
            "startDateTime": "2030-01-01T08:00:00.000Z",
            "message": {"format": "UTF8", "content": "Welcome", "language": "en"}}}
        second = await api.post(url, json={"content": "Closed", "priority": "InFront",
                                           "state": "Unavailable"})
        second_id = second.json()["message_id"]
        assert second_id == first_id + 1
        unsupported = await api.post(url, json={"content": "!", "priority": "AlwaysFront"})
        assert unsupported.json()["status"] == "NotSupportedPriority"
        replaced = await api.post(url, json={"id": first_id, "content": "Hello again"})
        assert replaced.json()["message_id"] == first_id
        listed = (await api.get("/api/stations/CS-DISP/display-messages")).json()
        assert [(m["message_id"], m["content"], m["source"]) for m in listed] == [
            (first_id, "Hello again", "csms"), (second_id, "Closed", "csms")]

        # The station shows the first message and one of its own; not the second.
        asked = await api.post(f"{url}/get", json={})
        request_id = asked.json()["request_id"]
        assert station.last("GetDisplayMessages") == {"requestId": request_id}
        for tbc, info in ((True, {"id": first_id, "priority": "NormalCycle",
                                  "message": {"format": "UTF8", "content": "Hello again"}}),
                          (False, {"id": 7, "priority": "InFront", "state": "Charging",
                                   "message": {"format": "ASCII", "content": "Charging"}})):
            await cs.call("NotifyDisplayMessages", {"requestId": request_id, "tbc": tbc,
                                                    "messageInfo": [info]})
        listed = (await api.get("/api/stations/CS-DISP/display-messages")).json()
        assert [(m["message_id"], m["source"]) for m in listed] == [(first_id, "station"),
                                                                    (7, "station")]
        assert (await report(api, "CS-DISP", request_id))["complete"] is True

        filtered = await api.post(f"{url}/get", json={"priority": "InFront", "ids": [7]})
        assert station.last("GetDisplayMessages") == {
            "requestId": filtered.json()["request_id"], "id": [7], "priority": "InFront"}

        cleared = await api.delete(f"{url}/7")
        assert cleared.json()["status"] == "Accepted"
        assert station.last("ClearDisplayMessage") == {"id": 7}
        assert (await api.delete(f"{url}/99")).json()["status"] == "Unknown"
        listed = (await api.get("/api/stations/CS-DISP/display-messages")).json()
        assert [m["message_id"] for m in listed] == [first_id]

        station.set("GetDisplayMessages", {"status": "Unknown"})  # nothing configured
        none = await api.post(f"{url}/get", json={})
        assert none.json()["status"] == "Unknown"
        assert (await api.get("/api/stations/CS-DISP/display-messages")).json() == []

    async with connected_station(csms, "CS-DISP16", V16) as cs:
        await boot(cs)
        refused = await api.post("/api/stations/CS-DISP16/commands/display-messages",
                                 json={"content": "x"})
        assert refused.status_code == 422
