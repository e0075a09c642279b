"""OCPP 2.0.1 Core (M), charging station under test: provisioning (block B) — device model
values and reports, resets with a transaction going, availability across a reset (Part 6
Edition 3, errata 2025-09)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check, now_iso, tx_id201
from conformance.station.provisioning201 import get_base_report, rebooted_remotely, stays_connected

pytestmark = pytest.mark.asyncio(loop_scope="session")

EARLY_SLACK_S = 0.2  # clock resolution between the station's timer and ours


def _variable(component: str, name: str) -> dict[str, Any]:
    return {"component": {"name": component}, "variable": {"name": name}}


def _label(item: dict[str, Any]) -> str:
    return f"{item['component']['name']}.{item['variable']['name']}"


@pytest.mark.case("TC_B_11_CS")
async def test_TC_B_11_CS(h: Harness) -> None:
    """Set Variables, invalidly formatted values: SetVariables of an integer variable
    (OCPPCommCtrlr.HeartbeatInterval) with a value that is not an integer: Rejected; a
    GetVariables reads the value it had before."""
    await h.booted()
    variable = _variable("OCPPCommCtrlr", "HeartbeatInterval")
    before = await h.csms.call("GetVariables", {"getVariableData": [variable]},
                               step="GetVariables (before)")
    value = before.get("getVariableResult", [{}])[0].get("attributeValue")
    answer = await h.csms.call("SetVariables", {"setVariableData": [
        {**variable, "attributeValue": "ten seconds"}]}, step="SetVariablesRequest")
    statuses = [r.get("attributeStatus") for r in answer.get("setVariableResult", [])]
    check(statuses == ["Rejected"], "SetVariablesResponse", "attributeStatus Rejected", answer)
    after = await h.csms.call("GetVariables", {"getVariableData": [variable]},
                              step="GetVariablesRequest")
    got = after.get("getVariableResult", [{}])[0].get("attributeValue")
    check(got == value, "GetVariablesResponse", f"the value before ({value})", after)


@pytest.mark.case("TC_B_37_CS")
async def test_TC_B_37_CS(h: Harness) -> None:
    """Set Variables, not supported attribute type: OCPPCommCtrlr.HeartbeatInterval with
    attributeType MaxSet (it has an Actual value only): NotSupportedAttributeType."""
    await h.booted()
    answer = await h.csms.call("SetVariables", {"setVariableData": [{
        **_variable("OCPPCommCtrlr", "HeartbeatInterval"), "attributeType": "MaxSet",
        "attributeValue": "100"}]}, step="SetVariablesRequest")
    statuses = [r.get("attributeStatus") for r in answer.get("setVariableResult", [])]
    check(statuses == ["NotSupportedAttributeType"], "SetVariablesResponse",
          "attributeStatus NotSupportedAttributeType", answer)


@pytest.mark.case("TC_B_12_CS")
async def test_TC_B_12_CS(h: Harness) -> None:
    """Get Base Report, ConfigurationInventory: GetBaseReport Accepted; NotifyReport parts
    with the requestId, seqNo from 0 and tbc false on the last; they report configurable
    variables only (each with an attribute that is not ReadOnly)."""
    await h.booted()
    items = await get_base_report(h, "ConfigurationInventory")
    read_only = [_label(i) for i in items
                 if all(a.get("mutability", "ReadWrite") == "ReadOnly"
                        for a in i.get("variableAttribute", []))]
    check(not read_only, "NotifyReportRequest", "only configurable variables",
          f"read-only: {read_only[:5]}")


@pytest.mark.case("TC_B_13_CS")
async def test_TC_B_13_CS(h: Harness) -> None:
    """Get Base Report, FullInventory: GetBaseReport Accepted; NotifyReport parts with the
    requestId, seqNo from 0 and tbc false on the last, each reported variable with its
    attributes."""
    await h.booted()
    items = await get_base_report(h, "FullInventory")
    bare = [_label(i) for i in items if not i.get("variableAttribute")]
    check(not bare, "NotifyReportRequest", "variableAttribute for every variable", bare[:5])


async def _ongoing_transaction(h: Harness) -> str:
    await h.booted()
    return tx_id201(await h.charging201(h.sut.tokens.valid))


@pytest.mark.case("TC_B_21_CS")
async def test_TC_B_21_CS(h: Harness) -> None:
    """Reset with an ongoing transaction, OnIdle: (EnergyTransferStarted) Reset OnIdle
    without evseId: Scheduled, and the station does not reboot while the transaction goes
    on; the driver ends it (StopAuthorized): TransactionEvent Ended; then the station
    reboots: BootNotification reason RemoteReset, a status for every EVSE."""
    tx = await _ongoing_transaction(h)
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "OnIdle"}, step="ResetRequest")
    check(answer.get("status") == "Scheduled", "ResetResponse", "Scheduled", answer)
    await stays_connected(h, within_s=1.0, step="no reboot while the transaction goes on")
    await h.act("present_token", step="StopAuthorized: present token", evse=1,
                token=h.sut.tokens.valid)
    ended = await h.csms.receive("TransactionEvent", step="TransactionEventRequest Ended",
                                 where=lambda p: p.get("eventType") == "Ended" and
                                 p["transactionInfo"]["transactionId"] == tx,
                                 expected=f"TransactionEvent Ended for {tx}")
    boot = await rebooted_remotely(h, before, step="after the transaction")
    for record in h.csms.received("StatusNotification"):
        record.consumed = record.consumed or record.connection < boot.connection
    for evse in range(1, h.evses + 1):
        await h.csms.receive("StatusNotification", step=f"StatusNotification EVSE {evse}",
                             where=lambda p, e=evse: p.get("evseId") == e,
                             expected=f"a StatusNotification for EVSE {evse} after the boot")
    check(boot.index > ended.index, "BootNotificationRequest",
          "the reboot after the transaction ended", "before")


@pytest.mark.case("TC_B_22_CS")
async def test_TC_B_22_CS(h: Harness) -> None:
    """Reset with an ongoing transaction, Immediate: (EnergyTransferStarted) Reset Immediate
    without evseId: Accepted; TransactionEvent Ended with triggerReason ResetCommand and
    stoppedReason ImmediateReset; the station reboots: BootNotification reason
    RemoteReset."""
    tx = await _ongoing_transaction(h)
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "Immediate"}, step="ResetRequest")
    check(answer.get("status") == "Accepted", "ResetResponse", "Accepted", answer)
    ended = await h.csms.receive("TransactionEvent", step="TransactionEventRequest Ended",
                                 where=lambda p: p.get("eventType") == "Ended",
                                 expected="TransactionEvent Ended")
    info = ended.payload.get("transactionInfo", {})
    check(info.get("transactionId") == tx and ended.payload.get("triggerReason") ==
          "ResetCommand" and info.get("stoppedReason") == "ImmediateReset",
          "TransactionEventRequest", f"transaction {tx} Ended, triggerReason ResetCommand, "
          "stoppedReason ImmediateReset", ended.payload)
    await rebooted_remotely(h, before, step="after reset")


@pytest.mark.case("TC_B_23_CS")
async def test_TC_B_23_CS(h: Harness) -> None:
    """Reset, Unavailable persists: (the charging station made Inoperative, every connector
    Unavailable) Reset OnIdle Accepted; after the reboot (BootNotification reason
    RemoteReset) every connector is reported Unavailable, none Available."""
    await h.booted()
    made = await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative"},
                             step="make Inoperative")
    check(made.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", made)
    await h.all_statuses("Unavailable", step="Unavailable")
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "OnIdle"}, step="ResetRequest")
    check(answer.get("status") == "Accepted", "ResetResponse", "Accepted", answer)
    boot = await rebooted_remotely(h, before, step="after reset")
    await h.all_statuses("Unavailable", step="StatusNotificationRequest after reset")
    available = [r for r in h.csms.received("StatusNotification",
                                            lambda p: p.get("connectorStatus") == "Available")
                 if r.connection == boot.connection]
    check(not available, "StatusNotificationRequest after reset", "no connector Available",
          [r.payload for r in available])


# -- boot not accepted at once ------------------------------------------------------------------


async def _boot_answered(h: Harness, status: str) -> None:
    """Cold boot answered ``status`` with the SUT file's boot interval: until its next
    BootNotification (not before the interval, answered Accepted) the station sends nothing
    else; then a StatusNotification for every connector."""
    csms, interval = h.csms, h.sut.intervals.boot_retry_s
    csms.answer_next("BootNotification", {"status": status, "currentTime": now_iso(),
                                          "interval": interval})
    await h.fresh(step="power cycle")
    first = await csms.receive("BootNotification", step=f"BootNotification ({status})",
                               timeout_s=h.connect_s)
    second = await csms.receive("BootNotification", step="BootNotification after interval",
                                timeout_s=interval + h.wait_s)
    gap = second.at - first.at
    check(gap >= interval - EARLY_SLACK_S, "BootNotification after interval",
          f"the next BootNotification not before {interval} s", f"after {gap:.2f} s")
    check(second.answer is not None and second.answer["status"] == "Accepted",
          "BootNotificationResponse", "Accepted", second.answer)
    between = [r.action for r in csms.inbox
               if r.connection >= first.connection and first.index < r.index < second.index]
    check(not between, f"while {status}", "no message but BootNotification", between)
    await h.all_statuses("Available", step="StatusNotificationRequest")


@pytest.mark.case("TC_B_02_CS")
async def test_TC_B_02_CS(h: Harness) -> None:
    """Cold boot, Pending: BootNotification answered Pending with an interval; the station
    sends no other message while pending; its next BootNotification comes not before the
    interval and is answered Accepted; then a StatusNotification Available for every
    connector."""
    await _boot_answered(h, "Pending")


@pytest.mark.case("TC_B_03_CS")
async def test_TC_B_03_CS(h: Harness) -> None:
    """Cold boot, Rejected: BootNotification answered Rejected with an interval; the station
    sends nothing until the interval has passed; its next BootNotification is answered
    Accepted; then a StatusNotification Available for every connector."""
    await _boot_answered(h, "Rejected")


# -- status changes while offline ---------------------------------------------------------------

OFFLINE_S = 2.0  # how long the network is down


async def _status_change_offline(h: Harness, offline_threshold_s: int) -> int:
    """(Booted, OfflineThreshold set) the network is down for OFFLINE_S and a cable is
    plugged into EVSE 1 meanwhile; the station connects again (no reboot): its
    StatusNotification Occupied for EVSE 1. The new connection's number."""
    await h.booted()
    await h.set_variable201("OCPPCommCtrlr", "OfflineThreshold", str(offline_threshold_s),
                            step="set-up: OfflineThreshold")
    before = len(h.csms.connections)
    await h.act("network_down", step="connection loss", seconds=OFFLINE_S)
    await h.act("plug_in", step="plug in while offline", evse=1)
    number = await h.csms.new_connection(before, OFFLINE_S + h.connect_s,
                                         step="the station reconnects")
    await h.status(1, "Occupied", step="StatusNotificationRequest EVSE 1 (changed)")
    return number


