"""Remote control over real websockets, through the neutral REST commands: Reset,
UnlockConnector, ChangeAvailability, remote start / stop, TriggerMessage, for OCPP 1.6 and
2.0.1; what the station got, what it answered and what the CSMS recorded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chargeloop.ocppj import ErrorKind, OcppError, OcppVersion
from csms.domain.api_tokens import ApiRole
from csms.domain.device_model import IdAllocator
from csms.server import RunningCsms
from tests.csms.control_support import Answers, audit_rows, watch_events
from tests.csms.support import boot, connected_station, stamp

V16, V201 = OcppVersion.V16, OcppVersion.V201


async def availability(api: httpx.AsyncClient, station_id: str) -> dict[tuple[int, int], Any]:
    rows = (await api.get(f"/api/stations/{station_id}/availability")).json()
    return {(r["evse_id"], r["connector_id"]): (r["availability"], r["availability_pending"])
            for r in rows}


# -- Reset ------------------------------------------------------------------------------------


async def test_ocpp16_reset_soft_and_hard(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_013 / TC_014: Reset Hard and Soft, answered and audited with who asked."""
    station = Answers(Reset=lambda p: {"status": "Accepted" if p["type"] == "Soft"
                                       else "Rejected"})
    url = "/api/stations/CS-R16/commands/reset"
    async with connected_station(csms, "CS-R16", V16, routes=station.routes) as cs:
        await boot(cs)
        with watch_events(csms, "station.reset") as events:
            soft = await api.post(url, json={"type": "soft"})
            assert soft.status_code == 200, soft.text
            assert (soft.json()["action"], soft.json()["status"]) == ("Reset", "Accepted")
            assert station.last("Reset") == {"type": "Soft"}
            await events.next("station.reset", station_id="CS-R16", status="Accepted")
        hard = await api.post(url, json={"type": "hard"})
        assert hard.json()["status"] == "Rejected"
        assert station.last("Reset") == {"type": "Hard"}
        for wrong in ({"type": "immediate"}, {"type": "soft", "evse_id": 1}, {"type": "x"}):
            refused = await api.post(url, json=wrong)
            assert refused.status_code == 422, wrong
        assert len(station.got["Reset"]) == 2
    audit = await audit_rows(csms, "CS-R16", "Reset")
    assert [(a["request"], a["response"], a["outcome"], a["actor"]) for a in audit] == [
        ({"type": "Soft"}, {"status": "Accepted"}, "answered", "admin"),
        ({"type": "Hard"}, {"status": "Rejected"}, "answered", "admin")]


async def test_ocpp201_reset_station_has_no_evse_id(csms: RunningCsms,
                                                    api: httpx.AsyncClient) -> None:
    """TC_B_20/21/22: a station-wide reset carries no evseId; TC_B_25-27: an EVSE reset
    does."""
    station = Answers(Reset=lambda p: {"status": "Scheduled" if p["type"] == "OnIdle"
                                       else "Accepted"})
    url = "/api/stations/CS-R201/commands/reset"
    async with connected_station(csms, "CS-R201", V201, routes=station.routes) as cs:
        await boot(cs)
        idle = await api.post(url, json={"type": "on-idle"})
        assert idle.json()["status"] == "Scheduled"
        assert station.last("Reset") == {"type": "OnIdle"}
        assert (await api.post(url, json={"type": "immediate", "evse_id": 0})
                ).json()["status"] == "Accepted"
        assert station.last("Reset") == {"type": "Immediate"}
        await api.post(url, json={"type": "immediate", "evse_id": 2})
        assert station.last("Reset") == {"type": "Immediate", "evseId": 2}
        assert (await api.post(url, json={"type": "soft"})).status_code == 422
        assert len(station.got["Reset"]) == 3


# -- UnlockConnector --------------------------------------------------------------------------


@pytest.mark.parametrize("version", [V16, V201])
async def test_unlock_connector(csms: RunningCsms, api: httpx.AsyncClient,
                                version: OcppVersion) -> None:
    """TC_017, TC_030, TC_031, TC_F_06: the station's verdict comes back as it is."""
    verdicts = {1: "Unlocked", 2: "UnlockFailed",
                3: "NotSupported" if version is V16 else "UnknownConnector"}
    key = "connectorId" if version is V16 else "evseId"
    station = Answers(UnlockConnector=lambda p: {"status": verdicts[p[key]]})
    url = "/api/stations/CS-UNLOCK/commands/unlock"
    async with connected_station(csms, "CS-UNLOCK", version, routes=station.routes) as cs:
        await boot(cs)
        for evse_id, verdict in verdicts.items():
            answer = await api.post(url, json={"evse_id": evse_id})
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == verdict
        if version is V16:
            assert station.got["UnlockConnector"] == [{"connectorId": n} for n in (1, 2, 3)]
            assert (await api.post(url, json={"evse_id": 1, "connector_id": 2})
                    ).status_code == 422
        else:
            assert station.got["UnlockConnector"] == [{"evseId": n, "connectorId": 1}
                                                      for n in (1, 2, 3)]
            await api.post(url, json={"evse_id": 1, "connector_id": 2})
            assert station.last("UnlockConnector") == {"evseId": 1, "connectorId": 2}
        assert (await api.post(url, json={"evse_id": 0})).status_code == 422


