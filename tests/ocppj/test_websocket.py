"""OCPP-J over real WebSockets on the loopback interface: security profiles 0 to 3, handshake
refusals, subprotocol negotiation (TC_088_CSMS / TC_B_58_CSMS), station identities, compression,
keepalive and robustness against garbage frames.

Every server listens on 127.0.0.1, port 0. Nothing waits by sleeping: each wait is on a future,
a queue or an event, bounded by ``asyncio.wait_for``.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import ssl
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State

from chargeloop.ocppj.actions import Role
from chargeloop.ocppj.session import OcppSession
from chargeloop.ocppj.trace import TraceRecord
from chargeloop.ocppj.transport.tls import TestPki
from chargeloop.ocppj.transport.websocket import (
    ConnectionInfo,
    HandshakeRefused,
    OcppServer,
    WebSocketTransport,
    connect_ocpp,
    identity_from_path,
    serve_ocpp,
    station_url,
)
from chargeloop.ocppj.versions import ALL_VERSIONS, OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
TIMEOUT = 5.0  # upper bound for every wait; a passing test never gets near it
IDENTITY = "CS-001"
PASSWORDS = {"CS-001": "correct horse battery", "CS-002": "other station's password"}
NOW = "2025-01-01T12:00:00Z"

ANSWERS: dict[str, dict[str, Any]] = {
    "BootNotification": {"currentTime": NOW, "interval": 300, "status": "Accepted"},
    "Heartbeat": {"currentTime": NOW},
    "MeterValues": {},
}


def boot_request(version: OcppVersion) -> dict[str, Any]:
    if version is V16:
        return {"chargePointVendor": "chargeloop", "chargePointModel": "loopback"}
    return {"reason": "PowerUp",
            "chargingStation": {"vendorName": "chargeloop", "model": "loopback"}}


def meter_values(version: OcppVersion, reading: float, samples: int = 1) -> dict[str, Any]:
    if version is V16:
        sampled = [{"value": str(reading)}] * samples
        return {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": sampled}]}
    sampled = [{"value": reading}] * samples
    return {"evseId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": sampled}]}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def check_password(identity: str, password: str) -> bool:
    return PASSWORDS.get(identity) == password


async def check_password_async(identity: str, password: str) -> bool:
    return check_password(identity, password)


# -- a minimal CSMS and station over the real transport -----------------------------------------


@dataclass
class Csms:
    """Records what the server side saw; runs an OcppSession per accepted connection."""

    infos: list[ConnectionInfo] = field(default_factory=list)
    connections: asyncio.Queue[tuple[WebSocketTransport, ConnectionInfo]] = field(
        default_factory=asyncio.Queue)
    received: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    sent_close_codes: asyncio.Queue[int | None] = field(default_factory=asyncio.Queue)

    async def on_connect(self, transport: WebSocketTransport, info: ConnectionInfo) -> None:
        self.infos.append(info)
        self.connections.put_nowait((transport, info))
        session = OcppSession(transport, info.version, role=Role.CSMS, identity=info.identity)
        for action, answer in ANSWERS.items():
            session.route(action, self._handler(info.identity, action, answer))
        try:
            await session.serve()
        finally:
            sent = transport.connection.protocol.close_sent
            self.sent_close_codes.put_nowait(sent.code if sent is not None else None)

    def _handler(self, identity: str, action: str,
                 answer: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def handle(payload: dict[str, Any]) -> dict[str, Any]:
            self.received.append((identity, action, payload))
            return answer
        return handle

    async def next_connection(self) -> tuple[WebSocketTransport, ConnectionInfo]:
        return await asyncio.wait_for(self.connections.get(), TIMEOUT)


@asynccontextmanager
async def csms_server(**kwargs: Any) -> AsyncIterator[tuple[OcppServer, Csms]]:
    csms = Csms()
    async with await serve_ocpp(csms.on_connect, "127.0.0.1", 0, **kwargs) as server:
        yield server, csms


@asynccontextmanager
async def station(url: str, version: OcppVersion, *, identity: str | None = IDENTITY,
                  trace: Callable[[TraceRecord], None] | None = None,
                  **kwargs: Any) -> AsyncIterator[OcppSession]:
    """A station session over ``connect_ocpp``, its receive loop running in a task."""
    transport = await asyncio.wait_for(
        connect_ocpp(url, identity=identity, versions=(version,), **kwargs), TIMEOUT)
    assert transport.subprotocol == version.value
    session = OcppSession(transport, version, role=Role.STATION, identity=identity or "",
                          call_timeout=TIMEOUT, trace=trace)
    serving = asyncio.create_task(session.serve())
    try:
        yield session
    finally:
        await session.close()
        await asyncio.wait_for(serving, TIMEOUT)


async def exchange(session: OcppSession, version: OcppVersion, csms: Csms,
                   identity: str = IDENTITY) -> None:
    """BootNotification, Heartbeat and MeterValues, checked at both ends."""
    boot = await session.call("BootNotification", boot_request(version))
    assert boot == ANSWERS["BootNotification"]
    assert await session.call("Heartbeat") == {"currentTime": NOW}
    assert await session.call("MeterValues", meter_values(version, 1234.5)) == {}
    assert [(who, action) for who, action, _ in csms.received] == [
        (identity, "BootNotification"), (identity, "Heartbeat"), (identity, "MeterValues")]
    assert csms.received[0][2] == boot_request(version)
    sampled = csms.received[2][2]["meterValue"][0]["sampledValue"][0]["value"]
    assert sampled == ("1234.5" if version is V16 else 1234.5)


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki()


# -- 1. round trips for every version and security profile --------------------------------------


def profile_settings(profile: int, pki: TestPki) -> tuple[dict[str, Any], dict[str, Any]]:
    """(serve_ocpp kwargs, connect_ocpp kwargs) for OCPP security profile 0 (none) to 3."""
    if profile == 0:
        return {}, {}
    if profile == 1:
        return {"check_password": check_password}, {"password": PASSWORDS[IDENTITY]}
    if profile == 2:
        return ({"check_password": check_password_async, "ssl_context": pki.server_context()},
                {"password": PASSWORDS[IDENTITY], "ssl_context": pki.client_context()})
    return ({"ssl_context": pki.server_context(require_client_cert=True),
             "require_certificate_identity": True},
            {"ssl_context": pki.client_context(IDENTITY)})


@pytest.mark.parametrize("profile", [0, 1, 2, 3], ids=lambda p: f"profile{p}")
@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: v.short)
async def test_round_trip(version: OcppVersion, profile: int, pki: TestPki) -> None:
    server_kwargs, client_kwargs = profile_settings(profile, pki)
    async with csms_server(**server_kwargs) as (server, csms):
        assert server.url.startswith("wss://" if profile >= 2 else "ws://")
        async with station(server.url, version, **client_kwargs) as session:
            _, info = await csms.next_connection()
            assert info.identity == IDENTITY
            assert info.version is version
            assert info.basic_auth_user == (IDENTITY if profile in (1, 2) else None)
            assert info.client_certificate_cn == (IDENTITY if profile == 3 else None)
            await exchange(session, version, csms)
            if profile >= 2:
                tls = session.transport.connection.transport.get_extra_info("ssl_object")
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


# -- 2. refusals ------------------------------------------------------------------------------


async def test_basic_auth_missing_header_is_401() -> None:
    """TC_A_03_CSMS, first half: no Authorization header."""
    async with csms_server(check_password=check_password) as (server, csms):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url, identity=IDENTITY)
        assert refused.value.status == 401
        challenge = refused.value.__cause__.response.headers["WWW-Authenticate"]
        assert challenge.startswith("Basic ")
        assert csms.infos == []


async def test_basic_auth_wrong_password_is_401() -> None:
    """TC_A_03_CSMS, second half: a wrong password."""
    async with csms_server(check_password=check_password_async) as (server, csms):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url, identity=IDENTITY, password="wrong")
        assert refused.value.status == 401
        assert csms.infos == []


@pytest.mark.parametrize("password_of", ["CS-002", IDENTITY],
                         ids=["other-station-credentials", "right-password-wrong-user"])
async def test_basic_auth_username_must_be_the_identity(password_of: str) -> None:
    """TC_A_02_CSMS: the username differs from the identity in the path. Refused both with
    another real station's credentials and with the password that is right for the path."""
    async with csms_server(check_password=check_password) as (server, csms):
        url = station_url(server.url, IDENTITY)
        header = basic("CS-002", PASSWORDS[password_of])
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(url, subprotocols=["ocpp2.0.1"], proxy=None, open_timeout=TIMEOUT,
                             additional_headers={"Authorization": header})
        assert refused.value.response.status_code == 401
        # The same crafted request with the right user name goes through.
        async with ws_connect(url, subprotocols=["ocpp2.0.1"], proxy=None, open_timeout=TIMEOUT,
                              additional_headers={"Authorization": basic(IDENTITY,
                                                                         PASSWORDS[IDENTITY])}):
            _, info = await csms.next_connection()
            assert info.basic_auth_user == IDENTITY
        assert len(csms.infos) == 1


