"""OCPP 2.0.1 Core (C), charging station under test: the cable disconnected at the EV side
(block E, E06 stop options, E09 deauthorize, E10 suspend): the transaction ends, is
deauthorized or is suspended as TxStopPoint, StopTxOnEVSideDisconnect and
UnlockOnEVSideDisconnect say, and the cable stays locked or not (Part 6 Edition 3, errata
2025-09)."""

from __future__ import annotations

import pytest

from conformance.station.harness import (
    Harness,
    Received,
    check,
    is_charging,
    is_ended,
    of_transaction,
)
from conformance.station.transactions201 import (
    authorization_on,
    charging_session,
    check_event,
    energy_transfer_started,
    energy_transfer_suspended,
    ensure_variable,
    tx_event,
    tx_points,
)
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

EARLY_SLACK_S = 0.2  # clock resolution between the station's timer and ours


async def _on_ev_side_disconnect(h: Harness, *, stop_tx: bool, unlock: bool | None = None,
                                 optional: bool = False) -> None:
    """Set-up: StopTxOnEVSideDisconnect (``optional``: if ReadWrite) and
    UnlockOnEVSideDisconnect as the case says."""
    await ensure_variable(h, "TxCtrlr", "StopTxOnEVSideDisconnect", str(stop_tx).lower(),
                          optional=optional, step="set-up: StopTxOnEVSideDisconnect")
    if unlock is not None:
        await ensure_variable(h, "OCPPCommCtrlr", "UnlockOnEVSideDisconnect",
                              str(unlock).lower(), step="set-up: UnlockOnEVSideDisconnect")


async def _disconnected_at_ev_side(h: Harness, tx: str, *, suspended: bool = True
                                   ) -> Received:
    """(``tx`` charging; ``suspended``: EnergyTransferSuspended first) the cable is
    disconnected at the EV side: the transaction's next TransactionEvent."""
    if suspended:
        await energy_transfer_suspended(h, tx)
    await h.act("unplug_ev_side", step="disconnect the EV at the EV side", evse=1)
    return await tx_event(h, step="TransactionEventRequest", where=of_transaction(tx),
                          expected=f"a TransactionEvent of {tx}")


def _fixed_cable(h: Harness) -> bool:
    return h.sut.claims("fixed_cable")


async def _cable_removed(h: Harness, *, step: str) -> None:
    """After the EV side: a detachable cable is unlocked with the transaction's token and
    taken out at the station side; StatusNotification Available (a fixed cable: at once)."""
    if not _fixed_cable(h):
        await h.act("present_token", step=f"{step}: present the token (unlock)", evse=1,
                    token=h.sut.tokens.valid)
        await h.act("unplug", step=f"{step}: disconnect at the station side", evse=1)
    await h.status(1, "Available", step=f"{step}: StatusNotificationRequest")


# -- the stop point ends the transaction -------------------------------------------------------


async def _ends_on_ev_side(h: Harness, point: str, *, suspended: bool = True) -> None:
    """(TxStopPoint ``point``, StopTxOnEVSideDisconnect false) the EV side is disconnected:
    TransactionEvent Ended, triggerReason EVCommunicationLost, chargingState Idle,
    stoppedReason EVDisconnected."""
    await tx_points(h, stop=point)
    await _on_ev_side_disconnect(h, stop_tx=False, optional=True)
    tx = await charging_session(h)
    event = await _disconnected_at_ev_side(h, tx, suspended=suspended)
    check_event(event, "TransactionEventRequest", eventType="Ended",
                triggerReason="EVCommunicationLost", chargingState="Idle",
                stoppedReason="EVDisconnected")


@pytest.mark.case("TC_E_37_CS")
async def test_TC_E_37_CS(h: Harness) -> None:
    """Stop transaction options - PowerPathClosed - EV side disconnect: (TxStopPoint
    PowerPathClosed, StopTxOnEVSideDisconnect false, EnergyTransferSuspended) the EV side is
    disconnected: TransactionEvent Ended, triggerReason EVCommunicationLost, chargingState
    Idle, stoppedReason EVDisconnected."""
    await _ends_on_ev_side(h, "PowerPathClosed")


