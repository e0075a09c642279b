"""OCPP 2.0.1 block M, certificate management (Core, M), charging station under test (Part 6
Edition 3, errata 2025-09): install CA certificates, retrieve their ids, delete them.

The certificates are made by the harness for the case (``root_certificate``: a self-signed EC
P-256 CA); their CertificateHashData is computed as OCPP defines it (SHA-256 of the issuer's
DER name and of the issuer's public key bits, the serial number in hex) and compared with what
the station reports.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check
from conformance.station.listener import (
    TestCertificate,
    certificate_hash_data,
    root_certificate,
    same_certificate,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CSMS_ROOT = "CSMSRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"
# GetCertificateIdUseEnumType
CERTIFICATE_ID_USES = ("V2GRootCertificate", "MORootCertificate", CSMS_ROOT,
                       "V2GCertificateChain", MANUFACTURER_ROOT)


async def _install(h: Harness, use: str, certificate: TestCertificate, *, step: str
                   ) -> dict[str, Any]:
    return await h.csms.call("InstallCertificate", {"certificateType": use,
                                                    "certificate": certificate.pem}, step=step)


async def _install_accepted(h: Harness, use: str, certificate: TestCertificate, *,
                            step: str) -> None:
    answer = await _install(h, use, certificate, step=step)
    check(answer.get("status") == "Accepted", f"{step} response", "Accepted", answer)


async def _installed_ids(h: Harness, uses: list[str] | None, *, step: str) -> dict[str, Any]:
    payload: dict[str, Any] = {} if uses is None else {"certificateType": uses}
    return await h.csms.call("GetInstalledCertificateIds", payload, step=step)


def _chain(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return list(answer.get("certificateHashDataChain") or [])


def _holds(answer: dict[str, Any], use: str, certificate: TestCertificate) -> bool:
    """The GetInstalledCertificateIds answer lists ``certificate`` as ``use``."""
    wanted = certificate_hash_data(certificate)
    return any(entry.get("certificateType") == use and
               same_certificate(entry.get("certificateHashData", {}), wanted)
               for entry in _chain(answer))


async def _retrieve(h: Harness, uses: list[str]) -> None:
    """TC_M_12/13/17: install a fresh CA certificate of each type (precondition: the station
    has one), GetInstalledCertificateIds for those types: Accepted, each certificate listed
    with its type and CertificateHashData, nothing of another type."""
    await h.booted()
    made = {use: _new_root(h, use) for use in uses}
    for use, certificate in made.items():
        await _install_accepted(h, use, certificate, step=f"precondition: install a {use}")
    answer = await _installed_ids(h, uses, step="GetInstalledCertificateIdsRequest")
    check(answer.get("status") == "Accepted", "GetInstalledCertificateIdsResponse", "Accepted",
          answer)
    for use, certificate in made.items():
        check(_holds(answer, use, certificate), "GetInstalledCertificateIdsResponse",
              f"certificateHashDataChain with the {use} "
              f"{certificate_hash_data(certificate)}", answer)
    others = [e for e in _chain(answer) if e.get("certificateType") not in uses]
    check(not others, "GetInstalledCertificateIdsResponse", f"only certificates of {uses}",
          others)


def _new_root(h: Harness, use: str) -> TestCertificate:
    """A CA certificate of ``use`` to install: self-signed, but a CSMS root for a station with
    AdditionalRootCertificateCheck is signed by the one it holds (the harness's test CA), as
    OCTT's note to TC_M_01 says such a station takes no other."""
    if use != CSMS_ROOT or not h.sut.claims("additional_root_certificate_check"):
        return root_certificate(f"conformance {use}")
    return root_certificate(f"conformance {use}", signed_by=h.own_test_ca().ca_root())


async def _install_case(h: Harness, use: str) -> None:
    """TC_M_01/02: InstallCertificate of a valid CA certificate: Accepted; then
    GetInstalledCertificateIds for the type lists it."""
    await h.booted()
    certificate = _new_root(h, use)
    await _install_accepted(h, use, certificate, step="InstallCertificateRequest")
    answer = await _installed_ids(h, [use], step="GetInstalledCertificateIdsRequest")
    check(answer.get("status") == "Accepted" and _holds(answer, use, certificate),
          "GetInstalledCertificateIdsResponse",
          f"Accepted, listing the installed {use} {certificate_hash_data(certificate)}", answer)


@pytest.mark.case("TC_M_01_CS")
async def test_TC_M_01_CS(h: Harness) -> None:
    """Install CA certificate, CSMSRootCertificate: InstallCertificateRequest with a valid
    CSMSRootCertificate; InstallCertificateResponse Accepted; GetInstalledCertificateIds for
    CSMSRootCertificate lists it (its CertificateHashData)."""
    await _install_case(h, CSMS_ROOT)


@pytest.mark.case("TC_M_02_CS")
async def test_TC_M_02_CS(h: Harness) -> None:
    """Install CA certificate, ManufacturerRootCertificate: as TC_M_01 with a
    ManufacturerRootCertificate."""
    await _install_case(h, MANUFACTURER_ROOT)


@pytest.mark.case("TC_M_07_CS")
async def test_TC_M_07_CS(h: Harness) -> None:
    """Install CA certificate, Rejected, certificate invalid: InstallCertificateRequest with
    an expired CSMSRootCertificate; InstallCertificateResponse Rejected, and the certificate
    is not listed afterwards."""
    await h.booted()
    expired = root_certificate("conformance expired root", not_before_days=-30,
                               not_after_days=-1)
    answer = await _install(h, CSMS_ROOT, expired, step="InstallCertificateRequest")
    check(answer.get("status") == "Rejected", "InstallCertificateResponse", "Rejected", answer)
    listed = await _installed_ids(h, [CSMS_ROOT], step="GetInstalledCertificateIdsRequest")
    check(not _holds(listed, CSMS_ROOT, expired), "GetInstalledCertificateIdsResponse",
          "the rejected certificate not installed", listed)


@pytest.mark.case("TC_M_12_CS")
async def test_TC_M_12_CS(h: Harness) -> None:
    """Retrieve certificates, CSMSRootCertificate: GetInstalledCertificateIdsRequest for
    CSMSRootCertificate; Accepted, with the CSMSRootCertificate installed (its hash data) and
    no other type."""
    await _retrieve(h, [CSMS_ROOT])


@pytest.mark.case("TC_M_13_CS")
async def test_TC_M_13_CS(h: Harness) -> None:
    """Retrieve certificates, ManufacturerRootCertificate: as TC_M_12 for
    ManufacturerRootCertificate."""
    await _retrieve(h, [MANUFACTURER_ROOT])


@pytest.mark.case("TC_M_17_CS")
async def test_TC_M_17_CS(h: Harness) -> None:
    """Retrieve certificates, CSMSRootCertificate and ManufacturerRootCertificate in one
    request: Accepted, both listed with their types, no other type."""
    await _retrieve(h, [CSMS_ROOT, MANUFACTURER_ROOT])


@pytest.mark.case("TC_M_18_CS")
async def test_TC_M_18_CS(h: Harness) -> None:
    """Retrieve certificates, all certificateTypes: GetInstalledCertificateIdsRequest without
    certificateType; Accepted, listing every installed certificate (a CSMSRootCertificate and a
    ManufacturerRootCertificate installed before)."""
    await h.booted()
    made = {use: root_certificate(f"conformance {use}") for use in (CSMS_ROOT, MANUFACTURER_ROOT)}
    for use, certificate in made.items():
        await _install_accepted(h, use, certificate, step=f"precondition: install a {use}")
    answer = await _installed_ids(h, None, step="GetInstalledCertificateIdsRequest")
    check(answer.get("status") == "Accepted" and
          all(_holds(answer, use, c) for use, c in made.items()),
          "GetInstalledCertificateIdsResponse",
          f"Accepted, listing the installed {' and '.join(made)}", answer)


@pytest.mark.case("TC_M_19_CS")
async def test_TC_M_19_CS(h: Harness) -> None:
    """Retrieve certificates, no matching certificate: (a ManufacturerRootCertificate
    installed, so the station has certificates) GetInstalledCertificateIdsRequest for a
    certificateType of which the station has none (the full list says which); NotFound, no
    certificates."""
    await h.booted()
    await _install_accepted(h, MANUFACTURER_ROOT, root_certificate("conformance other type"),
                            step="precondition: install a ManufacturerRootCertificate")
    everything = await _installed_ids(h, None, step="GetInstalledCertificateIdsRequest (all)")
    present = {e.get("certificateType") for e in _chain(everything)}
    absent = next((use for use in CERTIFICATE_ID_USES if use not in present), None)
    check(absent is not None, "GetInstalledCertificateIdsResponse (all)",
          "a certificateType of which the station has no certificate", everything)
    assert absent is not None
    answer = await _installed_ids(h, [absent], step="GetInstalledCertificateIdsRequest")
    check(answer.get("status") == "NotFound" and not _chain(answer),
          "GetInstalledCertificateIdsResponse", f"NotFound for {absent}, no certificates",
          answer)


@pytest.mark.case("TC_M_20_CS")
async def test_TC_M_20_CS(h: Harness) -> None:
    """Delete a certificate, success: (a ManufacturerRootCertificate installed)
    GetInstalledCertificateIds gives its hash data; DeleteCertificateRequest with it Accepted;
    GetInstalledCertificateIds no longer lists it."""
    await h.booted()
    certificate = root_certificate("conformance certificate to delete")
    await _install_accepted(h, MANUFACTURER_ROOT, certificate,
                            step="precondition: install a ManufacturerRootCertificate")
    listed = await _installed_ids(h, [MANUFACTURER_ROOT],
                                  step="GetInstalledCertificateIdsRequest")
    wanted = certificate_hash_data(certificate)
    entry = next((e for e in _chain(listed)
                  if same_certificate(e.get("certificateHashData", {}), wanted)), None)
    check(entry is not None, "GetInstalledCertificateIdsResponse",
          f"the installed certificate {wanted}", listed)
    assert entry is not None
    answer = await h.csms.call("DeleteCertificate", {
        "certificateHashData": entry["certificateHashData"]}, step="DeleteCertificateRequest")
    check(answer.get("status") == "Accepted", "DeleteCertificateResponse", "Accepted", answer)
    after = await _installed_ids(h, [MANUFACTURER_ROOT],
                                 step="GetInstalledCertificateIdsRequest after the delete")
    check(not _holds(after, MANUFACTURER_ROOT, certificate),
          "GetInstalledCertificateIdsResponse after the delete",
          "the deleted certificate no longer listed", after)


@pytest.mark.case("TC_M_22_CS")
async def test_TC_M_22_CS(h: Harness) -> None:
    """Delete a certificate, no matching certificate: DeleteCertificateRequest with the hash
    data of a certificate the station never had; NotFound."""
    await h.booted()
    unknown = root_certificate("conformance certificate never installed")
    answer = await h.csms.call("DeleteCertificate", {
        "certificateHashData": certificate_hash_data(unknown)}, step="DeleteCertificateRequest")
    check(answer.get("status") == "NotFound", "DeleteCertificateResponse", "NotFound", answer)
