"""OCPP 2.0.1 block E (Transactions), CSMS under test: the stop option "Deauthorized - EV side
disconnect" (E06, TxStopPoint Authorized or PowerPathClosed, StopTxOnEVSideDisconnect true).

The errata limit the station-side case to the TxStopPoint combinations where the EV side
disconnect deauthorizes the transaction; the CSMS sees only the events of that configuration
and answers them.
"""

from __future__ import annotations

import pytest

from conformance.csms.harness import StationPool, check, energy_transfer_started_201
from conformance.sut import Sut

pytestmark = pytest.mark.asyncio


@pytest.mark.case("TC_E_17_CSMS")
async def test_TC_E_17_CSMS(stations: StationPool, sut: Sut) -> None:
    """Stop transaction options, Deauthorized, EV side disconnect (E06.FR.04). Before:
    EnergyTransferSuspended (Authorized, EnergyTransferStarted, then TransactionEvent Updated
    ChargingStateChanged, chargingState SuspendedEV). Steps: the cable is pulled at the EV and
    the transaction is deauthorized and ends: TransactionEvent Ended (triggerReason
    EVCommunicationLost, chargingState Idle, stoppedReason EVDisconnected). The document lists
    no tool validation; validated, as for every stop option: each event answered, the Ended
    event without a refusal (no idTokenInfo, or status Accepted)."""
    station = await stations.booted()
    tx = await energy_transfer_started_201(station, sut.tokens.valid, "CONF-TX-E17")
    await tx.event("Updated", "ChargingStateChanged", charging_state="SuspendedEV",
                   step="EnergyTransferSuspended: TransactionEvent Updated (SuspendedEV)")
    answer = await tx.event("Ended", "EVCommunicationLost", charging_state="Idle",
                            stopped_reason="EVDisconnected", meter_wh=900,
                            step="TransactionEvent Ended (EVCommunicationLost)")
    info = answer.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted", "TransactionEventResponse (Ended)",
          "no idTokenInfo, or idTokenInfo.status Accepted", answer)
