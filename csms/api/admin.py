"""API tokens (admin only) and the health check."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from csms.api.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenView
from csms.api.security import Admin, Core
from csms.domain.api_tokens import ApiRole

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/health", summary="Liveness, with a few numbers (no token needed)")
async def health(core: Core) -> dict[str, object]:
    return {"status": "ok", "connected_stations": len(core.registry),
            "database": core.db.dialect, "group_commits": core.db.batches,
            "writes": core.db.writes}


@router.post("/api-tokens", response_model=ApiTokenCreated,
             status_code=status.HTTP_201_CREATED, summary="Create an API token with a role")
async def create_api_token(body: ApiTokenCreate, core: Core, _: Admin) -> ApiTokenCreated:
    token = await core.api_tokens.create(body.name, ApiRole(body.role), body.subject)
    made = await core.api_tokens.principal(token)
    return ApiTokenCreated(id=made.token_id if made else None, name=body.name, role=body.role,
                           token=token)


@router.get("/api-tokens", response_model=list[ApiTokenView],
            summary="List API tokens (never their secrets), newest first")
async def list_api_tokens(core: Core, _: Admin) -> list[ApiTokenView]:
    return [ApiTokenView(**row) for row in await core.api_tokens.listing()]


@router.delete("/api-tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Revoke an API token")
async def revoke_api_token(token_id: int, core: Core, _: Admin) -> None:
    if not await core.api_tokens.revoke(token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no active API token {token_id}")
