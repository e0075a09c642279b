"""Bookings: a driver books an EVSE for a time window; the CSMS holds it for them.

A booking's life in the ``bookings`` table::

    pending  -> reserved   ReserveNow accepted, sent ``booking_lead_time_s`` before the start
             -> failed     the station answered Occupied, Faulted, Rejected or Unavailable (or a
                           CALLERROR), an operator reservation took the EVSE, or the station
                           could not be reached until the window ended (retried meanwhile)
    pending | reserved
             -> used       the account's token started a transaction on the EVSE (with the
                           reservationId, or without it while the booking held the EVSE)
             -> cancelled  by the driver or an operator (CancelReservation if reserved)
             -> expired    the window passed unused (the reservation is cancelled if the
                           station still holds it), no fee due
             -> no_show    the same, and the tariff has a no-show fee: it was charged
    reserved -> failed     the station dropped the reservation before the window ended

Each step is published as ``booking.<status>`` (``booking.created`` for a new one) with the
booking's fields and ``account_id``; ``booking.reminder`` goes out ``booking_reminder_s`` before
the window starts. The notification service turns them into messages.

Time is the core's clock, except in :meth:`BookingService.scan`, which acts as of the moment it
is given (the background loop passes the clock; tests pass the moment they want to look at).

Double bookings: an EVSE holds at most one booking at a time (pending, reserved or used, by
window); an active operator reservation on the EVSE (or on the whole station, if it has one
EVSE) blocks windows before its expiry; an account holds one booking at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj.versions import OcppVersion
from csms.config import CsmsConfig
from csms.domain.authorization import AuthorizationService
from csms.domain.commands import (
    Actor,
    CommandError,
    CommandService,
    CommandTimeout,
    StationOffline,
)
from csms.domain.money import Money
from csms.domain.reservations import (
    ACCEPTED,
    CANCELLED,
    EXPIRED,
    REMOVED,
    USED,
    ReservationConflict,
    ReservationNotActive,
    ReservationRequest,
    ReservationService,
)
from csms.domain.station_search import StationSearch
from csms.domain.timeutil import Clock, ocpp_time, utcnow
from csms.domain.transactions import TransactionService
from csms.events import Event, EventBus
from csms.storage import tables as t
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.bookings")

PENDING, RESERVED, USED_UP, CANCELLED_BY_USER = "pending", "reserved", "used", "cancelled"
EXPIRED_UNUSED, NO_SHOW, FAILED = "expired", "no_show", "failed"
OPEN = frozenset({PENDING, RESERVED})
STATUSES = (PENDING, RESERVED, USED_UP, CANCELLED_BY_USER, EXPIRED_UNUSED, NO_SHOW, FAILED)
# Windows these statuses cover are taken: nobody else may book them.
HOLDING = frozenset({PENDING, RESERVED, USED_UP})
ACTOR = Actor("csms bookings", "system")
# A window may start this much before "now" (the driver's clock, a slow request).
START_TOLERANCE = timedelta(seconds=60)
# A reservation the station ends this close to the window's end ended with the window (the
# station's clock may run a little ahead of ours).
END_TOLERANCE = timedelta(seconds=60)


# -- errors the API maps to HTTP statuses ------------------------------------------------------

class BookingInvalid(ValueError):
    """Bad input (422), naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class BookingUnknown(LookupError):
    """No such booking (of this account), station or EVSE (404)."""


class BookingConflict(Exception):
    """The window is taken, or the booking has already ended (409)."""


