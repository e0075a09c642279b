"""Faulty-station variants for OCPP 2.0.1 station cases (area: tx_options, the start and stop
transaction options and the EV-side disconnect, TC_E_01..E_37, E_54): case id -> the fault
that breaks the rule the case checks (merged into ``faulty_station.FAULTS``).

The faults either misreport one field of a TransactionEvent (``event_with``) or change what
the station decides: when a transaction starts or ends (``starts_when``, ``stop_point_ignored``),
what the EV-side disconnect does, whether the cable is unlocked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.station import SimStation
from simulator.station.evse import CABLE_IN_SOCKET, CABLE_LOCKED_FOR, EvseState
from simulator.station.outbox import OutMessage
from tests.conformance.station.fault_kit import Fault

Payload = dict[str, Any]
INFO_FIELDS = ("chargingState", "stoppedReason")  # transactionInfo's, the rest top level


def event_with(when: Callable[[Payload], bool], **fields: str) -> Fault:
    """The station's TransactionEvents that match ``when`` carry ``fields`` instead (e.g.
    another stoppedReason or triggerReason)."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            p = message.payload
            if message.action == "TransactionEvent" and when(p):
                for key, value in fields.items():
                    (p["transactionInfo"] if key in INFO_FIELDS else p)[key] = value
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def _ended(p: Payload) -> bool:
    return p.get("eventType") == "Ended"


def _triggered(reason: str, *, end: bool = False) -> Callable[[Payload], bool]:
    return lambda p: p.get("triggerReason") == reason and (not end or _ended(p))


def starts_when(decide: Callable[[EvseState], bool]) -> Fault:
    """The transaction starts when ``decide(evse)`` (an EVSE without a transaction, in
    operation), whatever TxStartPoint says."""
    def apply(station: SimStation) -> None:
        def start_due(evse: EvseState) -> bool:
            return evse.tx is None and evse.operative and evse.fault is None and decide(evse)

        station._start_due = start_due  # type: ignore[method-assign]
    return apply


def stop_point_ignored(*, on_unplug: bool) -> Fault:
    """TxStopPoint does not end the transaction when the EV is disconnected (``on_unplug``)
    or when the authorization ends."""
    def apply(station: SimStation) -> None:
        original = station._stop_due

        def stop_due(evse: EvseState, *, unplugged: bool) -> bool:
            return False if unplugged == on_unplug else original(evse, unplugged=unplugged)

        station._stop_due = stop_due  # type: ignore[method-assign]
    return apply


def energy_transfer_start_early(station: SimStation) -> None:
    """TxStartPoint EnergyTransfer starts the transaction when the EV is connected (as
    PowerPathClosed would), before energy flows."""
    station.proto._starts_on_energy_transfer = lambda: False  # type: ignore[attr-defined]


def unsigned_start(station: SimStation) -> None:
    """TxStartPoint DataSigned starts the transaction as PowerPathClosed would, without a
    signed reading."""
    station.proto.starts_on_signed_data = lambda: False  # type: ignore[attr-defined]


def ev_departure_ignored(station: SimStation) -> None:
    """TxStopPoint ParkingBayOccupancy: the EV leaving the parking bay does not end the
    transaction."""
    original = station._end_tx

    def end_tx(evse: EvseState, reason: str, trigger: str) -> None:
        if trigger != "EVDeparted":
            original(evse, reason, trigger)

    station._end_tx = end_tx  # type: ignore[method-assign]


def invalid_id_ignored(station: SimStation) -> None:
    """StopTxOnInvalidId is not honoured: an idToken found Invalid in a TransactionEvent-
    Response does not deauthorize the transaction."""
    original = station.deauthorize

    def deauthorize(evse: EvseState, reason: str, trigger: str) -> None:
        if reason != "DeAuthorized":
            original(evse, reason, trigger)

    station.deauthorize = deauthorize  # type: ignore[method-assign]


def ev_suspension_goes_on(station: SimStation) -> None:
    """TxStopPoint EnergyTransfer: the EV suspending the energy transfer is reported
    (SuspendedEV) but does not end the transaction."""
    original = station.end_transaction

    def end_transaction(evse: EvseState, reason: str, trigger: str) -> None:
        if reason == "StoppedByEV" and evse.tx is not None:
            station.proto.tx_event(evse, evse.tx, trigger)
            return
        original(evse, reason, trigger)

    station.end_transaction = end_transaction  # type: ignore[method-assign]


