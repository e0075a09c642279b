"""OCPP 2.0.1 blocks L (secure firmware update) and N (log retrieval), charging station under
test (Part 6 Edition 3, errata 2025-09).

Firmware is the SUT file's signed image (``firmware``: the vendor's image, signing certificate
and signature), else the harness's own, signed with a firmware signing certificate from a
test manufacturer root (ECDSA with SHA-256, base64), which only the simulated station
installs. The invalid variants are made from it: the image served tampered with (L_06), the
harness's expired signing certificate (L_05); an image that fails to install (L_08) is always
the harness's (named ``...fail-install...``).

The harness serves the files itself (``file_server``, HTTP on the address it listens on): a
firmware image the station downloads, an upload folder that stores what the station PUTs or
POSTs, and locations that fail (404 for a download, 403 for an upload).
"""

from __future__ import annotations

import secrets
import time

import pytest

from conformance.station.firmware201 import (
    firmware_sequence,
    firmware_status,
    get_log,
    installed_after_reboot,
    log_status,
    publish_firmware,
    update_firmware,
    utc_in,
)
from conformance.station.harness import Harness, check
from conformance.station.listener import file_server

pytestmark = pytest.mark.asyncio(loop_scope="session")

UPLOAD_FAILURES = ("UploadFailure", "PermissionDenied", "BadMessage", "NotSupportedOperation")
SCHEDULE_S = 2.0  # DownloadScheduled / InstallScheduled: that far ahead
EARLY_SLACK_S = 0.25  # clock resolution between the station's timer and ours


# -- N: logs ----------------------------------------------------------------------------------


async def _log_uploaded(h: Harness, log_type: str) -> None:
    """TC_N_25 / N_35: GetLog of ``log_type`` to a folder the harness serves: Accepted;
    LogStatusNotification Uploading, then Uploaded (with the requestId); the file arrived."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        folder = f"/upload/{secrets.token_hex(4)}/"
        request_id = await get_log(h, log_type, files.url(folder))
        uploading = await log_status(h, request_id, ("Uploading",), step="Uploading")
        uploaded = await log_status(h, request_id, ("Uploaded",), step="Uploaded")
        upload = await files.upload(folder, 0.0)
    check(uploading.index < uploaded.index, "LogStatusNotification",
          "Uploading before Uploaded", [uploading.payload, uploaded.payload])
    check(upload is not None and bool(upload.content), "Uploaded",
          f"the {log_type} file at {folder}", "nothing arrived")


@pytest.mark.case("TC_N_25_CS")
async def test_TC_N_25_CS(h: Harness) -> None:
    """Retrieve log information, diagnostics log, success: GetLogRequest (DiagnosticsLog,
    remoteLocation the harness serves) Accepted; LogStatusNotification Uploading, then
    Uploaded, both with the requestId; the log arrived at the location."""
    await _log_uploaded(h, "DiagnosticsLog")


@pytest.mark.case("TC_N_35_CS")
async def test_TC_N_35_CS(h: Harness) -> None:
    """Retrieve log information, security log, success: as TC_N_25 with logType
    SecurityLog."""
    await _log_uploaded(h, "SecurityLog")


@pytest.mark.case("TC_N_26_CS")
async def test_TC_N_26_CS(h: Harness) -> None:
    """Retrieve log information, diagnostics log, upload failed: GetLogRequest (DiagnosticsLog)
    to a location that refuses the upload (the harness answers 403) Accepted;
    LogStatusNotification Uploading, then a failure (UploadFailure, PermissionDenied,
    BadMessage or NotSupportedOperation) with the requestId; never Uploaded."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        request_id = await get_log(h, "DiagnosticsLog",
                                   files.url(f"/refused/{secrets.token_hex(4)}/"))
        uploading = await log_status(h, request_id, ("Uploading",), step="Uploading")
        failed = await log_status(h, request_id, UPLOAD_FAILURES, step="upload failed",
                                  timeout_s=h.wait_s * 2)
    check(uploading.index < failed.index, "LogStatusNotification",
          "Uploading before the failure", [uploading.payload, failed.payload])
    await h.csms.nothing("LogStatusNotification", step="not uploaded", within_s=0.0,
                         where=lambda p: p.get("status") == "Uploaded",
                         expected="no Uploaded for a refused upload")


