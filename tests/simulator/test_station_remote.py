"""The simulated 2.0.1 station's fixes for the conformance cases of the remote area: remote start
(F02.FR.01), Reset of a single EVSE (B11 / B12) and trigger message (F06)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.station import SimStation, StationSpec
from simulator.station.outbox import OutMessage
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import world

TOKEN = {"idToken": "REMOTE-1", "type": "ISO14443"}


def _station(w: Any, name: str, **spec: Any) -> tuple[SimStation, list[OutMessage]]:
    """A 2.0.1 station (not connected) and the messages it sends from now on."""
    station = w.station(StationSpec(name, OcppVersion.V201, start_jitter_s=0.0, **spec))
    outgoing: list[OutMessage] = []
    original = station.enqueue

    def enqueue(message: OutMessage) -> None:
        outgoing.append(message)
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]
    return station, outgoing


async def _answer(w: Any, result: Any) -> dict[str, Any]:
    """A handler's answer; its follow-up (if any) run."""
    if isinstance(result, tuple):
        result, follow = result
        w.drive(follow)
        await w.run(1)
    return dict(result)


def _payloads(outgoing: list[OutMessage], action: str) -> list[dict[str, Any]]:
    return [m.payload for m in outgoing if m.action == action]


async def _remote_start(w: Any, station: SimStation, remote_start_id: int) -> None:
    answer = await _answer(w, station.proto.handle("RequestStartTransaction", {
        "evseId": 1, "remoteStartId": remote_start_id, "idToken": TOKEN}))
    assert answer["status"] == "Accepted"


async def _plug_in(w: Any, station: SimStation) -> None:
    w.drive(station.plug_in(1, Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.3)))
    await w.run(1)


async def test_remote_start_first_gives_its_id_to_the_event_that_starts_the_transaction(
        tmp_path: Path) -> None:
    """TC_F_02 / F_03 (F02.FR.01): a remote start before the cable (TxStartPoint
    PowerPathClosed: the cable starts the transaction): the Started event carries the
    remote start's idToken and remoteStartId."""
    async with world(tmp_path) as w:
        station, outgoing = _station(w, "CS-F02")
        await _remote_start(w, station, 41)
        assert not _payloads(outgoing, "TransactionEvent")
        await _plug_in(w, station)
        started = _payloads(outgoing, "TransactionEvent")[0]
        assert started["eventType"] == "Started"
        assert started["triggerReason"] == "CablePluggedIn"
        assert started["idToken"] == TOKEN
        assert started["transactionInfo"]["remoteStartId"] == 41
        later = _payloads(outgoing, "TransactionEvent")[1:]
        assert later and all("remoteStartId" not in p["transactionInfo"] for p in later)


async def test_a_single_evse_reset_is_rejected_by_a_station_that_cannot(
        tmp_path: Path) -> None:
    """TC_B_28 / B_29 (B11.FR.09, B12.FR.09): without Reset per EVSE a Reset with evseId is
    Rejected, a Reset of the station still Accepted; with it the EVSE reset is Accepted."""
    async with world(tmp_path) as w:
        plain, _ = _station(w, "CS-B28", evse_reset=False)
        refused = await _answer(w, plain.proto.handle("Reset", {"type": "OnIdle",
                                                               "evseId": 1}))
        assert refused["status"] == "Rejected"
        assert refused["statusInfo"]["reasonCode"] == "NotSupported"
        able, _ = _station(w, "CS-B25")
        answer = able.proto.handle("Reset", {"type": "OnIdle", "evseId": 1})
        assert answer[0]["status"] == "Accepted"
        answer = plain.proto.handle("Reset", {"type": "OnIdle"})
        assert answer[0]["status"] == "Accepted"


async def test_a_triggered_firmware_status_is_idle_once_an_update_has_ended(
        tmp_path: Path) -> None:
    """TC_F_18 (F06.FR.16): a FirmwareStatusNotification triggered after an update ended
    (DownloadFailed) says Idle; during an update, its status."""
    async with world(tmp_path) as w:
        station, outgoing = _station(w, "CS-F18")
        trigger = {"requestedMessage": "FirmwareStatusNotification"}
        station.firmware_status = "DownloadFailed"
        assert (await _answer(w, station.proto.handle("TriggerMessage", trigger)))[
            "status"] == "Accepted"
        station.firmware_status, station.firmware_request_id = "Downloading", 7
        await _answer(w, station.proto.handle("TriggerMessage", trigger))
        assert _payloads(outgoing, "FirmwareStatusNotification") == [
            {"status": "Idle"}, {"status": "Downloading", "requestId": 7}]


async def test_a_triggered_transaction_event_reports_the_charging_state(
        tmp_path: Path) -> None:
    """TC_F_13 / F_14 (F06): the TransactionEvent a trigger asks for has triggerReason
    Trigger and the charging state, though it did not change."""
    async with world(tmp_path) as w:
        station, outgoing = _station(w, "CS-F13")
        await _plug_in(w, station)
        await _remote_start(w, station, 42)
        state = station.evses[0].charging_state
        before = len(_payloads(outgoing, "TransactionEvent"))
        assert (await _answer(w, station.proto.handle("TriggerMessage", {
            "requestedMessage": "TransactionEvent"})))["status"] == "Accepted"
        [triggered] = _payloads(outgoing, "TransactionEvent")[before:]
        assert triggered["triggerReason"] == "Trigger"
        assert triggered["transactionInfo"]["chargingState"] == state


def test_the_suite_builds_a_station_without_evse_reset_where_it_is_not_claimed() -> None:
    """The ``2.0.1-plain`` variant run (TC_B_28, B_29): ``--no-evse-reset`` builds the
    simulated station without Reset per EVSE; by default it has it."""
    from conformance.station.simulated import SimulatedOptions, station_spec

    options = SimulatedOptions(url="ws://127.0.0.1:1/ocpp", identity="CS-1",
                               version=OcppVersion.V201)
    assert station_spec(options).evse_reset
    assert not station_spec(replace(options, evse_reset=False)).evse_reset
