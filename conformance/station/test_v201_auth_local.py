"""OCPP 2.0.1 Authorization (block C, Core, conditional), charging station under test: local
start with an idToken the CSMS refuses, local stop with another idToken, authorization by
GroupId and the master pass (Part 6 Edition 3, errata 2025-09).

Each case first configures what its Configuration State asks: AuthCtrlr.Enabled true (if
implemented and writable) and AuthCtrlr.DisableRemoteAuthorization false (if implemented). The
harness, as CSMS, answers every idToken by the SUT file's tokens (the valid ones Accepted with
the group ``tokens.group_id``, the master pass Accepted with ``tokens.master_pass_group_id``);
a case that needs another answer queues it (``answer_next``).

"EVConnectedPreSession" is the EV plugged in before any idToken (the station reports its
connector Occupied); "EnergyTransferStarted" is a TransactionEvent with chargingState Charging.
"""

from __future__ import annotations

import pytest

from conformance.station.csms import Where
from conformance.station.harness import (
    Harness,
    check,
    is_charging,
    of_transaction,
    token_of,
    tx_id201,
)
from conformance.station.transactions201 import (
    CABLE_LOCK,
    arrived_after,
    authorization_on,
    ev_connected_pre_session,
)
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _refused(h: Harness, token: str, status: str, *, cable_lock: bool = False) -> None:
    """EVConnectedPreSession (a station without a cable lock; with one, ``cable_lock``, no
    EV); ``token`` presented, the CSMS answers its AuthorizeRequest ``status``: no
    TransactionEvent after the AuthorizeRequest (within the message timeout)."""
    if h.sut.claims("cable_lock_before_authorization") != cable_lock:
        not_applicable(CABLE_LOCK if cable_lock else f"without {CABLE_LOCK}")
    await h.booted()
    await authorization_on(h)
    if not cable_lock:
        await ev_connected_pre_session(h)
    h.csms.answer_next("Authorize", {"idTokenInfo": {"status": status}})
    await h.act("present_token", step=f"present {token}", evse=1, token=token)
    request = await h.authorize_request(token)
    await h.csms.nothing("TransactionEvent", step=f"{status} idToken: no transaction",
                         within_s=h.wait_s, where=arrived_after(h, request),
                         expected=f"no TransactionEvent after the AuthorizeRequest answered "
                                  f"{status}")


@pytest.mark.case("TC_C_02_CS")
async def test_TC_C_02_CS(h: Harness) -> None:
    """Local start transaction, Authorization Invalid/Unknown: (EVConnectedPreSession) the
    invalid idToken is presented; its AuthorizeRequest carries it and is answered Invalid;
    the station sends no TransactionEvent after it."""
    await _refused(h, h.sut.tokens.invalid, "Invalid")


@pytest.mark.case("TC_C_05_CS")
async def test_TC_C_05_CS(h: Harness) -> None:
    """Local start transaction, Authorization invalid, cable lock: (a station whose cable lock
    keeps the EV out before authorization; no EV) the invalid idToken is presented; its
    AuthorizeRequest carries it and is answered Invalid; the station sends no
    TransactionEvent after it."""
    await _refused(h, h.sut.tokens.invalid, "Invalid", cable_lock=True)


@pytest.mark.case("TC_C_56_CS")
async def test_TC_C_56_CS(h: Harness) -> None:
    """Local start transaction, Authorization Unknown: as TC_C_02, the AuthorizeRequest
    answered Unknown: no TransactionEvent after it."""
    await _refused(h, h.sut.tokens.invalid, "Unknown")


@pytest.mark.case("TC_C_06_CS")
async def test_TC_C_06_CS(h: Harness) -> None:
    """Local start transaction, Authorization Blocked: as TC_C_02 with the blocked idToken,
    answered Blocked: no TransactionEvent after it."""
    await _refused(h, h.sut.tokens.blocked, "Blocked")


@pytest.mark.case("TC_C_07_CS")
async def test_TC_C_07_CS(h: Harness) -> None:
    """Local start transaction, Authorization Expired: as TC_C_02 with the expired idToken,
    answered Expired: no TransactionEvent after it."""
    await _refused(h, h.sut.tokens.expired, "Expired")


