"""OCPP 2.0.1 Core (M), charging station under test: transactions (block E) and remote start
(block F) — transaction status, EVConnectionTimeOut, retries of transaction messages the CSMS
failed to process (Part 6 Edition 3, errata 2025-09)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from chargeloop.ocppj import ErrorKind, OcppError
from conformance.station.harness import Harness, Received, check, is_offline, tx_id201
from conformance.verdicts import CaseFailed

pytestmark = pytest.mark.asyncio(loop_scope="session")

EARLY_SLACK_S = 0.2  # clock resolution between the station's timer and ours
RETRY_INTERVAL_S = 1  # MessageAttemptInterval[TransactionEvent] the retry cases set


async def _a_later_message(h: Harness) -> None:
    """The station has one CALL open at a time (OCPP-J): when a Heartbeat sent after now
    comes, what it decided before (a TransactionEvent) has been answered."""
    for record in h.csms.received("Heartbeat"):
        record.consumed = True
    await h.csms.receive("Heartbeat", step="a later message of the station",
                         timeout_s=h.sut.intervals.heartbeat_s + h.wait_s)


@pytest.mark.case("TC_E_32_CS")
async def test_TC_E_32_CS(h: Harness) -> None:
    """Check transaction status, transaction with id ended, no message in queue: (a
    transaction started and stopped, its events answered) GetTransactionStatus for it:
    ongoingIndicator false, messagesInQueue false."""
    await h.booted()
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    await h.act("present_token", step="StopAuthorized: present token", evse=1,
                token=h.sut.tokens.valid)
    await h.csms.receive("TransactionEvent", step="TransactionEvent Ended",
                         where=lambda p: p.get("eventType") == "Ended",
                         expected="TransactionEvent Ended")
    await _a_later_message(h)
    answer = await h.csms.call("GetTransactionStatus", {"transactionId": tx},
                               step="GetTransactionStatusRequest")
    check(answer.get("ongoingIndicator") is False and answer.get("messagesInQueue") is False,
          "GetTransactionStatusResponse", "ongoingIndicator false, messagesInQueue false",
          answer)


@pytest.mark.case("TC_E_34_CS")
async def test_TC_E_34_CS(h: Harness) -> None:
    """Check transaction status without transactionId, no message in queue: (Booted, nothing
    queued) GetTransactionStatus without transactionId: messagesInQueue false."""
    await h.booted()
    await _a_later_message(h)
    answer = await h.csms.call("GetTransactionStatus", {}, step="GetTransactionStatusRequest")
    check(answer.get("messagesInQueue") is False, "GetTransactionStatusResponse",
          "messagesInQueue false", answer)


async def _start_on_authorized(h: Harness) -> None:
    """Set-up: a transaction starts on authorisation (TxStartPoint Authorized) and lapses
    after the SUT file's connection timeout (TxCtrlr.EVConnectionTimeOut)."""
    await h.set_variable201("TxCtrlr", "TxStartPoint", "Authorized",
                            step="set-up: TxStartPoint")
    await h.set_variable201("TxCtrlr", "EVConnectionTimeOut",
                            str(h.sut.intervals.connection_timeout_s),
                            step="set-up: EVConnectionTimeOut")


async def _timed_out(h: Harness, started: Received, since: float, *, step: str) -> None:
    """TransactionEvent Ended for the transaction ``started`` began, triggerReason
    EVConnectTimeout and stoppedReason Timeout, not before EVConnectionTimeOut after
    ``since`` (time.monotonic() before the authorisation: the timeout runs from it)."""
    tx = tx_id201(started)
    timeout = h.sut.intervals.connection_timeout_s
    ended = await h.csms.receive("TransactionEvent", step=step,
                                 where=lambda p: p.get("eventType") == "Ended",
                                 timeout_s=timeout + h.wait_s,
                                 expected="TransactionEvent Ended")
    info = ended.payload.get("transactionInfo", {})
    check(info.get("transactionId") == tx and ended.payload.get("triggerReason") ==
          "EVConnectTimeout" and info.get("stoppedReason") == "Timeout", step,
          f"transaction {tx} Ended, triggerReason EVConnectTimeout, stoppedReason Timeout",
          ended.payload)
    check(ended.at - since >= timeout - EARLY_SLACK_S, step,
          f"not before EVConnectionTimeOut ({timeout} s)",
          f"after {ended.at - since:.2f} s")


