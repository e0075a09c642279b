"""Request and response bodies of the REST API (pydantic), shared by the routers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ConnectorView(BaseModel):
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None = None
    info: str | None = None
    status_time: datetime


class StationView(BaseModel):
    id: str
    registration: str
    ocpp_version: str | None
    connected: bool
    online: bool
    connected_since: datetime | None
    last_seen: datetime | None
    last_boot: datetime | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    security_profile: int
    clock_skew_s: float | None
    connectors: list[ConnectorView] = []


class StationCreate(BaseModel):
    id: str = Field(min_length=1, max_length=255, description="The OCPP station identity.")
    registration: Literal["Accepted", "Pending", "Rejected"] = "Accepted"
    password: str | None = Field(None, min_length=16, max_length=40,
                                 description="HTTP Basic auth password (security profile 1/2).")
    security_profile: int = Field(0, ge=0, le=3)


class StationPatch(BaseModel):
    registration: Literal["Accepted", "Pending", "Rejected"] | None = None
    password: str | None = Field(None, min_length=16, max_length=40)
    security_profile: int | None = Field(None, ge=0, le=3)


class TokenBody(BaseModel):
    type: str = Field("ISO14443", max_length=20)
    status: Literal["Accepted", "Blocked", "Expired", "Invalid"] = "Accepted"
    group_id: str | None = Field(None, max_length=255)
    expiry: datetime | None = None
    account_id: str | None = Field(None, max_length=64)
    language: str | None = Field(None, max_length=8)


class TokenView(TokenBody):
    token: str


class CommandResult(BaseModel):
    station_id: str
    action: str
    response: dict[str, Any]


class ErrorBody(BaseModel):
    detail: Any


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "operator", "support", "driver", "read-only"]
    subject: str | None = Field(None, max_length=64,
                                description="The driver account of a driver token.")


class ApiTokenView(BaseModel):
    id: int
    name: str
    role: str
    subject: str | None
    created_at: datetime
    revoked_at: datetime | None


class ApiTokenCreated(BaseModel):
    id: int | None = None
    name: str
    role: str
    token: str = Field(description="Shown once; only its hash is stored.")
