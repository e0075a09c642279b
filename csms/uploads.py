"""The upload endpoint stations send logs and diagnostics to, on the CSMS's own port:
``PUT`` or ``POST /uploads/{token}`` (optionally ``/uploads/{token}/{filename}``).

The token is the credential: it is issued with each GetLog / GetDiagnostics the CSMS sends
without an operator-given location (see :mod:`csms.domain.uploads`). The body is the file, or
a ``multipart/form-data`` form whose (first) file part is. Answers: 201 stored, 200 replaced
(the same name uploaded again), 404 unknown or expired token, 413 too large, 400 a malformed
multipart body.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from csms.api.security import get_core
from csms.domain.uploads import UploadRefused

router = APIRouter(tags=["uploads"])


class UploadStored(BaseModel):
    upload_id: int
    station_id: str
    request_id: int | None
    filename: str
    size_bytes: int
    sha256: str


_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": UploadStored, "description": "Replaced a file of the same name."},
    201: {"model": UploadStored, "description": "Stored."},
    400: {"description": "Malformed multipart body."},
    404: {"description": "Unknown or expired upload location."},
    413: {"description": "Larger than the configured upload_max_bytes."},
}


async def _receive(request: Request, token: str, filename: str | None) -> JSONResponse:
    core = get_core(request)
    try:
        receipt = await core.maintenance.uploads.receive(
            token, request.stream(), filename=filename,
            content_type=request.headers.get("content-type"),
            content_disposition=request.headers.get("content-disposition"),
            remote_addr=request.client.host if request.client else None)
    except UploadRefused as refused:
        raise HTTPException(refused.status, str(refused)) from refused
    body = UploadStored(upload_id=receipt.id, station_id=receipt.station_id,
                        request_id=receipt.request_id, filename=receipt.filename,
                        size_bytes=receipt.size_bytes, sha256=receipt.sha256)
    return JSONResponse(body.model_dump(), status_code=200 if receipt.replaced else 201)


@router.put("/uploads/{token}", status_code=201, response_model=UploadStored,
            responses=_RESPONSES, openapi_extra=_BODY,
            summary="A station uploads a log or diagnostics file (raw body)")
async def put_upload(token: str, request: Request) -> JSONResponse:
    return await _receive(request, token, None)


@router.post("/uploads/{token}", status_code=201, response_model=UploadStored,
             responses=_RESPONSES, openapi_extra=_BODY,
             summary="A station uploads a log or diagnostics file (raw or multipart form)")
async def post_upload(token: str, request: Request) -> JSONResponse:
    return await _receive(request, token, None)


@router.put("/uploads/{token}/{filename}", status_code=201, response_model=UploadStored,
            responses=_RESPONSES, openapi_extra=_BODY,
            summary="A station uploads a named log or diagnostics file (raw body)")
async def put_named_upload(token: str, filename: str, request: Request) -> JSONResponse:
    return await _receive(request, token, filename)


@router.post("/uploads/{token}/{filename}", status_code=201, response_model=UploadStored,
             responses=_RESPONSES, openapi_extra=_BODY,
             summary="A station uploads a named log or diagnostics file (raw or multipart)")
async def post_named_upload(token: str, filename: str, request: Request) -> JSONResponse:
    return await _receive(request, token, filename)
