"""2.0.1 network profiles of the simulated station found missing by TC_A_20_CS and TC_B_49_CS:
NetworkConfigurationPriority with a TLS profile is refused while no valid CSMS root
certificate is installed (A05.FR.02), and once every slot of the list failed the station
falls back to the profile of its last successful connection and keeps reconnecting to it
(B10.FR.07)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trustme

from chargeloop.ocppj import OcppVersion
from simulator.station import StationSpec
from simulator.station.network_profiles import FACTORY_SLOT, NetworkProfiles
from tests.simulator.station_support import world


def _request(slot: int, url: str, security_profile: int) -> dict[str, Any]:
    return {"configurationSlot": slot, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url,
        "messageTimeout": 30, "securityProfile": security_profile, "ocppInterface": "Wired0"}}


def _priority(value: str) -> dict[str, Any]:
    return {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                 "variable": {"name": "NetworkConfigurationPriority"},
                                 "attributeValue": value}]}


def test_after_every_slot_failed_the_last_connected_slot_is_kept() -> None:
    profiles = NetworkProfiles()
    profiles.set_profile(_request(1, "ws://new.example/ocpp", 1), 1, False)
    profiles.connected(FACTORY_SLOT)
    assert profiles.current("1,0") == 1
    profiles.failed("1,0", attempts=1)
    assert profiles.current("1,0") == FACTORY_SLOT  # the next slot of the list (B10.FR.03)
    profiles.failed("1,0", attempts=1)  # every slot failed: B10.FR.07
    for _ in range(3):
        assert profiles.current("1,0") == FACTORY_SLOT
        profiles.failed("1,0", attempts=1)
    profiles.connected(FACTORY_SLOT, "1,0")
    assert profiles.current("1,0") == FACTORY_SLOT  # after a connection loss: tried first
    profiles.rebooted()
    assert profiles.current("1,0") == 1  # a reboot starts the list again


def test_without_the_fallback_the_list_starts_again() -> None:
    profiles = NetworkProfiles(fallback_to_last=False)
    profiles.set_profile(_request(1, "ws://new.example/ocpp", 1), 1, False)
    profiles.failed("1,0", attempts=1)
    profiles.failed("1,0", attempts=1)
    assert profiles.current("1,0") == 1  # B10.FR.08


def test_a_tls_slot_needs_a_csms_root_and_profile_3_a_client_certificate() -> None:
    profiles = NetworkProfiles()
    profiles.set_profile(_request(1, "wss://new.example/ocpp", 2), 1, False)
    assert profiles.priority_problem("1,0", has_csms_root=False,
                                     has_client_certificate=False) is not None
    assert profiles.priority_problem("1,0", has_csms_root=True,
                                     has_client_certificate=False) is None
    assert profiles.priority_problem("0", has_csms_root=False,
                                     has_client_certificate=False) is None


async def test_a_station_without_csms_root_refuses_a_tls_priority(tmp_path: Path) -> None:
    """A05.FR.02: the profile is stored, the priority that would use it is Rejected until a
    CSMS root certificate is installed."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS201-A20", OcppVersion.V201, start_jitter_s=0.0))
        station.start()
        await w.run(5)
        current = station.settings.security_profile
        answer = station.proto.handle("SetNetworkProfile",
                                      _request(1, "wss://new.example/ocpp", max(2, current)))
        assert answer == {"status": "Accepted"}
        result = station.settings.set_variables(  # type: ignore[attr-defined]
            _priority("1,0"))["setVariableResult"][0]
        assert result["attributeStatus"] == "Rejected"
        assert result["attributeStatusInfo"]["reasonCode"] == "NoRootCertificate"
        assert len(result["attributeStatusInfo"]["reasonCode"]) <= 20  # the schema's maxLength
        root = trustme.CA().cert_pem.bytes().decode()
        installed = station.proto.handle("InstallCertificate", {
            "certificateType": "CSMSRootCertificate", "certificate": root})
        assert installed == {"status": "Accepted"}
        result = station.settings.set_variables(  # type: ignore[attr-defined]
            _priority("1,0"))["setVariableResult"][0]
        assert result["attributeStatus"] == "Accepted"


def test_a_refused_profile_3_gives_a_reason_code_the_schema_takes() -> None:
    answer = NetworkProfiles().set_profile(_request(1, "wss://new.example/ocpp", 3), 2, False)
    assert answer["status"] == "Rejected"
    assert len(answer["statusInfo"]["reasonCode"]) <= 20  # StatusInfoType.reasonCode
