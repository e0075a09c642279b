"""OCPP 2.0.1 Core (M), charging station under test, continued: device model, connector
status, availability and remote stop (Part 6 Edition 3, errata 2025-09)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check, is_charging

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _variable(component: str, name: str) -> dict[str, Any]:
    return {"component": {"name": component}, "variable": {"name": name}}


async def _set_one(h: Harness, component: str, name: str, value: str, *, step: str
                   ) -> dict[str, Any]:
    answer = await h.csms.call("SetVariables", {"setVariableData": [
        {**_variable(component, name), "attributeValue": value}]}, step=step)
    results = answer.get("setVariableResult", [])
    check(len(results) == 1, "SetVariablesResponse", "one result", answer)
    return dict(results[0])


@pytest.mark.case("TC_B_07_CS")
async def test_TC_B_07_CS(h: Harness) -> None:
    """Get Variables, multiple values: HeartbeatInterval and OfflineThreshold of
    OCPPCommCtrlr in one request; a result for each, Accepted, with its component and
    variable."""
    await h.booted()
    asked = [_variable("OCPPCommCtrlr", "HeartbeatInterval"),
             _variable("OCPPCommCtrlr", "OfflineThreshold")]
    answer = await h.csms.call("GetVariables", {"getVariableData": asked},
                               step="GetVariablesRequest")
    results = answer.get("getVariableResult", [])
    got = sorted((r.get("variable", {}).get("name"), r.get("attributeStatus")) for r in results)
    check(got == [("HeartbeatInterval", "Accepted"), ("OfflineThreshold", "Accepted")] and
          all(r.get("attributeValue") not in (None, "") for r in results),
          "GetVariablesResponse", "both variables Accepted with a value", answer)


@pytest.mark.case("TC_B_10_CS")
async def test_TC_B_10_CS(h: Harness) -> None:
    """Set Variables, multiple values: TxUpdatedInterval and OfflineThreshold in one request,
    both Accepted; GetVariables reads both new values back."""
    await h.booted()
    values = {("SampledDataCtrlr", "TxUpdatedInterval"): str(h.sut.intervals.meter_sample_s + 5),
              ("OCPPCommCtrlr", "OfflineThreshold"): "123"}
    answer = await h.csms.call("SetVariables", {"setVariableData": [
        {**_variable(c, v), "attributeValue": value} for (c, v), value in values.items()]},
        step="SetVariablesRequest")
    statuses = [r.get("attributeStatus") for r in answer.get("setVariableResult", [])]
    check(statuses == ["Accepted", "Accepted"], "SetVariablesResponse", "both Accepted", answer)
    read = await h.csms.call("GetVariables", {"getVariableData": [
        _variable(c, v) for c, v in values]}, step="GetVariablesRequest")
    got = sorted([r["component"]["name"], r["variable"]["name"], r.get("attributeValue")]
                 for r in read.get("getVariableResult", []))
    wanted = sorted([c, v, value] for (c, v), value in values.items())
    check(got == wanted, "GetVariablesResponse", f"the new values {wanted}", read)


@pytest.mark.case("TC_B_35_CS")
async def test_TC_B_35_CS(h: Harness) -> None:
    """Set Variables of an unknown component: attributeStatus UnknownComponent."""
    await h.booted()
    result = await _set_one(h, "ConformanceUnknownCtrlr", "HeartbeatInterval", "10",
                            step="SetVariablesRequest")
    check(result.get("attributeStatus") == "UnknownComponent", "SetVariablesResponse",
          "UnknownComponent", result)


@pytest.mark.case("TC_B_36_CS")
async def test_TC_B_36_CS(h: Harness) -> None:
    """Set Variables of an unknown variable: attributeStatus UnknownVariable."""
    await h.booted()
    result = await _set_one(h, "OCPPCommCtrlr", "ConformanceUnknownVariable", "10",
                            step="SetVariablesRequest")
    check(result.get("attributeStatus") == "UnknownVariable", "SetVariablesResponse",
          "UnknownVariable", result)


@pytest.mark.case("TC_B_39_CS")
async def test_TC_B_39_CS(h: Harness) -> None:
    """Set Variables of a read-only variable (AuthCacheCtrlr.Available): Rejected."""
    await h.booted()
    result = await _set_one(h, "AuthCacheCtrlr", "Available", "false",
                            step="SetVariablesRequest")
    check(result.get("attributeStatus") == "Rejected", "SetVariablesResponse", "Rejected",
          result)


@pytest.mark.case("TC_G_01_CS")
async def test_TC_G_01_CS(h: Harness) -> None:
    """Connector status, Available to Occupied: a cable is plugged in;
    StatusNotification Occupied for the EVSE's connector."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Occupied", step="StatusNotificationRequest Occupied")


