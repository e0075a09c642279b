"""SecurityCtrlr.AdditionalRootCertificateCheck in the simulated station (M05.FR.09..FR.17):
one CSMS root at a time, a new one only when the installed one signed it, the old one kept as
the fallback until the station has connected with the new one, and used once every network
profile failed with the new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargeloop.ocppj import OcppVersion
from simulator.station import StationSpec
from simulator.station.certificates import Certificates, hash_data
from simulator.station.network_profiles import NetworkProfile
from tests.simulator.station_support import world

CSMS_ROOT = "CSMSRootCertificate"
NOW = datetime.now(UTC)


def _root(name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None
          ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A CA certificate called ``name``: self-signed, or signed by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (
        x509.CertificateBuilder().subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(issuer[1] if issuer else key, hashes.SHA256()))
    return certificate, key


def _pem(root: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]) -> str:
    return root[0].public_bytes(serialization.Encoding.PEM).decode()


def _install(certificates: Certificates, pem: str) -> str:
    return certificates.install({"certificateType": CSMS_ROOT, "certificate": pem},
                                NOW)["status"]


def _checked(old_pem: str) -> Certificates:
    certificates = Certificates(OcppVersion.V201)
    certificates.enable_root_check(old_pem)
    return certificates


def test_without_the_check_csms_roots_add_up_and_the_station_trusts_its_own() -> None:
    certificates = Certificates(OcppVersion.V201)
    assert _install(certificates, _pem(_root("a"))) == "Accepted"
    assert _install(certificates, _pem(_root("b"))) == "Accepted"
    assert len(certificates.pems(CSMS_ROOT)) == 2
    assert certificates.csms_trust() is None


def test_a_root_the_installed_one_did_not_sign_is_rejected_and_the_old_one_stays() -> None:
    old = _pem(_root("old"))
    certificates = _checked(old)
    assert _install(certificates, _pem(_root("stranger"))) == "Rejected"
    answer = certificates.installed_ids({"certificateType": [CSMS_ROOT]})
    assert [e["certificateHashData"] for e in answer["certificateHashDataChain"]] == \
        [hash_data(old)]
    assert certificates.csms_trust() == [old]


def test_a_root_signed_by_the_old_one_replaces_it_the_old_one_kept_as_fallback() -> None:
    old_root = _root("old")
    old, new = _pem(old_root), _pem(_root("new", old_root))
    certificates = _checked(old)
    assert _install(certificates, new) == "Accepted"
    assert certificates.pems(CSMS_ROOT) == [new]  # one CSMS root at a time (M05.FR.09)
    assert certificates.csms_trust() == [new]  # M05.FR.13
    certificates.connection_failed(every_entry_failed=False)
    assert certificates.csms_trust() == [new]  # another profile still to try with it
    certificates.connection_failed(every_entry_failed=True)
    assert certificates.csms_trust() == [old]  # M05.FR.14 / FR.15


def test_connecting_with_the_new_root_drops_the_old_one() -> None:
    old_root = _root("old")
    old, new = _pem(old_root), _pem(_root("new", old_root))
    certificates = _checked(old)
    _install(certificates, new)
    certificates.connected()
    certificates.connection_failed(every_entry_failed=True)
    assert certificates.csms_trust() == [new]
    assert certificates.pems(CSMS_ROOT) == [new]


def test_connecting_with_the_old_root_gives_up_the_new_one() -> None:
    old_root = _root("old")
    old, new = _pem(old_root), _pem(_root("new", old_root))
    certificates = _checked(old)
    _install(certificates, new)
    certificates.connection_failed()
    certificates.connected()
    assert certificates.pems(CSMS_ROOT) == [old]
    assert certificates.csms_trust() == [old]


async def test_the_station_reports_the_check_and_falls_back_after_every_profile_failed(
        tmp_path: Path) -> None:
    old_root = _root("old")
    old, new = _pem(old_root), _pem(_root("new", old_root))
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS201-ROOT-1", OcppVersion.V201, start_jitter_s=0.0))
        station.enable_additional_root_certificate_check(old)
        found = station.settings.find("SecurityCtrlr", "AdditionalRootCertificateCheck")
        assert found is not None and found.read() == "true"
        certificates = station.proto.certificates
        assert _install(certificates, new) == "Accepted"
        station.network.profiles[1] = NetworkProfile("wss://new.example/ocpp", 2)
        station.settings.set_actual("OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0")
        station.settings.set_actual("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "1")
        station._network_failed()  # the new profile, with the new root
        assert certificates.csms_trust() == [new]
        station._network_failed()  # the previous one too: every entry failed
        assert certificates.csms_trust() == [old]
