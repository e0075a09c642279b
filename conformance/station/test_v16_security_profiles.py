"""OCPP 1.6 security profiles (Security, test case document FINAL 2024-04), Charge Point under
test: TLS with a client-side certificate (security profile 3, mutual TLS), and the upgrade from
security profile 1 to 2 on the same address.

These apply to the security profile the SUT file gives the station (``security_profile``); the
project's tests run them in a variant run at profile 3 (tests/conformance/station/
test_station_suite.py, ``VARIANTS``).
"""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check
from conformance.station.listener import new_root_tls
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


@pytest.mark.case("TC_087_CS")
async def test_TC_087_CS(h: Harness) -> None:
    """TLS - Client-side certificate - valid certificate: (security profile 3) the Charge Point
    opens a TLS connection (1.2 or later) and, asked for it in the handshake, presents its
    client certificate, which the test system verifies (issued by the CA it trusts for Charge
    Points; the common name is the Charge Point's identity, else the harness refuses the
    upgrade); the Charge Point then sends BootNotification.req (Accepted) and its
    StatusNotification.req for every connector."""
    if h.sut.security_profile != 3:
        not_applicable(f"tls_client: security profile 3 (the SUT file gives "
                       f"{h.sut.security_profile})")
    await h.booted()
    connection = h.csms.connections[h.csms.first_connection]
    check(connection.tls_version in TLS_VERSIONS, "TLS handshake", "TLS 1.2 or later",
          connection.tls_version or "no TLS")
    identity = h.sut.stations[0].id
    check(connection.info.client_certificate_cn == identity, "TLS handshake",
          f"a client certificate for {identity}", connection.info.client_certificate_cn)


@pytest.mark.case("TC_083_CS")
async def test_TC_083_CS(h: Harness) -> None:
    """Upgrade security profile: (security profile 1; CertificateInstalled: the test system's
    CSMS root, InstallCertificate.req CentralSystemRootCertificate Accepted)
    ChangeConfiguration.req SecurityProfile 2: Accepted; Reset.req Hard: Accepted. The test
    system now serves the same address over TLS (a server certificate of that root) with Basic
    auth: the Charge Point reconnects over TLS 1.2 or later with its identity and password,
    sends BootNotification.req (Accepted) and StatusNotification.req Available for every
    connector and connector 0. Then the test system closes the connection and serves the
    address at security profile 1 (ws://) for a while: the Charge Point does not reconnect
    with security profile 1; served at profile 2 again, it reconnects over TLS."""
    if h.sut.security_profile != 1:
        not_applicable(f"security_profile_upgrade: from security profile 1 to 2 (the SUT file "
                       f"gives {h.sut.security_profile})")
    await h.booted()
    context, root = new_root_tls()
    answer = await h.csms.call("InstallCertificate", {
        "certificateType": "CentralSystemRootCertificate", "certificate": root},
        step="CertificateInstalled: InstallCertificate.req")
    check(answer.get("status") == "Accepted", "InstallCertificate.conf", "Accepted", answer)
    await h.configure("SecurityProfile", "2", step="ChangeConfiguration.req SecurityProfile 2")
    answer = await h.csms.call("Reset", {"type": "Hard"}, step="Reset.req")
    check(answer.get("status") == "Accepted", "Reset.conf", "Accepted", answer)
    try:
        before = len(h.csms.connections)
        await h.csms.relisten(context)
        await _over_tls(h, before, step="reconnect with security profile 2")
        await h.csms.receive("BootNotification", step="BootNotification.req",
                             timeout_s=h.connect_s)
        await h.all_statuses("Available", step="after the upgrade")
        before = len(h.csms.connections)
        await h.csms.relisten(None)
        step = "served at security profile 1"
        try:
            await h.csms.new_connection(before, h.wait_s, step=step)
        except CaseFailed:
            pass  # it did not come back over ws://, as it must not
        else:
            raise CaseFailed(step, "no reconnection with security profile 1",
                             "the Charge Point connected over ws://")
        await h.csms.relisten(context)
        await _over_tls(h, before, step="served at security profile 2 again")
    finally:  # the run goes on at the security profile the SUT file gives
        await h.csms.relisten(None)


async def _over_tls(h: Harness, before: int, *, step: str) -> None:
    """A new connection over TLS 1.2 or later with Basic auth as the station's identity."""
    number = await h.csms.new_connection(before, h.connect_s * 2, step=step)
    connection = h.csms.connections[number]
    check(connection.tls_version in TLS_VERSIONS, step, "TLS 1.2 or later",
          connection.tls_version or "no TLS")
    identity = h.sut.stations[0].id
    check(connection.info.basic_auth_user == identity, step,
          f"Authorization: Basic with username {identity}", connection.info.basic_auth_user)
