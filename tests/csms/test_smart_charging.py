"""Smart charging over real websockets: SetChargingProfile, ClearChargingProfile,
GetCompositeSchedule (the station's and the CSMS's own), 2.0.1 GetChargingProfiles +
ReportChargingProfiles, NotifyChargingLimit, ClearedChargingLimit, NotifyEVChargingNeeds and
NotifyEVChargingSchedule."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppSession, OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp

VERSIONS = [OcppVersion.V16, OcppVersion.V201]
V16 = OcppVersion.V16


class ChargingStation:
    """Answers the smart charging commands and remembers what it was sent."""

    def __init__(self) -> None:
        self.set_answers: list[str] = []
        self.clear_answer = "Accepted"
        self.composite: dict[str, Any] = {"status": "Rejected"}
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.report: list[dict[str, Any]] = []  # ReportChargingProfiles parts to send
        self.session: OcppSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> dict[str, Any]:
        return {"SetChargingProfile": self.set_profile,
                "ClearChargingProfile": self.clear_profile,
                "GetCompositeSchedule": self.get_composite,
                "GetChargingProfiles": self.get_profiles}

    async def set_profile(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("SetChargingProfile", p))
        return {"status": self.set_answers.pop(0) if self.set_answers else "Accepted"}

    async def clear_profile(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("ClearChargingProfile", p))
        return {"status": self.clear_answer}

    async def get_composite(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("GetCompositeSchedule", p))
        return self.composite

    async def get_profiles(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("GetChargingProfiles", p))
        if not self.report:
            return {"status": "NoProfiles"}
        parts = [{**part, "requestId": p["requestId"]} for part in self.report]

        async def send() -> None:  # after the answer, as a station does
            assert self.session is not None
            for part in parts:
                await self.session.call("ReportChargingProfiles", part)

        task = asyncio.create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"status": "Accepted"}

    def sent(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.frames if a == action]


@contextlib.asynccontextmanager
async def charging_station(csms: RunningCsms, identity: str, version: OcppVersion):  # type: ignore[no-untyped-def]
    station = ChargingStation()
    async with connected_station(csms, identity, version, routes=station.routes()) as cs:
        station.session = cs
        await boot(cs)
        yield cs, station


def profile(purpose: str = "TxDefaultProfile", *, evse_id: int = 1, stack_level: int = 0,
            limits: tuple[tuple[int, float], ...] = ((0, 16.0),), **extra: Any
            ) -> dict[str, Any]:
    schedule = {"rate_unit": "A",
                "periods": [{"start_s": s, "limit": lim} for s, lim in limits]}
    schedule.update(extra.pop("schedule", {}))
    return {"evse_id": evse_id, "purpose": purpose, "stack_level": stack_level,
            "kind": "Absolute", "schedule": schedule, **extra}


def wire_profile(frame: dict[str, Any]) -> dict[str, Any]:
    return frame.get("csChargingProfiles") or frame["chargingProfile"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_set_charging_profile_installs_and_replaces(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_056 / TC_K_01 / K_03 / K_04 / K_10 / K_15 / K_70."""
    async with charging_station(csms, "CS-SC", version) as (_, station):
        url = "/api/stations/CS-SC/charging-profiles"
        start = "2030-01-01T00:00:00Z"
        default = await api.post(url, json=profile(
            limits=((0, 16.0), (3600, 32.0)), schedule={"duration_s": 7200,
                                                        "start_schedule": start}))
        assert default.status_code == 200, default.text
        assert default.json()["status"] == "Accepted"
        first_id = default.json()["profile"]["id"]
        [frame] = station.sent("SetChargingProfile")
        if version is V16:
            assert frame == {"connectorId": 1, "csChargingProfiles": {
                "chargingProfileId": first_id, "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
                "chargingSchedule": {"chargingRateUnit": "A", "duration": 7200,
                                     "startSchedule": "2030-01-01T00:00:00.000Z",
                                     "chargingSchedulePeriod": [
                                         {"startPeriod": 0, "limit": 16.0},
                                         {"startPeriod": 3600, "limit": 32.0}]}}}
        else:
            assert frame["evseId"] == 1
            wire = frame["chargingProfile"]
            assert wire["id"] == first_id and wire["chargingSchedule"][0]["id"] == first_id
            assert wire["chargingSchedule"][0]["chargingSchedulePeriod"][1] == {
                "startPeriod": 3600, "limit": 32.0}
        station_max = await api.post(url, json=profile("ChargingStationMaxProfile", evse_id=0,
                                                       limits=((0, 63.0),)))
        assert station_max.json()["status"] == "Accepted"
        assert wire_profile(station.sent("SetChargingProfile")[-1])[
            "chargingProfilePurpose"] == ("ChargePointMaxProfile" if version is V16
                                          else "ChargingStationMaxProfile")
        # Same id again: replaced (K_04). Same purpose and stack level, new id: replaces too.
        await api.post(url, json=profile(id=first_id, limits=((0, 10.0),)))
        newer = (await api.post(url, json=profile(limits=((0, 12.0),)))).json()
        station.set_answers = ["Rejected"]
        refused = (await api.post(url, json=profile(stack_level=3))).json()
        assert refused["status"] == "Rejected" and refused["profile"]["status"] == "Rejected"
    listed = {p["id"]: p for p in (await api.get(url)).json()}
    assert listed[first_id]["status"] == "Replaced"
    assert listed[first_id]["periods"] == [{"start_s": 0, "limit": 10.0, "number_phases": None}]
    assert listed[newer["profile"]["id"]]["status"] == "Accepted"
    assert listed[station_max.json()["profile"]["id"]]["purpose"] == "ChargingStationMaxProfile"
    installed = (await api.get(url, params={"status": "Accepted"})).json()
    assert sorted(p["id"] for p in installed) == sorted(
        [newer["profile"]["id"], station_max.json()["profile"]["id"]])
    assert all(p["source"] == "csms" for p in installed)


