"""Smart charging (1.6 Smart Charging, 2.0.1 block K): install, list and clear charging
profiles, composite schedules (the station's answer or the CSMS's own computation), profile
reports, external limits and ISO 15118 charging needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime, BaseModel, Field

from csms.api.commands import ERRORS, command_http_error
from csms.api.schemas import ErrorBody
from csms.api.security import COMMAND_ROLES, Commander, Core, Reader, actor
from csms.api.stations import require_station
from csms.domain.charging_schedules import Period, Profile, Schedule
from csms.domain.commands import CommandError
from csms.domain.smart_charging import Composite, ProfileInvalid, ReportResult, StoredProfile

router = APIRouter(prefix="/api/stations", tags=["smart charging"])

Purpose = Literal["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile",
                  "ChargingStationExternalConstraints"]
LimitSource = Literal["EMS", "Other", "SO", "CSO"]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown station."}}
COMMAND_ERRORS = {**ERRORS, **NOT_FOUND}


class PeriodBody(BaseModel):
    start_s: int = Field(ge=0, description="Seconds from the schedule's start.")
    limit: float = Field(ge=0, description="In the schedule's rate unit (A or W).")
    number_phases: int | None = Field(None, ge=1, le=3)
    phase_to_use: int | None = Field(None, ge=1, le=3, description="2.0.1, with one phase.")


class ScheduleBody(BaseModel):
    rate_unit: Literal["A", "W"]
    periods: list[PeriodBody] = Field(min_length=1, max_length=1024,
                                      description="Ascending, the first starting at 0.")
    duration_s: int | None = Field(None, gt=0, description="None: until the next recurrence "
                                                           "or for ever.")
    start_schedule: AwareDatetime | None = Field(
        None, description="Absolute: when it starts (default: the transaction's start); "
                          "Recurring: the start of the recurrence.")
    min_rate: float | None = Field(None, ge=0, description="minChargingRate")


class ChargingProfileBody(BaseModel):
    id: int | None = Field(None, ge=0, le=2**31 - 1,
                           description="chargingProfileId; default: the next free one. An "
                                       "existing id is replaced.")
    evse_id: int = Field(0, ge=0, description="0: the station (all EVSEs); 1.6: connectorId.")
    purpose: Purpose = Field(description="1.6 calls ChargingStationMaxProfile "
                                         "ChargePointMaxProfile.")
    stack_level: int = Field(ge=0, description="Higher wins within a purpose.")
    kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency_kind: Literal["Daily", "Weekly"] | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    transaction_id: str | None = Field(None, min_length=1, max_length=36,
                                       description="TxProfile only: the running transaction.")
    schedule: ScheduleBody

    def to_profile(self) -> Profile:
        s = self.schedule
        return Profile(
            self.id or 0, self.stack_level, self.purpose, self.kind,
            Schedule(s.rate_unit, tuple(Period(p.start_s, p.limit, p.number_phases,
                                               p.phase_to_use) for p in s.periods),
                     s.duration_s, s.start_schedule, s.min_rate),
            self.evse_id, self.recurrency_kind, self.valid_from, self.valid_to,
            self.transaction_id)


class PeriodView(BaseModel):
    start_s: int
    limit: float | None = Field(description="None (computed schedules): nothing limits "
                                            "this time.")
    number_phases: int | None = None


class ProfileView(BaseModel):
    id: int
    evse_id: int
    purpose: str
    stack_level: int
    kind: str
    recurrency_kind: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    transaction_id: str | None
    rate_unit: str
    periods: list[PeriodView]
    duration_s: int | None
    start_schedule: datetime | None
    status: str = Field(description="Accepted (installed), Rejected, Cleared, Replaced, or "
                                    "Reported (the station has it; the CSMS did not install "
                                    "it).")
    source: Literal["csms", "station"]
    charging_limit_source: str | None
    updated_at: datetime | None
    reported_at: datetime | None
    wire: dict[str, Any] = Field(description="The profile as sent or reported.")


class InstallResult(BaseModel):
    status: str = Field(description="The station's answer: Accepted, Rejected, NotSupported.")
    profile: ProfileView | None = Field(description="The profile as the CSMS now records it.")
    response: dict[str, Any]


class ClearResult(BaseModel):
    status: str = Field(description="The station's answer: Accepted or Unknown.")
    cleared: list[int] = Field(description="Installed profile ids now recorded as cleared.")
    response: dict[str, Any]


class CompositeView(BaseModel):
    station_id: str
    evse_id: int
    source: Literal["station", "computed"]
    status: str
    schedule_start: datetime | None
    duration_s: int | None
    rate_unit: str | None
    periods: list[PeriodView]
    at: datetime | None = Field(description="When it was asked or computed.")
    response: dict[str, Any] | None = Field(description="The station's answer as received.")


class ReportQuery(BaseModel):
    evse_id: int | None = Field(None, ge=0)
    purpose: Purpose | None = None
    stack_level: int | None = Field(None, ge=0)
    ids: list[int] | None = Field(None, min_length=1)
    sources: list[LimitSource] | None = Field(None, min_length=1, max_length=4)
    wait_s: float = Field(10.0, ge=0, le=60,
                          description="How long to wait for the report's last part.")


class ReportView(BaseModel):
    request_id: int
    status: str = Field(description="The GetChargingProfiles answer: Accepted, NoProfiles.")
    complete: bool = Field(description="Every part of the report arrived.")
    profiles: list[ProfileView]


class ChargingLimitView(BaseModel):
    evse_id: int
    source: str
    is_grid_critical: bool | None
    schedules: list[dict[str, Any]] | None
    reported_at: datetime
    cleared_at: datetime | None


class EvChargingView(BaseModel):
    evse_id: int
    requested_energy_transfer: str | None
    departure_time: datetime | None
    max_schedule_tuples: int | None
    needs: dict[str, Any] | None = Field(description="chargingNeeds as reported (Wh, A, V, W).")
    needs_at: datetime | None
    time_base: datetime | None
    schedule: dict[str, Any] | None = Field(description="The EV's charging schedule.")
    schedule_at: datetime | None


def profile_view(s: StoredProfile) -> ProfileView:
    p = s.profile
    return ProfileView(
        id=p.id, evse_id=p.evse_id, purpose=p.purpose, stack_level=p.stack_level, kind=p.kind,
        recurrency_kind=p.recurrency_kind, valid_from=p.valid_from, valid_to=p.valid_to,
        transaction_id=p.transaction_id, rate_unit=p.schedule.rate_unit,
        periods=[PeriodView(start_s=x.start_s, limit=x.limit, number_phases=x.number_phases)
                 for x in p.schedule.periods],
        duration_s=p.schedule.duration_s, start_schedule=p.schedule.start, status=s.status,
        source=s.source, charging_limit_source=s.charging_limit_source,
        updated_at=s.updated_at, reported_at=s.reported_at, wire=s.wire)


def composite_view(c: Composite) -> CompositeView:
    return CompositeView(
        station_id=c.station_id, evse_id=c.evse_id, source=c.source, status=c.status,
        schedule_start=c.schedule_start, duration_s=c.duration_s, rate_unit=c.rate_unit,
        periods=[PeriodView(start_s=p.start_s, limit=p.limit, number_phases=p.number_phases)
                 for p in c.periods], at=c.at, response=c.response)


def _report_view(r: ReportResult) -> ReportView:
    return ReportView(request_id=r.request_id, status=r.status, complete=r.complete,
                      profiles=[profile_view(p) for p in r.profiles])


@router.post("/{station_id}/charging-profiles", response_model=InstallResult,
             responses=COMMAND_ERRORS,
             summary="Install a charging profile (SetChargingProfile)")
async def install_profile(station_id: str, body: ChargingProfileBody, who: Commander,
                          core: Core) -> InstallResult:
    require_station(core, station_id)
    try:
        stored, answer = await core.smart_charging.install(
            station_id, body.to_profile(), actor(who), allocate_id=body.id is None)
    except ProfileInvalid as error:
        raise HTTPException(422, [{"loc": ["body", *field.split(".")], "msg": reason,
                                   "type": "value_error"} for field, reason in error.problems]
                            ) from error
    except CommandError as error:
        raise command_http_error(error) from error
    return InstallResult(status=answer.get("status", ""),
                         profile=None if stored is None else profile_view(stored),
                         response=answer)


@router.get("/{station_id}/charging-profiles", response_model=list[ProfileView],
            responses=NOT_FOUND,
            summary="Charging profiles the CSMS installed or the station reported")
async def list_profiles(station_id: str, core: Core, _: Reader,
                        evse_id: int | None = Query(None, ge=0),
                        purpose: Purpose | None = None,
                        source: Literal["csms", "station"] | None = None,
                        status_: str | None = Query(None, alias="status",
                                                    description="e.g. Accepted")
                        ) -> list[ProfileView]:
    require_station(core, station_id)
    return [profile_view(s) for s in await core.smart_charging.profiles(
        station_id, evse_id=evse_id, purpose=purpose, source=source, status=status_)]


@router.delete("/{station_id}/charging-profiles", response_model=ClearResult,
               responses=COMMAND_ERRORS,
               summary="Clear charging profiles by id or by EVSE/purpose/stack level "
                       "(ClearChargingProfile)")
async def clear_profiles(station_id: str, who: Commander, core: Core,
                         id: int | None = Query(None, ge=0, description="chargingProfileId"),
                         evse_id: int | None = Query(None, ge=0),
                         purpose: Literal["ChargingStationMaxProfile", "TxDefaultProfile",
                                          "TxProfile"] | None = None,
                         stack_level: int | None = Query(None, ge=0),
                         all: bool = Query(False, description="Clear every profile (needed "
                                                              "when no criterion is given).")
                         ) -> ClearResult:
    require_station(core, station_id)
    if id is not None and (evse_id, purpose, stack_level) != (None, None, None):
        raise HTTPException(422, [{"loc": ["query", "id"], "type": "value_error",
                                   "msg": "clear by id or by criteria, not both"}])
    if (id, evse_id, purpose, stack_level) == (None, None, None, None) and not all:
        raise HTTPException(422, [{"loc": ["query", "all"], "type": "value_error",
                                   "msg": "no criterion given: set all=true to clear every "
                                          "profile"}])
    try:
        answer, cleared = await core.smart_charging.clear(
            station_id, actor(who), profile_id=id, evse_id=evse_id, purpose=purpose,
            stack_level=stack_level)
    except CommandError as error:
        raise command_http_error(error) from error
    return ClearResult(status=answer.get("status", ""), cleared=cleared, response=answer)


@router.post("/{station_id}/charging-profiles/report", response_model=ReportView,
             responses=COMMAND_ERRORS,
             summary="Ask a 2.0.1 station which profiles it holds (GetChargingProfiles) and "
                     "wait for its report")
async def report_profiles(station_id: str, body: ReportQuery, who: Commander,
                          core: Core) -> ReportView:
    require_station(core, station_id)
    try:
        result = await core.smart_charging.request_report(
            station_id, actor(who), evse_id=body.evse_id, purpose=body.purpose,
            stack_level=body.stack_level, profile_ids=body.ids, sources=body.sources,
            wait_s=body.wait_s)
    except CommandError as error:
        raise command_http_error(error) from error
    return _report_view(result)


@router.get("/{station_id}/composite-schedule", response_model=CompositeView,
            responses=COMMAND_ERRORS,
            summary="The composite schedule: the station's (GetCompositeSchedule) or, with "
                    "computed=true, the CSMS's own from the profiles it installed")
async def composite_schedule(station_id: str, who: Reader, core: Core,
                             evse_id: int = Query(0, ge=0),
                             duration_s: int = Query(3600, gt=0, le=31 * 86400),
                             rate_unit: Literal["A", "W"] | None = None,
                             computed: bool = False,
                             start: AwareDatetime | None = Query(
                                 None, description="computed only: from when (default now)")
                             ) -> CompositeView:
    require_station(core, station_id)
    if computed:
        return composite_view(await core.smart_charging.composite_computed(
            station_id, evse_id, duration_s, rate_unit, start))
    if who.role not in COMMAND_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"role {who.role.value} may not send commands; use computed=true")
    try:
        result = await core.smart_charging.composite_from_station(
            station_id, evse_id, duration_s, actor(who), rate_unit)
    except CommandError as error:
        raise command_http_error(error) from error
    return composite_view(result)


@router.get("/{station_id}/composite-schedule/last", response_model=CompositeView,
            responses={404: {"model": ErrorBody,
                             "description": "Unknown station, or never asked."}},
            summary="The station's last answer to GetCompositeSchedule for an EVSE")
async def last_composite(station_id: str, core: Core, _: Reader,
                         evse_id: int = Query(0, ge=0)) -> CompositeView:
    require_station(core, station_id)
    result = await core.smart_charging.composite_last(station_id, evse_id)
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no composite schedule asked of {station_id} EVSE {evse_id}")
    return composite_view(result)


@router.get("/{station_id}/charging-limits", response_model=list[ChargingLimitView],
            responses=NOT_FOUND,
            summary="External charging limits the station reported (NotifyChargingLimit)")
async def charging_limits(station_id: str, core: Core, _: Reader) -> list[ChargingLimitView]:
    require_station(core, station_id)
    return [ChargingLimitView(**{k: row[k] for k in ChargingLimitView.model_fields})
            for row in await core.smart_charging.limits(station_id)]


@router.get("/{station_id}/ev-charging", response_model=list[EvChargingView],
            responses=NOT_FOUND,
            summary="What ISO 15118 EVs asked for and planned (NotifyEVChargingNeeds/Schedule)")
async def ev_charging(station_id: str, core: Core, _: Reader) -> list[EvChargingView]:
    require_station(core, station_id)
    return [EvChargingView(**{k: row[k] for k in EvChargingView.model_fields})
            for row in await core.smart_charging.ev_charging(station_id)]
