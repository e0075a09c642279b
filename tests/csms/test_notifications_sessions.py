"""A driver's OCPP 2.0.1 session told step by step over a real websocket, on SQLite and
PostgreSQL: started, suspended by the EV, energy and cost at the chosen interval, idle fee after
the grace period, resumed, a fault at the EVSE, completed with energy and cost, and the
payment's hold, capture and receipt."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from tests.csms.harness import custom_csms, watch_events
from tests.csms.notification_support import driver_client, kinds_of
from tests.csms.support import boot, connected_station, stamp

ACCOUNT, TOKEN, TX = "acct-ada", "TOK-ADA-1", "TX-NOTE-1"


def tx_event(event_type: str, seq_no: int, wh: float, trigger: str,
             **info: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type, "timestamp": stamp(), "triggerReason": trigger,
        "seqNo": seq_no, "transactionInfo": {"transactionId": TX, **info},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [{"timestamp": stamp(), "sampledValue": [{
            "value": wh, "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"}}]}]}
    if event_type == "Started":
        payload["idToken"] = {"idToken": TOKEN, "type": "ISO14443"}
    return payload


async def test_a_201_session_tells_its_driver_each_step(database_url: str,
                                                        tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path) as (csms, api):
        service = csms.core.notifications
        for path, body in (
                ("/api/accounts", {"id": ACCOUNT, "name": "Ada", "email": "ada@example.com"}),
                (f"/api/accounts/{ACCOUNT}/tokens", {"token": TOKEN}),
                (f"/api/accounts/{ACCOUNT}/payment-methods",
                 {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2040}),
                ("/api/tariffs", {"id": "std", "name": "Standard", "currency": "EUR",
                                  "energy_price_per_kwh": "0.40", "idle_price_per_min": "0.10",
                                  "idle_grace_min": "5"}),
                ("/api/tariffs/std/assignments", {})):
            made = await api.post(path, json=body)
            assert made.status_code == 201, (path, made.text)
        driver = await driver_client(csms, api, ACCOUNT)
        async with driver, connected_station(csms, "CS-SESS", OcppVersion.V201) as station:
            assert (await driver.put("/api/me/notification-settings", json={
                "session_update_interval_s": 60})).status_code == 200
            await boot(station)

            async def told(*kinds: str) -> list[dict[str, Any]]:
                await service.settle()
                return [n for n in await kinds_of(driver, "session") if n["kind"] in kinds]

            await station.call("TransactionEvent", tx_event(
                "Started", 0, 1000.0, "Authorized", chargingState="Charging"))
            [started] = await told("session.started")
            assert started["data"]["station_id"] == "CS-SESS"
            assert started["data"]["transaction_id"] == TX and started["data"]["evse_id"] == 1

            await station.call("TransactionEvent", tx_event(
                "Updated", 1, 5000.0, "ChargingStateChanged", chargingState="SuspendedEV"))
            [suspended] = await told("session.suspended")
            assert suspended["data"]["by"] == "ev" and suspended["data"]["previous"] == "Charging"
            assert await told("session.idle_fee_started") == []  # within the grace period

            # Meter values alone tell nothing; time does (the driver's interval, the grace).
            await station.call("TransactionEvent",
                               tx_event("Updated", 2, 5000.0, "MeterValuePeriodic"))
            assert await told("session.progress") == []
            await service.tick(csms.core.clock() + timedelta(minutes=5, seconds=1))
            [progress] = await told("session.progress")
            assert progress["data"]["energy_wh"] == 4000.0
            assert progress["data"]["cost"]["total"] == "1.60"  # 4 kWh at 0.40
            assert progress["data"]["cost"]["currency"] == "EUR"
            [idle] = await told("session.idle_fee_started")
            assert idle["data"]["price_per_min"] == "0.10" and idle["data"]["grace_min"] == "5"

            await station.call("TransactionEvent", tx_event(
                "Updated", 3, 5000.0, "ChargingStateChanged", chargingState="Charging"))
            [resumed] = await told("session.resumed")
            assert resumed["data"]["previous"] == "SuspendedEV"

            await station.call("StatusNotification", {
                "timestamp": stamp(), "connectorStatus": "Faulted", "evseId": 1,
                "connectorId": 1})
            await csms.core.alerts.settle()
            [fault] = await told("session.fault")
            assert fault["data"]["alert_kind"] == "faulted"
            assert fault["data"]["severity"] == "critical"

            with watch_events(csms, "notification.sent") as sent:
                await station.call("TransactionEvent", tx_event(
                    "Ended", 4, 11000.0, "StopAuthorized", stoppedReason="Local"))
                await sent.next("notification.sent", notification_kind="receipt.issued")
            [completed] = await told("session.completed")
            data = completed["data"]
            assert data["energy_wh"] == 10000.0 and data["stop_reason"] == "Local"
            assert data["cost"]["total"] == "4.00" and data["cost"]["final"] is True
            assert data["duration_s"] is not None and data["stopped_at"] is not None

            kinds = [n["kind"] for n in await kinds_of(driver)]
            assert [k for k in kinds if k.startswith("session.")] == [
                "session.started", "session.suspended", "session.idle_fee_started",
                "session.progress", "session.resumed", "session.fault",
                "session.completed"]
            assert {"payment.authorized", "payment.captured", "receipt.issued"} <= set(kinds)


async def test_a_16_session_says_the_same_with_connector_statuses(database_url: str,
                                                                  tmp_path: Path) -> None:
    async with custom_csms(database_url, tmp_path) as (csms, api):
        service = csms.core.notifications
        for path, body in (
                ("/api/accounts", {"id": "acct-bo", "name": "Bo", "email": "bo@example.com"}),
                ("/api/accounts/acct-bo/tokens", {"token": "TOK-BO"}),
                ("/api/accounts/acct-bo/payment-methods",
                 {"card_number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2040})):
            assert (await api.post(path, json=body)).status_code == 201
        driver = await driver_client(csms, api, "acct-bo")
        async with driver, connected_station(csms, "CS-16", OcppVersion.V16) as station:
            await boot(station)
            started = await station.call("StartTransaction", {
                "connectorId": 2, "idTag": "TOK-BO", "meterStart": 1000, "timestamp": stamp()})
            assert started["idTagInfo"]["status"] == "Accepted"
            for status in ("Charging", "SuspendedEVSE", "Charging"):
                await station.call("StatusNotification", {
                    "connectorId": 2, "errorCode": "NoError", "status": status,
                    "timestamp": stamp()})
            await station.call("StopTransaction", {
                "transactionId": started["transactionId"], "meterStop": 7500,
                "timestamp": stamp(), "reason": "Local"})
            await service.settle()
            told = await kinds_of(driver, "session")
            assert [(n["kind"], n["data"].get("by")) for n in told] == [
                ("session.started", None), ("session.suspended", "station"),
                ("session.resumed", None), ("session.completed", None)]
            completed = told[-1]["data"]
            assert completed["transaction_id"] == str(started["transactionId"])
            assert completed["evse_id"] == 2 and completed["energy_wh"] == 6500.0
            assert completed["cost"] is None  # no tariff applies
