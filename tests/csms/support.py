"""Helpers for CSMS flow tests: a station session connected to the running CSMS."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from chargeloop.ocppj import OcppSession, OcppVersion, Role, ValidationMode
from chargeloop.ocppj.transport import connect_ocpp
from csms.server import RunningCsms


def stamp(offset_s: float = 0.0) -> str:
    """An OCPP timestamp ``offset_s`` from now."""
    moment = datetime.now(UTC) + timedelta(seconds=offset_s)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextlib.asynccontextmanager
async def connected_station(csms: RunningCsms, identity: str, version: OcppVersion, *,
                            password: str | None = None,
                            routes: dict[str, Any] | None = None,
                            validation: ValidationMode = ValidationMode.STRICT,
                            ) -> AsyncIterator[OcppSession]:
    """A station session (we play the station) connected to ``csms``, serving in the
    background; ``routes`` answer the CSMS's commands."""
    transport = await connect_ocpp(csms.ocpp_url, identity=identity, versions=[version],
                                   password=password)
    session = OcppSession(transport, version, role=Role.STATION, identity=identity,
                          call_timeout=10.0, validation=validation)
    for action, handler in (routes or {}).items():
        session.route(action, handler)
    task = asyncio.create_task(session.serve())
    try:
        yield session
    finally:
        await session.close()
        await asyncio.wait_for(task, 10)


BOOT_16 = {"chargePointVendor": "chargeloop", "chargePointModel": "test-16"}
BOOT_201 = {"reason": "PowerUp", "chargingStation": {"vendorName": "chargeloop",
                                                     "model": "test-201"}}


async def boot(session: OcppSession) -> dict[str, Any]:
    payload = BOOT_16 if session.version is OcppVersion.V16 else BOOT_201
    return await session.call("BootNotification", payload)
