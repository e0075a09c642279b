"""Tariffs for operators: create a tariff, add versions, assign them to connectors, EVSEs,
stations or as the default; which tariff applies where; a session's charge detail record.

Amounts and prices are decimals: send them as JSON strings ("0.4567") or numbers; they come
back as strings, exact. Prices are net of VAT.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, field_validator

from csms.api.security import Core, Operator, Reader
from csms.api.stations import require_station
from csms.domain.money import is_currency
from csms.domain.pricing import WEEKDAYS, ChargeDetailRecord, CostLine, SessionCost, Tariff
from csms.domain.tariff_terms import (
    TariffError,
    TariffInvalid,
    band_from_json,
    band_json,
    clock_minutes,
)
from csms.domain.tariffs import Assignment, TariffConflict, TariffNotFound, TariffRecord

router = APIRouter(prefix="/api", tags=["tariffs"])

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TARIFF_ID = r"^[A-Za-z0-9._-]{1,64}$"
_PRICE = {"ge": 0, "max_digits": 18, "decimal_places": 8}
NOT_FOUND = {404: {"description": "No such tariff, assignment, station or transaction."}}
CONFLICT = {409: {"description": "The change contradicts what exists (see the message)."}}


# -- bodies --------------------------------------------------------------------------------------

class BandBody(BaseModel):
    name: str = Field(min_length=1, max_length=40, examples=["night"])
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1,
                                description="The weekdays the band starts on (all by default).")
    start: str = Field(examples=["22:00"], description="Local time HH:MM.")
    end: str = Field(examples=["06:00"],
                     description="Local time HH:MM; before start: the band runs past midnight "
                                 "and belongs to the day it starts on; 24:00 (or 00:00) is the "
                                 "midnight that ends the day.")
    energy_price_per_kwh: Decimal | None = Field(None, **_PRICE)
    time_price_per_min: Decimal | None = Field(None, **_PRICE)

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        clock_minutes(value, end=False)
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: str) -> str:
        clock_minutes(value, end=True)
        return value


class TariffTerms(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["Standard AC"])
    currency: str = Field(examples=["EUR"], description="ISO 4217 code.")
    time_zone: str = Field("UTC", examples=["Europe/Berlin"],
                           description="IANA time zone the bands' times are read in.")
    energy_price_per_kwh: Decimal = Field(Decimal(0), **_PRICE, examples=["0.39"])
    time_price_per_min: Decimal = Field(Decimal(0), **_PRICE,
                                        description="Per minute while charging.")
    idle_price_per_min: Decimal = Field(Decimal(0), **_PRICE,
                                        description="Per minute after charging has ended, "
                                                    "beyond the grace period.")
    idle_grace_min: Decimal = Field(Decimal(0), **_PRICE)
    session_fee: Decimal = Field(Decimal(0), **_PRICE)
    vat_percent: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=6, decimal_places=3)
    bands: list[BandBody] = Field(default_factory=list, max_length=48,
                                  description="Time-of-day and weekday bands; the first that "
                                              "covers a moment applies.")
    no_show_fee: Decimal | None = Field(None, **_PRICE,
                                        description="Charged for a booking not used.")
    preauth_amount: Decimal | None = Field(None, **_PRICE,
                                           description="What payments hold at the start.")
    valid_from: datetime | None = Field(None, description="When this version comes into force: "
                                                          "now by default, never in the past.")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError(f"{value!r} is not an active ISO 4217 currency code (e.g. EUR)")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") \
                from None
        return value

    def draft(self, tariff_id: str) -> Tariff:
        return Tariff(
            tariff_id=tariff_id, version=0, name=self.name, currency=self.currency,
            time_zone=self.time_zone, valid_from=datetime.min,
            energy_price_per_kwh=self.energy_price_per_kwh,
            time_price_per_min=self.time_price_per_min,
            idle_price_per_min=self.idle_price_per_min, idle_grace_min=self.idle_grace_min,
            session_fee=self.session_fee, vat_percent=self.vat_percent,
            bands=tuple(band_from_json(b.model_dump()) for b in self.bands),
            no_show_fee=self.no_show_fee, preauth_amount=self.preauth_amount)


class TariffCreate(TariffTerms):
    id: str = Field(pattern=TARIFF_ID, examples=["standard-ac"])


class AssignmentBody(BaseModel):
    station_id: str | None = Field(None, max_length=255,
                                   description="None: the default tariff, for every station.")
    evse_id: int | None = Field(None, ge=0)
    connector_id: int | None = Field(None, ge=0, description="1.6 connector n is EVSE n, "
                                                             "connector 1.")
    valid_from: datetime | None = Field(None, description="Now by default, never in the past.")


# -- views ---------------------------------------------------------------------------------------

class BandView(BaseModel):
    name: str
    days: list[Weekday]
    start: str
    end: str
    energy_price_per_kwh: Decimal | None
    time_price_per_min: Decimal | None


class TariffVersionView(BaseModel):
    tariff_id: str
    version: int
    valid_from: datetime
    name: str
    currency: str
    time_zone: str
    energy_price_per_kwh: Decimal
    time_price_per_min: Decimal
    idle_price_per_min: Decimal
    idle_grace_min: Decimal
    session_fee: Decimal
    vat_percent: Decimal
    bands: list[BandView]
    no_show_fee: Decimal | None
    preauth_amount: Decimal | None


class TariffView(BaseModel):
    id: str
    created_at: datetime
    version_in_force: int | None = Field(description="The version in force now (None: the "
                                                     "first starts later).")
    versions: list[TariffVersionView]


class AssignmentView(BaseModel):
    id: int
    tariff_id: str
    scope: Literal["connector", "evse", "station", "default"]
    station_id: str | None
    evse_id: int | None
    connector_id: int | None
    valid_from: datetime
    valid_to: datetime | None
    created_at: datetime
    created_by: str | None


class AppliedTariffView(BaseModel):
    station_id: str
    evse_id: int | None
    connector_id: int | None
    at: datetime
    tariff: TariffVersionView | None = Field(description="None: no tariff applies (free).")


class CostLineView(BaseModel):
    kind: Literal["energy", "time", "idle", "session_fee"]
    band: str | None = Field(description="The band whose price applied; None: the base price.")
    quantity: Decimal = Field(description="kWh, minutes or 1 session, exact.")
    unit: str
    unit_price: Decimal
    amount: Decimal = Field(description="Net, rounded half up to the currency's minor unit.")


class SessionCostView(BaseModel):
    tariff_id: str
    tariff_version: int
    currency: str
    final: bool = Field(description="The session has ended: these figures are final.")
    as_of: datetime
    energy_wh: Decimal
    charging_s: Decimal
    idle_s: Decimal
    billed_idle_s: Decimal = Field(description="Idle time beyond the grace period.")
    lines: list[CostLineView]
    net: Decimal
    vat_percent: Decimal
    vat: Decimal
    total: Decimal = Field(description="Including VAT.")


class PeriodView(BaseModel):
    start: datetime
    end: datetime
    state: Literal["charging", "paused", "idle"]
    band: str | None
    energy_wh: Decimal


class CdrView(BaseModel):
    id: str
    station_id: str
    evse_id: int | None
    connector_id: int | None
    transaction_id: str
    id_token: str | None
    start: datetime
    end: datetime
    currency: str
    tariff_id: str
    tariff_version: int
    total_energy_kwh: Decimal
    total_time_min: Decimal
    total_charging_time_min: Decimal
    total_idle_time_min: Decimal
    total_energy_cost: Decimal
    total_time_cost: Decimal
    total_idle_cost: Decimal
    total_fixed_cost: Decimal
    total_cost_excl_vat: Decimal
    vat_percent: Decimal
    total_vat: Decimal
    total_cost_incl_vat: Decimal
    lines: list[CostLineView]
    periods: list[PeriodView]


def as_utc(value: datetime | None) -> datetime | None:
    """A time from a request in UTC; one without a zone is read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def version_view(tariff: Tariff) -> TariffVersionView:
    return TariffVersionView(
        tariff_id=tariff.tariff_id, version=tariff.version, valid_from=tariff.valid_from,
        name=tariff.name, currency=tariff.currency, time_zone=tariff.time_zone,
        energy_price_per_kwh=tariff.energy_price_per_kwh,
        time_price_per_min=tariff.time_price_per_min,
        idle_price_per_min=tariff.idle_price_per_min, idle_grace_min=tariff.idle_grace_min,
        session_fee=tariff.session_fee, vat_percent=tariff.vat_percent,
        bands=[BandView(**band_json(b)) for b in tariff.bands],
        no_show_fee=tariff.no_show_fee, preauth_amount=tariff.preauth_amount)


