"""Values to 16-bit registers and back, by a map's register type and word order.

Words are big-endian within themselves; ``CDAB`` maps put the low word first (the whole word
sequence reversed, as pymodbus' ``word_order="little"`` does). The packing is done with
precompiled ``struct`` formats rather than pymodbus' ``convert_to_registers``: an emulator
re-encodes every live register of every meter many times a second, and the generic converter
costs ten times as much. The tests check both agree. Integers are clamped to their type's range,
as a real meter saturates rather than wraps.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from functools import cache

from hil.registermap import Register

_FORMATS = {"uint16": "H", "int16": "h", "uint32": "I", "int32": "i", "uint64": "Q",
            "int64": "q", "float32": "f"}
_LIMITS = {"uint16": (0, 2**16 - 1), "int16": (-(2**15), 2**15 - 1), "uint32": (0, 2**32 - 1),
           "int32": (-(2**31), 2**31 - 1), "uint64": (0, 2**64 - 1),
           "int64": (-(2**63), 2**63 - 1)}

Packer = Callable[[float], list[int]]


@cache
def packer(kind: str, words: int, word_order: str) -> Packer:
    """A function from a raw (unscaled) number to ``words`` registers."""
    value = struct.Struct(">" + _FORMATS[kind])
    split = struct.Struct(f">{words}H")
    reverse = word_order == "CDAB" and words > 1
    if kind == "float32":
        def pack(raw: float) -> list[int]:
            out = list(split.unpack(value.pack(raw)))
            return out[::-1] if reverse else out
        return pack
    low, high = _LIMITS[kind]

    def pack_int(raw: float) -> list[int]:
        number = min(high, max(low, round(raw))) if math.isfinite(raw) else 0
        out = list(split.unpack(value.pack(number)))
        return out[::-1] if reverse else out
    return pack_int


def raw_registers(register: Register, raw: float | int | str) -> list[int]:
    """A raw (unscaled) value as ``register.words`` registers."""
    if register.type == "string":
        data = str(raw).encode("utf-8")[: register.words * 2]
        data = data.ljust(register.words * 2, b"\x00")
        return [int.from_bytes(data[k:k + 2], "big") for k in range(0, len(data), 2)]
    number = raw if isinstance(raw, int) else float(raw)  # big ints stay exact
    return packer(register.type, register.words, register.word_order)(number)


def step(register: Register, scale_factor: int = 0) -> float:
    """The SI value of one raw count."""
    return register.factor * (10.0 ** scale_factor)


def encode(register: Register, si_value: float, scale_factor: int = 0) -> list[int]:
    """An SI value (Wh, W, V, ...) as the meter holds it; ``scale_factor`` is the SunSpec SF of
    registers that have a ``scale_register``."""
    return raw_registers(register, si_value / step(register, scale_factor))


def decode_raw(register: Register, words: list[int]) -> float | str:
    data = b"".join(w.to_bytes(2, "big") for w in
                    (words[::-1] if register.word_order == "CDAB" and register.type != "string"
                     else words))
    if register.type == "string":
        return data.rstrip(b"\x00").decode("utf-8", "replace")
    return float(struct.unpack(">" + _FORMATS[register.type], data)[0])


def decode(register: Register, words: list[int], scale_factor: int = 0) -> float | str:
    """Registers as read from the meter to the SI value (or text, for strings)."""
    raw = decode_raw(register, words)
    if isinstance(raw, str):
        return raw
    return raw * step(register, scale_factor)
