"""Alerts: what fault detection found (faults, offline stations, stuck sessions, clock skew,
station-reported problems and security events), to list, acknowledge and resolve. Live changes
come on the event stream as ``alert.raised``, ``alert.updated``, ``alert.resolved`` and
``alert.acknowledged``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from csms.api.security import Commander, Core, Reader
from csms.api.transactions import MAX_PAGE
from csms.domain.alerts import alert_view

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

Severity = Literal["info", "warning", "critical"]
KIND_HELP = ("faulted, connector_error, notify_event, security_event, clock_skew, offline, "
             "stuck_session (other services may add kinds of their own)")


class AlertView(BaseModel):
    id: int
    station_id: str
    evse_id: int | None
    kind: str = Field(description=KIND_HELP)
    key: str = Field(description="What the alert is about; one open alert per key.")
    severity: Severity
    message: str
    details: dict[str, Any] = Field(description="Cause-specific facts; `remediation` when the "
                                                "CSMS acted, `resolution` once resolved.")
    first_seen: datetime
    last_seen: datetime
    count: int = Field(description="How often the cause was reported while open.")
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    open: bool


class AlertPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[AlertView]


def _view(row: dict[str, Any]) -> AlertView:
    return AlertView(**alert_view(row))


def _not_found(alert_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")


@router.get("", response_model=AlertPage, summary="Alerts, most recently seen first")
async def list_alerts(
        core: Core, _: Reader,
        state: Literal["open", "resolved"] | None = Query(None, description="open or resolved"),
        station_id: str | None = Query(None),
        severity: list[Severity] = Query([], description="Repeat for several."),
        kind: list[str] = Query([], description=KIND_HELP + "; repeat for several."),
        acknowledged: bool | None = Query(None),
        limit: int = Query(100, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0)) -> AlertPage:
    total, rows = await core.alerts.query(state=state, station_id=station_id, severity=severity,
                                          kind=kind, acknowledged=acknowledged, limit=limit,
                                          offset=offset)
    return AlertPage(total=total, limit=limit, offset=offset, items=[_view(r) for r in rows])


@router.get("/{alert_id}", response_model=AlertView, summary="One alert")
async def get_alert(alert_id: int, core: Core, _: Reader) -> AlertView:
    row = await core.alerts.get(alert_id)
    if row is None:
        raise _not_found(alert_id)
    return _view(row)


@router.post("/{alert_id}/acknowledge", response_model=AlertView,
             summary="Acknowledge an alert (admin, operator, support); the first one counts")
async def acknowledge_alert(alert_id: int, core: Core, who: Commander) -> AlertView:
    row = await core.alerts.acknowledge(alert_id, who.name)
    if row is None:
        raise _not_found(alert_id)
    return _view(row)


@router.post("/{alert_id}/resolve", response_model=AlertView,
             summary="Resolve an alert by hand, e.g. a security event after investigation")
async def resolve_alert(alert_id: int, core: Core, who: Commander) -> AlertView:
    row = await core.alerts.resolve_by_id(alert_id, who.name)
    if row is None:
        raise _not_found(alert_id)
    return _view(row)
