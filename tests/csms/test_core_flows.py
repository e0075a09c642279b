"""The CSMS's core flows over real websockets, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from chargeloop.ocppj import CallErrorReceived, OcppVersion
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_messages_before_an_accepted_boot_get_security_error(
        csms: RunningCsms, version: OcppVersion) -> None:
    """TC_B_30_CSMS: nothing but BootNotification before the boot is accepted."""
    async with connected_station(csms, "CS-GATE", version) as station:
        with pytest.raises(CallErrorReceived) as refused:
            await station.call("Heartbeat")
        assert refused.value.code == "SecurityError"
        assert (await boot(station))["status"] == "Accepted"
        assert "currentTime" in await station.call("Heartbeat")


async def test_ocpp16_session_is_recorded_once_with_its_energy(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.core.auth.upsert("TAG-16")
    async with connected_station(csms, "CS-16", OcppVersion.V16) as station:
        await boot(station)
        start = {"connectorId": 1, "idTag": "TAG-16", "meterStart": 10_000,
                 "timestamp": stamp()}
        first = await station.call("StartTransaction", start)
        retried = await station.call("StartTransaction", start)  # lost answer, retried
        assert first == retried
        assert first["idTagInfo"]["status"] == "Accepted"
        tx = first["transactionId"]
        await station.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                           "meterValue": [{"timestamp": stamp(1),
                                                           "sampledValue": [{"value": "10.6",
                                                                             "unit": "kWh"}]}]})
        stop = {"transactionId": tx, "meterStop": 11_250, "timestamp": stamp(2),
                "idTag": "TAG-16", "reason": "Local"}
        await station.call("StopTransaction", stop)
        await station.call("StopTransaction", stop)  # duplicate stop: no second stop
    stored = await csms.core.transactions.get("CS-16", str(tx))
    assert stored is not None
    assert stored["state"] == "Completed"
    assert stored["energy_wh"] == pytest.approx(1_250.0)
    assert stored["late"] is False


async def test_ocpp201_transaction_event_flow(csms: RunningCsms) -> None:
    await csms.core.auth.upsert("TAG-201", group_id="FLEET-A")
    token = {"idToken": "TAG-201", "type": "ISO14443"}
    async with connected_station(csms, "CS-201", OcppVersion.V201) as station:
        await boot(station)
        started = await station.call("TransactionEvent", {
            "eventType": "Started", "timestamp": stamp(), "triggerReason": "Authorized",
            "seqNo": 0, "transactionInfo": {"transactionId": "TX-1"}, "idToken": token,
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": stamp(), "sampledValue": [
                {"value": 2.0, "unitOfMeasure": {"unit": "kWh"},
                 "context": "Transaction.Begin"}]}]})
        assert started["idTokenInfo"]["status"] == "Accepted"
        assert started["idTokenInfo"]["groupIdToken"]["idToken"] == "FLEET-A"
        await station.call("TransactionEvent", {
            "eventType": "Ended", "timestamp": stamp(5), "triggerReason": "EVDeparted",
            "seqNo": 2,
            "transactionInfo": {"transactionId": "TX-1", "stoppedReason": "EVDisconnected"},
            "meterValue": [{"timestamp": stamp(5), "sampledValue": [
                {"value": 9500.0, "context": "Transaction.End"}]}]})
    stored = await csms.core.transactions.get("CS-201", "TX-1")
    assert stored is not None
    assert stored["state"] == "Completed"
    assert stored["energy_wh"] == pytest.approx(7_500.0)
    assert stored["seq_gaps"] == [1]  # seqNo 1 never arrived
    assert stored["stop_reason"] == "EVDisconnected"


async def test_station_list_shows_live_status(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    async with connected_station(csms, "CS-LIVE", OcppVersion.V201) as station:
        await boot(station)
        await station.call("StatusNotification", {"timestamp": stamp(), "evseId": 1,
                                                  "connectorId": 1, "connectorStatus": "Occupied"})
        listed = (await api.get("/api/stations")).json()
        live = next(s for s in listed if s["id"] == "CS-LIVE")
        assert live["connected"] is True and live["online"] is True
        assert live["connectors"][0]["status"] == "Occupied"
    detail = (await api.get("/api/stations/CS-LIVE")).json()
    assert detail["connected"] is False


async def test_api_needs_a_token_and_the_right_role(csms: RunningCsms) -> None:
    async with httpx.AsyncClient(base_url=csms.api_url) as anonymous:
        assert (await anonymous.get("/api/stations")).status_code == 401
    from csms.domain.api_tokens import ApiRole

    reader = await csms.core.api_tokens.create("viewer", ApiRole.READ_ONLY)
    async with httpx.AsyncClient(base_url=csms.api_url,
                                 headers={"Authorization": f"Bearer {reader}"}) as client:
        assert (await client.get("/api/stations")).status_code == 200
        forbidden = await client.post("/api/stations/X/ocpp/Reset", json={"type": "Immediate"})
        assert forbidden.status_code == 403
