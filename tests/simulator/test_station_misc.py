"""The simulated 2.0.1 station's fixes for the conformance cases of the misc area: customer
information (N09, N10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.station import StationSpec
from tests.simulator.station_support import world

TOKEN = {"idToken": "CUSTOMER-1", "type": "ISO14443"}


def _status(result: Any) -> str:
    answer = result[0] if isinstance(result, tuple) else result
    return str(answer["status"])


async def test_customer_information_names_a_customer_or_is_invalid(tmp_path: Path) -> None:
    """TC_N_29: a request without idToken, customerCertificate or customerIdentifier is
    Invalid; one naming a customer is Accepted."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-N29", OcppVersion.V201))
        handle = station.proto.handle
        assert _status(handle("CustomerInformation", {
            "requestId": 1, "report": True, "clear": False})) == "Invalid"
        assert _status(handle("CustomerInformation", {
            "requestId": 2, "report": True, "clear": False, "idToken": TOKEN})) == "Accepted"
        assert _status(handle("CustomerInformation", {
            "requestId": 3, "report": True, "clear": True,
            "customerIdentifier": "C-1"})) == "Accepted"


async def test_the_customer_report_tells_what_the_station_holds(tmp_path: Path) -> None:
    """TC_N_27 / N_28: the report names the local list entry of a known idToken, and says
    there is nothing for an unknown one."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-N27", OcppVersion.V201))
        proto: Any = station.proto
        assert "no stored data" in proto._customer_data({"idToken": TOKEN})
        answer = proto.handle("SendLocalList", {
            "versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
                {"idToken": TOKEN, "idTokenInfo": {"status": "Accepted"}}]})
        assert answer["status"] == "Accepted"
        assert "local list entry Accepted" in proto._customer_data({"idToken": TOKEN})


async def test_send_during_idle_holds_clock_aligned_values_while_a_transaction_runs(
        tmp_path: Path) -> None:
    """TC_J_06: with AlignedDataCtrlr.SendDuringIdle true no clock-aligned value goes out
    while a transaction runs; false (the default) they go out during transactions too."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-J06", OcppVersion.V201))
        proto: Any = station.proto
        sent: list[str] = []
        proto.tx_sample = lambda evse, tx, context: sent.append("TransactionEvent")
        proto.meter_values = lambda evse, context: sent.append("MeterValues")
        station.evses[0].tx = object()  # type: ignore[assignment]
        station._aligned_sample()
        assert sent == ["TransactionEvent"]
        answer = proto.handle("SetVariables", {"setVariableData": [{
            "component": {"name": "AlignedDataCtrlr"}, "variable": {"name": "SendDuringIdle"},
            "attributeValue": "true"}]})
        assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
        station._aligned_sample()
        assert sent == ["TransactionEvent"]
        station.evses[0].tx = None
        station._aligned_sample()
        assert sent == ["TransactionEvent", "MeterValues"]


async def test_a_failed_connector_lock_is_reported_as_a_problem(tmp_path: Path) -> None:
    """TC_G_20 (G05.FR.02): a connector Faulted by a lock failure comes with NotifyEvent
    ConnectorPlugRetentionLock Problem true; another fault does not."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-G20", OcppVersion.V201))
        evse = station.evses[0]

        def problems() -> list[dict[str, Any]]:
            return [e for m in station.proto.status_messages(evse, "Faulted")
                    if m.action == "NotifyEvent" for e in m.payload["eventData"]
                    if e["component"]["name"] == "ConnectorPlugRetentionLock"]

        evse.fault = "GroundFailure"
        assert problems() == []
        evse.fault = "ConnectorLockFailure"
        [problem] = problems()
        assert problem["variable"] == {"name": "Problem"}
        assert problem["actualValue"] == "true" and problem["trigger"] == "Delta"


async def test_a_group_stop_names_the_token_that_ended_the_authorization(
        tmp_path: Path) -> None:
    """TC_E_45: the TransactionEvent with triggerReason StopAuthorized carries the idToken
    of the group member that stopped the transaction (TransactionEventRequest.idToken is
    required when the driver ends the authorization)."""
    from simulator.drivers import IdToken
    from simulator.vehicles import VEHICLE_CATALOG, Vehicle

    async with world(tmp_path) as w:
        for token in ("GRP-A", "GRP-B"):
            await w.core.auth.upsert(token, status="Accepted", group_id="GROUP-1")
        station = w.station(StationSpec("CS-E45", OcppVersion.V201, start_jitter_s=0.0,
                                        retry_backoff_min_s=1, retry_backoff_random_s=1))
        events: list[dict[str, Any]] = []
        enqueue = station.enqueue

        def keep(message: Any) -> None:
            if message.action == "TransactionEvent":
                events.append(message.payload)
            enqueue(message)

        station.enqueue = keep  # type: ignore[method-assign]
        station.start()
        await w.run(10)
        car = Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.3)

        def driver() -> Any:
            yield from station.plug_in(1, car)
            yield from station.present_token(1, IdToken("GRP-A"))
            yield w.clock.env.timeout(60)
            yield from station.present_token(1, IdToken("GRP-B"))

        w.drive(driver())
        await w.run(120)
        [stop] = [e for e in events if e["triggerReason"] == "StopAuthorized"]
        assert stop["idToken"]["idToken"] == "GRP-B"


async def test_sign_readings_signs_the_values_it_names(tmp_path: Path) -> None:
    """TC_J_04 / J_11: without a signing meter, SampledDataCtrlr.SignReadings signs the
    sampled values and AlignedDataCtrlr.SignReadings the clock-aligned ones (OCMF, with the
    public key); both false (the default): unsigned."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-J11", OcppVersion.V201))
        evse = station.evses[0]
        energy = ("Energy.Active.Import.Register",)

        def signed(context: str) -> bool:
            [value] = station.sample(evse, context, energy, None)
            return "signedMeterValue" in value

        assert not signed("Sample.Periodic") and not signed("Sample.Clock")
        answer = station.proto.handle("SetVariables", {"setVariableData": [{
            "component": {"name": "SampledDataCtrlr"}, "variable": {"name": "SignReadings"},
            "attributeValue": "true"}]})
        assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
        assert signed("Sample.Periodic") and not signed("Sample.Clock")
        [value] = station.sample(evse, "Transaction.End", energy, None)
        assert value["signedMeterValue"]["publicKey"]
        station.proto.handle("SetVariables", {"setVariableData": [{
            "component": {"name": "AlignedDataCtrlr"}, "variable": {"name": "SignReadings"},
            "attributeValue": "true"}]})
        assert signed("Sample.Clock")


