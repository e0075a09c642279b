"""OCPP 2.0.1 certificate management, CSMS under test: block M (installing, retrieving and
deleting the station's CA certificates, use cases M03-M05) and TC_A_12 / TC_A_14 (the station's
certificate signed at the CSMS's request, A02).

The triggers ask the CSMS to install a real X.509 root certificate the suite makes on the spot,
and to delete a certificate by the hash data the station (the suite) reported in the
GetInstalledCertificateIdsResponse before. The station's certificates are made up here too, so
the hash data it reports is that of real certificates: issuerNameHash and issuerKeyHash are
SHA-256 of the issuer's DN and public key (as in OCSP), serialNumber the serial in hex.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargeloop.certificate_hash import certificate_hash_data
from conformance.csms.csr import certificate_signing_request, chain_problem
from conformance.csms.harness import StationPool, check, csms_sends, now_iso
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

CSMS_ROOT, MANUFACTURER_ROOT = "CSMSRootCertificate", "ManufacturerRootCertificate"
V2G_ROOT, MO_ROOT, V2G_CHAIN = "V2GRootCertificate", "MORootCertificate", "V2GCertificateChain"
# GetCertificateIdUseEnumType: what GetInstalledCertificateIds may ask for
ALL_TYPES = (V2G_ROOT, MO_ROOT, CSMS_ROOT, V2G_CHAIN, MANUFACTURER_ROOT)
STATION_CERTIFICATE, V2G_CERTIFICATE = "ChargingStationCertificate", "V2GCertificate"


# -- certificates the suite makes ----------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def _issue(common_name: str, issuer: Issued | None = None, *, ca: bool = True) -> Issued:
    """A certificate for ``common_name`` on a fresh P-256 key, signed by ``issuer`` (None:
    self-signed, a root)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargeloop conformance")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name)
        .issuer_name(issuer.certificate.subject if issuer else name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer.key if issuer else key, hashes.SHA256()))
    return Issued(certificate, key)


@cache
def _installed(certificate_type: str) -> dict[str, Any]:
    """The CertificateHashDataChainType the station reports for its certificate of
    ``certificate_type`` (a V2G chain: the leaf, with its sub-CA and root as children)."""
    root = _issue(f"conformance {certificate_type}")
    if certificate_type != V2G_CHAIN:
        return {"certificateType": certificate_type,
                "certificateHashData": certificate_hash_data(root.certificate, root.certificate)}
    sub_ca = _issue("conformance V2G sub-CA", root)
    leaf = _issue("conformance SECC", sub_ca, ca=False)
    return {"certificateType": V2G_CHAIN,
            "certificateHashData": certificate_hash_data(leaf.certificate, sub_ca.certificate),
            "childCertificateHashData": [
                certificate_hash_data(sub_ca.certificate, root.certificate)]}


def _certificate_problem(pem: Any) -> str | None:
    """Why ``pem`` is not one PEM-encoded X.509 certificate (None: it is)."""
    if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
        return "no PEM certificate block"
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        return f"not an X.509 certificate: {exc}"
    return None


def _same_certificate(sent: dict[str, Any], reported: dict[str, Any]) -> bool:
    """Hash data naming the same certificate: the algorithm, and the hex strings of hashes and
    serial number (in either case)."""
    return sent.get("hashAlgorithm") == reported["hashAlgorithm"] and all(
        str(sent.get(key, "")).lower() == reported[key].lower()
        for key in ("issuerNameHash", "issuerKeyHash", "serialNumber"))


async def _still_answers(station: TestStation, sut: Sut) -> None:
    """The CSMS took the station's answer in its stride: it goes on answering the station."""
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


# -- M05 Install CA certificate ----------------------------------------------------------------


async def _install(stations: StationPool, triggers: Triggers, sut: Sut,
                   certificate_type: str | None, status: str) -> TestStation:
    """Booted; the CSMS sends InstallCertificateRequest, answered ``status``. Validated: the
    certificateType the case asks for (None: any) and a PEM-encoded X.509 certificate."""
    station = await stations.booted()
    step = "InstallCertificateRequest"
    asked = certificate_type or CSMS_ROOT
    call = await csms_sends(station, triggers, "InstallCertificate", {
        "certificateType": asked, "certificate": _issue(f"conformance {asked}").pem},
        {"status": status}, step=step, timeout_s=sut.action_timeout_s)
    if certificate_type:
        check(call.payload.get("certificateType") == certificate_type, step,
              f"certificateType {certificate_type}", call.payload)
    problem = _certificate_problem(call.payload.get("certificate"))
    check(problem is None, step, "certificate: a PEM-encoded X.509 certificate", problem)
    return station


