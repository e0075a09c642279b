"""Certificate signing requests for the certificate cases: a CSR for a fresh key, as a station
sends one, and what is wrong with the chain a CSMS signs for it."""

from __future__ import annotations

import itertools


def certificate_signing_request(identity: str) -> tuple[str, bytes]:
    """A PEM CSR for ``identity`` (CN) on a fresh P-256 key, and that key's public DER."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, identity),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargeloop conformance"),
    ])).sign(key, hashes.SHA256())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return request.public_bytes(serialization.Encoding.PEM).decode(), public


def chain_problem(chain_pem: str, public_der: bytes) -> str | None:
    """Why ``chain_pem`` is not a certificate chain for the CSR's key (None: it is)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certificates = x509.load_pem_x509_certificates(chain_pem.encode())
    except ValueError as exc:
        return f"not a PEM certificate chain: {exc}"
    leaf = certificates[0]
    leaf_key = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    if leaf_key != public_der:
        return "the first certificate is not for the CSR's public key"
    for child, parent in itertools.pairwise(certificates):
        if child.issuer != parent.subject:
            return f"{child.subject.rfc4514_string()} is not issued by the next certificate"
    return None
