"""OCPP 2.0.1 block L (Firmware Management), CSMS under test: a Local Controller.

Use cases L03 (Publish Firmware file on Local Controller) and L04 (Unpublish Firmware file on
Local Controller). The suite plays the Local Controller. The CSMS sends PublishFirmwareRequest
(the location to download the firmware from, its MD5 checksum as 32 hexadecimal characters,
a requestId); the Local Controller answers, then reports its progress with
PublishFirmwareStatusNotificationRequests carrying that requestId (Downloading, Downloaded,
ChecksumVerified, and Published with the URIs it publishes the file at, or the failure). The
CSMS sends UnpublishFirmwareRequest with the checksum of the firmware to withdraw; the Local
Controller answers Unpublished, NoFirmware or DownloadOngoing.

These cases are outside OCA's certification programme (the catalogue says so); they need the
feature ``local_controller``. The trigger asks the CSMS for the firmware below; a CSMS driven by
HTTP templates sends its own configured firmware, which the checks look at for form only (and,
when it unpublishes what it published, for the same checksum).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.csms.harness import StationPool, booted_station, check, csms_sends
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio

FIRMWARE_LOCATION = "https://firmware.chargeloop.test/conformance-lc-2.0.0.bin"
CHECKSUM = "5d41402abc4b2a76b9719d911017c592"
PUBLISHED_AT = ["https://local-controller.chargeloop.test/fw/conformance-lc-2.0.0.bin",
                "ftp://local-controller.chargeloop.test/fw/conformance-lc-2.0.0.bin"]
MD5_HEX = re.compile(r"[0-9a-fA-F]{32}")


def _needs_local_controller(sut: Sut) -> None:
    if not sut.claims("local_controller"):
        not_applicable("feature local_controller (PublishFirmware / UnpublishFirmware)")


async def _started(stations: StationPool, sut: Sut) -> TestStation:
    _needs_local_controller(sut)
    station = await booted_station(stations)
    return station


def _check_checksum(call: IncomingCall, step: str) -> str:
    checksum = call.payload.get("checksum")
    check(isinstance(checksum, str) and MD5_HEX.fullmatch(checksum) is not None, step,
          "checksum: the firmware's MD5 as 32 hexadecimal characters", call.payload)
    return str(checksum).lower()


async def _publish(station: TestStation, triggers: Triggers, sut: Sut,
                   answer: str = "Accepted") -> IncomingCall:
    """The CSMS's PublishFirmwareRequest, answered ``answer``, checked as L03 wants it: a
    requestId, the location as an absolute URI, the checksum as an MD5 in hexadecimal."""
    step = "PublishFirmwareRequest"
    call = await csms_sends(station, triggers, "PublishFirmware", {
        "location": FIRMWARE_LOCATION, "checksum": CHECKSUM, "requestId": 1},
        {"status": answer}, step=step, timeout_s=sut.action_timeout_s)
    check(isinstance(call.payload.get("requestId"), int), step, "a requestId", call.payload)
    location = urlsplit(str(call.payload.get("location", "")))
    check(bool(location.scheme and location.netloc), step,
          "location: an absolute URI to download the firmware from", call.payload)
    _check_checksum(call, step)
    return call


async def _statuses(station: TestStation, request_id: int, *statuses: str,
                    **extra: Any) -> None:
    """The Local Controller reports ``statuses`` for request ``request_id`` (the last one with
    ``extra`` fields); each must be answered."""
    for index, status in enumerate(statuses):
        payload = {"status": status, "requestId": request_id}
        if index == len(statuses) - 1:
            payload.update(extra)
        await station.call("PublishFirmwareStatusNotification", payload,
                           step=f"PublishFirmwareStatusNotificationRequest {status}")


async def _unpublish(station: TestStation, triggers: Triggers, sut: Sut, answer: str,
                     published: str | None = None) -> IncomingCall:
    """The CSMS's UnpublishFirmwareRequest, answered ``answer``: the checksum an MD5 in
    hexadecimal and, when the case published a firmware first, that firmware's."""
    step = "UnpublishFirmwareRequest"
    call = await csms_sends(station, triggers, "UnpublishFirmware", {"checksum": CHECKSUM},
                            {"status": answer}, step=step, timeout_s=sut.action_timeout_s)
    checksum = _check_checksum(call, step)
    if published is not None:
        check(checksum == published, step,
              f"checksum {published} (the firmware published before)", call.payload)
    return call


