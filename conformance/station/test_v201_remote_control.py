"""OCPP 2.0.1 block F, remote control, charging station under test: remote start (TC_F_01..F_03)
and remote unlock of a connector (TC_F_05..F_07, F_10) (Part 6 Edition 3, errata 2025-09).

Remote start first with a cable plug-in timeout (TC_F_04) is in test_v201_transactions.py,
remote stop (TC_F_08, F_09) and the Heartbeat trigger (TC_F_20) in test_v201_core*.py, the
other triggers in test_v201_trigger_message.py.
"""

from __future__ import annotations

import itertools
import secrets

import pytest

from conformance.station.harness import Harness, Received, check, is_charging, token_of
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

REMOTE_START_IDS = itertools.count(secrets.randbelow(1000) * 1000 + 1)
EVSE = 1  # <Configured evseId>
CONNECTOR = 1  # <Configured connectorId>
UNKNOWN_CONNECTOR = 999  # TC_F_10


# -- remote start ---------------------------------------------------------------------------


async def _remote_authorization_enabled(h: Harness) -> None:
    """Configuration state of the remote start cases: AuthCtrlr.AuthEnabled true and
    AuthCtrlr.DisableRemoteAuthorization false, each if implemented (and ReadWrite)."""
    await h.set_variable201_if_implemented("AuthCtrlr", "Enabled", "true",
                                           step="set-up: AuthCtrlr.AuthEnabled")
    await h.set_variable201_if_implemented("AuthCtrlr", "DisableRemoteAuthorization", "false",
                                           step="set-up: AuthCtrlr.DisableRemoteAuthorization")


async def _authorize_remote_start(h: Harness) -> bool:
    """The station's AuthCtrlr.AuthorizeRemoteStart (whether it authorizes a remote start's
    token first)."""
    read = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"}}]},
        step="GetVariables AuthCtrlr.AuthorizeRemoteStart")
    value = (read.get("getVariableResult") or [{}])[0].get("attributeValue")
    check(value in ("true", "false"), "GetVariablesResponse",
          "AuthCtrlr.AuthorizeRemoteStart true or false", read)
    return value == "true"


async def _request_start(h: Harness) -> int:
    """"Authorized (remote)", its first steps: RequestStartTransaction for the configured EVSE
    with the valid idToken and a new remoteStartId, answered Accepted; a transaction the
    station already started (cable first, TxStartPoint EVConnected) must be named by
    transactionId. The remoteStartId."""
    started = next(iter(h.csms.received(
        "TransactionEvent", lambda p: p.get("eventType") == "Started")), None)
    remote_start_id = next(REMOTE_START_IDS)
    answer = await h.csms.call("RequestStartTransaction", {
        "evseId": EVSE, "remoteStartId": remote_start_id,
        "idToken": {"idToken": h.sut.tokens.valid, "type": "ISO14443"}},
        step="RequestStartTransactionRequest")
    check(answer.get("status") == "Accepted", "RequestStartTransactionResponse", "Accepted",
          answer)
    if started is not None:
        tx = started.payload["transactionInfo"]["transactionId"]
        check(answer.get("transactionId") == tx, "RequestStartTransactionResponse",
              f"transactionId {tx} (the transaction started at the cable)", answer)
    return remote_start_id


async def _authorized_token(h: Harness, *, step: str) -> Received:
    """AuthorizeRequest for the remote start's idToken (the harness answers Accepted)."""
    token = h.sut.tokens.valid
    return await h.csms.receive("Authorize", step=step,
                                where=lambda p: token_of(p) == token,
                                expected=f"AuthorizeRequest for {token}")


def _check_remote_start_event(h: Harness, event: Received, remote_start_id: int, *,
                              step: str) -> None:
    """The TransactionEvent of the remote start: the idToken it gave and (F02.FR.01) its
    remoteStartId."""
    token = h.sut.tokens.valid
    info = event.payload.get("transactionInfo", {})
    check(token_of(event.payload) == token and info.get("remoteStartId") == remote_start_id,
          step, f"idToken {token}, transactionInfo.remoteStartId {remote_start_id}",
          event.payload)


async def _energy_transfer(h: Harness) -> Received:
    """"EnergyTransferStarted": a TransactionEvent with chargingState Charging."""
    return await h.csms.receive("TransactionEvent", step="EnergyTransferStarted",
                                where=is_charging,
                                expected="a TransactionEvent with chargingState Charging")


@pytest.mark.case("TC_F_01_CS")
async def test_TC_F_01_CS(h: Harness) -> None:
    """Remote start transaction, cable plugin first: (AuthEnabled true and
    DisableRemoteAuthorization false if implemented; EVConnectedPreSession: EV plugged in,
    StatusNotification Occupied) RequestStartTransaction Accepted (transactionId of a
    transaction started at the cable); AuthorizeRequest for the token if AuthorizeRemoteStart
    is true; TransactionEvent with triggerReason RemoteStart, the idToken and the
    remoteStartId; then EnergyTransferStarted (chargingState Charging)."""
    if h.sut.claims("cable_lock_before_authorization"):
        not_applicable("a station without a cable lock that keeps the EV from being "
                       "connected before authorization (the SUT claims "
                       "cable_lock_before_authorization)")
    await h.booted()
    await _remote_authorization_enabled(h)
    authorize_first = await _authorize_remote_start(h)
    await h.act("plug_in", step="EVConnectedPreSession: plug in", evse=EVSE)
    await h.status(EVSE, "Occupied", step="EVConnectedPreSession: StatusNotification Occupied")
    remote_start_id = await _request_start(h)
    if authorize_first:
        await _authorized_token(h, step="AuthorizeRequest (AuthorizeRemoteStart true)")
    event = await h.csms.receive(
        "TransactionEvent", step="TransactionEventRequest (RemoteStart)",
        where=lambda p: p.get("triggerReason") == "RemoteStart",
        expected="a TransactionEvent with triggerReason RemoteStart")
    _check_remote_start_event(h, event, remote_start_id,
                              step="TransactionEventRequest (RemoteStart)")
    await _energy_transfer(h)