@pytest.mark.case("TC_G_02_CS")
async def test_TC_G_02_CS(h: Harness) -> None:
    """Connector status, Occupied to Available: (plugged in, Occupied) the cable is unplugged;
    StatusNotification Available."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.status(1, "Occupied", step="StatusNotification Occupied")
    await h.act("unplug", step="unplug", evse=1)
    await h.status(1, "Available", step="StatusNotificationRequest Available")


@pytest.mark.case("TC_G_05_CS")
async def test_TC_G_05_CS(h: Harness) -> None:
    """Change Availability of the charging station, operative to inoperative:
    ChangeAvailability without an EVSE Accepted; every connector Unavailable."""
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative"},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    await h.all_statuses("Unavailable", step="StatusNotificationRequest")


@pytest.mark.case("TC_G_09_CS")
async def test_TC_G_09_CS(h: Harness) -> None:
    """Change Availability of an EVSE, operative to operative: Accepted, and no status
    change follows."""
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Operative",
                                                      "evse": {"id": 1}},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    await h.csms.nothing("StatusNotification", step="no StatusNotification", within_s=1.0,
                         where=lambda p: p.get("connectorStatus") != "Available",
                         expected="no status change")


@pytest.mark.case("TC_F_08_CS")
async def test_TC_F_08_CS(h: Harness) -> None:
    """Remote stop, success: a transaction going (plugged in, token presented);
    RequestStopTransaction for it Accepted; TransactionEvent Ended with triggerReason
    RemoteStop and stoppedReason Remote."""
    await h.booted()
    await h.act("plug_in", step="plug in", evse=1)
    await h.act("present_token", step="present token", evse=1, token=h.sut.tokens.valid)
    started = await h.csms.receive(
        "TransactionEvent", step="TransactionEvent (charging)",
        where=is_charging,
        expected="a TransactionEvent with chargingState Charging")
    tx = started.payload["transactionInfo"]["transactionId"]
    answer = await h.csms.call("RequestStopTransaction", {"transactionId": tx},
                               step="RequestStopTransactionRequest")
    check(answer.get("status") == "Accepted", "RequestStopTransactionResponse", "Accepted",
          answer)
    ended = await h.csms.receive("TransactionEvent", step="TransactionEvent Ended",
                                 where=lambda p: p.get("eventType") == "Ended",
                                 expected="TransactionEvent Ended")
    info = ended.payload.get("transactionInfo", {})
    check(info.get("transactionId") == tx and ended.payload.get("triggerReason") ==
          "RemoteStop" and info.get("stoppedReason", "Remote") == "Remote",
          "TransactionEventRequest", f"transaction {tx} Ended, triggerReason RemoteStop, "
          "stoppedReason Remote", ended.payload)


@pytest.mark.case("TC_B_34_CS")
async def test_TC_B_34_CS(h: Harness) -> None:
    """Get Variables, not supported attribute type: OCPPCommCtrlr.HeartbeatInterval with
    attributeType MinSet (it has an Actual value only): NotSupportedAttributeType."""
    await h.booted()
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        **_variable("OCPPCommCtrlr", "HeartbeatInterval"), "attributeType": "MinSet"}]},
        step="GetVariablesRequest")
    statuses = [r.get("attributeStatus") for r in answer.get("getVariableResult", [])]
    check(statuses == ["NotSupportedAttributeType"], "GetVariablesResponse",
          "attributeStatus NotSupportedAttributeType", answer)


@pytest.mark.case("TC_G_06_CS")
async def test_TC_G_06_CS(h: Harness) -> None:
    """Change Availability of the charging station, inoperative to operative: (made
    Inoperative first, every connector Unavailable) ChangeAvailability Operative Accepted;
    every connector Available again."""
    await h.booted()
    await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative"},
                      step="make Inoperative")
    await h.all_statuses("Unavailable", step="Unavailable")
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Operative"},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    await h.all_statuses("Available", step="StatusNotificationRequest")


@pytest.mark.case("TC_G_07_CS")
async def test_TC_G_07_CS(h: Harness) -> None:
    """Change Availability of a connector, operative to inoperative: ChangeAvailability for
    EVSE 1 connector 1 Accepted; StatusNotification Unavailable for it."""
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                                      "evse": {"id": 1, "connectorId": 1}},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    status = await h.status(1, "Unavailable", step="StatusNotificationRequest Unavailable")
    check(status.payload.get("connectorId") == 1, "StatusNotificationRequest",
          "connectorId 1", status.payload)


@pytest.mark.case("TC_G_08_CS")
async def test_TC_G_08_CS(h: Harness) -> None:
    """Change Availability of a connector, inoperative to operative: (made Inoperative
    first) ChangeAvailability Operative for EVSE 1 connector 1 Accepted; Available again."""
    await h.booted()
    connector = {"id": 1, "connectorId": 1}
    await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                             "evse": connector}, step="make Inoperative")
    await h.status(1, "Unavailable", step="StatusNotification Unavailable")
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Operative",
                                                      "evse": connector},
                               step="ChangeAvailabilityRequest")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    await h.status(1, "Available", step="StatusNotificationRequest Available")


@pytest.mark.case("TC_E_30_CS")
async def test_TC_E_30_CS(h: Harness) -> None:
    """Check transaction status, transaction ongoing, no message in queue: (a transaction
    going, its events answered) GetTransactionStatus for it: ongoingIndicator true,
    messagesInQueue false. (Set-up: TxUpdatedInterval 0, so that no periodic event is on its
    way when the CSMS asks.)"""
    await h.booted()
    result = await _set_one(h, "SampledDataCtrlr", "TxUpdatedInterval", "0",
                            step="set-up: TxUpdatedInterval")
    check(result.get("attributeStatus") == "Accepted", "SetVariablesResponse (set-up)",
          "Accepted", result)
    await h.act("plug_in", step="plug in", evse=1)
    await h.act("present_token", step="present token", evse=1, token=h.sut.tokens.valid)
    started = await h.csms.receive(
        "TransactionEvent", step="TransactionEvent (charging)",
        where=is_charging,
        expected="a TransactionEvent with chargingState Charging")
    tx = started.payload["transactionInfo"]["transactionId"]
    # the station has one CALL open at a time (OCPP-J): when its next CALL comes, it has taken
    # in the answer to the TransactionEvent, so nothing of the transaction is left to deliver
    for record in h.csms.received("Heartbeat"):
        record.consumed = True
    await h.csms.receive("Heartbeat", step="a later message of the station",
                         timeout_s=h.sut.intervals.heartbeat_s + h.wait_s)
    answer = await h.csms.call("GetTransactionStatus", {"transactionId": tx},
                               step="GetTransactionStatusRequest")
    check(answer.get("ongoingIndicator") is True and answer.get("messagesInQueue") is False,
          "GetTransactionStatusResponse", "ongoingIndicator true, messagesInQueue false",
          answer)


@pytest.mark.case("TC_N_32_CS")
async def test_TC_N_32_CS(h: Harness) -> None:
    """Clear customer information, clear and no report: CustomerInformation for the valid
    idToken with clear true and report false: Accepted; no NotifyCustomerInformation
    follows."""
    await h.booted()
    answer = await h.csms.call("CustomerInformation", {
        "requestId": 4232, "report": False, "clear": True,
        "idToken": {"idToken": h.sut.tokens.valid, "type": "ISO14443"}},
        step="CustomerInformationRequest")
    check(answer.get("status") == "Accepted", "CustomerInformationResponse", "Accepted",
          answer)
    await h.csms.nothing("NotifyCustomerInformation", step="no NotifyCustomerInformation",
                         within_s=1.0, expected="no report (report false)")


@pytest.mark.case("TC_P_01_CS")
async def test_TC_P_01_CS(h: Harness) -> None:
    """Data transfer to the charging station, rejected / unknown vendorId / unknown
    messageId: DataTransfer with a vendorId and messageId the station cannot know: status
    Rejected, UnknownVendorId or UnknownMessageId."""
    await h.booted()
    answer = await h.csms.call("DataTransfer", {
        "vendorId": "org.openchargealliance.conformance.unknown",
        "messageId": "ConformanceUnknownMessage", "data": "conformance"},
        step="DataTransferRequest")
    check(answer.get("status") in ("Rejected", "UnknownVendorId", "UnknownMessageId"),
          "DataTransferResponse", "Rejected, UnknownVendorId or UnknownMessageId", answer)


@pytest.mark.case("TC_P_03_CS")
async def test_TC_P_03_CS(h: Harness) -> None:
    """CustomData, receive custom data: a GetVariables request carrying customData (with a
    vendorId and a vendor's own property) on the request, its item, component and variable
    is answered as without it: OCPPCommCtrlr.HeartbeatInterval Accepted with a value, no
    CALLERROR."""
    await h.booted()
    custom = {"vendorId": "org.openchargealliance.conformance", "conformanceNote": "ignore"}
    answer = await h.csms.call("GetVariables", {"customData": custom, "getVariableData": [{
        "customData": custom,
        "component": {"name": "OCPPCommCtrlr", "customData": custom},
        "variable": {"name": "HeartbeatInterval", "customData": custom}}]},
        step="GetVariablesRequest with customData")
    results = answer.get("getVariableResult", [])
    check(len(results) == 1 and results[0].get("attributeStatus") == "Accepted" and
          results[0].get("attributeValue") not in (None, ""), "GetVariablesResponse",
          "HeartbeatInterval Accepted with a value", answer)
