"""OCPP 2.0.1 network connection profiles (blocks A and B, Core, conditional), charging station
under test (Part 6 Edition 3, errata 2025-09): an upgrade to a TLS security profile refused
while the station holds no valid CSMS root certificate (A05.FR.02), and the fallback, once
every NetworkConfigurationPriority entry failed, to the profile of the last successful
connection (B10.FR.07).

The flows of test_v201_network_profiles.py are reused: the slots NetworkConfigurationPriority
lists, SetNetworkProfile, the migration steps 1-6 (SetNetworkProfile, the new slot first in
NetworkConfigurationPriority, Reset OnIdle).
"""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check
from conformance.station.listener import new_root_tls
from conformance.station.network_profiles201 import (
    comm_variable,
    configured_slots,
    migrate_to,
    set_network_profile,
)
from conformance.verdicts import not_applicable, not_run

pytestmark = pytest.mark.asyncio(loop_scope="session")

WAIT_MINIMUM_S = 1  # RetryBackOffWaitMinimum TC_B_49 configures (short: the suite's timers)
EARLY_SLACK_S = 0.2  # clock resolution between the station's timer and ours
UPGRADED_PROFILE = 2  # TC_A_20: the second slot's security profile (2 or 3)


async def _priority(h: Harness, value: str, *, step: str) -> dict[str, object]:
    """SetVariablesRequest OCPPCommCtrlr.NetworkConfigurationPriority = ``value``: its one
    setVariableResult."""
    answer = await h.csms.call("SetVariables", {"setVariableData": [{
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"},
        "attributeValue": value}]}, step=step)
    results = answer.get("setVariableResult", [])
    check(len(results) == 1, step, "one setVariableResult", answer)
    return dict(results[0])


async def _csms_roots(h: Harness) -> list[object]:
    """The CSMSRootCertificates the station reports installed (GetInstalledCertificateIds)."""
    answer = await h.csms.call("GetInstalledCertificateIds", {
        "certificateType": ["CSMSRootCertificate"]},
        step="before: GetInstalledCertificateIds CSMSRootCertificate")
    if answer.get("status") != "Accepted":
        return []
    return [c for c in answer.get("certificateHashDataChain", [])
            if c.get("certificateType") == "CSMSRootCertificate"]


@pytest.mark.case("TC_A_20_CS")
async def test_TC_A_20_CS(h: Harness) -> None:
    """Upgrade Charging Station Security Profile - No valid CSMSRootCertificate installed: (a
    station at security profile 1 without a CSMS root certificate, AQ-1; the harness starts
    a wss:// endpoint) before: SetVariablesRequest NetworkConfigurationPriority = the
    ActiveNetworkProfile slot only. SetNetworkProfileRequest (the other slot; ocppCsmsUrl
    the wss:// endpoint; securityProfile 2): Accepted or Rejected; SetVariablesRequest
    NetworkConfigurationPriority = that slot, the active one: Rejected (A05.FR.02: a TLS
    profile needs a valid CSMSRootCertificate)."""
    if h.sut.security_profile != 1:
        not_applicable(f"security profile 1 (C-61; the SUT file gives "
                       f"{h.sut.security_profile})")
    if not h.sut.claims("csms_root_removable"):
        not_applicable("csms_root_removable (AQ-1: a station without a CSMS root certificate)")
    await h.booted()
    if await _csms_roots(h):
        not_run("the station reports CSMSRootCertificates installed; the case needs it "
                "without a valid one (removed by other means than OCPP, AQ-1)")
    slots = await configured_slots(h)
    active = await comm_variable(h, "ActiveNetworkProfile",
                                 step="before: GetVariables ActiveNetworkProfile")
    check(active.isdigit(), "GetVariablesResponse", "ActiveNetworkProfile: a slot number",
          active)
    step = "before: SetVariables NetworkConfigurationPriority"
    result = await _priority(h, active, step=step)
    check(result.get("attributeStatus") in ("Accepted", "RebootRequired"), step,
          f"NetworkConfigurationPriority = {active} Accepted", result)
    others = [s for s in slots if s != int(active)]
    slot = others[0] if others else max(slots) + 1
    context, _root = new_root_tls()
    async with h.csms.second_endpoint(context) as url:
        answer = await set_network_profile(h, slot, url, UPGRADED_PROFILE,
                                           step="SetNetworkProfileRequest")
        check(answer.get("status") in ("Accepted", "Rejected"), "SetNetworkProfileResponse",
              "Accepted or Rejected", answer)
        result = await _priority(h, f"{slot},{active}",
                                 step="SetVariablesRequest NetworkConfigurationPriority")
        check(result.get("attributeStatus") == "Rejected", "SetVariablesResponse",
              f"NetworkConfigurationPriority = {slot},{active} Rejected (no valid "
              "CSMSRootCertificate for security profile 2)", result)


