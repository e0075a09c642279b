"""OCPP 2.0.1 Core, charging station under test (Part 6 Edition 3, errata 2025-09)."""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.case("TC_B_01_CS")
async def test_TC_B_01_CS(h: Harness) -> None:
    """Cold boot Accepted: BootNotification (reason PowerUp or another valid reason) answered
    Accepted; a StatusNotification Available for every connector (evseId and connectorId not
    0)."""
    await h.fresh(step="power cycle")
    boot = await h.csms.receive("BootNotification", step="BootNotification")
    check("chargingStation" in boot.payload and boot.payload.get("reason"),
          "BootNotificationRequest", "chargingStation and reason", boot.payload)
    for evse in range(1, h.evses + 1):
        status = await h.status(evse, "Available", step=f"StatusNotification EVSE {evse}")
        check(status.payload.get("connectorId", 0) != 0, "StatusNotificationRequest",
              "connectorId not 0", status.payload)


@pytest.mark.case("TC_B_06_CS")
async def test_TC_B_06_CS(h: Harness) -> None:
    """Get Variables, single value: OCPPCommCtrlr.HeartbeatInterval Accepted with the interval
    the boot answer gave."""
    await h.booted()
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]},
        step="GetVariables")
    results = answer.get("getVariableResult", [])
    check(len(results) == 1 and results[0].get("attributeStatus") == "Accepted" and
          results[0].get("attributeValue") == str(h.sut.intervals.heartbeat_s),
          "GetVariablesResponse", f"one result, Accepted, value {h.sut.intervals.heartbeat_s}",
          answer)


@pytest.mark.case("TC_B_09_CS")
async def test_TC_B_09_CS(h: Harness) -> None:
    """Set Variables, single value: SampledDataCtrlr.TxUpdatedInterval Accepted, and
    GetVariables reads the new value back."""
    await h.booted()
    value = str(h.sut.intervals.meter_sample_s + 3)
    variable = {"component": {"name": "SampledDataCtrlr"},
                "variable": {"name": "TxUpdatedInterval"}}
    answer = await h.csms.call("SetVariables", {"setVariableData": [
        {**variable, "attributeValue": value}]}, step="SetVariables")
    results = answer.get("setVariableResult", [])
    check(len(results) == 1 and results[0].get("attributeStatus") == "Accepted",
          "SetVariablesResponse", "one result, Accepted", answer)
    read = await h.csms.call("GetVariables", {"getVariableData": [variable]},
                             step="GetVariables")
    got = read.get("getVariableResult", [{}])[0]
    check(got.get("attributeValue") == value, "GetVariablesResponse", f"value {value}", read)


@pytest.mark.case("TC_B_32_CS")
async def test_TC_B_32_CS(h: Harness) -> None:
    """Get Variables of an unknown component: attributeStatus UnknownComponent."""
    await h.booted()
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "ConformanceUnknownCtrlr"},
        "variable": {"name": "HeartbeatInterval"}}]}, step="GetVariables")
    results = answer.get("getVariableResult", [])
    check([r.get("attributeStatus") for r in results] == ["UnknownComponent"],
          "GetVariablesResponse", "attributeStatus UnknownComponent", answer)


@pytest.mark.case("TC_B_33_CS")
async def test_TC_B_33_CS(h: Harness) -> None:
    """Get Variables of an unknown variable: attributeStatus UnknownVariable."""
    await h.booted()
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "ConformanceUnknownVariable"}}]}, step="GetVariables")
    results = answer.get("getVariableResult", [])
    check([r.get("attributeStatus") for r in results] == ["UnknownVariable"],
          "GetVariablesResponse", "attributeStatus UnknownVariable", answer)


@pytest.mark.case("TC_B_20_CS")
async def test_TC_B_20_CS(h: Harness) -> None:
    """Reset OnIdle without a transaction: Reset Accepted (the request has no evseId); the
    station reboots: BootNotification, connectors Available."""
    await h.booted()
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "OnIdle"}, step="ResetRequest")
    check(answer.get("status") == "Accepted", "ResetResponse", "Accepted", answer)
    await h.csms.new_connection(before, h.wait_s * 2, step="reconnect after reset")
    await h.csms.receive("BootNotification", step="BootNotification after reset")
    await h.all_statuses("Available", step="after reset")


@pytest.mark.case("TC_E_28_CS")
async def test_TC_E_28_CS(h: Harness) -> None:
    """GetTransactionStatus for an unknown transaction: ongoingIndicator false (or absent is
    not allowed with a transactionId) and messagesInQueue false."""
    await h.booted()
    answer = await h.csms.call("GetTransactionStatus", {"transactionId": "CONF-UNKNOWN-TX"},
                               step="GetTransactionStatus")
    check(answer.get("ongoingIndicator") is False and answer.get("messagesInQueue") is False,
          "GetTransactionStatusResponse", "ongoingIndicator false, messagesInQueue false",
          answer)


@pytest.mark.case("TC_F_09_CS")
async def test_TC_F_09_CS(h: Harness) -> None:
    """Remote stop of an unknown transaction: RequestStopTransaction Rejected."""
    await h.booted()
    answer = await h.csms.call("RequestStopTransaction", {"transactionId": "CONF-UNKNOWN-TX"},
                               step="RequestStopTransaction")
    check(answer.get("status") == "Rejected", "RequestStopTransactionResponse", "Rejected",
          answer)


@pytest.mark.case("TC_F_20_CS")
async def test_TC_F_20_CS(h: Harness) -> None:
    """Trigger message Heartbeat: Accepted, then a Heartbeat. (Set-up: HeartbeatInterval made
    long, so that the Heartbeat that comes is the triggered one.)"""
    await h.booted()
    await h.csms.call("SetVariables", {"setVariableData": [{
        "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
        "attributeValue": "86400"}]}, step="set-up: HeartbeatInterval")
    for record in h.csms.received("Heartbeat"):
        record.consumed = True  # only a Heartbeat after the trigger counts
    answer = await h.csms.call("TriggerMessage", {"requestedMessage": "Heartbeat"},
                               step="TriggerMessageRequest")
    check(answer.get("status") == "Accepted", "TriggerMessageResponse", "Accepted", answer)
    await h.csms.receive("Heartbeat", step="HeartbeatRequest", timeout_s=h.wait_s)


@pytest.mark.case("TC_G_03_CS")
async def test_TC_G_03_CS(h: Harness) -> None:
    """EVSE operative to inoperative: ChangeAvailability Accepted; StatusNotification
    Unavailable for the EVSE's connector."""
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                                      "evse": {"id": 1}},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    await h.status(1, "Unavailable", step="StatusNotification Unavailable")


@pytest.mark.case("TC_G_04_CS")
async def test_TC_G_04_CS(h: Harness) -> None:
    """EVSE inoperative to operative: (made Inoperative first) ChangeAvailability Operative
    Accepted; StatusNotification Available again."""
    await h.booted()
    await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                             "evse": {"id": 1}}, step="make Inoperative")
    await h.status(1, "Unavailable", step="StatusNotification Unavailable")
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Operative",
                                                      "evse": {"id": 1}},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    await h.status(1, "Available", step="StatusNotification Available")
