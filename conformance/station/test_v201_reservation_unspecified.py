"""OCPP 2.0.1 Reservation (conditional cases), charging station under test (Part 6 Edition 3,
errata 2025-09): reservations of an unspecified EVSE (R-2, ReservationCtrlr.NonEvseSpecific),
of a connector type (R-1) and a station configured to reject reservations (R-3).

A reservation without an evseId keeps one free EVSE for each such reservation (H01.FR.04);
only when the reservations take up every free EVSE (of the type) does the station show them
Reserved. So the cases reserve as many times as the station has EVSEs (the SUT file's
``stations[0].evses``) and expect Reserved only then; the suite runs them against a station
with one EVSE and against one with two.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check, is_charging
from conformance.station.reservation201 import (
    RESERVATION_ID,
    event_with_reservation_id,
    expiry_in,
    iso14443_token,
)
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

# ConnectorEnumType (2.0.1 Part 2, 2.x DataTypes) but the two that name no type: the errata
# restrict TC_H_15 / TC_H_16 to connectors of one of these
CONNECTOR_TYPES = frozenset({
    "cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2", "s309-1P-16A", "s309-1P-32A",
    "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7", "sType2", "sType3",
    "Other1PhMax16A", "Other1PhOver16A", "Other3Ph", "Pan", "wInductive", "wResonant"})


def _needs(h: Harness, feature: str, what: str) -> None:
    if not h.sut.claims(feature):
        not_applicable(f"{feature} ({what})")


def _needs_unspecified(h: Harness) -> None:
    _needs(h, "reservation_unspecified_evse", "reservations of an unspecified EVSE")


async def _reserve_now(h: Harness, *, step: str, reservation_id: int = RESERVATION_ID,
                       evse: int | None = None, token: str | None = None,
                       **extra: Any) -> str:
    """ReserveNow (for ``evse``, else of an unspecified EVSE) an hour ahead; its status."""
    request: dict[str, Any] = {"id": reservation_id, "expiryDateTime": expiry_in(),
                               "idToken": iso14443_token(token or h.sut.tokens.valid), **extra}
    if evse is not None:
        request["evseId"] = evse
    answer = await h.csms.call("ReserveNow", request, step=step)
    return str(answer.get("status"))


async def _accepted(h: Harness, *, step: str, **params: Any) -> None:
    status = await _reserve_now(h, step=step, **params)
    check(status == "Accepted", f"{step}: ReserveNowResponse", "Accepted", status)


async def _all_reserved(h: Harness, evses: list[int], *, step: str) -> None:
    for evse in evses:
        await h.status(evse, "Reserved", step=f"{step}: StatusNotification Reserved {evse}")


async def _reservation_used(h: Harness, token: str, *, step: str) -> None:
    """The holder (``token``) presents itself at EVSE 1 and plugs in: the transaction carries
    the reservationId and charges."""
    await h.act("present_token", step=f"{step}: present the token", evse=1, token=token)
    await h.act("plug_in", step=f"{step}: plug in", evse=1)
    await event_with_reservation_id(h, step=f"{step}: TransactionEventRequest")
    await h.csms.receive("TransactionEvent", step=f"{step}: TransactionEvent (charging)",
                         where=is_charging,
                         expected="a TransactionEvent with chargingState Charging")


def _every_evse(h: Harness) -> list[int]:
    return list(range(1, h.evses + 1))


@pytest.mark.case("TC_H_08_CS")
async def test_TC_H_08_CS(h: Harness) -> None:
    """Reserve an unspecified EVSE, Accepted: ReserveNow without evseId Accepted (a station
    with one EVSE shows it Reserved); the idToken is presented and the EV plugged in at EVSE
    1: the transaction carries the reservationId and charges."""
    _needs_unspecified(h)
    await h.booted()
    await _accepted(h, step="ReserveNow (no evseId)")
    if h.evses == 1:
        await _all_reserved(h, [1], step="the only EVSE")
    await _reservation_used(h, h.sut.tokens.valid, step="use the reservation")


@pytest.mark.case("TC_H_09_CS")
async def test_TC_H_09_CS(h: Harness) -> None:
    """Reserve an unspecified EVSE, Occupied, EVSE reserved: every EVSE reserved by its own
    ReserveNow (Accepted, Reserved); a ReserveNow without evseId is answered Occupied."""
    _needs_unspecified(h)
    await h.booted()
    for evse in _every_evse(h):
        await _accepted(h, step=f"ReserveNow EVSE {evse}", reservation_id=RESERVATION_ID + evse,
                        evse=evse)
        await _all_reserved(h, [evse], step=f"EVSE {evse}")
    status = await _reserve_now(h, step="ReserveNow (no evseId)",
                                token=h.sut.tokens.valid_2)
    check(status == "Occupied", "ReserveNowResponse", "Occupied", status)


@pytest.mark.case("TC_H_10_CS")
async def test_TC_H_10_CS(h: Harness) -> None:
    """Reserve an unspecified EVSE, Occupied, EVSE occupied: an EV plugged in at every EVSE
    (Occupied); a ReserveNow without evseId is answered Occupied."""
    _needs_unspecified(h)
    await h.booted()
    for evse in _every_evse(h):
        await h.act("plug_in", step=f"plug in at EVSE {evse}", evse=evse)
        await h.status(evse, "Occupied", step=f"StatusNotification Occupied {evse}")
    status = await _reserve_now(h, step="ReserveNow (no evseId)")
    check(status == "Occupied", "ReserveNowResponse", "Occupied", status)


@pytest.mark.case("TC_H_12_CS")
async def test_TC_H_12_CS(h: Harness) -> None:
    """Reserve an unspecified EVSE, Unavailable: the station made Inoperative
    (ChangeAvailability Accepted, every EVSE Unavailable); a ReserveNow without evseId is
    answered Unavailable. Afterwards the station is made Operative again."""
    _needs_unspecified(h)
    await h.booted()
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Inoperative"},
                               step="ChangeAvailability Inoperative")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse", "Accepted", answer)
    for evse in _every_evse(h):
        await h.status(evse, "Unavailable", step=f"StatusNotification Unavailable {evse}")
    status = await _reserve_now(h, step="ReserveNow (no evseId)")
    check(status == "Unavailable", "ReserveNowResponse", "Unavailable", status)
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": "Operative"},
                               step="ChangeAvailability Operative (post-condition)")
    check(answer.get("status") == "Accepted", "ChangeAvailabilityResponse (post-condition)",
          "Accepted", answer)


@pytest.mark.case("TC_H_13_CS")
async def test_TC_H_13_CS(h: Harness) -> None:
    """Reserve an unspecified EVSE, Rejected (a station without reservations of an unspecified
    EVSE, errata 2024-11: NOT R-2): a ReserveNow without evseId is answered Rejected."""
    if h.sut.claims("reservation_unspecified_evse"):
        not_applicable("a station without reservations of an unspecified EVSE (the SUT file "
                       "claims reservation_unspecified_evse)")
    await h.booted()
    status = await _reserve_now(h, step="ReserveNow (no evseId)")
    check(status == "Rejected", "ReserveNowResponse", "Rejected", status)


@pytest.mark.case("TC_H_14_CS")
async def test_TC_H_14_CS(h: Harness) -> None:
    """Reserve an unspecified EVSE, amount of EVSEs available equals the amount of
    reservations: as many ReserveNow without evseId as the station has EVSEs, each Accepted;
    then every EVSE is Reserved."""
    _needs_unspecified(h)
    await h.booted()
    for n in _every_evse(h):
        await _accepted(h, step=f"ReserveNow {n} (no evseId)",
                        reservation_id=RESERVATION_ID + n)
    await _all_reserved(h, _every_evse(h), step="as many reservations as EVSEs")


async def _connector_types(h: Harness) -> dict[int, str]:
    """Each EVSE's connector type (Connector.ConnectorType of its connector 1), which the
    station reports in its device model."""
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "Connector", "evse": {"id": evse, "connectorId": 1}},
        "variable": {"name": "ConnectorType"}} for evse in _every_evse(h)]},
        step="GetVariables Connector.ConnectorType")
    results = answer.get("getVariableResult", [])
    check(len(results) == h.evses and all(r.get("attributeStatus") == "Accepted"
                                          for r in results),
          "GetVariablesResponse", "ConnectorType of every EVSE's connector Accepted", answer)
    return {int(r["component"]["evse"]["id"]): str(r.get("attributeValue"))
            for r in results}


async def _reservable_type(h: Harness) -> tuple[str, list[int]]:
    """The connector type of EVSE 1 and the EVSEs that have it; not applicable unless it is a
    ConnectorEnumType (errata)."""
    _needs(h, "reservation_connector_type", "reservations of a connector type")
    types = await _connector_types(h)
    wanted = types[1]
    if wanted not in CONNECTOR_TYPES:
        not_applicable(f"a connector of a ConnectorEnumType (EVSE 1 has {wanted!r})")
    return wanted, [evse for evse, kind in types.items() if kind == wanted]


@pytest.mark.case("TC_H_15_CS")
async def test_TC_H_15_CS(h: Harness) -> None:
    """Reserve a connector with a specific type, success: ReserveNow with the connectorType of
    EVSE 1 (no evseId) Accepted (Reserved when one EVSE has that type); the idToken is
    presented and the EV plugged in at EVSE 1: the transaction carries the reservationId."""
    await h.booted()
    kind, evses = await _reservable_type(h)
    await _accepted(h, step=f"ReserveNow connectorType {kind}", connectorType=kind)
    if len(evses) == 1:
        await _all_reserved(h, evses, step=f"the only {kind} EVSE")
    await _reservation_used(h, h.sut.tokens.valid, step="use the reservation")


@pytest.mark.case("TC_H_16_CS")
async def test_TC_H_16_CS(h: Harness) -> None:
    """Reserve a connector with a specific type, amount of available connectors of a type
    equals the amount of reservations: one ReserveNow with the connectorType per EVSE that has
    it, each Accepted; then those EVSEs are Reserved, and one more is answered Occupied."""
    await h.booted()
    kind, evses = await _reservable_type(h)
    for n in range(1, len(evses) + 1):
        await _accepted(h, step=f"ReserveNow {n} connectorType {kind}",
                        reservation_id=RESERVATION_ID + n, connectorType=kind)
    await _all_reserved(h, evses, step=f"as many reservations as {kind} EVSEs")
    status = await _reserve_now(h, step=f"ReserveNow connectorType {kind} (one more)",
                                reservation_id=RESERVATION_ID, connectorType=kind,
                                token=h.sut.tokens.valid_2)
    check(status == "Occupied", "ReserveNowResponse (one more)", "Occupied", status)


@pytest.mark.case("TC_H_22_CS")
async def test_TC_H_22_CS(h: Harness) -> None:
    """Reserve a specific EVSE, configured to reject (R-3): SetVariables
    ReservationCtrlr.Enabled = false Accepted; a ReserveNow for EVSE 1 is answered Rejected.
    Afterwards reservations are enabled again."""
    _needs(h, "reservation_enabled_variable", "ReservationCtrlr.Enabled implemented")
    await h.booted()
    await h.set_variable201("ReservationCtrlr", "Enabled", "false",
                            step="SetVariables ReservationCtrlr.Enabled false")
    status = await _reserve_now(h, step="ReserveNow EVSE 1", evse=1)
    check(status == "Rejected", "ReserveNowResponse", "Rejected", status)
    await h.set_variable201("ReservationCtrlr", "Enabled", "true",
                            step="SetVariables ReservationCtrlr.Enabled true (post-condition)")


@pytest.mark.case("TC_H_24_CS")
async def test_TC_H_24_CS(h: Harness) -> None:
    """Reserve an unspecified EVSE, GroupIdToken: ReserveNow without evseId for idToken valid
    and groupIdToken G Accepted (Reserved with one EVSE); another idToken, which the CSMS
    accepts with groupIdToken G, is presented and the EV plugged in at EVSE 1: its transaction
    carries the reservationId and charges."""
    _needs_unspecified(h)
    await h.booted()
    tokens = h.sut.tokens
    group = {"idToken": tokens.group_id, "type": "Central"}
    await _accepted(h, step="ReserveNow (no evseId, groupIdToken)", groupIdToken=group)
    if h.evses == 1:
        await _all_reserved(h, [1], step="the only EVSE")
    h.csms.answer_next("Authorize", {"idTokenInfo": {"status": "Accepted",
                                                     "groupIdToken": group}})
    await _reservation_used(h, tokens.valid_2, step="a token of the group")
