"""The meter emulator: Modbus TCP and RTU servers (pymodbus) serving simulated meters through
register maps, several unit ids on one bus.

Each unit is a :class:`MeterImage`: the map's tables as register words, constants written once,
live quantities re-encoded whenever the simulation publishes a reading
(:meth:`MeterEmulator.publish`). Reads are answered from the image (a read touching any address
outside the map's spans gets exception 02, illegal data address); writes go through pymodbus'
``SimDevice`` store, which refuses read-only and unmapped registers, and its ``action`` hook
copies what was written into the image. On top of that the emulator answers as a real meter does
where pymodbus alone would not:

* a function the meter does not have (FC4 on an ABB, coils anywhere, writes to a read-only
  meter) gets exception 01 (illegal function);
* a unit id nobody emulates: on a serial bus, silence (no device answers); on TCP, exception
  0x0B (gateway target failed to respond), as a Modbus TCP gateway would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simcore import SimCore

from hil.codec import packer, raw_registers, step
from hil.quantities import quantities_of
from hil.registermap import READ_FC, Register, RegisterMap
from simulator.meters import MeterReading

log = logging.getLogger("chargeloop.hil.emulator")

WRITE_FCS = (6, 16)
READ_FCS = (3, 4)
_TABLE_OF_FC = {3: "holding", 6: "holding", 16: "holding", 4: "input"}


class EmulatorStartError(OSError):
    """The emulator could not listen: the TCP port is taken, the serial port missing, ..."""


class MeterImage:
    """One emulated meter: its tables as words, what it answers to, and its live values."""

    def __init__(self, regmap: RegisterMap, unit_id: int) -> None:
        if not 1 <= unit_id <= 247:
            raise ValueError(f"unit id {unit_id} is outside 1..247")
        self.map = regmap
        self.unit_id = unit_id
        self.words: dict[str, list[int]] = {}
        self.base: dict[str, int] = {}
        for name, spec in regmap.tables.items():
            lo = min(r[0] for r in spec.ranges)
            hi = max(r[1] for r in spec.ranges)
            self.base[name] = lo
            self.words[name] = [0] * (hi - lo + 1)
        scale_factors = {r.address: int(r.value) for r in regmap.registers
                         if r.type == "int16" and isinstance(r.value, int | float)}
        for register in regmap.registers:
            if register.value is not None:
                self._put(register, raw_registers(register, register.value))
        # what publish does per live register, worked out once: (quantity, table words,
        # offset, SI per raw count, packer)
        self._live = [
            (r.quantity or "", self.words[r.table], r.address - self.base[r.table],
             step(r, scale_factors.get(r.scale_register, 0) if r.scale_register else 0),
             packer(r.type, r.words, r.word_order))
            for r in regmap.live()]
        self.reading: MeterReading | None = None
        self.char_time_s = 0.0  # > 0: answers take as long as on a serial line
        self.publish(MeterReading(0.0, 0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0, 1.0))

    def _put(self, register: Register, words: list[int]) -> None:
        offset = register.address - self.base[register.table]
        self.words[register.table][offset:offset + len(words)] = words

    def publish(self, reading: MeterReading) -> None:
        """Make ``reading`` what the meter answers from now on."""
        values = quantities_of(reading, self.unit_id)
        for quantity, words, offset, per_count, pack in self._live:
            encoded = pack(values[quantity] / per_count)
            words[offset:offset + len(encoded)] = encoded
        self.reading = reading

    def functions(self) -> set[int]:
        """The Modbus function codes this meter answers."""
        codes: set[int] = set()
        for name, spec in self.map.tables.items():
            codes.add(READ_FC[name])
            if spec.shared_with_holding:
                codes.add(3)
            if spec.writable and name == "holding":
                codes.update(WRITE_FCS)
        return codes

    def table_for(self, function_code: int) -> str:
        table = _TABLE_OF_FC[function_code]
        if table not in self.words:  # shared: the one table answers FC3 and FC4
            table = next(iter(self.words))
        return table

    def device(self) -> SimDevice:
        """The pymodbus device: the map's spans as valid addresses, everything else invalid."""
        def blocks(table: str) -> list[SimData]:
            spec = self.map.tables[table]
            return [SimData(lo, count=hi - lo + 1, values=0, datatype=DataType.REGISTERS,
                            readonly=not spec.writable) for lo, hi in sorted(spec.ranges)]

        action = partial(_copy_action, self)
        if len(self.words) == 1 and next(iter(self.map.tables.values())).shared_with_holding:
            return SimDevice(self.unit_id, simdata=blocks(next(iter(self.words))), action=action)
        # pymodbus needs something in every block; functions we do not serve never get there
        bits = [SimData(0, values=False, datatype=DataType.BITS)]
        placeholder = [SimData(0, datatype=DataType.REGISTERS)]
        holding = blocks("holding") if "holding" in self.words else placeholder
        inputs = blocks("input") if "input" in self.words else placeholder
        return SimDevice(self.unit_id, simdata=(bits, list(bits), holding, inputs),
                         action=action)


async def _copy_action(image: MeterImage, function_code: int, start_address: int, address: int,
                       count: int, registers: list[int],
                       set_values: list[int] | list[bool] | None) -> ExcCodes | None:
    """pymodbus calls this on every access that passed its address checks."""
    table = image.table_for(function_code)
    words, base = image.words[table], image.base[table]
    offset = address - base
    if set_values is not None:  # a write (FC6/FC16 on a writable table): keep it
        words[offset:offset + len(set_values)] = [int(v) for v in set_values]
        return None
    runtime_offset = address - start_address
    registers[runtime_offset:runtime_offset + count] = words[offset:offset + count]
    if image.char_time_s:
        # request 8 bytes, answer 5 + 2 per register, a 3.5-character silence after each
        await asyncio.sleep((8 + 5 + 2 * count + 7) * image.char_time_s)
    return None


