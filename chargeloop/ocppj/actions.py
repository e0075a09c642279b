"""Which side starts which action, so a CALL sent the wrong way gets ``NotSupported``."""

from __future__ import annotations

from enum import StrEnum

from chargeloop.ocppj.schemas import known_actions
from chargeloop.ocppj.versions import ALL_VERSIONS, OcppVersion


class Role(StrEnum):
    STATION = "station"
    CSMS = "csms"

    @property
    def peer(self) -> Role:
        return Role.CSMS if self is Role.STATION else Role.STATION


_STATION_SENDS_16 = frozenset({
    "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
    "StatusNotification", "StopTransaction",
    # Security whitepaper
    "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
    "SignedFirmwareStatusNotification",
})

_STATION_SENDS_201 = frozenset({
    "Authorize", "BootNotification", "ClearedChargingLimit", "DataTransfer",
    "FirmwareStatusNotification", "Get15118EVCertificate", "GetCertificateStatus", "Heartbeat",
    "LogStatusNotification", "MeterValues", "NotifyChargingLimit", "NotifyCustomerInformation",
    "NotifyDisplayMessages", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule", "NotifyEvent",
    "NotifyMonitoringReport", "NotifyReport", "PublishFirmwareStatusNotification",
    "ReportChargingProfiles", "ReservationStatusUpdate", "SecurityEventNotification",
    "SignCertificate", "StatusNotification", "TransactionEvent",
})

_STATION_SENDS_21_ADDED = frozenset({
    "BatterySwap", "ClosePeriodicEventStream", "GetCertificateChainStatus", "NotifyDERAlarm",
    "NotifyDERStartStop", "NotifyPeriodicEventStream", "NotifyPriorityCharging",
    "NotifyQRCodeScanned", "NotifySettlement", "OpenPeriodicEventStream",
    "PullDynamicScheduleUpdate", "ReportDERControl", "VatNumberValidation",
})

_BOTH_WAYS = frozenset({"DataTransfer"})


def _station_sends(version: OcppVersion) -> frozenset[str]:
    if version is OcppVersion.V16:
        return _STATION_SENDS_16
    if version is OcppVersion.V201:
        return _STATION_SENDS_201
    return _STATION_SENDS_201 | _STATION_SENDS_21_ADDED


def may_send(version: OcppVersion, role: Role, action: str) -> bool:
    """Whether ``role`` may start ``action`` in ``version`` (assumes the action is known)."""
    if action in _BOTH_WAYS:
        return True
    return (action in _station_sends(version)) == (role is Role.STATION)


def defined_elsewhere(version: OcppVersion, action: str) -> bool:
    """Whether ``action`` is an action of another OCPP version (StartTransaction on 2.0.1)."""
    return any(action in known_actions(v) for v in ALL_VERSIONS if v is not version)
