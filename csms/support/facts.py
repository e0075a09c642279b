"""The facts an agent needs about a ticket, gathered from the CSMS's own records.

Every ticket gets the live state of its station (online, last seen, connectors with status and
error code, open alerts) and of its session. A category adds what its problem needs:

* ``cable_stuck``: the connector's status history, the UnlockConnector commands sent to it and
  their answers (audit log), and any session still running on it;
* ``wont_start``: each of the driver's tokens with the verdict the CSMS would give now, their
  recent sessions, recent status and error codes at the station, remote starts for those
  tokens, and whether the account can pay (status, card, recent declines);
* ``wrong_charge`` and ``payment``: the session's energy and meter flags (non-monotonic,
  zero after offline), its tariff and cost breakdown, and the payments (the ticket's and the
  session's) with their refunds.

Facts are a JSON snapshot stored on the ticket, so the agent sees what was true when the driver
called even after the station moved on; refreshing gathers them again. A part that cannot be
gathered is named under ``unavailable`` with the reason; it never stops the rest or the ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from csms.domain.payments import Payment
from csms.domain.pricing import SessionCost
from csms.storage import tables as t
from csms.support.jsonable import jsonable
from csms.support.model import Ticket
from csms.support.workflow import Category

if TYPE_CHECKING:
    from csms.core import CsmsCore

log = logging.getLogger("chargeloop.csms.support")

RECENT = 20  # history rows per list: enough to see a pattern, small enough to read
RECENT_SESSIONS = 5
PROBLEM_STATUSES = ("Faulted", "Unavailable", "Inoperative")

Section = Callable[[], Awaitable[Any]]


class FactGatherer:
    def __init__(self, core: CsmsCore) -> None:
        self.core = core

    async def gather(self, ticket: Ticket) -> dict[str, Any]:
        links = ticket.links
        facts: dict[str, Any] = {"collected_at": self.core.clock(),
                                 "category": ticket.category.value}
        unavailable: dict[str, str] = {}

        async def add(name: str, section: Section) -> Any:
            try:
                facts[name] = await section()
            except Exception as exc:
                log.warning("support facts: %s of ticket %s failed", name, ticket.id,
                            exc_info=True)
                unavailable[name] = f"{type(exc).__name__}: {exc}"
            return facts.get(name)

        session = None  # the transaction row, when the ticket names one that exists
        if links.station_id and links.transaction_id:
            station, transaction = links.station_id, links.transaction_id
            session = await add("session", lambda: self.core.transactions.get(station,
                                                                              transaction))
            facts["session"] = None if session is None else session_view(session)
        station_id = links.station_id or (session or {}).get("station_id")
        if station_id:
            await add("station", lambda: self._station(station_id))
        evse_id = links.evse_id if links.evse_id is not None else (session or {}).get("evse_id")
        connector_id = links.connector_id if links.connector_id is not None \
            else (session or {}).get("connector_id")

        if ticket.category is Category.CABLE_STUCK and station_id:
            await add("connector", lambda: self._connector(station_id, evse_id, connector_id))
        if ticket.category is Category.WONT_START:
            await add("authorization", lambda: self._authorization(ticket.account_id, session))
            if station_id:
                await add("station_problems", lambda: self._station_problems(station_id,
                                                                            evse_id))
            await add("payment_standing", lambda: self._payment_standing(ticket.account_id))
        if ticket.category in (Category.WRONG_CHARGE, Category.PAYMENT):
            if session:
                await add("metering", lambda: self._metering(session))
                await add("cost", lambda: self._cost(session))
            await add("payments", lambda: self._payments(ticket, session))
        if unavailable:
            facts["unavailable"] = unavailable
        return jsonable(facts)

    # -- every ticket ----------------------------------------------------------------------------

    async def _station(self, station_id: str) -> dict[str, Any]:
        return station_live_state(self.core, station_id)

    # -- cable stuck -------------------------------------------------------------------------------

    async def _connector(self, station_id: str, evse_id: int | None,
                         connector_id: int | None) -> dict[str, Any]:
        h, a = t.status_history.c, t.audit_log.c

        async def read(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
            history = select(t.status_history).where(h.station_id == station_id)
            if evse_id is not None:
                history = history.where(h.evse_id == evse_id)
            history_rows = (await conn.execute(history.order_by(h.timestamp.desc(), h.id.desc())
                                               .limit(RECENT))).mappings().all()
            unlocks = (await conn.execute(select(t.audit_log).where(and_(
                a.station_id == station_id, a.action == "UnlockConnector"))
                .order_by(a.id.desc()).limit(RECENT))).mappings().all()
            return list(history_rows), list(unlocks)

        history, unlocks = await self.core.db.read(read)
        active = [session_view(tx) for tx in await self.core.transactions.active_for(station_id)
                  if evse_id is None or tx["evse_id"] == evse_id]
        return {
            "evse_id": evse_id, "connector_id": connector_id,
            "status_history": [{
                "evse_id": r["evse_id"], "connector_id": r["connector_id"],
                "status": r["status"], "error_code": r["error_code"], "info": r["info"],
                "timestamp": r["timestamp"], "late": r["late"]} for r in history],
            "unlock_attempts": [audit_view(r) for r in unlocks
                                if _unlock_targets(r["request"], evse_id)],
            "active_sessions": active,
        }

    # -- won't start -------------------------------------------------------------------------------

    async def _authorization(self, account_id: str,
                             session: dict[str, Any] | None) -> dict[str, Any]:
        core = self.core
        records = {r.token: r for r in core.auth.all() if r.account_id == account_id}
        if session and session.get("id_token") and session["id_token"] not in records:
            found = core.auth.get(session["id_token"])
            if found is not None:
                records[found.token] = found
        tokens = []
        for record in records.values():
            active = core.transactions.token_active(record.token)
            verdict = core.auth.authorize(record.token, record.type, active_elsewhere=active)
            tokens.append({"token": record.token, "type": record.type,
                           "status_on_record": record.status, "expiry": record.expiry,
                           "verdict_now": verdict.status, "in_a_session_now": active})
        recent = await self._recent_sessions(list(records))
        facts: dict[str, Any] = {"tokens": tokens, "recent_sessions": recent}
        if not records:
            facts["note"] = f"account {account_id} has no id token linked to it"
        return facts

    async def _recent_sessions(self, tokens: list[str]) -> list[dict[str, Any]]:
        if not tokens:
            return []
        c = t.transactions.c

        async def read(conn: AsyncConnection) -> list[Any]:
            return list((await conn.execute(select(t.transactions).where(
                c.id_token.in_(tokens)).order_by(c.started_at.desc(), c.id.desc())
                .limit(RECENT_SESSIONS))).mappings())

        return [session_view(r) for r in await self.core.db.read(read)]

    async def _station_problems(self, station_id: str, evse_id: int | None) -> dict[str, Any]:
        h = t.status_history.c

        async def read(conn: AsyncConnection) -> list[Any]:
            query = select(t.status_history).where(and_(
                h.station_id == station_id,
                or_(h.error_code.is_not(None), h.status.in_(PROBLEM_STATUSES))))
            if evse_id is not None:
                query = query.where(h.evse_id.in_((0, evse_id)))
            return list((await conn.execute(query.order_by(h.timestamp.desc(), h.id.desc())
                                            .limit(RECENT))).mappings())

        starts = await self.core.provisioning.remote_starts(station_id)
        return {
            "recent_errors": [{"evse_id": r["evse_id"], "connector_id": r["connector_id"],
                               "status": r["status"], "error_code": r["error_code"],
                               "info": r["info"], "timestamp": r["timestamp"]}
                              for r in await self.core.db.read(read)],
            "remote_starts": [{"remote_start_id": r["remote_start_id"],
                               "id_token": r["id_token"], "evse_id": r["evse_id"],
                               "status": r["status"], "requested_at": r["requested_at"],
                               "transaction_id": r["linked_transaction"]}
                              for r in starts[:RECENT]],
        }

    # -- wrong charge --------------------------------------------------------------------------

    async def _metering(self, session: dict[str, Any]) -> dict[str, Any]:
        mv = t.meter_values.c
        pk = session["id"]

        async def read(conn: AsyncConnection) -> tuple[list[Any], int, int]:
            flags = (await conn.execute(select(mv.flag, func.count()).where(and_(
                mv.transaction_id == pk, mv.flag.is_not(None))).group_by(mv.flag))).all()
            readings = (await conn.execute(select(func.count()).where(
                mv.transaction_id == pk))).scalar_one()
            late = (await conn.execute(select(func.count()).where(and_(
                mv.transaction_id == pk, mv.late.is_(True))))).scalar_one()
            return list(flags), int(readings), int(late)

        flags, readings, late = await self.core.db.read(read)
        return {"energy_wh": session["energy_wh"], "meter_start_wh": session["meter_start_wh"],
                "meter_stop_wh": session["meter_stop_wh"], "readings": readings,
                "late_readings": late, "flags": {flag: int(n) for flag, n in flags},
                "seq_gaps": session.get("seq_gaps") or []}


    async def _cost(self, session: dict[str, Any]) -> dict[str, Any]:
        """The tariff in force at the session's start and what the session costs under it
        (final once ended, else running as of now): the figures the driver was charged."""
        tariffs = self.core.tariffs
        tariff = None if session["started_at"] is None else await tariffs.tariff_for(
            session["station_id"], session["evse_id"], session["connector_id"],
            session["started_at"])
        if tariff is None:
            return {"tariff": None, "note": "no tariff applies to this session: it is free"}
        cost = await tariffs.session_cost(session["station_id"],
                                          session["ocpp_transaction_id"])
        return {"tariff": tariff, "breakdown": None if cost is None else cost_view(cost)}


    # -- payments ------------------------------------------------------------------------------

    async def _payment_standing(self, account_id: str) -> dict[str, Any]:
        """Whether the account can pay: a start is refused (NoCredit / Blocked) when it is
        suspended, has no card, or its card is declined."""
        accounts, payments = self.core.accounts, self.core.payments
        account = await accounts.get(account_id)
        if account is None:
            return {"account": None, "note": f"no account {account_id}: its sessions are not "
                                             "billed"}
        method = accounts.default_method(account_id)
        _, declines = await payments.listing(account_id=account_id, status="declined",
                                             limit=RECENT_SESSIONS)
        return {"account_status": account.status,
                "default_card": None if method is None else {
                    "brand": method.brand, "last4": method.last4,
                    "exp_month": method.exp_month, "exp_year": method.exp_year},
                "recent_declines": [payment_view(p) for p in declines]}

    async def _payments(self, ticket: Ticket, session: dict[str, Any] | None
                        ) -> list[dict[str, Any]]:
        """The payment the ticket names and the session's payment, each with its refunds."""
        payments = self.core.payments
        found = []
        if ticket.links.payment_id:
            found.append(await payments.get(ticket.links.payment_id))
        if session is not None:
            found.append(await payments.for_session(session["station_id"],
                                                    session["ocpp_transaction_id"]))
        views, seen = [], set()
        for payment in found:
            if payment is None or payment.id in seen:
                continue
            seen.add(payment.id)
            views.append({**payment_view(payment), "refunds": [
                {"amount": r.amount, "currency": r.currency, "status": r.status,
                 "reason": r.reason, "actor": r.actor, "created_at": r.created_at}
                for r in await payments.refunds(payment.id)]})
        return views


