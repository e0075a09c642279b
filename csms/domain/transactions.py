"""Transactions and metering, for both OCPP generations, through one entry point.

A 1.6 StartTransaction / StopTransaction / MeterValues and a 2.0.1 TransactionEvent
(Started / Updated / Ended) / MeterValues all become a :class:`TxEvent` and go through
:meth:`TransactionService.handle`. Rules the field has taught, each enforced here:

* retried or duplicated starts and stops never make a second transaction or a second stop;
* the energy register never yields negative energy: a reading below the last one is flagged
  ``non_monotonic`` and ignored for energy, and a 0 Wh reading after an offline period is
  flagged ``zero_after_offline``, not taken as a register reset;
* meter values without a transaction are kept;
* offline-queued events are accepted with their own timestamps and marked late;
* TransactionEvent seqNo gaps are recorded per transaction.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.authorization import AuthorizationService, TokenInfo
from csms.domain.metering import Sample
from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.bulk import BulkInsert
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.transactions")

STARTED, UPDATED, ENDED = "Started", "Updated", "Ended"
ACTIVE, COMPLETED = "Active", "Completed"
ENERGY_FLOW_W = 10.0  # power above this counts as energy flowing (stuck-session detection)

# The statements of every metering message, built once: SQLAlchemy then skips constructing
# them and computing their cache keys on each message (a third of a write's cost).
_BY_OCPP_ID = select(t.transactions).where(
    t.transactions.c.station_id == bindparam("_station", type_=t.transactions.c.station_id.type),
    t.transactions.c.ocpp_transaction_id == bindparam(
        "_ocpp_id", type_=t.transactions.c.ocpp_transaction_id.type))
_UPDATE_BY_PK = update(t.transactions).where(
    t.transactions.c.id == bindparam("_pk", type_=t.transactions.c.id.type))
_INSERT_METER_VALUES = BulkInsert(t.meter_values)


@dataclass(frozen=True, slots=True)
class TxEvent:
    """One transaction-related message, version-neutral."""

    station_id: str
    version: str  # "ocpp1.6", "ocpp2.0.1", ...
    event_type: str  # Started, Updated, Ended; or "" for a MeterValues message
    timestamp: datetime
    ocpp_transaction_id: str | None = None  # None on a 1.6 start: the CSMS assigns one
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    token_type: str | None = None
    meter_wh: float | None = None  # meterStart / meterStop (1.6)
    samples: tuple[Sample, ...] = ()
    stop_reason: str | None = None
    trigger_reason: str | None = None
    charging_state: str | None = None
    seq_no: int | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    offline: bool = False  # the station says it was queued offline (2.0.1)


@dataclass(frozen=True, slots=True)
class TxOutcome:
    transaction: dict[str, Any] | None  # the row after the event, or None (no transaction)
    token: TokenInfo | None = None
    duplicate: bool = False
    late: bool = False
    flags: tuple[str, ...] = ()


@dataclass
class _Energy:
    """What the samples of one event do to a transaction's energy."""

    last_register_wh: float | None
    energy_flow_at: datetime | None
    last_register_at: datetime | None = None  # the station's time of that reading
    flags: list[str] = field(default_factory=list)
    row_flags: dict[int, str] = field(default_factory=dict)


