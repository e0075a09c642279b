"""B03 (TC_B_30_CS): a 2.0.1 station whose BootNotification the CSMS answered Rejected answers
the CSMS's requests with CALLERROR SecurityError until a BootNotification is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargeloop.ocppj import OcppError, OcppVersion
from simulator.station import StationSpec
from tests.simulator.station_support import world


async def test_a_rejected_station_answers_security_error(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        station = w.station(StationSpec("CS201-REJECTED", OcppVersion.V201,
                                        start_jitter_s=0.0))
        station._registration = "Rejected"
        assert station._not_accepted()
        with pytest.raises(OcppError) as raised:
            next(station._dispatch("GetBaseReport", {"requestId": 1,
                                                     "reportBase": "FullInventory"}))
        assert raised.value.kind.value == "SecurityError"
        station._registration = "Pending"  # B02 lets the CSMS configure a pending station
        assert not station._not_accepted()
        station._registration, station._booted = "Accepted", True
        assert not station._not_accepted()
