"""``--reference``: the chargeloop reference CSMS as the system under test, started for the run.

It runs as ``chargeloop csms serve`` in a process of its own on a fresh SQLite file and a free
loopback port, exactly as a vendor's CSMS would be reached: over its WebSocket and its REST API,
nothing shared in memory. Before the cases run, the SUT file's stations and tokens are created
through that API, and the triggers use its command endpoint with the admin token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from conformance.catalogue import PROFILES
from conformance.sut import Sut, SutStation, TriggerSettings

HOST = "127.0.0.1"
STARTUP_LIMIT_S = 60.0
# Running costs (CostUpdated, TC_I_01) every half second, not every minute: the cases wait for it.
COST_UPDATE_INTERVAL_S = 0.5
# Optional features (conformance.sut.FEATURES) the reference CSMS has, claimed for it.
REFERENCE_FEATURES = frozenset({"tx_default_profile_all_evses", "unlock_connector",
                                "trigger_message", "reserve_unspecified_evse",
                                "reserve_connector_type", "get_transaction_status"})
# The tariff in force at the SUT's first station (block I: running and final costs).
TARIFF = {"id": "conformance", "name": "Conformance tariff", "currency": "EUR",
          "energy_price_per_kwh": "0.40", "session_fee": "1.00"}


class ReferenceCsmsError(RuntimeError):
    pass


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
def reference_csms(sut: Sut, workdir: Path | None = None) -> Iterator[Sut]:
    """Start the reference CSMS, provision ``sut``'s stations and tokens, and yield ``sut``
    pointed at it (URL and reference triggers)."""
    with contextlib.ExitStack() as stack:
        folder = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="chargeloop-conformance-")))
        port = free_port()
        token_file = folder / "admin.token"
        log_path = folder / "csms.log"
        command = [*chargeloop_command(), "csms", "serve", "--port", str(port),
                   "--database", f"sqlite+aiosqlite:///{folder / 'csms.db'}",
                   "--admin-token-file", str(token_file),
                   "--cost-update-interval", str(COST_UPDATE_INTERVAL_S)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       cwd=folder, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            api = f"http://{HOST}:{port}"
            _wait_ready(process, api, token_file, log_path)
            headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
            sut = _with_boot_stations(_with_password(sut))
            _provision(sut, api, headers)
            # It implements every profile the suite covers: claim them all, so a plain
            # `--reference` run runs every case.
            yield replace(sut, url=f"ws://{HOST}:{port}/ocpp", triggers=TriggerSettings(
                kind="reference", base_url=api, headers=headers),
                features=sut.features | REFERENCE_FEATURES,
                profiles=tuple(PROFILES[sut.version].values()))
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
        try:
            if httpx.get(f"{api}/api/health", timeout=2).status_code == 200 \
                    and token_file.exists():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise ReferenceCsmsError(f"the reference CSMS did not answer within {STARTUP_LIMIT_S:.0f} s:"
                             f"\n{log_path.read_text(errors='replace')[-4000:]}")


def _with_password(sut: Sut) -> Sut:
    """The first station gets a Basic auth password when the SUT file gives none, so the
    security profile 1 cases run against the reference CSMS too."""
    first = sut.stations[0]
    if first.password is not None:
        return sut
    password = secrets.token_urlsafe(18)[:24]
    return replace(sut, stations=(replace(first, password=password), *sut.stations[1:]))


def _with_boot_stations(sut: Sut) -> Sut:
    """A station the reference CSMS answers Pending and one it answers Rejected (registration
    status), for TC_B_30/B_31, unless the SUT file names its own."""
    return replace(sut, pending_station=sut.pending_station or SutStation("CONF-CS-PENDING"),
                   rejected_station=sut.rejected_station or SutStation("CONF-CS-REJECTED"))


def _provision(sut: Sut, api: str, headers: dict[str, str]) -> None:
    """The stations (with passwords) and tokens the cases expect the CSMS to know."""
    tokens = sut.tokens
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with httpx.Client(base_url=api, headers=headers, timeout=30) as client:
        for station in sut.stations:
            body: dict[str, object] = {"id": station.id}
            if station.password:
                body.update(password=station.password, security_profile=1)
            _ok(client.post("/api/stations", json=body), f"register station {station.id}")
        for held, registration in ((sut.pending_station, "Pending"),
                                   (sut.rejected_station, "Rejected")):
            if held is not None:
                body = {"id": held.id, "registration": registration}
                if held.password:
                    body.update(password=held.password, security_profile=1)
                _ok(client.post("/api/stations", json=body), f"register station {held.id}")
        for token, values in (
                (tokens.valid, {"group_id": tokens.group_id}),
                (tokens.valid_2, {"group_id": tokens.group_id}),
                (tokens.blocked, {"status": "Blocked"}),
                (tokens.expired, {"status": "Accepted", "expiry": past})):
            _ok(client.put(f"/api/tokens/{token}", json=values), f"create token {token}")
        _ok(client.post("/api/tariffs", json=TARIFF), "create the tariff")
        _ok(client.post(f"/api/tariffs/{TARIFF['id']}/assignments",
                        json={"station_id": sut.stations[0].id}),
            f"assign the tariff to {sut.stations[0].id}")


def _ok(response: httpx.Response, what: str) -> None:
    if not response.is_success:
        raise ReferenceCsmsError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
