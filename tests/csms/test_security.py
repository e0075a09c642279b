"""Security over real websockets: SecurityEventNotification (TC_077/078, TC_A_14), SignCertificate
-> CertificateSigned with the CSMS CA (TC_074, TC_A_11, TC_A_14), and InstallCertificate,
DeleteCertificate, GetInstalledCertificateIds (TC_075/076, TC_M_01..21), in both versions."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargeloop.ocppj import OcppSession, OcppVersion
from csms.events import Event
from csms.server import RunningCsms, running_csms
from tests.csms.conftest import make_config
from tests.csms.support import boot, connected_station, stamp

V16, V201 = OcppVersion.V16, OcppVersion.V201
WAIT_S = 5.0


def capture(csms: RunningCsms, kind: str) -> list[Event]:
    seen: list[Event] = []
    csms.core.events.listen(lambda event: seen.append(event) if event.kind == kind else None)
    return seen


def csr_for(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargeloop tests")])
    ).sign(key, hashes.SHA256())
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def root_certificate(name: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def wire_hash(certificate: x509.Certificate) -> dict[str, str]:
    """CertificateHashData as the station computes it (self-signed: the issuer is itself)."""
    key = certificate.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint)
    return {"hashAlgorithm": "SHA256",
            "issuerNameHash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
            "issuerKeyHash": hashlib.sha256(key).hexdigest(),
            "serialNumber": format(certificate.serial_number, "X")}


async def test_security_events_are_stored_once_and_published(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_077/078_CSMS: security events reach the operator, flagged critical or not."""
    for version in (V16, V201):
        await security_events_flow(csms, api, version, f"CS-SE-{version.value}")
    critical = (await api.get("/api/security-events", params={"critical": "true"})).json()
    assert sorted((i["type"], i["station_id"]) for i in critical["items"]) == [
        ("InvalidCsmsCertificate", "CS-SE-ocpp1.6"), ("InvalidCsmsCertificate", "CS-SE-ocpp2.0.1"),
        ("TamperDetectionActivated", "CS-SE-ocpp1.6"),
        ("TamperDetectionActivated", "CS-SE-ocpp2.0.1")]
    times = [i["timestamp"] for i in critical["items"]]
    assert times == sorted(times, reverse=True)  # newest first
    one = (await api.get("/api/security-events", params={
        "critical": "false", "station_id": "CS-SE-ocpp1.6"})).json()
    assert [i["type"] for i in one["items"]] == ["FirmwareUpdated"]


async def security_events_flow(csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion,
                               station_id: str) -> None:
    published = capture(csms, "station.security_event")
    invalid_csms = "InvalidCentralSystemCertificate" if version is V16 \
        else "InvalidCsmsCertificate"
    at = stamp(-5)
    async with connected_station(csms, station_id, version) as station:
        await boot(station)
        await station.call("SecurityEventNotification", {"type": "FirmwareUpdated",
                                                         "timestamp": stamp(-60)})
        tamper = {"type": "TamperDetectionActivated", "timestamp": at,
                  "techInfo": "enclosure opened"}
        await station.call("SecurityEventNotification", tamper)
        await station.call("SecurityEventNotification", tamper)  # retried
        await station.call("SecurityEventNotification", {"type": invalid_csms,
                                                         "timestamp": stamp()})
    assert [(e.data["type"], e.data["critical"]) for e in published] == [
        ("FirmwareUpdated", False), ("TamperDetectionActivated", True),
        ("InvalidCsmsCertificate", True)]
    assert published[2].data["reported_type"] == invalid_csms
    assert published[1].data["tech_info"] == "enclosure opened"
    assert published[1].data["timestamp"] == datetime.fromisoformat(at)
    page = (await api.get(f"/api/stations/{station_id}/security-events")).json()
    assert page["total"] == 3


def certificate_signed_route(version: OcppVersion, answer: str = "Accepted",
                             every: list[dict[str, Any]] | None = None,
                             ) -> tuple[asyncio.Future[dict[str, Any]], Any]:
    """A CertificateSigned handler; the future gets the first payload, ``every`` all."""
    received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def certificate_signed(payload: dict[str, Any]) -> dict[str, Any]:
        if every is not None:
            every.append(payload)
        if not received.done():
            received.set_result(payload)
        return {"status": answer}

    return received, certificate_signed


