"""Authorisation at the station: tokens at an EVSE's reader and at the station's own reader,
the verdict (local list, cache, CSMS, offline rules), master passes (C16), stopping a
transaction with its token or with one of its group, and the EV connection timeout.

:class:`AuthorizationMixin` is one part of :class:`~simulator.station.station.SimStation` and
works only there. Its state is the station's ``station_auth`` (a token accepted at the
station's reader before an EVSE was chosen), ``master_pass_ui`` and ``_master_pass_waiting``,
set up in ``SimStation.__init__``. It relies on the station's ``env``, ``version``,
``settings``, ``evses`` / ``evse()``, ``proto``, ``authorizer``, ``reservations`` /
``reservation_view()`` (:mod:`.status`), ``firmware_pending``, ``_online``, ``utc()``,
``event()``, ``enqueue()`` (:mod:`.connection`), ``changed()`` (:mod:`.power`), the steps of
:mod:`.transactions` (``_start_due``, ``_stop_due``, ``_begin_tx``, ``_end_tx``,
``_next_tx_id``, ``_use_reservation``, ``_tx_process``) and ``_unlock_cable()`` (station.py).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

from chargeloop.ocppj import (
    CallErrorReceived,
    CallTimeout,
    OcppVersion,
    PayloadInvalid,
    SessionClosed,
)
from simulator.station.auth_store import Decision
from simulator.station.evse import CABLE_LOCKED_FOR, Authorization, EvseState, Transaction
from simulator.station.outbox import Undeliverable

Gen = Generator[Any, Any, Any]


class AuthorizationMixin:
    """SimStation's tokens, verdicts and stops by token (see the module)."""

    # -- what drivers do with tokens ---------------------------------------------------------------

    def present_token(self, evse_id: int, token: Any) -> Gen:
        """The driver holds ``token`` (an :class:`~simulator.drivers.IdToken` or an id string)
        to the reader of EVSE ``evse_id``; returns whether the station accepted it. With a
        transaction running, the token that started it stops it."""
        evse = self.evse(evse_id)
        token_id, token_type = _token(token)
        if CABLE_LOCKED_FOR in evse.extras and evse.tx is None and not evse.plugged:
            yield self.env.timeout(0)
            return self._unlock_cable(evse, token_id)
        if evse.tx is not None and evse.auth is not None:
            if token_id == evse.auth.id_token:
                return (yield from self.stop_by_driver(evse_id, token))
            if self.version is OcppVersion.V16:
                return (yield from self._stop_by_group(evse, token_id, token_type))
            # 2.0.1 has the same rule: C09, Authorization by GroupId (TC_C_40_CS, TC_C_43_CS)
            return (yield from self._stop_by_group(evse, token_id, token_type))
        if evse.fault is not None or not evse.operative or evse.auth is not None:
            return False
        verdict = yield from self.authorize(token_id, token_type, evse_id)
        if self._is_master_pass(verdict):
            return self._stop_all_by_master_pass(token_id)
        if not verdict.accepted:
            self.event("token_rejected", f"evse {evse_id}: {token_id} {verdict.status}")
            return False
        if evse.auth is not None or not evse.operative or evse.fault is not None:
            return False  # taken meanwhile (a remote start, a change of availability)
        if len(self.reservations) and self.reservations.blocks(
                evse_id, token_id, verdict.group_id, self.reservation_view(free=evse)):
            self.event("token_rejected", f"evse {evse_id}: {token_id} reserved for another")
            return False
        self.authorized(evse, Authorization(token_id, token_type, verdict.group_id,
                                             since_s=self.env.now))
        return True

    def present_token_station(self, token: Any) -> Gen:
        """2.0.1: the driver holds ``token`` to the station's own reader, shared by its EVSEs,
        before choosing one; True if the station accepted it. The authorization waits for an
        EV plugged in at a free EVSE (EVConnectionTimeOut); with TxStartPoint Authorized the
        transaction starts now, before the EVSE is known: TransactionEvent Started without
        evse, its Transaction.Begin values in the first event after the plug-in (TC_J_08)."""
        token_id, token_type = _token(token)
        free = [e for e in self.evses if e.tx is None and e.auth is None and e.operative
                and e.fault is None and not e.plugged]
        if self.version is OcppVersion.V16 or self.station_auth is not None or not free:
            yield self.env.timeout(0)
            return False
        verdict = yield from self.authorize(token_id, token_type)
        if not verdict.accepted or self._is_master_pass(verdict) or \
                self.station_auth is not None:
            self.event("token_rejected", f"station reader: {token_id} {verdict.status}")
            return False
        auth = Authorization(token_id, token_type, verdict.group_id, since_s=self.env.now)
        tx = None
        if "Authorized" in self.settings.tx_start_points and not self.firmware_pending:
            tx = Transaction(local_id=self._next_tx_id(), evse_id=0, connector_id=0,
                             started_s=self.env.now, meter_start_wh=0.0,
                             started_offline=not self._online, id_token=token_id,
                             token_type=token_type)
            self.event("transaction_started", f"no EVSE yet: {tx.local_id}")
            self.proto.tx_started_without_evse(tx)  # type: ignore[attr-defined]
        self.station_auth = (auth, tx)
        self.env.process(self._station_auth_timeout(auth))
        return True

    def _station_auth_timeout(self, auth: Authorization) -> Gen:
        """No EV plugged in within EVConnectionTimeOut: the authorization lapses and its
        transaction, if one started, ends (EVConnectTimeout, still without an EVSE)."""
        yield self.env.timeout(self.settings.ev_connection_timeout_s)
        if self.station_auth is None or self.station_auth[0] is not auth:
            return
        tx = self.station_auth[1]
        self.station_auth = None
        self.event("connection_timeout", "station reader")
        if tx is not None:
            tx.stopped_s, tx.stop_reason = self.env.now, "Timeout"
            self.proto.tx_ended_without_evse(tx)  # type: ignore[attr-defined]

    def _choose_evse(self, evse: EvseState) -> None:
        """The EV plugged in at ``evse`` takes the authorization of the station's reader;
        a transaction started before the EVSE was known goes on here (Updated, with the
        evse and its Transaction.Begin values)."""
        assert self.station_auth is not None
        (auth, tx), self.station_auth = self.station_auth, None
        evse.auth = auth
        if tx is None:
            if self._start_due(evse):
                self._begin_tx(evse, "CablePluggedIn")
            return
        vehicle = evse.vehicle
        tx.evse_id, tx.connector_id = evse.id, evse.connector_id
        tx.meter_start_wh = evse.meter.energy_wh
        if vehicle is not None:
            tx.vehicle_model, tx.soc_start = vehicle.model.name, vehicle.soc
            tx.needed_wh = vehicle.needed_wh(evse.spec.kind)
        self._use_reservation(evse, tx)
        evse.tx, evse.finishing, evse.charge_since_s = tx, False, None
        self.proto.tx_evse_known(evse, tx)  # type: ignore[attr-defined]
        evse.process = self.env.process(self._tx_process(evse, tx))

    def _stop_by_group(self, evse: EvseState, token_id: str, token_type: str) -> Gen:
        """1.6 (3.5 / 4.10): another tag whose parentIdTag is the starting tag's may end the
        transaction; StopTransaction then carries that tag. True if it stopped it."""
        started_by = evse.auth
        if started_by is None or (started_by.group_id is None and
                                  not self._master_pass_group()):
            yield self.env.timeout(0)
            return False
        verdict = yield from self.authorize(token_id, token_type, evse.id)
        if self._is_master_pass(verdict):
            return self._stop_all_by_master_pass(token_id)
        tx = evse.tx
        if started_by.group_id is None:
            return False
        if tx is None or evse.auth is not started_by or not verdict.accepted or \
                (verdict.group_id or "").casefold() != started_by.group_id.casefold():
            return False
        tx.stop_token = token_id
        self.deauthorize(evse, "Local", "StopAuthorized")
        return True

    def _master_pass_group(self) -> str | None:
        """2.0.1 AuthCtrlr.MasterPassGroupId (None when not set)."""
        if self.version is OcppVersion.V16:
            return None
        return self.settings.master_pass_group_id or None

    def _is_master_pass(self, verdict: Verdict) -> bool:
        """An accepted idToken whose group is the MasterPassGroupId (C16)."""
        group = self._master_pass_group()
        return group is not None and verdict.accepted and verdict.group_id is not None and \
            verdict.group_id.casefold() == group.casefold()

    def _stop_all_by_master_pass(self, token_id: str) -> bool:
        """C16: a master pass never starts a transaction (C16.FR.03). Without a user
        interface the station stops every ongoing transaction (C16.FR.02, stoppedReason
        MasterPass; True if it stopped any); with one (``master_pass_ui``) it shows the
        transactions and waits for the holder's choice (:meth:`master_pass_choose`,
        C16.FR.01)."""
        if self.master_pass_ui:
            self._master_pass_waiting = token_id
            self.event("master_pass", f"{token_id}: waiting for the choice")
            return False
        return self._stop_by_master_pass(token_id, None)

    def _stop_by_master_pass(self, token_id: str, evse_ids: Iterable[int] | None) -> bool:
        """Stop the ongoing transactions (of ``evse_ids``; None: all), stoppedReason
        MasterPass. True if it stopped any."""
        chosen = None if evse_ids is None else set(evse_ids)
        running = [e for e in self.evses if e.tx is not None and e.auth is not None
                   and (chosen is None or e.id in chosen)]
        self.event("master_pass", f"{token_id}: {len(running)} transaction(s) stopped")
        for evse in running:
            assert evse.tx is not None
            evse.tx.stop_token = token_id
            self.deauthorize(evse, "MasterPass", "StopAuthorized")
        return bool(running)

    def master_pass_choose(self, evse_ids: Iterable[int] | None) -> Gen:
        """At the master pass screen (C16.FR.01) the holder chooses to stop the transactions
        on ``evse_ids`` (None: all). True if any stopped."""
        yield self.env.timeout(0)
        token_id, self._master_pass_waiting = self._master_pass_waiting, None
        if token_id is None:
            raise RuntimeError("no master pass was presented")
        return self._stop_by_master_pass(token_id, evse_ids)

    def stop_by_driver(self, evse_id: int, token: Any) -> Gen:
        """The driver ends the charge with ``token`` (the one that started it); True if the
        transaction was stopped."""
        evse = self.evse(evse_id)
        token_id, _ = _token(token)
        yield self.env.timeout(0)
        if evse.tx is None or evse.auth is None or evse.auth.id_token != token_id:
            return False
        self.deauthorize(evse, "Local", "StopAuthorized")
        return True


    # -- authorisation -----------------------------------------------------------------------------

    def authorize(self, token_id: str, token_type: str = "ISO14443",
                  evse_id: int | None = None) -> Gen:
        """Is ``token_id`` good? The local list, the cache and the settings decide first
        (:func:`~simulator.station.auth_store.decide`); when they say ask, the CSMS is asked,
        and if that fails the offline rules decide."""
        token = self.proto.token(token_id, token_type)
        result = self.authorizer.decide(token, online=self._online, now=self.utc())
        if result.decision is Decision.ASK_CSMS:
            message = self.proto.authorize_message(token_id, token_type, evse_id)
            message.result = self.env.event()
            self.enqueue(message)
            try:
                answer = yield message.result
            except (Undeliverable, CallErrorReceived, CallTimeout, PayloadInvalid,
                    SessionClosed):
                result = self.authorizer.decide(token, online=False, now=self.utc())
            else:
                self.authorizer.remember("Authorize", message.payload, answer, self.utc())
                return self.proto.authorize_verdict(answer)
        info = result.info or {}
        return Verdict(str(info.get("status", "Invalid")), result.group_id, result.source)

    def authorized(self, evse: EvseState, auth: Authorization) -> None:
        evse.auth = auth
        if evse.tx is not None:  # started on the cable (2.0.1 EVConnected): the holder is here
            self._use_reservation(evse, evse.tx)
            self.proto.tx_event(evse, evse.tx, "RemoteStart" if auth.remote else "Authorized")
        elif self._start_due(evse):
            self._begin_tx(evse, "RemoteStart" if auth.remote else "Authorized")
        if not evse.plugged:
            self.env.process(self._connection_timeout(evse, auth))
        self.changed(evse, "Authorized")

    def _connection_timeout(self, evse: EvseState, auth: Authorization) -> Gen:
        yield self.env.timeout(self.settings.ev_connection_timeout_s)
        if evse.auth is auth and not evse.plugged:
            self.event("connection_timeout", f"evse {evse.id}")
            if evse.tx is not None:
                self._end_tx(evse, "Timeout", "EVConnectTimeout")
            evse.auth = None
            self.changed(evse)

    def deauthorize(self, evse: EvseState, reason: str, trigger: str) -> None:
        """The authorisation ends (stop token, remote stop, invalid id): the transaction ends if
        TxStopPoint says so, otherwise it goes on without energy."""
        tx = evse.tx
        evse.settle(self.env.now)
        if tx is not None and self._stop_due(evse, unplugged=False):
            self._end_tx(evse, reason, trigger)
        else:
            evse.auth = None
            if tx is not None:
                self.proto.tx_event(evse, tx, trigger)
        self.changed(evse, trigger)


class Verdict:
    """What the station concluded about a token, and who said so (Csms, LocalList, Cache,
    UnknownOffline, AuthDisabled, Unknown)."""

    __slots__ = ("group_id", "source", "status")

    def __init__(self, status: str, group_id: str | None = None, source: str = "Csms") -> None:
        self.status = status
        self.group_id = group_id
        self.source = source

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"

    def __repr__(self) -> str:
        return f"Verdict({self.status!r})"


def _token(token: Any) -> tuple[str, str]:
    if isinstance(token, str):
        return token, "ISO14443"
    return token.id, getattr(token, "type_201", None) or getattr(token, "kind", "ISO14443")
