"""OCPP 2.0.1 Transactions (block E, Core, conditional), charging station under test: a driver
starts and stops charging locally — cable first or idToken first, the cable plugged in too
late, local stop, an EV not ready for energy, no remote authorization (Part 6 Edition 3,
errata 2025-09).

As in test_v201_auth_local.py each case configures AuthCtrlr.Enabled true and
DisableRemoteAuthorization false first (TC_E_52: true). "Authorized (local)" is an idToken
presented at the station: its AuthorizeRequest, if the station asks, is answered Accepted, and
the station's TransactionEvent carries the idToken; "EnergyTransferStarted" is a
TransactionEvent with chargingState Charging.
"""

from __future__ import annotations

import pytest

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
from conformance.verdicts import not_applicable, not_run

pytestmark = pytest.mark.asyncio(loop_scope="session")

EV_CONNECTION_TIMEOUT_S = 2  # TxCtrlr.EVConnectionTimeOut TC_E_05 sets (short: a short case)
SLACK_S = 1.0  # the station's timer against ours


@pytest.mark.case("TC_E_03_CS")
async def test_TC_E_03_CS(h: Harness) -> None:
    """Local start transaction, cable plugin first: (EVConnectedPreSession) Authorized
    (local) with the valid idToken, then EnergyTransferStarted: a TransactionEvent with
    triggerReason Authorized carries the idToken, then one reports Charging."""
    if h.sut.claims("cable_lock_before_authorization"):
        not_applicable(f"without {CABLE_LOCK}")
    token = h.sut.tokens.valid
    await h.booted()
    await authorization_on(h)
    await ev_connected_pre_session(h)
    await h.act("present_token", step="Authorized: present the valid idToken", evse=1,
                token=token)
    authorized = await h.csms.receive(
        "TransactionEvent", step="Authorized: TransactionEventRequest",
        where=lambda p: token_of(p) == token,
        expected=f"a TransactionEvent with idToken {token}")
    check(authorized.payload.get("triggerReason") == "Authorized",
          "Authorized: TransactionEventRequest", "triggerReason Authorized", authorized.payload)
    await h.csms.receive("TransactionEvent", step="EnergyTransferStarted", where=is_charging,
                         expected="a TransactionEvent with chargingState Charging")


@pytest.mark.case("TC_E_04_CS")
async def test_TC_E_04_CS(h: Harness) -> None:
    """Local start transaction, authorization first: Authorized (local) with the valid
    idToken, then EnergyTransferStarted (the EV plugged in: Occupied): a TransactionEvent
    carries the idToken, then one reports Charging."""
    token = h.sut.tokens.valid
    await h.booted()
    await authorization_on(h)
    await h.act("present_token", step="Authorized: present the valid idToken", evse=1,
                token=token)
    await ev_connected_pre_session(h)
    await h.charging_with(token)


@pytest.mark.case("TC_E_05_CS")
async def test_TC_E_05_CS(h: Harness) -> None:
    """Local start transaction, authorization first, cable plugin timeout: (EVConnectionTimeOut
    short, the cache off if implemented, LocalPreAuthorize false) Authorized (local); no EV
    comes within EVConnectionTimeOut: a transaction the authorization started ends
    (triggerReason EVConnectTimeout, stoppedReason Timeout); the EV plugged in afterwards
    starts no charging for the idToken (no TransactionEvent with it, none Charging)."""
    token = h.sut.tokens.valid
    await h.booted()
    await authorization_on(h)
    await h.set_variable201("TxCtrlr", "EVConnectionTimeOut", str(EV_CONNECTION_TIMEOUT_S),
                            step="configuration: TxCtrlr.EVConnectionTimeOut")
    await h.set_if_implemented201("AuthCacheCtrlr", "Enabled", "false",
                                  step="configuration: AuthCacheCtrlr.Enabled false")
    await h.set_variable201("AuthCtrlr", "LocalPreAuthorize", "false",
                            step="configuration: AuthCtrlr.LocalPreAuthorize false")
    await h.act("present_token", step="Authorized: present the valid idToken", evse=1,
                token=token)
    request = await h.authorize_request(token)
    after_authorize = arrived_after(h, request)
    await h.csms.nothing("TransactionEvent", step="waiting out EVConnectionTimeOut",
                         within_s=EV_CONNECTION_TIMEOUT_S + SLACK_S, where=is_charging,
                         expected="no charging without an EV")
    started = h.csms.received("TransactionEvent", where=lambda p: after_authorize(p)
                              and p.get("eventType") == "Started")
    if started:  # TxStartPoint Authorized (or ParkingBayOccupancy): it must end now
        tx = tx_id201(started[0])
        ended = await h.csms.receive(
            "TransactionEvent", step="TransactionEventRequest (timeout)",
            where=of_transaction(tx, lambda p: p.get("eventType") == "Ended"),
            expected=f"transaction {tx} Ended")
        check(ended.payload.get("triggerReason") == "EVConnectTimeout" and
              ended.payload["transactionInfo"].get("stoppedReason") == "Timeout",
              "TransactionEventRequest (timeout)",
              "triggerReason EVConnectTimeout, stoppedReason Timeout", ended.payload)
    later = arrived_after(h)
    await h.act("plug_in", step="the EV is plugged in after the timeout", evse=1)
    await h.csms.nothing("TransactionEvent", step="no charging after the timeout",
                         within_s=h.wait_s, where=lambda p: later(p) and (
                             is_charging(p) or token_of(p) == token),
                         expected="no TransactionEvent with the idToken, none Charging (the "
                                  "authorization lapsed)")


