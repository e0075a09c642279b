"""What the HIL tests share: a simulated meter with some history, and emulators on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import numpy as np

from hil.emulator import MeterEmulator
from hil.registermap import load_map
from simulator.meters import Meter, MeterReading


def simulated_reading(seed: int = 7, energy_wh: float = 123_456.7) -> MeterReading:
    """A noisy three-phase meter that has charged for a while: every value different."""
    meter = Meter(np.random.default_rng(seed), phases=3, noise=0.01, start_wh=energy_wh,
                  power_factor=0.97)
    meter.advance(11_040.0, 900.0)
    return meter.reading()


@contextlib.asynccontextmanager
async def tcp_emulator(map_name: str, units: tuple[int, ...] = (1,),
                       reading: MeterReading | None = None
                       ) -> AsyncIterator[tuple[MeterEmulator, int]]:
    emulator = MeterEmulator.of(load_map(map_name), units)
    for unit in units:
        emulator.publish(unit, reading or simulated_reading(unit))
    _, port = await emulator.start_tcp("127.0.0.1", 0)
    try:
        yield emulator, port
    finally:
        await emulator.stop()