@pytest.mark.case("TC_E_20_CS")
async def test_TC_E_20_CS(h: Harness) -> None:
    """Stop transaction options - EVDisconnected - EV side (able to charge IEC 61851-1 EV):
    (TxStopPoint EVConnected, StopTxOnEVSideDisconnect false, EnergyTransferSuspended) the
    EV side is disconnected: TransactionEvent Ended, triggerReason EVCommunicationLost,
    chargingState Idle, stoppedReason EVDisconnected."""
    if not h.sut.claims("iec61851_ev"):
        not_applicable("iec61851_ev (charges an IEC 61851-1 EV)")
    await _ends_on_ev_side(h, "EVConnected")


@pytest.mark.case("TC_E_54_CS")
async def test_TC_E_54_CS(h: Harness) -> None:
    """Stop transaction options - EVDisconnected - EV side (not able to charge IEC 61851-1
    EV): as TC_E_20 for a station that cannot charge such an EV, from EnergyTransferStarted
    (such an EV cannot be made to suspend): TransactionEvent Ended, triggerReason
    EVCommunicationLost, chargingState Idle, stoppedReason EVDisconnected."""
    if h.sut.claims("iec61851_ev"):
        not_applicable("a station that cannot charge an IEC 61851-1 EV (claims iec61851_ev)")
    await _ends_on_ev_side(h, "EVConnected", suspended=False)


# -- deauthorized (E09) -------------------------------------------------------------------------


async def _deauthorized(h: Harness, *, unlock: bool, stop: str | None = None) -> None:
    """(TxStopPoint ``stop`` if given, StopTxOnEVSideDisconnect true, UnlockOnEVSideDisconnect
    ``unlock``, EnergyTransferSuspended) the EV side is disconnected: TransactionEvent,
    triggerReason EVCommunicationLost, chargingState Idle (with TxStopPoint: Ended,
    stoppedReason EVDisconnected)."""
    await tx_points(h, stop=stop)
    await _on_ev_side_disconnect(h, stop_tx=True, unlock=unlock)
    if stop is not None:  # TC_E_17
        await authorization_on(h)
    tx = await charging_session(h)
    event = await _disconnected_at_ev_side(h, tx)
    check_event(event, "TransactionEventRequest", triggerReason="EVCommunicationLost",
                chargingState="Idle")
    if stop is not None:
        check_event(event, "TransactionEventRequest", eventType="Ended",
                    stoppedReason="EVDisconnected")


@pytest.mark.case("TC_E_17_CS")
async def test_TC_E_17_CS(h: Harness) -> None:
    """Stop transaction options - Deauthorized - EV side disconnect: (errata: TxStopPoint
    Authorized without EVConnected, PowerPathClosed, EnergyTransfer; StopTxOnEVSideDisconnect
    true, UnlockOnEVSideDisconnect false, EnergyTransferSuspended) the EV side is
    disconnected: TransactionEvent Ended, triggerReason EVCommunicationLost, chargingState
    Idle, stoppedReason EVDisconnected; the cable is unlocked with the token and taken out:
    StatusNotification Available."""
    await _deauthorized(h, unlock=False, stop="Authorized")
    await _cable_removed(h, step="EVDisconnected")


@pytest.mark.case("TC_E_24_CS")
async def test_TC_E_24_CS(h: Harness) -> None:
    """Disconnect cable on EV-side - Deauthorize transaction - UnlockOnEVSideDisconnect is
    true: (a detachable cable; StopTxOnEVSideDisconnect and UnlockOnEVSideDisconnect true,
    EnergyTransferSuspended) the EV side is disconnected: TransactionEvent, triggerReason
    EVCommunicationLost, chargingState Idle; the cable (unlocked) is taken out at the station
    side: StatusNotification Available."""
    if _fixed_cable(h):
        not_applicable("detachable_cable (no permanently attached cable)")
    await _deauthorized(h, unlock=True)
    await h.act("unplug", step="disconnect at the station side", evse=1)
    await h.status(1, "Available", step="StatusNotificationRequest")


@pytest.mark.case("TC_E_25_CS")
async def test_TC_E_25_CS(h: Harness) -> None:
    """Disconnect cable on EV-side - Deauthorize transaction - UnlockOnEVSideDisconnect is
    false: (StopTxOnEVSideDisconnect true, UnlockOnEVSideDisconnect false,
    EnergyTransferSuspended) the EV side is disconnected: TransactionEvent, triggerReason
    EVCommunicationLost, chargingState Idle; a detachable cable stays locked until the token
    of the transaction is presented, then is taken out: StatusNotification Available."""
    await _deauthorized(h, unlock=False)
    await _cable_removed(h, step="the cable is taken out")