@pytest.mark.case("TC_E_06_CS")
async def test_TC_E_06_CS(h: Harness) -> None:
    """Local Stop Transaction, Accepted: (EnergyTransferStarted) StopAuthorized (local): the
    idToken presented again, a TransactionEvent with triggerReason StopAuthorized (idToken
    absent or the same; Ended: stoppedReason Local or absent); EVDisconnected: the EV
    unplugged, the connector Available and, if the transaction was still on, a
    TransactionEvent with triggerReason EVCommunicationLost and chargingState Idle."""
    token = h.sut.tokens.valid
    await h.booted()
    await authorization_on(h)
    tx = tx_id201(await h.charging201(token))
    await h.act("present_token", step="StopAuthorized: present the idToken again", evse=1,
                token=token)
    stop = await h.csms.receive(
        "TransactionEvent", step="StopAuthorized: TransactionEventRequest",
        where=of_transaction(tx, lambda p: p.get("triggerReason") == "StopAuthorized"),
        expected=f"a TransactionEvent StopAuthorized for transaction {tx}")
    check(token_of(stop.payload) in (None, token), "StopAuthorized: TransactionEventRequest",
          f"idToken absent or {token}", stop.payload)
    ended = stop.payload.get("eventType") == "Ended"
    check(not ended or stop.payload["transactionInfo"].get("stoppedReason", "Local") == "Local",
          "StopAuthorized: TransactionEventRequest", "stoppedReason Local (or absent)",
          stop.payload)
    await h.act("unplug", step="EVDisconnected: unplug", evse=1)
    await h.status(1, "Available", step="EVDisconnected: StatusNotification Available")
    if not ended:
        lost = await h.csms.receive(
            "TransactionEvent", step="EVDisconnected: TransactionEventRequest",
            where=of_transaction(tx, lambda p: p.get("triggerReason") == "EVCommunicationLost"),
            expected=f"a TransactionEvent EVCommunicationLost for transaction {tx}")
        check(lost.payload["transactionInfo"].get("chargingState") == "Idle",
              "EVDisconnected: TransactionEventRequest", "chargingState Idle", lost.payload)


@pytest.mark.case("TC_E_38_CS")
async def test_TC_E_38_CS(h: Harness) -> None:
    """Local start transaction, EV not ready: (Authorized (local) with the valid idToken) an
    EV that is not ready for energy is plugged in: a TransactionEvent with triggerReason
    ChargingStateChanged and chargingState SuspendedEV."""
    token = h.sut.tokens.valid
    await h.booted()
    await authorization_on(h)
    await h.act("present_token", step="Authorized: present the valid idToken", evse=1,
                token=token)
    await h.act("plug_in_not_ready", step="EVConnectedPreSession: an EV not ready", evse=1)
    await h.csms.receive(
        "TransactionEvent", step="TransactionEventRequest (EV not ready)",
        where=lambda p: p.get("triggerReason") == "ChargingStateChanged"
        and p.get("transactionInfo", {}).get("chargingState") == "SuspendedEV",
        expected="a TransactionEvent ChargingStateChanged with chargingState SuspendedEV")


@pytest.mark.case("TC_E_52_CS")
async def test_TC_E_52_CS(h: Harness) -> None:
    """Local start transaction, authorization first, DisableRemoteAuthorization: (AuthCtrlr.
    DisableRemoteAuthorization true, LocalPreAuthorize false if implemented; the valid idToken
    Accepted in the local authorization list) Authorized (local): no AuthorizeRequest;
    EnergyTransferStarted: a TransactionEvent carries the idToken, then one reports
    Charging."""
    if not h.sut.claims("disable_remote_authorization"):
        not_applicable("disable_remote_authorization (AuthCtrlr.DisableRemoteAuthorization)")
    if "LAL" not in h.sut.profiles:
        not_run("needs the idToken in the local authorization list (profile Local Auth List "
                "Management)")
    token = h.sut.tokens.valid
    await h.booted()
    await h.set_variable201("AuthCtrlr", "DisableRemoteAuthorization", "true",
                            step="configuration: AuthCtrlr.DisableRemoteAuthorization true")
    # without local pre-authorization a listed idToken is asked of the CSMS, unless remote
    # authorization is disabled: what the case shows
    await h.set_if_implemented201("AuthCtrlr", "LocalPreAuthorize", "false",
                                  step="configuration: AuthCtrlr.LocalPreAuthorize false")
    await h.set_variable201("LocalAuthListCtrlr", "Enabled", "true",
                            step="configuration: LocalAuthListCtrlr.Enabled true")
    step = "memory: the idToken in the local list (SendLocalList Full)"
    answer = await h.csms.call("SendLocalList", {
        "versionNumber": 1, "updateType": "Full", "localAuthorizationList": [{
            "idToken": {"idToken": token, "type": "ISO14443"},
            "idTokenInfo": {"status": "Accepted"}}]}, step=step)
    check(answer.get("status") == "Accepted", step, "SendLocalList Accepted", answer)
    await h.act("present_token", step="Authorized: present the valid idToken", evse=1,
                token=token)
    await ev_connected_pre_session(h)
    await h.charging_with(token)
    sent = h.csms.received("Authorize")
    check(not sent, "no AuthorizeRequest", "no AuthorizeRequest (remote authorization is "
          "disabled)", [r.payload for r in sent])
