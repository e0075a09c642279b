"""Reconnecting after a lost connection (OCPP-J Part 4, TC_B_57_CS): the first attempt comes
after RetryBackOffWaitMinimum, and after each failed attempt the back-off doubles; it does not
wait the minimum a second time."""

from __future__ import annotations

from pathlib import Path

from chargeloop.ocppj import OcppVersion
from simulator.station import StationSpec
from tests.simulator.station_support import world


async def test_a_failed_reconnection_attempt_doubles_the_back_off(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS201-BACKOFF", OcppVersion.V201, start_jitter_s=0.0,
                                        retry_backoff_min_s=1, retry_backoff_random_s=0,
                                        retry_backoff_repeat=3))
        station.start()
        await w.run(5)
        assert station.online
        # lost at t; the attempt at t+1 fails (network still down); the next comes at t+3
        station.go_offline(1.5)
        await w.run(2.5)
        assert not station.online
        await w.run(1.5)
        assert station.online
