"""2.0.1 NotifyEvent and CustomerInformation / NotifyCustomerInformation over real websockets
(TC_N_27..32, TC_N_49/50), and the station events API."""

from __future__ import annotations

from typing import Any

import httpx

from chargeloop.ocppj import OcppVersion
from csms.events import Event
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp

V16, V201 = OcppVersion.V16, OcppVersion.V201


def capture(csms: RunningCsms, kind: str) -> list[Event]:
    seen: list[Event] = []
    csms.core.events.listen(lambda event: seen.append(event) if event.kind == kind else None)
    return seen


def event_data(event_id: int, timestamp: str, **extra: Any) -> dict[str, Any]:
    return {"eventId": event_id, "timestamp": timestamp, "trigger": "Alerting",
            "actualValue": "true", "eventNotificationType": "HardWiredMonitor",
            "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "Problem"}, **extra}


async def test_notify_event_items_are_stored_once_and_published(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    published = capture(csms, "station.notify_event")
    earlier, later = stamp(-30), stamp(-10)
    message = {"generatedAt": stamp(), "seqNo": 0, "tbc": True, "eventData": [
        event_data(11, earlier, techCode="E42", techInfo="lock motor stalled",
                   transactionId="TX-9"),
        event_data(12, later, trigger="Delta", actualValue="Faulted",
                   component={"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                   variable={"name": "AvailabilityState"},
                   eventNotificationType="PreconfiguredMonitor", variableMonitoringId=3)]}
    async with connected_station(csms, "CS-NE", V201) as station:
        await boot(station)
        assert await station.call("NotifyEvent", message) == {}
        assert await station.call("NotifyEvent", message) == {}  # retried: nothing new
        await station.call("NotifyEvent", {"generatedAt": stamp(), "seqNo": 1, "eventData": [
            event_data(13, stamp(), actualValue="false", cleared=True)]})
    assert [e.data["event_id"] for e in published] == [11, 12, 13]
    first = published[0].data
    assert first["station_id"] == "CS-NE" and first["trigger"] == "Alerting"
    assert first["component"] == {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    assert first["variable"] == {"name": "Problem"} and first["actual_value"] == "true"
    assert first["tech_code"] == "E42" and first["tech_info"] == "lock motor stalled"
    assert first["cleared"] is False and first["severity"] is None
    assert first["event_notification_type"] == "HardWiredMonitor"
    assert first["evse_id"] == 1 and first["transaction_id"] == "TX-9"
    assert published[1].data["variable_monitoring_id"] == 3
    assert published[2].data["cleared"] is True
    stored = (await api.get("/api/stations/CS-NE/events", params={"kind": "NotifyEvent"})
              ).json()
    assert stored["total"] == 3
    assert [i["payload"]["eventId"] for i in stored["items"]] == [13, 12, 11]  # newest first
    assert stored["items"][2]["payload"]["techCode"] == "E42"
    assert stored["items"][2]["summary"] == "Connector@1.1 Problem = true"
    window = (await api.get("/api/stations/CS-NE/events", params={
        "kind": "NotifyEvent", "from": earlier, "to": later})).json()
    assert [i["payload"]["eventId"] for i in window["items"]] == [11]


async def test_customer_information_parts_assembled_in_order(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    """TC_N_27_CSMS (report + data, in parts), TC_N_32_CSMS (clear, no report)."""
    sent: list[dict[str, Any]] = []

    async def customer_information(payload: dict[str, Any]) -> dict[str, Any]:
        sent.append(payload)
        return {"status": "Accepted"}

    published = capture(csms, "station.customer_information")
    async with connected_station(csms, "CS-CI", V201, routes={
            "CustomerInformation": customer_information}) as station:
        await boot(station)
        answer = await api.post("/api/stations/CS-CI/customer-information", json={
            "id_token": {"id_token": "RFID-1", "type": "ISO14443"}})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        request_id = result["request_id"]
        assert result["action"] == "CustomerInformation" and result["status"] == "Accepted"
        assert sent[0] == {"requestId": request_id, "report": True, "clear": False,
                           "idToken": {"idToken": "RFID-1", "type": "ISO14443"}}
        part = {"generatedAt": stamp(), "requestId": request_id}
        # The last part first: not complete until part 0 is in too.
        await station.call("NotifyCustomerInformation",
                           {**part, "seqNo": 1, "tbc": False, "data": "; sessions: 3"})
        pending = (await api.get(f"/api/stations/CS-CI/customer-information/{request_id}")
                   ).json()
        assert pending["complete"] is False
        await station.call("NotifyCustomerInformation",
                           {**part, "seqNo": 0, "tbc": True, "data": "token RFID-1"})
        await station.call("NotifyCustomerInformation",  # retried
                           {**part, "seqNo": 0, "tbc": True, "data": "token RFID-1"})
        cleared = (await api.post("/api/stations/CS-CI/customer-information", json={
            "customer_identifier": "customer-7", "report": False, "clear": True})).json()
        assert sent[1]["customerIdentifier"] == "customer-7" and sent[1]["clear"] is True
    view = (await api.get(f"/api/stations/CS-CI/customer-information/{request_id}")).json()
    assert view["complete"] is True and view["data"] == "token RFID-1; sessions: 3"
    assert [p["seq_no"] for p in view["parts"]] == [0, 1]
    assert view["response_status"] == "Accepted" and view["actor"] == "admin"
    assert [(e.data["seq_no"], e.data["complete"]) for e in published] == [(1, False),
                                                                           (0, True)]
    no_report = (await api.get(
        f"/api/stations/CS-CI/customer-information/{cleared['request_id']}")).json()
    assert no_report["complete"] is True and no_report["data"] is None


async def test_customer_information_validation(csms: RunningCsms,
                                               api: httpx.AsyncClient) -> None:
    """TC_N_29_CSMS-like refusals: one customer identification, 2.0.1 only."""
    async with connected_station(csms, "CS-CI16", V16) as station:
        await boot(station)
        two = await api.post("/api/stations/CS-CI16/customer-information", json={
            "id_token": {"id_token": "A"}, "customer_identifier": "B"})
        assert two.status_code == 422 and "exactly one of" in two.text
        nothing = await api.post("/api/stations/CS-CI16/customer-information", json={
            "customer_identifier": "B", "report": False, "clear": False})
        assert nothing.status_code == 422
        v16 = await api.post("/api/stations/CS-CI16/customer-information",
                             json={"customer_identifier": "B"})
        assert v16.status_code == 422 and "OCPP 2.0.1" in v16.text
