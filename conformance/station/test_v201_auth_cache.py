"""OCPP 2.0.1 Authorization Cache (block C: C10 store, C11 clear, C12 authorization through the
cache, C15 offline unknown idToken), charging station under test (Core, conditional on an
authorization cache, AuthCacheCtrlr; Part 6 Edition 3, errata 2025-09).

Memory state "IdTokenCached" (the cache knows an idToken with a status) is reached through the
station's own behaviour: with AuthCacheCtrlr.Enabled true and AuthCtrlr.LocalPreAuthorize
false the station asks the CSMS about every idToken, so the EV is plugged in, the idToken
presented and the harness answers its AuthorizeRequest with that status (an Accepted idToken
then charges, and the same idToken stops it); the EV is unplugged. The case's configuration
(LocalPreAuthorize true, ...) is set after that.

"Offline" is the network going down (action ``network_down``) and coming back
(``network_up``); what the station did meanwhile arrives queued, flagged ``offline``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.station.harness import Harness, check, is_ended, of_transaction, token_of, tx_id201
from conformance.verdicts import CaseFailed, not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

Where = Callable[[dict[str, Any]], bool]
Setting = tuple[str, str, str]
CACHE = "authorization_cache (the station has an authorization cache, AuthCacheCtrlr)"
LOCAL_PRE_AUTHORIZE: Setting = ("AuthCtrlr", "LocalPreAuthorize", "true")
LIFETIME_S = 2  # AuthCacheCtrlr.LifeTime in TC_C_46: short, the case waits it out
MAX_ENERGY_WH = 10_000  # MaxEnergyOnInvalidId > 0: more than the case's charge delivers


def _info(status: str) -> dict[str, Any]:
    return {"idTokenInfo": {"status": status}}


def _with_token(token: str) -> Where:
    return lambda p: token_of(p) == token


def _needs(h: Harness, feature: str | None = None, what: str = "") -> None:
    """Applicability: the station has an authorization cache (and ``feature``)."""
    if not h.sut.claims("authorization_cache"):
        not_applicable(CACHE)
    if feature is not None and not h.sut.claims(feature):
        not_applicable(f"{feature} ({what})")


# -- set-up ---------------------------------------------------------------------------------

async def _stopped_and_unplugged(h: Harness, token: str, tx: str, *, step: str) -> None:
    """StopAuthorized: the idToken that started ``tx`` stops it (triggerReason
    StopAuthorized); EVDisconnected: the EV is unplugged, the transaction has Ended (at the
    stop with TxStopPoint Authorized, else now) and the EVSE is Available again."""
    await h.act("present_token", step=f"{step}: StopAuthorized: present {token}", evse=1,
                token=token)
    stop = await h.csms.receive(
        "TransactionEvent", step=f"{step}: StopAuthorized: TransactionEventRequest",
        where=of_transaction(tx, lambda p: p.get("triggerReason") == "StopAuthorized"),
        expected=f"a TransactionEvent of {tx} with triggerReason StopAuthorized")
    await h.act("unplug", step=f"{step}: EVDisconnected: unplug", evse=1)
    if not is_ended(stop.payload):
        await h.csms.receive("TransactionEvent",
                             step=f"{step}: EVDisconnected: TransactionEventRequest",
                             where=of_transaction(tx, is_ended), expected=f"transaction {tx} Ended")
    await h.status(1, "Available", step=f"{step}: StatusNotification Available")


async def _cache(h: Harness, token: str, status: str) -> None:
    """Memory state IdTokenCached: ``token`` asked of the CSMS (LocalPreAuthorize is false)
    and answered ``status``; an Accepted one charges and is stopped; the EV is unplugged."""
    step = f"memory state IdTokenCached ({token} {status})"
    await h.act("plug_in", step=f"{step}: plug in", evse=1)
    h.csms.answer_next("Authorize", _info(status), where=_with_token(token))
    await h.act("present_token", step=f"{step}: present {token}", evse=1, token=token)
    await h.csms.receive("Authorize", step=f"{step}: AuthorizeRequest", where=_with_token(token),
                         expected=f"an AuthorizeRequest for {token}")
    if status != "Accepted":
        await h.act("unplug", step=f"{step}: unplug", evse=1)
        await h.status(1, "Available", step=f"{step}: StatusNotification Available")
        return
    tx = await h.charging_with(token)
    await _stopped_and_unplugged(h, token, tx, step=step)


async def _prepared(h: Harness, token: str, status: str, *settings: Setting,
                    before: tuple[Setting, ...] = ()) -> None:
    """Booted; the cache enabled (with ``before``); IdTokenCached for ``token`` with
    ``status``; then the case's configuration ``settings``."""
    await h.booted()
    await h.set_variables201(("AuthCacheCtrlr", "Enabled", "true"),
                             ("AuthCtrlr", "LocalPreAuthorize", "false"), *before,
                             step="memory state IdTokenCached: SetVariables")
    await _cache(h, token, status)
    if settings:
        await h.set_variables201(*settings, step="configuration: SetVariables")


