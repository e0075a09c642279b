"""OCPP 2.0.1 Authorization through the Local Authorization List (block C, profile Local Auth
List Management), charging station under test (Part 6 Edition 3, errata 2025-09).

Every case installs its list with SendLocalList (Full) after setting LocalAuthListCtrlr.Enabled
(and, for the offline cases, AuthCtrlr.LocalAuthorizeOffline; for the online cases
AuthCtrlr.LocalPreAuthorize) to true, as the cases' configuration asks. LocalAuthListCtrlr.
DisablePostAuthorize is set to false where the station has it (online cases): a token the list
knows with another status than Accepted is then asked of the CSMS (C14.FR.03).

"Offline" is the network going down (action ``network_down``, the connection closes) and coming
back (``network_up``); what the station did meanwhile arrives queued, flagged ``offline``.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check, is_charging, token_of

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIST_VERSION = 1


def _entry(token: str, status: str) -> dict[str, Any]:
    return {"idToken": {"idToken": token, "type": "ISO14443"},
            "idTokenInfo": {"status": status}}


async def _install(h: Harness, entries: list[dict[str, Any]], *, step: str) -> None:
    answer = await h.csms.call("SendLocalList", {
        "versionNumber": LIST_VERSION, "updateType": "Full",
        "localAuthorizationList": entries}, step=step)
    check(answer.get("status") == "Accepted", step, "SendLocalList Accepted", answer)


async def _prepared(h: Harness, entries: list[dict[str, Any]], *, offline: bool) -> None:
    """Booted; the list enabled, offline / pre-authorization on, the list installed."""
    await h.booted()
    setting = ("AuthCtrlr", "LocalAuthorizeOffline", "true") if offline else \
        ("AuthCtrlr", "LocalPreAuthorize", "true")
    await h.set_variables201(("LocalAuthListCtrlr", "Enabled", "true"), setting,
                             step="configuration: SetVariables")
    if not offline:
        await _post_authorize(h)
    await _install(h, entries, step="configuration: SendLocalList Full")


async def _post_authorize(h: Harness) -> None:
    """LocalAuthListCtrlr.DisablePostAuthorize false where the station has it (the
    variable is optional; false is what the specification assumes without it)."""
    await h.set_if_implemented201(
        "LocalAuthListCtrlr", "DisablePostAuthorize", "false",
        step="configuration: LocalAuthListCtrlr.DisablePostAuthorize false")


async def _offline_refused(h: Harness, token: str, status: str) -> None:
    await _prepared(h, [_entry(token, status)], offline=True)
    await h.go_offline()
    await h.present_and_plug(token)
    await h.back_online()
    await h.no_transaction_for(token, step=f"{status} token presented offline")


@pytest.mark.case("TC_C_21_CS")
async def test_TC_C_21_CS(h: Harness) -> None:
    """Offline authorization through the local list, Accepted: (list with idToken Accepted,
    LocalAuthorizeOffline true) the station goes offline; the idToken is presented and the EV
    plugged in; back online, the station's TransactionEvents of that transaction come with
    offline true, carry the idToken and reach Charging."""
    token = h.sut.tokens.valid
    await _prepared(h, [_entry(token, "Accepted")], offline=True)
    await h.go_offline()
    await h.present_and_plug(token)
    await h.back_online()
    await h.offline_transaction(token)


@pytest.mark.case("TC_C_22_CS")
async def test_TC_C_22_CS(h: Harness) -> None:
    """Offline authorization through the local list, Invalid: (list with the idToken
    Invalid) offline, the idToken is presented and the EV plugged in; back online, no
    transaction for it arrives (no TransactionEvent with the idToken, no charging)."""
    await _offline_refused(h, h.sut.tokens.invalid, "Invalid")


@pytest.mark.case("TC_C_23_CS")
async def test_TC_C_23_CS(h: Harness) -> None:
    """Offline authorization through the local list, Blocked: as TC_C_22 with the idToken
    Blocked in the list: no transaction for it."""
    await _offline_refused(h, h.sut.tokens.blocked, "Blocked")


@pytest.mark.case("TC_C_24_CS")
async def test_TC_C_24_CS(h: Harness) -> None:
    """Offline authorization through the local list, Expired: as TC_C_22 with the idToken
    Expired in the list: no transaction for it."""
    await _offline_refused(h, h.sut.tokens.expired, "Expired")


@pytest.mark.case("TC_C_27_CS")
async def test_TC_C_27_CS(h: Harness) -> None:
    """Online authorization through the local list, Accepted: (list with idToken Accepted,
    LocalPreAuthorize true) the idToken is presented and the EV plugged in: the station
    sends no AuthorizeRequest; its transaction carries the idToken and reaches Charging."""
    token = h.sut.tokens.valid
    await _prepared(h, [_entry(token, "Accepted")], offline=False)
    await h.present_and_plug(token)
    await h.csms.receive("TransactionEvent", step="TransactionEventRequest (idToken)",
                         where=lambda p: token_of(p) == token,
                         expected=f"a TransactionEvent with idToken {token}")
    await h.csms.receive("TransactionEvent", step="TransactionEventRequest (charging)",
                         where=is_charging, expected="a TransactionEvent with chargingState "
                                                   "Charging")
    sent = h.csms.received("Authorize")
    check(not sent, "no AuthorizeRequest", "no AuthorizeRequest (the list authorizes)",
          [r.payload for r in sent])


async def _online_not_accepted(h: Harness, token: str, status: str) -> None:
    """The list holds ``token`` with ``status``; presented online it is asked of the CSMS,
    which answers ``status`` too: no transaction."""
    await _prepared(h, [_entry(token, status)], offline=False)
    await h.present_and_plug(token)
    asked = await h.csms.receive("Authorize", step="AuthorizeRequest",
                                 where=lambda p: token_of(p) == token,
                                 expected=f"an AuthorizeRequest for {token} (post "
                                          "authorization)")
    check(asked.answer is not None and
          asked.answer["idTokenInfo"]["status"] == status, "AuthorizeResponse (test system)",
          status, asked.answer)
    await h.no_transaction_for(token, step=f"{status} token presented")


@pytest.mark.case("TC_C_28_CS")
async def test_TC_C_28_CS(h: Harness) -> None:
    """Online authorization through the local list, Invalid and not Accepted: (list with the
    idToken Invalid, LocalPreAuthorize true) the idToken is presented and the EV plugged in:
    the station sends AuthorizeRequest, the CSMS answers Invalid; no transaction for it."""
    await _online_not_accepted(h, h.sut.tokens.invalid, "Invalid")


@pytest.mark.case("TC_C_29_CS")
async def test_TC_C_29_CS(h: Harness) -> None:
    """Online authorization through the local list, Blocked: as TC_C_28 with the idToken
    Blocked in the list and in the CSMS's answer: no transaction."""
    await _online_not_accepted(h, h.sut.tokens.blocked, "Blocked")


