"""Reservations over real websockets: ReserveNow, CancelReservation, 2.0.1
ReservationStatusUpdate, 1.6 Reserved/Available status, use by a transaction, and expiry by
the CSMS itself."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import ErrorKind, OcppError, OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp

VERSIONS = [OcppVersion.V16, OcppVersion.V201]


class ReservingStation:
    def __init__(self, *answers: str, cancel: str = "Accepted") -> None:
        self.answers = list(answers)
        self.cancel = cancel
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def routes(self) -> dict[str, Any]:
        return {"ReserveNow": self.reserve_now, "CancelReservation": self.cancel_reservation}

    async def reserve_now(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("ReserveNow", p))
        answer = self.answers.pop(0) if self.answers else "Accepted"
        if answer == "CALLERROR":
            raise OcppError(ErrorKind.INTERNAL_ERROR, "reservation store full")
        return {"status": answer}

    async def cancel_reservation(self, p: dict[str, Any]) -> dict[str, Any]:
        self.frames.append(("CancelReservation", p))
        return {"status": self.cancel}

    def sent(self, action: str = "ReserveNow") -> list[dict[str, Any]]:
        return [p for a, p in self.frames if a == action]


async def reserve(api: httpx.AsyncClient, station_id: str, **body: Any) -> httpx.Response:
    body.setdefault("expires_in_s", 600)
    return await api.post("/api/reservations", json={"station_id": station_id, **body})


async def wait_status(csms: RunningCsms, api: httpx.AsyncClient, reservation_id: int,
                      wanted: str) -> dict[str, Any]:
    """Wait (bounded) until the reservation reaches ``wanted``, following the event stream."""
    subscription = csms.core.events.subscribe({"reservation."})
    try:
        for _ in range(20):
            current = (await api.get(f"/api/reservations/{reservation_id}")).json()
            if current["status"] == wanted:
                return current
            await asyncio.wait_for(subscription.queue.get(), 5)
    finally:
        csms.core.events.unsubscribe(subscription)
    raise AssertionError(f"reservation {reservation_id} never became {wanted}")


@pytest.mark.parametrize("version", VERSIONS)
async def test_reservation_accepted_then_used_by_a_transaction(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_046 / TC_H_01 / TC_H_19: reserve an EVSE, the reserved token (or group) starts."""
    await csms.core.auth.upsert("TAG-R", group_id="FLEET")
    station = ReservingStation()
    async with connected_station(csms, "CS-RES", version, routes=station.routes()) as cs:
        await boot(cs)
        created = await reserve(api, "CS-RES", evse_id=1, id_token="TAG-R")
        assert created.status_code == 201, created.text
        reservation = created.json()["reservation"]
        assert reservation["status"] == "Accepted" and reservation["active"] is True
        assert created.json()["response"] == {"status": "Accepted"}
        rid = reservation["id"]
        [sent] = station.sent()
        if version is OcppVersion.V16:
            assert sent == {"connectorId": 1, "expiryDate": sent["expiryDate"],
                            "idTag": "TAG-R", "parentIdTag": "FLEET", "reservationId": rid}
        else:
            assert sent == {"id": rid, "expiryDateTime": sent["expiryDateTime"], "evseId": 1,
                            "idToken": {"idToken": "TAG-R", "type": "ISO14443"},
                            "groupIdToken": {"idToken": "FLEET", "type": "Central"}}
        clash = await reserve(api, "CS-RES", evse_id=1, id_token="OTHER")
        assert clash.status_code == 409 and "already has reservation" in clash.json()["detail"]
        assert len(station.sent()) == 1  # nothing sent for the clash
        if version is OcppVersion.V16:
            await cs.call("StatusNotification", {"connectorId": 1, "status": "Reserved",
                                                 "errorCode": "NoError",
                                                 "timestamp": stamp(1)})
            started = await cs.call("StartTransaction", {
                "connectorId": 1, "idTag": "TAG-R", "meterStart": 0, "timestamp": stamp(2),
                "reservationId": rid})
            tx = str(started["transactionId"])
        else:
            tx = "TX-RES"
            await cs.call("TransactionEvent", {
                "eventType": "Started", "timestamp": stamp(2), "triggerReason": "Authorized",
                "seqNo": 0, "transactionInfo": {"transactionId": tx},
                "idToken": {"idToken": "TAG-R", "type": "ISO14443"},
                "evse": {"id": 1, "connectorId": 1}, "reservationId": rid})
    used = (await api.get(f"/api/reservations/{rid}")).json()
    assert used["status"] == "Used" and used["transaction_id"] == tx
    assert used["active"] is False and used["ended_at"] is not None
    listed = (await api.get("/api/stations/CS-RES/reservations")).json()
    assert [r["id"] for r in listed] == [rid]
    assert (await api.get("/api/reservations", params={"active": "true"})).json() == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_station_answers_are_recorded(csms: RunningCsms, api: httpx.AsyncClient,
                                            version: OcppVersion) -> None:
    """TC_048_1..4 / TC_H_22: Faulted, Occupied, Unavailable, Rejected; CALLERROR is Failed."""
    answers = ["Faulted", "Occupied", "Unavailable", "Rejected", "CALLERROR"]
    station = ReservingStation(*answers)
    async with connected_station(csms, "CS-RES2", version, routes=station.routes()) as cs:
        await boot(cs)
        for answer in answers[:-1]:
            result = await reserve(api, "CS-RES2", evse_id=1, id_token="TAG")
            assert result.status_code == 201  # not active: no clash with the one before
            assert result.json()["reservation"]["status"] == answer
            assert result.json()["reservation"]["active"] is False
        failed = await reserve(api, "CS-RES2", evse_id=1, id_token="TAG")
        assert failed.status_code == 502
    statuses = [r["status"] for r in (await api.get("/api/reservations", params={
        "station_id": "CS-RES2"})).json()]
    assert statuses == ["Failed", *reversed(answers[:-1])]  # newest first
    ids = [p["reservationId" if version is OcppVersion.V16 else "id"] for p in station.sent()]
    assert ids == sorted(set(ids))  # every attempt had an id of its own


