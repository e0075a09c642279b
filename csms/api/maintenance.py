"""Maintenance and security: firmware updates, log and diagnostics uploads, station events,
security events, certificates and customer information.

Commands answer with the station's answer, or 409 (offline), 504 (timeout), 502 (CALLERROR)
or 422 (not possible in the station's OCPP version, invalid). The same commands sent through
``POST /api/stations/{id}/ocpp/{Action}`` are recorded the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from csms.api.commands import ERRORS, command_http_error
from csms.api.security import Commander, Core, Operator, Reader, actor
from csms.api.stations import require_station
from csms.domain.commands import CommandError
from csms.domain.diagnostics import CustomerQuery, LogRequest
from csms.domain.firmware import PUBLISH, FirmwareUpdate
from csms.domain.maintenance import (
    CUSTOMER_EVENT,
    CUSTOMER_INFORMATION,
    DIAGNOSTICS_EVENT,
    FIRMWARE,
    FIRMWARE_EVENT,
    LOG,
    LOG_EVENT,
    SECURITY_EVENT,
)
from csms.domain.security import load_certificates
from csms.ocpp import maintenance_wire as wire

router = APIRouter(prefix="/api", tags=["maintenance and security"])

MAX_PAGE = 1000
_FROM = Query(None, alias="from", description="At or after this time (UTC if no zone).")
_TO = Query(None, alias="to", description="Before this time (UTC if no zone).")


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _uri(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path):
        raise ValueError("must be an absolute URI, e.g. https://host/path or ftp://host/dir")
    return value


# -- bodies and views ----------------------------------------------------------------------------

class FirmwareUpdateBody(BaseModel):
    location: str = Field(max_length=512, description="Where the station downloads the "
                                                      "firmware from (an absolute URI).")
    retrieve_at: datetime | None = Field(None, description="Download at or after this time "
                                                           "(default: now).")
    install_at: datetime | None = Field(None, description="Install at or after this time "
                                                          "(2.0.1, or a signed 1.6 update).")
    retries: int | None = Field(None, ge=0, le=100)
    retry_interval_s: int | None = Field(None, ge=0, le=86_400)
    signing_certificate: str | None = Field(
        None, max_length=5500, description="PEM certificate of the firmware signer. With "
                                           "signature, a 1.6 station gets SignedUpdateFirmware.")
    signature: str | None = Field(None, max_length=800,
                                  description="Base64 signature of the firmware file.")

    _location = field_validator("location")(_uri)

    @model_validator(mode="after")
    def _signed_together(self) -> FirmwareUpdateBody:
        if (self.signing_certificate is None) != (self.signature is None):
            raise ValueError("signing_certificate and signature go together")
        return self


class RequestResult(BaseModel):
    station_id: str
    request_id: int = Field(description="The requestId its status notifications carry.")
    action: str = Field(description="The OCPP message sent.")
    status: str | None = Field(description="The station's answer (None: the answer has none, "
                                           "as 1.6 UpdateFirmware's).")
    response: dict[str, Any]


class StatusEntry(BaseModel):
    status: str
    received_at: datetime


class FirmwareRequestView(BaseModel):
    request_id: int
    action: str | None
    location: str | None = None
    retrieve_at: str | None = None
    install_at: str | None = None
    retries: int | None = None
    retry_interval_s: int | None = None
    signed: bool = False
    response_status: str | None = Field(description="The station's answer to the request.")
    status: str | None = Field(description="The latest status the station reported.")
    status_at: datetime | None
    actor: str | None
    created_at: datetime
    history: list[StatusEntry] | None = Field(None, description="Every status, oldest first "
                                                                "(on the single-request view).")


class PublicationView(BaseModel):
    request_id: int
    location: str | None = Field(description="Where the Local Controller downloads it from.")
    checksum: str | None = Field(description="MD5 of the firmware file (hex).")
    retries: int | None = None
    retry_interval_s: int | None = None
    response_status: str | None = Field(description="The Local Controller's answer.")
    status: str | None = Field(description="The latest status it reported (Unpublished once "
                                           "an UnpublishFirmware of the checksum succeeded).")
    status_at: datetime | None
    published_at: list[str] = Field(description="The URIs it publishes the firmware at (its "
                                                "Published notification).")
    actor: str | None
    created_at: datetime


class FirmwareOverview(BaseModel):
    station_id: str
    firmware_version: str | None
    firmware_status: str | None = Field(description="The station's latest firmware status.")
    total: int
    limit: int
    offset: int
    requests: list[FirmwareRequestView]
    publications: list[PublicationView] = Field(
        default_factory=list, description="Firmware the station publishes as a 2.0.1 Local "
                                          "Controller (PublishFirmware), newest first.")


class LogRequestBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    type: Literal["Diagnostics", "DiagnosticsLog", "SecurityLog"] | None = Field(
        None, description="Diagnostics (default): 1.6 GetDiagnostics, 2.0.1 GetLog "
                          "DiagnosticsLog; DiagnosticsLog / SecurityLog: GetLog.")
    oldest: datetime | None = Field(None, alias="from", description="Oldest log entry wanted.")
    latest: datetime | None = Field(None, alias="to", description="Latest log entry wanted.")
    location: str | None = Field(None, max_length=512, description="Where the station uploads "
                                 "to; default: this CSMS's /uploads/{token}.")
    retries: int | None = Field(None, ge=0, le=100)
    retry_interval_s: int | None = Field(None, ge=0, le=86_400)

    _location = field_validator("location")(_uri)

    @model_validator(mode="after")
    def _ordered(self) -> LogRequestBody:
        oldest, latest = as_utc(self.oldest), as_utc(self.latest)
        if oldest is not None and latest is not None and oldest > latest:
            raise ValueError("from must not be after to")
        return self


class LogRequestResult(RequestResult):
    filename: str | None = Field(description="The file name the station announced.")
    location: str = Field(description="Where the station was told to upload.")


class UploadView(BaseModel):
    id: int
    station_id: str
    request_id: int | None
    purpose: str
    filename: str
    size_bytes: int
    sha256: str
    content_type: str | None
    remote_addr: str | None
    received_at: datetime


class LogRequestView(BaseModel):
    request_id: int
    action: str | None
    log_type: str | None = None
    location: str | None = None
    oldest: str | None = None
    latest: str | None = None
    response_status: str | None
    filename: str | None
    status: str | None = Field(description="The latest upload status the station reported.")
    status_at: datetime | None
    actor: str | None
    created_at: datetime
    history: list[StatusEntry] | None = None
    uploads: list[UploadView] | None = None


class LogOverview(BaseModel):
    station_id: str
    diagnostics_status: str | None = Field(description="The latest upload status reported.")
    total: int
    limit: int
    offset: int
    requests: list[LogRequestView]


class UploadPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[UploadView]


class StationEventView(BaseModel):
    id: int
    station_id: str
    kind: str = Field(description="Firmware, Diagnostics, Log, SecurityEvent, NotifyEvent, "
                                  "CustomerInformation, Certificate, Upload, ...")
    timestamp: datetime = Field(description="The station's time of the event (or arrival).")
    received_at: datetime
    request_id: int | None
    summary: str | None
    payload: dict[str, Any]


class StationEventPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[StationEventView]


class SecurityEventView(BaseModel):
    id: int
    station_id: str
    type: str = Field(description="In 2.0.1 spelling (1.6 names mapped).")
    reported_type: str = Field(description="As the station sent it.")
    tech_info: str | None
    critical: bool = Field(description="Signals an attack or a security failure.")
    timestamp: datetime
    received_at: datetime


class SecurityEventPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[SecurityEventView]


class IdTokenBody(BaseModel):
    id_token: str = Field(min_length=1, max_length=36)
    type: Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local",
                  "MacAddress", "NoAuthorization"] = "ISO14443"


class CertificateHashBody(BaseModel):
    hash_algorithm: Literal["SHA256", "SHA384", "SHA512"] = "SHA256"
    issuer_name_hash: str = Field(min_length=1, max_length=128, pattern="^[0-9A-Fa-f]+$")
    issuer_key_hash: str = Field(min_length=1, max_length=128, pattern="^[0-9A-Fa-f]+$")
    serial_number: str = Field(min_length=1, max_length=40, pattern="^[0-9A-Fa-f]+$")


class CustomerInformationBody(BaseModel):
    report: bool = Field(True, description="Send the customer information the station has.")
    clear: bool = Field(False, description="Clear it on the station.")
    id_token: IdTokenBody | None = None
    customer_identifier: str | None = Field(None, min_length=1, max_length=64)
    customer_certificate: CertificateHashBody | None = None

    @model_validator(mode="after")
    def _one_customer(self) -> CustomerInformationBody:
        given = [n for n in ("id_token", "customer_identifier", "customer_certificate")
                 if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of id_token, customer_identifier, "
                             "customer_certificate")
        if not (self.report or self.clear):
            raise ValueError("report, clear or both must be true")
        return self


class CustomerInformationPart(BaseModel):
    seq_no: int
    tbc: bool
    data: str
    generated_at: datetime


class CustomerInformationView(BaseModel):
    station_id: str
    request_id: int
    parameters: dict[str, Any] | None
    response_status: str | None
    complete: bool = Field(description="Every part is in (or none will come).")
    data: str | None = Field(description="The parts' data in seqNo order.")
    parts: list[CustomerInformationPart]
    actor: str | None
    created_at: datetime


InstallableType = Literal["CSMSRootCertificate", "ManufacturerRootCertificate",
                          "V2GRootCertificate", "MORootCertificate",
                          "CentralSystemRootCertificate"]


class CertificateInstallBody(BaseModel):
    certificate_type: InstallableType = Field(description="2.0.1 names; 1.6 stations take "
                                              "CSMSRootCertificate and "
                                              "ManufacturerRootCertificate.")
    certificate: str = Field(max_length=5500, description="PEM encoded X.509 certificate.")

    @field_validator("certificate")
    @classmethod
    def _pem(cls, value: str) -> str:
        load_certificates(value)  # ValueError: not a PEM certificate
        return value


class CertificateRenewBody(BaseModel):
    certificate_type: Literal["ChargingStationCertificate", "V2GCertificate"] = \
        "ChargingStationCertificate"


class CertificateCommandResult(BaseModel):
    station_id: str
    action: str
    status: str | None
    response: dict[str, Any]


class CertificateView(BaseModel):
    id: int
    certificate_type: str
    source: str = Field(description="issued (by the CSMS CA), installed (InstallCertificate) "
                                    "or reported (GetInstalledCertificateIds).")
    status: str
    hash_algorithm: str | None
    issuer_name_hash: str | None
    issuer_key_hash: str | None
    serial_number: str | None
    subject: str | None
    not_before: datetime | None
    not_after: datetime | None
    certificate_pem: str | None
    updated_at: datetime


class CertificateList(BaseModel):
    station_id: str
    refreshed: bool = Field(description="Asked the station (GetInstalledCertificateIds).")
    responses: list[dict[str, Any]] = []
    certificates: list[CertificateView]


class CaView(BaseModel):
    subject: str
    not_before: datetime
    not_after: datetime
    certificate_pem: str


# -- helpers -------------------------------------------------------------------------------------

def _history(rows: list[dict[str, Any]]) -> list[StatusEntry]:
    return [StatusEntry(status=r["summary"], received_at=r["received_at"]) for r in rows]


def _firmware_view(row: dict[str, Any],
                   history: list[dict[str, Any]] | None = None) -> FirmwareRequestView:
    parameters = wire.firmware_parameters(row["parameters"] or {})
    return FirmwareRequestView(
        request_id=row["request_id"], action=row["action"], **parameters,
        response_status=row["response_status"], status=row["status"],
        status_at=row["status_at"], actor=row["actor"], created_at=row["created_at"],
        history=None if history is None else _history(history))


def _publication_view(row: dict[str, Any], published_at: list[str]) -> PublicationView:
    return PublicationView(
        request_id=row["request_id"], **wire.publish_parameters(row["parameters"] or {}),
        response_status=row["response_status"], status=row["status"],
        status_at=row["status_at"], published_at=published_at, actor=row["actor"],
        created_at=row["created_at"])


async def _publications(core: Core, station_id: str, limit: int) -> list[PublicationView]:
    """The station's PublishFirmware requests, each with the URIs of its latest Published."""
    _, rows = await core.maintenance.store.requests(station_id, PUBLISH, limit=limit)
    if not rows:
        return []
    _, events = await core.maintenance.store.events(station_id=station_id, kinds=[PUBLISH],
                                                    limit=MAX_PAGE, oldest_first=True)
    uris = {e["request_id"]: list(e["payload"].get("location") or []) for e in events
            if e["summary"] == "Published"}
    return [_publication_view(r, uris.get(r["request_id"], [])) for r in rows]


