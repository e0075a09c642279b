"""The audit log: every command sent to a station, who asked (an API token's name, or "csms"
for the CSMS's own policies such as remediation), what the station answered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, select, true

from csms.api.security import Commander, Core
from csms.api.transactions import MAX_PAGE, as_utc
from csms.storage import tables as t
from csms.storage.paging import read_page

router = APIRouter(prefix="/api", tags=["audit"])


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="The API token's name, or csms for the CSMS itself.")
    role: str
    action: str = Field(description="The OCPP action sent.")
    station_id: str | None
    request: dict[str, Any] | None
    response: dict[str, Any] | None = Field(description="The answer, or the error's details.")
    outcome: str = Field(description="answered, callerror, timeout, offline or invalid.")


class AuditPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AuditEntry]


@router.get("/audit", response_model=AuditPage,
            summary="The audit log, newest first (admin, operator, support)")
async def audit_log(
        core: Core, _: Commander, station_id: str | None = Query(None),
        actor: str | None = Query(None, description="The API token's name, or csms."),
        action: str | None = Query(None, description="An OCPP action, e.g. Reset."),
        outcome: str | None = Query(None, description="answered, callerror, timeout, offline, "
                                                      "invalid"),
        since: datetime | None = Query(None, alias="from"),
        until: datetime | None = Query(None, alias="to"),
        limit: int = Query(100, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0)) -> AuditPage:
    c = t.audit_log.c
    conditions = []
    for column, value in ((c.station_id, station_id), (c.actor, actor), (c.action, action),
                          (c.outcome, outcome)):
        if value is not None:
            conditions.append(column == value)
    if since is not None:
        conditions.append(c.at >= as_utc(since))
    if until is not None:
        conditions.append(c.at < as_utc(until))
    where = and_(true(), *conditions)

    total, rows = await read_page(
        core.db, t.audit_log, where,
        select(t.audit_log).order_by(c.at.desc(), c.id.desc()), limit, offset)
    return AuditPage(total=total, limit=limit, offset=offset,
                     items=[AuditEntry(**r) for r in rows])
