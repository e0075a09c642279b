"""The simulated 1.6 station's behaviour that the station-under-test conformance cases found
wanting: the connector status when the EV side is disconnected but the transaction goes on
(TC_005_3), a stuck lock answering UnlockConnector UnlockFailed (TC_030), and a transaction
ended by another tag of the same group (TC_069). Against the real reference CSMS, on simulated
time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.station import ConnectorSpec, EvseSpec, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import sent, statuses, world

V16 = OcppVersion.V16


def spec16(station_id: str, **overrides: Any) -> StationSpec:
    options: dict[str, Any] = {"start_jitter_s": 0.0, "heartbeat_interval_s": 300,
                               "retry_backoff_min_s": 1, "retry_backoff_random_s": 1}
    options.update(overrides)
    return StationSpec(station_id, V16, **options)


def car() -> Vehicle:
    return Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.3, target_soc=0.9)


async def test_ev_side_disconnect_without_stop_is_suspended_ev_not_preparing(
        tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-EV")
        station = w.station(spec16("CS16-EVSIDE", stop_tx_on_ev_side_disconnect=False))
        station.start()
        await w.run(30)

        def driver() -> Any:
            yield from station.plug_in(1, car())
            assert (yield from station.present_token(1, "TAG-EV"))
            yield w.clock.env.timeout(600)
            yield from station.unplug(1)
            yield w.clock.env.timeout(60)
            yield from station.plug_in(1, car())

        w.drive(driver())
        await w.run(900)
        assert station.transaction(1) is not None
        assert statuses(w.recorder, "CS16-EVSIDE", 1)[-3:] == [
            "Charging", "SuspendedEV", "Charging"]
        assert not sent(w.recorder, "CS16-EVSIDE", "StopTransaction")


async def test_a_stuck_lock_answers_unlock_failed(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        socket = EvseSpec(1, 11_000, connectors=(ConnectorSpec(1, "sType2", fixed_cable=False),))
        station = w.station(spec16("CS16-LOCK", evses=(socket,)))
        station.start()
        await w.run(30)
        w.drive(station.plug_in(1, car()))
        w.drive(station.fault(1, "ConnectorLockFailure", 600))
        await w.run(10)
        assert (await w.command("CS16-LOCK", "UnlockConnector", {"connectorId": 1})) == {
            "status": "UnlockFailed"}
        await w.run(1200)  # the lock works again
        assert (await w.command("CS16-LOCK", "UnlockConnector", {"connectorId": 1})) == {
            "status": "Unlocked"}


async def test_another_tag_of_the_group_stops_the_transaction(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-A", group_id="FLEET-1")
        await w.core.auth.upsert("TAG-B", group_id="FLEET-1")
        await w.core.auth.upsert("TAG-C", group_id="FLEET-2")
        station = w.station(spec16("CS16-GROUP"))
        station.start()
        await w.run(30)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            yield from station.plug_in(1, car())
            assert (yield from station.present_token(1, "TAG-A"))
            yield w.clock.env.timeout(600)
            outcome["other group"] = yield from station.present_token(1, "TAG-C")
            outcome["same group"] = yield from station.present_token(1, "TAG-B")

        w.drive(driver())
        await w.run(900)
        assert outcome == {"other group": False, "same group": True}
        assert station.transaction(1) is None
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "Local" and session["id_token"] == "TAG-A"
        tx = await w.core.transactions.get("CS16-GROUP", session["transaction_id"])
        assert tx["state"] == "Completed" and tx["stop_id_token"] == "TAG-B"


async def test_a_socket_keeps_the_cable_locked_until_the_tag_comes_back(tmp_path: Path) -> None:
    """UnlockConnectorOnEVSideDisconnect false (TC_005_2): the transaction ends when the EV
    side is unplugged, the connector stays Finishing (cable locked) until the tag that
    started it is presented; another tag does not unlock it."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-LOCK")
        socket = EvseSpec(1, 11_000, connectors=(ConnectorSpec(1, "sType2", fixed_cable=False),))
        station = w.station(spec16("CS16-KEEP", evses=(socket,),
                                   settings={"unlock_on_ev_side_disconnect": False}))
        station.start()
        await w.run(30)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            yield from station.plug_in(1, car())
            assert (yield from station.present_token(1, "TAG-LOCK"))
            yield w.clock.env.timeout(600)
            yield from station.unplug(1)
            yield w.clock.env.timeout(60)
            outcome["stranger"] = yield from station.present_token(1, "TAG-OTHER")
            outcome["status while locked"] = station.status(1)
            outcome["owner"] = yield from station.present_token(1, "TAG-LOCK")

        w.drive(driver())
        await w.run(900)
        assert outcome == {"stranger": False, "status while locked": "Finishing", "owner": True}
        assert station.status(1) == "Available"
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "EVDisconnected"


async def test_an_invalid_start_without_stop_on_invalid_id_suspends_the_energy(
        tmp_path: Path) -> None:
    """StopTransactionOnInvalidId false, MaxEnergyOnInvalidId unset (TC_037_2): a transaction
    started offline for a tag the CSMS then calls Invalid goes on without energy
    (SuspendedEVSE), and is not stopped."""
    async with world(tmp_path) as w:
        station = w.station(spec16("CS16-INVALID", settings={
            "stop_tx_on_invalid_id": False, "allow_offline_tx_for_unknown_id": True}))
        station.start()
        await w.run(30)

        def driver() -> Any:
            station.go_offline(120)
            yield w.clock.env.timeout(10)
            yield from station.plug_in(1, car())
            assert (yield from station.present_token(1, "TAG-UNKNOWN"))

        w.drive(driver())
        await w.run(600)
        assert station.online and station.transaction(1) is not None
        assert station.status(1) == "SuspendedEVSE" and station.power_w(1) == 0.0
        assert not sent(w.recorder, "CS16-INVALID", "StopTransaction")
