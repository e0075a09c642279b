"""Tariffs over real websockets and a real database: stations charge under tariffs, the CSMS
tells 2.0.1 stations what it costs (CostUpdated while charging, totalCost when it ends, a
display message where there is a display), and every figure matches a hand computation.

The CSMS runs on a clock the test sets (2025-03-03 is a Monday), so tariffs are created "before"
the sessions the stations then report with timestamps of that clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from chargeloop.ocppj import OcppSession, OcppVersion
from csms.domain.api_tokens import ApiRole
from csms.domain.device_model import VariableKey, VariableUpdate
from csms.domain.timeutil import ocpp_time
from csms.server import RunningCsms, running_csms
from tests.csms.conftest import make_config
from tests.csms.harness import watch_events
from tests.csms.support import boot, connected_station

EUR_AC = {"id": "ac", "name": "AC standard", "currency": "EUR", "time_zone": "Europe/Berlin",
          "energy_price_per_kwh": "0.3456", "time_price_per_min": "0.05",
          "session_fee": "1.00", "vat_percent": "19"}


class TestClock:
    """The CSMS's clock, moved by the test."""

    __test__ = False

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, hour: int, minute: int = 0) -> str:
        """Move to that time of 2025-03-03 UTC; returns it as an OCPP timestamp."""
        self.now = datetime(2025, 3, 3, hour, minute, tzinfo=UTC)
        return ocpp_time(self.now)


@contextlib.asynccontextmanager
async def priced_csms(database_url: str, tmp_path: Path
                      ) -> AsyncIterator[tuple[RunningCsms, httpx.AsyncClient, TestClock]]:
    """A CSMS on a test clock at 07:50; background scans stay out of the way (tests call
    ``core.cost_updates.scan``)."""
    clock = TestClock(datetime(2025, 3, 3, 7, 50, tzinfo=UTC))
    config = make_config(database_url, tmp_path, watchdog_interval_s=3600.0,
                         cost_update_interval_s=3600.0)
    async with running_csms(config, clock=clock) as running:
        token = running.admin_token or (tmp_path / "admin.token").read_text().strip()
        async with httpx.AsyncClient(base_url=running.api_url, timeout=10.0,
                                     headers={"Authorization": f"Bearer {token}"}) as api:
            yield running, api, clock


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def meter(at: str, wh: float) -> list[dict[str, Any]]:
    return [{"timestamp": at, "sampledValue": [
        {"value": wh, "unitOfMeasure": {"unit": "Wh"}, "context": "Sample.Periodic"}]}]


def tx_event(event_type: str, at: str, seq_no: int, wh: float | None = None,
             **info: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type, "timestamp": at, "seqNo": seq_no,
        "triggerReason": {"Started": "Authorized", "Ended": "EVCommunicationLost"}.get(
            event_type, "MeterValuePeriodic"),
        "transactionInfo": {"transactionId": "TX-1", **info}}
    if event_type == "Started":
        payload |= {"idToken": {"idToken": "TAG-1", "type": "ISO14443"},
                    "evse": {"id": 1, "connectorId": 1}}
    if wh is not None:
        payload["meterValue"] = meter(at, wh)
    return payload


async def charge_16(station: OcppSession, clock: TestClock, connector: int,
                    wh: tuple[int, int], start: tuple[int, int], stop: tuple[int, int]) -> str:
    """A whole 1.6 session from ``start`` to ``stop`` (hour, minute) drawing ``wh``."""
    tx = (await station.call("StartTransaction", {
        "connectorId": connector, "idTag": "TAG-1", "meterStart": wh[0],
        "timestamp": clock.set(*start)}))["transactionId"]
    await station.call("StopTransaction", {"transactionId": tx, "meterStop": wh[1],
                                           "timestamp": clock.set(*stop)})
    return str(tx)