async def _post_authorize(h: Harness) -> None:
    await h.set_if_implemented201(
        "AuthCacheCtrlr", "DisablePostAuthorize", "false",
        step="configuration: AuthCacheCtrlr.DisablePostAuthorize false (if implemented)")


# -- validations ----------------------------------------------------------------------------

async def _not_asked(h: Harness, token: str, *, why: str = "the cache authorizes it") -> None:
    """No AuthorizeRequest for ``token`` (besides those consumed already), checked once what
    follows it has come (an AuthorizeRequest would have come before)."""
    await h.csms.nothing("Authorize", step="no AuthorizeRequest", within_s=0.0,
                         where=_with_token(token),
                         expected=f"no AuthorizeRequest for {token} ({why})")


async def _deauthorized(h: Harness, tx: str) -> None:
    """Reusable state Deauthorized: a TransactionEvent with triggerReason Deauthorized; Ended
    with stoppedReason DeAuthorized (TxStopPoint Authorized), or Updated without energy."""
    step = "Deauthorized: TransactionEventRequest"
    event = await h.csms.receive(
        "TransactionEvent", step=step, timeout_s=h.connect_s,
        where=of_transaction(tx, lambda p: p.get("triggerReason") == "Deauthorized"),
        expected=f"a TransactionEvent of {tx} with triggerReason Deauthorized")
    info = event.payload["transactionInfo"]
    if is_ended(event.payload):
        check(info.get("stoppedReason") == "DeAuthorized", step,
              "eventType Ended with stoppedReason DeAuthorized", event.payload)
    else:
        check(info.get("chargingState") in ("EVConnected", "SuspendedEVSE"), step,
              "eventType Updated with chargingState EVConnected or SuspendedEVSE (energy "
              "stopped)", event.payload)


async def _cache_authorizes(h: Harness, token: str, *, plug_first: bool) -> None:
    """Reusable state Authorized with a cached Accepted idToken, EVConnectedPreSession (before
    or after it) and EnergyTransferStarted: no AuthorizeRequest, the transaction carries the
    idToken and reaches Charging."""
    if plug_first:
        await h.act("plug_in", step="EVConnectedPreSession: plug in", evse=1)
        await h.status(1, "Occupied", step="EVConnectedPreSession: StatusNotification "
                                           "Occupied")
        await h.act("present_token", step=f"Authorized: present {token}", evse=1, token=token)
    else:
        await h.present_and_plug(token)
    await h.charging_with(token)
    await _not_asked(h, token)


# -- C12 Authorization through the authorization cache --------------------------------------

@pytest.mark.case("TC_C_08_CS")
async def test_TC_C_08_CS(h: Harness) -> None:
    """Authorization through the cache, Accepted: (cache enabled, LocalPreAuthorize true, the
    valid idToken cached Accepted) EVConnectedPreSession; the idToken is presented: the
    station sends no AuthorizeRequest; the transaction carries the idToken and charges."""
    _needs(h)
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", LOCAL_PRE_AUTHORIZE)
    await _cache_authorizes(h, token, plug_first=True)


@pytest.mark.case("TC_C_13_CS")
async def test_TC_C_13_CS(h: Harness) -> None:
    """Authorization through the cache, Accepted but cable not connected yet: as TC_C_08, the
    idToken presented before the EV is plugged in: no AuthorizeRequest; once plugged in, the
    transaction carries the idToken and charges."""
    _needs(h)
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", LOCAL_PRE_AUTHORIZE)
    await _cache_authorizes(h, token, plug_first=False)


async def _cached_not_accepted(h: Harness, token: str, status: str) -> None:
    """The idToken cached with ``status`` (LocalPreAuthorize true, DisablePostAuthorize
    false): presented (and the EV plugged in) it is asked of the CSMS, which answers
    ``status`` too: no transaction."""
    _needs(h)
    await _prepared(h, token, status, LOCAL_PRE_AUTHORIZE)
    await _post_authorize(h)
    h.csms.answer_next("Authorize", _info(status), where=_with_token(token))
    await h.present_and_plug(token)
    await h.authorize_request(token, step="AuthorizeRequest (the cache says " + status + ")")
    await h.no_transaction_for(token, step=f"AuthorizeResponse {status}: no transaction")


