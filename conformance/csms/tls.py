"""TLS for the security-profile cases (1.6 TC_086/TC_087, 2.0.1 TC_A_04..A_08, TC_A_19): the
endpoints the SUT file names, the contexts the suite's station connects with, and handshakes
whose outcome says who refused it.

A refused TLS handshake has two possible authors: the CSMS (an alert, or it closes the
socket) or the suite's own station (it does not trust the CSMS's certificate, or cannot offer
what the case asks for). A case that expects the CSMS to refuse must not pass because the
station gave up, so ``attempt`` keeps them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import warnings
from dataclasses import dataclass
from urllib.parse import urlparse

import trustme
import websockets

from chargeloop.ocppj.transport.websocket import station_url
from conformance.csms.harness import StationPool, booted
from conformance.harness_station import TestStation
from conformance.reference import wait_for_endpoint
from conformance.sut import Sut
from conformance.verdicts import CaseFailed, not_run

MODERN = ("TLSv1.2", "TLSv1.3")  # what security profiles 2 and 3 require


def endpoint(sut: Sut, profile: int) -> str:
    """The wss:// URL of security profile ``profile``; the case is not run without one."""
    url = sut.tls_url(profile)
    if url is None:
        key = "profile_2_url" if profile == 2 else "profile_3_url"
        not_run(f"needs a wss:// endpoint of security profile {profile} (tls.{key} in the SUT "
                "file, or a wss:// url)")
    assert url is not None
    # --reference starts its TLS instances beside the first cases; the first TLS case waits
    # for them here (a blocking wait: nothing else of the case runs yet)
    wait_for_endpoint(url)
    return url


def profile_2_password(sut: Sut) -> str:
    """Security profile 2 is TLS plus HTTP Basic auth: the station needs its password."""
    password = sut.stations[0].password
    if password is None:
        not_run("security profile 2 needs the station's Basic auth password "
                "(stations[0].password in the SUT file)")
    assert password is not None
    return password


def station_context(sut: Sut, *, client_cert: bool) -> ssl.SSLContext:
    """TLS 1.2+ trusting the SUT file's CA (the system's without one); with ``client_cert``
    presenting the station certificate of the SUT file (security profile 3)."""
    context = ssl.create_default_context(cafile=str(sut.tls.ca) if sut.tls.ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert:
        if sut.tls.client_cert is None:
            not_run("needs a station certificate for security profile 3 (tls.client_cert in "
                    "the SUT file)")
        assert sut.tls.client_cert is not None
        context.load_cert_chain(str(sut.tls.client_cert),
                                str(sut.tls.client_key) if sut.tls.client_key else None)
    return context


def untrusted_client_context(sut: Sut, identity: str) -> ssl.SSLContext:
    """Trusts the CSMS as ``station_context`` does, but presents a certificate for
    ``identity`` from a CA the suite makes up on the spot: one no CSMS can trust."""
    context = station_context(sut, client_cert=False)
    stranger = trustme.CA(organization_name="chargeloop conformance: untrusted CA")
    stranger.issue_cert("station.invalid", common_name=identity).configure_cert(context)
    return context


def unverified_context() -> ssl.SSLContext:
    """TLS 1.2+ without checking the CSMS's certificate (cases about versions, not trust)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def legacy_context() -> ssl.SSLContext:
    """A client that offers TLS 1.0 and 1.1 only (TC_A_06). It does not check the CSMS's
    certificate: the question is only whether the CSMS agrees to the old version. OpenSSL 3
    refuses those versions at its default security level, hence level 0."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # deprecated on purpose: the case offers exactly these
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


@dataclass(frozen=True)
class Attempt:
    """How a connection attempt ended."""

    accepted: bool  # the CSMS completed the handshake (TLS, or TLS and WebSocket)
    by_station: bool  # the suite's station gave up, not the CSMS
    detail: str


async def tls_handshake(url: str, context: ssl.SSLContext, timeout_s: float) -> Attempt:
    """A bare TLS handshake with the host and port of ``url``; accepted: the version agreed."""
    target = urlparse(url)
    port = target.port or 443
    host = target.hostname or ""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(
            host, port, ssl=context, server_hostname=host if context.check_hostname else None),
            timeout_s)
    except ssl.SSLCertVerificationError as exc:
        return Attempt(False, True, f"the station does not trust the CSMS: {exc.verify_message}")
    except ssl.SSLError as exc:
        by_station = "NO_PROTOCOLS_AVAILABLE" in str(exc) or "no protocols" in str(exc)
        return Attempt(False, by_station, f"TLS: {exc.reason or exc}")
    except (OSError, TimeoutError) as exc:
        return Attempt(False, False, f"{type(exc).__name__}: {exc}")
    ssl_object = writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else "?"
    writer.close()
    # the CSMS's side of the goodbye is not what the case checks
    with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
        await asyncio.wait_for(writer.wait_closed(), timeout_s)
    return Attempt(True, False, str(version))


