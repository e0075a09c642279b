"""OCPP 2.0.1 display-message steps the CSMS cases share (block O): the message a case asks the
CSMS to show, and the check of the SetDisplayMessageRequest it sends."""

from __future__ import annotations

from typing import Any

from conformance.csms.harness import (
    check,
    csms_sends,
)
from conformance.harness_station import TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers

MESSAGE_ID = 1
CONTENT = "Conformance test message"


def display_message(message_id: int = MESSAGE_ID, *, priority: str = "NormalCycle",
                    content: str = CONTENT, message_format: str = "UTF8",
                    **extra: Any) -> dict[str, Any]:
    return {"id": message_id, "priority": priority,
            "message": {"format": message_format, "content": content}, **extra}


async def set_display_message(station: TestStation, triggers: Triggers, sut: Sut,
                              wanted: dict[str, Any], answer: str = "Accepted", *,
                              step: str = "SetDisplayMessageRequest") -> dict[str, Any]:
    """The CSMS's SetDisplayMessageRequest for ``wanted``, answered ``answer``; validated: the
    message's id, priority, format and content as asked, and its transactionId, state,
    startDateTime and endDateTime present exactly when asked for (values: per case)."""
    call = await csms_sends(station, triggers, "SetDisplayMessage", {"message": wanted},
                            {"status": answer}, step=step, timeout_s=sut.action_timeout_s)
    got = call.payload.get("message", {})
    for key in ("id", "priority"):
        check(got.get(key) == wanted[key], step, f"message.{key} {wanted[key]}", call.payload)
    for key in ("format", "content"):
        check(got.get("message", {}).get(key) == wanted["message"][key], step,
              f"message.message.{key} {wanted['message'][key]!r}", call.payload)
    for key in ("transactionId", "state", "startDateTime", "endDateTime"):
        check((key in got) == (key in wanted), step,
              f"message.{key}" if key in wanted else f"no message.{key}", call.payload)
    return got
