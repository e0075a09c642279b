"""A station's configuration and device model, version-neutral, and the requests whose answers
come in parts.

One row of ``station_variables`` per (component, component instance, EVSE, connector, variable,
variable instance, attribute type). A 1.6 configuration key is the variable ``key`` of the
component ``""`` (no instance, EVSE 0, attribute Actual); ``readonly`` becomes mutability
ReadOnly. Whatever tells the CSMS something about a variable ends here: a 1.6
GetConfiguration / ChangeConfiguration answer, a 2.0.1 GetVariables / SetVariables answer, a
NotifyReport part. ``status`` is the station's last word on the variable in 2.0.1's names
(Accepted, Rejected, RebootRequired, UnknownComponent, UnknownVariable,
NotSupportedAttributeType); 1.6's ``unknownKey`` and ``NotSupported`` become UnknownVariable.

A complete report replaces what it covers: a full 1.6 configuration (GetConfiguration without
keys) or a 2.0.1 FullInventory removes the rows it no longer lists. Secrets (BasicAuthPassword,
AuthorizationKey) are never stored as values.

``device_requests`` follows GetBaseReport / GetReport / GetDisplayMessages by their requestId:
the parts received (NotifyReport seqNos), completeness, and the station's answer, whichever of
answer and parts arrives first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert

log = logging.getLogger("chargeloop.csms.device_model")

ACTUAL = "Actual"
# Variables whose value is a credential: kept out of the database (WriteOnly in both versions).
SECRET_VARIABLES = frozenset({("", "AuthorizationKey"), ("SecurityCtrlr", "BasicAuthPassword")})
_KEY_COLUMNS = ("station_id", "component", "component_instance", "evse_id", "connector_id",
                "variable", "variable_instance", "attribute_type")
_OUTGOING_KEPT = 1000


@dataclass(frozen=True, slots=True)
class VariableKey:
    """Which variable: 1.6 keys are ``VariableKey("", key)``."""

    component: str
    variable: str
    component_instance: str = ""
    evse_id: int = 0
    connector_id: int = 0
    variable_instance: str = ""
    attribute_type: str = ACTUAL

    @property
    def secret(self) -> bool:
        return (self.component, self.variable) in SECRET_VARIABLES

    def columns(self, station_id: str) -> dict[str, Any]:
        return {"station_id": station_id, "component": self.component,
                "component_instance": self.component_instance, "evse_id": self.evse_id,
                "connector_id": self.connector_id, "variable": self.variable,
                "variable_instance": self.variable_instance,
                "attribute_type": self.attribute_type}


@dataclass(frozen=True, slots=True)
class VariableUpdate:
    """What one message says about one variable; ``None`` fields leave the stored one alone
    (``value`` is written only with ``set_value``)."""

    key: VariableKey
    status: str | None = None
    value: str | None = None
    set_value: bool = False
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    characteristics: dict[str, Any] | None = None

    def columns(self, station_id: str, now: datetime) -> dict[str, Any]:
        row = self.key.columns(station_id)
        if self.set_value:
            row["value"] = None if self.key.secret else self.value
        for name in ("status", "mutability", "persistent", "constant", "characteristics"):
            value = getattr(self, name)
            if value is not None:
                row[name] = value
        if self.key.secret and self.mutability is None:
            row["mutability"] = "WriteOnly"
        row["updated_at"] = now
        return row


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A multi-part request on its way to the station (seen by CommandService.before_send)."""

    action: str
    criteria: dict[str, Any]
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class PartOutcome:
    request: dict[str, Any]
    completed: bool  # this part completed the request
    pruned: int = 0


RequestFinisher = Callable[[AsyncConnection, dict[str, Any]], Awaitable[int]]


