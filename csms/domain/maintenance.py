"""Maintenance and security: firmware, logs and diagnostics, events, security events,
certificates and customer information, behind one facade the core wires in.

* :class:`MaintenanceStore`: what every part writes: station reports in ``station_events`` (a
  retried report is recognised by its dedupe key and stored once) and the requests the CSMS
  sent in ``maintenance_requests`` (by requestId, with the station's answer and its latest
  status notification).
* :class:`~csms.domain.firmware.FirmwareService`, :class:`~csms.domain.diagnostics.
  DiagnosticsService`, :class:`~csms.domain.security.SecurityService` and
  :class:`~csms.domain.uploads.UploadService` do the work.

Request ids: the CSMS numbers its firmware, log and customer information requests from one
counter (continued from the database at start), so a requestId names one request of a
station. The 1.6 UpdateFirmware and GetDiagnostics carry none; the CSMS numbers them all the
same and relates the station's status notifications to the latest one.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.config import CsmsConfig
from csms.domain.commands import CommandService
from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert

# maintenance_requests.kind
FIRMWARE, LOG, CUSTOMER_INFORMATION = "Firmware", "Log", "CustomerInformation"

# station_events.kind of what this area stores
FIRMWARE_EVENT, DIAGNOSTICS_EVENT, LOG_EVENT = "Firmware", "Diagnostics", "Log"
SECURITY_EVENT, NOTIFY_EVENT, CUSTOMER_EVENT = "SecurityEvent", "NotifyEvent", \
    "CustomerInformation"
UPLOAD_EVENT = "Upload"
MONITORING_REPORT_EVENT = "MonitoringReport"


@dataclass(frozen=True, slots=True)
class Pending:
    """The request id and actor of the command being sent, for the answer listeners (a 1.6
    UpdateFirmware has no requestId of its own)."""

    request_id: int
    actor: str | None


PENDING: contextvars.ContextVar[Pending | None] = contextvars.ContextVar(
    "chargeloop_maintenance_pending", default=None)


def dedupe_key(*parts: Any) -> str:
    """A fixed-length key for what makes a report the same report."""
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()


class MaintenanceStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._next_id = 1

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> int:
            highest = (await conn.execute(
                select(func.max(t.maintenance_requests.c.request_id)))).scalar()
            slot = (await conn.execute(select(func.max(t.upload_slots.c.request_id)))).scalar()
            return max(highest or 0, slot or 0)

        self._next_id = max(self._next_id, await self.db.read(read) + 1)

    def next_request_id(self) -> int:
        request_id = self._next_id
        self._next_id += 1
        return request_id

    def observe_request_id(self, request_id: int) -> None:
        """A request id someone else chose (a raw command): ours continue above it."""
        self._next_id = max(self._next_id, request_id + 1)

    # -- station_events ---------------------------------------------------------------------------

    async def insert_event(self, conn: AsyncConnection, station_id: str, kind: str,
                           timestamp: datetime, payload: dict[str, Any], *,
                           request_id: int | None = None, summary: str | None = None,
                           dedupe: str | None = None) -> int | None:
        """Insert one report (inside a write); None when its dedupe key was stored before."""
        values = {"station_id": station_id, "kind": kind, "timestamp": timestamp,
                  "received_at": self.clock(), "request_id": request_id,
                  "summary": None if summary is None else summary[:255], "payload": payload,
                  "dedupe_key": dedupe}
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(t.station_events).values(**values)
        if dedupe is not None:
            statement = statement.on_conflict_do_nothing(
                index_elements=["station_id", "kind", "dedupe_key"])
        result = await conn.execute(statement.returning(t.station_events.c.id))
        return result.scalar()

    async def latest_event(self, conn: AsyncConnection, station_id: str,
                           kind: str) -> dict[str, Any] | None:
        c = t.station_events.c
        row = (await conn.execute(
            select(t.station_events).where(and_(c.station_id == station_id, c.kind == kind))
            .order_by(c.id.desc()).limit(1))).mappings().first()
        return dict(row) if row is not None else None

    async def events(self, *, station_id: str | None = None, kinds: Iterable[str] = (),
                     since: datetime | None = None, until: datetime | None = None,
                     request_id: int | None = None, limit: int = 100, offset: int = 0,
                     oldest_first: bool = False) -> tuple[int, list[dict[str, Any]]]:
        c = t.station_events.c
        conditions = []
        if station_id is not None:
            conditions.append(c.station_id == station_id)
        if kinds := list(kinds):
            conditions.append(c.kind.in_(kinds))
        if since is not None:
            conditions.append(c.timestamp >= since)
        if until is not None:
            conditions.append(c.timestamp < until)
        if request_id is not None:
            conditions.append(c.request_id == request_id)
        where = and_(*conditions) if conditions else None
        order = (c.timestamp.asc(), c.id.asc()) if oldest_first else (c.timestamp.desc(),
                                                                       c.id.desc())

        async def read(conn: AsyncConnection) -> tuple[int, list[dict[str, Any]]]:
            count = select(func.count()).select_from(t.station_events)
            rows = select(t.station_events)
            if where is not None:
                count, rows = count.where(where), rows.where(where)
            total = (await conn.execute(count)).scalar_one()
            found = await conn.execute(rows.order_by(*order).limit(limit).offset(offset))
            return int(total), [dict(r) for r in found.mappings()]

        return await self.db.read(read)

    # -- maintenance_requests ---------------------------------------------------------------------

    async def upsert_request(self, conn: AsyncConnection, station_id: str, kind: str,
                             request_id: int, **values: Any) -> None:
        await upsert(conn, t.maintenance_requests, [{
            "station_id": station_id, "kind": kind, "request_id": request_id,
            "updated_at": self.clock(), **values}], ("station_id", "kind", "request_id"))

    async def cancel_others(self, conn: AsyncConnection, station_id: str, kind: str,
                            request_id: int, terminal: Iterable[str]) -> None:
        """An answer AcceptedCanceled: the station dropped the request it was working on."""
        c = t.maintenance_requests.c
        await conn.execute(update(t.maintenance_requests).where(and_(
            c.station_id == station_id, c.kind == kind, c.request_id != request_id,
            c.response_status.in_(("Accepted", "AcceptedCanceled")),
            c.status.is_(None) | c.status.not_in(list(terminal)),
        )).values(status="Canceled", status_at=self.clock(), updated_at=self.clock()))

    async def latest_request_id(self, conn: AsyncConnection, station_id: str, kind: str,
                                action: str) -> int | None:
        c = t.maintenance_requests.c
        return (await conn.execute(
            select(c.request_id).where(and_(c.station_id == station_id, c.kind == kind,
                                            c.action == action))
            .order_by(c.created_at.desc(), c.request_id.desc()).limit(1))).scalar()

    async def request(self, station_id: str, kind: str,
                      request_id: int) -> dict[str, Any] | None:
        c = t.maintenance_requests.c

        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.maintenance_requests).where(and_(
                c.station_id == station_id, c.kind == kind, c.request_id == request_id))
            )).mappings().first()
            return dict(row) if row is not None else None

        return await self.db.read(read)

    async def requests(self, station_id: str, kind: str, *, limit: int = 50,
                       offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        c = t.maintenance_requests.c
        where = and_(c.station_id == station_id, c.kind == kind)

        async def read(conn: AsyncConnection) -> tuple[int, list[dict[str, Any]]]:
            total = (await conn.execute(select(func.count()).select_from(
                t.maintenance_requests).where(where))).scalar_one()
            rows = await conn.execute(select(t.maintenance_requests).where(where).order_by(
                c.created_at.desc(), c.request_id.desc()).limit(limit).offset(offset))
            return int(total), [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    async def station_columns(self, station_id: str) -> dict[str, Any]:
        """The station's firmware and diagnostics status (not mirrored in memory)."""
        c = t.stations.c

        async def read(conn: AsyncConnection) -> dict[str, Any]:
            row = (await conn.execute(select(c.firmware_version, c.firmware_status,
                                             c.diagnostics_status)
                                      .where(c.id == station_id))).mappings().first()
            return dict(row) if row is not None else {}

        return await self.db.read(read)


class MaintenanceService:
    """Everything of this area, constructed and loaded by the core in one line each."""

    def __init__(self, db: Database, events: EventBus, commands: CommandService,
                 config: CsmsConfig, clock: Clock = utcnow) -> None:
        from csms.domain.diagnostics import DiagnosticsService
        from csms.domain.firmware import FirmwareService
        from csms.domain.security import SecurityService
        from csms.domain.uploads import UploadService

        self.store = MaintenanceStore(db, clock)
        self.uploads = UploadService(db, events, config, self.store, clock)
        self.firmware = FirmwareService(self.store, events, commands, clock)
        self.diagnostics = DiagnosticsService(self.store, events, commands, self.uploads, clock)
        self.security = SecurityService(db, self.store, events, commands, config, clock)

    async def load(self) -> None:
        await self.store.load()
        await self.security.load()