@pytest.mark.case("TC_C_09_CS")
async def test_TC_C_09_CS(h: Harness) -> None:
    """Authorization through the cache, Invalid & Not Accepted: (the invalid idToken cached
    Invalid) presented, the station sends AuthorizeRequest; answered Invalid: no transaction
    (no TransactionEvent with the idToken, no charging)."""
    await _cached_not_accepted(h, h.sut.tokens.invalid, "Invalid")


@pytest.mark.case("TC_C_10_CS")
async def test_TC_C_10_CS(h: Harness) -> None:
    """Authorization through the cache, Blocked: as TC_C_09 with the idToken cached Blocked
    and answered Blocked: AuthorizeRequest, no transaction."""
    await _cached_not_accepted(h, h.sut.tokens.blocked, "Blocked")


@pytest.mark.case("TC_C_11_CS")
async def test_TC_C_11_CS(h: Harness) -> None:
    """Authorization through the cache, Expired: as TC_C_09 with the idToken cached Expired
    and answered Expired: AuthorizeRequest, no transaction."""
    await _cached_not_accepted(h, h.sut.tokens.expired, "Expired")


@pytest.mark.case("TC_C_12_CS")
async def test_TC_C_12_CS(h: Harness) -> None:
    """Authorization through the cache, Invalid & Accepted: (an idToken cached Invalid,
    LocalPreAuthorize true, DisablePostAuthorize false) presented and the EV plugged in, the
    station sends AuthorizeRequest; answered Accepted (the cache was outdated): the
    transaction carries the idToken and charges."""
    _needs(h)
    token = h.sut.tokens.valid_2
    await _prepared(h, token, "Invalid", LOCAL_PRE_AUTHORIZE)
    await _post_authorize(h)
    h.csms.answer_next("Authorize", _info("Accepted"), where=_with_token(token))
    await h.present_and_plug(token)
    await h.authorize_request(token, step="AuthorizeRequest (the cache says Invalid)")
    await h.charging_with(token)


@pytest.mark.case("TC_C_57_CS")
async def test_TC_C_57_CS(h: Harness) -> None:
    """Authorization through the cache, AuthCacheDisablePostAuthorize: (the invalid idToken
    cached Invalid, LocalPreAuthorize true, AuthCacheCtrlr.DisablePostAuthorize true)
    presented and the EV plugged in: no AuthorizeRequest, no transaction."""
    _needs(h, "auth_cache_disable_post_authorize", "AuthCacheCtrlr.DisablePostAuthorize")
    token = h.sut.tokens.invalid
    await _prepared(h, token, "Invalid", LOCAL_PRE_AUTHORIZE,
                    ("AuthCacheCtrlr", "DisablePostAuthorize", "true"))
    await h.present_and_plug(token)
    await h.no_transaction_for(token, step="cached Invalid, no post authorization")
    await _not_asked(h, token, why="cached Invalid and DisablePostAuthorize true")


# -- C12 with TxCtrlr.StopTxOnInvalidId / MaxEnergyOnInvalidId (offline start) ---------------

async def _refused_after_offline_start(h: Harness, stop: bool, max_energy_wh: int) -> str:
    """(The valid idToken cached Accepted; LocalPreAuthorize, LocalAuthorizeOffline true,
    StopTxOnInvalidId ``stop``, MaxEnergyOnInvalidId ``max_energy_wh``) EVConnectedPreSession;
    offline, the idToken is presented: the station charges on its cache; back online its
    TransactionEvents arrive offline, the one with the idToken is answered Invalid. The
    transaction id."""
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", LOCAL_PRE_AUTHORIZE,
                    ("AuthCtrlr", "LocalAuthorizeOffline", "true"),
                    ("TxCtrlr", "StopTxOnInvalidId", "true" if stop else "false"))
    step = f"configuration: TxCtrlr.MaxEnergyOnInvalidId {max_energy_wh}"
    if max_energy_wh:
        await h.set_variable201("TxCtrlr", "MaxEnergyOnInvalidId", str(max_energy_wh),
                                step=step)
    else:
        await h.set_if_implemented201("TxCtrlr", "MaxEnergyOnInvalidId", "0",
                                      step=step + " (if implemented)")
    await h.act("plug_in", step="EVConnectedPreSession: plug in", evse=1)
    await h.status(1, "Occupied", step="EVConnectedPreSession: StatusNotification Occupied")
    await h.go_offline()
    h.csms.answer_next("TransactionEvent", _info("Invalid"), where=_with_token(token))
    await h.act("present_token", step=f"Authorized (offline, cached): present {token}", evse=1,
                token=token)
    await h.back_online()
    with_token = await h.offline_transaction(token)
    check(with_token.answer == _info("Invalid"), "TransactionEventResponse (test system)",
          "idTokenInfo.status Invalid", with_token.answer)
    return tx_id201(with_token)


