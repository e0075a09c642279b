"""The certificates a simulated station holds: CertificateHashData as OCPP defines it, validity
at the station's time, the CSR of SignCertificate and the certificate CertificateSigned brings."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargeloop.ocppj import OcppVersion
from simulator.station.certificates import Certificates, hash_data, valid_at

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _certificate(*, days: tuple[int, int] = (-1, 365), key: ec.EllipticCurvePrivateKey | None
                 = None, public_key: ec.EllipticCurvePublicKey | None = None,
                 serial: int = 0x1234) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A self-issued certificate (PEM) valid ``days`` around NOW, and its signing key."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test root")])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(public_key or key.public_key()).serial_number(serial)
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
        .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key


def test_issuer_key_hash_is_over_the_public_key_bits_not_the_whole_key_info() -> None:
    pem, key = _certificate()
    bits = key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)
    info = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    data = hash_data(pem)
    assert data is not None
    assert data["issuerKeyHash"] == hashlib.sha256(bits).hexdigest()
    assert data["issuerKeyHash"] != hashlib.sha256(info).hexdigest()
    assert data["serialNumber"] == "1234"


def test_install_checks_validity_at_the_station_time() -> None:
    store = Certificates(OcppVersion.V201)
    valid, _ = _certificate()
    expired, _ = _certificate(days=(-30, -1))
    future, _ = _certificate(days=(2, 30))
    for pem in (expired, future, "not a certificate"):
        assert store.install({"certificateType": "CSMSRootCertificate", "certificate": pem},
                             NOW) == {"status": "Rejected"}
    assert store.install({"certificateType": "CSMSRootCertificate", "certificate": valid},
                         NOW) == {"status": "Accepted"}
    assert valid_at(valid, NOW) and not valid_at(expired, NOW)
    listed = store.installed_ids({"certificateType": ["CSMSRootCertificate"]})
    assert listed["status"] == "Accepted" and len(listed["certificateHashDataChain"]) == 1


def test_delete_matches_a_serial_number_with_leading_zeros() -> None:
    store = Certificates(OcppVersion.V16)
    pem, _ = _certificate(serial=0xABC)
    store.install({"certificateType": "ManufacturerRootCertificate", "certificate": pem}, NOW)
    data = hash_data(pem)
    assert data is not None
    asked = {**data, "serialNumber": "0ABC"}
    assert store.delete({"certificateHashData": asked}) == {"status": "Accepted"}
    assert store.delete({"certificateHashData": asked}) == {"status": "NotFound"}


def test_certificate_signed_must_carry_the_key_of_the_csr_and_be_valid() -> None:
    store = Certificates(OcppVersion.V16)
    csr = x509.load_pem_x509_csr(store.new_csr("CS-1", "ACME").encode())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-1"
    other, _ = _certificate()
    assert store.signed({"certificateChain": other}, NOW) == {"status": "Rejected"}
    expired, _ = _certificate(days=(-30, -1), public_key=csr.public_key())  # type: ignore[arg-type]
    assert store.signed({"certificateChain": expired}, NOW) == {"status": "Rejected"}
    good, _ = _certificate(public_key=csr.public_key())  # type: ignore[arg-type]
    assert store.signed({"certificateChain": good}, NOW) == {"status": "Accepted"}
    assert store.station_certificate == good
