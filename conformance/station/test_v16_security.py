"""OCPP 1.6 Security (the security whitepaper's cases), charging station under test (test case
document FINAL 2024-04): password and security profile, the charge point certificate by
request of the Central System, CA certificates, security events, the security log, signed
firmware, Basic auth and TLS. (TC_087, mutual TLS at security profile 3, is in
``test_v16_security_profiles.py``.)

Certificates come from the harness (``root_certificate``, ``issued_certificate``); signed
firmware from the SUT file (``firmware``) or the harness (``signed_firmware``); the files from
its ``file_server``. Which cases apply depends on the security profile the SUT file gives the
station (``security_profile``).
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509

from conformance.station.csms import Received
from conformance.station.harness import Harness, check
from conformance.station.listener import (
    SignedFirmware,
    TestCertificate,
    certificate_hash_data,
    file_server,
    issued_certificate,
    root_certificate,
    same_certificate,
    signed_firmware,
)
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

CS_ROOT = "CentralSystemRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"
REQUEST_IDS = itertools.count(secrets.randbelow(1000) * 1000 + 1)
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


def _needs_profile(h: Harness, profiles: tuple[int, ...], feature: str) -> None:
    if h.sut.security_profile not in profiles:
        not_applicable(f"{feature}: security profile {' or '.join(map(str, profiles))} (the "
                       f"SUT file gives {h.sut.security_profile})")


def _at(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- password and security profile ------------------------------------------------------------


@pytest.mark.case("TC_073_CS")
async def test_TC_073_CS(h: Harness) -> None:
    """Update Charge Point password for HTTP Basic Authentication: (security profile 1 or 2)
    ChangeConfiguration AuthorizationKey = a new password, Accepted; the harness closes the
    connection; the Charge Point connects again with the new password (the old one is now
    refused). Afterwards the harness sets the old password back."""
    _needs_profile(h, (1, 2), "basic_auth")
    await h.booted()
    csms = h.csms
    station = h.sut.stations[0]
    new = f"conformance-{secrets.token_hex(8)}"
    await h.configure("AuthorizationKey", new, step="ChangeConfiguration AuthorizationKey")
    csms.passwords[station.id] = new
    try:
        before = len(csms.connections)
        connection = csms.connection
        assert connection is not None
        await connection.session.close()
        await csms.new_connection(before, h.connect_s,
                                  step="the Charge Point reconnects with the new password")
        if station.password is not None:
            await h.csms.call_or_error("ChangeConfiguration", {
                "key": "AuthorizationKey", "value": station.password},
                step="restore the old password")
    finally:
        csms.passwords.pop(station.id, None)


@pytest.mark.case("TC_084_CS")
async def test_TC_084_CS(h: Harness) -> None:
    """Downgrade security profile, Rejected: (security profile 1 or higher)
    ChangeConfiguration SecurityProfile = one below the current one: Rejected."""
    current = h.sut.security_profile
    if current < 1:
        not_applicable("a security profile above 0 (there is nothing to downgrade to)")
    await h.booted()
    answer = await h.csms.call("ChangeConfiguration", {"key": "SecurityProfile",
                                                       "value": str(current - 1)},
                               step="ChangeConfiguration.req SecurityProfile")
    check(answer.get("status") == "Rejected", "ChangeConfiguration.conf", "Rejected", answer)


@pytest.mark.case("TC_085_CS")
async def test_TC_085_CS(h: Harness) -> None:
    """Basic Authentication, valid username/password combination: (security profile 1 or 2)
    the Charge Point connects with an HTTP Authorization header, Basic, whose username is its
    identity and whose password is the configured one (the harness refuses anything else),
    and boots."""
    _needs_profile(h, (1, 2), "basic_auth")
    await h.booted()
    connection = h.csms.connections[h.csms.first_connection]
    identity = h.sut.stations[0].id
    check(connection.info.basic_auth_user == identity, "HTTP upgrade request",
          f"Authorization: Basic with username {identity}", connection.info.basic_auth_user)


@pytest.mark.case("TC_086_CS")
async def test_TC_086_CS(h: Harness) -> None:
    """TLS, server-side certificate, valid certificate: (security profile 2 or 3) the Charge
    Point connects over TLS 1.2 or later, accepting the harness's server certificate (issued
    by the Central System root certificate it was given), and boots."""
    _needs_profile(h, (2, 3), "tls_server")
    await h.booted()
    connection = h.csms.connections[h.csms.first_connection]
    check(connection.tls_version in TLS_VERSIONS, "TLS handshake", "TLS 1.2 or later",
          connection.tls_version or "no TLS")


# -- the charge point certificate --------------------------------------------------------------


async def _sign_request(h: Harness) -> x509.CertificateSigningRequest:
    """ExtendedTriggerMessage SignChargePointCertificate (Accepted); the Charge Point's
    SignCertificate.req, answered Accepted; its CSR (PEM, its signature valid)."""
    h.csms.answer_next("SignCertificate", {"status": "Accepted"})
    answer = await h.csms.call("ExtendedTriggerMessage", {
        "requestedMessage": "SignChargePointCertificate"},
        step="ExtendedTriggerMessage.req SignChargePointCertificate")
    check(answer.get("status") == "Accepted", "ExtendedTriggerMessage.conf", "Accepted",
          answer)
    request = await h.csms.receive("SignCertificate", step="SignCertificate.req")
    csr = _csr(str(request.payload.get("csr", "")))
    check(csr is not None and csr.is_signature_valid, "SignCertificate.req",
          "a PEM CSR whose signature verifies", request.payload)
    assert csr is not None
    return csr


def _csr(text: str) -> x509.CertificateSigningRequest | None:
    try:
        return x509.load_pem_x509_csr(text.encode())
    except ValueError:
        return None


def _certificate_for(csr: x509.CertificateSigningRequest, *, expired: bool = False
                     ) -> TestCertificate:
    """The Central System's CA signs ``csr`` (expired: valid until yesterday)."""
    ca = root_certificate("conformance Central System CA")
    names = csr.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    name = str(names[0].value) if names else "charge point"
    validity = {"not_before_days": -30, "not_after_days": -1} if expired else {}
    return issued_certificate(ca, name, public_key=csr.public_key(), **validity)