@pytest.mark.case("TC_C_04_CS")
async def test_TC_C_04_CS(h: Harness) -> None:
    """Local Stop Transaction, different idToken: (EnergyTransferStarted with the valid
    idToken) another idToken is presented (if the station asks, the CSMS answers Accepted,
    without a group): the station neither stops the transaction nor sends any other
    TransactionEvent for it than periodic meter values, within the message timeout."""
    tokens = h.sut.tokens
    await h.booted()
    await authorization_on(h)
    tx = tx_id201(await h.charging201(tokens.valid))
    h.csms.answer_next("Authorize", {"idTokenInfo": {"status": "Accepted"}})
    later = arrived_after(h)
    await h.act("present_token", step="present a different idToken", evse=1,
                token=tokens.valid_2)
    periodic = ("MeterValuePeriodic", "MeterValueClock")
    await h.csms.nothing("TransactionEvent", step="the transaction goes on", within_s=h.wait_s,
                         where=of_transaction(tx, lambda p: later(p) and p.get(
                             "triggerReason") not in periodic),
                         expected=f"no TransactionEvent for transaction {tx} (but periodic "
                                  "meter values)")


async def group_transaction(h: Harness) -> str:
    """Steps 1-5 of the GroupId cases: (EVConnectedPreSession) the valid idToken is presented;
    AuthorizeRequest answered Accepted with the group; the TransactionEvent with the idToken
    (answered Accepted with the group); EnergyTransferStarted. The transaction id."""
    token = h.sut.tokens.valid
    await h.booted()
    await authorization_on(h)
    await ev_connected_pre_session(h)
    await h.act("present_token", step="present the valid idToken (group)", evse=1, token=token)
    await h.authorize_request(token)
    return await h.charging_with(token)


def stop_of(tx: str) -> Where:
    """The TransactionEvent that ends the authorization of ``tx`` (StopAuthorized, or
    Ended whatever its trigger)."""
    return of_transaction(tx, lambda p: p.get("triggerReason") == "StopAuthorized"
                          or p.get("eventType") == "Ended")


@pytest.mark.case("TC_C_39_CS")
async def test_TC_C_39_CS(h: Harness) -> None:
    """Authorization by GroupId, success: (EVConnectedPreSession) the valid idToken starts a
    transaction (its AuthorizeRequest and TransactionEvent answered Accepted with the group;
    EnergyTransferStarted); the second valid idToken of the same group is presented: its
    AuthorizeRequest is answered Accepted with the group and the station stops the transaction
    (TransactionEvent with triggerReason StopAuthorized)."""
    tx = await group_transaction(h)
    other = h.sut.tokens.valid_2
    await h.act("present_token", step="present the other idToken of the group", evse=1,
                token=other)
    await h.authorize_request(other, step="AuthorizeRequest (other idToken)")
    stop = await h.csms.receive("TransactionEvent", step="TransactionEventRequest (stop)",
                                where=stop_of(tx),
                                expected=f"transaction {tx} stopped (StopAuthorized)")
    check(stop.payload.get("triggerReason") == "StopAuthorized", "TransactionEventRequest",
          "triggerReason StopAuthorized", stop.payload)


@pytest.mark.case("TC_C_42_CS")
async def test_TC_C_42_CS(h: Harness) -> None:
    """Authorization by GroupId, not stopped by GroupId: as TC_C_39, the other idToken's
    AuthorizeRequest answered Invalid (with the same group): the transaction goes on (no
    StopAuthorized, no Ended)."""
    tx = await group_transaction(h)
    tokens = h.sut.tokens
    h.csms.answer_next("Authorize", {"idTokenInfo": {
        "status": "Invalid", "groupIdToken": {"idToken": tokens.group_id, "type": "Central"}}})
    await h.act("present_token", step="present the other idToken (Invalid, same group)",
                evse=1, token=tokens.valid_2)
    await h.authorize_request(tokens.valid_2, step="AuthorizeRequest (other idToken)")
    await h.csms.nothing("TransactionEvent", step="the transaction goes on", within_s=h.wait_s,
                         where=stop_of(tx), expected=f"transaction {tx} not stopped")


