"""OCPP 2.0.1 block C (Authorization), C16 Stop Transaction with a Master Pass, CSMS under test.

A master pass is an idToken whose group id is the MasterPassGroupId the stations are
configured with (the SUT file's ``tokens.master_pass`` and ``tokens.master_pass_group_id``).
Presented at a station, the station asks the CSMS (AuthorizeRequest); only when the CSMS
answers Accepted with groupIdToken = MasterPassGroupId does the station let its holder stop the
transactions (all of them, or the ones chosen at its user interface) with stoppedReason
MasterPass. The case plays a station with two EVSEs, each charging (EnergyTransferStarted with
the valid idToken on EVSE 1 and valid_2 on EVSE 2).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    booted,
    check,
    energy_transfer_started_201,
    id_token,
)
from conformance.harness_station import TestStation
from conformance.sut import Sut

pytestmark = pytest.mark.asyncio


async def _two_charging(stations: StationPool, sut: Sut, case: str
                        ) -> tuple[TestStation, list[Transaction201]]:
    """Booted with (at least) two EVSEs; EnergyTransferStarted on EVSE 1 with the valid
    idToken and on EVSE 2 with valid_2."""
    station = await stations.connected()
    await booted(station, max(2, sut.stations[0].evses))
    first = await energy_transfer_started_201(station, sut.tokens.valid, f"CONF-TX-{case}-1",
                                              evse_id=1)
    second = await energy_transfer_started_201(station, sut.tokens.valid_2,
                                               f"CONF-TX-{case}-2", evse_id=2)
    return station, [first, second]


async def _master_pass_authorize(station: TestStation, sut: Sut) -> None:
    """AuthorizeRequest with the master pass; validated: idTokenInfo.status Accepted and
    idTokenInfo.groupIdToken.idToken the configured MasterPassGroupId."""
    step = "AuthorizeResponse (master pass)"
    answer = await station.call("Authorize", {"idToken": id_token(sut.tokens.master_pass)},
                                step="AuthorizeRequest (master pass)")
    info = answer.get("idTokenInfo", {})
    group = sut.tokens.master_pass_group_id
    check(info.get("status") == "Accepted", step, "idTokenInfo.status Accepted", answer)
    check(info.get("groupIdToken", {}).get("idToken") == group, step,
          f"idTokenInfo.groupIdToken.idToken {group} (the MasterPassGroupId)", answer)


async def _stopped_by_master_pass(tx: Transaction201, token: str) -> None:
    """TransactionEvent Ended (StopAuthorized, stoppedReason MasterPass) with ``token``;
    the CSMS answers it without refusing the token."""
    step = f"TransactionEventResponse (Ended, EVSE {tx.evse_id})"
    answer = await tx.event("Ended", "StopAuthorized", token=token, charging_state="EVConnected",
                            stopped_reason="MasterPass", meter_wh=1500,
                            step=f"TransactionEvent Ended MasterPass (EVSE {tx.evse_id})")
    _accepted_or_none(answer, step)


def _accepted_or_none(answer: dict[str, Any], step: str) -> None:
    info = answer.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted", step,
          "no idTokenInfo, or idTokenInfo.status Accepted", answer)


@pytest.mark.case("TC_C_47_CSMS")
async def test_TC_C_47_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop Transaction with a Master Pass, with UI, all transactions (C16.FR.01).

    Before: EnergyTransferStarted on EVSE 1 (valid idToken) and EVSE 2 (valid_2); the CSMS
    knows the master pass in the MasterPassGroupId group. Steps: AuthorizeRequest with the
    master pass; the user chooses to stop all transactions: TransactionEvent Ended
    (StopAuthorized, stoppedReason MasterPass, idToken the master pass) for both EVSEs.
    Validated: AuthorizeResponse idTokenInfo.status Accepted, groupIdToken.idToken the
    configured MasterPassGroupId; both Ended events answered, without a refusal of the
    token."""
    station, transactions = await _two_charging(stations, sut, "C47")
    await _master_pass_authorize(station, sut)
    for tx in transactions:
        await _stopped_by_master_pass(tx, sut.tokens.master_pass)


@pytest.mark.case("TC_C_48_CSMS")
async def test_TC_C_48_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop Transaction with a Master Pass, with UI, specific transactions (C16.FR.01).

    Before: EnergyTransferStarted on EVSE 1 and EVSE 2. Steps: AuthorizeRequest with the
    master pass (the 2023-06 document names the valid idToken at this step; its validation,
    the MasterPassGroupId, and TC_C_48_CS make it the master pass); the user chooses the
    transaction on EVSE 1 only: TransactionEvent Ended (StopAuthorized, stoppedReason
    MasterPass, idToken the master pass) for EVSE 1; EVSE 2 goes on charging. Validated:
    AuthorizeResponse idTokenInfo.status Accepted, groupIdToken.idToken the
    MasterPassGroupId; the Ended event answered without a refusal of the token."""
    station, (first, _) = await _two_charging(stations, sut, "C48")
    await _master_pass_authorize(station, sut)
    await _stopped_by_master_pass(first, sut.tokens.master_pass)


@pytest.mark.case("TC_C_49_CSMS")
async def test_TC_C_49_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop Transaction with a Master Pass, without UI (C16.FR.02).

    Before: EnergyTransferStarted on EVSE 1 (valid idToken) and EVSE 2 (valid_2). Steps:
    AuthorizeRequest with the master pass; a station without a user interface stops every
    transaction: TransactionEvent Ended (stoppedReason MasterPass, idToken the valid idToken,
    as the document has it) for both EVSEs. The document lists no tool validation; the suite
    checks what the station's stop depends on and what every case checks: AuthorizeResponse
    idTokenInfo.status Accepted with groupIdToken.idToken the MasterPassGroupId (C16.FR.02's
    precondition), and both Ended events answered without a refusal."""
    station, transactions = await _two_charging(stations, sut, "C49")
    await _master_pass_authorize(station, sut)
    for tx in transactions:
        await _stopped_by_master_pass(tx, sut.tokens.valid)
