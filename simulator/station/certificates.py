"""The certificates a simulated station holds: InstallCertificate, DeleteCertificate,
GetInstalledCertificateIds and CertificateSigned, payload-shaped for 1.6 (Security whitepaper)
and 2.0.1, and the CSR of a SignCertificate (the key stays here until CertificateSigned brings
its certificate).

Certificates are kept as PEM text with their CertificateHashData: SHA-256 of the issuer's name,
of the issuer's public key (the subjectPublicKey BIT STRING's contents, as OCSP's CertID and the
reference CSMS compute it; a root is its own issuer) and the serial number in hex. A certificate
that does not parse, or that is not valid at the station's time (expired, not yet valid), is
Rejected.

With SecurityCtrlr.AdditionalRootCertificateCheck (``enable_root_check``, M05.FR.09..FR.17)
the station holds one CSMSRootCertificate at a time: a new one must be signed by the installed
one (else Rejected); it replaces it, the old one kept as a fallback until the station has
connected with the new one. Once the connection attempts with the new root have failed on
every NetworkConfigurationPriority entry, the next ones use the old root; connecting with the
new one drops the fallback, connecting with the old one drops the new root (the old one is
the CSMS root again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
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


def signed_by(pem: str, issuer_pem: str) -> bool:
    """The first certificate in ``pem`` names ``issuer_pem``'s subject as its issuer and
    carries a signature made with ``issuer_pem``'s key."""
    certificate, issuer = _load(pem), _load(issuer_pem)
    if certificate is None or issuer is None or certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


CSMS_ROOT = "CSMSRootCertificate"


class Certificates:
    def __init__(self, version: OcppVersion) -> None:
        self.version = version
        self._installed: list[Installed] = []
        # AdditionalRootCertificateCheck: the old CSMS root while a new one is not yet proven,
        # and whether the next connection attempt uses it
        self.root_check = False
        self._fallback_root: Installed | None = None
        self._on_fallback = False
        self.station_certificate: str | None = None  # from CertificateSigned
        self._pending_key: ec.EllipticCurvePrivateKey | None = None  # of the last CSR

    def install(self, request: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """InstallCertificate: Rejected unless the certificate parses and is valid at ``now``
        (the station's clock; the wall clock when not given)."""
        pem = request["certificate"]
        data = hash_data(pem, self._issuer_of(pem))
        if data is None or not valid_at(pem, now or datetime.now(UTC)):
            return {"status": "Rejected"}
        if self.root_check and request["certificateType"] == CSMS_ROOT:
            return self._replace_csms_root(pem, data)
        self._installed = [c for c in self._installed if c.hash_data != data]
        self._installed.append(Installed(request["certificateType"], request["certificate"],
                                         data))
        return {"status": "Accepted"}

    def enable_root_check(self, csms_root_pem: str | None) -> None:
        """AdditionalRootCertificateCheck true, with ``csms_root_pem`` (the root the station
        was built to trust) as its one CSMSRootCertificate."""
        self.root_check = True
        if csms_root_pem is not None:
            data = hash_data(csms_root_pem)
            if data is not None:
                self._installed = [c for c in self._installed if c.use != CSMS_ROOT]
                self._installed.append(Installed(CSMS_ROOT, csms_root_pem, data))

    def _replace_csms_root(self, pem: str, data: dict[str, str]) -> dict[str, Any]:
        """M05.FR.10..FR.12: signed by the installed CSMS root, else Rejected; the old one
        stays as the fallback."""
        current = next((c for c in self._installed if c.use == CSMS_ROOT), None)
        if current is not None and not signed_by(pem, current.pem):
            return {"status": "Rejected"}
        self._installed = [c for c in self._installed if c.use != CSMS_ROOT]
        self._installed.append(Installed(CSMS_ROOT, pem, data))
        self._fallback_root = current
        self._on_fallback = False
        return {"status": "Accepted"}

    def csms_trust(self) -> list[str] | None:
        """With AdditionalRootCertificateCheck, the CSMS root(s) the next connection attempt
        trusts: the new one, or the old one after the new one failed (M05.FR.13 / FR.14);
        None without it (the station trusts what it was built with and every installed
        CSMS root)."""
        if not self.root_check:
            return None
        if self._on_fallback and self._fallback_root is not None:
            return [self._fallback_root.pem]
        return self.pems(CSMS_ROOT)

    def connection_failed(self, every_entry_failed: bool = True) -> None:
        """A connection attempt failed: once it failed on every NetworkConfigurationPriority
        entry (M05.FR.15), the next one uses the other root while a new one waits to be
        proven (the old one, then the new one again, ...)."""
        if self.root_check and self._fallback_root is not None and every_entry_failed:
            self._on_fallback = not self._on_fallback

    def connected(self) -> None:
        """Connected: with the new root, the fallback is dropped (M05.FR.17); with the old
        one, the new root is (the old one is the CSMS root again)."""
        if not self.root_check or self._fallback_root is None:
            return
        if self._on_fallback:
            self._installed = [c for c in self._installed if c.use != CSMS_ROOT]
            self._installed.append(self._fallback_root)
        self._fallback_root = None
        self._on_fallback = False

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
