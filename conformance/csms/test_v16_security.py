"""OCPP 1.6 Security profile (the Security Whitepaper, edition 2), CSMS under test (test case
document FINAL 2024-04).

TC_086_CSMS and TC_087_CSMS (security profiles 2 and 3, over TLS) are in test_v16_security_tls.py.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargeloop.certificate_hash import certificate_hash_data
from conformance.csms.harness import (
    StationPool,
    booted,
    check,
    csms_sends,
    now_iso,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio

LOG_LOCATION = "ftp://logs.example.com/conformance/"
FIRMWARE_LOCATION = "https://firmware.example.com/conformance/fw-1.0.1-signed.bin"


# -- certificates the station (the suite) makes ------------------------------------------------


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _csr(identity: str, key: ec.EllipticCurvePrivateKey) -> str:
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, identity),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargeloop conformance")])) \
        .sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode()


def _root_certificate(name: str) -> str:
    """A self-signed CA certificate (what a root the CSMS installs looks like)."""
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _pem_certificates(text: object) -> list[x509.Certificate]:
    if not isinstance(text, str):
        return []
    try:
        return x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return []


def _hash_data(pem: str) -> dict[str, str]:
    """certificateHashData (SHA256) of a self-signed certificate."""
    return certificate_hash_data(x509.load_pem_x509_certificate(pem.encode()))


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return bool(parsed.scheme) and bool(parsed.netloc)


async def _security_event(station: TestStation, kind: str) -> None:
    answer = await station.call("SecurityEventNotification",
                                {"type": kind, "timestamp": now_iso()},
                                step=f"SecurityEventNotification {kind}")
    check(answer == {}, "SecurityEventNotification.conf",
          "an empty SecurityEventNotification.conf", answer)


# -- TC_073: password change --------------------------------------------------------------------


def _password(sut: Sut) -> str:
    password = sut.stations[0].password
    if password is None:
        not_applicable("basic_auth: the SUT file gives the station no password")
    assert password is not None
    return password


def _decoded_key(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        return None


@pytest.mark.case("TC_073_CSMS")
async def test_TC_073_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Update the charge point password for HTTP Basic authentication (security profile 1).

    Steps: Booted with Basic auth; the Central System sends ChangeConfiguration.req for
    AuthorizationKey; the station answers Accepted, disconnects and reconnects with the new
    password (no reboot) and sends a Heartbeat.
    Validated: key AuthorizationKey; the value is the new password hex encoded, 16 to 20 bytes
    (Security Whitepaper: AuthorizationKey); the Central System accepts the WebSocket
    connection with the new password and answers on it.
    (Afterwards, not part of the case: the SUT file's password is set back the same way.)
    """
    original = _password(sut)
    station = await stations.booted()
    wanted = secrets.token_hex(9).encode().hex()  # an 18-character password, hex encoded
    try:
        call = await _change_authorization_key(station, triggers, sut, wanted,
                                               step="ChangeConfiguration.req")
        check(call.payload.get("key") == "AuthorizationKey", "ChangeConfiguration.req",
              "key AuthorizationKey", call.payload)
        password = _decoded_key(call.payload.get("value"))
        check(password is not None and 16 <= len(password) <= 20, "ChangeConfiguration.req",
              "value: the new password hex encoded, 16 to 20 bytes", call.payload)
        assert password is not None
        await station.close()
        station = stations.make(password=password.decode("utf-8", "replace"))
        await station.connect(step="reconnect with the new password")
        beat = await station.call("Heartbeat", {}, step="Heartbeat after reconnecting")
        check("currentTime" in beat, "Heartbeat.conf", "currentTime", beat)
    finally:
        if station.connected:
            await _change_authorization_key(station, triggers, sut, original.encode().hex(),
                                            step="restore the SUT's password")


async def _change_authorization_key(station: TestStation, triggers: Triggers, sut: Sut,
                                    value: str, *, step: str) -> IncomingCall:
    """ChangeConfiguration AuthorizationKey, answered Accepted; returns once the CSMS has the
    answer (the trigger is done), so the station may reconnect at once."""
    waiting = station.expect("ChangeConfiguration")
    handle = triggers.start("ChangeConfiguration", station.identity,
                            {"key": "AuthorizationKey", "value": value})
    call = await station.receive("ChangeConfiguration", sut.action_timeout_s, step=step,
                                 waiting=waiting)
    call.respond({"status": "Accepted"})
    await handle.outcome(sut.answer_timeout_s)
    return call


