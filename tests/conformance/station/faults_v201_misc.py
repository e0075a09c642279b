"""Faulty-station variants for OCPP 2.0.1 station cases (area: misc): case id -> the fault that
breaks the rule the case checks (merged into ``faulty_station.FAULTS``).

* Customer information (N09, N10): the report never comes, or comes unfinished or for another
  request; a request naming no customer is accepted; a known customer's request is refused.
* Logs (N01) and firmware (L01): a second GetLog or UpdateFirmware is not answered
  AcceptedCanceled (or Rejected); a station without logs accepts GetLog;
  AllowNewSessionsPendingFirmwareUpdate is not honoured; a download said to wait for the
  transaction does not; an installation said to go on during a transaction waits for it.
* Meter values (J): clock-aligned values during a transaction although SendDuringIdle is true;
  values unsigned although SignReadings is true; no Transaction.Begin values once the EVSE of
  a transaction started before it was known is.
* Availability (G05): a failed connector lock is not reported.
* Offline (E12, E14): queued events lose their offline flag or never come, the transaction
  status forgets the queue, a group stop omits its idToken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.station import SimStation
from simulator.station.outbox import OutMessage
from tests.conformance.station.fault_kit import Fault, Payload, answer, ignored, with_fields


def message_changed(action: str, change: Callable[[Payload], Payload]) -> Fault:
    """The station's ``action`` messages go out as ``change(payload)``."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            if message.action == action:
                message.payload = change(dict(message.payload))
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def aligned_during_transactions(station: SimStation) -> None:
    """Clock-aligned values go on while a transaction runs, whatever SendDuringIdle says."""
    def aligned_sample() -> None:
        for evse in station.evses:
            evse.settle(station.env.now)
            if evse.tx is not None:
                station.proto.tx_sample(evse, evse.tx, "Sample.Clock")
            else:
                station.proto.meter_values(evse, "Sample.Clock")

    station._aligned_sample = aligned_sample  # type: ignore[method-assign]


def lock_problem_unreported(station: SimStation) -> None:
    """A failed connector lock only makes the connector Faulted: no NotifyEvent
    ConnectorPlugRetentionLock Problem."""
    original = station.enqueue

    def enqueue(message: OutMessage) -> None:
        if message.action == "NotifyEvent" and any(
                e["component"]["name"] == "ConnectorPlugRetentionLock"
                for e in message.payload["eventData"]):
            return
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]


def offline_flag_dropped(station: SimStation) -> None:
    """Queued TransactionEvents are delivered without offline true."""
    original = station.enqueue

    def enqueue(message: OutMessage) -> None:
        prepare = message.prepare
        if message.action == "TransactionEvent" and prepare is not None:
            def without_flag(sent: OutMessage) -> Payload | None:
                payload = prepare(sent)
                return None if payload is None else \
                    {k: v for k, v in payload.items() if k != "offline"}
            message.prepare = without_flag
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]


