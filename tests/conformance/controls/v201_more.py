"""Negative controls of the remaining 2.0.1 cases of the required profiles: the master pass
(C_47..C_49), GroupId with the local list (C_40, C_43), E_17, G_20, K_70 and the block N
monitoring and alert cases, B_14 and B_18 (test_v201_master_pass.py,
test_v201_group_local_list.py, test_v201_transactions_deauthorized.py,
test_v201_connector_lock.py, test_v201_monitoring_alerts.py, test_v201_reports.py, TC_K_70 in
test_v201_smart_charging.py).

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.sut import SutTokens
from tests.conformance.controls.kit import set
from tests.conformance.faulty_csms import Faults

Payload = dict[str, Any]
TOKENS = SutTokens()  # the negative-control runs use the SUT file's defaults


def _in_group(group: str | None) -> Callable[[Payload], Payload]:
    """The answer's idTokenInfo with groupIdToken ``group`` (None: without one)."""
    def rewrite(answer: Payload) -> Payload:
        info = {k: v for k, v in answer.get("idTokenInfo", {}).items() if k != "groupIdToken"}
        if group is not None:
            info["groupIdToken"] = {"idToken": group, "type": "Central"}
        return {**answer, "idTokenInfo": info}
    return rewrite


def authorize_of(token: str, rewrite: Callable[[Payload], Payload]) -> Faults:
    """The AuthorizeResponse to ``token`` rewritten."""
    def answer(request: Payload, given: Payload) -> Payload:
        if request.get("idToken", {}).get("idToken") == token:
            return rewrite(given)
        return given
    return Faults(answers_to={"Authorize": answer})


def event_answer(reason: str, event_type: str, rewrite: Callable[[Payload], Payload]) -> Faults:
    """The TransactionEventResponse to the ``event_type`` event of ``reason`` rewritten."""
    def answer(request: Payload, given: Payload) -> Payload:
        if request.get("triggerReason") == reason and request.get("eventType") == event_type:
            return rewrite(given)
        return given
    return Faults(answers_to={"TransactionEvent": answer})


def refused(answer: Payload) -> Payload:
    return {**answer, "idTokenInfo": {**answer.get("idTokenInfo", {}), "status": "Invalid"}}


def blocked(answer: Payload) -> Payload:
    return {**answer, "idTokenInfo": {**answer.get("idTokenInfo", {}), "status": "Blocked"}}


def fails_event(wanted: Callable[[Payload], bool]) -> Faults:
    """A CSMS that cannot take a NotifyEventRequest with an eventData element ``wanted`` says
    yes to (answered CALLERROR InternalError)."""
    return Faults(fail_calls={"NotifyEvent": lambda p: any(
        wanted(e) for e in p.get("eventData", []))})


def same_profile_id(payload: Payload) -> Payload:
    """Every SetChargingProfile installs chargingProfile.id 1 (a second profile replaces the
    first)."""
    return {**payload, "chargingProfile": {**payload.get("chargingProfile", {}), "id": 1}}


def limit_misread(answer: Payload) -> Payload:
    """The station's GetVariables answer as a CSMS that misreads it: every value 10 (so
    ItemsPerMessageClearVariableMonitoring 10 instead of the station's 2)."""
    return {**answer, "getVariableResult": [
        {**r, "attributeValue": "10"} if "attributeValue" in r else r
        for r in answer.get("getVariableResult", [])]}


CONTROLS_201: dict[str, Faults] = {
    # C16 master pass: the master pass answered without its group, with another group, refused
    "TC_C_47_CSMS": authorize_of(TOKENS.master_pass, _in_group(None)),
    "TC_C_48_CSMS": authorize_of(TOKENS.master_pass, _in_group(TOKENS.group_id)),
    "TC_C_49_CSMS": authorize_of(TOKENS.master_pass, blocked),
    # C09 with the local list: the stop by the other token answered without the group
    "TC_C_40_CSMS": event_answer("StopAuthorized", "Ended", _in_group(None)),
    "TC_C_43_CSMS": authorize_of(TOKENS.valid_2, _in_group(None)),
    # E06: the EV side disconnect refused
    "TC_E_17_CSMS": event_answer("EVCommunicationLost", "Ended", refused),
    # G05: the lock failure not taken
    "TC_G_20_CSMS": fails_event(
        lambda e: e.get("component", {}).get("name") == "ConnectorPlugRetentionLock"),
    # K01: the second profile replaces the first instead of adding to it
    "TC_K_70_CSMS": Faults(calls={"SetChargingProfile": same_profile_id}),
    # B07, B08: another base report; the report asked without its component/variables
    "TC_B_14_CSMS": Faults(calls={"GetBaseReport": set(reportBase="FullInventory")}),
    "TC_B_18_CSMS": Faults(calls={"GetReport": lambda p: {
        k: v for k, v in p.items() if k != "componentVariable"}}),
    # N05: another severity than asked
    "TC_N_17_CSMS": Faults(calls={"SetMonitoringLevel": set(severity=9)}),
    # N06: the CSMS clears more ids at once than the station takes
    "TC_N_18_CSMS": Faults(station_answers={"GetVariables": limit_misread}),
    # N07: the alert event not taken
    "TC_N_48_CSMS": fails_event(lambda e: e.get("actualValue") == ""),
    "TC_N_49_CSMS": fails_event(lambda e: e.get("cleared") is True),
    "TC_N_50_CSMS": fails_event(lambda e: e.get("trigger") == "Periodic"),
}
