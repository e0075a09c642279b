"""Bench files: validation with line numbers, and ``chargeloop hil run`` end to end in real time
over a pseudo-terminal pair (a simulated meter served on one end, read as the real meter on the
other, feeding a simulated charger that the harness observes, compares and verifies)."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from chargeloop.cli_hil import app
from chargeloop.clock import SimClock
from chargeloop.ocppj import OcppVersion
from chargeloop.runs import RunFolder
from hil.bench import BenchError, load_bench_text
from hil.realtime import LatenessBudget
from hil.runner import run_bench
from simulator.backends import UrlBackend
from simulator.drivers import IdToken
from simulator.ocmf import OcmfSigner
from simulator.station import Link, Recorder, SimStation, StationSpec
from simulator.station.spec import MeterSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.hil.conftest import PtyPair

BENCH = """\
name: pty-bench
duration_s: 6
lateness_budget: {{p99_ms: 0.0001, max_ms: 1000, on_exceed: warn}}
meters:
  - id: ref                  # read as a real meter would be, through the other pty end
    real: true
    map: sdm630
    serial: {{port: {b}, baud: 9600, parity: N}}
    unit: 3
    poll_interval_s: 0.5
  - id: sim                  # a simulated meter, served on one pty end
    real: false
    map: sdm630
    serial: {{port: {a}, baud: 9600, parity: N}}
    unit: 3
    load_w: 7400
    publish_interval_s: 0.5
chargers:
  - id: CS-SIM-1
    real: false
    ocpp: "2.0.1"
    meter: ref               # its MeterValues carry what ref measures
    reference_meter: ref     # and are compared against ref
    signed: true
    sample_interval_s: 1
sessions:
  - {{charger: CS-SIM-1, at_s: 0.5, token: TOKEN-1, vehicle: "VW ID.3"}}
"""


@pytest.mark.slow
@pytest.mark.serial
def test_hil_run_end_to_end(pty_pair: PtyPair, tmp_path: Path) -> None:
    bench = tmp_path / "bench.yaml"
    bench.write_text(BENCH.format(a=pty_pair.a, b=pty_pair.b))
    result = CliRunner().invoke(app, ["run", str(bench), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    [path] = (tmp_path / "runs").iterdir()
    folder = RunFolder.open(path)
    assert folder.kind == "hil"
    summary = folder.summary()
    assert summary["passed"] and summary["failures"] == []
    # real time: lateness measured and judged against the (deliberately tiny) budget
    assert summary["lateness"]["steps"] > 5 and summary["lateness"]["max_ms"] > 0
    assert summary["lateness_verdict"] == "warn"
    series = folder.read_table("lateness")  # the report's lateness-over-time plot
    assert len(series) > 5 and series["late_ms"].max() == summary["lateness"]["max_ms"]
    assert any("exceeds the budget" in w for w in summary["warnings"])
    readings = folder.read_table("hil_meter_readings")
    assert len(readings) >= 8 and readings["error"].isna().all()
    assert readings["power_total"].iloc[-1] == pytest.approx(7400.0)
    # the charger reported what the meter measured: every energy sample matches the reference
    comparison = folder.read_table("hil_comparison")
    energy = comparison[comparison["quantity"] == "import_energy"]
    assert len(energy) >= 3 and energy["ok"].all()
    assert energy["charger_value"].max() > 0
    signed = folder.read_table("hil_signed_values")
    assert len(signed) >= 3 and signed["valid"].all()
    assert {"meter_values", "sessions", "hil_ocpp_messages"} <= set(folder.tables())
    assert "passed" in result.output


def test_lateness_budget_turns_excess_into_warning_or_failure() -> None:
    lateness = {"p50_ms": 0.5, "p99_ms": 7.0, "max_ms": 12.0, "steps": 100}
    assert LatenessBudget(p99_ms=10, max_ms=20).judge(lateness) == ("ok", [])
    verdict, why = LatenessBudget(p99_ms=5, max_ms=20, on_exceed="fail").judge(lateness)
    assert verdict == "fail" and why == ["lateness p99 7.00 ms exceeds the budget of 5 ms"]
    verdict, why = LatenessBudget(p99_ms=5, max_ms=10).judge(lateness)
    assert verdict == "warn" and len(why) == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("name: b\nduration_s: 10\nmeters:\n  - {id: m, real: true, map: sdm603, tcp: 1.2.3.4:502}\n",
     'b.yaml:4:30: meters[0].map: unknown register map \'sdm603\'; did you mean "sdm630"?'),
    ("name: b\nduration_s: 10\nmeters:\n  - {id: m, real: true, map: sdm630}\n",
     "b.yaml:4:5: meters[0]: give exactly one of 'tcp' (host:port) or 'serial'"),
    ("name: b\nduration_s: 10\nmeters:\n  - {id: m, real: true, map: sdm630, tcp: nowhere}\n",
     'b.yaml:4:43: meters[0].tcp: "nowhere" is not a valid address: expected host:port'),
    ("name: b\nduration_s: 10\nchargers:\n  - {id: c, real: true, ocpp: \"1.6\", meter: x}\n",
     "chargers[0].meter: 'x' is no real meter of this bench"),
    ("name: b\nduration_s: 10\nchargers:\n  - {id: c, real: false, ocpp: \"2.0\"}\n",
     'chargers[0].ocpp: "2.0" is not one of the allowed values: 1.6, 2.0.1'),
    ("name: b\nduration_s: 10\nchargers:\n  - {id: c, real: true, ocpp: \"1.6\"}\n"
     "sessions:\n  - {charger: c, at_s: 1, token: T}\n",
     "sessions[0].charger: 'c' is no simulated charger"),
    ("name: b\nduration_s: -1\n", "b.yaml:2:13: duration_s: -1 is less than or equal to"),
    ("name: b\nduration: 1\n", 'unknown key "duration"'),
    ("", "b.yaml:1:1: the document is empty; a bench file is a mapping (name, duration_s, "),
    ("just text\n", "b.yaml:1:1: a bench file is a mapping (name, duration_s, meters, "),
])
def test_bad_bench_files_name_line_and_fix(text: str, expected: str) -> None:
    with pytest.raises(BenchError) as caught:
        load_bench_text(text, "b.yaml")
    assert expected in str(caught.value)


def test_cli_rejects_a_bad_bench_with_status_2(tmp_path: Path) -> None:
    bench = tmp_path / "bench.yaml"
    bench.write_text("name: b\nduration_s: 10\nmeters: 3\n")
    result = CliRunner().invoke(app, ["run", str(bench)])
    assert result.exit_code == 2
    assert "bench.yaml:3:9: meters: expected a list, got a whole number (3)" in result.output


def test_the_documented_bench_example_is_valid() -> None:
    text = (Path(__file__).parents[2] / "docs" / "hil.md").read_text()
    example = text.split("```yaml\nname: wallbox-acceptance\n", 1)[1].split("```", 1)[0]
    bench = load_bench_text("name: wallbox-acceptance\n" + example, "docs/hil.md")
    assert [m.id for m in bench.meters] == ["reference", "site-meter"]
    assert bench.charger("WALLBOX-7").reference_meter == "reference"
    assert bench.budget.on_exceed == "fail" and bench.listen == ("0.0.0.0", 9000)
    assert bench.needs_endpoint


REAL_CHARGER_BENCH = """\
name: real-charger-bench
duration_s: 5
harness: {{listen: "127.0.0.1:{port}"}}
lateness_budget: {{p99_ms: 1000, max_ms: 5000}}
meters:
  - {{id: ref, real: true, map: em24, tcp: "127.0.0.1:{meter_port}", unit: 1,
     poll_interval_s: 0.5}}
  - {{id: sim, real: false, map: em24, tcp: "127.0.0.1:{meter_port}", unit: 1, load_w: 3700,
     publish_interval_s: 0.5}}
