"""Tariffs: versions, where they apply, and what a session costs under them.

A tariff is a series of immutable versions: a change is a new version with its own
``valid_from``, never an edit, and never back-dated, so a session is always priced with the
version in force at its start. Assignments say which tariff applies at a connector, an EVSE, a
station, or by default; the most specific one in force at the session's start wins. They too
are time-stamped (``valid_from``/``valid_to``) rather than overwritten, so a session keeps its
tariff when an operator reassigns one mid-session.

Everything needed to find a session's tariff is held in memory (the tables are small), so a
transaction's start costs nothing here: no read, no write. Costs are computed on demand
(:meth:`TariffService.session_cost`), at a transaction's end, and by the periodic running-cost
scan (:mod:`csms.ocpp.costs`); never per meter value.

Other services use: ``tariff_for(station_id, evse_id, connector_id, at)``,
``session_cost(station_id, ocpp_transaction_id, now=None)`` and the ``transaction.cost`` event
(see docs/driver-services.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.metering import ENERGY_REGISTER
from csms.domain.pricing import Reading, SessionCost, SessionFacts, Tariff, price_session
from csms.domain.tariff_terms import (
    OPTIONAL_PRICES,
    PRICES,
    TariffError,
    TariffInvalid,
    band_from_json,
    band_json,
    check_terms,
    decimal_text,
    text_decimal,
)
from csms.domain.timeutil import Clock, utcnow
from csms.domain.transactions import ACTIVE, COMPLETED, TransactionService, TxOutcome
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert

log = logging.getLogger("chargeloop.csms.tariffs")

CHARGING = "Charging"
_READ_CHUNK = 500  # transactions per IN (...) when reading meter series for the scan

Scope = tuple[str | None, int | None, int | None]  # (station, evse, connector); all None: default


class TariffNotFound(TariffError):
    pass


class TariffConflict(TariffError):
    pass


class UnknownTransaction(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class TariffRecord:
    id: str
    created_at: datetime
    versions: tuple[Tariff, ...]  # oldest first

    def in_force(self, at: datetime) -> Tariff | None:
        return next((v for v in reversed(self.versions) if v.valid_from <= at), None)


@dataclass(frozen=True, slots=True)
class Assignment:
    id: int
    tariff_id: str
    station_id: str | None
    evse_id: int | None
    connector_id: int | None
    valid_from: datetime
    valid_to: datetime | None
    created_at: datetime
    created_by: str | None = None

    @property
    def scope(self) -> Scope:
        return (self.station_id, self.evse_id, self.connector_id)

    def in_force(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)

    def over_by(self, at: datetime) -> bool:
        """Ended by ``at``, or withdrawn before it started (ends where it starts)."""
        return self.valid_to is not None and (self.valid_to <= at
                                              or self.valid_to <= self.valid_from)


# -- the service ---------------------------------------------------------------------------------

class TariffService:
    def __init__(self, db: Database, events: EventBus, transactions: TransactionService,
                 clock: Clock = utcnow, *,
                 account_of: Callable[[str | None], str | None] | None = None) -> None:
        self.db = db
        self.events = events
        self.transactions = transactions
        self.clock = clock
        self.account_of = account_of or (lambda token: None)
        self._tariffs: dict[str, TariffRecord] = {}
        self._assignments: dict[int, Assignment] = {}
        self._by_scope: dict[Scope, list[Assignment]] = {}
        self._write_lock = asyncio.Lock()  # version numbers and assignment chains
        # Running costs of active priced transactions as of the last scan, by (station, tx):
        # what a TransactionEvent(Updated) response may carry without reading anything.
        self._running: dict[tuple[str, str], SessionCost] = {}
        self._ended_while_scanning: set[tuple[str, str]] | None = None
        # The last chargingState recorded per active priced transaction (writes only changes).
        self._charging_state: dict[tuple[str, str], str] = {}

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> tuple[list[Any], list[Any], list[Any]]:
            tariffs = list((await conn.execute(select(t.tariffs))).mappings())
            versions = list((await conn.execute(select(t.tariff_versions).order_by(
                t.tariff_versions.c.tariff_id, t.tariff_versions.c.version))).mappings())
            assignments = list((await conn.execute(select(t.tariff_assignments))).mappings())
            return tariffs, versions, assignments

        tariffs, versions, assignments = await self.db.read(read)
        by_tariff: dict[str, list[Tariff]] = {}
        for row in versions:
            by_tariff.setdefault(row["tariff_id"], []).append(_tariff_from_row(row))
        self._tariffs = {row["id"]: TariffRecord(row["id"], row["created_at"],
                                                 tuple(by_tariff.get(row["id"], ())))
                         for row in tariffs}
        self._assignments = {}
        self._by_scope = {}
        for row in assignments:
            self._keep(_assignment_from_row(row))

    # -- tariffs and versions ------------------------------------------------------------------

    def all(self) -> list[TariffRecord]:
        return [self._tariffs[key] for key in sorted(self._tariffs)]

    def get(self, tariff_id: str) -> TariffRecord | None:
        return self._tariffs.get(tariff_id)

    async def create(self, draft: Tariff, *, valid_from: datetime | None = None,
                     actor: str | None = None) -> TariffRecord:
        """A new tariff with ``draft``'s terms as version 1 (``draft.version`` and
        ``draft.valid_from`` are ignored)."""
        async with self._write_lock:
            if draft.tariff_id in self._tariffs:
                raise TariffConflict(f"tariff {draft.tariff_id!r} exists; add a version "
                                     f"(POST /api/tariffs/{draft.tariff_id}/versions)")
            version = self._new_version(draft, 1, valid_from, latest=None)
            now = self.clock()

            async def write(conn: AsyncConnection) -> None:
                await conn.execute(insert(t.tariffs).values(id=draft.tariff_id, created_at=now,
                                                            created_by=actor))
                await conn.execute(insert(t.tariff_versions).values(
                    **_version_row(version), created_at=now, created_by=actor))

            await self.db.write(write)
            record = TariffRecord(draft.tariff_id, now, (version,))
            self._tariffs[record.id] = record
            return record

    async def add_version(self, draft: Tariff, *, valid_from: datetime | None = None,
                          actor: str | None = None) -> TariffRecord:
        """The next version of ``draft.tariff_id`` with ``draft``'s terms, in force from
        ``valid_from`` (now by default; never in the past, never before the latest version)."""
        async with self._write_lock:
            record = self._tariffs.get(draft.tariff_id)
            if record is None:
                raise TariffNotFound(f"no tariff {draft.tariff_id!r}")
            latest = record.versions[-1]
            version = self._new_version(draft, latest.version + 1, valid_from, latest=latest)
            now = self.clock()

            async def write(conn: AsyncConnection) -> None:
                await conn.execute(insert(t.tariff_versions).values(
                    **_version_row(version), created_at=now, created_by=actor))

            await self.db.write(write)
            record = replace(record, versions=(*record.versions, version))
            self._tariffs[record.id] = record
            return record

    def _new_version(self, draft: Tariff, number: int, valid_from: datetime | None,
                     latest: Tariff | None) -> Tariff:
        check_terms(draft)
        now = self.clock()
        start = now if valid_from is None else valid_from
        if start < now:
            raise TariffInvalid("valid_from", "must not be in the past: a new version never "
                                              "changes the price of a session already started")
        if latest is not None and start < latest.valid_from:
            raise TariffConflict(f"version {latest.version} of {draft.tariff_id!r} is in force "
                                 f"from {latest.valid_from.isoformat()}; a new version cannot "
                                 "start before it")
        return replace(draft, version=number, valid_from=start)

    # -- assignments ---------------------------------------------------------------------------

    def assignments(self, *, station_id: str | None = None, tariff_id: str | None = None,
                    include_ended: bool = False) -> list[Assignment]:
        now = self.clock()
        found = [a for a in self._assignments.values()
                 if (station_id is None or a.station_id == station_id)
                 and (tariff_id is None or a.tariff_id == tariff_id)
                 and (include_ended or not a.over_by(now))]
        return sorted(found, key=lambda a: a.id)

    def assignment(self, assignment_id: int) -> Assignment | None:
        return self._assignments.get(assignment_id)

    async def assign(self, tariff_id: str, station_id: str | None = None,
                     evse_id: int | None = None, connector_id: int | None = None, *,
                     valid_from: datetime | None = None,
                     actor: str | None = None) -> Assignment:
        """Apply ``tariff_id`` at a connector, an EVSE, a station or (no station) by default,
        from ``valid_from`` (now by default, never in the past). The assignment it replaces at
        the same place ends when this one starts."""
        if connector_id is not None and evse_id is None:
            raise TariffInvalid("evse_id", "a connector is named within its EVSE: give evse_id")
        if evse_id is not None and station_id is None:
            raise TariffInvalid("station_id", "an EVSE is named within its station: give "
                                              "station_id")
        async with self._write_lock:
            if tariff_id not in self._tariffs:
                raise TariffNotFound(f"no tariff {tariff_id!r}")
            now = self.clock()
            start = now if valid_from is None else valid_from
            if start < now:
                raise TariffInvalid("valid_from", "must not be in the past: an assignment never "
                                                  "changes the tariff of a session already "
                                                  "started")
            scope: Scope = (station_id, evse_id, connector_id)
            replaced: Assignment | None = None
            for other in self._by_scope.get(scope, ()):
                if other.over_by(start):
                    continue  # over by then, or withdrawn
                if other.valid_from > start or other.valid_from == start:
                    raise TariffConflict(f"assignment {other.id} (tariff {other.tariff_id!r}) "
                                         f"starts at {other.valid_from.isoformat()} here; "
                                         "remove it first")
                if other.tariff_id == tariff_id and other.valid_to is None:
                    raise TariffConflict(f"tariff {tariff_id!r} is already assigned here "
                                         f"(assignment {other.id})")
                replaced = other

            async def write(conn: AsyncConnection) -> int:
                if replaced is not None:
                    await conn.execute(update(t.tariff_assignments)
                                       .where(t.tariff_assignments.c.id == replaced.id)
                                       .values(valid_to=start))
                result = await conn.execute(insert(t.tariff_assignments).values(
                    tariff_id=tariff_id, station_id=station_id, evse_id=evse_id,
                    connector_id=connector_id, valid_from=start,
                    valid_to=None if replaced is None else replaced.valid_to, created_at=now,
                    created_by=actor).returning(t.tariff_assignments.c.id))
                return int(result.scalar_one())

            new_id = await self.db.write(write)
            if replaced is not None:
                self._keep(replace(replaced, valid_to=start))
            assignment = Assignment(new_id, tariff_id, station_id, evse_id, connector_id, start,
                                    None if replaced is None else replaced.valid_to, now, actor)
            self._keep(assignment)
            return assignment

    async def unassign(self, assignment_id: int) -> Assignment:
        """End an assignment now. One that has not started yet is withdrawn, and the one it
        was to replace goes on as before."""
        async with self._write_lock:
            found = self._assignments.get(assignment_id)
            if found is None:
                raise TariffNotFound(f"no tariff assignment {assignment_id}")
            now = self.clock()
            if found.valid_to is not None and found.over_by(now):
                raise TariffConflict(f"assignment {assignment_id} ended at "
                                     f"{found.valid_to.isoformat()}")
            end = max(now, found.valid_from)
            restored = None
            if found.valid_from > now:  # withdrawn before it started
                restored = next((a for a in self._by_scope.get(found.scope, ())
                                 if a.valid_to == found.valid_from and a.id != found.id), None)

            async def write(conn: AsyncConnection) -> None:
                c = t.tariff_assignments.c
                await conn.execute(update(t.tariff_assignments).where(c.id == found.id)
                                   .values(valid_to=end))
                if restored is not None:
                    await conn.execute(update(t.tariff_assignments).where(c.id == restored.id)
                                       .values(valid_to=found.valid_to))

            await self.db.write(write)
            if restored is not None:
                self._keep(replace(restored, valid_to=found.valid_to))
            ended = replace(found, valid_to=end)
            self._keep(ended)
            return ended

    def _keep(self, assignment: Assignment) -> None:
        self._assignments[assignment.id] = assignment
        same = [a for a in self._by_scope.get(assignment.scope, ()) if a.id != assignment.id]
        self._by_scope[assignment.scope] = sorted([*same, assignment],
                                                  key=lambda a: (a.valid_from, a.id))

    # -- which tariff applies ------------------------------------------------------------------

    def tariff_at(self, station_id: str | None, evse_id: int | None,
                  connector_id: int | None, at: datetime) -> Tariff | None:
        """The tariff version in force at ``at`` for a connector (in memory, no I/O): the most
        specific assignment in force then (connector, EVSE, station, default) whose tariff has
        a version in force then."""
        for scope in _scopes(station_id, evse_id, connector_id):
            for assignment in self._by_scope.get(scope, ()):
                if assignment.in_force(at):
                    version = self._tariffs[assignment.tariff_id].in_force(at)
                    if version is not None:
                        return version
        return None

    async def tariff_for(self, station_id: str, evse_id: int | None, connector_id: int | None,
                         at: datetime) -> Tariff | None:
        """The contract's form of :meth:`tariff_at` (None: no tariff applies, charging is
        free)."""
        return self.tariff_at(station_id, evse_id, connector_id, at)

    def tariff_of(self, transaction: Mapping[str, Any]) -> Tariff | None:
        """The tariff a transaction is priced with: the one in force at its start, where it
        started."""
        if not self._by_scope or transaction.get("started_at") is None:
            return None
        return self.tariff_at(transaction["station_id"], transaction.get("evse_id"),
                              transaction.get("connector_id"), transaction["started_at"])

    # -- what sessions cost --------------------------------------------------------------------

    async def session_cost(self, station_id: str, ocpp_transaction_id: str,
                           now: datetime | None = None) -> SessionCost | None:
        """What the transaction costs: final once it has ended, else the running cost as of
        ``now``. None when no tariff applies (free). Raises :class:`UnknownTransaction`."""
        transaction = await self.transactions.get(station_id, ocpp_transaction_id)
        if transaction is None:
            raise UnknownTransaction(f"no transaction {ocpp_transaction_id!r} at station "
                                     f"{station_id!r}")
        return await self.price(transaction, now)

    async def price(self, transaction: Mapping[str, Any],
                    now: datetime | None = None) -> SessionCost | None:
        tariff = self.tariff_of(transaction)
        if tariff is None:
            return None
        facts = await self._facts([transaction])
        return price_session(facts[transaction["id"]], tariff, now or self.clock())

    def running_cost(self, station_id: str, ocpp_transaction_id: str) -> SessionCost | None:
        """The running cost computed by the last scan (memory only: for hot paths)."""
        return self._running.get((station_id, ocpp_transaction_id))

    async def running_costs(self, now: datetime | None = None) -> list[SessionCost]:
        """Price every active transaction that has a tariff as of ``now``, remember the figures
        and publish ``transaction.cost`` (final false) for each."""
        if not self._by_scope:
            self._running = {}
            return []
        now = now or self.clock()
        self._ended_while_scanning = set()
        try:
            active = await self._active_transactions()
            priced = [(tx, tariff) for tx in active
                      if (tariff := self.tariff_of(tx)) is not None]
            facts = await self._facts([tx for tx, _ in priced])
            ended = self._ended_while_scanning
        finally:
            self._ended_while_scanning = None
        running: dict[tuple[str, str], SessionCost] = {}
        for tx, tariff in priced:
            key = (tx["station_id"], tx["ocpp_transaction_id"])
            if key in ended:
                continue
            cost = price_session(facts[tx["id"]], tariff, now)
            running[key] = cost
            self._publish(cost)
        self._running = running
        return list(running.values())

    async def charging_state(self, station_id: str, transaction: Mapping[str, Any] | None,
                             state: str, at: datetime) -> None:
        """Record a 2.0.1 chargingState of a priced, active transaction, when it changes (the
        charging periods behind time prices and idle fees). Others cost nothing."""
        if transaction is None or transaction["state"] != ACTIVE:
            return
        key = (station_id, transaction["ocpp_transaction_id"])
        if self._charging_state.get(key) == state or self.tariff_of(transaction) is None:
            return
        pk = transaction["id"]

        async def write(conn: AsyncConnection) -> None:
            await upsert(conn, t.charging_states, [{"transaction_id": pk, "at": at,
                                                    "state": state}],
                         ("transaction_id", "at", "state"))  # a repeat adds nothing

        await self.db.write(write)
        self._charging_state[key] = state

    async def transaction_ended(self, station_id: str,
                                outcome: TxOutcome) -> SessionCost | None:
        """The final cost of a transaction that just ended (None: not priced), published as
        ``transaction.cost`` (final true) the first time; a repeated stop gets the same
        figures."""
        transaction = outcome.transaction
        if transaction is None or transaction["state"] != COMPLETED:
            return None
        key = (station_id, transaction["ocpp_transaction_id"])
        self._running.pop(key, None)
        self._charging_state.pop(key, None)
        if self._ended_while_scanning is not None:
            self._ended_while_scanning.add(key)
        try:
            cost = await self.price(transaction)
        except Exception:  # the stop is recorded; its answer must not fail for the price
            log.exception("could not price transaction %s at %s", key[1], station_id)
            return None
        if cost is not None and not outcome.duplicate:
            self._publish(cost)
        return cost

    def _publish(self, cost: SessionCost) -> None:
        self.events.publish("transaction.cost", station_id=cost.station_id,
                            transaction_id=cost.transaction_id,
                            account_id=self.account_of(cost.id_token),
                            total=str(cost.total.amount), currency=cost.currency,
                            final=cost.final, tariff_id=cost.tariff_id,
                            tariff_version=cost.tariff_version,
                            energy_wh=float(cost.energy_wh))

    # -- reading what pricing needs ------------------------------------------------------------

    async def _active_transactions(self) -> list[dict[str, Any]]:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.transactions)
                                      .where(t.transactions.c.state == ACTIVE))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    async def _facts(self, transactions: list[Mapping[str, Any]]) -> dict[int, SessionFacts]:
        """Each transaction's meter series and charging periods, in one read per chunk."""
        by_pk = {tx["id"]: tx for tx in transactions}
        readings: dict[int, list[Reading]] = {pk: [] for pk in by_pk}
        states: dict[int, list[tuple[datetime, str]]] = {pk: [] for pk in by_pk}

        async def read(conn: AsyncConnection, pks: list[int]) -> None:
            m = t.meter_values.c
            rows = await conn.execute(
                select(m.transaction_id, m.timestamp, m.value)
                .where(m.transaction_id.in_(pks), m.measurand == ENERGY_REGISTER,
                       m.unit == "Wh", m.flag.is_(None),
                       or_(m.phase.is_(None), m.phase.in_(("", "N"))))
                .order_by(m.transaction_id, m.timestamp, m.id))
            for pk, at, value in rows:
                readings[pk].append(Reading(at, Decimal(str(value))))
            c = t.charging_states.c
            for pk, at, state in await conn.execute(
                    select(c.transaction_id, c.at, c.state).where(c.transaction_id.in_(pks))
                    .order_by(c.transaction_id, c.at)):
                states[pk].append((at, state))

        pks = list(by_pk)
        for i in range(0, len(pks), _READ_CHUNK):
            chunk = pks[i:i + _READ_CHUNK]
            await self.db.read(lambda conn, chunk=chunk: read(conn, chunk))
        return {pk: _session_facts(tx, readings[pk], states[pk]) for pk, tx in by_pk.items()}


