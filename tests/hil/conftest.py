"""Fixtures for the HIL tests: serial pseudo-terminal pairs (socat) and the mbpoll client."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

WAIT_S = 10.0  # bound for anything awaited in wall time


@dataclass(frozen=True)
class PtyPair:
    """Two ends of a null-modem cable made of pseudo-terminals: what one writes the other
    reads."""

    a: str
    b: str


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    socat = shutil.which("socat")
    if socat is None:
        missing_tool("socat")
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    process = subprocess.Popen([socat, f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + WAIT_S
        while not (a.exists() and b.exists()):  # socat creates the links once both ptys exist
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"socat did not make the pty pair: {process.stderr.read()!r}")
            time.sleep(0.01)
        yield PtyPair(str(a), str(b))
    finally:
        process.terminate()
        process.wait(WAIT_S)


def missing_tool(name: str) -> NoReturn:
    """Skip, with the reason shown, where a Debian tool is not installed (a plain ``pytest`` on a
    fresh machine); fail in CI, whose .ci/run installs it, so a broken install cannot hide."""
    reason = f"{name} is missing: apt-get install {name} (.ci/run does)"
    if os.environ.get("CHARGELOOP_CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def mbpoll_path() -> str:
    path = shutil.which("mbpoll")
    if path is None:
        missing_tool("mbpoll")
    return path
