"""OCPP 2.0.1 block I (Tariff and Cost), CSMS under test.

The SUT's first station must have a tariff in force at the CSMS (the reference CSMS is
provisioned with one, see ``conformance/reference.py``): the CSMS then tells the station the
running cost of a transaction (I02, CostUpdatedRequest) and its final cost (I03, totalCost in
the TransactionEventResponse of the Ended event).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    booted_station,
    check,
    energy_transfer_started_201,
    now_iso,
)
from conformance.sut import Sut

pytestmark = pytest.mark.asyncio


def new_tx_id(case: str) -> str:
    """A transaction id of its own per run: a station never reuses one, and a CSMS that keeps
    its data between runs must not take this run's transaction for an older, ended one."""
    return f"CONF-TX-{case}-{uuid.uuid4().hex[:8]}"

ENERGY = "Energy.Active.Import.Register"


def _periodic(value_wh: float) -> dict[str, Any]:
    return {"meterValue": [{"timestamp": now_iso(), "sampledValue": [
        {"value": value_wh, "measurand": ENERGY, "context": "Sample.Periodic",
         "unitOfMeasure": {"unit": "Wh"}}]}]}


def _is_cost(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


@pytest.mark.case("TC_I_01_CSMS")
async def test_TC_I_01_CSMS(stations: StationPool, sut: Sut) -> None:
    """Show the EV driver the running total cost during charging, CostUpdatedRequest (I02).

    Steps: "Booted"; "EnergyTransferStarted" (a transaction with the valid idToken on a station
    with a tariff); the station reports energy (TransactionEventRequest Updated,
    MeterValuePeriodic); the CSMS sends CostUpdatedRequest on its own (within the SUT's action
    timeout); the station answers.
    Validated: CostUpdatedRequest.transactionId is the running transaction's id; totalCost is
    a non-negative amount.
    """
    station = await booted_station(stations)
    waiting = station.expect("CostUpdated")
    tx = await energy_transfer_started_201(station, sut.tokens.valid, new_tx_id("I01"))
    await tx.event("Updated", "MeterValuePeriodic", extra=_periodic(2000.0),
                   step="TransactionEventRequest (Updated, MeterValuePeriodic)")
    call = await station.receive("CostUpdated", sut.action_timeout_s,
                                 step="CostUpdatedRequest", waiting=waiting)
    call.respond({})
    got = call.payload
    check(got.get("transactionId") == tx.id, "CostUpdatedRequest", f"transactionId {tx.id}",
          got)
    check(_is_cost(got.get("totalCost")), "CostUpdatedRequest", "totalCost >= 0", got)


@pytest.mark.case("TC_I_02_CSMS")
async def test_TC_I_02_CSMS(stations: StationPool, sut: Sut) -> None:
    """Show the EV driver the final total cost after charging (I03).

    Steps: "Booted"; "EnergyTransferStarted" (a transaction with the valid idToken on a station
    with a tariff); the station reports energy (Updated, MeterValuePeriodic); the transaction
    stops: TransactionEventRequest eventType Ended (StopAuthorized, stoppedReason Local, with
    the closing register, context Transaction.End).
    Validated: the TransactionEventResponse to the Ended event carries totalCost, a
    non-negative amount (the final cost the station shows).
    """
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, new_tx_id("I02"))
    await tx.event("Updated", "MeterValuePeriodic", extra=_periodic(2000.0),
                   step="TransactionEventRequest (Updated, MeterValuePeriodic)")
    step = "TransactionEventResponse (Ended)"
    answer = await tx.event("Ended", "StopAuthorized", token=sut.tokens.valid,
                            charging_state="EVConnected", stopped_reason="Local",
                            meter_wh=3000.0, step="TransactionEventRequest (Ended)")
    check(_is_cost(answer.get("totalCost")), step, "totalCost >= 0 (the final cost)", answer)
