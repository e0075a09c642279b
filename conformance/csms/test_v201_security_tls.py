"""OCPP 2.0.1 block A (Security), CSMS under test: security profiles 2 and 3 over TLS
(TC_A_04, TC_A_06, TC_A_07, TC_A_08), and the upgrade to profile 2 (TC_A_19).

The CSMS serves them at the SUT file's ``tls.profile_2_url`` / ``tls.profile_3_url`` (or a
wss:// ``url``), with a certificate ``tls.ca`` verifies; for profile 3 the station presents
``tls.client_cert`` (CN = the first station's id). ``--reference`` sets all of that up.
"""

from __future__ import annotations

import pytest

from conformance.csms.harness import StationPool, boot_payload, check, csms_sends
from conformance.csms.tls import (
    MODERN,
    boot_over_profile_2,
    boot_over_profile_3,
    endpoint,
    legacy_context,
    profile_2_password,
    require_trusted,
    station_context,
    tls_handshake,
    untrusted_client_context,
    unverified_context,
    websocket_attempt,
)
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_run

pytestmark = pytest.mark.asyncio


@pytest.mark.case("TC_A_04_CSMS")
async def test_TC_A_04_CSMS(stations: StationPool, sut: Sut) -> None:
    """TLS - server-side certificate - valid certificate (security profile 2).

    Steps: the station opens a TLS connection to the CSMS, checks its server certificate
    against the CA and the endpoint's host name, upgrades to a WebSocket with HTTP Basic auth
    and sends BootNotificationRequest.
    Validated: the TLS version is 1.2 or higher; the server certificate is valid (the CA
    signed it, it is in date, it names the host); the CSMS accepts the WebSocket connection and
    answers the BootNotification Accepted.
    """
    await boot_over_profile_2(stations, sut)


@pytest.mark.case("TC_A_06_CSMS")
async def test_TC_A_06_CSMS(sut: Sut) -> None:
    """TLS - server-side certificate - TLS version too low.

    Steps: the station opens a TLS connection offering TLS 1.2 or higher (it must work, so a
    refusal below means the version; the certificate is not checked here, TC_A_04 does), then
    one offering only TLS 1.0 and 1.1.
    Validated: the CSMS refuses the handshake with the old versions.
    """
    url = endpoint(sut, 2)
    # The certificate is TC_A_04's business: here only the versions count.
    modern = await tls_handshake(url, unverified_context(), sut.answer_timeout_s)
    check(modern.accepted and modern.detail in MODERN, "TLS 1.2+ handshake",
          "the endpoint speaks TLS 1.2 or higher", modern.detail)
    old = await tls_handshake(url, legacy_context(), sut.answer_timeout_s)
    if old.by_station:
        not_run(f"this machine's TLS library cannot offer TLS 1.0/1.1: {old.detail}")
    check(not old.accepted, "TLS 1.1 handshake", "the CSMS refuses TLS below 1.2",
          f"it agreed on {old.detail}")


@pytest.mark.case("TC_A_07_CSMS")
async def test_TC_A_07_CSMS(stations: StationPool, sut: Sut) -> None:
    """TLS - client-side certificate - valid certificate (security profile 3).

    Steps: the station opens a TLS connection presenting its client certificate (signed by a
    CA the CSMS trusts, CN = the station id), upgrades to a WebSocket without Basic auth and
    sends BootNotificationRequest.
    Validated: TLS 1.2 or higher with a valid server certificate; the CSMS accepts the
    connection and answers the BootNotification Accepted.
    """
    await boot_over_profile_3(stations, sut)


@pytest.mark.case("TC_A_08_CSMS")
async def test_TC_A_08_CSMS(stations: StationPool, sut: Sut) -> None:
    """TLS - client-side certificate - invalid certificate (security profile 3).

    Steps: the station opens a TLS connection presenting a client certificate for its own id
    but from a CA the CSMS cannot know, and tries to upgrade to a WebSocket.
    Validated: the CSMS refuses the connection (TLS alert, closed socket or refused upgrade);
    the station itself trusted the CSMS's certificate, so the refusal is the CSMS's.
    """
    url = endpoint(sut, 3)
    identity = sut.stations[0].id
    station = stations.make(url=url, password=None,
                            ssl_context=untrusted_client_context(sut, identity))
    attempt = await websocket_attempt(station)
    require_trusted(attempt, "TLS handshake with an untrusted client certificate")
    check(not attempt.accepted, "TLS handshake with an untrusted client certificate",
          "the CSMS refuses the connection", attempt.detail)