CACHE = "authorization_cache (the station has an authorization cache, AuthCacheCtrlr)"


async def group_cached(h: Harness, other: str, other_status: str) -> None:
    """Booted; the cache on, LocalPreAuthorize false while the memory state is reached:
    IdTokenCached for the valid idToken (Accepted, the group) and ``other`` (``other_status``,
    the same group). The EV is plugged in, ``other`` presented (answered ``other_status``), the
    valid idToken starts charging, ``other`` or (not Accepted) the valid idToken again stops
    it, the EV is unplugged. Then LocalPreAuthorize true (if implemented)."""
    if not h.sut.claims("authorization_cache"):
        not_applicable(CACHE)
    tokens = h.sut.tokens
    group = {"idToken": tokens.group_id, "type": "Central"}
    step = "memory state IdTokenCached"
    await h.booted()
    await authorization_on(h)
    await h.set_variables201(("AuthCacheCtrlr", "Enabled", "true"),
                             ("AuthCtrlr", "LocalPreAuthorize", "false"), step=f"{step}: "
                             "SetVariables")
    await h.act("plug_in", step=f"{step}: plug in", evse=1)
    if other_status != "Accepted":
        h.csms.answer_next("Authorize", {"idTokenInfo": {"status": other_status,
                                                         "groupIdToken": group}})
        await h.act("present_token", step=f"{step}: present {other}", evse=1, token=other)
        await h.authorize_request(other, step=f"{step}: AuthorizeRequest ({other})")
    await h.act("present_token", step=f"{step}: present {tokens.valid}", evse=1,
                token=tokens.valid)
    await h.authorize_request(tokens.valid, step=f"{step}: AuthorizeRequest ({tokens.valid})")
    tx = await h.charging_with(tokens.valid)
    stopper = other if other_status == "Accepted" else tokens.valid
    await h.act("present_token", step=f"{step}: present {stopper} (stop)", evse=1,
                token=stopper)
    await h.act("unplug", step=f"{step}: unplug", evse=1)
    await h.csms.receive("TransactionEvent", step=f"{step}: TransactionEventRequest (Ended)",
                         where=of_transaction(tx, lambda p: p.get("eventType") == "Ended"),
                         expected=f"transaction {tx} Ended")
    await h.status(1, "Available", step=f"{step}: StatusNotification Available")
    await h.set_if_implemented201("AuthCtrlr", "LocalPreAuthorize", "true",
                                  step="configuration: AuthCtrlr.LocalPreAuthorize true")


async def cached_charging(h: Harness) -> str:
    """(EVConnectedPreSession) the valid idToken, known to the cache, presented: no
    AuthorizeRequest; its TransactionEvent, then charging. The transaction id."""
    token = h.sut.tokens.valid
    await ev_connected_pre_session(h)
    later = arrived_after(h)
    await h.act("present_token", step="present the valid idToken (cached)", evse=1,
                token=token)
    tx = await h.charging_with(token)
    await no_authorize_request(h, token, later)
    return tx


async def no_authorize_request(h: Harness, token: str, later: Where) -> None:
    """No AuthorizeRequest for ``token`` since ``later`` began (the cache decided), checked
    once what followed has come."""
    await h.csms.nothing("Authorize", step="no AuthorizeRequest", within_s=0.0,
                         where=lambda p: later(p) and token_of(p) == token,
                         expected=f"no AuthorizeRequest for {token} (the cache knows it)")


