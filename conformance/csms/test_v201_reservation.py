"""OCPP 2.0.1 block H (Reservation), CSMS under test.

The CSMS is made to reserve through the trigger adapter. The reservation id is the CSMS's
(read from its ReserveNow); the trigger asks for one that differs per case and run, for a CSMS
that takes the caller's id.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    booted,
    booted_station,
    check,
    csms_sends,
    id_token,
    now_iso,
    status_payload,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio

EXPIRY_S = 600.0


def _reservation_id(case: int) -> int:
    """An id that no earlier case or run against the same CSMS used (for the trigger)."""
    return (int(time.time() * 10) % 10_000_000) * 100 + case


def _in_future(stamp: Any) -> bool:
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.timestamp() > time.time()


async def _reserve(station: TestStation, triggers: Triggers, sut: Sut, case: int, *,
                   evse: bool = True, answer: str = "Accepted",
                   extra: dict[str, Any] | None = None) -> IncomingCall:
    """The CSMS sends ReserveNow for the valid token (on EVSE 1 unless ``evse`` is False),
    answered ``answer``. Checked (H01): the idToken is the token asked for, the
    expiryDateTime lies in the future, evseId 1 (or none)."""
    payload: dict[str, Any] = {"id": _reservation_id(case), "expiryDateTime": now_iso(EXPIRY_S),
                               "idToken": id_token(sut.tokens.valid), **(extra or {})}
    if evse:
        payload["evseId"] = 1
    call = await csms_sends(station, triggers, "ReserveNow", payload, {"status": answer},
                            step="ReserveNowRequest", timeout_s=sut.action_timeout_s)
    got = call.payload
    check(got.get("idToken", {}).get("idToken") == sut.tokens.valid, "ReserveNowRequest",
          f"idToken.idToken {sut.tokens.valid}", got)
    check(_in_future(got.get("expiryDateTime")), "ReserveNowRequest",
          "an expiryDateTime in the future", got)
    if evse:
        check(got.get("evseId") == 1, "ReserveNowRequest", "evseId 1", got)
    else:
        check("evseId" not in got, "ReserveNowRequest", "no evseId (any EVSE)", got)
    return call


async def _use_reservation(station: TestStation, sut: Sut, reservation_id: int, token: str,
                           tx_id: str) -> dict[str, Any]:
    """The reserved EVSE is used: Authorize, Occupied, TransactionEvent Started with the
    reservationId; returns the Started event's answer."""
    answer = await station.call("Authorize", {"idToken": id_token(token)},
                                step="AuthorizeRequest")
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted", "AuthorizeResponse",
          "idTokenInfo.status Accepted", answer)
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, tx_id)
    started = await tx.event("Started", "Authorized", token=token,
                             charging_state="EVConnected", meter_wh=0,
                             extra={"reservationId": reservation_id},
                             step="TransactionEvent Started (reservationId)")
    check(started.get("idTokenInfo", {}).get("status") == "Accepted",
          "TransactionEventResponse (Started)", "idTokenInfo.status Accepted", started)
    return started


def _reserved(station: TestStation) -> Any:
    return station.call("StatusNotification", status_payload(station.version, 1, "Reserved"),
                        step="StatusNotification Reserved")


