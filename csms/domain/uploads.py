"""Where stations upload logs and diagnostics: ``PUT`` or ``POST /uploads/{token}`` on the
CSMS's own port (``csms/uploads.py``).

Each log or diagnostics request the CSMS sends without a location of the operator's gets an
upload slot: an unguessable token (only its SHA-256 is stored) valid for
``upload_token_ttl_s``, which is the location the station is given. A station may upload the
raw file (``PUT``/``POST`` with any content type, the name from the URL's last segment or a
``Content-Disposition`` header) or a ``multipart/form-data`` form (the first file part).
Files land under ``upload_dir/<station>/<slot>-<name>``; the same name uploaded again to the
same slot (a retried upload) replaces the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import email.utils
import hashlib
import logging
import mmap
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.config import CsmsConfig
from csms.domain.maintenance import UPLOAD_EVENT, MaintenanceStore, dedupe_key
from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert

log = logging.getLogger("chargeloop.csms.uploads")

UPLOAD_PATH = "/uploads/"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class UploadReceipt:
    id: int
    station_id: str
    request_id: int | None
    filename: str
    size_bytes: int
    sha256: str
    replaced: bool


def safe_name(name: str, fallback: str = "upload.bin") -> str:
    """A file name that is one harmless path segment."""
    name = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).lstrip(".")[:200]
    return name or fallback


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _header_param(value: str | None, header: str, param: str) -> str | None:
    if not value:
        return None
    message = email.message.Message()
    message[header] = value
    found = message.get_param(param, header=header)
    if isinstance(found, tuple):  # RFC 2231 encoded
        found = email.utils.collapse_rfc2231_value(found)
    return str(found) if found else None


def _multipart_part(path: Path, boundary: bytes) -> tuple[int, int, str | None, str | None]:
    """(start, end, filename, content type) of the file in a multipart body: the first part
    with a file name, else the first part."""
    parts: list[tuple[int, int, str | None, str | None]] = []
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0,
                                               access=mmap.ACCESS_READ) as body:
        delimiter = b"--" + boundary
        position = body.find(delimiter)
        while position != -1:
            after = position + len(delimiter)
            if body[after:after + 2] == b"--":
                break  # the closing delimiter
            headers_start = body.find(b"\r\n", after)
            headers_end = body.find(b"\r\n\r\n", headers_start)
            if headers_start == -1 or headers_end == -1:
                break
            headers = body[headers_start + 2:headers_end].decode("latin-1")
            start = headers_end + 4
            end = body.find(b"\r\n" + delimiter, start)
            if end == -1:
                break
            message = email.message_from_string(headers + "\r\n\r\n")
            parts.append((start, end, message.get_filename(), message.get("Content-Type")))
            position = end + 2
    if not parts:
        raise UploadRefused(400, "multipart body without a part")
    return next((p for p in parts if p[2]), parts[0])


def _copy_range(source: Path, target: Path, start: int, end: int) -> str:
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "wb") as dst:
        src.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = src.read(min(1 << 20, remaining))
            if not chunk:
                break
            digest.update(chunk)
            dst.write(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


class UploadService:
    def __init__(self, db: Database, events: EventBus, config: CsmsConfig,
                 store: MaintenanceStore, clock: Clock = utcnow) -> None:
        self.db = db
        self.events = events
        self.config = config
        self.store = store
        self.clock = clock

    @property
    def root(self) -> Path:
        return Path(self.config.upload_dir)

    def location(self, base_url: str | None, token: str) -> str:
        """The URL a station uploads to: ``public_url`` if configured, else ``base_url`` (the
        address the operator reached the CSMS at), else the bound host and port."""
        base = self.config.public_url or base_url or \
            f"http://{self.config.host}:{self.config.port}"
        return base.rstrip("/") + UPLOAD_PATH + token

    async def issue(self, station_id: str, request_id: int | None, purpose: str) -> str:
        token = secrets.token_urlsafe(24)
        now = self.clock()
        await self.db.write(lambda conn: conn.execute(insert(t.upload_slots).values(
            token_hash=token_hash(token), station_id=station_id, request_id=request_id,
            purpose=purpose, created_at=now,
            expires_at=now + timedelta(seconds=self.config.upload_token_ttl_s))))
        return token

    async def _slot(self, token: str) -> dict[str, Any]:
        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.upload_slots).where(
                t.upload_slots.c.token_hash == token_hash(token)))).mappings().first()
            return dict(row) if row is not None else None

        slot = await self.db.read(read)
        if slot is None or slot["expires_at"] < self.clock():
            raise UploadRefused(404, "no such upload location (or it expired)")
        return slot

    async def receive(self, token: str, body: AsyncIterator[bytes], *,
                      filename: str | None = None, content_type: str | None = None,
                      content_disposition: str | None = None,
                      remote_addr: str | None = None) -> UploadReceipt:
        slot = await self._slot(token)
        folder = self.root / safe_name(slot["station_id"], "station")
        folder.mkdir(parents=True, exist_ok=True)
        incoming = folder / f".incoming-{secrets.token_hex(8)}"
        try:
            size, digest = await self._spool(body, incoming)
            boundary = None
            if content_type and content_type.lower().startswith("multipart/"):
                boundary = _header_param(content_type, "Content-Type", "boundary")
                if boundary is None:
                    raise UploadRefused(400, "multipart body without a boundary")
            if boundary is not None:
                if size == 0:
                    raise UploadRefused(400, "empty multipart body")
                start, end, part_name, part_type = await asyncio.to_thread(
                    _multipart_part, incoming, boundary.encode("latin-1"))
                extracted = folder / f".incoming-{secrets.token_hex(8)}"
                digest = await asyncio.to_thread(_copy_range, incoming, extracted, start, end)
                incoming.unlink()
                incoming, size = extracted, end - start
                filename = filename or part_name
                content_type = part_type
            filename = filename or _header_param(content_disposition, "Content-Disposition",
                                                 "filename")
            name = safe_name(filename or f"{slot['purpose']}-{slot['request_id'] or slot['id']}")
            relative = Path(folder.name) / f"{slot['id']}-{name}"
            target = self.root / relative
            replaced = target.exists()
            os.replace(incoming, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                incoming.unlink()
        now = self.clock()
        row = {"slot_id": slot["id"], "station_id": slot["station_id"],
               "request_id": slot["request_id"], "filename": name, "path": str(relative),
               "size_bytes": size, "sha256": digest, "content_type": content_type,
               "remote_addr": remote_addr, "received_at": now}

        async def write(conn: AsyncConnection) -> int:
            await upsert(conn, t.uploads, [row], ("slot_id", "filename"))
            upload_id = (await conn.execute(select(t.uploads.c.id).where(and_(
                t.uploads.c.slot_id == slot["id"], t.uploads.c.filename == name)))).scalar_one()
            await self.store.insert_event(
                conn, slot["station_id"], UPLOAD_EVENT, now,
                {"filename": name, "sizeBytes": size, "sha256": digest,
                 "purpose": slot["purpose"], "uploadId": upload_id},
                request_id=slot["request_id"], summary=name,
                dedupe=dedupe_key(slot["id"], name, digest))
            return int(upload_id)

        upload_id = await self.db.write(write)
        log.info("%s uploaded %s (%d bytes)", slot["station_id"], name, size)
        self.events.publish("station.upload", station_id=slot["station_id"],
                            request_id=slot["request_id"], upload_id=upload_id, filename=name,
                            size_bytes=size, purpose=slot["purpose"])
        return UploadReceipt(upload_id, slot["station_id"], slot["request_id"], name, size,
                             digest, replaced)

    async def _spool(self, body: AsyncIterator[bytes], path: Path) -> tuple[int, str]:
        digest = hashlib.sha256()
        size = 0
        limit = self.config.upload_max_bytes
        with open(path, "wb") as handle:
            async for chunk in body:
                if not chunk:
                    continue
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(413, f"upload larger than {limit} bytes")
                digest.update(chunk)
                handle.write(chunk)
        return size, digest.hexdigest()

    # -- reading --------------------------------------------------------------------------------

    async def list(self, station_id: str, *, request_id: int | None = None, limit: int = 100,
                   offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        c = t.uploads.c
        conditions = [c.station_id == station_id]
        if request_id is not None:
            conditions.append(c.request_id == request_id)
        where = and_(*conditions)

        async def read(conn: AsyncConnection) -> tuple[int, list[dict[str, Any]]]:
            total = (await conn.execute(select(func.count()).select_from(t.uploads)
                                        .where(where))).scalar_one()
            rows = await conn.execute(select(t.uploads, t.upload_slots.c.purpose)
                                      .join(t.upload_slots, t.upload_slots.c.id == c.slot_id)
                                      .where(where).order_by(c.received_at.desc(), c.id.desc())
                                      .limit(limit).offset(offset))
            return int(total), [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    async def get(self, upload_id: int) -> dict[str, Any] | None:
        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.uploads, t.upload_slots.c.purpose)
                                      .join(t.upload_slots,
                                            t.upload_slots.c.id == t.uploads.c.slot_id)
                                      .where(t.uploads.c.id == upload_id))).mappings().first()
            return dict(row) if row is not None else None

        return await self.db.read(read)

    def file_of(self, upload: dict[str, Any]) -> Path:
        return self.root / upload["path"]