def ev_side_disconnect_suspends(station: SimStation) -> None:
    """StopTxOnEVSideDisconnect true is not honoured: the EV-side disconnect keeps the
    transaction authorized (suspended)."""
    original = station.deauthorize

    def deauthorize(evse: EvseState, reason: str, trigger: str) -> None:
        if reason == "EVDisconnected" and evse.tx is not None:
            station.proto.tx_event(evse, evse.tx, trigger)
            return
        original(evse, reason, trigger)

    station.deauthorize = deauthorize  # type: ignore[method-assign]


def ev_side_disconnect_deauthorizes(station: SimStation) -> None:
    """StopTxOnEVSideDisconnect false is not honoured: the EV-side disconnect deauthorizes
    (ends) the transaction instead of suspending it."""
    original = station.unplug_ev_side

    def unplug_ev_side(evse_id: int) -> Any:
        station.settings.stop_tx_on_ev_side_disconnect = True
        return (yield from original(evse_id))

    station.unplug_ev_side = unplug_ev_side  # type: ignore[method-assign]


def cable_kept_locked(station: SimStation) -> None:
    """UnlockOnEVSideDisconnect true is not honoured: after the EV-side disconnect the cable
    stays locked in the socket."""
    original = station.unplug_ev_side

    def unplug_ev_side(evse_id: int) -> Any:
        result = yield from original(evse_id)
        evse = station.evse(evse_id)
        if evse.extras.get(CABLE_IN_SOCKET):
            evse.extras.setdefault(CABLE_LOCKED_FOR, "a token nobody has")
        return result

    station.unplug_ev_side = unplug_ev_side  # type: ignore[method-assign]


def token_does_not_unlock(station: SimStation) -> None:
    """The transaction's token presented after the EV-side disconnect does not unlock the
    cable."""
    station._unlock_cable = lambda evse, token_id: False  # type: ignore[method-assign]


def no_reconnect_timeout(station: SimStation) -> None:
    """A fixed cable disconnected at the EV side: EVConnectionTimeOut never deauthorizes the
    suspended transaction."""
    def ev_reconnect_timeout(evse: EvseState, tx: Any) -> Any:
        yield station.env.timeout(0)

    station._ev_reconnect_timeout = ev_reconnect_timeout  # type: ignore[method-assign]


FAULTS: dict[str, Fault] = {
    # start options
    "TC_E_01_CS": starts_when(lambda evse: evse.auth is not None),
    "TC_E_02_CS": energy_transfer_start_early,
    "TC_E_11_CS": unsigned_start,
    "TC_E_12_CS": starts_when(lambda evse: evse.plugged),
    "TC_E_09_CS": starts_when(lambda evse: evse.plugged and evse.auth is not None),
    "TC_E_10_CS": starts_when(lambda evse: evse.plugged),
    "TC_E_13_CS": event_with(lambda p: p.get("eventType") == "Started",
                             triggerReason="Authorized"),
    # stop options
    "TC_E_07_CS": stop_point_ignored(on_unplug=False),
    "TC_E_08_CS": stop_point_ignored(on_unplug=False),
    "TC_E_15_CS": event_with(_triggered("StopAuthorized", end=True), stoppedReason="Remote"),
    "TC_E_21_CS": event_with(_triggered("RemoteStop", end=True),
                             triggerReason="StopAuthorized"),
    "TC_E_35_CS": event_with(_ended, stoppedReason="Local"),
    "TC_E_14_CS": event_with(_triggered("EVCommunicationLost", end=True),
                             chargingState="EVConnected"),
    "TC_E_16_CS": invalid_id_ignored,
    "TC_E_22_CS": ev_suspension_goes_on,
    "TC_E_19_CS": ev_departure_ignored,
    # the EV-side disconnect
    "TC_E_17_CS": ev_side_disconnect_suspends,
    "TC_E_20_CS": event_with(_triggered("EVCommunicationLost", end=True),
                             stoppedReason="Local"),
    "TC_E_24_CS": cable_kept_locked,
    "TC_E_25_CS": token_does_not_unlock,
    "TC_E_26_CS": ev_side_disconnect_deauthorizes,
    "TC_E_27_CS": no_reconnect_timeout,
    "TC_E_37_CS": stop_point_ignored(on_unplug=True),
    "TC_E_54_CS": event_with(_triggered("EVCommunicationLost", end=True),
                             stoppedReason="Other"),
}
