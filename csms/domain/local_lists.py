"""Local authorisation lists (1.6 LocalAuthListManagement, 2.0.1 block D) and the station's
authorisation cache (ClearCache).

The CSMS keeps, per station, the list version and the entries it installed (table
``local_list``). That record changes only when the station answers a SendLocalList with
Accepted, through a command-answer listener, so a list sent through the raw command endpoint
counts as well. A GetLocalListVersion answer is remembered as the version the station reports.

A push names the list the station should end up with (``target``); a Full update sends all of
it, a Differential update only what differs from what the station holds. When the CSMS does not
know what the station holds (the station reports another version than the CSMS installed) or the
station answers VersionMismatch, the push falls back to a Full update with a higher version.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.authorization import AuthorizationService, TokenRecord
from csms.domain.commands import Actor, CommandError, CommandService
from csms.domain.timeutil import Clock, ocpp_time, parse_timestamp, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.local_lists")

FULL, DIFFERENTIAL = "Full", "Differential"
NOT_SUPPORTED_16 = -1  # 1.6: GetLocalListVersion answers -1 without local list support

# 2.0.1 token verdicts 1.6 spells differently or lacks (as in the 1.6 adapter).
_STATUS_16 = {"Unknown": "Invalid", "NoCredit": "Blocked", "NotAllowedTypeEVSE": "Invalid",
              "NotAtThisLocation": "Invalid", "NotAtThisTime": "Invalid"}
ID_TOKEN_TYPES_201 = frozenset({"Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local",
                                "MacAddress", "NoAuthorization"})
_MAX_TOKEN = {OcppVersion.V16: 20}
_MAX_TOKEN_DEFAULT = 36


class UnknownTokens(ValueError):
    def __init__(self, tokens: list[str]) -> None:
        super().__init__(f"unknown id tokens: {', '.join(tokens)}")
        self.tokens = tokens


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One entry of a station's local list, version-neutral (2.0.1 status names)."""

    token: str
    type: str
    status: str
    group_id: str | None = None
    expiry: datetime | None = None

    @classmethod
    def of(cls, record: TokenRecord) -> ListEntry:
        return cls(record.token, record.type, record.status, record.group_id, record.expiry)

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token, "type": self.type, "status": self.status,
                "group_id": self.group_id,
                "expiry": None if self.expiry is None else ocpp_time(self.expiry)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ListEntry:
        return cls(data["token"], data.get("type") or "ISO14443", data["status"],
                   data.get("group_id"), parse_timestamp(data.get("expiry")))


@dataclass
class StationList:
    """What the CSMS knows about one station's local list."""

    station_id: str
    version: int = 0  # the version the CSMS installed (0: no list)
    entries: dict[str, ListEntry] = field(default_factory=dict)
    updated_at: datetime | None = None
    reported_version: int | None = None  # what the station last said it holds
    reported_at: datetime | None = None
    last_status: str | None = None
    last_update_type: str | None = None
    last_attempt_at: datetime | None = None
    cache_cleared_at: datetime | None = None

    @property
    def in_sync(self) -> bool | None:
        """Does the station hold the version the CSMS installed? None: never asked."""
        if self.reported_version is None:
            return None
        return max(self.reported_version, 0) == self.version

    @classmethod
    def from_row(cls, row: Any) -> StationList:
        return cls(row["station_id"], row["version"],
                   {e["token"]: ListEntry.from_json(e) for e in row["entries"] or []},
                   row["updated_at"], row["reported_version"], row["reported_at"],
                   row["last_status"], row["last_update_type"], row["last_attempt_at"],
                   row["cache_cleared_at"])


@dataclass(frozen=True, slots=True)
class PushResult:
    station_id: str
    sent: bool  # False: nothing to change, nothing sent
    update_type: str | None = None
    version: int | None = None  # the versionNumber sent
    status: str | None = None  # the station's answer
    added: tuple[str, ...] = ()  # tokens added or changed
    removed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # tokens the station's OCPP version cannot carry
    fallback: str | None = None  # why a differential update became a full one


# -- wire format ---------------------------------------------------------------------------------

