"""The reference CSMS in a process of its own.

``chargeloop csms serve`` on a free loopback port, reached only over its WebSocket and REST API,
as a vendor's CSMS would be. The conformance suites' and the load tests' ``--reference``, the
benchmarks and the durability tests (which kill it mid-session) all start it this way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

HOST = "127.0.0.1"
STARTUP_LIMIT_S = 60.0  # a cold start migrates the database first


class CsmsProcessError(RuntimeError):
    """The CSMS process exited, or did not answer in time (the message ends with its log)."""


def chargeloop_command() -> list[str]:
    """The ``chargeloop`` entry point of this environment."""
    script = Path(sys.executable).with_name("chargeloop")
    if script.exists():
        return [str(script)]
    found = shutil.which("chargeloop")
    return [found] if found else [sys.executable, "-c", "from chargeloop.cli import app; app()"]


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class CsmsProcess:
    """``chargeloop csms serve`` with its files in ``folder``: the SQLite database (unless
    ``database`` names another), the admin token, and one log per start. ``extra`` are more
    ``serve`` options; with ``--tls-cert`` among them the API is reached over https at
    ``api_host`` (a name the server certificate carries)."""

    def __init__(self, folder: Path, *extra: str, database: str | None = None,
                 port: int | None = None, api_host: str = HOST) -> None:
        self.folder = folder.resolve()  # the CSMS runs in it: relative paths would move
        self.folder.mkdir(parents=True, exist_ok=True)
        self.extra = extra
        self.database = database or f"sqlite+aiosqlite:///{self.folder / 'csms.db'}"
        self.port = port or free_port()
        self.tls = "--tls-cert" in extra
        host = api_host if self.tls else HOST
        self.api_url = f"{'https' if self.tls else 'http'}://{host}:{self.port}"
        self.ocpp_url = f"{'wss' if self.tls else 'ws'}://{host}:{self.port}/ocpp"
        self.token_file = self.folder / "admin.token"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.folder / f"csms-{self.starts}.log"

    def launch(self) -> None:
        """Start the process without waiting for it (:meth:`wait_ready` does)."""
        self.starts += 1
        command = [*chargeloop_command(), "csms", "serve", "--port", str(self.port),
                   "--database", self.database, "--admin-token-file", str(self.token_file),
                   *self.extra]
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                            cwd=self.folder,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def start(self, verify: ssl.SSLContext | bool = True) -> None:
        self.launch()
        self.wait_ready(verify)

    def wait_ready(self, verify: ssl.SSLContext | bool = True) -> None:
        """Until the API answers and the admin token is written (bounded)."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CsmsProcessError(f"the reference CSMS exited with "
                                       f"{self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.api_url}/api/health", timeout=2,
                             verify=verify).status_code == 200 and self.token_file.exists():
                    return
            time.sleep(0.05)  # polling a starting process, bounded by the deadline
        self.stop()
        raise CsmsProcessError(f"the reference CSMS did not answer within "
                               f"{STARTUP_LIMIT_S:.0f} s:\n{self.output()}")

    @property
    def admin_token(self) -> str:
        return self.token_file.read_text().strip()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; only what was committed survives."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@contextlib.contextmanager
def csms_process(folder: Path, *extra: str, **options: object) -> Iterator[CsmsProcess]:
    """A started :class:`CsmsProcess`, stopped on leaving."""
    process = CsmsProcess(folder, *extra, **options)  # type: ignore[arg-type]
    try:
        process.start()
        yield process
    finally:
        process.stop()
