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

:class:`SimStation` is put together from parts, one module each, that share its state:

* :mod:`.authorization`: tokens at the readers, verdicts, master passes, stops by token;
* :mod:`.transactions`: when transactions start and end, their process, the sessions table;
* :mod:`.power`: the power each EVSE delivers (profiles, station maximum, site, vehicle);
* :mod:`.status`: the connector statuses it reports;
* :mod:`.connection`: connecting, booting, calls from the CSMS, sending through the outbox;
* :mod:`.timer`: heartbeats, clock-aligned meter values, reservation expiry, sampled values.

This module holds the state (``__init__``), what the engine and drivers read, the life cycle,
the fault hooks, what drivers do at an EVSE besides presenting tokens (plug in, unplug, the
cable, the parking bay), resets, and recording.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from chargeloop.clock import SimClock
from chargeloop.ocppj import OcppSession, OcppVersion
from chargeloop.ocppj.trace import TraceHook
from simulator.meters import Meter
from simulator.station.auth_store import AuthorizationCache, Authorizer, LocalAuthList
from simulator.station.authorization import AuthorizationMixin, Verdict
from simulator.station.connection import ConnectionMixin, quietly
from simulator.station.evse import (
    BAY_OCCUPIED,
    CABLE_IN_SOCKET,
    CABLE_LOCKED_FOR,
    EV_SUSPENDED,
    Authorization,
    EvseState,
    Transaction,
)
from simulator.station.link import Link
from simulator.station.maintenance import FirmwareTimings, UploadTimings
from simulator.station.network_profiles import NetworkProfiles
from simulator.station.outbox import Outbox
from simulator.station.power import PowerMixin
from simulator.station.recorder import Recorder
from simulator.station.reservations import Reservations
from simulator.station.settings import StationSettings, settings_for
from simulator.station.smart_charging import ChargingProfiles
from simulator.station.spec import StationSpec
from simulator.station.status import StatusMixin
from simulator.station.timer import TimerMixin
from simulator.station.transactions import TransactionsMixin

if TYPE_CHECKING:
    import httpx

    from simulator.ocmf import OcmfSigner
    from simulator.sites import Site

Gen = Generator[Any, Any, Any]

REBOOT_FLUSH_S = 30.0  # a reset waits at most this long for queued messages to go out


class SimStation(AuthorizationMixin, TransactionsMixin, PowerMixin, StatusMixin,
                 ConnectionMixin, TimerMixin):
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

    # -- settings the CSMS changes -----------------------------------------------------------------

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
        self.clock.bridge(quietly(session.send_text('[2,"corrupt-frame","Heartbeat",{')))

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

    # -- recording ---------------------------------------------------------------------------------

    def record_message(self, action: str, direction: str, latency_ms: float | None,
                       outcome: str) -> None:
        self.recorder.message(self.id, action, direction, self.env.now, latency_ms, outcome)

    def event(self, kind: str, detail: str = "") -> None:
        self.recorder.event(self.id, self.env.now, kind, detail)

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


__all__ = ["SimStation", "Verdict"]
