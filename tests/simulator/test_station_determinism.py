"""Same seed, same tables: the station's recorder output does not depend on wall time (only
``messages.latency_ms`` does), whatever the CSMS's answers cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.sites import Site
from simulator.station import EvseSpec, MeterSpec, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import world


async def scenario(tmp_path: Path, seed: int) -> dict[str, list[dict[str, Any]]]:
    tmp_path.mkdir()
    async with world(tmp_path) as w:
        for token in ("T1", "T2", "T3", "T4"):
            await w.core.auth.upsert(token)
        site = Site(w.clock.env, "depot", grid_limit_w=20_000, balancing="equal")
        noisy = MeterSpec(noise=0.01)
        specs = [
            StationSpec("DET-16", OcppVersion.V16, evses=(EvseSpec(1), EvseSpec(2)),
                        meter=noisy, start_jitter_s=30),
            StationSpec("DET-201", OcppVersion.V201, evses=(EvseSpec(1, 22_000),),
                        meter=noisy, start_jitter_s=30, meter_sample_interval_s=120),
            StationSpec("DET-DC", OcppVersion.V201, evses=(EvseSpec(1, 150_000, "DC"),),
                        start_jitter_s=30),
        ]
        stations = [w.station(spec, seed=seed + n, site=site if n < 2 else None)
                    for n, spec in enumerate(specs)]
        for station in stations:
            station.start()
        env = w.clock.env

        def visit(station: Any, evse_id: int, token: str, model: str, arrive_s: float,
                  stay_s: float) -> Any:
            yield env.timeout(arrive_s)
            yield from station.plug_in(evse_id, Vehicle(VEHICLE_CATALOG[model], soc=0.2))
            yield from station.present_token(evse_id, token)
            yield env.timeout(stay_s)
            yield from station.unplug(evse_id)

        w.drive(visit(stations[0], 1, "T1", "VW ID.3", 120, 7200))
        w.drive(visit(stations[0], 2, "T2", "Renault Zoe", 900, 5400))
        w.drive(visit(stations[1], 1, "T3", "Tesla Model 3 LR", 300, 9000))
        w.drive(visit(stations[2], 1, "T4", "Hyundai Ioniq 5 LR", 600, 2400))

        def trouble() -> Any:
            yield env.timeout(1800)
            stations[1].go_offline(1200)
            yield env.timeout(600)
            yield from stations[0].fault(2, "GroundFailure", 300)

        w.drive(trouble())
        await w.run(4 * 3600)
        for station in stations:
            station.record_open_sessions()
        return w.recorder.tables(wall_time=False)


async def test_same_seed_same_tables(tmp_path: Path) -> None:
    first = await scenario(tmp_path / "a", 7)
    second = await scenario(tmp_path / "b", 7)
    assert {k: len(v) for k, v in first.items()} == {k: len(v) for k, v in second.items()}
    for table in first:
        assert first[table] == second[table], table
    assert len(first["sessions"]) == 4
    assert any(r["outcome"] == "replayed" for r in first["messages"])
    assert any(r["kind"] == "fault_applied" for r in first["events"])
    other = await scenario(tmp_path / "c", 8)
    assert other["messages"] != first["messages"]  # the seed does matter (jitter)
