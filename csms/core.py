"""The CSMS's parts wired together, without any server around them.

:class:`CsmsCore` is what the OCPP adapters, the REST API and the background tasks share. It can
run in-process (the simulator's embedded backend, tests) or under ``csms.server``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from dataclasses import dataclass, field

from chargeloop.ocppj import TraceRecord
from csms.config import CsmsConfig
from csms.domain.alerts import AlertService
from csms.domain.api_tokens import ApiTokenService
from csms.domain.authorization import AuthorizationService
from csms.domain.commands import CommandService
from csms.domain.connectors import ConnectorService
from csms.domain.local_lists import LocalListService
from csms.domain.maintenance import MaintenanceService
from csms.domain.provisioning import ProvisioningService
from csms.domain.reservations import ReservationService
from csms.domain.smart_charging import SmartChargingService
from csms.domain.stations import StationService
from csms.domain.timeutil import Clock, utcnow
from csms.domain.transactions import TransactionService
from csms.events import EventBus
from csms.ocpp.provisioning import install as install_provisioning
from csms.ocpp.registry import ConnectionRegistry
from csms.storage.database import Database
from csms.storage.migrate import upgrade_async

log = logging.getLogger("chargeloop.csms")

RECENT_FRAMES = 50  # per station, for the station detail view (memory: ~1 KiB a frame)
FLUSH_EVERY_S = 5.0


@dataclass
class CsmsCore:
    config: CsmsConfig
    clock: Clock = utcnow
    db: Database = field(init=False)
    events: EventBus = field(init=False)
    registry: ConnectionRegistry = field(init=False)
    stations: StationService = field(init=False)
    auth: AuthorizationService = field(init=False)
    connectors: ConnectorService = field(init=False)
    transactions: TransactionService = field(init=False)
    commands: CommandService = field(init=False)
    api_tokens: ApiTokenService = field(init=False)
    local_lists: LocalListService = field(init=False)
    reservations: ReservationService = field(init=False)
    smart_charging: SmartChargingService = field(init=False)
    provisioning: ProvisioningService = field(init=False)
    alerts: AlertService = field(init=False)

    def __post_init__(self) -> None:
        config = self.config
        self.db = Database(config.database_url, max_batch=config.max_batch)
        self.events = EventBus()
        self.registry = ConnectionRegistry()
        self.stations = StationService(self.db, self.events, config, self.clock)
        self.auth = AuthorizationService(self.db, self.clock)
        self.connectors = ConnectorService(self.db, self.events, self.clock)
        self.transactions = TransactionService(self.db, self.auth, self.events,
                                               late_after_s=config.late_after_s,
                                               clock=self.clock)
        self.commands = CommandService(self.db, self.registry, timeout_s=config.call_timeout_s,
                                       clock=self.clock)
        self.api_tokens = ApiTokenService(self.db, self.clock)
        self.maintenance = MaintenanceService(self.db, self.events, self.commands, config,
                                              self.clock)
        self.local_lists = LocalListService(self.db, self.auth, self.commands, self.events,
                                            self.clock)
        self.reservations = ReservationService(self.db, self.auth, self.commands, self.events,
                                               self.clock)
        self.smart_charging = SmartChargingService(self.db, self.commands, self.transactions,
                                                   self.events, self.clock)
        self.provisioning = ProvisioningService(self.db, self.events, self.stations, self.clock)
        install_provisioning(self)
        self.alerts = AlertService(self.db, self.events, config, self.clock, stations=self.stations,
                                   connectors=self.connectors, commands=self.commands)
        self.recent_frames: dict[str, deque[TraceRecord]] = defaultdict(
            lambda: deque(maxlen=RECENT_FRAMES))
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, migrate: bool = True) -> None:
        if migrate:
            await upgrade_async(self.config.database_url)
        await self.db.start()
        await self.stations.load()
        await self.auth.load()
        await self.connectors.load()
        await self.transactions.load()
        await self.api_tokens.load()
        await self.maintenance.load()
        await self.reservations.load()
        self._tasks.append(asyncio.create_task(self.reservations.run_expiry(),
                                               name="csms-reservation-expiry"))
        await self.provisioning.load()
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="csms-flush"))
        await self.alerts.load()
        self._tasks.append(asyncio.create_task(self.alerts.run(), name="csms-alerts"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.registry.close_all()
        await self.stations.flush_last_seen()
        await self.db.close()

    def trace(self, record: TraceRecord) -> None:
        self.recent_frames[record.identity].append(record)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            try:
                await self.stations.flush_last_seen()
            except Exception:
                log.warning("could not flush last-seen times", exc_info=True)