async def test_a_201_station_hears_running_and_final_costs(database_url: str,
                                                            tmp_path: Path) -> None:
    """Energy 0.3456/kWh, time 0.05/min while charging, session fee 1.00, VAT 19 %."""
    cost_updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    displayed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def on_cost_updated(payload: dict[str, Any]) -> dict[str, Any]:
        cost_updates.put_nowait(payload)
        return {}

    async def on_display(payload: dict[str, Any]) -> dict[str, Any]:
        displayed.put_nowait(payload)
        return {"status": "Accepted"}

    async with (priced_csms(database_url, tmp_path) as (csms, api, clock),
                connected_station(csms, "CS-201", OcppVersion.V201, routes={
                    "CostUpdated": on_cost_updated, "SetDisplayMessage": on_display,
                }) as station):
        core = csms.core
        await boot(station)
        await created(await api.post("/api/tariffs", json=EUR_AC))
        await created(await api.post("/api/tariffs/ac/assignments",
                                     json={"station_id": "CS-201"}))
        await core.provisioning.device_model.record("CS-201", [VariableUpdate(
            VariableKey("DisplayMessageCtrlr", "Available"), value="true", set_value=True)],
            source="NotifyReport")
        await core.auth.upsert("TAG-1")

        started = await station.call("TransactionEvent", tx_event(
            "Started", clock.set(8), 0, 0, chargingState="Charging"))
        assert "totalCost" not in started  # no running figure yet
        updated = await station.call("TransactionEvent", tx_event("Updated", clock.set(8, 20),
                                                                  1, 7_000))
        assert "totalCost" not in updated

        with watch_events(csms, "transaction.cost") as events:
            [running] = await core.cost_updates.scan()
            # 7 kWh x 0.3456 = 2.4192 -> 2.42; 20 min x 0.05 = 1.00; fee 1.00; net 4.42;
            # VAT 19 % = 0.8398 -> 0.84; total 5.26.
            assert running.total.amount == Decimal("5.26") and not running.final
            event = await events.next("transaction.cost", final=False)
        assert event.data | {"energy_wh": 0} == {
            "station_id": "CS-201", "transaction_id": "TX-1", "account_id": None,
            "total": "5.26", "currency": "EUR", "final": False, "tariff_id": "ac",
            "tariff_version": 1, "energy_wh": 0}
        assert cost_updates.get_nowait() == {"totalCost": 5.26, "transactionId": "TX-1"}
        shown = displayed.get_nowait()["message"]
        assert shown["message"]["content"] == "Cost so far: 5.26 EUR"
        assert shown["transactionId"] == "TX-1"
        # Nothing changed: a second scan sends nothing new.
        await core.cost_updates.scan()
        assert cost_updates.empty() and displayed.empty()

        # Updated between scans carries the last running total, read from memory.
        assert (await station.call("TransactionEvent", tx_event(
            "Updated", clock.set(8, 30), 2)))["totalCost"] == 5.26
        # The EV stops drawing at 08:40: time is charged until then, not until the end.
        await station.call("TransactionEvent", tx_event(
            "Updated", clock.set(8, 40), 3, chargingState="SuspendedEV"))

        with watch_events(csms, "transaction.cost") as events:
            ended = await station.call("TransactionEvent", tx_event(
                "Ended", clock.set(8, 45), 4, 12_345, stoppedReason="EVDisconnected"))
            # 12.345 kWh x 0.3456 = 4.266432 -> 4.27; 40 min x 0.05 = 2.00; fee 1.00;
            # net 7.27; VAT 19 % = 1.3813 -> 1.38; total 8.65.
            assert ended["totalCost"] == 8.65
            assert (await events.next("transaction.cost", final=True)).data["total"] == "8.65"

        detail = (await api.get("/api/transactions/CS-201/TX-1")).json()
        cost = detail["cost"]
        assert (cost["final"], cost["net"], cost["vat"], cost["total"]) == \
            (True, "7.27", "1.38", "8.65")
        assert [(line["kind"], line["amount"]) for line in cost["lines"]] == [
            ("energy", "4.27"), ("time", "2.00"), ("session_fee", "1.00")]

        cdr = (await api.get("/api/transactions/CS-201/TX-1/cdr")).json()
        assert (cdr["total_energy_kwh"], cdr["total_charging_time_min"],
                cdr["total_idle_time_min"], cdr["total_cost_excl_vat"],
                cdr["total_cost_incl_vat"]) == ("12.345", "40", "5", "7.27", "8.65")
        assert (cdr["tariff_id"], cdr["tariff_version"], cdr["currency"]) == ("ac", 1, "EUR")

        # The station retries the Ended: the same total, and no second final cost event.
        with watch_events(csms, "transaction.cost") as events:
            again = await station.call("TransactionEvent", tx_event(
                "Ended", ocpp_time(clock.now), 4, 12_345, stoppedReason="EVDisconnected"))
            assert again["totalCost"] == 8.65 and events.pending("transaction.cost") == []