def _stopped_or_suspended(tx: str) -> Where:
    return of_transaction(tx, lambda p: is_ended(p) or p.get("triggerReason") == "Deauthorized" or
               p.get("transactionInfo", {}).get("chargingState") == "SuspendedEVSE")


@pytest.mark.case("TC_C_15_CS")
async def test_TC_C_15_CS(h: Harness) -> None:
    """Authorization through the cache, StopTxOnInvalidId false, MaxEnergyOnInvalidId > 0:
    the transaction started offline on the cache is answered Invalid once online: the
    station goes on charging (no Deauthorized, no Ended, no SuspendedEVSE) as long as less
    than MaxEnergyOnInvalidId has been delivered."""
    _needs(h, "max_energy_on_invalid_id", "TxCtrlr.MaxEnergyOnInvalidId")
    tx = await _refused_after_offline_start(h, stop=False, max_energy_wh=MAX_ENERGY_WH)
    await h.csms.nothing("TransactionEvent", step="energy transfer goes on", within_s=h.wait_s,
                         where=_stopped_or_suspended(tx),
                         expected=f"transaction {tx} charging on (below MaxEnergyOnInvalidId)")


@pytest.mark.case("TC_C_16_CS")
async def test_TC_C_16_CS(h: Harness) -> None:
    """Authorization through the cache, StopTxOnInvalidId true: the transaction started
    offline on the cache is answered Invalid once online: the station deauthorizes it
    (Deauthorized; Ended with stoppedReason DeAuthorized, or no energy)."""
    _needs(h)
    tx = await _refused_after_offline_start(h, stop=True, max_energy_wh=0)
    await _deauthorized(h, tx)


@pytest.mark.case("TC_C_17_CS")
async def test_TC_C_17_CS(h: Harness) -> None:
    """Authorization through the cache, StopTxOnInvalidId false (MaxEnergyOnInvalidId 0):
    the transaction started offline on the cache is answered Invalid once online: the
    station stops the energy (chargingState SuspendedEVSE) but does not end the
    transaction."""
    _needs(h)
    tx = await _refused_after_offline_start(h, stop=False, max_energy_wh=0)
    suspended = await h.csms.receive(
        "TransactionEvent", step="energy transfer stopped",
        where=of_transaction(tx, lambda p: is_ended(p) or p.get("transactionInfo", {}).get(
            "chargingState") == "SuspendedEVSE"),
        expected=f"a TransactionEvent of {tx} with chargingState SuspendedEVSE")
    check(not is_ended(suspended.payload), "energy transfer stopped",
          "the transaction goes on (eventType not Ended)", suspended.payload)
    await h.csms.nothing("TransactionEvent", step="the transaction goes on", within_s=h.wait_s,
                         where=of_transaction(tx, is_ended), expected=f"transaction {tx} not Ended")


@pytest.mark.case("TC_C_18_CS")
async def test_TC_C_18_CS(h: Harness) -> None:
    """Authorization through the cache, StopTxOnInvalidId true, MaxEnergyOnInvalidId > 0:
    StopTxOnInvalidId goes first: the transaction started offline on the cache and answered
    Invalid once online is deauthorized at once (as TC_C_16)."""
    _needs(h, "max_energy_on_invalid_id", "TxCtrlr.MaxEnergyOnInvalidId")
    tx = await _refused_after_offline_start(h, stop=True, max_energy_wh=MAX_ENERGY_WH)
    await _deauthorized(h, tx)


# -- C10 Store authorization data in the cache ----------------------------------------------

@pytest.mark.case("TC_C_32_CS")
async def test_TC_C_32_CS(h: Harness) -> None:
    """Store in the cache, persistent over reboot: (the valid idToken cached Accepted,
    LocalPreAuthorize true) the station is power-cycled and boots; EVConnectedPreSession and
    the idToken presented: no AuthorizeRequest, the transaction charges."""
    _needs(h, "authorization_cache_persistent", "the cache is kept in non-volatile memory")
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", LOCAL_PRE_AUTHORIZE)
    await h.power_cycled()
    await h.all_statuses("Available", step="Booted after the reboot")
    await _cache_authorizes(h, token, plug_first=True)


