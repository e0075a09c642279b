"""OCPP 2.0.1 block I (Tariff and Cost), the CSMS's side of running costs.

Every ``cost_update_interval_s`` the scan prices each active transaction that has a tariff (one
read for all of them, :meth:`TariffService.running_costs`, which also publishes
``transaction.cost``), then, for each one at a connected 2.0.1 (or 2.1) station:

* sends CostUpdated with the running total (I02, TC_I_01), when it changed since the last one;
* where the station's device model says it has a display (DisplayMessageCtrlr Available or
  Enabled true), shows the running total with SetDisplayMessage, tied to the transaction so the
  station drops it when the transaction ends (one message id per transaction, updated in place).

The same running figures answer TransactionEvent(Updated) without a read, and the final total
goes into the TransactionEventResponse(Ended) (see :mod:`csms.ocpp.v201`). 1.6 has no cost
messages: its stations' costs are in the API views only.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj import OcppVersion
from csms.domain.commands import SYSTEM, CommandError, CommandService
from csms.domain.pricing import SessionCost
from csms.domain.provisioning import DisplayMessage
from csms.ocpp.provisioning import message_info
from csms.storage import tables as t

if TYPE_CHECKING:
    from csms.domain.provisioning import ProvisioningService
    from csms.domain.tariffs import TariffService

log = logging.getLogger("chargeloop.csms.costs")

DISPLAY_COMPONENT = "DisplayMessageCtrlr"
_DISPLAY_VARIABLES = ("Available", "Enabled")

Key = tuple[str, str]  # (station, OCPP transaction id)


def wire_amount(amount: Decimal) -> int | float:
    """An amount already rounded to its minor unit, as the JSON number OCPP carries (and the
    audit log stores): whole amounts as integers, others as the float that prints the same."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def cost_text(cost: SessionCost) -> str:
    return f"Cost so far: {cost.total.amount} {cost.currency}"


class CostUpdates:
    def __init__(self, tariffs: TariffService, commands: CommandService,
                 provisioning: ProvisioningService, interval_s: float) -> None:
        self.tariffs = tariffs
        self.commands = commands
        self.provisioning = provisioning
        self.interval_s = interval_s
        self._sent: dict[Key, str] = {}  # the total last sent with CostUpdated
        self._shown: dict[Key, str] = {}  # the text last shown on the display
        self._message_ids: dict[Key, int] = {}  # the display message of each transaction

    async def run(self) -> None:
        """Scan every ``interval_s`` until cancelled (CsmsCore.stop)."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.scan()
            except Exception:
                log.warning("running cost scan failed", exc_info=True)

    async def scan(self, now: datetime | None = None) -> list[SessionCost]:
        """Price the active priced transactions as of ``now`` and tell their 2.0.1 stations;
        returns the running costs. Waits for the stations' answers (bounded by the command
        timeout); a station that does not answer delays nothing else."""
        costs = await self.tariffs.running_costs(now)
        live = {(c.station_id, c.transaction_id) for c in costs}
        for known in (self._sent, self._shown, self._message_ids):
            for key in [k for k in known if k not in live]:
                del known[key]
        costs_201 = [c for c in costs if self._speaks_201(c.station_id)]
        displays = await self._stations_with_display({c.station_id for c in costs_201})
        await asyncio.gather(*(self._tell(cost, cost.station_id in displays)
                               for cost in costs_201))
        return costs

    def _speaks_201(self, station_id: str) -> bool:
        try:
            return self.commands.version_of(station_id) is not OcppVersion.V16
        except CommandError:
            return False  # not connected: it hears the final total when it ends

    async def _tell(self, cost: SessionCost, has_display: bool) -> None:
        key = (cost.station_id, cost.transaction_id)
        total = str(cost.total.amount)
        if self._sent.get(key) != total:
            try:
                await self.commands.call(cost.station_id, "CostUpdated", {
                    "totalCost": wire_amount(cost.total.amount),
                    "transactionId": cost.transaction_id}, SYSTEM)
                self._sent[key] = total
            except CommandError as error:
                log.info("CostUpdated to %s for %s: %s", cost.station_id, cost.transaction_id,
                         error)
        if has_display and self._shown.get(key) != cost_text(cost):
            await self._show(key, cost)

    async def _show(self, key: Key, cost: SessionCost) -> None:
        station_id, transaction_id = key
        try:
            message_id = self._message_ids.get(key)
            if message_id is None:
                message_id = await self.provisioning.next_display_message_id(station_id)
                self._message_ids[key] = message_id
            text = cost_text(cost)
            answer = await self.commands.call(station_id, "SetDisplayMessage", {
                "message": message_info(DisplayMessage(
                    id=message_id, priority="InFront", format="UTF8", content=text,
                    transaction_id=transaction_id))}, SYSTEM)
        except CommandError as error:
            log.info("SetDisplayMessage to %s for %s: %s", station_id, transaction_id, error)
            return
        self._shown[key] = text  # not asked again with the same text, shown or refused
        if answer.get("status") != "Accepted":  # e.g. NotSupportedMessageFormat
            log.info("%s did not show the running cost: %s", station_id, answer.get("status"))

    async def _stations_with_display(self, station_ids: set[str]) -> set[str]:
        """The stations whose device model reports a display message controller that is
        available or enabled (and neither said false)."""
        if not station_ids:
            return set()
        c = t.station_variables.c

        async def read(conn: AsyncConnection) -> list[tuple[str, str | None]]:
            rows = await conn.execute(select(c.station_id, c.value).where(
                c.station_id.in_(station_ids), c.component == DISPLAY_COMPONENT,
                c.variable.in_(_DISPLAY_VARIABLES), c.attribute_type == "Actual"))
            return [(row.station_id, row.value) for row in rows]

        said: dict[str, set[str]] = {}
        for station_id, value in await self.provisioning.db.read(read):
            said.setdefault(station_id, set()).add((value or "").strip().lower())
        return {s for s, values in said.items() if "true" in values and "false" not in values}
