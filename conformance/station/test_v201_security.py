"""OCPP 2.0.1 block A, security (Core, M), charging station under test (Part 6 Edition 3, errata
2025-09): Basic authentication, TLS with the server certificate, the Basic auth password and
the security profile.

Which cases apply depends on the security profile the SUT file gives the station (``security_
profile``): Basic auth needs profile 1 or 2, TLS profile 2 or 3, a downgrade a profile above 0.
"""

from __future__ import annotations

import secrets
import ssl
from typing import Any

import pytest

from conformance.station.harness import TLS_PROFILES, Harness, check
from conformance.station.listener import TlsControl
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

BASIC_AUTH_PROFILES = (1, 2)
TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")
REFUSAL_WINDOW_S = 0.5  # a station that takes the certificate is connected well within this


def _needs_basic_auth(h: Harness) -> None:
    if h.sut.security_profile not in BASIC_AUTH_PROFILES:
        not_applicable(f"basic_auth: security profile 1 or 2 (the SUT file gives "
                       f"{h.sut.security_profile})")


def _password_result(answer: dict[str, Any]) -> dict[str, Any]:
    results = answer.get("setVariableResult", [])
    check(len(results) == 1, "SetVariablesResponse", "one result", answer)
    return dict(results[0])


async def _set_password(h: Harness, password: str, *, step: str) -> dict[str, Any]:
    answer = await h.csms.call("SetVariables", {"setVariableData": [{
        "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
        "attributeValue": password}]}, step=step)
    return _password_result(answer)


@pytest.mark.case("TC_A_01_CS")
async def test_TC_A_01_CS(h: Harness) -> None:
    """Basic Authentication, valid username/password combination: (security profile 1 or 2)
    the station connects with an HTTP Authorization header, Basic, whose username is its
    identity and whose password is the configured one (the harness refuses anything else at
    the upgrade); it then boots (BootNotification Accepted)."""
    _needs_basic_auth(h)
    await h.booted()
    connection = h.csms.connections[h.csms.first_connection]
    identity = h.sut.stations[0].id
    check(connection.info.basic_auth_user == identity, "HTTP upgrade request",
          f"Authorization: Basic with username {identity}", connection.info.basic_auth_user)


@pytest.mark.case("TC_A_04_CS")
async def test_TC_A_04_CS(h: Harness) -> None:
    """TLS, server-side certificate, valid certificate: (security profile 2 or 3) the station
    connects over TLS 1.2 or later, accepting the harness's server certificate (issued by the
    CSMS root certificate the station was given), and boots."""
    if h.sut.security_profile not in TLS_PROFILES:
        not_applicable(f"tls_server: security profile 2 or 3 (the SUT file gives "
                       f"{h.sut.security_profile})")
    await h.booted()
    connection = h.csms.connections[h.csms.first_connection]
    check(connection.tls_version in TLS_VERSIONS, "TLS handshake", "TLS 1.2 or later",
          connection.tls_version or "no TLS")


async def _refused(h: Harness, control: TlsControl, before: int, what: str) -> None:
    """The harness closes the connection; the station begins a TLS handshake (within the time
    a reconnect may take) and no connection comes of it within ``REFUSAL_WINDOW_S``."""
    csms = h.csms
    count = control.handshakes
    connection = csms.connection
    if connection is not None:
        await connection.session.close()
    tried = await control.handshake_after(count, h.connect_s)
    check(tried, what, "the station to try to connect (a TLS handshake)", "no handshake")
    # a station that takes the certificate has its WebSocket up within moments
    try:
        await csms.new_connection(before, REFUSAL_WINDOW_S, step=what)
    except CaseFailed:
        return  # no connection came of it: refused
    connected = csms.connections[-1]
    raise CaseFailed(what, "the TLS handshake refused, no connection",
                     f"connected ({connected.tls_version})")


@pytest.mark.case("TC_A_05_CS")
async def test_TC_A_05_CS(h: Harness) -> None:
    """TLS, server-side certificate, invalid certificate: (security profile 2 or 3, the
    harness's test CA) the harness closes the connection and serves in turn a server
    certificate that has expired, one not yet valid, one from another root, one for another
    host name and one with a wildcard name; the station tries each (a TLS handshake) and
    never gets a connection; with the valid certificate back it connects and reports
    SecurityEventNotification InvalidCsmsCertificate."""
    control = h.own_test_ca()
    await h.booted()
    csms = h.csms
    before = len(csms.connections)
    for name, certificate in control.invalid_server_certificates().items():
        with control.serving(certificate=certificate):
            await _refused(h, control, before, f"server certificate: {name}")
    await csms.new_connection(before, h.connect_s,
                              step="the station connects with the valid certificate")
    await csms.receive("SecurityEventNotification", step="SecurityEventNotification",
                       where=lambda p: p.get("type") == "InvalidCsmsCertificate",
                       expected="SecurityEventNotification InvalidCsmsCertificate")


