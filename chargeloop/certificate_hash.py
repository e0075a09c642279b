"""OCPP's CertificateHashData of an X.509 certificate, computed once for the whole project
(the reference CSMS, the simulator's station and both conformance suites).

issuerNameHash hashes the issuer's DER-encoded name; issuerKeyHash hashes the contents of the
issuer's subjectPublicKey BIT STRING, not the whole SubjectPublicKeyInfo (as OCSP's CertID
does; OCPP 2.0.1 CertificateHashDataType, OCPP 1.6 security whitepaper); serialNumber is the
serial in hex.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa


def public_key_bits(key: Any) -> bytes:
    """The subjectPublicKey BIT STRING's contents of ``key``; ValueError for a key type OCPP
    certificates do not use."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raise ValueError(f"unsupported key type {type(key).__name__}")


def certificate_hash_data(certificate: x509.Certificate,
                          issuer: x509.Certificate | None = None) -> dict[str, str]:
    """CertificateHashData (SHA256, OCPP's field names) of ``certificate``; ``issuer`` is the
    certificate that signed it (default: the certificate itself, a root)."""
    by = issuer if issuer is not None else certificate
    return {"hashAlgorithm": "SHA256",
            "issuerNameHash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
            "issuerKeyHash": hashlib.sha256(public_key_bits(by.public_key())).hexdigest(),
            "serialNumber": format(certificate.serial_number, "x")}