@pytest.mark.parametrize("header", ["Basic !!not-base64!!", "Bearer abc", basic("x", "y")[:-2],
                                    "Basic " + base64.b64encode(b"no-colon").decode()])
async def test_broken_authorization_header_is_401(header: str) -> None:
    async with csms_server(check_password=check_password) as (server, csms):
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(station_url(server.url, IDENTITY), subprotocols=["ocpp2.0.1"],
                             proxy=None, open_timeout=TIMEOUT,
                             additional_headers={"Authorization": header})
        assert refused.value.response.status_code == 401
        assert csms.infos == []


def mtls_server(pki: TestPki) -> dict[str, Any]:
    return {"ssl_context": pki.server_context(require_client_cert=True),
            "require_certificate_identity": True}


async def test_mtls_without_client_certificate_fails(pki: TestPki) -> None:
    async with csms_server(**mtls_server(pki)) as (server, csms):
        # TLS 1.3 lets the client finish its side of the handshake before the server checks the
        # certificate, so the failure shows as a broken upgrade rather than an SSL error.
        with pytest.raises((HandshakeRefused, ssl.SSLError, ConnectionError)) as failed:
            await connect_ocpp(server.url, identity=IDENTITY, ssl_context=pki.client_context(),
                               open_timeout=TIMEOUT)
        if isinstance(failed.value, HandshakeRefused):
            assert failed.value.status is None  # not an HTTP answer: the TLS layer gave up
        assert csms.infos == []


