"""The quantities a register map can name, in SI units, and how they follow from a simulated
meter's :class:`~simulator.meters.MeterReading` (and back, for what a reader measured).

Apparent power is V x I per phase and reactive power what is left of it beside active power;
line-to-line voltages assume a symmetric grid (sqrt(3) x the line-to-neutral mean of the two
phases). The simulated meter keeps no per-phase energy registers, so maps leave those out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from simulator.meters import MeterReading

_PHASES = ("l1", "l2", "l3")
QUANTITIES: frozenset[str] = frozenset({
    *(f"{q}_{p}" for q in ("voltage", "current", "power", "apparent_power", "reactive_power",
                           "power_factor") for p in _PHASES),
    "voltage_l1_l2", "voltage_l2_l3", "voltage_l3_l1", "voltage_average", "voltage_ll_average",
    "current_sum", "current_average", "current_neutral",
    "power_total", "apparent_power_total", "reactive_power_total", "power_factor_total",
    "import_power", "export_power", "frequency",
    "import_energy", "export_energy", "total_energy", "net_energy",
    "unit_id",  # the Modbus id the meter answers to (SDM630 holds it as a setting)
})


def quantities_of(reading: MeterReading, unit_id: int = 1) -> dict[str, float]:
    """Every quantity in :data:`QUANTITIES` for ``reading`` (SI units)."""
    v, i, p = reading.voltage_v, reading.current_a, reading.phase_power_w
    s = [v[k] * i[k] for k in range(3)]
    q = [math.sqrt(max(0.0, s[k] ** 2 - p[k] ** 2)) for k in range(3)]
    pf = [reading.power_factor if i[k] > 0 else 1.0 for k in range(3)]
    ll = [math.sqrt(3) * (v[a] + v[b]) / 2 for a, b in ((0, 1), (1, 2), (2, 0))]
    values: dict[str, float] = {"unit_id": float(unit_id)}
    for k, phase in enumerate(_PHASES):
        values[f"voltage_{phase}"] = v[k]
        values[f"current_{phase}"] = i[k]
        values[f"power_{phase}"] = p[k]
        values[f"apparent_power_{phase}"] = s[k]
        values[f"reactive_power_{phase}"] = q[k]
        values[f"power_factor_{phase}"] = pf[k]
    s_total, q_total = math.fsum(s), math.fsum(q)
    values.update({
        "voltage_l1_l2": ll[0], "voltage_l2_l3": ll[1], "voltage_l3_l1": ll[2],
        "voltage_average": math.fsum(v) / 3, "voltage_ll_average": math.fsum(ll) / 3,
        "current_sum": math.fsum(i), "current_average": math.fsum(i) / 3,
        # phasor sum of the three currents at 120 degrees apart
        "current_neutral": abs(complex(i[0]) + i[1] * complex(-0.5, math.sqrt(3) / 2)
                               + i[2] * complex(-0.5, -math.sqrt(3) / 2)),
        "power_total": reading.power_w, "apparent_power_total": s_total,
        "reactive_power_total": q_total,
        "power_factor_total": reading.power_w / s_total if s_total > 0 else 1.0,
        "import_power": reading.power_w, "export_power": 0.0,
        "frequency": reading.frequency_hz,
        "import_energy": reading.energy_wh, "export_energy": reading.export_energy_wh,
        "total_energy": reading.energy_wh + reading.export_energy_wh,
        "net_energy": reading.energy_wh - reading.export_energy_wh,
    })
    return values


def reading_of(values: Mapping[str, float]) -> MeterReading:
    """A :class:`MeterReading` from measured quantities (what a reader got from a real meter).

    Missing per-phase values count as 0; a missing total power is the sum of the phases.
    """
    def get(name: str, default: float = 0.0) -> float:
        value = values.get(name)
        return float(value) if value is not None and math.isfinite(value) else default

    phase_power = tuple(get(f"power_{p}") for p in _PHASES)
    power = get("power_total", math.fsum(phase_power))
    energy = get("import_energy", get("total_energy"))
    return MeterReading(
        energy_wh=energy,
        power_w=power,
        voltage_v=(get("voltage_l1"), get("voltage_l2"), get("voltage_l3")),
        current_a=(get("current_l1"), get("current_l2"), get("current_l3")),
        frequency_hz=get("frequency"),
        power_factor=min(1.0, max(0.0, get("power_factor_total", 1.0))) or 1.0,
        phase_power_w=phase_power,  # type: ignore[arg-type]
        export_energy_wh=get("export_energy"),
    )
