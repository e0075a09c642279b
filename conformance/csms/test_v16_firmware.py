"""OCPP 1.6 Firmware Management profile, CSMS under test (test case document FINAL 2024-04).

The Central System sends UpdateFirmware / GetDiagnostics; the station (the suite) reports the
progress with FirmwareStatusNotification / DiagnosticsStatusNotification, which the Central
System must answer (1.6 sections 4.4, 4.5, 5.9, 5.19).
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from conformance.csms.harness import StationPool, booted, booted_station, check, csms_sends, now_iso
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

# What the trigger asks for; a CSMS under test may use its own location.
FIRMWARE_LOCATION = "https://firmware.example.com/conformance/fw-1.0.1.bin"
DIAGNOSTICS_LOCATION = "ftp://diagnostics.example.com/conformance/"


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return bool(parsed.scheme) and bool(parsed.netloc)


async def _update_firmware(stations: StationPool, triggers: Triggers, sut: Sut
                           ) -> tuple[TestStation, IncomingCall]:
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "UpdateFirmware",
                            {"location": FIRMWARE_LOCATION, "retrieveDate": now_iso()},
                            {}, step="UpdateFirmware.req", timeout_s=sut.action_timeout_s)
    check(_is_uri(call.payload.get("location")), "UpdateFirmware.req",
          "location: the URI (with a host) to download the firmware from", call.payload)
    check(bool(call.payload.get("retrieveDate")), "UpdateFirmware.req", "a retrieveDate",
          call.payload)
    return station, call


async def _firmware_status(station: TestStation, status: str) -> None:
    answer = await station.call("FirmwareStatusNotification", {"status": status},
                                step=f"FirmwareStatusNotification {status}")
    check(answer == {}, f"FirmwareStatusNotification.conf ({status})",
          "an empty FirmwareStatusNotification.conf", answer)


@pytest.mark.case("TC_044_1_CSMS")
async def test_TC_044_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Firmware update, download and install.

    Steps: the Central System sends UpdateFirmware.req; the station answers; it reports
    FirmwareStatusNotification Downloading, Downloaded, Installing; it reboots
    (BootNotification, StatusNotification Available) and reports Installed.
    Validated: UpdateFirmware.req carries a location (a URI with a host) and a retrieveDate
    (1.6 §5.19); every FirmwareStatusNotification is answered with a
    FirmwareStatusNotification.conf (§4.5);
    the BootNotification after the reboot is Accepted.
    """
    station, _ = await _update_firmware(stations, triggers, sut)
    await _firmware_status(station, "Downloading")
    await _firmware_status(station, "Downloaded")
    await _firmware_status(station, "Installing")
    await station.close()
    rebooted = await stations.connected()
    await booted(rebooted, step="BootNotification after the installation")
    await _firmware_status(rebooted, "Installed")


@pytest.mark.case("TC_044_2_CSMS")
async def test_TC_044_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Firmware update, download failed.

    Steps: the Central System sends UpdateFirmware.req; the station answers and reports
    FirmwareStatusNotification Downloading, then DownloadFailed.
    Validated: UpdateFirmware.req carries a location (a URI with a host) and a retrieveDate; both
    FirmwareStatusNotifications, DownloadFailed included, are answered with a
    FirmwareStatusNotification.conf.
    """
    station, _ = await _update_firmware(stations, triggers, sut)
    await _firmware_status(station, "Downloading")
    await _firmware_status(station, "DownloadFailed")


@pytest.mark.case("TC_044_3_CSMS")
async def test_TC_044_3_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Firmware update, installation failed.

    Steps: the Central System sends UpdateFirmware.req; the station answers and reports
    FirmwareStatusNotification Downloading, Downloaded, Installing, then InstallationFailed.
    Validated: UpdateFirmware.req carries a location (a URI with a host) and a retrieveDate; every
    FirmwareStatusNotification, InstallationFailed included, is answered with a
    FirmwareStatusNotification.conf.
    """
    station, _ = await _update_firmware(stations, triggers, sut)
    await _firmware_status(station, "Downloading")
    await _firmware_status(station, "Downloaded")
    await _firmware_status(station, "Installing")
    await _firmware_status(station, "InstallationFailed")


async def _get_diagnostics(stations: StationPool, triggers: Triggers, sut: Sut
                           ) -> TestStation:
    station = await booted_station(stations)
    call = await csms_sends(station, triggers, "GetDiagnostics",
                            {"location": DIAGNOSTICS_LOCATION}, None,
                            step="GetDiagnostics.req", timeout_s=sut.action_timeout_s)
    call.respond({"fileName": f"diagnostics-{station.identity}.zip"})
    check(_is_uri(call.payload.get("location")), "GetDiagnostics.req",
          "location: the URI (with a host) to upload the diagnostics to", call.payload)
    return station


async def _diagnostics_status(station: TestStation, status: str) -> None:
    answer = await station.call("DiagnosticsStatusNotification", {"status": status},
                                step=f"DiagnosticsStatusNotification {status}")
    check(answer == {}, f"DiagnosticsStatusNotification.conf ({status})",
          "an empty DiagnosticsStatusNotification.conf", answer)


@pytest.mark.case("TC_045_1_CSMS")
async def test_TC_045_1_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get diagnostics.

    Steps: the Central System sends GetDiagnostics.req; the station answers with a fileName
    and reports DiagnosticsStatusNotification Uploading, then Uploaded.
    Validated: GetDiagnostics.req carries a location (a URI with a host) (1.6 §5.9); both
    DiagnosticsStatusNotifications are answered with a DiagnosticsStatusNotification.conf
    (§4.4).
    """
    station = await _get_diagnostics(stations, triggers, sut)
    await _diagnostics_status(station, "Uploading")
    await _diagnostics_status(station, "Uploaded")


@pytest.mark.case("TC_045_2_CSMS")
async def test_TC_045_2_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get diagnostics, upload failed.

    Steps: the Central System sends GetDiagnostics.req; the station answers with a fileName
    and reports DiagnosticsStatusNotification Uploading, then UploadFailed.
    Validated: GetDiagnostics.req carries a location (a URI with a host); both
    DiagnosticsStatusNotifications, UploadFailed included, are answered with a
    DiagnosticsStatusNotification.conf.
    """
    station = await _get_diagnostics(stations, triggers, sut)
    await _diagnostics_status(station, "Uploading")
    await _diagnostics_status(station, "UploadFailed")
