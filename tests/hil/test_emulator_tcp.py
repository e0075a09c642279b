"""The meter emulator over Modbus TCP on loopback: values through every map, bulk reads,
Modbus exceptions as a real meter gives them, and mbpoll (an independent client) agreeing."""

from __future__ import annotations

import asyncio
import struct

import pytest
from pymodbus.client import AsyncModbusTcpClient

from hil.emulator import EmulatorStartError, MeterEmulator
from hil.reader import MeterReader, MeterReadError
from hil.registermap import load_map
from tests.hil.mbpoll import MbpollFailed, mbpoll
from tests.hil.support import simulated_reading, tcp_emulator

# (map, energy resolution in Wh): the register's own step
MAPS = [("sdm630", 0.02), ("sdm72", 0.02), ("abb_b23", 10.0), ("em24", 100.0),
        ("sunspec203", 1.0)]


@pytest.mark.parametrize(("map_name", "energy_step_wh"), MAPS)
async def test_reader_gets_what_the_simulated_meter_holds(map_name: str,
                                                          energy_step_wh: float) -> None:
    truth = simulated_reading()
    async with tcp_emulator(map_name, reading=truth) as (_, port):
        reader = await MeterReader.tcp(load_map(map_name), "127.0.0.1", port)
        try:
            got = (await reader.read()).reading
        finally:
            reader.close()
    assert got.energy_wh == pytest.approx(truth.energy_wh, abs=energy_step_wh / 2 + 0.01)
    assert got.power_w == pytest.approx(truth.power_w, abs=10.0)  # SunSpec: 10 W steps
    for k in range(3):
        assert got.voltage_v[k] == pytest.approx(truth.voltage_v[k], abs=0.1)
        assert got.current_a[k] == pytest.approx(truth.current_a[k], abs=0.01)
    assert got.frequency_hz == pytest.approx(truth.frequency_hz, abs=0.1)


async def test_modbus_exceptions_as_the_real_meter_answers() -> None:
    async with tcp_emulator("sdm630", units=(1, 2)) as (_, port):
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        assert await client.connect()
        try:
            # a bulk read across unmapped gaps works, as on the device (80 registers from 0)
            bulk = await client.read_input_registers(0, count=80, device_id=1)
            assert not bulk.isError() and len(bulk.registers) == 80
            # beyond the input table: illegal data address (02)
            beyond = await client.read_input_registers(0x0180, count=2, device_id=1)
            assert beyond.isError() and beyond.exception_code == 2
            # a read that starts inside and runs out: 02 as well
            across = await client.read_input_registers(0x017E, count=4, device_id=1)
            assert across.exception_code == 2
            # the settings table is separate: FC3 at 0x1E is no setting
            assert (await client.read_holding_registers(0x1E, count=2,
                                                        device_id=1)).exception_code == 2
            # no coils on a meter: illegal function (01)
            assert (await client.read_coils(0, count=1, device_id=1)).exception_code == 1
            # unit 9 is not on this gateway: 0x0B gateway target failed to respond
            assert (await client.read_input_registers(0, count=2,
                                                      device_id=9)).exception_code == 0x0B
            # settings are writable (FC16) and read back; the meter with the other id too
            wrote = await client.write_registers(0x0002, [0x4270, 0x0000], device_id=2)
            assert not wrote.isError()
            back = await client.read_holding_registers(0x0002, count=2, device_id=2)
            assert client.convert_from_registers(back.registers,
                                                 client.DATATYPE.FLOAT32) == 60.0
            mine = await client.read_holding_registers(0x0014, count=2, device_id=2)
            assert client.convert_from_registers(mine.registers, client.DATATYPE.FLOAT32) == 2.0
        finally:
            client.close()

    async with tcp_emulator("abb_b23") as (_, port):
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        assert await client.connect()
        try:
            # the ABB has holding registers only: FC4 is an illegal function
            assert (await client.read_input_registers(0x5000, count=4,
                                                      device_id=1)).exception_code == 1
            # and it is read-only: a write is refused with illegal function
            assert (await client.write_register(0x5B00, 1, device_id=1)).exception_code == 1
        finally:
            client.close()


