"""Every conformance case fails against a CSMS that breaks the rule it checks.

Each entry below is a deliberately faulty CSMS (the reference CSMS behind a proxy that breaks
one rule); the suite runs against it in a subprocess, as a vendor would run it, and the case
must end ``failed``. A pass-through proxy is the control: there every case passes, so it is the
broken rule, not the proxy, that fails them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.sut import Sut
from tests.conformance.conftest import run_suite, sut_yaml
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


# case id -> the CSMS that breaks what the case checks
BROKEN: dict[str, Faults] = {
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
}


def _passwords(sut: Sut) -> dict[str, str]:
    return {s.id: s.password for s in sut.stations if s.password}


def test_every_implemented_201_case_has_a_negative_control(reference_201: Sut,
                                                            tmp_path: Path) -> None:
    """The control: through a proxy that breaks nothing, every case passes; and every case the
    suite implements is in BROKEN."""
    with FaultyCsms(reference_201.url or "", Faults(), _passwords(reference_201)).running() \
            as proxy:
        run = run_suite(tmp_path, sut_yaml(reference_201, proxy.url))
    ran = {c["case"] for c in run.summary["cases"] if c["verdict"] != "not_implemented"}
    assert run.summary["failed"] == 0, run.output
    assert ran == set(BROKEN), f"cases without a negative control: {ran - set(BROKEN)}"


@pytest.mark.parametrize("case_id", sorted(BROKEN))
def test_the_case_fails_against_a_csms_that_breaks_its_rule(
        case_id: str, reference_201: Sut, tmp_path: Path) -> None:
    with FaultyCsms(reference_201.url or "", BROKEN[case_id],
                    _passwords(reference_201)).running() as proxy:
        run = run_suite(tmp_path, sut_yaml(reference_201, proxy.url), "-k", case_id)
    assert run.verdict(case_id) == "failed", run.output
    assert run.returncode == 1
