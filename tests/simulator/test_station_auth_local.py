"""The simulated OCPP 2.0.1 station and local authorization: a master pass (C16), an idToken
whose group is AuthCtrlr.MasterPassGroupId, never starts a transaction and stops ongoing ones
with stoppedReason MasterPass: all of them on a station without a user interface, those its
holder chooses on one with a master pass screen (against the reference CSMS on simulated
time); with AuthCtrlr.DisableRemoteAuthorization the CSMS is never asked (TC_E_52)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.drivers import IdToken
from simulator.station import EvseSpec, StationSpec
from simulator.station.auth_store import AuthorizationCache, Decision, LocalAuthList, decide
from simulator.station.settings import SettingsSeed, settings_for
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import world


def _spec(station_id: str, master_pass_group: str | None) -> StationSpec:
    return StationSpec(station_id, OcppVersion.V201, start_jitter_s=0.0,
                       retry_backoff_min_s=1, retry_backoff_random_s=1,
                       evses=(EvseSpec(1), EvseSpec(2)),
                       settings={"master_pass_group_id": master_pass_group})


def _car() -> Vehicle:
    return Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.3)


async def test_a_master_pass_stops_every_transaction_and_starts_none(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("DRIVER-1", group_id="FAMILY")
        await w.core.auth.upsert("DRIVER-2")
        await w.core.auth.upsert("POLICE", group_id="MASTER")
        station = w.station(_spec("CS201-MP", "MASTER"))
        station.start()
        await w.run(10)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            for evse, token in ((1, "DRIVER-1"), (2, "DRIVER-2")):
                yield from station.plug_in(evse, _car())
                outcome[token] = yield from station.present_token(evse, IdToken(token))
            yield w.clock.env.timeout(60)
            outcome["stopped"] = yield from station.present_token(1, IdToken("POLICE"))
            outcome["running"] = [station.evse(e).tx is not None for e in (1, 2)]
            yield w.clock.env.timeout(10)
            outcome["started"] = yield from station.present_token(2, IdToken("POLICE"))
            outcome["running after"] = station.evse(2).tx is not None

        w.drive(driver())
        await w.run(200)
        assert outcome == {"DRIVER-1": True, "DRIVER-2": True, "stopped": True,
                           "running": [False, False], "started": False,
                           "running after": False}
        assert [s["stop_reason"] for s in w.recorder.rows("sessions")] == ["MasterPass"] * 2


async def test_without_master_pass_group_the_token_is_an_ordinary_one(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("DRIVER-1", group_id="FAMILY")
        await w.core.auth.upsert("POLICE", group_id="MASTER")
        station = w.station(_spec("CS201-NOMP", None))
        station.start()
        await w.run(10)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            yield from station.plug_in(1, _car())
            yield from station.present_token(1, IdToken("DRIVER-1"))
            yield w.clock.env.timeout(60)
            outcome["stopped"] = yield from station.present_token(1, IdToken("POLICE"))
            yield from station.plug_in(2, _car())
            outcome["started"] = yield from station.present_token(2, IdToken("POLICE"))

        w.drive(driver())
        await w.run(200)
        assert outcome == {"stopped": False, "started": True}


def test_disable_remote_authorization_lets_the_list_and_cache_decide_alone() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    settings = settings_for(OcppVersion.V201, SettingsSeed(
        station_id="CS", features=("LocalAuthListManagement",),
        disable_remote_authorization=False))
    local_list = LocalAuthList(OcppVersion.V201, settings)
    cache = AuthorizationCache(OcppVersion.V201, settings)
    local_list.send({"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
        {"idToken": {"idToken": "LISTED", "type": "ISO14443"},
         "idTokenInfo": {"status": "Accepted"}},
        {"idToken": {"idToken": "BLOCKED", "type": "ISO14443"},
         "idTokenInfo": {"status": "Blocked"}}]}, now)

    def decided(text: str) -> Decision:
        return decide({"idToken": text, "type": "ISO14443"}, online=True, settings=settings,
                      local_list=local_list, cache=cache, now=now).decision

    assert [decided(t) for t in ("LISTED", "BLOCKED", "NEW")] == \
        [Decision.ASK_CSMS] * 3  # LocalPreAuthorize false: everything is asked
    answer = settings.set_variables({"setVariableData": [{  # type: ignore[attr-defined]
        "component": {"name": "AuthCtrlr"}, "variable": {"name": "DisableRemoteAuthorization"},
        "attributeValue": "true"}]})
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert [decided(t) for t in ("LISTED", "BLOCKED", "NEW")] == \
        [Decision.ACCEPT, Decision.REJECT, Decision.REJECT]


async def test_with_a_master_pass_screen_the_holder_chooses_what_stops(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for token, group in (("DRIVER-1", None), ("DRIVER-2", None), ("POLICE", "MASTER")):
            await w.core.auth.upsert(token, group_id=group)
        station = w.station(_spec("CS201-MPUI", "MASTER"))
        station.master_pass_ui = True
        station.start()
        await w.run(10)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            for evse, token in ((1, "DRIVER-1"), (2, "DRIVER-2")):
                yield from station.plug_in(evse, _car())
                yield from station.present_token(evse, IdToken(token))
            yield w.clock.env.timeout(60)
            outcome["presented"] = yield from station.present_token(1, IdToken("POLICE"))
            outcome["running"] = [station.evse(e).tx is not None for e in (1, 2)]
            outcome["chosen"] = yield from station.master_pass_choose([2])
            outcome["running after"] = [station.evse(e).tx is not None for e in (1, 2)]

        w.drive(driver())
        await w.run(200)
        assert outcome == {"presented": False, "running": [True, True], "chosen": True,
                           "running after": [True, False]}
        assert [s["stop_reason"] for s in w.recorder.rows("sessions")] == ["MasterPass"]
