"""OCPP 2.0.1 block J (Meter Values), CSMS under test.

The station reports meter values: clock-aligned (J01 outside a transaction with MeterValues,
J02 inside one with TransactionEvent, context Sample.Clock) and sampled (J02: context
Transaction.Begin, Sample.Periodic, Transaction.End), plain or signed. What the OCTT checks on
the CSMS's side is that it takes every one of them: a schema-valid MeterValuesResponse or
TransactionEventResponse, never a CALLERROR (and, through the suite's framing checks, nothing
that breaks the schemas).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    authorized,
    booted_station,
    check,
    energy_transfer_started_201,
    id_token,
    now_iso,
    status_payload,
)
from conformance.harness_station import TestStation
from conformance.sut import Sut

pytestmark = pytest.mark.asyncio


def new_tx_id(case: str) -> str:
    """A transaction id of its own per run: a station never reuses one, and a CSMS that keeps
    its data between runs must not take this run's transaction for an older, ended one."""
    return f"CONF-TX-{case}-{uuid.uuid4().hex[:8]}"

ENERGY = "Energy.Active.Import.Register"


def aligned_iso() -> str:
    """The last whole minute (a clock-aligned interval boundary)."""
    moment = datetime.now(UTC).replace(second=0, microsecond=0)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def signed_value(value_wh: float) -> dict[str, str]:
    """A signedMeterValue (OCMF-like data, base64); the CSMS stores it, it need not verify it."""
    data = f'OCMF|{{"RD":[{{"TM":"{now_iso()}","RV":{value_wh / 1000:.3f},"RI":"1-b:1.8.0",'
    data += '"RU":"kWh","ST":"G"}]}|{"SA":"ECDSA-secp256r1-SHA256","SD":"3045..."}'
    return {"signedMeterData": base64.b64encode(data.encode()).decode(),
            "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF",
            "publicKey": base64.b64encode(b"conformance-test-public-key").decode()}


def meter_value(value_wh: float, context: str, *, signed: bool = False,
                timestamp: str | None = None) -> dict[str, Any]:
    """One meterValue entry: the energy register (and power, for sampled contexts)."""
    energy: dict[str, Any] = {"value": value_wh, "context": context, "measurand": ENERGY,
                              "location": "Outlet", "unitOfMeasure": {"unit": "Wh"}}
    if signed:
        energy["signedMeterValue"] = signed_value(value_wh)
    sampled = [energy]
    if context in ("Sample.Periodic", "Sample.Clock"):
        sampled.append({"value": 7400.0, "context": context, "measurand": "Power.Active.Import",
                        "location": "Outlet", "unitOfMeasure": {"unit": "W"}})
    return {"timestamp": timestamp or now_iso(), "sampledValue": sampled}


async def _charging(stations: StationPool, sut: Sut, tx_id: str
                    ) -> tuple[TestStation, Transaction201]:
    station = await booted_station(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, tx_id)
    return station, tx


def _answered(answer: dict[str, Any], step: str) -> None:
    """A TransactionEventResponse (the call already failed the case on a CALLERROR or a
    schema-invalid answer); the token in the events is the valid one, so any idTokenInfo must
    say Accepted."""
    info = answer.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted", step,
          "a TransactionEventResponse (idTokenInfo, if any, Accepted)", answer)


@pytest.mark.case("TC_J_01_CSMS")
async def test_TC_J_01_CSMS(stations: StationPool, sut: Sut) -> None:
    """Clock-aligned meter values, no transaction ongoing (J01).

    Steps: "Booted"; the station sends MeterValuesRequest for EVSE 1 with a clock-aligned
    sample (context Sample.Clock, Energy.Active.Import.Register and Power.Active.Import,
    timestamp on the interval boundary), then the same for the main meter (evseId 0).
    Validated: each is answered with a (schema-valid) MeterValuesResponse, no CALLERROR.
    """
    station = await booted_station(stations)
    for evse_id in (1, 0):
        answer = await station.call("MeterValues", {
            "evseId": evse_id, "meterValue": [meter_value(12345.0, "Sample.Clock",
                                                          timestamp=aligned_iso())]},
            step=f"MeterValuesRequest (Sample.Clock, evseId {evse_id})")
        check(isinstance(answer, dict), f"MeterValuesResponse (evseId {evse_id})",
              "a MeterValuesResponse", answer)