@pytest.mark.parametrize("version", VERSIONS)
async def test_cancel_reservation(csms: RunningCsms, api: httpx.AsyncClient,
                                  version: OcppVersion) -> None:
    """TC_051 / TC_H_17 (Accepted) and TC_052 (Rejected)."""
    station = ReservingStation(cancel="Rejected")
    async with connected_station(csms, "CS-RES3", version, routes=station.routes()) as cs:
        await boot(cs)
        rid = (await reserve(api, "CS-RES3", evse_id=2, id_token="TAG")).json()[
            "reservation"]["id"]
        refused = await api.delete(f"/api/reservations/{rid}")
        assert refused.json()["response"]["status"] == "Rejected"
        assert refused.json()["reservation"]["status"] == "Accepted"
        station.cancel = "Accepted"
        cancelled = await api.delete(f"/api/reservations/{rid}")
        assert cancelled.status_code == 200
        assert cancelled.json()["reservation"]["status"] == "Cancelled"
        assert station.sent("CancelReservation") == [{"reservationId": rid}] * 2
        again = await api.delete(f"/api/reservations/{rid}")
        assert again.status_code == 409 and "Cancelled" in again.json()["detail"]
        # The EVSE is free again.
        assert (await reserve(api, "CS-RES3", evse_id=2, id_token="TAG")).status_code == 201
    assert (await api.delete("/api/reservations/999")).status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_csms_expires_reservations_itself(
        csms: RunningCsms, api: httpx.AsyncClient, version: OcppVersion) -> None:
    """TC_047 / TC_H_07: at expiry the reservation is Expired even if the station says
    nothing; the station's own report afterwards changes nothing."""
    async with connected_station(csms, "CS-EXP", version,
                                 routes=ReservingStation().routes()) as cs:
        await boot(cs)
        rid = (await reserve(api, "CS-EXP", evse_id=1, id_token="TAG",
                             expires_in_s=0.3)).json()["reservation"]["id"]
        expired = await wait_status(csms, api, rid, "Expired")
        assert expired["active"] is False and expired["detail"] == "expiry time passed"
        if version is OcppVersion.V201:
            assert await cs.call("ReservationStatusUpdate", {
                "reservationId": rid, "reservationUpdateStatus": "Expired"}) == {}
        else:
            await cs.call("StatusNotification", {"connectorId": 1, "status": "Available",
                                                 "errorCode": "NoError", "timestamp": stamp()})
    after = (await api.get(f"/api/reservations/{rid}")).json()
    assert after["status"] == "Expired" and after["updated_at"] == expired["updated_at"]


async def test_ocpp201_reservation_status_update(csms: RunningCsms,
                                                 api: httpx.AsyncClient) -> None:
    """TC_H_20 (Removed when the EVSE faulted) and TC_H_07 (Expired, said by the station)."""
    async with connected_station(csms, "CS-RSU", OcppVersion.V201,
                                 routes=ReservingStation().routes()) as cs:
        await boot(cs)
        first = (await reserve(api, "CS-RSU", evse_id=1, id_token="TAG")).json()
        second = (await reserve(api, "CS-RSU", evse_id=2, id_token="TAG")).json()
        a, b = first["reservation"]["id"], second["reservation"]["id"]
        assert await cs.call("ReservationStatusUpdate", {
            "reservationId": a, "reservationUpdateStatus": "Removed"}) == {}
        await cs.call("ReservationStatusUpdate", {"reservationId": b,
                                                  "reservationUpdateStatus": "Expired"})
        assert await cs.call("ReservationStatusUpdate", {
            "reservationId": 4242, "reservationUpdateStatus": "Expired"}) == {}
        # Answered after commit: the API shows it at once.
        assert (await api.get(f"/api/reservations/{a}")).json()["status"] == "Removed"
        assert (await api.get(f"/api/reservations/{b}")).json()["status"] == "Expired"
    assert (await api.get("/api/reservations/4242")).status_code == 404


