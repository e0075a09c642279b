"""The power each EVSE delivers: :meth:`PowerMixin.changed` brings an EVSE's energy up to now,
decides its power and charging state (the EVSE's rating, an energy cap, charging profiles, a
station maximum shared by the EVSEs, the vehicle, the site's grant), reports what changed and
has the EVSE's transaction process re-plan.

:class:`PowerMixin` is one part of :class:`~simulator.station.station.SimStation` and works
only there. Its state is each EVSE's ``power_w``, ``charging_state``, ``charge_since_s``,
``drawing`` and ``wake``. It relies on the station's ``env``, ``id``, ``spec``, ``clock``,
``evses``, ``profiles``, ``recorder``, ``site``, ``_energy_capped()``
(:mod:`.transactions`) and ``_refresh()`` (:mod:`.status`).
"""

from __future__ import annotations

import math

from simulator.station.evse import (
    CHARGING,
    EV_CONNECTED,
    IDLE,
    SUSPENDED_EV,
    SUSPENDED_EVSE,
    EvseState,
    Transaction,
)


class PowerMixin:
    """SimStation's power evaluation (see the module)."""

    # -- power -------------------------------------------------------------------------------------

    def changed(self, evse: EvseState, trigger: str | None = None) -> None:
        """Something about ``evse`` changed: bring its energy up to now, decide its power and
        charging state, report what changed, and have its process re-plan."""
        evse.settle(self.env.now)
        self.evaluate(evse)
        self._refresh(evse, trigger)
        self._wake(evse)

    def evaluate(self, evse: EvseState) -> None:
        now = self.env.now
        if evse.can_charge:
            if evse.charge_since_s is None:
                evse.charge_since_s = now
            offered = evse.spec.max_power_w
            if self._energy_capped(evse):
                offered = 0.0
            limit = self._profile_limit_w(evse, now)
            if limit is not None:
                offered = min(offered, limit)
            shared = self._station_share_w(evse, now)
            if shared is not None:
                offered = min(offered, shared)
            vehicle_w = evse.vehicle_power_w(now)
            demand = min(offered, vehicle_w)
            granted = demand
            if self.site is not None:
                key = (self.id, evse.id)
                if demand > 0:
                    granted = self.site.request(key, demand)
                    evse.drawing = True
                elif evse.drawing:
                    self.site.release(key)
                    evse.drawing = False
            power = max(0.0, min(demand, granted))
            if power > 0:
                state = CHARGING
            elif offered <= 0 or (vehicle_w > 0 and granted <= 0):
                state = SUSPENDED_EVSE
            else:
                state = SUSPENDED_EV
        else:
            if evse.drawing and self.site is not None:
                self.site.release((self.id, evse.id))
                evse.drawing = False
            power = 0.0
            state = EV_CONNECTED if evse.plugged else IDLE
        self._set_power(evse, power)
        evse.charging_state = state

    def _set_power(self, evse: EvseState, power: float) -> None:
        if power != evse.power_w:
            freed = power < evse.power_w
            evse.power_w = power
            evse.meter.advance(power, 0.0)
            self.recorder.power(self.id, evse.id, self.env.now, power)
            if freed and len(self.evses) > 1 and len(self.profiles):
                # a station maximum is shared: what this EVSE gave up may go to the others
                for other in self.evses:
                    if other is not evse:
                        self._wake(other)
        if power == 0.0 and evse.drawing and self.site is not None:
            self.site.release((self.id, evse.id))
            evse.drawing = False

    def _phases(self, evse: EvseState) -> int:
        vehicle = evse.vehicle
        if evse.spec.kind == "DC" or vehicle is None:
            return evse.spec.phases
        return min(evse.spec.phases, vehicle.model.ac_phases)

    def _profile_limit_w(self, evse: EvseState, now: float) -> float | None:
        if not len(self.profiles):
            return None
        tx = evse.tx
        return self.profiles.limit_w(
            evse.id, self.clock.utc(now),
            transaction_start_utc=self.clock.utc(tx.started_s) if tx else None,
            phases=self._phases(evse), voltage_v=self.spec.meter.nominal_voltage_v,
            transaction_id=tx.id if tx else None)

    def _station_share_w(self, evse: EvseState, now: float) -> float | None:
        """What a station maximum profile leaves ``evse`` once the station's other EVSEs have
        drawn theirs: it limits the station's total, not each EVSE (K01: ChargingStation-
        MaxProfile). None when there is no such profile or only one EVSE."""
        if len(self.evses) < 2 or not len(self.profiles):
            return None
        total = self.profiles.station_max_w(self.clock.utc(now), phases=self._phases(evse),
                                            voltage_v=self.spec.meter.nominal_voltage_v)
        if total is None:
            return None
        others = math.fsum(e.power_w for e in self.evses if e is not evse)
        return max(0.0, total - others)

    def _profile_change_s(self, evse: EvseState, tx: Transaction, now: float) -> float:
        if not len(self.profiles):
            return math.inf
        at = self.profiles.next_change_utc(
            evse.id, self.clock.utc(now), transaction_start_utc=self.clock.utc(tx.started_s),
            phases=self._phases(evse), voltage_v=self.spec.meter.nominal_voltage_v,
            transaction_id=tx.id)
        return math.inf if at is None else max(self.clock.seconds(at) - now, 1.0)

    def profiles_changed(self, evse_id: int | None = None) -> None:
        """Charging profiles were set or cleared: re-evaluate the power of the EVSEs."""
        for evse in self.evses:
            if evse_id in (None, 0, evse.id):
                self.changed(evse, "ChargingRateChanged")

    def _wake(self, evse: EvseState) -> None:
        wake = evse.wake
        if wake is not None and not wake.triggered and self.env.active_process is not \
                evse.process:
            wake.succeed()