async def test_a_16_session_shows_its_cost_in_the_transaction_view(database_url: str,
                                                                    tmp_path: Path) -> None:
    """The default tariff: 0.40/kWh, idle 0.10/min after 10 min of grace, no VAT."""
    async with priced_csms(database_url, tmp_path) as (csms, api, clock), \
            connected_station(csms, "CS-16", OcppVersion.V16) as station:
        await boot(station)
        await csms.core.auth.upsert("TAG-1")
        await created(await api.post("/api/tariffs", json={
            "id": "default", "name": "Default", "currency": "EUR",
            "energy_price_per_kwh": "0.40", "idle_price_per_min": "0.10",
            "idle_grace_min": 10}))
        await created(await api.post("/api/tariffs/default/assignments", json={}))

        tx = (await station.call("StartTransaction", {
            "connectorId": 1, "idTag": "TAG-1", "meterStart": 1000,
            "timestamp": clock.set(8)}))["transactionId"]
        await station.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [
            {"timestamp": clock.set(8, 30), "sampledValue": [{"value": "6.0", "unit": "kWh"}]}]})
        running = (await api.get(f"/api/transactions/CS-16/{tx}")).json()["cost"]
        # 5 kWh x 0.40 = 2.00 so far (charging until the last reading, 08:30 = now).
        assert (running["final"], running["total"]) == (False, "2.00")
        assert (await api.get(f"/api/transactions/CS-16/{tx}/cdr")).status_code == 409

        with watch_events(csms, "transaction.cost") as events:
            await station.call("StopTransaction", {"transactionId": tx, "meterStop": 11000,
                                                   "timestamp": clock.set(9, 30)})
            final = await events.next("transaction.cost", final=True)
        # 10 kWh x 0.40 = 4.00; the energy flowed until 09:30 (the stop reading): no idle.
        assert (final.data["total"], final.data["currency"]) == ("4.00", "EUR")
        cost = (await api.get(f"/api/transactions/CS-16/{tx}")).json()["cost"]
        assert (cost["final"], cost["total"], cost["idle_s"]) == (True, "4.00", "0")


async def test_a_new_version_or_assignment_mid_session_keeps_the_sessions_price(
        database_url: str, tmp_path: Path) -> None:
    async with priced_csms(database_url, tmp_path) as (csms, api, clock), \
            connected_station(csms, "CS-V", OcppVersion.V16) as station:
        await boot(station)
        await csms.core.auth.upsert("TAG-1")
        terms = {"name": "AC", "currency": "EUR", "energy_price_per_kwh": "0.30"}
        await created(await api.post("/api/tariffs", json={"id": "ac", **terms}))
        await created(await api.post("/api/tariffs", json={
            "id": "other", **terms, "energy_price_per_kwh": "2.00"}))
        await created(await api.post("/api/tariffs/ac/assignments", json={"station_id": "CS-V"}))

        tx = (await station.call("StartTransaction", {
            "connectorId": 1, "idTag": "TAG-1", "meterStart": 0,
            "timestamp": clock.set(8)}))["transactionId"]
        clock.set(8, 15)
        changed = await created(await api.post("/api/tariffs/ac/versions", json={
            **terms, "energy_price_per_kwh": "0.90"}))
        assert changed["version_in_force"] == 2
        clock.set(8, 20)
        await created(await api.post("/api/tariffs/other/assignments",
                                     json={"station_id": "CS-V"}))
        await station.call("StopTransaction", {"transactionId": tx, "meterStop": 10_000,
                                               "timestamp": clock.set(8, 30)})
        # Priced with version 1 of "ac", in force at the start: 10 kWh x 0.30 = 3.00.
        cost = (await api.get(f"/api/transactions/CS-V/{tx}")).json()["cost"]
        assert (cost["tariff_id"], cost["tariff_version"], cost["total"]) == ("ac", 1, "3.00")

        # A session started now gets the station's new tariff: 1 kWh x 2.00.
        later = await charge_16(station, clock, 1, (10_000, 11_000), (8, 40), (8, 50))
        cost = (await api.get(f"/api/transactions/CS-V/{later}")).json()["cost"]
        assert (cost["tariff_id"], cost["tariff_version"], cost["total"]) == \
            ("other", 1, "2.00")
        assignments = (await api.get("/api/tariff-assignments",
                                     params={"include_ended": True})).json()
        assert [(a["tariff_id"], a["valid_to"] is None) for a in assignments] == \
            [("ac", False), ("other", True)]


