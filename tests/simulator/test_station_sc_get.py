"""The simulated 2.0.1 station built without Smart Charging (TC_K_38_CS): the smart charging
messages are not supported, and a RequestStartTransaction's charging profile is ignored
(F01.FR.12) while the transaction starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import ErrorKind, OcppError, OcppVersion
from simulator.station import StationSpec
from simulator.station.settings import FEATURE_PROFILES_16
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import world

TOKEN = "TOKEN-K38"
TX_PROFILE = {"id": 38, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
              "chargingProfileKind": "Relative", "chargingSchedule": [{
                  "id": 1, "chargingRateUnit": "A",
                  "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}]}]}


def _spec(station_id: str, smart_charging: bool) -> StationSpec:
    features = tuple(f for f in FEATURE_PROFILES_16 if smart_charging or f != "SmartCharging")
    return StationSpec(station_id, OcppVersion.V201, start_jitter_s=0.0,
                       settings={"features": features})


async def _remote_start_with_profile(tmp_path: Path, smart_charging: bool) -> Any:
    """A station (with or without Smart Charging), an EV plugged in, RequestStartTransaction
    with a TxProfile: (the answer, the station after the start)."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert(TOKEN)
        station = w.station(_spec(f"CS-K38-{smart_charging}", smart_charging))
        station.start()
        await w.run(30)
        car = Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2, target_soc=0.8)
        w.drive(station.plug_in(1, car))
        await w.run(5)
        answer, follow = station.proto.handle("RequestStartTransaction", {
            "evseId": 1, "remoteStartId": 7, "chargingProfile": TX_PROFILE,
            "idToken": {"idToken": TOKEN, "type": "ISO14443"}})
        w.drive(follow)
        await w.run(30)
        return answer, station


async def test_without_smart_charging_the_remote_start_profile_is_ignored(
        tmp_path: Path) -> None:
    answer, station = await _remote_start_with_profile(tmp_path, smart_charging=False)
    assert answer["status"] == "Accepted"
    assert station.evses[0].tx is not None
    assert len(station.profiles) == 0


async def test_with_smart_charging_the_remote_start_profile_is_installed(
        tmp_path: Path) -> None:
    answer, station = await _remote_start_with_profile(tmp_path, smart_charging=True)
    assert answer["status"] == "Accepted"
    assert station.evses[0].tx is not None
    assert [i.profile.id for i in station.profiles.profiles()] == [38]


@pytest.mark.parametrize("action, payload", [
    ("SetChargingProfile", {"evseId": 1, "chargingProfile": TX_PROFILE}),
    ("ClearChargingProfile", {"chargingProfileId": 38}),
    ("GetChargingProfiles", {"requestId": 1, "chargingProfile": {"stackLevel": 0}}),
    ("GetCompositeSchedule", {"evseId": 1, "duration": 60}),
])
async def test_without_smart_charging_its_messages_are_not_supported(
        tmp_path: Path, action: str, payload: dict[str, Any]) -> None:
    async with world(tmp_path) as w:
        station = w.station(_spec("CS-K38-NOSC", smart_charging=False))
        with pytest.raises(OcppError) as refused:
            station.proto.handle(action, payload)
        assert refused.value.kind is ErrorKind.NOT_SUPPORTED
