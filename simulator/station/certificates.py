"""The certificates a simulated station holds: InstallCertificate, DeleteCertificate,
GetInstalledCertificateIds and CertificateSigned, payload-shaped for 1.6 (Security whitepaper)
and 2.0.1, and the CSR of a SignCertificate (the key stays here until CertificateSigned brings
its certificate).

Certificates are kept as PEM text with their CertificateHashData: SHA-256 of the issuer's name,
of the issuer's public key (the subjectPublicKey BIT STRING's contents, as OCSP's CertID and the
reference CSMS compute it; a root is its own issuer) and the serial number in hex. A certificate
that does not parse, or that is not valid at the station's time (expired, not yet valid), is
Rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargeloop.certificate_hash import certificate_hash_data, public_key_bits
from chargeloop.ocppj.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class Installed:
    use: str  # certificateType (2.0.1 GetCertificateIdUseEnumType / 1.6 CertificateUseEnumType)
    pem: str
    hash_data: dict[str, str]


def _load(pem: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None


def hash_data(pem: str, issuer_pem: str | None = None) -> dict[str, str] | None:
    """CertificateHashData of the first certificate in ``pem``; None if it does not parse. The
    issuer's key comes from ``issuer_pem``, else from the certificate itself (a root)."""
    certificate = _load(pem)
    if certificate is None:
        return None
    issuer = _load(issuer_pem) if issuer_pem is not None else None
    try:
        data = certificate_hash_data(certificate, issuer)
    except (TypeError, ValueError, AttributeError):  # a key type OCPP does not use
        return None
    return {**data, "serialNumber": data["serialNumber"][:40]}  # the schema's maxLength


def valid_at(pem: str, now: datetime) -> bool:
    """The first certificate in ``pem`` parses and ``now`` lies within its validity."""
    certificate = _load(pem)
    return certificate is not None and \
        certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


class Certificates:
    def __init__(self, version: OcppVersion) -> None:
        self.version = version
        self._installed: list[Installed] = []
        self.station_certificate: str | None = None  # from CertificateSigned
        self._pending_key: ec.EllipticCurvePrivateKey | None = None  # of the last CSR

    def install(self, request: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """InstallCertificate: Rejected unless the certificate parses and is valid at ``now``
        (the station's clock; the wall clock when not given)."""
        pem = request["certificate"]
        data = hash_data(pem, self._issuer_of(pem))
        if data is None or not valid_at(pem, now or datetime.now(UTC)):
            return {"status": "Rejected"}
        self._installed = [c for c in self._installed if c.hash_data != data]
        self._installed.append(Installed(request["certificateType"], request["certificate"],
                                         data))
        return {"status": "Accepted"}

    def pems(self, certificate_type: str) -> list[str]:
        """The installed certificates of ``certificate_type`` (PEM), oldest first."""
        return [c.pem for c in self._installed if c.use == certificate_type]

    def _issuer_of(self, pem: str) -> str | None:
        """An installed certificate that issued ``pem`` (for its issuerKeyHash), if any."""
        certificate = _load(pem)
        if certificate is None or certificate.issuer == certificate.subject:
            return None
        for installed in self._installed:
            candidate = _load(installed.pem)
            if candidate is not None and candidate.subject == certificate.issuer:
                return installed.pem
        return None

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

    def new_csr(self, common_name: str, organization: str | None = None) -> str:
        """A new key (EC P-256) and its CSR (PEM; CN the station's identity, O its
        organisation): what SignCertificate carries. The key waits for CertificateSigned."""
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]
        if organization:
            names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]))
        csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names)) \
            .sign(key, hashes.SHA256())
        self._pending_key = key
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    def signed(self, request: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """CertificateSigned: Accepted when the first certificate of the chain parses, is
        valid at ``now`` and, after a CSR, carries the key the CSR was made with."""
        chain = request["certificateChain"]
        certificate = _load(chain)
        if certificate is None or not valid_at(chain, now or datetime.now(UTC)):
            return {"status": "Rejected"}
        pending = self._pending_key
        if pending is not None and public_key_bits(certificate.public_key()) != \
                public_key_bits(pending.public_key()):
            return {"status": "Rejected"}
        self.station_certificate = chain
        self._pending_key = None
        return {"status": "Accepted"}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two CertificateHashData name one certificate (hex case, a serial's leading zeros
    aside)."""
    return all(str(a.get(k, "")).lower() == str(b.get(k, "")).lower()
               for k in ("hashAlgorithm", "issuerNameHash", "issuerKeyHash")) and \
        str(a.get("serialNumber", "")).lower().lstrip("0") == \
        str(b.get("serialNumber", "")).lower().lstrip("0")
