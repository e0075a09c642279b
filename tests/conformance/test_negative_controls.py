"""Every conformance case fails against a CSMS that breaks the rule it checks.

Each entry of ``tests/conformance/controls`` is a deliberately faulty CSMS (the reference CSMS
behind a proxy that breaks one rule) for one case. The suite runs in a subprocess, as a vendor
would run it, each case's connections going to the CSMS that breaks its own rule, and every
case must end ``failed``. A proxy that breaks nothing is the control: there every case passes,
so it is the broken rule, not the proxy, that fails them.
"""

from __future__ import annotations

import pytest

from conformance.reference import reference_csms
from conformance.sut import Sut
from tests.conformance.conftest import SuiteRun, run_suite, sut_yaml
from tests.conformance.controls import all_controls, known_reference_failures
from tests.conformance.faulty_csms import FaultyCsms

# Each fixture runs the whole suite twice (through the faithful and the faulty proxy).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


BROKEN = all_controls()
KNOWN = known_reference_failures()


def _passwords(sut: Sut) -> dict[str, str]:
    return {s.id: s.password for s in sut.stations if s.password}


@pytest.fixture(scope="module")
def faithful_runs(tmp_path_factory: pytest.TempPathFactory
                  ) -> dict[str, SuiteRun]:
    """The whole suite per version through a proxy that breaks nothing."""
    runs = {}
    for version in BROKEN:  # a CSMS of its own per run: cases change passwords and state
        with reference_csms(Sut(), tmp_path_factory.mktemp("csms")) as csms, \
                FaultyCsms(csms.url or "", {}, _passwords(csms)).running() as proxy:
            runs[version] = run_suite(tmp_path_factory.mktemp("faithful"),
                                      sut_yaml(csms, proxy.url, version))
    return runs


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory: pytest.TempPathFactory
                ) -> dict[str, SuiteRun]:
    """The whole suite per version, each case against the CSMS that breaks its rule."""
    runs = {}
    for version, faults in BROKEN.items():
        with reference_csms(Sut(), tmp_path_factory.mktemp("csms")) as csms, \
                FaultyCsms(csms.url or "", faults, _passwords(csms)).running() as proxy:
            runs[version] = run_suite(tmp_path_factory.mktemp("broken"),
                                      sut_yaml(csms, proxy.url, version))
    return runs


@pytest.mark.parametrize("version", sorted(BROKEN))
def test_every_implemented_case_passes_through_a_faithful_proxy_and_has_a_control(
        version: str, faithful_runs: dict[str, SuiteRun]) -> None:
    """The control: through a proxy that breaks nothing, every case passes (but those that find
    a recorded fault of the reference CSMS); and every passing case has its faulty CSMS."""
    run = faithful_runs[version]
    ran = {c["case"] for c in run.summary["cases"] if c["verdict"] == "passed"}
    failed = {c["case"] for c in run.summary["cases"] if c["verdict"] == "failed"}
    assert failed == set(KNOWN[version]), run.output
    assert ran == set(BROKEN[version]), \
        f"cases without a negative control: {ran - set(BROKEN[version])}"


@pytest.mark.parametrize(("version", "case_id"), [
    (version, case_id) for version, cases in sorted(BROKEN.items()) for case_id in sorted(cases)])
def test_the_case_fails_against_a_csms_that_breaks_its_rule(
        version: str, case_id: str, broken_runs: dict[str, SuiteRun]) -> None:
    run = broken_runs[version]
    assert run.verdict(case_id) == "failed", run.output
