"""Id tokens (RFID cards, app tokens): create, change, block, expire, delete."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from csms.api.schemas import TokenBody, TokenView
from csms.api.security import Core, Operator, Reader
from csms.domain.authorization import TokenRecord

router = APIRouter(prefix="/api/tokens", tags=["id tokens"])


def token_view(record: TokenRecord) -> TokenView:
    return TokenView(token=record.token, type=record.type, status=record.status,
                     group_id=record.group_id, expiry=record.expiry,
                     account_id=record.account_id, language=record.language)


@router.get("", response_model=list[TokenView], summary="All id tokens")
async def list_tokens(core: Core, _: Reader) -> list[TokenView]:
    return [token_view(r) for r in core.auth.all()]


@router.get("/{token}", response_model=TokenView, summary="One id token")
async def get_token(token: str, core: Core, _: Reader) -> TokenView:
    record = core.auth.get(token)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown id token {token!r}")
    return token_view(record)


@router.put("/{token}", response_model=TokenView, summary="Create or replace an id token")
async def put_token(token: str, body: TokenBody, core: Core, _: Operator) -> TokenView:
    if not 1 <= len(token) <= 36:
        raise HTTPException(422,
                            [{"loc": ["path", "token"], "msg": "1 to 36 characters",
                              "type": "string_length"}])
    return token_view(await core.auth.upsert(token, **body.model_dump()))


@router.delete("/{token}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an id token")
async def delete_token(token: str, core: Core, _: Operator) -> None:
    if not await core.auth.delete(token):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown id token {token!r}")
