"""Debian's mbpoll as an independent Modbus client: run it once, parse what it printed."""

from __future__ import annotations

import asyncio
import re
import subprocess

from tests.hil.conftest import WAIT_S, mbpoll_path

_LINE = re.compile(r"^\[(\d+)\]:\s+(-?[0-9.eE+-]+|nan|-?inf)\s*$")


class MbpollFailed(AssertionError):
    pass


async def mbpoll(*args: str) -> dict[int, float]:
    """``mbpoll -1 -0 <args>``: one poll with PDU (0-based) addresses; ``{address: value}``."""
    process = await asyncio.create_subprocess_exec(
        mbpoll_path(), "-1", "-0", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), WAIT_S)
    text = out.decode()
    if process.returncode != 0:
        raise MbpollFailed(f"mbpoll {' '.join(args)} failed ({process.returncode}): "
                           f"{text.splitlines()[-1:] + err.decode().splitlines()[-1:]}")
    values = {}
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            values[int(match.group(1))] = float(match.group(2))
    return values