def encode_entry(version: OcppVersion, token: str, entry: ListEntry | None,
                 token_type: str = "ISO14443") -> dict[str, Any]:
    """One AuthorizationData element; ``entry`` None removes ``token`` (differential)."""
    if version is OcppVersion.V16:
        data: dict[str, Any] = {"idTag": token}
        if entry is not None:
            info: dict[str, Any] = {"status": _STATUS_16.get(entry.status, entry.status)}
            if entry.group_id:
                info["parentIdTag"] = entry.group_id
            if entry.expiry is not None:
                info["expiryDate"] = ocpp_time(entry.expiry)
            data["idTagInfo"] = info
        return data
    data = {"idToken": {"idToken": token, "type": entry.type if entry else token_type}}
    if entry is not None:
        info = {"status": entry.status}
        if entry.group_id:
            info["groupIdToken"] = {"idToken": entry.group_id, "type": "Central"}
        if entry.expiry is not None:
            info["cacheExpiryDateTime"] = ocpp_time(entry.expiry)
        data["idTokenInfo"] = info
    return data


def send_local_list_payload(version: OcppVersion, update_type: str, list_version: int,
                            items: list[dict[str, Any]]) -> dict[str, Any]:
    if version is OcppVersion.V16:
        payload: dict[str, Any] = {"listVersion": list_version, "updateType": update_type}
    else:
        payload = {"versionNumber": list_version, "updateType": update_type}
    if items:  # 2.0.1 wants at least one item when the list is present
        payload["localAuthorizationList"] = items
    return payload


def decode_send_local_list(payload: dict[str, Any]
                           ) -> tuple[str, int, dict[str, ListEntry], set[str]]:
    """(updateType, version, entries added or changed, tokens removed) of a SendLocalList in
    either version."""
    update_type = payload["updateType"]
    list_version = payload.get("versionNumber", payload.get("listVersion", 0))
    added: dict[str, ListEntry] = {}
    removed: set[str] = set()
    for item in payload.get("localAuthorizationList") or []:
        if "idTag" in item:  # 1.6
            token, token_type = item["idTag"], "ISO14443"
            info = item.get("idTagInfo")
            group = info.get("parentIdTag") if info else None
            expiry = info.get("expiryDate") if info else None
        else:
            token, token_type = item["idToken"]["idToken"], item["idToken"]["type"]
            info = item.get("idTokenInfo")
            group = (info.get("groupIdToken") or {}).get("idToken") if info else None
            expiry = info.get("cacheExpiryDateTime") if info else None
        if info is None:
            removed.add(token)
        else:
            added[token] = ListEntry(token, token_type, info["status"], group,
                                     parse_timestamp(expiry))
    return update_type, int(list_version), added, removed


def _same(a: ListEntry, b: ListEntry, version: OcppVersion) -> bool:
    """Would the station see no difference between ``a`` and ``b``?"""
    if version is OcppVersion.V16:
        # 1.6 carries no token type; statuses it lacks are mapped.
        return (_STATUS_16.get(a.status, a.status), a.group_id, a.expiry) == \
            (_STATUS_16.get(b.status, b.status), b.group_id, b.expiry)
    return a == b


def fits(version: OcppVersion, entry: ListEntry) -> bool:
    """Can the station's OCPP version carry this entry?"""
    limit = _MAX_TOKEN.get(version, _MAX_TOKEN_DEFAULT)
    if len(entry.token) > limit or (entry.group_id and len(entry.group_id) > limit):
        return False
    return version is OcppVersion.V16 or entry.type in ID_TOKEN_TYPES_201


# -- the service ---------------------------------------------------------------------------------

