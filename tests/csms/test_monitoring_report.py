"""2.0.1 NotifyMonitoringReport (TC_N_01/02/03/47/60_CSMS): each part is answered, stored once
as a station event of kind MonitoringReport, and published."""

from __future__ import annotations

import httpx

from chargeloop.ocppj import OcppVersion
from csms.events import Event
from csms.server import RunningCsms
from tests.csms.support import boot, connected_station, stamp


async def test_monitoring_report_parts_are_answered_stored_once_and_published(
        csms: RunningCsms, api: httpx.AsyncClient) -> None:
    published: list[Event] = []
    csms.core.events.listen(
        lambda event: published.append(event) if event.kind == "station.monitoring_report"
        else None)
    monitor = {"component": {"name": "EVSE", "evse": {"id": 1}},
               "variable": {"name": "Power"},
               "variableMonitoring": [{"id": 4, "transaction": False, "value": 11000.0,
                                       "type": "UpperThreshold", "severity": 5}]}
    part = {"requestId": 7, "seqNo": 0, "generatedAt": stamp(), "tbc": True,
            "monitor": [monitor]}
    async with connected_station(csms, "CS-MR", OcppVersion.V201) as station:
        await boot(station)
        assert await station.call("NotifyMonitoringReport", part) == {}
        assert await station.call("NotifyMonitoringReport", part) == {}  # retried
        assert await station.call("NotifyMonitoringReport", {
            "requestId": 7, "seqNo": 1, "generatedAt": stamp(), "tbc": False}) == {}
    assert [(e.data["seq_no"], e.data["tbc"]) for e in published] == [(0, True), (1, False)]
    assert published[0].data["monitors"] == [monitor]
    stored = (await api.get("/api/stations/CS-MR/events",
                            params={"kind": "MonitoringReport"})).json()
    assert stored["total"] == 2
    first = stored["items"][1]
    assert first["payload"]["monitor"] == [monitor] and first["payload"]["requestId"] == 7
    assert first["summary"] == "EVSE@1 Power: 1 monitor(s)"
    assert stored["items"][0]["summary"] == "no monitors"
