"""The register codec agrees with pymodbus' own converters, and the reader walks a SunSpec chain
instead of trusting addresses (a common model one register short moves model 203)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pymodbus.client.mixin import ModbusClientMixin

from hil.codec import decode, encode, raw_registers
from hil.emulator import MeterEmulator
from hil.reader import MeterReader, MeterReadError
from hil.registermap import MAPS_DIR, Register, load_map
from tests.hil.support import simulated_reading

DT = ModbusClientMixin.DATATYPE
CASES = [("uint16", DT.UINT16, 1, 51234), ("int16", DT.INT16, 1, -1234),
         ("uint32", DT.UINT32, 2, 3_000_000_000), ("int32", DT.INT32, 2, -2_000_000_000),
         ("uint64", DT.UINT64, 4, 2**60 + 12345), ("int64", DT.INT64, 4, -(2**60)),
         ("float32", DT.FLOAT32, 2, 1234.5)]


@pytest.mark.parametrize(("kind", "datatype", "words", "value"), CASES)
@pytest.mark.parametrize("order", ["ABCD", "CDAB"])
def test_codec_matches_pymodbus(kind: str, datatype: DT, words: int, value: float,
                                order: str) -> None:
    register = Register("holding", 0, kind, words, order, "1", 1.0, None, "power_total", "p",
                        None)
    ours = raw_registers(register, value)
    theirs = ModbusClientMixin.convert_to_registers(value, datatype,
                                                    "little" if order == "CDAB" else "big")
    assert ours == theirs
    assert decode(register, ours) == pytest.approx(value)


def test_integers_saturate_instead_of_wrapping() -> None:
    register = Register("holding", 0, "int16", 1, "ABCD", "W", 1.0, None, "power_total", "p",
                        None)
    assert encode(register, 50_000.0) == [0x7FFF]
    assert encode(register, -50_000.0) == [0x8000]


def _shifted_sunspec(tmp_path: Path) -> Path:
    """The shipped SunSpec map as a device whose common model says L = 65: everything from
    model 203 on sits one register lower."""
    text = (MAPS_DIR / "sunspec203.yaml").read_text()

    def lower(match: re.Match[str]) -> str:
        number = int(match.group(2))
        return f"{match.group(1)}{number - 1 if number >= 40070 else number}"

    text = re.sub(r"(address: |scale_register: )(\d+)", lower, text)
    text = text.replace("name: common_length, value: 66", "name: common_length, value: 65")
    text = text.replace("model_address: 40070", "model_address: 40069")
    text = text.replace("name: sunspec203", "name: sunspec203_short")
    text = text.replace("[[40000, 40178]]", "[[40000, 40177]]")
    path = tmp_path / "sunspec203_short.yaml"
    path.write_text(text)
    return path


async def test_reader_walks_the_sunspec_chain(tmp_path: Path) -> None:
    truth = simulated_reading()
    device = load_map(_shifted_sunspec(tmp_path))
    emulator = MeterEmulator.of(device, [1])
    emulator.publish(1, truth)
    _, port = await emulator.start_tcp("127.0.0.1", 0)
    try:
        reader = await MeterReader.tcp(load_map("sunspec203"), "127.0.0.1", port)
        try:
            got = (await reader.read()).reading
            assert reader.shift == -1
        finally:
            reader.close()
        assert got.energy_wh == pytest.approx(truth.energy_wh, abs=0.5)
        assert got.voltage_v[0] == pytest.approx(truth.voltage_v[0], abs=0.05)
        assert got.power_w == pytest.approx(truth.power_w, abs=5.0)

        # a map that expects SunSpec on a device without the marker says so
        not_sunspec = MeterEmulator.of(load_map("abb_b23"), [1])
        _, other = await not_sunspec.start_tcp("127.0.0.1", 0)
        try:
            reader = await MeterReader.tcp(load_map("sunspec203"), "127.0.0.1", other)
            try:
                with pytest.raises(MeterReadError, match="exception 0x02"):
                    await reader.read()
            finally:
                reader.close()
        finally:
            await not_sunspec.stop()
    finally:
        await emulator.stop()