@pytest.mark.case("TC_B_51_CS")
async def test_TC_B_51_CS(h: Harness) -> None:
    """Status change during an offline period longer than OfflineThreshold: (OfflineThreshold
    1 s) offline for 2 s, EVSE 1 plugged in meanwhile; after reconnecting the station sends a
    StatusNotification for every connector (EVSE 1 Occupied), not a BootNotification."""
    number = await _status_change_offline(h, offline_threshold_s=1)
    for evse in range(2, h.evses + 1):
        await h.csms.receive("StatusNotification", step=f"StatusNotificationRequest EVSE {evse}",
                             where=lambda p, e=evse: p.get("evseId") == e,
                             expected=f"a StatusNotification for EVSE {evse} (unchanged)")
    boots = [r for r in h.csms.received("BootNotification") if r.connection >= number]
    check(not boots, "after reconnecting", "no BootNotification (no reboot)",
          [r.payload for r in boots])


@pytest.mark.case("TC_B_52_CS")
async def test_TC_B_52_CS(h: Harness) -> None:
    """Status change during an offline period shorter than OfflineThreshold: (OfflineThreshold
    = offline period + 60 s) offline for 2 s, EVSE 1 plugged in meanwhile; after reconnecting
    the station sends StatusNotification Occupied for EVSE 1 and none for the connectors
    that did not change."""
    await _status_change_offline(h, offline_threshold_s=int(OFFLINE_S) + 60)
    await h.csms.nothing("StatusNotification", step="no StatusNotification for the others",
                         within_s=1.0, where=lambda p: p.get("evseId") != 1,
                         expected="no status of an unchanged connector")
