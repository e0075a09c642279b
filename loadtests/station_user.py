"""The locust user that is one charging station over a real WebSocket.

Each user connects as ``<prefix>-<worker>-<n>``, boots, reports its connector and then lives:
heartbeats at the interval the CSMS gave (or ``--heartbeat-interval``) and, for the session
behaviours, charging sessions one after another (authorise, start, meter values at an interval,
stop, a pause). CSMS-initiated calls are answered at once by :class:`loadtests.station.
LoadStation`; what they ask for (remote start or stop, reset, trigger) is done by the loop below,
the only sender of CALLs, so one CALL at most is outstanding.

Statistics: every CALL -> CALLRESULT round trip is a locust request named after its action, with
the OCPP version as its type; a CALLERROR, a timeout or an invalid answer is a failure with that
reason. The WebSocket handshake is its own entry (``WS connect``); a connection the CSMS drops is
a failure of ``WS connection`` whose time is how long the connection had lasted.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
import time
from typing import Any, ClassVar

import gevent
import gevent.event
import numpy as np
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

from chargeloop.ocppj.versions import OcppVersion
from loadtests import options
from loadtests.link import CallFailed, ConnectionLost, StationLink
from loadtests.settings import station_identity
from loadtests.station import Effect, LoadStation

log = logging.getLogger("chargeloop.loadtests")

WS = "WS"
POWERS_W = (7_400.0, 11_000.0, 22_000.0)
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0
STOP_TIMEOUT_S = 5.0

# 2.0.1 transaction ids are the station's: this per-process tag keeps them apart from those of
# earlier runs against the same CSMS database.
RUN_TAG = secrets.token_hex(3)
_numbers = itertools.count(1)  # per process; the worker index keeps ids apart across workers
_connected: set[str] = set()
_test_started_at: list[float] = []


def connected_stations() -> int:
    """Stations of this process with an open connection right now."""
    return len(_connected)


@events.test_start.add_listener
def _remember_start(**_: Any) -> None:
    _test_started_at[:] = [time.monotonic()]


class StationLost(Exception):
    """Internal: the connection went away; the loop reconnects."""


class OcppStationUser(User):
    """One station. Subclasses set ``version`` and ``sessions``; weights come from ``--mix``."""

    abstract = True
    version: ClassVar[OcppVersion] = OcppVersion.V201
    sessions: ClassVar[bool] = False
    wait_time = constant(0)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        parsed = environment.parsed_options
        self.timing = options.timing(parsed)
        self.password = options.password(parsed)
        self.validation = options.validation(parsed)
        worker = max(0, getattr(environment.runner, "worker_index", 0) or 0)
        number = next(_numbers)
        self.identity = station_identity(options.prefix(parsed), worker, number)
        self.rng = np.random.default_rng([options.seed(parsed), worker, number])
        self.station = LoadStation(self.identity, self.version, token=self.identity,
                                   power_w=float(self.rng.choice(POWERS_W)), run_tag=RUN_TAG)
        self.link: StationLink | None = None
        self.wakeup = gevent.event.Event()
        self.stopping = gevent.event.Event()
        self.booted = False
        self.heartbeat_s = self.timing.wall(self.timing.heartbeat_interval_s or 300.0)
        started = _test_started_at[0] if _test_started_at else time.monotonic()
        self.storm_at = (started + self.timing.reconnect_at_s
                         if self.timing.reconnect_at_s > 0 else None)

    # -- locust's hooks --

    def stop(self, force: bool = False) -> bool:
        """locust stops a station gracefully (``--stop-timeout``): wake its loop, which ends a
        running session and leaves; a forced stop kills the greenlet, then ``on_stop`` runs."""
        self.stopping.set()
        return super().stop(force)

    def on_stop(self) -> None:
        """End a session still running, so the CSMS is not left with open transactions (the
        next run's cards would be busy), then close. After a forced stop a round trip may have
        been cut short; a 1.6 transaction whose start was never answered has no id to stop."""
        link = self.link
        if link is None:
            return
        tx = self.station.transaction
        known = tx is not None and (self.version is not OcppVersion.V16 or tx.id.isdigit())
        if known and not link.busy and not link.closed.is_set():
            action, payload = self.station.stop_transaction("Local")
            start = time.perf_counter()
            try:
                link.call(action, payload, min(self.timing.call_timeout_s, STOP_TIMEOUT_S))
            except CallFailed as exc:
                self._report(self.version.value, action, start, 0, exc)
            else:
                self._report(self.version.value, action, start, 0, None)
        self._drop_link()

    @task
    def live(self) -> None:
        """The station's whole life, until locust stops it (see :meth:`stop`)."""
        now = time.monotonic()
        self.next_heartbeat = float("inf")
        self.next_meter = float("inf")
        self.session_ends = float("inf")
        # The first session starts somewhere within one pause, so stations do not move in step.
        self.next_session = now + self.timing.wall(
            self.rng.uniform(0, self.timing.session_pause_s)) if self.sessions else float("inf")
        while not self.stopping.is_set():
            try:
                if self.link is None:
                    self._come_online()
                self._step()
            except StationLost:
                self._drop_link()
                self._retry_pause()
        self._leave()

    def _leave(self) -> None:
        """A graceful stop: end the session, close the connection, end the user."""
        if self.link is not None and self.station.transaction is not None:
            with contextlib.suppress(StationLost):
                self._stop_session("Local")
        self._drop_link()
        raise StopUser

    # -- the loop --

    def _step(self) -> None:
        due = min(self.next_heartbeat, self.next_meter, self.session_ends, self.next_session,
                  self.storm_at or float("inf"))
        if not self.station.effects:
            assert self.link is not None
            timeout = max(0.0, due - time.monotonic())
            # Woken early by an answered CSMS call or a dropped connection.
            gevent.wait([self.wakeup, self.link.closed, self.stopping],
                        timeout=min(timeout, 3600.0), count=1)
            self.wakeup.clear()
        assert self.link is not None
        if self.stopping.is_set():
            return
        if self.link.closed.is_set():
            raise StationLost
        while self.station.effects:
            self._do(self.station.effects.popleft())
        now = time.monotonic()
        if self.storm_at is not None and now >= self.storm_at:
            self._reconnect_storm()
        elif now >= self.session_ends:
            self._stop_session("Local")
        elif now >= self.next_meter:
            self._meter()
        elif now >= self.next_session and self.station.transaction is None:
            self._start_session(self.station.token, remote=False)
        elif now >= self.next_heartbeat:
            self._send(*self.station.heartbeat())
            self.next_heartbeat = time.monotonic() + self.heartbeat_s

    def _do(self, effect: Effect) -> None:
        if effect.kind == "start" and self.station.transaction is None:
            self._start_session(effect.token or self.station.token, remote=True,
                                remote_start_id=effect.remote_start_id)
        elif effect.kind == "stop" and self.station.transaction is not None:
            self._stop_session("Remote")
        elif effect.kind == "reset":
            if self.station.transaction is not None:
                self._stop_session("SoftReset" if self.version is OcppVersion.V16 else
                                   "Reboot")
            self._drop_link()
            self.booted = False
            self._come_online()
        elif effect.kind == "trigger":
            self._triggered(effect.message or "")

    def _triggered(self, message: str) -> None:
        if message == "BootNotification":
            self._boot()
        elif message == "Heartbeat":
            self._send(*self.station.heartbeat())
        elif message == "StatusNotification":
            self._send(*self.station.status_notification())
        elif message == "MeterValues":
            action, payload = self.station.meter_values()
            if action == "TransactionEvent":  # 2.0.1 in a transaction: a plain MeterValues
                payload = {"evseId": 1, "meterValue": payload["meterValue"]}
                action = "MeterValues"
            self._send(action, payload)

    # -- sessions --

    def _start_session(self, token: str, *, remote: bool,
                       remote_start_id: int | None = None) -> None:
        self._send(*self.station.status_notification("Preparing"))
        if not remote:
            answer = self._send(*self.station.authorize(token))
            status = None if answer is None else (answer.get("idTagInfo") or
                                                  answer.get("idTokenInfo") or {}).get("status")
            if status != "Accepted":
                self._send(*self.station.status_notification("Available"))
                self._schedule_next_session()
                return
        answer = self._send(*self.station.start_transaction(
            token, remote=remote, remote_start_id=remote_start_id))
        self.last_meter = time.monotonic()
        if answer is None or not self.station.started(answer):
            self._stop_session("DeAuthorized")
            return
        self._send(*self.station.status_notification("Charging"))
        now = time.monotonic()
        self.next_meter = now + self.timing.wall(self.timing.meter_interval_s)
        self.session_ends = now + self.timing.wall(self.timing.session_duration_s)

    def _meter(self) -> None:
        now = time.monotonic()
        self.station.charge((now - self.last_meter) * self.timing.speed)
        self.last_meter = now
        self._send(*self.station.meter_values())
        self.next_meter = time.monotonic() + self.timing.wall(self.timing.meter_interval_s)

    def _stop_session(self, reason: str) -> None:
        now = time.monotonic()
        self.station.charge((now - self.last_meter) * self.timing.speed)
        self._send(*self.station.stop_transaction(reason))
        self._send(*self.station.status_notification("Finishing"))
        self._send(*self.station.status_notification("Available"))
        self.next_meter = self.session_ends = float("inf")
        self._schedule_next_session()

    def _schedule_next_session(self) -> None:
        if self.sessions:
            self.next_session = time.monotonic() + self.timing.wall(self.timing.session_pause_s)

    # -- connection --

    def _come_online(self) -> None:
        self._connect()
        if not self.booted:
            self._boot()
        else:
            self._send(*self.station.status_notification())
        if self.next_heartbeat == float("inf"):
            self.next_heartbeat = time.monotonic() + self.heartbeat_s

    def _boot(self) -> None:
        """BootNotification until Accepted; Pending and Rejected wait the interval given."""
        for _ in range(100):
            answer = self._send(*self.station.boot())
            if answer is not None and answer["status"] == "Accepted":
                interval = float(answer.get("interval") or 0)
                if not self.timing.heartbeat_interval_s and interval > 0:
                    self.heartbeat_s = self.timing.wall(interval)
                self.booted = True
                self._send(*self.station.status_notification())
                self.next_heartbeat = time.monotonic() + self.heartbeat_s
                return
            wait = float((answer or {}).get("interval") or 10)
            assert self.link is not None
            if self.link.closed.wait(self.timing.wall(wait)):
                raise StationLost

    def _connect(self) -> None:
        start = time.perf_counter()
        try:
            link = StationLink.connect(
                self.host or "", self.identity, self.version, self.station.answer,
                password=self.password, timeout=self.timing.connect_timeout_s,
                validation=self.validation, answered=self.wakeup.set)
        except ConnectionLost as exc:
            self._report(WS, "connect", start, 0, exc)
            raise StationLost from exc
        self._report(WS, "connect", start, 0, None)
        self.link = link
        self.connected_at = time.perf_counter()
        _connected.add(self.identity)

    def _drop_link(self) -> None:
        link, self.link = self.link, None
        _connected.discard(self.identity)
        if link is None:
            return
        if link.closed.is_set() and not link.closed_by_us:
            self._report(WS, "connection", self.connected_at, 0,
                         ConnectionLost("connection lost", link.close_reason or ""))
        link.close()

    def _retry_pause(self) -> None:
        self.retries = getattr(self, "retries", 0) + 1
        base = min(RETRY_MAX_S, RETRY_MIN_S * 2 ** min(self.retries - 1, 5))
        self.stopping.wait(float(self.rng.uniform(0.5, 1.0)) * base)  # back-off

    def _reconnect_storm(self) -> None:
        """All stations drop at the same moment and come back within ``reconnect_within``, as
        they do when a CSMS restarts."""
        self.storm_at = None
        self._drop_link()
        if not self.stopping.wait(float(self.rng.uniform(0, self.timing.reconnect_within_s))):
            self._come_online()  # spread over reconnect_within, unless stopped meanwhile

    # -- one round trip --

    def _send(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """One CALL; its answer's payload, or None after a CALLERROR, timeout or bad answer."""
        if self.link is None:
            raise StationLost
        start = time.perf_counter()
        try:
            answer = self.link.call(action, payload, self.timing.call_timeout_s)
        except ConnectionLost as exc:
            raise StationLost from exc
        except CallFailed as exc:
            self._report(self.version.value, action, start, 0, exc)
            return None
        self.retries = 0
        self._report(self.version.value, action, start, 0, None)
        return answer

    def _report(self, kind: str, name: str, start: float, length: int,
                exception: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type=kind, name=name, response_time=(time.perf_counter() - start) * 1000.0,
            response_length=length, exception=exception, context={"station": self.identity})