@pytest.mark.case("TC_E_39_CS")
async def test_TC_E_39_CS(h: Harness) -> None:
    """Stop transaction options, deauthorized by timeout: (TxStartPoint Authorized,
    EVConnectionTimeOut set) the driver presents a token and plugs in no cable:
    TransactionEvent Started (triggerReason Authorized, the idToken); after
    EVConnectionTimeOut TransactionEvent Ended with triggerReason EVConnectTimeout and
    stoppedReason Timeout."""
    await h.booted()
    await _start_on_authorized(h)
    token = h.sut.tokens.valid
    since = time.monotonic()
    await h.act("present_token", step="Authorized: present token", evse=1, token=token)
    started = await h.csms.receive("TransactionEvent", step="TransactionEvent Started",
                                   where=lambda p: p.get("eventType") == "Started",
                                   expected="TransactionEvent Started")
    check(started.payload.get("triggerReason") == "Authorized" and
          started.payload.get("idToken", {}).get("idToken") == token,
          "TransactionEventRequest Started", f"triggerReason Authorized, idToken {token}",
          started.payload)
    await _timed_out(h, started, since, step="TransactionEventRequest Ended")


@pytest.mark.case("TC_F_04_CS")
async def test_TC_F_04_CS(h: Harness) -> None:
    """Remote start first, cable plug-in timeout: (TxStartPoint Authorized,
    EVConnectionTimeOut set) RequestStartTransaction for EVSE 1: Accepted; TransactionEvent
    Started with triggerReason RemoteStart and the remoteStartId; no cable is plugged in:
    after EVConnectionTimeOut TransactionEvent Ended with triggerReason EVConnectTimeout and
    stoppedReason Timeout."""
    await h.booted()
    await _start_on_authorized(h)
    remote_start_id = 4204
    since = time.monotonic()
    answer = await h.csms.call("RequestStartTransaction", {
        "evseId": 1, "remoteStartId": remote_start_id,
        "idToken": {"idToken": h.sut.tokens.valid, "type": "ISO14443"}},
        step="RequestStartTransactionRequest")
    check(answer.get("status") == "Accepted", "RequestStartTransactionResponse", "Accepted",
          answer)
    started = await h.csms.receive("TransactionEvent", step="TransactionEvent Started",
                                   where=lambda p: p.get("eventType") == "Started",
                                   expected="TransactionEvent Started")
    info = started.payload.get("transactionInfo", {})
    check(started.payload.get("triggerReason") == "RemoteStart" and
          info.get("remoteStartId") == remote_start_id, "TransactionEventRequest Started",
          f"triggerReason RemoteStart, remoteStartId {remote_start_id}", started.payload)
    await _timed_out(h, started, since, step="TransactionEventRequest Ended")


# -- retries after a CALLERROR ----------------------------------------------------------------


async def _retry_settings(h: Harness, attempts: int) -> None:
    await h.set_variable201("OCPPCommCtrlr", "MessageAttempts", str(attempts),
                            instance="TransactionEvent", step="set-up: MessageAttempts")
    await h.set_variable201("OCPPCommCtrlr", "MessageAttemptInterval", str(RETRY_INTERVAL_S),
                            instance="TransactionEvent", step="set-up: MessageAttemptInterval")


def _same_message(first: Received) -> Any:
    """The retries of ``first``: the same eventType and seqNo."""
    def where(p: dict[str, Any]) -> bool:
        return p.get("eventType") == first.payload["eventType"] and \
            p.get("seqNo") == first.payload["seqNo"]
    return where


