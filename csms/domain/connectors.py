"""Connector and EVSE status: the latest per connector, and the history of changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.storage import tables as t
from csms.storage.database import Database
from csms.storage.upsert import upsert

FAULTED = "Faulted"


@dataclass(frozen=True, slots=True)
class StatusReport:
    station_id: str
    evse_id: int  # 0: the station as a whole
    connector_id: int  # 0: the EVSE as a whole
    status: str
    timestamp: datetime
    error_code: str | None = None
    info: str | None = None
    vendor_error_code: str | None = None
    late: bool = False


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What a connector offers, as its operator describes it (for station search)."""

    connector_type: str | None  # OCPP 2.0.1 ConnectorEnumType names: cCCS2, cType2, ...
    max_power_w: float | None


class ConnectorService:
    def __init__(self, db: Database, events: EventBus, clock: Clock = utcnow) -> None:
        self.db = db
        self.events = events
        self.clock = clock
        # Latest status per (station, evse, connector), for alerts and live views.
        self.latest: dict[tuple[str, int, int], StatusReport] = {}
        # The same reports per station, so one station's connectors are found without a scan.
        self._by_station: dict[str, dict[tuple[int, int], StatusReport]] = {}
        # Per station and (evse, connector): type and power, as the operator set them.
        self.specs: dict[str, dict[tuple[int, int], ConnectorSpec]] = {}

    async def load(self) -> None:
        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(t.connectors))).mappings())

        for row in await self.db.read(read):
            if row["connector_type"] is not None or row["max_power_w"] is not None:
                self.specs.setdefault(row["station_id"], {})[
                    (row["evse_id"], row["connector_id"])] = ConnectorSpec(
                    row["connector_type"], row["max_power_w"])
            if row["status"] is None:
                continue
            self._keep(StatusReport(
                row["station_id"], row["evse_id"], row["connector_id"], row["status"],
                row["status_time"] or self.clock(), row["error_code"], row["info"],
                row["vendor_error_code"]))

    async def report(self, report: StatusReport) -> None:
        key = (report.station_id, report.evse_id, report.connector_id)
        previous = self.latest.get(key)
        # An offline-queued report older than what we hold goes to history only.
        current = previous is None or report.timestamp >= previous.timestamp
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(insert(t.status_history).values(
                station_id=report.station_id, evse_id=report.evse_id,
                connector_id=report.connector_id, status=report.status,
                error_code=report.error_code, info=report.info, timestamp=report.timestamp,
                received_at=now, late=report.late))
            if current:
                await upsert(conn, t.connectors, [{
                    "station_id": report.station_id, "evse_id": report.evse_id,
                    "connector_id": report.connector_id, "status": report.status,
                    "error_code": report.error_code, "info": report.info,
                    "vendor_error_code": report.vendor_error_code,
                    "status_time": report.timestamp, "updated_at": now,
                }], ("station_id", "evse_id", "connector_id"))

        await self.db.write(write)
        if current:
            self._keep(report)
            self.events.publish("station.status", station_id=report.station_id,
                                evse_id=report.evse_id, connector_id=report.connector_id,
                                status=report.status, error_code=report.error_code,
                                previous=previous.status if previous else None,
                                late=report.late)

    def of_station(self, station_id: str) -> list[StatusReport]:
        reports = self._by_station.get(station_id, {})
        return [reports[key] for key in sorted(reports)]

    def status_of(self, station_id: str, evse_id: int, connector_id: int) -> StatusReport | None:
        return self._by_station.get(station_id, {}).get((evse_id, connector_id))

    async def set_spec(self, station_id: str, evse_id: int, connector_id: int,
                       spec: ConnectorSpec) -> None:
        """Record a connector's type and maximum power (the operator's word; statuses keep
        coming from the station)."""
        now = self.clock()

        async def write(conn: AsyncConnection) -> None:
            await upsert(conn, t.connectors, [{
                "station_id": station_id, "evse_id": evse_id, "connector_id": connector_id,
                "connector_type": spec.connector_type, "max_power_w": spec.max_power_w,
                "updated_at": now}], ("station_id", "evse_id", "connector_id"))

        await self.db.write(write)
        self.specs.setdefault(station_id, {})[(evse_id, connector_id)] = spec

    def _keep(self, report: StatusReport) -> None:
        self.latest[(report.station_id, report.evse_id, report.connector_id)] = report
        self._by_station.setdefault(report.station_id, {})[
            (report.evse_id, report.connector_id)] = report
