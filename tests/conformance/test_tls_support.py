"""What the TLS cases stand on: the SUT file's TLS endpoints, and handshakes that tell a CSMS
refusing the station from the station refusing the CSMS (real TLS servers on loopback)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chargeloop.ocppj.transport.tls import TestPki
from conformance.csms.tls import legacy_context, tls_handshake, unverified_context
from conformance.sut import Sut, SutError, load_sut
from tests.conformance import faulty_tls


def test_the_sut_file_names_the_tls_endpoints_and_a_wss_url_serves_both(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("")
    sut_file = tmp_path / "sut.yaml"
    sut_file.write_text("url: ws://127.0.0.1:9/ocpp\ntls:\n  ca: ca.pem\n"
                        "  profile_2_url: wss://localhost:8443/ocpp\n")
    sut = load_sut(sut_file)
    assert sut.tls_url(2) == "wss://localhost:8443/ocpp" and sut.tls_url(3) is None
    assert Sut(url="wss://csms.test/ocpp").tls_url(3) == "wss://csms.test/ocpp"
    sut_file.write_text("url: ws://127.0.0.1:9/ocpp\ntls:\n  profile_3_url: ws://x:1/ocpp\n")
    with pytest.raises(SutError) as error:
        load_sut(sut_file)
    assert "sut.yaml:3" in str(error.value) and "wss://" in str(error.value)


async def _serve(context: ssl.SSLContext) -> AsyncIterator[str]:
    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"wss://localhost:{port}/ocpp"


@pytest.fixture
def pki() -> TestPki:
    return TestPki()


@pytest.fixture
async def modern(pki: TestPki) -> AsyncIterator[str]:
    async for url in _serve(pki.server_context()):
        yield url


@pytest.fixture
async def permissive(pki: TestPki) -> AsyncIterator[str]:
    async for url in _serve(faulty_tls.expired_and_old_versions(pki)):
        yield url


async def test_a_csms_that_refuses_tls_1_1_is_told_apart_from_one_that_agrees(
        modern: str, permissive: str) -> None:
    refused = await tls_handshake(modern, legacy_context(), 5)
    assert not refused.accepted and not refused.by_station, refused
    agreed = await tls_handshake(permissive, legacy_context(), 5)
    assert agreed.accepted and agreed.detail == "TLSv1.1", agreed
    assert (await tls_handshake(modern, unverified_context(), 5)).detail in ("TLSv1.2", "TLSv1.3")


async def test_a_certificate_the_station_does_not_trust_is_the_stations_refusal(
        pki: TestPki, permissive: str, tmp_path: Path) -> None:
    material = faulty_tls.station_material(pki, "CONF-CS-1", tmp_path)
    context = ssl.create_default_context(cafile=str(material.ca))
    expired = await tls_handshake(permissive, context, 5)
    assert not expired.accepted and expired.by_station and "expired" in expired.detail
    other = await tls_handshake(permissive, TestPki().client_context(), 5)
    assert other.by_station and "issuer" in other.detail