# -- ChangeAvailability -----------------------------------------------------------------------


async def test_ocpp16_availability_accepted_and_scheduled(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """1.6 ChangeAvailability: Accepted is in force, Scheduled comes into force when the
    connector reports Unavailable; also when sent through the raw endpoint."""
    station = Answers(ChangeAvailability=lambda p: {
        "status": "Scheduled" if p["connectorId"] == 1 else "Accepted"})
    url = "/api/stations/CS-AV16/commands/availability"
    async with connected_station(csms, "CS-AV16", V16, routes=station.routes) as cs:
        await boot(cs)
        whole = await api.post(url, json={"operative": False})
        assert whole.json()["status"] == "Accepted"
        assert station.last("ChangeAvailability") == {"connectorId": 0, "type": "Inoperative"}
        busy = await api.post(url, json={"operative": False, "evse_id": 1})
        assert busy.json()["status"] == "Scheduled"
        assert station.last("ChangeAvailability") == {"connectorId": 1, "type": "Inoperative"}
        assert await availability(api, "CS-AV16") == {(0, 0): ("Inoperative", None),
                                                      (1, 1): (None, "Inoperative")}
        with watch_events(csms, "station.availability") as events:
            await cs.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                 "status": "Charging", "timestamp": stamp()})
            await cs.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                 "status": "Unavailable", "timestamp": stamp()})
            await events.next("station.availability", station_id="CS-AV16", evse_id=1,
                              in_force=True)
        assert (await availability(api, "CS-AV16"))[(1, 1)] == ("Inoperative", None)

        raw = await api.post("/api/stations/CS-AV16/ocpp/ChangeAvailability",
                             json={"connectorId": 0, "type": "Operative"})
        assert raw.json()["response"] == {"status": "Accepted"}
        assert (await availability(api, "CS-AV16"))[(0, 0)] == ("Operative", None)
        assert (await api.post(url, json={"operative": True, "evse_id": 1,
                                          "connector_id": 2})).status_code == 422


async def test_ocpp201_availability_per_station_evse_and_connector(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_G_03-G_08 (EVSE, station, connector), TC_G_11/14/17 (Scheduled while a transaction
    runs), Rejected recorded as nothing changed."""
    def change(p: dict[str, Any]) -> dict[str, Any]:
        evse = p.get("evse")
        if evse is None:
            return {"status": "Rejected"}
        return {"status": "Scheduled" if evse.get("connectorId") == 2 else "Accepted"}

    station = Answers(ChangeAvailability=change)
    url = "/api/stations/CS-AV201/commands/availability"
    async with connected_station(csms, "CS-AV201", V201, routes=station.routes) as cs:
        await boot(cs)
        assert (await api.post(url, json={"operative": False, "evse_id": 1})
                ).json()["status"] == "Accepted"
        assert station.last("ChangeAvailability") == {"operationalStatus": "Inoperative",
                                                      "evse": {"id": 1}}
        assert (await api.post(url, json={"operative": False, "evse_id": 2, "connector_id": 2})
                ).json()["status"] == "Scheduled"
        assert station.last("ChangeAvailability") == {
            "operationalStatus": "Inoperative", "evse": {"id": 2, "connectorId": 2}}
        rejected = await api.post(url, json={"operative": True})
        assert rejected.json()["status"] == "Rejected"
        assert station.last("ChangeAvailability") == {"operationalStatus": "Operative"}
        assert await availability(api, "CS-AV201") == {(1, 0): ("Inoperative", None),
                                                       (2, 2): (None, "Inoperative")}
        with watch_events(csms, "station.availability") as events:
            await cs.call("StatusNotification", {"timestamp": stamp(), "evseId": 2,
                                                 "connectorId": 1,
                                                 "connectorStatus": "Unavailable"})
            await cs.call("StatusNotification", {"timestamp": stamp(), "evseId": 2,
                                                 "connectorId": 2,
                                                 "connectorStatus": "Unavailable"})
            event = await events.next("station.availability", station_id="CS-AV201",
                                      in_force=True)
            assert (event.data["evse_id"], event.data["connector_id"]) == (2, 2)
        assert (await availability(api, "CS-AV201"))[(2, 2)] == ("Inoperative", None)
        assert (await api.post(url, json={"operative": True, "connector_id": 1})
                ).status_code == 422


# -- remote start / stop ----------------------------------------------------------------------


async def test_ocpp16_remote_start_and_stop(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_010/011 remote start (with a profile: TC_059), TC_026 rejected, TC_012 / TC_028
    remote stop."""
    station = Answers(
        RemoteStartTransaction=lambda p: {"status": "Rejected" if p["idTag"] == "BLOCKED"
                                          else "Accepted"},
        RemoteStopTransaction=lambda p: {"status": "Accepted" if p["transactionId"] == 7
                                         else "Rejected"})
    profile = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative", "chargingSchedule": {
                   "chargingRateUnit": "A", "chargingSchedulePeriod": [
                       {"startPeriod": 0, "limit": 16.0}]}}
    url = "/api/stations/CS-RS16/commands"
    async with connected_station(csms, "CS-RS16", V16, routes=station.routes) as cs:
        await boot(cs)
        started = await api.post(f"{url}/remote-start", json={
            "id_token": "TAG-1", "evse_id": 1, "charging_profile": profile})
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "Accepted"
        assert station.last("RemoteStartTransaction") == {"idTag": "TAG-1", "connectorId": 1,
                                                          "chargingProfile": profile}
        assert (await api.post(f"{url}/remote-start", json={"id_token": "BLOCKED"})
                ).json()["status"] == "Rejected"
        assert station.last("RemoteStartTransaction") == {"idTag": "BLOCKED"}
        too_long = await api.post(f"{url}/remote-start", json={"id_token": "X" * 21})
        assert too_long.status_code == 422
        assert too_long.json()["detail"][0]["loc"] == ["body", "id_token"]

        assert (await api.post(f"{url}/remote-stop", json={"transaction_id": "7"})
                ).json()["status"] == "Accepted"
        assert station.last("RemoteStopTransaction") == {"transactionId": 7}
        assert (await api.post(f"{url}/remote-stop", json={"transaction_id": "8"})
                ).json()["status"] == "Rejected"
        assert (await api.post(f"{url}/remote-stop", json={"transaction_id": "TX-A"})
                ).status_code == 422
        assert len(station.got["RemoteStopTransaction"]) == 2