# -- views shared with the agent view ----------------------------------------------------------


def station_live_state(core: CsmsCore, station_id: str) -> dict[str, Any]:
    state = core.stations.get(station_id)
    if state is None:
        return {"id": station_id, "known": False}
    return {
        "id": station_id, "known": True, "online": not core.stations.is_offline(state),
        "connected": state.connected, "last_seen": state.last_seen,
        "ocpp_version": state.ocpp_version, "registration": state.registration,
        "firmware_version": state.firmware_version,
        "connectors": [{"evse_id": r.evse_id, "connector_id": r.connector_id,
                        "status": r.status, "error_code": r.error_code, "info": r.info,
                        "status_time": r.timestamp}
                       for r in core.connectors.of_station(station_id)],
        "open_alerts": [{"id": a["id"], "kind": a["kind"], "severity": a["severity"],
                         "evse_id": a.get("evse_id"), "message": a["message"],
                         "first_seen": a["first_seen"], "last_seen": a["last_seen"]}
                        for a in core.alerts.open_alerts(station_id)],
    }


def session_view(tx: dict[str, Any]) -> dict[str, Any]:
    return {
        "station_id": tx["station_id"],
        "transaction_id": tx["ocpp_transaction_id"], "ocpp_version": tx["ocpp_version"],
        "evse_id": tx["evse_id"], "connector_id": tx["connector_id"], "id_token": tx["id_token"],
        "auth_status": tx["auth_status"], "state": tx["state"],
        "charging_state": tx["charging_state"], "started_at": tx["started_at"],
        "stopped_at": tx["stopped_at"], "stop_reason": tx["stop_reason"],
        "energy_wh": tx["energy_wh"], "meter_start_wh": tx["meter_start_wh"],
        "meter_stop_wh": tx["meter_stop_wh"], "late": tx["late"],
        "seq_gaps": tx.get("seq_gaps") or [], "last_energy_flow_at": tx["last_energy_flow_at"],
        "updated_at": tx.get("updated_at"),
    }


