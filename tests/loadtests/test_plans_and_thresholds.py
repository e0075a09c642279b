"""Load shapes, thresholds and settings: the parts of a load test that need no sockets."""

from __future__ import annotations

import itertools
import re

import pytest
from typer.testing import CliRunner

from chargeloop.cli_load import app
from loadtests.settings import SettingsError, StationTiming, parse_mix
from loadtests.shape_plan import ShapePlan
from loadtests.thresholds import Thresholds, evaluate


def test_boot_storm_brings_every_station_within_the_storm() -> None:
    plan = ShapePlan("boot-storm", 5000, 60, arrive_within_s=10)
    assert plan.tick(0) == (5000, 500.0)
    assert plan.tick(59.9) == (5000, 500.0)
    assert plan.tick(60) is None  # the run is over


def test_ramp_climbs_in_steps_then_holds() -> None:
    plan = ShapePlan("ramp", 100, 40)  # ramp over three quarters: 30 s
    counts = [plan.tick(t)[0] for t in (0, 14.5, 29.9, 35)]  # type: ignore[index]
    assert counts == [4, 50, 100, 100]
    assert all(b >= a for a, b in itertools.pairwise(counts))


@pytest.mark.parametrize(("shape", "duration", "arrival"), [
    ("steady", 60, 6), ("steady", 600, 10), ("soak", 8 * 3600, 60), ("soak", 200, 10),
    ("boot-storm", 8, 4), ("reconnect-storm", 60, 6)])
def test_default_arrival_per_shape(shape: str, duration: float, arrival: float) -> None:
    assert ShapePlan(shape, 10, duration).arrival_s == arrival


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"shape": "spike"}, "--shape: 'spike'; valid: steady, ramp"),
    ({"stations": 0}, "--stations must be at least 1"),
    ({"arrive_within_s": 100}, "--arrive-within must be between 0 and the duration"),
])
def test_bad_shapes_name_the_option(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"shape": "steady", "stations": 10, "duration_s": 60.0}
    values.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ShapePlan(**values)  # type: ignore[arg-type]


def test_mix_weights_and_errors() -> None:
    assert parse_mix("sessions-1.6=3, heartbeat-2.0.1") == {"Sessions16Station": 3,
                                                           "Heartbeat201Station": 1}
    with pytest.raises(SettingsError, match=re.escape("unknown behaviour 'sessions-2.1'; valid: "
                                                      "heartbeat-1.6, heartbeat-2.0.1")):
        parse_mix("sessions-2.1=1")
    with pytest.raises(SettingsError, match=re.escape("weight of sessions-1.6 must be a whole")):
        parse_mix("sessions-1.6=lots")
    with pytest.raises(SettingsError, match=re.escape("--speed must be a number > 0")):
        StationTiming(speed=0)


SUMMARY = {"ocpp": {"requests": 1000, "p95_ms": 40, "p99_ms": 90, "rps": 250.0},
           "connect": {"requests": 100, "p95_ms": 30},
           "all": {"requests": 1100, "fail_ratio": 0.002},
           "stations": {"target": 100, "peak_connected": 99}}


def test_thresholds_pass_and_fail_on_the_right_side() -> None:
    verdicts = evaluate(Thresholds(max_p95_ms=40, max_p99_ms=80, max_fail_ratio=0.01,
                                   min_rps=300, max_connect_p95_ms=50,
                                   min_connected_ratio=0.99), SUMMARY)
    assert {v.name: v.passed for v in verdicts} == {
        "max_p95_ms": True, "max_p99_ms": False, "max_fail_ratio": True, "min_rps": False,
        "max_connect_p95_ms": True, "min_connected_ratio": True}
    assert evaluate(Thresholds(), SUMMARY) == []


def test_a_run_that_measured_nothing_fails_its_limits() -> None:
    empty = {"ocpp": {"requests": 0, "p95_ms": None, "p99_ms": None, "rps": 0.0},
             "connect": {"requests": 0, "p95_ms": None},
             "all": {"requests": 0, "fail_ratio": 0.0},
             "stations": {"target": 10, "peak_connected": 0}}
    verdicts = evaluate(Thresholds(max_p95_ms=500, max_fail_ratio=0.01), empty)
    assert [v.passed for v in verdicts] == [False, False]


@pytest.mark.parametrize(("args", "message"), [
    (["--stations", "5"], "give the CSMS: --url"),
    (["--url", "http://x/ocpp"], "use ws://host:port/path"),
    (["--reference", "--duration", "soon"], "'soon' is not a duration"),
    (["--reference", "--mix", "sessions-3=1"], "unknown behaviour 'sessions-3'"),
    (["--reference", "--shape", "spike"], "valid: steady, ramp, boot-storm"),
    (["--reference", "--duration", "10s", "--reconnect-at", "20s"], "must fall within the run"),
    (["--reference", "--stations", "0"], "should be greater than or equal to 1"),
    (["--reference", "--station-prefix", "FAR-TOO-LONG"], "must be 1 to 8 letters or digits"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args: list[str], message: str,
                                                   tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["run", *args, "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    # rich draws the message in a box: take the words, not the frame
    assert message in " ".join(result.output.replace("│", " ").split())
