"""Meter readings in SI units, from either OCPP generation's way of writing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.domain.timeutil import parse_timestamp

# OCPP units -> (SI unit, factor). 1.6 writes "kWh"; 2.0.1 writes "kWh" or "Wh" with a power of
# ten multiplier. Everything is stored in Wh, W, A, V, varh, var, VA, Hz, Celsius, Percent.
_UNITS: dict[str, tuple[str, float]] = {
    "Wh": ("Wh", 1.0), "kWh": ("Wh", 1000.0),
    "varh": ("varh", 1.0), "kvarh": ("varh", 1000.0),
    "W": ("W", 1.0), "kW": ("W", 1000.0),
    "VA": ("VA", 1.0), "kVA": ("VA", 1000.0),
    "var": ("var", 1.0), "kvar": ("var", 1000.0),
    "A": ("A", 1.0), "V": ("V", 1.0), "Hz": ("Hz", 1.0),
    "Celsius": ("Celsius", 1.0), "Fahrenheit": ("Fahrenheit", 1.0), "K": ("K", 1.0),
    "Percent": ("Percent", 1.0),
}

_DEFAULT_UNIT = {"Energy": "Wh", "Power": "W", "Current": "A", "Voltage": "V", "Frequency": "Hz",
                 "SoC": "Percent", "Temperature": "Celsius"}

ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True, slots=True)
class Sample:
    timestamp: datetime
    measurand: str
    value: float  # SI unit
    unit: str
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    signed_data: str | None = None
    signing_method: str | None = None
    encoding_method: str | None = None
    public_key: str | None = None

    @property
    def is_energy_register(self) -> bool:
        # The register total: no phase, or the whole-meter reading.
        return self.measurand == ENERGY_REGISTER and self.phase in (None, "", "N")


def to_si(value: float, unit: str | None, measurand: str, multiplier: int = 0) -> tuple[float, str]:
    if not unit:
        unit = _DEFAULT_UNIT.get(measurand.split(".")[0], "")
    si_unit, factor = _UNITS.get(unit, (unit, 1.0))
    return value * factor * (10.0 ** multiplier), si_unit


def samples_16(meter_values: list[dict[str, Any]], fallback: datetime) -> list[Sample]:
    """1.6 meterValue entries; values are strings, signed data rides in format SignedData."""
    out: list[Sample] = []
    for entry in meter_values:
        timestamp = parse_timestamp(entry.get("timestamp"), fallback) or fallback
        for sampled in entry.get("sampledValue", []):
            measurand = sampled.get("measurand", ENERGY_REGISTER)
            if sampled.get("format") == "SignedData":
                out.append(Sample(timestamp, measurand, float("nan"), "", sampled.get("phase"),
                                  sampled.get("location"), sampled.get("context"),
                                  signed_data=sampled.get("value")))
                continue
            try:
                raw = float(sampled["value"])
            except (KeyError, TypeError, ValueError):
                continue  # a reading we cannot read is no reading; the trace keeps the frame
            value, unit = to_si(raw, sampled.get("unit"), measurand)
            out.append(Sample(timestamp, measurand, value, unit, sampled.get("phase"),
                              sampled.get("location"), sampled.get("context")))
    return out


def samples_201(meter_values: list[dict[str, Any]], fallback: datetime) -> list[Sample]:
    """2.0.1 meterValue entries; values are numbers with unitOfMeasure and multiplier."""
    out: list[Sample] = []
    for entry in meter_values:
        timestamp = parse_timestamp(entry.get("timestamp"), fallback) or fallback
        for sampled in entry.get("sampledValue", []):
            measurand = sampled.get("measurand", ENERGY_REGISTER)
            unit_of_measure = sampled.get("unitOfMeasure") or {}
            value, unit = to_si(float(sampled["value"]), unit_of_measure.get("unit"), measurand,
                                int(unit_of_measure.get("multiplier", 0)))
            signed = sampled.get("signedMeterValue") or {}
            out.append(Sample(timestamp, measurand, value, unit, sampled.get("phase"),
                              sampled.get("location"), sampled.get("context"),
                              signed.get("signedMeterData"), signed.get("signingMethod"),
                              signed.get("encodingMethod"), signed.get("publicKey")))
    return out
