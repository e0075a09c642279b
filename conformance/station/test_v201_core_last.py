"""OCPP 2.0.1 Core (M), charging station under test: network reconnection after a connection
loss (the reconnecting rules of Part 4 §5.3), a firmware update without signing certificate
and signature, and requests of the CSMS to a station it has rejected (Part 6 Edition 3,
errata 2025-09)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest

from chargeloop.ocppj.errors import CallErrorReceived
from conformance.station.harness import Harness, check, now_iso
from conformance.station.listener import file_server, signed_firmware

pytestmark = pytest.mark.asyncio(loop_scope="session")

WAIT_MINIMUM_S = 1  # RetryBackOffWaitMinimum the case configures (short: the suite's timers)
EARLY_SLACK_S = 0.2  # clock resolution between the station's timer and ours
REJECTED_INTERVAL_S = 3  # TC_B_30: long enough to send the station a request meanwhile


@pytest.mark.case("TC_B_57_CS")
async def test_TC_B_57_CS(h: Harness) -> None:
    """Network reconnection after a connection loss: (OCPPCommCtrlr
    NetworkProfileConnectionAttempts 3, RetryBackOffRepeatTimes 2, RetryBackOffRandomRange 0,
    RetryBackOffWaitMinimum set, all Accepted) the harness closes the connection: the station
    reconnects, not before RetryBackOffWaitMinimum; the harness closes it again and refuses
    the next attempt, which comes not before RetryBackOffWaitMinimum either; the attempt after
    that comes not before twice that back-off (doubled after a failed attempt) and is let
    in."""
    await h.booted()
    for variable, value in (("NetworkProfileConnectionAttempts", "3"),
                            ("RetryBackOffRepeatTimes", "2"), ("RetryBackOffRandomRange", "0"),
                            ("RetryBackOffWaitMinimum", str(WAIT_MINIMUM_S))):
        await h.set_variable201("OCPPCommCtrlr", variable, value, step=f"before: {variable}")
    csms = h.csms
    connection = csms.connection
    check(connection is not None, "connection loss", "a connected station", "not connected")
    assert connection is not None
    before = len(csms.connections)
    closed_at = await _close(h, connection.number)
    number = await csms.new_connection(before, WAIT_MINIMUM_S + h.connect_s,
                                       step="the station reconnects")
    gap = csms.connections[number].opened - closed_at
    check(gap >= WAIT_MINIMUM_S - EARLY_SLACK_S, "reconnection",
          f"not before RetryBackOffWaitMinimum ({WAIT_MINIMUM_S} s)", f"after {gap:.2f} s")
    refused_before = len(csms.refused_at)
    csms.refuse_next(1)
    before = len(csms.connections)
    closed_at = await _close(h, number)
    refused_at = await csms.refused_attempt(refused_before, WAIT_MINIMUM_S + h.connect_s,
                                            step="reconnection attempt (refused)")
    gap = refused_at - closed_at
    check(gap >= WAIT_MINIMUM_S - EARLY_SLACK_S, "reconnection attempt",
          f"not before RetryBackOffWaitMinimum ({WAIT_MINIMUM_S} s)", f"after {gap:.2f} s")
    again = await csms.new_connection(before, 2 * WAIT_MINIMUM_S + h.connect_s,
                                      step="reconnection after the refused attempt")
    gap = csms.connections[again].opened - refused_at
    check(gap >= 2 * WAIT_MINIMUM_S - EARLY_SLACK_S, "reconnection after a failed attempt",
          f"not before twice the back-off ({2 * WAIT_MINIMUM_S} s)", f"after {gap:.2f} s")


async def _close(h: Harness, number: int) -> float:
    """The harness closes the station's connection ``number``; when it began to."""
    at = time.monotonic()
    await h.csms.connections[number].session.close()
    return at


@pytest.mark.case("TC_L_18_CS")
async def test_TC_L_18_CS(h: Harness) -> None:
    """Secure firmware update without signing certificate and signature: UpdateFirmwareRequest
    whose firmware has a location (an image the harness serves) and a retrieveDateTime but
    neither signingCertificate nor signature is answered Rejected, and the station does not
    start the update (no FirmwareStatusNotification Downloading)."""
    await h.booted()
    async with file_server(h.csms.url) as files:
        image = signed_firmware(h.sut.firmware).image
        location = files.publish(f"/firmware/{secrets.token_hex(4)}/unsigned.bin", image)
        retrieve = (datetime.now(UTC) - timedelta(hours=2)).isoformat(
            timespec="seconds").replace("+00:00", "Z")
        answer = await h.csms.call("UpdateFirmware", {
            "requestId": 1800 + secrets.randbelow(100),
            "firmware": {"location": location, "retrieveDateTime": retrieve}},
            step="UpdateFirmwareRequest")
        check(answer.get("status") == "Rejected", "UpdateFirmwareResponse", "Rejected", answer)
        await h.csms.nothing("FirmwareStatusNotification", step="no download", within_s=1.0,
                             where=lambda p: p.get("status") == "Downloading",
                             expected="no FirmwareStatusNotification Downloading")


@pytest.mark.case("TC_B_30_CS")
async def test_TC_B_30_CS(h: Harness) -> None:
    """Cold boot Rejected, SecurityError: the station's BootNotification is answered Rejected
    (with an interval of a few seconds); a request of the CSMS meanwhile
    (GetBaseReportRequest) is answered with CALLERROR SecurityError; the station's next
    BootNotification, after the interval, is answered Accepted."""
    csms, interval = h.csms, REJECTED_INTERVAL_S
    csms.answer_next("BootNotification", {"status": "Rejected", "currentTime": now_iso(),
                                          "interval": interval})
    await h.fresh(step="power cycle")
    boot = await csms.receive("BootNotification", step="BootNotification (Rejected)",
                              timeout_s=h.connect_s)
    # the request follows the answer Rejected on the wire, not the other way round
    boot_id = next((f.message_id for f in reversed(csms.frames) if f.direction == "in" and
                    f.action == "BootNotification" and f.message_type == 2), None)
    answered = await csms.frame_in(lambda f: f.message_type == 3 and f.message_id == boot_id,
                                   h.wait_s, direction="out")
    check(answered is not None, "BootNotificationResponse", "the answer Rejected sent",
          boot.payload)
    answer = await csms.call_or_error("GetBaseReport", {
        "requestId": 3000 + secrets.randbelow(100), "reportBase": "FullInventory"},
        step="GetBaseReportRequest while Rejected")
    check(isinstance(answer, CallErrorReceived) and answer.code == "SecurityError",
          "GetBaseReport while Rejected", "CALLERROR SecurityError",
          answer if isinstance(answer, dict) else f"CALLERROR {answer.code}")
    second = await csms.receive("BootNotification", step="BootNotification after interval",
                                timeout_s=interval + h.wait_s)
    check(second.answer is not None and second.answer["status"] == "Accepted",
          "BootNotificationResponse", "Accepted", second.answer)