class TransactionService:
    def __init__(self, db: Database, auth: AuthorizationService, events: EventBus, *,
                 late_after_s: float = 120.0, clock: Clock = utcnow) -> None:
        self.db = db
        self.auth = auth
        self.events = events
        self.late_after_s = late_after_s
        self.clock = clock
        # Active transactions by token, for ConcurrentTx; rebuilt from the table at start.
        self._active_tokens: dict[str, set[int]] = {}
        # Active transactions as last committed, by (station, OCPP transaction id): most
        # messages are meter values of a running transaction, and reading its row back for
        # each one was a tenth of the CSMS's work. Only this service writes transactions (a
        # station's messages reach the one instance that holds its connection).
        self._committed: dict[tuple[str, str], dict[str, Any]] = {}
        # Writes queued but not committed, by the same key: while one is in flight, the
        # committed row is not the latest and the next write reads the table instead.
        self._in_flight: Counter[tuple[str, str]] = Counter()

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(
                select(t.transactions.c.id, t.transactions.c.id_token)
                .where(t.transactions.c.state == ACTIVE))).mappings())

        self._active_tokens.clear()
        for row in await self.db.read(read):
            if row["id_token"]:
                self._active_tokens.setdefault(row["id_token"], set()).add(row["id"])

    def token_active(self, token: str, exclude: int | None = None) -> bool:
        return bool(self._active_tokens.get(token, set()) - {exclude})

    def is_late(self, event_time: datetime) -> bool:
        return (self.clock() - event_time).total_seconds() > self.late_after_s

    async def handle(self, event: TxEvent) -> TxOutcome:
        """Record ``event``; returns the transaction as it now stands and the token verdict."""
        late = event.offline or self.is_late(event.timestamp)
        token = None if event.id_token is None else self.auth.authorize(event.id_token,
                                                                          event.token_type)
        now = self.clock()
        key = None if event.ocpp_transaction_id is None else \
            (event.station_id, event.ocpp_transaction_id)
        known = None if key is None or self._in_flight[key] else self._committed.get(key)

        async def write(conn: AsyncConnection) -> TxOutcome:
            tx = known if known is not None else await self._find(conn, event)
            return await self._apply(conn, event, tx, token, late, now)

        if key is not None:
            self._in_flight[key] += 1
        try:
            outcome = await self.db.write(write)
        except Exception:
            if key is not None:
                self._committed.pop(key, None)
            raise
        finally:
            if key is not None:
                self._in_flight[key] -= 1
                if not self._in_flight[key]:
                    del self._in_flight[key]
        self._after(event, outcome)
        return outcome

    # -- inside the group commit -------------------------------------------------------------

    async def _apply(self, conn: AsyncConnection, event: TxEvent, tx: dict[str, Any] | None,
                     token: TokenInfo | None, late: bool, now: datetime) -> TxOutcome:
        if event.event_type == "" and tx is None:
            await self._insert_samples(conn, event, None, late, {})
            return TxOutcome(None, token, late=late)
        if tx is None:
            tx = await self._create(conn, event, token, late, now)
        elif _repeated(tx, event):
            # A retried or repeated message: same transaction, same answer, nothing stored
            # twice (no second start, no second stop, no meter value counted again).
            return TxOutcome(tx, token, duplicate=True, late=late)
        energy = self._energy(tx, event, late)
        await self._insert_samples(conn, event, tx["id"], late, energy.row_flags)
        changes = self._changes(tx, event, energy, now)
        if event.event_type == ENDED:
            changes.update(self._stop_changes(tx, event, energy, now))
        if changes:
            await conn.execute(_UPDATE_BY_PK, {"_pk": tx["id"], **changes})
            tx = {**tx, **changes}
        return TxOutcome(tx, token, late=late, flags=tuple(energy.flags))

    async def _find(self, conn: AsyncConnection, event: TxEvent) -> dict[str, Any] | None:
        c = t.transactions.c
        if event.ocpp_transaction_id is not None:
            row = (await conn.execute(_BY_OCPP_ID, {
                "_station": event.station_id, "_ocpp_id": event.ocpp_transaction_id,
            })).mappings().first()
            return dict(row) if row else None
        if event.event_type != STARTED:
            return None
        # 1.6 start: the station sends no id; a retry repeats connector, tag, time and meter.
        row = (await conn.execute(select(t.transactions).where(and_(
            c.station_id == event.station_id, c.ocpp_version == event.version,
            c.connector_id == event.connector_id, c.id_token == event.id_token,
            c.started_at == event.timestamp, c.meter_start_wh == event.meter_wh,
        )))).mappings().first()
        return dict(row) if row else None

    async def _create(self, conn: AsyncConnection, event: TxEvent, token: TokenInfo | None,
                      late: bool, now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {
            "station_id": event.station_id,
            # 1.6 starts carry no id: a placeholder until the row's key is known, below.
            "ocpp_transaction_id": event.ocpp_transaction_id or f"new-{secrets.token_hex(8)}",
            "ocpp_version": event.version, "evse_id": event.evse_id,
            "connector_id": event.connector_id, "id_token": event.id_token,
            "group_id": token.group_id if token else None,
            "auth_status": token.status if token else None, "state": ACTIVE,
            "charging_state": event.charging_state, "started_at": event.timestamp,
            "meter_start_wh": event.meter_wh if event.event_type == STARTED else None,
            "energy_wh": 0.0, "remote_start_id": event.remote_start_id,
            "reservation_id": event.reservation_id, "late": late, "seq_gaps": [],
            "last_seq_no": None, "created_at": now, "updated_at": now,
        }
        if event.event_type != STARTED:
            # Updated or Ended before (or without) Started: the start was lost or is still
            # queued at the station. Keep the transaction; its start is unknown.
            values["started_at"] = event.timestamp
        result = await conn.execute(insert(t.transactions).values(**values)
                                    .returning(t.transactions.c.id))
        pk = result.scalar_one()
        if event.ocpp_transaction_id is None:
            values["ocpp_transaction_id"] = str(pk)  # 1.6: the CSMS's integer transactionId
            await conn.execute(update(t.transactions).where(t.transactions.c.id == pk)
                               .values(ocpp_transaction_id=values["ocpp_transaction_id"]))
        return {**values, "id": pk, "stopped_at": None, "meter_stop_wh": None,
                "last_register_wh": None, "stop_reason": None, "stop_id_token": None,
                "last_energy_flow_at": None, "last_register_at": None}

    def _energy(self, tx: dict[str, Any], event: TxEvent, late: bool) -> _Energy:
        if tx.get("last_register_wh") is not None:
            energy = _Energy(tx["last_register_wh"], tx.get("last_energy_flow_at"),
                             tx.get("last_register_at"))
        else:  # nothing read yet: the register stands at meterStart (1.6), if known
            energy = _Energy(tx.get("meter_start_wh"), tx.get("last_energy_flow_at"),
                             tx.get("started_at") if tx.get("meter_start_wh") is not None
                             else None)
        register = [(i, s) for i, s in enumerate(event.samples)
                    if s.is_energy_register and not math.isnan(s.value)]
        for index, sample in sorted(register, key=lambda pair: pair[1].timestamp):
            last = energy.last_register_wh
            if energy.last_register_at is not None and sample.timestamp < energy.last_register_at:
                # Older than a reading already counted (a stop's transactionData, a queued
                # message): it cannot move the register, and is wrong only if above it.
                if last is not None and sample.value > last:
                    energy.row_flags[index] = "non_monotonic"
                    energy.flags.append("non_monotonic")
                continue
            if last is not None and sample.value < last:
                flag = "zero_after_offline" if sample.value == 0 and late else "non_monotonic"
                energy.row_flags[index] = flag
                energy.flags.append(flag)
                continue
            if last is not None and sample.value > last:
                energy.energy_flow_at = _later(energy.energy_flow_at, sample.timestamp)
            energy.last_register_wh = sample.value
            energy.last_register_at = sample.timestamp
        for sample in event.samples:
            if sample.measurand == "Power.Active.Import" and sample.value > ENERGY_FLOW_W:
                energy.energy_flow_at = _later(energy.energy_flow_at, sample.timestamp)
        return energy

    def _changes(self, tx: dict[str, Any], event: TxEvent, energy: _Energy,
                 now: datetime) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if energy.last_register_wh is not None and \
                (energy.last_register_wh, energy.last_register_at) != \
                (tx.get("last_register_wh"), tx.get("last_register_at")):
            changes["last_register_wh"] = energy.last_register_wh
            changes["last_register_at"] = energy.last_register_at
            if tx.get("meter_start_wh") is None:
                # No meterStart (a 2.0.1 start without a register sample): the first reading
                # is where this transaction's energy starts.
                first = min((s for s in event.samples if s.is_energy_register),
                            key=lambda s: s.timestamp)
                changes["meter_start_wh"] = first.value
            start = changes.get("meter_start_wh", tx.get("meter_start_wh")) or 0.0
            changes["energy_wh"] = max(0.0, energy.last_register_wh - start)
        if energy.energy_flow_at != tx.get("last_energy_flow_at"):
            changes["last_energy_flow_at"] = energy.energy_flow_at
        if event.charging_state and event.charging_state != tx.get("charging_state"):
            changes["charging_state"] = event.charging_state
        if event.evse_id is not None and tx.get("evse_id") is None:
            changes["evse_id"] = event.evse_id
            changes["connector_id"] = event.connector_id
        if event.id_token and not tx.get("id_token") and event.event_type != ENDED:
            changes["id_token"] = event.id_token  # authorised after the start (2.0.1)
        if event.remote_start_id is not None and tx.get("remote_start_id") is None:
            changes["remote_start_id"] = event.remote_start_id
        if event.seq_no is not None:
            changes.update(_sequence(tx, event.seq_no))
        if changes:
            changes["updated_at"] = now
        return changes

    def _stop_changes(self, tx: dict[str, Any], event: TxEvent, energy: _Energy,
                      now: datetime) -> dict[str, Any]:
        start = tx.get("meter_start_wh")
        register = energy.last_register_wh
        stop_wh = event.meter_wh
        if stop_wh is not None and register is not None and stop_wh < register:
            stop_wh = register  # a stop reading below what was already seen: never less energy
        final = stop_wh if stop_wh is not None else register
        values: dict[str, Any] = {
            "state": COMPLETED, "stopped_at": event.timestamp, "stop_reason": event.stop_reason,
            "meter_stop_wh": final, "updated_at": now,
            "stop_id_token": event.id_token,
        }
        if final is not None:
            values["energy_wh"] = max(0.0, final - (start if start is not None else final))
        return values

    async def _insert_samples(self, conn: AsyncConnection, event: TxEvent, tx_pk: int | None,
                              late: bool, flags: dict[int, str]) -> None:
        if not event.samples:
            return
        received = self.clock()
        rows = [{
            "station_id": event.station_id, "evse_id": event.evse_id or 0,
            "transaction_id": tx_pk, "timestamp": s.timestamp, "received_at": received,
            "measurand": s.measurand, "phase": s.phase, "location": s.location,
            "context": s.context, "unit": s.unit,
            "value": 0.0 if math.isnan(s.value) else s.value, "signed_data": s.signed_data,
            "signing_method": s.signing_method, "encoding_method": s.encoding_method,
            "public_key": s.public_key, "late": late, "flag": flags.get(i),
        } for i, s in enumerate(event.samples)]
        await _INSERT_METER_VALUES(conn, rows)

    # -- after the commit ----------------------------------------------------------------------

    def _after(self, event: TxEvent, outcome: TxOutcome) -> None:
        tx = outcome.transaction
        if tx is not None:
            key = (event.station_id, tx["ocpp_transaction_id"])
            if tx["state"] == ACTIVE:
                self._committed[key] = tx
            else:
                self._committed.pop(key, None)
        if tx is None:
            if event.samples:
                self.events.publish("meter_values", station_id=event.station_id,
                                    evse_id=event.evse_id, transaction_id=None,
                                    count=len(event.samples), late=outcome.late)
            return
        token = tx.get("id_token")
        if token:
            if tx["state"] == ACTIVE:
                self._active_tokens.setdefault(token, set()).add(tx["id"])
            else:
                self._active_tokens.get(token, set()).discard(tx["id"])
        if outcome.duplicate:
            return
        kind = {STARTED: "transaction.started", ENDED: "transaction.ended"}.get(
            event.event_type, "transaction.updated")
        self.events.publish(kind, station_id=event.station_id,
                            transaction_id=tx["ocpp_transaction_id"], evse_id=tx.get("evse_id"),
                            energy_wh=tx.get("energy_wh"), state=tx["state"],
                            charging_state=tx.get("charging_state"), late=outcome.late,
                            flags=list(outcome.flags))

    # -- queries -------------------------------------------------------------------------------

    async def get(self, station_id: str, ocpp_transaction_id: str) -> dict[str, Any] | None:
        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.transactions).where(and_(
                t.transactions.c.station_id == station_id,
                t.transactions.c.ocpp_transaction_id == ocpp_transaction_id)))).mappings().first()
            return dict(row) if row else None

        return await self.db.read(read)

    async def active_for(self, station_id: str) -> list[dict[str, Any]]:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = (await conn.execute(select(t.transactions).where(and_(
                t.transactions.c.station_id == station_id,
                t.transactions.c.state == ACTIVE)))).mappings()
            return [dict(r) for r in rows]

        return await self.db.read(read)