class LocalListService:
    def __init__(self, db: Database, auth: AuthorizationService, commands: CommandService,
                 events: EventBus, clock: Clock = utcnow) -> None:
        self.db = db
        self.auth = auth
        self.commands = commands
        self.events = events
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        commands.on_answer("SendLocalList", self._on_send_local_list)
        commands.on_answer("GetLocalListVersion", self._on_get_local_list_version)
        commands.on_answer("ClearCache", self._on_clear_cache)

    # -- queries ---------------------------------------------------------------------------------

    async def get(self, station_id: str) -> StationList:
        async def read(conn: AsyncConnection) -> Any:
            return (await conn.execute(select(t.local_list).where(
                t.local_list.c.station_id == station_id))).mappings().first()

        row = await self.db.read(read)
        return StationList(station_id) if row is None else StationList.from_row(row)

    def target(self, tokens: Iterable[str] | None) -> dict[str, ListEntry]:
        """The entries for ``tokens``, or for every usable Accepted token when None."""
        if tokens is None:
            now = self.clock()
            return {r.token: ListEntry.of(r) for r in self.auth.all()
                    if r.status == "Accepted" and (r.expiry is None or r.expiry > now)}
        wanted = list(dict.fromkeys(tokens))
        unknown = [token for token in wanted if self.auth.get(token) is None]
        if unknown:
            raise UnknownTokens(unknown)
        records = [self.auth.get(token) for token in wanted]
        return {r.token: ListEntry.of(r) for r in records if r is not None}

    # -- commands --------------------------------------------------------------------------------

    async def push(self, station_id: str, mode: str, actor: Actor, *,
                   tokens: Iterable[str] | None = None,
                   remove: Iterable[str] = ()) -> PushResult:
        """Bring the station's list to the wanted state with one Full or Differential update.

        Full: the list becomes ``tokens`` (default: every usable Accepted token) minus
        ``remove``. Differential: with ``tokens`` given, those are added or updated and
        ``remove`` removed; without, the list becomes what a Full push would make it, sending
        only the changes. Raises :class:`UnknownTokens` and the command errors.
        """
        version = self.commands.version_of(station_id)
        removals = set(remove)
        wanted = self.target(tokens)
        async with self._locks[station_id]:
            current = await self.get(station_id)
            if mode == DIFFERENTIAL and tokens is not None:
                end = {**current.entries, **wanted}
            else:
                end = dict(wanted)
            for token in removals:
                end.pop(token, None)
            skipped = tuple(sorted(k for k, e in end.items() if not fits(version, e)))
            for token in skipped:
                end.pop(token)
            fallback = None
            if mode == DIFFERENTIAL:
                reported = await self._ask_version(station_id, actor)
                if reported is not None and max(reported, 0) != current.version:
                    fallback = (f"the station reports list version {reported}, the CSMS "
                                f"installed {current.version}")
                    current.reported_version = reported
            if mode == FULL or fallback:
                result = await self._send_full(station_id, version, current, end, actor)
                return _with(result, skipped=skipped, fallback=fallback)
            added = {k: e for k, e in end.items()
                     if k not in current.entries or not _same(current.entries[k], e, version)}
            gone = sorted(set(current.entries) - set(end))
            if not added and not gone:
                return PushResult(station_id, False, DIFFERENTIAL, current.version,
                                  skipped=skipped)
            items = [encode_entry(version, k, e) for k, e in sorted(added.items())]
            items += [encode_entry(version, k, None, current.entries[k].type) for k in gone]
            list_version = _next_version(current)
            answer = await self.commands.call(
                station_id, "SendLocalList",
                send_local_list_payload(version, DIFFERENTIAL, list_version, items), actor)
            status = answer.get("status")
            if status == "VersionMismatch":
                reported = await self._ask_version(station_id, actor)
                if reported is not None:
                    current.reported_version = reported
                current.version = max(current.version, list_version)
                result = await self._send_full(station_id, version, current, end, actor)
                return _with(result, skipped=skipped,
                             fallback="the station answered VersionMismatch")
            return PushResult(station_id, True, DIFFERENTIAL, list_version, status,
                              tuple(sorted(added)), tuple(gone), skipped)

    async def _send_full(self, station_id: str, version: OcppVersion, current: StationList,
                         end: dict[str, ListEntry], actor: Actor) -> PushResult:
        list_version = _next_version(current)
        items = [encode_entry(version, k, e) for k, e in sorted(end.items())]
        answer = await self.commands.call(
            station_id, "SendLocalList",
            send_local_list_payload(version, FULL, list_version, items), actor)
        return PushResult(station_id, True, FULL, list_version, answer.get("status"),
                          tuple(sorted(end)), tuple(sorted(set(current.entries) - set(end))))

    async def _ask_version(self, station_id: str, actor: Actor) -> int | None:
        """The station's list version, or None when it cannot tell (CALLERROR, timeout)."""
        try:
            return await self.get_version(station_id, actor)
        except CommandError as error:
            if error.outcome == "offline":
                raise
            log.info("%s: GetLocalListVersion failed (%s); trusting the CSMS's record",
                     station_id, error)
            return None

    async def get_version(self, station_id: str, actor: Actor) -> int:
        answer = await self.commands.call(station_id, "GetLocalListVersion", {}, actor)
        return int(answer.get("versionNumber", answer.get("listVersion", 0)))

    async def clear_cache(self, station_id: str, actor: Actor) -> dict[str, Any]:
        return await self.commands.call(station_id, "ClearCache", {}, actor)

    # -- answer listeners: where the station's answers become CSMS state ----------------------

    async def _on_send_local_list(self, station_id: str, _: OcppVersion,
                                  request: dict[str, Any], answer: dict[str, Any]) -> None:
        update_type, list_version, added, removed = decode_send_local_list(request)
        status = answer.get("status", "")
        now = self.clock()
        accepted = status == "Accepted"
        entry_keys = {k for item in request.get("localAuthorizationList") or [] for k in item}

        async def write(conn: AsyncConnection) -> None:
            row = (await conn.execute(select(t.local_list).where(
                t.local_list.c.station_id == station_id))).mappings().first()
            values: dict[str, Any] = {"last_status": status, "last_update_type": update_type,
                                      "last_attempt_at": now}
            if accepted:
                held = {} if row is None or update_type == FULL else {
                    e["token"]: e for e in row["entries"] or []}
                for token in removed:
                    held.pop(token, None)
                for token, entry in added.items():
                    record = self.auth.get(token)
                    if "idTag" in entry_keys and record is not None:
                        entry = replace(entry, type=record.type)  # 1.6 carries no type
                    held[token] = entry.to_json()
                values.update(version=list_version, reported_version=list_version,
                              reported_at=now, updated_at=now,
                              entries=[held[k] for k in sorted(held)])
                await conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                                   .values(local_list_version=list_version))
            await _save(conn, row is not None, station_id, values, now)

        await self.db.write(write)
        self.events.publish("local_list.updated", station_id=station_id, status=status,
                            update_type=update_type, version=list_version,
                            accepted=accepted)

    async def _on_get_local_list_version(self, station_id: str, _: OcppVersion,
                                         __: dict[str, Any], answer: dict[str, Any]) -> None:
        reported = int(answer.get("versionNumber", answer.get("listVersion", 0)))
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            row = (await conn.execute(select(t.local_list.c.station_id).where(
                t.local_list.c.station_id == station_id))).first()
            values: dict[str, Any] = {"reported_version": reported, "reported_at": now}
            if reported <= 0:
                # 0: the station holds no list (-1 in 1.6: it has no local list at all).
                values.update(version=0, entries=[], updated_at=now)
                await conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                                   .values(local_list_version=0))
            await _save(conn, row is not None, station_id, values, now)

        await self.db.write(write)

    async def _on_clear_cache(self, station_id: str, _: OcppVersion, __: dict[str, Any],
                              answer: dict[str, Any]) -> None:
        if answer.get("status") != "Accepted":
            return
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            row = (await conn.execute(select(t.local_list.c.station_id).where(
                t.local_list.c.station_id == station_id))).first()
            await _save(conn, row is not None, station_id, {"cache_cleared_at": now}, now)

        await self.db.write(write)
        self.events.publish("authorization.cache_cleared", station_id=station_id)


def _next_version(current: StationList) -> int:
    """A versionNumber above anything the station may hold (always > 0, D01.FR.18)."""
    return max(current.version, current.reported_version or 0) + 1


def _with(result: PushResult, **changes: Any) -> PushResult:
    return replace(result, **changes)


async def _save(conn: AsyncConnection, exists: bool, station_id: str, values: dict[str, Any],
                now: datetime) -> None:
    if exists:
        await conn.execute(update(t.local_list).where(t.local_list.c.station_id == station_id)
                           .values(**values))
    else:
        await conn.execute(insert(t.local_list).values(
            station_id=station_id, **{"version": 0, "entries": [], "updated_at": now, **values}))
