"""The simulated OCPP 2.0.1 station's transaction start and stop options and the cable
disconnected at the EV side (E01, E06, E09, E10), against the reference CSMS on simulated time:
TxStartPoint EnergyTransfer starts the transaction as energy flows, TxStopPoint EnergyTransfer
ends it when the EV suspends, and an EV-side disconnect ends, deauthorizes or suspends the
transaction as StopTxOnEVSideDisconnect says, keeping a detachable cable locked unless
UnlockOnEVSideDisconnect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.drivers import IdToken
from simulator.station import ConnectorSpec, EvseSpec, SimStation, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import statuses, world

TOKEN = "TOKEN-TXO"


def _spec(station_id: str, *, fixed_cable: bool = False, **overrides: Any) -> StationSpec:
    evses = (EvseSpec(1, 22_000, connectors=(ConnectorSpec(1, "cType2",
                                                           fixed_cable=fixed_cable),)),)
    return StationSpec(station_id, OcppVersion.V201, evses=evses, start_jitter_s=0.0,
                       retry_backoff_min_s=1, retry_backoff_random_s=1, **overrides)


def _events(station: SimStation) -> list[dict[str, Any]]:
    """What the station puts in its TransactionEvents, as it sends them (but the periodic
    meter values)."""
    seen: list[dict[str, Any]] = []
    original = station.enqueue

    def enqueue(message: Any) -> None:
        if message.action == "TransactionEvent" and \
                not message.payload["triggerReason"].startswith("MeterValue"):
            seen.append(message.payload)
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]
    return seen


def _shape(event: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    info = event["transactionInfo"]
    return (event["eventType"], event["triggerReason"], info.get("chargingState"),
            info.get("stoppedReason"))


async def _session(tmp_path: Path, spec: StationSpec, after_charging: Any,
                   *, setup: Any = None, run_s: float = 300) -> tuple[Any, list[Any]]:
    """Plug in, present the token, let it charge 30 s, then ``after_charging(station, env)``
    (a generator). The world (for statuses) and the TransactionEvents."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert(TOKEN)
        station = w.station(spec)
        if setup is not None:
            setup(station)
        seen = _events(station)
        station.start()
        await w.run(10)

        def driver() -> Any:
            yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.3))
            assert (yield from station.present_token(1, IdToken(TOKEN)))
            yield w.clock.env.timeout(30)
            yield from after_charging(station, w.clock.env)

        w.drive(driver())
        await w.run(run_s)
        return statuses(w.recorder, spec.id, 1), seen


async def test_tx_start_point_energy_transfer_starts_as_energy_flows(tmp_path: Path) -> None:
    def nothing(station: SimStation, env: Any) -> Any:
        yield env.timeout(0)

    _, seen = await _session(tmp_path, _spec("CS-TXO-1", tx_start_points=("EnergyTransfer",)),
                             nothing)
    assert _shape(seen[0]) == ("Started", "ChargingStateChanged", "Charging", None)
    assert seen[0]["idToken"]["idToken"] == TOKEN


async def test_tx_stop_point_energy_transfer_ends_when_the_ev_suspends(tmp_path: Path) -> None:
    def suspend(station: SimStation, env: Any) -> Any:
        yield from station.ev_suspends(1)

    _, seen = await _session(tmp_path, _spec("CS-TXO-2", tx_stop_points=("EnergyTransfer",)),
                             suspend)
    assert _shape(seen[-1]) == ("Ended", "ChargingStateChanged", "EVConnected", "StoppedByEV")


async def test_a_suspending_ev_without_that_stop_point_only_changes_the_state(
        tmp_path: Path) -> None:
    def suspend(station: SimStation, env: Any) -> Any:
        yield from station.ev_suspends(1)

    _, seen = await _session(tmp_path, _spec("CS-TXO-3", tx_stop_points=("Authorized",)),
                             suspend)
    assert _shape(seen[-1]) == ("Updated", "ChargingStateChanged", "SuspendedEV", None)


def _unlocking(station: SimStation) -> None:
    station.settings.unlock_on_ev_side_disconnect = False