def _log_view(row: dict[str, Any], history: list[dict[str, Any]] | None = None,
              uploads: list[dict[str, Any]] | None = None) -> LogRequestView:
    parameters = wire.log_parameters(row["parameters"] or {}) if row["parameters"] else {}
    return LogRequestView(
        request_id=row["request_id"], action=row["action"],
        log_type=parameters.get("log_type"), location=parameters.get("location"),
        oldest=parameters.get("oldest"), latest=parameters.get("latest"),
        response_status=row["response_status"], filename=row["filename"],
        status=row["status"], status_at=row["status_at"], actor=row["actor"],
        created_at=row["created_at"], history=None if history is None else _history(history),
        uploads=None if uploads is None else [UploadView(**u) for u in uploads])


def _security_view(row: dict[str, Any]) -> SecurityEventView:
    payload = row["payload"]
    return SecurityEventView(
        id=row["id"], station_id=row["station_id"],
        type=payload.get("normalizedType") or payload.get("type", ""),
        reported_type=payload.get("type", ""), tech_info=payload.get("techInfo"),
        critical=bool(payload.get("critical")), timestamp=row["timestamp"],
        received_at=row["received_at"])


def _certificate_view(row: dict[str, Any]) -> CertificateView:
    return CertificateView(**{k: row[k] for k in CertificateView.model_fields})


