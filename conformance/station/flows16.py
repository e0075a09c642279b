"""OCPP 1.6 flows that several station-under-test case modules share."""

from __future__ import annotations

from typing import Any

from conformance.station.harness import Harness, check, transaction_id


def of_connector(connector: int) -> Any:
    """A ``where`` for StatusNotification/StopTransaction payloads of ``connector``."""
    return lambda p: p.get("connectorId") == connector


async def unlock_while_charging(h: Harness, answered: str) -> None:
    """Charging; UnlockConnector answered ``answered``; either way the transaction ends
    (StopTransaction reason UnlockCommand) and the connector leaves Charging."""
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)
    answer = await h.csms.call("UnlockConnector", {"connectorId": 1}, step="UnlockConnector")
    check(answer.get("status") == answered, "UnlockConnector.conf", answered, answer)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction")
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason") == "UnlockCommand", "StopTransaction.req",
          f"transactionId {tx}, reason UnlockCommand", stop.payload)
    after = await h.csms.receive("StatusNotification", step="StatusNotification",
                                 where=of_connector(1))
    check(after.payload.get("status") in ("Finishing", "Available"), "StatusNotification.req",
          "Finishing or Available", after.payload)