@pytest.mark.case("TC_C_41_CS")
async def test_TC_C_41_CS(h: Harness) -> None:
    """Authorization by GroupId, success with the Authorization Cache: (cache on,
    LocalPreAuthorize true; IdTokenCached for both valid idTokens, Accepted, same group;
    EVConnectedPreSession) the valid idToken starts a transaction without an
    AuthorizeRequest (EnergyTransferStarted); the other idToken of the group is presented: the
    station stops the transaction (StopAuthorized) without an AuthorizeRequest (C09.FR.07)."""
    other = h.sut.tokens.valid_2
    await group_cached(h, other, "Accepted")
    tx = await cached_charging(h)
    later = arrived_after(h)
    await h.act("present_token", step="present the other idToken of the group", evse=1,
                token=other)
    stop = await h.csms.receive("TransactionEvent", step="TransactionEventRequest (stop)",
                                where=stop_of(tx),
                                expected=f"transaction {tx} stopped (StopAuthorized)")
    check(stop.payload.get("triggerReason") == "StopAuthorized", "TransactionEventRequest",
          "triggerReason StopAuthorized", stop.payload)
    await no_authorize_request(h, other, later)


@pytest.mark.case("TC_C_44_CS")
async def test_TC_C_44_CS(h: Harness) -> None:
    """Authorization by GroupId, invalid status with the Authorization Cache: (cache on,
    LocalPreAuthorize true, AuthCacheCtrlr.DisablePostAuthorize false if implemented;
    IdTokenCached for the valid idToken, Accepted, and the invalid one, Invalid, same group;
    EVConnectedPreSession) the valid idToken starts a transaction without an AuthorizeRequest;
    the invalid idToken is presented: the station asks the CSMS (AuthorizeRequest, answered
    Invalid with the group) and the transaction goes on (no StopAuthorized, no Ended)."""
    tokens = h.sut.tokens
    await group_cached(h, tokens.invalid, "Invalid")
    await h.set_if_implemented201(
        "AuthCacheCtrlr", "DisablePostAuthorize", "false",
        step="configuration: AuthCacheCtrlr.DisablePostAuthorize false")
    tx = await cached_charging(h)
    h.csms.answer_next("Authorize", {"idTokenInfo": {
        "status": "Invalid", "groupIdToken": {"idToken": tokens.group_id, "type": "Central"}}})
    await h.act("present_token", step="present the invalid idToken (cached, same group)",
                evse=1, token=tokens.invalid)
    await h.authorize_request(tokens.invalid, step="AuthorizeRequest (invalid idToken)")
    await h.csms.nothing("TransactionEvent", step="the transaction goes on", within_s=h.wait_s,
                         where=stop_of(tx), expected=f"transaction {tx} not stopped")


async def master_pass_configured(h: Harness) -> None:
    """Booted; AuthCtrlr.MasterPassGroupId set to the SUT file's master pass group."""
    if not h.sut.claims("master_pass"):
        not_applicable("master_pass (AuthCtrlr.MasterPassGroupId, C16)")
    await h.booted()
    await authorization_on(h)
    await h.set_variable201("AuthCtrlr", "MasterPassGroupId", h.sut.tokens.master_pass_group_id,
                            step="configuration: AuthCtrlr.MasterPassGroupId")


async def master_pass_asked(h: Harness) -> None:
    """The master pass presented at EVSE 1: its AuthorizeRequest, answered Accepted with the
    MasterPassGroupId."""
    tokens = h.sut.tokens
    await h.act("present_token", step="present the master pass", evse=1,
                token=tokens.master_pass)
    request = await h.authorize_request(tokens.master_pass, step="AuthorizeRequest (master pass)")
    info = (request.answer or {}).get("idTokenInfo", {})
    check(info.get("status") == "Accepted" and info.get("groupIdToken", {}).get("idToken")
          == tokens.master_pass_group_id, "AuthorizeResponse (test system)",
          f"Accepted with groupIdToken {tokens.master_pass_group_id}", request.answer)


async def charging_everywhere(h: Harness) -> list[str]:
    """EnergyTransferStarted on EVSE 1 with the valid idToken and, with more EVSEs, on EVSE 2
    with the second one; the transaction ids."""
    tokens = (h.sut.tokens.valid, h.sut.tokens.valid_2)
    return [tx_id201(await h.charging201(token, evse=evse, step=f"EnergyTransferStarted "
                                         f"(EVSE {evse})"))
            for evse, token in zip(range(1, min(h.evses, 2) + 1), tokens, strict=False)]