# -- the booking -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Booking:
    id: int
    account_id: str
    station_id: str
    evse_id: int
    id_token: str
    starts_at: datetime
    ends_at: datetime
    status: str
    connector_type: str | None = None
    reservation_id: int | None = None
    transaction_id: str | None = None
    detail: str | None = None
    reserve_attempted_at: datetime | None = None
    reminded_at: datetime | None = None
    no_show_fee: Decimal | None = None
    fee_currency: str | None = None
    fee_payment_id: str | None = None
    fee_status: str | None = None
    cancelled_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.status in OPEN

    @classmethod
    def from_row(cls, row: Any) -> Booking:
        values = {f.name: row[f.name] for f in fields(cls)}
        if values["no_show_fee"] is not None:
            values["no_show_fee"] = Decimal(values["no_show_fee"])
        return cls(**values)

    def event_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "account_id": self.account_id, "booking_id": self.id, "station_id": self.station_id,
            "evse_id": self.evse_id, "starts_at": ocpp_time(self.starts_at),
            "ends_at": ocpp_time(self.ends_at), "status": self.status,
            "reservation_id": self.reservation_id, "detail": self.detail}
        if self.transaction_id is not None:
            data["transaction_id"] = self.transaction_id
        if self.no_show_fee is not None:
            data |= {"fee": str(self.no_show_fee), "currency": self.fee_currency,
                     "fee_status": self.fee_status, "payment_id": self.fee_payment_id}
        return data


@dataclass(frozen=True, slots=True)
class BookingRequest:
    account_id: str
    station_id: str
    starts_at: datetime
    ends_at: datetime
    evse_id: int | None = None  # None: any EVSE of the station with connector_type
    connector_type: str | None = None
    id_token: str | None = None  # None: the account's first linked token


# -- no-show fees: tariffs and payments, offered by other services -----------------------------

class NoShowTariffs(Protocol):
    async def tariff_for(self, station_id: str, evse_id: int | None, connector_id: int | None,
                         at: datetime) -> Any: ...  # with .no_show_fee and .currency


class FeePayments(Protocol):
    async def charge_fee(self, account_id: str, amount: Money, reason: str,
                         idempotency_key: str) -> Any: ...  # a PaymentResult


# -- the service -------------------------------------------------------------------------------

