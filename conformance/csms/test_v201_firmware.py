"""OCPP 2.0.1 block L (Firmware Management), CSMS under test.

Use case L01 (Secure Firmware Update): the CSMS sends UpdateFirmwareRequest with the firmware's
location, the time to retrieve it (and optionally to install it), the firmware signing
certificate and the signature; the station reports its progress with
FirmwareStatusNotificationRequests carrying the request's requestId, and security problems with
SecurityEventNotificationRequests. The cases check what the CSMS sends and that it answers
every message of the station (a schema-valid response, no CALLERROR).

The trigger asks the CSMS for an update of the firmware below; a CSMS driven by HTTP templates
sends its own configured firmware, which the checks only look at for presence and timing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    booted_station,
    check,
    csms_sends,
    energy_transfer_started_201,
    now_iso,
    status_payload,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio

FIRMWARE_LOCATION = "https://firmware.chargeloop.test/conformance-ts-2.0.0.bin"
SIGNING_CERTIFICATE = ("-----BEGIN CERTIFICATE-----\n"
                       "MIIBszCCAVmgAwIBAgIUQ29uZm9ybWFuY2UtZmlybXdhcmUwCgYIKoZIzj0EAwIw\n"
                       "-----END CERTIFICATE-----\n")
SIGNATURE = "MEUCIQDconformancefirmwaresignatureAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _firmware(retrieve_in_s: float = -7200.0, install_in_s: float | None = None
              ) -> dict[str, Any]:
    firmware = {"location": FIRMWARE_LOCATION, "retrieveDateTime": now_iso(retrieve_in_s),
                "signingCertificate": SIGNING_CERTIFICATE, "signature": SIGNATURE}
    if install_in_s is not None:
        firmware["installDateTime"] = now_iso(install_in_s)
    return firmware


async def _update_firmware(station: TestStation, triggers: Triggers, sut: Sut,
                           answer: str | None = "Accepted", *, request_id: int = 1,
                           retrieve_in_s: float = -7200.0, install_in_s: float | None = None,
                           step: str = "UpdateFirmwareRequest") -> IncomingCall:
    """The CSMS's UpdateFirmwareRequest, answered ``answer`` (None: the case answers), checked
    as L01 wants it: a requestId, the location, retrieveDateTime, the firmware signing
    certificate and the signature (secure firmware update)."""
    call = await csms_sends(station, triggers, "UpdateFirmware", {
        "requestId": request_id, "firmware": _firmware(retrieve_in_s, install_in_s)},
        {"status": answer} if answer else None, step=step, timeout_s=sut.action_timeout_s)
    firmware = call.payload.get("firmware", {})
    check(isinstance(call.payload.get("requestId"), int), step, "a requestId", call.payload)
    check(bool(firmware.get("location")), step, "firmware.location", call.payload)
    check(_time(firmware.get("retrieveDateTime")) is not None, step,
          "firmware.retrieveDateTime", call.payload)
    check(bool(firmware.get("signingCertificate")), step,
          "firmware.signingCertificate (the firmware signing certificate)", call.payload)
    check(bool(firmware.get("signature")), step, "firmware.signature", call.payload)
    return call


async def _statuses(station: TestStation, request_id: int, *statuses: str) -> None:
    """The station reports ``statuses`` for request ``request_id``; each must be answered."""
    for status in statuses:
        await station.call("FirmwareStatusNotification",
                           {"status": status, "requestId": request_id},
                           step=f"FirmwareStatusNotificationRequest {status}")


async def _security_event(station: TestStation, kind: str) -> None:
    await station.call("SecurityEventNotification", {"type": kind, "timestamp": now_iso()},
                       step=f"SecurityEventNotificationRequest {kind}")


async def _reboot_and_installed(stations: StationPool, station: TestStation,
                                request_id: int) -> None:
    """Installing, the station reboots (BootNotification reason FirmwareUpdate, answered
    Accepted), then Installed."""
    await _statuses(station, request_id, "Installing")
    await station.close()
    rebooted = await stations.connected()
    answer = await rebooted.call("BootNotification", {
        "reason": "FirmwareUpdate", "chargingStation": {
            "vendorName": "chargeloop", "model": "conformance-ts", "serialNumber": "TS-0001",
            "firmwareVersion": "2.0.0"}}, step="BootNotificationRequest FirmwareUpdate")
    check(answer.get("status") == "Accepted", "BootNotificationResponse", "status Accepted",
          answer)
    await rebooted.call("StatusNotification", status_payload(rebooted.version, 1, "Available"),
                        step="StatusNotificationRequest Available")
    await _statuses(rebooted, request_id, "Installed")


async def _started(stations: StationPool) -> TestStation:
    station = await booted_station(stations)
    return station


@pytest.mark.case("TC_L_01_CSMS")
async def test_TC_L_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, installation successful (L01). Booted; the CSMS sends
    UpdateFirmwareRequest (requestId, location, retrieveDateTime, signingCertificate,
    signature: validated), answered Accepted; the station reports Downloading, Downloaded,
    SignatureVerified, Installing, reboots (BootNotification FirmwareUpdate answered Accepted)
    and reports Installed, all with the request's requestId: every message is answered."""
    station = await _started(stations)
    call = await _update_firmware(station, triggers, sut)
    request_id = call.payload["requestId"]
    await _statuses(station, request_id, "Downloading", "Downloaded", "SignatureVerified")
    await _reboot_and_installed(stations, station, request_id)