# -- certificates: TC_074, TC_075, TC_076, TC_077 -----------------------------------------------


async def _sign_certificate(stations: StationPool, triggers: Triggers, sut: Sut,
                            answer: str) -> tuple[TestStation, ec.EllipticCurvePrivateKey,
                                                  dict[str, object]]:
    """ExtendedTriggerMessage SignChargePointCertificate, SignCertificate, CertificateSigned
    (answered ``answer``); the station, its key and the CertificateSigned payload."""
    station = await stations.booted()
    trigger = await csms_sends(station, triggers, "ExtendedTriggerMessage",
                               {"requestedMessage": "SignChargePointCertificate"},
                               {"status": "Accepted"}, step="ExtendedTriggerMessage.req",
                               timeout_s=sut.action_timeout_s)
    check(trigger.payload.get("requestedMessage") == "SignChargePointCertificate",
          "ExtendedTriggerMessage.req", "requestedMessage SignChargePointCertificate",
          trigger.payload)
    key = _key()
    signed = station.expect("CertificateSigned")
    reply = await station.call("SignCertificate", {"csr": _csr(station.identity, key)},
                               step="SignCertificate")
    check(reply.get("status") == "Accepted", "SignCertificate.conf", "status Accepted", reply)
    call = await station.receive("CertificateSigned", sut.action_timeout_s,
                                 step="CertificateSigned.req", waiting=signed)
    call.respond({"status": answer})
    chain = _pem_certificates(call.payload.get("certificateChain"))
    check(bool(chain), "CertificateSigned.req", "certificateChain: PEM certificates",
          call.payload)
    return station, key, call.payload


@pytest.mark.case("TC_074_CSMS")
async def test_TC_074_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Update the charge point certificate by request of the Central System.

    Steps: Booted; the Central System sends ExtendedTriggerMessage.req SignChargePointCertificate;
    the station answers Accepted and sends SignCertificate.req with a CSR (CN: its identity);
    the Central System answers and sends CertificateSigned.req; the station answers Accepted.
    Validated: requestedMessage SignChargePointCertificate; SignCertificate.conf status
    Accepted; CertificateSigned.req certificateChain holds PEM certificates, the first one for
    the CSR's key with the station's identity as CN (Security Whitepaper use case A02).
    """
    station, key, payload = await _sign_certificate(stations, triggers, sut, "Accepted")
    leaf = _pem_certificates(payload.get("certificateChain"))[0]
    own_key = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    leaf_key = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    check(leaf_key == own_key, "CertificateSigned.req",
          "the first certificate of the chain for the CSR's public key", payload)
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    check(bool(names) and names[0].value == station.identity, "CertificateSigned.req",
          f"the certificate's CN {station.identity}", leaf.subject.rfc4514_string())


@pytest.mark.case("TC_077_CSMS")
async def test_TC_077_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Invalid ChargePointCertificate security event.

    Steps: as TC_074 up to CertificateSigned.req, which the station answers Rejected (the
    certificate is invalid to it); the station sends SecurityEventNotification.req
    InvalidChargePointCertificate.
    Validated: requestedMessage SignChargePointCertificate; SignCertificate.conf Accepted;
    CertificateSigned.req with a PEM certificateChain; the SecurityEventNotification is answered
    with a SecurityEventNotification.conf.
    """
    station, _, _ = await _sign_certificate(stations, triggers, sut, "Rejected")
    await _security_event(station, "InvalidChargePointCertificate")


async def _install(stations: StationPool, triggers: Triggers, sut: Sut, kind: str) -> None:
    station = await stations.booted()
    call = await csms_sends(station, triggers, "InstallCertificate",
                            {"certificateType": kind,
                             "certificate": _root_certificate(f"conformance {kind}")},
                            {"status": "Accepted"}, step="InstallCertificate.req",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("certificateType") == kind, "InstallCertificate.req",
          f"certificateType {kind}", call.payload)
    check(len(_pem_certificates(call.payload.get("certificate"))) == 1,
          "InstallCertificate.req", "certificate: one PEM X.509 certificate", call.payload)