@pytest.mark.case("TC_M_01_CSMS")
async def test_TC_M_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Install CA certificate - CSMSRootCertificate (M05).

    Before: Booted. Steps: 1. the CSMS sends InstallCertificateRequest; 2. the station answers
    Accepted. Validated: certificateType CSMSRootCertificate; certificate a PEM-encoded X.509
    certificate."""
    await _install(stations, triggers, sut, CSMS_ROOT, "Accepted")


@pytest.mark.case("TC_M_02_CSMS")
async def test_TC_M_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Install CA certificate - ManufacturerRootCertificate (M05): as TC_M_01, validated:
    certificateType ManufacturerRootCertificate and a PEM-encoded X.509 certificate."""
    await _install(stations, triggers, sut, MANUFACTURER_ROOT, "Accepted")


@pytest.mark.case("TC_M_03_CSMS")
async def test_TC_M_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Install CA certificate - V2GRootCertificate (M05, ISO 15118): as TC_M_01, validated:
    certificateType V2GRootCertificate and a PEM-encoded X.509 certificate."""
    await _install(stations, triggers, sut, V2G_ROOT, "Accepted")


@pytest.mark.case("TC_M_04_CSMS")
async def test_TC_M_04_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Install CA certificate - MORootCertificate (M05, ISO 15118): as TC_M_01, validated:
    certificateType MORootCertificate and a PEM-encoded X.509 certificate."""
    await _install(stations, triggers, sut, MO_ROOT, "Accepted")


@pytest.mark.case("TC_M_05_CSMS")
async def test_TC_M_05_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Install CA certificate - Failed (M05).

    Before: Booted. Steps: 1. the CSMS sends InstallCertificateRequest (any certificateType);
    2. the station answers Failed. Validated: certificate a PEM-encoded X.509 certificate; the
    CSMS handles the Failed answer: it goes on answering the station (Heartbeat)."""
    station = await _install(stations, triggers, sut, None, "Failed")
    await _still_answers(station, sut)


# -- M03 Retrieve certificates -----------------------------------------------------------------


async def _retrieve(station: TestStation, triggers: Triggers, sut: Sut,
                    wanted: tuple[str, ...], *, found: bool = True) -> IncomingCall:
    """The CSMS sends GetInstalledCertificateIdsRequest for ``wanted`` (empty: all types);
    the station answers Accepted with a certificate of each type asked for, or NotFound."""
    reported = [_installed(kind) for kind in (wanted or ALL_TYPES)]
    answer: dict[str, Any] = ({"status": "Accepted", "certificateHashDataChain": reported}
                              if found else {"status": "NotFound"})
    return await csms_sends(station, triggers, "GetInstalledCertificateIds",
                            {"certificateType": list(wanted)} if wanted else {}, answer,
                            step="GetInstalledCertificateIdsRequest",
                            timeout_s=sut.action_timeout_s)


async def _retrieve_types(stations: StationPool, triggers: Triggers, sut: Sut,
                          *wanted: str) -> None:
    """Booted; GetInstalledCertificateIdsRequest answered Accepted with the certificates.
    Validated: certificateType lists exactly ``wanted``."""
    station = await stations.booted()
    call = await _retrieve(station, triggers, sut, wanted)
    asked = call.payload.get("certificateType") or []
    check(sorted(asked) == sorted(wanted), "GetInstalledCertificateIdsRequest",
          f"certificateType {', '.join(wanted)}", call.payload)


@pytest.mark.case("TC_M_12_CSMS")
async def test_TC_M_12_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - CSMSRootCertificate (M03).

    Before: Booted. Steps: 1. the CSMS sends GetInstalledCertificateIdsRequest; 2. the station
    answers Accepted with the hash data of its CSMSRootCertificate. Validated: certificateType
    CSMSRootCertificate (and no other)."""
    await _retrieve_types(stations, triggers, sut, CSMS_ROOT)


@pytest.mark.case("TC_M_13_CSMS")
async def test_TC_M_13_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - ManufacturerRootCertificate (M03): as
    TC_M_12, validated: certificateType ManufacturerRootCertificate (and no other)."""
    await _retrieve_types(stations, triggers, sut, MANUFACTURER_ROOT)


@pytest.mark.case("TC_M_14_CSMS")
async def test_TC_M_14_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - V2GRootCertificate (M03, ISO 15118): as
    TC_M_12, validated: certificateType V2GRootCertificate (and no other)."""
    await _retrieve_types(stations, triggers, sut, V2G_ROOT)


