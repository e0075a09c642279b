"""OCPP 2.0.1 blocks C (Authorization) and E (Transactions), CSMS under test."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    authorized,
    booted_station,
    check,
    csms_sends,
    energy_transfer_started_201,
    id_token,
    status_payload,
)
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


async def _authorize(stations: StationPool, token: str) -> dict:
    station = await booted_station(stations)
    answer = await station.call("Authorize", {"idToken": id_token(token)},
                                step="AuthorizeRequest")
    return answer


@pytest.mark.case("TC_C_02_CSMS")
async def test_TC_C_02_CSMS(stations: StationPool, sut: Sut) -> None:
    """Local start, unknown idToken: Authorize is answered Invalid (or Unknown)."""
    answer = await _authorize(stations, sut.tokens.invalid)
    status = answer.get("idTokenInfo", {}).get("status")
    check(status in ("Invalid", "Unknown"), "AuthorizeResponse",
          "idTokenInfo.status Invalid or Unknown", answer)


@pytest.mark.case("TC_C_06_CSMS")
async def test_TC_C_06_CSMS(stations: StationPool, sut: Sut) -> None:
    """Local start, blocked idToken: Authorize is answered Blocked."""
    answer = await _authorize(stations, sut.tokens.blocked)
    check(answer.get("idTokenInfo", {}).get("status") == "Blocked", "AuthorizeResponse",
          "idTokenInfo.status Blocked", answer)


@pytest.mark.case("TC_C_07_CSMS")
async def test_TC_C_07_CSMS(stations: StationPool, sut: Sut) -> None:
    """Local start, expired idToken: Authorize is answered Expired."""
    answer = await _authorize(stations, sut.tokens.expired)
    check(answer.get("idTokenInfo", {}).get("status") == "Expired", "AuthorizeResponse",
          "idTokenInfo.status Expired", answer)


@pytest.mark.case("TC_E_04_CSMS")
async def test_TC_E_04_CSMS(stations: StationPool, sut: Sut) -> None:
    """Local start, authorization first: Authorize Accepted, TransactionEvent Started with the
    idToken answered Accepted, the transaction's events answered; then it ends."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, "CONF-TX-E04")
    ended = await tx.event("Ended", "StopAuthorized", charging_state="EVConnected",
                           token=sut.tokens.valid, stopped_reason="Local", meter_wh=1000,
                           step="TransactionEvent Ended")
    info = ended.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted", "TransactionEventResponse (Ended)",
          "no idTokenInfo, or status Accepted", ended)


async def _started_with_token(stations: StationPool, token: str, tx_id: str) -> tuple[Any, dict]:
    """Cable plugged in (TransactionEvent Started, no idToken), then the token presented from
    the station's cache (no Authorize): the Updated event carries it."""
    station = await booted_station(stations)
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, tx_id)
    await tx.event("Started", "CablePluggedIn", charging_state="EVConnected", meter_wh=0,
                   step="TransactionEvent Started (CablePluggedIn)")
    answer = await tx.event("Updated", "Authorized", token=token,
                            step="TransactionEvent Updated (Authorized)")
    return tx, answer


@pytest.mark.case("TC_C_08_CSMS")
async def test_TC_C_08_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorization through the cache, Accepted: a TransactionEvent with a cached valid idToken
    (no Authorize first) is answered with idTokenInfo.status Accepted."""
    _, answer = await _started_with_token(stations, sut.tokens.valid, "CONF-TX-C08")
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted",
          "TransactionEventResponse", "idTokenInfo.status Accepted", answer)


@pytest.mark.case("TC_C_20_CSMS")
async def test_TC_C_20_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorization through the cache, Invalid: a TransactionEvent with a cached token the CSMS
    does not know is answered with idTokenInfo.status Invalid (or Unknown)."""
    _, answer = await _started_with_token(stations, sut.tokens.invalid, "CONF-TX-C20")
    check(answer.get("idTokenInfo", {}).get("status") in ("Invalid", "Unknown"),
          "TransactionEventResponse", "idTokenInfo.status Invalid or Unknown", answer)


async def _clear_cache(stations: StationPool, triggers: Triggers, sut: Sut,
                       status: str) -> None:
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "ClearCache", {}, {"status": status},
                            step="ClearCacheRequest", timeout_s=sut.action_timeout_s)
    check(call.payload == {}, "ClearCacheRequest", "an empty ClearCacheRequest", call.payload)


@pytest.mark.case("TC_C_37_CSMS")
async def test_TC_C_37_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear the authorization cache, Accepted: the CSMS sends ClearCacheRequest."""
    await _clear_cache(stations, triggers, sut, "Accepted")


@pytest.mark.case("TC_C_38_CSMS")
async def test_TC_C_38_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear the authorization cache, Rejected by the station: the CSMS sends
    ClearCacheRequest and takes the Rejected answer (the connection stays)."""
    await _clear_cache(stations, triggers, sut, "Rejected")
    station = stations.made[-1]
    await station.call("Heartbeat", {}, step="Heartbeat after the rejection")


