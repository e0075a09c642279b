"""OCPP 2.0.1 Core (M), charging station under test: meter values (block J) — clock-aligned
values with and without a transaction, sampled values in the Started, Updated and Ended
TransactionEvents (Part 6 Edition 3, errata 2025-09)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest

from conformance.station.harness import Harness, Received, check, tx_id201
from conformance.station.meter_values201 import (
    ALIGNED_INTERVAL_S,
    ALIGNED_MEASURANDS,
    ENERGY,
    STARTED_MEASURANDS,
    aligned_set_up,
    check_meter_values,
    configure_measurands,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

UPDATED_MEASURANDS = (ENERGY, "Power.Active.Import")
ENDED_MEASURANDS = (ENERGY,)
TIMESTAMP_RESOLUTION_S = 0.001  # OCPP timestamps carry milliseconds at most


def _at(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _aligned(timestamps: list[str], interval: int, *, step: str) -> None:
    """Each timestamp on the clock-aligned grid (a multiple of the interval after midnight),
    one interval after the one before."""
    moments = [_at(t) for t in timestamps]
    for moment, stamp in zip(moments, timestamps, strict=True):
        off = moment % interval
        check(min(off, interval - off) <= TIMESTAMP_RESOLUTION_S, step,
              f"a timestamp aligned to {interval} s", stamp)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(moments)]
    check(all(abs(g - interval) <= TIMESTAMP_RESOLUTION_S for g in gaps), step,
          f"timestamps {interval} s apart", timestamps)


async def _updated_events(h: Harness, tx: str, trigger: str, context: str,
                          measurands: tuple[str, ...], *, interval_s: float) -> list[Received]:
    """Two TransactionEvents Updated of ``tx`` with triggerReason ``trigger``, each with
    ``context`` and the configured ``measurands``."""
    events: list[Received] = []
    for n in range(2):
        event = await h.csms.receive(
            "TransactionEvent", step=f"TransactionEventRequest {n + 1}",
            where=lambda p: p.get("triggerReason") == trigger,
            timeout_s=interval_s + h.wait_s,
            expected=f"a TransactionEvent with triggerReason {trigger}")
        check(event.payload.get("eventType") == "Updated" and
              event.payload["transactionInfo"]["transactionId"] == tx,
              f"TransactionEventRequest {n + 1}", f"eventType Updated for {tx}", event.payload)
        check_meter_values(event.payload, context, measurands,
                           step=f"TransactionEventRequest {n + 1}")
        events.append(event)
    return events


async def _stopped_by_token(h: Harness, tx: str) -> dict[str, Any]:
    """The driver stops ``tx`` with the token that started it: its TransactionEvent Ended."""
    await h.act("present_token", step="StopAuthorized: present token", evse=1,
                token=h.sut.tokens.valid)
    ended = await h.csms.receive("TransactionEvent", step="TransactionEventRequest Ended",
                                 where=lambda p: p.get("eventType") == "Ended",
                                 expected="TransactionEvent Ended")
    check(ended.payload["transactionInfo"]["transactionId"] == tx,
          "TransactionEventRequest Ended", f"transaction {tx}", ended.payload)
    return ended.payload


@pytest.mark.case("TC_J_01_CS")
async def test_TC_J_01_CS(h: Harness) -> None:
    """Clock-aligned meter values, no transaction: (AlignedDataCtrlr.Measurands and Interval
    set) three MeterValues for EVSE 1, each with context Sample.Clock and the configured
    measurands, timestamps on the clock-aligned grid, one interval apart."""
    await h.booted()
    await aligned_set_up(h)
    messages: list[Received] = []
    for n in range(3):
        message = await h.csms.receive("MeterValues", step=f"MeterValuesRequest {n + 1}",
                                       where=lambda p: p.get("evseId") == 1,
                                       timeout_s=ALIGNED_INTERVAL_S + h.wait_s)
        check_meter_values(message.payload, "Sample.Clock", ALIGNED_MEASURANDS,
                           step=f"MeterValuesRequest {n + 1}")
        messages.append(message)
    stamps = [m.payload["meterValue"][0]["timestamp"] for m in messages]
    _aligned(stamps, ALIGNED_INTERVAL_S, step="MeterValuesRequest timestamps")


@pytest.mark.case("TC_J_02_CS")
async def test_TC_J_02_CS(h: Harness) -> None:
    """Clock-aligned meter values, transaction ongoing: (AlignedDataCtrlr.Measurands and
    Interval set, EnergyTransferStarted) two TransactionEvents Updated with triggerReason
    MeterValueClock for the transaction, context Sample.Clock and the configured measurands,
    timestamps on the clock-aligned grid, one interval apart."""
    await h.booted()
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    await aligned_set_up(h)
    events = await _updated_events(h, tx, "MeterValueClock", "Sample.Clock",
                                   ALIGNED_MEASURANDS, interval_s=ALIGNED_INTERVAL_S)
    stamps = [e.payload["meterValue"][0]["timestamp"] for e in events]
    _aligned(stamps, ALIGNED_INTERVAL_S, step="TransactionEventRequest timestamps")


@pytest.mark.case("TC_J_07_CS")
async def test_TC_J_07_CS(h: Harness) -> None:
    """Sampled meter values, eventType Started, EVSE known: (SampledDataCtrlr.
    TxStartedMeasurands set) a transaction starts (cable, then token): TransactionEvent
    Started with the EVSE and meterValue, context Transaction.Begin, the configured
    measurands."""
    await h.booted()
    await configure_measurands(h, "SampledDataCtrlr", "TxStartedMeasurands", STARTED_MEASURANDS)
    await h.act("plug_in", step="plug in", evse=1)
    await h.act("present_token", step="present token", evse=1, token=h.sut.tokens.valid)
    started = await h.csms.receive("TransactionEvent", step="TransactionEventRequest Started",
                                   where=lambda p: p.get("eventType") == "Started",
                                   expected="TransactionEvent Started")
    check(started.payload.get("evse", {}).get("id") == 1, "TransactionEventRequest Started",
          "evse 1", started.payload)
    check_meter_values(started.payload, "Transaction.Begin", STARTED_MEASURANDS,
                       step="TransactionEventRequest Started")


@pytest.mark.case("TC_J_09_CS")
async def test_TC_J_09_CS(h: Harness) -> None:
    """Sampled meter values, eventType Updated: (SampledDataCtrlr.TxUpdatedMeasurands and
    TxUpdatedInterval set, EnergyTransferStarted) two TransactionEvents Updated with
    triggerReason MeterValuePeriodic, context Sample.Periodic and the configured measurands,
    about TxUpdatedInterval apart."""
    await h.booted()
    interval = h.sut.intervals.meter_sample_s
    await configure_measurands(h, "SampledDataCtrlr", "TxUpdatedMeasurands", UPDATED_MEASURANDS)
    await h.set_variable201("SampledDataCtrlr", "TxUpdatedInterval", str(interval),
                            step="set-up: TxUpdatedInterval")
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    events = await _updated_events(h, tx, "MeterValuePeriodic", "Sample.Periodic",
                                   UPDATED_MEASURANDS, interval_s=interval)
    gap = _at(events[1].payload["meterValue"][0]["timestamp"]) - \
        _at(events[0].payload["meterValue"][0]["timestamp"])
    check(abs(gap - interval) <= 0.25 * interval + TIMESTAMP_RESOLUTION_S,
          "TransactionEventRequest timestamps", f"samples {interval} s apart",
          f"{gap:.3f} s apart")


@pytest.mark.case("TC_J_10_CS")
async def test_TC_J_10_CS(h: Harness) -> None:
    """Sampled meter values, eventType Ended: (SampledDataCtrlr.TxEndedMeasurands set,
    EnergyTransferStarted) the driver stops the transaction (StopAuthorized):
    TransactionEvent Ended with meterValue, context Transaction.End, the configured
    measurands."""
    await h.booted()
    await configure_measurands(h, "SampledDataCtrlr", "TxEndedMeasurands", ENDED_MEASURANDS)
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    ended = await _stopped_by_token(h, tx)
    check_meter_values(ended, "Transaction.End", ENDED_MEASURANDS,
                       step="TransactionEventRequest Ended")


@pytest.mark.case("TC_J_03_CS")
async def test_TC_J_03_CS(h: Harness) -> None:
    """Clock-aligned meter values, eventType Ended: (AlignedDataCtrlr.TxEndedMeasurands and
    TxEndedInterval set, EnergyTransferStarted) the transaction runs for a few intervals
    and the driver stops it (StopAuthorized): the TransactionEvent Ended carries the
    clock-aligned samples taken during the transaction, context Sample.Clock, the configured
    measurands, timestamps on the TxEndedInterval grid, one interval apart."""
    await h.booted()
    await configure_measurands(h, "AlignedDataCtrlr", "TxEndedMeasurands", ALIGNED_MEASURANDS)
    await h.set_variable201("AlignedDataCtrlr", "TxEndedInterval", str(ALIGNED_INTERVAL_S),
                            step="set-up: AlignedDataCtrlr.TxEndedInterval")
    await h.set_variable201("SampledDataCtrlr", "TxUpdatedInterval", str(ALIGNED_INTERVAL_S),
                            step="set-up: TxUpdatedInterval")
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    for n in range(3):  # the transaction lasts a few intervals (its periodic events tell)
        await h.csms.receive("TransactionEvent", step=f"TransactionEvent periodic {n + 1}",
                             where=lambda p: p.get("triggerReason") == "MeterValuePeriodic",
                             timeout_s=ALIGNED_INTERVAL_S + h.wait_s)
    ended = await _stopped_by_token(h, tx)
    clock = [mv for mv in ended.get("meterValue", [])
             if any(sv.get("context") == "Sample.Clock" for sv in mv["sampledValue"])]
    check(len(clock) >= 2, "TransactionEventRequest Ended",
          "the clock-aligned samples of the transaction (context Sample.Clock)",
          ended.get("meterValue"))
    check_meter_values({"meterValue": clock}, "Sample.Clock", ALIGNED_MEASURANDS,
                       step="TransactionEventRequest Ended")
    _aligned([mv["timestamp"] for mv in clock], ALIGNED_INTERVAL_S,
             step="TransactionEventRequest Ended timestamps")