# -- TC_A_19: upgrading the station to security profile 2 ---------------------------------------

UPGRADE_SLOT = 2  # the configuration slot the upgraded connection profile goes to


@pytest.mark.case("TC_A_19_CSMS")
async def test_TC_A_19_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Upgrade Charging Station Security Profile - Accepted (A05).

    Before: Booted over the current profile (1: Basic auth without TLS). Steps: 1. the CSMS
    sends SetNetworkProfileRequest with a connection profile of a higher security profile;
    2. the station answers Accepted; 3. the CSMS sends SetVariablesRequest setting
    OCPPCommCtrlr.NetworkConfigurationPriority; 4. Accepted; 5. the CSMS sends ResetRequest;
    6. Accepted; 7. the station reconnects with the new profile at the new profile's URL and
    sends BootNotificationRequest; 8. the CSMS answers.
    Validated: connectionData for OCPP 2.0.1 over JSON, a securityProfile higher than the
    current one, a wss:// ocppCsmsUrl; the priority list starts with the new slot; the reset is
    OnIdle; the CSMS accepts the station over the upgraded connection and answers its
    BootNotification Accepted.
    """
    if (sut.url or "").startswith("wss://"):
        not_run("the upgrade from profile 1 needs the SUT's url to be ws:// (profile 1); it is "
                "wss://")
    target = endpoint(sut, 2)
    password = profile_2_password(sut)
    station = await stations.booted()
    current = 1  # the station logged in with Basic auth over ws://
    profile = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": target,
               "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0"}
    call = await csms_sends(station, triggers, "SetNetworkProfile",
                            {"configurationSlot": UPGRADE_SLOT, "connectionData": profile},
                            {"status": "Accepted"}, step="SetNetworkProfileRequest",
                            timeout_s=sut.action_timeout_s)
    data = call.payload.get("connectionData", {})
    check(data.get("ocppVersion") == "OCPP20" and data.get("ocppTransport") == "JSON",
          "SetNetworkProfileRequest", "connectionData for OCPP20 over JSON", call.payload)
    check(isinstance(data.get("securityProfile"), int) and data["securityProfile"] > current,
          "SetNetworkProfileRequest", f"a securityProfile higher than {current}", call.payload)
    new_url = str(data.get("ocppCsmsUrl", ""))
    check(new_url.startswith("wss://"), "SetNetworkProfileRequest",
          "an ocppCsmsUrl with wss:// (profiles 2 and 3 are TLS)", call.payload)
    slot = call.payload.get("configurationSlot")

    priority = await csms_sends(station, triggers, "SetVariables", {"setVariableData": [
        {**_PRIORITY, "attributeValue": f"{slot},1"}]}, None,
        step="SetVariablesRequest (NetworkConfigurationPriority)",
        timeout_s=sut.action_timeout_s)
    items = priority.payload.get("setVariableData", [])
    priority.respond({"setVariableResult": [{
        "attributeStatus": "Accepted", "component": item.get("component", {}),
        "variable": item.get("variable", {})} for item in items]})
    chosen = [item for item in items
              if item.get("component", {}).get("name") == "OCPPCommCtrlr"
              and item.get("variable", {}).get("name") == "NetworkConfigurationPriority"]
    check(len(chosen) == 1, "SetVariablesRequest", "OCPPCommCtrlr.NetworkConfigurationPriority",
          priority.payload)
    first = str(chosen[0].get("attributeValue", "")).split(",")[0].strip()
    check(first == str(slot), "SetVariablesRequest",
          f"a priority list that starts with the new slot {slot}", priority.payload)

    reset = await csms_sends(station, triggers, "Reset", {"type": "OnIdle"},
                             {"status": "Accepted"}, step="ResetRequest",
                             timeout_s=sut.action_timeout_s)
    check(reset.payload.get("type") == "OnIdle", "ResetRequest", "type OnIdle", reset.payload)

    await station.close()  # the reboot: back with the upgraded profile
    upgraded = stations.make(url=new_url, password=password,
                             ssl_context=station_context(sut, client_cert=False))
    await upgraded.connect(step="reconnect with security profile 2")
    answer = await upgraded.call("BootNotification", boot_payload(sut.version, "RemoteReset"),
                                 step="BootNotificationRequest (upgraded)")
    check(answer.get("status") == "Accepted", "BootNotificationResponse (upgraded)",
          "status Accepted", answer)


_PRIORITY = {"component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "NetworkConfigurationPriority"}}
