"""Fault hooks and the network: back-off against a CSMS that refuses, station faults, clock
skew, corrupt frames, meter faults, and power shared under a site limit."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chargeloop.ocppj import OcppVersion
from csms.config import UnknownStations
from simulator.meters import MeterFault
from simulator.sites import Site
from simulator.station import EvseSpec, Link, SimStation, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import events, sent, statuses, world

V16, V201 = OcppVersion.V16, OcppVersion.V201


async def test_refused_station_backs_off_exponentially(tmp_path: Path) -> None:
    async with world(tmp_path, unknown_stations=UnknownStations.REJECT) as w:
        attempts: list[float] = []
        link = Link.to(w.backend, "CS-BACKOFF", V201)

        async def counting(password: str | None) -> Any:
            attempts.append(w.clock.now)
            return await link.open(password)

        spec = StationSpec("CS-BACKOFF", V201, start_jitter_s=0, retry_backoff_min_s=2,
                           retry_backoff_random_s=0, retry_backoff_repeat=3)
        station = SimStation(spec, w.clock, Link(counting), w.recorder,
                             np.random.default_rng(1))
        w.stations.append(station)
        station.start()
        await w.run(100)
        assert not station.online
        # waits of 2, 4, 8, 16, then 16 again (RetryBackOffRepeatTimes = 3)
        gaps = [b - a for a, b in pairwise(attempts)]
        assert gaps[:6] == [2, 4, 8, 16, 16, 16]
        assert len(events(w.recorder, "CS-BACKOFF", "connect_failed")) == 1
        await w.core.stations.register("CS-BACKOFF")
        await w.run(20)
        assert station.online
        assert events(w.recorder, "CS-BACKOFF", "connected")[0]["detail"].startswith("after")


async def test_fault_skew_corrupt_frame_and_meter_fault(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-F")
        station = w.station(StationSpec("CS-FAULT", V16, start_jitter_s=0,
                                        evses=(EvseSpec(1), EvseSpec(2))))
        station.start()
        await w.run(10)
        car = Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2)

        def driver() -> Any:
            yield from station.plug_in(1, car)
            assert (yield from station.present_token(1, "TAG-F"))
            yield w.clock.env.timeout(600)
            yield from station.fault(1, "GroundFailure", 300)

        w.drive(driver())
        await w.run(700)
        assert station.status(1) == "Faulted"
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "Other"
        faulted = [r for r in w.recorder.rows("status_changes") if r["status"] == "Faulted"]
        assert faulted[0]["error_code"] == "GroundFailure"
        await w.run(300)
        assert statuses(w.recorder, "CS-FAULT", 1)[-2:] == ["Faulted", "Finishing"]
        connector = [r for r in sent(w.recorder, "CS-FAULT", "StatusNotification")]
        assert all(r["outcome"] == "ok" for r in connector)

        # a corrupt frame: the CSMS answers or drops it, the connection stays
        station.send_corrupt_frame()
        await w.run(60)
        assert station.online and events(w.recorder, "CS-FAULT", "corrupt_frame")

        # the station's clock runs 2 minutes fast: every timestamp it sends says so
        station.clock_skew_s = 120.0
        assert station.timestamp() == w.clock.iso(w.clock.now + 120)
        trigger = await w.command("CS-FAULT", "TriggerMessage", {
            "requestedMessage": "StatusNotification", "connectorId": 2})
        assert trigger["status"] == "Accepted"
        await w.run(5)
        skew = w.core.stations.get("CS-FAULT").clock_skew_s
        assert skew == pytest.approx(120, abs=1)

        # a stuck meter shows the same values while energy flows
        w.drive(station.plug_in(2, Vehicle(VEHICLE_CATALOG["Tesla Model 3 LR"], soc=0.1)))
        w.drive(station.present_token(2, "TAG-F"))
        await w.run(120)
        station.meter(2).inject(MeterFault("stuck"))
        await w.run(600)
        stuck = [r["energy_wh"] for r in w.recorder.rows("meter_values")
                 if r["evse_id"] == 2 and r["context"] == "Sample.Periodic"][-5:]
        assert len(set(stuck)) == 1
        assert station.meter(2).energy_wh > stuck[0]


async def test_site_limit_shares_power_between_stations(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        site = Site(w.clock.env, "parking", grid_limit_w=16_000, balancing="equal")
        stations = []
        for n in range(2):
            await w.core.auth.upsert(f"TAG-S{n}")
            station = w.station(StationSpec(f"CS-SITE{n}", V201, start_jitter_s=0,
                                            evses=(EvseSpec(1, 22_000),)), site=site)
            station.start()
            stations.append(station)
        await w.run(10)
        w.drive(stations[0].plug_in(1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2)))
        w.drive(stations[0].present_token(1, "TAG-S0"))
        await w.run(300)
        assert stations[0].power_w(1) == pytest.approx(11_000)  # the car's own limit
        w.drive(stations[1].plug_in(1, Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.2)))
        w.drive(stations[1].present_token(1, "TAG-S1"))
        await w.run(300)
        assert stations[0].power_w(1) == pytest.approx(8_000)
        assert stations[1].power_w(1) == pytest.approx(8_000)
        assert site.granted_w <= 16_000 + 1e-6
        w.drive(stations[1].unplug(1))
        await w.run(60)
        assert stations[0].power_w(1) == pytest.approx(11_000)
        states = [e for e in events(w.recorder, "CS-SITE0")]
        assert states
