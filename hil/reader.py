"""The meter reader: polls a real (or emulated) meter over Modbus TCP or RTU by the same register
maps the emulator serves, and turns the registers into SI quantities and a
:class:`~simulator.meters.MeterReading`.

Reads are planned once per map: the live registers (and the SunSpec scale factors they need) are
grouped into as few bulk reads as the map's spans allow (at most 125 registers each, the Modbus
limit). For a SunSpec map the model chain is walked first, from the 'SunS' marker, so a device
whose common model is one register shorter (L = 65, which happens) is still read right.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from hil.codec import decode, decode_raw
from hil.quantities import reading_of
from hil.registermap import READ_FC, Register, RegisterMap
from simulator.meters import MeterReading

log = logging.getLogger("chargeloop.hil.reader")

MAX_READ = 125  # registers per read (Modbus application protocol, FC3/FC4)
SUNS = (0x5375, 0x6E53)
MAX_MODELS = 64  # a SunSpec chain longer than this is broken, not long
EXCEPTION_NAMES = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
                   4: "server device failure", 6: "server device busy",
                   10: "gateway path unavailable", 11: "gateway target failed to respond"}


class MeterReadError(RuntimeError):
    """A read that failed: an exception answer, a timeout or a broken SunSpec chain."""


@dataclass(frozen=True, slots=True)
class ReadSpan:
    table: str
    address: int
    count: int


@dataclass
class Measurement:
    """One poll: SI quantities, the reading made of them, and how long the poll took."""

    values: dict[str, float]
    reading: MeterReading
    wall_time: float
    latency_ms: float


def plan_reads(registers: list[Register], regmap: RegisterMap, shift: int = 0) -> list[ReadSpan]:
    """Bulk reads covering ``registers`` (and their scale factors), never crossing the end of a
    span the map declares, at most :data:`MAX_READ` registers each."""
    wanted: dict[str, list[tuple[int, int]]] = {}
    for r in registers:
        wanted.setdefault(r.table, []).append((r.address + shift, r.end + shift))
        if r.scale_register is not None:
            wanted[r.table].append((r.scale_register + shift, r.scale_register + shift))
    spans: list[ReadSpan] = []
    for table, pieces in wanted.items():
        pieces.sort()
        ranges = sorted((lo + shift, hi + shift) for lo, hi in regmap.tables[table].ranges)
        current: list[int] | None = None  # [start, end, range end]
        for lo, hi in pieces:
            range_end = next((r_hi for r_lo, r_hi in ranges if r_lo <= lo <= r_hi), hi)
            if current and hi <= current[2] and hi - current[0] + 1 <= MAX_READ:
                current[1] = max(current[1], hi)
                continue
            if current:
                spans.append(ReadSpan(table, current[0], current[1] - current[0] + 1))
            current = [lo, hi, range_end]
        if current:
            spans.append(ReadSpan(table, current[0], current[1] - current[0] + 1))
    return spans


@dataclass
class MeterReader:
    """Reads one meter (``unit_id``) through ``client`` (a connected pymodbus async client)."""

    regmap: RegisterMap
    client: Any
    unit_id: int = 1
    shift: int | None = None  # SunSpec: where model 203 really is, relative to the map
    spans: list[ReadSpan] = field(default_factory=list)  # the bulk reads, planned on first use
    measurements: list[Measurement] = field(default_factory=list)
    keep: bool = True  # keep every measurement (a run records them)

    @classmethod
    async def tcp(cls, regmap: RegisterMap, host: str, port: int, unit_id: int = 1, *,
                  timeout_s: float = 1.0) -> MeterReader:
        client = AsyncModbusTcpClient(host, port=port, timeout=timeout_s, retries=0)
        if not await client.connect():
            raise MeterReadError(f"cannot connect to the meter at {host}:{port}")
        return cls(regmap, client, unit_id)

    @classmethod
    async def serial(cls, regmap: RegisterMap, port: str, unit_id: int | None = None, *,
                     baud: int | None = None, parity: str | None = None,
                     stopbits: int | None = None, timeout_s: float = 1.0) -> MeterReader:
        """RTU on ``port``; line settings default to the map's (the meter's factory ones)."""
        defaults = regmap.serial
        client = AsyncModbusSerialClient(
            port, framer=FramerType.RTU, baudrate=baud or defaults.baud,
            parity=parity or defaults.parity, stopbits=stopbits or defaults.stopbits,
            timeout=timeout_s, retries=0)
        if not await client.connect():
            raise MeterReadError(f"cannot open the serial port {port}")
        return cls(regmap, client, unit_id or defaults.unit)

    async def read_words(self, table: str, address: int, count: int) -> list[int]:
        fc = READ_FC[table]
        call = self.client.read_holding_registers if fc == 3 else self.client.read_input_registers
        try:
            answer = await call(address, count=count, device_id=self.unit_id)
        except ModbusException as exc:
            raise MeterReadError(f"unit {self.unit_id}: reading {count} {table} registers at "
                                 f"{address} ({address:#06x}) failed: {exc}") from exc
        if answer.isError():
            code = getattr(answer, "exception_code", 0)
            raise MeterReadError(
                f"unit {self.unit_id}: reading {count} {table} registers at {address} "
                f"({address:#06x}) got exception {code:#04x} "
                f"({EXCEPTION_NAMES.get(code, 'unknown')})")
        return list(answer.registers)

    async def discover(self) -> int:
        """Walk a SunSpec chain to the map's model; returns (and keeps) the address shift."""
        chain = self.regmap.sunspec
        if chain is None:
            self.shift = 0
            return 0
        marker = await self.read_words("holding", chain.base, 2)
        if tuple(marker) != SUNS:
            raise MeterReadError(f"no SunSpec marker 'SunS' at {chain.base} (got "
                                 f"{marker[0]:#06x} {marker[1]:#06x})")
        address = chain.base + 2
        for _ in range(MAX_MODELS):
            model_id, length = await self.read_words("holding", address, 2)
            if model_id == 0xFFFF:
                break
            if model_id == chain.model:
                self.shift = address - chain.model_address
                return self.shift
            address += 2 + length
        raise MeterReadError(f"SunSpec model {chain.model} not found in the chain from "
                             f"{chain.base}")

    async def read(self) -> Measurement:
        """One poll of every live quantity of the map."""
        started = time.perf_counter()
        if self.shift is None:
            await self.discover()
        shift = self.shift or 0
        # measurements only: the unit id a meter keeps as a setting is not one
        live = [r for r in self.regmap.live() if r.quantity != "unit_id"]
        if self.regmap.sunspec is not None:  # measurements live in the model the chain led to
            live = [r for r in live if r.address >= self.regmap.sunspec.model_address]
        if not self.spans:
            self.spans = plan_reads(live, self.regmap, shift)
        words: dict[tuple[str, int], int] = {}
        for span in self.spans:
            for k, word in enumerate(await self.read_words(span.table, span.address,
                                                           span.count)):
                words[(span.table, span.address + k)] = word
        values: dict[str, float] = {}
        for register in live:
            at = register.address + shift
            regs = [words[(register.table, at + k)] for k in range(register.words)]
            sf = 0
            if register.scale_register is not None:
                sf_word = words[(register.table, register.scale_register + shift)]
                sf = int(decode_raw(_INT16, [sf_word]))
                if sf_word == 0x8000:  # SunSpec "not implemented"
                    continue
            value = decode(register, regs, sf)
            if isinstance(value, float) and register.quantity not in values:
                values[register.quantity or ""] = value
        measurement = Measurement(values, reading_of(values), time.time(),
                                  (time.perf_counter() - started) * 1000.0)
        if self.keep:
            self.measurements.append(measurement)
        return measurement

    def close(self) -> None:
        self.client.close()


_INT16 = Register("holding", 0, "int16", 1, "ABCD", "1", 1.0, None, None, "sf", None)
