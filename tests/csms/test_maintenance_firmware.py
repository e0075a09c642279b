"""Firmware management over real websockets: 1.6 UpdateFirmware / FirmwareStatusNotification,
1.6 SignedUpdateFirmware / SignedFirmwareStatusNotification, 2.0.1 UpdateFirmware /
FirmwareStatusNotification (TC_044, TC_080/081, TC_L_01..10)."""

from __future__ import annotations

from typing import Any

import httpx

from chargeloop.ocppj import OcppVersion
from csms.events import Event
from csms.server import RunningCsms
from tests.csms.support import BOOT_16, boot, connected_station, stamp

V16, V201 = OcppVersion.V16, OcppVersion.V201


def capture(csms: RunningCsms, kind: str) -> list[Event]:
    seen: list[Event] = []
    csms.core.events.listen(lambda event: seen.append(event) if event.kind == kind else None)
    return seen


async def test_ocpp16_update_firmware_and_status_sequence(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_044_1_CSMS: UpdateFirmware, then Downloading .. Installed, related to the request."""
    sent: list[dict[str, Any]] = []

    async def update_firmware(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {}

    published = capture(csms, "station.firmware")
    async with connected_station(csms, "CS-FW16", V16,
                                 routes={"UpdateFirmware": update_firmware}) as station:
        await boot(station)
        answer = await api.post("/api/stations/CS-FW16/firmware", json={
            "location": "https://firmware.example.com/cs-2.0.bin", "retrieve_at": stamp(60),
            "retries": 3, "retry_interval_s": 30})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["action"] == "UpdateFirmware" and result["status"] is None
        request_id = result["request_id"]
        assert len(sent) == 1
        assert sent[0]["location"] == "https://firmware.example.com/cs-2.0.bin"
        assert sent[0]["retries"] == 3 and sent[0]["retryInterval"] == 30
        assert sent[0]["retrieveDate"].endswith("Z")
        for status in ("Downloading", "Downloaded", "Installing", "Installing"):  # a retry
            assert await station.call("FirmwareStatusNotification", {"status": status}) == {}
        await station.call("BootNotification", {**BOOT_16, "firmwareVersion": "2.0"})
        await station.call("FirmwareStatusNotification", {"status": "Installed"})
        await station.call("FirmwareStatusNotification", {"status": "Idle"})  # triggered

    overview = (await api.get("/api/stations/CS-FW16/firmware")).json()
    assert overview["firmware_version"] == "2.0"
    assert overview["firmware_status"] == "Idle"
    request = overview["requests"][0]
    assert request["request_id"] == request_id
    assert request["response_status"] == "Accepted" and request["status"] == "Installed"
    assert request["location"] == "https://firmware.example.com/cs-2.0.bin"
    assert request["actor"] == "admin"
    detail = (await api.get(f"/api/stations/CS-FW16/firmware/{request_id}")).json()
    assert [h["status"] for h in detail["history"]] == [
        "Downloading", "Downloaded", "Installing", "Installed"]
    assert [(e.data["status"], e.data["request_id"]) for e in published] == [
        ("Downloading", request_id), ("Downloaded", request_id), ("Installing", request_id),
        ("Installed", request_id), ("Idle", None)]
    events = (await api.get("/api/stations/CS-FW16/events",
                            params={"kind": "Firmware"})).json()
    assert events["total"] == 5  # the retried Installing is stored once


async def test_ocpp16_signed_update_firmware(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_080_CSMS / TC_081_CSMS: SignedUpdateFirmware, SignedFirmwareStatusNotification with
    the requestId, ending in InvalidSignature."""
    sent: list[dict[str, Any]] = []

    async def signed_update(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {"status": "Accepted"}

    async with connected_station(csms, "CS-SFW16", V16,
                                 routes={"SignedUpdateFirmware": signed_update}) as station:
        await boot(station)
        answer = await api.post("/api/stations/CS-SFW16/firmware", json={
            "location": "https://firmware.example.com/signed.bin",
            "install_at": stamp(3600), "signing_certificate": "-----BEGIN CERTIFICATE-----x",
            "signature": "c2lnbmF0dXJl"})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["action"] == "SignedUpdateFirmware" and result["status"] == "Accepted"
        request_id = result["request_id"]
        firmware = sent[0]["firmware"]
        assert sent[0]["requestId"] == request_id
        assert firmware["signature"] == "c2lnbmF0dXJl"
        assert firmware["installDateTime"] and firmware["retrieveDateTime"]
        for status in ("Downloading", "Downloaded", "InvalidSignature"):
            await station.call("SignedFirmwareStatusNotification",
                               {"status": status, "requestId": request_id})
    detail = (await api.get(f"/api/stations/CS-SFW16/firmware/{request_id}")).json()
    assert detail["action"] == "SignedUpdateFirmware" and detail["signed"] is True
    assert detail["status"] == "InvalidSignature"
    assert [h["status"] for h in detail["history"]] == ["Downloading", "Downloaded",
                                                        "InvalidSignature"]


async def test_ocpp201_update_firmware_full_sequence_and_cancel(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_L_01_CSMS (status sequence by requestId) and TC_L_10_CSMS (AcceptedCanceled), the
    second update sent through the raw command endpoint."""
    answers = iter(["Accepted", "AcceptedCanceled", "Accepted"])
    sent: list[dict[str, Any]] = []

    async def update_firmware(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {"status": next(answers)}

    published = capture(csms, "station.firmware")
    async with connected_station(csms, "CS-FW201", V201,
                                 routes={"UpdateFirmware": update_firmware}) as station:
        await boot(station)
        result = (await api.post("/api/stations/CS-FW201/firmware", json={
            "location": "https://firmware.example.com/v3.bin", "retrieve_at": stamp(-7200),
            "install_at": stamp(-7200), "signing_certificate": "PEM", "signature": "SIG",
            "retries": 2})).json()
        assert result["action"] == "UpdateFirmware" and result["status"] == "Accepted"
        first = result["request_id"]
        assert sent[0]["requestId"] == first and sent[0]["retries"] == 2
        assert sent[0]["firmware"]["signingCertificate"] == "PEM"
        assert sent[0]["firmware"]["location"] == "https://firmware.example.com/v3.bin"
        for status in ("Downloading", "Downloaded", "SignatureVerified"):
            await station.call("FirmwareStatusNotification",
                               {"status": status, "requestId": first})
        raw = await api.post("/api/stations/CS-FW201/ocpp/UpdateFirmware", json={
            "requestId": 777, "firmware": {"location": "https://firmware.example.com/v4.bin",
                                           "retrieveDateTime": stamp()}})
        assert raw.json()["response"]["status"] == "AcceptedCanceled"
        for status in ("Downloading", "Downloaded", "Installing", "InstallRebooting"):
            await station.call("FirmwareStatusNotification",
                               {"status": status, "requestId": 777})
        await station.call("FirmwareStatusNotification", {"status": "Installed",
                                                          "requestId": 777})
        again = (await api.post("/api/stations/CS-FW201/firmware", json={
            "location": "https://firmware.example.com/v5.bin"})).json()
    assert again["request_id"] > 777  # the CSMS's numbering continues above the raw one
    canceled = (await api.get(f"/api/stations/CS-FW201/firmware/{first}")).json()
    assert canceled["status"] == "Canceled"
    assert [h["status"] for h in canceled["history"]] == ["Downloading", "Downloaded",
                                                          "SignatureVerified"]
    second = (await api.get("/api/stations/CS-FW201/firmware/777")).json()
    assert second["response_status"] == "AcceptedCanceled"
    assert second["location"] == "https://firmware.example.com/v4.bin"
    assert second["status"] == "Installed" and second["actor"] is None
    assert [h["status"] for h in second["history"]] == [
        "Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"]
    assert published[-1].data == {"station_id": "CS-FW201", "status": "Installed",
                                  "request_id": 777}
    overview = (await api.get("/api/stations/CS-FW201/firmware")).json()
    assert overview["firmware_status"] == "Installed" and overview["total"] == 3


async def test_firmware_request_validation(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    for version in (V16, V201):
        url = f"/api/stations/CS-FWV-{version.value}/firmware"
        unknown = await api.post(url, json={"location": "https://h/f"})
        assert unknown.status_code == 404  # no such station
        async with connected_station(csms, f"CS-FWV-{version.value}", version) as station:
            await boot(station)
            bad_location = await api.post(url, json={"location": "not a uri"})
            assert bad_location.status_code == 422
            assert bad_location.json()["detail"][0]["loc"] == ["body", "location"]
            half_signed = await api.post(url, json={"location": "https://h/f",
                                                    "signature": "S"})
            assert half_signed.status_code == 422
            assert "signing_certificate and signature" in half_signed.text
            if version is V16:  # 1.6 UpdateFirmware has no install time
                install = await api.post(url, json={"location": "https://h/f",
                                                    "install_at": stamp(60)})
                assert install.status_code == 422 and "install time" in install.text
        offline = await api.post(url, json={"location": "https://h/f"})
        assert offline.status_code == 409


async def test_ocpp201_local_controller_publishes_and_unpublishes_firmware(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_L_17_CSMS .. L_24_CSMS on the reference CSMS: PublishFirmware through the raw command
    endpoint, every PublishFirmwareStatusNotification answered and stored with its request (the
    URIs of Published too), a retried one once; UnpublishFirmware Unpublished ends the
    publications of its checksum, NoFirmware changes nothing."""
    checksum = "0123456789abcdef0123456789abcdef"
    unpublish_answers = iter(["NoFirmware", "Unpublished"])

    async def unpublish(payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": next(unpublish_answers)}

    published = capture(csms, "station.firmware_publication")
    async with connected_station(csms, "LC-PUB201", V201, routes={
            "PublishFirmware": lambda payload: _accepted(),
            "UnpublishFirmware": unpublish}) as station:
        await boot(station)
        raw = await api.post("/api/stations/LC-PUB201/ocpp/PublishFirmware", json={
            "location": "https://firmware.example.com/lc.bin", "checksum": checksum,
            "requestId": 41, "retries": 2})
        assert raw.status_code == 200 and raw.json()["response"]["status"] == "Accepted"
        uris = ["https://lc.local/fw/lc.bin", "ftp://lc.local/fw/lc.bin"]
        for status in ("Downloading", "Downloaded", "ChecksumVerified", "ChecksumVerified"):
            assert await station.call("PublishFirmwareStatusNotification",
                                      {"status": status, "requestId": 41}) == {}
        assert await station.call("PublishFirmwareStatusNotification", {
            "status": "Published", "requestId": 41, "location": uris}) == {}
        overview = (await api.get("/api/stations/LC-PUB201/firmware")).json()
        (publication,) = overview["publications"]
        assert publication["request_id"] == 41 and publication["checksum"] == checksum
        assert publication["location"] == "https://firmware.example.com/lc.bin"
        assert publication["response_status"] == "Accepted"
        assert publication["status"] == "Published" and publication["published_at"] == uris
        assert overview["firmware_status"] is None  # the controller's own firmware: untouched
        for answer in ("NoFirmware", "Unpublished"):
            raw = await api.post("/api/stations/LC-PUB201/ocpp/UnpublishFirmware",
                                 json={"checksum": checksum})
            assert raw.json()["response"]["status"] == answer
            status = (await api.get("/api/stations/LC-PUB201/firmware")).json()[
                "publications"][0]["status"]
            assert status == ("Published" if answer == "NoFirmware" else "Unpublished")
        # a notification without requestId belongs to the latest publication
        await station.call("PublishFirmwareStatusNotification", {"status": "DownloadFailed"})
    assert [e.data["status"] for e in published] == [
        "Downloading", "Downloaded", "ChecksumVerified", "Published", "Unpublished",
        "DownloadFailed"]
    assert all(e.data["request_id"] == 41 for e in published)


async def _accepted() -> dict[str, Any]:
    return {"status": "Accepted"}