def _repeated(tx: dict[str, Any], event: TxEvent) -> bool:
    """Whether ``event`` repeats one this transaction has already recorded."""
    if event.event_type == STARTED:
        return True
    if event.event_type == ENDED and tx["state"] == COMPLETED:
        return True
    last = tx.get("last_seq_no")
    # 2.0.1 numbers a transaction's events: a seqNo already seen (and not a filled gap) is a
    # retransmission. seqNo 0 is the Started event, so it can only repeat as a start.
    return (event.seq_no is not None and last is not None and event.seq_no <= last
            and event.seq_no not in (tx.get("seq_gaps") or []))


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _sequence(tx: dict[str, Any], seq_no: int) -> dict[str, Any]:
    """Track TransactionEvent seqNos: gaps are remembered until the missing one arrives."""
    last = tx.get("last_seq_no")
    gaps = list(tx.get("seq_gaps") or [])
    if seq_no in gaps:
        gaps.remove(seq_no)
        return {"seq_gaps": gaps}
    if last is None:
        gaps.extend(range(0, seq_no))
        return {"last_seq_no": seq_no, "seq_gaps": gaps}
    if seq_no > last:
        gaps.extend(range(last + 1, seq_no))
        return {"last_seq_no": seq_no, "seq_gaps": gaps}
    return {}


def with_samples(event: TxEvent, samples: list[Sample]) -> TxEvent:
    return replace(event, samples=tuple(samples))
