"""OCPP 2.0.1 provisioning steps the station cases share (block B): ask for a base report and
collect its parts, see the station reboot after a reset, or stay connected."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from conformance.station.harness import Harness, Received, check

REPORT_REQUEST_ID = 4201


async def notify_report_parts(h: Harness, request_id: int, *, step: str) -> list[Received]:
    """Every NotifyReport part of ``request_id``, up to the one with tbc false: requestId
    as asked, seqNo 0, 1, 2, ... in order."""
    parts: list[Received] = []
    while True:
        part = await h.csms.receive("NotifyReport", step=f"{step} (seqNo {len(parts)})",
                                    where=lambda p: p.get("requestId") == request_id,
                                    expected=f"NotifyReport requestId {request_id}")
        check(part.payload.get("seqNo") == len(parts), step,
              f"seqNo {len(parts)} (parts in order, from 0)", part.payload.get("seqNo"))
        parts.append(part)
        if not part.payload.get("tbc", False):
            return parts


def report_data(parts: list[Received]) -> list[dict[str, Any]]:
    return [item for part in parts for item in part.payload.get("reportData", [])]


async def get_base_report(h: Harness, base: str) -> list[dict[str, Any]]:
    answer = await h.csms.call("GetBaseReport", {"requestId": REPORT_REQUEST_ID,
                                                 "reportBase": base},
                               step="GetBaseReportRequest")
    check(answer.get("status") == "Accepted", "GetBaseReportResponse", "Accepted", answer)
    parts = await notify_report_parts(h, REPORT_REQUEST_ID, step="NotifyReportRequest")
    items = report_data(parts)
    check(bool(items), "NotifyReportRequest", "reportData", [p.payload for p in parts][:2])
    return items


async def rebooted_remotely(h: Harness, before: int, *, step: str) -> Received:
    """The station reconnects and boots with reason RemoteReset."""
    await h.csms.new_connection(before, h.wait_s * 2, step=f"{step}: reconnect")
    boot = await h.csms.receive("BootNotification", step=f"{step}: BootNotificationRequest",
                                timeout_s=h.connect_s)
    check(boot.payload.get("reason") == "RemoteReset", f"{step}: BootNotificationRequest",
          "reason RemoteReset", boot.payload)
    return boot


async def stays_connected(h: Harness, *, within_s: float, step: str) -> None:
    """The station keeps its connection for ``within_s`` (it does not reboot)."""
    connection = h.csms.connection
    check(connection is not None, step, "a connected station", "not connected")
    assert connection is not None
    closed = connection.closed
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(closed.wait(), within_s)
    check(not closed.is_set(), step, f"the station connected for {within_s:g} s",
          "it closed the connection (rebooting?)")
