"""OCPP 1.6 Firmware Management, charging station under test (test case document FINAL
2024-04): firmware update (download and install, download failed, installation failed) and
diagnostics upload (success, upload failed).

The harness serves the files itself (``file_server``, HTTP on the address it listens on): a
firmware image the station downloads (the SUT file's ``firmware.image``, else its own), a
location that answers 404 (download fails), one whose image cannot be installed (named
``...fail-install...``, which the simulator's station takes as such), an upload folder that
stores what the station PUTs or POSTs, and one that refuses it (403: upload fails).
"""

from __future__ import annotations

import secrets

import pytest

from conformance.station.csms import Received, now_iso
from conformance.station.harness import Harness, check
from conformance.station.listener import (
    HARNESS_IMAGE,
    FileServer,
    file_server,
    firmware_image,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _statuses(records: list[Received]) -> list[str]:
    return [str(r.payload.get("status")) for r in records]


async def _firmware_status(h: Harness, status: str, *, step: str,
                           timeout_s: float | None = None) -> Received:
    return await h.csms.receive("FirmwareStatusNotification", step=step,
                                where=lambda p: p.get("status") == status,
                                timeout_s=timeout_s or h.wait_s,
                                expected=f"FirmwareStatusNotification {status}")


async def _update_firmware(h: Harness, location: str) -> None:
    answer = await h.csms.call("UpdateFirmware", {"location": location,
                                                  "retrieveDate": now_iso()},
                               step="UpdateFirmware.req")
    check(answer == {}, "UpdateFirmware.conf", "an empty UpdateFirmware.conf", answer)


def _image(files: FileServer, name: str, image: bytes = HARNESS_IMAGE) -> str:
    return files.publish(f"/firmware/{secrets.token_hex(4)}/{name}", image)


def _in_order(records: list[Received], step: str) -> None:
    check([r.index for r in records] == sorted(r.index for r in records), step,
          f"FirmwareStatusNotification {', '.join(_statuses(records))} in this order",
          _statuses(sorted(records, key=lambda r: r.index)))


@pytest.mark.case("TC_044_1_CS")
async def test_TC_044_1_CS(h: Harness) -> None:
    """Firmware update, download and install: UpdateFirmware.req (location the harness serves,
    retrieveDate now), an empty .conf; FirmwareStatusNotification Downloading, Downloaded (the
    image was fetched), Installing; the station reboots (BootNotification on a new connection,
    StatusNotification); FirmwareStatusNotification Installed after the reboot."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        location = _image(files, "firmware-1.1.bin", firmware_image(h.sut.firmware))
        await _update_firmware(h, location)
        downloading = await _firmware_status(h, "Downloading", step="Downloading")
        downloaded = await _firmware_status(h, "Downloaded", step="Downloaded")
        path = location[len(files.base_url):]
        check(("GET", path) in files.requests, "Downloaded", f"the image fetched from {location}",
              files.requests)
    installing = await _firmware_status(h, "Installing", step="Installing")
    boot = await h.csms.receive("BootNotification", step="BootNotification after the reboot",
                                timeout_s=h.connect_s)
    check(boot.connection > installing.connection, "BootNotification after the reboot",
          "a new connection after Installing (the station rebooted)", boot.payload)
    for record in h.csms.received("StatusNotification"):
        record.consumed = record.consumed or record.connection < boot.connection
    await h.csms.receive("StatusNotification", step="StatusNotification after the reboot",
                         timeout_s=h.connect_s)
    installed = await _firmware_status(h, "Installed", step="Installed", timeout_s=h.connect_s)
    _in_order([downloading, downloaded, installing, boot, installed],
              "FirmwareStatusNotification")


@pytest.mark.case("TC_044_2_CS")
async def test_TC_044_2_CS(h: Harness) -> None:
    """Firmware update, download failed: UpdateFirmware.req with a location that does not
    exist (the harness answers 404); FirmwareStatusNotification Downloading, then
    DownloadFailed; nothing is installed (no Installing)."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        await _update_firmware(h, files.url(f"/firmware/{secrets.token_hex(4)}/missing.bin"))
        downloading = await _firmware_status(h, "Downloading", step="Downloading")
        failed = await _firmware_status(h, "DownloadFailed", step="DownloadFailed",
                                        timeout_s=h.wait_s * 2)
    _in_order([downloading, failed], "FirmwareStatusNotification")
    await h.csms.nothing("FirmwareStatusNotification", step="no installation", within_s=0.5,
                         where=lambda p: p.get("status") in ("Downloaded", "Installing",
                                                             "Installed"),
                         expected="no Downloaded / Installing / Installed after DownloadFailed")


@pytest.mark.case("TC_044_3_CS")
async def test_TC_044_3_CS(h: Harness) -> None:
    """Firmware update, installation failed: UpdateFirmware.req with an image that cannot be
    installed; FirmwareStatusNotification Downloading, Downloaded, Installing, then
    InstallationFailed (never Installed)."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        await _update_firmware(h, _image(files, "firmware-fail-install.bin"))
        records = [await _firmware_status(h, status, step=status)
                   for status in ("Downloading", "Downloaded", "Installing")]
    records.append(await _firmware_status(h, "InstallationFailed", step="InstallationFailed",
                                          timeout_s=h.connect_s))
    _in_order(records, "FirmwareStatusNotification")
    await h.csms.nothing("FirmwareStatusNotification", step="not installed", within_s=0.0,
                         where=lambda p: p.get("status") == "Installed",
                         expected="no Installed for an image that failed to install")


async def _get_diagnostics(h: Harness, location: str) -> str:
    answer = await h.csms.call("GetDiagnostics", {"location": location},
                               step="GetDiagnostics.req")
    name = answer.get("fileName")
    check(isinstance(name, str) and bool(name), "GetDiagnostics.conf", "a fileName", answer)
    return str(name)


async def _diagnostics_status(h: Harness, status: str, *, step: str,
                              timeout_s: float | None = None) -> Received:
    return await h.csms.receive("DiagnosticsStatusNotification", step=step,
                                where=lambda p: p.get("status") == status,
                                timeout_s=timeout_s or h.wait_s,
                                expected=f"DiagnosticsStatusNotification {status}")


@pytest.mark.case("TC_045_1_CS")
async def test_TC_045_1_CS(h: Harness) -> None:
    """Get diagnostics: GetDiagnostics.req with an upload location the harness serves;
    GetDiagnostics.conf with a fileName; DiagnosticsStatusNotification Uploading, then
    Uploaded; the file arrived at the location under that name."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        folder = f"/upload/{secrets.token_hex(4)}/"
        name = await _get_diagnostics(h, files.url(folder))
        uploading = await _diagnostics_status(h, "Uploading", step="Uploading")
        uploaded = await _diagnostics_status(h, "Uploaded", step="Uploaded")
        upload = await files.upload(folder, 0.0)
    check(uploading.index < uploaded.index, "DiagnosticsStatusNotification",
          "Uploading before Uploaded", _statuses([uploading, uploaded]))
    check(upload is not None and bool(upload.content), "Uploaded",
          f"the diagnostics file {name} at {folder}", "nothing arrived")
    assert upload is not None
    check(name in upload.path or upload.path == folder, "Uploaded",
          f"the file named {name}", upload.path)


@pytest.mark.case("TC_045_2_CS")
async def test_TC_045_2_CS(h: Harness) -> None:
    """Get diagnostics, upload failed: GetDiagnostics.req with a location that refuses the
    upload (the harness answers 403); DiagnosticsStatusNotification Uploading, then
    UploadFailed (never Uploaded)."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        await _get_diagnostics(h, files.url(f"/refused/{secrets.token_hex(4)}/"))
        uploading = await _diagnostics_status(h, "Uploading", step="Uploading")
        failed = await _diagnostics_status(h, "UploadFailed", step="UploadFailed",
                                           timeout_s=h.wait_s * 2)
    check(uploading.index < failed.index, "DiagnosticsStatusNotification",
          "Uploading before UploadFailed", _statuses([uploading, failed]))
    await h.csms.nothing("DiagnosticsStatusNotification", step="not uploaded", within_s=0.0,
                         where=lambda p: p.get("status") == "Uploaded",
                         expected="no Uploaded for a refused upload")
