"""OCPP 2.0.1 meter-value steps the station cases share (block J): configure the measurands and the
clock-aligned interval, check the sampledValues of a message."""

from __future__ import annotations

from typing import Any

from conformance.station.harness import Harness, check

ALIGNED_INTERVAL_S = 1  # AlignedDataCtrlr.Interval the clock-aligned cases set
ENERGY = "Energy.Active.Import.Register"  # the measurand a sampledValue without one has
STARTED_MEASURANDS = (ENERGY,)
ALIGNED_MEASURANDS = (ENERGY,)


def sampled_values(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(timestamp, sampledValue) of every sampledValue in a message's meterValue list."""
    return [(mv["timestamp"], sv) for mv in payload.get("meterValue", [])
            for sv in mv.get("sampledValue", [])]


def check_meter_values(payload: dict[str, Any], context: str, measurands: tuple[str, ...], *,
                       step: str) -> None:
    """meterValue present; every sampledValue has ``context`` (absent means
    Sample.Periodic); the measurands are exactly those configured (absent means
    Energy.Active.Import.Register; phases may repeat one)."""
    values = sampled_values(payload)
    check(bool(values), step, "meterValue with sampledValues", payload)
    contexts = {sv.get("context", "Sample.Periodic") for _, sv in values}
    check(contexts == {context}, step, f"context {context}", sorted(contexts))
    got = {sv.get("measurand", ENERGY) for _, sv in values}
    check(got == set(measurands), step, f"the measurands {sorted(measurands)}", sorted(got))


async def configure_measurands(h: Harness, component: str, variable: str,
                               measurands: tuple[str, ...]) -> None:
    await h.set_variable201(component, variable, ",".join(measurands),
                            step=f"set-up: {component}.{variable}")


async def aligned_set_up(h: Harness) -> None:
    await configure_measurands(h, "AlignedDataCtrlr", "Measurands", ALIGNED_MEASURANDS)
    await h.set_variable201("AlignedDataCtrlr", "Interval", str(ALIGNED_INTERVAL_S),
                            step="set-up: AlignedDataCtrlr.Interval")
