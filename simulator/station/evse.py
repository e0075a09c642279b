"""One EVSE's state, version-neutral: cable, authorisation, transaction, availability, fault,
and the physics of delivered power (piecewise constant, integrated lazily).

The station decides what happens; this module keeps the state and does the arithmetic:
``settle`` brings the meter and the vehicle up to now at the power that has been flowing, and
``next_breakpoint_s`` says how long the current power may be held before the vehicle's curve
(a curve point, the DC ramp, full) asks for a new evaluation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.station.spec import EvseSpec

if TYPE_CHECKING:
    import simpy

    from simulator.meters import Meter

# 2.0.1 ChargingStateEnumType, used neutrally for both versions
CHARGING, SUSPENDED_EV, SUSPENDED_EVSE = "Charging", "SuspendedEV", "SuspendedEVSE"
# EvseState.extras key (1.6): the tag whose transaction left the cable locked in the socket
CABLE_LOCKED_FOR = "cable_locked_for"
# EvseState.extras keys (2.0.1): a detachable cable left in the socket after the EV side was
# disconnected (the connector stays Occupied); the EV has suspended the energy transfer; the
# parking bay detector sees an EV
CABLE_IN_SOCKET, EV_SUSPENDED, BAY_OCCUPIED = "cable_in_socket", "ev_suspended", "bay_occupied"
EV_CONNECTED, IDLE = "EVConnected", "Idle"

MIN_STEP_S = 1.0  # never re-evaluate sooner than this (float residue near a breakpoint)
RAMP_STEPS = 4  # the DC ramp-up is followed in this many constant-power steps


@dataclass(slots=True)
class Authorization:
    """A token the station accepted for this EVSE (locally or by the CSMS)."""

    id_token: str
    token_type: str = "ISO14443"
    group_id: str | None = None
    remote_start_id: int | None = None  # 2.0.1 RequestStartTransaction
    remote: bool = False
    reservation_id: int | None = None
    since_s: float = 0.0


@dataclass(slots=True)
class Transaction:
    local_id: str  # the station's own id (2.0.1 transactionId; 1.6: until the CSMS gives one)
    evse_id: int
    connector_id: int
    started_s: float
    meter_start_wh: float
    started_offline: bool
    id_token: str | None = None
    token_type: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    ocpp_id: str | None = None  # what the CSMS knows it by (1.6: its transactionId)
    seq_no: int = 0  # next 2.0.1 seqNo
    reported_state: str | None = None  # 2.0.1 chargingState last put in a TransactionEvent
    stopped_s: float | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None
    vehicle_model: str | None = None
    soc_start: float | None = None
    soc_end: float | None = None
    needed_wh: float | None = None
    start_failed: bool = False  # 1.6: the CSMS never gave an id (messages about it are dropped)
    recorded: bool = False
    authorized_seen: bool = False  # 2.0.1: the token has been put in an event
    reservation_reported: bool = False  # 2.0.1: reservationId has been put in an event
    stop_token: str | None = None  # 1.6: another tag of the group that stopped it
    # 2.0.1 clock-aligned meterValues for the Ended event (AlignedDataCtrlr.TxEndedInterval)
    ended_values: list[dict[str, Any]] = field(default_factory=list)
    # 2.0.1: the meter reading (Wh) beyond which no energy flows: the CSMS refused the token
    # and StopTxOnInvalidId is false (MaxEnergyOnInvalidId more); None: no such limit
    energy_cap_wh: float | None = None

    @property
    def id(self) -> str:
        return self.ocpp_id if self.ocpp_id is not None else self.local_id

    def next_seq(self) -> int:
        seq = self.seq_no
        self.seq_no += 1
        return seq


@dataclass(slots=True)
class EvseState:
    spec: EvseSpec
    meter: Meter
    vehicle: Any = None  # simulator.vehicles.Vehicle while plugged
    plugged: bool = False
    auth: Authorization | None = None
    tx: Transaction | None = None
    finishing: bool = False  # 1.6: a transaction ended while the cable stays in
    operative: bool = True
    scheduled_operative: bool | None = None  # a change that waits for the transaction to end
    fault: str | None = None  # the error code while faulted
    power_w: float = 0.0
    charging_state: str = IDLE
    sent_status: str | None = None  # the last connector status reported (or decided offline)
    acked_status: str | None = None  # the last connector status the CSMS received
    t_last: float = 0.0  # simulation time the meter and vehicle were settled to
    charge_since_s: float | None = None  # when energy was first allowed in this transaction
    process: simpy.Process | None = None  # the transaction's process
    wake: simpy.Event | None = None  # succeed it to have the process re-evaluate now
    drawing: bool = False  # holds a site grant
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.spec.id

    @property
    def connector_id(self) -> int:
        return self.spec.connectors[0].id

    @property
    def can_charge(self) -> bool:
        """Whether energy may flow: cable in, authorised, a transaction, operative, no fault."""
        return (self.plugged and self.auth is not None and self.tx is not None
                and self.operative and self.fault is None and self.vehicle is not None)

    # -- physics -----------------------------------------------------------------------------------

    def settle(self, now: float) -> None:
        """Integrate the power that flowed since ``t_last`` into the vehicle and the meter."""
        dt = now - self.t_last
        if dt <= 0:
            return
        self.t_last = now
        power = self.power_w
        if power > 0 and self.vehicle is not None:
            taken = self.vehicle.charge(power * dt / 3600.0, self.spec.kind)
            self.meter.advance(taken * 3600.0 / dt, dt)
        else:
            self.meter.advance(0.0, dt)

    def vehicle_power_w(self, now: float) -> float:
        """What the vehicle accepts now (the DC ramp read at the middle of its next step)."""
        vehicle = self.vehicle
        if vehicle is None or self.extras.get(EV_SUSPENDED):
            return 0.0
        since = 0.0 if self.charge_since_s is None else now - self.charge_since_s
        if self.spec.kind == "DC":
            ramp = vehicle.model.ramp_up_s
            if since < ramp:
                since = min(ramp, since + ramp / RAMP_STEPS / 2)
        return vehicle.max_power_w(self.spec.kind, since)

    def next_breakpoint_s(self, now: float) -> float:
        """How long the current power may be held: until the vehicle is full, reaches its next
        curve point, or the next DC ramp step (infinity when nothing flows)."""
        power = self.power_w
        vehicle = self.vehicle
        if power <= 0 or vehicle is None:
            return math.inf
        kind = self.spec.kind
        model = vehicle.model
        efficiency = model.efficiency_for(kind)
        per_soc_wh = model.capacity_wh / efficiency  # grid Wh per unit of SoC
        soc = vehicle.soc
        target = min(vehicle.target_soc, 1.0)
        wait = (target - soc) * per_soc_wh / power * 3600.0
        for point_soc, _ in model.curve(kind).points:
            if soc < point_soc < target:
                wait = min(wait, (point_soc - soc) * per_soc_wh / power * 3600.0)
                break
        if kind == "DC" and self.charge_since_s is not None:
            since = now - self.charge_since_s
            ramp = model.ramp_up_s
            if since < ramp:
                step = ramp / RAMP_STEPS
                wait = min(wait, step - (since % step) if since % step else step)
        return max(wait, MIN_STEP_S)