async def test_ocpp201_remote_start_links_the_transaction(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_F_01-F_04: RequestStartTransaction with a remoteStartId from the CSMS, unique per
    station; the TransactionEvent carrying it is linked. RequestStopTransaction."""
    await csms.core.auth.upsert("TAG-RS", type="ISO14443")

    def request_start(p: dict[str, Any]) -> dict[str, Any]:
        if p["evseId"] == 3:
            raise OcppError(ErrorKind.INTERNAL_ERROR, "broken")
        return {"status": "Accepted" if p["evseId"] == 1 else "Rejected"}

    station = Answers(RequestStartTransaction=request_start,
                      RequestStopTransaction={"status": "Accepted"})
    url = "/api/stations/CS-RS201/commands"
    async with connected_station(csms, "CS-RS201", V201, routes=station.routes) as cs:
        await boot(cs)
        first = await api.post(f"{url}/remote-start", json={"id_token": "TAG-RS",
                                                            "evse_id": 1})
        assert first.status_code == 200, first.text
        remote_start_id = first.json()["remote_start_id"]
        assert station.last("RequestStartTransaction") == {
            "idToken": {"idToken": "TAG-RS", "type": "ISO14443"},
            "remoteStartId": remote_start_id, "evseId": 1}
        second = await api.post(f"{url}/remote-start", json={"id_token": "APP-7",
                                                             "evse_id": 2})
        assert second.json()["status"] == "Rejected"
        assert second.json()["remote_start_id"] == remote_start_id + 1
        assert station.last("RequestStartTransaction")["idToken"] == {"idToken": "APP-7",
                                                                       "type": "Central"}
        await cs.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(), "triggerReason": "RemoteStart",
            "seqNo": 0, "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "TAG-RS", "type": "ISO14443"},
            "transactionInfo": {"transactionId": "TX-R1", "remoteStartId": remote_start_id}})
        starts = {s["remote_start_id"]: s for s in
                  (await api.get("/api/stations/CS-RS201/remote-starts")).json()}
        assert starts[remote_start_id] == {**starts[remote_start_id], "status": "Accepted",
                                           "transaction_id": "TX-R1",
                                           "transaction_state": "Active", "evse_id": 1}
        assert (starts[remote_start_id + 1]["status"],
                starts[remote_start_id + 1]["transaction_id"]) == ("Rejected", None)
        broken = await api.post(f"{url}/remote-start", json={"id_token": "TAG-RS",
                                                             "evse_id": 3})
        assert broken.status_code == 502
        starts = (await api.get("/api/stations/CS-RS201/remote-starts")).json()
        assert (starts[0]["remote_start_id"], starts[0]["status"]) == (remote_start_id + 2,
                                                                       "callerror")

        stopped = await api.post(f"{url}/remote-stop", json={"transaction_id": "TX-R1"})
        assert stopped.json()["status"] == "Accepted"
        assert station.last("RequestStopTransaction") == {"transactionId": "TX-R1"}

        # An id chosen by hand through the raw endpoint is never handed out again.
        raw = await api.post("/api/stations/CS-RS201/ocpp/RequestStartTransaction", json={
            "idToken": {"idToken": "TAG-RS", "type": "ISO14443"}, "remoteStartId": 500,
            "evseId": 1})
        assert raw.json()["response"]["status"] == "Accepted"
        after = await api.post(f"{url}/remote-start", json={"id_token": "TAG-RS",
                                                            "evse_id": 1})
        assert after.json()["remote_start_id"] == 501
    # After a restart the ids go on from what the database holds.
    ids = csms.core.provisioning.remote_start_ids
    assert await IdAllocator(csms.core.db, ids.largest).allocate("CS-RS201") == 502


# -- TriggerMessage ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", [V16, V201])
async def test_trigger_message(csms: RunningCsms, api: httpx.AsyncClient,
                               version: OcppVersion) -> None:
    """TC_054/055, TC_F_11-F_24 (specific EVSE or all), TC_F_27 (NotImplemented)."""
    station = Answers(
        TriggerMessage=lambda p: {"status": "NotImplemented"
                                  if p["requestedMessage"].startswith("Sign") else "Accepted"},
        ExtendedTriggerMessage={"status": "Accepted"})
    url = "/api/stations/CS-TRIG/commands/trigger"
    async with connected_station(csms, "CS-TRIG", version, routes=station.routes) as cs:
        await boot(cs)
        specific = await api.post(url, json={"message": "MeterValues", "evse_id": 1})
        assert specific.json()["status"] == "Accepted"
        everywhere = await api.post(url, json={"message": "StatusNotification"})
        assert everywhere.json()["status"] == "Accepted"
        if version is V16:
            assert station.got["TriggerMessage"] == [
                {"requestedMessage": "MeterValues", "connectorId": 1},
                {"requestedMessage": "StatusNotification"}]
            extended = await api.post(url, json={"message": "LogStatusNotification"})
            assert extended.json()["action"] == "ExtendedTriggerMessage"
            assert station.last("ExtendedTriggerMessage") == {
                "requestedMessage": "LogStatusNotification"}
        else:
            assert station.got["TriggerMessage"] == [
                {"requestedMessage": "MeterValues", "evse": {"id": 1}},
                {"requestedMessage": "StatusNotification"}]
            connector = await api.post(url, json={"message": "StatusNotification",
                                                  "evse_id": 1, "connector_id": 2})
            assert connector.json()["status"] == "Accepted"
            assert station.last("TriggerMessage") == {
                "requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 2}}
            unimplemented = await api.post(url, json={"message": "SignCombinedCertificate"})
            assert unimplemented.json()["status"] == "NotImplemented"
        sent = len(station.got["TriggerMessage"])
        nonsense = await api.post(url, json={"message": "Coffee"})
        assert nonsense.status_code == 422
        assert len(station.got["TriggerMessage"]) == sent
        assert (await audit_rows(csms, "CS-TRIG", "TriggerMessage"))[-1]["outcome"] == \
            "invalid"


# -- errors -----------------------------------------------------------------------------------


async def test_command_errors(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """404 unknown station, 409 offline, 502 CALLERROR, 403 for a read-only token."""
    assert (await api.post("/api/stations/NOPE/commands/reset", json={"type": "soft"})
            ).status_code == 404
    await csms.core.stations.register("CS-OFF")
    offline = await api.post("/api/stations/CS-OFF/commands/unlock", json={"evse_id": 1})
    assert offline.status_code == 409

    def refuse(_: dict[str, Any]) -> dict[str, Any]:
        raise OcppError(ErrorKind.NOT_SUPPORTED, "no unlocking here")

    station = Answers(UnlockConnector=refuse)
    async with connected_station(csms, "CS-ERR", V201, routes=station.routes) as cs:
        await boot(cs)
        failed = await api.post("/api/stations/CS-ERR/commands/unlock", json={"evse_id": 1})
        assert failed.status_code == 502
        assert failed.json()["detail"]["error_code"] == "NotSupported"
        reader = await csms.core.api_tokens.create("viewer", ApiRole.READ_ONLY)
        async with httpx.AsyncClient(base_url=csms.api_url, headers={
                "Authorization": f"Bearer {reader}"}) as viewer:
            forbidden = await viewer.post("/api/stations/CS-ERR/commands/reset",
                                          json={"type": "immediate"})
            assert forbidden.status_code == 403
            assert (await viewer.get("/api/stations/CS-ERR/variables")).status_code == 200
    assert len(station.got["UnlockConnector"]) == 1