@pytest.mark.case("TC_A_06_CS")
async def test_TC_A_06_CS(h: Harness) -> None:
    """TLS, server-side certificate, TLS version too low: (security profile 2 or 3, the
    harness's test CA) the harness closes the connection and offers only TLS 1.1; the station
    tries (a TLS handshake) and gets no connection; with TLS 1.2 offered again it connects
    over TLS 1.2 or later."""
    control = h.own_test_ca()
    await h.booted()
    csms = h.csms
    before = len(csms.connections)
    with control.serving(old_tls=ssl.TLSVersion.TLSv1_1):
        await _refused(h, control, before, "server offering TLS 1.1 only")
    await csms.new_connection(before, h.connect_s, step="the station connects over TLS 1.2")
    versions = [c.tls_version for c in csms.connections[before:]]
    check(all(v in TLS_VERSIONS for v in versions), "TLS handshake",
          "every connection over TLS 1.2 or later", versions)


@pytest.mark.case("TC_A_09_CS")
async def test_TC_A_09_CS(h: Harness) -> None:
    """Update Charging Station Password for HTTP Basic Authentication, Accepted: (security
    profile 1 or 2) SetVariables SecurityCtrlr.BasicAuthPassword = a new password: Accepted;
    the harness closes the connection; the station connects again with the new password (the
    harness now refuses the old one). Afterwards the harness sets the old password back."""
    _needs_basic_auth(h)
    await h.booted()
    csms = h.csms
    station = h.sut.stations[0]
    new = f"conformance-{secrets.token_hex(8)}"
    result = await _set_password(h, new, step="SetVariablesRequest BasicAuthPassword")
    check(result.get("attributeStatus") == "Accepted", "SetVariablesResponse", "Accepted",
          result)
    csms.passwords[station.id] = new
    try:
        before = len(csms.connections)
        connection = csms.connection
        assert connection is not None
        await connection.session.close()
        await csms.new_connection(before, h.connect_s,
                                  step="the station reconnects with the new password")
        if station.password is not None:
            await _set_password(h, station.password, step="restore the old password")
    finally:
        csms.passwords.pop(station.id, None)


@pytest.mark.case("TC_A_10_CS")
async def test_TC_A_10_CS(h: Harness) -> None:
    """Update Charging Station Password for HTTP Basic Authentication, Rejected: (security
    profile 1 or 2) SetVariables SecurityCtrlr.BasicAuthPassword = a password shorter than
    the 16 characters a passwordString needs: attributeStatus Rejected."""
    _needs_basic_auth(h)
    await h.booted()
    result = await _set_password(h, "too-short", step="SetVariablesRequest BasicAuthPassword")
    check(result.get("attributeStatus") == "Rejected", "SetVariablesResponse", "Rejected",
          result)


async def _free_slot(h: Harness) -> int:
    """A network configuration slot that NetworkConfigurationPriority does not use."""
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"}}]},
        step="GetVariablesRequest NetworkConfigurationPriority")
    results = answer.get("getVariableResult", [])
    text = str(results[0].get("attributeValue", "")) if results else ""
    used = {int(p) for p in text.split(",") if p.strip().isdigit()}
    return next(slot for slot in range(len(used) + 1) if slot not in used)


@pytest.mark.case("TC_A_22_CS")
async def test_TC_A_22_CS(h: Harness) -> None:
    """Upgrade Charging Station Security Profile, downgrade rejected: (security profile 1 or
    higher) SetNetworkProfileRequest for a free configuration slot with a securityProfile one
    below the current one: SetNetworkProfileResponse Rejected."""
    current = h.sut.security_profile
    if current < 1:
        not_applicable("a security profile above 0 (there is nothing to downgrade to)")
    await h.booted()
    slot = await _free_slot(h)
    lower = current - 1
    scheme = "wss" if lower >= 2 else "ws"
    url = scheme + h.csms.url[h.csms.url.index(":"):]
    answer = await h.csms.call("SetNetworkProfile", {
        "configurationSlot": slot, "connectionData": {
            "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url,
            "messageTimeout": int(h.sut.answer_timeout_s) or 30, "securityProfile": lower,
            "ocppInterface": "Wired0"}}, step="SetNetworkProfileRequest")
    check(answer.get("status") == "Rejected", "SetNetworkProfileResponse", "Rejected", answer)