async def test_reader_reports_exceptions_with_address_and_meaning() -> None:
    async with tcp_emulator("sdm630") as (_, port):
        reader = await MeterReader.tcp(load_map("sdm630"), "127.0.0.1", port, unit_id=1)
        try:
            with pytest.raises(MeterReadError, match=r"registers at 512 \(0x0200\) got "
                                                     r"exception 0x02 \(illegal data address\)"):
                await reader.read_words("input", 0x200, 2)
        finally:
            reader.close()


async def test_mbpoll_reads_what_the_simulation_holds() -> None:
    truth = simulated_reading(seed=11)
    async with tcp_emulator("sdm630", reading=truth) as (_, port):
        common = ("-m", "tcp", "-p", str(port), "-a", "1")
        floats = await mbpoll(*common, "-t", "3:float", "-B", "-r", "0", "-c", "9", "127.0.0.1")
        for k in range(3):
            assert floats[2 * k] == pytest.approx(truth.voltage_v[k], rel=1e-5)
            assert floats[6 + 2 * k] == pytest.approx(truth.current_a[k], rel=1e-5)
            assert floats[12 + 2 * k] == pytest.approx(truth.phase_power_w[k], rel=1e-5)
        [energy] = (await mbpoll(*common, "-t", "3:float", "-B", "-r", "72", "-c", "1",
                                 "127.0.0.1")).values()
        assert energy * 1000 == pytest.approx(truth.energy_wh, rel=1e-5)  # mbpoll: 6 digits
        [hz] = (await mbpoll(*common, "-t", "3:float", "-B", "-r", "70", "-c", "1",
                             "127.0.0.1")).values()
        assert hz == pytest.approx(truth.frequency_hz, rel=1e-5)
        with pytest.raises(MbpollFailed, match="Illegal data address"):
            await mbpoll(*common, "-t", "3", "-r", "900", "-c", "2", "127.0.0.1")

    # Carlo Gavazzi: low word first, which is mbpoll's own default for 32-bit values
    async with tcp_emulator("em24", reading=truth) as (_, port):
        ints = await mbpoll("-m", "tcp", "-p", str(port), "-a", "1", "-t", "3:int", "-r", "0",
                            "-c", "12", "127.0.0.1")
        for k in range(3):
            assert ints[2 * k] == round(truth.voltage_v[k] * 10)  # 0.1 V
            assert ints[12 + 2 * k] == round(truth.current_a[k] * 1000)  # mA
            assert ints[18 + 2 * k] == round(truth.phase_power_w[k] * 10)  # 0.1 W
        [energy] = (await mbpoll("-m", "tcp", "-p", str(port), "-a", "1", "-t", "3:int",
                                 "-r", "66", "-c", "1", "127.0.0.1")).values()
        assert energy == round(truth.energy_wh / 100)  # 0.1 kWh


async def test_a_taken_port_is_a_clear_error() -> None:
    async with tcp_emulator("sdm630") as (_, port):
        second = MeterEmulator.of(load_map("sdm630"), [1])
        with pytest.raises(EmulatorStartError, match=rf"cannot serve Modbus on tcp "
                                                      rf"127\.0\.0\.1:{port} \(in use"):
            await second.start_tcp("127.0.0.1", port)


async def _exchange(port: int, frame: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(frame)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(260), 0.5)
        except TimeoutError:
            return b""
    finally:
        writer.close()


async def test_malformed_requests_get_an_exception_or_nothing_and_the_meter_serves_on() -> None:
    async with tcp_emulator("sdm630") as (_, port):
        # MBAP header (transaction 7, protocol 0, length 6, unit 1) + FC4, 126 registers: too many
        too_many = await _exchange(port, struct.pack(">HHHBBHH", 7, 0, 6, 1, 4, 0, 126))
        transaction, _, _, unit, function, code = struct.unpack(">HHHBBB", too_many)
        assert (transaction, unit) == (7, 1)
        assert function & 0x80 and code in (1, 3)  # refused with an exception, not served
        assert await _exchange(port, b"\xff" * 40) == b""  # line noise: no answer
        reader = await MeterReader.tcp(load_map("sdm630"), "127.0.0.1", port)
        try:
            assert (await reader.read()).values["frequency"] > 0  # still serving
        finally:
            reader.close()