@pytest.mark.case("TC_M_15_CSMS")
async def test_TC_M_15_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - V2GCertificateChain (M03, ISO 15118): as
    TC_M_12, the station answering with its V2G certificate and the sub-CA as child
    certificate; validated: certificateType V2GCertificateChain (and no other)."""
    await _retrieve_types(stations, triggers, sut, V2G_CHAIN)


@pytest.mark.case("TC_M_16_CSMS")
async def test_TC_M_16_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - MORootCertificate (M03, ISO 15118): as
    TC_M_12, validated: certificateType MORootCertificate (and no other)."""
    await _retrieve_types(stations, triggers, sut, MO_ROOT)


@pytest.mark.case("TC_M_17_CSMS")
async def test_TC_M_17_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - CSMSRootCertificate &
    ManufacturerRootCertificate (M03): as TC_M_12, the station answering with one certificate
    of each; validated: certificateType CSMSRootCertificate and ManufacturerRootCertificate
    (both, no other)."""
    await _retrieve_types(stations, triggers, sut, CSMS_ROOT, MANUFACTURER_ROOT)


@pytest.mark.case("TC_M_18_CSMS")
async def test_TC_M_18_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - All certificateTypes (M03).

    Before: Booted. Steps: 1. the CSMS sends GetInstalledCertificateIdsRequest; 2. the station
    answers Accepted with a certificate of every type. Validated: certificateType omitted (all
    types requested) or listing every type."""
    station = await stations.booted()
    call = await _retrieve(station, triggers, sut, ())
    asked = call.payload.get("certificateType")
    check(asked is None or sorted(asked) == sorted(ALL_TYPES),
          "GetInstalledCertificateIdsRequest", "certificateType omitted (all types)",
          call.payload)


@pytest.mark.case("TC_M_19_CSMS")
async def test_TC_M_19_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve certificates from Charging Station - No matching certificate found (M03).

    Before: Booted. Steps: 1. the CSMS sends GetInstalledCertificateIdsRequest; 2. the station
    answers NotFound. Validated: the CSMS handles the NotFound answer: it goes on answering
    the station (Heartbeat)."""
    station = await stations.booted()
    await _retrieve(station, triggers, sut, (CSMS_ROOT,), found=False)
    await _still_answers(station, sut)


# -- M04 Delete a certificate ------------------------------------------------------------------

DELETED = MANUFACTURER_ROOT  # the reported certificate the case asks the CSMS to delete


async def _delete(stations: StationPool, triggers: Triggers, sut: Sut,
                  status: str) -> TestStation:
    """Booted; the CSMS sends GetInstalledCertificateIdsRequest, answered Accepted with a
    CSMSRootCertificate and a ManufacturerRootCertificate; the CSMS sends
    DeleteCertificateRequest, answered ``status``. Validated: the certificateHashData
    (hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber) is that of a certificate the
    station reported."""
    station = await stations.booted()
    await _retrieve(station, triggers, sut, (CSMS_ROOT, MANUFACTURER_ROOT))
    reported = [_installed(kind)["certificateHashData"] for kind in (CSMS_ROOT, DELETED)]
    step = "DeleteCertificateRequest"
    call = await csms_sends(station, triggers, "DeleteCertificate",
                            {"certificateHashData": _installed(DELETED)["certificateHashData"]},
                            {"status": status}, step=step, timeout_s=sut.action_timeout_s)
    sent = call.payload.get("certificateHashData") or {}
    check(any(_same_certificate(sent, known) for known in reported), step,
          "certificateHashData of a certificate the station reported in "
          "GetInstalledCertificateIdsResponse", {"sent": sent, "reported": reported})
    return station


@pytest.mark.case("TC_M_20_CSMS")
async def test_TC_M_20_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Delete a certificate from a Charging Station - Success (M04).

    Before: Booted. Steps: 1. the CSMS sends GetInstalledCertificateIdsRequest; 2. the station
    answers Accepted with the hash data of its certificates; 3. the CSMS sends
    DeleteCertificateRequest; 4. the station answers Accepted. Validated: the
    certificateHashData of step 3 is that of a certificate reported at step 2 (all four
    fields)."""
    await _delete(stations, triggers, sut, "Accepted")


