"""The CSMS over TLS: security profile 2 (TLS + Basic auth) and 3 (mutual TLS, the client
certificate's CN must be the station identity)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargeloop.ocppj import OcppSession, OcppVersion, Role
from chargeloop.ocppj.transport import HandshakeRefused, connect_ocpp
from chargeloop.ocppj.transport.tls import TestPki
from csms.server import RunningCsms, running_csms
from tests.csms.conftest import make_config
from tests.csms.support import BOOT_201

PASSWORD = "profile-2-password"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki()


async def _boot(csms: RunningCsms, identity: str, **connect: object) -> str:
    transport = await connect_ocpp(csms.ocpp_url, identity=identity,
                                   versions=[OcppVersion.V201], **connect)  # type: ignore[arg-type]
    session = OcppSession(transport, OcppVersion.V201, role=Role.STATION, identity=identity)
    import asyncio

    serving = asyncio.create_task(session.serve())
    try:
        return (await session.call("BootNotification", BOOT_201))["status"]
    finally:
        await session.close()
        await asyncio.wait_for(serving, 10)


@pytest.fixture
async def profile2(database_url: str, tmp_path: Path, pki: TestPki) -> AsyncIterator[RunningCsms]:
    files = pki.write(tmp_path / "pki")
    config = make_config(database_url, tmp_path, tls_certfile=files["server"])
    async with running_csms(config) as running:
        await running.core.stations.register("CS-TLS", password=PASSWORD, security_profile=2)
        yield running


@pytest.fixture
async def profile3(database_url: str, tmp_path: Path, pki: TestPki) -> AsyncIterator[RunningCsms]:
    files = pki.write(tmp_path / "pki")
    config = make_config(database_url, tmp_path, tls_certfile=files["server"],
                         tls_client_ca=files["ca"])
    async with running_csms(config) as running:
        yield running


async def test_profile_2_tls_with_basic_auth(profile2: RunningCsms, pki: TestPki) -> None:
    assert profile2.ocpp_url.startswith("wss://")
    status = await _boot(profile2, "CS-TLS", ssl_context=pki.client_context(), password=PASSWORD)
    assert status == "Accepted"
    with pytest.raises(HandshakeRefused) as refused:
        await connect_ocpp(profile2.ocpp_url, identity="CS-TLS", versions=[OcppVersion.V201],
                           ssl_context=pki.client_context(), password="wrong-password-123")
    assert refused.value.status == 401


async def test_profile_2_refuses_a_client_that_does_not_trust_the_csms(
        profile2: RunningCsms) -> None:
    with pytest.raises(HandshakeRefused, match="TLS"):
        await connect_ocpp(profile2.ocpp_url, identity="CS-TLS", versions=[OcppVersion.V201],
                           ssl_context=TestPki().client_context(), password=PASSWORD)


async def test_profile_3_mutual_tls_checks_the_certificate_names_the_station(
        profile3: RunningCsms, pki: TestPki) -> None:
    status = await _boot(profile3, "CS-MTLS", ssl_context=pki.client_context("CS-MTLS"))
    assert status == "Accepted"
    with pytest.raises(HandshakeRefused) as refused:
        await connect_ocpp(profile3.ocpp_url, identity="CS-MTLS", versions=[OcppVersion.V201],
                           ssl_context=pki.client_context("CS-OTHER"))
    assert refused.value.status == 403


async def test_profile_3_refuses_a_station_without_a_client_certificate(
        profile3: RunningCsms, pki: TestPki) -> None:
    with pytest.raises((HandshakeRefused, OSError)):
        await connect_ocpp(profile3.ocpp_url, identity="CS-MTLS", versions=[OcppVersion.V201],
                           ssl_context=pki.client_context())
