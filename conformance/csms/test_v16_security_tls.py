"""OCPP 1.6 Security profile, CSMS under test: security profiles 2 and 3 over TLS (TC_086,
TC_087). Where the CSMS serves them: see test_v201_security_tls.py."""

from __future__ import annotations

import pytest

from conformance.csms.harness import StationPool
from conformance.csms.tls import (
    boot_over_profile_2,
    boot_over_profile_3,
)
from conformance.sut import Sut
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio


@pytest.mark.case("TC_086_CSMS")
async def test_TC_086_CSMS(stations: StationPool, sut: Sut) -> None:
    """TLS - server-side certificate - valid certificate (security profile 2).

    Steps: the Charge Point opens a TLS connection, checks the Central System's certificate
    against the CA and the host name, upgrades to a WebSocket with HTTP Basic auth and sends
    BootNotification.req.
    Validated: TLS 1.2 or higher; a valid server certificate; the connection is accepted and
    the BootNotification answered Accepted.
    """
    if not sut.claims("tls_server"):
        not_applicable("tls_server")
    await boot_over_profile_2(stations, sut)


@pytest.mark.case("TC_087_CSMS")
async def test_TC_087_CSMS(stations: StationPool, sut: Sut) -> None:
    """TLS - client-side certificate - valid certificate (security profile 3).

    Steps: the Charge Point opens a TLS connection presenting its client certificate (CN =
    its identity, from a CA the Central System trusts), upgrades to a WebSocket without Basic
    auth and sends BootNotification.req.
    Validated: TLS 1.2 or higher with a valid server certificate; the connection is accepted
    and the BootNotification answered Accepted.
    """
    if not sut.claims("tls_client_certificates"):
        not_applicable("tls_client_certificates")
    await boot_over_profile_3(stations, sut)