@pytest.mark.case("TC_J_02_CSMS")
async def test_TC_J_02_CSMS(stations: StationPool, sut: Sut) -> None:
    """Clock-aligned meter values, transaction ongoing (J02).

    Steps: "EnergyTransferStarted"; the station sends TransactionEventRequest eventType
    Updated, triggerReason MeterValueClock, with a meterValue of context Sample.Clock.
    Validated: the CSMS answers with a TransactionEventResponse, no CALLERROR.
    """
    _, tx = await _charging(stations, sut, new_tx_id("J02"))
    step = "TransactionEventRequest (Updated, MeterValueClock)"
    answer = await tx.event("Updated", "MeterValueClock", step=step, extra={
        "meterValue": [meter_value(1500.0, "Sample.Clock", timestamp=aligned_iso())]})
    _answered(answer, step)


@pytest.mark.case("TC_J_03_CSMS")
async def test_TC_J_03_CSMS(stations: StationPool, sut: Sut) -> None:
    """Clock-aligned meter values in the Ended event (J02, aligned data at the end of a
    transaction).

    Steps: "EnergyTransferStarted"; a clock-aligned TransactionEvent Updated (MeterValueClock,
    Sample.Clock); the transaction stops (StopAuthorized): TransactionEventRequest eventType
    Ended whose meterValue carries the clock-aligned values of the transaction (context
    Sample.Clock) and the closing register (Transaction.End).
    Validated: the CSMS answers both with a TransactionEventResponse, no CALLERROR.
    """
    _, tx = await _charging(stations, sut, new_tx_id("J03"))
    step = "TransactionEventRequest (Updated, MeterValueClock)"
    _answered(await tx.event("Updated", "MeterValueClock", step=step, extra={
        "meterValue": [meter_value(1500.0, "Sample.Clock", timestamp=aligned_iso())]}), step)
    step = "TransactionEventRequest (Ended, Sample.Clock values)"
    answer = await tx.event("Ended", "StopAuthorized", stopped_reason="Local",
                            charging_state="EVConnected", step=step, extra={"meterValue": [
                                meter_value(1500.0, "Sample.Clock", timestamp=aligned_iso()),
                                meter_value(2100.0, "Transaction.End")]})
    _answered(answer, step)


@pytest.mark.case("TC_J_04_CSMS")
async def test_TC_J_04_CSMS(stations: StationPool, sut: Sut) -> None:
    """Clock-aligned meter values, signed (J02 with signed meter values).

    Steps: "EnergyTransferStarted"; the station sends TransactionEventRequest eventType
    Updated, triggerReason MeterValueClock, whose Sample.Clock energy value carries a
    signedMeterValue (signedMeterData, signingMethod, encodingMethod, publicKey).
    Validated: the CSMS answers with a TransactionEventResponse, no CALLERROR.
    """
    _, tx = await _charging(stations, sut, new_tx_id("J04"))
    step = "TransactionEventRequest (Updated, MeterValueClock, signed)"
    answer = await tx.event("Updated", "MeterValueClock", step=step, extra={
        "meterValue": [meter_value(1500.0, "Sample.Clock", signed=True,
                                   timestamp=aligned_iso())]})
    _answered(answer, step)


@pytest.mark.case("TC_J_07_CSMS")
async def test_TC_J_07_CSMS(stations: StationPool, sut: Sut) -> None:
    """Sampled meter values in the Started event, EVSE known (J02, context Transaction.Begin).

    Steps: "Booted"; the cable is plugged in (StatusNotification Occupied); the station sends
    TransactionEventRequest eventType Started, triggerReason CablePluggedIn, with evse and a
    meterValue of context Transaction.Begin.
    Validated: the CSMS answers with a TransactionEventResponse, no CALLERROR.
    """
    station = await booted_station(stations)
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, new_tx_id("J07"))
    step = "TransactionEventRequest (Started, Transaction.Begin)"
    answer = await tx.event("Started", "CablePluggedIn", charging_state="EVConnected", step=step,
                            extra={"meterValue": [meter_value(250.0, "Transaction.Begin")]})
    _answered(answer, step)


@pytest.mark.case("TC_J_08_CSMS")
async def test_TC_J_08_CSMS(stations: StationPool, sut: Sut) -> None:
    """Sampled meter values, context Transaction.Begin, EVSE not known at the start (J02).

    Steps: "Booted"; the token is presented before an EVSE is chosen: Authorize, then
    TransactionEventRequest eventType Started, triggerReason Authorized, with the idToken and
    neither evse nor meterValue; the cable is plugged in: TransactionEventRequest Updated,
    triggerReason CablePluggedIn, now with evse and a meterValue of context Transaction.Begin.
    Validated: the CSMS answers both with a TransactionEventResponse (idTokenInfo Accepted),
    no CALLERROR.
    """
    station = await booted_station(stations)
    await authorized(station, sut.tokens.valid)
    tx_id = new_tx_id("J08")
    step = "TransactionEventRequest (Started, no evse)"
    started = await station.call("TransactionEvent", {
        "eventType": "Started", "timestamp": now_iso(), "triggerReason": "Authorized",
        "seqNo": 0, "transactionInfo": {"transactionId": tx_id},
        "idToken": id_token(sut.tokens.valid)}, step=step)
    check(started.get("idTokenInfo", {}).get("status") == "Accepted", step,
          "idTokenInfo.status Accepted", started)
    tx = Transaction201(station, tx_id)
    tx.seq_no = 1
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    step = "TransactionEventRequest (Updated, CablePluggedIn, Transaction.Begin)"
    answer = await tx.event("Updated", "CablePluggedIn", charging_state="EVConnected",
                            step=step, extra={"evse": {"id": 1, "connectorId": 1},
                                              "meterValue": [meter_value(0.0,
                                                                         "Transaction.Begin")]})
    _answered(answer, step)