def _scopes(station_id: str | None, evse_id: int | None,
            connector_id: int | None) -> Iterable[Scope]:
    if station_id is not None:
        if evse_id is not None:
            if connector_id is not None:
                yield (station_id, evse_id, connector_id)
            yield (station_id, evse_id, None)
        yield (station_id, None, None)
    yield (None, None, None)


def _session_facts(tx: Mapping[str, Any], readings: list[Reading],
                   states: list[tuple[datetime, str]]) -> SessionFacts:
    started, stopped = tx["started_at"], tx.get("stopped_at")
    series = list(readings)
    if tx.get("meter_start_wh") is not None:
        series.insert(0, Reading(started, Decimal(str(tx["meter_start_wh"]))))
    if stopped is not None and tx.get("meter_stop_wh") is not None:
        series.append(Reading(stopped, Decimal(str(tx["meter_stop_wh"]))))
    return SessionFacts(
        station_id=tx["station_id"], transaction_id=tx["ocpp_transaction_id"],
        started_at=started, ended_at=stopped if tx["state"] == COMPLETED else None,
        readings=tuple(series), charging_periods=_charging_periods(states) if states else None,
        evse_id=tx.get("evse_id"), connector_id=tx.get("connector_id"),
        id_token=tx.get("id_token"))


def _charging_periods(states: list[tuple[datetime, str]]
                      ) -> tuple[tuple[datetime, datetime | None], ...]:
    """chargingState changes as periods in state Charging (the last one open if still so)."""
    periods: list[tuple[datetime, datetime | None]] = []
    since: datetime | None = None
    for at, state in sorted(states):
        if state == CHARGING and since is None:
            since = at
        elif state != CHARGING and since is not None:
            periods.append((since, at))
            since = None
    if since is not None:
        periods.append((since, None))
    return tuple(periods)


def _tariff_from_row(row: Mapping[str, Any]) -> Tariff:
    return Tariff(
        tariff_id=row["tariff_id"], version=row["version"], name=row["name"],
        currency=row["currency"], time_zone=row["time_zone"], valid_from=row["valid_from"],
        bands=tuple(band_from_json(b) for b in row["bands"] or ()),
        **{name: Decimal(row[name]) for name in PRICES},
        **{name: text_decimal(row[name]) for name in OPTIONAL_PRICES})


def _version_row(tariff: Tariff) -> dict[str, Any]:
    return {"tariff_id": tariff.tariff_id, "version": tariff.version,
            "valid_from": tariff.valid_from, "name": tariff.name, "currency": tariff.currency,
            "time_zone": tariff.time_zone, "bands": [band_json(b) for b in tariff.bands],
            **{name: str(getattr(tariff, name)) for name in PRICES},
            **{name: decimal_text(getattr(tariff, name)) for name in OPTIONAL_PRICES}}


def _assignment_from_row(row: Mapping[str, Any]) -> Assignment:
    return Assignment(row["id"], row["tariff_id"], row["station_id"], row["evse_id"],
                      row["connector_id"], row["valid_from"], row["valid_to"],
                      row["created_at"], row["created_by"])
