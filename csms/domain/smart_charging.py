"""Smart charging (1.6 Smart Charging, 2.0.1 block K): profiles, composite schedules, external
limits and ISO 15118 charging needs.

``charging_profiles`` holds what the CSMS installed (source ``csms``; changed by command-answer
listeners when the station answers Accepted, so profiles sent through the raw endpoint count
too) and what a 2.0.1 station reported with ReportChargingProfiles that the CSMS did not install
(source ``station``). Profile rows keep the profile as sent on the wire;
:mod:`csms.domain.charging_schedules` reads both versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.charging_schedules import (
    EXTERNAL,
    TX,
    CompositePeriod,
    Period,
    Profile,
    composite_schedule,
    periods_json,
    problems,
    profile_from_wire,
    profile_to_wire,
    purpose_from_wire,
    purpose_to_wire,
)
from csms.domain.commands import Actor, CommandService
from csms.domain.payload_check import check_payload
from csms.domain.timeutil import Clock, parse_timestamp, utcnow
from csms.domain.transactions import ACTIVE, TransactionService
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert

log = logging.getLogger("chargeloop.csms.smart_charging")

INSTALLED, REPORTED, CLEARED, REPLACED = "Accepted", "Reported", "Cleared", "Replaced"
CSMS, STATION = "csms", "station"


class ProfileInvalid(ValueError):
    """The operator's profile cannot be installed: (field, reason) pairs."""

    def __init__(self, found: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {r}" for f, r in found))
        self.problems = found


@dataclass(frozen=True, slots=True)
class StoredProfile:
    station_id: str
    profile: Profile
    status: str  # Accepted, Rejected, Cleared, Replaced, Reported
    source: str  # csms, station
    wire: dict[str, Any]
    charging_limit_source: str | None = None
    updated_at: datetime | None = None
    reported_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> StoredProfile:
        return cls(row["station_id"], profile_from_wire(row["profile"], row["evse_id"]),
                   row["status"], row["source"], row["profile"], row["charging_limit_source"],
                   row["updated_at"], row["reported_at"])


@dataclass(frozen=True, slots=True)
class Composite:
    station_id: str
    evse_id: int
    source: str  # station (its answer) or computed (by the CSMS)
    status: str
    schedule_start: datetime | None
    duration_s: int | None
    rate_unit: str | None
    periods: tuple[CompositePeriod, ...]
    response: dict[str, Any] | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportResult:
    request_id: int
    status: str  # the GetChargingProfiles answer: Accepted, NoProfiles
    complete: bool  # the last part (tbc false) arrived
    profiles: tuple[StoredProfile, ...] = ()


@dataclass
class _PendingReport:
    full: bool  # no criteria: the report is everything the station holds
    started: datetime
    done: asyncio.Future[None]
    profiles: list[StoredProfile] = field(default_factory=list)


def set_profile_payload(version: OcppVersion, profile: Profile) -> dict[str, Any]:
    if version is OcppVersion.V16:
        return {"connectorId": profile.evse_id,
                "csChargingProfiles": profile_to_wire(profile, version)}
    return {"evseId": profile.evse_id, "chargingProfile": profile_to_wire(profile, version)}


def clear_profile_payload(version: OcppVersion, *, profile_id: int | None,
                          evse_id: int | None, purpose: str | None,
                          stack_level: int | None) -> dict[str, Any]:
    wire_purpose = None if purpose is None else purpose_to_wire(version, purpose)
    if version is OcppVersion.V16:
        return {k: v for k, v in (("id", profile_id), ("connectorId", evse_id),
                                  ("chargingProfilePurpose", wire_purpose),
                                  ("stackLevel", stack_level)) if v is not None}
    if profile_id is not None:
        return {"chargingProfileId": profile_id}
    criteria = {k: v for k, v in (("evseId", evse_id), ("chargingProfilePurpose", wire_purpose),
                                  ("stackLevel", stack_level)) if v is not None}
    return {"chargingProfileCriteria": criteria} if criteria else {}


def _decode_clear(request: dict[str, Any]) -> tuple[int | None, int | None, str | None,
                                                    int | None]:
    if "chargingProfileId" in request or "chargingProfileCriteria" in request:
        criteria = request.get("chargingProfileCriteria") or {}
        profile_id = request.get("chargingProfileId")
        evse, purpose, stack = (criteria.get("evseId"), criteria.get("chargingProfilePurpose"),
                                criteria.get("stackLevel"))
    else:
        profile_id, evse, purpose, stack = (request.get("id"), request.get("connectorId"),
                                            request.get("chargingProfilePurpose"),
                                            request.get("stackLevel"))
    return profile_id, evse, None if purpose is None else purpose_from_wire(purpose), stack


def decode_composite(request: dict[str, Any], answer: dict[str, Any]
                     ) -> tuple[int, str, datetime | None, int | None, str | None,
                                list[CompositePeriod]]:
    """(evse, status, start, duration, unit, periods) of a GetCompositeSchedule answer."""
    evse = request.get("evseId", request.get("connectorId", 0))
    status = answer.get("status", "Rejected")
    schedule = answer.get("schedule")  # 2.0.1
    if schedule is not None:
        start = parse_timestamp(schedule.get("scheduleStart"))
    else:  # 1.6
        schedule = answer.get("chargingSchedule")
        start = parse_timestamp(answer.get("scheduleStart") or (schedule or {}).get(
            "startSchedule"))
    if not schedule:
        return evse, status, start, None, None, []
    periods = [CompositePeriod(int(p["startPeriod"]), float(p["limit"]), p.get("numberPhases"))
               for p in schedule.get("chargingSchedulePeriod", [])]
    return evse, status, start, schedule.get("duration"), schedule.get("chargingRateUnit"), \
        periods


def _overlap(a: Profile, b: Profile) -> bool:
    return (a.valid_to is None or b.valid_from is None or b.valid_from < a.valid_to) and \
        (b.valid_to is None or a.valid_from is None or a.valid_from < b.valid_to)


class SmartChargingService:
    def __init__(self, db: Database, commands: CommandService, transactions: TransactionService,
                 events: EventBus, clock: Clock = utcnow) -> None:
        self.db = db
        self.commands = commands
        self.transactions = transactions
        self.events = events
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._request_ids = itertools.count(1)
        self._reports: dict[tuple[str, int], _PendingReport] = {}
        commands.on_answer("SetChargingProfile", self._on_set_profile)
        commands.on_answer("ClearChargingProfile", self._on_clear_profile)
        commands.on_answer("GetCompositeSchedule", self._on_composite)
        commands.on_answer("RemoteStartTransaction", self._on_remote_start)
        commands.on_answer("RequestStartTransaction", self._on_remote_start)
        commands.on_answer("GetChargingProfiles", self._on_get_profiles)

    # -- queries ---------------------------------------------------------------------------------

    async def profiles(self, station_id: str, *, evse_id: int | None = None,
                       purpose: str | None = None, source: str | None = None,
                       status: str | None = None) -> list[StoredProfile]:
        c = t.charging_profiles.c
        query = select(t.charging_profiles).where(c.station_id == station_id) \
            .order_by(c.evse_id, c.purpose, c.stack_level, c.profile_id)
        for column, value in ((c.evse_id, evse_id), (c.purpose, purpose), (c.source, source),
                              (c.status, status)):
            if value is not None:
                query = query.where(column == value)

        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(query)).mappings())

        return [StoredProfile.from_row(row) for row in await self.db.read(read)]

    async def composite_computed(self, station_id: str, evse_id: int, duration_s: int,
                                 rate_unit: str | None = None,
                                 start: datetime | None = None) -> Composite:
        """The composite schedule the CSMS expects from the profiles it installed (and the
        external constraints the station reported)."""
        start = start or self.clock()
        profiles = [s.profile for s in await self.profiles(station_id)
                    if (s.source == CSMS and s.status == INSTALLED)
                    or (s.source == STATION and s.profile.purpose == EXTERNAL)]
        tx = None
        if evse_id > 0:
            tx = next((row for row in await self.transactions.active_for(station_id)
                       if row.get("evse_id") == evse_id and row["state"] == ACTIVE), None)
        unit, periods = composite_schedule(
            profiles, evse_id=evse_id, start=start, duration_s=duration_s, rate_unit=rate_unit,
            transaction_id=tx["ocpp_transaction_id"] if tx else None,
            transaction_start=tx["started_at"] if tx else None)
        return Composite(station_id, evse_id, "computed", "Accepted", start, duration_s, unit,
                         tuple(periods), at=self.clock())

    async def composite_last(self, station_id: str, evse_id: int) -> Composite | None:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.composite_schedules).where(and_(
                t.composite_schedules.c.station_id == station_id,
                t.composite_schedules.c.evse_id == evse_id)))).mappings().first()

        row = await self.db.read(read)
        if row is None:
            return None
        return Composite(station_id, evse_id, "station", row["status"], row["schedule_start"],
                         row["duration_s"], row["rate_unit"],
                         tuple(CompositePeriod(p["start_s"], p["limit"], p.get("number_phases"))
                               for p in row["periods"] or []), row["response"],
                         row["requested_at"])

    async def limits(self, station_id: str) -> list[dict[str, Any]]:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = (await conn.execute(select(t.charging_limits).where(
                t.charging_limits.c.station_id == station_id).order_by(
                t.charging_limits.c.evse_id, t.charging_limits.c.source))).mappings()
            return [dict(r) for r in rows]

        return await self.db.read(read)

    async def ev_charging(self, station_id: str) -> list[dict[str, Any]]:
        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = (await conn.execute(select(t.ev_charging).where(
                t.ev_charging.c.station_id == station_id).order_by(
                t.ev_charging.c.evse_id))).mappings()
            return [dict(r) for r in rows]

        return await self.db.read(read)

    # -- commands --------------------------------------------------------------------------------

    async def install(self, station_id: str, profile: Profile, actor: Actor, *,
                      allocate_id: bool = False) -> tuple[StoredProfile | None, dict[str, Any]]:
        """Validate and send SetChargingProfile; returns the stored profile (None if the
        station did not accept and nothing was stored) and the answer."""
        version = self.commands.version_of(station_id)
        found = problems(profile)
        if profile.purpose == TX and profile.transaction_id is not None:
            found += await self._transaction_problems(station_id, profile, version)
        if found:
            raise ProfileInvalid(found)
        async with self._locks[station_id]:
            if allocate_id:
                profile = _with_id(profile, await self._next_id(station_id))
            payload = set_profile_payload(version, profile)
            check_payload(version, "SetChargingProfile", payload)
            answer = await self.commands.call(station_id, "SetChargingProfile", payload, actor)
        stored = next((s for s in await self.profiles(station_id)
                       if s.profile.id == profile.id and s.source == CSMS), None)
        return stored, answer

    async def clear(self, station_id: str, actor: Actor, *, profile_id: int | None = None,
                    evse_id: int | None = None, purpose: str | None = None,
                    stack_level: int | None = None) -> tuple[dict[str, Any], list[int]]:
        """Send ClearChargingProfile; returns the answer and the ids the CSMS now considers
        cleared."""
        version = self.commands.version_of(station_id)
        payload = clear_profile_payload(version, profile_id=profile_id, evse_id=evse_id,
                                        purpose=purpose, stack_level=stack_level)
        check_payload(version, "ClearChargingProfile", payload)
        before = {s.profile.id for s in await self.profiles(station_id, source=CSMS,
                                                             status=INSTALLED)}
        answer = await self.commands.call(station_id, "ClearChargingProfile", payload, actor)
        after = {s.profile.id for s in await self.profiles(station_id, source=CSMS,
                                                            status=INSTALLED)}
        return answer, sorted(before - after)

    async def composite_from_station(self, station_id: str, evse_id: int, duration_s: int,
                                     actor: Actor, rate_unit: str | None = None) -> Composite:
        version = self.commands.version_of(station_id)
        key = "connectorId" if version is OcppVersion.V16 else "evseId"
        payload: dict[str, Any] = {key: evse_id, "duration": duration_s}
        if rate_unit is not None:
            payload["chargingRateUnit"] = rate_unit
        check_payload(version, "GetCompositeSchedule", payload)
        answer = await self.commands.call(station_id, "GetCompositeSchedule", payload, actor)
        _, status, start, duration, unit, periods = decode_composite(payload, answer)
        return Composite(station_id, evse_id, "station", status, start, duration, unit,
                         tuple(periods), answer, self.clock())

    async def request_report(self, station_id: str, actor: Actor, *,
                             evse_id: int | None = None, purpose: str | None = None,
                             stack_level: int | None = None,
                             profile_ids: list[int] | None = None,
                             sources: list[str] | None = None,
                             wait_s: float = 10.0) -> ReportResult:
        """2.0.1 GetChargingProfiles; waits up to ``wait_s`` for the last ReportChargingProfiles
        part and returns what was reported."""
        version = self.commands.version_of(station_id)
        request_id = next(self._request_ids)
        criterion: dict[str, Any] = {}
        if purpose is not None:
            criterion["chargingProfilePurpose"] = purpose_to_wire(version, purpose)
        if stack_level is not None:
            criterion["stackLevel"] = stack_level
        if profile_ids:
            criterion["chargingProfileId"] = profile_ids
        if sources:
            criterion["chargingLimitSource"] = sources
        payload: dict[str, Any] = {"requestId": request_id, "chargingProfile": criterion}
        if evse_id is not None:
            payload["evseId"] = evse_id
        check_payload(version, "GetChargingProfiles", payload)
        key = (station_id, request_id)
        pending = _PendingReport(not criterion and evse_id is None, self.clock(),
                                 asyncio.get_running_loop().create_future())
        self._reports[key] = pending
        try:
            answer = await self.commands.call(station_id, "GetChargingProfiles", payload, actor)
            status = answer.get("status", "NoProfiles")
            if status == "Accepted":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(pending.done), wait_s)
            return ReportResult(request_id, status, pending.done.done() or status != "Accepted",
                                tuple(pending.profiles))
        finally:
            self._reports.pop(key, None)

    # -- station messages (2.0.1) ------------------------------------------------------------

    async def on_report(self, station_id: str, request_id: int, limit_source: str,
                        evse_id: int, wire_profiles: list[dict[str, Any]], tbc: bool) -> None:
        """ReportChargingProfiles: one part of the answer to GetChargingProfiles."""
        now = self.clock()
        pending = self._reports.get((station_id, request_id))
        profiles = [profile_from_wire(w, evse_id) for w in wire_profiles]
        c = t.charging_profiles.c

        async def write(conn: AsyncConnection) -> list[Any]:
            for profile, wire in zip(profiles, wire_profiles, strict=True):
                row = (await conn.execute(select(c.source).where(and_(
                    c.station_id == station_id, c.profile_id == profile.id)))).first()
                if row is not None and row.source == CSMS:
                    await conn.execute(update(t.charging_profiles).where(and_(
                        c.station_id == station_id, c.profile_id == profile.id)).values(
                        reported_at=now, charging_limit_source=limit_source))
                    continue
                await upsert(conn, t.charging_profiles, [{
                    "station_id": station_id, "profile_id": profile.id, "evse_id": evse_id,
                    "purpose": profile.purpose, "stack_level": profile.stack_level,
                    "transaction_id": profile.transaction_id, "profile": wire,
                    "status": REPORTED, "source": STATION,
                    "charging_limit_source": limit_source, "reported_at": now,
                    "updated_at": now}], ("station_id", "profile_id"))
            if not tbc and pending is not None and pending.full:
                # Everything the station holds was reported: what it no longer has, goes.
                await conn.execute(delete(t.charging_profiles).where(and_(
                    c.station_id == station_id, c.source == STATION,
                    or_(c.reported_at.is_(None), c.reported_at < pending.started))))
            return list((await conn.execute(select(t.charging_profiles).where(and_(
                c.station_id == station_id,
                c.profile_id.in_([p.id for p in profiles]))))).mappings())

        rows = await self.db.write(write)
        if pending is not None:
            pending.profiles.extend(StoredProfile.from_row(r) for r in rows)
            if not tbc and not pending.done.done():
                pending.done.set_result(None)
        self.events.publish("charging_profile.reported", station_id=station_id,
                            request_id=request_id, evse_id=evse_id, count=len(profiles),
                            tbc=tbc)

    async def on_charging_limit(self, station_id: str, evse_id: int | None, source: str,
                                grid_critical: bool | None,
                                schedules: list[dict[str, Any]] | None) -> None:
        now = self.clock()
        await self.db.write(lambda conn: upsert(conn, t.charging_limits, [{
            "station_id": station_id, "evse_id": evse_id or 0, "source": source,
            "is_grid_critical": grid_critical, "schedules": schedules, "reported_at": now,
            "cleared_at": None}], ("station_id", "evse_id", "source")))
        self.events.publish("charging_limit.updated", station_id=station_id,
                            evse_id=evse_id or 0, source=source, cleared=False)

    async def on_cleared_limit(self, station_id: str, source: str,
                               evse_id: int | None) -> None:
        now = self.clock()
        c = t.charging_limits.c
        condition = and_(c.station_id == station_id, c.source == source, c.cleared_at.is_(None))
        if evse_id is not None:
            condition = and_(condition, c.evse_id == evse_id)
        await self.db.write(lambda conn: conn.execute(
            update(t.charging_limits).where(condition).values(cleared_at=now)))
        self.events.publish("charging_limit.updated", station_id=station_id,
                            evse_id=evse_id or 0, source=source, cleared=True)

    async def on_ev_needs(self, station_id: str, evse_id: int, needs: dict[str, Any],
                          max_schedule_tuples: int | None) -> str:
        """NotifyEVChargingNeeds: stored; the answer's status."""
        now = self.clock()
        await self.db.write(lambda conn: upsert(conn, t.ev_charging, [{
            "station_id": station_id, "evse_id": evse_id,
            "requested_energy_transfer": needs.get("requestedEnergyTransfer"),
            "departure_time": parse_timestamp(needs.get("departureTime")),
            "max_schedule_tuples": max_schedule_tuples, "needs": needs, "needs_at": now}],
            ("station_id", "evse_id")))
        self.events.publish("ev_charging.needs", station_id=station_id, evse_id=evse_id,
                            requested_energy_transfer=needs.get("requestedEnergyTransfer"))
        return "Accepted"

    async def on_ev_schedule(self, station_id: str, evse_id: int, time_base: datetime,
                             schedule: dict[str, Any]) -> str:
        """NotifyEVChargingSchedule: stored; the answer's status."""
        now = self.clock()
        await self.db.write(lambda conn: upsert(conn, t.ev_charging, [{
            "station_id": station_id, "evse_id": evse_id, "time_base": time_base,
            "schedule": schedule, "schedule_at": now}], ("station_id", "evse_id")))
        self.events.publish("ev_charging.schedule", station_id=station_id, evse_id=evse_id)
        return "Accepted"

    # -- answer listeners --------------------------------------------------------------------

    async def _on_set_profile(self, station_id: str, _: OcppVersion, request: dict[str, Any],
                              answer: dict[str, Any]) -> None:
        wire = request.get("csChargingProfiles") or request["chargingProfile"]
        evse_id = request.get("connectorId", request.get("evseId", 0))
        await self._record_profile(station_id, profile_from_wire(wire, evse_id), wire,
                                   answer.get("status", "Rejected"))

    async def _on_remote_start(self, station_id: str, _: OcppVersion, request: dict[str, Any],
                               answer: dict[str, Any]) -> None:
        """A TxProfile sent with RemoteStartTransaction / RequestStartTransaction."""
        wire = request.get("chargingProfile")
        if wire is None or answer.get("status") != "Accepted":
            return
        evse_id = request.get("connectorId", request.get("evseId")) or 0
        if answer.get("transactionId") is not None and wire.get("transactionId") is None:
            wire = {**wire, "transactionId": answer["transactionId"]}
        await self._record_profile(station_id, profile_from_wire(wire, evse_id), wire,
                                   "Accepted")

    async def _record_profile(self, station_id: str, profile: Profile, wire: dict[str, Any],
                              status: str) -> None:
        now = self.clock()
        c = t.charging_profiles.c
        row = {"station_id": station_id, "profile_id": profile.id, "evse_id": profile.evse_id,
               "purpose": profile.purpose, "stack_level": profile.stack_level,
               "transaction_id": profile.transaction_id, "profile": wire, "status": status,
               "source": CSMS, "charging_limit_source": "CSO", "reported_at": None,
               "updated_at": now}

        async def write(conn: AsyncConnection) -> None:
            exists = (await conn.execute(select(c.status).where(and_(
                c.station_id == station_id, c.profile_id == profile.id)))).first()
            if status != INSTALLED:
                # A refused profile is kept for the record, never over an installed one.
                if exists is None:
                    await conn.execute(insert(t.charging_profiles).values(**row))
                return
            # The same purpose and stack level on the same EVSE (and transaction) is replaced
            # where the validity periods overlap (1.6 3.13.2, 2.0.1 K01.FR.05/06).
            same = (await conn.execute(select(t.charging_profiles).where(and_(
                c.station_id == station_id, c.source == CSMS, c.status == INSTALLED,
                c.evse_id == profile.evse_id, c.purpose == profile.purpose,
                c.stack_level == profile.stack_level, c.profile_id != profile.id)))).mappings()
            replaced = [r["profile_id"] for r in same
                        if r["transaction_id"] == profile.transaction_id
                        and _overlap(profile_from_wire(r["profile"]), profile)]
            if replaced:
                await conn.execute(update(t.charging_profiles).where(and_(
                    c.station_id == station_id, c.profile_id.in_(replaced))).values(
                    status=REPLACED, updated_at=now))
            await upsert(conn, t.charging_profiles, [row], ("station_id", "profile_id"))

        await self.db.write(write)
        self.events.publish("charging_profile.updated", station_id=station_id,
                            profile_id=profile.id, evse_id=profile.evse_id,
                            purpose=profile.purpose, status=status)

    async def _on_clear_profile(self, station_id: str, _: OcppVersion, request: dict[str, Any],
                                answer: dict[str, Any]) -> None:
        # Accepted: cleared. Unknown: the station holds no such profile. Either way none of
        # the matching profiles is on the station any more.
        profile_id, evse_id, purpose, stack_level = _decode_clear(request)
        now = self.clock()
        c = t.charging_profiles.c
        condition = and_(c.station_id == station_id, c.purpose != EXTERNAL)
        if profile_id is not None:
            condition = and_(condition, c.profile_id == profile_id)
        else:
            for column, value in ((c.evse_id, evse_id), (c.purpose, purpose),
                                  (c.stack_level, stack_level)):
                if value is not None:
                    condition = and_(condition, column == value)

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(update(t.charging_profiles).where(and_(
                condition, c.source == CSMS, c.status == INSTALLED)).values(
                status=CLEARED, updated_at=now))
            await conn.execute(delete(t.charging_profiles).where(and_(
                condition, c.source == STATION)))

        await self.db.write(write)
        self.events.publish("charging_profile.cleared", station_id=station_id,
                            profile_id=profile_id, evse_id=evse_id, purpose=purpose,
                            stack_level=stack_level, status=answer.get("status"))

    async def _on_composite(self, station_id: str, _: OcppVersion, request: dict[str, Any],
                            answer: dict[str, Any]) -> None:
        evse, status, start, duration, unit, periods = decode_composite(request, answer)
        now = self.clock()
        await self.db.write(lambda conn: upsert(conn, t.composite_schedules, [{
            "station_id": station_id, "evse_id": evse, "status": status,
            "schedule_start": start, "duration_s": duration, "rate_unit": unit,
            "periods": periods_json(periods), "response": answer, "requested_at": now}],
            ("station_id", "evse_id")))

    async def _on_get_profiles(self, station_id: str, _: OcppVersion, request: dict[str, Any],
                               answer: dict[str, Any]) -> None:
        pending = self._reports.get((station_id, request.get("requestId", -1)))
        if answer.get("status") != "Accepted" and pending is not None:
            if pending.full:  # NoProfiles for everything: the station holds none
                c = t.charging_profiles.c
                await self.db.write(lambda conn: conn.execute(delete(t.charging_profiles).where(
                    and_(c.station_id == station_id, c.source == STATION))))
            if not pending.done.done():
                pending.done.set_result(None)

    # -- internals -----------------------------------------------------------------------------

    async def _transaction_problems(self, station_id: str, profile: Profile,
                                    version: OcppVersion) -> list[tuple[str, str]]:
        assert profile.transaction_id is not None
        if version is OcppVersion.V16 and not profile.transaction_id.isdigit():
            return [("transaction_id", "OCPP 1.6 transaction ids are integers")]
        tx = await self.transactions.get(station_id, profile.transaction_id)
        if tx is None or tx["state"] != ACTIVE:
            return [("transaction_id", f"no active transaction {profile.transaction_id} at "
                                       f"{station_id}")]
        if tx.get("evse_id") is not None and tx["evse_id"] != profile.evse_id:
            return [("evse_id", f"transaction {profile.transaction_id} runs on EVSE "
                                f"{tx['evse_id']}")]
        return []

    async def _next_id(self, station_id: str) -> int:
        async def read(conn: AsyncConnection) -> int | None:
            return (await conn.execute(select(func.max(t.charging_profiles.c.profile_id)).where(
                t.charging_profiles.c.station_id == station_id))).scalar()

        return ((await self.db.read(read)) or 0) + 1


def _with_id(profile: Profile, profile_id: int) -> Profile:
    return replace(profile, id=profile_id)


__all__ = ["Composite", "Period", "ProfileInvalid", "ReportResult", "SmartChargingService",
           "StoredProfile"]