@pytest.mark.case("TC_L_17_CSMS")
async def test_TC_L_17_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Publish Firmware - Published (L03). Booted; the CSMS sends PublishFirmwareRequest
    (requestId, location an absolute URI, checksum an MD5 of 32 hexadecimal characters:
    validated), answered Accepted; the Local Controller reports Downloading, Downloaded,
    ChecksumVerified and Published with the URIs it publishes the firmware at, all with the
    request's requestId: every PublishFirmwareStatusNotificationRequest is answered."""
    station = await _started(stations, sut)
    call = await _publish(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "Downloaded",
                    "ChecksumVerified", "Published", location=PUBLISHED_AT)


@pytest.mark.case("TC_L_19_CSMS")
async def test_TC_L_19_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Publish Firmware - Invalid Checksum (L03). PublishFirmwareRequest (validated as in
    TC_L_17) answered Accepted; Downloading, Downloaded and InvalidChecksum (the downloaded
    file does not match the checksum) are answered."""
    station = await _started(stations, sut)
    call = await _publish(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "Downloaded",
                    "InvalidChecksum")


@pytest.mark.case("TC_L_20_CSMS")
async def test_TC_L_20_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Publish Firmware - PublishFailed (L03). PublishFirmwareRequest (validated as in TC_L_17)
    answered Accepted; Downloading, Downloaded, ChecksumVerified and PublishFailed are
    answered."""
    station = await _started(stations, sut)
    call = await _publish(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "Downloaded",
                    "ChecksumVerified", "PublishFailed")


@pytest.mark.case("TC_L_24_CSMS")
async def test_TC_L_24_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Publish Firmware - Download failed (L03). PublishFirmwareRequest (validated as in
    TC_L_17) answered Accepted; Downloading and DownloadFailed are answered."""
    station = await _started(stations, sut)
    call = await _publish(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "DownloadFailed")


@pytest.mark.case("TC_L_21_CSMS")
async def test_TC_L_21_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unpublish Firmware - Unpublished (L04). A firmware is published (as in TC_L_17:
    PublishFirmwareRequest validated and Accepted, Downloading, Downloaded, ChecksumVerified,
    Published answered); the CSMS sends UnpublishFirmwareRequest whose checksum is an MD5 of
    32 hexadecimal characters, the published firmware's (validated), answered Unpublished;
    the Local Controller's next message (Heartbeat) is answered: the CSMS takes the answer."""
    station = await _started(stations, sut)
    call = await _publish(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "Downloaded",
                    "ChecksumVerified", "Published", location=PUBLISHED_AT)
    await _unpublish(station, triggers, sut, "Unpublished",
                     published=str(call.payload["checksum"]).lower())
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_L_22_CSMS")
async def test_TC_L_22_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unpublish Firmware - NoFirmware (L04). Booted, nothing published; the CSMS sends
    UnpublishFirmwareRequest (checksum an MD5 of 32 hexadecimal characters: validated),
    answered NoFirmware; the Local Controller's next message (Heartbeat) is answered."""
    station = await _started(stations, sut)
    await _unpublish(station, triggers, sut, "NoFirmware")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_L_23_CSMS")
async def test_TC_L_23_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Unpublish Firmware - Download Ongoing (L04). A publication is under way
    (PublishFirmwareRequest validated as in TC_L_17 and Accepted, Downloading answered); the
    CSMS sends UnpublishFirmwareRequest with that firmware's checksum (validated), answered
    DownloadOngoing; the download goes on: Downloaded, ChecksumVerified and Published are
    answered."""
    station = await _started(stations, sut)
    call = await _publish(station, triggers, sut)
    request_id = call.payload["requestId"]
    await _statuses(station, request_id, "Downloading")
    await _unpublish(station, triggers, sut, "DownloadOngoing",
                     published=str(call.payload["checksum"]).lower())
    await _statuses(station, request_id, "Downloaded", "ChecksumVerified", "Published",
                    location=PUBLISHED_AT)