chargers:
  - {{id: REAL-1, real: true, ocpp: "1.6", reference_meter: ref, public_key: "{key}"}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
async def test_a_real_charger_that_disagrees_with_the_reference_fails_the_run(
        tmp_path: Path) -> None:
    """The "real" charger (a simulated 1.6 station in its own real-time world) connects to the
    harness's listen address; its 11 kW session disagrees with the 3.7 kW reference meter."""
    port = _free_port()
    signer = OcmfSigner(rng=np.random.default_rng(4), meter_serial="REAL-1-M")
    bench = load_bench_text(REAL_CHARGER_BENCH.format(
        port=port, meter_port=_free_port(), key=signer.public_key_hex), "real.yaml")

    clock = SimClock(datetime.now(UTC), speed=1.0)
    spec = StationSpec("REAL-1", OcppVersion.V16, start_jitter_s=0.0,
                       meter=MeterSpec(signed=True), meter_sample_interval_s=1)
    station = SimStation(spec, clock, Link.to(UrlBackend(f"ws://127.0.0.1:{port}/ocpp"),
                                              "REAL-1", OcppVersion.V16),
                         Recorder(clock.start_utc), np.random.default_rng(2), signer=signer)

    def driver() -> Any:
        yield clock.env.timeout(0.5)
        yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.3))
        yield from station.present_token(1, IdToken("TOKEN-R"))

    async def real_charger() -> None:
        # a charger is switched on once the bench is up: wait until the harness listens
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                break
        station.start()
        clock.env.process(driver())
        await clock.run(4.5)
        station.shutdown()
        await asyncio.wait_for(clock.wait_idle(), 10)

    result, _ = await asyncio.gather(run_bench(bench, tmp_path / "runs"), real_charger())
    summary = result.summary
    assert not result.passed
    assert summary["deviations"] > 0 and summary["samples_compared"] >= summary["deviations"]
    assert any("deviate from the reference meter" in f for f in summary["failures"])
    comparison = result.folder.read_table("hil_comparison")
    power = comparison[comparison["quantity"] == "power_total"]
    assert (~power["ok"]).any()  # 11 kW against 3.7 kW
    signed = result.folder.read_table("hil_signed_values")
    assert len(signed) >= 2 and signed["valid"].all() and (signed["key_source"] == "bench").all()
    assert summary["meters"]["ref"]["errors"] == 0