# -- L: secure firmware update ---------------------------------------------------------------


@pytest.mark.case("TC_L_01_CS")
async def test_TC_L_01_CS(h: Harness) -> None:
    """Secure firmware update, installation successful: UpdateFirmwareRequest (signed image,
    retrieveDateTime and installDateTime two hours ago) Accepted; FirmwareStatusNotification
    Downloading, Downloaded, SignatureVerified, Installing (requestId); the station reboots
    (BootNotification reason FirmwareUpdate) and reports Installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-2.1.bin")
        past = utc_in(-7200)
        request_id = await update_firmware(h, location, image, retrieve=past, install=past)
        records = await firmware_sequence(h, request_id, ("Downloading", "Downloaded",
                                                          "SignatureVerified", "Installing"))
    await installed_after_reboot(h, request_id, records[-1])


@pytest.mark.case("TC_L_02_CS")
async def test_TC_L_02_CS(h: Harness) -> None:
    """Secure firmware update, InstallScheduled: UpdateFirmwareRequest with installDateTime a
    little ahead; Downloading, Downloaded, SignatureVerified, InstallScheduled; Installing not
    before installDateTime; the reboot (reason FirmwareUpdate) and Installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-2.2.bin")
        asked = time.monotonic()
        request_id = await update_firmware(h, location, image, retrieve=utc_in(-7200),
                                           install=utc_in(SCHEDULE_S))
        await firmware_sequence(h, request_id, ("Downloading", "Downloaded", "SignatureVerified",
                                                "InstallScheduled"))
    installing = await firmware_status(h, request_id, ("Installing",), step="Installing",
                                       timeout_s=SCHEDULE_S + h.wait_s)
    waited = installing.at - asked
    check(waited >= SCHEDULE_S - EARLY_SLACK_S, "Installing",
          f"not before installDateTime ({SCHEDULE_S:g} s after the request)",
          f"after {waited:.2f} s")
    await installed_after_reboot(h, request_id, installing)


@pytest.mark.case("TC_L_03_CS")
async def test_TC_L_03_CS(h: Harness) -> None:
    """Secure firmware update, DownloadScheduled: UpdateFirmwareRequest with retrieveDateTime
    a little ahead; DownloadScheduled; Downloading not before retrieveDateTime; Downloaded,
    SignatureVerified, Installing; the reboot (reason FirmwareUpdate) and Installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-2.3.bin")
        asked = time.monotonic()
        request_id = await update_firmware(h, location, image, retrieve=utc_in(SCHEDULE_S))
        await firmware_status(h, request_id, ("DownloadScheduled",), step="DownloadScheduled")
        downloading = await firmware_status(h, request_id, ("Downloading",), step="Downloading",
                                            timeout_s=SCHEDULE_S + h.wait_s)
        waited = downloading.at - asked
        check(waited >= SCHEDULE_S - EARLY_SLACK_S, "Downloading",
              f"not before retrieveDateTime ({SCHEDULE_S:g} s after the request)",
              f"after {waited:.2f} s")
        records = await firmware_sequence(h, request_id, ("Downloaded", "SignatureVerified",
                                                          "Installing"))
    await installed_after_reboot(h, request_id, records[-1])


@pytest.mark.case("TC_L_05_CS")
async def test_TC_L_05_CS(h: Harness) -> None:
    """Secure firmware update, InvalidCertificate: UpdateFirmwareRequest whose signing
    certificate has expired; UpdateFirmwareResponse InvalidCertificate; SecurityEventNotification
    InvalidFirmwareSigningCertificate; no download."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-2.5.bin", expired_certificate=True)
        request_id = await update_firmware(h, location, image, retrieve=utc_in(-7200),
                                           expected="InvalidCertificate")
        await h.csms.receive("SecurityEventNotification", step="SecurityEventNotification",
                             where=lambda p: p.get("type") ==
                             "InvalidFirmwareSigningCertificate",
                             expected="SecurityEventNotification "
                                      "InvalidFirmwareSigningCertificate")
    await h.csms.nothing("FirmwareStatusNotification", step="no download", within_s=0.0,
                         where=lambda p: p.get("requestId") == request_id and
                         p.get("status") == "Downloading",
                         expected="no download with an invalid signing certificate")


