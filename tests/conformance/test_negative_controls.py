"""Every conformance case fails against a CSMS that breaks the rule it checks.

Each entry below is a deliberately faulty CSMS (the reference CSMS behind a proxy that breaks
one rule) for one case; the suite runs in a subprocess, as a vendor would run it, each case's
connections going to the CSMS that breaks its own rule, and every case must end ``failed``. A
proxy that breaks nothing is the control: there every case passes, so it is the broken rule,
not the proxy, that fails them.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.sut import Sut
from tests.conformance.conftest import SuiteRun, run_suite, sut_yaml
from tests.conformance.faulty_csms import Faults, FaultyCsms

pytestmark = pytest.mark.slow


def _set(**values: Any) -> Any:
    return lambda payload: {**payload, **values}


def _token_status(key: str, status: str) -> Any:
    def rewrite(payload: dict[str, Any]) -> dict[str, Any]:
        if key in payload:
            return {**payload, key: {**payload[key], "status": status}}
        return payload
    return rewrite


def _twice(key: str) -> Any:
    return lambda payload: {**payload, key: payload[key] * 2}


def _plus(key: str, delta: int) -> Any:
    return lambda payload: {**payload, key: payload[key] + delta}


def _on_trigger(reason: str, status: str) -> Faults:
    """TransactionEvents with ``reason`` get their idTokenInfo.status rewritten."""
    def rewrite(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if request.get("triggerReason") == reason:
            return _token_status("idTokenInfo", status)(answer)
        return answer
    return Faults(answers_to={"TransactionEvent": rewrite})


def _availability(**changes: Any) -> Faults:
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


_FLIP = {"Operative": "Inoperative", "Inoperative": "Operative"}


def _flip_status() -> Faults:
    return Faults(calls={"ChangeAvailability": lambda p: {
        **p, "operationalStatus": _FLIP[p["operationalStatus"]]}})


_ACCEPT_ANY_TAG = Faults(answers={"Authorize": _token_status("idTagInfo", "Accepted")})
_START_REFUSED = Faults(answers={"StartTransaction": _token_status("idTagInfo", "Invalid")})
_REMOTE_START_OTHER_TAG = Faults(calls={"RemoteStartTransaction": _set(idTag="SOMEONE-ELSE")})

# case id -> the CSMS that breaks what the case checks
BROKEN_16: dict[str, Faults] = {
    "TC_001_CSMS": Faults(answers={"BootNotification": _set(status="Rejected")}),
    "TC_003_CSMS": _START_REFUSED,
    "TC_004_1_CSMS": _START_REFUSED,
    "TC_004_2_CSMS": Faults(answers={"Authorize": _token_status("idTagInfo", "Invalid")}),
    "TC_010_CSMS": _REMOTE_START_OTHER_TAG,
    "TC_011_1_CSMS": _START_REFUSED,
    "TC_011_2_CSMS": _REMOTE_START_OTHER_TAG,
    "TC_012_CSMS": Faults(calls={"RemoteStopTransaction": _plus("transactionId", 1000)}),
    "TC_013_CSMS": Faults(calls={"Reset": _set(type="Soft")}),
    "TC_014_CSMS": Faults(calls={"Reset": _set(type="Hard")}),
    "TC_017_1_CSMS": Faults(calls={"UnlockConnector": _set(connectorId=2)}),
    "TC_019_1_CSMS": Faults(calls={"GetConfiguration": _set(key=["HeartbeatInterval"])}),
    "TC_019_2_CSMS": Faults(calls={"GetConfiguration": _set(key=["HeartbeatInterval",
                                                                 "ConnectionTimeOut"])}),
    "TC_021_CSMS": Faults(calls={"ChangeConfiguration": _set(value="61")}),
    "TC_023_1_CSMS": _ACCEPT_ANY_TAG,
    "TC_023_2_CSMS": _ACCEPT_ANY_TAG,
    "TC_023_3_CSMS": _ACCEPT_ANY_TAG,
    "TC_061_CSMS": Faults(drop_calls=frozenset({"ClearCache"})),
    "TC_064_CSMS": Faults(answers={"DataTransfer": _set(status="Maybe")}),
}

BROKEN_201: dict[str, Faults] = {
    "TC_A_01_CSMS": Faults(refuse_connections=True),
    "TC_A_02_CSMS": Faults(accept_any_credentials=True),
    "TC_A_03_CSMS": Faults(accept_any_credentials=True),
    "TC_B_01_CSMS": Faults(answers={"BootNotification": _set(status="Rejected")}),
    "TC_B_06_CSMS": Faults(calls={"GetVariables": _twice("getVariableData")}),
    "TC_B_09_CSMS": Faults(calls={"SetVariables": _twice("setVariableData")}),
    "TC_B_20_CSMS": Faults(calls={"Reset": _set(evseId=1)}),
    "TC_B_58_CSMS": Faults(select_subprotocol=lambda offered: offered[0]),
    "TC_C_02_CSMS": Faults(answers={"Authorize": _token_status("idTokenInfo", "Accepted")}),
    "TC_C_06_CSMS": Faults(answers={"Authorize": _token_status("idTokenInfo", "Accepted")}),
    "TC_C_07_CSMS": Faults(answers={"Authorize": _token_status("idTokenInfo", "Accepted")}),
    "TC_E_04_CSMS": Faults(answers={"TransactionEvent": _token_status("idTokenInfo",
                                                                       "Invalid")}),
    "TC_C_08_CSMS": _on_trigger("Authorized", "Invalid"),
    "TC_C_20_CSMS": _on_trigger("Authorized", "Accepted"),
    "TC_C_37_CSMS": Faults(drop_calls=frozenset({"ClearCache"})),
    "TC_C_38_CSMS": Faults(drop_calls=frozenset({"ClearCache"})),
    "TC_C_39_CSMS": Faults(answers={"Authorize": lambda p: {
        **p, "idTokenInfo": {k: v for k, v in p["idTokenInfo"].items()
                             if k != "groupIdToken"}}}),
    "TC_E_03_CSMS": _on_trigger("Authorized", "Invalid"),
    "TC_E_15_CSMS": _on_trigger("StopAuthorized", "Invalid"),
    "TC_E_16_CSMS": _on_trigger("Authorized", "Accepted"),
    "TC_E_21_CSMS": Faults(calls={"RequestStopTransaction": _set(transactionId="SOMETHING")}),
    "TC_G_03_CSMS": _flip_status(),
    "TC_G_04_CSMS": _flip_status(),
    "TC_G_05_CSMS": _availability(evse={"id": 1}),
    "TC_G_06_CSMS": _availability(evse={"id": 1}),
    "TC_G_07_CSMS": _availability(**{"evse.connectorId": None}),
    "TC_G_08_CSMS": _availability(**{"evse.connectorId": None}),
    "TC_G_11_CSMS": _availability(evse=None),
    "TC_G_14_CSMS": _flip_status(),
    "TC_G_17_CSMS": _availability(**{"evse.connectorId": None}),
}


def _passwords(sut: Sut) -> dict[str, str]:
    return {s.id: s.password for s in sut.stations if s.password}


def _generic_errors() -> Faults:
    return Faults(error_code=lambda code: "GenericError")


def _crash(when: Any) -> Faults:
    return Faults(crash_on=when)


ROBUSTNESS: dict[str, Faults] = {
    "ROB_01_CSMS": Faults(close_on=lambda frame: frame is None),
    "ROB_02_CSMS": Faults(close_on=lambda frame: frame is None),
    "ROB_03_CSMS": Faults(close_on=lambda frame: frame is None),
    "ROB_04_CSMS": _generic_errors(),
    "ROB_05_CSMS": Faults(close_on=lambda frame: bool(frame) and frame[0] == 7),
    "ROB_06_CSMS": _generic_errors(),
    "ROB_07_CSMS": _generic_errors(),
    "ROB_08_CSMS": _generic_errors(),
    "ROB_10_CSMS": _generic_errors(),
    "ROB_11_CSMS": _generic_errors(),
    "ROB_12_CSMS": _generic_errors(),
    "ROB_13_CSMS": _generic_errors(),
    "ROB_14_CSMS": Faults(drop_overlapping_calls=True),
    "ROB_15_CSMS": Faults(reply_to_stray_results=True),
    "ROB_16_CSMS": Faults(drop_repeated_ids=True),
    "ROB_17_CSMS": _crash(lambda raw, _: isinstance(raw, bytes)),
    "ROB_18_CSMS": _crash(lambda raw, _: len(raw) > 2**20),
    "ROB_19_CSMS": _crash(lambda _, frames: frames > 100),
}
BROKEN_16.update(ROBUSTNESS)
BROKEN_201.update(ROBUSTNESS)
BROKEN_201["ROB_09_CSMS"] = _generic_errors()

BROKEN = {"1.6": BROKEN_16, "2.0.1": BROKEN_201}


@pytest.fixture(scope="module")
def faithful_runs(reference: Sut, tmp_path_factory: pytest.TempPathFactory
                  ) -> dict[str, SuiteRun]:
    """The whole suite per version through a proxy that breaks nothing."""
    runs = {}
    with FaultyCsms(reference.url or "", {}, _passwords(reference)).running() as proxy:
        for version in BROKEN:
            runs[version] = run_suite(tmp_path_factory.mktemp("faithful"),
                                      sut_yaml(reference, proxy.url, version))
    return runs


@pytest.fixture(scope="module")
def broken_runs(reference: Sut, tmp_path_factory: pytest.TempPathFactory
                ) -> dict[str, SuiteRun]:
    """The whole suite per version, each case against the CSMS that breaks its rule."""
    runs = {}
    for version, faults in BROKEN.items():
        with FaultyCsms(reference.url or "", faults, _passwords(reference)).running() as proxy:
            runs[version] = run_suite(tmp_path_factory.mktemp("broken"),
                                      sut_yaml(reference, proxy.url, version))
    return runs


@pytest.mark.parametrize("version", sorted(BROKEN))
def test_every_implemented_case_passes_through_a_faithful_proxy_and_has_a_control(
        version: str, faithful_runs: dict[str, SuiteRun]) -> None:
    """The control: through a proxy that breaks nothing, every case passes; and every case the
    suite implements has its faulty CSMS below."""
    run = faithful_runs[version]
    ran = {c["case"] for c in run.summary["cases"] if c["verdict"] == "passed"}
    assert run.summary["failed"] == 0, run.output
    assert ran == set(BROKEN[version]), \
        f"cases without a negative control: {ran - set(BROKEN[version])}"


@pytest.mark.parametrize(("version", "case_id"), [
    (version, case_id) for version, cases in sorted(BROKEN.items()) for case_id in sorted(cases)])
def test_the_case_fails_against_a_csms_that_breaks_its_rule(
        version: str, case_id: str, broken_runs: dict[str, SuiteRun]) -> None:
    run = broken_runs[version]
    assert run.verdict(case_id) == "failed", run.output