async def ended_by_master_pass(h: Harness, tx: str) -> None:
    """The Ended TransactionEvent of ``tx``, stoppedReason MasterPass."""
    step = f"TransactionEventRequest (transaction {tx} stopped)"
    ended = await h.csms.receive("TransactionEvent", step=step,
                                 where=of_transaction(tx, lambda p: p.get("eventType")
                                                      == "Ended"),
                                 expected=f"transaction {tx} Ended")
    check(ended.payload["transactionInfo"].get("stoppedReason") == "MasterPass", step,
          "stoppedReason MasterPass", ended.payload)


@pytest.mark.case("TC_C_45_CS")
async def test_TC_C_45_CS(h: Harness) -> None:
    """Master pass, not able to start a transaction: (MasterPassGroupId set, TxStartPoint
    PowerPathClosed) the master pass is presented; its AuthorizeRequest is answered Accepted
    with the MasterPassGroupId; the EV is plugged in: no transaction for the master pass (no
    TransactionEvent with it, none Charging) (C16.FR.03)."""
    await master_pass_configured(h)
    await h.set_variable201("TxCtrlr", "TxStartPoint", "PowerPathClosed",
                            step="configuration: TxCtrlr.TxStartPoint PowerPathClosed")
    await master_pass_asked(h)
    master = h.sut.tokens.master_pass
    await h.act("plug_in", step="plug in", evse=1)
    await h.csms.nothing("TransactionEvent", step="no transaction for the master pass",
                         within_s=h.wait_s,
                         where=lambda p: token_of(p) == master or is_charging(p),
                         expected="no TransactionEvent with the master pass, none Charging")


@pytest.mark.case("TC_C_47_CS")
async def test_TC_C_47_CS(h: Harness) -> None:
    """Stop with a master pass, with UI, all transactions: (MasterPassGroupId set;
    EnergyTransferStarted on every EVSE) the master pass is presented (AuthorizeRequest
    answered Accepted with the MasterPassGroupId); the user chooses to stop all
    transactions: each ends (Ended, stoppedReason MasterPass)."""
    if not h.sut.claims("master_pass_ui"):
        not_applicable("master_pass_ui (a user interface to choose what a master pass stops)")
    await master_pass_configured(h)
    transactions = await charging_everywhere(h)
    await master_pass_asked(h)
    await h.act("master_pass_stop_all", step="choose: stop all transactions")
    for tx in transactions:
        await ended_by_master_pass(h, tx)


@pytest.mark.case("TC_C_48_CS")
async def test_TC_C_48_CS(h: Harness) -> None:
    """Stop with a master pass, with UI, specific transactions: as TC_C_47, the user chooses
    the transaction on EVSE 1: it ends (stoppedReason MasterPass), the one on EVSE 2 goes
    on."""
    if not h.sut.claims("master_pass_ui"):
        not_applicable("master_pass_ui (a user interface to choose what a master pass stops)")
    await master_pass_configured(h)
    first, *others = await charging_everywhere(h)
    await master_pass_asked(h)
    await h.act("master_pass_stop_evse", step="choose: stop the transaction on EVSE 1", evse=1)
    await ended_by_master_pass(h, first)
    for tx in others:
        await h.csms.nothing("TransactionEvent", step=f"transaction {tx} goes on",
                             within_s=h.wait_s, where=stop_of(tx),
                             expected=f"transaction {tx} not stopped")


@pytest.mark.case("TC_C_49_CS")
async def test_TC_C_49_CS(h: Harness) -> None:
    """Stop with a master pass, without UI: (MasterPassGroupId set; EnergyTransferStarted on
    EVSE 1 with the valid idToken and on EVSE 2 with the second one, if there is one) the
    master pass is presented (AuthorizeRequest answered Accepted with the MasterPassGroupId):
    every transaction ends (Ended, stoppedReason MasterPass) (C16.FR.02)."""
    if h.sut.claims("master_pass_ui"):
        not_applicable("without master_pass_ui (a station without a user interface)")
    await master_pass_configured(h)
    transactions = await charging_everywhere(h)
    await master_pass_asked(h)
    for tx in transactions:
        await ended_by_master_pass(h, tx)