class _MeterBus:
    """pymodbus' device store (the ``SimCore`` the server built) plus what a real bus does with
    unknown ids and functions, and a fast path for reads."""

    def __init__(self, core: SimCore, images: dict[int, MeterImage]) -> None:
        self._core = core
        self._images = images
        self._functions = {unit: image.functions() for unit, image in images.items()}

    def device_ids(self) -> list[int]:
        return list(self._images)

    def _allowed(self, device_id: int, func_code: int) -> ExcCodes | None:
        functions = self._functions.get(device_id)
        if functions is None:
            raise NoSuchIdException(f"no meter with unit id {device_id}")
        return None if func_code in functions else ExcCodes.ILLEGAL_FUNCTION

    async def async_getValues(self, device_id: int, func_code: int, address: int,
                              count: int = 1) -> Any:
        if refused := self._allowed(device_id, func_code):
            return refused
        if func_code in READ_FCS:
            # The hot path: a read answered straight from the image. pymodbus' generic path
            # checks a flag per register in Python, which halves the reads a core can serve.
            image = self._images[device_id]
            table = image.table_for(func_code)
            if not image.map.tables[table].covers(address, address + count - 1):
                return ExcCodes.ILLEGAL_ADDRESS
            offset = address - image.base[table]
            if image.char_time_s:
                await asyncio.sleep((8 + 5 + 2 * count + 7) * image.char_time_s)
            return image.words[table][offset:offset + count]
        return await self._core.async_getValues(device_id, func_code, address, count)

    async def async_setValues(self, device_id: int, func_code: int, address: int,
                              values: Any) -> ExcCodes | None:
        if refused := self._allowed(device_id, func_code):
            return refused
        return await self._core.async_setValues(device_id, func_code, address, values)


@dataclass
class MeterEmulator:
    """Emulated meters on one Modbus endpoint. ``await start_tcp(...)`` or
    ``await start_serial(...)``, then :meth:`publish` readings, then :meth:`stop`."""

    meters: dict[int, MeterImage] = field(default_factory=dict)
    server: Any = None
    requests: int = 0

    @classmethod
    def of(cls, regmap: RegisterMap, unit_ids: Iterable[int] = (1,)) -> MeterEmulator:
        emulator = cls()
        for unit in unit_ids:
            emulator.add(regmap, unit)
        return emulator

    def add(self, regmap: RegisterMap, unit_id: int) -> MeterImage:
        if unit_id in self.meters:
            raise ValueError(f"unit id {unit_id} is already taken on this bus")
        if self.server is not None:
            raise RuntimeError("add meters before starting the emulator")
        self.meters[unit_id] = MeterImage(regmap, unit_id)
        return self.meters[unit_id]

    def publish(self, unit_id: int, reading: MeterReading) -> None:
        self.meters[unit_id].publish(reading)

    def _count(self, sending: bool, pdu: Any) -> Any:
        if not sending:
            self.requests += 1
        return pdu

    def _attach(self, server: Any) -> None:
        # The server builds pymodbus' store from the device list; ours wraps it with the checks
        # above (the server takes any object with these three methods as its context).
        server.context = _MeterBus(server.context, self.meters)
        self.server = server

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on ``host:port`` (0: a free port); returns the address actually bound."""
        if not self.meters:
            raise ValueError("no meters to emulate")
        server = ModbusTcpServer([m.device() for m in self.meters.values()],
                                 address=(host, port), framer=FramerType.SOCKET,
                                 trace_pdu=self._count)
        self._attach(server)
        await self._listen(server, f"tcp {host}:{port}")
        bound = server.transport.sockets[0].getsockname()
        log.info("meter emulator on tcp %s:%s, units %s", bound[0], bound[1],
                 sorted(self.meters))
        return bound[0], bound[1]

    async def start_serial(self, port: str, *, baud: int = 9600, parity: str = "N",
                           stopbits: int = 1, line_timing: bool = False) -> None:
        """Serve Modbus RTU on a serial device (or a pseudo-terminal).

        ``line_timing`` delays every answer by the time the exchange would take on a real line
        at ``baud`` (11 bits per character, plus the 3.5-character gap): pseudo-terminals ignore
        the baud rate and would otherwise answer far faster than any RS-485 meter.
        """
        if not self.meters:
            raise ValueError("no meters to emulate")
        if parity not in ("N", "E", "O"):
            raise ValueError(f"parity must be N, E or O, not {parity!r}")
        for image in self.meters.values():
            image.char_time_s = 11.0 / baud if line_timing else 0.0
        server = ModbusSerialServer([m.device() for m in self.meters.values()], port=port,
                                    framer=FramerType.RTU, baudrate=baud, parity=parity,
                                    stopbits=stopbits, ignore_missing_devices=True,
                                    trace_pdu=self._count)
        self._attach(server)
        await self._listen(server, f"serial port {port}")
        log.info("meter emulator on %s (%d Bd %s), units %s", port, baud, parity,
                 sorted(self.meters))

    async def _listen(self, server: Any, where: str) -> None:
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:  # pymodbus' way of saying the bind or open failed
            self.server = None
            raise EmulatorStartError(f"cannot serve Modbus on {where} (in use, missing, or no "
                                     "permission)") from exc

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()
            self.server = None