# -- suspended (E10) -----------------------------------------------------------------------------


async def _suspended(h: Harness, timeout_s: int | None = None) -> tuple[str, Received]:
    """(TxStopPoint Authorized and/or ParkingBayOccupancy, UnlockOnEVSideDisconnect and
    StopTxOnEVSideDisconnect false, ``timeout_s``: EVConnectionTimeOut, EnergyTransfer-
    Suspended) the EV side is disconnected: the transaction is suspended, TransactionEvent
    Updated, triggerReason EVCommunicationLost, chargingState Idle; a fixed cable:
    StatusNotification Available. The transaction and that event."""
    point = next((p for p, f in (("Authorized", "tx_stop_authorized"),
                                 ("ParkingBayOccupancy", "tx_stop_parking_bay_occupancy"))
                  if h.sut.claims(f)), None)
    if point is None:
        not_applicable("tx_stop_authorized or tx_stop_parking_bay_occupancy (TxStopPoint "
                       "Authorized or ParkingBayOccupancy supported)")
    await tx_points(h, stop=point)
    await _on_ev_side_disconnect(h, stop_tx=False, unlock=False)
    if timeout_s is not None:
        await ensure_variable(h, "TxCtrlr", "EVConnectionTimeOut", str(timeout_s),
                              step="set-up: EVConnectionTimeOut")
    tx = await charging_session(h)
    event = await _disconnected_at_ev_side(h, tx)
    check_event(event, "TransactionEventRequest", eventType="Updated",
                triggerReason="EVCommunicationLost", chargingState="Idle")
    if _fixed_cable(h):
        await h.status(1, "Available", step="StatusNotificationRequest")
    return tx, event


@pytest.mark.case("TC_E_26_CS")
async def test_TC_E_26_CS(h: Harness) -> None:
    """Disconnect cable on EV-side - Suspend transaction: (TxStopPoint Authorized and/or
    ParkingBayOccupancy, UnlockOnEVSideDisconnect and StopTxOnEVSideDisconnect false,
    EnergyTransferSuspended) the EV side is disconnected: TransactionEvent Updated,
    triggerReason EVCommunicationLost, chargingState Idle (a fixed cable: StatusNotification
    Available); the EV is connected again: TransactionEvent Updated, triggerReason
    CablePluggedIn, and the energy transfer starts again (chargingState Charging)."""
    tx, _ = await _suspended(h)
    await h.act("plug_in", step="reconnect the EV at the EV side", evse=1)
    plugged = await tx_event(h, step="TransactionEventRequest (reconnected)",
                             where=of_transaction(tx), expected=f"a TransactionEvent of {tx}")
    check_event(plugged, "TransactionEventRequest (reconnected)", eventType="Updated",
                triggerReason="CablePluggedIn")
    if not is_charging(plugged.payload):
        await energy_transfer_started(h, tx)


@pytest.mark.case("TC_E_27_CS")
async def test_TC_E_27_CS(h: Harness) -> None:
    """Disconnect cable on EV-side - Suspend transaction - Fixed cable connection timeout:
    (a fixed cable; TxStopPoint Authorized and/or ParkingBayOccupancy, UnlockOnEVSideDisconnect
    and StopTxOnEVSideDisconnect false, EVConnectionTimeOut set, EnergyTransferSuspended) the
    EV side is disconnected: TransactionEvent Updated, EVCommunicationLost, chargingState Idle;
    StatusNotification Available; errata: the EV is not connected again, and after
    EVConnectionTimeOut TransactionEvent Ended, triggerReason EVConnectTimeout, stoppedReason
    Timeout."""
    if not _fixed_cable(h):
        not_applicable("fixed_cable (a permanently attached cable)")
    timeout = h.sut.intervals.connection_timeout_s
    tx, event = await _suspended(h, timeout)
    last = await tx_event(h, step="TransactionEventRequest (timeout)",
                          where=of_transaction(tx, is_ended),
                          timeout_s=timeout + h.wait_s,
                          expected=f"TransactionEvent Ended of {tx}")
    check_event(last, "TransactionEventRequest (timeout)", triggerReason="EVConnectTimeout",
                stoppedReason="Timeout")
    check(last.at - event.at >= timeout - EARLY_SLACK_S,
          "TransactionEventRequest (timeout)", f"not before EVConnectionTimeOut ({timeout} s)",
          f"after {last.at - event.at:.2f} s")