async def test_ev_side_disconnect_deauthorizes_and_keeps_the_cable_locked(
        tmp_path: Path) -> None:
    """StopTxOnEVSideDisconnect true, UnlockOnEVSideDisconnect false: the transaction ends;
    the cable stays in the socket (Occupied) until the token unlocks it."""
    def disconnect(station: SimStation, env: Any) -> Any:
        yield from station.unplug_ev_side(1)
        yield env.timeout(5)
        yield from station.unplug(1)  # locked: it does not come out
        yield env.timeout(5)
        assert (yield from station.present_token(1, IdToken(TOKEN)))
        yield from station.unplug(1)

    got, seen = await _session(tmp_path, _spec("CS-TXO-4", tx_stop_points=("Authorized",)),
                               disconnect, setup=_unlocking)
    assert _shape(seen[-1]) == ("Ended", "EVCommunicationLost", "Idle", "EVDisconnected")
    assert got == ["Available", "Occupied", "Available"]


async def test_ev_side_disconnect_suspends_and_a_reconnect_resumes(tmp_path: Path) -> None:
    """StopTxOnEVSideDisconnect false, a detachable cable: suspended (Updated, Idle), the
    connector stays Occupied; connected again, the energy flows again."""
    def reconnect(station: SimStation, env: Any) -> Any:
        yield from station.unplug_ev_side(1)
        yield env.timeout(100)
        yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.5))

    got, seen = await _session(tmp_path, _spec("CS-TXO-5", tx_stop_points=("Authorized",),
                                               stop_tx_on_ev_side_disconnect=False),
                               reconnect, setup=_unlocking)
    shapes = [_shape(e) for e in seen]
    lost = shapes.index(("Updated", "EVCommunicationLost", "Idle", None))
    assert ("Updated", "CablePluggedIn", "Charging", None) in shapes[lost:]
    assert not any(s[0] == "Ended" for s in shapes)
    assert got == ["Available", "Occupied"]


async def test_a_fixed_cable_not_reconnected_in_time_ends_the_transaction(
        tmp_path: Path) -> None:
    """StopTxOnEVSideDisconnect false, a fixed cable: suspended, the connector Available; not
    connected again within EVConnectionTimeOut, the transaction ends (EVConnectTimeout)."""
    def leave(station: SimStation, env: Any) -> Any:
        yield from station.unplug_ev_side(1)

    got, seen = await _session(tmp_path, _spec("CS-TXO-6", fixed_cable=True,
                                               tx_stop_points=("Authorized",),
                                               stop_tx_on_ev_side_disconnect=False,
                                               connection_timeout_s=60),
                               leave, run_s=200)
    assert [_shape(e) for e in seen[-2:]] == [
        ("Updated", "EVCommunicationLost", "Idle", None),
        ("Ended", "EVConnectTimeout", "Idle", "Timeout")]
    assert got == ["Available", "Occupied", "Available"]


async def test_tx_start_point_data_signed_starts_on_a_signed_reading(tmp_path: Path) -> None:
    def nothing(station: SimStation, env: Any) -> Any:
        yield env.timeout(0)

    _, seen = await _session(tmp_path, _spec("CS-TXO-7", tx_start_points=("DataSigned",)),
                             nothing)
    assert _shape(seen[0])[:2] == ("Started", "SignedDataReceived")
    [register] = [v for m in seen[0]["meterValue"] for v in m["sampledValue"]
                  if v["measurand"] == "Energy.Active.Import.Register"]
    assert register["signedMeterValue"]["signedMeterData"]


async def test_the_parking_bay_detector_starts_and_ends_the_transaction(
        tmp_path: Path) -> None:
    """TxStartPoint and TxStopPoint ParkingBayOccupancy: the EV parking starts it
    (EVDetected), the cable does not end it, the EV leaving does (EVDeparted)."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert(TOKEN)
        station = w.station(_spec("CS-TXO-8", tx_start_points=("ParkingBayOccupancy",),
                                  tx_stop_points=("ParkingBayOccupancy",)))
        seen = _events(station)
        station.start()
        await w.run(10)

        def driver() -> Any:
            yield from station.parking_bay(1, True)
            yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.3))
            assert (yield from station.present_token(1, IdToken(TOKEN)))
            yield w.clock.env.timeout(30)
            yield from station.unplug(1)
            yield w.clock.env.timeout(30)
            yield from station.parking_bay(1, False)

        w.drive(driver())
        await w.run(200)
    assert [_shape(e)[:2] for e in seen] == [
        ("Started", "EVDetected"), ("Updated", "CablePluggedIn"), ("Updated", "Authorized"),
        ("Updated", "EVCommunicationLost"), ("Ended", "EVDeparted")]
