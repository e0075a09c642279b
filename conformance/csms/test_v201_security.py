"""OCPP 2.0.1 block A (Security), CSMS under test."""

from __future__ import annotations

import pytest

from conformance.csms.harness import StationPool, booted_station, check
from conformance.sut import Sut
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio


def _password(sut: Sut) -> str:
    password = sut.stations[0].password
    if password is None:
        not_applicable("basic_auth: the SUT file gives the station no password")
    assert password is not None
    return password


@pytest.mark.case("TC_A_01_CSMS")
async def test_TC_A_01_CSMS(stations: StationPool, sut: Sut) -> None:
    """Basic authentication, valid username/password: the connection is accepted and the
    BootNotification answered Accepted."""
    _password(sut)
    await booted_station(stations)


@pytest.mark.case("TC_A_02_CSMS")
async def test_TC_A_02_CSMS(stations: StationPool, sut: Sut) -> None:
    """Basic authentication with a username that is not the station's identity: the CSMS
    refuses the WebSocket upgrade."""
    password = _password(sut)
    station = stations.make()
    status = await station.handshake_status(
        station.basic_auth_headers(username=station.identity + "-X", password=password))
    check(status != 101, "WebSocket handshake", "the connection refused (HTTP 401)",
          f"HTTP {status}")


@pytest.mark.case("TC_A_03_CSMS")
async def test_TC_A_03_CSMS(stations: StationPool, sut: Sut) -> None:
    """Basic authentication with a wrong password: the CSMS refuses the WebSocket upgrade."""
    _password(sut)
    station = stations.make()
    status = await station.handshake_status(
        station.basic_auth_headers(password="not-the-right-password-0"))
    check(status != 101, "WebSocket handshake", "the connection refused (HTTP 401)",
          f"HTTP {status}")
