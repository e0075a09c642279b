"""Fault detection and remediation: alerts an operator acts on.

An alert is one problem with one station (or one of its connectors or sessions), identified by a
key; there is at most one open alert per key. A cause seen again while its alert is open updates
it (``last_seen``, ``count``); a cause that goes away resolves it. Every change is stored in the
``alerts`` table and published as ``alert.raised``, ``alert.updated``, ``alert.resolved`` or
``alert.acknowledged`` (the SSE stream at ``/api/events`` carries them).

Causes, each with the moment it is noticed:

* ``faulted``: a connector (or the station, EVSE 0) reports status Faulted; resolved when it
  reports anything else. ``connector_error``: a 1.6 errorCode other than NoError on a connector
  that is not Faulted (a warning); resolved when the errorCode clears. Event-driven.
* ``notify_event``: a 2.0.1 NotifyEvent that reports a problem (a monitor's ``Alerting``
  trigger, or a ``Problem`` / ``Tripped`` variable turning true); resolved by the matching
  NotifyEvent with ``cleared`` true or the variable turning false. Event-driven.
* ``security_event``: a SecurityEventNotification of a type that signals an attack or a failure
  (routine types such as StartupOfTheDevice raise nothing). It never clears by itself: an
  operator resolves it. Event-driven.
* ``clock_skew``: the station's clock is off by more than ``clock_skew_threshold_s``; resolved
  when it is back within. Event-driven (StationService publishes ``station.clock``).
* ``offline``: a station that is not connected for ``offline_grace_s``, or connected but silent
  for ``offline_after_heartbeats`` heartbeat intervals; resolved on reconnection or on its next
  message. Raised by the watchdog, resolved at once.
* ``stuck_session``: a transaction that is Active and charging (2.0.1 chargingState Charging,
  1.6 connector status Charging) with no energy flowing for ``stuck_session_after_s``; resolved
  when energy flows or the transaction ends. Raised by the watchdog.

The watchdog (:meth:`AlertService.run`) scans every ``watchdog_interval_s`` with the core's
clock; tests call :meth:`AlertService.scan` with the moment they want to look at.

Remediation: with ``remediation_soft_reset_after_s`` set, a station with a connector Faulted that
long gets one soft reset (1.6 Reset Soft, 2.0.1 Reset OnIdle) through the CommandService as
the CSMS itself (audit log), recorded in the fault's alert; at most once per fault.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj import OcppVersion
from csms.config import CsmsConfig
from csms.domain.commands import SYSTEM, CommandError, CommandService, StationOffline
from csms.domain.connectors import FAULTED, ConnectorService
from csms.domain.stations import StationService, StationState
from csms.domain.timeutil import Clock, ocpp_time, utcnow
from csms.events import Event, EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.paging import read_page

log = logging.getLogger("chargeloop.csms.alerts")

INFO, WARNING, CRITICAL = "info", "warning", "critical"
SEVERITIES = (INFO, WARNING, CRITICAL)
KINDS = ("faulted", "connector_error", "notify_event", "security_event", "clock_skew", "offline",
         "stuck_session")

# Security event types (OCPP 2.0.1 part 2 appendix, also used by the 1.6 security extension).
# Routine ones raise nothing; the rest are problems of the given severity. Unlisted (vendor)
# types raise a warning when the station flags them critical, else an info alert.
SECURITY_SEVERITY: dict[str, str | None] = {
    "StartupOfTheDevice": None, "ResetOrReboot": None, "FirmwareUpdated": None,
    "SettingSystemTime": None, "MaintenanceLoginAccepted": None,
    "ReconfigurationOfSecurityParameters": INFO,
    "FailedToAuthenticateAtCsms": WARNING, "CsmsFailedToAuthenticate": WARNING,
    "InvalidMessages": WARNING, "InvalidCsmsCertificate": WARNING,
    "InvalidChargingStationCertificate": WARNING, "InvalidTLSVersion": WARNING,
    "InvalidTLSCipherSuite": WARNING, "MaintenanceLoginFailed": WARNING,
    "SecurityLogWasCleared": WARNING, "DiscardedRenewedClientCertificate": WARNING,
    "TamperDetectionActivated": CRITICAL, "MemoryExhaustion": CRITICAL,
    "InvalidFirmwareSignature": CRITICAL, "InvalidFirmwareSigningCertificate": CRITICAL,
    "AttemptedReplayAttacks": CRITICAL,
}

# Device-model variables whose value "true" is a problem (2.0.1 part 2, referenced components).
PROBLEM_VARIABLES = {"Problem": WARNING, "Tripped": CRITICAL}

_WATCHED = ("station.status", "station.connection", "station.clock", "station.notify_event",
            "station.security_event", "transaction.updated", "transaction.ended")
_SEEN = "station.seen"  # internal: a message from a station that has an offline alert


def monitor_severity(level: Any) -> str:
    """An OCPP 2.0.1 monitor severity (0 Danger ... 9 Debug) as an alert severity."""
    try:
        value = int(level)
    except (TypeError, ValueError):
        return WARNING
    return CRITICAL if value <= 3 else WARNING if value <= 6 else INFO


def _name_of(part: Any) -> tuple[str, str | None, int | None, int | None]:
    """(name, instance, evse id, connector id) of a 2.0.1 component or variable, given as a
    dict as on the wire or as a plain name."""
    if isinstance(part, dict):
        evse = part.get("evse") or {}
        return (str(part.get("name", "")), part.get("instance"), evse.get("id"),
                evse.get("connectorId"))
    return (str(part or ""), None, None, None)


def _label(part: Any) -> str:
    name, instance, evse, connector = _name_of(part)
    label = name + (f"[{instance}]" if instance else "")
    if evse is not None:
        label += f"@{evse}" + (f".{connector}" if connector is not None else "")
    return label


def _where(evse_id: int, connector_id: int) -> str:
    if evse_id == 0:
        return "station"
    return f"EVSE {evse_id}" + (f" connector {connector_id}" if connector_id else "")


@dataclass(frozen=True, slots=True)
class Cause:
    """A problem as detected: what :meth:`AlertService.raise_alert` records."""

    station_id: str
    kind: str
    key: str
    severity: str
    message: str
    details: dict[str, Any]
    evse_id: int | None = None


def alert_view(row: dict[str, Any]) -> dict[str, Any]:
    """An alert row as the API and the event stream show it."""
    return {
        "id": row["id"], "station_id": row["station_id"], "evse_id": row.get("evse_id"),
        "kind": row["kind"], "key": row["key"], "severity": row["severity"],
        "message": row["message"], "details": row.get("details") or {},
        "first_seen": row["first_seen"], "last_seen": row["last_seen"], "count": row["count"],
        "acknowledged_by": row.get("acknowledged_by"),
        "acknowledged_at": row.get("acknowledged_at"), "resolved_at": row.get("resolved_at"),
        "open": row.get("resolved_at") is None,
    }


class AlertService:
    def __init__(self, db: Database, events: EventBus, config: CsmsConfig, clock: Clock = utcnow,
                 *, stations: StationService, connectors: ConnectorService,
                 commands: CommandService) -> None:
        self.db = db
        self.events = events
        self.config = config
        self.clock = clock
        self.stations = stations
        self.connectors = connectors
        self.commands = commands
        self._open: dict[str, dict[str, Any]] = {}  # open alerts by key
        self._lock = asyncio.Lock()  # one change to the open alerts at a time
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._disconnected_at: dict[str, datetime] = {}
        self._started_at: datetime | None = None
        self._remediating: set[str] = set()
        self._remediations: set[asyncio.Task[None]] = set()
        events.listen(self._on_event)

    # -- lifecycle -------------------------------------------------------------------------------

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.alerts).where(t.alerts.c.resolved_at.is_(None)))
            return [dict(r) for r in rows.mappings()]

        self._open = {row["key"]: row for row in await self.db.read(read)}
        self._started_at = self.clock()

    async def run(self) -> None:
        """Handle station events in order and scan every ``watchdog_interval_s``; runs until
        cancelled (CsmsCore.stop)."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._consume(), name="csms-alerts-events")
                group.create_task(self._watch(), name="csms-alerts-watchdog")
        finally:
            for task in list(self._remediations):
                task.cancel()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every event published so far has been handled (for tests and tools)."""
        async with asyncio.timeout(timeout):
            await self._queue.join()

    async def _consume(self) -> None:
        while True:
            kind, data = await self._queue.get()
            try:
                await self._handle(kind, data)
            except Exception:
                log.exception("alert detection failed on %s %s", kind, data)
            finally:
                self._queue.task_done()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.config.watchdog_interval_s)
            try:
                await self.scan(wait=False)
            except Exception:
                log.exception("alert watchdog scan failed")

    # -- event-driven causes ---------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.kind in _WATCHED:
            self._queue.put_nowait((event.kind, event.data))

    def seen(self, station_id: str) -> None:
        """A message arrived from ``station_id`` (called on every message: must be cheap)."""
        if f"offline:{station_id}" in self._open:
            self._queue.put_nowait((_SEEN, {"station_id": station_id}))

    async def _handle(self, kind: str, data: dict[str, Any]) -> None:
        station_id = data.get("station_id")
        if not station_id:
            return
        if kind == "station.status":
            await self._on_status(station_id, data)
        elif kind == "station.connection":
            if data.get("connected"):
                self._disconnected_at.pop(station_id, None)
                await self.resolve(f"offline:{station_id}", "the station reconnected")
            else:
                self._disconnected_at[station_id] = self.clock()
        elif kind == _SEEN:
            await self.resolve(f"offline:{station_id}", "the station sent a message")
        elif kind == "station.clock":
            await self._on_clock(station_id, data)
        elif kind == "station.notify_event":
            await self._on_notify_event(station_id, data)
        elif kind == "station.security_event":
            await self._on_security_event(station_id, data)
        elif kind == "transaction.ended":
            await self.resolve(f"stuck_session:{station_id}:{data.get('transaction_id')}",
                               "the transaction ended")
        elif kind == "transaction.updated":
            key = f"stuck_session:{station_id}:{data.get('transaction_id')}"
            if key in self._open:
                tx = await self._transaction(station_id, str(data.get("transaction_id")))
                if tx is None or self._stuck_since(tx, self.clock()) is None:
                    await self.resolve(key, "energy is flowing again")

    async def _on_status(self, station_id: str, data: dict[str, Any]) -> None:
        evse_id, connector_id = int(data.get("evse_id") or 0), int(data.get("connector_id") or 0)
        status, error = data.get("status"), data.get("error_code")
        where = f"{station_id} {_where(evse_id, connector_id)}"
        suffix = f"{station_id}:{evse_id}:{connector_id}"
        latest = self.connectors.latest.get((station_id, evse_id, connector_id))
        details = {"status": status, "error_code": error, "connector_id": connector_id,
                   "info": latest.info if latest else None,
                   "vendor_error_code": latest.vendor_error_code if latest else None}
        if status == FAULTED:
            await self.raise_alert(Cause(
                station_id, "faulted", f"faulted:{suffix}", CRITICAL,
                f"{where} is Faulted" + (f" ({error})" if error else ""), details, evse_id))
        else:
            await self.resolve(f"faulted:{suffix}", f"status {status}")
        if error and status != FAULTED:
            await self.raise_alert(Cause(
                station_id, "connector_error", f"connector_error:{suffix}", WARNING,
                f"{where} reports {error} (status {status})", details, evse_id))
        else:
            await self.resolve(f"connector_error:{suffix}",
                               "the error code cleared" if not error else "now Faulted")

    async def _on_clock(self, station_id: str, data: dict[str, Any]) -> None:
        key = f"clock_skew:{station_id}"
        skew = float(data.get("skew_s") or 0.0)
        if data.get("beyond_threshold"):
            await self.raise_alert(Cause(
                station_id, "clock_skew", key, WARNING,
                f"{station_id}'s clock is off by {skew:+.0f} s (threshold "
                f"{self.config.clock_skew_threshold_s:g} s)", {"skew_s": skew}))
        else:
            await self.resolve(key, f"clock within {self.config.clock_skew_threshold_s:g} s")

    async def _on_notify_event(self, station_id: str, data: dict[str, Any]) -> None:
        component, variable = data.get("component"), data.get("variable")
        _, _, evse_id, _ = _name_of(component)
        variable_name = _name_of(variable)[0]
        key = f"notify_event:{station_id}:{_label(component)}:{_label(variable)}"
        actual = str(data.get("actual_value") or "")
        details = {"event_id": data.get("event_id"), "trigger": data.get("trigger"),
                   "component": component, "variable": variable, "actual_value": actual,
                   "tech_code": data.get("tech_code"), "tech_info": data.get("tech_info"),
                   "timestamp": _text(data.get("timestamp"))}
        if data.get("cleared"):
            await self.resolve(key, "the station cleared the event")
            return
        severity: str | None = None
        if variable_name in PROBLEM_VARIABLES:
            if actual.lower() in ("true", "1"):
                severity = PROBLEM_VARIABLES[variable_name]
            elif actual.lower() in ("false", "0"):
                await self.resolve(key, f"{variable_name} is {actual}")
                return
        if data.get("trigger") == "Alerting":
            severity = monitor_severity(data.get("severity")) if data.get("severity") \
                is not None else (severity or WARNING)
        if severity is None:
            return  # routine (a Delta of a normal value, a Periodic report)
        text = f"{station_id}: {_label(component)} {_label(variable)} = {actual}"
        if data.get("tech_code"):
            text += f" ({data['tech_code']})"
        await self.raise_alert(Cause(station_id, "notify_event", key, severity, text[:500],
                                     details, evse_id))

    async def _on_security_event(self, station_id: str, data: dict[str, Any]) -> None:
        event_type = str(data.get("type") or "")
        if event_type in SECURITY_SEVERITY:
            severity = SECURITY_SEVERITY[event_type]
        else:
            severity = WARNING if data.get("critical") else INFO
        if severity is None:
            return
        text = f"{station_id}: security event {event_type}"
        if data.get("tech_info"):
            text += f": {data['tech_info']}"
        await self.raise_alert(Cause(
            station_id, "security_event", f"security_event:{station_id}:{event_type}", severity,
            text[:500], {"type": event_type, "tech_info": data.get("tech_info"),
                         "timestamp": _text(data.get("timestamp")),
                         "critical": data.get("critical")}))

    # -- time-based causes -----------------------------------------------------------------------

    async def scan(self, now: datetime | None = None, *, wait: bool = True) -> None:
        """Look for offline stations, stuck sessions and faults due for remediation as of
        ``now`` (the core's clock by default). With ``wait``, remediation commands are awaited;
        the watchdog does not wait for them."""
        now = now or self.clock()
        await self._scan_offline(now)
        await self._scan_stuck(now)
        started = self._remediate_due(now)
        if wait and started:
            await asyncio.gather(*started, return_exceptions=True)

    def offline_reason(self, state: StationState, now: datetime) -> str | None:
        """Why ``state`` counts as offline at ``now``, or None if it does not."""
        if state.last_seen is None or state.registration == "Rejected":
            return None  # never connected, or not wanted
        if not state.connected:
            since = self._disconnected_at.get(state.id) or self._started_at or state.last_seen
            if (now - since).total_seconds() < self.config.offline_grace_s:
                return None
            return f"not connected since {ocpp_time(since)}"
        if self.stations.is_offline(state, now):
            interval = state.heartbeat_interval_s or self.config.heartbeat_interval_s
            silent = (now - state.last_seen).total_seconds()
            return (f"connected but silent for {silent:.0f} s (heartbeat interval "
                    f"{interval} s)")
        return None

    async def _scan_offline(self, now: datetime) -> None:
        for state in self.stations.all():
            key = f"offline:{state.id}"
            reason = self.offline_reason(state, now)
            if reason is not None and key not in self._open:
                await self.raise_alert(Cause(
                    state.id, "offline", key, WARNING, f"{state.id} is offline: {reason}",
                    {"connected": state.connected,
                     "last_seen": _text(state.last_seen)}), now)
            elif reason is None and key in self._open and state.connected:
                await self.resolve(key, "the station is talking again", now)

    async def _scan_stuck(self, now: datetime) -> None:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            c = t.transactions.c  # only what _stuck_since and the alert read: a busy CSMS
            rows = await conn.execute(select(  # has hundreds of active sessions every 5 s
                c.state, c.station_id, c.ocpp_transaction_id, c.ocpp_version, c.evse_id,
                c.connector_id, c.charging_state, c.started_at, c.last_energy_flow_at, c.energy_wh,
            ).where(c.state == "Active"))
            return [dict(r) for r in rows.mappings()]

        active = await self.db.read(read)
        stuck_keys = set()
        for tx in active:
            since = self._stuck_since(tx, now)
            if since is None:
                continue
            key = f"stuck_session:{tx['station_id']}:{tx['ocpp_transaction_id']}"
            stuck_keys.add(key)
            if key not in self._open:
                minutes = (now - since).total_seconds() / 60
                await self.raise_alert(Cause(
                    tx["station_id"], "stuck_session", key, WARNING,
                    f"{tx['station_id']} transaction {tx['ocpp_transaction_id']} is charging "
                    f"but no energy has flowed for {minutes:.0f} min",
                    {"transaction_id": tx["ocpp_transaction_id"],
                     "ocpp_version": tx["ocpp_version"], "since": _text(since),
                     "energy_wh": tx["energy_wh"]}, tx.get("evse_id")), now)
        for key in [k for k in self._open if k.startswith("stuck_session:")]:
            if key not in stuck_keys:
                await self.resolve(key, "energy is flowing or the transaction ended", now)

    def _stuck_since(self, tx: dict[str, Any], now: datetime) -> datetime | None:
        """Since when ``tx`` has been charging without energy flowing, if longer than the
        threshold."""
        if tx["state"] != "Active":
            return None
        state = self.stations.get(tx["station_id"])
        if state is None or not state.connected:
            return None  # no news from an offline station is not a stuck session
        marks = [tx.get("last_energy_flow_at"), tx.get("started_at")]
        charging = tx.get("charging_state") == "Charging"
        if tx.get("evse_id") is not None:
            status = self.connectors.latest.get(
                (tx["station_id"], tx["evse_id"], tx.get("connector_id") or 1))
            if status is not None and status.status == "Charging" and \
                    tx["ocpp_version"] == OcppVersion.V16.value:
                charging = True
                marks.append(status.timestamp)
        if not charging:
            return None
        since = max(m for m in marks if m is not None) if any(marks) else None
        if since is None or (now - since).total_seconds() < self.config.stuck_session_after_s:
            return None
        return since

    async def _transaction(self, station_id: str, transaction_id: str) -> dict[str, Any] | None:
        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.transactions).where(and_(
                t.transactions.c.station_id == station_id,
                t.transactions.c.ocpp_transaction_id == transaction_id)))).mappings().first()
            return dict(row) if row else None

        return await self.db.read(read)

    # -- remediation ---------------------------------------------------------------------------

    def _remediate_due(self, now: datetime) -> list[asyncio.Task[None]]:
        after = self.config.remediation_soft_reset_after_s
        if after is None:
            return []
        due: dict[str, list[dict[str, Any]]] = {}
        for alert in self._open.values():
            if alert["kind"] != "faulted" or (alert.get("details") or {}).get("remediation"):
                continue
            if (now - alert["first_seen"]).total_seconds() >= after:
                due.setdefault(alert["station_id"], []).append(alert)
        started = []
        for station_id, alerts in due.items():
            if station_id in self._remediating or self.commands.registry.get(station_id) is None:
                continue  # already under way, or offline: try again when it is back
            self._remediating.add(station_id)
            task = asyncio.create_task(self._soft_reset(station_id, [a["key"] for a in alerts]))
            self._remediations.add(task)
            task.add_done_callback(self._remediations.discard)
            started.append(task)
        return started

    async def _soft_reset(self, station_id: str, keys: list[str]) -> None:
        try:
            try:
                version = self.commands.version_of(station_id)
                reset_type = "Soft" if version is OcppVersion.V16 else "OnIdle"
                answer = await self.commands.call(station_id, "Reset", {"type": reset_type},
                                                  SYSTEM)
                outcome = str(answer.get("status"))
            except StationOffline:
                return  # it left meanwhile: the fault gets its reset once it is back
            except CommandError as error:
                outcome = error.outcome
            record = {"action": "Reset", "type": reset_type, "at": ocpp_time(self.clock()),
                      "outcome": outcome, "actor": SYSTEM.name}
            log.warning("%s: Faulted for %g s, soft reset sent: %s", station_id,
                        self.config.remediation_soft_reset_after_s or 0, outcome)
            for key in keys:
                await self._add_details(key, {"remediation": record})
        finally:
            self._remediating.discard(station_id)

    async def _add_details(self, key: str, extra: dict[str, Any]) -> None:
        async with self._lock:
            alert = self._open.get(key)
            if alert is None:
                return
            details = {**(alert.get("details") or {}), **extra}
            await self.db.write(lambda conn: conn.execute(
                update(t.alerts).where(t.alerts.c.id == alert["id"]).values(details=details)))
            alert["details"] = details
            self._publish("alert.updated", alert)

    # -- raising, resolving, acknowledging -------------------------------------------------------

    async def raise_alert(self, cause: Cause, at: datetime | None = None) -> dict[str, Any]:
        """Open an alert for ``cause``, or update the open one with its key."""
        at = at or self.clock()
        async with self._lock:
            alert = self._open.get(cause.key)
            if alert is None:
                values = {"station_id": cause.station_id, "evse_id": cause.evse_id,
                          "kind": cause.kind, "key": cause.key, "severity": cause.severity,
                          "message": cause.message, "details": cause.details, "first_seen": at,
                          "last_seen": at, "count": 1, "acknowledged_by": None,
                          "acknowledged_at": None, "resolved_at": None}

                async def create(conn: AsyncConnection) -> int:
                    result = await conn.execute(insert(t.alerts).values(**values)
                                                .returning(t.alerts.c.id))
                    return int(result.scalar_one())

                alert = {**values, "id": await self.db.write(create)}
                self._open[cause.key] = alert
                log.info("alert raised: %s", cause.message)
                self._publish("alert.raised", alert)
                return alert
            details = {**(alert.get("details") or {}), **cause.details}
            changes = {"last_seen": max(at, alert["last_seen"]), "count": alert["count"] + 1,
                       "message": cause.message, "details": details,
                       "severity": _worse(alert["severity"], cause.severity)}
            await self.db.write(lambda conn: conn.execute(
                update(t.alerts).where(t.alerts.c.id == alert["id"]).values(**changes)))
            alert.update(changes)
            self._publish("alert.updated", alert)
            return alert

    async def resolve(self, key: str, reason: str, at: datetime | None = None,
                      by: str | None = None) -> dict[str, Any] | None:
        """Resolve the open alert with ``key``, if there is one."""
        if key not in self._open:
            return None
        at = at or self.clock()
        async with self._lock:
            alert = self._open.get(key)
            if alert is None:
                return None
            details = {**(alert.get("details") or {}), "resolution": reason}
            if by is not None:
                details["resolved_by"] = by
            resolved_at = max(at, alert["first_seen"])
            await self.db.write(lambda conn: conn.execute(
                update(t.alerts).where(t.alerts.c.id == alert["id"])
                .values(resolved_at=resolved_at, details=details)))
            del self._open[key]
            alert.update(resolved_at=resolved_at, details=details)
            log.info("alert resolved (%s): %s", reason, alert["message"])
            self._publish("alert.resolved", alert)
            return alert

    async def resolve_by_id(self, alert_id: int, by: str) -> dict[str, Any] | None:
        """An operator closes an alert (one whose cause never clears by itself, say)."""
        key = next((k for k, a in self._open.items() if a["id"] == alert_id), None)
        if key is not None:
            resolved = await self.resolve(key, f"resolved by {by}", by=by)
            if resolved is not None:
                return resolved
        return await self.get(alert_id)

    async def acknowledge(self, alert_id: int, by: str) -> dict[str, Any] | None:
        """Mark an alert as seen by ``by``; a second acknowledgement keeps the first."""
        async with self._lock:
            alert = next((a for a in self._open.values() if a["id"] == alert_id), None)
            if alert is None:
                alert = await self.get(alert_id)
                if alert is None:
                    return None
            if alert.get("acknowledged_at") is not None:
                return alert
            changes = {"acknowledged_by": by, "acknowledged_at": self.clock()}
            await self.db.write(lambda conn: conn.execute(
                update(t.alerts).where(t.alerts.c.id == alert_id).values(**changes)))
            alert.update(changes)
            self._publish("alert.acknowledged", alert)
            return alert

    def _publish(self, kind: str, alert: dict[str, Any]) -> None:
        self.events.publish(kind, station_id=alert["station_id"], alert_id=alert["id"],
                            alert=alert_view(alert))

    # -- queries -------------------------------------------------------------------------------

    def open_alerts(self, station_id: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self._open.values()
                if station_id is None or a["station_id"] == station_id]

    async def get(self, alert_id: int) -> dict[str, Any] | None:
        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.alerts).where(t.alerts.c.id == alert_id))
                   ).mappings().first()
            return dict(row) if row else None

        return await self.db.read(read)

    async def query(self, *, state: str | None = None, station_id: str | None = None,
                    severity: Iterable[str] = (), kind: Iterable[str] = (),
                    acknowledged: bool | None = None, limit: int = 100,
                    offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """Alerts matching the filters, most recently seen first, and how many match."""
        c = t.alerts.c
        conditions = []
        if state == "open":
            conditions.append(c.resolved_at.is_(None))
        elif state == "resolved":
            conditions.append(c.resolved_at.is_not(None))
        if station_id is not None:
            conditions.append(c.station_id == station_id)
        if severity := list(severity):
            conditions.append(c.severity.in_(severity))
        if kind := list(kind):
            conditions.append(c.kind.in_(kind))
        if acknowledged is not None:
            conditions.append(c.acknowledged_at.is_not(None) if acknowledged
                              else c.acknowledged_at.is_(None))
        where = and_(true(), *conditions)

        return await read_page(
            self.db, t.alerts, where,
            select(t.alerts).order_by(c.last_seen.desc(), c.id.desc()), limit, offset)


def _worse(a: str, b: str) -> str:
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return ocpp_time(value)
    return value