@pytest.mark.case("TC_B_49_CS")
async def test_TC_B_49_CS(h: Harness) -> None:
    """Migrate to new ConnectionProfile - Fallback after NetworkProfileConnectionAttempts per
    NetworkConfigurationPriority failed - Same CSMS Root: (C-47; OCPPCommCtrlr
    NetworkProfileConnectionAttempts 1, RetryBackOffRepeatTimes 0, RetryBackOffRandomRange 0,
    RetryBackOffWaitMinimum set, all Accepted) SetNetworkProfileRequest (a free slot;
    ocppCsmsUrl another address of the test system, which refuses every attempt; the same
    security profile): Accepted; NetworkConfigurationPriority with the new slot first:
    Accepted (or RebootRequired); ResetRequest OnIdle: Accepted. The station tries the new
    address, then the previous one, whose first attempt the harness refuses: every entry
    failed, so it falls back to the profile of its last successful connection (B10.FR.07):
    its next attempt goes to the previous address again (not to the new one), not before
    RetryBackOffWaitMinimum, and is let in: BootNotificationRequest and
    StatusNotificationRequest Available for every connector."""
    if not h.sut.claims("network_profile_fallback_to_last"):
        not_applicable("network_profile_fallback_to_last (C-47: reconnecting with the last "
                       "connected profile after every NetworkConfigurationPriority entry "
                       "failed)")
    await h.booted()
    await h.set_variables201(
        ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "1"),
        ("OCPPCommCtrlr", "RetryBackOffRepeatTimes", "0"),
        ("OCPPCommCtrlr", "RetryBackOffRandomRange", "0"),
        ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", str(WAIT_MINIMUM_S)),
        step="before: OCPPCommCtrlr reconnection settings")
    csms = h.csms
    async with csms.second_endpoint(refusing=True) as url:
        refused_before = len(csms.refused_at)
        tried_new_before = len(csms.second_refused_at)
        csms.refuse_next(1)  # the first attempt at the previous address after the reset
        before = len(csms.connections)
        await migrate_to(h, url)
        refused_at = await csms.refused_attempt(
            refused_before, 2 * h.connect_s + WAIT_MINIMUM_S,
            step="connection attempt with the previous profile (refused)")
        check(len(csms.second_refused_at) > tried_new_before, "after reset",
              f"a connection attempt at the new profile's address {url} first",
              "none came")
        number = await csms.new_connection(before, 2 * WAIT_MINIMUM_S + h.connect_s,
                                           step="reconnection with the last connected profile")
        connection = csms.connections[number]
        check(not connection.endpoint, "reconnection after every entry failed",
              f"the profile of the last successful connection ({csms.url})",
              connection.endpoint)
        tried_new = [t for t in csms.second_refused_at[tried_new_before:]
                     if refused_at < t < connection.opened]
        check(not tried_new, "reconnection after every entry failed",
              "no attempt at the new profile's address (B10.FR.07: fall back to the last "
              "connected profile)", f"{len(tried_new)} attempt(s) at {url}")
        gap = connection.opened - refused_at
        check(gap >= WAIT_MINIMUM_S - EARLY_SLACK_S, "reconnection after every entry failed",
              f"not before RetryBackOffWaitMinimum ({WAIT_MINIMUM_S} s)", f"after {gap:.2f} s")
        await csms.receive("BootNotification", step="BootNotificationRequest on the last "
                           "connected profile", timeout_s=h.connect_s)
        await h.all_statuses("Available", step="after fallback")
