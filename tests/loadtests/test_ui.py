"""``chargeloop load ui``: locust's web UI with chargeloop's stations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtests.reference import ReferenceCsms, free_port, provision_tokens
from loadtests.settings import station_identity

pytestmark = pytest.mark.slow

DEADLINE_S = 30.0


def _poll(check: Any, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.2)  # polling the UI's HTTP API, bounded by the deadline
    raise AssertionError(f"timed out waiting for {what}")


def test_the_web_ui_starts_stations_on_request(csms: ReferenceCsms, tmp_path: Path) -> None:
    provision_tokens(csms, [station_identity("UI", 0, n) for n in (1, 2)])
    port = free_port()
    command = [sys.executable, "-c", "from chargeloop.cli_load import app; app()", "ui",
               "--url", csms.ocpp_url, "--web-port", str(port), "--station-prefix", "UI",
               "--mix", "heartbeat-1.6=1,heartbeat-2.0.1=1"]
    log = (tmp_path / "ui.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        page = _poll(lambda: httpx.get(base + "/", timeout=2), "the web UI")
        assert page.status_code == 200 and "locust" in page.text.lower()
        # What the UI's start button posts: two stations, both at once.
        started = httpx.post(base + "/swarm", data={"user_count": 2, "spawn_rate": 2,
                                                    "host": csms.ocpp_url}, timeout=10)
        assert started.json()["success"] is True

        def connected() -> bool:
            stats = httpx.get(base + "/stats/requests", timeout=2).json()
            rows = {(s["method"], s["name"]): s for s in stats["stats"]}
            boots = sum(rows.get((v, "BootNotification"), {}).get("num_requests", 0)
                        for v in ("ocpp1.6", "ocpp2.0.1"))
            return rows.get(("WS", "connect"), {}).get("num_requests") == 2 and boots == 2

        _poll(connected, "two stations to connect and boot")
        with httpx.Client(base_url=csms.api_url, headers=csms.headers) as api:
            versions = {api.get(f"/api/stations/UI-0-{n}").json()["ocpp_version"]
                        for n in (1, 2)}
        assert versions == {"ocpp1.6", "ocpp2.0.1"}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    assert process.returncode in (0, 1)