@pytest.mark.case("TC_C_33_CS")
async def test_TC_C_33_CS(h: Harness) -> None:
    """Store in the cache, update on AuthorizeResponse: (an idToken cached Invalid,
    LocalPreAuthorize true) presented, the station asks; the CSMS answers Accepted (its
    TransactionEventResponse without idTokenInfo, so only the AuthorizeResponse teaches); it
    charges, is stopped, the EV unplugged. Presented again: no AuthorizeRequest (the cache
    now says Accepted), the transaction charges."""
    _needs(h)
    token = h.sut.tokens.valid_2
    await _prepared(h, token, "Invalid", LOCAL_PRE_AUTHORIZE)
    await _post_authorize(h)
    h.csms.answer_next("Authorize", _info("Accepted"), where=_with_token(token))
    h.csms.answer_next("TransactionEvent", {}, where=_with_token(token))
    await h.present_and_plug(token)
    await h.authorize_request(token, step="AuthorizeRequest (answered Accepted)")
    tx = await h.charging_with(token)
    await _stopped_and_unplugged(h, token, tx, step="the first transaction ends")
    await _cache_authorizes(h, token, plug_first=False)


@pytest.mark.case("TC_C_34_CS")
async def test_TC_C_34_CS(h: Harness) -> None:
    """Store in the cache, update on TransactionEventResponse: (the valid idToken cached
    Accepted, LocalPreAuthorize true, StopTxOnInvalidId true, MaxEnergyOnInvalidId 0)
    EVConnectedPreSession, the idToken presented: no AuthorizeRequest; its TransactionEvent is
    answered Invalid: Deauthorized; the EV is unplugged; the idToken presented again: the
    station now sends AuthorizeRequest (the cache learnt Invalid)."""
    _needs(h)
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", LOCAL_PRE_AUTHORIZE,
                    ("TxCtrlr", "StopTxOnInvalidId", "true"))
    await h.set_if_implemented201("TxCtrlr", "MaxEnergyOnInvalidId", "0",
                                  step="configuration: MaxEnergyOnInvalidId 0 (if implemented)")
    await h.act("plug_in", step="EVConnectedPreSession: plug in", evse=1)
    await h.status(1, "Occupied", step="EVConnectedPreSession: StatusNotification Occupied")
    h.csms.answer_next("TransactionEvent", _info("Invalid"), where=_with_token(token))
    await h.act("present_token", step=f"Authorized (cached): present {token}", evse=1,
                token=token)
    with_token = await h.csms.receive("TransactionEvent", step="TransactionEventRequest "
                                      "(idToken, answered Invalid)", where=_with_token(token),
                                      expected=f"a TransactionEvent with idToken {token}")
    await _not_asked(h, token)
    await _deauthorized(h, tx_id201(with_token))
    await h.act("unplug", step="EVDisconnected: unplug", evse=1)
    await h.status(1, "Available", step="EVDisconnected: StatusNotification Available")
    h.csms.answer_next("Authorize", _info("Invalid"), where=_with_token(token))
    await h.act("present_token", step=f"Authorized: present {token} again", evse=1, token=token)
    await h.authorize_request(token, step="AuthorizeRequest (the cache says Invalid now)")


@pytest.mark.case("TC_C_36_CS")
async def test_TC_C_36_CS(h: Harness) -> None:
    """Store in the cache, LocalPreAuthorize false: (the valid idToken cached Accepted,
    LocalPreAuthorize false) presented and the EV plugged in: the station still sends
    AuthorizeRequest; answered Accepted, the transaction charges."""
    _needs(h)
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", ("AuthCtrlr", "LocalPreAuthorize", "false"))
    await h.present_and_plug(token)
    await h.authorize_request(token, step="AuthorizeRequest (LocalPreAuthorize false)")
    await h.charging_with(token)


