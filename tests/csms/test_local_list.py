"""Authorisation lists and cache over real websockets: SendLocalList (full, differential,
version mismatch), GetLocalListVersion, ClearCache, token groups and 1.6 ConcurrentTx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chargeloop.ocppj import ErrorKind, OcppError, OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp

VERSIONS = [OcppVersion.V16, OcppVersion.V201]


class ListStation:
    """A station's local list: applies SendLocalList as the specifications say."""

    def __init__(self, version: OcppVersion, *, list_version: int = 0,
                 version_query: bool = True, status: str | None = None) -> None:
        self.v16 = version is OcppVersion.V16
        self.version = list_version
        self.entries: dict[str, dict[str, Any]] = {}
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.version_query = version_query
        self.status = status  # a forced answer

    def routes(self) -> dict[str, Any]:
        return {"SendLocalList": self.send_local_list,
                "GetLocalListVersion": self.get_local_list_version}

    async def send_local_list(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("SendLocalList", p))
        if self.status:
            return {"status": self.status}
        number = p["listVersion"] if self.v16 else p["versionNumber"]
        if p["updateType"] == "Differential" and number <= self.version:
            return {"status": "VersionMismatch"}
        if p["updateType"] == "Full":
            self.entries = {}
        for item in p.get("localAuthorizationList", []):
            token = item["idTag"] if self.v16 else item["idToken"]["idToken"]
            info = item.get("idTagInfo" if self.v16 else "idTokenInfo")
            if info is None:
                self.entries.pop(token, None)
            else:
                self.entries[token] = info
        self.version = number
        return {"status": "Accepted"}

    async def get_local_list_version(self, _: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("GetLocalListVersion", {}))
        if not self.version_query:
            raise OcppError(ErrorKind.NOT_IMPLEMENTED, "no GetLocalListVersion here")
        return {"listVersion" if self.v16 else "versionNumber": self.version}

    def sent(self, action: str = "SendLocalList") -> list[dict[str, Any]]:
        return [p for a, p in self.frames if a == action]


