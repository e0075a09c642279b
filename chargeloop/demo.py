"""The protocol demo: a loopback CSMS and one station exchange a whole charging session.

Boot, heartbeat, authorize, start, meter values and stop, in OCPP 1.6 (StartTransaction /
StopTransaction) and in 2.0.1 or 2.1 (TransactionEvent), over real websockets on 127.0.0.1.
The CSMS side here is a minimal answering machine that shows the core at work; the reference
CSMS (``csms/``) is the real backend.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chargeloop.ocppj import OcppSession, OcppVersion, Role, TraceRecord
from chargeloop.ocppj.transport import ConnectionInfo, WebSocketTransport, connect_ocpp, serve_ocpp

ENERGY_START_WH = 1_000.0
ENERGY_STEPS_WH = (1_850.0, 2_700.0)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _accepted_token() -> dict[str, Any]:
    return {"idTokenInfo": {"status": "Accepted"}}


def _demo_csms_routes(session: OcppSession) -> None:
    """Answer what a station sends during one session, for either OCPP generation."""
    transaction_ids = itertools.count(1)
    session.route("Heartbeat", lambda _: {"currentTime": _now()})
    session.route("StatusNotification", lambda _: {})
    session.route("MeterValues", lambda _: {})
    if session.version is OcppVersion.V16:
        session.route("BootNotification",
                      lambda _: {"status": "Accepted", "currentTime": _now(), "interval": 300})
        session.route("Authorize", lambda _: {"idTagInfo": {"status": "Accepted"}})
        session.route("StartTransaction", lambda _: {
            "transactionId": next(transaction_ids), "idTagInfo": {"status": "Accepted"}})
        session.route("StopTransaction", lambda _: {"idTagInfo": {"status": "Accepted"}})
    else:
        session.route("BootNotification",
                      lambda _: {"status": "Accepted", "currentTime": _now(), "interval": 300})
        session.route("Authorize", lambda _: _accepted_token())
        session.route("TransactionEvent",
                      lambda p: _accepted_token() if "idToken" in p else {})


def _sampled(energy_wh: float, power_w: float, context: str) -> list[dict[str, Any]]:
    return [
        {"value": energy_wh, "context": context, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": power_w, "context": context, "measurand": "Power.Active.Import",
         "unitOfMeasure": {"unit": "W"}},
    ]


async def _session_16(station: OcppSession, token: str) -> None:
    await station.call("BootNotification",
                       {"chargePointVendor": "chargeloop", "chargePointModel": "demo"})
    await station.call("Heartbeat")
    await station.call("StatusNotification",
                       {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"})
    await station.call("Authorize", {"idTag": token})
    started = await station.call("StartTransaction", {
        "connectorId": 1, "idTag": token, "meterStart": int(ENERGY_START_WH),
        "timestamp": _now()})
    transaction_id = started["transactionId"]
    for energy in ENERGY_STEPS_WH:
        await station.call("MeterValues", {
            "connectorId": 1, "transactionId": transaction_id,
            "meterValue": [{"timestamp": _now(), "sampledValue": [
                {"value": f"{energy:.1f}", "measurand": "Energy.Active.Import.Register",
                 "unit": "Wh", "context": "Sample.Periodic"},
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W",
                 "context": "Sample.Periodic"}]}]})
    await station.call("StopTransaction", {
        "transactionId": transaction_id, "idTag": token, "timestamp": _now(),
        "meterStop": int(ENERGY_STEPS_WH[-1]), "reason": "Local"})
    await station.call("StatusNotification",
                       {"connectorId": 1, "errorCode": "NoError", "status": "Available"})


async def _session_2x(station: OcppSession, token: str) -> None:
    id_token = {"idToken": token, "type": "ISO14443"}
    await station.call("BootNotification", {
        "reason": "PowerUp", "chargingStation": {"vendorName": "chargeloop", "model": "demo"}})
    await station.call("Heartbeat")
    await station.call("StatusNotification", {
        "timestamp": _now(), "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1})
    await station.call("Authorize", {"idToken": id_token})
    transaction = {"transactionId": "demo-tx-1"}
    evse = {"id": 1, "connectorId": 1}
    await station.call("TransactionEvent", {
        "eventType": "Started", "timestamp": _now(), "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {**transaction, "chargingState": "Charging"}, "idToken": id_token,
        "evse": evse, "meterValue": [{"timestamp": _now(), "sampledValue": _sampled(
            ENERGY_START_WH, 0.0, "Transaction.Begin")}]})
    for energy in ENERGY_STEPS_WH:
        await station.call("MeterValues", {"evseId": 1, "meterValue": [{
            "timestamp": _now(), "sampledValue": _sampled(energy, 11_000.0, "Sample.Periodic")}]})
    await station.call("TransactionEvent", {
        "eventType": "Ended", "timestamp": _now(), "triggerReason": "StopAuthorized",
        "seqNo": len(ENERGY_STEPS_WH) + 1, "idToken": id_token,
        "transactionInfo": {**transaction, "chargingState": "EVConnected",
                            "stoppedReason": "Local"},
        "meterValue": [{"timestamp": _now(), "sampledValue": _sampled(
            ENERGY_STEPS_WH[-1], 0.0, "Transaction.End")}]})
    await station.call("StatusNotification", {
        "timestamp": _now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1})


async def run_protocol_demo(version: OcppVersion, on_frame: Callable[[TraceRecord], None],
                            *, identity: str = "DEMO-CS-1", token: str = "04A1B2C3") -> None:
    """Run one session of ``version`` over loopback websockets; every frame goes to ``on_frame``.

    Only frames seen by the station are reported, so each appears once. Raises whatever the
    exchange raises (a CALLERROR, a timeout), so a broken core fails the demo loudly.
    """
    async def on_connect(transport: WebSocketTransport, info: ConnectionInfo) -> None:
        csms = OcppSession(transport, info.version, role=Role.CSMS, identity=info.identity)
        _demo_csms_routes(csms)
        await csms.serve()

    async with await serve_ocpp(on_connect, "127.0.0.1", 0, versions=[version]) as server:
        transport = await connect_ocpp(server.url, identity=identity, versions=[version])
        station = OcppSession(transport, version, role=Role.STATION, identity=identity,
                              trace=on_frame, call_timeout=10.0)
        receiving = asyncio.create_task(station.serve())
        try:
            if version is OcppVersion.V16:
                await _session_16(station, token)
            else:
                await _session_2x(station, token)
        finally:
            await station.close()
            await receiving
