"""OCPP 1.6 security profiles (Security, test case document FINAL 2024-04), Charge Point under
test: TLS with a client-side certificate (security profile 3, mutual TLS).

These apply to the security profile the SUT file gives the station (``security_profile``); the
project's tests run them in a variant run at profile 3 (tests/conformance/station/
test_station_suite.py, ``VARIANTS``).
"""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check
from conformance.verdicts import not_applicable

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
