"""Pay automatically, table-driven: for tariffs that combine energy, charging time, idle fee
with a grace period, time-of-day bands and a session fee, a 2.0.1 session over a real websocket
ends with a capture of exactly the amount computed by hand in each row's comment.

The CSMS runs on a test clock (2025-03-03 is a Monday; Europe/Berlin is UTC+1 then), so the
tariff exists before the session and every timestamp is the clock's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import OcppVersion
from tests.csms.harness import watch_events
from tests.csms.support import boot, connected_station
from tests.csms.test_payments_flow import driver_account
from tests.csms.test_tariffs_flow import meter, priced_csms

BASE = {"currency": "EUR", "time_zone": "Europe/Berlin", "vat_percent": "19"}


@dataclass(frozen=True)
class Row:
    tariff: dict[str, Any]
    # (hour, minute UTC, register Wh, chargingState or None) from the start to the end
    readings: tuple[tuple[int, int, int, str | None], ...]
    total: str  # EUR, by hand


ROWS = {
    # energy 20 kWh x 0.30 = 6.00; charging 08:00-09:00 = 60 min x 0.02 = 1.20;
    # net 7.20; VAT 20 % = 1.44; total 8.64
    "energy and charging time": Row(
        {**BASE, "vat_percent": "20", "energy_price_per_kwh": "0.30",
         "time_price_per_min": "0.02"},
        ((8, 0, 0, "Charging"), (9, 0, 20_000, "EVConnected")), "8.64"),
    # energy 10 kWh x 0.40 = 4.00; the EV stops drawing at 08:40 and stays until 09:30:
    # idle 50 min, the first 15 free, 35 x 0.10 = 3.50; net 7.50; VAT 19 % = 1.425 -> 1.43;
    # total 8.93
    "idle fee after the grace period": Row(
        {**BASE, "energy_price_per_kwh": "0.40", "idle_price_per_min": "0.10",
         "idle_grace_min": "15"},
        ((8, 0, 0, "Charging"), (8, 40, 10_000, "SuspendedEV"), (9, 30, 10_000, None)),
        "8.93"),
    # peak band 09:00-09:30 local (08:00-08:30 UTC) at 0.50, base 0.30:
    # 6 kWh in the band = 3.00, 6 kWh outside = 1.80; net 4.80; VAT 0.912 -> 0.91; total 5.71
    "time-of-day band": Row(
        {**BASE, "energy_price_per_kwh": "0.30", "bands": [
            {"name": "peak", "days": ["mon"], "start": "09:00", "end": "09:30",
             "energy_price_per_kwh": "0.50"}]},
        ((8, 0, 0, "Charging"), (8, 30, 6_000, None), (9, 0, 12_000, "EVConnected")), "5.71"),
    # one 12 kWh interval 08:00-09:00 UTC crossing the band start 09:15 local (08:15 UTC):
    # 15 min outside = 3 kWh x 0.30 = 0.90, 45 min inside = 9 kWh x 0.50 = 4.50;
    # session fee 0.99; net 6.39; VAT 1.2141 -> 1.21; total 7.60
    "band crossing inside an interval, session fee": Row(
        {**BASE, "energy_price_per_kwh": "0.30", "session_fee": "0.99", "bands": [
            {"name": "evening", "start": "09:15", "end": "24:00",
             "energy_price_per_kwh": "0.50"}]},
        ((8, 0, 0, "Charging"), (9, 0, 12_000, "EVConnected")), "7.60"),
}


@pytest.mark.parametrize("name", list(ROWS))
async def test_the_capture_is_the_tariffs_exact_amount(name: str, database_url: str,
                                                        tmp_path: Path) -> None:
    row = ROWS[name]
    async with priced_csms(database_url, tmp_path) as (csms, api, clock):
        made = await api.post("/api/tariffs", json={"id": "t", "name": name, **row.tariff})
        assert made.status_code == 201, made.text
        await driver_account(api, "acc-t", "CARD-T")
        with watch_events(csms, "payment.", "receipt.") as watch:
            async with connected_station(csms, "CS-T", OcppVersion.V201) as station:
                await boot(station)
                assigned = await api.post("/api/tariffs/t/assignments",
                                          json={"station_id": "CS-T"})
                assert assigned.status_code == 201, assigned.text
                first, *middle, last = row.readings
                at = clock.set(first[0], first[1])
                answer = await station.call("Authorize", {"idToken": {
                    "idToken": "CARD-T", "type": "ISO14443"}})
                assert answer["idTokenInfo"]["status"] == "Accepted"
                await station.call("TransactionEvent", {
                    "eventType": "Started", "timestamp": at, "seqNo": 0,
                    "triggerReason": "Authorized", "idToken": {"idToken": "CARD-T",
                                                               "type": "ISO14443"},
                    "evse": {"id": 1, "connectorId": 1}, "meterValue": meter(at, first[2]),
                    "transactionInfo": {"transactionId": "TX-T", "chargingState": first[3]}})
                for seq_no, (hour, minute, wh, state) in enumerate(middle, start=1):
                    at = clock.set(hour, minute)
                    info: dict[str, Any] = {"transactionId": "TX-T"}
                    if state:
                        info["chargingState"] = state
                    await station.call("TransactionEvent", {
                        "eventType": "Updated", "timestamp": at, "seqNo": seq_no,
                        "triggerReason": "ChargingStateChanged" if state
                        else "MeterValuePeriodic",
                        "meterValue": meter(at, wh), "transactionInfo": info})
                at = clock.set(last[0], last[1])
                info = {"transactionId": "TX-T", "stoppedReason": "Local"}
                if last[3]:
                    info["chargingState"] = last[3]
                ended = await station.call("TransactionEvent", {
                    "eventType": "Ended", "timestamp": at, "seqNo": len(middle) + 1,
                    "triggerReason": "StopAuthorized", "meterValue": meter(at, last[2]),
                    "transactionInfo": info})
                assert str(ended["totalCost"]) in (row.total, row.total.rstrip("0"))
                receipt = await watch.next("receipt.issued", transaction_id="TX-T")
        captured = [e.data for e in watch.seen if e.kind == "payment.captured"]
        assert [(c["amount"], c["currency"]) for c in captured] == [(row.total, "EUR")]
        assert receipt.data["total"] == row.total
        cost = (await api.get("/api/transactions/CS-T/TX-T")).json()["cost"]
        assert cost["total"] == row.total and cost["final"] is True