async def test_a_station_that_cannot_cancel_refuses_a_second_update(tmp_path: Path) -> None:
    """TC_L_10 / L_11: while an update is pending a newer UpdateFirmware is AcceptedCanceled,
    or Rejected by a station that cannot cancel (``firmware_cancel`` off)."""
    from types import SimpleNamespace

    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-L11", OcppVersion.V201))
        station.firmware_process = SimpleNamespace(is_alive=True)  # type: ignore[assignment]
        request = {"requestId": 2, "firmware": {"location": "http://x.example.com/f.bin",
                                                "retrieveDateTime": "2026-01-05T08:00:00Z"}}
        assert _status(station.proto.handle("UpdateFirmware", request)) == "AcceptedCanceled"
        station.firmware_cancel = False
        assert _status(station.proto.handle("UpdateFirmware", request)) == "Rejected"


async def test_a_station_without_log_information_rejects_get_log(tmp_path: Path) -> None:
    """TC_N_34: GetLog is Rejected by a station without log information (``logs_available``
    off), and starts nothing."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-N34", OcppVersion.V201))
        station.logs_available = False
        request = {"logType": "DiagnosticsLog", "requestId": 7,
                   "log": {"remoteLocation": "https://x.example.com/upload/"}}
        assert station.proto.handle("GetLog", request) == {"status": "Rejected"}
        assert station.log_process is None


async def test_sessions_held_while_an_update_waits_for_transactions(tmp_path: Path) -> None:
    """TC_L_15 (L01.FR.07): while a firmware update waits for the transactions to end with
    AllowNewSessionsPendingFirmwareUpdate false (the 2.0.1 default), a free EVSE is
    Unavailable and starts nothing; released, it is Available again. 1.6 has no such rule."""
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS-L15", OcppVersion.V201))
        evse = station.evses[0]
        assert station.settings.allow_new_sessions_pending_firmware is False
        assert station.proto.connector_status(evse) == "Available"
        station.hold_sessions_for_firmware(True)
        assert station.proto.connector_status(evse) == "Unavailable"
        assert not station._start_due(evse)
        station.hold_sessions_for_firmware(False)
        assert station.proto.connector_status(evse) == "Available"
        v16 = w.station(StationSpec("CS-L15-16", OcppVersion.V16))
        assert v16.settings.allow_new_sessions_pending_firmware is True


def test_a_download_can_wait_for_the_transactions_to_end() -> None:
    """TC_L_12 / L_13: ``before_download`` holds the download until its event fires (the
    last transaction ending), as ``before_install`` holds the installation."""
    import simpy

    from simulator.station.maintenance import FirmwareTimings, firmware_update

    env = simpy.Environment()
    said: list[tuple[float, str]] = []
    idle = env.event()

    def notify(status: str) -> None:
        said.append((env.now, status))

    def end_transaction() -> Any:
        yield env.timeout(5)
        idle.succeed()

    env.process(end_transaction())
    env.process(firmware_update(
        env, {"requestId": 1, "firmware": {"location": "http://x.example.com/f.bin",
                                           "retrieveDateTime": "2020-01-01T00:00:00Z"}},
        version="2.0.1", notify=notify, before_download=lambda: idle,
        timings=FirmwareTimings(download_s=1, install_s=1, jitter=0.0)))
    env.run(until=20)
    assert said[0] == (5, "Downloading")
    assert [s for _, s in said][-1] == "Installed"
