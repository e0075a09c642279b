"""The meter emulator over Modbus RTU through a socat pseudo-terminal pair: several meters on one
bus, mbpoll reading as an RTU master, the reader polling over the same line, silence for ids
nobody has."""

from __future__ import annotations

import pytest

from hil.emulator import MeterEmulator
from hil.reader import MeterReader, MeterReadError
from hil.registermap import load_map
from tests.hil.conftest import PtyPair
from tests.hil.mbpoll import MbpollFailed, mbpoll
from tests.hil.support import simulated_reading

pytestmark = pytest.mark.serial


async def test_two_meters_on_one_rtu_bus(pty_pair: PtyPair) -> None:
    sdm, abb = simulated_reading(seed=1), simulated_reading(seed=2, energy_wh=9_876_543.0)
    emulator = MeterEmulator()
    emulator.add(load_map("sdm630"), 1)
    emulator.add(load_map("abb_b23"), 2)
    emulator.publish(1, sdm)
    emulator.publish(2, abb)
    await emulator.start_serial(pty_pair.a, baud=9600, parity="N")
    try:
        rtu = ("-m", "rtu", "-b", "9600", "-P", "none", "-o", "1")
        floats = await mbpoll(*rtu, "-a", "1", "-t", "3:float", "-B", "-r", "0", "-c", "3",
                              pty_pair.b)
        assert list(floats.values()) == pytest.approx(list(sdm.voltage_v), rel=1e-5)
        ints = await mbpoll(*rtu, "-a", "2", "-t", "4:int", "-B", "-r", str(0x5B0C), "-c", "3",
                            pty_pair.b)
        assert list(ints.values()) == [round(i * 100) for i in abb.current_a]  # 0.01 A
        with pytest.raises(MbpollFailed, match=r"timed out"):
            await mbpoll(*rtu, "-a", "3", "-t", "3", "-r", "0", "-c", "1", "-o", "0.2",
                         pty_pair.b)

        for unit, regmap, truth, energy_step in ((1, "sdm630", sdm, 0.5),
                                                 (2, "abb_b23", abb, 10.0)):
            reader = await MeterReader.serial(load_map(regmap), pty_pair.b, unit, baud=9600,
                                              parity="N")
            try:
                got = (await reader.read()).reading
            finally:
                reader.close()
            assert got.energy_wh == pytest.approx(truth.energy_wh, abs=energy_step)
            assert got.power_w == pytest.approx(truth.power_w, abs=0.01)

        silent = await MeterReader.serial(load_map("sdm630"), pty_pair.b, 3, timeout_s=0.2)
        try:
            with pytest.raises(MeterReadError, match="unit 3"):
                await silent.read()
        finally:
            silent.close()
    finally:
        await emulator.stop()


async def test_line_timing_makes_answers_as_slow_as_the_wire(pty_pair: PtyPair) -> None:
    emulator = MeterEmulator.of(load_map("sdm630"), [1])
    emulator.publish(1, simulated_reading())
    await emulator.start_serial(pty_pair.a, baud=9600, line_timing=True)
    try:
        reader = await MeterReader.serial(load_map("sdm630"), pty_pair.b, 1)
        try:
            await reader.read_words("input", 0, 2)  # connection settles
            measurement = await reader.read()
        finally:
            reader.close()
    finally:
        await emulator.stop()
    # 76 + 26 + 2 registers in three reads at 9600 Bd: about 0.3 s on a real line
    spans = reader.spans
    words = sum(span.count for span in spans)
    assert len(spans) == 3
    assert measurement.latency_ms >= (20 * len(spans) + 2 * words) * 11 / 9600 * 1000
