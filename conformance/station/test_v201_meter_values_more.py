"""OCPP 2.0.1 Core (conditional), charging station under test: meter values (block J) that
depend on optional features — signed clock-aligned and sampled values (SignReadings), clock-
aligned values only while idle (AlignedDataCtrlr.SendDuringIdle), the Transaction.Begin values
of a transaction started before its EVSE was known (a reader shared by the EVSEs) (Part 6
Edition 3, errata 2025-09)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check, is_charging, of_transaction, tx_id201
from conformance.station.meter_values201 import (
    ALIGNED_INTERVAL_S,
    ALIGNED_MEASURANDS,
    ENERGY,
    STARTED_MEASURANDS,
    aligned_set_up,
    check_meter_values,
    configure_measurands,
)
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUIET_INTERVALS = 3  # TC_J_06: this many clock-aligned intervals without a value


@pytest.mark.case("TC_J_06_CS")
async def test_TC_J_06_CS(h: Harness) -> None:
    """Clock-aligned meter values, none during a transaction (conditional on
    AlignedDataCtrlr.SendDuringIdle, C-28): (AlignedDataCtrlr.Measurands, Interval and
    SendDuringIdle true set, EnergyTransferStarted) for a few intervals neither
    MeterValuesRequest nor TransactionEventRequest with triggerReason MeterValueClock; once
    the transaction has ended (StopAuthorized, EV unplugged) MeterValuesRequest for the EVSE
    with context Sample.Clock and the configured measurands come again."""
    if not h.sut.claims("aligned_send_during_idle"):
        not_applicable("feature aligned_send_during_idle (AlignedDataCtrlr.SendDuringIdle)")
    await h.booted()
    await aligned_set_up(h)
    await h.set_variable201("AlignedDataCtrlr", "SendDuringIdle", "true",
                            step="set-up: AlignedDataCtrlr.SendDuringIdle")
    await h.charging201(h.sut.tokens.valid)
    for earlier in h.csms.received("MeterValues"):  # sent while still idle
        earlier.consumed = True
    quiet_s = QUIET_INTERVALS * ALIGNED_INTERVAL_S
    await h.csms.nothing("MeterValues", step="no MeterValuesRequest during the transaction",
                         within_s=quiet_s, expected="no clock-aligned MeterValues while "
                         "a transaction runs (SendDuringIdle true)")
    await h.csms.nothing("TransactionEvent", step="no clock-aligned TransactionEvent",
                         within_s=0.0,
                         where=lambda p: p.get("triggerReason") == "MeterValueClock",
                         expected="no TransactionEvent with triggerReason MeterValueClock")
    await h.act("present_token", step="StopAuthorized: present token", evse=1,
                token=h.sut.tokens.valid)
    await h.act("unplug", step="EV unplugged", evse=1)
    await h.csms.receive("TransactionEvent", step="TransactionEvent Ended",
                         where=lambda p: p.get("eventType") == "Ended",
                         expected="TransactionEvent Ended")
    idle = await h.csms.receive("MeterValues", step="MeterValuesRequest when idle",
                                where=lambda p: p.get("evseId") == 1,
                                timeout_s=ALIGNED_INTERVAL_S + h.wait_s)
    check_meter_values(idle.payload, "Sample.Clock", ALIGNED_MEASURANDS,
                       step="MeterValuesRequest when idle")


SIGNED_PARTS = ("signedMeterData", "signingMethod", "encodingMethod", "publicKey")


def _signed(payload: dict[str, Any], *, step: str) -> None:
    """Every Energy.Active.Import.Register sampledValue carries a signedMeterValue with
    signedMeterData, signingMethod, encodingMethod and publicKey."""
    energy = [sv for mv in payload.get("meterValue", []) for sv in mv.get("sampledValue", [])
              if sv.get("measurand", ENERGY) == ENERGY]
    check(bool(energy), step, f"a {ENERGY} sampledValue", payload)
    for value in energy:
        signed = value.get("signedMeterValue") or {}
        check(all(signed.get(part) for part in SIGNED_PARTS), step,
              "signedMeterValue with " + ", ".join(SIGNED_PARTS), value)


async def _signed_update(h: Harness, tx: str, trigger: str, *, timeout_s: float) -> None:
    """A TransactionEvent Updated of ``tx`` with ``trigger``, its energy values signed."""
    event = await h.csms.receive(
        "TransactionEvent", step="TransactionEventRequest",
        where=lambda p: p.get("triggerReason") == trigger, timeout_s=timeout_s,
        expected=f"a TransactionEvent with triggerReason {trigger}")
    check(event.payload.get("eventType") == "Updated" and
          event.payload["transactionInfo"]["transactionId"] == tx, "TransactionEventRequest",
          f"eventType Updated for {tx}", event.payload)
    _signed(event.payload, step="TransactionEventRequest")


def _signed_applies(h: Harness) -> None:
    if not h.sut.claims("signed_meter_values"):
        not_applicable("feature signed_meter_values (SignReadings, C-42)")


@pytest.mark.case("TC_J_04_CS")
async def test_TC_J_04_CS(h: Harness) -> None:
    """Clock-aligned meter values, signed (conditional on signed meter values, C-42):
    (AlignedDataCtrlr.Measurands Energy.Active.Import.Register, Interval and SignReadings true
    set, EnergyTransferStarted) a TransactionEvent Updated with triggerReason MeterValueClock
    whose energy sampledValue carries a signedMeterValue (signedMeterData, signingMethod,
    encodingMethod, publicKey)."""
    _signed_applies(h)
    await h.booted()
    await h.set_variable201("AlignedDataCtrlr", "SignReadings", "true",
                            step="set-up: AlignedDataCtrlr.SignReadings")
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    await aligned_set_up(h)
    await _signed_update(h, tx, "MeterValueClock", timeout_s=ALIGNED_INTERVAL_S + h.wait_s)


@pytest.mark.case("TC_J_11_CS")
async def test_TC_J_11_CS(h: Harness) -> None:
    """Sampled meter values, signed (conditional on signed meter values, C-42):
    (SampledDataCtrlr.TxUpdatedMeasurands Energy.Active.Import.Register, TxUpdatedInterval
    and SignReadings true set, EnergyTransferStarted) a TransactionEvent Updated with
    triggerReason MeterValuePeriodic whose energy sampledValue carries a signedMeterValue
    (signedMeterData, signingMethod, encodingMethod, publicKey)."""
    _signed_applies(h)
    await h.booted()
    interval = h.sut.intervals.meter_sample_s
    await h.set_variable201("SampledDataCtrlr", "TxUpdatedMeasurands", ENERGY,
                            step="set-up: SampledDataCtrlr.TxUpdatedMeasurands")
    await h.set_variable201("SampledDataCtrlr", "TxUpdatedInterval", str(interval),
                            step="set-up: SampledDataCtrlr.TxUpdatedInterval")
    await h.set_variable201("SampledDataCtrlr", "SignReadings", "true",
                            step="set-up: SampledDataCtrlr.SignReadings")
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    await _signed_update(h, tx, "MeterValuePeriodic", timeout_s=interval + h.wait_s)


@pytest.mark.case("TC_J_08_CS")
async def test_TC_J_08_CS(h: Harness) -> None:
    """Sampled meter values, context Transaction.Begin, EVSE not known (conditional: a
    station with more than one EVSE and a reader they share, TxStartPoint Authorized):
    (TxStartPoint Authorized, SampledDataCtrlr.TxStartedMeasurands set) EnergyTransferStarted:
    the token at the station's reader starts the transaction before an EVSE is chosen
    (TransactionEvent Started), the EV plugged in at EVSE 1 (EVConnectedPreSession: the first
    Updated of the transaction, naming EVSE 1, carries meterValue with context
    Transaction.Begin and the configured measurands), then Charging."""
    for feature, meaning in (("transaction_before_evse_known", "a reader shared by the EVSEs"),
                             ("tx_start_authorized", "TxStartPoint Authorized")):
        if not h.sut.claims(feature):
            not_applicable(f"feature {feature} ({meaning})")
    if h.evses < 2:
        not_applicable(f"a station with more than one EVSE (this one has {h.evses})")
    await h.booted()
    await h.set_variable201("TxCtrlr", "TxStartPoint", "Authorized",
                            step="set-up: TxCtrlr.TxStartPoint Authorized")
    await configure_measurands(h, "SampledDataCtrlr", "TxStartedMeasurands", STARTED_MEASURANDS)
    await h.act("present_token_station", step="Authorized: token at the station's reader",
                token=h.sut.tokens.valid)
    started = await h.csms.receive("TransactionEvent", step="TransactionEventRequest Started",
                                   where=lambda p: p.get("eventType") == "Started",
                                   expected="TransactionEvent Started")
    tx = tx_id201(started)
    await h.act("plug_in", step="EVConnectedPreSession: plug in", evse=1)
    step = "EVConnectedPreSession: TransactionEventRequest Updated"
    updated = await h.csms.receive("TransactionEvent", step=step, where=of_transaction(
        tx, lambda p: p.get("eventType") == "Updated"), expected="TransactionEvent Updated")
    check(updated.payload.get("evse", {}).get("id") == 1, step, "evse 1 (now known)",
          updated.payload)
    check_meter_values(updated.payload, "Transaction.Begin", STARTED_MEASURANDS, step=step)
    await h.csms.receive("TransactionEvent", step="EnergyTransferStarted",
                         where=of_transaction(tx, is_charging),
                         expected="a TransactionEvent with chargingState Charging")
