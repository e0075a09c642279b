"""Faulty-station variants for OCPP 2.0.1 Core cases added after the first set: case id -> the
fault that breaks the rule the case checks (merged into ``faulty_station.FAULTS``)."""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chargeloop.ocppj import ErrorKind, OcppError
from simulator.station import SimStation
from simulator.station.outbox import OutMessage
from tests.conformance.station.fault_kit import (
    Fault,
    Payload,
    answer,
    boot_retry_at_once,
    connection_timeout_early,
    request_changed,
    results_with,
    set_variables_without_storing,
    with_fields,
)


def nth_answer(action: str, n: int, change: Callable[[Payload, Payload], Payload]) -> Fault:
    """Only the ``n``-th ``action`` request (1-based) of the case gets ``change(answer,
    request)`` as its answer; the others are answered faithfully."""
    def apply(station: SimStation) -> None:
        proto = station.proto
        original = proto.handle
        seen = [0]

        def handle(name: str, payload: Payload) -> Any:
            result = original(name, payload)
            if name != action:
                return result
            seen[0] += 1
            if seen[0] != n:
                return result

            def changed() -> Any:
                outcome = result
                if isinstance(outcome, types.GeneratorType):
                    outcome = yield from outcome
                if isinstance(outcome, tuple):
                    return change(dict(outcome[0]), payload), outcome[1]
                return change(dict(outcome), payload)
                yield  # a generator, as SimStation's dispatch expects of slow handlers

            return changed()

        proto.handle = handle  # type: ignore[method-assign]
    return apply


def availability_forgotten_on_reboot(station: SimStation) -> None:
    """After a reboot every EVSE and the station are operative again, whatever the CSMS
    set."""
    original = station._reboot

    def reboot(kind: str, boot_reason: str | None = None) -> Any:
        result = yield from original(kind, boot_reason)
        station.operative = True
        for evse in station.evses:
            evse.operative, evse.scheduled_operative = True, None
        return result

    station._reboot = reboot  # type: ignore[method-assign]


def statuses_resent_after(action: str, n: int | None = None) -> Fault:
    """After answering ``action`` (only its ``n``-th request, 1-based, if given) the station
    reports every connector's status again, though nothing changed."""
    def apply(station: SimStation) -> None:
        proto = station.proto
        original = proto.handle
        seen = [0]

        def handle(name: str, payload: Payload) -> Any:
            result = original(name, payload)
            if name != action:
                return result
            seen[0] += 1
            if n is not None and seen[0] != n:
                return result

            def resent() -> Any:
                outcome = result
                if isinstance(outcome, types.GeneratorType):
                    outcome = yield from outcome
                follow = None
                if isinstance(outcome, tuple):
                    outcome, follow = outcome

                def then() -> Any:
                    if follow is not None:
                        yield from follow
                    yield station.env.timeout(0)
                    proto._send_statuses(list(station.evses))

                return outcome, then()
                yield  # a generator, as SimStation's dispatch expects of slow handlers

            return resent()

        proto.handle = handle  # type: ignore[method-assign]
    return apply


def connection_timeout_ignored(station: SimStation) -> None:
    """EVConnectionTimeOut passes and nothing happens: the authorisation (and a transaction
    started on it) stays."""
    def never(evse: Any, auth: Any) -> Any:
        yield station.env.timeout(0)

    station._connection_timeout = never  # type: ignore[method-assign]


def setting_instead(prop: str, value: Any) -> Fault:
    """The station behaves as if its setting ``prop`` were ``value``, whatever the CSMS set
    (the typed settings are read-only views: an instance attribute shadows one)."""
    def apply(station: SimStation) -> None:
        station.settings.__dict__[prop] = value
    return apply