async def _remote_start_first(h: Harness, *, authorize: bool) -> None:
    """TC_F_02 / F_03: (AuthorizeRemoteStart ``authorize``, set by the CSMS)
    "Authorized (remote)" without a cable: RequestStartTransaction Accepted, an
    AuthorizeRequest for the token exactly when ``authorize``; then "EnergyTransferStarted"
    (the EV plugged in, chargingState Charging). The first TransactionEvent after the request
    carries the idToken and the remoteStartId (F02.FR.01), after the authorization."""
    await h.booted()
    await _remote_authorization_enabled(h)
    await h.set_variable201("AuthCtrlr", "AuthorizeRemoteStart", str(authorize).lower(),
                            step="set-up: AuthCtrlr.AuthorizeRemoteStart")
    remote_start_id = await _request_start(h)
    if authorize:
        authorized = await _authorized_token(h, step="AuthorizeRequest")
    await h.act("plug_in", step="EnergyTransferStarted: plug in", evse=EVSE)
    await _energy_transfer(h)
    first = h.csms.received("TransactionEvent")[0]
    _check_remote_start_event(h, first, remote_start_id,
                              step="TransactionEventRequest (the remote start's)")
    if authorize:
        check(authorized.index < first.index, "AuthorizeRequest",
              "the token authorized before the transaction took it", "after")
    else:
        asked = h.csms.received("Authorize")
        check(not asked, "no AuthorizeRequest", "no AuthorizeRequest (AuthorizeRemoteStart "
              "false)", [r.payload for r in asked])


@pytest.mark.case("TC_F_02_CS")
async def test_TC_F_02_CS(h: Harness) -> None:
    """Remote start transaction, remote start first, AuthorizeRemoteStart true: (AuthEnabled
    true, DisableRemoteAuthorization false if implemented, AuthorizeRemoteStart true)
    RequestStartTransaction Accepted; AuthorizeRequest for the token; the EV is plugged in:
    the transaction's first TransactionEvent has the idToken and the remoteStartId; then
    chargingState Charging."""
    if not h.sut.claims("authorize_remote_start_true"):
        not_applicable("authorize_remote_start_true (AuthorizeRemoteStart can be set true)")
    await _remote_start_first(h, authorize=True)


@pytest.mark.case("TC_F_03_CS")
async def test_TC_F_03_CS(h: Harness) -> None:
    """Remote start transaction, remote start first, AuthorizeRemoteStart false: (AuthEnabled
    true, DisableRemoteAuthorization false if implemented, AuthorizeRemoteStart false)
    RequestStartTransaction Accepted and no AuthorizeRequest; the EV is plugged in: the
    transaction's first TransactionEvent has the idToken and the remoteStartId; then
    chargingState Charging."""
    if not h.sut.claims("authorize_remote_start_false"):
        not_applicable("authorize_remote_start_false (AuthorizeRemoteStart can be set false)")
    await _remote_start_first(h, authorize=False)


# -- remote unlock --------------------------------------------------------------------------


async def _unlock(h: Harness, expected: str, connector: int = CONNECTOR) -> None:
    """The unlock cases apply to a detachable cable with a connector lock (HFS-1, AQ-18):
    UnlockConnector for the configured EVSE and ``connector``, answered ``expected``."""
    answer = await h.csms.call("UnlockConnector", {"evseId": EVSE, "connectorId": connector},
                               step="UnlockConnectorRequest")
    check(answer.get("status") == expected, "UnlockConnectorResponse", expected, answer)


def _needs_connector_lock(h: Harness) -> None:
    if not h.sut.claims("detachable_cable"):
        not_applicable("detachable_cable (a detachable cable with a connector lock)")


@pytest.mark.case("TC_F_05_CS")
async def test_TC_F_05_CS(h: Harness) -> None:
    """Remote unlock connector with an ongoing transaction: (EnergyTransferStarted)
    UnlockConnector for the EVSE's connector: OngoingAuthorizedTransaction."""
    _needs_connector_lock(h)
    await h.booted()
    await h.charging201(h.sut.tokens.valid, evse=EVSE)
    await _unlock(h, "OngoingAuthorizedTransaction")


@pytest.mark.case("TC_F_06_CS")
async def test_TC_F_06_CS(h: Harness) -> None:
    """Remote unlock connector without an ongoing transaction, accepted: UnlockConnector for
    the configured EVSE and connector: Unlocked."""
    _needs_connector_lock(h)
    await h.booted()
    await _unlock(h, "Unlocked")


@pytest.mark.case("TC_F_07_CS")
async def test_TC_F_07_CS(h: Harness) -> None:
    """Remote unlock connector without an ongoing transaction, no cable connected:
    UnlockConnector for the configured EVSE and connector: Unlocked."""
    _needs_connector_lock(h)
    await h.booted()
    await _unlock(h, "Unlocked")


@pytest.mark.case("TC_F_10_CS")
async def test_TC_F_10_CS(h: Harness) -> None:
    """Remote unlock connector without an ongoing transaction, unknown connector:
    UnlockConnector for the configured EVSE and connector 999: UnknownConnector."""
    _needs_connector_lock(h)
    await h.booted()
    await _unlock(h, "UnknownConnector", connector=UNKNOWN_CONNECTOR)
