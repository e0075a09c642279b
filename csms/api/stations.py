"""Stations: list with live status, detail, registration."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from csms.api.schemas import ConnectorView, StationCreate, StationPatch, StationView
from csms.api.security import Core, Operator, Reader
from csms.core import CsmsCore
from csms.domain.stations import StationState

router = APIRouter(prefix="/api/stations", tags=["stations"])


def station_view(core: CsmsCore, state: StationState) -> StationView:
    return StationView(
        id=state.id, registration=state.registration, ocpp_version=state.ocpp_version,
        connected=state.connected, online=not core.stations.is_offline(state),
        connected_since=state.connected_since, last_seen=state.last_seen,
        last_boot=state.last_boot, vendor=state.vendor, model=state.model,
        firmware_version=state.firmware_version, security_profile=state.security_profile,
        clock_skew_s=state.clock_skew_s,
        connectors=[ConnectorView(evse_id=r.evse_id, connector_id=r.connector_id,
                                  status=r.status, error_code=r.error_code, info=r.info,
                                  status_time=r.timestamp)
                    for r in core.connectors.of_station(state.id)])


def require_station(core: CsmsCore, station_id: str) -> StationState:
    state = core.stations.get(station_id)
    if state is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown station {station_id!r}")
    return state


@router.get("", response_model=list[StationView], summary="All stations with live status")
async def list_stations(core: Core, _: Reader) -> list[StationView]:
    return [station_view(core, s) for s in sorted(core.stations.all(), key=lambda s: s.id)]


@router.get("/{station_id}", response_model=StationView, summary="One station")
async def get_station(station_id: str, core: Core, _: Reader) -> StationView:
    return station_view(core, require_station(core, station_id))


@router.post("", response_model=StationView, status_code=status.HTTP_201_CREATED,
             summary="Register a station (and its Basic auth password)")
async def create_station(body: StationCreate, core: Core, _: Operator) -> StationView:
    if core.stations.get(body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"station {body.id!r} already exists")
    state = await core.stations.register(body.id, registration=body.registration,
                                         password=body.password,
                                         security_profile=body.security_profile)
    return station_view(core, state)


@router.patch("/{station_id}", response_model=StationView,
              summary="Accept, hold or reject a station; change its password")
async def patch_station(station_id: str, body: StationPatch, core: Core,
                        _: Operator) -> StationView:
    state = require_station(core, station_id)
    state = await core.stations.register(
        station_id, registration=body.registration or state.registration,
        password=body.password,
        security_profile=state.security_profile if body.security_profile is None
        else body.security_profile)
    return station_view(core, state)
