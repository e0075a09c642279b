"""Logs and diagnostics, NotifyEvent, and customer information.

* Log uploads: 1.6 GetDiagnostics (+ DiagnosticsStatusNotification, history kind
  ``Diagnostics``), 1.6 security whitepaper and 2.0.1 GetLog (+ LogStatusNotification, history
  kind ``Log``). The station's upload status is kept on ``stations.diagnostics_status`` and on
  the request. Without a location of the operator's, the request points the station at an
  upload slot of this CSMS (:mod:`csms.domain.uploads`).
* NotifyEvent (2.0.1): every eventData item is stored (kind ``NotifyEvent``, once however
  often the message is retried) and published as ``station.notify_event`` for fault detection.
* NotifyMonitoringReport (2.0.1): each part is stored (kind ``MonitoringReport``, by requestId
  and seqNo, once however often it is retried) and published as ``station.monitoring_report``.
* CustomerInformation (2.0.1): the request, the station's answer, and the
  NotifyCustomerInformation parts (kind ``CustomerInformation``, by requestId and seqNo),
  assembled in seqNo order into the request's ``result`` once the last part (tbc false) and
  every part before it are in.
* ClearVariableMonitoring (2.0.1): never more ids in one request than the station's
  ItemsPerMessageClearVariableMonitoring (N06.FR.04, TC_N_18): more than one id, and the
  station is asked for its limit first (GetVariables) and the ids go in as many requests as
  that takes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj import OcppVersion
from csms.domain.commands import (
    Actor,
    CommandInvalid,
    CommandRejected,
    CommandService,
    CommandTimeout,
)
from csms.domain.firmware import RequestOutcome
from csms.domain.items_per_message import call_in_chunks, positive_int
from csms.domain.maintenance import (
    CUSTOMER_EVENT,
    CUSTOMER_INFORMATION,
    DIAGNOSTICS_EVENT,
    LOG,
    LOG_EVENT,
    MONITORING_REPORT_EVENT,
    NOTIFY_EVENT,
    PENDING,
    MaintenanceStore,
    Pending,
    dedupe_key,
)
from csms.domain.timeutil import Clock, utcnow
from csms.domain.uploads import UploadService
from csms.events import EventBus
from csms.ocpp import maintenance_wire as wire
from csms.storage import tables as t

IDLE = "Idle"
LOG_TERMINAL = frozenset({"Uploaded", "UploadFailed", "UploadFailure", "BadMessage",
                          "NotSupportedOperation", "PermissionDenied", "AcceptedCanceled",
                          "Canceled"})


@dataclass(frozen=True, slots=True)
class LogRequest:
    log_type: str | None = None  # Diagnostics (1.6 GetDiagnostics), DiagnosticsLog, SecurityLog
    oldest: datetime | None = None
    latest: datetime | None = None
    location: str | None = None  # None: upload to this CSMS
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(frozen=True, slots=True)
class LogOutcome:
    request_id: int
    action: str
    status: str | None
    filename: str | None
    location: str
    response: dict[str, Any]
    request: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventItem:
    """One NotifyEvent eventData item."""

    event_id: int
    timestamp: datetime
    trigger: str
    actual_value: str
    event_notification_type: str
    component: dict[str, Any]
    variable: dict[str, Any]
    cause: int | None = None
    tech_code: str | None = None
    tech_info: str | None = None
    cleared: bool | None = None
    transaction_id: str | None = None
    variable_monitoring_id: int | None = None
    severity: int | None = None  # 2.1 carries the monitor's severity
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CustomerQuery:
    report: bool
    clear: bool
    id_token: dict[str, Any] | None = None  # {"idToken": ..., "type": ...}
    customer_identifier: str | None = None
    customer_certificate: dict[str, Any] | None = None  # neutral hash data


class DiagnosticsService:
    def __init__(self, store: MaintenanceStore, events: EventBus, commands: CommandService,
                 uploads: UploadService, clock: Clock = utcnow) -> None:
        self.store = store
        self.events = events
        self.commands = commands
        self.uploads = uploads
        self.clock = clock
        for action in ("GetDiagnostics", "GetLog"):
            commands.on_answer(action, functools.partial(self._log_answered, action))
        commands.on_answer("CustomerInformation", self._customer_answered)

    # -- logs -------------------------------------------------------------------------------------

    async def request_log(self, station_id: str, request: LogRequest, actor: Actor, *,
                          base_url: str | None = None) -> LogOutcome:
        version = self.commands.version_of(station_id)
        request_id = self.store.next_request_id()
        location = request.location
        if location is None:
            plain = request.log_type in (None, wire.DIAGNOSTICS)
            purpose = (wire.DIAGNOSTICS if version is OcppVersion.V16 else wire.DIAGNOSTICS_LOG
                       ) if plain else str(request.log_type)
            token = await self.uploads.issue(station_id, request_id, purpose)
            location = self.uploads.location(base_url, token)
        action, payload = wire.log_request(
            version, request_id, log_type=request.log_type, location=location,
            oldest=request.oldest, latest=request.latest, retries=request.retries,
            retry_interval_s=request.retry_interval_s)
        token_ = PENDING.set(Pending(request_id, actor.name))
        try:
            answer = await self.commands.call(station_id, action, payload, actor)
        finally:
            PENDING.reset(token_)
        return LogOutcome(request_id, action, _log_answer_status(action, answer),
                          answer.get("filename") or answer.get("fileName"), location, answer,
                          payload)

    async def _log_answered(self, action: str, station_id: str, version: OcppVersion,
                            request: dict[str, Any], answer: dict[str, Any]) -> None:
        pending = PENDING.get()
        if "requestId" in request:
            request_id = int(request["requestId"])
            self.store.observe_request_id(request_id)
        else:
            request_id = pending.request_id if pending else self.store.next_request_id()
        status = _log_answer_status(action, answer)
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            await self.store.upsert_request(
                conn, station_id, LOG, request_id, action=action, parameters=request,
                response_status=status, response=answer,
                filename=answer.get("filename") or answer.get("fileName"),
                actor=pending.actor if pending else None, created_at=now,
                complete=status not in ("Accepted", "AcceptedCanceled"))
            if status == "AcceptedCanceled":
                await self.store.cancel_others(conn, station_id, LOG, request_id, LOG_TERMINAL)

        await self.store.db.write(write)

    async def log_status(self, station_id: str, status: str, request_id: int | None = None, *,
                         diagnostics: bool = False) -> int | None:
        """An upload status: 1.6 DiagnosticsStatusNotification (``diagnostics``, no requestId:
        related to the latest GetDiagnostics) or LogStatusNotification."""
        now = self.clock()
        kind = DIAGNOSTICS_EVENT if diagnostics else LOG_EVENT

        async def write(conn: AsyncConnection) -> tuple[bool, int | None, str | None]:
            related = request_id
            if related is None and diagnostics and status != IDLE:
                related = await self.store.latest_request_id(conn, station_id, LOG,
                                                             "GetDiagnostics")
            log_type = wire.DIAGNOSTICS if diagnostics else None
            if related is not None:
                c = t.maintenance_requests.c
                parameters = (await conn.execute(select(c.parameters).where(and_(
                    c.station_id == station_id, c.kind == LOG, c.request_id == related)))
                ).scalar()
                if parameters:
                    log_type = wire.log_parameters(parameters)["log_type"]
            last = await self.store.latest_event(conn, station_id, kind)
            if last is not None and last["summary"] == status and last["request_id"] == related:
                return False, related, log_type
            await self.store.insert_event(conn, station_id, kind, now,
                                          {"status": status, "requestId": related,
                                           "logType": log_type},
                                          request_id=related, summary=status)
            await conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                               .values(diagnostics_status=status))
            if related is not None:
                await self.store.upsert_request(conn, station_id, LOG, related, status=status,
                                                status_at=now,
                                                complete=status in LOG_TERMINAL)
            return True, related, log_type

        new, related, log_type = await self.store.db.write(write)
        if new:
            self.events.publish("station.log", station_id=station_id, status=status,
                                request_id=related, log_type=log_type)
        return related

    # -- NotifyEvent ------------------------------------------------------------------------------

    async def notify_event(self, station_id: str, generated_at: datetime, seq_no: int,
                           tbc: bool, items: list[EventItem]) -> int:
        """Store every item (each once); publish each new one. Returns how many were new."""

        async def write(conn: AsyncConnection) -> list[EventItem]:
            new: list[EventItem] = []
            for item in items:
                summary = f"{_label(item.component)} {_label(item.variable)} = " \
                          f"{item.actual_value}"
                stored = await self.store.insert_event(
                    conn, station_id, NOTIFY_EVENT, item.timestamp,
                    {**item.raw, "generatedAt": generated_at.isoformat(), "seqNo": seq_no,
                     "tbc": tbc},
                    summary=summary,
                    dedupe=dedupe_key(item.event_id, item.timestamp, item.trigger,
                                      item.actual_value, item.cleared, item.component,
                                      item.variable))
                if stored is not None:
                    new.append(item)
            return new

        new = await self.store.db.write(write)
        for item in new:
            evse = item.component.get("evse") or {}
            self.events.publish(
                "station.notify_event", station_id=station_id, event_id=item.event_id,
                trigger=item.trigger, component=item.component, variable=item.variable,
                actual_value=item.actual_value, tech_code=item.tech_code,
                tech_info=item.tech_info, cleared=bool(item.cleared),
                event_notification_type=item.event_notification_type, severity=item.severity,
                timestamp=item.timestamp, cause=item.cause, transaction_id=item.transaction_id,
                variable_monitoring_id=item.variable_monitoring_id, evse_id=evse.get("id"),
                connector_id=evse.get("connectorId"))
        return len(new)

    async def monitoring_report_part(self, station_id: str, request_id: int, seq_no: int,
                                     tbc: bool, generated_at: datetime,
                                     monitors: list[dict[str, Any]]) -> bool:
        """Store one NotifyMonitoringReport part (kind ``MonitoringReport``, once however often
        it is retried) and publish it; returns whether it was new."""
        summary = ", ".join(f"{_label(m['component'])} {_label(m['variable'])}: "
                            f"{len(m.get('variableMonitoring', []))} monitor(s)"
                            for m in monitors) or "no monitors"

        async def write(conn: AsyncConnection) -> int | None:
            return await self.store.insert_event(
                conn, station_id, MONITORING_REPORT_EVENT, generated_at,
                {"requestId": request_id, "seqNo": seq_no, "tbc": tbc,
                 "generatedAt": generated_at.isoformat(), "monitor": monitors},
                request_id=request_id, summary=summary,
                dedupe=dedupe_key(request_id, seq_no, generated_at))

        new = await self.store.db.write(write) is not None
        if new:
            self.events.publish("station.monitoring_report", station_id=station_id,
                                request_id=request_id, seq_no=seq_no, tbc=tbc,
                                monitors=monitors)
        return new

    # -- customer information -------------------------------------------------------------------

    async def request_customer_information(self, station_id: str, query: CustomerQuery,
                                           actor: Actor) -> RequestOutcome:
        version = self.commands.version_of(station_id)
        if version is OcppVersion.V16:
            raise CommandInvalid(f"CustomerInformation is an OCPP 2.0.1 message; station "
                                 f"{station_id} speaks OCPP 1.6")
        request_id = self.store.next_request_id()
        payload = wire.customer_information(
            request_id, report=query.report, clear=query.clear, id_token=query.id_token,
            customer_identifier=query.customer_identifier,
            customer_certificate=query.customer_certificate)
        token = PENDING.set(Pending(request_id, actor.name))
        try:
            answer = await self.commands.call(station_id, "CustomerInformation", payload, actor)
        finally:
            PENDING.reset(token)
        return RequestOutcome(request_id, "CustomerInformation", answer.get("status"), answer,
                              payload)

    async def _customer_answered(self, station_id: str, version: OcppVersion,
                                 request: dict[str, Any], answer: dict[str, Any]) -> None:
        pending = PENDING.get()
        request_id = int(request["requestId"])
        self.store.observe_request_id(request_id)
        status = answer.get("status")
        now = self.clock()
        values: dict[str, Any] = {
            "action": "CustomerInformation", "parameters": request, "response_status": status,
            "response": answer, "actor": pending.actor if pending else None, "created_at": now}
        if status != "Accepted" or not request.get("report"):
            values["complete"] = True  # no NotifyCustomerInformation will come

        await self.store.db.write(lambda conn: self.store.upsert_request(
            conn, station_id, CUSTOMER_INFORMATION, request_id, **values))

    async def customer_information_part(self, station_id: str, request_id: int, seq_no: int,
                                        tbc: bool, data: str,
                                        generated_at: datetime) -> bool:
        """One NotifyCustomerInformation; returns whether the request is now complete."""
        now = self.clock()

        async def write(conn: AsyncConnection) -> tuple[bool, bool]:
            stored = await self.store.insert_event(
                conn, station_id, CUSTOMER_EVENT, generated_at,
                {"requestId": request_id, "seqNo": seq_no, "tbc": tbc, "data": data},
                request_id=request_id, summary=f"part {seq_no}" + (" (last)" if not tbc else ""),
                dedupe=dedupe_key(request_id, seq_no))
            c = t.station_events.c
            parts = sorted((r["payload"] for r in (await conn.execute(
                select(t.station_events.c.payload).where(and_(
                    c.station_id == station_id, c.kind == CUSTOMER_EVENT,
                    c.request_id == request_id)))).mappings()),
                key=lambda part: part["seqNo"])
            numbers = [part["seqNo"] for part in parts]
            complete = any(not part["tbc"] for part in parts) and \
                numbers == list(range(len(numbers)))
            await self.store.upsert_request(
                conn, station_id, CUSTOMER_INFORMATION, request_id,
                result="".join(part["data"] for part in parts), complete=complete,
                status="Complete" if complete else "Receiving", status_at=now)
            return stored is not None, complete

        new, complete = await self.store.db.write(write)
        if new:
            self.events.publish("station.customer_information", station_id=station_id,
                                request_id=request_id, seq_no=seq_no, complete=complete)
        return complete

    # -- clearing variable monitors -------------------------------------------------------------

    async def clear_monitoring(self, station_id: str, payload: dict[str, Any],
                               actor: Actor) -> dict[str, Any]:
        """ClearVariableMonitoring of ``payload["id"]`` in requests of at most the station's
        ItemsPerMessageClearVariableMonitoring ids (N06.FR.04); one answer with the
        clearMonitoringResult of every request, in order. A single id needs no limit; a limit
        the station does not give (GetVariables refused, not Accepted, not a number) leaves
        the ids in one request."""
        ids = payload.get("id")
        limit = (await self._items_per_clear(station_id, actor)
                 if isinstance(ids, list) and len(ids) > 1 else None)
        return await call_in_chunks(self.commands, station_id, "ClearVariableMonitoring",
                                    payload, items_key="id",
                                    results_key="clearMonitoringResult", limit=limit,
                                    actor=actor)

    async def _items_per_clear(self, station_id: str, actor: Actor) -> int | None:
        """The station's ItemsPerMessageClearVariableMonitoring, asked with GetVariables."""
        try:
            answer = await self.commands.call(station_id, "GetVariables", {
                "getVariableData": [ITEMS_PER_CLEAR]}, actor)
        except (CommandInvalid, CommandRejected, CommandTimeout):
            return None
        for result in answer.get("getVariableResult", []):
            if result.get("attributeStatus") != "Accepted" or \
                    result.get("variable") != ITEMS_PER_CLEAR["variable"]:
                continue
            return positive_int(result.get("attributeValue"))
        return None


# MonitoringCtrlr.ItemsPerMessage[ClearVariableMonitoring] (2.0.1 Part 2, device model)
ITEMS_PER_CLEAR: dict[str, Any] = {
    "component": {"name": "MonitoringCtrlr"},
    "variable": {"name": "ItemsPerMessage", "instance": "ClearVariableMonitoring"}}


def _log_answer_status(action: str, answer: dict[str, Any]) -> str | None:
    if action == "GetDiagnostics":  # no status: a file name, or none when there is nothing
        return "Accepted" if answer.get("fileName") else "NoDiagnostics"
    return answer.get("status")


def _label(part: dict[str, Any]) -> str:
    label = str(part.get("name", ""))
    if part.get("instance"):
        label += f"[{part['instance']}]"
    evse = part.get("evse") or {}
    if evse.get("id") is not None:
        label += f"@{evse['id']}" + (f".{evse['connectorId']}" if evse.get("connectorId")
                                     is not None else "")
    return label
