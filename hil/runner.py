"""Running a bench file in real time: real meters polled, simulated meters served, simulated
chargers driven, real chargers observed; at the end, comparison, signature checks and the
lateness verdict, all written to one run folder.

The shared clock runs at factor 1. Real meters are polled on wall time by asyncio tasks (a real
meter does not wait for the simulation); what they measure reaches simulated stations through
:class:`~hil.measured_meter.MeasuredMeter` and is recorded in ``hil_meter_readings``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from chargeloop.clock import SimClock
from chargeloop.runs import DEFAULT_ROOT, RunFolder, text_sha256
from hil.bench import Bench, BenchMeter
from hil.comparison import ReferencePoll, compare, deviations
from hil.emulator import MeterEmulator
from hil.measured_meter import MeasuredMeter, attach
from hil.observer import ChargerObserver
from hil.reader import MeterReader, MeterReadError
from hil.registermap import load_map
from hil.signed import verify
from simulator.backends import UrlBackend
from simulator.drivers import IdToken
from simulator.meters import Meter
from simulator.ocmf import OcmfSigner
from simulator.station import Link, Recorder, SimStation, StationSpec
from simulator.station.spec import EvseSpec, MeterSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle

log = logging.getLogger("chargeloop.hil.runner")

SHUTDOWN_S = 10.0  # bound for stations to finish their last exchanges


@dataclass
class BenchResult:
    folder: RunFolder
    summary: dict[str, Any]

    @property
    def passed(self) -> bool:
        return bool(self.summary["passed"])


async def _open_reader(meter: BenchMeter) -> MeterReader:
    regmap = load_map(meter.map)
    end = meter.endpoint
    if end.tcp is not None:
        return await MeterReader.tcp(regmap, end.tcp[0], end.tcp[1], meter.unit,
                                     timeout_s=meter.timeout_s)
    return await MeterReader.serial(regmap, end.serial_port or "", meter.unit, baud=end.baud,
                                    parity=end.parity, stopbits=end.stopbits,
                                    timeout_s=meter.timeout_s)


async def run_bench(bench: Bench, root: Path | str = DEFAULT_ROOT,
                    progress: Callable[[float], None] | None = None) -> BenchResult:
    """Run ``bench`` for its duration in real time; ``progress(sim_seconds)`` each second."""
    clock = SimClock(datetime.now(UTC), speed=1.0)
    env = clock.env
    folder = RunFolder.create(root, bench.name, kind="hil", clock_start=clock.start_utc)
    folder.write_manifest({
        "bench": {"source": bench.source, "sha256": text_sha256(bench.text)},
        "seed": bench.seed, "speed": 1.0, "duration_s": bench.duration_s,
        "meters": [{"id": m.id, "real": m.real, "map": m.map, "unit": m.unit,
                    "endpoint": m.endpoint.key} for m in bench.meters],
        "chargers": [{"id": c.id, "real": c.real, "ocpp": c.version.short}
                     for c in bench.chargers],
    })
    folder.file("bench.yaml").write_text(bench.text, "utf-8")
    trace = folder.trace_writer()
    rng = np.random.default_rng(bench.seed)
    recorder = Recorder(clock.start_utc)
    readings: list[dict[str, Any]] = []
    polls: dict[str, list[ReferencePoll]] = {m.id: [] for m in bench.meters if m.real}
    measured: dict[str, list[MeasuredMeter]] = {}
    signers: dict[str, OcmfSigner] = {}
    stations: dict[str, SimStation] = {}
    stop = asyncio.Event()

    async with contextlib.AsyncExitStack() as stack:
        stack.callback(folder.close)
        observer: ChargerObserver | None = None
        if bench.needs_endpoint:
            observer = await ChargerObserver.start(*bench.listen, now=clock.utc)
            stack.push_async_callback(observer.stop)

        emulators: dict[str, MeterEmulator] = {}
        for meter in bench.meters:
            if not meter.real:
                emulators.setdefault(meter.endpoint.key, MeterEmulator()).add(
                    load_map(meter.map), meter.unit)
        for meter in bench.meters:
            emulator = emulators.get(meter.endpoint.key)
            if meter.real or emulator is None or emulator.server is not None:
                continue
            end = meter.endpoint
            if end.tcp is not None:
                await emulator.start_tcp(*end.tcp)
            else:
                await emulator.start_serial(end.serial_port or "", baud=end.baud or 9600,
                                            parity=end.parity or "N",
                                            stopbits=end.stopbits or 1,
                                            line_timing=end.line_timing)
            stack.push_async_callback(emulator.stop)

        for charger in bench.chargers:
            if charger.real:
                continue
            spec = StationSpec(
                charger.id, charger.version,
                evses=(EvseSpec(1, charger.max_power_w, "AC", charger.phases),),
                start_jitter_s=0.0, meter=MeterSpec(signed=charger.signed),
                meter_sample_interval_s=charger.sample_interval_s)
            url = charger.csms_url or (observer.url if observer else "")
            signer = None
            if charger.signed:
                signer = signers[charger.id] = OcmfSigner(rng=rng.spawn(1)[0],
                                                          meter_serial=f"{charger.id}-M1")
            station = SimStation(spec, clock, Link.to(UrlBackend(url), charger.id,
                                                      charger.version),
                                 recorder, rng.spawn(1)[0], signer=signer, trace=trace)
            stations[charger.id] = station
            if charger.meter is not None:
                measured.setdefault(charger.meter, []).append(
                    attach(station, 1, MeasuredMeter(charger.phases)))

        readers: dict[str, MeterReader] = {}
        for meter in bench.meters:
            if meter.real:
                try:
                    readers[meter.id] = await _open_reader(meter)
                except MeterReadError as exc:
                    folder.write_summary({"kind": "hil", "bench": bench.name, "passed": False,
                                          "failures": [f"meter {meter.id}: {exc}"]})
                    raise MeterReadError(f"meter {meter.id}: {exc}") from exc
                stack.callback(readers[meter.id].close)

        async def poll(meter: BenchMeter, reader: MeterReader) -> None:
            reader.keep = False  # rows are kept here
            loop = asyncio.get_running_loop()
            start, n = loop.time(), 0
            while not stop.is_set():
                row: dict[str, Any] = {"meter_id": meter.id,
                                       "wall_utc": datetime.now(UTC).isoformat()}
                try:
                    measurement = await reader.read()
                except MeterReadError as exc:
                    row.update(error=str(exc), latency_ms=None)
                else:
                    row.update(error=None, latency_ms=measurement.latency_ms,
                               **measurement.values)
                    at = datetime.fromtimestamp(measurement.wall_time, UTC)
                    polls[meter.id].append(ReferencePoll(at, measurement.values))
                    for target in measured.get(meter.id, []):
                        target.update(measurement.reading)
                readings.append(row)
                n += 1
                delay = start + n * meter.poll_interval_s - loop.time()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)

        tasks = [asyncio.create_task(poll(bench.meter(mid), reader))
                 for mid, reader in readers.items()]

        def serve_meter(meter: BenchMeter) -> Any:
            emulator = emulators[meter.endpoint.key]
            own = Meter(rng.spawn(1)[0], phases=3)
            while True:
                if meter.follows is not None and meter.follows[0] in stations:
                    evse = stations[meter.follows[0]].evse(meter.follows[1])
                    evse.settle(env.now)
                    reading = evse.meter.reading()
                else:
                    own.advance(meter.load_w, meter.publish_interval_s if env.now else 0.0)
                    reading = own.reading()
                emulator.publish(meter.unit, reading)
                yield env.timeout(meter.publish_interval_s)

        def session(s: Any) -> Any:
            station = stations[s.charger]
            yield env.timeout(s.at_s)
            vehicle = Vehicle(VEHICLE_CATALOG[s.vehicle], soc=s.soc, target_soc=s.target_soc)
            yield from station.plug_in(s.evse, vehicle)
            yield from station.present_token(s.evse, IdToken(s.token))
            if s.unplug_at_s is not None:
                yield env.timeout(max(0.0, s.unplug_at_s - env.now))
                yield from station.unplug(s.evse)

        def report_progress() -> Any:
            while True:
                if progress is not None:
                    progress(env.now)
                yield env.timeout(1.0)

        for meter in bench.meters:
            if not meter.real:
                env.process(serve_meter(meter))
        for s in bench.sessions:
            env.process(session(s))
        env.process(report_progress())
        for station in stations.values():
            station.start()
        if observer is not None:
            log.info("chargers connect to %s/<id>", observer.url)
        try:
            await clock.run(bench.duration_s)
        finally:
            for station in stations.values():
                station.shutdown()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(clock.wait_idle(), SHUTDOWN_S)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        if progress is not None:
            progress(env.now)

    summary = _summarise(bench, folder, clock, observer, readings, polls, signers, recorder)
    return BenchResult(folder, summary)


def _summarise(bench: Bench, folder: RunFolder, clock: SimClock,
               observer: ChargerObserver | None, readings: list[dict[str, Any]],
               polls: dict[str, list[ReferencePoll]], signers: dict[str, OcmfSigner],
               recorder: Recorder) -> dict[str, Any]:
    warnings: list[str] = []
    failures: list[str] = []
    samples = observer.samples if observer else []
    comparison: list[dict[str, Any]] = []
    for charger in bench.chargers:
        if charger.reference_meter is None:
            continue
        mine = [s for s in samples if s.station_id == charger.id]
        rows = compare(mine, polls.get(charger.reference_meter, []), bench.tolerance)
        comparison.extend({**r, "reference_meter": charger.reference_meter} for r in rows)
        if not rows:
            failures.append(f"charger {charger.id}: no meter samples to compare with "
                            f"{charger.reference_meter} (did it connect and charge?)")
    wrong = deviations(comparison)
    if wrong:
        failures.append(f"{len(wrong)} of {len(comparison)} compared samples deviate from the "
                        "reference meter")

    keys = {c.id: c.public_key for c in bench.chargers if c.public_key}
    keys.update({cid: signer.public_key_hex for cid, signer in signers.items()})
    signed_rows = verify(observer.signed, keys) if observer else []
    invalid = [r for r in signed_rows if not r["valid"]]
    if invalid:
        failures.append(f"{len(invalid)} of {len(signed_rows)} signed meter values are invalid")

    meter_stats: dict[str, dict[str, int]] = {}
    for row in readings:
        stats = meter_stats.setdefault(row["meter_id"], {"polls": 0, "errors": 0})
        stats["polls"] += 1
        stats["errors"] += row["error"] is not None
    for meter_id, stats in meter_stats.items():
        if stats["errors"] == stats["polls"]:
            failures.append(f"meter {meter_id} never answered ({stats['errors']} polls)")
        elif stats["errors"]:
            warnings.append(f"meter {meter_id}: {stats['errors']} of {stats['polls']} polls "
                            "failed")

    lateness = clock.lateness()
    verdict, excess = bench.budget.judge(lateness)
    (failures if verdict == "fail" else warnings).extend(excess)

    folder.write_table("hil_meter_readings", readings)
    folder.write_table("lateness", clock.lateness_series())  # the report plots it over time
    folder.write_table("hil_comparison", comparison)
    folder.write_table("hil_signed_values", signed_rows)
    folder.write_table("hil_ocpp_samples", [
        {**dataclasses.asdict(s), "timestamp": s.timestamp.isoformat() if s.timestamp else None}
        for s in samples])
    folder.write_table("hil_ocpp_messages", observer.messages if observer else [])
    for name, rows in recorder.tables().items():
        folder.write_table(name, rows)
    summary = {
        "kind": "hil", "bench": bench.name, "duration_s": bench.duration_s,
        "lateness": lateness,
        "lateness_budget": dataclasses.asdict(bench.budget), "lateness_verdict": verdict,
        "meters": meter_stats,
        "samples_received": len(samples), "samples_compared": len(comparison),
        "deviations": len(wrong),
        "signed_values": len(signed_rows), "invalid_signatures": len(invalid),
        "warnings": warnings, "failures": failures, "passed": not failures,
    }
    folder.write_summary(summary)
    folder.write_manifest({"finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    return summary