async def websocket_attempt(station: TestStation) -> Attempt:
    """Open the WebSocket as ``station`` (its TLS context, no Basic auth) and close it again.
    With TLS 1.3 a CSMS checks the client certificate after the station's handshake is done,
    so only the WebSocket upgrade shows whether it let the station in."""
    url = station_url(station.url, station.identity)
    try:
        async with websockets.connect(url, subprotocols=[station.version.value],  # type: ignore[list-item]
                                      additional_headers=station.case_headers,
                                      ssl=station.ssl_context, proxy=None,
                                      open_timeout=station.answer_timeout_s):
            return Attempt(True, False, "HTTP 101: the WebSocket was opened")
    except ssl.SSLCertVerificationError as exc:
        return Attempt(False, True, f"the station does not trust the CSMS: {exc.verify_message}")
    except websockets.InvalidStatus as exc:
        return Attempt(False, False, f"HTTP {exc.response.status_code}")
    except (ssl.SSLError, websockets.InvalidHandshake, OSError, TimeoutError) as exc:
        return Attempt(False, False, f"{type(exc).__name__}: {exc}")


def require_trusted(attempt: Attempt, step: str) -> None:
    """The station gave up on the CSMS's certificate: a case about the CSMS refusing the
    station cannot conclude anything, and the CSMS's certificate is itself wrong."""
    if attempt.by_station:
        raise CaseFailed(step, "a CSMS certificate the SUT file's CA verifies, for the "
                         "endpoint's host name", attempt.detail)


async def modern_handshake(sut: Sut, url: str, *, step: str, client_cert: bool = False) -> str:
    """A TLS 1.2+ handshake that verifies the CSMS's certificate and host name; the version."""
    attempt = await tls_handshake(url, station_context(sut, client_cert=client_cert),
                                  sut.answer_timeout_s)
    require_trusted(attempt, step)
    if not attempt.accepted:
        raise CaseFailed(step, "a TLS 1.2 or 1.3 handshake", attempt.detail)
    if attempt.detail not in MODERN:
        raise CaseFailed(step, "TLS 1.2 or higher", attempt.detail)
    return attempt.detail


async def boot_over_profile_2(stations: StationPool, sut: Sut) -> None:
    """The valid-certificate case of security profile 2 (1.6 TC_086, 2.0.1 TC_A_04): a TLS 1.2+
    handshake checking the server certificate, a WebSocket with Basic auth, boot Accepted."""
    url = endpoint(sut, 2)
    password = profile_2_password(sut)
    await modern_handshake(sut, url, step="TLS handshake")
    station = stations.make(url=url, password=password,
                            ssl_context=station_context(sut, client_cert=False))
    await station.connect(step="WebSocket upgrade with Basic auth over TLS")
    await booted(station)


async def boot_over_profile_3(stations: StationPool, sut: Sut) -> None:
    """The valid-certificate case of security profile 3 (1.6 TC_087, 2.0.1 TC_A_07): mutual TLS
    with the station's certificate, a WebSocket without Basic auth, boot Accepted."""
    url = endpoint(sut, 3)
    await modern_handshake(sut, url, step="TLS handshake with the client certificate",
                           client_cert=True)
    station = stations.make(url=url, password=None,
                            ssl_context=station_context(sut, client_cert=True))
    await station.connect(step="WebSocket upgrade over mutual TLS")
    await booted(station)