async def _attempts(h: Harness, count: int, timeout_s: float = 0.0) -> list[Received]:
    """A transaction starts (cable, then token): its first TransactionEvent and ``count``-1
    retries of it, attempt n+1 not before MessageAttemptInterval x n after attempt n failed
    (answered with a CALLERROR, or ``timeout_s`` after it went unanswered)."""
    await h.act("plug_in", step="plug in", evse=1)
    await h.act("present_token", step="present token", evse=1, token=h.sut.tokens.valid)
    tries = [await h.csms.receive("TransactionEvent", step="TransactionEventRequest",
                                  expected="a TransactionEvent")]
    for n in range(1, count):
        retry = await h.csms.receive(
            "TransactionEvent", step=f"attempt {n + 1}", where=_same_message(tries[0]),
            timeout_s=timeout_s + RETRY_INTERVAL_S * n + h.wait_s,
            expected=f"attempt {n + 1} of the TransactionEvent (seqNo "
                     f"{tries[0].payload['seqNo']})")
        gap = retry.at - tries[-1].at
        wait = timeout_s + RETRY_INTERVAL_S * n
        check(gap >= wait - EARLY_SLACK_S, f"attempt {n + 1}",
              f"not before {'MessageTimeout + ' if timeout_s else ''}MessageAttemptInterval "
              f"x {n} = {wait:g} s", f"after {gap:.2f} s")
        check(retry.payload == tries[0].payload, f"attempt {n + 1}",
              "the same TransactionEvent again", retry.payload)
        tries.append(retry)
    return tries


async def _no_more_attempts(h: Harness, first: Received, after: int,
                            timeout_s: float = 0.0) -> None:
    await h.csms.nothing("TransactionEvent", step="no further attempt",
                         within_s=timeout_s + RETRY_INTERVAL_S * after + 0.5,
                         where=_same_message(first),
                         expected=f"no attempt after attempt {after}")


def _call_error() -> OcppError:
    return OcppError(ErrorKind.INTERNAL_ERROR, "conformance: the CSMS failed to process it")


@pytest.mark.case("TC_E_50_CS")
async def test_TC_E_50_CS(h: Harness) -> None:
    """Retry sending a transaction message, max retry count reached, CALLERROR: (MessageAttempts
    [TransactionEvent] 3, MessageAttemptInterval 1 s) every attempt of the transaction's first
    TransactionEvent is answered with CALLERROR InternalError: the station sends it 3 times,
    attempt n+1 not before MessageAttemptInterval x n, and then no more."""
    await h.booted()
    attempts = 3
    await _retry_settings(h, attempts)
    for _ in range(attempts):
        h.csms.answer_next("TransactionEvent", _call_error())
    tries = await _attempts(h, attempts)
    check(all(t.answer is None for t in tries), "TransactionEventResponse",
          "CALLERROR to every attempt", [t.answer for t in tries])
    await _no_more_attempts(h, tries[0], attempts)


@pytest.mark.case("TC_E_51_CS")
async def test_TC_E_51_CS(h: Harness) -> None:
    """Retry sending a transaction message, success before the max retry count, CALLERROR:
    (MessageAttempts[TransactionEvent] 3, MessageAttemptInterval 1 s) the first attempt of the
    transaction's first TransactionEvent is answered with CALLERROR InternalError: the second
    comes not before MessageAttemptInterval and is answered; no third attempt."""
    await h.booted()
    await _retry_settings(h, 3)
    h.csms.answer_next("TransactionEvent", _call_error())
    tries = await _attempts(h, 2)
    check(tries[1].answer is not None, "TransactionEventResponse", "the second attempt "
          "answered", "CALLERROR")
    await _no_more_attempts(h, tries[0], 2)


# -- retries after no answer ------------------------------------------------------------------

MESSAGE_TIMEOUT_S = 1  # MessageTimeout[Default] the no-answer cases ask for


