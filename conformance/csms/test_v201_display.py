"""OCPP 2.0.1 block O (Display Message, profile Advanced User Interface), CSMS under test.

Use cases O01 (Set DisplayMessage), O02 (Set DisplayMessage for a transaction), O03 (Get all
DisplayMessages), O04 (Get specific DisplayMessages), O05 (Clear a DisplayMessage) and O06
(Replace a DisplayMessage). The trigger asks the CSMS for a message (id, priority, format,
content, and per case a state, start/end time or transaction); the cases check that the CSMS
sends it as asked, with what the case's scenario needs, takes the station's answer (Accepted,
or the refusal the case plays) and answers the station's NotifyDisplayMessagesRequests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from conformance.csms.display201 import CONTENT, MESSAGE_ID, display_message, set_display_message
from conformance.csms.harness import (
    StationPool,
    booted_station,
    check,
    csms_sends,
    energy_transfer_started_201,
    now_iso,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _future(value: Any) -> bool:
    moment = _time(value)
    return moment is not None and moment > datetime.now(moment.tzinfo)


async def _get_messages(station: TestStation, triggers: Triggers, sut: Sut,
                        filters: dict[str, Any], answer: str) -> IncomingCall:
    """The CSMS's GetDisplayMessagesRequest, answered ``answer``; validated: a requestId and
    exactly the filters asked for (id, priority, state), with their values."""
    step = "GetDisplayMessagesRequest"
    call = await csms_sends(station, triggers, "GetDisplayMessages", {"requestId": 1,
                                                                     **filters},
                            {"status": answer}, step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    check(isinstance(got.get("requestId"), int), step, "a requestId", got)
    for key in ("id", "priority", "state"):
        if key in filters:
            check(got.get(key) == filters[key], step, f"{key} {filters[key]}", got)
        else:
            check(key not in got, step, f"no {key} filter", got)
    return call


async def _notify(station: TestStation, request_id: int, messages: list[dict[str, Any]]
                  ) -> None:
    await station.call("NotifyDisplayMessages", {
        "requestId": request_id, "tbc": False, "messageInfo": messages},
        step="NotifyDisplayMessagesRequest")


# -- O01 / O06 Set and replace ---------------------------------------------------------------


@pytest.mark.case("TC_O_01_CSMS")
async def test_TC_O_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, success (O01): the CSMS sends SetDisplayMessageRequest (validated:
    message id, priority NormalCycle, format UTF8 and content as asked, no transactionId),
    answered Accepted."""
    station = await booted_station(stations)
    await set_display_message(station, triggers, sut, display_message())


@pytest.mark.case("TC_O_12_CSMS")
async def test_TC_O_12_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, replace (O06): the CSMS sets a message (validated as in TC_O_01),
    answered Accepted, then sends a second SetDisplayMessageRequest with the same message id
    and another content (validated), answered Accepted."""
    station = await booted_station(stations)
    first = await set_display_message(station, triggers, sut, display_message())
    second = await set_display_message(station, triggers, sut,
                                       display_message(content=CONTENT + " (replaced)"),
                                       step="second SetDisplayMessageRequest")
    check(second.get("id") == first.get("id"), "second SetDisplayMessageRequest",
          f"message.id {first.get('id')} (the message to replace)", second)


@pytest.mark.case("TC_O_13_CSMS")
async def test_TC_O_13_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, display at StartTime (O01): SetDisplayMessageRequest (validated as
    in TC_O_01) with a startDateTime in the future, answered Accepted."""
    station = await booted_station(stations)
    got = await set_display_message(station, triggers, sut,
                                    display_message(startDateTime=now_iso(3600)))
    check(_future(got.get("startDateTime")), "SetDisplayMessageRequest",
          "message.startDateTime in the future", got)


@pytest.mark.case("TC_O_14_CSMS")
async def test_TC_O_14_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, remove after EndTime (O01): SetDisplayMessageRequest (validated as
    in TC_O_01) with an endDateTime in the future, answered Accepted."""
    station = await booted_station(stations)
    got = await set_display_message(station, triggers, sut,
                                    display_message(endDateTime=now_iso(3600)))
    check(_future(got.get("endDateTime")), "SetDisplayMessageRequest",
          "message.endDateTime in the future", got)


@pytest.mark.case("TC_O_17_CSMS")
async def test_TC_O_17_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, NotSupportedPriority (O01): SetDisplayMessageRequest with priority
    AlwaysFront (validated as in TC_O_01), answered NotSupportedPriority; the CSMS goes on
    answering the station (Heartbeat)."""
    station = await booted_station(stations)
    await set_display_message(station, triggers, sut, display_message(priority="AlwaysFront"),
                              "NotSupportedPriority")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_O_18_CSMS")
