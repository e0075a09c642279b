"""Stations: registration, passwords, boot decisions, connection state, liveness and clock skew.

The station table is small and read on every handshake and message, so it is mirrored in memory
(loaded at start, written through). ``last_seen`` changes with every message; it is kept in
memory and flushed in batches, because losing a few seconds of it in a crash costs nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.config import CsmsConfig, UnknownStations
from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.stations")

_PBKDF2_ROUNDS = 2_000  # OCPP passwords are 16-40 character secrets; this keeps storms cheap


def hash_password(password: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _PBKDF2_ROUNDS)
    return f"pbkdf2${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, salt, expected = stored.split("$")
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _PBKDF2_ROUNDS)
    return hmac.compare_digest(digest.hex(), expected)


@dataclass
class StationState:
    id: str
    registration: str = "Accepted"  # Accepted, Pending, Rejected
    password_hash: str | None = None
    security_profile: int = 0
    ocpp_version: str | None = None
    connected: bool = False
    connected_since: datetime | None = None
    last_seen: datetime | None = None
    last_boot: datetime | None = None
    heartbeat_interval_s: int | None = None
    clock_skew_s: float | None = None
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    # Where drivers find it (set by operators; read by station search and notifications).
    name: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    # Cache of passwords verified this run (hash of the clear text), so a reconnect storm does
    # not pay for key stretching again.
    verified: set[str] = field(default_factory=set)

    @property
    def accepted(self) -> bool:
        """May it send more than BootNotification? (TC_B_30: not before an accepted boot.)"""
        return self.registration == "Accepted" and self.last_boot is not None


@dataclass(frozen=True, slots=True)
class BootInfo:
    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    reason: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class BootDecision:
    status: str
    interval: int
    current_time: datetime


_MIRRORED = ("registration", "password_hash", "security_profile", "ocpp_version", "connected",
             "connected_since", "last_seen", "last_boot", "heartbeat_interval_s", "clock_skew_s",
             "vendor", "model", "firmware_version", "name", "address", "latitude", "longitude")


class StationService:
    def __init__(self, db: Database, events: EventBus, config: CsmsConfig,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self.events = events
        self.config = config
        self.clock = clock
        self._stations: dict[str, StationState] = {}
        self._dirty_seen: set[str] = set()

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(t.stations))).mappings())

        for row in await self.db.read(read):
            state = StationState(id=row["id"], **{k: row[k] for k in _MIRRORED})
            # Nobody is connected to a CSMS that just started.
            state.connected = False
            self._stations[state.id] = state
        if self._stations:
            await self.db.write(lambda conn: conn.execute(
                update(t.stations).where(t.stations.c.connected.is_(True))
                .values(connected=False)))

    # -- lookups ---------------------------------------------------------------------------------

    def get(self, station_id: str) -> StationState | None:
        return self._stations.get(station_id)

    def all(self) -> list[StationState]:
        return list(self._stations.values())

    def known(self, station_id: str) -> bool:
        """The handshake's check: with policy ``reject`` only registered stations get in."""
        if self.config.unknown_station_policy is not UnknownStations.REJECT:
            return True
        return station_id in self._stations

    def check_password(self, station_id: str, password: str | None) -> bool:
        """A station with a password must send it (profiles 1, 2); one without need not."""
        state = self._stations.get(station_id)
        if state is None or state.password_hash is None:
            return True
        if password is None:
            return False
        fingerprint = hashlib.sha256(password.encode()).hexdigest()
        if fingerprint in state.verified:
            return True
        if verify_password(password, state.password_hash):
            state.verified.add(fingerprint)
            return True
        return False

    # -- registration (operator) -----------------------------------------------------------------

    async def register(self, station_id: str, *, registration: str = "Accepted",
                       password: str | None = None, security_profile: int = 0) -> StationState:
        state = self._stations.get(station_id) or StationState(id=station_id)
        state.registration = registration
        state.security_profile = security_profile
        if password is not None:
            state.password_hash = hash_password(password)
            state.verified.clear()
        values = {"registration": registration, "security_profile": security_profile,
                  "password_hash": state.password_hash}
        exists = station_id in self._stations

        async def write(conn: AsyncConnection) -> None:
            if exists:
                await conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                                   .values(**values))
            else:
                await conn.execute(insert(t.stations).values(id=station_id,
                                                             created_at=self.clock(), **values))

        await self.db.write(write)
        self._stations[station_id] = state
        self.events.publish("station.registration", station_id=station_id,
                            registration=registration)
        return state

    async def set_password(self, station_id: str, password: str) -> None:
        state = self._require(station_id)
        state.password_hash = hash_password(password)
        state.verified.clear()
        await self._update(station_id, password_hash=state.password_hash)

    # -- connection lifecycle --------------------------------------------------------------------

    async def on_connect(self, station_id: str, version: str) -> StationState:
        now = self.clock()
        state = self._stations.get(station_id)
        if state is None:
            policy = self.config.unknown_station_policy
            registration = "Pending" if policy is UnknownStations.PENDING else "Accepted"
            state = await self.register(station_id, registration=registration)
            log.info("registered unknown station %s as %s", station_id, registration)
        state.connected, state.connected_since, state.last_seen = True, now, now
        state.ocpp_version = version
        await self._update(station_id, connected=True, connected_since=now, last_seen=now,
                           ocpp_version=version)
        self.events.publish("station.connection", station_id=station_id, connected=True,
                            ocpp_version=version)
        return state

    async def on_disconnect(self, station_id: str) -> None:
        state = self._stations.get(station_id)
        if state is None:
            return
        state.connected = False
        await self._update(station_id, connected=False, last_seen=state.last_seen)
        self._dirty_seen.discard(station_id)
        self.events.publish("station.connection", station_id=station_id, connected=False)

    def touch(self, station_id: str) -> None:
        state = self._stations.get(station_id)
        if state is not None:
            state.last_seen = self.clock()
            self._dirty_seen.add(station_id)

    async def flush_last_seen(self) -> int:
        dirty = [(sid, self._stations[sid].last_seen) for sid in self._dirty_seen
                 if sid in self._stations]
        self._dirty_seen.clear()
        if not dirty:
            return 0

        async def write(conn: AsyncConnection) -> None:
            statement = update(t.stations).where(t.stations.c.id == bindparam("sid")).values(
                last_seen=bindparam("seen"))
            await conn.execute(statement, [{"sid": sid, "seen": seen} for sid, seen in dirty])

        await self.db.write(write)
        return len(dirty)

    # -- messages ------------------------------------------------------------------------------

    async def boot(self, station_id: str, info: BootInfo) -> BootDecision:
        state = self._require(station_id)
        now = self.clock()
        status = state.registration if state.registration in ("Pending", "Rejected") \
            else "Accepted"
        interval = self.config.heartbeat_interval_s if status == "Accepted" else 60
        values: dict[str, Any] = {
            "vendor": info.vendor, "model": info.model, "serial_number": info.serial_number,
            "firmware_version": info.firmware_version, "boot_reason": info.reason,
            "iccid": info.iccid, "imsi": info.imsi, "meter_type": info.meter_type,
            "meter_serial_number": info.meter_serial_number, "heartbeat_interval_s": interval,
        }
        if status == "Accepted":
            values["last_boot"] = now
        await self._update(station_id, **values)
        state.vendor, state.model, state.firmware_version = (info.vendor, info.model,
                                                             info.firmware_version)
        state.heartbeat_interval_s = interval
        if status == "Accepted":
            state.last_boot = now
        self.events.publish("station.boot", station_id=station_id, status=status,
                            reason=info.reason)
        return BootDecision(status, interval, now)

    def observe_clock(self, station_id: str, station_time: datetime | None,
                      may_be_queued: bool = False) -> float | None:
        """Skew of a live (not offline-queued) message's timestamp against ours, in seconds.

        ``may_be_queued``: the protocol cannot say whether the message waited in the
        station's offline queue (OCPP 1.6 has no ``offline`` flag). A queued message replayed
        after a reconnect is stamped in the past exactly as a slow clock would stamp it, so
        such a reading that puts the clock behind beyond the threshold is believed only once
        the connection has lasted ``clock_skew_settle_s`` (by then the queue is replayed). A
        reading ahead cannot come from a queue and is always believed.
        """
        state = self._stations.get(station_id)
        if state is None or station_time is None:
            return None
        now = self.clock()
        skew = (station_time - now).total_seconds()
        threshold = self.config.clock_skew_threshold_s
        if may_be_queued and skew < -threshold and not self._settled(state, now):
            return state.clock_skew_s
        previous = state.clock_skew_s
        state.clock_skew_s = skew
        if previous is None or (abs(previous) > threshold) != (abs(skew) > threshold):
            self.events.publish("station.clock", station_id=station_id, skew_s=skew,
                                beyond_threshold=abs(skew) > threshold)
        return skew

    def _settled(self, state: StationState, now: datetime) -> bool:
        """Has the connection lasted long enough for any offline queue to have drained?"""
        since = state.connected_since
        settle_s = self.config.clock_skew_settle_s
        return since is not None and (now - since).total_seconds() >= settle_s

    def is_offline(self, state: StationState, now: datetime | None = None) -> bool:
        if not state.connected:
            return True
        interval = state.heartbeat_interval_s or self.config.heartbeat_interval_s
        if state.last_seen is None:
            return False
        age = ((now or self.clock()) - state.last_seen).total_seconds()
        return age > interval * self.config.offline_after_heartbeats

    async def update_fields(self, station_id: str, **values: Any) -> None:
        """Write station columns (firmware status, local list version, ...)."""
        await self._update(station_id, **values)
        state = self._stations.get(station_id)
        if state is not None:
            for key, value in values.items():
                if key in _MIRRORED:
                    setattr(state, key, value)

    def _require(self, station_id: str) -> StationState:
        state = self._stations.get(station_id)
        if state is None:
            raise KeyError(f"unknown station {station_id!r}")
        return state

    async def _update(self, station_id: str, **values: Any) -> None:
        await self.db.write(lambda conn: conn.execute(
            update(t.stations).where(t.stations.c.id == station_id).values(**values)))

