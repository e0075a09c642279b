"""Faulty-station variants for OCPP 1.6 Core, Local Auth List, Reservation and Smart Charging cases
added after the first set: case id -> the fault that breaks the rule the case checks (merged
into ``faulty_station.FAULTS``)."""

from __future__ import annotations

from typing import Any

from simulator.station import SimStation
from simulator.station.auth_store import AuthResult, Decision
from simulator.station.outbox import OutMessage
from tests.conformance.station.fault_kit import (
    Fault,
    answer,
    boot_retry_at_once,
    connection_timeout_early,
    ignored,
    is_differential,
    message_without,
    request_changed,
    request_without,
    status_instead,
    with_fields,
)


def ev_disconnect_always_stops(station: SimStation) -> None:
    """StopTransactionOnEVSideDisconnect false is ignored: unplugging ends the transaction."""
    station._stop_due = lambda evse, *, unplugged: True  # type: ignore[method-assign]


def cache_never_filled(station: SimStation) -> None:
    """The authorization cache forgets every answer: a known tag is asked for again."""
    station.auth_cache.update_from = lambda *args, **kwargs: None  # type: ignore[method-assign]


def lock_failure_unnoticed(station: SimStation) -> None:
    """A connector lock that fails is not noticed (no fault, the transaction starts)."""
    def fault(evse_id: int, error_code: str, duration_s: float | None) -> Any:
        yield station.env.timeout(0)

    station.fault = fault  # type: ignore[method-assign]


def availability_forgotten_on_reboot(station: SimStation) -> None:
    """After a reboot every connector is operative again, whatever the CSMS set."""
    original = station._reboot

    def reboot(kind: str, boot_reason: str | None = None) -> Any:
        station.operative = True
        for evse in station.evses:
            evse.operative = True
        return (yield from original(kind, boot_reason))

    station._reboot = reboot  # type: ignore[method-assign]


def offline_tokens_refused(station: SimStation) -> None:
    """Offline, no tag is accepted (LocalAuthorizeOffline and the cache ignored)."""
    original = station.authorizer.decide

    def decide(token: Any, *, online: bool, now: Any) -> AuthResult:
        if not online:
            return AuthResult(Decision.REJECT, {"status": "Invalid"}, "Unknown", True)
        return original(token, online=online, now=now)

    station.authorizer.decide = decide  # type: ignore[method-assign]


def invalid_start_not_stopped(station: SimStation) -> None:
    """A StartTransaction answered Invalid does not end the transaction
    (StopTransactionOnInvalidId ignored)."""
    station.deauthorize = lambda evse, reason, trigger: None  # type: ignore[method-assign]