@pytest.mark.case("TC_075_1_CSMS")
async def test_TC_075_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Install a certificate on the charge point: ManufacturerRootCertificate.

    Steps: Booted; the Central System sends InstallCertificate.req; the station answers
    Accepted.
    Validated: certificateType ManufacturerRootCertificate; certificate one PEM X.509
    certificate (Security Whitepaper use case M05).
    """
    await _install(stations, triggers, sut, "ManufacturerRootCertificate")


@pytest.mark.case("TC_075_2_CSMS")
async def test_TC_075_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Install a certificate on the charge point: CentralSystemRootCertificate.

    Steps: Booted; the Central System sends InstallCertificate.req; the station answers
    Accepted.
    Validated: certificateType CentralSystemRootCertificate; certificate one PEM X.509
    certificate (Security Whitepaper use case M05).
    """
    await _install(stations, triggers, sut, "CentralSystemRootCertificate")


@pytest.mark.case("TC_076_CSMS")
async def test_TC_076_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Delete a specific certificate from the charge point.

    Steps: Booted; the Central System sends GetInstalledCertificateIds.req; the station answers
    Accepted with the hash data of its CentralSystemRootCertificate; the Central System sends
    DeleteCertificate.req; the station answers Accepted.
    Validated: GetInstalledCertificateIds.req certificateType CentralSystemRootCertificate or
    ManufacturerRootCertificate; DeleteCertificate.req certificateHashData is exactly one the
    station reported (Security Whitepaper use cases M03, M04).
    """
    station = await stations.booted()
    installed = _hash_data(_root_certificate("conformance CentralSystemRootCertificate"))
    listing = await csms_sends(station, triggers, "GetInstalledCertificateIds",
                               {"certificateType": "CentralSystemRootCertificate"},
                               {"status": "Accepted", "certificateHashData": [installed]},
                               step="GetInstalledCertificateIds.req",
                               timeout_s=sut.action_timeout_s)
    check(listing.payload.get("certificateType") in ("CentralSystemRootCertificate",
                                                     "ManufacturerRootCertificate"),
          "GetInstalledCertificateIds.req", "a certificateType", listing.payload)
    call = await csms_sends(station, triggers, "DeleteCertificate",
                            {"certificateHashData": installed}, {"status": "Accepted"},
                            step="DeleteCertificate.req", timeout_s=sut.action_timeout_s)
    check(call.payload.get("certificateHashData") == installed, "DeleteCertificate.req",
          f"certificateHashData {installed} (as the station reported it)", call.payload)


@pytest.mark.case("TC_078_CSMS")
async def test_TC_078_CSMS(stations: StationPool) -> None:
    """Invalid CentralSystemCertificate security event.

    Steps: the station (which found the Central System's certificate invalid on an earlier
    attempt) connects, is Booted, and sends SecurityEventNotification.req
    InvalidCentralSystemCertificate.
    Validated: the BootNotification is Accepted; the SecurityEventNotification is answered with
    a SecurityEventNotification.conf.
    """
    station = await stations.booted()
    await _security_event(station, "InvalidCentralSystemCertificate")


# -- logs and secure firmware: TC_079, TC_080, TC_081 ------------------------------------------


@pytest.mark.case("TC_079_CSMS")
async def test_TC_079_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get security log.

    Steps: Booted; the Central System sends GetLog.req for the security log; the station answers
    Accepted with a filename and sends LogStatusNotification.req Uploading, then Uploaded, with
    the request's requestId.
    Validated: logType SecurityLog; a requestId; log.remoteLocation a URI; both
    LogStatusNotifications are answered with a LogStatusNotification.conf (Security Whitepaper
    use case N01).
    """
    station = await stations.booted()
    call = await csms_sends(station, triggers, "GetLog",
                            {"logType": "SecurityLog", "requestId": 7901,
                             "log": {"remoteLocation": LOG_LOCATION}},
                            {"status": "Accepted", "filename": "security.log"},
                            step="GetLog.req", timeout_s=sut.action_timeout_s)
    check(call.payload.get("logType") == "SecurityLog", "GetLog.req", "logType SecurityLog",
          call.payload)
    check(_is_uri(call.payload.get("log", {}).get("remoteLocation")), "GetLog.req",
          "log.remoteLocation: a URI with a host", call.payload)
    request_id = call.payload.get("requestId")
    for status in ("Uploading", "Uploaded"):
        answer = await station.call("LogStatusNotification",
                                    {"status": status, "requestId": request_id},
                                    step=f"LogStatusNotification {status}")
        check(answer == {}, "LogStatusNotification.conf", "an empty LogStatusNotification.conf",
              answer)