class BookingService:
    def __init__(self, db: Database, events: EventBus, config: CsmsConfig,
                 auth: AuthorizationService, commands: CommandService,
                 reservations: ReservationService, transactions: TransactionService,
                 search: StationSearch, clock: Clock = utcnow) -> None:
        self.db = db
        self.events = events
        self.config = config
        self.auth = auth
        self.commands = commands
        self.reservations = reservations
        self.transactions = transactions
        self.search = search
        self.clock = clock
        # Set by the core once tariffs and payments exist; without them no fee is charged.
        self.tariffs: NoShowTariffs | None = None
        self.payments: FeePayments | None = None
        self._open: dict[int, Booking] = {}  # pending and reserved, for the scheduler
        self._open_at: dict[str, dict[int, Booking]] = {}  # the same by station
        self._by_reservation: dict[int, int] = {}  # reservationId -> booking id
        # Checks and the insert of a new booking run under these (account first, then station).
        self._account_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._station_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._scan_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        events.listen(self._on_event)
        search.add_hold_source(self.held_evses)

    @property
    def lead_time(self) -> timedelta:
        return timedelta(seconds=self.config.booking_lead_time_s)

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(t.bookings).where(
                t.bookings.c.status.in_(OPEN)))).mappings())

        for row in await self.db.read(read):
            self._remember(Booking.from_row(row))
        self._wake.set()

    # -- queries ---------------------------------------------------------------------------------

    async def get(self, booking_id: int, account_id: str | None = None) -> Booking | None:
        """The booking; with ``account_id``, only if it is that account's."""
        c = t.bookings.c
        query = select(t.bookings).where(c.id == booking_id)
        if account_id is not None:
            query = query.where(c.account_id == account_id)

        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(query)).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Booking.from_row(row)

    async def list(self, *, account_id: str | None = None, station_id: str | None = None,
                   status: str | None = None, active: bool | None = None,
                   limit: int = 500) -> list[Booking]:
        """Bookings, latest window first."""
        c = t.bookings.c
        query = select(t.bookings).order_by(c.starts_at.desc(), c.id.desc()).limit(limit)
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        if station_id is not None:
            query = query.where(c.station_id == station_id)
        if status is not None:
            query = query.where(c.status == status)
        if active is not None:
            query = query.where(c.status.in_(OPEN) if active else c.status.not_in(OPEN))

        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(query)).mappings())

        return [Booking.from_row(row) for row in await self.db.read(read)]

    def held_evses(self, station_id: str, now: datetime) -> set[int]:
        """EVSEs of the station a booking holds at ``now``: reserved on the station, or due to
        be (within the lead time before its window). No I/O."""
        return {b.evse_id for b in self._open_at.get(station_id, {}).values()
                if b.status == RESERVED or b.starts_at - self.lead_time <= now < b.ends_at}

    # -- the driver's requests -----------------------------------------------------------------

    async def create(self, request: BookingRequest) -> Booking:
        """Book an EVSE. Raises :class:`BookingInvalid` (bad window or token),
        :class:`BookingUnknown` (station, EVSE or connector type) and :class:`BookingConflict`
        (the window is taken, or the account has no token)."""
        now = self.clock()
        self._check_window(request, now)
        if self.search.stations.get(request.station_id) is None:
            raise BookingUnknown(f"unknown station {request.station_id!r}")
        candidates = self._candidate_evses(request)
        token = self._token_for(request)
        async with (self._account_locks[request.account_id],
                    self._station_locks[request.station_id]):
            await self._check_account_free(request)
            reasons = [await self._evse_taken(request, evse) for evse in candidates]
            free = [evse for evse, reason in zip(candidates, reasons, strict=True)
                    if reason is None]
            if not free:
                raise BookingConflict(reasons[0] if len(reasons) == 1 else
                                      f"every matching EVSE of {request.station_id} is taken "
                                      f"in that window ({'; '.join(r or '' for r in reasons)})")
            values = {"account_id": request.account_id, "station_id": request.station_id,
                      "evse_id": free[0], "connector_type": request.connector_type,
                      "id_token": token, "starts_at": request.starts_at,
                      "ends_at": request.ends_at, "status": PENDING, "created_at": now,
                      "updated_at": now}
            # Created within the reminder period: creating it was reminder enough.
            if request.starts_at - timedelta(seconds=self.config.booking_reminder_s) <= now:
                values["reminded_at"] = now

            async def write(conn: AsyncConnection) -> Any:
                booking_id = (await conn.execute(insert(t.bookings).values(**values)
                                                 .returning(t.bookings.c.id))).scalar_one()
                return (await conn.execute(select(t.bookings).where(
                    t.bookings.c.id == booking_id))).mappings().first()

            booking = Booking.from_row(await self.db.write(write))
            self._remember(booking)
        self._publish("booking.created", booking)
        self._wake.set()  # the scheduler may have to reserve it at once
        return booking

    async def cancel(self, booking_id: int, *, account_id: str | None, by: str) -> Booking:
        """Cancel a pending or reserved booking (``account_id``: only that account's), then
        free the EVSE on the station (CancelReservation) if it was reserved there."""
        booking = await self.get(booking_id, account_id)
        if booking is None:
            raise BookingUnknown(f"no booking {booking_id}")
        ended = await self._set(booking.id, CANCELLED_BY_USER, only_from=OPEN,
                                now=self.clock(), cancelled_by=by[:100])
        if ended is None:
            current = await self.get(booking_id) or booking
            raise BookingConflict(f"booking {booking_id} is {current.status}")
        freed = await self._free_on_station(ended)
        return freed or ended

    # -- the scheduler ---------------------------------------------------------------------------

    async def scan(self, now: datetime | None = None) -> None:
        """Everything due at ``now``: reserve windows within the lead time, remind drivers,
        end windows that passed."""
        now = now or self.clock()
        async with self._scan_lock:
            for booking in sorted(self._open.values(), key=lambda b: (b.starts_at, b.id)):
                try:
                    await self._due(booking, now)
                except Exception:
                    log.exception("booking %s: scheduling step failed", booking.id)

    async def run(self) -> None:
        """Scan whenever something falls due (and at least every ``booking_retry_s``), and
        handle the events that concern bookings; runs until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._consume(), name="csms-bookings-events")
            group.create_task(self._schedule(), name="csms-bookings-scheduler")

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every event published so far has been handled (for tests and tools)."""
        async with asyncio.timeout(timeout):
            await self._queue.join()

    async def _schedule(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.scan(self.clock())
            except Exception:
                log.exception("booking scan failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_delay(self.clock()))

    def _next_delay(self, now: datetime) -> float:
        """Seconds until the next booking falls due, at most ``booking_retry_s``."""
        delay = self.config.booking_retry_s
        reminder = timedelta(seconds=self.config.booking_reminder_s)
        for b in self._open.values():
            moments = [b.ends_at]
            if b.status == PENDING:
                moments.append(b.starts_at - self.lead_time)
            if b.reminded_at is None:
                moments.append(b.starts_at - reminder)
            for moment in moments:
                if moment > now:
                    delay = min(delay, (moment - now).total_seconds())
        return max(0.0, delay)

    async def _due(self, booking: Booking, now: datetime) -> None:
        if booking.ends_at <= now:
            await self._end_window(booking, now)
            return
        if booking.status == PENDING and now >= booking.starts_at - self.lead_time:
            retry = timedelta(seconds=self.config.booking_retry_s)
            attempted = booking.reserve_attempted_at
            if attempted is None or now - attempted >= retry:
                booking = await self._reserve(booking, now) or booking
        reminder_at = booking.starts_at - timedelta(seconds=self.config.booking_reminder_s)
        if booking.open and booking.reminded_at is None and reminder_at <= now < booking.starts_at:
            reminded = await self._update(booking.id, only_from=OPEN, reminded_at=now)
            if reminded is not None:
                self._publish("booking.reminder", reminded)

    async def _reserve(self, booking: Booking, now: datetime) -> Booking | None:
        """Send ReserveNow for the booking's window. A station that cannot be reached is tried
        again later; any other refusal fails the booking."""
        attempted = await self._update(booking.id, only_from={PENDING},
                                       reserve_attempted_at=now)
        if attempted is None:
            return None
        token = self.auth.get(booking.id_token)
        try:
            version = self.commands.version_of(booking.station_id)
            connector_type = booking.connector_type if version is not OcppVersion.V16 else None
            reservation, answer = await self.reservations.reserve(ReservationRequest(
                booking.station_id, booking.id_token, booking.ends_at, booking.evse_id,
                token.type if token else None, None, connector_type), ACTOR)
        except (StationOffline, CommandTimeout) as error:
            return await self._update(booking.id, only_from={PENDING},
                                      detail=f"{error}; trying again"[:255])
        except (ReservationConflict, CommandError, ValueError) as error:
            return await self._set(booking.id, FAILED, only_from={PENDING}, now=now,
                                   detail=f"could not reserve: {error}"[:255])
        status = answer.get("status")
        if status == ACCEPTED:
            self._by_reservation[reservation.id] = booking.id
            reserved = await self._set(booking.id, RESERVED, only_from={PENDING}, now=now,
                                       reservation_id=reservation.id, detail=None)
            if reserved is None:  # cancelled while ReserveNow was on its way: give it back
                await self._free_on_station(replace(booking, reservation_id=reservation.id))
            return reserved
        reason = (answer.get("statusInfo") or {}).get("reasonCode")
        detail = f"the station answered ReserveNow {status}" + (f" ({reason})" if reason else "")
        return await self._set(booking.id, FAILED, only_from={PENDING}, now=now,
                               reservation_id=reservation.id, detail=detail[:255])

    async def _end_window(self, booking: Booking, now: datetime) -> None:
        if booking.status == PENDING:  # never reserved: the station was not reachable
            await self._set(booking.id, FAILED, only_from={PENDING}, now=now,
                            detail=(f"never reserved: {booking.detail}" if booking.detail
                                    else "never reserved")[:255])
            return
        transaction_id = await self._used_by_account(booking)
        if transaction_id is not None:  # a start we did not hear of (e.g. during a restart)
            await self._set(booking.id, USED_UP, only_from=OPEN, now=now,
                            transaction_id=transaction_id)
            return
        fee = await self._no_show_fee(booking)
        if fee is None:
            ended = await self._set(booking.id, EXPIRED_UNUSED, only_from=OPEN, now=now)
        else:
            ended = await self._set(booking.id, NO_SHOW, only_from=OPEN, now=now,
                                    no_show_fee=str(fee.amount), fee_currency=fee.currency,
                                    publish=False)
            if ended is not None:
                ended = await self._charge(ended, fee)
                self._publish("booking.no_show", ended)
        if ended is not None:
            await self._free_on_station(ended)

    # -- no-show fee -----------------------------------------------------------------------------

    async def _no_show_fee(self, booking: Booking) -> Money | None:
        if self.tariffs is None or self.payments is None:
            return None
        connector_id = next((c.connector_id for c in self.search.matching_connectors(
            booking.station_id, booking.connector_type) if c.evse_id == booking.evse_id), None)
        try:
            tariff = await self.tariffs.tariff_for(booking.station_id, booking.evse_id,
                                                   connector_id, booking.starts_at)
        except Exception:
            log.exception("booking %s: no tariff for the no-show fee", booking.id)
            return None
        amount = getattr(tariff, "no_show_fee", None)
        if amount is None or Decimal(amount) <= 0:
            return None
        return Money(Decimal(amount), tariff.currency).rounded()

    async def _charge(self, booking: Booking, fee: Money) -> Booking:
        assert self.payments is not None
        try:
            result = await self.payments.charge_fee(
                booking.account_id, fee, f"no-show fee for booking {booking.id}",
                f"booking-{booking.id}-no-show")
            payment_id = getattr(result, "payment_id", None)
            outcome = str(getattr(result, "status", "charged"))
            reason = getattr(result, "reason", None)
        except Exception as error:  # the fee is recorded; charging it can be retried by hand
            log.exception("booking %s: charging the no-show fee failed", booking.id)
            payment_id, outcome, reason = None, "error", str(error)
        changes: dict[str, Any] = {"fee_payment_id": None if payment_id is None
                                   else str(payment_id)[:64], "fee_status": outcome[:32]}
        if reason:
            changes["detail"] = f"no-show fee {outcome}: {reason}"[:255]
        return await self._update(booking.id, only_from={NO_SHOW}, **changes) or booking

    # -- events: reservations ending, transactions starting ------------------------------------

    def _on_event(self, event: Event) -> None:
        """Synchronous listener: queue only what concerns an open booking."""
        data = event.data
        if event.kind == "reservation.updated":
            if data.get("reservation_id") in self._by_reservation:
                self._queue.put_nowait(event)
        elif event.kind == "transaction.started":
            evse_id = data.get("evse_id")
            if any(b.evse_id == evse_id
                   for b in self._open_at.get(data.get("station_id"), {}).values()):
                self._queue.put_nowait(event)

    async def _consume(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                if event.kind == "reservation.updated":
                    await self._on_reservation(event.data)
                else:
                    await self._on_transaction_started(event.data)
            except Exception:
                log.exception("booking update failed on %s %s", event.kind, event.data)
            finally:
                self._queue.task_done()

    async def _on_reservation(self, data: dict[str, Any]) -> None:
        booking_id = self._by_reservation.get(data["reservation_id"])
        booking = self._open.get(booking_id) if booking_id is not None else None
        if booking is None:
            return
        status = data.get("status")
        now = self.clock()
        if status == USED:
            await self._set(booking.id, USED_UP, only_from=OPEN, now=now,
                            transaction_id=data.get("transaction_id"))
        elif status in (EXPIRED, REMOVED, CANCELLED) and now >= booking.ends_at - END_TOLERANCE:
            async with self._scan_lock:  # the window is over: end it as the scheduler would
                current = self._open.get(booking.id)
                if current is not None:
                    await self._end_window(current, now)
        elif status in (EXPIRED, REMOVED, CANCELLED):
            # Not our doing (we end the booking before we cancel): the station or an operator
            # dropped the reservation while the window was still ahead.
            await self._set(booking.id, FAILED, only_from={RESERVED}, now=now,
                            detail=f"the reservation on the station ended ({status})")

    async def _on_transaction_started(self, data: dict[str, Any]) -> None:
        now = self.clock()
        candidates = [b for b in self._open_at.get(data["station_id"], {}).values()
                      if b.evse_id == data["evse_id"]
                      and (b.status == RESERVED or b.starts_at - self.lead_time <= now)]
        if not candidates:
            return
        transaction = await self.transactions.get(data["station_id"], data["transaction_id"])
        token = self.auth.get((transaction or {}).get("id_token") or "")
        for booking in candidates:
            if token is not None and token.account_id == booking.account_id:
                await self._set(booking.id, USED_UP, only_from=OPEN, now=now,
                                transaction_id=data["transaction_id"])

    async def _used_by_account(self, booking: Booking) -> str | None:
        """A transaction of the booking's account on its EVSE during the held window."""
        tokens = [r.token for r in self.auth.all() if r.account_id == booking.account_id]
        c = t.transactions.c
        query = select(c.ocpp_transaction_id).where(and_(
            c.station_id == booking.station_id, c.evse_id == booking.evse_id,
            c.id_token.in_(tokens or [booking.id_token]),
            c.started_at >= booking.starts_at - self.lead_time,
            c.started_at < booking.ends_at)).order_by(c.started_at).limit(1)

        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(query)).scalar()

        return await self.db.read(read)

    # -- checks ----------------------------------------------------------------------------------

    def _check_window(self, request: BookingRequest, now: datetime) -> None:
        if request.ends_at <= request.starts_at:
            raise BookingInvalid("ends_at", "must be after starts_at")
        if request.starts_at < now - START_TOLERANCE:
            raise BookingInvalid("starts_at", "is in the past")
        longest = timedelta(seconds=self.config.booking_max_duration_s)
        if request.ends_at - request.starts_at > longest:
            raise BookingInvalid("ends_at", f"a booking lasts at most "
                                            f"{longest.total_seconds() / 60:g} minutes")
        horizon = timedelta(seconds=self.config.booking_horizon_s)
        if request.starts_at > now + horizon:
            raise BookingInvalid("starts_at", f"bookings start at most "
                                              f"{horizon.total_seconds() / 86400:g} days ahead")

    def _candidate_evses(self, request: BookingRequest) -> list[int]:
        connectors = self.search.matching_connectors(request.station_id)
        station = request.station_id
        if request.evse_id is not None:
            mine = [c for c in connectors if c.evse_id == request.evse_id]
            if not mine:
                raise BookingUnknown(f"station {station!r} has no EVSE {request.evse_id}")
            if request.connector_type is not None and not any(
                    c.connector_type == request.connector_type for c in mine):
                raise BookingInvalid("connector_type", f"EVSE {request.evse_id} of {station} "
                                                       f"has no {request.connector_type} "
                                                       f"connector")
            return [request.evse_id]
        evses = sorted({c.evse_id for c in connectors if request.connector_type is None
                        or c.connector_type == request.connector_type})
        if not evses:
            what = f"{request.connector_type} connector" if request.connector_type \
                else "EVSE known to the CSMS"
            raise BookingUnknown(f"station {station!r} has no {what}")
        return evses

    def _token_for(self, request: BookingRequest) -> str:
        tokens = sorted(r.token for r in self.auth.all()
                        if r.account_id == request.account_id and r.status == "Accepted")
        if request.id_token is not None:
            if request.id_token not in tokens:
                raise BookingInvalid("id_token", "is not an accepted id token of this account")
            return request.id_token
        if not tokens:
            raise BookingConflict(f"account {request.account_id} has no accepted id token to "
                                  f"reserve with; link one to the account first")
        return tokens[0]

    async def _check_account_free(self, request: BookingRequest) -> None:
        c = t.bookings.c
        other = await self._first_overlap(request, c.account_id == request.account_id)
        if other is not None:
            raise BookingConflict(f"account {request.account_id} already has booking "
                                  f"{other.id} ({other.status}) from {ocpp_time(other.starts_at)}"
                                  f" to {ocpp_time(other.ends_at)}")

    async def _evse_taken(self, request: BookingRequest, evse_id: int) -> str | None:
        """Why ``evse_id`` cannot be booked for the request's window, or None."""
        c = t.bookings.c
        station = request.station_id
        other = await self._first_overlap(request, and_(c.station_id == station,
                                                         c.evse_id == evse_id))
        if other is not None:
            return (f"EVSE {evse_id} of {station} is booked from {ocpp_time(other.starts_at)} "
                    f"to {ocpp_time(other.ends_at)}")
        single_evse = len({m.evse_id for m in self.search.matching_connectors(station)}) == 1
        mine = {b.reservation_id for b in self._open.values() if b.reservation_id is not None}
        for reservation in self.reservations.active_at(station):
            if reservation.id in mine or reservation.expiry <= request.starts_at:
                continue
            if reservation.evse_id == evse_id or (reservation.evse_id is None and single_evse):
                return (f"EVSE {evse_id} of {station} is reserved (reservation "
                        f"{reservation.id}) until {ocpp_time(reservation.expiry)}")
        return None

    async def _first_overlap(self, request: BookingRequest, where: Any) -> Booking | None:
        c = t.bookings.c
        query = select(t.bookings).where(and_(
            where, c.status.in_(HOLDING), c.starts_at < request.ends_at,
            c.ends_at > request.starts_at)).order_by(c.starts_at).limit(1)

        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(query)).mappings().first()

        row = await self.db.read(read)
        return None if row is None else Booking.from_row(row)

    # -- internals -----------------------------------------------------------------------------

    async def _free_on_station(self, booking: Booking) -> Booking | None:
        """Cancel the booking's reservation if the station still holds it; what went wrong
        is noted on the booking (the reservation also ends by itself at the window's end)."""
        reservation_id = booking.reservation_id
        if reservation_id is None or not any(
                r.id == reservation_id for r in self.reservations.active_at(booking.station_id)):
            return None
        try:
            _, answer = await self.reservations.cancel(reservation_id, ACTOR) or (None, {})
        except ReservationNotActive:
            return None
        except CommandError as error:
            detail = f"CancelReservation failed: {error}"
        else:
            if answer.get("status") == "Accepted":
                return None
            detail = f"the station answered CancelReservation {answer.get('status')}"
        return await self._update(booking.id, only_from=frozenset(STATUSES),
                                  detail=detail[:255])

    async def _set(self, booking_id: int, status: str, *, only_from: frozenset[str] | set[str],
                   now: datetime, publish: bool = True, **values: Any) -> Booking | None:
        """Move a booking to ``status`` if it is in ``only_from`` (atomically) and publish
        ``booking.<status>``."""
        if status not in OPEN:
            values["ended_at"] = now
        booking = await self._update(booking_id, only_from=only_from, status=status, **values)
        if booking is not None and publish:
            self._publish(f"booking.{status}", booking)
        return booking

    async def _update(self, booking_id: int, *, only_from: frozenset[str] | set[str],
                      **values: Any) -> Booking | None:
        c = t.bookings.c
        values["updated_at"] = self.clock()
        condition = and_(c.id == booking_id, c.status.in_(only_from))

        async def write(conn: AsyncConnection) -> Any:
            result = await conn.execute(update(t.bookings).where(condition).values(**values))
            if result.rowcount == 0:
                return None
            return (await conn.execute(select(t.bookings).where(
                c.id == booking_id))).mappings().first()

        row = await self.db.write(write)
        if row is None:
            return None
        booking = Booking.from_row(row)
        self._remember(booking)
        return booking

    def _remember(self, booking: Booking) -> None:
        if booking.open:
            self._open[booking.id] = booking
            self._open_at.setdefault(booking.station_id, {})[booking.id] = booking
            if booking.reservation_id is not None:
                self._by_reservation[booking.reservation_id] = booking.id
        else:
            self._open.pop(booking.id, None)
            at_station = self._open_at.get(booking.station_id, {})
            at_station.pop(booking.id, None)
            if not at_station:
                self._open_at.pop(booking.station_id, None)
            self._by_reservation.pop(booking.reservation_id or -1, None)

    def _publish(self, kind: str, booking: Booking) -> None:
        self.events.publish(kind, **booking.event_data())
