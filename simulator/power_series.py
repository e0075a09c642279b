"""Delivered power as a step function: the ``power`` table has one row each time an EVSE's
power changes, so a group's total moves by the difference at each step."""

from __future__ import annotations

import pandas as pd


def total_power_w(power: pd.DataFrame) -> pd.Series:
    """Total delivered power of the EVSEs in ``power`` after each instant a step happened,
    indexed by simulation time (steps at the same instant settle together)."""
    if not len(power):
        return pd.Series(dtype=float)
    frame = power.sort_values("t_s", kind="stable")
    key = frame["station_id"] + "/" + frame["evse_id"].astype(str)
    delta = frame["power_w"] - frame.groupby(key)["power_w"].shift(fill_value=0.0)
    return delta.groupby(frame["t_s"]).sum().cumsum()


def peak_w(power: pd.DataFrame) -> float:
    total = total_power_w(power)
    return float(total.max()) if len(total) else 0.0
