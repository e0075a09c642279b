"""Commands to stations. ``POST /api/stations/{id}/ocpp/{Action}`` sends any CSMS-initiated
message of the station's OCPP version with the payload as given; the answer comes back, or
409 (offline), 504 (timeout), 502 (CALLERROR) or 422 (invalid payload). ClearVariableMonitoring
goes in as many requests as the station's ItemsPerMessageClearVariableMonitoring allows
(N06.FR.04), GetVariables in as many as its ItemsPerMessageGetVariables allows (TC_B_08), each
with one answer for them all."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, status

from csms.api.schemas import CommandResult, ErrorBody
from csms.api.security import Commander, Core, actor
from csms.domain.commands import (
    CommandError,
    CommandInvalid,
    CommandRejected,
    CommandTimeout,
    StationOffline,
)
from csms.domain.get_variables import get_variables

router = APIRouter(prefix="/api/stations", tags=["commands"])

_STATUS = {StationOffline: status.HTTP_409_CONFLICT,
           CommandTimeout: status.HTTP_504_GATEWAY_TIMEOUT,
           CommandRejected: status.HTTP_502_BAD_GATEWAY, CommandInvalid: 422}

ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The station is not connected."},
    422: {"model": ErrorBody, "description": "The payload does not match the action's schema."},
    502: {"model": ErrorBody, "description": "The station answered with a CALLERROR."},
    504: {"model": ErrorBody, "description": "The station did not answer in time."},
}


def command_http_error(error: CommandError) -> HTTPException:
    return HTTPException(_STATUS.get(type(error), status.HTTP_502_BAD_GATEWAY),
                         {"outcome": error.outcome, "message": str(error), **error.details})


@router.post("/{station_id}/ocpp/{action}", response_model=CommandResult, responses=ERRORS,
             summary="Send any CSMS-initiated OCPP message (payload in the station's version)")
async def raw_command(station_id: str, action: str, who: Commander, core: Core,
                      payload: dict[str, Any] = Body(default_factory=dict)) -> CommandResult:
    try:
        if action == "ClearVariableMonitoring":
            answer = await core.maintenance.diagnostics.clear_monitoring(station_id, payload,
                                                                         actor(who))
        elif action == "GetVariables":
            answer = await get_variables(core.commands, core.provisioning.device_model,
                                         station_id, payload, actor(who))
        else:
            answer = await core.commands.call(station_id, action, payload, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return CommandResult(station_id=station_id, action=action, response=answer)
