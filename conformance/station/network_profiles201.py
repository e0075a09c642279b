"""OCPP 2.0.1 network-profile steps the station cases share (block B): read OCPPCommCtrlr, set a
connection profile in a free slot and move the station to it."""

from __future__ import annotations

from typing import Any

from conformance.station.harness import Harness, check

MESSAGE_TIMEOUT_S = 30


async def comm_variable(h: Harness, variable: str, *, step: str) -> str:
    """OCPPCommCtrlr.``variable``, which the station must report."""
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": variable}}]}, step=step)
    results = answer.get("getVariableResult", [])
    check(len(results) == 1 and results[0].get("attributeStatus") == "Accepted", step,
          f"OCPPCommCtrlr.{variable} Accepted", answer)
    return str(results[0].get("attributeValue", ""))


async def configured_slots(h: Harness) -> list[int]:
    """The slots of NetworkConfigurationPriority, in order (the configured profile first)."""
    value = await comm_variable(h, "NetworkConfigurationPriority",
                                step="GetVariables NetworkConfigurationPriority")
    slots = [int(s) for s in value.split(",") if s.strip().isdigit()]
    check(bool(slots), "GetVariablesResponse", "NetworkConfigurationPriority: slot numbers",
          value)
    return slots


def connection_data(url: str, security_profile: int) -> dict[str, Any]:
    return {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url,
            "messageTimeout": MESSAGE_TIMEOUT_S, "securityProfile": security_profile,
            "ocppInterface": "Wired0"}


async def set_network_profile(h: Harness, slot: int, url: str, security_profile: int, *,
                              step: str) -> dict[str, Any]:
    return await h.csms.call("SetNetworkProfile", {
        "configurationSlot": slot,
        "connectionData": connection_data(url, security_profile)}, step=step)


async def migrate_to(h: Harness, url: str, security_profile: int | None = None
                     ) -> tuple[int, list[int]]:
    """Steps 1-6 of the migration cases: SetNetworkProfile (a free slot, ``url``,
    ``security_profile``, default the current one) Accepted, NetworkConfigurationPriority with
    the new slot first Accepted (or RebootRequired), Reset OnIdle Accepted. The new slot and
    the old priority list."""
    slots = await configured_slots(h)
    new = max(slots) + 1
    step = "SetNetworkProfileRequest"
    wanted = h.sut.security_profile if security_profile is None else security_profile
    answer = await set_network_profile(h, new, url, wanted, step=step)
    check(answer.get("status") == "Accepted", "SetNetworkProfileResponse", "Accepted", answer)
    priority = ",".join(str(s) for s in (new, *slots))
    step = "SetVariablesRequest NetworkConfigurationPriority"
    answer = await h.csms.call("SetVariables", {"setVariableData": [{
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"},
        "attributeValue": priority}]}, step=step)
    results = answer.get("setVariableResult", [])
    check(len(results) == 1 and results[0].get("attributeStatus") in
          ("Accepted", "RebootRequired"), "SetVariablesResponse",
          f"NetworkConfigurationPriority = {priority} Accepted or RebootRequired", answer)
    answer = await h.csms.call("Reset", {"type": "OnIdle"}, step="ResetRequest")
    check(answer.get("status") == "Accepted", "ResetResponse", "Accepted", answer)
    return new, slots