async def test_mtls_certificate_for_another_identity_is_403(pki: TestPki) -> None:
    async with csms_server(**mtls_server(pki)) as (server, csms):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url, identity=IDENTITY,
                               ssl_context=pki.client_context("CS-002"))
        assert refused.value.status == 403
        assert csms.infos == []


async def test_client_certificate_from_another_ca_fails(pki: TestPki) -> None:
    async with csms_server(**mtls_server(pki)) as (server, csms):
        stranger = TestPki()
        context = pki.client_context()
        stranger.client_cert(IDENTITY).configure_cert(context)
        with pytest.raises((HandshakeRefused, ssl.SSLError, ConnectionError)):
            await connect_ocpp(server.url, identity=IDENTITY, ssl_context=context,
                               open_timeout=TIMEOUT)
        assert csms.infos == []


async def test_client_that_does_not_trust_the_server_ca_refuses(pki: TestPki) -> None:
    async with csms_server(ssl_context=pki.server_context()) as (server, csms):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url, identity=IDENTITY,
                               ssl_context=TestPki().client_context())
        cause = refused.value.__cause__
        assert isinstance(cause, ssl.SSLCertVerificationError)
        # 19: self-signed certificate in chain; 20: unable to get local issuer certificate
        assert cause.verify_code in (19, 20)
        assert csms.infos == []


