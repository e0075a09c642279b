"""A driver starts and stops charging from the app: ``POST /api/me/sessions`` (a remote start
with one of the account's own id tokens) and ``POST /api/me/sessions/{station}/{tx}/stop``
(a remote stop of one of the account's own running sessions).

The OCPP side is the operator's remote start and stop (:mod:`csms.api.control`), called with
the driver as the actor, so the message is built the same way for 1.6 and 2.0.1 and the audit
log names the driver. The transaction itself appears once the station starts it: the app
follows ``/api/me/sessions?active=true`` and the ``session.started`` notification.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from csms.api.accounts import existing
from csms.api.commands import ERRORS
from csms.api.control import RemoteStartBody, RemoteStopBody, remote_start, remote_stop
from csms.api.schemas import ErrorBody
from csms.api.security import DRIVER_ROLES, Core, require
from csms.core import CsmsCore
from csms.domain.api_tokens import ApiPrincipal
from csms.domain.driver_sessions import sessions_of

router = APIRouter(prefix="/api/me/sessions", tags=["driver"])

Driver = Annotated[ApiPrincipal, Depends(require(DRIVER_ROLES))]

START_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown station."},
    **ERRORS,
}
STOP_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such session on your account."},
    **ERRORS,
    409: {"model": ErrorBody, "description": "The session has already ended, or the station "
                                             "is not connected."},
}


class StartBody(BaseModel):
    station_id: str = Field(min_length=1, max_length=255)
    evse_id: int | None = Field(None, ge=1, le=2**31 - 1,
                                description="The EVSE (1.6: the connector); none: the station "
                                            "chooses.")
    id_token: str | None = Field(None, min_length=1, max_length=36,
                                 description="Which of your accepted id tokens to charge "
                                             "with; default: the first.")


class StartResult(BaseModel):
    station_id: str
    evse_id: int | None
    id_token: str
    status: str | None = Field(description="The station's answer: Accepted means it starts "
                                           "(once the car is plugged in), Rejected that it "
                                           "will not.")
    remote_start_id: int | None = Field(description="2.0.1: the remoteStartId the "
                                                    "transaction will carry.")


class StopResult(BaseModel):
    station_id: str
    transaction_id: str
    status: str | None = Field(description="The station's answer (Accepted or Rejected).")


def _account(who: ApiPrincipal) -> str:
    if not who.subject:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "this driver token is not linked to an account; make it with "
                            "a subject (POST /api/api-tokens with \"subject\": account id)")
    return who.subject


def _token_of(core: CsmsCore, account_id: str, wanted: str | None) -> str:
    tokens = sorted(r.token for r in core.accounts.tokens(account_id) if r.status == "Accepted")
    if wanted is not None:
        if wanted not in tokens:
            raise HTTPException(422, [{"loc": ["body", "id_token"], "type": "value_error",
                                       "msg": "is not an accepted id token of your account"}])
        return wanted
    if not tokens:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"account {account_id} has no accepted id token to charge with; "
                            "link one first (POST /api/me/tokens)")
    return tokens[0]


@router.post("", response_model=StartResult, responses=START_ERRORS,
             summary="Start charging at a station with one of my id tokens (remote start)")
async def start_my_session(body: StartBody, core: Core, who: Driver) -> StartResult:
    account_id = _account(who)
    existing(core, account_id)
    token = _token_of(core, account_id, body.id_token)
    result = await remote_start(body.station_id, RemoteStartBody(
        id_token=token, evse_id=body.evse_id), core, who)
    return StartResult(station_id=body.station_id, evse_id=body.evse_id, id_token=token,
                       status=result.status, remote_start_id=result.remote_start_id)


@router.post("/{station_id}/{transaction_id}/stop", response_model=StopResult,
             responses=STOP_ERRORS,
             summary="Stop one of my running sessions (remote stop)")
async def stop_my_session(station_id: str, transaction_id: str, core: Core,
                          who: Driver) -> StopResult:
    account_id = _account(who)
    existing(core, account_id)
    found = await sessions_of(core.db, account_id, station_id=station_id,
                              transaction_id=transaction_id, limit=1)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no session {transaction_id!r} at "
                                                       f"{station_id!r} on your account")
    if found[0].transaction["state"] != "Active":
        raise HTTPException(status.HTTP_409_CONFLICT, f"session {transaction_id} at "
                                                      f"{station_id} has already ended")
    result = await remote_stop(station_id, RemoteStopBody(transaction_id=transaction_id),
                               core, who)
    return StopResult(station_id=station_id, transaction_id=transaction_id,
                      status=result.status)