async def test_profiles_are_checked_before_sending(csms: RunningCsms,
                                                   api: httpx.AsyncClient) -> None:
    async with charging_station(csms, "CS-BAD", V16) as (_, station):
        url = "/api/stations/CS-BAD/charging-profiles"

        async def refused(body: dict[str, Any]) -> list[Any]:
            answer = await api.post(url, json=body)
            assert answer.status_code == 422, answer.text
            detail = answer.json()["detail"]
            return detail if isinstance(detail, list) else [detail]

        assert (await refused(profile("ChargingStationMaxProfile", evse_id=1)))[0]["loc"] == \
            ["body", "evse_id"]
        assert (await refused(profile("TxProfile")))[0]["loc"] == ["body", "transaction_id"]
        assert "no active transaction" in (await refused(profile(
            "TxProfile", transaction_id="41")))[0]["msg"]
        assert (await refused(profile(limits=((0, 6.0), (0, 8.0)))))[0]["loc"] == \
            ["body", "schedule", "periods", "1", "start_s"]
        assert (await refused(profile(limits=((5, 6.0),))))[0]["loc"] == \
            ["body", "schedule", "periods", "0", "start_s"]
        assert (await refused(profile(limits=((0, -1.0),))))[0]["loc"] == \
            ["body", "schedule", "periods", 0, "limit"]
        assert (await refused(profile(schedule={"rate_unit": "kW"})))[0]["loc"] == \
            ["body", "schedule", "rate_unit"]
        assert (await refused(profile("ChargingStationExternalConstraints", evse_id=0)))[0][
            "loc"] == ["body", "purpose"]
        assert (await refused(profile(kind="Recurring")))[0]["loc"] == \
            ["body", "recurrency_kind"]
        assert (await refused(profile(valid_from="2030-01-02T00:00:00Z",
                                      valid_to="2030-01-01T00:00:00Z")))[0]["loc"] == \
            ["body", "valid_to"]
        # 1.6 limits are multiples of 0.1: the schema check names the path.
        assert "limit" in (await refused(profile(limits=((0, 6.66),))))[0]["path"]
        assert station.sent("SetChargingProfile") == []
    assert (await api.post("/api/stations/NOPE/charging-profiles",
                           json=profile())).status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