async def test_client_refuses_an_expired_server_certificate(pki: TestPki) -> None:
    """TC_A_05 (expired variant), seen from our client."""
    context = pki.server_context(cert=pki.expired_server_cert())
    async with csms_server(ssl_context=context) as (server, csms):
        with pytest.raises(HandshakeRefused, match="expired") as refused:
            await connect_ocpp(server.url, identity=IDENTITY, ssl_context=pki.client_context())
        cause = refused.value.__cause__
        assert isinstance(cause, ssl.SSLCertVerificationError)
        assert cause.verify_code == 10  # X509_V_ERR_CERT_HAS_EXPIRED
        assert csms.infos == []


def client_context_up_to(pki: TestPki, maximum: ssl.TLSVersion) -> ssl.SSLContext:
    context = pki.client_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 / TLSv1_1 are deprecated
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = maximum
    # Security level 0 lets this OpenSSL *offer* TLS 1.0/1.1 at all, so that the refusal comes
    # from the server; were the client unable to offer them, connecting fails anyway.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


async def test_tls_below_1_2_is_refused(pki: TestPki) -> None:
    """TC_A_06: the server refuses TLS 1.1; the same client capped at TLS 1.2 gets through."""
    # The system OpenSSL may refuse TLS 1.1 by policy on its own; the test PKI asks for it too.
    assert pki.server_context().minimum_version is ssl.TLSVersion.TLSv1_2
    assert pki.client_context().minimum_version is ssl.TLSVersion.TLSv1_2
    async with csms_server(ssl_context=pki.server_context()) as (server, csms):
        old = client_context_up_to(pki, ssl.TLSVersion.TLSv1_1)
        with pytest.raises((ssl.SSLError, ConnectionError, HandshakeRefused)):
            await connect_ocpp(server.url, identity=IDENTITY, ssl_context=old,
                               open_timeout=TIMEOUT)
        assert csms.infos == []
        tls12 = client_context_up_to(pki, ssl.TLSVersion.TLSv1_2)
        async with station(server.url, V201, ssl_context=tls12) as session:
            tls = session.transport.connection.transport.get_extra_info("ssl_object")
            assert tls.version() == "TLSv1.2"
            await exchange(session, V201, csms)


@pytest.mark.parametrize("cipher", ["ECDHE-ECDSA-AES128-GCM-SHA256",
                                    "ECDHE-ECDSA-AES256-GCM-SHA384"])
async def test_server_offers_the_mandated_tls12_cipher_suites(pki: TestPki, cipher: str) -> None:
    """OCPP's mandatory suites for ECDSA certificates (the test PKI issues ECDSA keys)."""
    context = pki.client_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(cipher)
    async with (
        csms_server(ssl_context=pki.server_context()) as (server, csms),
        station(server.url, V201, ssl_context=context) as session,
    ):
        negotiated = session.transport.connection.transport.get_extra_info("cipher")
        assert negotiated[0] == cipher
        assert negotiated[1] == "TLSv1.2"
        await exchange(session, V201, csms)


async def test_test_pki_written_to_files_serves_profile_2(pki: TestPki, tmp_path) -> None:
    paths = pki.write(tmp_path / "pki")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(paths["server"])  # key and chain in one file
    client_context = ssl.create_default_context(cafile=str(paths["ca"]))
    async with (
        csms_server(ssl_context=server_context, check_password=check_password) as (server, csms),
        station(server.url, V16, ssl_context=client_context,
                password=PASSWORDS[IDENTITY]) as session,
    ):
        await exchange(session, V16, csms)


# -- 3. subprotocol negotiation -----------------------------------------------------------------


async def test_server_preference_wins_among_common_versions() -> None:
    async with csms_server(versions=[V201, V16]) as (server, csms):
        transport = await connect_ocpp(server.url, identity=IDENTITY, versions=[V16, V201])
        try:
            assert transport.subprotocol == "ocpp2.0.1"
            assert transport.connection.response.headers["Sec-WebSocket-Protocol"] == "ocpp2.0.1"
            _, info = await csms.next_connection()
            assert info.version is V201
        finally:
            await transport.close()


async def test_default_server_picks_the_newest_version() -> None:
    async with csms_server() as (server, _):
        transport = await connect_ocpp(server.url, identity=IDENTITY, versions=[V16, V201, V21])
        try:
            assert transport.subprotocol == "ocpp2.1"
        finally:
            await transport.close()


