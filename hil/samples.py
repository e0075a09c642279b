"""Meter samples out of OCPP messages: 1.6 MeterValues / StopTransaction.transactionData and
2.0.1 MeterValues / TransactionEvent, as rows in SI units with the quantity names register maps
use, plus the signed values (1.6 ``format: SignedData``, 2.0.1 ``signedMeterValue``) they carry.

Only what is on the wire counts: a sample whose value cannot be read becomes a ``problem`` row,
never an exception, since the messages come from a device under test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEFAULT_MEASURAND = "Energy.Active.Import.Register"
# measurand (+ phase) -> quantity of the register maps
_QUANTITY = {
    "Energy.Active.Import.Register": "import_energy",
    "Energy.Active.Export.Register": "export_energy",
    "Power.Active.Import": "power_total",
    "Power.Active.Export": "export_power",
    "Current.Import": "current",
    "Voltage": "voltage",
    "Frequency": "frequency",
    "Power.Factor": "power_factor",
}
_PHASE = {"L1": "l1", "L2": "l2", "L3": "l3", "L1-N": "l1", "L2-N": "l2", "L3-N": "l3",
          "L1-L2": "l1_l2", "L2-L3": "l2_l3", "L3-L1": "l3_l1"}
# unit -> SI factor (OCPP 1.6 UnitOfMeasure; 2.0.1 uses the same names plus a multiplier)
_UNIT = {"Wh": 1.0, "kWh": 1000.0, "varh": 1.0, "kvarh": 1000.0, "W": 1.0, "kW": 1000.0,
         "VA": 1.0, "kVA": 1000.0, "var": 1.0, "kvar": 1000.0, "A": 1.0, "V": 1.0, "Hz": 1.0,
         "Celsius": 1.0, "K": 1.0, "Percent": 0.01}


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value as a charger reported it."""

    station_id: str
    timestamp: datetime | None
    measurand: str
    phase: str | None
    context: str | None
    quantity: str | None  # None: a measurand the maps do not know
    value: float | None  # SI; None when ``problem`` says why
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class SignedSample:
    """A signed meter value as received, with what is needed to verify it."""

    station_id: str
    timestamp: datetime | None
    version: str
    measurand: str
    context: str | None
    data: str  # the OCMF text (1.6) or signedMeterData (2.0.1, base64)
    public_key: str | None  # 2.0.1 carries one; 1.6 has no standard place for it
    encoding: str | None
    signing_method: str | None
    reported_value: float | None  # the plain value next to it, if any (SI)


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _quantity(measurand: str, phase: str | None) -> str | None:
    base = _QUANTITY.get(measurand)
    if base is None:
        return None
    if base in ("current", "voltage", "power_factor"):
        if phase is None:
            return {"current": "current_sum", "voltage": "voltage_average",
                    "power_factor": "power_factor_total"}[base]
        suffix = _PHASE.get(phase)
        return f"{base}_{suffix}" if suffix else None
    if base == "power_total" and phase in ("L1", "L2", "L3"):
        return f"power_{phase.lower()}"
    return base


def _meter_values(action: str, payload: Mapping[str, Any]) -> list[Any]:
    if action in ("MeterValues", "TransactionEvent"):
        return list(payload.get("meterValue") or [])
    if action == "StopTransaction":
        return list(payload.get("transactionData") or [])
    return []


def iter_samples(station_id: str, version: str, action: str,
                 payload: Mapping[str, Any]) -> Iterator[MeterSample | SignedSample]:
    """Every sampled value (and signed value) in one incoming OCPP message."""
    v16 = version in ("1.6", "ocpp1.6")
    for meter_value in _meter_values(action, payload):
        if not isinstance(meter_value, Mapping):
            continue
        at = _time(meter_value.get("timestamp"))
        for sv in meter_value.get("sampledValue") or []:
            if not isinstance(sv, Mapping):
                continue
            measurand = str(sv.get("measurand", DEFAULT_MEASURAND))
            phase = sv.get("phase")
            context = sv.get("context")
            if v16:
                yield from _sample16(station_id, at, sv, measurand, phase, context)
            else:
                yield from _sample201(station_id, at, sv, measurand, phase, context)


def _sample16(station_id: str, at: datetime | None, sv: Mapping[str, Any], measurand: str,
              phase: str | None, context: str | None) -> Iterator[MeterSample | SignedSample]:
    if sv.get("format") == "SignedData":
        yield SignedSample(station_id, at, "1.6", measurand, context, str(sv.get("value", "")),
                           None, "OCMF", None, None)
        return
    unit = str(sv.get("unit", "Wh" if measurand.startswith("Energy") else ""))
    try:
        raw = float(sv.get("value"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        yield MeterSample(station_id, at, measurand, phase, context,
                          _quantity(measurand, phase), None,
                          f"value {sv.get('value')!r} is not a number")
        return
    yield _scaled(station_id, at, measurand, phase, context, raw, unit, 0)


def _sample201(station_id: str, at: datetime | None, sv: Mapping[str, Any], measurand: str,
               phase: str | None, context: str | None) -> Iterator[MeterSample | SignedSample]:
    uom = sv.get("unitOfMeasure") or {}
    unit = str(uom.get("unit", "Wh" if measurand.startswith("Energy") else ""))
    multiplier = int(uom.get("multiplier", 0) or 0)
    value = sv.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        yield MeterSample(station_id, at, measurand, phase, context,
                          _quantity(measurand, phase), None, f"value {value!r} is not a number")
        return
    sample = _scaled(station_id, at, measurand, phase, context, float(value), unit, multiplier)
    yield sample
    signed = sv.get("signedMeterValue")
    if isinstance(signed, Mapping):
        yield SignedSample(station_id, at, "2.0.1", measurand, context,
                           str(signed.get("signedMeterData", "")), signed.get("publicKey"),
                           signed.get("encodingMethod"), signed.get("signingMethod"),
                           sample.value)


def _scaled(station_id: str, at: datetime | None, measurand: str, phase: str | None,
            context: str | None, raw: float, unit: str, multiplier: int) -> MeterSample:
    quantity = _quantity(measurand, phase)
    factor = _UNIT.get(unit, 1.0 if unit == "" else math.nan)
    if math.isnan(factor):
        return MeterSample(station_id, at, measurand, phase, context, quantity, None,
                           f"unknown unit {unit!r}")
    return MeterSample(station_id, at, measurand, phase, context, quantity,
                       raw * factor * 10.0 ** multiplier)