def tariff_view(record: TariffRecord, now: datetime) -> TariffView:
    in_force = record.in_force(now)
    return TariffView(id=record.id, created_at=record.created_at,
                      version_in_force=None if in_force is None else in_force.version,
                      versions=[version_view(v) for v in record.versions])


def assignment_view(a: Assignment) -> AssignmentView:
    scope = "default" if a.station_id is None else "station" if a.evse_id is None else \
        "evse" if a.connector_id is None else "connector"
    return AssignmentView(id=a.id, tariff_id=a.tariff_id, scope=scope, station_id=a.station_id,
                          evse_id=a.evse_id, connector_id=a.connector_id,
                          valid_from=a.valid_from, valid_to=a.valid_to,
                          created_at=a.created_at, created_by=a.created_by)


def line_view(line: CostLine) -> CostLineView:
    return CostLineView(kind=line.kind, band=line.band, quantity=line.quantity, unit=line.unit,
                        unit_price=line.unit_price, amount=line.amount)


def cost_view(cost: SessionCost) -> SessionCostView:
    return SessionCostView(
        tariff_id=cost.tariff_id, tariff_version=cost.tariff_version, currency=cost.currency,
        final=cost.final, as_of=cost.as_of, energy_wh=cost.energy_wh,
        charging_s=cost.charging_s, idle_s=cost.idle_s, billed_idle_s=cost.billed_idle_s,
        lines=[line_view(line) for line in cost.lines], net=cost.net.amount,
        vat_percent=cost.vat_percent, vat=cost.vat.amount, total=cost.total.amount)