@pytest.mark.parametrize("offered", [["ocpp0.1"], None], ids=["ocpp0.1", "no-subprotocol"])
async def test_no_common_subprotocol_completes_then_closes(offered: list[str] | None) -> None:
    """TC_088_CSMS step 1 / TC_B_58_CSMS: the upgrade succeeds without Sec-WebSocket-Protocol,
    then the server closes the connection with 1002."""
    async with csms_server() as (server, csms):
        extra: dict[str, Any] = {} if offered is None else {"subprotocols": offered}
        async with ws_connect(station_url(server.url, IDENTITY), proxy=None,
                              open_timeout=TIMEOUT, **extra) as ws:
            assert ws.response.status_code == 101
            assert ws.subprotocol is None
            assert "Sec-WebSocket-Protocol" not in ws.response.headers
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1002
        assert csms.infos == []


async def test_connect_ocpp_raises_when_no_version_is_common() -> None:
    async with csms_server(versions=[V16]) as (server, csms):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url, identity=IDENTITY, versions=[V21, V201])
        assert refused.value.status is None
        assert "ocpp2.1" in str(refused.value)
        assert csms.infos == []


async def test_ocpp01_and_ocpp16_selects_ocpp16() -> None:
    """TC_088_CSMS step 2."""
    async with (
        csms_server() as (server, csms),
        ws_connect(station_url(server.url, IDENTITY), proxy=None, open_timeout=TIMEOUT,
                   subprotocols=["ocpp0.1", "ocpp1.6"]) as ws,
    ):
        assert ws.subprotocol == "ocpp1.6"
        assert ws.response.headers["Sec-WebSocket-Protocol"] == "ocpp1.6"
        _, info = await csms.next_connection()
        assert info.version is V16
        await ws.send(orjson.dumps([2, "m1", "Heartbeat", {}]).decode())
        answer = orjson.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        assert answer == [3, "m1", {"currentTime": NOW}]


# -- 4. station identity from the path ----------------------------------------------------------


@pytest.mark.parametrize("identity", ["CS 001", "site/CS-1", "Ladesäule-Ω✓", "100%CS"])
async def test_identity_is_the_percent_decoded_last_segment(identity: str) -> None:
    async with (
        csms_server(check_password=lambda who, pw: who == identity and pw == "pw") as (
            server, csms),
        station(server.url, V201, identity=identity, password="pw") as session,
    ):
        _, info = await csms.next_connection()
        assert info.identity == identity
        assert info.basic_auth_user == identity
        assert info.path == "/ocpp/" + quote(identity, safe="")
        await exchange(session, V201, csms, identity)


async def test_encoded_slash_in_a_literal_url_is_part_of_the_identity() -> None:
    seen: list[str] = []
    async with csms_server(known_identity=lambda who: seen.append(who) or True) as (server, csms):
        transport = await connect_ocpp(server.url + "/site%2FCS-7")
        try:
            _, info = await csms.next_connection()
            assert info.identity == "site/CS-7"
            assert seen == ["site/CS-7"]
        finally:
            await transport.close()


def test_identity_from_path() -> None:
    assert identity_from_path("/ocpp/CS%20001") == "CS 001"
    assert identity_from_path("/ocpp/a%2Fb?x=1") == "a/b"
    assert identity_from_path("/") == ""
    assert station_url("ws://h:1/ocpp/", "a/b c") == "ws://h:1/ocpp/a%2Fb%20c"


async def _unknown(identity: str) -> bool:
    return identity == "known"


@pytest.mark.parametrize("known_identity", [lambda identity: identity == "known", _unknown],
                         ids=["sync", "async"])
async def test_unknown_identity_is_404(known_identity: Callable[[str], Any]) -> None:
    async with csms_server(known_identity=known_identity) as (server, csms):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url, identity="stranger")
        assert refused.value.status == 404
        assert csms.infos == []
        async with station(server.url, V201, identity="known"):
            _, info = await csms.next_connection()
            assert info.identity == "known"


