"""OCPP 2.0.1 block C (Authorization) and the transaction starts of block E, CSMS under
test."""

from __future__ import annotations

import pytest

from conformance.csms.harness import (
    StationPool,
    booted,
    check,
    energy_transfer_started_201,
    id_token,
)
from conformance.sut import Sut

pytestmark = pytest.mark.asyncio


async def _authorize(stations: StationPool, token: str) -> dict:
    station = await stations.connected()
    await booted(station)
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
    station = await stations.connected()
    await booted(station)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, "CONF-TX-E04")
    ended = await tx.event("Ended", "StopAuthorized", charging_state="EVConnected",
                           token=sut.tokens.valid, stopped_reason="Local", meter_wh=1000,
                           step="TransactionEvent Ended")
    info = ended.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted", "TransactionEventResponse (Ended)",
          "no idTokenInfo, or status Accepted", ended)
