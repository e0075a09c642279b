"""Fault specs and the fault timeline: validation, glob targeting, determinism, Poisson rates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.faults import (
    FAULT_KINDS,
    STATION_ERROR_CODES,
    FaultEvent,
    FaultInjector,
    FaultSpec,
    fault_timeline,
)
from simulator.meters import Meter, MeterFault

STATIONS = ["CP-A-01", "CP-A-02", "CP-B-01", "DC-01"]
DAY = 86_400.0


def timeline(specs: list[FaultSpec], seed: int = 1, stations: list[str] = STATIONS,
             duration_s: float = DAY) -> list[FaultEvent]:
    return fault_timeline(np.random.default_rng(seed), specs, stations, duration_s)


def test_scheduled_fault_hits_every_matching_station_once() -> None:
    spec = FaultSpec("network_drop", at_s=3600, duration_s=300, targets="CP-A-*")
    events = timeline([spec])
    assert events == [FaultEvent(3600.0, "network_drop", "CP-A-01", 300, {}),
                      FaultEvent(3600.0, "network_drop", "CP-A-02", 300, {})]


def test_glob_patterns() -> None:
    def hit(targets: Any) -> list[str]:
        events = timeline([FaultSpec("corrupt_frame", at_s=1, targets=targets)])
        return [e.station_id for e in events]

    assert hit("*") == STATIONS
    assert hit("CP-?-01") == ["CP-A-01", "CP-B-01"]
    assert hit("DC-*") == ["DC-01"]
    assert hit(("DC-01", "CP-B-*")) == ["CP-B-01", "DC-01"]
    assert hit("CP-[AB]-02") == ["CP-A-02"]
    assert hit("CP-A-01") == ["CP-A-01"]
    with pytest.raises(ValueError, match="match no station"):
        hit("cp-a-01")  # station ids are case-sensitive, on every platform


def test_targets_matching_nothing_are_an_error() -> None:
    with pytest.raises(ValueError, match=r"targets cp-\* match no station; stations are: CP-A-01"):
        timeline([FaultSpec("network_drop", at_s=1, duration_s=5, targets="cp-*")])


def test_station_fault_error_codes() -> None:
    spec = FaultSpec("station_fault", at_s=10, duration_s=600,
                     params={"error_code": "GroundFailure", "evse_id": 2})
    (event, *_) = timeline([spec])
    assert event.params == {"error_code": "GroundFailure", "evse_id": 2} and event.evse_id == 2
    assert FaultSpec("station_fault", at_s=0,
                     params={"error_code": "HighTemperature"}).params["evse_id"] == 1
    assert "PowerMeterFailure" in STATION_ERROR_CODES and "NoError" not in STATION_ERROR_CODES
    with pytest.raises(ValueError) as caught:
        FaultSpec("station_fault", at_s=0, params={"error_code": "Overheated"})
    message = str(caught.value)
    assert "'Overheated' is no OCPP 1.6 ChargePointErrorCode" in message
    for code in ("GroundFailure", "HighTemperature", "PowerMeterFailure", "WeakSignal"):
        assert code in message
    with pytest.raises(ValueError, match="NoError"):
        FaultSpec("station_fault", at_s=0, params={"error_code": "NoError"})


def test_meter_fault_events_carry_their_meter_fault() -> None:
    spec = FaultSpec("meter_fault", at_s=100, targets="DC-01",
                     params={"fault": "drift", "percent_per_h": 5})
    (event,) = timeline([spec])
    assert event.meter_fault() == MeterFault("drift", percent_per_h=5.0)
    assert event.duration_s is None and event.evse_id == 1
    jump = FaultSpec("meter_fault", at_s=0, params={"fault": "jump", "jump_wh": 1e4})
    assert timeline([jump])[0].meter_fault() == MeterFault("jump", jump_wh=1e4)
    with pytest.raises(ValueError, match="no meter fault"):
        timeline([FaultSpec("corrupt_frame", at_s=0)])[0].meter_fault()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "meteor"}, "unknown fault kind 'meteor'; valid: network_drop, csms_unreachable"),
    ({}, "exactly one of at_s"),
    ({"at_s": 1, "rate_per_day": 2}, "exactly one of at_s"),
    ({"at_s": -1}, "at_s"),
    ({"rate_per_day": 0}, "rate_per_day"),
    ({"at_s": 1, "duration_s": -5}, "duration_s"),
    ({"at_s": 1, "targets": ""}, "glob"),
    ({"at_s": 1, "targets": ()}, "glob"),
    ({"at_s": 1, "params": {"speed": 3}}, "unknown parameter.*speed.*allowed: none"),
    ({"kind": "clock_skew", "at_s": 1}, "missing parameter.*seconds"),
    ({"kind": "clock_skew", "at_s": 1, "params": {"seconds": "soon"}}, "seconds"),
    ({"kind": "station_fault", "at_s": 1}, "missing parameter.*error_code"),
    ({"kind": "station_fault", "at_s": 1,
      "params": {"error_code": "GroundFailure", "evse_id": -1}}, "evse_id"),
    ({"kind": "meter_fault", "at_s": 1, "params": {"fault": "melt"}},
     "unknown fault 'melt'; valid: stuck, drift, jump, reset"),
    ({"kind": "meter_fault", "at_s": 1, "params": {"fault": "drift"}}, "needs percent_per_h"),
    ({"kind": "meter_fault", "at_s": 1, "params": {"fault": "stuck", "jump_wh": 5}},
     "jump_wh"),
    ({"kind": "corrupt_frame", "at_s": 1, "params": {"count": 0}}, "count"),
])
def test_bad_specs_are_named(kwargs: dict, message: str) -> None:
    args: dict[str, Any] = {"kind": "network_drop", **kwargs}
    with pytest.raises(ValueError, match=message):
        FaultSpec(**args)


def test_every_kind_builds() -> None:
    params = {"station_fault": {"error_code": "OtherError"}, "meter_fault": {"fault": "stuck"},
              "clock_skew": {"seconds": -30.5}}
    for kind in FAULT_KINDS:
        spec = FaultSpec(kind, rate_per_day=1.0, params=params.get(kind, {}))  # type: ignore[arg-type]
        assert spec.kind == kind


RANDOM = [
    FaultSpec("network_drop", rate_per_day=6, duration_s=120),
    FaultSpec("station_fault", rate_per_day=2, duration_s=900, targets="CP-*",
              params={"error_code": "HighTemperature"}),
    FaultSpec("clock_skew", at_s=7200, duration_s=None, targets="DC-01", params={"seconds": 90}),
]


def test_timeline_is_deterministic_for_a_seed_and_sorted() -> None:
    a, b = timeline(RANDOM, seed=5), timeline(RANDOM, seed=5)
    assert a == b and len(a) > 10
    assert timeline(RANDOM, seed=6) != a
    assert [e.at_s for e in a] == sorted(e.at_s for e in a)
    assert all(0 <= e.at_s < DAY for e in a)
    skew = [e for e in a if e.kind == "clock_skew"]
    assert skew == [FaultEvent(7200.0, "clock_skew", "DC-01", None, {"seconds": 90})]


def test_station_faults_do_not_depend_on_the_other_stations() -> None:
    full = timeline(RANDOM, seed=5)
    fewer = timeline(RANDOM, seed=5, stations=["DC-01", "CP-B-01"])  # other order, fewer
    assert [e for e in full if e.station_id in ("DC-01", "CP-B-01")] == fewer


def test_scheduled_faults_after_the_end_are_dropped() -> None:
    assert timeline([FaultSpec("network_drop", at_s=DAY, duration_s=1)]) == []
    assert timeline([FaultSpec("network_drop", at_s=10, duration_s=1)], duration_s=0) == []


def test_random_faults_follow_the_rate() -> None:
    spec = FaultSpec("corrupt_frame", rate_per_day=4)
    stations = [f"S{i:03d}" for i in range(500)]
    events = timeline([spec], stations=stations, duration_s=7 * DAY)
    per_station = 4 * 7
    assert len(events) / len(stations) == pytest.approx(per_station, rel=0.05)
    counts = np.bincount([int(e.station_id[1:]) for e in events], minlength=500)
    assert counts.var() == pytest.approx(per_station, rel=0.25)  # Poisson: variance = mean


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), rate=st.floats(min_value=0.01, max_value=50),
       duration=st.floats(min_value=0, max_value=10 * DAY))
def test_timeline_properties(seed: int, rate: float, duration: float) -> None:
    specs = [FaultSpec("network_drop", rate_per_day=rate, duration_s=60)]
    events = timeline(specs, seed=seed, duration_s=duration)
    assert events == timeline(specs, seed=seed, duration_s=duration)
    assert all(0 <= e.at_s <= duration for e in events)
    assert [(e.at_s, e.station_id) for e in events] == sorted((e.at_s, e.station_id)
                                                              for e in events)


class FakeStation:
    """What a station offers for faults, reduced to a log; checks the Protocol's shape."""

    def __init__(self) -> None:
        self.clock_skew_s = 0.0
        self.calls: list[tuple] = []
        self.meters = {1: Meter(np.random.default_rng(0))}

    def go_offline(self, duration_s: float | None) -> None:
        self.calls.append(("offline", duration_s))

    def fault(self, evse_id: int, error_code: str, duration_s: float | None) -> None:
        self.calls.append(("fault", evse_id, error_code, duration_s))

    def send_corrupt_frame(self) -> None:
        self.calls.append(("corrupt",))

    def meter(self, evse_id: int) -> Meter:
        return self.meters[evse_id]


