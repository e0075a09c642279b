"""One station connection's life: register it, bind its version's adapter, serve it, and on
the way out mark it offline unless a newer connection has taken its place."""

from __future__ import annotations

import logging

from chargeloop.ocppj import OcppSession, OcppVersion, Role
from chargeloop.ocppj.transport import Transport
from csms.core import CsmsCore
from csms.ocpp.adapter import Adapter
from csms.ocpp.v16 import V16Adapter
from csms.ocpp.v201 import V201Adapter

log = logging.getLogger("chargeloop.csms.ocpp")


def adapter_for(core: CsmsCore, session: OcppSession, station_id: str) -> Adapter:
    if session.version is OcppVersion.V16:
        adapter: Adapter = V16Adapter(core, session, station_id)
    else:
        adapter = V201Adapter(core, session, station_id)
    adapter.register()
    return adapter


async def serve_station(core: CsmsCore, transport: Transport, station_id: str,
                        version: OcppVersion) -> None:
    """Run the CSMS side of one station connection until it closes."""
    session = OcppSession(transport, version, role=Role.CSMS, identity=station_id,
                          validation=core.config.validation,
                          call_timeout=core.config.call_timeout_s, trace=core.trace)
    adapter_for(core, session, station_id)
    await core.stations.on_connect(station_id, version.value)
    await core.registry.attach(station_id, session)
    try:
        await session.serve()
    finally:
        if core.registry.detach(station_id, session):
            await core.stations.on_disconnect(station_id)
