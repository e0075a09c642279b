"""Reservations (1.6 Reservation, 2.0.1 block H).

A reservation's life in the ``reservations`` table::

    Requested -> Accepted | Rejected | Faulted | Occupied | Unavailable   (the ReserveNow answer)
    Requested -> Failed          (no answer: offline, timeout, CALLERROR)
    Accepted  -> Used            (a transaction started with its reservationId)
              -> Expired         (its expiry passed: the CSMS marks it itself, or the station
                                  said so with ReservationStatusUpdate)
              -> Cancelled       (CancelReservation answered Accepted)
              -> Removed         (the station dropped it: 2.0.1 ReservationStatusUpdate Removed,
                                  or a 1.6 reserved connector reported Available before expiry)

Ids are the OCPP reservationIds, unique across the CSMS. The ReserveNow answer is recorded by a
command-answer listener, so a reservation sent through the raw command endpoint is tracked too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.authorization import AuthorizationService
from csms.domain.commands import Actor, CommandError, CommandInvalid, CommandService
from csms.domain.payload_check import check_payload
from csms.domain.timeutil import Clock, ocpp_time, parse_timestamp, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.reservations")

REQUESTED, ACCEPTED, FAILED = "Requested", "Accepted", "Failed"
USED, EXPIRED, CANCELLED, REMOVED = "Used", "Expired", "Cancelled", "Removed"
ACTIVE = frozenset({REQUESTED, ACCEPTED})
FINAL = frozenset({USED, EXPIRED, CANCELLED, REMOVED})


class ReservationConflict(Exception):
    """The EVSE already has an active reservation, or the id is taken."""


class ReservationNotActive(Exception):
    def __init__(self, reservation: Reservation) -> None:
        super().__init__(f"reservation {reservation.id} is {reservation.status}")
        self.reservation = reservation


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    station_id: str
    evse_id: int | None  # None: any EVSE of the station (1.6 connectorId 0)
    id_token: str
    expiry: datetime
    status: str
    token_type: str | None = None
    group_id: str | None = None
    connector_type: str | None = None
    transaction_id: str | None = None
    detail: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @classmethod
    def from_row(cls, row: Any) -> Reservation:
        return cls(row["id"], row["station_id"], row["evse_id"], row["id_token"], row["expiry"],
                   row["status"], row["token_type"], row["group_id"], row["connector_type"],
                   row["transaction_id"], row["detail"], row["created_at"], row["updated_at"],
                   row["ended_at"])


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    station_id: str
    id_token: str
    expiry: datetime
    evse_id: int | None = None
    token_type: str | None = None
    group_id: str | None = None
    connector_type: str | None = None
    reservation_id: int | None = None


# -- wire format ---------------------------------------------------------------------------------

def reserve_now_payload(version: OcppVersion, r: Reservation) -> dict[str, Any]:
    if version is OcppVersion.V16:
        payload: dict[str, Any] = {"connectorId": r.evse_id or 0,
                                   "expiryDate": ocpp_time(r.expiry), "idTag": r.id_token,
                                   "reservationId": r.id}
        if r.group_id:
            payload["parentIdTag"] = r.group_id
        return payload
    payload = {"id": r.id, "expiryDateTime": ocpp_time(r.expiry),
               "idToken": {"idToken": r.id_token, "type": r.token_type or "ISO14443"}}
    if r.evse_id:
        payload["evseId"] = r.evse_id
    if r.connector_type:
        payload["connectorType"] = r.connector_type
    if r.group_id:
        payload["groupIdToken"] = {"idToken": r.group_id, "type": "Central"}
    return payload


def decode_reserve_now(station_id: str, p: dict[str, Any], now: datetime) -> Reservation:
    if "reservationId" in p:  # 1.6
        return Reservation(p["reservationId"], station_id, p["connectorId"] or None, p["idTag"],
                           parse_timestamp(p["expiryDate"], now) or now, REQUESTED,
                           group_id=p.get("parentIdTag"))
    token = p["idToken"]
    return Reservation(p["id"], station_id, p.get("evseId") or None, token["idToken"],
                       parse_timestamp(p["expiryDateTime"], now) or now, REQUESTED,
                       token_type=token.get("type"),
                       group_id=(p.get("groupIdToken") or {}).get("idToken"),
                       connector_type=p.get("connectorType"))


# -- the service ---------------------------------------------------------------------------------

class ReservationService:
    def __init__(self, db: Database, auth: AuthorizationService, commands: CommandService,
                 events: EventBus, clock: Clock = utcnow) -> None:
        self.db = db
        self.auth = auth
        self.commands = commands
        self.events = events
        self.clock = clock
        self._active: dict[int, Reservation] = {}  # Requested / Accepted, for expiry and checks
        self._next_id = 1
        self._wake = asyncio.Event()
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        commands.on_answer("ReserveNow", self._on_reserve_now)
        commands.on_answer("CancelReservation", self._on_cancel_reservation)

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> tuple[list[Any], int | None]:
            rows = list((await conn.execute(select(t.reservations).where(
                t.reservations.c.status.in_(ACTIVE)))).mappings())
            top = (await conn.execute(select(func.max(t.reservations.c.id)))).scalar()
            return rows, top

        rows, top = await self.db.read(read)
        self._active = {row["id"]: Reservation.from_row(row) for row in rows}
        self._next_id = (top or 0) + 1
        self._wake.set()

    # -- queries ---------------------------------------------------------------------------------

    async def get(self, reservation_id: int) -> Reservation | None:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.reservations).where(
                t.reservations.c.id == reservation_id))).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Reservation.from_row(row)

    async def list(self, *, station_id: str | None = None, status: str | None = None,
                   active: bool | None = None, limit: int = 500) -> list[Reservation]:
        c = t.reservations.c
        query = select(t.reservations).order_by(c.id.desc()).limit(limit)
        if station_id is not None:
            query = query.where(c.station_id == station_id)
        if status is not None:
            query = query.where(c.status == status)
        if active is not None:
            query = query.where(c.status.in_(ACTIVE) if active else c.status.not_in(ACTIVE))

        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(query)).mappings())

        return [Reservation.from_row(row) for row in await self.db.read(read)]

    def active_at(self, station_id: str) -> list[Reservation]:
        return sorted((r for r in self._active.values() if r.station_id == station_id),
                      key=lambda r: r.id)

    # -- commands --------------------------------------------------------------------------------

    async def reserve(self, request: ReservationRequest, actor: Actor
                      ) -> tuple[Reservation, dict[str, Any]]:
        """Record the reservation as Requested, send ReserveNow, and return the reservation as
        the answer left it, with the answer. Raises :class:`ReservationConflict`,
        ``ValueError`` (bad input) and the command errors (then it is marked Failed)."""
        version = self.commands.version_of(request.station_id)
        now = self.clock()
        if request.expiry <= now:
            raise ValueError("expiry must be in the future")
        if version is OcppVersion.V16 and request.connector_type:
            raise CommandInvalid("connectorType is not part of OCPP 1.6 ReserveNow",
                                 "connector_type")
        token = self.auth.get(request.id_token)
        group_id = request.group_id or (token.group_id if token else None)
        token_type = request.token_type or (token.type if token else None) or "ISO14443"
        async with self._locks[request.station_id]:
            evse = request.evse_id or None
            for other in self.active_at(request.station_id):
                if evse is not None and other.evse_id == evse and other.expiry > now:
                    raise ReservationConflict(
                        f"EVSE {evse} of {request.station_id} already has reservation "
                        f"{other.id} ({other.status}) until {ocpp_time(other.expiry)}")
            reservation_id = request.reservation_id
            if reservation_id is None:
                reservation_id = self._next_id
            elif await self.get(reservation_id) is not None:
                raise ReservationConflict(f"reservation id {reservation_id} is taken")
            reservation = Reservation(reservation_id, request.station_id, evse,
                                      request.id_token, request.expiry, REQUESTED, token_type,
                                      group_id, request.connector_type, created_at=now,
                                      updated_at=now)
            payload = reserve_now_payload(version, reservation)
            check_payload(version, "ReserveNow", payload)

            async def write(conn: AsyncConnection) -> None:
                await conn.execute(insert(t.reservations).values(_row(reservation)))

            await self.db.write(write)
            self._remember(reservation)
        try:
            answer = await self.commands.call(request.station_id, "ReserveNow", payload, actor)
        except CommandError as error:
            await self._set(reservation.id, FAILED, only_from=ACTIVE, detail=str(error)[:255])
            raise
        return (await self.get(reservation.id)) or reservation, answer

    async def cancel(self, reservation_id: int, actor: Actor
                     ) -> tuple[Reservation, dict[str, Any]] | None:
        """Send CancelReservation; None if the reservation is unknown. Raises
        :class:`ReservationNotActive` for one that has ended."""
        reservation = await self.get(reservation_id)
        if reservation is None:
            return None
        if not reservation.active:
            raise ReservationNotActive(reservation)
        answer = await self.commands.call(reservation.station_id, "CancelReservation",
                                          {"reservationId": reservation_id}, actor)
        return (await self.get(reservation_id)) or reservation, answer

    # -- what stations say -------------------------------------------------------------------

    async def on_status_update(self, station_id: str, reservation_id: int,
                               update_status: str) -> None:
        """2.0.1 ReservationStatusUpdate: Expired or Removed."""
        status = EXPIRED if update_status == "Expired" else REMOVED
        await self._set(reservation_id, status, station_id=station_id,
                        only_from=ACTIVE | {FAILED}, detail=f"station: {update_status}")

    async def on_transaction(self, station_id: str, reservation_id: int | None,
                             transaction_id: str | None) -> None:
        """A transaction started carrying ``reservation_id``: the reservation is used (even if
        the CSMS had just marked it expired: the station honoured it)."""
        if reservation_id is None:
            return
        await self._set(reservation_id, USED, station_id=station_id,
                        only_from=ACTIVE | {EXPIRED, FAILED}, transaction_id=transaction_id)

    async def on_connector_status_16(self, station_id: str, evse_id: int, status: str,
                                     timestamp: datetime, late: bool) -> None:
        """1.6 has no ReservationStatusUpdate: a reserved connector that reports Available
        (after the reservation was accepted) no longer holds the reservation."""
        if late or status != "Available" or evse_id == 0:
            return
        for reservation in self.active_at(station_id):
            if reservation.evse_id != evse_id or reservation.status != ACCEPTED:
                continue
            if reservation.updated_at is not None and timestamp <= reservation.updated_at:
                continue  # a report older than the acceptance
            ended = EXPIRED if timestamp >= reservation.expiry else REMOVED
            await self._set(reservation.id, ended, only_from=ACTIVE,
                            detail="station: connector Available")

    # -- background: expiry ------------------------------------------------------------------

    async def run_expiry(self) -> None:
        """Mark reservations Expired at their expiry time, whatever the station says."""
        while True:
            try:
                now = self.clock()
                for reservation in [r for r in self._active.values() if r.expiry <= now]:
                    await self._set(reservation.id, EXPIRED, only_from=ACTIVE,
                                    detail="expiry time passed")
                self._wake.clear()
                upcoming = min((r.expiry for r in self._active.values()), default=None)
                delay = None if upcoming is None else max(
                    0.0, (upcoming - self.clock()).total_seconds())
            except Exception:
                log.warning("reservation expiry pass failed", exc_info=True)
                self._wake.clear()
                delay = 5.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    # -- answer listeners --------------------------------------------------------------------

    async def _on_reserve_now(self, station_id: str, _: OcppVersion, request: dict[str, Any],
                              answer: dict[str, Any]) -> None:
        now = self.clock()
        sent = decode_reserve_now(station_id, request, now)
        status = answer.get("status", "Rejected")
        info = answer.get("statusInfo") or {}
        detail = info.get("reasonCode")

        async def write(conn: AsyncConnection) -> Reservation:
            row = (await conn.execute(select(t.reservations).where(
                t.reservations.c.id == sent.id))).mappings().first()
            if row is None:  # sent through the raw command endpoint
                token = self.auth.get(sent.id_token)
                reservation = replace(sent, status=status, detail=detail, created_at=now,
                                      updated_at=now, token_type=sent.token_type or (
                                          token.type if token else None))
                await conn.execute(insert(t.reservations).values(_row(reservation)))
                return reservation
            changes: dict[str, Any] = {"status": status, "updated_at": now, "detail": detail,
                                       "expiry": sent.expiry}
            if row["status"] not in ACTIVE:
                changes = {"updated_at": now}  # already ended (e.g. a quick Used)
            await conn.execute(update(t.reservations).where(t.reservations.c.id == sent.id)
                               .values(**changes))
            return Reservation.from_row({**row, **changes})

        reservation = await self.db.write(write)
        self._remember(reservation)
        self._publish(reservation)

    async def _on_cancel_reservation(self, station_id: str, _: OcppVersion,
                                     request: dict[str, Any], answer: dict[str, Any]) -> None:
        if answer.get("status") == "Accepted":
            await self._set(request["reservationId"], CANCELLED, station_id=station_id,
                            only_from=ACTIVE | {FAILED}, detail="cancelled")

    # -- internals -----------------------------------------------------------------------------

    async def _set(self, reservation_id: int, status: str, *, only_from: frozenset[str],
                   station_id: str | None = None, detail: str | None = None,
                   transaction_id: str | None = None) -> Reservation | None:
        """Move a reservation to ``status`` if it is in one of ``only_from`` (atomically)."""
        now = self.clock()
        c = t.reservations.c
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if detail is not None:
            values["detail"] = detail
        if transaction_id is not None:
            values["transaction_id"] = transaction_id
        if status in FINAL:
            values["ended_at"] = now
        condition = and_(c.id == reservation_id, c.status.in_(only_from))
        if station_id is not None:
            condition = and_(condition, c.station_id == station_id)

        async def write(conn: AsyncConnection) -> Any:
            result = await conn.execute(update(t.reservations).where(condition).values(**values))
            if result.rowcount == 0:
                return None
            return (await conn.execute(select(t.reservations).where(
                c.id == reservation_id))).mappings().first()

        row = await self.db.write(write)
        if row is None:
            return None
        reservation = Reservation.from_row(row)
        self._remember(reservation)
        self._publish(reservation)
        return reservation

    def _remember(self, reservation: Reservation) -> None:
        self._next_id = max(self._next_id, reservation.id + 1)
        if reservation.active:
            self._active[reservation.id] = reservation
        else:
            self._active.pop(reservation.id, None)
        self._wake.set()

    def _publish(self, reservation: Reservation) -> None:
        self.events.publish("reservation.updated", station_id=reservation.station_id,
                            reservation_id=reservation.id, evse_id=reservation.evse_id,
                            status=reservation.status, transaction_id=reservation.transaction_id)


def _row(r: Reservation) -> dict[str, Any]:
    return {"id": r.id, "station_id": r.station_id, "evse_id": r.evse_id,
            "connector_type": r.connector_type, "id_token": r.id_token,
            "token_type": r.token_type, "group_id": r.group_id, "expiry": r.expiry,
            "status": r.status, "detail": r.detail, "transaction_id": r.transaction_id,
            "created_at": r.created_at, "updated_at": r.updated_at, "ended_at": r.ended_at}

