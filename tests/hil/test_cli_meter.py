"""``chargeloop hil meter`` in its own process, read by mbpoll while it serves; bad arguments
get a clear error and status 2."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chargeloop.cli_hil import app
from chargeloop.runs import RunFolder
from tests.hil.conftest import WAIT_S
from tests.hil.mbpoll import mbpoll

LAUNCH = "from chargeloop.cli_hil import app; app()"


@pytest.mark.slow
async def test_meter_command_serves_live_values(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LAUNCH, "meter", "--map", "sdm630", "--tcp", "127.0.0.1:0",
        "--power-w", "36000", "--start-wh", "1000", "--duration-s", "3",
        "--runs-dir", str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"})
    try:
        assert process.stdout is not None
        port = None
        async with asyncio.timeout(WAIT_S):
            while port is None:
                line = (await process.stdout.readline()).decode()
                assert line, "the meter command ended before it served"
                if found := re.search(r"Modbus TCP 127\.0\.0\.1:(\d+)", line):
                    port = int(found.group(1))
        common = ("-m", "tcp", "-p", str(port), "-a", "1", "-t", "3:float", "-B")
        [power] = (await mbpoll(*common, "-r", "52", "-c", "1", "127.0.0.1")).values()
        assert power == 36_000.0
        # 36 kW is 10 Wh a second: the register moves while it is served
        [first] = (await mbpoll(*common, "-r", "72", "-c", "1", "127.0.0.1")).values()
        async with asyncio.timeout(WAIT_S):
            while True:
                [later] = (await mbpoll(*common, "-r", "72", "-c", "1", "127.0.0.1")).values()
                if later > first:
                    break
        assert 1.0 <= first < later <= 1.0 + 0.01 * 4
        _, err = await asyncio.wait_for(process.communicate(), WAIT_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    [path] = tmp_path.iterdir()
    summary = RunFolder.open(path).summary()
    assert summary["requests"] >= 3 and summary["lateness"]["steps"] >= 2


def test_meter_command_rejects_bad_arguments() -> None:
    runner = CliRunner()
    both = runner.invoke(app, ["meter", "--map", "sdm630", "--tcp", "127.0.0.1:5020",
                               "--serial", "/dev/null"])
    assert both.exit_code == 2 and "give exactly one of --tcp" in both.output
    bad_address = runner.invoke(app, ["meter", "--map", "sdm630", "--tcp", "localhost"])
    assert bad_address.exit_code == 2 and "is not host:port" in bad_address.output
    bad_map = runner.invoke(app, ["meter", "--map", "sdm603", "--tcp", "127.0.0.1:0"])
    assert bad_map.exit_code == 2 and 'did you mean "sdm630"' in bad_map.output
    bad_unit = runner.invoke(app, ["meter", "--map", "sdm630", "--tcp", "127.0.0.1:0",
                                   "--unit", "300"])
    assert bad_unit.exit_code == 2 and "within 1..247" in bad_unit.output
