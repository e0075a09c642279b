"""A scenario's faults, applied to the stations at their times.

The timeline (which station, when, how long) comes from :func:`simulator.faults.fault_timeline`
with the run's seeded generator; this module only turns each event into the station's fault hook
and, for faults with a duration, clears it again. ``csms_unreachable`` takes the network away from
every station at once: to the stations that is what an unreachable CSMS looks like, and it works
the same against the reference CSMS and an external one.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

import numpy as np
import simpy

from simulator import faults
from simulator.scenario.spec import FaultSpec as ScenarioFault
from simulator.station.station import SimStation

Gen = Generator[Any, Any, Any]


def model_spec(fault: ScenarioFault) -> faults.FaultSpec:
    """The scenario's fault item as the fault model's spec."""
    params: dict[str, Any] = {}
    if fault.kind in ("station_fault", "meter_fault"):
        params["evse_id"] = 1 if fault.evse is None else fault.evse
    if fault.kind == "station_fault":
        params["error_code"] = fault.error_code or "OtherError"
    elif fault.kind == "meter_fault":
        params["fault"] = fault.meter_fault
        if fault.drift_pct_per_h is not None:
            params["percent_per_h"] = fault.drift_pct_per_h
        if fault.jump_wh is not None:
            params["jump_wh"] = fault.jump_wh
        if fault.reset_to_wh is not None:
            params["reset_to_wh"] = fault.reset_to_wh
    elif fault.kind == "clock_skew":
        params["seconds"] = fault.skew_s or 0.0
    elif fault.kind == "corrupt_frame":
        params["count"] = fault.count or 1
    targets = fault.station_ids or "*"
    return faults.FaultSpec(kind=fault.kind, at_s=fault.at_s, rate_per_day=fault.random_per_day,
                            duration_s=fault.duration_s, targets=targets, params=params)


def timeline(rng: np.random.Generator, specs: Iterable[ScenarioFault],
             station_ids: list[str], duration_s: float) -> list[faults.FaultEvent]:
    station_wide = [model_spec(s) for s in specs if s.kind != "csms_unreachable"]
    events = faults.fault_timeline(rng, station_wide, station_ids, duration_s)
    for spec in specs:  # one outage for everybody, not one per station
        if spec.kind == "csms_unreachable" and spec.at_s is not None:
            events.extend(faults.FaultEvent(spec.at_s, "network_drop", s, spec.duration_s,
                                            {"cause": "csms_unreachable"})
                          for s in station_ids)
    return sorted(events, key=lambda e: (e.at_s, e.station_id, e.kind))


FAULT_COLUMNS = ("t_s", "station_id", "kind", "duration_s", "params")


def inject(env: simpy.Environment, events: list[faults.FaultEvent],
           stations: dict[str, SimStation], applied: list[dict[str, Any]]) -> None:
    """Apply ``events`` at their times; each one applied becomes a row of ``applied``."""
    for event in events:
        env.process(_apply(env, event, stations[event.station_id], applied))


def _apply(env: simpy.Environment, event: faults.FaultEvent, station: SimStation,
           applied: list[dict[str, Any]]) -> Gen:
    yield env.timeout(max(0.0, event.at_s - env.now))
    applied.append({"t_s": env.now, "station_id": station.id, "kind": event.kind,
                    "duration_s": event.duration_s,
                    "params": ", ".join(f"{k}={v}" for k, v in sorted(event.params.items()))})
    station.event("fault_applied", event.kind)
    if event.kind == "network_drop":
        station.go_offline(event.duration_s)
    elif event.kind == "station_fault":
        yield from station.fault(event.evse_id or 0, event.params["error_code"],
                                 event.duration_s)
    elif event.kind == "meter_fault":
        meter = station.meter(event.evse_id or 1)
        meter.inject(event.meter_fault())
        if event.duration_s is not None:
            yield env.timeout(event.duration_s)
            meter.clear_faults()
            station.event("fault_cleared", event.kind)
    elif event.kind == "clock_skew":
        station.clock_skew_s = float(event.params["seconds"])
        if event.duration_s is not None:
            yield env.timeout(event.duration_s)
            station.clock_skew_s = 0.0
            station.event("fault_cleared", event.kind)
    elif event.kind == "corrupt_frame":
        for _ in range(int(event.params.get("count", 1))):
            station.send_corrupt_frame()
