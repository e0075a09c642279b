"""The simulated 1.6 station's security whitepaper behaviour against the reference CSMS: a new
charge point certificate by request of the Central System (ExtendedTriggerMessage
SignChargePointCertificate, SignCertificate with the station's CSR, CertificateSigned), and
the security event that an invalid Central System root certificate raises."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import trustme
from cryptography import x509

from chargeloop.ocppj import OcppVersion
from simulator.station import StationSpec
from tests.simulator.station_support import START, events, sent, world


def _spec(station_id: str) -> StationSpec:
    return StationSpec(station_id, OcppVersion.V16, start_jitter_s=0.0,
                       heartbeat_interval_s=300)


async def test_sign_charge_point_certificate_by_request_of_the_central_system(
        tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        station = w.station(_spec("CS16-SEC-1"))
        station.start()
        await w.run(10)
        answer = await w.command("CS16-SEC-1", "ExtendedTriggerMessage",
                                 {"requestedMessage": "SignChargePointCertificate"})
        assert answer["status"] == "Accepted"
        await w.run(30)
        assert [m["outcome"] for m in sent(w.recorder, "CS16-SEC-1", "SignCertificate")] == \
            ["ok"]
        issued = station.proto.certificates.station_certificate
        assert issued is not None, events(w.recorder, "CS16-SEC-1")
        certificate = x509.load_pem_x509_certificate(issued.encode())
        names = certificate.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
        assert names[0].value == "CS16-SEC-1"


async def test_an_expired_central_system_root_is_rejected_with_a_security_event(
        tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        station = w.station(_spec("CS16-SEC-2"))
        station.start()
        await w.run(10)
        leaf = trustme.CA().issue_cert("csms.example.com", not_before=START - timedelta(days=30),
                                       not_after=START - timedelta(days=1))
        answer = await w.command("CS16-SEC-2", "InstallCertificate", {
            "certificateType": "CentralSystemRootCertificate",
            "certificate": leaf.cert_chain_pems[0].bytes().decode()})
        assert answer["status"] == "Rejected"
        await w.run(10)
        assert [m["outcome"] for m in sent(w.recorder, "CS16-SEC-2",
                                           "SecurityEventNotification")] == ["ok"]
        assert [e["detail"] for e in events(w.recorder, "CS16-SEC-2", "security_event")] == \
            ["InvalidCentralSystemCertificate"]
