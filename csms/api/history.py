"""A station's history: connector status changes, meter values (with or without a
transaction) and the OCPP frames it exchanged recently."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import and_, select

from csms.api.security import Core, Reader
from csms.api.transactions import MAX_PAGE, MeterValueView, as_utc, meter_value_view
from csms.core import CsmsCore
from csms.storage import tables as t
from csms.storage.paging import read_page

router = APIRouter(prefix="/api/stations", tags=["station history"])


class StatusChange(BaseModel):
    evse_id: int = Field(description="0: the station as a whole.")
    connector_id: int = Field(description="0: the EVSE as a whole.")
    status: str
    error_code: str | None = Field(description="1.6 errorCode other than NoError.")
    info: str | None
    timestamp: datetime = Field(description="The station's own time of the change.")
    received_at: datetime
    late: bool = Field(description="Queued at the station while it was offline.")


class StatusHistoryPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[StatusChange]


class StationMeterValue(MeterValueView):
    transaction_id: str | None = Field(description="The OCPP transaction id, or None for a "
                                                   "reading outside any transaction.")


class MeterValuePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[StationMeterValue]


class FrameView(BaseModel):
    direction: str = Field(description="in: from the station; out: to the station.")
    at: datetime
    version: str
    message_type: int | None = Field(description="2 CALL, 3 CALLRESULT, 4 CALLERROR, 6 SEND.")
    message_id: str | None
    action: str | None
    outcome: str = Field(description="ok, lenient: ..., invalid: ..., malformed: ...")
    raw: str


def known_station(core: CsmsCore, station_id: str) -> None:
    if core.stations.get(station_id) is None and station_id not in core.recent_frames:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown station {station_id!r}")


_FROM = Query(None, alias="from", description="At or after this time (UTC if no zone).")
_TO = Query(None, alias="to", description="Before this time (UTC if no zone).")


@router.get("/{station_id}/status-history", response_model=StatusHistoryPage,
            summary="A station's connector status changes, newest first")
async def status_history(
        station_id: str, core: Core, _: Reader, evse_id: int | None = Query(None, ge=0),
        connector_id: int | None = Query(None, ge=0), since: datetime | None = _FROM,
        until: datetime | None = _TO, limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0)) -> StatusHistoryPage:
    known_station(core, station_id)
    c = t.status_history.c
    conditions = [c.station_id == station_id]
    if evse_id is not None:
        conditions.append(c.evse_id == evse_id)
    if connector_id is not None:
        conditions.append(c.connector_id == connector_id)
    if since is not None:
        conditions.append(c.timestamp >= as_utc(since))
    if until is not None:
        conditions.append(c.timestamp < as_utc(until))
    where = and_(*conditions)

    total, rows = await read_page(
        core.db, t.status_history, where,
        select(t.status_history).order_by(c.timestamp.desc(), c.id.desc()), limit, offset)
    return StatusHistoryPage(total=total, limit=limit, offset=offset,
                             items=[StatusChange(**r) for r in rows])


@router.get("/{station_id}/meter-values", response_model=MeterValuePage,
            summary="A station's meter values in time order, with or without a transaction")
async def station_meter_values(
        station_id: str, core: Core, _: Reader,
        without_transaction: bool = Query(False, description="Only readings outside any "
                                                             "transaction."),
        measurand: str | None = Query(None, max_length=64), since: datetime | None = _FROM,
        until: datetime | None = _TO, limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0)) -> MeterValuePage:
    known_station(core, station_id)
    m, tx = t.meter_values.c, t.transactions.c
    conditions = [m.station_id == station_id]
    if without_transaction:
        conditions.append(m.transaction_id.is_(None))
    if measurand is not None:
        conditions.append(m.measurand == measurand)
    if since is not None:
        conditions.append(m.timestamp >= as_utc(since))
    if until is not None:
        conditions.append(m.timestamp < as_utc(until))
    where = and_(*conditions)

    total, rows = await read_page(
        core.db, t.meter_values, where,
        select(t.meter_values, tx.ocpp_transaction_id)
        .select_from(t.meter_values.outerjoin(t.transactions, m.transaction_id == tx.id))
        .order_by(m.timestamp, m.id), limit, offset)
    items = [StationMeterValue(**meter_value_view(r).model_dump(),
                               transaction_id=r["ocpp_transaction_id"]) for r in rows]
    return MeterValuePage(total=total, limit=limit, offset=offset, items=items)


@router.get("/{station_id}/messages", response_model=list[FrameView],
            summary="The OCPP frames a station exchanged most recently, oldest first")
async def recent_messages(
        station_id: str, core: Core, _: Reader,
        action: str | None = Query(None, description="Only frames of this action."),
        limit: int = Query(200, ge=1, le=1000)) -> list[FrameView]:
    known_station(core, station_id)
    records = list(core.recent_frames.get(station_id, ()))
    if action is not None:
        records = [r for r in records if r.action == action]
    return [FrameView(direction=r.direction, at=datetime.fromtimestamp(r.wall_time, UTC),
                      version=r.version, message_type=r.message_type, message_id=r.message_id,
                      action=r.action, outcome=r.outcome, raw=r.raw)
            for r in records[-limit:]]