async def _signed_update(stations: StationPool, triggers: Triggers, sut: Sut
                         ) -> tuple[TestStation, int]:
    station = await stations.booted()
    signature = base64.b64encode(secrets.token_bytes(64)).decode()
    call = await csms_sends(station, triggers, "SignedUpdateFirmware", {
        "requestId": 8001, "firmware": {
            "location": FIRMWARE_LOCATION, "retrieveDateTime": now_iso(),
            "signingCertificate": _root_certificate("conformance firmware signer"),
            "signature": signature}},
        {"status": "Accepted"}, step="SignedUpdateFirmware.req", timeout_s=sut.action_timeout_s)
    firmware = call.payload.get("firmware", {})
    check(_is_uri(firmware.get("location")), "SignedUpdateFirmware.req",
          "firmware.location: a URI with a host", call.payload)
    check(len(_pem_certificates(firmware.get("signingCertificate"))) >= 1,
          "SignedUpdateFirmware.req", "firmware.signingCertificate: a PEM certificate",
          call.payload)
    try:
        decoded = base64.b64decode(firmware.get("signature", ""), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    check(bool(decoded), "SignedUpdateFirmware.req", "firmware.signature: Base64",
          call.payload)
    return station, int(call.payload["requestId"])


async def _firmware_status(station: TestStation, status: str, request_id: int) -> None:
    answer = await station.call("SignedFirmwareStatusNotification",
                                {"status": status, "requestId": request_id},
                                step=f"SignedFirmwareStatusNotification {status}")
    check(answer == {}, f"SignedFirmwareStatusNotification.conf ({status})",
          "an empty SignedFirmwareStatusNotification.conf", answer)


@pytest.mark.case("TC_080_CSMS")
async def test_TC_080_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure firmware update.

    Steps: Booted; the Central System sends SignedUpdateFirmware.req; the station answers
    Accepted and sends SignedFirmwareStatusNotification.req Downloading, Downloaded,
    SignatureVerified, Installing; it reboots (BootNotification Accepted) and sends Installed.
    Validated: a requestId; firmware.location a URI, firmware.signingCertificate a PEM
    certificate, firmware.signature Base64 (Security Whitepaper use case L01); every
    SignedFirmwareStatusNotification is answered with a SignedFirmwareStatusNotification.conf.
    """
    station, request_id = await _signed_update(stations, triggers, sut)
    for status in ("Downloading", "Downloaded", "SignatureVerified", "Installing"):
        await _firmware_status(station, status, request_id)
    await station.close()
    rebooted = await stations.booted()
    await _firmware_status(rebooted, "Installed", request_id)


@pytest.mark.case("TC_081_CSMS")
async def test_TC_081_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure firmware update, invalid signature.

    Steps: Booted; the Central System sends SignedUpdateFirmware.req; the station answers
    Accepted and sends SignedFirmwareStatusNotification.req Downloading, Downloaded, then
    InvalidSignature, and SecurityEventNotification.req InvalidFirmwareSignature.
    Validated: the SignedUpdateFirmware.req fields as in TC_080; every
    SignedFirmwareStatusNotification and the SecurityEventNotification are answered with their
    (empty) confirmations.
    """
    station, request_id = await _signed_update(stations, triggers, sut)
    for status in ("Downloading", "Downloaded", "InvalidSignature"):
        await _firmware_status(station, status, request_id)
    await _security_event(station, "InvalidFirmwareSignature")


# -- security profiles: TC_085 ---------------------------------------------------------------


@pytest.mark.case("TC_085_CSMS")
async def test_TC_085_CSMS(stations: StationPool, sut: Sut) -> None:
    """Basic authentication, valid username/password combination (security profile 1).

    Steps: the station connects with HTTP Basic auth (username: its identity, password: its
    password) and sends BootNotification.req.
    Validated: the Central System accepts the WebSocket connection and answers the
    BootNotification Accepted.
    """
    _password(sut)
    station = stations.make()
    check(bool(station.basic_auth_headers()), "connect", "an Authorization header",
          "none")
    await station.connect(step="connect with Basic auth")
    await booted(station)
