"""OCPP 2.0.1 AdditionalRootCertificateCheck (Part 2 M05.FR.09..FR.17; Part 5 AS-2), charging
station under test (Part 6 Edition 3, errata 2025-09): with SecurityCtrlr.
AdditionalRootCertificateCheck true the station holds one CSMS root certificate at a time; a
new one must be signed by the installed one, and the station keeps the old one as a fallback
until it has connected with the new one.

TC_B_47 (block B, B10 with M05) is here too: it needs the same station and the same roots.

The station's CSMS root is the harness's test CA (security profile 2 or 3 without a server
certificate in the SUT file). "New CSMS Root certificate 2" is a root of its own key and name,
signed by the test CA (a cross-signed root); the CSMS certificate "signed by the new root" is a
server certificate for the harness's address that it issued, served without chain, so only a
station that validates it with the new root accepts it.
"""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chargeloop.ocppj.transport.tls import LOOPBACK_NAMES
from conformance.station.harness import Harness, check
from conformance.station.listener import (
    TestCertificate,
    TlsControl,
    certificate_hash_data,
    root_certificate,
    same_certificate,
)
from conformance.station.network_profiles201 import migrate_to
from conformance.verdicts import CaseFailed, not_applicable, not_run

pytestmark = pytest.mark.asyncio(loop_scope="session")

CSMS_ROOT = "CSMSRootCertificate"
FEATURE = ("additional_root_certificate_check (SecurityCtrlr.AdditionalRootCertificateCheck "
           "true, AS-2)")


def _server_certificate(root: TestCertificate) -> trustme.LeafCert:
    """A CSMS certificate for the harness's loopback names issued by ``root``, without the
    chain (the station must hold ``root`` to accept it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for name in LOOPBACK_NAMES:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK_NAMES[0])]))
        .issuer_name(root.certificate.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(root.key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return trustme.LeafCert(key_pem, certificate.public_bytes(serialization.Encoding.PEM), [])


def _csms_under(root: TestCertificate) -> ssl.SSLContext:
    """The TLS server context of a CSMS whose certificate ``root`` issued."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _server_certificate(root).configure_cert(context)
    return context


def _applicable(h: Harness) -> TlsControl:
    if not h.sut.claims("additional_root_certificate_check"):
        not_applicable(FEATURE)
    control = h.own_test_ca()
    if h.sut.security_profile == 3:
        not_run("security profile 3 needs RenewChargingStationCertificate under the new root "
                "(not done by this harness)")
    return control


async def _install_new_root(h: Harness, control: TlsControl) -> TestCertificate:
    """Memory state CertificateInstalled: CSMSRootCertificate <new CSMS Root certificate 2>,
    signed by the old one: Accepted."""
    root = root_certificate("conformance CSMS root 2", signed_by=control.ca_root())
    answer = await h.csms.call("InstallCertificate", {
        "certificateType": CSMS_ROOT, "certificate": root.pem},
        step="memory state: InstallCertificateRequest CSMSRootCertificate (new root 2)")
    check(answer.get("status") == "Accepted", "InstallCertificateResponse (new root 2)",
          "Accepted", answer)
    return root


async def _reset_and_reboot(h: Harness) -> int:
    """ResetRequest OnIdle: Accepted; the station reconnects and boots (Booted). The number of
    the new connection."""
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "OnIdle"}, step="ResetRequest OnIdle")
    check(answer.get("status") == "Accepted", "ResetResponse", "Accepted", answer)
    number = await h.csms.new_connection(before, h.connect_s * 2,
                                         step="reconnect after the reset")
    await h.csms.receive("BootNotification", step="BootNotificationRequest after the reset",
                         timeout_s=h.connect_s)
    await h.all_statuses("Available", step="after the reset")
    return number


@pytest.mark.case("TC_M_09_CS")
async def test_TC_M_09_CS(h: Harness) -> None:
    """Install CA certificate - AdditionalRootCertificateCheck - Rejected: (the station's CSMS
    root is the harness's test CA) InstallCertificateRequest CSMSRootCertificate with a new
    root NOT signed by the installed one: Rejected (M05.FR.10 / FR.11);
    GetInstalledCertificateIdsRequest CSMSRootCertificate: Accepted, one CSMSRootCertificate
    (M05.FR.09), the old one (the test CA), the new one not listed."""
    control = _applicable(h)
    await h.booted()
    new = root_certificate("conformance CSMS root not signed by the old one")
    answer = await h.csms.call("InstallCertificate", {
        "certificateType": CSMS_ROOT, "certificate": new.pem},
        step="InstallCertificateRequest CSMSRootCertificate")
    check(answer.get("status") == "Rejected", "InstallCertificateResponse", "Rejected", answer)
    answer = await h.csms.call("GetInstalledCertificateIds", {"certificateType": [CSMS_ROOT]},
                               step="GetInstalledCertificateIdsRequest CSMSRootCertificate")
    check(answer.get("status") == "Accepted", "GetInstalledCertificateIdsResponse", "Accepted",
          answer)
    chain = list(answer.get("certificateHashDataChain") or [])
    roots = [e for e in chain if e.get("certificateType") == CSMS_ROOT]
    old = certificate_hash_data(control.ca_root())
    check(len(roots) == 1 and same_certificate(roots[0].get("certificateHashData", {}), old),
          "GetInstalledCertificateIdsResponse",
          f"one CSMSRootCertificate entry, the old CSMS root {old}", answer)


