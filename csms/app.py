"""The reference CSMS as one ASGI application: OCPP-J at ``/ocpp/{stationId}``, the REST API
under ``/api/``, OpenAPI at ``/openapi.json`` with docs at ``/docs``, events at
``/api/events``. One port serves everything."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from chargeloop import __version__
from csms.api import admin, commands, events, stations, tokens
from csms.core import CsmsCore
from csms.ocpp.endpoint import OCPP_PREFIX, OcppEndpoint, Receive, Scope, Send


def create_api(core: CsmsCore) -> FastAPI:
    api = FastAPI(
        title="chargeloop reference CSMS",
        version=__version__,
        description="Operator API of the chargeloop reference CSMS: stations, transactions, "
                    "id tokens, commands to stations, alerts and live events. Authenticate "
                    "with `Authorization: Bearer <API token>`.",
    )
    api.state.core = core
    for module in (admin, stations, tokens, commands, events):
        api.include_router(module.router)
    return api


class CsmsApp:
    """Routes WebSocket upgrades under ``/ocpp/`` to the OCPP endpoint, everything else to
    the FastAPI application."""

    def __init__(self, core: CsmsCore, **endpoint_options: Any) -> None:
        self.core = core
        self.api = create_api(core)
        self.ocpp = OcppEndpoint(core, **endpoint_options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].startswith(OCPP_PREFIX):
            await self.ocpp(scope, receive, send)
        else:
            await self.api(scope, receive, send)
