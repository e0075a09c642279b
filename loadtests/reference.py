"""``--reference``: the chargeloop reference CSMS started for a load test.

It runs as ``chargeloop csms serve`` in a process of its own, on a SQLite file in the run
folder and a free loopback port, exactly as ``conformance/reference.py`` starts it: reached
only over its WebSocket and REST API. The stations' id tokens (their ids, see
:func:`loadtests.settings.station_identity`) are created through the API before the load starts,
so sessions are authorised as they would be at a CSMS that knows its cards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
STARTUP_LIMIT_S = 60.0
PROVISIONING_THREADS = 8


class ReferenceCsmsError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class ReferenceCsms:
    ocpp_url: str
    api_url: str
    admin_token: str
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def chargeloop_command() -> list[str]:
    """The ``chargeloop`` entry point of this environment."""
    script = Path(sys.executable).with_name("chargeloop")
    if script.exists():
        return [str(script)]
    found = shutil.which("chargeloop")
    return [found] if found else [sys.executable, "-c", "from chargeloop.cli import app; app()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def reference_csms(folder: Path, *, heartbeat_interval_s: int = 300) -> Iterator[ReferenceCsms]:
    """Start the reference CSMS with its files in ``folder``; stop it on leaving."""
    folder = folder.resolve()  # the CSMS runs in that folder: relative paths would move
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token_file = folder / "csms-admin.token"
    log_path = folder / "csms.log"
    command = [*chargeloop_command(), "csms", "serve", "--port", str(port),
               "--database", f"sqlite+aiosqlite:///{folder / 'csms.db'}",
               "--admin-token-file", str(token_file), "--upload-dir", str(folder / "uploads"),
               "--heartbeat-interval", str(heartbeat_interval_s)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        api = f"http://{HOST}:{port}"
        _wait_ready(process, api, token_file, log_path)
        yield ReferenceCsms(f"ws://{HOST}:{port}/ocpp", api, token_file.read_text().strip(),
                            log_path)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_ready(process: subprocess.Popen[bytes], api: str, token_file: Path,
                log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ReferenceCsmsError(f"the reference CSMS exited with {process.returncode}:\n"
                                     f"{log_path.read_text(errors='replace')[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api}/api/health", timeout=2).status_code == 200 \
                    and token_file.exists():
                return
        time.sleep(0.05)  # polling a starting process, bounded by the deadline
    raise ReferenceCsmsError(f"the reference CSMS did not answer within {STARTUP_LIMIT_S:.0f} s:"
                             f"\n{log_path.read_text(errors='replace')[-4000:]}")


def provision_tokens(csms: ReferenceCsms, tokens: list[str],
                     progress: Callable[[int], None] | None = None) -> None:
    """Create ``tokens`` as Accepted ISO14443 cards (PUT is idempotent: reruns are fine)."""
    with httpx.Client(base_url=csms.api_url, headers=csms.headers, timeout=30) as client:
        def put(token: str) -> None:
            response = client.put(f"/api/tokens/{token}", json={"type": "ISO14443"})
            if not response.is_success:
                raise ReferenceCsmsError(f"create token {token}: HTTP {response.status_code} "
                                         f"{response.text[:300]}")
            if progress is not None:
                progress(1)

        with ThreadPoolExecutor(PROVISIONING_THREADS) as pool:
            list(pool.map(put, tokens))
