"""OCPP 2.0.1 network connection profiles (blocks A and B, Core, M), charging station under test
(Part 6 Edition 3, errata 2025-09): the upgrade to a higher security profile, the migration to
a new profile on another CSMS address (same CSMS root, or a new CSMS under a new root), and the
fallback to the previous profile when the new one does not work. (A profile with a lower
security profile, Rejected, is TC_A_22 in test_v201_security.py.)

The new CSMS address is a second endpoint of the harness (``TestCsms.second_endpoint``: another
port of the same host, the same TLS server certificate or one of a new root, Basic auth). The
errata make the test system always send a Reset to switch profiles. The station keeps the new
profile after the case (the suite rebuilds the simulated station before every case; a real
one falls back to its previous profile once the harness's second endpoint is gone).
"""

from __future__ import annotations

import ssl

import pytest

from conformance.station.harness import Harness, check
from conformance.station.listener import new_root_tls
from conformance.station.network_profiles201 import (
    configured_slots,
    migrate_to,
    set_network_profile,
)
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


async def _install_new_root(h: Harness) -> ssl.SSLContext:
    """InstallCertificateRequest CSMSRootCertificate with a new root (Accepted); the TLS server
    context of a CSMS under that root."""
    context, root = new_root_tls()
    answer = await h.csms.call("InstallCertificate", {
        "certificateType": "CSMSRootCertificate", "certificate": root},
        step="InstallCertificateRequest CSMSRootCertificate")
    check(answer.get("status") == "Accepted", "InstallCertificateResponse", "Accepted", answer)
    return context


@pytest.mark.case("TC_B_45_CS")
async def test_TC_B_45_CS(h: Harness) -> None:
    """Migrate to new ConnectionProfile - Success - Same CSMS Root: the test system sends
    SetNetworkProfileRequest (a free slot; ocppCsmsUrl another address of the test system,
    same security profile, same CSMS root certificate): Accepted; SetVariablesRequest
    OCPPCommCtrlr.NetworkConfigurationPriority with the new slot first: Accepted (or
    RebootRequired); ResetRequest OnIdle: Accepted. The station then connects to the new
    address and sends BootNotificationRequest, then StatusNotificationRequest Available for
    every connector."""
    await h.booted()
    async with h.csms.second_endpoint() as url:
        before = len(h.csms.connections)
        await migrate_to(h, url)
        number = await h.csms.new_connection(before, h.connect_s * 2,
                                             step="reconnect after reset")
        connection = h.csms.connections[number]
        check(connection.endpoint == url, "reconnect after reset",
              f"a connection to the new profile's address {url}",
              connection.endpoint or h.csms.url)
        await h.csms.receive("BootNotification", step="BootNotificationRequest on the new "
                             "profile", timeout_s=h.connect_s)
        await h.all_statuses("Available", step="after reset")


@pytest.mark.case("TC_B_46_CS")
async def test_TC_B_46_CS(h: Harness) -> None:
    """Migrate to new ConnectionProfile - Fallback mechanism - Same CSMS Root: as TC_B_45, but
    the new profile's ocppCsmsUrl is an address of the test system where nothing listens. After
    the Reset the station cannot connect with the new profile and, after
    NetworkProfileConnectionAttempts failed attempts, falls back to the previous profile: it
    connects to the original address and sends BootNotificationRequest, then
    StatusNotificationRequest Available for every connector."""
    await h.booted()
    async with h.csms.second_endpoint() as url:
        pass  # its port is closed now: nothing listens there
    before = len(h.csms.connections)
    await migrate_to(h, url)
    number = await h.csms.new_connection(before, h.connect_s * 2,
                                         step="reconnect with the previous profile")
    connection = h.csms.connections[number]
    if connection.endpoint:
        raise CaseFailed("reconnect with the previous profile",
                         f"a connection to the previous address {h.csms.url}",
                         connection.endpoint)
    await h.csms.receive("BootNotification", step="BootNotificationRequest on the previous "
                         "profile", timeout_s=h.connect_s)
    await h.all_statuses("Available", step="after fallback")


