"""The certificates a simulated station holds: InstallCertificate, DeleteCertificate,
GetInstalledCertificateIds and CertificateSigned, payload-shaped for 1.6 (Security whitepaper)
and 2.0.1.

Certificates are kept as PEM text with their CertificateHashData (SHA-256 of the issuer's name
and of the certificate's own public key, as a self-issued root is identified, and the serial
number in hex). A certificate that does not parse is Rejected.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from chargeloop.ocppj.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class Installed:
    use: str  # certificateType (2.0.1 GetCertificateIdUseEnumType / 1.6 CertificateUseEnumType)
    pem: str
    hash_data: dict[str, str]


def hash_data(pem: str) -> dict[str, str] | None:
    """CertificateHashData of the first certificate in ``pem``; None if it does not parse."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None
    key = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"hashAlgorithm": "SHA256",
            "issuerNameHash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
            "issuerKeyHash": hashlib.sha256(key).hexdigest(),
            "serialNumber": format(certificate.serial_number, "x")[:40]}


class Certificates:
    def __init__(self, version: OcppVersion) -> None:
        self.version = version
        self._installed: list[Installed] = []
        self.station_certificate: str | None = None  # from CertificateSigned

    def install(self, request: dict[str, Any]) -> dict[str, Any]:
        data = hash_data(request["certificate"])
        if data is None:
            return {"status": "Rejected"}
        self._installed = [c for c in self._installed if c.hash_data != data]
        self._installed.append(Installed(request["certificateType"], request["certificate"],
                                         data))
        return {"status": "Accepted"}

    def delete(self, request: dict[str, Any]) -> dict[str, Any]:
        wanted = request["certificateHashData"]
        keep = [c for c in self._installed if not _same(c.hash_data, wanted)]
        if len(keep) == len(self._installed):
            return {"status": "NotFound"}
        self._installed = keep
        return {"status": "Accepted"}

    def installed_ids(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.version is OcppVersion.V16:
            uses = {request["certificateType"]}
        else:
            uses = set(request.get("certificateType") or []) or None
        found = [c for c in self._installed if uses is None or c.use in uses]
        if not found:
            return {"status": "NotFound"}
        if self.version is OcppVersion.V16:
            return {"status": "Accepted", "certificateHashData": [c.hash_data for c in found]}
        return {"status": "Accepted", "certificateHashDataChain": [
            {"certificateType": c.use, "certificateHashData": c.hash_data} for c in found]}

    def signed(self, request: dict[str, Any]) -> dict[str, Any]:
        if hash_data(request["certificateChain"]) is None:
            return {"status": "Rejected"}
        self.station_certificate = request["certificateChain"]
        return {"status": "Accepted"}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(str(a.get(k, "")).lower() == str(b.get(k, "")).lower()
               for k in ("hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber"))
