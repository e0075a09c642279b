"""Negative controls of 2.0.1 blocks L (Firmware Management), N (Diagnostics) and O (Display
Message).

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from typing import Any

from tests.conformance.controls.kit import plus, set, twice
from tests.conformance.faulty_csms import Faults

Payload = dict[str, Any]


def without(*path: str) -> Any:
    """The CSMS's CALL without the field at ``path``."""
    def rewrite(payload: Payload) -> Payload:
        changed = {**payload}
        node = changed
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                return changed
            node[key] = {**node[key]}
            node = node[key]
        node.pop(path[-1], None)
        return changed
    return rewrite


def in_firmware(**values: Any) -> Any:
    return lambda payload: {**payload, "firmware": {**payload.get("firmware", {}), **values}}


def bad_answer_when(action: str, **request: Any) -> Faults:
    """The CSMS answers ``action`` with a schema-invalid response when the station's request has
    the given field values (any request of the action: none given)."""
    def rewrite(sent: Payload, answer: Payload) -> Payload:
        if all(sent.get(k) == v for k, v in request.items()):
            return {**answer, "unexpectedField": "from the faulty CSMS"}
        return answer
    return Faults(answers_to={action: rewrite})


def in_message(**values: Any) -> Any:
    """SetDisplayMessage's message with ``values`` (None: without the field)."""
    def rewrite(payload: Payload) -> Payload:
        message = {**payload.get("message", {}), **values}
        return {**payload, "message": {k: v for k, v in message.items() if v is not None}}
    return rewrite


def nth(n: int, rewrite: Any) -> Any:
    """``rewrite`` only the ``n``-th CALL of the action (from 1) the proxy sees."""
    seen = [0]

    def maybe(payload: Payload) -> Payload:
        seen[0] += 1
        return rewrite(payload) if seen[0] == n else payload
    return maybe


POWER = {"component": {"name": "ChargingStation"}, "variable": {"name": "Power"}}


def local_list_with_info(payload: Payload) -> Payload:
    """A differential SendLocalList whose entries carry an idTokenInfo (an update, not a
    removal)."""
    if payload.get("updateType") != "Differential":
        return payload
    return {**payload, "localAuthorizationList": [
        {**e, "idTokenInfo": {"status": "Accepted"}}
        for e in payload.get("localAuthorizationList", [])]}


def monitoring_report(rewrite: Any) -> Faults:
    return Faults(calls={"GetMonitoringReport": rewrite})


def display(rewrite: Any) -> Faults:
    return Faults(calls={"SetDisplayMessage": rewrite})


def get_messages(rewrite: Any) -> Faults:
    return Faults(calls={"GetDisplayMessages": rewrite})