# -- firmware ------------------------------------------------------------------------------------

@router.post("/stations/{station_id}/firmware", response_model=RequestResult,
             responses=ERRORS, summary="Update a station's firmware (1.6 UpdateFirmware or "
                                       "SignedUpdateFirmware, 2.0.1 UpdateFirmware)")
async def update_firmware(station_id: str, body: FirmwareUpdateBody, core: Core,
                          who: Operator) -> RequestResult:
    require_station(core, station_id)
    request = FirmwareUpdate(
        location=body.location, retrieve_at=as_utc(body.retrieve_at) or core.clock(),
        install_at=as_utc(body.install_at), retries=body.retries,
        retry_interval_s=body.retry_interval_s, signing_certificate=body.signing_certificate,
        signature=body.signature)
    try:
        outcome = await core.maintenance.firmware.update(station_id, request, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return RequestResult(station_id=station_id, request_id=outcome.request_id,
                         action=outcome.action, status=outcome.status,
                         response=outcome.response)


@router.get("/stations/{station_id}/firmware", response_model=FirmwareOverview,
            summary="A station's firmware: version, latest status, update requests")
async def firmware_overview(station_id: str, core: Core, _: Reader,
                            limit: int = Query(20, ge=1, le=MAX_PAGE),
                            offset: int = Query(0, ge=0)) -> FirmwareOverview:
    state = require_station(core, station_id)
    columns = await core.maintenance.store.station_columns(station_id)
    total, rows = await core.maintenance.store.requests(station_id, FIRMWARE, limit=limit,
                                                        offset=offset)
    return FirmwareOverview(station_id=station_id,
                            firmware_version=columns.get("firmware_version")
                            or state.firmware_version,
                            firmware_status=columns.get("firmware_status"), total=total,
                            limit=limit, offset=offset,
                            requests=[_firmware_view(r) for r in rows],
                            publications=await _publications(core, station_id, limit))


@router.get("/stations/{station_id}/firmware/{request_id}", response_model=FirmwareRequestView,
            summary="One firmware update with every status the station reported")
async def firmware_request(station_id: str, request_id: int, core: Core,
                           _: Reader) -> FirmwareRequestView:
    require_station(core, station_id)
    row = await core.maintenance.store.request(station_id, FIRMWARE, request_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no firmware request {request_id}")
    _, history = await core.maintenance.store.events(
        station_id=station_id, kinds=[FIRMWARE_EVENT], request_id=request_id, limit=MAX_PAGE,
        oldest_first=True)
    return _firmware_view(row, history)


# -- logs, diagnostics, uploads ----------------------------------------------------------------

@router.post("/stations/{station_id}/logs", response_model=LogRequestResult, responses=ERRORS,
             summary="Have a station upload its diagnostics or a log (1.6 GetDiagnostics or "
                     "GetLog, 2.0.1 GetLog)")
async def request_log(station_id: str, body: LogRequestBody, request: Request, core: Core,
                      who: Commander) -> LogRequestResult:
    require_station(core, station_id)
    log_request = LogRequest(log_type=body.type, oldest=as_utc(body.oldest),
                             latest=as_utc(body.latest), location=body.location,
                             retries=body.retries, retry_interval_s=body.retry_interval_s)
    try:
        outcome = await core.maintenance.diagnostics.request_log(
            station_id, log_request, actor(who), base_url=str(request.base_url))
    except CommandError as error:
        raise command_http_error(error) from error
    return LogRequestResult(station_id=station_id, request_id=outcome.request_id,
                            action=outcome.action, status=outcome.status,
                            response=outcome.response, filename=outcome.filename,
                            location=outcome.location)


@router.get("/stations/{station_id}/logs", response_model=LogOverview,
            summary="A station's log and diagnostics requests with their upload status")
async def log_overview(station_id: str, core: Core, _: Reader,
                       limit: int = Query(20, ge=1, le=MAX_PAGE),
                       offset: int = Query(0, ge=0)) -> LogOverview:
    require_station(core, station_id)
    columns = await core.maintenance.store.station_columns(station_id)
    total, rows = await core.maintenance.store.requests(station_id, LOG, limit=limit,
                                                        offset=offset)
    return LogOverview(station_id=station_id,
                       diagnostics_status=columns.get("diagnostics_status"), total=total,
                       limit=limit, offset=offset, requests=[_log_view(r) for r in rows])


@router.get("/stations/{station_id}/logs/{request_id}", response_model=LogRequestView,
            summary="One log request with its status history and uploaded files")
async def log_request_detail(station_id: str, request_id: int, core: Core,
                             _: Reader) -> LogRequestView:
    require_station(core, station_id)
    row = await core.maintenance.store.request(station_id, LOG, request_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no log request {request_id}")
    _, history = await core.maintenance.store.events(
        station_id=station_id, kinds=[LOG_EVENT, DIAGNOSTICS_EVENT], request_id=request_id,
        limit=MAX_PAGE, oldest_first=True)
    _, uploads = await core.maintenance.uploads.list(station_id, request_id=request_id,
                                                     limit=MAX_PAGE)
    return _log_view(row, history, uploads)


@router.get("/stations/{station_id}/uploads", response_model=UploadPage,
            summary="Files a station uploaded, newest first")
async def list_uploads(station_id: str, core: Core, _: Reader,
                       request_id: int | None = Query(None),
                       limit: int = Query(100, ge=1, le=MAX_PAGE),
                       offset: int = Query(0, ge=0)) -> UploadPage:
    require_station(core, station_id)
    total, rows = await core.maintenance.uploads.list(station_id, request_id=request_id,
                                                      limit=limit, offset=offset)
    return UploadPage(total=total, limit=limit, offset=offset,
                      items=[UploadView(**r) for r in rows])


@router.get("/uploads/{upload_id}/content", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "The file as the station uploaded it."},
                       404: {"description": "No such upload."},
                       410: {"description": "The file is no longer on disk."}},
            summary="Download an uploaded file")
async def upload_content(upload_id: int, core: Core, _: Commander) -> FileResponse:
    row = await core.maintenance.uploads.get(upload_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no upload {upload_id}")
    path = core.maintenance.uploads.file_of(row)
    if not path.is_file():
        raise HTTPException(status.HTTP_410_GONE, f"upload {upload_id} is no longer on disk")
    return FileResponse(path, filename=row["filename"],
                        media_type=row["content_type"] or "application/octet-stream")


# -- events ----------------------------------------------------------------------------------------

@router.get("/stations/{station_id}/events", response_model=StationEventPage,
            summary="What a station reported besides status and meter values (firmware and "
                    "log status, security events, NotifyEvent, ...), newest first")
async def station_events(
        station_id: str, core: Core, _: Reader,
        kind: list[str] = Query([], description="Only these kinds (repeatable)."),
        since: datetime | None = _FROM, until: datetime | None = _TO,
        request_id: int | None = Query(None), limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0)) -> StationEventPage:
    require_station(core, station_id)
    total, rows = await core.maintenance.store.events(
        station_id=station_id, kinds=kind, since=as_utc(since), until=as_utc(until),
        request_id=request_id, limit=limit, offset=offset)
    return StationEventPage(total=total, limit=limit, offset=offset,
                            items=[StationEventView(**r) for r in rows])


async def _security_page(core: Core, station_id: str | None, since: datetime | None,
                         until: datetime | None, critical: bool | None, limit: int,
                         offset: int) -> SecurityEventPage:
    store = core.maintenance.store
    if critical is None:
        total, rows = await store.events(station_id=station_id, kinds=[SECURITY_EVENT],
                                         since=as_utc(since), until=as_utc(until),
                                         limit=limit, offset=offset)
        return SecurityEventPage(total=total, limit=limit, offset=offset,
                                 items=[_security_view(r) for r in rows])
    # The flag is in the payload (JSON), so it is filtered here, a chunk at a time.
    matches: list[SecurityEventView] = []
    scanned = 0
    while True:
        _, rows = await store.events(station_id=station_id, kinds=[SECURITY_EVENT],
                                     since=as_utc(since), until=as_utc(until),
                                     limit=MAX_PAGE, offset=scanned)
        matches += [v for v in map(_security_view, rows) if v.critical is critical]
        scanned += len(rows)
        if len(rows) < MAX_PAGE:
            break
    return SecurityEventPage(total=len(matches), limit=limit, offset=offset,
                             items=matches[offset:offset + limit])


@router.get("/stations/{station_id}/security-events", response_model=SecurityEventPage,
            summary="A station's security events, newest first")
async def station_security_events(
        station_id: str, core: Core, _: Reader, since: datetime | None = _FROM,
        until: datetime | None = _TO, critical: bool | None = Query(None),
        limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0)) -> SecurityEventPage:
    require_station(core, station_id)
    return await _security_page(core, station_id, since, until, critical, limit, offset)


