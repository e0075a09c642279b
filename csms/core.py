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
from csms.domain.accounts import AccountService
from csms.domain.alerts import AlertService
from csms.domain.api_tokens import ApiTokenService
from csms.domain.authorization import AuthorizationService
from csms.domain.bookings import BookingService
from csms.domain.commands import CommandService
from csms.domain.connectors import ConnectorService
from csms.domain.local_lists import LocalListService
from csms.domain.maintenance import MaintenanceService
from csms.domain.payments import PaymentService
from csms.domain.provisioning import ProvisioningService
from csms.domain.receipts import ReceiptService
from csms.domain.reservations import ReservationService
from csms.domain.smart_charging import SmartChargingService
from csms.domain.station_search import StationSearch
from csms.domain.stations import StationService
from csms.domain.support import SupportService
from csms.domain.tariffs import TariffService
from csms.domain.timeutil import Clock, utcnow
from csms.domain.transactions import TransactionService
from csms.events import EventBus
from csms.notifications import NotificationService
from csms.ocpp.costs import CostUpdates
from csms.ocpp.provisioning import install as install_provisioning
from csms.ocpp.registry import ConnectionRegistry
from csms.payments.test_provider import TestProvider
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
    station_search: StationSearch = field(init=False)
    bookings: BookingService = field(init=False)
    smart_charging: SmartChargingService = field(init=False)
    provisioning: ProvisioningService = field(init=False)
    alerts: AlertService = field(init=False)
    notifications: NotificationService = field(init=False)
    support: SupportService = field(init=False)
    tariffs: TariffService = field(init=False)
    cost_updates: CostUpdates = field(init=False)
    accounts: AccountService = field(init=False)
    payments: PaymentService = field(init=False)
    receipts: ReceiptService = field(init=False)

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
        self.station_search = StationSearch(self.stations, self.connectors, self.reservations,
                                            self.clock)
        self.bookings = BookingService(self.db, self.events, config, self.auth, self.commands,
                                       self.reservations, self.transactions,
                                       self.station_search, self.clock)
        self.smart_charging = SmartChargingService(self.db, self.commands, self.transactions,
                                                   self.events, self.clock)
        self.provisioning = ProvisioningService(self.db, self.events, self.stations, self.clock)
        install_provisioning(self)
        self.alerts = AlertService(self.db, self.events, config, self.clock, stations=self.stations,
                                   connectors=self.connectors, commands=self.commands)
        self.notifications = NotificationService(self.db, self.events, config, self.clock,
                                                 connectors=self.connectors,
                                                 station_search=self.station_search, core=self)
        self.support = SupportService(self)
        self.tariffs = TariffService(self.db, self.events, self.transactions, self.clock,
                                     account_of=self._account_of_token)
        self.bookings.tariffs = self.tariffs  # no-show fees
        self.cost_updates = CostUpdates(self.tariffs, self.commands, self.provisioning,
                                        config.cost_update_interval_s)
        self.accounts = AccountService(self.db, self.auth, TestProvider(self.db, self.clock),
                                       self.clock)
        self.receipts = ReceiptService(self.db, self.clock)
        self.payments = PaymentService(self.db, self.events, self.accounts,
                                       self.accounts.provider, self.receipts, self.transactions,
                                       self.commands, self.tariffs, config, self.clock)
        self.bookings.payments = self.payments  # no-show fees
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
        await self.accounts.load()
        await self.api_tokens.load()
        await self.maintenance.load()
        await self.reservations.load()
        self._tasks.append(asyncio.create_task(self.reservations.run_expiry(),
                                               name="csms-reservation-expiry"))
        await self.provisioning.load()
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="csms-flush"))
        await self.alerts.load()
        self._tasks.append(asyncio.create_task(self.alerts.run(), name="csms-alerts"))
        await self.tariffs.load()
        self._tasks.append(asyncio.create_task(self.cost_updates.run(), name="csms-costs"))
        await self.payments.load()  # after tariffs and accounts; its scan settles what ended
        self._tasks.append(asyncio.create_task(self.payments.run(), name="csms-payments"))
        await self.notifications.load()  # after accounts: it resolves active sessions' tokens
        self._tasks.append(asyncio.create_task(self.notifications.run(),
                                               name="csms-notifications"))
        await self.bookings.load()  # after tariffs: a window that ended meanwhile may cost a fee
        self._tasks.append(asyncio.create_task(self.bookings.run(), name="csms-bookings"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.payments.close()
        await self.registry.close_all()
        await self.stations.flush_last_seen()
        await self.db.close()

    def _account_of_token(self, id_token: str | None) -> str | None:
        """The driver account an id token belongs to, where accounts exist (memory only)."""
        accounts = getattr(self, "accounts", None)
        return accounts.account_for_token(id_token) if accounts and id_token else None

    def trace(self, record: TraceRecord) -> None:
        self.recent_frames[record.identity].append(record)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            try:
                await self.stations.flush_last_seen()
            except Exception:
                log.warning("could not flush last-seen times", exc_info=True)