def cdr_view(cdr: ChargeDetailRecord) -> CdrView:
    fields = {name: getattr(cdr, name) for name in CdrView.model_fields
              if name not in ("lines", "periods")}
    return CdrView(**fields, lines=[line_view(line) for line in cdr.lines],
                   periods=[PeriodView(start=p.start, end=p.end, state=p.state, band=p.band,
                                       energy_wh=p.energy_wh) for p in cdr.periods])


def http_error(error: TariffError) -> HTTPException:
    if isinstance(error, TariffInvalid):
        location: list[str | int] = ["body", *(int(part) if part.isdigit() else part
                                              for part in error.field.split("."))]
        return HTTPException(422, [
            {"loc": location, "msg": error.message, "type": "value_error"}])
    if isinstance(error, TariffNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(error))
    if isinstance(error, TariffConflict):
        return HTTPException(status.HTTP_409_CONFLICT, str(error))
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(error))


# -- routes --------------------------------------------------------------------------------------

@router.post("/tariffs", response_model=TariffView, status_code=status.HTTP_201_CREATED,
             responses=CONFLICT, summary="Create a tariff (its version 1)")
async def create_tariff(body: TariffCreate, core: Core, who: Operator) -> TariffView:
    try:
        record = await core.tariffs.create(body.draft(body.id),
                                           valid_from=as_utc(body.valid_from), actor=who.name)
    except TariffError as error:
        raise http_error(error) from error
    return tariff_view(record, core.clock())


@router.get("/tariffs", response_model=list[TariffView],
            summary="All tariffs with their versions")
async def list_tariffs(core: Core, _: Reader) -> list[TariffView]:
    now = core.clock()
    return [tariff_view(record, now) for record in core.tariffs.all()]


@router.get("/tariffs/{tariff_id}", response_model=TariffView, responses=NOT_FOUND,
            summary="One tariff with its versions")