@pytest.mark.parametrize("path", ["/", ""])
async def test_empty_path_is_404(path: str) -> None:
    async with csms_server() as (server, csms):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(f"ws://127.0.0.1:{server.port}{path}")
        assert refused.value.status == 404
        assert csms.infos == []


# -- 5. compression ----------------------------------------------------------------------------


def extension_names(transport: WebSocketTransport) -> list[str]:
    return [extension.name for extension in transport.connection.protocol.extensions]


async def test_client_does_not_offer_compression_by_default() -> None:
    async with csms_server() as (server, csms), station(server.url, V201) as session:
        server_side, info = await csms.next_connection()
        assert "Sec-WebSocket-Extensions" not in info.headers
        assert extension_names(server_side) == []
        assert extension_names(session.transport) == []  # type: ignore[arg-type]
        await exchange(session, V201, csms)


async def test_server_accepts_compression_when_offered() -> None:
    async with (
        csms_server() as (server, csms),
        station(server.url, V201, compression=True) as session,
    ):
        server_side, info = await csms.next_connection()
        assert "permessage-deflate" in info.headers["Sec-WebSocket-Extensions"]
        assert extension_names(server_side) == ["permessage-deflate"]
        assert extension_names(session.transport) == ["permessage-deflate"]  # type: ignore[arg-type]
        await exchange(session, V201, csms)
        big = meter_values(V201, 42.0, samples=500)  # compresses well
        assert await session.call("MeterValues", big) == {}
        assert csms.received[-1][2] == big


async def test_server_can_refuse_compression() -> None:
    async with (
        csms_server(accept_compression=False) as (server, csms),
        station(server.url, V201, compression=True) as session,
    ):
        server_side, _ = await csms.next_connection()
        assert extension_names(server_side) == []
        assert extension_names(session.transport) == []  # type: ignore[arg-type]
        await exchange(session, V201, csms)


# -- 6. keepalive ------------------------------------------------------------------------------


class _KeepaliveLog(logging.Handler):
    """Counts the server's answered keepalive pings (websockets logs them at DEBUG)."""

    def __init__(self, wanted: int) -> None:
        super().__init__(logging.DEBUG)
        self.pongs = 0
        self.wanted = wanted
        self.enough = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "received keepalive pong" in record.getMessage():
            self.pongs += 1
            if self.pongs >= self.wanted:
                self.enough.set()


@pytest.fixture
def keepalive_log() -> Any:
    logger = logging.getLogger("chargeloop.tests.websocket.keepalive")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    counter = _KeepaliveLog(wanted=4)
    logger.addHandler(counter)
    yield logger, counter
    logger.removeHandler(counter)


async def test_idle_connection_survives_keepalive_pings(keepalive_log: Any) -> None:
    logger, counter = keepalive_log
    async with (
        csms_server(ping_interval=0.2, ping_timeout=1.0, logger=logger) as (server, csms),
        station(server.url, V201, ping_interval=None) as session,
    ):
        server_side, _ = await csms.next_connection()
        # Idle for at least four ping intervals, each answered by the client.
        await asyncio.wait_for(counter.enough.wait(), TIMEOUT)
        assert server_side.connection.state is State.OPEN
        assert session.transport.connection.state is State.OPEN  # type: ignore[attr-defined]
        assert server_side.connection.latency > 0
        assert await session.call("Heartbeat") == {"currentTime": NOW}
        assert csms.sent_close_codes.empty()


async def test_peer_that_stops_answering_pings_is_dropped() -> None:
    """The counter-test: without pongs the same settings do close the connection."""
    async with csms_server(ping_interval=0.2, ping_timeout=0.2, close_timeout=0.5) as (
            server, csms):
        transport = await connect_ocpp(server.url, identity=IDENTITY, ping_interval=None)
        try:
            await csms.next_connection()
            transport.connection.transport.pause_reading()  # pings go unanswered
            code = await asyncio.wait_for(csms.sent_close_codes.get(), TIMEOUT)
            assert code == 1011  # "keepalive ping timeout"
        finally:
            transport.connection.transport.resume_reading()
            await transport.close()


