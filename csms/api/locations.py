"""Where stations are and what their connectors offer (operators set it), and station search
(drivers and staff use it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, Field, model_validator

from csms.api.reservations import ConnectorType
from csms.api.schemas import ErrorBody
from csms.api.security import Core, Operator, Reader, principal
from csms.api.stations import require_station
from csms.core import CsmsCore
from csms.domain.api_tokens import ApiPrincipal
from csms.domain.connectors import ConnectorSpec
from csms.domain.station_search import DEFAULT_LIMIT, MAX_LIMIT, SearchQuery, StationMatch

router = APIRouter(prefix="/api", tags=["station locations and search"])

Anyone = Annotated[ApiPrincipal, Depends(principal)]
MAX_POWER_W = 10_000_000.0  # 10 MW: beyond any charger (MCS tops out near 3.75 MW)
MAX_RADIUS_KM = 1000.0
NOT_FOUND = {404: {"model": ErrorBody, "description": "Unknown station."}}


class ConnectorSpecBody(BaseModel):
    connector_type: ConnectorType | None = Field(
        None, description="OCPP 2.0.1 ConnectorEnumType name (cCCS2, cType2, sType2, ...).")
    max_power_w: float | None = Field(None, gt=0, le=MAX_POWER_W,
                                      description="The most it can deliver, in W.")


class ConnectorSpecEntry(ConnectorSpecBody):
    evse_id: int = Field(ge=1, le=2**31 - 1)
    connector_id: int = Field(ge=1, le=2**31 - 1, description="1.6 stations: always 1.")


class LocationBody(BaseModel):
    name: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=255)
    latitude: float | None = Field(None, ge=-90, le=90, description="WGS 84 degrees.")
    longitude: float | None = Field(None, ge=-180, le=180, description="WGS 84 degrees.")
    connectors: list[ConnectorSpecEntry] = Field(
        default_factory=list, max_length=256,
        description="Connectors to describe; connectors not listed keep what they had.")

    @model_validator(mode="after")
    def _both_or_neither(self) -> LocationBody:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class ConnectorInfo(BaseModel):
    evse_id: int
    connector_id: int
    connector_type: str | None
    max_power_w: float | None
    status: str | None = Field(description="The latest status the station reported.")
    free: bool = Field(description="Available, station online, EVSE not reserved or booked.")


class LocationView(BaseModel):
    station_id: str
    name: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    connectors: list[ConnectorInfo]


class StationMatchView(BaseModel):
    station_id: str
    name: str | None
    address: str | None
    latitude: float
    longitude: float
    distance_km: float = Field(description="Great-circle distance from the searched position.")
    online: bool
    free: bool = Field(description="At least one of the listed connectors is free now.")
    connectors: list[ConnectorInfo] = Field(description="The connectors that match the search.")


def location_view(core: CsmsCore, station_id: str) -> LocationView:
    state = require_station(core, station_id)
    return LocationView(
        station_id=state.id, name=state.name, address=state.address, latitude=state.latitude,
        longitude=state.longitude,
        connectors=[ConnectorInfo(evse_id=c.evse_id, connector_id=c.connector_id,
                                  connector_type=c.connector_type, max_power_w=c.max_power_w,
                                  status=c.status, free=c.free)
                    for c in core.station_search.matching_connectors(station_id)])


def match_view(match: StationMatch) -> StationMatchView:
    return StationMatchView(
        station_id=match.station_id, name=match.name, address=match.address,
        latitude=match.position.latitude, longitude=match.position.longitude,
        distance_km=match.distance_km, online=match.online, free=match.free,
        connectors=[ConnectorInfo(evse_id=c.evse_id, connector_id=c.connector_id,
                                  connector_type=c.connector_type, max_power_w=c.max_power_w,
                                  status=c.status, free=c.free) for c in match.connectors])


@router.get("/stations/{station_id}/location", response_model=LocationView,
            responses=NOT_FOUND, summary="A station's location and connectors")
async def get_location(station_id: str, core: Core, _: Reader) -> LocationView:
    return location_view(core, station_id)


@router.put("/stations/{station_id}/location", response_model=LocationView,
            responses=NOT_FOUND, summary="Set a station's name, address, position and connectors")
async def put_location(station_id: str, body: LocationBody, core: Core,
                       _: Operator) -> LocationView:
    """Replaces the name, address and position (what is left out is cleared); the connectors
    listed get their type and power, the others keep theirs."""
    require_station(core, station_id)
    await core.stations.update_fields(station_id, name=body.name, address=body.address,
                                      latitude=body.latitude, longitude=body.longitude)
    for entry in body.connectors:
        await core.connectors.set_spec(station_id, entry.evse_id, entry.connector_id,
                                       ConnectorSpec(entry.connector_type, entry.max_power_w))
    return location_view(core, station_id)


@router.put("/stations/{station_id}/evses/{evse_id}/connectors/{connector_id}",
            response_model=LocationView, responses=NOT_FOUND,
            summary="Set one connector's type and maximum power")
async def put_connector(station_id: str, body: ConnectorSpecBody, core: Core, _: Operator,
                        evse_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                        connector_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
                        ) -> LocationView:
    require_station(core, station_id)
    await core.connectors.set_spec(station_id, evse_id, connector_id,
                                   ConnectorSpec(body.connector_type, body.max_power_w))
    return location_view(core, station_id)


@router.get("/station-search", response_model=list[StationMatchView],
            status_code=status.HTTP_200_OK,
            summary="Stations near a position (connector type, minimum power, free now)")
async def search_stations(
        core: Core, _: Anyone,
        latitude: Annotated[float, Query(ge=-90, le=90)],
        longitude: Annotated[float, Query(ge=-180, le=180)],
        radius_km: Annotated[float, Query(gt=0, le=MAX_RADIUS_KM)] = 10.0,
        connector_type: ConnectorType | None = None,
        min_power_w: Annotated[float | None, Query(
            gt=0, le=MAX_POWER_W, description="At least this power, in W.")] = None,
        free_now: Annotated[bool, Query(
            description="Only connectors free now (and stations with one).")] = False,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> list[StationMatchView]:
    matches = await core.station_search.find(SearchQuery(
        latitude, longitude, radius_km, connector_type, min_power_w, free_now, limit))
    return [match_view(m) for m in matches]
