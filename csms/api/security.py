"""Bearer-token authentication and role checks for the REST API.

401 without a valid token, 403 with a token whose role may not do the thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from csms.core import CsmsCore
from csms.domain.api_tokens import ApiPrincipal, ApiRole
from csms.domain.commands import Actor

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer clp_...`")

READ_ROLES = frozenset(ApiRole) - {ApiRole.DRIVER}
OPERATE_ROLES = frozenset({ApiRole.ADMIN, ApiRole.OPERATOR})
COMMAND_ROLES = frozenset({ApiRole.ADMIN, ApiRole.OPERATOR, ApiRole.SUPPORT})
ADMIN_ROLES = frozenset({ApiRole.ADMIN})
DRIVER_ROLES = frozenset({ApiRole.DRIVER})


def get_core(request: Request) -> CsmsCore:
    return request.app.state.core


async def principal(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                    ) -> ApiPrincipal:
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "an API token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    found = await get_core(request).api_tokens.principal(credentials.credentials)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown or revoked API token",
                            headers={"WWW-Authenticate": "Bearer"})
    return found


def require(roles: frozenset[ApiRole]) -> Callable[..., ApiPrincipal]:
    def check(who: Annotated[ApiPrincipal, Depends(principal)]) -> ApiPrincipal:
        if who.role not in roles:
            allowed = ", ".join(sorted(r.value for r in roles))
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {who.role.value} may not do this; needs one of {allowed}")
        return who

    return check


def actor(who: ApiPrincipal) -> Actor:
    return Actor(who.name, who.role.value)


Core = Annotated[CsmsCore, Depends(get_core)]
Reader = Annotated[ApiPrincipal, Depends(require(READ_ROLES))]
Operator = Annotated[ApiPrincipal, Depends(require(OPERATE_ROLES))]
Commander = Annotated[ApiPrincipal, Depends(require(COMMAND_ROLES))]
Admin = Annotated[ApiPrincipal, Depends(require(ADMIN_ROLES))]


def driver_account(who: Annotated[ApiPrincipal, Depends(require(DRIVER_ROLES))]) -> str:
    """The driver account behind a driver token (its ``subject``): what ``/api/me`` serves."""
    if not who.subject:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "this driver token is not linked to an account; make it with "
                            "a subject (POST /api/api-tokens with \"subject\": account id)")
    return who.subject


DriverAccount = Annotated[str, Depends(driver_account)]