async def test_ocpp16_connector_available_before_expiry_ends_the_reservation(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with connected_station(csms, "CS-AV", OcppVersion.V16,
                                 routes=ReservingStation().routes()) as cs:
        await boot(cs)
        rid = (await reserve(api, "CS-AV", evse_id=1, id_token="TAG")).json()[
            "reservation"]["id"]
        reserved = {"connectorId": 1, "status": "Reserved", "errorCode": "NoError",
                    "timestamp": stamp(1)}
        await cs.call("StatusNotification", reserved)
        assert (await api.get(f"/api/reservations/{rid}")).json()["status"] == "Accepted"
        # A report older than the acceptance (queued before it) does not end it.
        await cs.call("StatusNotification", {**reserved, "status": "Available",
                                             "timestamp": stamp(-30)})
        assert (await api.get(f"/api/reservations/{rid}")).json()["status"] == "Accepted"
        await cs.call("StatusNotification", {**reserved, "status": "Available",
                                             "timestamp": stamp(2)})
    ended = (await api.get(f"/api/reservations/{rid}")).json()
    assert ended["status"] == "Removed" and ended["detail"] == "station: connector Available"


@pytest.mark.parametrize("version", VERSIONS)
async def test_any_evse_and_connector_type(csms: RunningCsms, api: httpx.AsyncClient,
                                           version: OcppVersion) -> None:
    """TC_049 / TC_H_08 (any EVSE: 1.6 connector 0) and TC_H_15 (connector type, 2.0.1)."""
    station = ReservingStation()
    async with connected_station(csms, "CS-ANY", version, routes=station.routes()) as cs:
        await boot(cs)
        first = await reserve(api, "CS-ANY", id_token="TAG-1")
        second = await reserve(api, "CS-ANY", evse_id=0, id_token="TAG-2")
        assert first.status_code == second.status_code == 201  # the station decides
        assert first.json()["reservation"]["evse_id"] is None
        typed = await reserve(api, "CS-ANY", id_token="TAG-3", connector_type="cType2")
        if version is OcppVersion.V16:
            assert [p["connectorId"] for p in station.sent()] == [0, 0]
            assert typed.status_code == 422  # 1.6 has no connector types
            assert "connectorType" in typed.json()["detail"]["message"]
        else:
            assert all("evseId" not in p for p in station.sent())
            assert typed.status_code == 201
            assert station.sent()[-1]["connectorType"] == "cType2"
    listed = (await api.get("/api/stations/CS-ANY/reservations")).json()
    assert len(listed) == (2 if version is OcppVersion.V16 else 3)


@pytest.mark.parametrize("version", VERSIONS)
async def test_raw_reserve_now_is_tracked(csms: RunningCsms, api: httpx.AsyncClient,
                                          version: OcppVersion) -> None:
    payload = ({"connectorId": 2, "expiryDate": stamp(600), "idTag": "RAW",
                "reservationId": 77} if version is OcppVersion.V16 else
               {"id": 77, "expiryDateTime": stamp(600), "evseId": 2,
                "idToken": {"idToken": "RAW", "type": "KeyCode"}})
    async with connected_station(csms, "CS-RAW", version,
                                 routes=ReservingStation().routes()) as cs:
        await boot(cs)
        raw = await api.post("/api/stations/CS-RAW/ocpp/ReserveNow", json=payload)
        assert raw.json()["response"] == {"status": "Accepted"}
        tracked = (await api.get("/api/reservations/77")).json()
        assert (tracked["station_id"], tracked["evse_id"], tracked["status"]) == \
            ("CS-RAW", 2, "Accepted")
        assert (await reserve(api, "CS-RAW", evse_id=2, id_token="X")).status_code == 409
        taken = await reserve(api, "CS-RAW", evse_id=1, id_token="X", id=77)
        assert taken.status_code == 409 and "taken" in taken.json()["detail"]
        following = (await reserve(api, "CS-RAW", evse_id=1, id_token="X")).json()
        assert following["reservation"]["id"] == 78


async def test_reservation_input_is_checked(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.core.stations.register("CS-OFF")
    async with connected_station(csms, "CS-IN", OcppVersion.V16,
                                 routes=ReservingStation().routes()) as cs:
        await boot(cs)
        past = await reserve(api, "CS-IN", id_token="T", expires_in_s=None,
                             expiry="2020-01-01T00:00:00Z")
        assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body",
                                                                               "expiry"]
        both = await reserve(api, "CS-IN", id_token="T", expiry="2999-01-01T00:00:00Z")
        assert both.status_code == 422
        naive = await reserve(api, "CS-IN", id_token="T", expires_in_s=None,
                              expiry="2999-01-01T00:00:00")
        assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["body",
                                                                                 "expiry"]
        long_tag = await reserve(api, "CS-IN", id_token="T" * 25)  # 1.6 idTag: 20 at most
        assert long_tag.status_code == 422
        assert (await api.get("/api/reservations")).json() == []  # nothing recorded
    assert (await reserve(api, "NOPE", id_token="T")).status_code == 404
    offline = await reserve(api, "CS-OFF", id_token="T")
    assert offline.status_code == 409 and offline.json()["detail"]["outcome"] == "offline"
