"""Provisioning and remote control, version-neutral.

What the CSMS keeps of a station's configuration and of the commands an operator sends it:

* configuration / device model: :mod:`csms.domain.device_model` (``self.device_model``);
* availability as last requested per station / EVSE / connector (``connectors.availability``);
  an answer ``Scheduled`` is kept in ``availability_pending`` and comes into force when the
  station reports the matching status (Unavailable for Inoperative, anything else for
  Operative) on a connector in its scope;
* remote starts (2.0.1 RequestStartTransaction): the remoteStartId the CSMS issues, unique per
  station, so the transaction carrying it is linked;
* display messages (2.0.1 block O): set, cleared, and as reported by the station;
* data transfers from stations: stored in ``station_events`` (kind ``DataTransfer``) and
  answered by the vendor handler registered for the vendorId, else ``UnknownVendorId``;
* boot gating: a message the CSMS triggers while the station's boot is not accepted may come
  through (``gates``, which are the adapters' ``triggered`` sets);
* the station's Basic auth password, when the station accepts a new one.

Reset, UnlockConnector and RemoteStop answers only become events: the audit log has them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.device_model import DeviceModelService, DeviceRequests, IdAllocator
from csms.domain.stations import StationService
from csms.domain.timeutil import Clock, utcnow
from csms.events import Event, EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert

# How many messages an untargeted StatusNotification or MeterValues trigger lets through before
# an accepted boot: one per connector, bounded for a station whose connectors are not known yet.
UNTARGETED_TRIGGER_ALLOWANCE = 32

log = logging.getLogger("chargeloop.csms.provisioning")

OPERATIVE, INOPERATIVE = "Operative", "Inoperative"


@dataclass(frozen=True, slots=True)
class DataTransferAnswer:
    status: str  # Accepted, Rejected, UnknownMessageId, UnknownVendorId
    data: Any = None


# (station_id, message_id, data) -> answer; may be async.
VendorHandler = Callable[[str, str | None, Any],
                         DataTransferAnswer | Awaitable[DataTransferAnswer]]


@dataclass(frozen=True, slots=True)
class DisplayMessage:
    id: int
    priority: str  # AlwaysFront, InFront, NormalCycle
    format: str  # ASCII, HTML, URI, UTF8
    content: str
    language: str | None = None
    state: str | None = None  # Charging, Faulted, Idle, Unavailable
    start_at: datetime | None = None
    end_at: datetime | None = None
    transaction_id: str | None = None
    display: dict[str, Any] | None = None  # the display component

    def columns(self, station_id: str, source: str, now: datetime) -> dict[str, Any]:
        return {"station_id": station_id, "message_id": self.id, "priority": self.priority,
                "state": self.state, "start_at": self.start_at, "end_at": self.end_at,
                "transaction_id": self.transaction_id, "format": self.format,
                "language": self.language, "content": self.content, "display": self.display,
                "source": source, "updated_at": now}


async def _largest_remote_start_id(conn: AsyncConnection, station_id: str) -> int:
    issued = (await conn.execute(select(func.max(t.remote_starts.c.remote_start_id))
                                 .where(t.remote_starts.c.station_id == station_id))).scalar()
    seen = (await conn.execute(select(func.max(t.transactions.c.remote_start_id))
                               .where(t.transactions.c.station_id == station_id))).scalar()
    return max(int(issued or 0), int(seen or 0))


async def _largest_display_message_id(conn: AsyncConnection, station_id: str) -> int:
    found = (await conn.execute(select(func.max(t.display_messages.c.message_id))
                                .where(t.display_messages.c.station_id == station_id))).scalar()
    return int(found or 0)


def in_scope(scope: tuple[int, int], evse_id: int, connector_id: int) -> bool:
    """Is connector (evse_id, connector_id) inside an availability scope (station (0, 0), EVSE
    (n, 0) or connector (n, m))?"""
    scope_evse, scope_connector = scope
    if scope_evse == 0:
        return True
    return scope_evse == evse_id and scope_connector in (0, connector_id)


class ProvisioningService:
    def __init__(self, db: Database, events: EventBus, stations: StationService,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self.events = events
        self.stations = stations
        self.clock = clock
        self.requests = DeviceRequests(db, clock)
        self.device_model = DeviceModelService(db, events, self.requests, clock)
        self.remote_start_ids = IdAllocator(db, _largest_remote_start_id)
        self.display_message_ids = IdAllocator(db, _largest_display_message_id)
        # Per station: the messages its boot gating lets through (the adapter's ``triggered``).
        self.gates: dict[str, Counter[str]] = {}
        self.vendors: dict[str, VendorHandler] = {}
        # (station, evse, connector) -> availability answered Scheduled, not yet in force.
        self._pending: dict[tuple[str, int, int], str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests.on_complete("GetDisplayMessages", self._prune_display_messages)
        events.listen(self._on_event)

    async def load(self) -> None:
        c = t.connectors.c

        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(
                select(c.station_id, c.evse_id, c.connector_id, c.availability_pending)
                .where(c.availability_pending.is_not(None)))).mappings())

        self._pending = {(r["station_id"], r["evse_id"], r["connector_id"]):
                         r["availability_pending"] for r in await self.db.read(read)}

    # -- boot gating -----------------------------------------------------------------------------

    def bind_gate(self, station_id: str, allowed: Counter[str]) -> None:
        """The current connection's allowance of messages before an accepted boot."""
        self.gates[station_id] = allowed

    def trigger_sending(self, station_id: str, action: str, *, targeted: bool) -> None:
        """A TriggerMessage for ``action`` is about to go out: while the boot is not accepted,
        let what it asks for through (B02 / TC_B_31). A trigger aimed at one EVSE or connector
        yields one message; an untargeted StatusNotification or MeterValues trigger yields one
        per connector, and the CSMS may not know how many connectors a new station has."""
        state = self.stations.get(station_id)
        gate = self.gates.get(station_id)
        if gate is not None and (state is None or not state.accepted):
            gate[action] += 1 if targeted else UNTARGETED_TRIGGER_ALLOWANCE

    def trigger_answered(self, station_id: str, action: str, status: str,
                         evse_id: int | None, connector_id: int | None) -> None:
        if status != "Accepted":
            gate = self.gates.get(station_id)
            if gate is not None:
                gate.pop(action, None)
        self.events.publish("station.trigger", station_id=station_id, message=action,
                            evse_id=evse_id, connector_id=connector_id, status=status)

    # -- data transfer ---------------------------------------------------------------------------

    def register_vendor(self, vendor_id: str, handler: VendorHandler) -> None:
        """Answer DataTransfer messages with this vendorId (both OCPP versions)."""
        self.vendors[vendor_id] = handler

    async def data_transfer(self, station_id: str, vendor_id: str, message_id: str | None,
                            data: Any) -> DataTransferAnswer:
        """A DataTransfer from a station: the vendor's handler answers; stored either way."""
        handler = self.vendors.get(vendor_id)
        if handler is None:
            answer = DataTransferAnswer("UnknownVendorId")
        else:
            try:
                result = handler(station_id, message_id, data)
                answer = await result if inspect.isawaitable(result) else result
            except Exception:
                log.exception("DataTransfer handler for %s failed", vendor_id)
                answer = DataTransferAnswer("Rejected")
        now = self.clock()
        summary = f"{vendor_id}/{message_id or '-'}: {answer.status}"[:255]
        payload = {"vendorId": vendor_id, "messageId": message_id, "data": data,
                   "status": answer.status, "answerData": answer.data}
        await self.db.write(lambda conn: conn.execute(insert(t.station_events).values(
            station_id=station_id, kind="DataTransfer", timestamp=now, received_at=now,
            summary=summary, payload=payload)))
        self.events.publish("station.data_transfer", station_id=station_id,
                            vendor_id=vendor_id, message_id=message_id, status=answer.status)
        return answer

    async def data_transfers(self, station_id: str, limit: int = 100) -> list[dict[str, Any]]:
        c = t.station_events.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.station_events).where(and_(
                c.station_id == station_id, c.kind == "DataTransfer"))
                .order_by(c.id.desc()).limit(limit))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    # -- availability ----------------------------------------------------------------------------

    async def availability_answered(self, station_id: str, evse_id: int, connector_id: int,
                                    operative: bool, status: str) -> None:
        """ChangeAvailability answered: Accepted is in force, Scheduled pending."""
        wanted = OPERATIVE if operative else INOPERATIVE
        key = (station_id, evse_id, connector_id)
        row: dict[str, Any] = {"station_id": station_id, "evse_id": evse_id,
                               "connector_id": connector_id}
        if status == "Accepted":
            row.update(availability=wanted, availability_pending=None)
        elif status == "Scheduled":
            row.update(availability_pending=wanted)
        if len(row) > 3:
            await self.db.write(lambda conn: upsert(
                conn, t.connectors, [row], ("station_id", "evse_id", "connector_id")))
            if status == "Scheduled":
                self._pending[key] = wanted
            else:
                self._pending.pop(key, None)
        self.events.publish("station.availability", station_id=station_id, evse_id=evse_id,
                            connector_id=connector_id, requested=wanted, status=status,
                            in_force=status == "Accepted")

    def _on_event(self, event: Event) -> None:
        if event.kind != "station.status" or not self._pending:
            return
        data = event.data
        station_id, status = data.get("station_id"), data.get("status")
        evse_id, connector_id = data.get("evse_id", 0), data.get("connector_id", 0)
        for key, wanted in list(self._pending.items()):
            if key[0] != station_id or not in_scope((key[1], key[2]), evse_id, connector_id):
                continue
            if (wanted == INOPERATIVE) == (status == "Unavailable") and status != "Faulted":
                del self._pending[key]
                task = asyncio.create_task(self._apply_pending(key, wanted))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _apply_pending(self, key: tuple[str, int, int], wanted: str) -> None:
        station_id, evse_id, connector_id = key
        c = t.connectors.c
        try:
            await self.db.write(lambda conn: conn.execute(update(t.connectors).where(and_(
                c.station_id == station_id, c.evse_id == evse_id,
                c.connector_id == connector_id, c.availability_pending == wanted))
                .values(availability=wanted, availability_pending=None)))
        except Exception:
            log.warning("could not apply the scheduled availability of %s", key, exc_info=True)
            return
        self.events.publish("station.availability", station_id=station_id, evse_id=evse_id,
                            connector_id=connector_id, requested=wanted, status="Scheduled",
                            in_force=True)

    async def availability(self, station_id: str) -> list[dict[str, Any]]:
        c = t.connectors.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(
                select(c.evse_id, c.connector_id, c.status, c.availability,
                       c.availability_pending)
                .where(c.station_id == station_id).order_by(c.evse_id, c.connector_id))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    # -- commands whose answers are events only ---------------------------------------------------

    def command_answered(self, kind: str, station_id: str, **data: Any) -> None:
        """Reset, UnlockConnector, RemoteStop...: ``station.<kind>`` on the event stream."""
        self.events.publish(f"station.{kind}", station_id=station_id, **data)

    # -- remote start ----------------------------------------------------------------------------

    async def next_remote_start_id(self, station_id: str) -> int:
        return await self.remote_start_ids.allocate(station_id)

    async def remote_start_requested(self, station_id: str, remote_start_id: int,
                                     id_token: str, evse_id: int | None) -> None:
        """Before RequestStartTransaction goes out, so the id is taken even if it is lost."""
        now = self.clock()
        self.remote_start_ids.seen(station_id, remote_start_id)
        await self.db.write(lambda conn: upsert(conn, t.remote_starts, [{
            "station_id": station_id, "remote_start_id": remote_start_id, "id_token": id_token,
            "evse_id": evse_id, "status": "Requested", "requested_at": now}],
            ("station_id", "remote_start_id")))

    async def remote_start_answered(self, station_id: str, remote_start_id: int | None,
                                    id_token: str, evse_id: int | None, status: str,
                                    transaction_id: str | None) -> None:
        if remote_start_id is not None:
            now = self.clock()
            self.remote_start_ids.seen(station_id, remote_start_id)
            row = {"station_id": station_id, "remote_start_id": remote_start_id,
                   "id_token": id_token, "evse_id": evse_id, "status": status,
                   "transaction_id": transaction_id, "answered_at": now}

            async def write(conn: AsyncConnection) -> None:
                c = t.remote_starts.c
                found = (await conn.execute(select(c.requested_at).where(and_(
                    c.station_id == station_id, c.remote_start_id == remote_start_id)))).first()
                await upsert(conn, t.remote_starts,
                             [{**row, "requested_at": found[0] if found else now}],
                             ("station_id", "remote_start_id"))

            await self.db.write(write)
        self.command_answered("remote_start", station_id, remote_start_id=remote_start_id,
                              id_token=id_token, evse_id=evse_id, status=status,
                              transaction_id=transaction_id)

    async def remote_start_failed(self, station_id: str, remote_start_id: int,
                                  outcome: str) -> None:
        """The request got no answer (offline, timeout, CALLERROR): say so, keep the id."""
        c = t.remote_starts.c
        await self.db.write(lambda conn: conn.execute(update(t.remote_starts).where(and_(
            c.station_id == station_id, c.remote_start_id == remote_start_id,
            c.status == "Requested")).values(status=outcome[:16], answered_at=self.clock())))

    async def remote_starts(self, station_id: str,
                            remote_start_id: int | None = None) -> list[dict[str, Any]]:
        """Remote starts, newest first, each with the transaction that carries its id."""
        r, tx = t.remote_starts.c, t.transactions.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            query = (select(t.remote_starts, tx.ocpp_transaction_id.label("linked_transaction"),
                            tx.state.label("transaction_state"))
                     .select_from(t.remote_starts.outerjoin(t.transactions, and_(
                         tx.station_id == r.station_id,
                         tx.remote_start_id == r.remote_start_id)))
                     .where(r.station_id == station_id)
                     .order_by(r.remote_start_id.desc()))
            if remote_start_id is not None:
                query = query.where(r.remote_start_id == remote_start_id)
            return [dict(row) for row in (await conn.execute(query)).mappings()]

        return await self.db.read(read)

    # -- passwords -------------------------------------------------------------------------------

    async def password_accepted(self, station_id: str, password: str) -> None:
        """The station took a new Basic auth password: its next connection must use it."""
        await self.stations.set_password(station_id, password)
        self.events.publish("station.password", station_id=station_id)

    # -- display messages ------------------------------------------------------------------------

    async def next_display_message_id(self, station_id: str) -> int:
        return await self.display_message_ids.allocate(station_id)

    async def display_message_set(self, station_id: str, message: DisplayMessage,
                                  status: str) -> None:
        self.display_message_ids.seen(station_id, message.id)
        if status == "Accepted":
            row = message.columns(station_id, "csms", self.clock())
            await self.db.write(lambda conn: upsert(conn, t.display_messages, [row],
                                                    ("station_id", "message_id")))
        self.events.publish("station.display_messages", station_id=station_id,
                            change="set", message_id=message.id, status=status)

    async def display_message_cleared(self, station_id: str, message_id: int,
                                      status: str) -> None:
        # Unknown: the station does not have it, so neither do we.
        if status in ("Accepted", "Unknown"):
            c = t.display_messages.c
            await self.db.write(lambda conn: conn.execute(delete(t.display_messages).where(
                and_(c.station_id == station_id, c.message_id == message_id))))
        self.events.publish("station.display_messages", station_id=station_id,
                            change="clear", message_id=message_id, status=status)

    async def display_messages_reported(self, station_id: str, request_id: int,
                                        messages: Sequence[DisplayMessage], tbc: bool) -> None:
        """One NotifyDisplayMessages part."""
        now = self.clock()
        rows = list({m.id: m.columns(station_id, "station", now) for m in messages}.values())
        outgoing = self.requests.outgoing(station_id, request_id)

        async def write(conn: AsyncConnection) -> Any:
            await upsert(conn, t.display_messages, rows, ("station_id", "message_id"))
            return await self.requests.part(conn, station_id, request_id, seq_no=None,
                                            tbc=tbc, entries=len(rows), outgoing=outgoing,
                                            now=now)

        outcome = await self.db.write(write)
        for message in messages:
            self.display_message_ids.seen(station_id, message.id)
        if outcome.completed:
            self._publish_report(station_id, outcome.request, outcome.pruned)

    async def display_messages_answered(self, station_id: str, request_id: int,
                                        criteria: dict[str, Any], status: str) -> None:
        """GetDisplayMessages answered: Accepted (reports follow) or Unknown (none match)."""
        now = self.clock()
        outgoing = self.requests.outgoing(station_id, request_id)

        async def write(conn: AsyncConnection) -> Any:
            return await self.requests.answered(
                conn, station_id, request_id, "GetDisplayMessages", criteria, status,
                outgoing=outgoing, now=now, nothing_follows=status != "Accepted")

        outcome = await self.db.write(write)
        self.requests.settled(station_id, request_id)
        if outcome.completed or outcome.pruned:
            self._publish_report(station_id, outcome.request, outcome.pruned)

    def _publish_report(self, station_id: str, request: dict[str, Any], removed: int) -> None:
        self.events.publish("station.display_messages", station_id=station_id,
                            change="report", request_id=request["request_id"],
                            status=request["status"], entries=request["entries"],
                            removed=removed)

    async def _prune_display_messages(self, conn: AsyncConnection,
                                      request: dict[str, Any]) -> int:
        """A GetDisplayMessages without filters lists everything the station shows."""
        if request["criteria"] or request["status"] not in (None, "Accepted", "Unknown"):
            return 0
        c = t.display_messages.c
        result = await conn.execute(delete(t.display_messages).where(and_(
            c.station_id == request["station_id"], c.updated_at < request["started_at"])))
        return int(result.rowcount or 0)

    async def display_messages(self, station_id: str) -> list[dict[str, Any]]:
        c = t.display_messages.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.display_messages)
                                      .where(c.station_id == station_id)
                                      .order_by(c.message_id))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)
