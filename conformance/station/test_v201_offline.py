"""OCPP 2.0.1 Core (conditional), charging station under test: transactions while offline
(E12 offline behaviour, E14 transaction status with messages in queue) (Part 6 Edition 3,
errata 2025-09).

The harness cuts the station's network (it cannot reconnect until the network is back), the
driver acts at the charger meanwhile, the network comes back: the station delivers what it
queued, every TransactionEvent decided offline with offline true. Authorizing offline needs
the token stored at the station: in its local list when it claims the Local Auth List
profile (LocalAuthorizeOffline true), else in its authorization cache; Part 5 makes the cases
conditional on that (C-01).
"""

from __future__ import annotations

import pytest

from conformance.station.harness import Harness, Received, check, is_offline, tx_id201
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUEUE_END_S = 1.0  # no further queued event within this long: the queue is empty


def _offline_authorization_applies(h: Harness) -> None:
    if not h.stores_id_tokens:
        not_applicable("Local Auth List profile or feature authorization_cache (offline "
                       "authorization of transactions, C-01)")


async def _stored_for_offline(h: Harness, tokens: dict[str, str | None]) -> None:
    """Set-up: the station may authorize ``tokens`` (token -> groupId) offline: stored
    (``Harness.id_tokens_stored``), LocalAuthorizeOffline true."""
    await h.set_variable201("AuthCtrlr", "LocalAuthorizeOffline", "true",
                            step="set-up: AuthCtrlr.LocalAuthorizeOffline")
    await h.id_tokens_stored(tokens, step="set-up")


async def _queued(h: Harness, tx: str | None = None, first: Received | None = None
                  ) -> list[Received]:
    """The TransactionEvents delivered after the reconnection (``first`` received already)
    until none follows: every one of them with offline true (of transaction ``tx`` when
    given)."""
    events = [first or await h.csms.receive(
        "TransactionEvent", step="queued TransactionEventRequest", timeout_s=h.connect_s,
        expected="the queued TransactionEvents")]
    while True:
        try:
            events.append(await h.csms.receive("TransactionEvent", step="more queued events",
                                               timeout_s=QUEUE_END_S))
        except CaseFailed:  # none came: the queue is empty
            break
    for event in events:
        p = event.payload
        check(is_offline(p), "queued TransactionEventRequest", "offline true", p)
        if tx is not None:
            check(p["transactionInfo"]["transactionId"] == tx, "queued TransactionEventRequest",
                  f"transaction {tx}", p)
    return events


def _one_of(events: list[Received], event_type: str, *, step: str) -> Received:
    found = [e for e in events if e.payload.get("eventType") == event_type]
    check(bool(found), step, f"one of the queued messages with eventType {event_type}",
          [e.payload for e in events])
    return found[0]


async def _stopped_offline(h: Harness, token: str) -> None:
    """Offline, the driver stops the transaction with ``token`` and unplugs the EV."""
    await h.act("present_token", step="offline: present token (StopAuthorized)", evse=1,
                token=token)
    await h.act("unplug", step="offline: EV unplugged", evse=1)


@pytest.mark.case("TC_E_44_CS")
async def test_TC_E_44_CS(h: Harness) -> None:
    """Offline behaviour, stop transaction during offline period (E12): (the valid idToken
    stored for offline authorization, EnergyTransferStarted) the station goes offline; the
    driver presents the same idToken and unplugs; the network comes back: the station sends
    the queued TransactionEvents of the transaction, all with offline true, one of them
    eventType Ended."""
    _offline_authorization_applies(h)
    await h.booted()
    await _stored_for_offline(h, {h.sut.tokens.valid: None})
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    await h.go_offline()
    await _stopped_offline(h, h.sut.tokens.valid)
    await h.back_online()
    _one_of(await _queued(h, tx), "Ended", step="queued TransactionEventRequest")


