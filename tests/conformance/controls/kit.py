"""Building blocks for faulty CSMSs: rewrites of payloads and ready-made ``Faults``."""

from __future__ import annotations

from typing import Any

from tests.conformance.faulty_csms import Faults


def set(**values: Any) -> Any:
    return lambda payload: {**payload, **values}


def token_status(key: str, status: str) -> Any:
    def rewrite(payload: dict[str, Any]) -> dict[str, Any]:
        if key in payload:
            return {**payload, key: {**payload[key], "status": status}}
        return payload
    return rewrite


def twice(key: str) -> Any:
    return lambda payload: {**payload, key: payload[key] * 2}


def plus(key: str, delta: int) -> Any:
    return lambda payload: {**payload, key: payload[key] + delta}


def on_trigger(reason: str, status: str) -> Faults:
    """TransactionEvents with ``reason`` get their idTokenInfo.status rewritten."""
    def rewrite(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request.get("triggerReason") == reason:
            return token_status("idTokenInfo", status)(answer)
        return answer
    return Faults(answers_to={"TransactionEvent": rewrite})


def availability(**changes: Any) -> Faults:
    def rewrite(payload: dict[str, Any]) -> dict[str, Any]:
        changed = {**payload}
        for key, value in changes.items():
            if key == "evse.connectorId" and "evse" in changed:
                changed["evse"] = {k: v for k, v in changed["evse"].items()
                                   if k != "connectorId"}
            elif value is None:
                changed.pop(key, None)
            else:
                changed[key] = value
        return changed
    return Faults(calls={"ChangeAvailability": rewrite})


FLIP = {"Operative": "Inoperative", "Inoperative": "Operative"}


def flip_status() -> Faults:
    return Faults(calls={"ChangeAvailability": lambda p: {
        **p, "operationalStatus": FLIP[p["operationalStatus"]]}})


ACCEPT_ANY_TAG = Faults(answers={"Authorize": token_status("idTagInfo", "Accepted")})
START_REFUSED = Faults(answers={"StartTransaction": token_status("idTagInfo", "Invalid")})
REMOTE_START_OTHER_TAG = Faults(calls={"RemoteStartTransaction": set(idTag="SOMEONE-ELSE")})

def generic_errors() -> Faults:
    return Faults(error_code=lambda code: "GenericError")


def crash(when: Any) -> Faults:
    return Faults(crash_on=when)
