"""Reconnecting with no back-off at all (RetryBackOffWaitMinimum and RetryBackOffRandomRange
0): the station's connection attempts still take simulated time, so a network that is down
for a while does not stop the simulation at one instant (found by TC_E_40_CS, whose set-up
makes RetryBackOffRandomRange 0 on a station whose minimum is 0); and which statuses it
reports when it is back, by OCPPCommCtrlr.OfflineThreshold (TC_B_51_CS / TC_B_52_CS)."""

from __future__ import annotations

from pathlib import Path

from chargeloop.ocppj import OcppVersion
from simulator.station import EvseSpec, StationSpec
from simulator.station.connection import MIN_RECONNECT_WAIT_S
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import sent, world


async def test_zero_back_off_reconnects_after_the_network_is_back(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS201-NOBACKOFF", OcppVersion.V201, start_jitter_s=0.0,
                                        retry_backoff_min_s=0, retry_backoff_random_s=0))
        station.start()
        await w.run(5)
        assert station.online
        assert station._backoff_s(0) == MIN_RECONNECT_WAIT_S
        station.go_offline(3.0)
        await w.run(1)
        assert not station.online
        await w.run(5)  # returns: simulated time went on while the network was down
        assert station.online


async def _statuses_after_offline(tmp_path: Path, offline_threshold_s: int) -> int:
    """A 2-EVSE station loses its connection for 3 s, EVSE 1 is plugged in meanwhile: how
    many StatusNotifications it sends once it is back."""
    async with world(tmp_path) as w:
        spec = StationSpec("CS201-THRESHOLD", OcppVersion.V201, start_jitter_s=0.0,
                           retry_backoff_min_s=1, retry_backoff_random_s=0,
                           evses=(EvseSpec(1), EvseSpec(2)),
                           settings={"offline_threshold_s": offline_threshold_s})
        station = w.station(spec)
        station.start()
        await w.run(5)
        station.go_offline(3.0)
        car = Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.5)
        w.drive(station.plug_in(1, car))
        await w.run(1)
        back_from = w.clock.now
        await w.run(10)
        assert station.online
        return len([m for m in sent(w.recorder, "CS201-THRESHOLD", "StatusNotification")
                    if m["t_s"] >= back_from and m["outcome"] == "ok"])


async def test_offline_longer_than_offline_threshold_reports_every_connector(
        tmp_path: Path) -> None:
    """B04.FR.01 (TC_B_51): every connector's status, changed or not."""
    assert await _statuses_after_offline(tmp_path, offline_threshold_s=1) == 2


async def test_offline_shorter_than_offline_threshold_reports_the_changed_ones(
        tmp_path: Path) -> None:
    """B04.FR.02 (TC_B_52): only the connector whose status changed."""
    assert await _statuses_after_offline(tmp_path, offline_threshold_s=60) == 1