@pytest.mark.case("TC_J_09_CSMS")
async def test_TC_J_09_CSMS(stations: StationPool, sut: Sut) -> None:
    """Sampled meter values in an Updated event (J02, context Sample.Periodic).

    Steps: "EnergyTransferStarted"; the station sends TransactionEventRequest eventType
    Updated, triggerReason MeterValuePeriodic, with a meterValue of context Sample.Periodic.
    Validated: the CSMS answers with a TransactionEventResponse, no CALLERROR.
    """
    _, tx = await _charging(stations, sut, new_tx_id("J09"))
    step = "TransactionEventRequest (Updated, MeterValuePeriodic)"
    answer = await tx.event("Updated", "MeterValuePeriodic", step=step, extra={
        "meterValue": [meter_value(900.0, "Sample.Periodic")]})
    _answered(answer, step)


@pytest.mark.case("TC_J_10_CSMS")
async def test_TC_J_10_CSMS(stations: StationPool, sut: Sut) -> None:
    """Sampled meter values in the Ended event (J02, context Transaction.End).

    Steps: "EnergyTransferStarted"; a periodic sample (Updated, MeterValuePeriodic); the
    transaction stops (StopAuthorized): TransactionEventRequest eventType Ended whose
    meterValue holds the transaction's sampled values (Sample.Periodic) and the closing
    register (context Transaction.End).
    Validated: the CSMS answers both with a TransactionEventResponse, no CALLERROR.
    """
    _, tx = await _charging(stations, sut, new_tx_id("J10"))
    step = "TransactionEventRequest (Updated, MeterValuePeriodic)"
    _answered(await tx.event("Updated", "MeterValuePeriodic", step=step, extra={
        "meterValue": [meter_value(900.0, "Sample.Periodic")]}), step)
    step = "TransactionEventRequest (Ended, Transaction.End)"
    answer = await tx.event("Ended", "StopAuthorized", stopped_reason="Local",
                            charging_state="EVConnected", step=step, extra={"meterValue": [
                                meter_value(900.0, "Sample.Periodic"),
                                meter_value(1800.0, "Transaction.End")]})
    _answered(answer, step)


@pytest.mark.case("TC_J_11_CSMS")
async def test_TC_J_11_CSMS(stations: StationPool, sut: Sut) -> None:
    """Sampled meter values, signed (J02 with signed meter values).

    Steps: "Booted"; the cable is plugged in: TransactionEventRequest Started with a signed
    Transaction.Begin energy value; "Authorized"; TransactionEventRequest Updated
    (MeterValuePeriodic) with a signed Sample.Periodic value; the transaction stops:
    TransactionEventRequest Ended with a signed Transaction.End value. Each signed value
    carries signedMeterData, signingMethod, encodingMethod and publicKey.
    Validated: the CSMS answers every one with a TransactionEventResponse, no CALLERROR.
    """
    station = await booted_station(stations)
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, new_tx_id("J11"))
    step = "TransactionEventRequest (Started, signed Transaction.Begin)"
    _answered(await tx.event("Started", "CablePluggedIn", charging_state="EVConnected",
                             step=step, extra={"meterValue": [
                                 meter_value(100.0, "Transaction.Begin", signed=True)]}), step)
    await authorized(station, sut.tokens.valid)
    step = "TransactionEventRequest (Updated, Authorized)"
    _answered(await tx.event("Updated", "Authorized", token=sut.tokens.valid,
                             charging_state="Charging", step=step), step)
    step = "TransactionEventRequest (Updated, signed Sample.Periodic)"
    _answered(await tx.event("Updated", "MeterValuePeriodic", step=step, extra={"meterValue": [
        meter_value(700.0, "Sample.Periodic", signed=True)]}), step)
    step = "TransactionEventRequest (Ended, signed Transaction.End)"
    _answered(await tx.event("Ended", "StopAuthorized", stopped_reason="Local",
                             charging_state="EVConnected", step=step, extra={"meterValue": [
                                 meter_value(1300.0, "Transaction.End", signed=True)]}), step)
