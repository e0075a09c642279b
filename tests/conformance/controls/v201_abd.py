"""Negative controls of the 2.0.1 cases of blocks A (more security), B (more provisioning) and
D (local authorization list).

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from typing import Any

from tests.conformance.controls.kit import generic_errors, set
from tests.conformance.faulty_csms import Faults


def _entries(with_info: bool) -> Any:
    """SendLocalList entries all with (an update) or all without (a removal) idTokenInfo."""
    def rewrite(payload: dict[str, Any]) -> dict[str, Any]:
        entries = []
        for entry in payload.get("localAuthorizationList") or []:
            entry = {k: v for k, v in entry.items() if k != "idTokenInfo"}
            if with_info:
                entry["idTokenInfo"] = {"status": "Accepted"}
            entries.append(entry)
        return {**payload, "localAuthorizationList": entries}
    return rewrite


def _first_only(key: str) -> Any:
    return lambda payload: {**payload, key: payload[key][:1]}


def _without(key: str) -> Any:
    return lambda payload: {k: v for k, v in payload.items() if k != key}


def _password_answer(status: str) -> Faults:
    """The CSMS takes the station's answer to its password change as ``status``."""
    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        return {**answer, "setVariableResult": [
            {**r, "attributeStatus": status} for r in answer.get("setVariableResult", [])]}
    return Faults(station_answers={"SetVariables": rewrite})


def _connection(**values: Any) -> Any:
    return lambda payload: {**payload, "connectionData": {**payload["connectionData"],
                                                          **values}}


def _issuer_only(payload: dict[str, Any]) -> dict[str, Any]:
    """CertificateSigned with the chain's last certificate (the CA's) instead of the chain."""
    marker = "-----BEGIN CERTIFICATE-----"
    blocks = payload["certificateChain"].split(marker)
    return {**payload, "certificateChain": marker + blocks[-1]}


CONTROLS_201: dict[str, Faults] = {
    "TC_A_11_CSMS": Faults(calls={"CertificateSigned": _issuer_only}),
    # keeps the old password although the station accepted the new one
    "TC_A_09_CSMS": _password_answer("Rejected"),
    # takes the new password although the station rejected it
    "TC_A_10_CSMS": _password_answer("Accepted"),
    "TC_B_07_CSMS": Faults(calls={"GetVariables": _first_only("getVariableData")}),
    "TC_B_10_CSMS": Faults(calls={"SetVariables": _first_only("setVariableData")}),
    "TC_B_12_CSMS": Faults(calls={"GetBaseReport": set(reportBase="FullInventory")}),
    "TC_B_13_CSMS": Faults(calls={"GetBaseReport": set(reportBase="ConfigurationInventory")}),
    "TC_B_21_CSMS": Faults(calls={"Reset": set(type="Immediate")}),
    "TC_B_22_CSMS": Faults(calls={"Reset": set(type="OnIdle")}),
    "TC_B_25_CSMS": Faults(calls={"Reset": _without("evseId")}),
    "TC_B_26_CSMS": Faults(calls={"Reset": set(type="Immediate")}),
    "TC_B_27_CSMS": Faults(calls={"Reset": set(type="OnIdle")}),
    # answers a message before acceptance with another error than SecurityError
    "TC_B_30_CSMS": generic_errors(),
    # refuses the StatusNotification it asked for while the boot is pending
    "TC_B_31_CSMS": Faults(fail_calls={"StatusNotification": lambda payload: True}),
    "TC_B_42_CSMS": Faults(calls={"SetNetworkProfile": _connection(ocppVersion="OCPP16")}),
    "TC_B_44_CSMS": Faults(calls={"SetNetworkProfile": _connection(ocppTransport="SOAP")}),
    "TC_D_01_CSMS": Faults(calls={"SendLocalList": set(updateType="Differential")}),
    "TC_D_02_CSMS": Faults(calls={"SendLocalList": _entries(with_info=False)}),
    "TC_D_03_CSMS": Faults(calls={"SendLocalList": _entries(with_info=True)}),
    "TC_D_04_CSMS": Faults(calls={"SendLocalList": set(localAuthorizationList=[
        {"idToken": {"idToken": "SOMEONE", "type": "ISO14443"},
         "idTokenInfo": {"status": "Accepted"}}])}),
    "TC_D_08_CSMS": Faults(drop_calls=frozenset({"GetLocalListVersion"})),
    "TC_D_09_CSMS": Faults(drop_calls=frozenset({"GetLocalListVersion"})),
}

# case id -> what the reference CSMS does wrong (not fixed yet)
REFERENCE_FAILS_201: dict[str, str] = {}
