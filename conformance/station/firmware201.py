"""OCPP 2.0.1 firmware (block L) and log (block N) steps the station cases share: ask for an update
or a log, and wait for the station's status notifications."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from conformance.station.csms import Received
from conformance.station.harness import Harness, check
from conformance.station.listener import (
    FileServer,
    SignedFirmware,
    signed_firmware,
)

REQUEST_IDS = itertools.count(secrets.randbelow(1000) * 1000 + 1)


async def log_status(h: Harness, request_id: int, statuses: tuple[str, ...], *, step: str,
                     timeout_s: float | None = None) -> Received:
    return await h.csms.receive(
        "LogStatusNotification", step=step,
        where=lambda p: p.get("status") in statuses and p.get("requestId") == request_id,
        timeout_s=timeout_s or h.wait_s,
        expected=f"LogStatusNotification {' or '.join(statuses)} with requestId {request_id}")


async def get_log(h: Harness, log_type: str, location: str) -> int:
    request_id = next(REQUEST_IDS)
    answer = await h.csms.call("GetLog", {"logType": log_type, "requestId": request_id,
                                          "log": {"remoteLocation": location}},
                               step="GetLogRequest")
    check(answer.get("status") == "Accepted", "GetLogResponse", "Accepted", answer)
    return request_id


def utc_in(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def publish_firmware(h: Harness, files: FileServer, name: str, **variant: bool
                     ) -> tuple[str, SignedFirmware]:
    """Serve a signed image (the SUT file's, else the harness's; ``variant``: tampered,
    expired_certificate); its location and what UpdateFirmware says about it."""
    firmware = signed_firmware(h.sut.firmware, **variant)
    return files.publish(f"/firmware/{secrets.token_hex(4)}/{name}", firmware.image), firmware


async def update_firmware(h: Harness, location: str, image: SignedFirmware, *, retrieve: str,
                          install: str | None = None, expected: str = "Accepted") -> int:
    request_id = next(REQUEST_IDS)
    firmware: dict[str, Any] = {"location": location, "retrieveDateTime": retrieve,
                                "signingCertificate": image.signing_certificate,
                                "signature": image.signature}
    if install is not None:
        firmware["installDateTime"] = install
    answer = await h.csms.call("UpdateFirmware", {"requestId": request_id,
                                                  "firmware": firmware},
                               step="UpdateFirmwareRequest")
    check(answer.get("status") == expected, "UpdateFirmwareResponse", expected, answer)
    return request_id


async def firmware_status(h: Harness, request_id: int, statuses: tuple[str, ...], *, step: str,
                          timeout_s: float | None = None) -> Received:
    return await h.csms.receive(
        "FirmwareStatusNotification", step=step,
        where=lambda p: p.get("status") in statuses and p.get("requestId") == request_id,
        timeout_s=timeout_s or h.wait_s,
        expected=f"FirmwareStatusNotification {' or '.join(statuses)} with requestId "
                 f"{request_id}")


async def firmware_sequence(h: Harness, request_id: int, statuses: tuple[str, ...]
                            ) -> list[Received]:
    """The FirmwareStatusNotifications ``statuses``, each after the one before."""
    records = [await firmware_status(h, request_id, (status,), step=status)
               for status in statuses]
    check([r.index for r in records] == sorted(r.index for r in records),
          "FirmwareStatusNotification", f"{', '.join(statuses)} in this order",
          [r.payload.get("status") for r in sorted(records, key=lambda r: r.index)])
    return records


async def installed_after_reboot(h: Harness, request_id: int, installing: Received) -> None:
    """The closing block of a successful update: the station reboots (BootNotification with
    reason FirmwareUpdate) and reports Installed, in either order, after Installing."""
    boot = await h.csms.receive("BootNotification", step="BootNotification after the update",
                                where=lambda p: p.get("reason") == "FirmwareUpdate",
                                timeout_s=h.connect_s,
                                expected="BootNotification with reason FirmwareUpdate")
    installed = await firmware_status(h, request_id, ("Installed",), step="Installed",
                                      timeout_s=h.connect_s)
    check(boot.index > installing.index and installed.index > installing.index,
          "Installed", "the reboot and Installed after Installing",
          [installing.payload, boot.payload, installed.payload])