async def test_TC_O_18_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, NotSupportedState (O01): SetDisplayMessageRequest with state
    Charging (validated as in TC_O_01, message.state Charging), answered NotSupportedState;
    the CSMS goes on answering the station (Heartbeat)."""
    station = await booted_station(stations)
    got = await set_display_message(station, triggers, sut, display_message(state="Charging"),
                                    "NotSupportedState")
    check(got.get("state") == "Charging", "SetDisplayMessageRequest", "message.state Charging",
          got)
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_O_19_CSMS")
async def test_TC_O_19_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, NotSupportedMessageFormat (O01): SetDisplayMessageRequest with
    format HTML (validated as in TC_O_01), answered NotSupportedMessageFormat; the CSMS goes on
    answering the station (Heartbeat)."""
    station = await booted_station(stations)
    await set_display_message(station, triggers, sut,
                              display_message(message_format="HTML",
                                              content="<b>" + CONTENT + "</b>"),
                              "NotSupportedMessageFormat")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_O_26_CSMS")
async def test_TC_O_26_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message, rejected (O01): SetDisplayMessageRequest (validated as in TC_O_01)
    answered Rejected; the CSMS goes on answering the station (Heartbeat)."""
    station = await booted_station(stations)
    await set_display_message(station, triggers, sut, display_message(), "Rejected")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


# -- O02 Set DisplayMessage for a transaction ------------------------------------------------


async def _for_transaction(stations: StationPool, triggers: Triggers, sut: Sut, case: str,
                           **extra: Any) -> dict[str, Any]:
    """A transaction runs; the CSMS sends SetDisplayMessageRequest for it (validated as in
    TC_O_01, with message.transactionId the ongoing transaction's), answered Accepted."""
    station = await booted_station(stations)
    tx_id = f"CONF-TX-{case}"
    await energy_transfer_started_201(station, sut.tokens.valid, tx_id)
    got = await set_display_message(station, triggers, sut,
                                    display_message(transactionId=tx_id, **extra))
    check(got.get("transactionId") == tx_id, "SetDisplayMessageRequest",
          f"message.transactionId {tx_id} (the ongoing transaction)", got)
    return got


@pytest.mark.case("TC_O_06_CSMS")
async def test_TC_O_06_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message for a specific transaction, success (O02): with a transaction
    ongoing, SetDisplayMessageRequest (validated as in TC_O_01) with message.transactionId the
    ongoing transaction's, answered Accepted."""
    await _for_transaction(stations, triggers, sut, "O06")


@pytest.mark.case("TC_O_27_CSMS")
async def test_TC_O_27_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message for a specific transaction, display at StartTime (O02): as TC_O_06,
    with a startDateTime in the future."""
    got = await _for_transaction(stations, triggers, sut, "O27", startDateTime=now_iso(3600))
    check(_future(got.get("startDateTime")), "SetDisplayMessageRequest",
          "message.startDateTime in the future", got)


@pytest.mark.case("TC_O_28_CSMS")
async def test_TC_O_28_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message for a specific transaction, remove after EndTime (O02): as TC_O_06,
    with an endDateTime in the future."""
    got = await _for_transaction(stations, triggers, sut, "O28", endDateTime=now_iso(3600))
    check(_future(got.get("endDateTime")), "SetDisplayMessageRequest",
          "message.endDateTime in the future", got)


@pytest.mark.case("TC_O_10_CSMS")
async def test_TC_O_10_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message for a specific transaction, UnknownTransaction (O02): with no
    transaction ongoing, SetDisplayMessageRequest (validated as in TC_O_01) with a
    message.transactionId, answered UnknownTransaction; the CSMS goes on answering the
    station (Heartbeat)."""
    station = await booted_station(stations)
    await set_display_message(station, triggers, sut,
                              display_message(transactionId="CONF-TX-O10-UNKNOWN"),
                              "UnknownTransaction")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


# -- O03 / O04 Get DisplayMessages -----------------------------------------------------------


@pytest.mark.case("TC_O_02_CSMS")
async def test_TC_O_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get all Display Messages, success (O03): GetDisplayMessagesRequest (validated: a
    requestId, no id, priority or state filter), answered Accepted; NotifyDisplayMessages
    with the configured message and the requestId is answered."""
    station = await booted_station(stations)
    call = await _get_messages(station, triggers, sut, {}, "Accepted")
    await _notify(station, call.payload["requestId"], [display_message()])


@pytest.mark.case("TC_O_03_CSMS")
async def test_TC_O_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get all Display Messages, none configured (O03): GetDisplayMessagesRequest (validated:
    a requestId, no filter), answered Unknown; the CSMS goes on answering the station
    (Heartbeat)."""
    station = await booted_station(stations)
    await _get_messages(station, triggers, sut, {}, "Unknown")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_O_07_CSMS")
async def test_TC_O_07_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get a specific Display Message by id (O04): GetDisplayMessagesRequest (validated: a
    requestId, id [the message's id], no priority or state), answered Accepted;
    NotifyDisplayMessages with that message is answered."""
    station = await booted_station(stations)
    call = await _get_messages(station, triggers, sut, {"id": [MESSAGE_ID]}, "Accepted")
    await _notify(station, call.payload["requestId"], [display_message()])


@pytest.mark.case("TC_O_08_CSMS")
async def test_TC_O_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get specific Display Messages by priority (O04): GetDisplayMessagesRequest (validated:
    a requestId, priority NormalCycle, no id or state), answered Accepted;
    NotifyDisplayMessages with the matching message is answered."""
    station = await booted_station(stations)
    call = await _get_messages(station, triggers, sut, {"priority": "NormalCycle"},
                               "Accepted")
    await _notify(station, call.payload["requestId"], [display_message()])


@pytest.mark.case("TC_O_09_CSMS")
async def test_TC_O_09_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get specific Display Messages by state (O04): GetDisplayMessagesRequest (validated: a
    requestId, state Idle, no id or priority), answered Accepted; NotifyDisplayMessages with
    the matching message is answered."""
    station = await booted_station(stations)
    call = await _get_messages(station, triggers, sut, {"state": "Idle"}, "Accepted")
    await _notify(station, call.payload["requestId"], [display_message(state="Idle")])


@pytest.mark.case("TC_O_11_CSMS")
async def test_TC_O_11_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get specific Display Messages, unknown parameters (O04): GetDisplayMessagesRequest
    (validated: a requestId, the id, priority and state filters asked for), answered Unknown;
    the CSMS goes on answering the station (Heartbeat)."""
    station = await booted_station(stations)
    await _get_messages(station, triggers, sut, {"id": [MESSAGE_ID + 99],
                                                 "priority": "InFront", "state": "Faulted"},
                        "Unknown")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


# -- O05 Clear a DisplayMessage --------------------------------------------------------------


async def _clear(station: TestStation, triggers: Triggers, sut: Sut, message_id: int,
                 answer: str) -> None:
    step = "ClearDisplayMessageRequest"
    call = await csms_sends(station, triggers, "ClearDisplayMessage", {"id": message_id},
                            {"status": answer}, step=step, timeout_s=sut.action_timeout_s)
    check(call.payload.get("id") == message_id, step, f"id {message_id}", call.payload)


@pytest.mark.case("TC_O_04_CSMS")
async def test_TC_O_04_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Display Message, success (O05): a message is set (SetDisplayMessageRequest,
    validated as in TC_O_01, Accepted); the CSMS sends ClearDisplayMessageRequest (validated:
    id the message's id), answered Accepted."""
    station = await booted_station(stations)
    got = await set_display_message(station, triggers, sut, display_message())
    await _clear(station, triggers, sut, got["id"], "Accepted")


@pytest.mark.case("TC_O_05_CSMS")
async def test_TC_O_05_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Display Message, unknown key (O05): ClearDisplayMessageRequest (validated: the id
    asked for) answered Unknown; the CSMS goes on answering the station (Heartbeat)."""
    station = await booted_station(stations)
    await _clear(station, triggers, sut, MESSAGE_ID + 99, "Unknown")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")
