"""Transactions on the EVSEs: when one starts and when it ends (1.6, or 2.0.1 TxStartPoint and
TxStopPoint), its life (periodic meter values, power held between re-evaluations), the energy
cap after the CSMS refused its token (MaxEnergyOnInvalidId), availability scheduled for its
end, and the sessions table.

:class:`TransactionsMixin` is one part of :class:`~simulator.station.station.SimStation` and
works only there. Its state is the station's ``_tx_counter``, ``_idle_waiters`` and
``_reset_when_idle`` (set up in ``SimStation.__init__``) and each EVSE's ``tx``, ``process``
and ``scheduled_operative``. It relies on the station's ``env``, ``version``, ``spec``,
``id``, ``settings``, ``evses`` / ``evse()``, ``proto``, ``profiles``, ``reservations``,
``recorder``, ``site``, ``operative``, ``firmware_pending``, ``_online``, ``event()``,
``changed()``, ``_set_power()`` and ``_profile_change_s()`` (:mod:`.power`),
``deauthorize()`` (:mod:`.authorization`) and ``_reboot()`` (station.py).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from chargeloop.ocppj import OcppVersion
from simulator.station.evse import (
    BAY_OCCUPIED,
    EV_CONNECTED,
    IDLE,
    MIN_STEP_S,
    EvseState,
    Transaction,
)

Gen = Generator[Any, Any, Any]


class TransactionsMixin:
    """SimStation's transactions (see the module)."""

    # -- transactions ------------------------------------------------------------------------------

    def _start_due(self, evse: EvseState) -> bool:
        if evse.tx is not None or not evse.operative or evse.fault is not None or \
                self.firmware_pending:
            return False
        plugged, authorized = evse.plugged, evse.auth is not None
        if self.version is OcppVersion.V16:
            return plugged and authorized
        for point in self.settings.tx_start_points:
            if point == "ParkingBayOccupancy" and (plugged or evse.extras.get(BAY_OCCUPIED)):
                return True
            if point == "EVConnected" and plugged:
                return True
            if point == "Authorized" and authorized:
                return True
            if point in ("PowerPathClosed", "DataSigned", "EnergyTransfer") and plugged \
                    and authorized:
                return True
        return False

    def _stop_due(self, evse: EvseState, *, unplugged: bool) -> bool:
        """Does losing the cable (``unplugged``) or the authorisation end the transaction?"""
        if self.version is OcppVersion.V16:
            return not unplugged or self.settings.stop_tx_on_ev_side_disconnect
        for point in self.settings.tx_stop_points:
            # (ParkingBayOccupancy: the EV leaving the bay ends it, not the cable)
            if unplugged and point in ("EVConnected", "PowerPathClosed", "EnergyTransfer",
                                       "DataSigned"):
                return True
            if not unplugged and point in ("Authorized", "PowerPathClosed", "EnergyTransfer",
                                           "DataSigned"):
                return True
        return False

    def _begin_tx(self, evse: EvseState, trigger: str) -> Transaction:
        now = self.env.now
        evse.settle(now)
        auth = evse.auth
        vehicle = evse.vehicle
        tx = Transaction(
            local_id=self._next_tx_id(), evse_id=evse.id,
            connector_id=evse.connector_id, started_s=now,
            meter_start_wh=evse.meter.energy_wh, started_offline=not self._online,
            id_token=auth.id_token if auth else None,
            token_type=auth.token_type if auth else None,
            remote_start_id=auth.remote_start_id if auth else None,
            reservation_id=auth.reservation_id if auth else None,
            vehicle_model=vehicle.model.name if vehicle is not None else None,
            soc_start=vehicle.soc if vehicle is not None else None,
            needed_wh=vehicle.needed_wh(evse.spec.kind) if vehicle is not None else None)
        self._use_reservation(evse, tx)
        evse.tx = tx
        evse.finishing = False
        evse.charge_since_s = None
        self.event("transaction_started", f"evse {evse.id}: {tx.local_id}")
        self.proto.tx_started(evse, tx, trigger)
        evse.process = self.env.process(self._tx_process(evse, tx))
        return tx

    def _next_tx_id(self) -> str:
        self._tx_counter += 1
        prefix = self.spec.transaction_id_prefix or f"{self.id[:24]}-"
        return f"{prefix}{self._tx_counter}"

    def _use_reservation(self, evse: EvseState, tx: Transaction) -> None:
        """``tx`` has its token now: the reservation the token holds here ends, and its id
        goes into the transaction's next message (StartTransaction / TransactionEvent)."""
        auth = evse.auth
        if auth is not None and tx.reservation_id is None and len(self.reservations):
            used = self.reservations.consume(evse.id, auth.id_token, auth.group_id)
            if used is not None:
                tx.reservation_id = used.id

    def _end_tx(self, evse: EvseState, reason: str, trigger: str) -> None:
        tx = evse.tx
        if tx is None:
            return
        now = self.env.now
        evse.settle(now)
        tx.stopped_s = now
        tx.meter_stop_wh = evse.meter.energy_wh
        tx.stop_reason = reason
        vehicle = evse.vehicle
        tx.soc_end = vehicle.soc if vehicle is not None else None
        self.proto.tx_ended(evse, tx, reason, trigger)
        evse.tx = None
        evse.auth = None
        evse.charge_since_s = None
        evse.finishing = evse.plugged
        self._set_power(evse, 0.0)
        evse.charging_state = EV_CONNECTED if evse.plugged else IDLE
        self.profiles.expire_transaction(tx.id)
        self.event("transaction_ended", f"evse {evse.id}: {tx.id} {reason}")
        self._record_session(tx, evse)
        if evse.scheduled_operative is not None:
            evse.operative, evse.scheduled_operative = evse.scheduled_operative, None
        if evse.wake is not None and not evse.wake.triggered:
            evse.wake.succeed()
        if all(e.tx is None for e in self.evses):
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                waiter.succeed()
            if self._reset_when_idle is not None:
                kind, self._reset_when_idle = self._reset_when_idle, None
                self.env.process(self._reboot(kind))

    def end_transaction(self, evse: EvseState, reason: str, trigger: str) -> None:
        self._end_tx(evse, reason, trigger)
        self.changed(evse)

    def change_availability(self, evses: list[EvseState], operative: bool, *,
                            station: bool) -> str:
        """ChangeAvailability: in force now for idle EVSEs, Scheduled for those in a
        transaction (in force when it ends). Reservations on an EVSE taken out of service end.
        The caller reports the statuses once the answer is on its way."""
        scheduled = False
        for evse in evses:
            if evse.tx is not None and evse.operative != operative:
                evse.scheduled_operative = operative
                scheduled = True
                continue
            evse.operative, evse.scheduled_operative = operative, None
            if not operative and len(self.reservations):
                for reservation in self.reservations.drop_evse(evse.id):
                    self.proto.reservation_ended(reservation.id, "Removed")
        if station:
            self.operative = operative
        self.event("availability", f"{'operative' if operative else 'inoperative'}: "
                                   f"{','.join(str(e.id) for e in evses)}"
                                   f"{' scheduled' if scheduled else ''}")
        return "Scheduled" if scheduled else "Accepted"

    def _record_session(self, tx: Transaction, evse: EvseState | None, *,
                        force: bool = False) -> None:
        if tx.recorded or (not force and not self.proto.transaction_known(tx)):
            return
        tx.recorded = True
        if tx.stopped_s is None and evse is not None:
            energy_now = evse.meter.energy_wh
        else:
            energy_now = tx.meter_stop_wh if tx.meter_stop_wh is not None else tx.meter_start_wh
        self.recorder.session(
            self.id, tx.evse_id, tx.connector_id, tx.local_id, tx.id_token, tx.started_s,
            tx.stopped_s, max(0.0, energy_now - tx.meter_start_wh), tx.meter_start_wh,
            tx.meter_stop_wh, tx.stop_reason, tx.started_offline,
            tx.vehicle_model, tx.soc_start, tx.soc_end, tx.needed_wh)

    def transaction_known(self, tx: Transaction) -> None:
        """The CSMS has answered the start of ``tx`` (1.6): a session that already ended can
        be recorded now, with the CSMS's id."""
        if tx.stopped_s is not None:
            evse = self.evse(tx.evse_id)
            self._record_session(tx, evse)

    def _tx_process(self, evse: EvseState, tx: Transaction) -> Gen:
        """One transaction's life: periodic meter values, and power held constant between
        re-evaluations."""
        env = self.env
        interval = self.settings.sample_interval_s
        next_sample = tx.started_s + interval if interval > 0 else math.inf
        self.changed(evse)
        while evse.tx is tx:
            now = env.now
            if now >= next_sample - 1e-9:
                evse.settle(now)
                self.proto.tx_sample(evse, tx, "Sample.Periodic")
                interval = self.settings.sample_interval_s
                next_sample = now + interval if interval > 0 else math.inf
                self.changed(evse)
                if evse.tx is not tx:
                    break
            wait = min(next_sample - now, evse.next_breakpoint_s(now),
                       self._profile_change_s(evse, tx, now), self._energy_cap_s(evse, tx))
            evse.wake = env.event()
            events: list[simpy.Event] = [evse.wake]
            if math.isfinite(wait):
                events.append(env.timeout(max(wait, 0.0)))
            if self.site is not None and evse.drawing:
                events.append(self.site.changed)
            yield env.any_of(events)
            if evse.tx is tx:
                self.changed(evse)
        evse.process = None

    def id_not_accepted(self, evse: EvseState, tx: Transaction, status: str) -> None:
        """The CSMS refused the token of the running 2.0.1 transaction ``tx`` (E05, C15):
        with TxCtrlr.StopTxOnInvalidId the authorization ends (Deauthorized); without it the
        transaction goes on, but energy flows only until MaxEnergyOnInvalidId more Wh have
        been delivered (0 or unset: none at all), then the EVSE suspends (SuspendedEVSE)."""
        if self.settings.stop_tx_on_invalid_id:
            self.event("transaction_deauthorized", f"evse {evse.id}: {status}")
            self.deauthorize(evse, "DeAuthorized", "Deauthorized")
            return
        evse.settle(self.env.now)
        allowed_wh = self.settings.max_energy_on_invalid_id_wh or 0
        tx.energy_cap_wh = evse.meter.energy_wh + allowed_wh
        self.event("transaction_limited", f"evse {evse.id}: {status}, {allowed_wh} Wh more")
        self.changed(evse)

    @staticmethod
    def _energy_capped(evse: EvseState) -> bool:
        tx = evse.tx
        return tx is not None and tx.energy_cap_wh is not None and \
            evse.meter.energy_wh >= tx.energy_cap_wh - 1e-6

    @staticmethod
    def _energy_cap_s(evse: EvseState, tx: Transaction) -> float:
        """How long until ``tx`` reaches its energy cap at the present power (infinity: no
        cap, or no energy flowing)."""
        if tx.energy_cap_wh is None or evse.power_w <= 0:
            return math.inf
        left_wh = max(tx.energy_cap_wh - evse.meter.energy_wh, 0.0)
        return max(left_wh / evse.power_w * 3600.0, MIN_STEP_S)
