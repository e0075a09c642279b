"""One driver as an agent sees them: the account, its tokens, its recent sessions (the active
ones with their live state), its payments, its tickets, and the live state of every station
involved. Read on demand; nothing here runs on the OCPP path."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.storage import tables as t
from csms.support.facts import cost_view, payment_view, session_view, station_live_state
from csms.support.jsonable import jsonable
from csms.support.model import SupportError
from csms.support.tickets import TicketQuery, TicketStore

if TYPE_CHECKING:
    from csms.core import CsmsCore

log = logging.getLogger("chargeloop.csms.support")

RECENT_SESSIONS = 20
RECENT_TICKETS = 20
RECENT_PAYMENTS = 20


class AccountNotKnown(SupportError):
    def __init__(self, account_id: str) -> None:
        super().__init__(f"no account {account_id!r}: no such account, id token or ticket")


class AgentView:
    def __init__(self, core: CsmsCore, store: TicketStore) -> None:
        self.core = core
        self.store = store

    async def account(self, account_id: str) -> dict[str, Any]:
        """JSON-ready data, except ``tickets``: the recent :class:`Ticket` s (no thread)."""
        core = self.core
        account = await core.accounts.get(account_id)
        tokens = [r for r in core.auth.all() if r.account_id == account_id]
        ticket_total, tickets = await self.store.query(TicketQuery(account_id=account_id),
                                                       RECENT_TICKETS, 0)
        if account is None and not tokens and not ticket_total:
            raise AccountNotKnown(account_id)
        sessions = [await self._session(tx) for tx in await self._sessions(account_id)]
        stations = sorted({s["station_id"] for s in sessions}
                          | {tk.links.station_id for tk in tickets if tk.links.station_id})
        return {"tickets": tickets, **jsonable({
            "account_id": account_id,
            "account": account,
            "tokens": [{"token": r.token, "type": r.type, "status": r.status,
                        "expiry": r.expiry,
                        "verdict_now": core.auth.authorize(
                            r.token, r.type,
                            active_elsewhere=core.transactions.token_active(r.token)).status}
                       for r in tokens],
            "sessions": sessions,
            "payments": await self._payments(account_id),
            "ticket_total": ticket_total,
            "stations": [station_live_state(core, s) for s in stations],
        })}

    async def _sessions(self, account_id: str) -> list[dict[str, Any]]:
        tx, tokens = t.transactions.c, t.id_tokens.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(
                select(t.transactions).join(t.id_tokens, tokens.token == tx.id_token)
                .where(tokens.account_id == account_id)
                .order_by(tx.started_at.desc(), tx.id.desc()).limit(RECENT_SESSIONS))
            return [dict(r) for r in rows.mappings()]

        return await self.core.db.read(read)

    async def _session(self, tx: dict[str, Any]) -> dict[str, Any]:
        view = session_view(tx)
        if tx["state"] == "Active":
            view["live"] = {**self._live(tx), "cost": await self._running_cost(tx)}
        return view

    async def _running_cost(self, tx: dict[str, Any]) -> dict[str, Any] | None:
        """What the session costs so far (computed now: this view is read on demand)."""
        try:
            cost = await self.core.tariffs.session_cost(tx["station_id"],
                                                        tx["ocpp_transaction_id"])
        except Exception:  # a view must not fail for one figure
            log.warning("support: running cost of %s/%s failed", tx["station_id"],
                        tx["ocpp_transaction_id"], exc_info=True)
            return None
        return None if cost is None else cost_view(cost)

    def _live(self, tx: dict[str, Any]) -> dict[str, Any]:
        core = self.core
        connector = core.connectors.latest.get(
            (tx["station_id"], tx["evse_id"] or 0, tx["connector_id"] or 0))
        state = core.stations.get(tx["station_id"])
        return {"station_online": state is not None and not core.stations.is_offline(state),
                "connector_status": connector.status if connector else None,
                "error_code": connector.error_code if connector else None,
                "charging_state": tx["charging_state"], "energy_wh": tx["energy_wh"],
                "last_energy_flow_at": tx["last_energy_flow_at"]}

    async def _payments(self, account_id: str) -> list[dict[str, Any]]:
        _, payments = await self.core.payments.listing(account_id=account_id,
                                                       limit=RECENT_PAYMENTS)
        return [payment_view(p) for p in payments]
