"""A minimal OCPP-J "CSMS" that stores nothing: every CALL gets a schema-valid CALLRESULT at once.

It exists to measure the load generator, not a backend: if locust drives more round trips per
second against this than against a real CSMS, the real CSMS was the bottleneck. It negotiates
the OCPP subprotocol like any CSMS (1.6 and 2.0.1), parses frames with orjson and answers from
a table; there is no validation, no session state and no storage.

    python -m loadtests.echo_csms --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve

SUBPROTOCOLS = ["ocpp2.0.1", "ocpp1.6"]
_transaction_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer(version: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A valid answer to the station messages the load test sends."""
    v16 = version == "ocpp1.6"
    if action == "BootNotification":
        return {"status": "Accepted", "currentTime": _now(), "interval": 300}
    if action == "Heartbeat":
        return {"currentTime": _now()}
    if action == "Authorize":
        return {"idTagInfo": {"status": "Accepted"}} if v16 else \
            {"idTokenInfo": {"status": "Accepted"}}
    if action == "StartTransaction":
        return {"transactionId": next(_transaction_ids), "idTagInfo": {"status": "Accepted"}}
    if action == "StopTransaction":
        return {"idTagInfo": {"status": "Accepted"}} if "idTag" in payload else {}
    if action == "TransactionEvent" and "idToken" in payload:
        return {"idTokenInfo": {"status": "Accepted"}}
    return {}  # StatusNotification, MeterValues, TransactionEvent without a token


async def _station(connection: ServerConnection) -> None:
    version = connection.subprotocol or "ocpp1.6"
    async for text in connection:
        try:
            frame = orjson.loads(text)
            if frame[0] != 2:
                continue  # answers to our (non-existent) calls, or junk
            reply = [3, frame[1], answer(version, frame[2], frame[3])]
        except (orjson.JSONDecodeError, IndexError, KeyError, TypeError):
            continue
        await connection.send(orjson.dumps(reply).decode())


async def serve_echo(host: str, port: int, ready: asyncio.Event | None = None) -> None:
    async with serve(_station, host, port, subprotocols=SUBPROTOCOLS,  # type: ignore[arg-type]
                     compression=None, ping_interval=None, max_queue=64, backlog=4096):
        if ready is not None:
            ready.set()
        await asyncio.Future()  # until cancelled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_echo(args.host, args.port))


if __name__ == "__main__":
    main()