def dropped_offline(action: str) -> Fault:
    """``action`` messages decided while offline are dropped, not queued."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            if message.action == action and not station.online:
                station.record_message(action, "out", None, "dropped")
                return
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def every_other_periodic_sample(station: SimStation) -> None:
    """Only every other periodic meter sample is sent: twice MeterValueSampleInterval."""
    proto = station.proto
    original = proto.tx_sample
    taken = [0]

    def tx_sample(evse: Any, tx: Any, context: str) -> None:
        if context == "Sample.Periodic":
            taken[0] += 1
            if taken[0] % 2:
                return
        original(evse, tx, context)

    proto.tx_sample = tx_sample  # type: ignore[method-assign]


def aligned_off_the_clock(station: SimStation) -> None:
    """Clock-aligned values come every interval, but half an interval off its boundaries."""
    original = station._aligned_after

    def aligned_after(t: float) -> float:
        return original(t) + station.settings.aligned_interval_s / 2

    station._aligned_after = aligned_after  # type: ignore[method-assign]


def group_stop_refused(station: SimStation) -> None:
    """Only the tag that started a transaction may stop it (parentIdTag ignored)."""
    def refuse(evse: Any, token_id: str, token_type: str) -> Any:
        yield from station.authorize(token_id, token_type, evse.id)  # asked, then ignored
        return False

    station._stop_by_group = refuse  # type: ignore[method-assign]


def stop_sent_after_reboot(station: SimStation) -> None:
    """A power failure takes the station down at once: the StopTransaction (PowerLoss) goes
    out only after the reboot."""
    original = station.end_transaction

    def end_transaction(evse: Any, reason: str, trigger: str) -> None:
        if reason == "PowerLoss":
            station._drop_connection("power lost")
        original(evse, reason, trigger)

    station.end_transaction = end_transaction  # type: ignore[method-assign]


def cable_unlocked_on_ev_disconnect(station: SimStation) -> None:
    """UnlockConnectorOnEVSideDisconnect false is ignored: the cable is let go at once."""
    station._keeps_cable_locked = lambda evse: False  # type: ignore[method-assign]


def stopped_on_invalid_anyway(station: SimStation) -> None:
    """StopTransactionOnInvalidId false is ignored: an Invalid start ends the transaction."""
    from simulator.station.settings import Configuration16

    settings = station.settings
    assert isinstance(settings, Configuration16)
    original = settings.typed

    def typed(prop: str) -> Any:
        return True if prop == "stop_tx_on_invalid_id" else original(prop)

    settings.typed = typed  # type: ignore[method-assign]


FAULTS: dict[str, Fault] = {
    "TC_002_CS": boot_retry_at_once,
    # a station that claims to have stored a list it could not store
    "TC_043_3_CS": answer("SendLocalList", with_fields(status="Accepted")),
    # a station set to reject reservations that takes one anyway
    "TC_048_4_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_005_1_CS": message_without("StopTransaction", "reason"),
    "TC_005_2_CS": cable_unlocked_on_ev_disconnect,
    "TC_005_3_CS": ev_disconnect_always_stops,
    "TC_007_CS": cache_never_filled,
    "TC_011_2_CS": connection_timeout_early,
    "TC_026_CS": answer("RemoteStartTransaction", with_fields(status="Accepted")),
    "TC_036_CS": dropped_offline("MeterValues"),
    "TC_015_CS": answer("Reset", with_fields(), drop_follow=True),
    "TC_016_CS": answer("Reset", with_fields(), drop_follow=True),
    "TC_017_1_CS": answer("UnlockConnector", with_fields(status="UnlockFailed")),
    "TC_018_1_CS": ignored("UnlockConnector", {"status": "Unlocked"}),
    "TC_024_CS": lock_failure_unnoticed,
    "TC_030_CS": answer("UnlockConnector", with_fields(status="Unlocked")),
    "TC_034_CS": availability_forgotten_on_reboot,
    "TC_037_1_CS": offline_tokens_refused,
    "TC_037_2_CS": stopped_on_invalid_anyway,
    "TC_037_3_CS": invalid_start_not_stopped,
    "TC_038_CS": dropped_offline("StopTransaction"),
    "TC_039_CS": dropped_offline("StartTransaction"),
    "TC_041_CS": status_instead({"Faulted": "Available"}),
    "TC_062_CS": answer("DataTransfer", with_fields(status="Accepted")),
    "TC_070_CS": every_other_periodic_sample,
    "TC_071_CS": aligned_off_the_clock,
    "TC_069_CS": group_stop_refused,
    "TC_032_1_CS": stop_sent_after_reboot,
    # Local Auth List
    "TC_008_CS": ignored("SendLocalList", {"status": "Accepted"},
                         when=lambda p: not is_differential(p)),
    # Reservation
    "TC_046_2_CS": message_without("StartTransaction", "reservationId"),
    "TC_048_1_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_053_CS": request_changed("ReserveNow", request_without("parentIdTag")),
    "TC_049_CS": message_without("StartTransaction", "reservationId"),
    "TC_050_1_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_050_2_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_050_3_CS": answer("ReserveNow", with_fields(status="Accepted")),
    # Smart Charging
    "TC_057_CS": ignored("SetChargingProfile", {"status": "Accepted"}),
    "TC_060_CS": answer("RemoteStartTransaction", with_fields(status="Accepted")),
    "TC_072_CS": ignored("SetChargingProfile", {"status": "Accepted"},
                         when=lambda p: p["csChargingProfiles"]["stackLevel"] == 1),
    "TC_082_CS": ignored("SetChargingProfile", {"status": "Accepted"}),
    "TC_066_CS": ignored("SetChargingProfile", {"status": "Accepted"},
                         when=lambda p: p["csChargingProfiles"]["chargingProfilePurpose"] ==
                         "TxProfile"),
}
