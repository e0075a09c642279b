"""A driver's charging session as it goes: started, suspended (by the EV or the station),
resumed, energy and cost at the interval the driver chose, idle fee started, a fault at the
station affecting it, completed with energy and cost.

Transaction events arrive on every meter value, so what happens per event is a dict lookup and
a comparison, no I/O: each active session is tracked in memory (loaded at start, then from the
events) with the account its id token belongs to. Whatever needs I/O (the cost, the tariff's
idle fee, the final row) is done afterwards, by the service's worker, as a deferred job; energy
and cost updates fall due on the service's tick, never per meter value.

Charging states are OCPP 2.0.1's ``chargingState`` (TransactionEvent); a 1.6 station says the
same with its connector statuses Charging, SuspendedEV and SuspendedEVSE.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock, ocpp_time, utcnow
from csms.events import Event
from csms.notifications.model import Outgoing
from csms.notifications.peers import Peers
from csms.notifications.preferences import PreferenceStore
from csms.storage import tables as t
from csms.storage.database import Database

CHARGING, SUSPENDED_EV, SUSPENDED_EVSE = "Charging", "SuspendedEV", "SuspendedEVSE"
SUSPENDED_BY = {SUSPENDED_EV: "ev", SUSPENDED_EVSE: "station"}
_STATE_OF_16_STATUS = {"Charging": CHARGING, "SuspendedEV": SUSPENDED_EV,
                       "SuspendedEVSE": SUSPENDED_EVSE}
# Alerts a driver in the session hears about: the EVSE (or station) faulted, the session stuck.
_SESSION_ALERT_KINDS = frozenset({"faulted", "stuck_session"})

Deferred = Callable[[], Awaitable[list[Outgoing]]]
Work = Outgoing | Deferred
Key = tuple[str, str]  # (station id, OCPP transaction id)


@dataclass(slots=True)
class Session:
    station_id: str
    transaction_id: str
    evse_id: int | None
    connector_id: int | None
    token: str | None
    account_id: str | None
    started_at: datetime
    charging_state: str | None = None
    energy_wh: float = 0.0
    announced: bool = False  # session.started told
    charging_ended_at: datetime | None = None  # left Charging, not back yet
    idle_due_at: datetime | None = None  # when the idle fee starts (after the grace period)
    idle_fee: tuple[Decimal, Decimal, str] | None = None  # price/min, grace min, currency
    next_update_at: datetime | None = None
    cost: dict[str, Any] | None = None  # the latest transaction.cost: total, currency, final

    @property
    def key(self) -> Key:
        return (self.station_id, self.transaction_id)

    def facts(self) -> dict[str, Any]:
        return {"station_id": self.station_id, "transaction_id": self.transaction_id,
                "evse_id": self.evse_id}


class SessionTracker:
    def __init__(self, db: Database, peers: Peers, preferences: PreferenceStore,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self.peers = peers
        self.preferences = preferences
        self.clock = clock
        self._sessions: dict[Key, Session] = {}
        self._by_evse: dict[tuple[str, int], Key] = {}
        self._by_station: dict[str, set[Key]] = {}
        self._drivers: set[Key] = set()  # sessions with an account: the ones ticks look at

    async def load(self) -> None:
        """Track the sessions active now (a restart mid-session)."""
        tx = t.transactions.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(
                tx.station_id, tx.ocpp_transaction_id, tx.evse_id, tx.connector_id,
                tx.id_token, tx.charging_state, tx.energy_wh, tx.started_at)
                .where(tx.state == "Active"))
            return [dict(r) for r in rows.mappings()]

        for row in await self.db.read(read):
            session = Session(row["station_id"], row["ocpp_transaction_id"], row["evse_id"],
                              row["connector_id"], row["id_token"],
                              self.peers.account_for_token(row["id_token"]),
                              row["started_at"] or self.clock(), row["charging_state"],
                              row["energy_wh"] or 0.0, announced=True)
            self._track(session)
            self._schedule_update(session, self.clock())

    def get(self, station_id: str, transaction_id: str) -> Session | None:
        return self._sessions.get((station_id, transaction_id))

    # -- events (synchronous, cheap: called on every transaction event) -------------------------

    def on_event(self, event: Event) -> list[Work]:
        kind, data = event.kind, event.data
        if kind == "transaction.updated":
            return self._updated(data)
        if kind == "transaction.started":
            return self._started(data)
        if kind == "transaction.ended":
            return self._ended(data)
        if kind == "transaction.cost":
            session = self._sessions.get((data.get("station_id"), data.get("transaction_id")))
            if session is not None and data.get("total") is not None:
                session.cost = {"total": str(data["total"]), "currency": data.get("currency"),
                                "final": bool(data.get("final"))}
            return []
        if kind == "station.status":
            return self._status_16(data)
        if kind == "alert.raised":
            return self._alert(data)
        return []

    def _started(self, data: dict[str, Any]) -> list[Work]:
        key = (data["station_id"], str(data["transaction_id"]))
        if key in self._sessions:
            return self._updated(data)
        row = self.peers.active_transaction(*key) or {}
        token = row.get("id_token")
        session = Session(key[0], key[1], data.get("evse_id"), row.get("connector_id"), token,
                          self.peers.account_for_token(token),
                          row.get("started_at") or self.clock(), data.get("charging_state"),
                          data.get("energy_wh") or 0.0)
        self._track(session)
        return self._announce(session)

    def _updated(self, data: dict[str, Any]) -> list[Work]:
        key = (data["station_id"], str(data["transaction_id"]))
        session = self._sessions.get(key)
        if session is None:
            # Not seen starting (its start is still queued at the station, or was lost):
            # track it from here, without announcing a start we did not see.
            row = self.peers.active_transaction(*key) or {}
            token = row.get("id_token")
            session = Session(key[0], key[1], data.get("evse_id"), row.get("connector_id"),
                              token, self.peers.account_for_token(token),
                              row.get("started_at") or self.clock(),
                              data.get("charging_state"), data.get("energy_wh") or 0.0,
                              announced=True)
            self._track(session)
            self._schedule_update(session, self.clock())
            return []
        work: list[Work] = []
        if session.account_id is None:
            # A 2.0.1 session may be authorised after it started (the token comes later), and
            # a token may be linked to an account while it charges: look again (memory only).
            row = self.peers.active_transaction(*key) or {}
            session.token = row.get("id_token") or session.token
            session.account_id = self.peers.account_for_token(session.token)
            if session.account_id is not None:
                self._drivers.add(key)
                work += self._announce(session)
        if data.get("evse_id") is not None and session.evse_id is None:
            session.evse_id = data["evse_id"]
            self._by_evse[(session.station_id, session.evse_id)] = key
        if data.get("energy_wh") is not None:
            session.energy_wh = data["energy_wh"]
        state = data.get("charging_state")
        if state and state != session.charging_state:
            work += self._charging_state(session, state)
        return work

    def _ended(self, data: dict[str, Any]) -> list[Work]:
        key = (data["station_id"], str(data["transaction_id"]))
        session = self._untrack(key)
        if session is not None:
            if session.account_id is None:
                return []
            return [self._completed(session)]
        # Ended without being tracked (a stop that was queued at the station across a CSMS
        # restart, with no update since): look it up once.
        return [self._completed_unknown(key, data)]

    def _status_16(self, data: dict[str, Any]) -> list[Work]:
        state = _STATE_OF_16_STATUS.get(data.get("status") or "")
        if state is None:
            return []
        key = self._by_evse.get((data.get("station_id"), data.get("evse_id")))
        session = self._sessions.get(key) if key else None
        if session is None or session.charging_state == state:
            return []
        return self._charging_state(session, state)

    def _alert(self, data: dict[str, Any]) -> list[Work]:
        alert = data.get("alert") or {}
        station_id = alert.get("station_id") or data.get("station_id")
        keys = self._by_station.get(station_id or "", set()) & self._drivers
        if not keys:
            return []
        kind = alert.get("kind")
        if kind not in _SESSION_ALERT_KINDS and alert.get("severity") != "critical":
            return []
        work: list[Work] = []
        for key in sorted(keys):
            session = self._sessions[key]
            if kind == "stuck_session" and alert.get("key") != \
                    f"stuck_session:{session.station_id}:{session.transaction_id}":
                continue
            evse = alert.get("evse_id")
            if evse not in (None, 0) and session.evse_id is not None and evse != session.evse_id:
                continue  # another EVSE of the station
            work.append(Outgoing(session.account_id or "", "session.fault", {
                **session.facts(), "alert_id": alert.get("id"), "alert_kind": kind,
                "severity": alert.get("severity"), "message": alert.get("message")},
                f"session.fault:{session.station_id}:{session.transaction_id}:{alert.get('id')}"))
        return work

    # -- what a session tells its driver --------------------------------------------------------

    def _announce(self, session: Session) -> list[Work]:
        if session.account_id is None or session.announced:
            return []
        session.announced = True
        self._schedule_update(session, self.clock())
        return [Outgoing(session.account_id, "session.started", {
            **session.facts(), "connector_id": session.connector_id,
            "started_at": ocpp_time(session.started_at),
            "charging_state": session.charging_state},
            f"session.started:{session.station_id}:{session.transaction_id}")]

    def _charging_state(self, session: Session, state: str) -> list[Work]:
        previous, session.charging_state = session.charging_state, state
        if session.account_id is None:
            return []
        now = self.clock()
        work: list[Work] = []
        facts = {**session.facts(), "charging_state": state, "previous": previous}
        if state in SUSPENDED_BY:
            work.append(Outgoing(session.account_id, "session.suspended",
                                 {**facts, "by": SUSPENDED_BY[state]}))
        elif state == CHARGING and previous in SUSPENDED_BY:
            work.append(Outgoing(session.account_id, "session.resumed", facts))
        if state == CHARGING:
            session.charging_ended_at = session.idle_due_at = None
        elif previous == CHARGING:
            # Charging has stopped but the session goes on: the tariff's idle fee (if any)
            # starts once its grace period is over, unless charging resumes first.
            session.charging_ended_at = now
            work.append(self._idle_fee_lookup(session, now))
        return work

    def _idle_fee_lookup(self, session: Session, ended_at: datetime) -> Deferred:
        async def look_up() -> list[Outgoing]:
            if session.idle_fee is None:
                session.idle_fee = await self.peers.idle_fee(
                    session.station_id, session.evse_id, session.connector_id,
                    session.started_at)
            if session.idle_fee is None or session.charging_ended_at != ended_at:
                return []  # no idle fee, or charging resumed meanwhile
            grace_min = session.idle_fee[1]
            session.idle_due_at = ended_at + timedelta(seconds=float(grace_min * 60))
            return self._idle_due(session, self.clock())

        return look_up

    def _idle_due(self, session: Session, now: datetime) -> list[Outgoing]:
        if session.idle_due_at is None or now < session.idle_due_at or \
                session.idle_fee is None or session.charging_ended_at is None:
            return []
        price, grace_min, currency = session.idle_fee
        session.idle_due_at = None
        return [Outgoing(session.account_id or "", "session.idle_fee_started", {
            **session.facts(), "charging_ended_at": ocpp_time(session.charging_ended_at),
            "grace_min": str(grace_min), "price_per_min": str(price), "currency": currency},
            f"session.idle_fee_started:{session.station_id}:{session.transaction_id}:"
            f"{ocpp_time(session.charging_ended_at)}")]

    def _completed(self, session: Session) -> Deferred:
        async def complete() -> list[Outgoing]:
            row = await self.peers.transaction(session.station_id, session.transaction_id) or {}
            return [await self._completion(session.account_id or "", session, row)]

        return complete

    def _completed_unknown(self, key: Key, data: dict[str, Any]) -> Deferred:
        async def complete() -> list[Outgoing]:
            row = await self.peers.transaction(*key)
            if row is None:
                return []
            account_id = self.peers.account_for_token(row.get("id_token"))
            if account_id is None:
                return []
            session = Session(key[0], key[1], row.get("evse_id"), row.get("connector_id"),
                              row.get("id_token"), account_id,
                              row.get("started_at") or self.clock(),
                              energy_wh=data.get("energy_wh") or 0.0)
            return [await self._completion(account_id, session, row)]

        return complete

    async def _completion(self, account_id: str, session: Session,
                          row: dict[str, Any]) -> Outgoing:
        started = row.get("started_at") or session.started_at
        stopped = row.get("stopped_at")
        cost = await self.peers.session_cost(session.station_id, session.transaction_id)
        return Outgoing(account_id, "session.completed", {
            **session.facts(), "started_at": ocpp_time(started),
            "stopped_at": ocpp_time(stopped) if stopped else None,
            "duration_s": round((stopped - started).total_seconds()) if stopped else None,
            "energy_wh": row.get("energy_wh", session.energy_wh),
            "stop_reason": row.get("stop_reason"), "cost": cost or session.cost},
            f"session.completed:{session.station_id}:{session.transaction_id}")

    # -- the tick: what falls due with time ------------------------------------------------------

    def tick(self, now: datetime) -> list[Work]:
        work: list[Work] = []
        for key in sorted(self._drivers):
            session = self._sessions[key]
            work += self._idle_due(session, now)
            interval = self.preferences.get(session.account_id or "").session_update_interval_s
            if not interval:
                session.next_update_at = None
                continue
            if session.next_update_at is None:
                session.next_update_at = now + timedelta(seconds=interval)
            elif now >= session.next_update_at:
                session.next_update_at = now + timedelta(seconds=interval)
                work.append(self._progress(session, now))
        return work

    def _progress(self, session: Session, now: datetime) -> Deferred:
        async def progress() -> list[Outgoing]:
            # Priced now, for this update (once per driver interval, not per meter value);
            # the last published running cost if pricing cannot answer.
            cost = await self.peers.session_cost(session.station_id,
                                                 session.transaction_id) or session.cost
            return [Outgoing(session.account_id or "", "session.progress", {
                **session.facts(), "energy_wh": session.energy_wh,
                "charging_state": session.charging_state,
                "duration_s": round((now - session.started_at).total_seconds()),
                "cost": cost})]

        return progress

    # -- bookkeeping -----------------------------------------------------------------------------

    def _schedule_update(self, session: Session, now: datetime) -> None:
        if session.account_id is None:
            return
        interval = self.preferences.get(session.account_id).session_update_interval_s
        session.next_update_at = now + timedelta(seconds=interval) if interval else None

    def _track(self, session: Session) -> None:
        key = session.key
        self._sessions[key] = session
        self._by_station.setdefault(session.station_id, set()).add(key)
        if session.evse_id is not None:
            self._by_evse[(session.station_id, session.evse_id)] = key
        if session.account_id is not None:
            self._drivers.add(key)

    def _untrack(self, key: Key) -> Session | None:
        session = self._sessions.pop(key, None)
        if session is None:
            return None
        self._drivers.discard(key)
        keys = self._by_station.get(session.station_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_station[session.station_id]
        if session.evse_id is not None and \
                self._by_evse.get((session.station_id, session.evse_id)) == key:
            del self._by_evse[(session.station_id, session.evse_id)]
        return session