async def upsert_variables(conn: AsyncConnection, station_id: str,
                           updates: Sequence[VariableUpdate], now: datetime) -> None:
    """Write ``updates``, grouped by the columns they carry (one statement per group)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item in updates:
        row = item.columns(station_id, now)
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for rows in groups.values():
        await upsert(conn, t.station_variables, _dedupe(rows), _KEY_COLUMNS)


def _dedupe(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # One statement may not touch a row twice (PostgreSQL): the last word on a key wins.
    unique = {tuple(row[k] for k in _KEY_COLUMNS): row for row in rows}
    return list(unique.values())


class IdAllocator:
    """Per-station integer ids, unique across restarts: one above the largest the database
    holds (read once per station), then counted in memory."""

    def __init__(self, db: Database, largest: Callable[[AsyncConnection, str], Awaitable[int]]):
        self.db = db
        self.largest = largest
        self._next: dict[str, int] = {}
        self._loaded: set[str] = set()
        self._lock = asyncio.Lock()

    async def allocate(self, station_id: str) -> int:
        async with self._lock:
            if station_id not in self._loaded:
                found = await self.db.read(lambda conn: self.largest(conn, station_id))
                self._next[station_id] = max(found + 1, self._next.get(station_id, 1))
                self._loaded.add(station_id)
            value = self._next[station_id]
            self._next[station_id] = value + 1
            return value

    def seen(self, station_id: str, value: int) -> None:
        """An id chosen elsewhere (a raw command): never hand it out again."""
        if value + 1 > self._next.get(station_id, 0):
            self._next[station_id] = value + 1


async def _largest_request_id(conn: AsyncConnection, station_id: str) -> int:
    found = await conn.execute(select(func.max(t.device_requests.c.request_id))
                               .where(t.device_requests.c.station_id == station_id))
    return int(found.scalar() or 0)


class DeviceRequests:
    """GetBaseReport / GetReport / GetDisplayMessages and the parts that answer them."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self.ids = IdAllocator(db, _largest_request_id)
        self._outgoing: OrderedDict[tuple[str, int], Outgoing] = OrderedDict()
        self._finishers: dict[str, RequestFinisher] = {}

    def on_complete(self, action: str, finisher: RequestFinisher) -> None:
        """``finisher(conn, request_row)`` runs in the write that completes a request of
        ``action`` (or that learns its action, if the parts came first); returns rows pruned."""
        self._finishers[action] = finisher

    def sending(self, station_id: str, request_id: int, action: str,
                criteria: dict[str, Any]) -> None:
        """Just before the request goes out: remember what it asks, and when."""
        self.ids.seen(station_id, request_id)
        self._outgoing[(station_id, request_id)] = Outgoing(action, criteria, self.clock())
        while len(self._outgoing) > _OUTGOING_KEPT:
            self._outgoing.popitem(last=False)

    async def _row(self, conn: AsyncConnection, station_id: str, request_id: int,
                   outgoing: Outgoing | None, now: datetime) -> dict[str, Any]:
        """The request's row, created (or restarted, when the id is reused) as needed."""
        c = t.device_requests.c
        found = (await conn.execute(select(t.device_requests).where(and_(
            c.station_id == station_id, c.request_id == request_id)))).mappings().first()
        fresh: dict[str, Any] = {
            "station_id": station_id, "request_id": request_id, "action": None,
            "criteria": None, "status": None, "started_at": now, "parts": 0, "seq_nos": [],
            "last_seq_no": None, "entries": 0, "generated_at": None, "complete": False,
            "completed_at": None}
        if outgoing is not None:
            fresh.update(action=outgoing.action, criteria=outgoing.criteria,
                         started_at=min(outgoing.sent_at, now))
        if found is None:
            await conn.execute(insert(t.device_requests).values(**fresh))
            return fresh
        row = dict(found)
        if outgoing is not None and row["started_at"] < outgoing.sent_at:
            # The same requestId again, for a new request: start over.
            await conn.execute(update(t.device_requests).where(and_(
                c.station_id == station_id, c.request_id == request_id)).values(**fresh))
            return fresh
        return row

    def outgoing(self, station_id: str, request_id: int) -> Outgoing | None:
        """What the request asked, if it went out from here and is not answered yet (read
        before the write: writes touch only the database)."""
        return self._outgoing.get((station_id, request_id))

    def settled(self, station_id: str, request_id: int) -> None:
        """The station answered the request: nothing more to remember about its sending."""
        self._outgoing.pop((station_id, request_id), None)

    async def part(self, conn: AsyncConnection, station_id: str, request_id: int, *,
                   seq_no: int | None, tbc: bool, entries: int,
                   generated_at: datetime | None = None, outgoing: Outgoing | None,
                   now: datetime) -> PartOutcome:
        """Count one part (inside the caller's write); completes the request when every part
        up to the last (tbc false) is in. A part received twice counts once."""
        row = await self._row(conn, station_id, request_id, outgoing, now)
        seq_nos = list(row["seq_nos"] or [])
        number = seq_no if seq_no is not None else row["parts"]
        repeated = number in seq_nos
        if not repeated:
            seq_nos = sorted({*seq_nos, number})
        last = row["last_seq_no"] if tbc else number
        complete = last is not None and seq_nos == list(range(last + 1))
        changes: dict[str, Any] = {
            "seq_nos": seq_nos, "last_seq_no": last,
            "parts": row["parts"] + (0 if repeated else 1),
            "entries": row["entries"] + (0 if repeated else entries),
            "generated_at": generated_at or row["generated_at"],
            "complete": complete or row["complete"],
        }
        completed = complete and not row["complete"]
        if completed:
            changes["completed_at"] = now
        row = await self._save(conn, row, changes)
        pruned = await self._finish(conn, row) if completed else 0
        return PartOutcome(row, completed, pruned)

    async def answered(self, conn: AsyncConnection, station_id: str, request_id: int,
                       action: str, criteria: dict[str, Any], status: str, *,
                       outgoing: Outgoing | None, now: datetime,
                       nothing_follows: bool) -> PartOutcome:
        """The station's answer to the request (inside the caller's write). With
        ``nothing_follows`` (Rejected, NotSupported, EmptyResultSet, Unknown) it is complete."""
        row = await self._row(conn, station_id, request_id, outgoing, now)
        changes: dict[str, Any] = {"action": action, "criteria": criteria, "status": status}
        completed = False
        if nothing_follows and not row["complete"]:
            changes.update(complete=True, completed_at=now)
            completed = True
        learned = row["action"] is None
        row = await self._save(conn, row, changes)
        pruned = 0
        if completed or (row["complete"] and learned):
            pruned = await self._finish(conn, row)
        return PartOutcome(row, completed, pruned)

    async def _save(self, conn: AsyncConnection, row: dict[str, Any],
                    changes: dict[str, Any]) -> dict[str, Any]:
        c = t.device_requests.c
        await conn.execute(update(t.device_requests).where(and_(
            c.station_id == row["station_id"], c.request_id == row["request_id"]))
            .values(**changes))
        return {**row, **changes}

    async def _finish(self, conn: AsyncConnection, row: dict[str, Any]) -> int:
        finisher = self._finishers.get(row["action"] or "")
        return await finisher(conn, row) if finisher is not None else 0

    async def list(self, station_id: str, limit: int = 50) -> list[dict[str, Any]]:
        c = t.device_requests.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.device_requests).where(c.station_id == station_id)
                                      .order_by(c.started_at.desc(), c.request_id.desc())
                                      .limit(limit))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    async def get(self, station_id: str, request_id: int) -> dict[str, Any] | None:
        c = t.device_requests.c

        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.device_requests).where(and_(
                c.station_id == station_id, c.request_id == request_id)))).mappings().first()
            return dict(row) if row else None

        return await self.db.read(read)


