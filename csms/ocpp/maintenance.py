"""Maintenance and security messages from stations, both OCPP versions, to the domain.

``register_maintenance(adapter)`` is called at the end of each version adapter's ``register``.
1.6 (with the security whitepaper's messages): FirmwareStatusNotification,
DiagnosticsStatusNotification, SignedFirmwareStatusNotification, LogStatusNotification,
SecurityEventNotification, SignCertificate. 2.0.1: FirmwareStatusNotification,
PublishFirmwareStatusNotification (a Local Controller), LogStatusNotification,
SecurityEventNotification, SignCertificate, NotifyEvent, NotifyCustomerInformation,
NotifyMonitoringReport. The commands the CSMS sends are spelled in
:mod:`csms.ocpp.maintenance_wire`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chargeloop.ocppj import OcppVersion
from chargeloop.ocppj.schemas import known_actions
from csms.domain.diagnostics import EventItem
from csms.domain.timeutil import parse_timestamp
from csms.ocpp.adapter import Adapter

Payload = dict[str, Any]


class MaintenanceHandlers:
    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.station_id = adapter.station_id
        self.maintenance = adapter.core.maintenance

    def routes(self, version: OcppVersion) -> dict[str, Callable[[Payload],
                                                                 Awaitable[Payload]]]:
        common = {"LogStatusNotification": self.log_status_notification,
                  "SecurityEventNotification": self.security_event_notification,
                  "SignCertificate": self.sign_certificate}
        if version is OcppVersion.V16:
            return {**common,
                    "FirmwareStatusNotification": self.firmware_status_notification_16,
                    "SignedFirmwareStatusNotification": self.firmware_status_notification,
                    "DiagnosticsStatusNotification": self.diagnostics_status_notification}
        return {**common, "FirmwareStatusNotification": self.firmware_status_notification,
                "PublishFirmwareStatusNotification": self.publish_firmware_status_notification,
                "NotifyEvent": self.notify_event,
                "NotifyCustomerInformation": self.notify_customer_information,
                "NotifyMonitoringReport": self.notify_monitoring_report}

    # -- firmware, logs ----------------------------------------------------------------------------

    async def firmware_status_notification_16(self, p: Payload) -> Payload:
        await self.maintenance.firmware.status(self.station_id, p["status"],
                                               latest_plain_request=True)
        return {}

    async def firmware_status_notification(self, p: Payload) -> Payload:
        await self.maintenance.firmware.status(self.station_id, p["status"], p.get("requestId"))
        return {}

    async def publish_firmware_status_notification(self, p: Payload) -> Payload:
        await self.maintenance.firmware.publish_status(self.station_id, p["status"],
                                                       p.get("requestId"), p.get("location"))
        return {}

    async def diagnostics_status_notification(self, p: Payload) -> Payload:
        await self.maintenance.diagnostics.log_status(self.station_id, p["status"],
                                                      diagnostics=True)
        return {}

    async def log_status_notification(self, p: Payload) -> Payload:
        await self.maintenance.diagnostics.log_status(self.station_id, p["status"],
                                                      p.get("requestId"))
        return {}

    # -- security ------------------------------------------------------------------------------

    async def security_event_notification(self, p: Payload) -> Payload:
        now = self.adapter.now()
        await self.maintenance.security.security_event(
            self.station_id, p["type"], parse_timestamp(p["timestamp"], now) or now,
            p.get("techInfo"))
        return {}

    async def sign_certificate(self, p: Payload) -> Payload:
        verdict = await self.maintenance.security.sign_certificate(
            self.station_id, p["csr"], p.get("certificateType"))
        if verdict.accepted:
            return {"status": "Accepted"}
        answer: Payload = {"status": "Rejected"}
        if self.adapter.session.version.is_2x and verdict.reason:
            answer["statusInfo"] = {"reasonCode": "InvalidCSR",
                                    "additionalInfo": verdict.reason[:512]}
        return answer

    # -- 2.0.1 diagnostics ---------------------------------------------------------------------

    async def notify_event(self, p: Payload) -> Payload:
        now = self.adapter.now()
        items = [EventItem(
            event_id=d["eventId"], timestamp=parse_timestamp(d["timestamp"], now) or now,
            trigger=d["trigger"], actual_value=d["actualValue"],
            event_notification_type=d["eventNotificationType"], component=d["component"],
            variable=d["variable"], cause=d.get("cause"), tech_code=d.get("techCode"),
            tech_info=d.get("techInfo"), cleared=d.get("cleared"),
            transaction_id=d.get("transactionId"),
            variable_monitoring_id=d.get("variableMonitoringId"), severity=d.get("severity"),
            raw=d) for d in p["eventData"]]
        await self.maintenance.diagnostics.notify_event(
            self.station_id, parse_timestamp(p["generatedAt"], now) or now, p["seqNo"],
            p.get("tbc", False), items)
        return {}

    async def notify_monitoring_report(self, p: Payload) -> Payload:
        now = self.adapter.now()
        await self.maintenance.diagnostics.monitoring_report_part(
            self.station_id, p["requestId"], p["seqNo"], p.get("tbc", False),
            parse_timestamp(p["generatedAt"], now) or now, p.get("monitor", []))
        return {}

    async def notify_customer_information(self, p: Payload) -> Payload:
        now = self.adapter.now()
        await self.maintenance.diagnostics.customer_information_part(
            self.station_id, p["requestId"], p["seqNo"], p.get("tbc", False), p["data"],
            parse_timestamp(p["generatedAt"], now) or now)
        return {}


def register_maintenance(adapter: Adapter) -> None:
    """Route this area's station messages of the adapter's version."""
    version = adapter.session.version
    known = known_actions(version)
    for action, handler in MaintenanceHandlers(adapter).routes(version).items():
        if action in known:
            adapter.route(action, handler)
