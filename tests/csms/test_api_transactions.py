"""The transactions API over real sessions: 1.6 and 2.0.1 transactions in one version-neutral
view, filters and paging, and one transaction's meter series in the station's time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chargeloop.ocppj import OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp

SIGNED = {"signedMeterData": "T0NNRnx7IlRUIjoiMjAyNCJ9", "signingMethod": "ECDSA-secp256r1-SHA256",
          "encodingMethod": "OCMF", "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"}


async def charge_16(csms: RunningCsms, station_id: str, tag: str, *, start_offset: float,
                    meter: tuple[float, float]) -> str:
    """A complete 1.6 session; returns its transaction id."""
    async with connected_station(csms, station_id, OcppVersion.V16) as station:
        await boot(station)
        tx = (await station.call("StartTransaction", {
            "connectorId": 2, "idTag": tag, "meterStart": int(meter[0]),
            "timestamp": stamp(start_offset)}))["transactionId"]
        await station.call("MeterValues", {"connectorId": 2, "transactionId": tx, "meterValue": [
            {"timestamp": stamp(start_offset + 20), "sampledValue": [
                {"value": str(meter[1] / 1000), "unit": "kWh", "context": "Sample.Periodic"},
                {"value": "16.2", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
                {"value": "c2lnbmVk", "format": "SignedData", "context": "Sample.Periodic"}]},
            {"timestamp": stamp(start_offset + 10), "sampledValue": [
                {"value": str(meter[0] + 1), "context": "Sample.Periodic"}]}]})
        await station.call("StopTransaction", {
            "transactionId": tx, "meterStop": int(meter[1]), "timestamp": stamp(start_offset + 30),
            "idTag": tag, "reason": "EVDisconnected"})
    return str(tx)


async def start_201(csms: RunningCsms, station_id: str, tx: str, tag: str, *,
                    start_offset: float) -> None:
    """A 2.0.1 session left running."""
    async with connected_station(csms, station_id, OcppVersion.V201) as station:
        await boot(station)
        await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(start_offset),
            "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": {"transactionId": tx, "chargingState": "Charging",
                                "remoteStartId": 42},
            "idToken": {"idToken": tag, "type": "ISO14443"}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": stamp(start_offset), "sampledValue": [
                {"value": 3.5, "unitOfMeasure": {"unit": "kWh"},
                 "context": "Transaction.Begin", "signedMeterValue": SIGNED}]}]})
        await station.call("TransactionEvent", {
            "eventType": "Updated", "timestamp": stamp(start_offset + 5),
            "triggerReason": "MeterValuePeriodic", "seqNo": 2,
            "transactionInfo": {"transactionId": tx},
            "meterValue": [{"timestamp": stamp(start_offset + 5), "sampledValue": [
                {"value": 4.25, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}},
                {"value": 7.4, "measurand": "Power.Active.Import",
                 "unitOfMeasure": {"unit": "kW"}, "location": "Outlet"}]}]})


async def test_both_versions_list_the_same_way_newest_first_with_filters(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.core.auth.upsert("TAG-A")
    await csms.core.auth.upsert("TAG-B")
    tx16 = await charge_16(csms, "CS-A16", "TAG-A", start_offset=-3600, meter=(1000, 8000))
    await start_201(csms, "CS-B201", "TX-B", "TAG-B", start_offset=-60)

    listed = (await api.get("/api/transactions")).json()
    assert listed["total"] == 2 and listed["limit"] == 100 and listed["offset"] == 0
    newest, oldest = listed["items"]
    assert (newest["transaction_id"], oldest["transaction_id"]) == ("TX-B", tx16)
    assert set(newest) == set(oldest)  # one view for both versions
    assert oldest["ocpp_version"] == "ocpp1.6" and newest["ocpp_version"] == "ocpp2.0.1"

    assert oldest["state"] == "Completed" and oldest["energy_wh"] == 7000
    assert (oldest["evse_id"], oldest["connector_id"]) == (2, 1)
    assert oldest["stop_reason"] == "EVDisconnected" and oldest["stop_id_token"] == "TAG-A"
    assert oldest["auth_status"] == "Accepted" and oldest["charging_state"] is None
    assert newest["state"] == "Active" and newest["charging_state"] == "Charging"
    assert newest["remote_start_id"] == 42 and newest["seq_gaps"] == [1]
    assert newest["energy_wh"] == 750 and newest["stopped_at"] is None

    async def ids(**params: Any) -> list[str]:
        response = await api.get("/api/transactions", params=params)
        assert response.status_code == 200, response.text
        return [t["transaction_id"] for t in response.json()["items"]]

    assert await ids(station_id="CS-A16") == [tx16]
    assert await ids(id_token="TAG-B") == ["TX-B"]
    assert await ids(state="Active") == ["TX-B"]
    assert await ids(state="Completed") == [tx16]
    half_hour_ago = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    assert await ids(started_from=half_hour_ago) == ["TX-B"]
    assert await ids(started_to=half_hour_ago) == [tx16]
    naive = (datetime.now(UTC) - timedelta(minutes=30)).replace(tzinfo=None).isoformat()
    assert await ids(started_to=naive) == [tx16]  # a time without a zone is UTC
    assert await ids(limit=1) == ["TX-B"]
    assert await ids(limit=1, offset=1) == [tx16]
    paged = (await api.get("/api/transactions", params={"limit": 1, "offset": 1})).json()
    assert paged["total"] == 2

    station = (await api.get("/api/stations/CS-B201/transactions")).json()
    assert [t["transaction_id"] for t in station["items"]] == ["TX-B"]
    assert (await api.get("/api/stations/NOPE/transactions")).status_code == 404


async def test_ocpp16_transaction_detail_has_its_meter_series_in_time_order(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    tx = await charge_16(csms, "CS-SERIES16", "TAG", start_offset=-100, meter=(500, 2500))
    detail = (await api.get(f"/api/transactions/CS-SERIES16/{tx}")).json()
    assert detail["transaction_id"] == tx and detail["energy_wh"] == 2000
    series = detail["meter_values"]
    times = [datetime.fromisoformat(s["timestamp"]) for s in series]
    assert times == sorted(times)  # sent newest first, shown in the station's time order
    first = series[0]
    assert (first["value"], first["measurand"], first["unit"]) == (
        501, "Energy.Active.Import.Register", "Wh")
    later = {s["measurand"] + ("/signed" if s["signed_data"] else ""): s for s in series[1:]}
    energy = later["Energy.Active.Import.Register"]
    assert energy["value"] == 2500 and energy["context"] == "Sample.Periodic"
    current = later["Current.Import"]
    assert (current["phase"], current["unit"], current["value"]) == ("L2", "A", 16.2)
    assert later["Energy.Active.Import.Register/signed"]["signed_data"] == "c2lnbmVk"
    assert all(s["late"] is False and s["flag"] is None for s in series)
    assert all(s["evse_id"] == 2 for s in series)


async def test_ocpp201_transaction_detail_has_units_signed_data_and_context(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await start_201(csms, "CS-SERIES201", "TX-S", "TAG", start_offset=-30)
    detail = (await api.get("/api/transactions/CS-SERIES201/TX-S")).json()
    begin, energy, power = detail["meter_values"]
    assert begin["context"] == "Transaction.Begin" and begin["value"] == 3500
    assert begin["signed_data"] == SIGNED["signedMeterData"]
    assert begin["signing_method"] == SIGNED["signingMethod"]
    assert begin["encoding_method"] == "OCMF" and begin["public_key"] == SIGNED["publicKey"]
    assert energy["value"] == 4250 and energy["unit"] == "Wh"  # 4.25 x 10^3 Wh
    assert (power["measurand"], power["value"], power["unit"], power["location"]) == (
        "Power.Active.Import", 7400, "W", "Outlet")
    assert detail["last_energy_flow_at"] is not None

    missing = await api.get("/api/transactions/CS-SERIES201/TX-NONE")
    assert missing.status_code == 404
    assert "TX-NONE" in missing.json()["detail"]


@pytest.mark.parametrize("path", ["/api/transactions", "/api/transactions/X/1",
                                  "/api/stations/X/transactions"])
async def test_transactions_need_a_reader_token(csms: RunningCsms, path: str) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as anonymous:
        assert (await anonymous.get(path)).status_code == 401