@pytest.mark.case("TC_L_02_CSMS")
async def test_TC_L_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, InstallScheduled (L01). The CSMS sends UpdateFirmwareRequest
    (validated as in TC_L_01) with an installDateTime later than the retrieveDateTime and in
    the future; the station reports Downloading, Downloaded, SignatureVerified, InstallScheduled,
    then Installing, reboot, Installed: every message is answered."""
    station = await _started(stations)
    call = await _update_firmware(station, triggers, sut, install_in_s=3600)
    firmware = call.payload["firmware"]
    install = _time(firmware.get("installDateTime"))
    check(install is not None and install > datetime.now(install.tzinfo), "UpdateFirmwareRequest",
          "firmware.installDateTime in the future", call.payload)
    request_id = call.payload["requestId"]
    await _statuses(station, request_id, "Downloading", "Downloaded", "SignatureVerified",
                    "InstallScheduled")
    await _reboot_and_installed(stations, station, request_id)


@pytest.mark.case("TC_L_03_CSMS")
async def test_TC_L_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, DownloadScheduled (L01). The CSMS sends UpdateFirmwareRequest
    (validated as in TC_L_01) with a retrieveDateTime in the future; the station reports
    DownloadScheduled, then Downloading, Downloaded, SignatureVerified, Installing, reboot,
    Installed: every message is answered."""
    station = await _started(stations)
    call = await _update_firmware(station, triggers, sut, retrieve_in_s=3600)
    retrieve = _time(call.payload["firmware"].get("retrieveDateTime"))
    check(retrieve is not None and retrieve > datetime.now(retrieve.tzinfo),
          "UpdateFirmwareRequest", "firmware.retrieveDateTime in the future", call.payload)
    request_id = call.payload["requestId"]
    await _statuses(station, request_id, "DownloadScheduled", "Downloading", "Downloaded",
                    "SignatureVerified")
    await _reboot_and_installed(stations, station, request_id)


@pytest.mark.case("TC_L_04_CSMS")
async def test_TC_L_04_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, RevokedCertificate (L01). The CSMS sends UpdateFirmwareRequest
    (validated as in TC_L_01), answered RevokedCertificate; the station then still answers
    the CSMS (Heartbeat answered): the CSMS takes the refusal."""
    station = await _started(stations)
    await _update_firmware(station, triggers, sut, "RevokedCertificate")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_L_05_CSMS")
async def test_TC_L_05_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, InvalidCertificate (L01): UpdateFirmwareRequest (validated
    as in TC_L_01) answered InvalidCertificate; the station sends SecurityEventNotification
    InvalidFirmwareSigningCertificate, which the CSMS answers."""
    station = await _started(stations)
    await _update_firmware(station, triggers, sut, "InvalidCertificate")
    await _security_event(station, "InvalidFirmwareSigningCertificate")


@pytest.mark.case("TC_L_06_CSMS")
async def test_TC_L_06_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, InvalidSignature (L01): UpdateFirmwareRequest (validated
    as in TC_L_01) answered Accepted; Downloading, Downloaded, InvalidSignature and a
    SecurityEventNotification InvalidFirmwareSignature are answered."""
    station = await _started(stations)
    call = await _update_firmware(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "Downloaded",
                    "InvalidSignature")
    await _security_event(station, "InvalidFirmwareSignature")


@pytest.mark.case("TC_L_07_CSMS")
async def test_TC_L_07_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, DownloadFailed: UpdateFirmwareRequest (validated as in TC_L_01)
    answered Accepted; Downloading and DownloadFailed are answered."""
    station = await _started(stations)
    call = await _update_firmware(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "DownloadFailed")


