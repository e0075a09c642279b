"""Evaluating the exact charging tables of ``simulator.vehicles`` over many sessions at once.

Sessions are grouped by (vehicle model, charger class); each group is one numpy call on its
``EnergyTable``. With ten models and a few classes that is a few dozen calls for a million
sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from simulator.fleet.chargers import ChargerClass
from simulator.vehicles import EnergyTable, VehicleModel, energy_table


def by_table(models: Sequence[VehicleModel], classes: Sequence[ChargerClass],
             model: np.ndarray, klass: np.ndarray,
             fn: Callable[..., np.ndarray], *columns: np.ndarray) -> np.ndarray:
    """``fn(table, *columns[group])`` for every (model, class) group, scattered back into one
    float array. Rows whose class is -1 (no such charger) get NaN."""
    out = np.full(model.shape, np.nan)
    valid = klass >= 0
    if not valid.any():
        return out
    rows = np.flatnonzero(valid)
    key = model[rows].astype(np.int64) * len(classes) + klass[rows]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    cuts = np.flatnonzero(np.diff(sorted_key)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(order)], strict=True):
        k = int(sorted_key[lo])
        charger = classes[k % len(classes)]
        table: EnergyTable = energy_table(models[k // len(classes)], charger.kind,
                                          charger.power_w)
        idx = rows[order[lo:hi]]
        out[idx] = fn(table, *(c[idx] for c in columns))
    return out


def full_after_s(table: EnergyTable, soc_in: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Seconds from plug-in until the target (ramp included; inf if the car cannot charge)."""
    return table.charge_time_s(soc_in, target)


def soc_after(table: EnergyTable, soc_in: np.ndarray, seconds: np.ndarray,
              target: np.ndarray) -> np.ndarray:
    return table.soc_after(soc_in, seconds, target)


def energy_between(table: EnergyTable, soc_in: np.ndarray, soc_out: np.ndarray) -> np.ndarray:
    return table.energy_wh(soc_in, soc_out)


def energy_after(table: EnergyTable, soc_in: np.ndarray, seconds: np.ndarray,
                 target: np.ndarray) -> np.ndarray:
    """Grid Wh delivered ``seconds`` after plug-in."""
    return table.energy_wh(soc_in, table.soc_after(soc_in, seconds, target))