@pytest.mark.case("TC_C_46_CS")
async def test_TC_C_46_CS(h: Harness) -> None:
    """Store in the cache, AuthCacheLifeTime: (AuthCacheCtrlr.LifeTime short, the valid
    idToken cached Accepted, LocalPreAuthorize true) once the lifetime has passed, the idToken
    presented: the station sends AuthorizeRequest (the entry is gone)."""
    _needs(h, "auth_cache_lifetime", "AuthCacheCtrlr.LifeTime")
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", LOCAL_PRE_AUTHORIZE,
                    before=(("AuthCacheCtrlr", "LifeTime", str(LIFETIME_S)),))
    # the case waits out AuthCacheLifeTime; the idle station asks nothing meanwhile
    await h.csms.nothing("Authorize", step="AuthCacheLifeTime passes",
                         within_s=LIFETIME_S + 0.5, where=_with_token(token))
    await h.act("present_token", step=f"Authorized: present {token}", evse=1, token=token)
    await h.authorize_request(token, step="AuthorizeRequest (the cache entry expired)")


# -- C11 Clear the cache --------------------------------------------------------------------

@pytest.mark.case("TC_C_37_CS")
async def test_TC_C_37_CS(h: Harness) -> None:
    """Clear the cache, Accepted: (the valid idToken cached Accepted, LocalPreAuthorize true)
    ClearCacheRequest: Accepted; the idToken presented: the station sends AuthorizeRequest
    (the cache is empty)."""
    _needs(h)
    token = h.sut.tokens.valid
    await _prepared(h, token, "Accepted", LOCAL_PRE_AUTHORIZE)
    answer = await h.csms.call("ClearCache", {}, step="ClearCacheRequest")
    check(answer.get("status") == "Accepted", "ClearCacheResponse", "status Accepted", answer)
    await h.act("present_token", step=f"Authorized: present {token}", evse=1, token=token)
    await h.authorize_request(token, step="AuthorizeRequest (the cache was cleared)")


@pytest.mark.case("TC_C_38_CS")
async def test_TC_C_38_CS(h: Harness) -> None:
    """Clear the cache, Rejected: (AuthCacheCtrlr.Enabled false) ClearCacheRequest: the
    station answers Rejected (C11.FR.04: the cache is disabled)."""
    _needs(h)
    await h.booted()
    await h.set_variable201("AuthCacheCtrlr", "Enabled", "false",
                            step="configuration: AuthCacheCtrlr.Enabled false")
    answer = await h.csms.call("ClearCache", {}, step="ClearCacheRequest")
    check(answer.get("status") == "Rejected", "ClearCacheResponse", "status Rejected", answer)


# -- C15 Offline authorization of an unknown idToken ----------------------------------------

@pytest.mark.case("TC_C_26_CS")
async def test_TC_C_26_CS(h: Harness) -> None:
    """Offline authorization, unknown idToken: (OfflineTxForUnknownIdEnabled true; the cache
    and the local list off where the station has them, so the idToken is unknown) offline,
    the idToken is presented and the EV plugged in; back online the station reports the
    connector Occupied (StatusNotification or NotifyEvent), its transaction arrives offline
    with the idToken and charging; the idToken stops it (StopAuthorized), the EV is unplugged:
    the transaction ends."""
    if not h.sut.claims("offline_tx_unknown_id"):
        not_applicable("offline_tx_unknown_id (AuthCtrlr.OfflineTxForUnknownIdEnabled)")
    token = h.sut.tokens.valid
    await h.booted()
    await h.set_variable201("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "true",
                            step="configuration: OfflineTxForUnknownIdEnabled true")
    for component in ("AuthCacheCtrlr", "LocalAuthListCtrlr"):
        await h.set_if_implemented201(component, "Enabled", "false",
                                      step=f"configuration: {component}.Enabled false")
    await h.go_offline()
    await h.present_and_plug(token)
    await h.back_online()
    await _occupied_reported(h)
    tx = tx_id201(await h.offline_transaction(token))
    await _stopped_and_unplugged(h, token, tx, step="after the reconnect")


async def _occupied_reported(h: Harness) -> None:
    """After the connection is back: the connector reported Occupied, by StatusNotification
    or by NotifyEvent (Connector.AvailabilityState, trigger Delta) (errata 2024-11)."""
    step = "StatusNotificationRequest Occupied (after the reconnect)"
    try:
        await h.status(1, "Occupied", step=step, timeout_s=h.connect_s)
    except CaseFailed:
        events = [r.payload for r in h.csms.received("NotifyEvent")]
        check(any(d.get("actualValue") == "Occupied" and d.get("trigger") == "Delta"
                  and d.get("component", {}).get("name") == "Connector"
                  and d.get("variable", {}).get("name") == "AvailabilityState"
                  for e in events for d in e.get("eventData", [])), step,
              "StatusNotification Occupied or NotifyEvent AvailabilityState Occupied", events)
