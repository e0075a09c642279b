"""Transactions, 1.6 and 2.0.1 alike: lists with filters, and one transaction with its meter
series. A 1.6 transaction's id is the integer the CSMS issued; a 2.0.1 transaction's is the
station's transactionId; ``ocpp_version`` tells them apart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import and_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.api.security import Core, Reader
from csms.api.stations import require_station
from csms.api.tariffs import SessionCostView, cost_view
from csms.core import CsmsCore
from csms.storage import tables as t
from csms.storage.paging import read_page

router = APIRouter(prefix="/api", tags=["transactions"])

MAX_PAGE = 1000


def as_utc(value: datetime | None) -> datetime | None:
    """A query parameter's time in UTC; one without a zone is read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TransactionView(BaseModel):
    station_id: str
    transaction_id: str = Field(description="1.6: the integer the CSMS issued, as text; "
                                            "2.0.1: the station's transactionId.")
    ocpp_version: str
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    stop_id_token: str | None
    group_id: str | None
    auth_status: str | None = Field(description="The token's verdict at the start.")
    state: Literal["Active", "Completed"]
    charging_state: str | None = Field(description="2.0.1 chargingState (None in 1.6).")
    started_at: datetime | None
    stopped_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float = Field(description="Energy delivered so far, never negative.")
    stop_reason: str | None
    remote_start_id: int | None
    reservation_id: int | None
    late: bool = Field(description="Its start arrived after the station was offline.")
    seq_gaps: list[int] = Field(description="2.0.1 TransactionEvent seqNos not received.")
    last_energy_flow_at: datetime | None
    updated_at: datetime


class MeterValueView(BaseModel):
    timestamp: datetime = Field(description="The station's own time of the reading.")
    received_at: datetime
    evse_id: int
    measurand: str
    phase: str | None
    location: str | None
    context: str | None
    unit: str | None = Field(description="SI unit: Wh, W, A, V, ...")
    value: float
    late: bool = Field(description="Queued at the station while it was offline.")
    flag: str | None = Field(description="non_monotonic, zero_after_offline, ... when the "
                                         "reading was not used for energy.")
    signed_data: str | None
    signing_method: str | None
    encoding_method: str | None
    public_key: str | None


class TransactionDetail(TransactionView):
    meter_values: list[MeterValueView] = Field(
        description="The transaction's readings, ordered by their own timestamps.")
    cost: SessionCostView | None = Field(
        None, description="What it costs under its tariff (running while active, final once "
                          "ended), line by line; None when no tariff applies.")


class TransactionPage(BaseModel):
    total: int = Field(description="How many transactions match the filters.")
    limit: int
    offset: int
    items: list[TransactionView]


def transaction_view(row: dict[str, Any]) -> TransactionView:
    return TransactionView(**{**row, "transaction_id": row["ocpp_transaction_id"],
                              "seq_gaps": row.get("seq_gaps") or []})


def meter_value_view(row: dict[str, Any]) -> MeterValueView:
    return MeterValueView(**row)


async def list_transactions(core: CsmsCore, *, station_id: str | None, id_token: str | None,
                            state: str | None, started_from: datetime | None,
                            started_to: datetime | None, limit: int,
                            offset: int) -> TransactionPage:
    c = t.transactions.c
    conditions = []
    if station_id is not None:
        conditions.append(c.station_id == station_id)
    if id_token is not None:
        conditions.append(c.id_token == id_token)
    if state is not None:
        conditions.append(c.state == state)
    if started_from is not None:
        conditions.append(c.started_at >= as_utc(started_from))
    if started_to is not None:
        conditions.append(c.started_at < as_utc(started_to))
    where = and_(true(), *conditions)

    total, rows = await read_page(
        core.db, t.transactions, where,
        select(t.transactions).order_by(c.started_at.desc(), c.id.desc()), limit, offset)
    return TransactionPage(total=total, limit=limit, offset=offset,
                           items=[transaction_view(r) for r in rows])


_STATE = Query(None, description="Active or Completed.")
_FROM = Query(None, description="Started at or after this time (UTC if no zone is given).")
_TO = Query(None, description="Started before this time (UTC if no zone is given).")
_LIMIT = Query(100, ge=1, le=MAX_PAGE)
_OFFSET = Query(0, ge=0)


@router.get("/transactions", response_model=TransactionPage,
            summary="Transactions of all stations, newest first, with filters")
async def get_transactions(
        core: Core, _: Reader, station_id: str | None = Query(None),
        id_token: str | None = Query(None, description="The token that started it."),
        state: Literal["Active", "Completed"] | None = _STATE,
        started_from: datetime | None = _FROM, started_to: datetime | None = _TO,
        limit: int = _LIMIT, offset: int = _OFFSET) -> TransactionPage:
    return await list_transactions(core, station_id=station_id, id_token=id_token, state=state,
                                   started_from=started_from, started_to=started_to,
                                   limit=limit, offset=offset)


@router.get("/transactions/{station_id}/{transaction_id}", response_model=TransactionDetail,
            summary="One transaction with its meter values in time order")
async def get_transaction(station_id: str, transaction_id: str, core: Core,
                          _: Reader) -> TransactionDetail:
    row = await core.transactions.get(station_id, transaction_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no transaction {transaction_id!r} at station {station_id!r}")

    async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
        m = t.meter_values.c
        rows = await conn.execute(select(t.meter_values).where(m.transaction_id == row["id"])
                                  .order_by(m.timestamp, m.id))
        return [dict(r) for r in rows.mappings()]

    samples = await core.db.read(read)
    cost = await core.tariffs.price(row)
    return TransactionDetail(**transaction_view(row).model_dump(),
                             meter_values=[meter_value_view(s) for s in samples],
                             cost=None if cost is None else cost_view(cost))


@router.get("/stations/{station_id}/transactions", response_model=TransactionPage,
            summary="One station's transactions, newest first")
async def get_station_transactions(
        station_id: str, core: Core, _: Reader, id_token: str | None = Query(None),
        state: Literal["Active", "Completed"] | None = _STATE,
        started_from: datetime | None = _FROM, started_to: datetime | None = _TO,
        limit: int = _LIMIT, offset: int = _OFFSET) -> TransactionPage:
    require_station(core, station_id)
    return await list_transactions(core, station_id=station_id, id_token=id_token, state=state,
                                   started_from=started_from, started_to=started_to,
                                   limit=limit, offset=offset)