@pytest.mark.case("TC_074_CS")
async def test_TC_074_CS(h: Harness) -> None:
    """Update Charge Point certificate by request of the Central System:
    ExtendedTriggerMessage SignChargePointCertificate Accepted; SignCertificate.req with a
    valid CSR, answered Accepted; CertificateSigned.req with the certificate the Central
    System's CA issued for that CSR: Accepted."""
    await h.booted()
    csr = await _sign_request(h)
    certificate = _certificate_for(csr)
    answer = await h.csms.call("CertificateSigned", {"certificateChain": certificate.pem},
                               step="CertificateSigned.req")
    check(answer.get("status") == "Accepted", "CertificateSigned.conf", "Accepted", answer)


@pytest.mark.case("TC_077_CS")
async def test_TC_077_CS(h: Harness) -> None:
    """Invalid ChargePointCertificate security event: ExtendedTriggerMessage
    SignChargePointCertificate; SignCertificate.req (Accepted); CertificateSigned.req with an
    invalid (expired) certificate: Rejected; SecurityEventNotification
    InvalidChargePointCertificate."""
    await h.booted()
    csr = await _sign_request(h)
    certificate = _certificate_for(csr, expired=True)
    answer = await h.csms.call("CertificateSigned", {"certificateChain": certificate.pem},
                               step="CertificateSigned.req")
    check(answer.get("status") == "Rejected", "CertificateSigned.conf", "Rejected", answer)
    await _security_event(h, "InvalidChargePointCertificate")


async def _security_event(h: Harness, kind: str) -> Received:
    return await h.csms.receive("SecurityEventNotification",
                                step=f"SecurityEventNotification {kind}",
                                where=lambda p: p.get("type") == kind,
                                expected=f"SecurityEventNotification {kind}")


# -- CA certificates ----------------------------------------------------------------------------


async def _install(h: Harness, use: str, certificate: TestCertificate) -> dict[str, Any]:
    return await h.csms.call("InstallCertificate", {"certificateType": use,
                                                    "certificate": certificate.pem},
                             step="InstallCertificate.req")


async def _installed(h: Harness, use: str, *, step: str) -> dict[str, Any]:
    return await h.csms.call("GetInstalledCertificateIds", {"certificateType": use}, step=step)


