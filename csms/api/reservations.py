"""Reservations (1.6 Reservation, 2.0.1 block H): reserve an EVSE (or any EVSE of a station)
for a token until an expiry time, list them, cancel them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field, model_validator

from csms.api.commands import ERRORS, command_http_error
from csms.api.schemas import ErrorBody
from csms.api.security import Commander, Core, Reader, actor
from csms.api.stations import require_station
from csms.core import CsmsCore
from csms.domain.commands import CommandError
from csms.domain.reservations import (
    Reservation,
    ReservationConflict,
    ReservationNotActive,
    ReservationRequest,
)

router = APIRouter(prefix="/api", tags=["reservations"])

TokenType = Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
                    "NoAuthorization"]
ConnectorType = Literal["cCCS1", "cCCS2", "cG105", "cTesla", "cType1", "cType2", "s309-1P-16A",
                        "s309-1P-32A", "s309-3P-16A", "s309-3P-32A", "sBS1361", "sCEE-7-7",
                        "sType2", "sType3", "Other1PhMax16A", "Other1PhOver16A", "Other3Ph",
                        "Pan", "wInductive", "wResonant", "Undetermined", "Unknown"]
Status = Literal["Requested", "Accepted", "Rejected", "Faulted", "Occupied", "Unavailable",
                 "Failed", "Used", "Expired", "Cancelled", "Removed"]

RESERVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorBody, "description": "Unknown station."},
    409: {"model": ErrorBody, "description": "The station is not connected, the EVSE already "
                                             "has an active reservation, or the id is taken."},
}


class ReservationBody(BaseModel):
    evse_id: int | None = Field(
        None, ge=0, description="The EVSE (1.6: connector) to reserve; none or 0: any EVSE of "
                                "the station.")
    id_token: str = Field(min_length=1, max_length=36,
                          description="The token the reservation is for (1.6: at most 20).")
    token_type: TokenType | None = Field(
        None, description="2.0.1 idToken type; default: the token's known type or ISO14443.")
    group_id: str | None = Field(
        None, max_length=36, description="Group whose tokens may use it too (1.6 parentIdTag, "
                                         "2.0.1 groupIdToken); default: the token's group.")
    connector_type: ConnectorType | None = Field(
        None, description="2.0.1 only: reserve a connector of this type.")
    expiry: AwareDatetime | None = Field(None, description="When the reservation ends.")
    expires_in_s: float | None = Field(None, gt=0, le=7 * 86400,
                                       description="Or: seconds from now until it ends.")
    id: int | None = Field(None, ge=0, le=2**31 - 1,
                           description="The reservationId; default: the next free one.")

    @model_validator(mode="after")
    def _one_expiry(self) -> ReservationBody:
        if (self.expiry is None) == (self.expires_in_s is None):
            raise ValueError("give exactly one of expiry and expires_in_s")
        return self


class ReservationCreate(ReservationBody):
    station_id: str = Field(min_length=1, max_length=255)


class ReservationView(BaseModel):
    id: int = Field(description="The OCPP reservationId.")
    station_id: str
    evse_id: int | None = Field(description="None: any EVSE of the station.")
    id_token: str
    token_type: str | None
    group_id: str | None
    connector_type: str | None
    expiry: datetime
    status: Status = Field(description="Requested, then the station's answer (Accepted, "
                                       "Rejected, Faulted, Occupied, Unavailable) or Failed, "
                                       "then Used, Expired, Cancelled or Removed.")
    active: bool
    transaction_id: str | None = Field(description="The transaction that used it.")
    detail: str | None
    created_at: datetime | None
    updated_at: datetime | None
    ended_at: datetime | None


class ReservationResult(BaseModel):
    reservation: ReservationView
    response: dict[str, Any] = Field(description="The station's answer as received.")


def reservation_view(r: Reservation) -> ReservationView:
    return ReservationView(
        id=r.id, station_id=r.station_id, evse_id=r.evse_id, id_token=r.id_token,
        token_type=r.token_type, group_id=r.group_id, connector_type=r.connector_type,
        expiry=r.expiry, status=r.status, active=r.active, transaction_id=r.transaction_id,
        detail=r.detail, created_at=r.created_at, updated_at=r.updated_at, ended_at=r.ended_at)


async def _reserve(core: CsmsCore, station_id: str, body: ReservationBody,
                   who: Any) -> ReservationResult:
    require_station(core, station_id)
    expiry = body.expiry or core.clock() + timedelta(seconds=body.expires_in_s or 0)
    try:
        reservation, answer = await core.reservations.reserve(ReservationRequest(
            station_id, body.id_token, expiry, body.evse_id, body.token_type, body.group_id,
            body.connector_type, body.id), actor(who))
    except ReservationConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except ValueError as error:
        raise HTTPException(422, [{"loc": ["body", "expiry"], "msg": str(error),
                                   "type": "value_error"}]) from error
    except CommandError as error:
        raise command_http_error(error) from error
    return ReservationResult(reservation=reservation_view(reservation), response=answer)


@router.post("/reservations", response_model=ReservationResult,
             status_code=status.HTTP_201_CREATED, responses=RESERVE_ERRORS,
             summary="Reserve an EVSE for a token (ReserveNow)")
async def create_reservation(body: ReservationCreate, who: Commander,
                             core: Core) -> ReservationResult:
    return await _reserve(core, body.station_id, body, who)


@router.post("/stations/{station_id}/reservations", response_model=ReservationResult,
             status_code=status.HTTP_201_CREATED, responses=RESERVE_ERRORS,
             summary="Reserve an EVSE of this station for a token (ReserveNow)")
async def create_station_reservation(station_id: str, body: ReservationBody, who: Commander,
                                     core: Core) -> ReservationResult:
    return await _reserve(core, station_id, body, who)


@router.get("/reservations", response_model=list[ReservationView],
            summary="Reservations, newest first")
async def list_reservations(core: Core, _: Reader, station_id: str | None = None,
                            status_: Status | None = Query(None, alias="status"),
                            active: bool | None = Query(
                                None, description="Only active (Requested/Accepted) ones, or "
                                                  "only ended ones."),
                            limit: int = Query(500, ge=1, le=5000)) -> list[ReservationView]:
    return [reservation_view(r) for r in await core.reservations.list(
        station_id=station_id, status=status_, active=active, limit=limit)]


@router.get("/stations/{station_id}/reservations", response_model=list[ReservationView],
            responses={404: {"model": ErrorBody}},
            summary="A station's reservations, newest first")
async def list_station_reservations(station_id: str, core: Core, _: Reader,
                                    active: bool | None = None) -> list[ReservationView]:
    require_station(core, station_id)
    return [reservation_view(r) for r in await core.reservations.list(
        station_id=station_id, active=active)]


@router.get("/reservations/{reservation_id}", response_model=ReservationView,
            responses={404: {"model": ErrorBody}}, summary="One reservation")
async def get_reservation(reservation_id: int, core: Core, _: Reader) -> ReservationView:
    reservation = await core.reservations.get(reservation_id)
    if reservation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reservation {reservation_id}")
    return reservation_view(reservation)


@router.delete("/reservations/{reservation_id}", response_model=ReservationResult,
               responses={**ERRORS, 404: {"model": ErrorBody},
                          409: {"model": ErrorBody,
                                "description": "The station is not connected, or the "
                                               "reservation has already ended."}},
               summary="Cancel a reservation (CancelReservation)")
async def cancel_reservation(reservation_id: int, who: Commander,
                             core: Core) -> ReservationResult:
    try:
        outcome = await core.reservations.cancel(reservation_id, actor(who))
    except ReservationNotActive as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except CommandError as error:
        raise command_http_error(error) from error
    if outcome is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reservation {reservation_id}")
    reservation, answer = outcome
    return ReservationResult(reservation=reservation_view(reservation), response=answer)