async def _message_timeout(h: Harness) -> float:
    """Set-up: OCPPCommCtrlr.MessageTimeout[Default] made short if the station lets the CSMS
    set it; how long the station waits for an answer (read back)."""
    variable = {"component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "MessageTimeout", "instance": "Default"}}
    await h.csms.call("SetVariables", {"setVariableData": [
        {**variable, "attributeValue": str(MESSAGE_TIMEOUT_S)}]},
        step="set-up: MessageTimeout")
    read = await h.csms.call("GetVariables", {"getVariableData": [variable]},
                             step="set-up: GetVariables MessageTimeout")
    value = read.get("getVariableResult", [{}])[0].get("attributeValue") or ""
    check(value.isdigit() and int(value) > 0, "set-up: GetVariablesResponse",
          "MessageTimeout[Default], seconds", read)
    return float(value)


@pytest.mark.case("TC_E_41_CS")
async def test_TC_E_41_CS(h: Harness) -> None:
    """Retry sending a transaction message, max retry count reached (no answer):
    (MessageAttempts[TransactionEvent] 2, MessageAttemptInterval 1 s, MessageTimeout short
    where the station allows) no attempt of the transaction's first TransactionEvent is
    answered: the station sends it 2 times, the second not before MessageTimeout +
    MessageAttemptInterval after the first, and then no more."""
    await h.booted()
    attempts = 2
    await _retry_settings(h, attempts)
    timeout = await _message_timeout(h)
    for _ in range(attempts):
        h.csms.hold_next("TransactionEvent")  # never answered in this case
    tries = await _attempts(h, attempts, timeout)
    await _no_more_attempts(h, tries[0], attempts, timeout)


@pytest.mark.case("TC_E_42_CS")
async def test_TC_E_42_CS(h: Harness) -> None:
    """Retry sending a transaction message, success before the max retry count (no answer):
    (MessageAttempts[TransactionEvent] 3, MessageAttemptInterval 1 s, MessageTimeout short
    where the station allows) the first attempt of the transaction's first TransactionEvent
    is not answered: the second comes not before MessageTimeout + MessageAttemptInterval
    and is answered; no third attempt."""
    await h.booted()
    await _retry_settings(h, 3)
    timeout = await _message_timeout(h)
    h.csms.hold_next("TransactionEvent")  # never answered in this case
    tries = await _attempts(h, 2, timeout)
    check(tries[1].answer is not None, "TransactionEventResponse", "the second attempt "
          "answered", "CALLERROR")
    await _no_more_attempts(h, tries[0], 2, timeout)


# -- connection loss during a transaction ---------------------------------------------------

OFFLINE_S = 2.0  # the least time the network is down


async def _offline_set_up(h: Harness) -> str:
    """(Booted) TxUpdatedInterval set, RetryBackOffRandomRange 0, OfflineThreshold =
    RetryBackOffWaitMinimum + 60; a transaction going (EnergyTransferStarted). Its id."""
    await h.booted()
    await h.set_variable201("SampledDataCtrlr", "TxUpdatedInterval",
                            str(h.sut.intervals.meter_sample_s), step="set-up: TxUpdatedInterval")
    await h.set_variable201("OCPPCommCtrlr", "RetryBackOffRandomRange", "0",
                            step="set-up: RetryBackOffRandomRange")
    read = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "RetryBackOffWaitMinimum"}}]}, step="set-up: GetVariables")
    minimum = read.get("getVariableResult", [{}])[0].get("attributeValue") or "0"
    check(minimum.isdigit(), "set-up: GetVariablesResponse", "RetryBackOffWaitMinimum",
          read)
    await h.set_variable201("OCPPCommCtrlr", "OfflineThreshold", str(int(minimum) + 60),
                            step="set-up: OfflineThreshold")
    return tx_id201(await h.charging201(h.sut.tokens.valid))


