"""Firmware updates: the request (1.6 UpdateFirmware, 1.6 SignedUpdateFirmware, 2.0.1
UpdateFirmware), the station's answer, and every status it reports afterwards (1.6
FirmwareStatusNotification and SignedFirmwareStatusNotification, 2.0.1
FirmwareStatusNotification) as history of kind ``Firmware``, with the latest status on the
station (``stations.firmware_status``) and on the request.

A status is related to its request by requestId; a 1.6 FirmwareStatusNotification has none and
belongs to the station's latest plain UpdateFirmware (an ``Idle`` belongs to none: it answers
a TriggerMessage when nothing is going on). The same status reported twice in a row (a retried
notification) is stored once.

2.0.1 Local Controllers (use cases L03, L04): PublishFirmware asks one to download a firmware
file and publish it to the stations behind it, UnpublishFirmware to stop. The requests are
stored as requests of kind ``PublishFirmware``, every PublishFirmwareStatusNotification as
history of that kind, related by requestId, with the URIs of a ``Published`` notification;
an answer ``Unpublished`` marks the publications of that checksum unpublished.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj import OcppVersion
from csms.domain.commands import Actor, CommandInvalid, CommandService
from csms.domain.maintenance import FIRMWARE, FIRMWARE_EVENT, PENDING, MaintenanceStore, Pending
from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.ocpp import maintenance_wire as wire
from csms.storage import tables as t

IDLE = "Idle"
# maintenance_requests.kind and station_events.kind of firmware a Local Controller publishes
PUBLISH = "PublishFirmware"
UNPUBLISHED = "Unpublished"
# Statuses after which nothing more happens for the request.
TERMINAL = frozenset({"Installed", "InstallationFailed", "DownloadFailed", "InvalidSignature",
                      "InstallVerificationFailed", "Canceled"})


@dataclass(frozen=True, slots=True)
class FirmwareUpdate:
    location: str
    retrieve_at: datetime
    install_at: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None
    signing_certificate: str | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """A request the station answered: its id, the action sent, the station's status (None
    where the answer has none, like 1.6 UpdateFirmware's) and the answer itself."""

    request_id: int
    action: str
    status: str | None
    response: dict[str, Any]
    request: dict[str, Any]