def audit_view(row: Any) -> dict[str, Any]:
    return {"audit_id": row["id"], "at": row["at"], "actor": row["actor"], "role": row["role"],
            "request": row["request"], "response": row["response"], "outcome": row["outcome"]}


def _unlock_targets(request: dict[str, Any] | None, evse_id: int | None) -> bool:
    """Was this UnlockConnector about ``evse_id``? (1.6 names the connector, which is the
    EVSE; 2.0.1 names both.)"""
    if evse_id is None or not request:
        return True
    return request.get("evseId", request.get("connectorId")) == evse_id


def cost_view(cost: SessionCost) -> dict[str, Any]:
    """A session's cost without its periods (the lines say what was billed and why)."""
    return {"tariff_id": cost.tariff_id, "tariff_version": cost.tariff_version,
            "currency": cost.currency, "final": cost.final, "as_of": cost.as_of,
            "energy_wh": cost.energy_wh, "charging_s": cost.charging_s, "idle_s": cost.idle_s,
            "billed_idle_s": cost.billed_idle_s, "lines": cost.lines,
            "vat_percent": cost.vat_percent, "net": cost.net, "vat": cost.vat,
            "total": cost.total}


def payment_view(payment: Payment) -> dict[str, Any]:
    return {"payment_id": payment.id, "kind": payment.kind, "status": payment.status,
            "currency": payment.currency, "held": payment.held, "captured": payment.captured,
            "refunded": payment.refunded, "outstanding": payment.outstanding,
            "due": payment.due, "station_id": payment.station_id,
            "transaction_id": payment.transaction_id, "id_token": payment.id_token,
            "reason": payment.reason, "decline_code": payment.decline_code,
            "created_at": payment.created_at, "settled_at": payment.settled_at}
