"""Bookings: drivers book an EVSE for a time window (``/api/me/bookings``); operators and
support see and cancel them (``/api/bookings``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field

from csms.api.reservations import ConnectorType
from csms.api.schemas import ErrorBody
from csms.api.security import Commander, Core, DriverAccount, Reader
from csms.domain.bookings import (
    Booking,
    BookingConflict,
    BookingInvalid,
    BookingRequest,
    BookingUnknown,
)

router = APIRouter(prefix="/api", tags=["bookings"])

Status = Literal["pending", "reserved", "used", "cancelled", "expired", "no_show", "failed"]
Limit = Annotated[int, Query(ge=1, le=5000)]

CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown station, EVSE or connector type."},
    409: {"model": ErrorBody, "description": "The EVSE is booked or reserved in that window, "
                                             "the account already has a booking then, or it "
                                             "has no id token."},
}
CANCEL_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such booking."},
    409: {"model": ErrorBody, "description": "The booking has already ended."},
}


class BookingCreate(BaseModel):
    station_id: str = Field(min_length=1, max_length=255)
    evse_id: int | None = Field(None, ge=1, le=2**31 - 1,
                                description="The EVSE to book; none: any EVSE of the station "
                                            "with a connector of connector_type.")
    connector_type: ConnectorType | None = Field(
        None, description="The connector the car needs (2.0.1 stations are told).")
    starts_at: AwareDatetime = Field(description="Start of the window (with a time zone).")
    ends_at: AwareDatetime = Field(description="End of the window; at most the configured "
                                               "maximum (default 2 h) after the start.")
    id_token: str | None = Field(None, min_length=1, max_length=255,
                                 description="Which of the account's id tokens the station "
                                             "holds the EVSE for; default: the first.")


class BookingView(BaseModel):
    id: int
    account_id: str
    station_id: str
    evse_id: int
    connector_type: str | None
    id_token: str
    starts_at: datetime
    ends_at: datetime
    status: Status = Field(description="pending, then reserved (ReserveNow accepted, a lead "
                                       "time before the start) or failed; then used, "
                                       "cancelled, expired or no_show.")
    active: bool = Field(description="pending or reserved.")
    reservation_id: int | None = Field(description="The OCPP reservationId, once sent.")
    transaction_id: str | None = Field(description="The transaction that used it.")
    detail: str | None = Field(description="Why it failed, or what went wrong on the way.")
    reminded_at: datetime | None
    no_show_fee: str | None = Field(description="Decimal amount charged for not showing up.")
    fee_currency: str | None
    fee_payment_id: str | None
    fee_status: str | None
    cancelled_by: str | None
    created_at: datetime | None
    updated_at: datetime | None
    ended_at: datetime | None


def booking_view(b: Booking) -> BookingView:
    return BookingView(
        id=b.id, account_id=b.account_id, station_id=b.station_id, evse_id=b.evse_id,
        connector_type=b.connector_type, id_token=b.id_token, starts_at=b.starts_at,
        ends_at=b.ends_at, status=b.status, active=b.open, reservation_id=b.reservation_id,
        transaction_id=b.transaction_id, detail=b.detail, reminded_at=b.reminded_at,
        no_show_fee=None if b.no_show_fee is None else str(b.no_show_fee),
        fee_currency=b.fee_currency, fee_payment_id=b.fee_payment_id, fee_status=b.fee_status,
        cancelled_by=b.cancelled_by, created_at=b.created_at, updated_at=b.updated_at,
        ended_at=b.ended_at)


def _http_error(error: Exception) -> HTTPException:
    if isinstance(error, BookingInvalid):
        return HTTPException(422, [{
            "loc": ["body", error.field], "msg": str(error), "type": "value_error"}])
    if isinstance(error, BookingUnknown):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(error.args[0]))
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


# -- the driver's own bookings -----------------------------------------------------------------

@router.post("/me/bookings", response_model=BookingView, status_code=status.HTTP_201_CREATED,
             responses=CREATE_ERRORS, summary="Book an EVSE for a time window")
async def create_my_booking(body: BookingCreate, account: DriverAccount,
                            core: Core) -> BookingView:
    try:
        booking = await core.bookings.create(BookingRequest(
            account, body.station_id, body.starts_at, body.ends_at, body.evse_id,
            body.connector_type, body.id_token))
    except (BookingInvalid, BookingUnknown, BookingConflict) as error:
        raise _http_error(error) from error
    return booking_view(booking)


@router.get("/me/bookings", response_model=list[BookingView],
            summary="My bookings, latest window first")
async def list_my_bookings(account: DriverAccount, core: Core, active: bool | None = Query(
        None, description="Only pending and reserved ones, or only ended ones."),
        limit: Limit = 100) -> list[BookingView]:
    return [booking_view(b) for b in await core.bookings.list(account_id=account, active=active,
                                                              limit=limit)]


@router.get("/me/bookings/{booking_id}", response_model=BookingView,
            responses={404: {"model": ErrorBody}}, summary="One of my bookings")
async def get_my_booking(booking_id: int, account: DriverAccount, core: Core) -> BookingView:
    booking = await core.bookings.get(booking_id, account)
    if booking is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no booking {booking_id}")
    return booking_view(booking)


@router.delete("/me/bookings/{booking_id}", response_model=BookingView, responses=CANCEL_ERRORS,
               summary="Cancel one of my bookings (frees the EVSE on the station)")
async def cancel_my_booking(booking_id: int, account: DriverAccount, core: Core) -> BookingView:
    try:
        booking = await core.bookings.cancel(booking_id, account_id=account,
                                             by=f"driver {account}")
    except (BookingUnknown, BookingConflict) as error:
        raise _http_error(error) from error
    return booking_view(booking)


# -- operators and support ---------------------------------------------------------------------

@router.get("/bookings", response_model=list[BookingView],
            summary="Bookings of all drivers, latest window first")
async def list_bookings(core: Core, _: Reader, station_id: str | None = None,
                        account_id: str | None = None,
                        status_: Status | None = Query(None, alias="status"),
                        active: bool | None = None, limit: Limit = 500) -> list[BookingView]:
    return [booking_view(b) for b in await core.bookings.list(
        account_id=account_id, station_id=station_id, status=status_, active=active,
        limit=limit)]


@router.get("/bookings/{booking_id}", response_model=BookingView,
            responses={404: {"model": ErrorBody}}, summary="One booking")
async def get_booking(booking_id: int, core: Core, _: Reader) -> BookingView:
    booking = await core.bookings.get(booking_id)
    if booking is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no booking {booking_id}")
    return booking_view(booking)


@router.delete("/bookings/{booking_id}", response_model=BookingView, responses=CANCEL_ERRORS,
               summary="Cancel a driver's booking (frees the EVSE on the station)")
async def cancel_booking(booking_id: int, who: Commander, core: Core) -> BookingView:
    try:
        booking = await core.bookings.cancel(booking_id, account_id=None,
                                             by=f"{who.role.value} {who.name}")
    except (BookingUnknown, BookingConflict) as error:
        raise _http_error(error) from error
    return booking_view(booking)