async def test_tx_profile_for_a_running_transaction(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_057 / TC_K_60; TC_059 / TC_K_37: a TxProfile with a remote start is recorded too."""
    await csms.core.auth.upsert("TAG-SC")
    async with charging_station(csms, "CS-TX", version) as (cs, station):
        if version is V16:
            tx = str((await cs.call("StartTransaction", {
                "connectorId": 2, "idTag": "TAG-SC", "meterStart": 0,
                "timestamp": stamp()}))["transactionId"])
        else:
            tx = "TX-SC"
            await cs.call("TransactionEvent", {
                "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
                "seqNo": 0, "transactionInfo": {"transactionId": tx},
                "idToken": {"idToken": "TAG-SC", "type": "ISO14443"},
                "evse": {"id": 2, "connectorId": 1}})
        url = "/api/stations/CS-TX/charging-profiles"
        wrong_evse = await api.post(url, json=profile("TxProfile", evse_id=1,
                                                      transaction_id=tx))
        assert wrong_evse.status_code == 422
        assert wrong_evse.json()["detail"][0]["loc"] == ["body", "evse_id"]
        result = await api.post(url, json=profile("TxProfile", evse_id=2, transaction_id=tx,
                                                  limits=((0, 8.0),), kind="Relative"))
        assert result.json()["status"] == "Accepted"
        sent = wire_profile(station.sent("SetChargingProfile")[-1])
        assert sent["transactionId"] == (int(tx) if version is V16 else tx)
        assert result.json()["profile"]["transaction_id"] == tx
        computed = (await api.get("/api/stations/CS-TX/composite-schedule", params={
            "evse_id": 2, "duration_s": 60, "computed": "true"})).json()
        assert computed["periods"] == [{"start_s": 0, "limit": 8.0, "number_phases": None}]

        remote_start = ({"connectorId": 1, "idTag": "TAG-SC"} if version is V16 else
                        {"evseId": 1, "remoteStartId": 5,
                         "idToken": {"idToken": "TAG-SC", "type": "ISO14443"}})
        key = "RemoteStartTransaction" if version is V16 else "RequestStartTransaction"
        remote_profile = {("chargingProfileId" if version is V16 else "id"): 90,
                          "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                          "chargingProfileKind": "Relative",
                          "chargingSchedule": {"chargingRateUnit": "A",
                                               "chargingSchedulePeriod": [
                                                   {"startPeriod": 0, "limit": 10.0}]}}
        if version is not V16:
            remote_profile["chargingSchedule"] = [{**remote_profile["chargingSchedule"],
                                                   "id": 1}]

        async def accept(_: dict[str, Any]) -> dict[str, Any]:
            return {"status": "Accepted"}

        cs.route(key, accept)
        answered = await api.post(f"/api/stations/CS-TX/ocpp/{key}",
                                  json={**remote_start, "chargingProfile": remote_profile})
        assert answered.json()["response"]["status"] == "Accepted"
    recorded = {p["id"]: p for p in (await api.get(url)).json()}
    assert recorded[90]["purpose"] == "TxProfile" and recorded[90]["evse_id"] == 1


@pytest.mark.parametrize("version", VERSIONS)
async def test_clear_charging_profile(csms: RunningCsms, api: httpx.AsyncClient,
                                      version: OcppVersion) -> None:
    """TC_067 / TC_K_05 (by id), K_06 (by stack level and purpose), K_08 (nothing there)."""
    async with charging_station(csms, "CS-CLR", version) as (_, station):
        url = "/api/stations/CS-CLR/charging-profiles"
        ids = [(await api.post(url, json=body)).json()["profile"]["id"] for body in (
            profile(evse_id=1), profile(evse_id=2), profile(evse_id=1, stack_level=2),
            profile("ChargingStationMaxProfile", evse_id=0, limits=((0, 40.0),)))]
        by_id = (await api.delete(url, params={"id": ids[0]})).json()
        assert by_id["cleared"] == [ids[0]] and by_id["status"] == "Accepted"
        criteria = (await api.delete(url, params={
            "evse_id": 1, "purpose": "TxDefaultProfile", "stack_level": 2})).json()
        assert criteria["cleared"] == [ids[2]]
        frames = station.sent("ClearChargingProfile")
        if version is V16:
            assert frames == [{"id": ids[0]}, {"connectorId": 1, "stackLevel": 2,
                                               "chargingProfilePurpose": "TxDefaultProfile"}]
        else:
            assert frames == [{"chargingProfileId": ids[0]}, {"chargingProfileCriteria": {
                "evseId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2}}]
        station.clear_answer = "Unknown"
        unknown = (await api.delete(url, params={"id": 999})).json()
        assert unknown == {"status": "Unknown", "cleared": [], "response": {"status": "Unknown"}}
        everything = await api.delete(url)
        assert everything.status_code == 422
        assert everything.json()["detail"][0]["loc"] == ["query", "all"]
        assert (await api.delete(url, params={"id": 1, "evse_id": 1})).status_code == 422
        station.clear_answer = "Accepted"
        cleared_all = (await api.delete(url, params={"all": "true"})).json()
        assert sorted(cleared_all["cleared"]) == sorted([ids[1], ids[3]])
        assert station.sent("ClearChargingProfile")[-1] == {}
    statuses = {p["id"]: p["status"] for p in (await api.get(url)).json()}
    assert set(statuses.values()) == {"Cleared"}


@pytest.mark.parametrize("version", VERSIONS)
async def test_composite_schedule_from_the_station_is_kept(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_066 / TC_K_43 / K_44."""
    periods = [{"startPeriod": 0, "limit": 7.0}, {"startPeriod": 90, "limit": 9.0,
                                                  "numberPhases": 3}]
    async with charging_station(csms, "CS-CMP", version) as (_, station):
        if version is V16:
            station.composite = {"status": "Accepted", "connectorId": 1,
                                 "scheduleStart": "2030-01-01T00:00:00Z",
                                 "chargingSchedule": {"duration": 300, "chargingRateUnit": "A",
                                                      "chargingSchedulePeriod": periods}}
        else:
            station.composite = {"status": "Accepted", "schedule": {
                "evseId": 1, "duration": 300, "scheduleStart": "2030-01-01T00:00:00Z",
                "chargingRateUnit": "A", "chargingSchedulePeriod": periods}}
        url = "/api/stations/CS-CMP/composite-schedule"
        asked = (await api.get(url, params={"evse_id": 1, "duration_s": 300,
                                            "rate_unit": "A"})).json()
        key = "connectorId" if version is V16 else "evseId"
        assert station.sent("GetCompositeSchedule") == [
            {key: 1, "duration": 300, "chargingRateUnit": "A"}]
        assert asked["source"] == "station" and asked["status"] == "Accepted"
        assert asked["periods"] == [{"start_s": 0, "limit": 7.0, "number_phases": None},
                                    {"start_s": 90, "limit": 9.0, "number_phases": 3}]
        assert asked["schedule_start"].startswith("2030-01-01T00:00:00")
        station.composite = {"status": "Rejected"}
        refused = (await api.get(url, params={"duration_s": 60})).json()
        assert refused["status"] == "Rejected" and refused["periods"] == []
    last = (await api.get(f"{url}/last", params={"evse_id": 1})).json()
    assert last["periods"] == asked["periods"] and last["response"] == asked["response"]
    assert (await api.get(f"{url}/last", params={"evse_id": 0})).json()["status"] == \
        "Rejected"
    assert (await api.get(f"{url}/last", params={"evse_id": 5})).status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
async def test_computed_composite_follows_the_stacking_rules(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """sequences.md A.8 (TC_072 / TC_K_40): stacked TxDefaultProfiles give 7, 9, 8, 10; a
    station maximum caps them (TC_066 / TC_K_41)."""
    begin = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    start_schedule = begin.isoformat().replace("+00:00", "Z")
    async with charging_station(csms, "CS-A8", version):
        url = "/api/stations/CS-A8/charging-profiles"
        for stack, limits, duration in ((0, ((0, 6.0), (100, 8.0), (200, 10.0)), 400),
                                        (1, ((0, 7.0), (100, 9.0)), 150)):
            installed = await api.post(url, json=profile(
                stack_level=stack, limits=limits,
                schedule={"duration_s": duration, "start_schedule": start_schedule}))
            assert installed.json()["status"] == "Accepted"
        params = {"evse_id": 1, "duration_s": 350, "computed": "true",
                  "start": (begin + timedelta(seconds=10)).isoformat()}
        composite_url = "/api/stations/CS-A8/composite-schedule"
        computed = (await api.get(composite_url, params=params)).json()
        assert computed["source"] == "computed" and computed["rate_unit"] == "A"
        assert [(p["start_s"], p["limit"]) for p in computed["periods"]] == [
            (0, 7.0), (90, 9.0), (140, 8.0), (190, 10.0)]
        await api.post(url, json=profile("ChargingStationMaxProfile", evse_id=0,
                                         limits=((0, 8.0),)))
        capped = (await api.get(composite_url, params=params)).json()
        assert [(p["start_s"], p["limit"]) for p in capped["periods"]] == [(0, 7.0), (90, 8.0)]
        station_wide = (await api.get(composite_url, params={**params, "evse_id": 0})).json()
        assert [(p["start_s"], p["limit"]) for p in station_wide["periods"]] == [(0, 8.0)]
        in_watts = (await api.get(composite_url, params={**params, "rate_unit": "W"})).json()
        assert in_watts["periods"][0]["limit"] == pytest.approx(7.0 * 230 * 3)


async def test_ocpp201_get_charging_profiles_and_report(csms: RunningCsms,
                                                        api: httpx.AsyncClient) -> None:
    """TC_K_29..K_36: GetChargingProfiles; the multi-part report is stored and returned."""
    async with charging_station(csms, "CS-REP", OcppVersion.V201) as (_, station):
        url = "/api/stations/CS-REP/charging-profiles"
        ours = (await api.post(url, json=profile(limits=((0, 20.0),)))).json()["profile"]
        foreign = {"id": 500, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
                   "chargingProfileKind": "Absolute", "chargingSchedule": [{
                       "id": 1, "chargingRateUnit": "W",
                       "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}]}
        station.report = [
            {"chargingLimitSource": "CSO", "evseId": 1, "tbc": True,
             "chargingProfile": [ours["wire"]]},
            {"chargingLimitSource": "EMS", "evseId": 1, "chargingProfile": [foreign]}]
        report = (await api.post(f"{url}/report", json={})).json()
        assert report["status"] == "Accepted" and report["complete"] is True
        assert sorted(p["id"] for p in report["profiles"]) == [ours["id"], 500]
        [request] = station.sent("GetChargingProfiles")
        assert request == {"requestId": report["request_id"], "chargingProfile": {}}
        listed = {p["id"]: p for p in (await api.get(url)).json()}
        assert listed[500]["source"] == "station" and listed[500]["status"] == "Reported"
        assert listed[500]["charging_limit_source"] == "EMS"
        assert listed[500]["rate_unit"] == "W"
        assert listed[ours["id"]]["source"] == "csms" and listed[ours["id"]]["reported_at"]

        station.report = []
        narrowed = (await api.post(f"{url}/report", json={
            "evse_id": 1, "purpose": "TxDefaultProfile", "stack_level": 1,
            "sources": ["EMS"]})).json()
        assert narrowed["status"] == "NoProfiles" and narrowed["profiles"] == []
        assert station.sent("GetChargingProfiles")[-1]["chargingProfile"] == {
            "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1,
            "chargingLimitSource": ["EMS"]}
        assert 500 in {p["id"] for p in (await api.get(url)).json()}  # a narrow question
        await api.post(f"{url}/report", json={})  # NoProfiles for everything
        assert 500 not in {p["id"] for p in (await api.get(url)).json()}
    async with charging_station(csms, "CS-REP16", V16):
        refused = await api.post("/api/stations/CS-REP16/charging-profiles/report", json={})
        assert refused.status_code == 422  # not a 1.6 message


async def test_ocpp201_charging_limits_and_ev_charging(csms: RunningCsms,
                                                       api: httpx.AsyncClient) -> None:
    """NotifyChargingLimit, ClearedChargingLimit (TC_K_48/50), NotifyEVChargingNeeds and
    NotifyEVChargingSchedule (TC_K_53/55/57)."""
    schedule = {"id": 1, "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]}
    async with charging_station(csms, "CS-LIM", OcppVersion.V201) as (cs, _):
        assert await cs.call("NotifyChargingLimit", {
            "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": True},
            "evseId": 1, "chargingSchedule": [schedule]}) == {}
        await cs.call("NotifyChargingLimit", {"chargingLimit": {"chargingLimitSource": "SO"}})
        limits = (await api.get("/api/stations/CS-LIM/charging-limits")).json()
        assert [(x["evse_id"], x["source"], x["is_grid_critical"]) for x in limits] == [
            (0, "SO", None), (1, "EMS", True)]
        assert limits[1]["schedules"] == [schedule] and limits[1]["cleared_at"] is None
        assert await cs.call("ClearedChargingLimit", {"chargingLimitSource": "EMS",
                                                      "evseId": 1}) == {}
        limits = (await api.get("/api/stations/CS-LIM/charging-limits")).json()
        assert limits[1]["cleared_at"] is not None and limits[0]["cleared_at"] is None

        needs = {"requestedEnergyTransfer": "AC_three_phase",
                 "departureTime": "2030-01-01T18:00:00Z",
                 "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                                          "evMaxCurrent": 32, "evMaxVoltage": 400}}
        assert await cs.call("NotifyEVChargingNeeds", {
            "evseId": 1, "maxScheduleTuples": 3, "chargingNeeds": needs}) == {
            "status": "Accepted"}
        assert await cs.call("NotifyEVChargingSchedule", {
            "evseId": 1, "timeBase": "2030-01-01T12:00:00Z",
            "chargingSchedule": schedule}) == {"status": "Accepted"}
    [ev] = (await api.get("/api/stations/CS-LIM/ev-charging")).json()
    assert ev["evse_id"] == 1 and ev["requested_energy_transfer"] == "AC_three_phase"
    assert ev["departure_time"].startswith("2030-01-01T18:00:00")
    assert ev["needs"] == needs and ev["max_schedule_tuples"] == 3
    assert ev["schedule"] == schedule and ev["time_base"].startswith("2030-01-01T12:00:00")


def test_composite_rules_without_a_station() -> None:
    """The CSMS's own composite: recurrence, relative schedules, TxProfile over TxDefault,
    an EVSE's TxDefault over EVSE 0's, validity windows."""
    from csms.domain.charging_schedules import (
        STATION_MAX,
        TX,
        TX_DEFAULT,
        Period,
        Profile,
        Schedule,
        composite_schedule,
    )

    t0 = datetime(2030, 1, 1, tzinfo=UTC)

    def flat(pid: int, purpose: str, limit: float, *, evse: int = 1, stack: int = 0,
             kind: str = "Absolute", **more: Any) -> Profile:
        schedule = Schedule("A", (Period(0, limit),), more.pop("duration", None),
                            more.pop("start", t0 if kind != "Relative" else None))
        return Profile(pid, stack, purpose, kind, schedule, evse, **more)

    def limits(*profiles: Profile, evse: int = 1, start: datetime = t0, duration: int = 3600,
               **kw: Any) -> list[tuple[int, float | None]]:
        _, periods = composite_schedule(profiles, evse_id=evse, start=start,
                                        duration_s=duration, **kw)
        return [(p.start_s, p.limit) for p in periods]

    everywhere = flat(1, TX_DEFAULT, 32.0, evse=0)
    here = flat(2, TX_DEFAULT, 20.0, duration=600)
    assert limits(everywhere, here) == [(0, 20.0), (600, 32.0)]
    assert limits(everywhere, here, evse=2) == [(0, 32.0)]
    tx = flat(3, TX, 10.0, transaction_id="T1", kind="Relative", duration=300)
    assert limits(everywhere, tx, transaction_id="T1",
                  transaction_start=t0 + timedelta(seconds=100)) == [
        (0, 32.0), (100, 10.0), (400, 32.0)]
    assert limits(everywhere, tx, transaction_id="OTHER") == [(0, 32.0)]
    night = Profile(4, 1, TX_DEFAULT, "Recurring", Schedule(
        "A", (Period(0, 6.0), Period(3600, 16.0)), 7200, t0 + timedelta(hours=22)), 0,
        "Daily")
    assert limits(everywhere, night, start=t0 + timedelta(days=5, hours=21),
                  duration=4 * 3600) == [(0, 32.0), (3600, 6.0), (7200, 16.0), (10800, 32.0)]
    windowed = flat(5, STATION_MAX, 16.0, evse=0, valid_from=t0 + timedelta(seconds=60),
                    valid_to=t0 + timedelta(seconds=120))
    assert limits(everywhere, windowed, duration=300) == [(0, 32.0), (60, 16.0), (120, 32.0)]
    assert limits(duration=60) == [(0, None)]  # nothing installed: no limit
