"""The EVSE energy meter: register, per-phase V/I/P, frequency, noise and faults; OCPP samples.

The meter integrates power piecewise-constant: ``advance(power_w, dt_s)`` means ``power_w``
flowed for the last ``dt_s`` seconds and still flows now. Load is spread evenly over the phases
in use; per phase ``I = P_phase / (V · pf)``, so ``P = V · I · phases · pf`` holds for every
reading, noisy or not (noise is drawn on power and voltage, current follows from them).

Faults mirror what goes wrong with real meters: ``stuck`` (communication returns the same values
while energy still flows; clearing it shows the true register again), ``drift`` (a calibration
error that grows by ``percent_per_h`` every hour), ``jump`` (the register leaps forward once) and
``reset`` (the register restarts, at 0 unless told otherwise). Only a reset lowers the register.

:func:`sampled_values` turns a reading into OCPP ``SampledValue`` dicts for 1.6 or 2.0.1, with an
OCMF-signed energy register when a signer is given.
"""

from __future__ import annotations

import base64
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

import numpy as np
from ocpp.v16 import enums as v16_enums
from ocpp.v201 import enums as v201_enums

from chargeloop.ocppj.versions import OcppVersion
from simulator.ocmf import ENCODING_METHOD, SIGNING_METHOD, OcmfSigner

log = logging.getLogger(__name__)

PHASES = ("L1", "L2", "L3")
MeterFaultKind = Literal["stuck", "drift", "jump", "reset"]
METER_FAULT_KINDS: tuple[str, ...] = ("stuck", "drift", "jump", "reset")
_FAULT_PARAMS = {"stuck": (), "drift": ("percent_per_h",), "jump": ("jump_wh",),
                 "reset": ("reset_to_wh",)}