def sent_changed(action: str, change: Callable[[Payload], Payload]) -> Fault:
    """The station's ``action`` messages go out as ``change(payload)``."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            if message.action == action:
                message.payload = change(message.payload)
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def meter_values_with(*, shift_s: float = 0.0, context: str | None = None,
                      only: Callable[[Payload], bool] | None = None
                      ) -> Callable[[Payload], Payload]:
    """meterValue timestamps ``shift_s`` later and / or every sampledValue with ``context``
    (for the messages ``only`` selects)."""
    def change(payload: Payload) -> Payload:
        if "meterValue" not in payload or (only is not None and not only(payload)):
            return payload
        values = []
        for mv in payload["meterValue"]:
            stamp = datetime.fromisoformat(mv["timestamp"].replace("Z", "+00:00"))
            stamp += timedelta(seconds=shift_s)
            sampled = [{**sv, "context": context} if context else sv
                       for sv in mv["sampledValue"]]
            values.append({"timestamp": stamp.isoformat(timespec="milliseconds")
                           .replace("+00:00", "Z"), "sampledValue": sampled})
        return {**payload, "meterValue": values}
    return change


def refuses_custom_data(station: SimStation) -> None:
    """A request holding customData is answered with CALLERROR FormatViolation (the station
    takes the extension point for an unknown property)."""
    proto = station.proto
    original = proto.handle

    def handle(name: str, payload: Payload) -> Any:
        if "customData" in payload:
            raise OcppError(ErrorKind.FORMAT_VIOLATION, "customData is not allowed")
        return original(name, payload)

    proto.handle = handle  # type: ignore[method-assign]


def replayed_without_offline_flag(station: SimStation) -> None:
    """TransactionEvents queued while offline go out without ``offline`` true."""
    original = station.enqueue

    def enqueue(message: OutMessage) -> None:
        if message.action == "TransactionEvent":
            message.prepare = None
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]


def pending_taken_as_accepted(station: SimStation) -> None:
    """A boot answered Pending is taken as Accepted: the station goes on as if accepted."""
    original = station.call_now

    def call_now(action: str, payload: Payload) -> Any:
        result = yield from original(action, payload)
        if action == "BootNotification" and result.get("status") == "Pending":
            result = {**result, "status": "Accepted"}
        return result

    station.call_now = call_now  # type: ignore[method-assign]


def statuses_unreported_after_reconnect(station: SimStation) -> None:
    """Back online after a connection loss (no reboot), the station reports no status, not
    even one that changed while it was offline."""
    original = station._report_statuses

    def report(everything: bool) -> None:
        if station._offline_since is None:
            original(everything)

    station._report_statuses = report  # type: ignore[method-assign]


def scheduled_reset_at_once(station: SimStation) -> None:
    """Reset OnIdle with a transaction going is answered Scheduled, and the station resets at
    once (ending the transaction) instead of waiting for it to end."""
    request_changed("Reset", lambda request: {**request, "type": "Immediate"})(station)
    answer("Reset", with_fields(status="Scheduled"))(station)


def scheduled_availability_forgotten(sim: SimStation) -> None:
    """ChangeAvailability with a transaction going is answered Scheduled, and the change is
    forgotten: when the transaction ends the EVSE is as available as before."""
    original = sim.change_availability

    def change_availability(evses: list[Any], operative: bool, *, station: bool) -> str:
        before = sim.operative
        status = original(evses, operative, station=station)
        if status == "Scheduled":
            for evse in evses:
                evse.scheduled_operative = None
            sim.operative = before
        return status

    sim.change_availability = change_availability  # type: ignore[method-assign]


def report_base_instead(base: str) -> Fault:
    """GetBaseReport sends the report ``base`` whatever report the CSMS asked for."""
    return request_changed("GetBaseReport", lambda request: {**request, "reportBase": base})


FAULTS: dict[str, Fault] = {
    "TC_B_11_CS": set_variables_without_storing,
    "TC_B_37_CS": answer("SetVariables", results_with("setVariableResult",
                                                  attributeStatus="Accepted")),
    "TC_B_12_CS": report_base_instead("FullInventory"),
    "TC_B_13_CS": answer("GetBaseReport", with_fields(), drop_follow=True),
    "TC_B_21_CS": scheduled_reset_at_once,
    "TC_B_22_CS": answer("Reset", with_fields(), drop_follow=True),
    "TC_B_23_CS": availability_forgotten_on_reboot,
    "TC_G_10_CS": statuses_resent_after("ChangeAvailability", 2),
    "TC_G_12_CS": statuses_resent_after("ChangeAvailability"),
    "TC_G_13_CS": statuses_resent_after("ChangeAvailability", 2),
    "TC_G_15_CS": statuses_resent_after("ChangeAvailability"),
    "TC_G_16_CS": nth_answer("ChangeAvailability", 2, with_fields(status="Rejected")),
    "TC_G_11_CS": scheduled_availability_forgotten,
    "TC_G_14_CS": scheduled_availability_forgotten,
    "TC_G_17_CS": scheduled_availability_forgotten,
    "TC_G_18_CS": availability_forgotten_on_reboot,
    "TC_G_19_CS": availability_forgotten_on_reboot,
    "TC_G_21_CS": availability_forgotten_on_reboot,
    "TC_E_32_CS": answer("GetTransactionStatus", with_fields(ongoingIndicator=True)),
    "TC_E_34_CS": answer("GetTransactionStatus", with_fields(messagesInQueue=True)),
    "TC_E_39_CS": connection_timeout_early,
    "TC_F_04_CS": connection_timeout_ignored,
    "TC_E_50_CS": setting_instead("transaction_message_attempts", 5),
    "TC_E_51_CS": setting_instead("transaction_message_retry_interval_s", 0),
    "TC_J_01_CS": sent_changed("MeterValues", meter_values_with(shift_s=0.4)),
    "TC_J_02_CS": sent_changed("TransactionEvent", meter_values_with(
        context="Sample.Periodic", only=lambda p: p["triggerReason"] == "MeterValueClock")),
    "TC_J_07_CS": setting_instead("tx_started_measurands", ()),
    "TC_J_09_CS": setting_instead("sampled_measurands", ("Energy.Active.Import.Register",)),
    "TC_J_10_CS": setting_instead("tx_ended_measurands", ()),
    "TC_N_32_CS": request_changed("CustomerInformation",
                                  lambda request: {**request, "report": True}),
    "TC_P_01_CS": answer("DataTransfer", with_fields(status="Accepted")),
    "TC_P_03_CS": refuses_custom_data,
    "TC_E_40_CS": replayed_without_offline_flag,
    "TC_E_29_CS": answer("GetTransactionStatus", with_fields(messagesInQueue=False)),
    "TC_E_33_CS": answer("GetTransactionStatus", with_fields(messagesInQueue=False)),
    "TC_B_02_CS": pending_taken_as_accepted,
    "TC_B_03_CS": boot_retry_at_once,
    "TC_B_51_CS": statuses_unreported_after_reconnect,
    "TC_B_52_CS": statuses_unreported_after_reconnect,
    "TC_J_03_CS": setting_instead("aligned_tx_ended_measurands", ()),
    "TC_E_41_CS": setting_instead("transaction_message_attempts", 4),
    "TC_E_42_CS": setting_instead("transaction_message_attempts", 1),
}