@pytest.mark.case("TC_L_06_CS")
async def test_TC_L_06_CS(h: Harness) -> None:
    """Secure firmware update, InvalidSignature: UpdateFirmwareRequest whose signature does
    not match the image; Accepted; Downloading, Downloaded, InvalidSignature;
    SecurityEventNotification InvalidFirmwareSignature; nothing installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-2.6.bin", tampered=True)
        request_id = await update_firmware(h, location, image, retrieve=utc_in(-7200))
        await firmware_sequence(h, request_id, ("Downloading", "Downloaded", "InvalidSignature"))
    await h.csms.receive("SecurityEventNotification", step="SecurityEventNotification",
                         where=lambda p: p.get("type") == "InvalidFirmwareSignature",
                         expected="SecurityEventNotification InvalidFirmwareSignature")
    await h.csms.nothing("FirmwareStatusNotification", step="not installed", within_s=0.0,
                         where=lambda p: p.get("status") in ("SignatureVerified",
                                                             "Installing", "Installed"),
                         expected="no SignatureVerified / Installing / Installed")


@pytest.mark.case("TC_L_07_CS")
async def test_TC_L_07_CS(h: Harness) -> None:
    """Secure firmware update, DownloadFailed: UpdateFirmwareRequest with a location that
    does not exist (404); Accepted; Downloading, then DownloadFailed; nothing installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        _, image = publish_firmware(h, files, "firmware-2.7.bin")
        missing = files.url(f"/firmware/{secrets.token_hex(4)}/missing.bin")
        request_id = await update_firmware(h, missing, image, retrieve=utc_in(-7200))
        await firmware_status(h, request_id, ("Downloading",), step="Downloading")
        await firmware_status(h, request_id, ("DownloadFailed",), step="DownloadFailed",
                              timeout_s=h.wait_s * 2)
    await h.csms.nothing("FirmwareStatusNotification", step="not installed", within_s=0.5,
                         where=lambda p: p.get("status") in ("Downloaded", "Installing",
                                                             "Installed"),
                         expected="no Downloaded / Installing / Installed after "
                                  "DownloadFailed")


@pytest.mark.case("TC_L_08_CS")
async def test_TC_L_08_CS(h: Harness) -> None:
    """Secure firmware update, InstallVerificationFailed or InstallationFailed: a correctly
    signed image that cannot be installed; Downloading, Downloaded, SignatureVerified,
    Installing, then InstallVerificationFailed or InstallationFailed; never Installed."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        location, image = publish_firmware(h, files, "firmware-fail-install.bin",
                                           harness_image=True)
        request_id = await update_firmware(h, location, image, retrieve=utc_in(-7200))
        await firmware_sequence(h, request_id, ("Downloading", "Downloaded", "SignatureVerified",
                                                "Installing"))
    await firmware_status(h, request_id, ("InstallVerificationFailed", "InstallationFailed"),
                          step="installation failed", timeout_s=h.connect_s)
    await h.csms.nothing("FirmwareStatusNotification", step="not installed", within_s=0.0,
                         where=lambda p: p.get("status") == "Installed",
                         expected="no Installed for an image that failed to install")