@dataclass(frozen=True, slots=True)
class MeterFault:
    """A meter fault and its one parameter: ``drift`` needs ``percent_per_h`` (may be negative),
    ``jump`` needs ``jump_wh`` > 0, ``reset`` takes ``reset_to_wh`` (default 0), ``stuck`` none.
    """

    kind: MeterFaultKind
    percent_per_h: float = 0.0
    jump_wh: float = 0.0
    reset_to_wh: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in METER_FAULT_KINDS:
            raise ValueError(f"unknown meter fault kind {self.kind!r}; valid: "
                             f"{', '.join(METER_FAULT_KINDS)}")
        for name in ("percent_per_h", "jump_wh", "reset_to_wh"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise ValueError(f"meter fault {name} must be a finite number, not {value!r}")
            if value != 0 and name not in _FAULT_PARAMS[self.kind]:
                raise ValueError(f"{name} does not apply to a {self.kind!r} meter fault")
        if self.kind == "jump" and self.jump_wh <= 0:
            # A backwards jump would break "only a reset lowers the register"; use reset_to_wh.
            raise ValueError("a jump fault needs jump_wh > 0 (to go backwards use 'reset' "
                             "with reset_to_wh)")
        if self.kind == "reset" and self.reset_to_wh < 0:
            raise ValueError("reset_to_wh must be >= 0")

    @classmethod
    def from_params(cls, kind: str, params: Mapping[str, Any]) -> MeterFault:
        """Build from a kind and a parameter mapping (scenario data), naming what is allowed."""
        if kind not in METER_FAULT_KINDS:
            raise ValueError(f"unknown meter fault kind {kind!r}; valid: "
                             f"{', '.join(METER_FAULT_KINDS)}")
        allowed = _FAULT_PARAMS[kind]
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for a {kind!r} meter "
                             f"fault; allowed: {', '.join(allowed) or 'none'}")
        if kind in ("drift", "jump") and allowed[0] not in params:
            raise ValueError(f"a {kind!r} meter fault needs {allowed[0]}")
        try:
            values = {k: float(v) for k, v in params.items()}
        except (TypeError, ValueError):
            raise ValueError(f"{kind!r} meter fault parameters must be numbers: "
                             f"{dict(params)!r}") from None
        return cls(kind, **values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What the meter shows at one instant. SI units; index 0..2 of the tuples is L1..L3.

    ``phase_power_w`` and ``export_energy_wh`` extend the pinned fields: real meters report
    per-phase power (SDM630 0x000C) and an export register (always 0 here: no V2G).
    """

    energy_wh: float
    power_w: float
    voltage_v: tuple[float, float, float]
    current_a: tuple[float, float, float]
    frequency_hz: float
    power_factor: float
    phase_power_w: tuple[float, float, float] = (0.0, 0.0, 0.0)
    export_energy_wh: float = 0.0


class Meter:
    """An AC energy meter fed by the EVSE model; all randomness comes from ``rng``.

    ``noise`` is the standard deviation of the relative Gaussian error on instantaneous values
    (0.005 = 0.5 %); the energy register is never noisy. ``phases=1`` meters carry the load on
    L1 and read 0 A on L2/L3 (voltages are still present: the grid has three phases).
    """

    def __init__(self, rng: np.random.Generator, phases: int = 3, nominal_voltage_v: float = 230.0,
                 frequency_hz: float = 50.0, noise: float = 0.0, start_wh: float = 0.0, *,
                 power_factor: float = 1.0) -> None:
        if phases not in (1, 2, 3):
            raise ValueError(f"phases must be 1, 2 or 3, not {phases!r}")
        for name, value in (("nominal_voltage_v", nominal_voltage_v),
                            ("frequency_hz", frequency_hz)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, not {value!r}")
        if not (math.isfinite(noise) and 0 <= noise < 0.5):
            raise ValueError(f"noise is a relative standard deviation within [0, 0.5), "
                             f"not {noise!r}")
        if not (math.isfinite(start_wh) and start_wh >= 0):
            raise ValueError(f"start_wh must be a finite number >= 0, not {start_wh!r}")
        if not (math.isfinite(power_factor) and 0 < power_factor <= 1):
            raise ValueError(f"power_factor must be within (0, 1], not {power_factor!r}")
        self._rng = rng
        self.phases = phases
        self.nominal_voltage_v = float(nominal_voltage_v)
        self.frequency_hz = float(frequency_hz)
        self.noise = float(noise)
        self.power_factor = float(power_factor)
        self._register_wh = float(start_wh)
        self._delivered_wh = 0.0
        self._power_w = 0.0
        self._now_s = 0.0  # seconds of metering so far (sum of dt_s)
        self._stuck: MeterReading | None = None
        self._drift: tuple[float, float] | None = None  # (gain change per s, since when)
        self._drift_fault: MeterFault | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def energy_wh(self) -> float:
        """The import register as the meter holds it (faults included, not frozen by stuck)."""
        return self._register_wh

    @property
    def delivered_wh(self) -> float:
        """Energy that really flowed through the meter since it was built (no faults)."""
        return self._delivered_wh

    @property
    def power_w(self) -> float:
        return self._power_w

    @property
    def faults(self) -> tuple[MeterFault, ...]:
        """The lasting faults in force (jump and reset act once and are not listed)."""
        active: list[MeterFault] = []
        if self._stuck is not None:
            active.append(MeterFault("stuck"))
        if self._drift_fault is not None:
            active.append(self._drift_fault)
        return tuple(active)

    # -- physics -----------------------------------------------------------------------------

    def advance(self, power_w: float, dt_s: float) -> None:
        """``power_w`` (import, >= 0) flowed for ``dt_s`` seconds and flows still."""
        if not (math.isfinite(power_w) and power_w >= 0):
            raise ValueError(f"power_w must be a finite number >= 0 (import only), "
                             f"not {power_w!r}")
        if not (math.isfinite(dt_s) and dt_s >= 0):
            raise ValueError(f"dt_s must be a finite number >= 0, not {dt_s!r}")
        energy_wh = power_w * dt_s / 3600.0
        self._delivered_wh += energy_wh
        self._register_wh += energy_wh * self._mean_gain(self._now_s, self._now_s + dt_s)
        self._now_s += dt_s
        self._power_w = float(power_w)

    def _mean_gain(self, start_s: float, end_s: float) -> float:
        """The average drift gain over [start_s, end_s]. The gain is 1 + rate·t, held at 0 once
        a negative drift gets there, so the register never runs backwards."""
        if self._drift is None:
            return 1.0
        rate, since = self._drift
        if end_s <= start_s:
            return max(0.0, 1.0 + rate * (start_s - since))
        positive_until = end_s if rate >= 0 else min(end_s, since - 1.0 / rate)
        if positive_until <= start_s:
            return 0.0
        # A linear gain's mean over a span is its value in the middle of that span.
        middle = (start_s + positive_until) / 2
        share = (positive_until - start_s) / (end_s - start_s)
        return (1.0 + rate * (middle - since)) * share

    def reading(self) -> MeterReading:
        """The values now; draws noise from ``rng`` when ``noise`` > 0 (and not stuck)."""
        if self._stuck is not None:
            return self._stuck
        share = self._power_w / self.phases
        phase_power = [share if k < self.phases else 0.0 for k in range(3)]
        voltage = [self.nominal_voltage_v] * 3
        frequency = self.frequency_hz
        if self.noise > 0:
            # Always seven draws, whatever the phases, so the stream stays aligned across meters.
            z = self._rng.standard_normal(7).tolist()  # Python floats: no numpy on the wire
            phase_power = [max(0.0, p * (1 + self.noise * z[k])) for k, p in enumerate(phase_power)]
            voltage = [max(0.0, v * (1 + self.noise * z[3 + k])) for k, v in enumerate(voltage)]
            frequency = max(0.0, frequency * (1 + self.noise * z[6]))
        current = [p / (v * self.power_factor) if v > 0 else 0.0
                   for p, v in zip(phase_power, voltage, strict=True)]
        return MeterReading(
            energy_wh=self._register_wh,
            power_w=math.fsum(phase_power),
            voltage_v=(voltage[0], voltage[1], voltage[2]),
            current_a=(current[0], current[1], current[2]),
            frequency_hz=frequency,
            power_factor=self.power_factor,
            phase_power_w=(phase_power[0], phase_power[1], phase_power[2]),
            export_energy_wh=0.0,
        )

    # -- faults ------------------------------------------------------------------------------

    def inject(self, fault: MeterFault) -> None:
        if fault.kind == "stuck":
            if self._stuck is None:
                self._stuck = self.reading()
        elif fault.kind == "drift":
            self._drift = (fault.percent_per_h / 100.0 / 3600.0, self._now_s)
            self._drift_fault = fault
        elif fault.kind == "jump":
            self._register_wh += fault.jump_wh
        else:  # reset
            self._register_wh = fault.reset_to_wh
        log.debug("meter fault injected: %s", fault)

    def clear_faults(self) -> None:
        """End stuck and drift; what a jump or reset did to the register stays."""
        self._stuck = None
        self._drift = None
        self._drift_fault = None


# -- OCPP sampled values --------------------------------------------------------------------------

MEASURANDS: tuple[str, ...] = (
    "Energy.Active.Import.Register", "Energy.Active.Export.Register", "Power.Active.Import",
    "Current.Import", "Voltage", "Frequency", "Power.Factor", "SoC",
)
# (unit in 1.6, unit in 2.0.1, decimals on the wire); None = no unit (dimensionless).
_UNITS: dict[str, tuple[str | None, str | None, int]] = {
    "Energy.Active.Import.Register": ("Wh", "Wh", 1),
    "Energy.Active.Export.Register": ("Wh", "Wh", 1),
    "Power.Active.Import": ("W", "W", 1),
    "Current.Import": ("A", "A", 2),
    "Voltage": ("V", "V", 1),
    # 1.6 has no unit for Hz: MeterValues.json allows "Hertz" but StopTransaction.json (its
    # transactionData) does not, so the unit is left out; the measurand says what it is.
    "Frequency": (None, "Hz", 2),
    "Power.Factor": (None, None, 3),
    "SoC": ("Percent", "Percent", 1),
}
# OCMF reading reason for an OCPP reading context.
_TX_FOR_CONTEXT = {"Transaction.Begin": "B", "Transaction.End": "E"}


def _enum_values(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum)


def _version(version: Any) -> OcppVersion:
    parsed = OcppVersion.parse(str(version))
    if parsed not in (OcppVersion.V16, OcppVersion.V201):
        raise ValueError(f"sampled_values supports OCPP 1.6 and 2.0.1, not {parsed.short}")
    return parsed


def _measurand_names(measurands: Iterable[Any], version: OcppVersion) -> list[str]:
    enum = v16_enums.Measurand if version is OcppVersion.V16 else v201_enums.MeasurandEnumType
    official = _enum_values(enum)
    names: list[str] = []
    for item in measurands:
        name = str(item.value) if isinstance(item, Enum) else str(item)
        if name not in official:
            raise ValueError(f"{name!r} is no OCPP {version.short} measurand; allowed: "
                             f"{', '.join(official)}")
        if name not in MEASURANDS:
            raise ValueError(f"measurand {name!r} is valid OCPP but the simulated meter does "
                             f"not measure it; supported: {', '.join(MEASURANDS)}")
        if name not in names:
            names.append(name)
    return names


def _phase_indices(phases_wanted: int | Sequence[str]) -> list[int]:
    if isinstance(phases_wanted, int) and not isinstance(phases_wanted, bool):
        if phases_wanted not in (1, 2, 3):
            raise ValueError(f"phases_wanted must be 1..3 or phase names, not {phases_wanted}")
        return list(range(phases_wanted))
    if isinstance(phases_wanted, str):
        phases_wanted = [phases_wanted]
    indices: list[int] = []
    for phase in phases_wanted:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; valid: {', '.join(PHASES)}")
        if PHASES.index(phase) not in indices:
            indices.append(PHASES.index(phase))
    return sorted(indices)


def sampled_values(reading: MeterReading, measurands: Iterable[Any], *, version: Any,
                   context: str, phases_wanted: int | Sequence[str], soc: float | None = None,
                   signer: OcmfSigner | None = None, timestamp: datetime | None = None,
                   id_tag: str | None = None, id_type: str = "ISO14443") -> list[dict[str, Any]]:
    """``reading`` as OCPP SampledValue dicts of ``version`` ("1.6" or "2.0.1").

    Current.Import and Voltage come once per phase in ``phases_wanted`` (a count, or names
    "L1".."L3"); the others as totals without a phase. ``soc`` is a fraction 0..1 and sent in
    percent (location EV); SoC is left out when it is None (an AC car does not tell).
    With a ``signer``, the energy import register is also signed as OCMF (``timestamp``, aware,
    becomes the OCMF time; ``id_tag`` the identification): 1.6 adds a ``SignedData`` sample next
    to the raw one (as the OCMF specification intends), 2.0.1 puts ``signedMeterValue`` on it.
    """
    ocpp_version = _version(version)
    names = _measurand_names(measurands, ocpp_version)
    context_enum = (v16_enums.ReadingContext if ocpp_version is OcppVersion.V16
                    else v201_enums.ReadingContextEnumType)
    contexts = _enum_values(context_enum)
    if context not in contexts:
        raise ValueError(f"unknown reading context {context!r}; valid: {', '.join(contexts)}")
    phase_indices = _phase_indices(phases_wanted)
    if soc is not None and not (math.isfinite(soc) and 0 <= soc <= 1):
        raise ValueError(f"soc is a fraction within 0..1, not {soc!r}")
    if signer is not None and (timestamp is None or timestamp.tzinfo is None):
        raise ValueError("signing needs an aware timestamp for the OCMF reading time")
    v16 = ocpp_version is OcppVersion.V16

    def sample(measurand: str, value: float, *, phase: str | None = None,
               location: str = "Outlet") -> dict[str, Any]:
        unit_16, unit_201, decimals = _UNITS[measurand]
        value = round(float(value), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
        out: dict[str, Any] = {"value": f"{value:.{decimals}f}" if v16 else value,
                               "context": context, "measurand": measurand}
        if phase is not None:
            out["phase"] = phase
        out["location"] = location
        if v16 and unit_16 is not None:
            out["unit"] = unit_16
        elif not v16 and unit_201 is not None:
            out["unitOfMeasure"] = {"unit": unit_201}
        return out

    samples: list[dict[str, Any]] = []
    for name in names:
        if name == "Energy.Active.Import.Register":
            samples.append(sample(name, reading.energy_wh))
            if signer is not None:
                assert timestamp is not None  # checked above
                ocmf = signer.sign(reading.energy_wh, timestamp=timestamp,
                                   tx=_TX_FOR_CONTEXT.get(context, "C"), id_tag=id_tag,
                                   id_type=id_type)
                if v16:
                    samples.append({"value": ocmf, "context": context, "format": "SignedData",
                                    "measurand": name, "location": "Outlet"})
                else:
                    samples[-1]["signedMeterValue"] = {
                        "signedMeterData": base64.b64encode(ocmf.encode("utf-8")).decode("ascii"),
                        "signingMethod": SIGNING_METHOD,
                        "encodingMethod": ENCODING_METHOD,
                        "publicKey": signer.public_key_base64,
                    }
        elif name == "Energy.Active.Export.Register":
            samples.append(sample(name, reading.export_energy_wh))
        elif name == "Power.Active.Import":
            samples.append(sample(name, reading.power_w))
        elif name == "Current.Import":
            samples.extend(sample(name, reading.current_a[k], phase=PHASES[k])
                           for k in phase_indices)
        elif name == "Voltage":
            samples.extend(sample(name, reading.voltage_v[k], phase=f"{PHASES[k]}-N")
                           for k in phase_indices)
        elif name == "Frequency":
            samples.append(sample(name, reading.frequency_hz))
        elif name == "Power.Factor":
            samples.append(sample(name, reading.power_factor))
        elif name == "SoC" and soc is not None:
            samples.append(sample(name, soc * 100.0, location="EV"))
    return samples