@pytest.mark.case("TC_C_39_CSMS")
async def test_TC_C_39_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorization by GroupId: a transaction started with one token is stopped with another
    of the same group; the CSMS answers both with the group's groupIdToken (and Accepted)."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, "CONF-TX-C39")
    first = await station.call("Authorize", {"idToken": id_token(sut.tokens.valid)},
                               step="AuthorizeRequest (starting token)")
    other = await station.call("Authorize", {"idToken": id_token(sut.tokens.valid_2)},
                               step="AuthorizeRequest (other token of the group)")
    group = first.get("idTokenInfo", {}).get("groupIdToken", {}).get("idToken")
    check(group is not None, "AuthorizeResponse (starting token)", "a groupIdToken", first)
    info = other.get("idTokenInfo", {})
    check(info.get("status") == "Accepted" and info.get("groupIdToken", {}).get("idToken")
          == group, "AuthorizeResponse (other token)",
          f"status Accepted and groupIdToken {group}", other)
    await tx.event("Updated", "StopAuthorized", token=sut.tokens.valid_2,
                   step="TransactionEvent Updated (StopAuthorized)")
    await tx.event("Ended", "StopAuthorized", stopped_reason="Local", meter_wh=500,
                   step="TransactionEvent Ended")


@pytest.mark.case("TC_E_03_CSMS")
async def test_TC_E_03_CSMS(stations: StationPool, sut: Sut) -> None:
    """Local start, cable plugged in first: Started on CablePluggedIn without a token, then
    Authorize Accepted and the Updated event with the token answered Accepted."""
    station = await booted_station(stations)
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, "CONF-TX-E03")
    await tx.event("Started", "CablePluggedIn", charging_state="EVConnected", meter_wh=0,
                   step="TransactionEvent Started (CablePluggedIn)")
    await authorized(station, sut.tokens.valid)
    answer = await tx.event("Updated", "Authorized", token=sut.tokens.valid,
                            step="TransactionEvent Updated (Authorized)")
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted",
          "TransactionEventResponse (Authorized)", "idTokenInfo.status Accepted", answer)
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")


@pytest.mark.case("TC_E_15_CSMS")
async def test_TC_E_15_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop, StopAuthorized locally: the same token presented again is Accepted, and the Ended
    event (stoppedReason Local) is answered."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, "CONF-TX-E15")
    await authorized(station, sut.tokens.valid, step="StopAuthorized")
    answer = await tx.event("Updated", "StopAuthorized", token=sut.tokens.valid,
                            charging_state="EVConnected",
                            step="TransactionEvent Updated (StopAuthorized)")
    check(answer.get("idTokenInfo", {}).get("status") == "Accepted",
          "TransactionEventResponse (StopAuthorized)", "idTokenInfo.status Accepted", answer)
    await tx.event("Ended", "StopAuthorized", stopped_reason="Local", meter_wh=800,
                   step="TransactionEvent Ended")


@pytest.mark.case("TC_E_16_CSMS")
async def test_TC_E_16_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop, Deauthorized by an invalid idToken: a transaction started on the cable carries a
    token the CSMS answers Invalid; the station ends it (Deauthorized)."""
    tx, answer = await _started_with_token(stations, sut.tokens.invalid, "CONF-TX-E16")
    check(answer.get("idTokenInfo", {}).get("status") in ("Invalid", "Unknown"),
          "TransactionEventResponse (Authorized)", "idTokenInfo.status Invalid", answer)
    await tx.event("Ended", "Deauthorized", charging_state="EVConnected",
                   stopped_reason="DeAuthorized", meter_wh=0, step="TransactionEvent Ended")


@pytest.mark.case("TC_E_21_CSMS")
async def test_TC_E_21_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Stop, StopAuthorized remotely: the CSMS sends RequestStopTransaction with the running
    transaction's id; the station ends it (RemoteStop)."""
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, "CONF-TX-E21")
    call = await csms_sends(station, triggers, "RequestStopTransaction",
                            {"transactionId": tx.id}, {"status": "Accepted"},
                            step="RequestStopTransactionRequest",
                            timeout_s=sut.action_timeout_s)
    check(call.payload.get("transactionId") == tx.id, "RequestStopTransactionRequest",
          f"transactionId {tx.id}", call.payload)
    await tx.event("Updated", "RemoteStop", charging_state="EVConnected",
                   step="TransactionEvent Updated (RemoteStop)")
    await tx.event("Ended", "RemoteStop", stopped_reason="Remote", meter_wh=900,
                   step="TransactionEvent Ended")