def dropped_events(event_type: str) -> Fault:
    """TransactionEvents of ``event_type`` are never sent."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            if message.action == "TransactionEvent" and \
                    message.payload.get("eventType") == event_type:
                return
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def _without_stop_token(payload: Payload) -> Payload:
    if payload.get("triggerReason") != "StopAuthorized":
        return payload
    return {k: v for k, v in payload.items() if k != "idToken"}


def unsigned(clock_aligned: bool) -> Fault:
    """SignReadings is accepted and ignored for clock-aligned (or for the other) values."""
    def apply(station: SimStation) -> None:
        original = station._signer_for

        def signer_for(context: str) -> Any:
            if (context == "Sample.Clock") == clock_aligned:
                return None
            return original(context)

        station._signer_for = signer_for  # type: ignore[method-assign]
    return apply


def sessions_held_for_firmware(station: SimStation) -> None:
    """A firmware update waiting for a transaction makes the free EVSEs Unavailable even
    though AllowNewSessionsPendingFirmwareUpdate is true."""
    original = station.idle_event

    def idle_event() -> Any:
        waiting = original()
        if waiting is not None:
            station.hold_sessions_for_firmware(True)
        return waiting

    station.idle_event = idle_event  # type: ignore[method-assign]


def sessions_never_held(station: SimStation) -> None:
    """AllowNewSessionsPendingFirmwareUpdate false is ignored: free EVSEs stay Available."""
    original = station.hold_sessions_for_firmware
    station.hold_sessions_for_firmware = lambda hold: original(False)  # type: ignore[method-assign]


def downloads_during_transaction(station: SimStation) -> None:
    """A station that says it cannot download during a transaction does."""
    station.firmware_download_during_transaction = True


def installs_after_transactions(station: SimStation) -> None:
    """A station that says it installs during a transaction waits for it to end."""
    station.firmware_install_during_transaction = False


def begin_values_dropped(station: SimStation) -> None:
    """A transaction started before its EVSE was known never sends its Transaction.Begin
    values: the Updated event that names the EVSE carries no meterValue."""
    proto = station.proto

    def tx_evse_known(evse: Any, tx: Any) -> None:
        evse.charging_state = "EVConnected"
        proto._event(evse, tx, "Updated", "CablePluggedIn")  # type: ignore[attr-defined]

    proto.tx_evse_known = tx_evse_known  # type: ignore[attr-defined]


def _names_no_customer(request: Payload) -> bool:
    return not any(k in request for k in ("idToken", "customerCertificate",
                                          "customerIdentifier"))


FAULTS: dict[str, Fault] = {
    # Accepted, and no NotifyCustomerInformation follows
    "TC_N_27_CS": ignored("CustomerInformation", {"status": "Accepted"},
                          when=lambda p: p["report"] and not p["clear"]),
    # a report that announces a further part which never comes (tbc true)
    "TC_N_28_CS": message_changed("NotifyCustomerInformation",
                                  lambda p: {**p, "tbc": True}),
    # a request that names no customer is Accepted
    "TC_N_29_CS": answer("CustomerInformation", with_fields(status="Accepted"),
                         when=_names_no_customer),
    # clear and report: Rejected
    "TC_N_30_CS": answer("CustomerInformation", with_fields(status="Rejected"),
                         drop_follow=True, when=lambda p: p["clear"]),
    # the report carries another requestId
    "TC_N_31_CS": message_changed("NotifyCustomerInformation",
                                  lambda p: {**p, "requestId": p["requestId"] + 1}),
    # a customerIdentifier is not understood: Rejected
    "TC_N_62_CS": answer("CustomerInformation", with_fields(status="Rejected"),
                         drop_follow=True, when=lambda p: "customerIdentifier" in p),
    # the lock failure goes unreported
    "TC_G_20_CS": lock_problem_unreported,
    # transactions while offline (E12, E14)
    "TC_E_31_CS": answer("GetTransactionStatus", with_fields(messagesInQueue=False)),
    "TC_E_43_CS": dropped_events("Started"),
    "TC_E_44_CS": offline_flag_dropped,
    "TC_E_45_CS": message_changed("TransactionEvent", _without_stop_token),
    # SignReadings ignored
    "TC_J_04_CS": unsigned(clock_aligned=True),
    "TC_J_11_CS": unsigned(clock_aligned=False),
    # the Transaction.Begin values of a transaction started before its EVSE was known are
    # never sent
    "TC_J_08_CS": begin_values_dropped,
    # AlignedDataCtrlr.SendDuringIdle ignored
    "TC_J_06_CS": aligned_during_transactions,
    # a second UpdateFirmware while one is pending is answered Accepted
    "TC_L_10_CS": answer("UpdateFirmware", with_fields(status="Accepted")),
    # a station that cannot cancel a pending update says it canceled it
    "TC_L_11_CS": answer("UpdateFirmware", lambda got, request: {
        "status": "AcceptedCanceled"} if got.get("status") == "Rejected" else got),
    # a station without log information accepts a GetLog
    "TC_N_34_CS": answer("GetLog", with_fields(status="Accepted")),
    # AllowNewSessionsPendingFirmwareUpdate: true not honoured, false not honoured
    "TC_L_12_CS": downloads_during_transaction,
    "TC_L_13_CS": sessions_never_held,
    "TC_L_14_CS": sessions_held_for_firmware,
    "TC_L_15_CS": sessions_never_held,
    # installing firmware during a transaction is claimed, but waits for it to end
    "TC_L_16_CS": installs_after_transactions,
    # a second GetLog while uploading is answered Accepted (the first goes on)
    "TC_N_36_CS": answer("GetLog", with_fields(status="Accepted")),
}
