"""Logs and diagnostics over real websockets, with the upload endpoint: 1.6 GetDiagnostics /
DiagnosticsStatusNotification (TC_045), 1.6 GetLog / LogStatusNotification (TC_079), 2.0.1
GetLog / LogStatusNotification (TC_N_25, TC_N_34, TC_N_35)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.events import Event
from csms.server import RunningCsms, running_csms
from tests.csms.conftest import make_config
from tests.csms.support import boot, connected_station, stamp

V16, V201 = OcppVersion.V16, OcppVersion.V201
UPLOAD_LIMIT = 64 * 1024


@pytest.fixture
async def csms(database_url: str, tmp_path: Path) -> AsyncIterator[RunningCsms]:
    """The CSMS with its upload folder in the test's temporary directory."""
    async with running_csms(make_config(database_url, tmp_path, upload_dir=tmp_path / "uploads",
                                        upload_max_bytes=UPLOAD_LIMIT)) as running:
        yield running


def capture(csms: RunningCsms, kind: str) -> list[Event]:
    seen: list[Event] = []
    csms.core.events.listen(lambda event: seen.append(event) if event.kind == kind else None)
    return seen


async def test_ocpp16_get_diagnostics_uploads_to_the_csms(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_045_1_CSMS: GetDiagnostics with the CSMS's own upload location, the upload, and
    Uploading / Uploaded; a retried upload replaces the file."""
    sent: list[dict[str, Any]] = []

    async def get_diagnostics(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {"fileName": "diagnostics-CS-DIAG.zip"}

    published = capture(csms, "station.log")
    async with connected_station(csms, "CS-DIAG", V16,
                                 routes={"GetDiagnostics": get_diagnostics}) as station:
        await boot(station)
        answer = await api.post("/api/stations/CS-DIAG/logs", json={
            "from": stamp(-86_400), "to": stamp(), "retries": 1})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["action"] == "GetDiagnostics" and result["status"] == "Accepted"
        assert result["filename"] == "diagnostics-CS-DIAG.zip"
        request_id = result["request_id"]
        location = sent[0]["location"]
        assert location == result["location"]
        assert location.startswith(csms.api_url + "/uploads/")
        assert sent[0]["startTime"] and sent[0]["stopTime"] and sent[0]["retries"] == 1
        await station.call("DiagnosticsStatusNotification", {"status": "Uploading"})
        async with httpx.AsyncClient() as uploader:  # the station, without an API token
            first = await uploader.put(location + "/diagnostics-CS-DIAG.zip",
                                       content=b"first attempt")
            assert first.status_code == 201, first.text
            retry = await uploader.put(location + "/diagnostics-CS-DIAG.zip",
                                       content=b"PK\x03\x04 diagnostics")
            assert retry.status_code == 200
            assert (await uploader.put(csms.api_url + "/uploads/not-a-token",
                                       content=b"x")).status_code == 404
        await station.call("DiagnosticsStatusNotification", {"status": "Uploaded"})
        await station.call("DiagnosticsStatusNotification", {"status": "Uploaded"})  # retried

    overview = (await api.get("/api/stations/CS-DIAG/logs")).json()
    assert overview["diagnostics_status"] == "Uploaded"
    assert overview["requests"][0]["request_id"] == request_id
    detail = (await api.get(f"/api/stations/CS-DIAG/logs/{request_id}")).json()
    assert detail["action"] == "GetDiagnostics" and detail["status"] == "Uploaded"
    assert detail["filename"] == "diagnostics-CS-DIAG.zip"
    assert [h["status"] for h in detail["history"]] == ["Uploading", "Uploaded"]
    [upload] = detail["uploads"]
    assert upload["filename"] == "diagnostics-CS-DIAG.zip"
    assert upload["size_bytes"] == len(b"PK\x03\x04 diagnostics")
    assert upload["purpose"] == "Diagnostics"
    content = await api.get(f"/api/uploads/{upload['id']}/content")
    assert content.status_code == 200 and content.content == b"PK\x03\x04 diagnostics"
    listed = (await api.get("/api/stations/CS-DIAG/uploads")).json()
    assert listed["total"] == 1 and listed["items"][0]["sha256"] == upload["sha256"]
    assert [(e.data["status"], e.data["request_id"]) for e in published] == [
        ("Uploading", request_id), ("Uploaded", request_id)]


async def test_ocpp16_get_security_log_multipart_upload(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_079_CSMS: GetLog SecurityLog with a requestId, LogStatusNotification with it, and a
    multipart/form-data upload."""
    sent: list[dict[str, Any]] = []

    async def get_log(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {"status": "Accepted", "filename": "security.log"}

    async with connected_station(csms, "CS-SEC16", V16, routes={"GetLog": get_log}) as station:
        await boot(station)
        result = (await api.post("/api/stations/CS-SEC16/logs", json={
            "type": "SecurityLog", "from": stamp(-3600)})).json()
        assert result["action"] == "GetLog" and result["status"] == "Accepted"
        request_id = result["request_id"]
        assert sent[0]["logType"] == "SecurityLog" and sent[0]["requestId"] == request_id
        assert sent[0]["log"]["oldestTimestamp"]
        location = sent[0]["log"]["remoteLocation"]
        await station.call("LogStatusNotification", {"status": "Uploading",
                                                     "requestId": request_id})
        async with httpx.AsyncClient() as uploader:
            stored = await uploader.post(location, files={
                "file": ("security.log", b"2024-01-01 TamperDetectionActivated\n",
                         "text/plain")}, data={"note": "form field before? after? both fine"})
        assert stored.status_code == 201, stored.text
        assert stored.json()["filename"] == "security.log"
        await station.call("LogStatusNotification", {"status": "Uploaded",
                                                     "requestId": request_id})
    detail = (await api.get(f"/api/stations/CS-SEC16/logs/{request_id}")).json()
    assert detail["log_type"] == "SecurityLog" and detail["status"] == "Uploaded"
    assert [h["status"] for h in detail["history"]] == ["Uploading", "Uploaded"]
    [upload] = detail["uploads"]
    content = await api.get(f"/api/uploads/{upload['id']}/content")
    assert content.content == b"2024-01-01 TamperDetectionActivated\n"
    assert upload["content_type"] == "text/plain" and upload["purpose"] == "SecurityLog"


async def test_ocpp201_get_log_accepted_rejected_and_own_location(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_N_25_CSMS (DiagnosticsLog, Uploading / Uploaded), TC_N_34_CSMS (Rejected) and an
    operator-given location."""
    answers = iter([{"status": "Accepted", "filename": "diag.tar.gz"}, {"status": "Rejected"},
                    {"status": "Accepted"}])
    sent: list[dict[str, Any]] = []

    async def get_log(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return next(answers)

    async with connected_station(csms, "CS-LOG201", V201, routes={"GetLog": get_log}) as station:
        await boot(station)
        accepted = (await api.post("/api/stations/CS-LOG201/logs", json={})).json()
        assert sent[0]["logType"] == "DiagnosticsLog"
        assert sent[0]["requestId"] == accepted["request_id"]
        location = sent[0]["log"]["remoteLocation"]
        for status in ("Uploading", "Uploaded"):
            await station.call("LogStatusNotification",
                               {"status": status, "requestId": accepted["request_id"]})
        async with httpx.AsyncClient() as uploader:
            too_large = await uploader.put(location, content=b"x" * (UPLOAD_LIMIT + 1))
            assert too_large.status_code == 413
            assert (await uploader.post(location, content=b"log lines",
                                        headers={"Content-Disposition":
                                                 'attachment; filename="diag.tar.gz"'})
                    ).status_code == 201
        rejected = (await api.post("/api/stations/CS-LOG201/logs",
                                   json={"type": "SecurityLog"})).json()
        assert rejected["status"] == "Rejected"
        own = (await api.post("/api/stations/CS-LOG201/logs", json={
            "location": "ftp://logs.example.com/incoming/"})).json()
        assert sent[2]["log"]["remoteLocation"] == "ftp://logs.example.com/incoming/"
        assert own["location"] == "ftp://logs.example.com/incoming/"
        bad = await api.post("/api/stations/CS-LOG201/logs", json={"from": stamp(),
                                                                   "to": stamp(-60)})
        assert bad.status_code == 422 and "from must not be after to" in bad.text
    logs = {r["request_id"]: r for r in
            (await api.get("/api/stations/CS-LOG201/logs")).json()["requests"]}
    assert logs[accepted["request_id"]]["status"] == "Uploaded"
    assert logs[accepted["request_id"]]["filename"] == "diag.tar.gz"
    assert logs[rejected["request_id"]]["response_status"] == "Rejected"
    assert logs[rejected["request_id"]]["status"] is None
    assert logs[own["request_id"]]["location"] == "ftp://logs.example.com/incoming/"
    uploads = (await api.get("/api/stations/CS-LOG201/uploads")).json()
    assert [u["filename"] for u in uploads["items"]] == ["diag.tar.gz"]