CONTROLS_201: dict[str, Faults] = {
    # block L
    "TC_L_01_CSMS": Faults(calls={"UpdateFirmware": without("firmware", "signingCertificate")}),
    "TC_L_02_CSMS": Faults(calls={"UpdateFirmware": without("firmware", "installDateTime")}),
    "TC_L_03_CSMS": Faults(calls={"UpdateFirmware": in_firmware(
        retrieveDateTime="2020-01-01T00:00:00.000Z")}),
    "TC_L_04_CSMS": Faults(calls={"UpdateFirmware": without("firmware", "signature")}),
    "TC_L_05_CSMS": bad_answer_when("SecurityEventNotification",
                                    type="InvalidFirmwareSigningCertificate"),
    "TC_L_06_CSMS": bad_answer_when("FirmwareStatusNotification", status="InvalidSignature"),
    "TC_L_07_CSMS": bad_answer_when("FirmwareStatusNotification", status="DownloadFailed"),
    "TC_L_08_CSMS": bad_answer_when("FirmwareStatusNotification",
                                    status="InstallVerificationFailed"),
    "TC_L_09_CSMS": bad_answer_when("FirmwareStatusNotification", status="InstallationFailed"),
    "TC_L_10_CSMS": Faults(calls={"UpdateFirmware": set(requestId=1)}),
    "TC_L_11_CSMS": Faults(calls={"UpdateFirmware": set(requestId=1)}),
    "TC_L_13_CSMS": bad_answer_when("FirmwareStatusNotification", status="InstallScheduled"),
    # block N
    "TC_N_25_CSMS": Faults(calls={"GetLog": set(logType="SecurityLog")}),
    "TC_N_34_CSMS": Faults(calls={"GetLog": set(logType="SecurityLog")}),
    "TC_N_35_CSMS": Faults(calls={"GetLog": set(logType="DiagnosticsLog")}),
    "TC_N_36_CSMS": Faults(calls={"GetLog": set(requestId=1)}),
    "TC_N_27_CSMS": Faults(calls={"CustomerInformation": set(clear=True)}),
    "TC_N_28_CSMS": Faults(calls={"CustomerInformation": set(report=False)}),
    "TC_N_29_CSMS": Faults(calls={"CustomerInformation": set(
        customerIdentifier="CONF-CUSTOMER")}),
    "TC_N_30_CSMS": Faults(calls={"CustomerInformation": set(clear=False)}),
    "TC_N_31_CSMS": Faults(calls={"CustomerInformation": set(report=False)}),
    "TC_N_32_CSMS": Faults(calls={"CustomerInformation": set(report=True)}),
    "TC_N_01_CSMS": monitoring_report(set(componentVariable=[POWER])),
    "TC_N_02_CSMS": monitoring_report(set(monitoringCriteria=["DeltaMonitoring"])),
    "TC_N_03_CSMS": monitoring_report(without("monitoringCriteria")),
    "TC_N_60_CSMS": monitoring_report(lambda p: {
        **p, "componentVariable": p.get("componentVariable", [])[:1]}),
    "TC_N_47_CSMS": monitoring_report(set(monitoringCriteria=["ThresholdMonitoring"])),
    "TC_N_05_CSMS": Faults(calls={"SetMonitoringBase": set(monitoringBase="All")}),
    "TC_N_16_CSMS": Faults(calls={"SetMonitoringLevel": set(severity=9)}),
    "TC_N_08_CSMS": Faults(calls={"SetVariableMonitoring": twice("setMonitoringData")}),
    "TC_N_09_CSMS": Faults(calls={"SetVariableMonitoring": lambda p: {
        **p, "setMonitoringData": [{**d, "component": p["setMonitoringData"][0]["component"],
                                    "variable": p["setMonitoringData"][0]["variable"]}
                                   for d in p["setMonitoringData"]]}}),
    "TC_N_24_CSMS": Faults(calls={"SetVariableMonitoring": lambda p: {
        **p, "setMonitoringData": [{**d, "type": "UpperThreshold"}
                                   for d in p["setMonitoringData"]]}}),
    "TC_N_44_CSMS": Faults(calls={"ClearVariableMonitoring": set(id=[2])}),
    "TC_N_46_CSMS": Faults(calls={"SendLocalList": local_list_with_info}),
    # block O
    "TC_O_01_CSMS": display(in_message(message={"format": "UTF8", "content": "other text"})),
    "TC_O_12_CSMS": display(nth(2, in_message(id=2))),
    "TC_O_13_CSMS": display(in_message(startDateTime="2020-01-01T00:00:00.000Z")),
    "TC_O_14_CSMS": display(in_message(endDateTime=None)),
    "TC_O_17_CSMS": display(in_message(priority="NormalCycle")),
    "TC_O_18_CSMS": display(in_message(state=None)),
    "TC_O_19_CSMS": display(in_message(message={"format": "UTF8", "content": "plain"})),
    "TC_O_26_CSMS": display(in_message(id=7)),
    "TC_O_06_CSMS": display(in_message(transactionId="CONF-TX-OTHER")),
    "TC_O_27_CSMS": display(in_message(startDateTime=None)),
    "TC_O_28_CSMS": display(in_message(endDateTime="2020-01-01T00:00:00.000Z")),
    "TC_O_10_CSMS": display(in_message(transactionId=None)),
    "TC_O_02_CSMS": get_messages(set(priority="NormalCycle")),
    "TC_O_03_CSMS": get_messages(set(state="Idle")),
    "TC_O_07_CSMS": get_messages(without("id")),
    "TC_O_08_CSMS": get_messages(set(priority="AlwaysFront")),
    "TC_O_09_CSMS": get_messages(set(state="Charging")),
    "TC_O_11_CSMS": get_messages(without("state")),
    "TC_O_04_CSMS": Faults(calls={"ClearDisplayMessage": plus("id", 1)}),
    "TC_O_05_CSMS": Faults(calls={"ClearDisplayMessage": plus("id", 1)}),
}

REFERENCE_FAILS_201: dict[str, str] = {}
