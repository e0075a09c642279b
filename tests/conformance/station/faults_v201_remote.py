"""Faulty-station variants for OCPP 2.0.1 station cases (area: remote): remote start and unlock
(conformance/station/test_v201_remote_control.py), trigger message
(test_v201_trigger_message.py), Reset of an EVSE and of a station with several transactions
(test_v201_reset_evse.py): case id -> the fault that breaks the rule the case checks (merged
into ``faulty_station.FAULTS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.station import SimStation
from tests.conformance.station.fault_kit import (
    Fault,
    Payload,
    answer,
    ignored,
    messages_changed,
    with_fields,
)


def _requested(message: str, *, with_evse: bool = False) -> Callable[[Payload], bool]:
    """A TriggerMessage for ``message`` (with an evse, if ``with_evse``)."""
    return lambda p: p.get("requestedMessage") == message and (not with_evse or "evse" in p)


def _with_evse(p: Payload) -> bool:
    return bool(p.get("evseId"))


def _triggered_without(key: str) -> Callable[[Payload], None]:
    """A triggered TransactionEvent (triggerReason Trigger) loses ``key`` (of the payload, or
    of its transactionInfo)."""
    def change(p: Payload) -> None:
        if p.get("triggerReason") == "Trigger":
            p.pop(key, None)
            p["transactionInfo"].pop(key, None)
    return change


def _drop_remote_start_id(p: Payload) -> None:
    p["transactionInfo"].pop("remoteStartId", None)


def _context_periodic(p: Payload) -> None:
    for value in p.get("meterValue", []):
        for sampled in value.get("sampledValue", []):
            sampled["context"] = "Sample.Periodic"


def remote_start_authorized_without_asking(station: SimStation) -> None:
    """A remote start's token is taken without an AuthorizeRequest, whatever
    AuthorizeRemoteStart says."""
    from simulator.station.authorization import Verdict

    def authorize(token_id: str, token_type: str = "ISO14443", evse_id: int | None = None
                  ) -> Any:
        yield station.env.timeout(0)
        return Verdict("Accepted")

    station.authorize = authorize  # type: ignore[method-assign]


def remote_start_always_authorized(station: SimStation) -> None:
    """Every remote start's token is authorized first, even with AuthorizeRemoteStart
    false."""
    proto = station.proto
    original = proto.remote_start_flow

    def remote_start_flow(evse: Any, token_id: str, token_type: str, *rest: Any) -> Any:
        yield from station.authorize(token_id, token_type, evse.id)
        return (yield from original(evse, token_id, token_type, *rest))

    proto.remote_start_flow = remote_start_flow  # type: ignore[method-assign]


def trigger_sees(attribute: str, value: Any, message: str) -> Fault:
    """While answering a TriggerMessage for ``message`` the station reads ``attribute`` as
    ``value`` (it reports a state it is not in)."""
    def apply(station: SimStation) -> None:
        proto = station.proto
        original = proto.handle

        def handle(name: str, payload: Payload) -> Any:
            if name != "TriggerMessage" or payload.get("requestedMessage") != message:
                return original(name, payload)
            kept = getattr(station, attribute)
            setattr(station, attribute, value)
            try:
                return original(name, payload)
            finally:
                setattr(station, attribute, kept)

        proto.handle = handle  # type: ignore[method-assign]
    return apply


def triggered_status(status: str) -> Fault:
    """A triggered StatusNotification reports ``status``, whatever the connector's state."""
    def apply(station: SimStation) -> None:
        proto = station.proto

        def send_statuses(evses: list[Any]) -> None:
            for evse in evses:
                for message in proto.status_messages(evse, status):
                    station.enqueue(message)

        proto._send_statuses = send_statuses  # type: ignore[method-assign]
    return apply


def reboots_when_one_evse_is_idle(station: SimStation) -> None:
    """A Reset OnIdle is carried out as soon as one transaction ends, not when all have."""
    original = station._end_tx

    def end_tx(evse: Any, reason: str, trigger: str) -> None:
        original(evse, reason, trigger)
        kind = station._reset_when_idle
        if kind is not None:
            station._reset_when_idle = None
            station.env.process(station._reboot(kind))

    station._end_tx = end_tx  # type: ignore[method-assign]


FAULTS: dict[str, Fault] = {
    # remote start: no remoteStartId in the transaction's events
    "TC_F_01_CS": messages_changed("TransactionEvent", _drop_remote_start_id),
    "TC_F_02_CS": remote_start_authorized_without_asking,
    "TC_F_03_CS": remote_start_always_authorized,
    # unlock: the lock opens under an authorized transaction / stays shut / any connector
    "TC_F_05_CS": answer("UnlockConnector", with_fields(status="Unlocked")),
    "TC_F_06_CS": answer("UnlockConnector", with_fields(status="UnlockFailed")),
    "TC_F_07_CS": answer("UnlockConnector", with_fields(status="UnlockFailed")),
    "TC_F_10_CS": answer("UnlockConnector", with_fields(status="Unlocked")),
    # trigger message
    "TC_F_11_CS": messages_changed("MeterValues", _context_periodic),
    "TC_F_12_CS": ignored("TriggerMessage", {"status": "Accepted"},
                          when=_requested("MeterValues")),
    "TC_F_13_CS": messages_changed("TransactionEvent", _triggered_without("meterValue")),
    "TC_F_14_CS": messages_changed("TransactionEvent", _triggered_without("chargingState")),
    "TC_F_15_CS": trigger_sees("log_status", "Uploading", "LogStatusNotification"),
    "TC_F_16_CS": trigger_sees("log_status", "Idle", "LogStatusNotification"),
    "TC_F_17_CS": answer("TriggerMessage", with_fields(status="Rejected"), drop_follow=True,
                         when=_requested("FirmwareStatusNotification", with_evse=True)),
    "TC_F_18_CS": trigger_sees("firmware_status", "Downloading",
                               "FirmwareStatusNotification"),
    "TC_F_19_CS": trigger_sees("firmware_status", "Idle", "FirmwareStatusNotification"),
    "TC_F_23_CS": triggered_status("Unavailable"),
    "TC_F_24_CS": triggered_status("Available"),
    "TC_F_26_CS": answer("TriggerMessage", with_fields(status="Accepted"),
                         when=_requested("BootNotification")),
    "TC_F_27_CS": answer("TriggerMessage", with_fields(status="Rejected"),
                         when=_requested("SignCombinedCertificate")),
    # Reset of an EVSE
    "TC_B_25_CS": answer("Reset", with_fields(status="Rejected"), drop_follow=True,
                         when=_with_evse),
    "TC_B_26_CS": answer("Reset", with_fields(status="Accepted"), when=_with_evse),
    "TC_B_27_CS": answer("Reset", with_fields(), drop_follow=True, when=_with_evse),
    # ... accepted by a station that cannot do it
    "TC_B_28_CS": answer("Reset", with_fields(status="Accepted"), when=_with_evse),
    "TC_B_29_CS": answer("Reset", with_fields(status="Scheduled"), when=_with_evse),
    "TC_B_41_CS": reboots_when_one_evse_is_idle,
}
