"""2.0.1 network connection profiles of the simulated station (B09 SetNetworkProfile, B10
NetworkConfigurationPriority and the fallback to the previous profile), found missing by
TC_B_43_CS, TC_B_45_CS, TC_B_46_CS and TC_A_19_CS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.station import StationSpec
from simulator.station.network_profiles import NetworkProfiles
from tests.simulator.station_support import world


def _request(slot: int, url: str, security_profile: int) -> dict[str, Any]:
    return {"configurationSlot": slot, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url,
        "messageTimeout": 30, "securityProfile": security_profile, "ocppInterface": "Wired0"}}


def test_a_profile_is_stored_in_a_free_slot() -> None:
    profiles = NetworkProfiles()
    answer = profiles.set_profile(_request(1, "wss://csms.example/ocpp", 2), 2, False)
    assert answer == {"status": "Accepted"}
    assert profiles.profiles[1].url == "wss://csms.example/ocpp"


def test_a_lower_security_profile_is_rejected() -> None:
    answer = NetworkProfiles().set_profile(_request(1, "ws://csms.example/ocpp", 1), 2, False)
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "NoSecurityDowngrade"


def test_bad_profiles_are_rejected() -> None:
    profiles = NetworkProfiles()
    for request, current, certificate in (
            (_request(0, "wss://csms.example/ocpp", 2), 2, False),  # the factory slot
            (_request(7, "wss://csms.example/ocpp", 2), 2, False),  # no such slot
            (_request(1, "ws://csms.example/ocpp", 2), 2, False),  # TLS needs wss://
            (_request(1, "wss://csms.example/ocpp", 3), 2, False)):  # no client certificate
        assert profiles.set_profile(request, current, certificate)["status"] == "Rejected"
    assert profiles.profiles == {}


def test_the_slots_are_tried_in_priority_order_and_fall_back() -> None:
    profiles = NetworkProfiles()
    profiles.set_profile(_request(1, "wss://new.example/ocpp", 2), 2, False)
    assert profiles.order("1,0") == [1, 0]
    assert profiles.order("2,0") == [0]  # slot 2 has no profile
    assert profiles.current("1,0") == 1
    for _ in range(3):
        profiles.failed("1,0", attempts=3)
    assert profiles.current("1,0") == 0
    profiles.rebooted()
    assert profiles.current("1,0") == 1


async def test_a_station_whose_new_profile_fails_falls_back_to_the_previous_one(
        tmp_path: Path) -> None:
    """The station's link reaches only its own CSMS: the new profile's address fails, and
    after NetworkProfileConnectionAttempts attempts the station connects with slot 0."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS201-NETPROF", OcppVersion.V201, start_jitter_s=0.0,
                                        retry_backoff_min_s=1, retry_backoff_random_s=0))
        station.start()
        await w.run(5)
        assert station.online
        answer = station.proto.handle("SetNetworkProfile",
                                      _request(1, "ws://elsewhere.invalid/ocpp", 0))
        assert answer == {"status": "Accepted"}
        station.settings.set_variables({"setVariableData": [{  # type: ignore[attr-defined]
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "NetworkConfigurationPriority"}, "attributeValue": "1,0"}]})
        station.reset("Immediate", "ImmediateReset", "ResetCommand")
        await w.run(2)
        assert not station.online
        await w.run(30)
        assert station.online
        active = station.settings.find(  # type: ignore[attr-defined]
            "OCPPCommCtrlr", "ActiveNetworkProfile")
        assert active.read() == "0"