def apply(event: FaultEvent, station: FaultInjector) -> None:
    if event.kind in ("network_drop", "csms_unreachable"):
        station.go_offline(event.duration_s)
    elif event.kind == "station_fault":
        station.fault(event.params["evse_id"], event.params["error_code"], event.duration_s)
    elif event.kind == "meter_fault":
        station.meter(event.params["evse_id"]).inject(event.meter_fault())
    elif event.kind == "clock_skew":
        station.clock_skew_s = event.params["seconds"]
    else:
        for _ in range(event.params["count"]):
            station.send_corrupt_frame()


def test_events_apply_through_the_injector_protocol() -> None:
    station = FakeStation()
    specs = [FaultSpec("network_drop", at_s=1, duration_s=30, targets="DC-01"),
             FaultSpec("station_fault", at_s=2, duration_s=60, targets="DC-01",
                       params={"error_code": "PowerMeterFailure"}),
             FaultSpec("meter_fault", at_s=3, targets="DC-01",
                       params={"fault": "jump", "jump_wh": 500}),
             FaultSpec("clock_skew", at_s=4, targets="DC-01", params={"seconds": -42}),
             FaultSpec("corrupt_frame", at_s=5, targets="DC-01", params={"count": 2})]
    for event in timeline(specs):
        apply(event, station)
    assert station.calls == [("offline", 30), ("fault", 1, "PowerMeterFailure", 60),
                             ("corrupt",), ("corrupt",)]
    assert station.clock_skew_s == -42 and station.meters[1].energy_wh == 500
