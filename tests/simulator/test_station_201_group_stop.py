"""The simulated OCPP 2.0.1 station ends a transaction for another token of the group that
started it (C09, Authorization by GroupId), against the reference CSMS on simulated time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.drivers import IdToken
from simulator.station import StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import world


def _spec(station_id: str) -> StationSpec:
    return StationSpec(station_id, OcppVersion.V201, start_jitter_s=0.0,
                       retry_backoff_min_s=1, retry_backoff_random_s=1)


async def test_a_token_of_the_same_group_stops_the_transaction_others_do_not(
        tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for token, status in (("GRP-A", "Accepted"), ("GRP-B", "Accepted"),
                              ("GRP-BLOCKED", "Blocked")):
            await w.core.auth.upsert(token, status=status, group_id="GROUP-1")
        await w.core.auth.upsert("OTHER-GROUP", group_id="GROUP-2")
        station = w.station(_spec("CS201-GRP"))
        station.start()
        await w.run(10)
        car = Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.3)
        outcome: dict[str, Any] = {}

        def driver() -> Any:
            yield from station.plug_in(1, car)
            outcome["start"] = yield from station.present_token(1, IdToken("GRP-A"))
            yield w.clock.env.timeout(60)
            for token in ("OTHER-GROUP", "GRP-BLOCKED", "GRP-B"):
                outcome[token] = yield from station.present_token(1, IdToken(token))
                outcome[f"running after {token}"] = station.evse(1).tx is not None
                yield w.clock.env.timeout(10)

        w.drive(driver())
        await w.run(200)
        assert outcome == {"start": True,
                           "OTHER-GROUP": False, "running after OTHER-GROUP": True,
                           "GRP-BLOCKED": False, "running after GRP-BLOCKED": True,
                           "GRP-B": True, "running after GRP-B": False}
        [session] = w.recorder.rows("sessions")
        assert session["stop_reason"] == "Local"