@pytest.mark.case("TC_C_30_CS")
async def test_TC_C_30_CS(h: Harness) -> None:
    """Online authorization through the local list, Expired: as TC_C_28 with the idToken
    Expired in the list and in the CSMS's answer: no transaction."""
    await _online_not_accepted(h, h.sut.tokens.expired, "Expired")


@pytest.mark.case("TC_C_31_CS")
async def test_TC_C_31_CS(h: Harness) -> None:
    """Online authorization through the local list, Invalid and Accepted: (list with the
    idToken Invalid, LocalPreAuthorize true) the idToken is presented and the EV plugged in:
    the station sends AuthorizeRequest, the CSMS answers Accepted; the transaction carries
    the idToken and reaches Charging."""
    token = h.sut.tokens.valid_2
    await _prepared(h, [_entry(token, "Invalid")], offline=False)
    await h.present_and_plug(token)
    asked = await h.csms.receive("Authorize", step="AuthorizeRequest",
                                 where=lambda p: token_of(p) == token,
                                 expected=f"an AuthorizeRequest for {token}")
    check(asked.answer is not None and asked.answer["idTokenInfo"]["status"] == "Accepted",
          "AuthorizeResponse (test system)", "Accepted", asked.answer)
    await h.csms.receive("TransactionEvent", step="TransactionEventRequest (idToken)",
                         where=lambda p: token_of(p) == token,
                         expected=f"a TransactionEvent with idToken {token}")
    await h.csms.receive("TransactionEvent", step="TransactionEventRequest (charging)",
                         where=is_charging, expected="a TransactionEvent with chargingState "
                                                   "Charging")