# -- 7. garbage on the wire ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: v.short)
async def test_connection_survives_non_json_text(version: OcppVersion) -> None:
    records: list[TraceRecord] = []
    async with (
        csms_server() as (server, csms),
        station(server.url, version, trace=records.append) as session,
    ):
        await session.send_text("not json")
        # The CALLERROR for the garbage travels ahead of the answers to these calls.
        await exchange(session, version, csms)
        errors = [r for r in records if r.direction == "in" and r.message_type == 4]
        assert [r.message_id for r in errors] == ["-1"]
        code = orjson.loads(errors[0].raw)[2]
        assert code == ("FormationViolation" if version is V16 else "RpcFrameworkError")
        assert session.transport.connection.state is State.OPEN  # type: ignore[attr-defined]


@pytest.mark.parametrize(("version", "code"), [(V16, "FormationViolation"),
                                               (V201, "RpcFrameworkError"),
                                               (V21, "RpcFrameworkError")],
                         ids=["1.6", "2.0.1", "2.1"])
async def test_binary_frame_with_invalid_utf8_gets_callerror(version: OcppVersion,
                                                              code: str) -> None:
    async with csms_server() as (server, csms):
        transport = await connect_ocpp(server.url, identity=IDENTITY, versions=[version])
        try:
            await transport.connection.send(b'[2,"m1","Heartbeat",{"x":"\xc3\x28"}]')
            reply = await asyncio.wait_for(transport.recv(), TIMEOUT)
            assert isinstance(reply, str)
            frame = orjson.loads(reply)
            assert frame[:3] == [4, "-1", code]
            # ... and the connection is still good for real work.
            session = OcppSession(transport, version, role=Role.STATION, identity=IDENTITY,
                                  call_timeout=TIMEOUT)
            serving = asyncio.create_task(session.serve())
            await exchange(session, version, csms)
            await session.close()
            await asyncio.wait_for(serving, TIMEOUT)
        finally:
            await transport.close()


# -- 8. same identity twice ----------------------------------------------------------------------


async def test_second_connection_with_the_same_identity_is_accepted() -> None:
    async with csms_server() as (server, csms):
        first = await connect_ocpp(server.url, identity=IDENTITY)
        second = await connect_ocpp(server.url, identity=IDENTITY)
        try:
            await csms.next_connection()
            await csms.next_connection()
            assert [info.identity for info in csms.infos] == [IDENTITY, IDENTITY]
            assert first.connection.state is State.OPEN
        finally:
            await first.close()
            await second.close()


# -- server housekeeping -------------------------------------------------------------------------


async def test_failed_upgrades_leave_nothing_behind() -> None:
    """A request that passes identity and auth checks but is no valid upgrade (a plain GET)
    must not leave its ConnectionInfo in the server for ever."""
    probe = "leak-probe"  # an identity no other test uses, so only our leftovers count
    async with csms_server(check_password=lambda who, pw: pw == "pw") as (server, csms):
        for _ in range(3):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(f"GET /ocpp/{probe} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Authorization: {basic(probe, 'pw')}\r\n\r\n".encode())
            status = await asyncio.wait_for(reader.readline(), TIMEOUT)
            assert status.split()[1] == b"426"  # Upgrade Required
            writer.close()
            await asyncio.wait_for(writer.wait_closed(), TIMEOUT)
        server.close()
        await asyncio.wait_for(server.wait_closed(), TIMEOUT)
        gc.collect()
        leftovers = [o for o in gc.get_objects()
                     if isinstance(o, ConnectionInfo) and o.identity == probe]
        assert leftovers == []
        assert csms.infos == []


async def test_ipv6_loopback_url_is_usable() -> None:
    try:
        server = await serve_ocpp(Csms().on_connect, "::1", 0)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    async with server:
        assert server.url == f"ws://[::1]:{server.port}/ocpp"
        transport = await connect_ocpp(server.url, identity=IDENTITY)
        assert transport.subprotocol == "ocpp2.0.1"
        await transport.close()


async def test_certificate_identity_check_needs_tls() -> None:
    async def on_connect(transport: object, info: object) -> None:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="ssl_context"):
        await serve_ocpp(on_connect, require_certificate_identity=True)