def _lists(answer: dict[str, Any], certificate: TestCertificate) -> bool:
    wanted = certificate_hash_data(certificate)
    return any(same_certificate(d, wanted) for d in answer.get("certificateHashData") or [])


async def _install_case(h: Harness, use: str) -> None:
    """TC_075_1/075_2: InstallCertificate.req of a valid CA certificate: Accepted; then
    GetInstalledCertificateIds for its type lists it."""
    await h.booted()
    certificate = root_certificate(f"conformance {use}")
    answer = await _install(h, use, certificate)
    check(answer.get("status") == "Accepted", "InstallCertificate.conf", "Accepted", answer)
    listed = await _installed(h, use, step="GetInstalledCertificateIds.req")
    check(listed.get("status") == "Accepted" and _lists(listed, certificate),
          "GetInstalledCertificateIds.conf",
          f"Accepted, listing the installed certificate {certificate_hash_data(certificate)}",
          listed)


@pytest.mark.case("TC_075_1_CS")
async def test_TC_075_1_CS(h: Harness) -> None:
    """Install a certificate, ManufacturerRootCertificate: InstallCertificate.req Accepted;
    GetInstalledCertificateIds for ManufacturerRootCertificate lists it."""
    await _install_case(h, MANUFACTURER_ROOT)


@pytest.mark.case("TC_075_2_CS")
async def test_TC_075_2_CS(h: Harness) -> None:
    """Install a certificate, CentralSystemRootCertificate: as TC_075_1 for a
    CentralSystemRootCertificate."""
    await _install_case(h, CS_ROOT)


@pytest.mark.case("TC_076_CS")
async def test_TC_076_CS(h: Harness) -> None:
    """Delete a specific certificate: (a ManufacturerRootCertificate installed)
    GetInstalledCertificateIds gives its hash data; DeleteCertificate.req with it Accepted;
    GetInstalledCertificateIds no longer lists it."""
    await h.booted()
    certificate = root_certificate("conformance certificate to delete")
    installed = await _install(h, MANUFACTURER_ROOT, certificate)
    check(installed.get("status") == "Accepted", "precondition: InstallCertificate.conf",
          "Accepted", installed)
    listed = await _installed(h, MANUFACTURER_ROOT, step="GetInstalledCertificateIds.req")
    wanted = certificate_hash_data(certificate)
    data = next((d for d in listed.get("certificateHashData") or []
                 if same_certificate(d, wanted)), None)
    check(data is not None, "GetInstalledCertificateIds.conf",
          f"the installed certificate {wanted}", listed)
    answer = await h.csms.call("DeleteCertificate", {"certificateHashData": data},
                               step="DeleteCertificate.req")
    check(answer.get("status") == "Accepted", "DeleteCertificate.conf", "Accepted", answer)
    after = await _installed(h, MANUFACTURER_ROOT,
                             step="GetInstalledCertificateIds.req after the delete")
    check(not _lists(after, certificate), "GetInstalledCertificateIds.conf after the delete",
          "the deleted certificate no longer listed", after)


@pytest.mark.case("TC_078_CS")
async def test_TC_078_CS(h: Harness) -> None:
    """Invalid CentralSystemCertificate security event: InstallCertificate.req of an invalid
    (expired) CentralSystemRootCertificate: Rejected; SecurityEventNotification
    InvalidCentralSystemCertificate."""
    await h.booted()
    expired = root_certificate("conformance expired root", not_before_days=-30,
                               not_after_days=-1)
    answer = await _install(h, CS_ROOT, expired)
    check(answer.get("status") == "Rejected", "InstallCertificate.conf", "Rejected", answer)
    await _security_event(h, "InvalidCentralSystemCertificate")


# -- security log and signed firmware ---------------------------------------------------------


