"""The connection to the CSMS and the messages over it: connect (jittered), back off and try
again, fall back between 2.0.1 network profiles, refuse a CSMS's TLS, the additional root
certificate check; boot (retried at the interval the CSMS gives), go online, lose the
connection; answer the CSMS's calls (SimPy processes through ``clock.in_sim``, answered by the
version's protocol module); and send the station's own messages through the
:class:`~simulator.station.outbox.Outbox`, in the order the station decided them.

:class:`ConnectionMixin` is one part of :class:`~simulator.station.station.SimStation` and
works only there. Its state is the station's ``_session``, ``_closed``, ``_online``,
``_booted``, ``_registration``, ``boot_reason``, ``_net_down_until``, ``_stopped``,
``_rebooting``, ``_boot_now``, ``_back_online``, ``_outbox``, ``_draining`` and ``network``
(set up in ``SimStation.__init__``) and the class defaults below. It relies on the station's
``env``, ``clock``, ``id``, ``version``, ``spec``, ``link``, ``settings``, ``rng``, ``trace``,
``proto``, ``recorder``, ``utc()``, ``event()``, ``record_message()``, ``_next_heartbeat`` /
``_wake_timer()`` / ``_heartbeat_from_boot()`` (:mod:`.timer`) and ``_report_statuses()``
(:mod:`.status`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
import types
from collections.abc import Callable, Generator
from typing import Any

import simpy

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
from simulator.station.certificates import valid_at
from simulator.station.link import BackendUnreachable
from simulator.station.network_profiles import FACTORY_SLOT
from simulator.station.outbox import Kind, OutMessage, Undeliverable

log = logging.getLogger("chargeloop.simulator.station")

Gen = Generator[Any, Any, Any]

MIN_RECONNECT_WAIT_S = 0.1  # the least time between two connection attempts


class ConnectionMixin:
    """SimStation's connection, incoming calls and outgoing messages (see the module)."""

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
                self.clock.bridge(quietly(transport.close()))
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

    _message_timeout_s: float | None = None  # set by the CSMS (2.0.1 MessageTimeout)

    def _call_timeout_s(self) -> float:
        """How long a CALL of the station waits for its answer."""
        return self.spec.call_timeout_s if self._message_timeout_s is None else \
            self._message_timeout_s

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
                self.clock.bridge(quietly(session.close()))

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
            self.clock.bridge(quietly(session.close(1001, why)))


    # -- calls from the CSMS -----------------------------------------------------------------------

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
                    answer = yield self.clock.bridge(copyable_errors(
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
            answer = yield self.clock.bridge(copyable_errors(
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


async def copyable_errors(call: Any) -> Any:
    """``await call``, its CALLERROR or invalid payload as an exception SimPy can copy."""
    try:
        return await call
    except CallErrorReceived as exc:
        raise _CopyableCallError(exc.action, exc.code, exc.description, exc.details) from exc
    except PayloadInvalid as exc:
        raise _CopyablePayloadInvalid(exc.kind, exc.message, exc.path) from exc


async def quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:  # closing a connection that is already gone
        log.debug("ignored while closing", exc_info=True)