async def _connection_lost(h: Harness) -> None:
    """The network is down for OFFLINE_S, and at least one TxUpdatedInterval (the SUT file's
    meter sample interval) so that a periodic sample is queued; the station connects again."""
    before = len(h.csms.connections)
    offline_s = max(OFFLINE_S, h.sut.intervals.meter_sample_s + 1.0)
    await h.act("network_down", step="connection loss", seconds=offline_s)
    await h.csms.new_connection(before, offline_s + h.connect_s, step="the station reconnects")


async def _queued_events(h: Harness, tx: str, first: Received | None = None) -> None:
    """The queued TransactionEvents of ``tx`` (``first`` received already): each Updated,
    with meterValue and offline true."""
    events = [first] if first is not None else [await h.csms.receive(
        "TransactionEvent", step="queued TransactionEventRequest", where=is_offline,
        timeout_s=h.connect_s, expected="a queued TransactionEvent (offline true)")]
    while True:
        try:
            events.append(await h.csms.receive("TransactionEvent", step="more queued events",
                                               where=is_offline, timeout_s=0.5))
        except CaseFailed:  # none came: the queue is empty
            break
    for event in events:
        p = event.payload
        check(p.get("eventType") == "Updated" and bool(p.get("meterValue")) and
              p["transactionInfo"]["transactionId"] == tx, "queued TransactionEventRequest",
              f"eventType Updated for {tx}, with meterValue, offline true", p)


@pytest.mark.case("TC_E_40_CS")
async def test_TC_E_40_CS(h: Harness) -> None:
    """Offline behaviour, connection loss during a transaction: (TxUpdatedInterval set,
    RetryBackOffRandomRange 0, OfflineThreshold = RetryBackOffWaitMinimum + 60, a transaction
    going) the connection is lost for a while and comes back: the station reconnects and
    sends the TransactionEvents it queued, each eventType Updated with meterValue and offline
    true."""
    tx = await _offline_set_up(h)
    await _connection_lost(h)
    await _queued_events(h, tx)


async def _status_with_queue(h: Harness, request: dict[str, Any], tx: str,
                             expected: dict[str, bool]) -> None:
    """On reconnection the first queued TransactionEvent is not answered yet when the CSMS
    asks GetTransactionStatus ``request``: the answer has ``expected``; then the queued
    events come (offline true)."""
    release = h.csms.hold_next("TransactionEvent", where=is_offline)
    await _connection_lost(h)
    first = await h.csms.receive("TransactionEvent", step="queued TransactionEventRequest",
                                 where=is_offline, timeout_s=h.connect_s,
                                 expected="a queued TransactionEvent (offline true)")
    try:
        answer = await h.csms.call("GetTransactionStatus", request,
                                   step="GetTransactionStatusRequest")
    finally:
        release.set()
    got = {key: answer.get(key) for key in expected}
    check(got == expected, "GetTransactionStatusResponse",
          ", ".join(f"{k} {str(v).lower()}" for k, v in expected.items()), answer)
    await _queued_events(h, tx, first)


@pytest.mark.case("TC_E_29_CS")
async def test_TC_E_29_CS(h: Harness) -> None:
    """Check transaction status, transaction ongoing, messages in queue: (set-up as TC_E_40,
    a transaction going) the connection is lost and comes back; while the queued events are
    not yet delivered, GetTransactionStatus for the transaction: ongoingIndicator true and
    messagesInQueue true; then the queued TransactionEvents (offline true)."""
    tx = await _offline_set_up(h)
    await _status_with_queue(h, {"transactionId": tx}, tx,
                             {"ongoingIndicator": True, "messagesInQueue": True})


@pytest.mark.case("TC_E_33_CS")
async def test_TC_E_33_CS(h: Harness) -> None:
    """Check transaction status without transactionId, messages in queue: (set-up as
    TC_E_40, a transaction going) the connection is lost and comes back; while the queued
    events are not yet delivered, GetTransactionStatus without transactionId:
    messagesInQueue true; then the queued TransactionEvents (offline true)."""
    tx = await _offline_set_up(h)
    await _status_with_queue(h, {}, tx, {"messagesInQueue": True})