@pytest.mark.case("TC_H_01_CSMS")
async def test_TC_H_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reserve a specific EVSE, Accepted, valid idToken (H01). Steps: Booted; the CSMS sends
    ReserveNow (evseId 1, the valid idToken, an expiryDateTime); Accepted; StatusNotification
    Reserved; the same token is presented: Authorize, StatusNotification Occupied,
    TransactionEvent Started with the reservationId. Validated: ReserveNow's idToken, evseId 1
    and a future expiryDateTime; Authorize and the Started event answered Accepted."""
    station = await booted_station(stations)
    call = await _reserve(station, triggers, sut, 1)
    await _reserved(station)
    await _use_reservation(station, sut, call.payload["id"], sut.tokens.valid, "CONF-TX-H01")


@pytest.mark.case("TC_H_07_CSMS")
async def test_TC_H_07_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reserve a specific EVSE, reservation ended / not used (H01: the station reports the
    expiry). Steps: ReserveNow for EVSE 1, Accepted; StatusNotification Reserved; the
    reservation expires on the station (the suite does not wait out the expiry it plays):
    StatusNotification Available and ReservationStatusUpdate (the reservation's id, Expired),
    which the CSMS answers. Validated: ReserveNow's fields; ReservationStatusUpdate answered."""
    station = await booted_station(stations)
    call = await _reserve(station, triggers, sut, 7)
    await _reserved(station)
    await station.call("StatusNotification", status_payload(station.version, 1, "Available"),
                       step="StatusNotification Available")
    await station.call("ReservationStatusUpdate", {
        "reservationId": call.payload["id"], "reservationUpdateStatus": "Expired"},
        step="ReservationStatusUpdateRequest (Expired)")


@pytest.mark.case("TC_H_08_CSMS")
async def test_TC_H_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reserve an unspecified EVSE, Accepted (H01). Steps: Booted; the CSMS sends ReserveNow
    without evseId; Accepted; the token is presented and a transaction started with the
    reservationId. Validated: no evseId in ReserveNow, its idToken and expiry; Authorize and
    the Started event answered Accepted."""
    if not sut.claims("reserve_unspecified_evse"):
        not_applicable("reserve_unspecified_evse: the SUT does not claim ReserveNow without "
                       "an evseId")
    station = await booted_station(stations)
    call = await _reserve(station, triggers, sut, 8, evse=False)
    await _use_reservation(station, sut, call.payload["id"], sut.tokens.valid, "CONF-TX-H08")


@pytest.mark.case("TC_H_14_CSMS")
async def test_TC_H_14_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reserve an unspecified EVSE when the EVSEs available equal the reservations (H01: the
    station then reports every remaining available EVSE Reserved). Steps: Booted (the SUT's
    EVSEs of the first station); the CSMS sends ReserveNow without evseId; Accepted; with as
    many reservations as available EVSEs the station reports each EVSE Reserved; the token
    is presented and a transaction started with the reservationId. Validated: no evseId in
    ReserveNow, its idToken and expiry; Authorize and the Started event answered Accepted."""
    if not sut.claims("reserve_unspecified_evse"):
        not_applicable("reserve_unspecified_evse: the SUT does not claim ReserveNow without "
                       "an evseId")
    station = await stations.connected()
    evses = sut.stations[0].evses
    await booted(station, evses)
    reservations = []
    for n in range(evses):
        reservations.append(await _reserve(station, triggers, sut, 14 + 100 * n, evse=False))
    for evse in range(1, evses + 1):
        await station.call("StatusNotification",
                           status_payload(station.version, evse, "Reserved"),
                           step=f"StatusNotification Reserved (EVSE {evse})")
    await _use_reservation(station, sut, reservations[0].payload["id"], sut.tokens.valid,
                           "CONF-TX-H14")


@pytest.mark.case("TC_H_15_CSMS")
async def test_TC_H_15_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reserve a connector with a specific type, success (H01; errata: a ConnectorEnumType).
    Steps: Booted; the CSMS sends ReserveNow with connectorType (cType2) and no evseId;
    Accepted. Validated: connectorType is the type asked for, no evseId, the idToken and a
    future expiry."""
    if not sut.claims("reserve_connector_type"):
        not_applicable("reserve_connector_type: the SUT does not claim ReserveNow for a "
                       "connector type")
    station = await booted_station(stations)
    call = await _reserve(station, triggers, sut, 15, evse=False,
                          extra={"connectorType": "cType2"})
    check(call.payload.get("connectorType") == "cType2", "ReserveNowRequest",
          "connectorType cType2", call.payload)


@pytest.mark.case("TC_H_17_CSMS")
async def test_TC_H_17_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Cancel reservation of an EVSE, success (H02). Steps: ReserveNow for EVSE 1, Accepted;
    StatusNotification Reserved; the CSMS sends CancelReservation; Accepted; StatusNotification
    Available. Validated: CancelReservation's reservationId is the reservation's id (H02.FR.01)."""
    station = await booted_station(stations)
    call = await _reserve(station, triggers, sut, 17)
    await _reserved(station)
    reservation_id = call.payload["id"]
    cancel = await csms_sends(station, triggers, "CancelReservation",
                              {"reservationId": reservation_id}, {"status": "Accepted"},
                              step="CancelReservationRequest", timeout_s=sut.action_timeout_s)
    check(cancel.payload.get("reservationId") == reservation_id, "CancelReservationRequest",
          f"reservationId {reservation_id}", cancel.payload)
    await station.call("StatusNotification", status_payload(station.version, 1, "Available"),
                       step="StatusNotification Available")