async def test_a_connector_assignment_beats_the_station_and_the_default(
        database_url: str, tmp_path: Path) -> None:
    async with priced_csms(database_url, tmp_path) as (csms, api, clock), \
            connected_station(csms, "CS-A", OcppVersion.V16) as station:
        await boot(station)
        await csms.core.auth.upsert("TAG-1")
        for tariff_id, price in (("default", "1.00"), ("station", "0.50"), ("fast", "0.20")):
            await created(await api.post("/api/tariffs", json={
                "id": tariff_id, "name": tariff_id, "currency": "EUR",
                "energy_price_per_kwh": price}))
        await created(await api.post("/api/tariffs/default/assignments", json={}))
        await created(await api.post("/api/tariffs/station/assignments",
                                     json={"station_id": "CS-A"}))
        # 1.6 connector 2 is EVSE 2, connector 1.
        fast = await created(await api.post("/api/tariffs/fast/assignments", json={
            "station_id": "CS-A", "evse_id": 2, "connector_id": 1}))
        assert fast["scope"] == "connector"

        async def applied(**where: Any) -> str | None:
            view = (await api.get("/api/stations/CS-A/tariff", params=where)).json()
            return view["tariff"] and view["tariff"]["tariff_id"]

        assert await applied(evse_id=2, connector_id=1) == "fast"
        assert await applied(evse_id=1, connector_id=1) == "station"
        assert await applied() == "station"
        await created(await api.post("/api/stations", json={"id": "CS-OTHER"}))
        other = (await api.get("/api/stations/CS-OTHER/tariff")).json()
        assert other["tariff"]["tariff_id"] == "default"

        on_fast = await charge_16(station, clock, 2, (0, 10_000), (8, 0), (8, 30))
        on_station = await charge_16(station, clock, 1, (0, 10_000), (8, 40), (9, 0))
        totals = [(await api.get(f"/api/transactions/CS-A/{tx}")).json()["cost"]["total"]
                  for tx in (on_fast, on_station)]
        assert totals == ["2.00", "5.00"]  # 10 kWh x 0.20, 10 kWh x 0.50

        # Removing the connector's assignment: the station's tariff applies there again.
        removed = (await api.delete(f"/api/tariff-assignments/{fast['id']}")).json()
        assert removed["valid_to"] is not None
        assert await applied(evse_id=2, connector_id=1) == "station"
        assert (await api.delete(f"/api/tariff-assignments/{fast['id']}")).status_code == 409


async def test_bad_tariffs_are_refused_naming_the_field(database_url: str,
                                                        tmp_path: Path) -> None:
    async with priced_csms(database_url, tmp_path) as (csms, api, clock):
        good = {"id": "t", "name": "T", "currency": "EUR"}
        refused = {
            "energy_price_per_kwh": {**good, "energy_price_per_kwh": "-0.01"},
            "currency": {**good, "currency": "EUX"},
            "time_zone": {**good, "time_zone": "Mars/Olympus_Mons"},
            "bands.0.start": {**good, "bands": [{"name": "n", "start": "25:00", "end": "06:00"}]},
            "bands.0.end": {**good, "bands": [{"name": "n", "start": "06:00", "end": "06:00"}]},
            "bands.1.name": {**good, "bands": [{"name": "n", "start": "06:00", "end": "07:00"},
                                               {"name": "n", "start": "08:00", "end": "09:00"}]},
            "valid_from": {**good, "valid_from": "2025-03-03T07:00:00Z"},
        }
        for field, body in refused.items():
            response = await api.post("/api/tariffs", json=body)
            assert response.status_code == 422, (field, response.text)
            locations = [".".join(str(p) for p in error["loc"][1:])
                         for error in response.json()["detail"]]
            assert field in locations, (field, response.json())
        assert (await api.get("/api/tariffs")).json() == []  # nothing half stored

        await created(await api.post("/api/tariffs", json=good))
        assert (await api.post("/api/tariffs", json=good)).status_code == 409
        assert (await api.post("/api/tariffs/nope/versions", json=good)).status_code == 404
        assert (await api.post("/api/tariffs/t/assignments",
                               json={"station_id": "CS-NOWHERE"})).status_code == 404
        reader = await csms.core.api_tokens.create("wallboard", ApiRole.READ_ONLY)
        as_reader = {"Authorization": f"Bearer {reader}"}
        assert (await api.get("/api/tariffs/t", headers=as_reader)).status_code == 200
        assert (await api.post("/api/tariffs/t/versions", json=good,
                               headers=as_reader)).status_code == 403
        # A version scheduled later blocks one that would start before it.
        await created(await api.post("/api/tariffs/t/versions", json={
            **good, "valid_from": "2025-03-04T00:00:00Z"}))
        assert (await api.post("/api/tariffs/t/versions", json=good)).status_code == 409
        assert (await api.get("/api/tariffs/t")).json()["version_in_force"] == 1
        clock.now += timedelta(days=1)
        assert (await api.get("/api/tariffs/t")).json()["version_in_force"] == 2