@pytest.mark.case("TC_E_31_CS")
async def test_TC_E_31_CS(h: Harness) -> None:
    """Check transaction status, transaction with id ended, with message in queue (E14;
    errata 2025-02, local scenario): (the valid idToken stored for offline authorization,
    EnergyTransferStarted) the station goes offline (no reconnection meanwhile); the driver
    presents the same idToken and unplugs; the network comes back. While the first queued
    TransactionEvent is not answered, GetTransactionStatus for the transaction:
    ongoingIndicator false, messagesInQueue true; then the queued TransactionEvents (offline
    true), one of them eventType Ended."""
    _offline_authorization_applies(h)
    await h.booted()
    await _stored_for_offline(h, {h.sut.tokens.valid: None})
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    await h.go_offline()
    await _stopped_offline(h, h.sut.tokens.valid)
    release = h.csms.hold_next("TransactionEvent", where=is_offline)
    await h.back_online()
    first = await h.csms.receive("TransactionEvent", step="queued TransactionEventRequest",
                                 where=is_offline, timeout_s=h.connect_s,
                                 expected="a queued TransactionEvent (offline true)")
    try:
        answer = await h.csms.call("GetTransactionStatus", {"transactionId": tx},
                                   step="GetTransactionStatusRequest")
    finally:
        release.set()
    check(answer.get("ongoingIndicator") is False and answer.get("messagesInQueue") is True,
          "GetTransactionStatusResponse", "ongoingIndicator false, messagesInQueue true",
          answer)
    _one_of(await _queued(h, tx, first), "Ended", step="queued TransactionEventRequest")


@pytest.mark.case("TC_E_43_CS")
async def test_TC_E_43_CS(h: Harness) -> None:
    """Offline behaviour, transaction during offline period (E12; errata 2024-06: the
    TransactionEventsInQueueEnded state before): (the valid idToken stored for offline
    authorization) the station goes offline; a whole transaction happens (EV plugged in,
    idToken presented, charging, idToken presented again, EV unplugged); the network comes
    back: the queued TransactionEvents all have offline true, one of them eventType Started,
    one eventType Ended."""
    _offline_authorization_applies(h)
    await h.booted()
    await _stored_for_offline(h, {h.sut.tokens.valid: None})
    await h.go_offline()
    await h.act("plug_in", step="offline: plug in", evse=1)
    await h.act("present_token", step="offline: present token (Authorized)", evse=1,
                token=h.sut.tokens.valid)
    await _stopped_offline(h, h.sut.tokens.valid)
    await h.back_online()
    events = await _queued(h)
    _one_of(events, "Started", step="queued TransactionEventRequest")
    _one_of(events, "Ended", step="queued TransactionEventRequest")


@pytest.mark.case("TC_E_45_CS")
async def test_TC_E_45_CS(h: Harness) -> None:
    """Offline behaviour, stop transaction during offline period, same GroupId (E12, C09):
    (the valid idToken and a second idToken of the same group, the group the CSMS gives the
    valid one, stored for offline authorization; EnergyTransferStarted with the valid idToken)
    the station goes offline; the driver presents the second idToken and unplugs; the network
    comes back: the queued TransactionEvents of the transaction all have offline true; the
    one with triggerReason StopAuthorized carries the second idToken; one of them eventType
    Ended."""
    _offline_authorization_applies(h)
    tokens = h.sut.tokens
    await h.booted()
    await _stored_for_offline(h, {tokens.valid: tokens.group_id,
                                  tokens.valid_2: tokens.group_id})
    tx = tx_id201(await h.charging201(tokens.valid))
    await h.go_offline()
    await _stopped_offline(h, tokens.valid_2)
    await h.back_online()
    events = await _queued(h, tx)
    _one_of(events, "Ended", step="queued TransactionEventRequest")
    stop = [e.payload for e in events if e.payload.get("triggerReason") == "StopAuthorized"]
    check(len(stop) == 1 and stop[0].get("idToken", {}).get("idToken") == tokens.valid_2,
          "queued TransactionEventRequest (StopAuthorized)",
          f"triggerReason StopAuthorized with idToken {tokens.valid_2}",
          [e.payload for e in events])
