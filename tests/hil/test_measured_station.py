"""A real meter feeding a simulated station: the reader polls an (emulated) Carlo Gavazzi EM24
over Modbus RTU on a pseudo-terminal, and the station's OCPP MeterValues carry what it read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from chargeloop.clock import SimClock
from chargeloop.ocppj import OcppVersion
from hil.emulator import MeterEmulator
from hil.measured_meter import MeasuredMeter, attach
from hil.observer import ChargerObserver
from hil.reader import MeterReader
from hil.registermap import load_map
from simulator.backends import UrlBackend
from simulator.drivers import IdToken
from simulator.station import Link, Recorder, SimStation, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.hil.conftest import WAIT_S, PtyPair
from tests.hil.support import simulated_reading

pytestmark = pytest.mark.serial
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


async def test_station_meter_values_carry_real_measurements(pty_pair: PtyPair) -> None:
    clock = SimClock(START, speed=None)
    env = clock.env
    observer = await ChargerObserver.start("127.0.0.1", 0, now=clock.utc)
    emulator = MeterEmulator.of(load_map("em24"), [5])
    await emulator.start_serial(pty_pair.a, baud=9600)
    reader = await MeterReader.serial(load_map("em24"), pty_pair.b, 5, baud=9600)
    spec = StationSpec("CS-MEASURED", OcppVersion.V201, start_jitter_s=0.0)
    station = SimStation(spec, clock, Link.to(UrlBackend(observer.url), spec.id, spec.version),
                         Recorder(START), np.random.default_rng(1))
    measured = attach(station, 1, MeasuredMeter())
    # what the real meter holds: 7.4 kW, its register advancing 20.56 Wh every 10 s
    served: list[float] = []

    def real_meter() -> Any:
        k = 0
        while True:
            truth = simulated_reading(seed=k, energy_wh=1_000_000.0 + 20.56 * k)
            emulator.publish(5, truth)
            served.append(truth.energy_wh)
            measurement = yield clock.bridge(reader.read())
            measured.update(measurement.reading)
            k += 1
            yield env.timeout(10)

    def driver() -> Any:
        yield env.timeout(20)
        yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.3))
        yield from station.present_token(1, IdToken("TOKEN-M"))
        yield env.timeout(600)
        yield from station.unplug(1)

    try:
        station.start()
        env.process(real_meter())
        env.process(driver())
        await asyncio.wait_for(clock.run(900), WAIT_S * 3)
        station.shutdown()
        await asyncio.wait_for(clock.wait_idle(), WAIT_S)
    finally:
        reader.close()
        await emulator.stop()
        await observer.stop()

    energy = [s.value for s in observer.samples if s.quantity == "import_energy"]
    assert len(energy) >= 10
    # the EM24 counts in 0.1 kWh: every value the station sent went through its registers
    assert all(value is not None and value % 100 == pytest.approx(0, abs=1e-6)
               for value in energy)
    assert set(energy) <= {round(wh / 100) * 100 for wh in served}
    assert min(energy) >= 1_000_000 and max(energy) > min(energy)
    # the recorded measurements are the reader's, one per poll
    assert len(reader.measurements) == len(served) and measured.updates == len(served)
    assert measured.simulated_wh > 0  # the simulation's own physics still ran