@pytest.mark.case("TC_C_25_CS")
async def test_TC_C_25_CS(h: Harness) -> None:
    """Offline authorization through the local list, the list goes before the cache:
    (LocalAuthListCtrlr.Enabled, AuthCacheCtrlr.Enabled and LocalAuthorizeOffline true) the
    idToken is presented online and the CSMS answers its AuthorizeRequest Blocked (the cache
    learns Blocked); the list then holds it Accepted; the station goes offline, the idToken is
    presented and the EV plugged in: back online, the transaction arrives with offline true,
    carries the idToken and reaches Charging (the list's Accepted won over the cache's
    Blocked)."""
    token = h.sut.tokens.valid
    await h.booted()
    await h.set_variables201(("LocalAuthListCtrlr", "Enabled", "true"),
                             ("AuthCacheCtrlr", "Enabled", "true"),
                             ("AuthCtrlr", "LocalAuthorizeOffline", "true"),
                             step="configuration: SetVariables")
    h.csms.answer_next("Authorize", {"idTokenInfo": {"status": "Blocked"}})
    await h.act("present_token", step=f"present {token} online", evse=1, token=token)
    await h.csms.receive("Authorize", step="AuthorizeRequest (answered Blocked)",
                         where=lambda p: token_of(p) == token)
    await _install(h, [_entry(token, "Accepted")], step="configuration: SendLocalList Full")
    await h.go_offline()
    await h.present_and_plug(token)
    await h.back_online()
    await h.offline_transaction(token)


def _grouped(token: str, status: str, group: str) -> dict[str, Any]:
    entry = _entry(token, status)
    entry["idTokenInfo"]["groupIdToken"] = {"idToken": group, "type": "Central"}
    return entry


async def _charging_for(h: Harness, token: str) -> str:
    """The idToken presented and the EV plugged in: the transaction id once it charges."""
    await h.present_and_plug(token)
    await h.csms.receive("TransactionEvent", step="TransactionEventRequest (idToken)",
                         where=lambda p: token_of(p) == token,
                         expected=f"a TransactionEvent with idToken {token}")
    charging = await h.csms.receive("TransactionEvent", step="TransactionEventRequest "
                                    "(charging)", where=is_charging,
                                    expected="a TransactionEvent with chargingState Charging")
    return str(charging.payload["transactionInfo"]["transactionId"])


def _stopped(tx: str) -> Any:
    def where(p: dict[str, Any]) -> bool:
        return p.get("transactionInfo", {}).get("transactionId") == tx and (
            p.get("triggerReason") == "StopAuthorized" or p.get("eventType") == "Ended")
    return where


@pytest.mark.case("TC_C_40_CS")
async def test_TC_C_40_CS(h: Harness) -> None:
    """Authorization by GroupId, success with the local list: (LocalPreAuthorize true; the
    list holds idToken 1 and idToken 2, both Accepted with the same groupIdToken) a
    transaction is started with idToken 1 (Charging); idToken 2 is presented: the station
    stops the transaction (TransactionEvent with triggerReason StopAuthorized)."""
    tokens = h.sut.tokens
    group = tokens.group_id
    await _prepared(h, [_grouped(tokens.valid, "Accepted", group),
                        _grouped(tokens.valid_2, "Accepted", group)], offline=False)
    tx = await _charging_for(h, tokens.valid)
    await h.act("present_token", step="present idToken 2 (same group)", evse=1,
                token=tokens.valid_2)
    stop = await h.csms.receive("TransactionEvent", step="TransactionEventRequest (stop)",
                                where=_stopped(tx),
                                expected=f"transaction {tx} stopped (StopAuthorized)")
    check(stop.payload.get("triggerReason") == "StopAuthorized", "TransactionEventRequest",
          "triggerReason StopAuthorized", stop.payload)


@pytest.mark.case("TC_C_43_CS")
async def test_TC_C_43_CS(h: Harness) -> None:
    """Authorization by GroupId, invalid status with the local list: (LocalPreAuthorize true;
    the list holds idToken 1 Accepted and idToken 2 Invalid, with the same groupIdToken) a
    transaction is started with idToken 1 (Charging); idToken 2 is presented (if the station
    asks the CSMS, the answer is Invalid with that group too): the transaction goes on (no
    StopAuthorized, no Ended)."""
    tokens = h.sut.tokens
    group = tokens.group_id
    await _prepared(h, [_grouped(tokens.valid, "Accepted", group),
                        _grouped(tokens.valid_2, "Invalid", group)], offline=False)
    tx = await _charging_for(h, tokens.valid)
    h.csms.answer_next("Authorize", {"idTokenInfo": {
        "status": "Invalid", "groupIdToken": {"idToken": group, "type": "Central"}}})
    await h.act("present_token", step="present idToken 2 (same group, Invalid)", evse=1,
                token=tokens.valid_2)
    await h.csms.nothing("TransactionEvent", step="the transaction goes on", within_s=h.wait_s,
                         where=_stopped(tx), expected=f"transaction {tx} not stopped")