@pytest.mark.case("TC_079_CS")
async def test_TC_079_CS(h: Harness) -> None:
    """Get security log: GetLog.req (SecurityLog, remoteLocation the harness serves) Accepted;
    LogStatusNotification Uploading, then Uploaded, with the requestId; the log arrived."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        folder = f"/upload/{secrets.token_hex(4)}/"
        request_id = next(REQUEST_IDS)
        answer = await h.csms.call("GetLog", {"logType": "SecurityLog", "requestId": request_id,
                                              "log": {"remoteLocation": files.url(folder)}},
                                   step="GetLog.req")
        check(answer.get("status") == "Accepted", "GetLog.conf", "Accepted", answer)
        statuses = []
        for status in ("Uploading", "Uploaded"):
            statuses.append(await h.csms.receive(
                "LogStatusNotification", step=status,
                where=lambda p, s=status: p.get("status") == s and
                p.get("requestId") == request_id,
                expected=f"LogStatusNotification {status} with requestId {request_id}"))
        upload = await files.upload(folder, 0.0)
    check(statuses[0].index < statuses[1].index, "LogStatusNotification",
          "Uploading before Uploaded", [r.payload for r in statuses])
    check(upload is not None and bool(upload.content), "Uploaded",
          f"the security log at {folder}", "nothing arrived")


async def _signed_update(h: Harness, location: str, firmware: SignedFirmware) -> int:
    request_id = next(REQUEST_IDS)
    answer = await h.csms.call("SignedUpdateFirmware", {"requestId": request_id, "firmware": {
        "location": location, "retrieveDateTime": _at(-7200),
        "signingCertificate": firmware.signing_certificate,
        "signature": firmware.signature}}, step="SignedUpdateFirmware.req")
    check(answer.get("status") == "Accepted", "SignedUpdateFirmware.conf", "Accepted", answer)
    return request_id


async def _firmware_sequence(h: Harness, request_id: int, statuses: tuple[str, ...], *,
                             timeout_s: float | None = None) -> list[Received]:
    records = [await h.csms.receive(
        "SignedFirmwareStatusNotification", step=status,
        where=lambda p, s=status: p.get("status") == s and p.get("requestId") == request_id,
        timeout_s=timeout_s or h.wait_s,
        expected=f"SignedFirmwareStatusNotification {status} with requestId {request_id}")
        for status in statuses]
    check([r.index for r in records] == sorted(r.index for r in records),
          "SignedFirmwareStatusNotification", f"{', '.join(statuses)} in this order",
          [r.payload.get("status") for r in sorted(records, key=lambda r: r.index)])
    return records


@pytest.mark.case("TC_080_CS")
async def test_TC_080_CS(h: Harness) -> None:
    """Secure firmware update: SignedUpdateFirmware.req (signed image the harness serves)
    Accepted; SignedFirmwareStatusNotification Downloading, Downloaded, SignatureVerified,
    Installing (requestId); the Charge Point reboots (BootNotification on a new connection)
    and reports Installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        firmware = signed_firmware(h.sut.firmware)
        location = files.publish(f"/firmware/{secrets.token_hex(4)}/signed-1.6.bin",
                                 firmware.image)
        request_id = await _signed_update(h, location, firmware)
        records = await _firmware_sequence(h, request_id, ("Downloading", "Downloaded",
                                                           "SignatureVerified", "Installing"))
    boot = await h.csms.receive("BootNotification", step="BootNotification after the update",
                                timeout_s=h.connect_s)
    check(boot.connection > records[-1].connection, "BootNotification after the update",
          "a new connection after Installing (the Charge Point rebooted)", boot.payload)
    installed = await _firmware_sequence(h, request_id, ("Installed",), timeout_s=h.connect_s)
    check(installed[0].index > records[-1].index, "Installed", "Installed after Installing",
          installed[0].payload)


@pytest.mark.case("TC_081_CS")
async def test_TC_081_CS(h: Harness) -> None:
    """Secure firmware update, invalid signature: SignedUpdateFirmware.req whose signature does
    not match the image, Accepted; SignedFirmwareStatusNotification Downloading, Downloaded,
    InvalidSignature; SecurityEventNotification InvalidFirmwareSignature; nothing installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        firmware = signed_firmware(h.sut.firmware, tampered=True)
        location = files.publish(f"/firmware/{secrets.token_hex(4)}/signed-1.6.bin",
                                 firmware.image)
        request_id = await _signed_update(h, location, firmware)
        await _firmware_sequence(h, request_id, ("Downloading", "Downloaded",
                                                 "InvalidSignature"))
    await _security_event(h, "InvalidFirmwareSignature")
    await h.csms.nothing("SignedFirmwareStatusNotification", step="not installed",
                         within_s=0.0,
                         where=lambda p: p.get("status") in ("SignatureVerified", "Installing",
                                                             "Installed"),
                         expected="no SignatureVerified / Installing / Installed")