async def get_tariff(tariff_id: str, core: Core, _: Reader) -> TariffView:
    record = core.tariffs.get(tariff_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tariff {tariff_id!r}")
    return tariff_view(record, core.clock())


@router.post("/tariffs/{tariff_id}/versions", response_model=TariffView,
             status_code=status.HTTP_201_CREATED, responses=NOT_FOUND | CONFLICT,
             summary="Change a tariff: a new version from valid_from (sessions already "
                     "started keep theirs)")
async def add_version(tariff_id: str, body: TariffTerms, core: Core,
                      who: Operator) -> TariffView:
    try:
        record = await core.tariffs.add_version(body.draft(tariff_id),
                                                valid_from=as_utc(body.valid_from),
                                                actor=who.name)
    except TariffError as error:
        raise http_error(error) from error
    return tariff_view(record, core.clock())


@router.post("/tariffs/{tariff_id}/assignments", response_model=AssignmentView,
             status_code=status.HTTP_201_CREATED, responses=NOT_FOUND | CONFLICT,
             summary="Apply a tariff at a connector, an EVSE, a station, or by default")
async def assign_tariff(tariff_id: str, body: AssignmentBody, core: Core,
                        who: Operator) -> AssignmentView:
    if body.station_id is not None:
        require_station(core, body.station_id)
    try:
        assignment = await core.tariffs.assign(
            tariff_id, body.station_id, body.evse_id, body.connector_id,
            valid_from=as_utc(body.valid_from), actor=who.name)
    except TariffError as error:
        raise http_error(error) from error
    return assignment_view(assignment)


@router.get("/tariff-assignments", response_model=list[AssignmentView],
            summary="Tariff assignments in force or scheduled (with ended ones on request)")
async def list_assignments(core: Core, _: Reader, station_id: str | None = Query(None),
                           tariff_id: str | None = Query(None),
                           include_ended: bool = Query(False)) -> list[AssignmentView]:
    return [assignment_view(a) for a in core.tariffs.assignments(
        station_id=station_id, tariff_id=tariff_id, include_ended=include_ended)]


@router.delete("/tariff-assignments/{assignment_id}", response_model=AssignmentView,
               responses=NOT_FOUND | CONFLICT,
               summary="End a tariff assignment now (sessions already started keep it)")
async def unassign_tariff(assignment_id: int, core: Core, _: Operator) -> AssignmentView:
    try:
        return assignment_view(await core.tariffs.unassign(assignment_id))
    except TariffError as error:
        raise http_error(error) from error


@router.get("/stations/{station_id}/tariff", response_model=AppliedTariffView,
            responses=NOT_FOUND, summary="The tariff that applies at a station, EVSE or "
                                         "connector at a time (now by default)")
async def applied_tariff(station_id: str, core: Core, _: Reader,
                         evse_id: int | None = Query(None, ge=0),
                         connector_id: int | None = Query(None, ge=0),
                         at: datetime | None = Query(None)) -> AppliedTariffView:
    require_station(core, station_id)
    moment = as_utc(at) or core.clock()
    tariff = core.tariffs.tariff_at(station_id, evse_id, connector_id, moment)
    return AppliedTariffView(station_id=station_id, evse_id=evse_id, connector_id=connector_id,
                             at=moment, tariff=None if tariff is None else version_view(tariff))


@router.get("/transactions/{station_id}/{transaction_id}/cdr", response_model=CdrView,
            responses=NOT_FOUND | {409: {"description": "The transaction is still active."}},
            summary="A finished session's charge detail record")
async def get_cdr(station_id: str, transaction_id: str, core: Core, _: Reader) -> CdrView:
    transaction = await core.transactions.get(station_id, transaction_id)
    if transaction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no transaction {transaction_id!r} at station {station_id!r}")
    if transaction["state"] != "Completed":
        raise HTTPException(status.HTTP_409_CONFLICT, "the transaction is still active: its "
                                                      "CDR exists once it has ended")
    cost = await core.tariffs.price(transaction)
    if cost is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no tariff applied to this transaction "
                                                       "(it was free): there is no CDR")
    return cdr_view(cost.cdr())