@pytest.mark.case("TC_M_30_CS")
async def test_TC_M_30_CS(h: Harness) -> None:
    """Install CA certificate - AdditionalRootCertificateCheck - Reconnect using new CSMS Root
    - Success: (memory state: new CSMS root 2, signed by the old one, installed: Accepted)
    ResetRequest OnIdle: Accepted; the harness now serves a CSMS certificate issued by the new
    root (no chain): the station validates it with the new root and connects (M05.FR.13),
    then boots (BootNotificationRequest, StatusNotificationRequest Available)."""
    control = _applicable(h)
    await h.booted()
    root = await _install_new_root(h, control)
    with control.serving(certificate=_server_certificate(root)):
        await _reset_and_reboot(h)


@pytest.mark.case("TC_M_31_CS")
async def test_TC_M_31_CS(h: Harness) -> None:
    """Install CA certificate - AdditionalRootCertificateCheck - Reconnect using new CSMS Root
    - Fallback mechanism: (memory state: new CSMS root 2, signed by the old one, installed:
    Accepted) ResetRequest OnIdle: Accepted; the harness keeps serving its certificate of the
    OLD root: the station's first attempt, validated with the new root, fails (a TLS
    handshake without a connection); it falls back to the old root (M05.FR.14), connects and
    boots (BootNotificationRequest, StatusNotificationRequest Available)."""
    control = _applicable(h)
    await h.booted()
    await _install_new_root(h, control)
    with control.serving():  # the test CA's certificate; count the handshakes
        count = control.handshakes
        await _reset_and_reboot(h)
        attempts = control.handshakes - count
    if attempts < 2:
        raise CaseFailed("reconnect after the reset",
                         "a first attempt refused (the CSMS certificate validated with the new "
                         "root), then a connection with the old root",
                         f"connected at the first attempt ({attempts} TLS handshake)")


@pytest.mark.case("TC_B_47_CS")
async def test_TC_B_47_CS(h: Harness) -> None:
    """Migrate to new ConnectionProfile - Fallback after NetworkProfileConnectionAttempts per
    NetworkConfigurationPriority failed - New CSMS Root - New CSMS: (configuration state
    OCPPCommCtrlr.NetworkProfileConnectionAttempts 1: Accepted; memory state: new CSMS root 2,
    signed by the old one, installed: Accepted) SetNetworkProfileRequest (a free slot;
    ocppCsmsUrl a new CSMS, whose certificate the new root issued, that refuses every
    connection; the same security profile): Accepted; NetworkConfigurationPriority with the
    new slot first: Accepted (or RebootRequired); ResetRequest OnIdle: Accepted. The station
    tries the new CSMS, then the previous address with the new root (its certificate is of
    the old root: refused); every entry failed, so it falls back to the old root (M05.FR.15 /
    FR.16) and the profile of its last connection (B10.FR.07): it connects to the previous
    address and boots (BootNotificationRequest, StatusNotificationRequest Available)."""
    control = _applicable(h)
    await h.booted()
    await h.set_variables201(("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "1"),
                             step="configuration state: NetworkProfileConnectionAttempts 1")
    root = await _install_new_root(h, control)
    csms = h.csms
    async with csms.second_endpoint(_csms_under(root), refusing=True) as url:
        with control.serving():  # the test CA's certificate (old root); count the handshakes
            handshakes = control.handshakes
            tried_new_before = len(csms.second_refused_at)
            before = len(csms.connections)
            await migrate_to(h, url)
            number = await csms.new_connection(before, h.connect_s * 2,
                                               step="reconnect after every entry failed")
            attempts = control.handshakes - handshakes
        connection = csms.connections[number]
        check(not connection.endpoint, "reconnect after every entry failed",
              f"a connection to the previous address {csms.url}", connection.endpoint)
        check(len(csms.second_refused_at) > tried_new_before, "after the reset",
              f"a connection attempt at the new CSMS {url} first", "none came")
        check(attempts >= 2, "reconnect after every entry failed",
              "an attempt at the previous address with the new root (refused: its certificate "
              "is of the old root), then the connection with the old root",
              f"connected at the first attempt there ({attempts} TLS handshake)")
        await csms.receive("BootNotification", step="BootNotificationRequest at the previous "
                           "address", timeout_s=h.connect_s)
        await h.all_statuses("Available", step="after the fallback")
