"""The reference CSMS as one ASGI application: OCPP-J at ``/ocpp/{stationId}``, the REST API
under ``/api/``, OpenAPI at ``/openapi.json`` with docs at ``/docs``, events at
``/api/events``. One port serves everything."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from chargeloop import __version__
from csms import uploads, web
from csms.api import accounts as accounts_api
from csms.api import admin, alerts, audit, commands, control, events, history, stations, tokens
from csms.api import authorization as authorization_api
from csms.api import bookings as bookings_api
from csms.api import driver_control as driver_control_api
from csms.api import locations as locations_api
from csms.api import maintenance as maintenance_api
from csms.api import me as me_api
from csms.api import notifications as notifications_api
from csms.api import payments as payments_api
from csms.api import reservations as reservations_api
from csms.api import smart_charging as smart_charging_api
from csms.api import support as support_api
from csms.api import tariffs as tariffs_api
from csms.api import transactions as transactions_api
from csms.core import CsmsCore
from csms.ocpp.endpoint import OCPP_PREFIX, OcppEndpoint, Receive, Scope, Send


def create_api(core: CsmsCore) -> FastAPI:
    # The docs pages must work on an air-gapped bench: their scripts come with the package.
    api = FastAPIOffline(
        title="chargeloop reference CSMS",
        version=__version__,
        description="Operator API of the chargeloop reference CSMS: stations, transactions, "
                    "id tokens, commands to stations, alerts and live events. Authenticate "
                    "with `Authorization: Bearer <API token>`.",
    )
    api.state.core = core
    for module in (admin, stations, tokens, commands, control, events, transactions_api, history,
                   alerts, audit, authorization_api, reservations_api, smart_charging_api,
                   maintenance_api, uploads):
        api.include_router(module.router)
    api.include_router(locations_api.router)
    api.include_router(notifications_api.router)
    api.include_router(bookings_api.router)
    api.include_router(support_api.router)
    api.include_router(tariffs_api.router)
    api.include_router(accounts_api.router)
    api.include_router(payments_api.router)
    api.include_router(me_api.router)
    api.include_router(driver_control_api.router)
    web.install(api)
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