@pytest.mark.case("TC_H_19_CSMS")
async def test_TC_H_19_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reserve a specific EVSE, use it with the GroupId (H01: a reservation with a
    groupIdToken may be used by any token of the group). Steps: the CSMS sends ReserveNow for
    EVSE 1 with the valid token and its groupIdToken; Accepted; Reserved; another token of the
    group is presented: Authorize, answered Accepted with the same groupIdToken (so the station
    can match the reservation); the transaction starts with the reservationId.
    Validated: ReserveNow carries groupIdToken = the SUT's group id; the Authorize answer's
    groupIdToken equals it; the Started event answered Accepted."""
    station = await booted_station(stations)
    group = sut.tokens.group_id
    call = await _reserve(station, triggers, sut, 19,
                          extra={"groupIdToken": {"idToken": group, "type": "Central"}})
    got = call.payload.get("groupIdToken", {})
    check(got.get("idToken") == group, "ReserveNowRequest", f"groupIdToken.idToken {group}",
          call.payload)
    await _reserved(station)
    answer = await station.call("Authorize", {"idToken": id_token(sut.tokens.valid_2)},
                                step="AuthorizeRequest (other token of the group)")
    info = answer.get("idTokenInfo", {})
    check(info.get("status") == "Accepted" and info.get("groupIdToken", {}).get("idToken")
          == group, "AuthorizeResponse", f"status Accepted and groupIdToken {group}", answer)
    await _use_reservation(station, sut, call.payload["id"], sut.tokens.valid_2, "CONF-TX-H19")


@pytest.mark.case("TC_H_20_CSMS")
async def test_TC_H_20_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """The station cancels a reservation when Faulted (H04). Steps: ReserveNow for EVSE 1,
    Accepted; Reserved; the connector faults: StatusNotification Faulted and
    ReservationStatusUpdate (the reservation's id, Removed), which the CSMS answers.
    Validated: ReserveNow's fields; ReservationStatusUpdate answered."""
    station = await booted_station(stations)
    call = await _reserve(station, triggers, sut, 20)
    await _reserved(station)
    await station.call("StatusNotification", status_payload(station.version, 1, "Faulted"),
                       step="StatusNotification Faulted")
    await station.call("ReservationStatusUpdate", {
        "reservationId": call.payload["id"], "reservationUpdateStatus": "Removed"},
        step="ReservationStatusUpdateRequest (Removed)")
    await station.call("StatusNotification", status_payload(station.version, 1, "Available"),
                       step="StatusNotification Available (fault cleared)")


@pytest.mark.case("TC_H_22_CSMS")
async def test_TC_H_22_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Reserve a specific EVSE, the station configured to reject (H01): the CSMS sends
    ReserveNow; the station answers Rejected. Validated: ReserveNow's fields; the CSMS takes
    the rejection and keeps serving the station (a Heartbeat is answered)."""
    station = await booted_station(stations)
    await _reserve(station, triggers, sut, 22, answer="Rejected")
    await station.call("Heartbeat", {}, step="Heartbeat after the rejection")