@pytest.mark.case("TC_A_19_CS")
async def test_TC_A_19_CS(h: Harness) -> None:
    """Upgrade Charging Station Security Profile - Accepted: (a station at security profile 1;
    the harness upgrades it to 2, TLS with Basic auth) the test system installs its CSMS root
    certificate (InstallCertificateRequest CSMSRootCertificate: Accepted), sends
    SetNetworkProfileRequest (a free slot; ocppCsmsUrl a wss:// address of the test system;
    securityProfile 2): Accepted; SetVariablesRequest NetworkConfigurationPriority with the
    new slot first: Accepted (or RebootRequired); ResetRequest OnIdle: Accepted. The station
    then connects to the new address over TLS 1.2 or later, accepting the server certificate
    of that root, with Basic auth (its identity as username), sends BootNotificationRequest
    and StatusNotificationRequest Available for every connector, and reports
    SecurityCtrlr.SecurityProfile 2."""
    if h.sut.security_profile != 1:
        not_applicable(f"security_profile_upgrade: from security profile 1 to 2 (the SUT "
                       f"file gives {h.sut.security_profile})")
    await h.booted()
    context = await _install_new_root(h)
    async with h.csms.second_endpoint(context) as url:
        before = len(h.csms.connections)
        await migrate_to(h, url, security_profile=2)
        number = await h.csms.new_connection(before, h.connect_s * 2,
                                             step="reconnect after reset")
        connection = h.csms.connections[number]
        check(connection.endpoint == url, "reconnect after reset",
              f"a connection to the new profile's address {url}",
              connection.endpoint or h.csms.url)
        check(connection.tls_version in TLS_VERSIONS, "TLS handshake", "TLS 1.2 or later",
              connection.tls_version or "no TLS")
        identity = h.sut.stations[0].id
        check(connection.info.basic_auth_user == identity, "HTTP upgrade request",
              f"Authorization: Basic with username {identity}",
              connection.info.basic_auth_user)
        await h.csms.receive("BootNotification", step="BootNotificationRequest on the new "
                             "profile", timeout_s=h.connect_s)
        await h.all_statuses("Available", step="after reset")
        answer = await h.csms.call("GetVariables", {"getVariableData": [{
            "component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}}]},
            step="GetVariablesRequest SecurityCtrlr.SecurityProfile")
        results = answer.get("getVariableResult", [])
        check(len(results) == 1 and results[0].get("attributeValue") == "2",
              "GetVariablesResponse", "SecurityCtrlr.SecurityProfile 2", answer)


@pytest.mark.case("TC_B_50_CS")
async def test_TC_B_50_CS(h: Harness) -> None:
    """Migrate to new ConnectionProfile - Success - New CSMS Root - New CSMS: (security
    profile 2) the test system installs the root certificate of the new CSMS
    (InstallCertificateRequest CSMSRootCertificate: Accepted), sends SetNetworkProfileRequest
    (a free slot; ocppCsmsUrl the new CSMS, whose server certificate that root issued; the
    same security profile): Accepted; SetVariablesRequest NetworkConfigurationPriority with
    the new slot first: Accepted (or RebootRequired); ResetRequest OnIdle: Accepted. The
    station then connects to the new CSMS over TLS 1.2 or later, accepting its certificate,
    with Basic auth, and sends BootNotificationRequest and StatusNotificationRequest Available
    for every connector."""
    if h.sut.security_profile != 2:
        not_applicable(f"tls_server with Basic auth: security profile 2 (the SUT file gives "
                       f"{h.sut.security_profile})")
    await h.booted()
    context = await _install_new_root(h)
    async with h.csms.second_endpoint(context) as url:
        before = len(h.csms.connections)
        await migrate_to(h, url)
        number = await h.csms.new_connection(before, h.connect_s * 2,
                                             step="reconnect after reset")
        connection = h.csms.connections[number]
        check(connection.endpoint == url, "reconnect after reset",
              f"a connection to the new CSMS {url}", connection.endpoint or h.csms.url)
        check(connection.tls_version in TLS_VERSIONS, "TLS handshake", "TLS 1.2 or later",
              connection.tls_version or "no TLS")
        await h.csms.receive("BootNotification", step="BootNotificationRequest at the new "
                             "CSMS", timeout_s=h.connect_s)
        await h.all_statuses("Available", step="after reset")


INVALID_SLOT = 999  # no station has this many network profile slots


@pytest.mark.case("TC_B_43_CS")
async def test_TC_B_43_CS(h: Harness) -> None:
    """Set new NetworkConnectionProfile - Rejected: the test system sends
    SetNetworkProfileRequest with a configurationSlot outside NetworkConfigurationPriority's
    slots (the connection data otherwise valid: the current address and security profile):
    the station answers Rejected (B09.FR.02: invalid content)."""
    await h.booted()
    slots = await configured_slots(h)
    check(INVALID_SLOT not in slots, "GetVariablesResponse",
          f"NetworkConfigurationPriority without slot {INVALID_SLOT}", slots)
    answer = await set_network_profile(h, INVALID_SLOT, h.csms.url, h.sut.security_profile,
                                       step="SetNetworkProfileRequest")
    check(answer.get("status") == "Rejected", "SetNetworkProfileResponse", "Rejected", answer)