async def test_renewal_sign_certificate_and_certificate_signed(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_074_CSMS / TC_A_11_CSMS: the operator asks for a renewal; the station sends a CSR;
    the CSMS answers Accepted and sends the chain its CA signed."""
    for version in (V16, V201):
        await renewal_flow(csms, api, version, f"CS-CERT-{version.value}")


async def renewal_flow(csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion,
                       station_id: str) -> None:
    every: list[dict[str, Any]] = []
    received, certificate_signed = certificate_signed_route(version, every=every)
    key, csr = csr_for(station_id)
    tasks: list[asyncio.Task[Any]] = []
    answers: list[dict[str, Any]] = []
    session: list[OcppSession] = []

    async def trigger(payload: dict[str, Any]) -> dict[str, Any]:
        request = {"csr": csr} if version is V16 else {
            "csr": csr, "certificateType": "ChargingStationCertificate"}

        async def send() -> None:
            answers.append(await session[0].call("SignCertificate", request))

        tasks.append(asyncio.create_task(send()))  # sent after the trigger's answer
        return {"status": "Accepted"}

    trigger_action = "ExtendedTriggerMessage" if version is V16 else "TriggerMessage"
    async with connected_station(csms, station_id, version, routes={
            trigger_action: trigger, "CertificateSigned": certificate_signed}) as station:
        session.append(station)
        await boot(station)
        renewed = await api.post(f"/api/stations/{station_id}/certificates/renew", json={})
        assert renewed.status_code == 200, renewed.text
        assert renewed.json()["action"] == trigger_action
        chain_payload = await asyncio.wait_for(received, WAIT_S)
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT_S)
        await csms.core.maintenance.security.wait_deliveries()
        # The same CSR again (a retry): the same certificate again, not a second one.
        retried = {"csr": csr} if version is V16 else {"csr": csr,
                                                       "certificateType":
                                                       "ChargingStationCertificate"}
        assert await station.call("SignCertificate", retried) == {"status": "Accepted"}
        await csms.core.maintenance.security.wait_deliveries()
    assert answers == [{"status": "Accepted"}]
    assert len(every) == 2 and every[1] == every[0]
    sent = [(r.message_type, r.action) for r in csms.core.recent_frames[station_id]
            if r.direction == "out" and r.action in ("SignCertificate", "CertificateSigned")]
    assert sent[:2] == [(3, "SignCertificate"), (2, "CertificateSigned")]  # answer first
    if version is V201:
        assert chain_payload["certificateType"] == "ChargingStationCertificate"
    else:
        assert "certificateType" not in chain_payload
    leaf, issuer = x509.load_pem_x509_certificates(chain_payload["certificateChain"].encode())
    ca = (await api.get("/api/security/ca")).json()
    assert issuer == x509.load_pem_x509_certificate(ca["certificate_pem"].encode())
    leaf.verify_directly_issued_by(issuer)
    assert leaf.public_key() == key.public_key()
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == station_id
    [issued] = (await api.get(f"/api/stations/{station_id}/certificates")).json()["certificates"]
    assert issued["source"] == "issued" and issued["status"] == "Accepted"
    assert issued["serial_number"] == format(leaf.serial_number, "x")
    assert issued["certificate_type"] == "ChargingStationCertificate"


async def test_sign_certificate_rejections(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """A CSR for another identity is rejected and nothing is signed; a certificate the station
    refuses (TC_A_14_CSMS) is recorded as Rejected."""
    for version in (V16, V201):
        await rejections_flow(csms, api, version, f"CS-CSR-{version.value}")


async def rejections_flow(csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion,
                          station_id: str) -> None:
    received, certificate_signed = certificate_signed_route(version, answer="Rejected")
    async with connected_station(csms, station_id, version, routes={
            "CertificateSigned": certificate_signed}) as station:
        await boot(station)
        _, foreign = csr_for("SOMEONE-ELSE")
        refused = await station.call("SignCertificate", {"csr": foreign})
        assert refused["status"] == "Rejected"
        if version is V201:
            assert refused["statusInfo"]["reasonCode"] == "InvalidCSR"
            assert "SOMEONE-ELSE" in refused["statusInfo"]["additionalInfo"]
        garbage = await station.call("SignCertificate", {"csr": "not a CSR"})
        assert garbage["status"] == "Rejected"
        await csms.core.maintenance.security.wait_deliveries()
        assert not received.done()  # no CertificateSigned for a rejected CSR
        _, own = csr_for(station_id)
        assert (await station.call("SignCertificate", {"csr": own}))["status"] == "Accepted"
        await asyncio.wait_for(received, WAIT_S)
        await csms.core.maintenance.security.wait_deliveries()
        invalid = "InvalidChargePointCertificate" if version is V16 \
            else "InvalidChargingStationCertificate"
        await station.call("SecurityEventNotification", {"type": invalid, "timestamp": stamp()})
    [issued] = (await api.get(f"/api/stations/{station_id}/certificates")).json()["certificates"]
    assert issued["status"] == "Rejected"
    events = (await api.get(f"/api/stations/{station_id}/events",
                            params={"kind": "Certificate"})).json()
    assert [i["summary"].split(":")[0] for i in reversed(events["items"])] == [
        "SignCertificate Rejected", "SignCertificate Rejected", "SignCertificate Accepted",
        "CertificateSigned Rejected"]
    security = (await api.get(f"/api/stations/{station_id}/security-events")).json()
    assert security["items"][0]["type"] == "InvalidChargingStationCertificate"
    assert security["items"][0]["critical"] is True


async def test_install_list_and_delete_certificates(csms: RunningCsms,
                                                   api: httpx.AsyncClient) -> None:
    """TC_075/076_CSMS, TC_M_01/M_12/M_18/M_20_CSMS: install a root, list what the station
    has, delete by serial number."""
    for version in (V16, V201):
        await certificates_flow(csms, api, version, f"CS-ROOTS-{version.value}")


async def certificates_flow(csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion,
                            station_id: str) -> None:
    csms_root, manufacturer_root = root_certificate("CSMS Root"), root_certificate("Maker")
    on_station: dict[str, list[x509.Certificate]] = {"CSMSRootCertificate": [],
                                                      "ManufacturerRootCertificate":
                                                      [manufacturer_root]}
    frames: dict[str, list[dict[str, Any]]] = {}
    type_16 = {"CentralSystemRootCertificate": "CSMSRootCertificate"}

    async def install(payload: dict[str, Any]) -> dict[str, Any]:
        frames.setdefault("install", []).append(payload)
        kind = type_16.get(payload["certificateType"], payload["certificateType"])
        on_station[kind].append(x509.load_pem_x509_certificate(
            payload["certificate"].encode()))
        return {"status": "Accepted"}

    async def listing(payload: dict[str, Any]) -> dict[str, Any]:
        frames.setdefault("list", []).append(payload)
        if version is V16:
            found = on_station[type_16.get(payload["certificateType"],
                                           payload["certificateType"])]
            return {"status": "Accepted", "certificateHashData": [wire_hash(c) for c in found]
                    } if found else {"status": "NotFound"}
        chains = [{"certificateType": kind, "certificateHashData": wire_hash(c)}
                  for kind, certificates in on_station.items() for c in certificates]
        return {"status": "Accepted", "certificateHashDataChain": chains}

    async def delete(payload: dict[str, Any]) -> dict[str, Any]:
        frames.setdefault("delete", []).append(payload)
        return {"status": "Accepted"}

    async with connected_station(csms, station_id, version, routes={
            "InstallCertificate": install, "GetInstalledCertificateIds": listing,
            "DeleteCertificate": delete}) as station:
        await boot(station)
        installed = await api.post(f"/api/stations/{station_id}/certificates", json={
            "certificate_type": "CSMSRootCertificate", "certificate": pem(csms_root)})
        assert installed.status_code == 200, installed.text
        assert installed.json()["status"] == "Accepted"
        assert frames["install"][0]["certificateType"] == (
            "CentralSystemRootCertificate" if version is V16 else "CSMSRootCertificate")
        refreshed = await api.post(f"/api/stations/{station_id}/certificates/refresh", json={})
        assert refreshed.status_code == 200, refreshed.text
        if version is V16:  # one type per message
            assert frames["list"] == [{"certificateType": "CentralSystemRootCertificate"},
                                      {"certificateType": "ManufacturerRootCertificate"}]
        else:
            assert frames["list"] == [{}]
        listed = {c["certificate_type"]: c for c in refreshed.json()["certificates"]}
        assert set(listed) == {"CSMSRootCertificate", "ManufacturerRootCertificate"}
        assert listed["CSMSRootCertificate"]["source"] == "installed"
        assert listed["CSMSRootCertificate"]["certificate_pem"] == pem(csms_root)
        assert listed["ManufacturerRootCertificate"]["source"] == "reported"
        serial = format(csms_root.serial_number, "X")
        deleted = await api.delete(f"/api/stations/{station_id}/certificates/{serial}")
        assert deleted.status_code == 200, deleted.text
        expected = wire_hash(csms_root)
        sent = frames["delete"][0]["certificateHashData"]
        assert sent["issuerNameHash"] == expected["issuerNameHash"]
        assert sent["issuerKeyHash"] == expected["issuerKeyHash"]
        assert sent["serialNumber"].upper() == expected["serialNumber"]
        assert (await api.delete(f"/api/stations/{station_id}/certificates/abc123")
                ).status_code == 404
        bad = await api.post(f"/api/stations/{station_id}/certificates", json={
            "certificate_type": "CSMSRootCertificate", "certificate": "garbage"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body",
                                                                            "certificate"]
        if version is V16:
            v2g = await api.post(f"/api/stations/{station_id}/certificates", json={
                "certificate_type": "V2GRootCertificate", "certificate": pem(csms_root)})
            assert v2g.status_code == 422 and "OCPP 1.6" in v2g.text
    remaining = (await api.get(f"/api/stations/{station_id}/certificates")).json()["certificates"]
    assert [c["certificate_type"] for c in remaining] == ["ManufacturerRootCertificate"]


async def test_the_ca_survives_a_restart(database_url: str, tmp_path: Path) -> None:
    config = make_config(database_url, tmp_path)
    async with running_csms(config) as first:
        before = first.core.maintenance.security.authority.certificate_pem
    async with running_csms(config) as second:
        assert second.core.maintenance.security.authority.certificate_pem == before
