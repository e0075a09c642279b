"""The simulated charging station: one :class:`SimStation` per station, OCPP 1.6J or 2.0.1.

What runs per station, and what it costs:

* a connection process: connect (jittered), boot (retried at the interval the CSMS gives), then
  blocked on the connection until it closes, then reconnect with exponential back-off and jitter;
* a timer process for the heartbeat and clock-aligned meter values (one timeout per interval);
* per EVSE in a transaction, one process that wakes at meter samples and when the delivered power
  must be re-evaluated (a curve point, full, a smart-charging period, a site change);
* a drain process only while messages wait to be sent.

Outgoing messages go through the :class:`~simulator.station.outbox.Outbox` in the order the
station decided them; incoming CSMS calls run as SimPy processes through ``clock.in_sim`` and are
answered by the version's protocol module (:mod:`.protocol16`, :mod:`.protocol201`). What the
station did lands in the shared :class:`~simulator.station.recorder.Recorder`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
import types
import zlib
from collections.abc import Callable, Generator, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from chargeloop.clock import SimClock
from chargeloop.ocppj import (
    CallContext,
    CallErrorReceived,
    CallTimeout,
    ErrorKind,
    OcppError,
    OcppSession,
    OcppVersion,
    PayloadInvalid,
    Role,
    SessionClosed,
)
from chargeloop.ocppj.trace import TraceHook
from simulator.meters import Meter, sampled_values
from simulator.station.auth_store import (
    AuthorizationCache,
    Authorizer,
    Decision,
    LocalAuthList,
)
from simulator.station.certificates import valid_at
from simulator.station.evse import (
    BAY_OCCUPIED,
    CABLE_IN_SOCKET,
    CABLE_LOCKED_FOR,
    CHARGING,
    EV_CONNECTED,
    EV_SUSPENDED,
    IDLE,
    MIN_STEP_S,
    SUSPENDED_EV,
    SUSPENDED_EVSE,
    Authorization,
    EvseState,
    Transaction,
)
from simulator.station.link import BackendUnreachable, Link
from simulator.station.maintenance import FirmwareTimings, UploadTimings
from simulator.station.network_profiles import FACTORY_SLOT, NetworkProfiles
from simulator.station.outbox import Kind, Outbox, OutMessage, Undeliverable
from simulator.station.recorder import Recorder
from simulator.station.reservations import EvseAvailability, Reservations
from simulator.station.settings import StationSettings, settings_for
from simulator.station.smart_charging import ChargingProfiles
from simulator.station.spec import StationSpec

if TYPE_CHECKING:
    import httpx

    from simulator.ocmf import OcmfSigner
    from simulator.sites import Site

log = logging.getLogger("chargeloop.simulator.station")

Gen = Generator[Any, Any, Any]

REBOOT_FLUSH_S = 30.0  # a reset waits at most this long for queued messages to go out
MIN_RECONNECT_WAIT_S = 0.1  # the least time between two connection attempts


class SimStation:
    """One simulated charging station. Build it, call :meth:`start`, and drive it with the
    generator methods (``yield from station.plug_in(1, vehicle)``) from SimPy processes."""

    def __init__(self, spec: StationSpec, clock: SimClock, link: Link, recorder: Recorder,
                 rng: np.random.Generator, *, site: Site | None = None,
                 signer: OcmfSigner | None = None, trace: TraceHook | None = None) -> None:
        self.spec = spec
        self.trace = trace  # sees every frame of every connection (a run's ocpp.jsonl)
        self.id = spec.id
        self.version: OcppVersion = spec.version
        self.clock = clock
        self.env: simpy.Environment = clock.env
        self.link = link
        self.recorder = recorder
        self.rng = rng
        self.site = site
        self.signer = signer if spec.meter.signed else None
        self._readings_signer: OcmfSigner | None = None  # SignReadings without a signing meter
        # HTTP for log uploads (httpx transport); None: the network
        self.http_transport: httpx.AsyncBaseTransport | None = None
        self.clock_skew_s = 0.0
        self.firmware_version = spec.firmware_version
        meter = spec.meter
        self.evses: list[EvseState] = [
            EvseState(e, Meter(child, phases=e.phases, nominal_voltage_v=meter.nominal_voltage_v,
                               frequency_hz=meter.frequency_hz, noise=meter.noise,
                               start_wh=meter.start_wh))
            for e, child in zip(spec.evses, rng.spawn(len(spec.evses)), strict=True)]
        # what a CSMS may read and change: 1.6 configuration keys or the 2.0.1 device model
        self.settings: StationSettings = settings_for(
            self.version.value, spec.settings_seed(),
            **({} if self.version is OcppVersion.V16 else {"now": self.utc}))
        self.settings.on_change(self._setting_changed)
        self.network = NetworkProfiles()  # 2.0.1 network connection profiles (B09, B10)
        if self.version is OcppVersion.V201:
            self.settings.value_checks[  # type: ignore[attr-defined]
                "OCPPCommCtrlr.NetworkConfigurationPriority"] = self._priority_problem
        self.auth_cache = AuthorizationCache(self.version, self.settings)
        self.local_list = LocalAuthList(self.version, self.settings)
        self.authorizer = Authorizer(self.settings, self.local_list, self.auth_cache)
        self.reservations = Reservations(self.version, settings=self.settings)
        self.profiles = ChargingProfiles(
            self.version, evse_ids=[e.id for e in spec.evses], limits=self.settings,
            evse_max_w={e.id: e.max_power_w for e in spec.evses})
        # maintenance state the CSMS can ask for with TriggerMessage
        self.firmware_status = "Idle"
        self.firmware_request_id: int | None = None
        self.diagnostics_status = "Idle"
        self.log_status = "Idle"
        self.log_request_id: int | None = None
        self.firmware_process: simpy.Process | None = None
        self.log_process: simpy.Process | None = None
        # how long a simulated update / log upload takes (the conformance SUT makes them quick)
        self.firmware_timings = FirmwareTimings()
        self.upload_timings = UploadTimings()
        # fetch HTTP(S) firmware for real (off: scenarios name locations nobody serves)
        self.real_downloads = False
        # a secure update (2.0.1 UpdateFirmware) without signingCertificate and signature is
        # Rejected (TC_L_18_CS); off by default, as some tests update unsigned firmware
        self.signed_firmware_only = False
        # a newer update cancels a pending one (AcceptedCanceled); off: it is Rejected and the
        # pending one goes on (TC_L_11_CS)
        self.firmware_cancel = True
        # it has log information to upload; off: GetLog is Rejected (TC_N_34_CS)
        self.logs_available = True
        # a firmware update waits for the transactions to end and no new session may start
        # meanwhile (AllowNewSessionsPendingFirmwareUpdate false): free EVSEs are Unavailable
        self.firmware_pending = False
        # it downloads firmware during a transaction; off: the download waits for the
        # transactions to end, as the installation always does (TC_L_12, L_13)
        self.firmware_download_during_transaction = True
        # it installs (and activates) firmware during a transaction, which goes on (C-43:
        # TC_L_16); off: the installation waits for the transactions to end (L01.FR.06)
        self.firmware_install_during_transaction = False
        self._idle_waiters: list[simpy.Event] = []
        self._back_online: list[simpy.Event] = []
        # station-wide state (1.6 connector 0)
        self.operative = True
        self.fault_code: str | None = None
        self._station_sent_status: str | None = None
        self.station_acked_status: str | None = None  # connector 0 (1.6), as the CSMS has it
        # connection
        self._session: OcppSession | None = None
        self._closed: simpy.Event | None = None
        self._online = False
        self._booted = False
        self._registration = ""  # the CSMS's last answer to BootNotification
        self.boot_reason = "PowerUp"
        self._net_down_until = -math.inf
        self._stopped = False
        self._rebooting = False
        self._boot_now: simpy.Event | None = None
        self._started = False
        # sending
        self._outbox = Outbox(spec.offline_queue_size)
        self._draining = False
        # timers
        self._timer_wake: simpy.Event | None = None
        self._next_heartbeat = math.inf
        self._next_aligned: float | None = None
        self._tx_counter = 0
        self._reset_when_idle: str | None = None
        # C16 with a user interface: a master pass waits for its holder's choice (None: no UI)
        self.master_pass_ui = False
        self._master_pass_waiting: str | None = None
        # 2.0.1: a token accepted at the station's own reader (shared by its EVSEs) before the
        # driver chose an EVSE, and the transaction it started (TxStartPoint Authorized)
        self.station_auth: tuple[Authorization, Transaction | None] | None = None
        from simulator.station.protocol16 import Protocol16
        from simulator.station.protocol201 import Protocol201

        self.proto: Protocol16 | Protocol201 = (Protocol16(self) if self.version is OcppVersion.V16
                                                else Protocol201(self))

    # -- what the engine and drivers read ----------------------------------------------------------

    @property
    def online(self) -> bool:
        """Connected, booted and accepted: messages go out now."""
        return self._online

    @property
    def queued_messages(self) -> int:
        return len(self._outbox)

    def evse(self, evse_id: int) -> EvseState:
        if not 1 <= evse_id <= len(self.evses):
            raise KeyError(f"{self.id} has no EVSE {evse_id}")
        return self.evses[evse_id - 1]

    def status(self, evse_id: int) -> str | None:
        return self.evse(evse_id).sent_status

    def transaction(self, evse_id: int) -> Transaction | None:
        return self.evse(evse_id).tx

    def power_w(self, evse_id: int) -> float:
        return self.evse(evse_id).power_w

    def energy_wh(self, evse_id: int) -> float:
        evse = self.evse(evse_id)
        evse.settle(self.env.now)
        return evse.meter.energy_wh

    def meter(self, evse_id: int) -> Meter:
        """The EVSE's meter (fault hook: ``station.meter(1).inject(MeterFault("stuck"))``)."""
        return self.evse(evse_id).meter

    # -- time --------------------------------------------------------------------------------------

    def timestamp(self, t: float | None = None) -> str:
        """An OCPP timestamp of simulation time ``t`` (default now) on the station's clock,
        which runs ``clock_skew_s`` off."""
        return self.clock.iso((self.env.now if t is None else t) + self.clock_skew_s)

    def utc(self, t: float | None = None) -> datetime:
        return self.clock.utc((self.env.now if t is None else t) + self.clock_skew_s)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Power up: connect (after a jittered delay), boot, and start the timers."""
        if self._started:
            return
        self._started = True
        self.env.process(self._connection())
        self.env.process(self._timer())

    def shutdown(self) -> None:
        """Stop: close the connection and let the processes end."""
        self._stopped = True
        self._wake_timer()
        self._drop_connection("shutdown")

    def record_open_sessions(self) -> None:
        """Put transactions still running (or whose 1.6 id never came) in the sessions table,
        at the end of a run."""
        for evse in self.evses:
            if evse.tx is not None:
                evse.settle(self.env.now)
                self._record_session(evse.tx, evse, force=True)
        for tx in self.proto.unrecorded():
            self._record_session(tx, None, force=True)

    # -- fault hooks -------------------------------------------------------------------------------

    def go_offline(self, duration_s: float | None) -> None:
        """The network goes down for ``duration_s`` (None: for the rest of the run)."""
        until = math.inf if duration_s is None else self.env.now + duration_s
        self._net_down_until = max(self._net_down_until, until)
        self.event("network_down", "" if duration_s is None else f"{duration_s:g} s")
        self._drop_connection("network down")

    def fault(self, evse_id: int, error_code: str, duration_s: float | None) -> Gen:
        """EVSE ``evse_id`` (0: the whole station) reports ``error_code`` for ``duration_s``
        (None: for the rest of the run): a running transaction ends, the connector is Faulted,
        and when the fault clears it reports its status again."""
        evses = self.evses if evse_id == 0 else [self.evse(evse_id)]
        self.event("fault_applied", f"evse {evse_id}: {error_code}")
        if evse_id == 0:
            self.fault_code = error_code
            self._refresh_station()
        for evse in evses:
            evse.fault = error_code
            if evse.tx is not None:
                self._end_tx(evse, "Other", "AbnormalCondition")
            self.changed(evse)
        if duration_s is not None:
            yield self.env.timeout(duration_s)
            self.event("fault_cleared", f"evse {evse_id}: {error_code}")
            if evse_id == 0:
                self.fault_code = None
                self._refresh_station()
            for evse in evses:
                if evse.fault == error_code:
                    evse.fault = None
                    self.changed(evse)
        else:
            yield self.env.timeout(0)

    def send_corrupt_frame(self) -> None:
        """Put a broken frame on the wire (the CSMS must answer or drop it, never hang)."""
        session = self._session
        if session is None:
            return
        self.event("corrupt_frame", "")
        self.clock.bridge(_quietly(session.send_text('[2,"corrupt-frame","Heartbeat",{')))

    # -- what drivers do ---------------------------------------------------------------------------

    def plug_in(self, evse_id: int, vehicle: Any) -> Gen:
        """The driver plugs ``vehicle`` into EVSE ``evse_id``."""
        evse = self.evse(evse_id)
        if evse.plugged:
            raise RuntimeError(f"{self.id} EVSE {evse_id} is already occupied")
        evse.settle(self.env.now)
        evse.extras.pop(CABLE_LOCKED_FOR, None)  # the EV side is plugged in again
        evse.extras.pop(CABLE_IN_SOCKET, None)
        evse.extras.pop(EV_SUSPENDED, None)
        evse.plugged, evse.vehicle, evse.finishing = True, vehicle, False
        if evse.tx is None and evse.auth is None and self.station_auth is not None:
            self._choose_evse(evse)
        elif evse.tx is not None:
            self.proto.tx_event(evse, evse.tx, "CablePluggedIn")
        elif self._start_due(evse):
            self._begin_tx(evse, "CablePluggedIn")
        self.changed(evse, "CablePluggedIn")
        yield self.env.timeout(0)

    def unplug(self, evse_id: int) -> Gen:
        """The driver takes the cable out (ending the transaction as TxStopPoint says)."""
        evse = self.evse(evse_id)
        if not evse.plugged:
            self._take_cable_out(evse)
            yield self.env.timeout(0)
            return
        evse.settle(self.env.now)
        evse.plugged = False
        tx = evse.tx
        if tx is not None:
            if self._stop_due(evse, unplugged=True):
                self._end_tx(evse, "EVDisconnected", "EVCommunicationLost")
            else:
                self.proto.tx_event(evse, tx, "EVCommunicationLost")
        evse.vehicle, evse.finishing = None, False
        if evse.tx is None:
            evse.auth = None
        if tx is not None and evse.tx is None and self._keeps_cable_locked(evse) and \
                tx.id_token:
            evse.extras[CABLE_LOCKED_FOR] = tx.id_token
        self.changed(evse, "EVCommunicationLost")
        yield self.env.timeout(0)

    def _take_cable_out(self, evse: EvseState) -> None:
        """2.0.1, the EV side disconnected before: the cable left in the socket comes out,
        unless the station keeps it locked (UnlockOnEVSideDisconnect false, E09.FR.03)."""
        if not evse.extras.get(CABLE_IN_SOCKET) or CABLE_LOCKED_FOR in evse.extras:
            return
        del evse.extras[CABLE_IN_SOCKET]
        self.changed(evse)

    def unplug_ev_side(self, evse_id: int) -> Gen:
        """2.0.1: the cable is disconnected at the EV side (E09, E10). A detachable cable stays
        in the socket, locked for the transaction's token unless UnlockOnEVSideDisconnect. A
        running transaction ends if TxStopPoint says so, else it is deauthorized when
        StopTxOnEVSideDisconnect, else suspended (a fixed cable: until EVConnectionTimeOut).
        1.6: the cable is unplugged (``unplug``)."""
        evse = self.evse(evse_id)
        if self.version is OcppVersion.V16 or not evse.plugged:
            return (yield from self.unplug(evse_id))
        evse.settle(self.env.now)
        evse.plugged, evse.vehicle, evse.finishing = False, None, False
        fixed = evse.spec.connectors[0].fixed_cable
        tx = evse.tx
        token = tx.id_token if tx is not None and tx.id_token else \
            (evse.auth.id_token if evse.auth is not None else None)
        if not fixed:
            evse.extras[CABLE_IN_SOCKET] = True
            if not self.settings.unlock_on_ev_side_disconnect and token:
                evse.extras[CABLE_LOCKED_FOR] = token
        if tx is not None:
            if self._stop_due(evse, unplugged=True):
                self._end_tx(evse, "EVDisconnected", "EVCommunicationLost")
            elif self.settings.stop_tx_on_ev_side_disconnect:
                self.deauthorize(evse, "EVDisconnected", "EVCommunicationLost")
            else:
                self.proto.tx_event(evse, tx, "EVCommunicationLost")
                if fixed:
                    self.env.process(self._ev_reconnect_timeout(evse, tx))
        if evse.tx is None:
            evse.auth = None
        self.changed(evse, "EVCommunicationLost")
        yield self.env.timeout(0)

    def _ev_reconnect_timeout(self, evse: EvseState, tx: Transaction) -> Gen:
        """A fixed cable disconnected at the EV side, the transaction suspended: unless the EV
        is connected again within EVConnectionTimeOut, its authorization ends (E10.FR.02)."""
        yield self.env.timeout(self.settings.ev_connection_timeout_s)
        if evse.tx is tx and not evse.plugged:
            self.event("connection_timeout", f"evse {evse.id}")
            self.deauthorize(evse, "Timeout", "EVConnectTimeout")

    def parking_bay(self, evse_id: int, occupied: bool) -> Gen:
        """2.0.1: the parking bay detector of EVSE ``evse_id`` sees an EV arrive (``occupied``)
        or leave. TxStartPoint ParkingBayOccupancy starts a transaction on the arrival
        (EVDetected, E01.FR.01), TxStopPoint ParkingBayOccupancy ends it on the departure
        (EVDeparted, E06.FR.01)."""
        evse = self.evse(evse_id)
        evse.settle(self.env.now)
        if occupied:
            evse.extras[BAY_OCCUPIED] = True
            if self._start_due(evse):
                self._begin_tx(evse, "EVDetected")
        else:
            evse.extras.pop(BAY_OCCUPIED, None)
            if evse.tx is not None and self.version is OcppVersion.V201 and \
                    "ParkingBayOccupancy" in self.settings.tx_stop_points:
                self._end_tx(evse, "EVDisconnected", "EVDeparted")
        self.changed(evse)
        yield self.env.timeout(0)

    def ev_suspends(self, evse_id: int) -> Gen:
        """The EV stops taking energy (full, or paused by its driver): SuspendedEV until it is
        plugged in again."""
        evse = self.evse(evse_id)
        evse.settle(self.env.now)
        evse.extras[EV_SUSPENDED] = True
        self.changed(evse, "ChargingStateChanged")
        yield self.env.timeout(0)

    def _keeps_cable_locked(self, evse: EvseState) -> bool:
        """1.6 UnlockConnectorOnEVSideDisconnect false: after the EV side is unplugged, a
        socket keeps the cable locked until the driver presents the tag of the transaction."""
        return self.version is OcppVersion.V16 and \
            not self.settings.unlock_on_ev_side_disconnect and \
            not evse.spec.connectors[0].fixed_cable

    def _unlock_cable(self, evse: EvseState, token_id: str) -> bool:
        """The driver presents ``token_id`` at a connector whose cable stays locked: it
        unlocks if that is the transaction's tag."""
        if evse.extras.get(CABLE_LOCKED_FOR) != token_id:
            return False
        del evse.extras[CABLE_LOCKED_FOR]
        self.event("cable_unlocked", f"evse {evse.id}")
        self.changed(evse)
        return True

    def present_token(self, evse_id: int, token: Any) -> Gen:
        """The driver holds ``token`` (an :class:`~simulator.drivers.IdToken` or an id string)
        to the reader of EVSE ``evse_id``; returns whether the station accepted it. With a
        transaction running, the token that started it stops it."""
        evse = self.evse(evse_id)
        token_id, token_type = _token(token)
        if CABLE_LOCKED_FOR in evse.extras and evse.tx is None and not evse.plugged:
            yield self.env.timeout(0)
            return self._unlock_cable(evse, token_id)
        if evse.tx is not None and evse.auth is not None:
            if token_id == evse.auth.id_token:
                return (yield from self.stop_by_driver(evse_id, token))
            if self.version is OcppVersion.V16:
                return (yield from self._stop_by_group(evse, token_id, token_type))
            # 2.0.1 has the same rule: C09, Authorization by GroupId (TC_C_40_CS, TC_C_43_CS)
            return (yield from self._stop_by_group(evse, token_id, token_type))
        if evse.fault is not None or not evse.operative or evse.auth is not None:
            return False
        verdict = yield from self.authorize(token_id, token_type, evse_id)
        if self._is_master_pass(verdict):
            return self._stop_all_by_master_pass(token_id)
        if not verdict.accepted:
            self.event("token_rejected", f"evse {evse_id}: {token_id} {verdict.status}")
            return False
        if evse.auth is not None or not evse.operative or evse.fault is not None:
            return False  # taken meanwhile (a remote start, a change of availability)
        if len(self.reservations) and self.reservations.blocks(
                evse_id, token_id, verdict.group_id, self.reservation_view(free=evse)):
            self.event("token_rejected", f"evse {evse_id}: {token_id} reserved for another")
            return False
        self.authorized(evse, Authorization(token_id, token_type, verdict.group_id,
                                             since_s=self.env.now))
        return True

    def present_token_station(self, token: Any) -> Gen:
        """2.0.1: the driver holds ``token`` to the station's own reader, shared by its EVSEs,
        before choosing one; True if the station accepted it. The authorization waits for an
        EV plugged in at a free EVSE (EVConnectionTimeOut); with TxStartPoint Authorized the
        transaction starts now, before the EVSE is known: TransactionEvent Started without
        evse, its Transaction.Begin values in the first event after the plug-in (TC_J_08)."""
        token_id, token_type = _token(token)
        free = [e for e in self.evses if e.tx is None and e.auth is None and e.operative
                and e.fault is None and not e.plugged]
        if self.version is OcppVersion.V16 or self.station_auth is not None or not free:
            yield self.env.timeout(0)
            return False
        verdict = yield from self.authorize(token_id, token_type)
        if not verdict.accepted or self._is_master_pass(verdict) or \
                self.station_auth is not None:
            self.event("token_rejected", f"station reader: {token_id} {verdict.status}")
            return False
        auth = Authorization(token_id, token_type, verdict.group_id, since_s=self.env.now)
        tx = None
        if "Authorized" in self.settings.tx_start_points and not self.firmware_pending:
            tx = Transaction(local_id=self._next_tx_id(), evse_id=0, connector_id=0,
                             started_s=self.env.now, meter_start_wh=0.0,
                             started_offline=not self._online, id_token=token_id,
                             token_type=token_type)
            self.event("transaction_started", f"no EVSE yet: {tx.local_id}")
            self.proto.tx_started_without_evse(tx)  # type: ignore[attr-defined]
        self.station_auth = (auth, tx)
        self.env.process(self._station_auth_timeout(auth))
        return True

    def _station_auth_timeout(self, auth: Authorization) -> Gen:
        """No EV plugged in within EVConnectionTimeOut: the authorization lapses and its
        transaction, if one started, ends (EVConnectTimeout, still without an EVSE)."""
        yield self.env.timeout(self.settings.ev_connection_timeout_s)
        if self.station_auth is None or self.station_auth[0] is not auth:
            return
        tx = self.station_auth[1]
        self.station_auth = None
        self.event("connection_timeout", "station reader")
        if tx is not None:
            tx.stopped_s, tx.stop_reason = self.env.now, "Timeout"
            self.proto.tx_ended_without_evse(tx)  # type: ignore[attr-defined]

    def _choose_evse(self, evse: EvseState) -> None:
        """The EV plugged in at ``evse`` takes the authorization of the station's reader;
        a transaction started before the EVSE was known goes on here (Updated, with the
        evse and its Transaction.Begin values)."""
        assert self.station_auth is not None
        (auth, tx), self.station_auth = self.station_auth, None
        evse.auth = auth
        if tx is None:
            if self._start_due(evse):
                self._begin_tx(evse, "CablePluggedIn")
            return
        vehicle = evse.vehicle
        tx.evse_id, tx.connector_id = evse.id, evse.connector_id
        tx.meter_start_wh = evse.meter.energy_wh
        if vehicle is not None:
            tx.vehicle_model, tx.soc_start = vehicle.model.name, vehicle.soc
            tx.needed_wh = vehicle.needed_wh(evse.spec.kind)
        self._use_reservation(evse, tx)
        evse.tx, evse.finishing, evse.charge_since_s = tx, False, None
        self.proto.tx_evse_known(evse, tx)  # type: ignore[attr-defined]
        evse.process = self.env.process(self._tx_process(evse, tx))

    def _stop_by_group(self, evse: EvseState, token_id: str, token_type: str) -> Gen:
        """1.6 (3.5 / 4.10): another tag whose parentIdTag is the starting tag's may end the
        transaction; StopTransaction then carries that tag. True if it stopped it."""
        started_by = evse.auth
        if started_by is None or (started_by.group_id is None and
                                  not self._master_pass_group()):
            yield self.env.timeout(0)
            return False
        verdict = yield from self.authorize(token_id, token_type, evse.id)
        if self._is_master_pass(verdict):
            return self._stop_all_by_master_pass(token_id)
        tx = evse.tx
        if started_by.group_id is None:
            return False
        if tx is None or evse.auth is not started_by or not verdict.accepted or \
                (verdict.group_id or "").casefold() != started_by.group_id.casefold():
            return False
        tx.stop_token = token_id
        self.deauthorize(evse, "Local", "StopAuthorized")
        return True

    def _master_pass_group(self) -> str | None:
        """2.0.1 AuthCtrlr.MasterPassGroupId (None when not set)."""
        if self.version is OcppVersion.V16:
            return None
        return self.settings.master_pass_group_id or None

    def _is_master_pass(self, verdict: Verdict) -> bool:
        """An accepted idToken whose group is the MasterPassGroupId (C16)."""
        group = self._master_pass_group()
        return group is not None and verdict.accepted and verdict.group_id is not None and \
            verdict.group_id.casefold() == group.casefold()

    def _stop_all_by_master_pass(self, token_id: str) -> bool:
        """C16: a master pass never starts a transaction (C16.FR.03). Without a user
        interface the station stops every ongoing transaction (C16.FR.02, stoppedReason
        MasterPass; True if it stopped any); with one (``master_pass_ui``) it shows the
        transactions and waits for the holder's choice (:meth:`master_pass_choose`,
        C16.FR.01)."""
        if self.master_pass_ui:
            self._master_pass_waiting = token_id
            self.event("master_pass", f"{token_id}: waiting for the choice")
            return False
        return self._stop_by_master_pass(token_id, None)

    def _stop_by_master_pass(self, token_id: str, evse_ids: Iterable[int] | None) -> bool:
        """Stop the ongoing transactions (of ``evse_ids``; None: all), stoppedReason
        MasterPass. True if it stopped any."""
        chosen = None if evse_ids is None else set(evse_ids)
        running = [e for e in self.evses if e.tx is not None and e.auth is not None
                   and (chosen is None or e.id in chosen)]
        self.event("master_pass", f"{token_id}: {len(running)} transaction(s) stopped")
        for evse in running:
            assert evse.tx is not None
            evse.tx.stop_token = token_id
            self.deauthorize(evse, "MasterPass", "StopAuthorized")
        return bool(running)

    def master_pass_choose(self, evse_ids: Iterable[int] | None) -> Gen:
        """At the master pass screen (C16.FR.01) the holder chooses to stop the transactions
        on ``evse_ids`` (None: all). True if any stopped."""
        yield self.env.timeout(0)
        token_id, self._master_pass_waiting = self._master_pass_waiting, None
        if token_id is None:
            raise RuntimeError("no master pass was presented")
        return self._stop_by_master_pass(token_id, evse_ids)

    def stop_by_driver(self, evse_id: int, token: Any) -> Gen:
        """The driver ends the charge with ``token`` (the one that started it); True if the
        transaction was stopped."""
        evse = self.evse(evse_id)
        token_id, _ = _token(token)
        yield self.env.timeout(0)
        if evse.tx is None or evse.auth is None or evse.auth.id_token != token_id:
            return False
        self.deauthorize(evse, "Local", "StopAuthorized")
        return True

    # -- authorisation -----------------------------------------------------------------------------

    def authorize(self, token_id: str, token_type: str = "ISO14443",
                  evse_id: int | None = None) -> Gen:
        """Is ``token_id`` good? The local list, the cache and the settings decide first
        (:func:`~simulator.station.auth_store.decide`); when they say ask, the CSMS is asked,
        and if that fails the offline rules decide."""
        token = self.proto.token(token_id, token_type)
        result = self.authorizer.decide(token, online=self._online, now=self.utc())
        if result.decision is Decision.ASK_CSMS:
            message = self.proto.authorize_message(token_id, token_type, evse_id)
            message.result = self.env.event()
            self.enqueue(message)
            try:
                answer = yield message.result
            except (Undeliverable, CallErrorReceived, CallTimeout, PayloadInvalid,
                    SessionClosed):
                result = self.authorizer.decide(token, online=False, now=self.utc())
            else:
                self.authorizer.remember("Authorize", message.payload, answer, self.utc())
                return self.proto.authorize_verdict(answer)
        info = result.info or {}
        return Verdict(str(info.get("status", "Invalid")), result.group_id, result.source)

    def authorized(self, evse: EvseState, auth: Authorization) -> None:
        evse.auth = auth
        if evse.tx is not None:  # started on the cable (2.0.1 EVConnected): the holder is here
            self._use_reservation(evse, evse.tx)
            self.proto.tx_event(evse, evse.tx, "RemoteStart" if auth.remote else "Authorized")
        elif self._start_due(evse):
            self._begin_tx(evse, "RemoteStart" if auth.remote else "Authorized")
        if not evse.plugged:
            self.env.process(self._connection_timeout(evse, auth))
        self.changed(evse, "Authorized")

    def _connection_timeout(self, evse: EvseState, auth: Authorization) -> Gen:
        yield self.env.timeout(self.settings.ev_connection_timeout_s)
        if evse.auth is auth and not evse.plugged:
            self.event("connection_timeout", f"evse {evse.id}")
            if evse.tx is not None:
                self._end_tx(evse, "Timeout", "EVConnectTimeout")
            evse.auth = None
            self.changed(evse)

    def deauthorize(self, evse: EvseState, reason: str, trigger: str) -> None:
        """The authorisation ends (stop token, remote stop, invalid id): the transaction ends if
        TxStopPoint says so, otherwise it goes on without energy."""
        tx = evse.tx
        evse.settle(self.env.now)
        if tx is not None and self._stop_due(evse, unplugged=False):
            self._end_tx(evse, reason, trigger)
        else:
            evse.auth = None
            if tx is not None:
                self.proto.tx_event(evse, tx, trigger)
        self.changed(evse, trigger)

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

    # -- status ------------------------------------------------------------------------------------

    def status_of(self, evse: EvseState) -> str:
        """The connector status to report now: the version's status of the EVSE's state, or
        Reserved where a reservation holds a free EVSE."""
        status = self.proto.connector_status(evse)
        if status == "Available" and len(self.reservations) and \
                evse.id in self.reservations.reserved_evses(self.reservation_view()):
            return "Reserved"
        return status

    def reservation_view(self, free: EvseState | None = None) -> dict[int, EvseAvailability]:
        """EVSE states as reservations read them; ``free`` (the EVSE a driver is at, cable in
        but nothing started) counts as free, so that its reservation still holds."""
        return {e.id: EvseAvailability("Available" if e is free else
                                       self.proto.connector_status(e),
                                       tuple(c.type for c in e.spec.connectors))
                for e in self.evses}

    def refresh_all(self) -> None:
        """Report every EVSE whose status changed (after reservations, availability ...)."""
        for evse in self.evses:
            self._refresh(evse)
        self._refresh_station()
        # a new reservation may expire before the timer's next wake-up (a heartbeat away)
        self._wake_timer()

    def _wake(self, evse: EvseState) -> None:
        wake = evse.wake
        if wake is not None and not wake.triggered and self.env.active_process is not \
                evse.process:
            wake.succeed()

    def _refresh(self, evse: EvseState, trigger: str | None = None) -> None:
        status = self.status_of(evse)
        if status != evse.sent_status:
            evse.sent_status = status
            self.recorder.status(self.id, evse.id, evse.connector_id, self.env.now, status,
                                 evse.fault)
            for message in self.proto.status_messages(evse, status):
                self.enqueue(message)
        self.proto.after_refresh(evse, trigger)

    def _refresh_station(self) -> None:
        status = self.proto.station_status()
        if status is None or status == self._station_sent_status:
            return
        self._station_sent_status = status
        self.recorder.status(self.id, 0, 0, self.env.now, status, self.fault_code)
        for message in self.proto.station_status_messages(status):
            self.enqueue(message)

    def _report_statuses(self, everything: bool) -> None:
        """After a boot (``everything``) or a reconnect (what the CSMS has not heard)."""
        status = self.proto.station_status()
        if status is not None:
            if self._station_sent_status is None:
                self._station_sent_status = status
                self.recorder.status(self.id, 0, 0, self.env.now, status, self.fault_code)
            if everything or self.station_acked_status != status:
                for message in self.proto.station_status_messages(status):
                    self.enqueue(message)
        for evse in self.evses:
            status = self.status_of(evse)
            if status != evse.sent_status:
                self._refresh(evse)
            elif everything or evse.acked_status != status:
                for message in self.proto.status_messages(evse, status):
                    self.enqueue(message)

    # -- sending -----------------------------------------------------------------------------------

    def enqueue(self, message: OutMessage) -> None:
        if self._online:
            self._push(message)
            self._kick()
        elif message.kind.held_offline:
            message.queued = True
            self.record_message(message.action, "out", None, "queued")
            self._push(message)
        else:
            self.record_message(message.action, "out", None, "dropped")
            self._fail(message, Undeliverable(f"{self.id} is offline"))

    def _push(self, message: OutMessage) -> None:
        dropped = self._outbox.push(message)
        if dropped is not None:
            self.record_message(dropped.action, "out", None,
                                "lost" if dropped.kind.held_offline else "dropped")
            self._fail(dropped, Undeliverable("offline queue full"))

    def _kick(self) -> None:
        if self._online and self._outbox and not self._draining:
            self._draining = True
            self.env.process(self._drain())

    def _drain(self) -> Gen:
        env = self.env
        try:
            while self._online and self._outbox:
                message = self._outbox.head()
                payload = message.payload if message.prepare is None else message.prepare(message)
                if payload is None:
                    self._outbox.pop()
                    self.record_message(message.action, "out", None, "dropped")
                    self._fail(message, Undeliverable("no longer needed"))
                    continue
                session = self._session
                if session is None:  # online without a session: it is offline after all,
                    self._lost_connection()  # what is left goes out on the next connection
                    break
                began = time.perf_counter()
                try:
                    answer = yield self.clock.bridge(_copyable_errors(
                        session.call(message.action, payload)))
                except SessionClosed:
                    # only if that connection is still the station's: by the time a closed
                    # session's call fails, the station may be connected (and booting) anew,
                    # and forgetting that session left it online without one
                    if self._session is session:
                        self._lost_connection()
                    break
                except (CallErrorReceived, CallTimeout, PayloadInvalid) as exc:
                    outcome = "timeout" if isinstance(exc, CallTimeout) else "call_error"
                    self.record_message(message.action, "out", _ms(began), outcome)
                    message.attempts += 1
                    if message.kind is Kind.TRANSACTION and \
                            message.attempts < self.settings.transaction_message_attempts:
                        yield env.timeout(self.settings.transaction_message_retry_interval_s *
                                          message.attempts)
                        continue
                    if self._outbox and self._outbox.head() is message:
                        self._outbox.pop()
                    self._fail(message, exc)
                    continue
                # the connection may have dropped while the answer was on its way (a live
                # message is then gone from the outbox already): pop only what is still there
                if self._outbox and self._outbox.head() is message:
                    self._outbox.pop()
                self.record_message(message.action, "out", _ms(began),
                                    "replayed" if message.queued else "ok")
                if message.on_answer is not None:
                    message.on_answer(answer)
                # a waiter already failed when the connection dropped while the answer was on
                # its way (a live message's result is failed as it is dropped): leave it so
                if message.result is not None and not message.result.triggered:
                    message.result.succeed(answer)
        finally:
            self._draining = False
        self._kick()

    @staticmethod
    def _fail(message: OutMessage, error: Exception) -> None:
        if message.on_failure is not None:
            message.on_failure(error)
        result = message.result
        if result is not None and not result.triggered:
            result.defused = True
            result.fail(error)

    def call_now(self, action: str, payload: dict[str, Any]) -> Gen:
        """Send ``action`` outside the outbox (boot, before the station is accepted) and
        return the answer; records the message."""
        session = self._session
        if session is None:
            raise SessionClosed(f"{self.id} is not connected")
        began = time.perf_counter()
        try:
            answer = yield self.clock.bridge(_copyable_errors(
                self._noting_registration(action, session.call(action, payload))))
        except (CallErrorReceived, PayloadInvalid):
            self.record_message(action, "out", _ms(began), "call_error")
            raise
        except CallTimeout:
            self.record_message(action, "out", _ms(began), "timeout")
            raise
        self.record_message(action, "out", _ms(began), "ok")
        return answer

    async def _noting_registration(self, action: str, call: Any) -> Any:
        """The CSMS's answer to BootNotification counts from the moment it arrives: a request
        right behind it on the wire is answered as the station now stands (TC_B_30_CS)."""
        answer = await call
        if action == "BootNotification" and isinstance(answer, dict):
            self._registration = str(answer.get("status", ""))
        return answer

    def outbox_holds(self, predicate: Callable[[OutMessage], bool] | None = None) -> bool:
        return self._outbox.pending(predicate)

    # -- recording ---------------------------------------------------------------------------------

    def record_message(self, action: str, direction: str, latency_ms: float | None,
                       outcome: str) -> None:
        self.recorder.message(self.id, action, direction, self.env.now, latency_ms, outcome)

    def event(self, kind: str, detail: str = "") -> None:
        self.recorder.event(self.id, self.env.now, kind, detail)

    # -- connection --------------------------------------------------------------------------------

    def _connection(self) -> Gen:
        env = self.env
        if self.spec.start_jitter_s > 0:
            yield env.timeout(float(self.rng.uniform(0.0, self.spec.start_jitter_s)))
        attempt = 0  # failed attempts since the last connection
        doubled = 0  # back-offs already waited (the next one is doubled that often)
        failing = False
        while not self._stopped:
            if self._rebooting:
                yield env.timeout(self.spec.reboot_s)
                self._rebooting = False
            transport = None
            if env.now < self._net_down_until:
                reason = "network down"
            else:
                try:
                    password = self.settings.basic_auth_password
                    transport = yield self.clock.bridge(self._open_link(password))
                except BackendUnreachable as exc:
                    reason = str(exc)
                    self._tls_refused(exc)
                except Exception as exc:  # noqa: BLE001 - any failure to connect is a failure
                    reason = f"{type(exc).__name__}: {exc}"
            if transport is None:
                self._network_failed()
                if not failing:
                    self.event("connect_failed", reason[:200])
                    failing = True
                wait = self._backoff_s(doubled)
                attempt, doubled = attempt + 1, doubled + 1
                yield env.timeout(wait)
                continue
            if self._stopped:
                self.clock.bridge(_quietly(transport.close()))
                break
            self.event("connected", f"after {attempt} failed attempts" if attempt else "")
            self._network_connected()
            attempt, doubled, failing = 0, 0, False
            yield from self._serve(transport)
            if not self._stopped and not self._rebooting:
                # the first back-off after a lost connection: a failed attempt then doubles it
                # (OCPP-J Part 4 reconnecting, TC_B_57), it does not wait the minimum again
                yield env.timeout(self._backoff_s(0))
                doubled = 1

    def _network_priority(self) -> str | None:
        """2.0.1 NetworkConfigurationPriority; None for 1.6 (one CSMS address)."""
        if self.version is OcppVersion.V16:
            return None
        found = self.settings.find("OCPPCommCtrlr",  # type: ignore[attr-defined]
                                   "NetworkConfigurationPriority")
        return str(found.read() or "") if found is not None else None

    def _open_link(self, password: str | None) -> Any:
        """Open the connection of the network profile tried now (2.0.1: in the order of
        NetworkConfigurationPriority; slot 0 is the address the station was built with)."""
        priority = self._network_priority()
        slot = FACTORY_SLOT if priority is None else self.network.current(priority)
        if slot == FACTORY_SLOT:
            return self.link.open(password)
        profile = self.network.profiles[slot]
        return self.link.open_url(profile.url, profile.security_profile, password)

    def _priority_problem(self, priority: str) -> tuple[str, str] | None:
        """A NetworkConfigurationPriority the station cannot connect with: a TLS profile
        without a valid CSMS root certificate (A05.FR.02; a station at security profile 2 or
        3 was built with one), profile 3 without a client certificate (A05.FR.03)."""
        settings = self.settings
        now = self.utc()
        has_root = settings.security_profile >= 2 or any(
            valid_at(pem, now) for pem in self.proto.certificates.pems("CSMSRootCertificate"))
        return self.network.priority_problem(priority, has_root,
                                             bool(settings.seed.has_client_certificate))

    def _network_failed(self) -> None:
        priority = self._network_priority()
        every_entry_failed = True  # 1.6: one CSMS address
        if priority is not None:
            attempts = self.settings.find(  # type: ignore[attr-defined]
                "OCPPCommCtrlr", "NetworkProfileConnectionAttempts")
            network = self.network
            network.failed(priority, int(attempts.read() or 1) if attempts else 1)
            # every NetworkConfigurationPriority entry had its attempts (the list wrapped, or
            # the station now keeps to its last connected profile, B10.FR.07)
            every_entry_failed = network.pinned or (network.failures == 0 and
                                                    network.position == 0)
        # AdditionalRootCertificateCheck: then the other CSMS root (M05.FR.14 / FR.15)
        self.proto.certificates.connection_failed(every_entry_failed)

    def _network_connected(self) -> None:
        """Connected on a network profile: it is the active one (ActiveNetworkProfile), and a
        higher security profile it brings is the station's from now on (A05 upgrade)."""
        self.proto.certificates.connected()  # a new CSMS root proven (or given up)
        priority = self._network_priority()
        if priority is None:
            return
        slot = self.network.current(priority)
        self.network.connected(slot, priority)
        settings = self.settings
        settings.set_actual("OCPPCommCtrlr", "ActiveNetworkProfile",  # type: ignore[attr-defined]
                            str(slot))
        profile = self.network.profiles.get(slot)
        if profile is not None and profile.security_profile > settings.security_profile:
            settings.set_actual("SecurityCtrlr", "SecurityProfile",  # type: ignore[attr-defined]
                                str(profile.security_profile))

    def enable_additional_root_certificate_check(self, csms_root_pem: str | None) -> None:
        """A 2.0.1 station with SecurityCtrlr.AdditionalRootCertificateCheck true (AS-2): one
        CSMS root at a time, ``csms_root_pem`` the one it was built with (M05.FR.09..FR.17)."""
        self.proto.certificates.enable_root_check(csms_root_pem)
        if self.version is OcppVersion.V201:
            self.settings.set_actual(  # type: ignore[attr-defined]
                "SecurityCtrlr", "AdditionalRootCertificateCheck", "true")

    def _tls_refused(self, error: BaseException) -> None:
        """The station refused the CSMS's TLS: a certificate it does not accept (2.0.1
        InvalidCsmsCertificate, 1.6 InvalidCentralSystemCertificate) or a TLS version below
        1.2 (InvalidTLSVersion) is a security event, reported once it is connected again."""
        cause = error.__cause__
        while cause is not None and not isinstance(cause, ssl.SSLError):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, ssl.SSLCertVerificationError):
            kind = "InvalidCentralSystemCertificate" if self.version is OcppVersion.V16 \
                else "InvalidCsmsCertificate"
        elif isinstance(cause, ssl.SSLError) and any(
                marker in str(cause) for marker in ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL")):
            kind = "InvalidTLSVersion"
        else:
            return
        self.proto.security_event(kind, str(cause)[:200])

    def _backoff_s(self, attempt: int) -> float:
        """RetryBackOffWaitMinimum doubled per attempt up to RetryBackOffRepeatTimes, plus a
        random part up to RetryBackOffRandomRange."""
        settings = self.settings
        base = settings.retry_backoff_wait_minimum_s * \
            2 ** min(attempt, settings.retry_backoff_repeat_times)
        wait = base + float(self.rng.uniform(0.0, settings.retry_backoff_random_range_s))
        # a connection attempt takes time: with both settings 0 the retry loop must still let
        # simulated time pass (it spun at one instant while the network was down)
        return max(wait, MIN_RECONNECT_WAIT_S)

    def _serve(self, transport: Any) -> Gen:
        env = self.env
        session = OcppSession(transport, self.version, role=Role.STATION, identity=self.id,
                              call_timeout=self._call_timeout_s(), sim_time=_now_of(env),
                              trace=self.trace)
        on_call = self._on_call
        for action in self.proto.actions():
            session.route(action, on_call, context=True)
        closed = env.event()
        task = asyncio.ensure_future(session.serve())
        task.add_done_callback(lambda _task: self.clock.trigger(closed))
        self._session, self._closed = session, closed
        try:
            if not self._booted:
                booted = yield from self._boot(session, closed)
                if not booted:
                    return
            if closed.triggered or self._session is not session:
                # the connection went while the boot's answer was on its way (the network
                # was cut, a call failed): going online now would leave the station online
                # without a session; the next connection goes online instead
                return
            self._go_online(everything=not self._reported_since_boot)
            yield closed
        finally:
            self._lost_connection()
            if not task.done():
                self.clock.bridge(_quietly(session.close()))

    _reported_since_boot = False

    def _boot(self, session: OcppSession, closed: simpy.Event) -> Gen:
        env = self.env
        while not closed.triggered and not self._stopped:
            wait = float(self.spec.boot_retry_s)
            try:
                answer = yield from self.call_now("BootNotification",
                                                  self.proto.boot_payload())
            except SessionClosed:
                return False
            except (CallErrorReceived, CallTimeout, PayloadInvalid) as exc:
                self.event("boot_failed", str(exc)[:200])
            else:
                status = answer["status"]
                interval = int(answer.get("interval") or 0)
                self.event(f"boot_{status.lower()}", f"interval {interval}")
                if status == "Accepted":
                    if interval > 0:
                        self._heartbeat_from_boot(interval)
                    self._booted = True
                    self._reported_since_boot = False
                    return True
                if interval > 0:
                    wait = float(interval)
            self._boot_now = env.event()
            yield env.any_of([env.timeout(wait), closed, self._boot_now])
        return False

    def boot_again_now(self) -> bool:
        """TriggerMessage(BootNotification) while Pending: boot without waiting."""
        if self._boot_now is not None and not self._boot_now.triggered:
            self._boot_now.succeed()
            return True
        return False

    def _go_online(self, everything: bool) -> None:
        self._online = True
        self._reported_since_boot = True
        interval = self.settings.heartbeat_interval_s
        if interval > 0:
            self._next_heartbeat = self.env.now + float(self.rng.uniform(0.0, interval))
        self._wake_timer()
        # replay first (chronological), then the statuses the CSMS has not heard (2.0.1: of
        # every connector after an offline period longer than OfflineThreshold, B04.FR.01)
        self._report_statuses(everything or self._offline_beyond_threshold())
        self._offline_since = None
        self.proto.after_boot(everything)
        self._kick()
        if everything:
            back, self._back_online = self._back_online, []
            for event in back:
                event.succeed()

    def _lost_connection(self) -> None:
        was_online = self._online
        self._online = False
        self._next_heartbeat = math.inf
        if self._session is not None:
            self._session = None
        for message in self._outbox.drop_live():
            self.record_message(message.action, "out", None, "dropped")
            self._fail(message, Undeliverable(f"{self.id} went offline"))
        if was_online:
            self._offline_since = self.env.now
            self.event("disconnected", "")

    _offline_since: float | None = None  # when the connection was lost (None: online, booting)

    def _offline_beyond_threshold(self) -> bool:
        """Back after an offline period longer than 2.0.1 OCPPCommCtrlr.OfflineThreshold."""
        since = self._offline_since
        return self.version is OcppVersion.V201 and since is not None and \
            self.env.now - since > self.settings.offline_threshold_s

    def _drop_connection(self, why: str) -> None:
        session = self._session
        self._lost_connection()
        if session is not None:
            self.clock.bridge(_quietly(session.close(1001, why)))

    def _on_call(self, payload: dict[str, Any], context: CallContext) -> Any:
        return self._answer(context.action, payload)

    async def _answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        began = time.perf_counter()
        at = self.env.now
        try:
            answer, follow = await self.clock.in_sim(self._dispatch, action, payload)
        except OcppError:
            self.recorder.message(self.id, action, "in", at, _ms(began), "call_error")
            raise
        self.recorder.message(self.id, action, "in", at, _ms(began), "ok")
        if follow is not None:
            # after the answer is on its way: the session sends it when this returns
            asyncio.get_running_loop().call_soon(self.clock.spawn, follow)
        return answer

    def _not_accepted(self) -> bool:
        """B03: a 2.0.1 station the CSMS has rejected answers its requests with SecurityError
        until a BootNotification is accepted (TC_B_30_CS)."""
        return self.version is OcppVersion.V201 and not self._booted and \
            self._registration == "Rejected"

    def _dispatch(self, action: str, payload: dict[str, Any]) -> Gen:
        if self._not_accepted():
            raise OcppError(ErrorKind.SECURITY_ERROR,
                            f"{action}: the CSMS rejected this station's BootNotification")
        result = self.proto.handle(action, payload)
        if isinstance(result, types.GeneratorType):
            result = yield from result
        if isinstance(result, tuple):
            return result
        return result, None

    # -- timers ------------------------------------------------------------------------------------

    _message_timeout_s: float | None = None  # set by the CSMS (2.0.1 MessageTimeout)

    def _call_timeout_s(self) -> float:
        """How long a CALL of the station waits for its answer."""
        return self.spec.call_timeout_s if self._message_timeout_s is None else \
            self._message_timeout_s

    def _setting_changed(self, name: str, value: Any) -> None:
        """The CSMS changed a setting: act on the ones that steer running processes."""
        if name == "message_timeout_s":
            self._message_timeout_s = float(value)
            if self._session is not None:
                self._session.call_timeout = float(value)
        elif name == "heartbeat_interval_s":
            if self._online:
                self._next_heartbeat = self.env.now + value if value > 0 else math.inf
            self._wake_timer()
        elif name == "aligned_interval_s":
            self._next_aligned = None
            self._wake_timer()
        elif name in ("aligned_tx_ended_interval_s", "aligned_tx_ended_measurands"):
            self._next_aligned_ended = None
            self._wake_timer()
        elif name == "sample_interval_s":
            for evse in self.evses:
                self._wake(evse)

    def _heartbeat_from_boot(self, interval: int) -> None:
        """The boot answer's interval becomes the heartbeat interval (and the setting)."""
        self.proto.store_heartbeat_interval(interval)

    def _wake_timer(self) -> None:
        wake = self._timer_wake
        if wake is not None and not wake.triggered:
            wake.succeed()

    def _aligned_after(self, t: float, every: float | None = None) -> float:
        """The next clock-aligned moment after ``t`` (default: of AlignedDataCtrlr.Interval,
        else of ``every`` seconds)."""
        interval = self.settings.aligned_interval_s if every is None else every
        epoch = self.clock.start_utc.timestamp()
        return (math.floor((epoch + t) / interval + 1e-9) + 1) * interval - epoch

    def _timer(self) -> Gen:
        """Heartbeats, clock-aligned meter values and reservation expiry: one process."""
        env = self.env
        while not self._stopped:
            now = env.now
            aligned = self.settings.aligned_interval_s
            if aligned > 0 and self._next_aligned is None:
                self._next_aligned = self._aligned_after(now)
            due_aligned = self._next_aligned if aligned > 0 and self._next_aligned is not None \
                else math.inf
            expiry = self.reservations.next_expiry()
            due_expiry = math.inf if expiry is None else self.clock.seconds(expiry) - \
                self.clock_skew_s
            due_ended = self._due_aligned_ended(now)
            due = min(self._next_heartbeat, due_aligned, due_expiry, due_ended)
            self._timer_wake = env.event()
            if math.isfinite(due):
                yield env.any_of([env.timeout(max(0.0, due - now)), self._timer_wake])
            else:
                yield self._timer_wake
            now = env.now
            if self._online and now >= self._next_heartbeat - 1e-9:
                interval = self.settings.heartbeat_interval_s
                self._next_heartbeat = now + interval if interval > 0 else math.inf
                self.enqueue(self.proto.heartbeat_message())
            if self._next_aligned is not None and self.settings.aligned_interval_s > 0 and \
                    now >= self._next_aligned - 1e-9:
                self._next_aligned = self._aligned_after(now)
                self._aligned_sample()
            if now >= due_ended - 1e-9:
                self._next_aligned_ended = None
                self._aligned_ended_sample()
            if len(self.reservations):
                for reservation in self.reservations.expired(self.utc()):
                    self.event("reservation_expired", str(reservation.id))
                    self.proto.reservation_ended(reservation.id, "Expired")
                self.refresh_all()

    _next_aligned_ended: float | None = None

    def _due_aligned_ended(self, now: float) -> float:
        """2.0.1: when the next clock-aligned sample for Ended events is due (inf: none
        configured, AlignedDataCtrlr.TxEndedInterval 0 or no TxEndedMeasurands)."""
        settings = self.settings
        every = settings.aligned_tx_ended_interval_s
        if self.version is not OcppVersion.V201 or every <= 0 or \
                not settings.aligned_tx_ended_measurands:
            return math.inf
        if self._next_aligned_ended is None:
            self._next_aligned_ended = self._aligned_after(now, every)
        return self._next_aligned_ended

    def _aligned_ended_sample(self) -> None:
        """Each running transaction keeps a clock-aligned sample of
        AlignedDataCtrlr.TxEndedMeasurands for its Ended event (J02)."""
        for evse in self.evses:
            tx = evse.tx
            if tx is not None:
                evse.settle(self.env.now)
                values = self.sample(evse, "Sample.Clock",
                                     self.settings.aligned_tx_ended_measurands, tx)
                if values:
                    tx.ended_values.append({"timestamp": self.timestamp(),
                                            "sampledValue": values})

    def _aligned_sample(self) -> None:
        if self.settings.aligned_send_during_idle and \
                any(evse.tx is not None for evse in self.evses):
            return  # AlignedDataCtrlr.SendDuringIdle: none while a transaction runs (TC_J_06)
        for evse in self.evses:
            evse.settle(self.env.now)
            if evse.tx is not None:
                self.proto.tx_sample(evse, evse.tx, "Sample.Clock")
            else:
                self.proto.meter_values(evse, "Sample.Clock")

    def sample(self, evse: EvseState, context: str, measurands: Iterable[str],
               tx: Transaction | None) -> list[dict[str, Any]]:
        """SampledValues of ``evse``'s meter now, recorded in the meter values table."""
        reading = evse.meter.reading()
        self.recorder.meter_value(self.id, evse.id, tx.local_id if tx is not None else None,
                                  self.env.now, context, reading.energy_wh, reading.power_w)
        vehicle = evse.vehicle
        soc = vehicle.soc if vehicle is not None and evse.spec.kind == "DC" else None
        signer = self._signer_for(context)
        return sampled_values(reading, measurands, version=self.version.value, context=context,
                              phases_wanted=evse.spec.phases, soc=soc, signer=signer,
                              timestamp=self.utc() if signer is not None else None,
                              id_tag=tx.id_token if tx is not None else None)

    def _signer_for(self, context: str) -> OcmfSigner | None:
        """A signing meter signs every reading; otherwise 2.0.1 SignReadings (AlignedDataCtrlr
        for clock-aligned values, SampledDataCtrlr for the others) asks for signed values,
        from a key of the station's own (TC_J_04, TC_J_11)."""
        if self.signer is not None:
            return self.signer
        settings = self.settings
        wanted = settings.aligned_sign_readings if context == "Sample.Clock" \
            else settings.sampled_sign_readings
        if context == "Transaction.Begin" and self.version is OcppVersion.V201 and \
                self.proto.starts_on_signed_data():  # type: ignore[attr-defined]
            wanted = True  # TxStartPoint DataSigned: the start is a signed reading
        if not wanted:
            return None
        if self._readings_signer is None:
            from simulator.ocmf import OcmfSigner

            seed = zlib.crc32(self.id.encode())  # its own key, the station's rng untouched
            self._readings_signer = OcmfSigner(rng=np.random.default_rng(seed),
                                               meter_serial=f"{self.id}-METER"[:25])
        return self._readings_signer

    # -- resets ------------------------------------------------------------------------------------

    def reset(self, kind: str, reason: str, trigger: str) -> None:
        """End every transaction (``reason``) and reboot."""
        for evse in self.evses:
            if evse.tx is not None:
                self._end_tx(evse, reason, trigger)
                self.changed(evse)
        self.env.process(self._reboot(kind))

    def reset_when_idle(self, kind: str) -> bool:
        """Reboot once no transaction runs; True if that is now (no transaction)."""
        if all(e.tx is None for e in self.evses):
            self.env.process(self._reboot(kind))
            return True
        self._reset_when_idle = kind
        return False

    def _reboot(self, kind: str, boot_reason: str | None = None) -> Gen:
        # what the station decided before the reset (a StopTransaction, say) goes out first
        deadline = self.env.now + REBOOT_FLUSH_S
        yield self.env.timeout(0)
        while self._online and (self._outbox or self._draining) and self.env.now < deadline:
            yield self.env.timeout(0.1)
        self.event("reboot", kind)
        self._booted = False
        self.boot_reason = boot_reason or self.proto.boot_reason_for_reset(kind)
        self._rebooting = True
        self.network.rebooted()
        for evse in self.evses:
            evse.auth = None if evse.tx is None else evse.auth
        self._drop_connection("reboot")

    def reboot_and_wait(self, kind: str, boot_reason: str | None = None) -> simpy.Event:
        """Reboot; the event fires once the station is booted and online again."""
        back = self.env.event()
        self._back_online.append(back)
        self.env.process(self._reboot(kind, boot_reason))
        return back

    def hold_sessions_for_firmware(self, hold: bool) -> None:
        """L01.FR.07: while a firmware update waits for the transactions to end
        (AllowNewSessionsPendingFirmwareUpdate false) the free EVSEs are Unavailable and take
        no new session; released when the update is over (TC_L_15)."""
        if self.firmware_pending == hold:
            return
        self.firmware_pending = hold
        for evse in self.evses:
            self.changed(evse)

    def idle_event(self) -> simpy.Event | None:
        """None when no transaction runs, else an event that fires when the last one ends."""
        if all(e.tx is None for e in self.evses):
            return None
        event = self.env.event()
        self._idle_waiters.append(event)
        return event


class Verdict:
    """What the station concluded about a token, and who said so (Csms, LocalList, Cache,
    UnknownOffline, AuthDisabled, Unknown)."""

    __slots__ = ("group_id", "source", "status")

    def __init__(self, status: str, group_id: str | None = None, source: str = "Csms") -> None:
        self.status = status
        self.group_id = group_id
        self.source = source

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"

    def __repr__(self) -> str:
        return f"Verdict({self.status!r})"


def _token(token: Any) -> tuple[str, str]:
    if isinstance(token, str):
        return token, "ISO14443"
    return token.id, getattr(token, "type_201", None) or getattr(token, "kind", "ISO14443")


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000.0


def _now_of(env: simpy.Environment) -> Callable[[], float]:
    return lambda: env.now


class _CopyableCallError(CallErrorReceived):
    """A CALLERROR answer that SimPy can copy: a process waiting on a failed event gets
    ``type(exc)(*exc.args)``, which ``CallErrorReceived`` (its args are its message) cannot
    be rebuilt from, so every CALLERROR to a station's CALL crashed the simulation."""

    def __init__(self, action: str, code: str, description: str,
                 details: dict[str, Any]) -> None:
        super().__init__(action, code, description, details)
        self.args = (action, code, description, details)

    def __str__(self) -> str:
        return f"{self.action} answered with CALLERROR {self.code}: {self.description}"


class _CopyablePayloadInvalid(PayloadInvalid):
    """``PayloadInvalid`` that SimPy can copy (see ``_CopyableCallError``)."""

    def __init__(self, kind: Any, message: str, path: str) -> None:
        super().__init__(kind, message, path)
        self.args = (kind, message, path)

    def __str__(self) -> str:
        return f"{self.message} (at {self.path or '/'})"


async def _copyable_errors(call: Any) -> Any:
    """``await call``, its CALLERROR or invalid payload as an exception SimPy can copy."""
    try:
        return await call
    except CallErrorReceived as exc:
        raise _CopyableCallError(exc.action, exc.code, exc.description, exc.details) from exc
    except PayloadInvalid as exc:
        raise _CopyablePayloadInvalid(exc.kind, exc.message, exc.path) from exc


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:  # closing a connection that is already gone
        log.debug("ignored while closing", exc_info=True)


__all__ = ["SimStation", "Verdict"]