@router.get("/security-events", response_model=SecurityEventPage,
            summary="Security events of all stations, newest first")
async def security_events(
        core: Core, _: Reader, station_id: str | None = Query(None),
        since: datetime | None = _FROM, until: datetime | None = _TO,
        critical: bool | None = Query(None), limit: int = Query(100, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0)) -> SecurityEventPage:
    return await _security_page(core, station_id, since, until, critical, limit, offset)


# -- customer information ------------------------------------------------------------------------

@router.post("/stations/{station_id}/customer-information", response_model=RequestResult,
             responses=ERRORS, summary="Get and/or clear what a station holds about a "
                                       "customer (2.0.1 CustomerInformation)")
async def request_customer_information(station_id: str, body: CustomerInformationBody,
                                       core: Core, who: Commander) -> RequestResult:
    require_station(core, station_id)
    query = CustomerQuery(
        report=body.report, clear=body.clear,
        id_token=None if body.id_token is None else {"idToken": body.id_token.id_token,
                                                     "type": body.id_token.type},
        customer_identifier=body.customer_identifier,
        customer_certificate=None if body.customer_certificate is None
        else body.customer_certificate.model_dump())
    try:
        outcome = await core.maintenance.diagnostics.request_customer_information(
            station_id, query, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return RequestResult(station_id=station_id, request_id=outcome.request_id,
                         action=outcome.action, status=outcome.status,
                         response=outcome.response)


@router.get("/stations/{station_id}/customer-information/{request_id}",
            response_model=CustomerInformationView,
            summary="A customer information request with the data the station sent")
async def customer_information(station_id: str, request_id: int, core: Core,
                               _: Commander) -> CustomerInformationView:
    require_station(core, station_id)
    row = await core.maintenance.store.request(station_id, CUSTOMER_INFORMATION, request_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no customer information request {request_id}")
    _, rows = await core.maintenance.store.events(
        station_id=station_id, kinds=[CUSTOMER_EVENT], request_id=request_id, limit=MAX_PAGE,
        oldest_first=True)
    parts = sorted((CustomerInformationPart(seq_no=r["payload"]["seqNo"],
                                            tbc=r["payload"]["tbc"], data=r["payload"]["data"],
                                            generated_at=r["timestamp"]) for r in rows),
                   key=lambda part: part.seq_no)
    return CustomerInformationView(
        station_id=station_id, request_id=request_id, parameters=row["parameters"],
        response_status=row["response_status"], complete=row["complete"], data=row["result"],
        parts=parts, actor=row["actor"], created_at=row["created_at"])


# -- certificates ----------------------------------------------------------------------------------

@router.get("/stations/{station_id}/certificates", response_model=CertificateList,
            summary="Certificates on a station as the CSMS knows them (issued by its CA, "
                    "installed, reported)")
async def list_certificates(station_id: str, core: Core, _: Reader) -> CertificateList:
    require_station(core, station_id)
    rows = await core.maintenance.security.certificates(station_id)
    return CertificateList(station_id=station_id, refreshed=False,
                           certificates=[_certificate_view(r) for r in rows])


class CertificateRefreshBody(BaseModel):
    types: list[Literal["CSMSRootCertificate", "ManufacturerRootCertificate",
                        "V2GRootCertificate", "MORootCertificate", "V2GCertificateChain",
                        "CentralSystemRootCertificate"]] = Field(
        [], description="The types to ask for (default: all the station's version has).")


@router.post("/stations/{station_id}/certificates/refresh", response_model=CertificateList,
             responses=ERRORS, summary="Ask a station which certificates it has "
                                       "(GetInstalledCertificateIds) and list them")
async def refresh_certificates(station_id: str, body: CertificateRefreshBody, core: Core,
                               who: Commander) -> CertificateList:
    require_station(core, station_id)
    try:
        responses = await core.maintenance.security.refresh(
            station_id, [wire.neutral_certificate_type(k) for k in body.types], actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    rows = await core.maintenance.security.certificates(station_id)
    return CertificateList(station_id=station_id, refreshed=True, responses=responses,
                           certificates=[_certificate_view(r) for r in rows])


@router.post("/stations/{station_id}/certificates", response_model=CertificateCommandResult,
             responses=ERRORS, summary="Install a root certificate on a station "
                                       "(InstallCertificate)")
async def install_certificate(station_id: str, body: CertificateInstallBody, core: Core,
                              who: Operator) -> CertificateCommandResult:
    require_station(core, station_id)
    try:
        answer = await core.maintenance.security.install(
            station_id, wire.neutral_certificate_type(body.certificate_type), body.certificate,
            actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return CertificateCommandResult(station_id=station_id, action="InstallCertificate",
                                    status=answer.get("status"), response=answer)


@router.delete("/stations/{station_id}/certificates/{serial_number}",
               response_model=CertificateCommandResult,
               responses={**ERRORS, 404: {"description": "No certificate with this serial "
                                                         "number known on the station."}},
               summary="Delete a certificate the CSMS knows on a station, by serial number "
                       "(DeleteCertificate)")
async def delete_known_certificate(station_id: str, serial_number: str, core: Core,
                                   who: Operator) -> CertificateCommandResult:
    require_station(core, station_id)
    known = await core.maintenance.security.known_certificate(station_id, serial_number)
    if known is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no certificate with serial number {serial_number} known on "
                            f"{station_id} (refresh the list, or give the hash data)")
    return await _delete(core, station_id, known, who)


@router.post("/stations/{station_id}/certificates/delete",
             response_model=CertificateCommandResult, responses=ERRORS,
             summary="Delete a certificate from a station by its hash data (DeleteCertificate)")
async def delete_certificate(station_id: str, body: CertificateHashBody, core: Core,
                             who: Operator) -> CertificateCommandResult:
    require_station(core, station_id)
    return await _delete(core, station_id, body.model_dump(), who)


async def _delete(core: Core, station_id: str, hashed: dict[str, Any],
                  who: Any) -> CertificateCommandResult:
    try:
        answer = await core.maintenance.security.delete(station_id, hashed, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return CertificateCommandResult(station_id=station_id, action="DeleteCertificate",
                                    status=answer.get("status"), response=answer)


@router.post("/stations/{station_id}/certificates/renew",
             response_model=CertificateCommandResult, responses=ERRORS,
             summary="Have a station renew its certificate: it sends a CSR, the CSMS CA signs "
                     "it (1.6 ExtendedTriggerMessage, 2.0.1 TriggerMessage)")
async def renew_certificate(station_id: str, body: CertificateRenewBody, core: Core,
                            who: Commander) -> CertificateCommandResult:
    require_station(core, station_id)
    try:
        action, answer = await core.maintenance.security.renew(
            station_id, body.certificate_type, actor(who))
    except CommandError as error:
        raise command_http_error(error) from error
    return CertificateCommandResult(station_id=station_id, action=action,
                                    status=answer.get("status"), response=answer)


@router.get("/security/ca", response_model=CaView,
            summary="The CA certificate the CSMS signs station certificates with")
async def certificate_authority(core: Core, _: Reader) -> CaView:
    ca = core.maintenance.security.authority.certificate
    return CaView(subject=ca.subject.rfc4514_string(), not_before=ca.not_valid_before_utc,
                  not_after=ca.not_valid_after_utc,
                  certificate_pem=core.maintenance.security.authority.certificate_pem)