@pytest.mark.case("TC_M_21_CSMS")
async def test_TC_M_21_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Delete a certificate from a Charging Station - Failed (M04): as TC_M_20, the station
    answering Failed at step 4. Validated: the certificateHashData as in TC_M_20; the CSMS
    handles the Failed answer: it goes on answering the station (Heartbeat)."""
    station = await _delete(stations, triggers, sut, "Failed")
    await _still_answers(station, sut)


# -- A02 Update Charging Station Certificate by request of CSMS --------------------------------


async def _signed_at_request(stations: StationPool, triggers: Triggers, sut: Sut, *,
                             requested: str, certificate_type: str,
                             answer: str) -> TestStation:
    """Booted; the CSMS sends TriggerMessageRequest ``requested`` (answered Accepted); the
    station sends SignCertificateRequest (a CSR whose CN is its identity) of
    ``certificate_type``, answered; the CSMS sends CertificateSignedRequest, answered
    ``answer``. Validated: requestedMessage; SignCertificateResponse Accepted;
    CertificateSignedRequest of ``certificate_type`` with a PEM chain whose first certificate
    is for the CSR's key, each certificate issued by the next."""
    station = await stations.booted()
    trigger = await csms_sends(station, triggers, "TriggerMessage",
                               {"requestedMessage": requested}, {"status": "Accepted"},
                               step="TriggerMessageRequest", timeout_s=sut.action_timeout_s)
    check(trigger.payload.get("requestedMessage") == requested, "TriggerMessageRequest",
          f"requestedMessage {requested}", trigger.payload)
    csr, public_der = certificate_signing_request(station.identity)
    signed = station.expect("CertificateSigned")
    response = await station.call("SignCertificate", {
        "csr": csr, "certificateType": certificate_type}, step="SignCertificateRequest")
    check(response.get("status") == "Accepted", "SignCertificateResponse", "status Accepted",
          response)
    call = await station.receive("CertificateSigned", sut.action_timeout_s,
                                 step="CertificateSignedRequest", waiting=signed)
    call.respond({"status": answer})
    # omitted, the certificate is the station's certificate for the CSMS connection
    omitted = STATION_CERTIFICATE if certificate_type == STATION_CERTIFICATE else None
    check(call.payload.get("certificateType", omitted) == certificate_type,
          "CertificateSignedRequest", f"certificateType {certificate_type}", call.payload)
    problem = chain_problem(str(call.payload.get("certificateChain", "")), public_der)
    check(problem is None, "CertificateSignedRequest",
          "a certificate chain for the CSR's key", problem)
    return station


@pytest.mark.case("TC_A_12_CSMS")
async def test_TC_A_12_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Update Charging Station Certificate by request of CSMS - Success - V2G Certificate (A02,
    ISO 15118).

    Before: Booted. Steps: 1. the CSMS sends TriggerMessageRequest SignV2GCertificate; 2. the
    station answers Accepted; 3. it sends SignCertificateRequest with a CSR and
    certificateType V2GCertificate; 4. the CSMS answers; 5. the CSMS sends
    CertificateSignedRequest; 6. the station answers Accepted. Validated: requestedMessage
    SignV2GCertificate; SignCertificateResponse Accepted; CertificateSignedRequest with
    certificateType V2GCertificate and a PEM chain whose first certificate is for the CSR's
    key, each certificate issued by the next."""
    await _signed_at_request(stations, triggers, sut, requested="SignV2GCertificate",
                             certificate_type=V2G_CERTIFICATE, answer="Accepted")


@pytest.mark.case("TC_A_14_CSMS")
async def test_TC_A_14_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Update Charging Station Certificate by request of CSMS - Invalid certificate (A02).

    Before: Booted. Steps: 1. the CSMS sends TriggerMessageRequest
    SignChargingStationCertificate; 2. the station answers Accepted; 3. it sends
    SignCertificateRequest with a CSR (CN: its identity) and certificateType
    ChargingStationCertificate; 4. the CSMS answers; 5. the CSMS sends
    CertificateSignedRequest; 6. the station answers Rejected; 7. it sends
    SecurityEventNotificationRequest InvalidChargingStationCertificate; 8. the CSMS answers.
    Validated: requestedMessage SignChargingStationCertificate; SignCertificateResponse
    Accepted; CertificateSignedRequest as in TC_A_11; a SecurityEventNotificationResponse
    (schema-valid, no CALLERROR)."""
    station = await _signed_at_request(
        stations, triggers, sut, requested="SignChargingStationCertificate",
        certificate_type=STATION_CERTIFICATE, answer="Rejected")
    await station.call("SecurityEventNotification", {
        "type": "InvalidChargingStationCertificate", "timestamp": now_iso(),
        "techInfo": "the certificate chain did not validate"},
        step="SecurityEventNotificationRequest InvalidChargingStationCertificate")
