"""OCPP 2.0.1 block B, Reset of a single EVSE (use cases B11, B12: TC_B_25..B_29) and Reset of
the charging station with several transactions going on (TC_B_41), charging station under
test (Part 6 Edition 3, errata 2025-09). The other station Resets (TC_B_20..B_23) are in
test_v201_core.py and test_v201_provisioning.py.

Reset per EVSE is optional (Part 5 C-13, the SUT file's ``reset_evse``): B_25..B_27 apply to a
station that has it, B_28 and B_29 to one that has not. B_41 needs two EVSEs.
"""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, check, tx_id201
from conformance.station.provisioning201 import rebooted_remotely, stays_connected
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVSE = 1  # <Configured evseId>
NO_REBOOT_S = 1.0  # how long the station must stay up while a transaction still goes on


def _resets_evse(h: Harness, wanted: bool) -> None:
    """Applicable where the station can (``wanted``) or cannot reset a single EVSE."""
    if h.sut.claims("reset_evse") != wanted:
        not_applicable("reset_evse (the station resets a single EVSE)" if wanted else
                       "a station that cannot reset a single EVSE (the SUT claims "
                       "reset_evse)")


async def _reset_evse(h: Harness, kind: str, expected: str) -> None:
    answer = await h.csms.call("Reset", {"type": kind, "evseId": EVSE}, step="ResetRequest")
    check(answer.get("status") == expected, "ResetResponse", expected, answer)


async def _stop_and_leave(h: Harness, token: str, evse: int, tx: str) -> None:
    """"StopAuthorized" (``token`` presented again: TransactionEvent Ended for ``tx``), then
    "EVDisconnected" (the EV unplugged)."""
    await h.act("present_token", step=f"StopAuthorized EVSE {evse}: present token", evse=evse,
                token=token)
    await h.csms.receive("TransactionEvent", step=f"StopAuthorized EVSE {evse}: "
                         "TransactionEventRequest Ended",
                         where=lambda p: p.get("eventType") == "Ended" and
                         p["transactionInfo"]["transactionId"] == tx,
                         expected=f"TransactionEvent Ended for {tx}")
    await h.act("unplug", step=f"EVDisconnected EVSE {evse}: unplug", evse=evse)


@pytest.mark.case("TC_B_25_CS")
async def test_TC_B_25_CS(h: Harness) -> None:
    """Reset EVSE without an ongoing transaction: (a station that resets a single EVSE)
    Reset OnIdle with evseId: Accepted (the EVSE reboots)."""
    _resets_evse(h, True)
    await h.booted()
    await _reset_evse(h, "OnIdle", "Accepted")


@pytest.mark.case("TC_B_26_CS")
async def test_TC_B_26_CS(h: Harness) -> None:
    """Reset EVSE with an ongoing transaction, OnIdle: (EnergyTransferStarted) Reset OnIdle
    with evseId: Scheduled; then StopAuthorized (TransactionEvent Ended) and EVDisconnected
    (the EVSE reboots once idle)."""
    _resets_evse(h, True)
    await h.booted()
    token = h.sut.tokens.valid
    tx = tx_id201(await h.charging201(token, evse=EVSE))
    await _reset_evse(h, "OnIdle", "Scheduled")
    await _stop_and_leave(h, token, EVSE, tx)


@pytest.mark.case("TC_B_27_CS")
async def test_TC_B_27_CS(h: Harness) -> None:
    """Reset EVSE with an ongoing transaction, Immediate: (EnergyTransferStarted) Reset
    Immediate with evseId: Accepted; TransactionEvent Ended with triggerReason ResetCommand,
    chargingState EVConnected and stoppedReason ImmediateReset (the EVSE reboots)."""
    _resets_evse(h, True)
    await h.booted()
    tx = tx_id201(await h.charging201(h.sut.tokens.valid, evse=EVSE))
    await _reset_evse(h, "Immediate", "Accepted")
    ended = await h.csms.receive("TransactionEvent", step="TransactionEventRequest",
                                 where=lambda p: p.get("eventType") == "Ended",
                                 expected="TransactionEvent Ended")
    info = ended.payload.get("transactionInfo", {})
    check(info.get("transactionId") == tx and ended.payload.get("triggerReason") ==
          "ResetCommand" and info.get("chargingState") == "EVConnected" and
          info.get("stoppedReason") == "ImmediateReset", "TransactionEventRequest",
          f"transaction {tx} Ended, triggerReason ResetCommand, chargingState EVConnected, "
          "stoppedReason ImmediateReset", ended.payload)


@pytest.mark.case("TC_B_28_CS")
async def test_TC_B_28_CS(h: Harness) -> None:
    """Reset EVSE, not supported: (a station that cannot reset a single EVSE) Reset OnIdle
    with evseId: Rejected."""
    _resets_evse(h, False)
    await h.booted()
    await _reset_evse(h, "OnIdle", "Rejected")


@pytest.mark.case("TC_B_29_CS")
async def test_TC_B_29_CS(h: Harness) -> None:
    """Reset EVSE with an ongoing transaction, not supported: (a station that cannot reset a
    single EVSE; EnergyTransferStarted) Reset OnIdle with evseId: Rejected."""
    _resets_evse(h, False)
    await h.booted()
    await h.charging201(h.sut.tokens.valid, evse=EVSE)
    await _reset_evse(h, "OnIdle", "Rejected")


@pytest.mark.case("TC_B_41_CS")
async def test_TC_B_41_CS(h: Harness) -> None:
    """Reset charging station with multiple ongoing transactions, OnIdle: (EnergyTransferStarted
    on EVSE 1 and on EVSE 2) Reset OnIdle without evseId: Scheduled; the station does not
    reboot while a transaction goes on: StopAuthorized and EVDisconnected on EVSE 1, still
    up; the same on EVSE 2; then it reboots: BootNotification reason RemoteReset."""
    if h.evses < 2:
        not_applicable("a station with more than one EVSE (the SUT file's stations[0].evses)")
    await h.booted()
    tokens = {1: h.sut.tokens.valid, 2: h.sut.tokens.valid_2}
    txs = {evse: tx_id201(await h.charging201(token, step=f"EnergyTransferStarted EVSE {evse}",
                                              evse=evse))
           for evse, token in tokens.items()}
    before = len(h.csms.connections)
    answer = await h.csms.call("Reset", {"type": "OnIdle"}, step="ResetRequest")
    check(answer.get("status") == "Scheduled", "ResetResponse", "Scheduled", answer)
    await stays_connected(h, within_s=NO_REBOOT_S, step="no reboot while two transactions "
                          "go on")
    await _stop_and_leave(h, tokens[1], 1, txs[1])
    await stays_connected(h, within_s=NO_REBOOT_S, step="no reboot while the transaction on "
                          "EVSE 2 goes on")
    await _stop_and_leave(h, tokens[2], 2, txs[2])
    await rebooted_remotely(h, before, step="after both transactions")
