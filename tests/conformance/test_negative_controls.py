"""Every conformance case fails against a CSMS that breaks the rule it checks.

Each entry of ``tests/conformance/controls`` is a deliberately faulty CSMS (the reference CSMS
behind a proxy that breaks one rule) for one case. The suite runs in a subprocess, as a vendor
would run it, each case's connections going to the CSMS that breaks its own rule, and every
case must end ``failed``. A proxy that breaks nothing is the control: there every case passes,
so it is the broken rule, not the proxy, that fails them.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import replace

import pytest

from chargeloop.ocppj.transport.tls import TestPki
from conformance.reference import reference_csms
from conformance.sut import Sut, SutStation, TlsSettings
from tests.conformance import faulty_tls
from tests.conformance.conftest import SuiteRun, run_suite, sut_yaml
from tests.conformance.controls import all_controls, known_reference_failures
from tests.conformance.faulty_csms import Faults, FaultyCsms

# Each fixture runs the whole suite twice (through the faithful and the faulty proxy).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


BROKEN = all_controls()
KNOWN = known_reference_failures()


def _passwords(sut: Sut) -> dict[str, str]:
    return {s.id: s.password for s in sut.stations if s.password}


@pytest.fixture(scope="module")
def faithful_runs(tmp_path_factory: pytest.TempPathFactory
                  ) -> dict[str, SuiteRun]:
    """The whole suite per version through a proxy that breaks nothing; the TLS cases meet
    the reference CSMS's own TLS endpoints."""
    runs = {}
    # Both runs' reference CSMSs know the first station by the same password, so the TLS
    # instances started with the first serve the second run too (they cost a start-up each).
    sut = Sut(stations=(SutStation(Sut().stations[0].id, password=secrets.token_urlsafe(18)),))
    tls: TlsSettings | None = None
    with contextlib.ExitStack() as stack:
        for version in BROKEN:  # a CSMS of its own per run: cases change passwords and state
            # the suite runs in a subprocess: the TLS instances must be up before it starts
            csms = stack.enter_context(reference_csms(sut, tmp_path_factory.mktemp("csms"),
                                                      tls=tls is None, lazy_tls=False))
            tls = tls or csms.tls
            with FaultyCsms(csms.url or "", {}, _passwords(csms)).running() as proxy:
                runs[version] = run_suite(tmp_path_factory.mktemp("faithful"),
                                          sut_yaml(csms, proxy.url, version, tls))
    return runs


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory: pytest.TempPathFactory
                ) -> dict[str, SuiteRun]:
    """The whole suite per version, each case against the CSMS that breaks its rule."""
    runs = {}
    for version, faults in BROKEN.items():
        # no TLS instances: the TLS cases meet faulty TLS endpoints (faulty_tls.py) in front
        # of the plain one
        with reference_csms(Sut(), tmp_path_factory.mktemp("csms"), tls=False) as csms:
            passwords = _passwords(csms)  # shared: each proxy signs in with the current one
            with FaultyCsms(csms.url or "", faults, passwords).running() as proxy, \
                    _faulty_tls(csms, faults, passwords, version, tmp_path_factory) as tls:
                runs[version] = run_suite(tmp_path_factory.mktemp("broken"),
                                          sut_yaml(csms, proxy.url, version, tls))
    return runs


@contextlib.contextmanager
def _faulty_tls(csms: Sut, faults: dict[str, Faults], passwords: dict[str, str],
                version: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[TlsSettings]:
    """The broken run's profile 2 and profile 3 endpoints, each with its TLS fault."""
    pki = TestPki()
    material = faulty_tls.station_material(pki, csms.stations[0].id,
                                           tmp_path_factory.mktemp("pki"))
    profile_2 = (faulty_tls.foreign_certificate() if version == "1.6"
                 else faulty_tls.expired_and_old_versions(pki))
    with FaultyCsms(csms.url or "", faults, passwords,
                    ssl_context=profile_2).running() as secured, \
            FaultyCsms(csms.url or "", faults, passwords,
                       ssl_context=faulty_tls.no_client_certificate(pki)).running() as mutual:
        yield replace(material, profile_2_url=secured.url, profile_3_url=mutual.url)


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