def _tokens(payload: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """token -> info (None: removal) of a SendLocalList in either version."""
    out: dict[str, dict[str, Any] | None] = {}
    for item in payload.get("localAuthorizationList", []):
        token = item["idTag"] if "idTag" in item else item["idToken"]["idToken"]
        out[token] = item.get("idTagInfo", item.get("idTokenInfo"))
    return out


@pytest.mark.parametrize("version", VERSIONS)
async def test_full_then_differential_sends_only_the_changes(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_043_4/043_5, TC_D_01/D_02/D_03: a full list, then only what changed."""
    auth = csms.core.auth
    await auth.upsert("TAG-A", group_id="FLEET")
    await auth.upsert("TAG-B")
    await auth.upsert("TAG-X", status="Blocked")
    station_list = ListStation(version)
    async with connected_station(csms, "CS-LL", version, routes=station_list.routes()) as cs:
        await boot(cs)
        full = await api.post("/api/stations/CS-LL/local-list", json={"mode": "full"})
        assert full.status_code == 200, full.text
        assert full.json()["status"] == "Accepted" and full.json()["version"] == 1
        [sent] = station_list.sent()
        assert sent["updateType"] == "Full"
        assert sent["listVersion" if version is OcppVersion.V16 else "versionNumber"] == 1
        items = _tokens(sent)
        assert set(items) == {"TAG-A", "TAG-B"}  # Blocked tokens are not on the list
        if version is OcppVersion.V16:
            assert items["TAG-A"] == {"status": "Accepted", "parentIdTag": "FLEET"}
        else:
            assert items["TAG-A"] == {"status": "Accepted",
                                      "groupIdToken": {"idToken": "FLEET", "type": "Central"}}
            assert sent["localAuthorizationList"][0]["idToken"]["type"] == "ISO14443"

        await auth.upsert("TAG-B", status="Blocked")
        await auth.upsert("TAG-D")
        diff = await api.post("/api/stations/CS-LL/local-list", json={"mode": "differential"})
        assert diff.status_code == 200, diff.text
        body = diff.json()
        assert (body["update_type"], body["version"], body["status"]) == \
            ("Differential", 2, "Accepted")
        assert body["added"] == ["TAG-D"] and body["removed"] == ["TAG-B"]
        assert body["fallback"] is None
        assert len(station_list.sent("GetLocalListVersion")) == 1  # asked before the update
        changes = _tokens(station_list.sent()[-1])
        assert changes["TAG-D"] is not None and changes["TAG-D"]["status"] == "Accepted"
        assert changes["TAG-B"] is None  # a removal carries no info
        assert set(changes) == {"TAG-B", "TAG-D"}  # TAG-A did not change: not sent
        assert set(station_list.entries) == {"TAG-A", "TAG-D"}

        again = (await api.post("/api/stations/CS-LL/local-list",
                                json={"mode": "differential"})).json()
        assert again["sent"] is False and again["version"] == 2
        assert len(station_list.sent()) == 2
    held = (await api.get("/api/stations/CS-LL/local-list")).json()
    assert held["version"] == 2 and held["in_sync"] is True
    assert [e["token"] for e in held["entries"]] == ["TAG-A", "TAG-D"]
    assert held["entries"][0]["group_id"] == "FLEET"
    assert held["last_status"] == "Accepted" and held["last_update_type"] == "Differential"


@pytest.mark.parametrize("version", VERSIONS)
async def test_differential_with_named_tokens_and_removals(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    for token in ("T1", "T2", "T3"):
        await csms.core.auth.upsert(token)
    station_list = ListStation(version)
    async with connected_station(csms, "CS-LL2", version, routes=station_list.routes()) as cs:
        await boot(cs)
        await api.post("/api/stations/CS-LL2/local-list", json={"mode": "full",
                                                                 "tokens": ["T1", "T2"]})
        await csms.core.auth.upsert("T2", status="Blocked")
        result = (await api.post("/api/stations/CS-LL2/local-list", json={
            "mode": "differential", "tokens": ["T2", "T3"], "remove": ["T1"]})).json()
        assert result["added"] == ["T2", "T3"] and result["removed"] == ["T1"]
        changes = _tokens(station_list.sent()[-1])
        assert changes["T2"] is not None and changes["T2"]["status"] == "Blocked"
        assert changes["T1"] is None
        unknown = await api.post("/api/stations/CS-LL2/local-list",
                                 json={"mode": "differential", "tokens": ["NOPE"]})
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["body", "tokens"]
        bad_mode = await api.post("/api/stations/CS-LL2/local-list", json={"mode": "partial"})
        assert bad_mode.status_code == 422
        assert bad_mode.json()["detail"][0]["loc"] == ["body", "mode"]
    held = (await api.get("/api/stations/CS-LL2/local-list")).json()
    assert {e["token"]: e["status"] for e in held["entries"]} == {"T2": "Blocked",
                                                                  "T3": "Accepted"}


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_station_version_and_version_mismatch_fall_back_to_full(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    await csms.core.auth.upsert("TAG-1")
    # The station holds version 7 from elsewhere; the CSMS has no record of it.
    station_list = ListStation(version, list_version=7)
    async with connected_station(csms, "CS-LL3", version, routes=station_list.routes()) as cs:
        await boot(cs)
        result = (await api.post("/api/stations/CS-LL3/local-list",
                                 json={"mode": "differential"})).json()
        assert result["update_type"] == "Full" and result["version"] == 8
        assert "reports list version 7" in result["fallback"]
        assert result["status"] == "Accepted"

        # Now the station cannot say its version, and its list moved on to 20 behind our back:
        # the differential is refused with VersionMismatch, and the CSMS sends the full list.
        station_list.version_query = False
        station_list.version = 20
        await csms.core.auth.upsert("TAG-2")
        result = (await api.post("/api/stations/CS-LL3/local-list",
                                 json={"mode": "differential"})).json()
        assert result["fallback"] == "the station answered VersionMismatch"
        assert result["update_type"] == "Full" and result["status"] == "Accepted"
        kinds = [p["updateType"] for p in station_list.sent()]
        assert kinds == ["Full", "Differential", "Full"]
        assert set(station_list.entries) == {"TAG-1", "TAG-2"}
    held = (await api.get("/api/stations/CS-LL3/local-list")).json()
    assert held["version"] == result["version"] == station_list.version


@pytest.mark.parametrize("version", VERSIONS)
async def test_rejected_list_leaves_the_record_alone(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_D_06-like: a refused update (VersionMismatch, Failed) changes nothing recorded; the
    raw command endpoint is tracked like the neutral one."""
    station_list = ListStation(version)
    number = "listVersion" if version is OcppVersion.V16 else "versionNumber"
    token = ({"idTag": "RAW-1", "idTagInfo": {"status": "Accepted"}}
             if version is OcppVersion.V16 else
             {"idToken": {"idToken": "RAW-1", "type": "KeyCode"},
              "idTokenInfo": {"status": "Accepted"}})
    async with connected_station(csms, "CS-LL4", version, routes=station_list.routes()) as cs:
        await boot(cs)
        raw = await api.post("/api/stations/CS-LL4/ocpp/SendLocalList", json={
            number: 3, "updateType": "Full", "localAuthorizationList": [token]})
        assert raw.json()["response"] == {"status": "Accepted"}
        lower = await api.post("/api/stations/CS-LL4/ocpp/SendLocalList", json={
            number: 2, "updateType": "Differential", "localAuthorizationList": [token]})
        assert lower.json()["response"] == {"status": "VersionMismatch"}
        station_list.status = "Failed"
        await csms.core.auth.upsert("TAG-F")
        failed = (await api.post("/api/stations/CS-LL4/local-list",
                                 json={"mode": "full"})).json()
        assert failed["status"] == "Failed"
    held = (await api.get("/api/stations/CS-LL4/local-list")).json()
    assert held["version"] == 3 and held["last_status"] == "Failed"
    assert [(e["token"], e["type"]) for e in held["entries"]] == [
        ("RAW-1", "KeyCode" if version is OcppVersion.V201 else "ISO14443")]


@pytest.mark.parametrize("version", VERSIONS)
async def test_get_local_list_version_and_empty_full_list(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_042_2 / TC_D_08 / D_09 and TC_D_04 (full with an empty list)."""
    await csms.core.auth.upsert("TAG-E")
    station_list = ListStation(version)
    async with connected_station(csms, "CS-LL5", version, routes=station_list.routes()) as cs:
        await boot(cs)
        asked = await api.post("/api/stations/CS-LL5/local-list/version")
        assert asked.json() == {"station_id": "CS-LL5", "version": 0}
        await api.post("/api/stations/CS-LL5/local-list", json={"mode": "full"})
        assert (await api.post("/api/stations/CS-LL5/local-list/version")).json()[
            "version"] == 1
        empty = (await api.post("/api/stations/CS-LL5/local-list",
                                json={"mode": "full", "tokens": []})).json()
        assert empty["status"] == "Accepted" and empty["removed"] == ["TAG-E"]
        assert "localAuthorizationList" not in station_list.sent()[-1]
        assert station_list.entries == {}
        held = (await api.get("/api/stations/CS-LL5/local-list")).json()
        assert held["entries"] == [] and held["version"] == 2
        # The station lost its list (say, a factory reset): version 0 clears the record.
        station_list.version = 0
        await api.post("/api/stations/CS-LL5/local-list/version")
    held = (await api.get("/api/stations/CS-LL5/local-list")).json()
    assert held["version"] == 0 and held["reported_version"] == 0
    assert held["in_sync"] is True


async def test_bulk_push_reports_each_station(csms: RunningCsms,
                                              api: httpx.AsyncClient) -> None:
    await csms.core.auth.upsert("TAG-BULK")
    await csms.core.stations.register("CS-AWAY")  # registered, not connected
    lists = {v: ListStation(v) for v in VERSIONS}
    async with connected_station(csms, "CS-B16", OcppVersion.V16,
                                 routes=lists[OcppVersion.V16].routes()) as a, \
            connected_station(csms, "CS-B201", OcppVersion.V201,
                              routes=lists[OcppVersion.V201].routes()) as b:
        await boot(a)
        await boot(b)
        results = (await api.post("/api/local-list/push", json={
            "mode": "full", "station_ids": ["CS-B16", "CS-B201", "CS-AWAY"]})).json()
        by_station = {r["station_id"]: r for r in results}
        assert by_station["CS-B16"]["status"] == by_station["CS-B201"]["status"] == "Accepted"
        assert by_station["CS-AWAY"]["error"]["outcome"] == "offline"
        assert set(lists[OcppVersion.V16].entries) == {"TAG-BULK"}
        assert set(lists[OcppVersion.V201].entries) == {"TAG-BULK"}
        connected = (await api.post("/api/local-list/push", json={"mode": "differential"})
                     ).json()
        assert {r["station_id"] for r in connected} == {"CS-B16", "CS-B201"}
        assert all(r["sent"] is False and r["error"] is None for r in connected)
        unknown = await api.post("/api/local-list/push", json={"mode": "full",
                                                                "station_ids": ["NOPE"]})
        assert unknown.status_code == 422
    offline = await api.post("/api/stations/CS-AWAY/local-list", json={"mode": "full"})
    assert offline.status_code == 409


@pytest.mark.parametrize("version", VERSIONS)
async def test_clear_cache(csms: RunningCsms, api: httpx.AsyncClient,
                           version: OcppVersion) -> None:
    """TC_061 / TC_C_37 (Accepted) and TC_C_38 (Rejected)."""
    answers = ["Rejected", "Accepted"]
    frames: list[dict[str, Any]] = []

    async def clear_cache(p: dict[str, Any]) -> dict[str, Any]:
        frames.append(p)
        return {"status": answers.pop(0)}

    async with connected_station(csms, "CS-CC", version,
                                 routes={"ClearCache": clear_cache}) as cs:
        await boot(cs)
        refused = await api.post("/api/stations/CS-CC/clear-cache")
        assert refused.json()["status"] == "Rejected"
        held = (await api.get("/api/stations/CS-CC/local-list")).json()
        assert held["cache_cleared_at"] is None
        accepted = await api.post("/api/stations/CS-CC/clear-cache")
        assert accepted.status_code == 200 and accepted.json()["status"] == "Accepted"
    assert frames == [{}, {}]
    held = (await api.get("/api/stations/CS-CC/local-list")).json()
    assert held["cache_cleared_at"] is not None
    assert (await api.post("/api/stations/NOPE/clear-cache")).status_code == 404


async def test_token_groups(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    for token, group in (("CARD-1", "FLEET"), ("CARD-2", "FLEET"), ("CARD-3", "TAXI"),
                         ("FLEET", None), ("SOLO", None)):
        assert (await api.put(f"/api/tokens/{token}", json={"group_id": group})).status_code \
            == 200
    groups = (await api.get("/api/token-groups")).json()
    assert [(g["group_id"], g["members"]) for g in groups] == [
        ("FLEET", ["CARD-1", "CARD-2"]), ("TAXI", ["CARD-3"])]
    assert groups[0]["group_token"]["token"] == "FLEET"
    assert groups[1]["group_token"] is None
    assert (await api.get("/api/token-groups/TAXI")).json()["members"] == ["CARD-3"]
    assert (await api.get("/api/token-groups/NOPE")).status_code == 404


async def test_ocpp16_concurrent_tx(csms: RunningCsms) -> None:
    """1.6: a tag already charging is ConcurrentTx for Authorize and for a second start."""
    await csms.core.auth.upsert("TAG-C", group_id="G")
    async with connected_station(csms, "CS-CTX", OcppVersion.V16) as cs:
        await boot(cs)
        first = await cs.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-C",
                                                   "meterStart": 0, "timestamp": stamp()})
        assert first["idTagInfo"]["status"] == "Accepted"
        assert (await cs.call("Authorize", {"idTag": "TAG-C"}))["idTagInfo"]["status"] == \
            "ConcurrentTx"
        start = {"connectorId": 2, "idTag": "TAG-C", "meterStart": 0, "timestamp": stamp(1)}
        second = await cs.call("StartTransaction", start)
        assert second["idTagInfo"] == {"status": "ConcurrentTx", "parentIdTag": "G"}
        assert (await cs.call("StartTransaction", start))["idTagInfo"]["status"] == \
            "ConcurrentTx"  # a retried start gets the same answer
        for tx in (first["transactionId"], second["transactionId"]):
            await cs.call("StopTransaction", {"transactionId": tx, "meterStop": 10,
                                              "timestamp": stamp(2)})
        assert (await cs.call("Authorize", {"idTag": "TAG-C"}))["idTagInfo"]["status"] == \
            "Accepted"