class FirmwareService:
    def __init__(self, store: MaintenanceStore, events: EventBus, commands: CommandService,
                 clock: Clock = utcnow) -> None:
        self.store = store
        self.events = events
        self.commands = commands
        self.clock = clock
        for action in ("UpdateFirmware", "SignedUpdateFirmware"):
            commands.on_answer(action, functools.partial(self._answered, action))
        commands.on_answer("PublishFirmware", self._publish_answered)
        commands.on_answer("UnpublishFirmware", self._unpublish_answered)

    async def update(self, station_id: str, request: FirmwareUpdate,
                     actor: Actor) -> RequestOutcome:
        """Send the station its version's firmware update request; the answer is recorded
        (by the answer listener) before this returns."""
        version = self.commands.version_of(station_id)
        request_id = self.store.next_request_id()
        try:
            action, payload = wire.update_firmware(
                version, request_id, location=request.location, retrieve_at=request.retrieve_at,
                install_at=request.install_at, retries=request.retries,
                retry_interval_s=request.retry_interval_s,
                signing_certificate=request.signing_certificate, signature=request.signature)
        except wire.NotInVersion as exc:
            raise CommandInvalid(str(exc)) from exc
        token = PENDING.set(Pending(request_id, actor.name))
        try:
            answer = await self.commands.call(station_id, action, payload, actor)
        finally:
            PENDING.reset(token)
        return RequestOutcome(request_id, action, answer.get("status"), answer, payload)

    async def _answered(self, action: str, station_id: str, version: OcppVersion,
                        request: dict[str, Any], answer: dict[str, Any]) -> None:
        pending = PENDING.get()
        if "requestId" in request:
            request_id = int(request["requestId"])
            self.store.observe_request_id(request_id)
        else:
            request_id = pending.request_id if pending else self.store.next_request_id()
        status = answer.get("status", "Accepted")  # 1.6 UpdateFirmware: an empty answer
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            await self.store.upsert_request(
                conn, station_id, FIRMWARE, request_id, action=action, parameters=request,
                response_status=status, response=answer,
                actor=pending.actor if pending else None, created_at=now)
            if status == "AcceptedCanceled":
                await self.store.cancel_others(conn, station_id, FIRMWARE, request_id, TERMINAL)

        await self.store.db.write(write)

    async def status(self, station_id: str, status: str, request_id: int | None = None, *,
                     latest_plain_request: bool = False) -> int | None:
        """A firmware status the station reports. ``latest_plain_request``: the message has no
        requestId by design (1.6 FirmwareStatusNotification); relate it to the latest plain
        UpdateFirmware. Returns the request id it was related to."""
        now = self.clock()

        async def write(conn: AsyncConnection) -> tuple[bool, int | None]:
            related = request_id
            if related is None and latest_plain_request and status != IDLE:
                related = await self.store.latest_request_id(conn, station_id, FIRMWARE,
                                                             "UpdateFirmware")
            last = await self.store.latest_event(conn, station_id, FIRMWARE_EVENT)
            if last is not None and last["summary"] == status and last["request_id"] == related:
                return False, related  # the same status again: a retried notification
            await self.store.insert_event(conn, station_id, FIRMWARE_EVENT, now,
                                          {"status": status, "requestId": related},
                                          request_id=related, summary=status)
            await conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                               .values(firmware_status=status))
            if related is not None:
                await self.store.upsert_request(conn, station_id, FIRMWARE, related,
                                                status=status, status_at=now)
            return True, related

        new, related = await self.store.db.write(write)
        if new:
            self.events.publish("station.firmware", station_id=station_id, status=status,
                                request_id=related)
        return related

    # -- Local Controller: publishing firmware (2.0.1 L03, L04) ----------------------------------

    async def _publish_answered(self, station_id: str, version: OcppVersion,
                                request: dict[str, Any], answer: dict[str, Any]) -> None:
        request_id = int(request["requestId"])
        self.store.observe_request_id(request_id)
        pending = PENDING.get()
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            await self.store.upsert_request(
                conn, station_id, PUBLISH, request_id, action="PublishFirmware",
                parameters=request, response_status=answer.get("status"), response=answer,
                actor=pending.actor if pending else None, created_at=now)

        await self.store.db.write(write)

    async def _unpublish_answered(self, station_id: str, version: OcppVersion,
                                  request: dict[str, Any], answer: dict[str, Any]) -> None:
        """Unpublished: every publication of that checksum is over (NoFirmware and
        DownloadOngoing change nothing the CSMS knows)."""
        if answer.get("status") != UNPUBLISHED:
            return
        checksum = str(request.get("checksum", "")).lower()
        _, rows = await self.store.requests(station_id, PUBLISH, limit=1000)
        published = [r["request_id"] for r in rows
                     if str((r["parameters"] or {}).get("checksum", "")).lower() == checksum]
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            for request_id in published:
                await self.store.upsert_request(conn, station_id, PUBLISH, request_id,
                                                status=UNPUBLISHED, status_at=now)
            await self.store.insert_event(conn, station_id, PUBLISH, now,
                                          {"status": UNPUBLISHED, "checksum": checksum},
                                          summary=UNPUBLISHED)

        await self.store.db.write(write)
        for request_id in published:
            self.events.publish("station.firmware_publication", station_id=station_id,
                                status=UNPUBLISHED, request_id=request_id)

    async def publish_status(self, station_id: str, status: str, request_id: int | None = None,
                             locations: list[str] | None = None) -> int | None:
        """A PublishFirmwareStatusNotification of a Local Controller; one without requestId
        belongs to its latest PublishFirmware (an Idle to none). Returns the request id."""
        now = self.clock()
        payload: dict[str, Any] = {"status": status, "requestId": request_id}
        if locations:
            payload["location"] = list(locations)

        async def write(conn: AsyncConnection) -> tuple[bool, int | None]:
            related = request_id
            if related is None and status != IDLE:
                related = await self.store.latest_request_id(conn, station_id, PUBLISH,
                                                             "PublishFirmware")
            last = await self.store.latest_event(conn, station_id, PUBLISH)
            if last is not None and last["summary"] == status and \
                    last["request_id"] == related and last["payload"].get("location") == \
                    payload.get("location"):
                return False, related  # the same notification again: a retry
            await self.store.insert_event(conn, station_id, PUBLISH, now,
                                          {**payload, "requestId": related},
                                          request_id=related, summary=status)
            if related is not None:
                await self.store.upsert_request(conn, station_id, PUBLISH, related,
                                                status=status, status_at=now)
            return True, related

        new, related = await self.store.db.write(write)
        if new:
            self.events.publish("station.firmware_publication", station_id=station_id,
                                status=status, request_id=related)
        return related
