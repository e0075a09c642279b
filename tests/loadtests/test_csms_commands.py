"""Load-test stations answer what the CSMS sends, the way stations do, while under load.

A real locust process runs one 1.6 and one 2.0.1 station against the reference CSMS; the test
commands them through the CSMS's REST API (remote start and stop, configuration, trigger,
reset) and checks both the answers and what the stations then did, as the CSMS recorded it
and as locust counted it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loadtests.reference import ReferenceCsms
from tests.loadtests.conftest import api, by_action, headless

pytestmark = pytest.mark.slow

DEADLINE_S = 20.0


def wait_until(check: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)  # polling the CSMS's API, bounded by the deadline
    raise AssertionError(f"timed out waiting for {what}")


def test_stations_obey_remote_commands_under_load(csms: ReferenceCsms, tmp_path: Path) -> None:
    result: dict[str, Any] = {}
    run = threading.Thread(target=lambda: result.update(summary=headless(
        csms, tmp_path, prefix="CMD", stations=2, duration_s=11, arrive_within_s=1)))
    run.start()
    with api(csms) as client:
        def connected() -> dict[str, dict[str, Any]] | None:
            views = [client.get(f"/api/stations/CMD-0-{n}") for n in (1, 2)]
            ready = [v.json() for v in views if v.status_code == 200 and v.json()["connected"]]
            return {v["ocpp_version"]: v for v in ready} if len(ready) == 2 else None

        stations = wait_until(connected, "both stations to connect")
        v16, v201 = stations["ocpp1.6"]["id"], stations["ocpp2.0.1"]["id"]

        def command(station: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
            response = client.post(f"/api/stations/{station}/ocpp/{action}", json=payload)
            assert response.status_code == 200, response.text
            return response.json()["response"]

        def transaction(station: str, state: str) -> dict[str, Any] | None:
            page = client.get(f"/api/stations/{station}/transactions",
                              params={"state": state}).json()
            return page["items"][0] if page["items"] else None

        # Remote start and stop, both versions: the station starts a transaction with the
        # token it was given and stops that one.
        assert command(v16, "RemoteStartTransaction",
                       {"connectorId": 1, "idTag": v16}) == {"status": "Accepted"}
        assert command(v201, "RequestStartTransaction", {
            "evseId": 1, "remoteStartId": 77,
            "idToken": {"idToken": v201, "type": "ISO14443"}})["status"] == "Accepted"
        started_16 = wait_until(lambda: transaction(v16, "Active"), "the 1.6 transaction")
        started_201 = wait_until(lambda: transaction(v201, "Active"), "the 2.0.1 transaction")
        assert started_16["id_token"] == v16 and started_201["id_token"] == v201
        assert command(v16, "RemoteStopTransaction", {
            "transactionId": int(started_16["transaction_id"])}) == {"status": "Accepted"}
        assert command(v201, "RequestStopTransaction", {
            "transactionId": started_201["transaction_id"]}) == {"status": "Accepted"}
        for station in (v16, v201):
            wait_until(lambda s=station: transaction(s, "Completed"), f"{station} to stop")

        # Configuration, both versions.
        assert command(v16, "ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                    "value": "30"}) == {"status": "Accepted"}
        keys = command(v16, "GetConfiguration", {"key": ["MeterValueSampleInterval"]})
        assert keys["configurationKey"][0]["value"] == "30"
        variables = command(v201, "GetVariables", {"getVariableData": [{
            "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})
        assert variables["getVariableResult"][0]["attributeStatus"] == "Accepted"

        # A triggered heartbeat and a reset (the station reboots: a second boot).
        assert command(v201, "TriggerMessage", {"requestedMessage": "Heartbeat"}) == \
            {"status": "Accepted"}
        first_boot = stations["ocpp1.6"]["last_boot"]
        assert command(v16, "Reset", {"type": "Soft"}) == {"status": "Accepted"}
        wait_until(lambda: client.get(f"/api/stations/{v16}").json()["last_boot"] != first_boot,
                   "the 1.6 station to boot again")
    run.join(60)
    assert not run.is_alive()
    summary = result["summary"]
    rows = by_action(summary)
    assert rows[("ocpp1.6", "StartTransaction")]["requests"] == 1
    assert rows[("ocpp1.6", "StopTransaction")]["requests"] == 1
    assert rows[("ocpp2.0.1", "TransactionEvent")]["requests"] >= 2  # Started, Ended
    assert rows[("ocpp2.0.1", "Heartbeat")]["requests"] >= 1  # the triggered one
    assert rows[("ocpp1.6", "BootNotification")]["requests"] == 2  # power-up and reset
    assert rows[("WS", "connect")]["requests"] == 3  # two stations, one reconnect after reset
    assert summary["failures"] == []
