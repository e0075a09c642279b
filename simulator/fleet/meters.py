"""Meter series of the fleet mode, derived from the sessions afterwards with numpy.

A charger's register at sample time t is the energy of its sessions that ended by t plus the
part delivered so far of the one in progress (from the same exact curve tables as the
sessions). Completed sessions are added as steps and cumulated; in-progress samples are
expanded with ``np.repeat`` and evaluated per (model, charger class) group. Chargers are done in
blocks so that memory stays bounded whatever the run's length.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulator.fleet import curves

if TYPE_CHECKING:
    from simulator.fleet.run import FleetArrays

BLOCK_CELLS = 4_000_000  # chargers x samples per block


def meter_series(arrays: FleetArrays, n_chargers: int, start_utc: datetime, duration_s: float,
                 interval_s: float, chargers: Sequence[int] | None = None) -> pd.DataFrame:
    """Long table (time, charger, energy_wh, power_w) sampled at 0, interval, ... <= duration;
    ``power_w`` is the mean power over the interval ending at the sample (0 at the first)."""
    if interval_s <= 0:
        raise ValueError("interval_s must be > 0")
    wanted = (np.arange(n_chargers, dtype=np.int64) if chargers is None
              else np.unique(np.asarray(chargers, dtype=np.int64)))
    if wanted.size and (wanted[0] < 0 or wanted[-1] >= n_chargers):
        raise ValueError(f"chargers must be in 0..{n_chargers - 1}")
    samples = math.floor(duration_s / interval_s + 1e-9) + 1
    block = max(1, BLOCK_CELLS // samples)
    frames = []
    for lo in range(0, wanted.size, block):
        frames.append(_block(arrays, wanted[lo:lo + block], samples, interval_s))
    registers = np.concatenate(frames) if frames else np.empty((0, samples))
    power = np.zeros_like(registers)
    power[:, 1:] = np.diff(registers, axis=1) / (interval_s / 3600.0)
    times = utc_stamps(start_utc, np.tile(np.arange(samples) * interval_s, wanted.size))
    return pd.DataFrame({
        "time": times,
        "charger": np.repeat(wanted.astype(np.int32), samples),
        "energy_wh": registers.ravel(),
        "power_w": power.ravel(),
    })


def utc_stamps(start_utc: datetime, seconds: np.ndarray) -> pd.DatetimeIndex:
    """UTC timestamps (ns) of simulation seconds, without pandas' slow float parsing."""
    ns = pd.Timestamp(start_utc).value + np.round(np.asarray(seconds) * 1e9).astype(np.int64)
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def _block(arrays: FleetArrays, chargers: np.ndarray, samples: int, interval_s: float
           ) -> np.ndarray:
    row_of = np.full(int(chargers.max()) + 1, -1, dtype=np.int64)
    row_of[chargers] = np.arange(chargers.size)
    mine = np.flatnonzero((arrays.charger <= chargers.max()) & (arrays.charger >= 0))
    mine = mine[row_of[arrays.charger[mine]] >= 0]
    row = row_of[arrays.charger[mine]]
    start, end, energy = arrays.start_s[mine], arrays.end_s[mine], arrays.energy_wh[mine]

    # Completed sessions: a step at the first sample at or after the end, then cumulated.
    done_at = np.ceil(end / interval_s - 1e-9).astype(np.int64)
    inside = done_at < samples
    steps = np.bincount(row[inside] * samples + done_at[inside], weights=energy[inside],
                        minlength=chargers.size * samples)
    registers = np.cumsum(steps.reshape(chargers.size, samples), axis=1)

    # Sessions in progress at a sample: start < t < end.
    first = np.floor(start / interval_s).astype(np.int64) + 1
    last = np.minimum(done_at - 1, samples - 1)
    count = np.maximum(last - first + 1, 0)
    if count.sum():
        which = np.repeat(np.arange(mine.size), count)
        offset = np.arange(which.size) - np.repeat(np.cumsum(count) - count, count)
        k = first[which] + offset
        elapsed = k * interval_s - start[which]
        sub = mine[which]
        part = curves.by_table(arrays.models, arrays.classes, arrays.model[sub],
                               arrays.klass[sub], curves.energy_after, arrays.soc_in[sub],
                               elapsed, arrays.soc_out[sub])
        registers.ravel()[row[which] * samples + k] += part
    return registers