class DeviceModelService:
    """The stored configuration / device model of every station."""

    def __init__(self, db: Database, events: EventBus, requests: DeviceRequests,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self.events = events
        self.requests = requests
        self.clock = clock
        requests.on_complete("GetBaseReport", self._prune_after_report)
        requests.on_complete("GetReport", self._prune_after_report)

    async def record(self, station_id: str, updates: Sequence[VariableUpdate], *,
                     complete: bool = False, source: str) -> int:
        """Store what a message says about variables. ``complete``: the message lists the
        station's whole configuration, so rows it does not list are removed. Returns rows
        removed."""
        now = self.clock()

        async def write(conn: AsyncConnection) -> int:
            await upsert_variables(conn, station_id, updates, now)
            if not complete:
                return 0
            return await _prune(conn, station_id, now)

        pruned = await self.db.write(write)
        self.events.publish("station.variables", station_id=station_id, source=source,
                            count=len(updates), removed=pruned)
        return pruned

    async def report_part(self, station_id: str, request_id: int, seq_no: int, tbc: bool,
                          generated_at: datetime | None,
                          updates: Sequence[VariableUpdate]) -> PartOutcome:
        """One NotifyReport part: its variables, and the report's progress."""
        now = self.clock()
        outgoing = self.requests.outgoing(station_id, request_id)

        async def write(conn: AsyncConnection) -> PartOutcome:
            await upsert_variables(conn, station_id, updates, now)
            return await self.requests.part(conn, station_id, request_id, seq_no=seq_no,
                                            tbc=tbc, entries=len(updates),
                                            generated_at=generated_at, outgoing=outgoing,
                                            now=now)

        outcome = await self.db.write(write)
        if outcome.completed:
            self._publish_report(station_id, outcome)
        return outcome

    async def report_answered(self, station_id: str, request_id: int, action: str,
                              criteria: dict[str, Any], status: str) -> PartOutcome:
        now = self.clock()
        outgoing = self.requests.outgoing(station_id, request_id)

        async def write(conn: AsyncConnection) -> PartOutcome:
            return await self.requests.answered(
                conn, station_id, request_id, action, criteria, status, outgoing=outgoing,
                now=now, nothing_follows=status != "Accepted")

        outcome = await self.db.write(write)
        self.requests.settled(station_id, request_id)
        if outcome.completed or outcome.pruned:
            self._publish_report(station_id, outcome)
        return outcome

    def _publish_report(self, station_id: str, outcome: PartOutcome) -> None:
        row = outcome.request
        self.events.publish("station.report", station_id=station_id,
                            request_id=row["request_id"], action=row["action"],
                            status=row["status"], complete=row["complete"],
                            entries=row["entries"], removed=outcome.pruned)

    async def _prune_after_report(self, conn: AsyncConnection, row: dict[str, Any]) -> int:
        criteria = row["criteria"] or {}
        if row["action"] != "GetBaseReport" or criteria.get("reportBase") != "FullInventory":
            return 0
        if row["status"] not in (None, "Accepted") or not row["entries"]:
            return 0
        # Everything the station has was in the report: what it did not list is gone.
        return await _prune(conn, row["station_id"], row["started_at"])

    async def variables(self, station_id: str, *, component: str | None = None,
                        variable: str | None = None) -> list[dict[str, Any]]:
        c = t.station_variables.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            query = select(t.station_variables).where(c.station_id == station_id)
            if component is not None:
                query = query.where(c.component == component)
            if variable is not None:
                query = query.where(c.variable == variable)
            query = query.order_by(c.component, c.component_instance, c.evse_id,
                                   c.connector_id, c.variable, c.variable_instance,
                                   c.attribute_type)
            return [dict(r) for r in (await conn.execute(query)).mappings()]

        return await self.db.read(read)

    async def value(self, station_id: str, key: VariableKey) -> str | None:
        c = t.station_variables.c
        columns = key.columns(station_id)

        async def read(conn: AsyncConnection) -> str | None:
            row = (await conn.execute(select(c.value).where(and_(
                *(getattr(c, name) == value for name, value in columns.items())))
            )).first()
            return None if row is None else row[0]

        return await self.db.read(read)


async def _prune(conn: AsyncConnection, station_id: str, before: datetime) -> int:
    c = t.station_variables.c
    result = await conn.execute(delete(t.station_variables).where(and_(
        c.station_id == station_id, c.updated_at < before)))
    return int(result.rowcount or 0)
