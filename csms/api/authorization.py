"""Authorisation beyond single tokens: token groups, stations' authorisation caches and local
authorisation lists (1.6 LocalAuthListManagement, 2.0.1 block D)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from csms.api.commands import ERRORS, command_http_error
from csms.api.schemas import ErrorBody, TokenView
from csms.api.security import Commander, Core, Operator, Reader, actor
from csms.api.stations import require_station
from csms.api.tokens import token_view
from csms.core import CsmsCore
from csms.domain.commands import Actor, CommandError
from csms.domain.local_lists import (
    DIFFERENTIAL,
    FULL,
    PushResult,
    StationList,
    UnknownTokens,
)

router = APIRouter(prefix="/api", tags=["authorization"])

NOT_FOUND = {404: {"model": ErrorBody, "description": "Unknown station."}}


class TokenGroupView(BaseModel):
    group_id: str = Field(description="The group id (1.6 parentIdTag, 2.0.1 groupIdToken).")
    members: list[str] = Field(description="Tokens of the group.")
    group_token: TokenView | None = Field(
        None, description="The group id as a token of its own, if it is one.")


class ClearCacheResult(BaseModel):
    station_id: str
    status: str = Field(description="The station's answer: Accepted or Rejected.")
    response: dict = Field(description="The answer as received.")


class ListEntryView(BaseModel):
    token: str
    type: str
    status: str = Field(description="2.0.1 status names (1.6 stations get theirs).")
    group_id: str | None
    expiry: datetime | None


class LocalListView(BaseModel):
    station_id: str
    version: int = Field(description="The list version the CSMS installed (0: none).")
    entries: list[ListEntryView] = Field(description="What the station holds, as installed.")
    reported_version: int | None = Field(
        description="The station's last GetLocalListVersion answer (-1: 1.6 without local "
                    "lists; None: never asked).")
    reported_at: datetime | None
    in_sync: bool | None = Field(description="Does the reported version match the installed "
                                             "one? None: never asked.")
    last_status: str | None = Field(description="The last SendLocalList answer.")
    last_update_type: str | None
    last_attempt_at: datetime | None
    updated_at: datetime | None
    cache_cleared_at: datetime | None = Field(description="The last accepted ClearCache.")


class LocalListPush(BaseModel):
    mode: Literal["full", "differential"] = Field(
        description="full: replace the station's list; differential: send only the changes.")
    tokens: list[str] | None = Field(
        None, max_length=10_000,
        description="Tokens to install (full) or add/update (differential). Default: every "
                    "Accepted, unexpired token; a differential push then sends only what "
                    "changed since the station's version, removals included.")
    remove: list[str] = Field(default_factory=list, max_length=10_000,
                              description="Tokens to take off the list.")


class LocalListBulkPush(LocalListPush):
    station_ids: list[str] | None = Field(
        None, description="Stations to push to; default: every connected station.")


class PushResultView(BaseModel):
    station_id: str
    sent: bool = Field(description="False: the station already holds this list.")
    update_type: str | None = Field(description="Full or Differential, as sent.")
    version: int | None = Field(description="The versionNumber sent.")
    status: str | None = Field(description="The station's answer (Accepted, Failed, "
                                           "NotSupported, VersionMismatch).")
    added: list[str]
    removed: list[str]
    skipped: list[str] = Field(description="Tokens the station's OCPP version cannot carry.")
    fallback: str | None = Field(description="Why a differential push became a full one.")
    error: dict | None = Field(None, description="Bulk pushes: why this station failed.")


class ListVersionView(BaseModel):
    station_id: str
    version: int = Field(description="0: no list; -1 (1.6): local lists not supported.")


def _list_view(held: StationList) -> LocalListView:
    return LocalListView(
        station_id=held.station_id, version=held.version,
        entries=[ListEntryView(token=e.token, type=e.type, status=e.status,
                               group_id=e.group_id, expiry=e.expiry)
                 for _, e in sorted(held.entries.items())],
        reported_version=held.reported_version, reported_at=held.reported_at,
        in_sync=held.in_sync, last_status=held.last_status,
        last_update_type=held.last_update_type, last_attempt_at=held.last_attempt_at,
        updated_at=held.updated_at, cache_cleared_at=held.cache_cleared_at)


def _push_view(result: PushResult) -> PushResultView:
    return PushResultView(station_id=result.station_id, sent=result.sent,
                          update_type=result.update_type, version=result.version,
                          status=result.status, added=list(result.added),
                          removed=list(result.removed), skipped=list(result.skipped),
                          fallback=result.fallback)


def _unknown_tokens(error: UnknownTokens) -> HTTPException:
    return HTTPException(422, [{"loc": ["body", "tokens"], "msg": str(error),
                                "type": "value_error", "input": error.tokens}])


async def _push(core: CsmsCore, station_id: str, body: LocalListPush,
                who: Actor) -> PushResult:
    return await core.local_lists.push(
        station_id, FULL if body.mode == "full" else DIFFERENTIAL, who, tokens=body.tokens,
        remove=body.remove)


# -- token groups ------------------------------------------------------------------------------

def _groups(core: CsmsCore) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for record in core.auth.all():
        if record.group_id:
            groups.setdefault(record.group_id, []).append(record.token)
    return groups


def _group_view(core: CsmsCore, group_id: str, members: list[str]) -> TokenGroupView:
    record = core.auth.get(group_id)
    return TokenGroupView(group_id=group_id, members=sorted(members),
                          group_token=None if record is None else token_view(record))


@router.get("/token-groups", response_model=list[TokenGroupView], tags=["id tokens"],
            summary="Token groups (group ids) and their members")
async def list_groups(core: Core, _: Reader) -> list[TokenGroupView]:
    return [_group_view(core, g, m) for g, m in sorted(_groups(core).items())]


@router.get("/token-groups/{group_id}", response_model=TokenGroupView, tags=["id tokens"],
            responses={404: {"model": ErrorBody}}, summary="One token group and its members")
async def get_group(group_id: str, core: Core, _: Reader) -> TokenGroupView:
    members = _groups(core).get(group_id)
    if members is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token has group id {group_id!r}")
    return _group_view(core, group_id, members)


# -- authorisation cache -----------------------------------------------------------------------

@router.post("/stations/{station_id}/clear-cache", response_model=ClearCacheResult,
             responses={**ERRORS, **NOT_FOUND},
             summary="Clear the station's authorisation cache (ClearCache)")
async def clear_cache(station_id: str, who: Commander, core: Core) -> ClearCacheResult:
    require_station(core, station_id)
    try:
        answer = await core.local_lists.clear_cache(station_id, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return ClearCacheResult(station_id=station_id, status=answer.get("status", ""),
                            response=answer)


# -- local lists -------------------------------------------------------------------------------

@router.get("/stations/{station_id}/local-list", response_model=LocalListView,
            responses=NOT_FOUND,
            summary="The local authorisation list the station holds, and its version")
async def get_local_list(station_id: str, core: Core, _: Reader) -> LocalListView:
    require_station(core, station_id)
    return _list_view(await core.local_lists.get(station_id))


@router.post("/stations/{station_id}/local-list", response_model=PushResultView,
             responses={**ERRORS, **NOT_FOUND},
             summary="Send the station a full or differential local list (SendLocalList)")
async def push_local_list(station_id: str, body: LocalListPush, who: Commander,
                          core: Core) -> PushResultView:
    require_station(core, station_id)
    try:
        result = await _push(core, station_id, body, actor(who))
    except UnknownTokens as error:
        raise _unknown_tokens(error) from error
    except CommandError as error:
        raise command_http_error(error) from error
    return _push_view(result)


@router.post("/stations/{station_id}/local-list/version", response_model=ListVersionView,
             responses={**ERRORS, **NOT_FOUND},
             summary="Ask the station which list version it holds (GetLocalListVersion)")
async def get_local_list_version(station_id: str, who: Commander,
                                 core: Core) -> ListVersionView:
    require_station(core, station_id)
    try:
        version = await core.local_lists.get_version(station_id, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return ListVersionView(station_id=station_id, version=version)


@router.post("/local-list/push", response_model=list[PushResultView],
             responses={422: {"model": ErrorBody}},
             summary="Push a local list to several stations (one result per station)")
async def push_local_lists(body: LocalListBulkPush, who: Operator,
                           core: Core) -> list[PushResultView]:
    ids = body.station_ids
    if ids is None:
        ids = sorted(s.id for s in core.stations.all() if s.connected)
    unknown = [i for i in ids if core.stations.get(i) is None]
    if unknown:
        raise HTTPException(422, [{"loc": ["body", "station_ids"], "type": "value_error",
                                   "msg": f"unknown stations: {', '.join(unknown)}"}])
    try:
        core.local_lists.target(body.tokens)
    except UnknownTokens as error:
        raise _unknown_tokens(error) from error

    async def one(station_id: str) -> PushResultView:
        try:
            return _push_view(await _push(core, station_id, body, actor(who)))
        except CommandError as error:
            return PushResultView(station_id=station_id, sent=False, update_type=None,
                                  version=None, status=None, added=[], removed=[], skipped=[],
                                  fallback=None,
                                  error={"outcome": error.outcome, "message": str(error),
                                         **error.details})

    return list(await asyncio.gather(*(one(i) for i in dict.fromkeys(ids))))
