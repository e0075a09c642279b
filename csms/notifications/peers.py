"""What notifications need from the other driver services, in one place.

Accounts, tariffs and the transaction cache are other services on the core, wired next to this
one in any order and still growing; they are looked up when needed, each through one small
method here, and whatever a missing or failing service cannot say is simply left out of the
notification (a driver hears "completed, 12.4 kWh" without the cost rather than nothing).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from csms.notifications.model import plain

log = logging.getLogger("chargeloop.csms.notifications")


class Peers:
    def __init__(self, core: Any) -> None:
        self._core = core

    def account_for_token(self, id_token: str | None) -> str | None:
        """The driver account an id token belongs to (in memory, no I/O)."""
        accounts = getattr(self._core, "accounts", None)
        if not id_token or accounts is None:
            return None
        try:
            return accounts.account_for_token(id_token)
        except Exception:
            log.exception("account lookup failed for a token")
            return None

    def active_transaction(self, station_id: str, transaction_id: str) -> dict[str, Any] | None:
        """The active transaction's row as last committed (the transaction service keeps it
        in memory for its own hot path; reading it here costs a dict lookup)."""
        committed = getattr(self._core.transactions, "_committed", {})
        return committed.get((station_id, transaction_id))

    async def transaction(self, station_id: str, transaction_id: str) -> dict[str, Any] | None:
        return await self._core.transactions.get(station_id, transaction_id)

    async def session_cost(self, station_id: str, transaction_id: str) -> dict[str, Any] | None:
        """The running or final cost, ``{total, currency, final}`` (total incl. VAT as an exact
        string), or None when no tariff applies or no tariff service runs."""
        tariffs = getattr(self._core, "tariffs", None)
        if tariffs is None:
            return None
        try:
            cost = await tariffs.session_cost(station_id, transaction_id)
        except Exception:  # no tariff for the station, unknown session, ...
            log.debug("no cost for %s %s", station_id, transaction_id, exc_info=True)
            return None
        if cost is None:
            return None
        return {"total": plain(cost.total.rounded().amount), "currency": cost.currency,
                "final": bool(cost.final)}

    async def idle_fee(self, station_id: str, evse_id: int | None, connector_id: int | None,
                       started_at: datetime) -> tuple[Decimal, Decimal, str] | None:
        """(price per minute, grace minutes, currency) of the idle fee of the tariff in force
        at the session's start, or None when there is none."""
        tariffs = getattr(self._core, "tariffs", None)
        if tariffs is None:
            return None
        try:
            tariff = await tariffs.tariff_for(station_id, evse_id, connector_id, started_at)
        except Exception:
            log.debug("no tariff for %s", station_id, exc_info=True)
            return None
        price = getattr(tariff, "idle_price_per_min", None)
        if tariff is None or not price:
            return None
        return Decimal(price), Decimal(getattr(tariff, "idle_grace_min", 0) or 0), \
            tariff.currency