@pytest.mark.case("TC_L_08_CSMS")
async def test_TC_L_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, InstallVerificationFailed: UpdateFirmwareRequest (validated as in
    TC_L_01) answered Accepted; Downloading, Downloaded, SignatureVerified and
    InstallVerificationFailed are answered."""
    station = await _started(stations)
    call = await _update_firmware(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "Downloaded",
                    "SignatureVerified", "InstallVerificationFailed")


@pytest.mark.case("TC_L_09_CSMS")
async def test_TC_L_09_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, InstallationFailed: UpdateFirmwareRequest (validated as in
    TC_L_01) answered Accepted; Downloading, Downloaded, SignatureVerified, Installing and
    InstallationFailed are answered."""
    station = await _started(stations)
    call = await _update_firmware(station, triggers, sut)
    await _statuses(station, call.payload["requestId"], "Downloading", "Downloaded",
                    "SignatureVerified", "Installing", "InstallationFailed")


async def _second_update(stations: StationPool, triggers: Triggers, sut: Sut,
                         answer: str) -> tuple[TestStation, int, int]:
    """A first update under way (Downloading), then the CSMS sends a second
    UpdateFirmwareRequest (validated as in TC_L_01, with another requestId)."""
    station = await _started(stations)
    first = await _update_firmware(station, triggers, sut, request_id=1)
    first_id = first.payload["requestId"]
    await _statuses(station, first_id, "Downloading")
    second = await _update_firmware(station, triggers, sut, answer, request_id=2,
                                    step="second UpdateFirmwareRequest")
    second_id = second.payload["requestId"]
    check(second_id != first_id, "second UpdateFirmwareRequest",
          f"a requestId other than the first's ({first_id})", second.payload)
    return station, first_id, second_id


@pytest.mark.case("TC_L_10_CSMS")
async def test_TC_L_10_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, AcceptedCanceled (L01): while the first update downloads,
    the CSMS sends a second UpdateFirmwareRequest (validated as in TC_L_01, a new requestId),
    answered AcceptedCanceled; the station runs the new update (Downloading, Downloaded,
    SignatureVerified, Installing, reboot, Installed with the new requestId), all answered."""
    station, _, second_id = await _second_update(stations, triggers, sut, "AcceptedCanceled")
    await _statuses(station, second_id, "Downloading", "Downloaded", "SignatureVerified")
    await _reboot_and_installed(stations, station, second_id)


@pytest.mark.case("TC_L_11_CSMS")
async def test_TC_L_11_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update, unable to cancel (L01): while the first update downloads,
    the CSMS sends a second UpdateFirmwareRequest (validated as in TC_L_01, a new requestId),
    answered Rejected; the first update goes on (Downloaded, SignatureVerified, Installing,
    reboot, Installed with the first requestId), all answered."""
    station, first_id, _ = await _second_update(stations, triggers, sut, "Rejected")
    await _statuses(station, first_id, "Downloaded", "SignatureVerified")
    await _reboot_and_installed(stations, station, first_id)


@pytest.mark.case("TC_L_13_CSMS")
async def test_TC_L_13_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Secure Firmware Update with an ongoing transaction, AllowNewSessionsPendingFirmwareUpdate
    false (L01): a transaction runs on EVSE 1; the CSMS sends UpdateFirmwareRequest
    (validated as in TC_L_01), answered Accepted; Downloading, Downloaded, SignatureVerified
    and InstallScheduled are answered; the transaction ends (TransactionEvent Ended answered),
    then Installing, reboot and Installed are answered."""
    station = await _started(stations)
    tx = await energy_transfer_started_201(station, sut.tokens.valid, "CONF-TX-L13")
    call = await _update_firmware(station, triggers, sut)
    request_id = call.payload["requestId"]
    await _statuses(station, request_id, "Downloading", "Downloaded", "SignatureVerified",
                    "InstallScheduled")
    await tx.event("Ended", "EVCommunicationLost", charging_state="Idle",
                   stopped_reason="EVDisconnected", meter_wh=1000,
                   step="TransactionEventRequest Ended")
    await _reboot_and_installed(stations, station, request_id)
