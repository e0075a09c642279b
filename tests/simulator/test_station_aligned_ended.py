"""2.0.1 AlignedDataCtrlr.TxEndedMeasurands / TxEndedInterval (which starts as Interval):
the TransactionEvent Ended carries the clock-aligned samples taken during the transaction,
context Sample.Clock (J02; found by TC_J_03_CS: the settings existed and nothing used
them)."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.drivers import IdToken
from simulator.station import StationSpec
from simulator.station.outbox import OutMessage
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import world

ENERGY = "Energy.Active.Import.Register"


async def _ended_event(tmp_path: Path, **settings: Any) -> dict[str, Any]:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TOKEN-ALIGNED")
        spec = StationSpec("CS201-ALIGNED", OcppVersion.V201, start_jitter_s=0.0,
                           settings=settings)
        station = w.station(spec)
        sent: list[OutMessage] = []
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            sent.append(message)
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
        station.start()
        await w.run(10)
        car = Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.2)

        def driver() -> Any:
            yield from station.plug_in(1, car)
            assert (yield from station.present_token(1, IdToken("TOKEN-ALIGNED")))
            yield w.clock.env.timeout(200)
            assert (yield from station.present_token(1, IdToken("TOKEN-ALIGNED")))

        w.drive(driver())
        await w.run(240)
        [ended] = [m.payload for m in sent if m.action == "TransactionEvent"
                   and m.payload["eventType"] == "Ended"]
        return ended


def _clock_values(ended: dict[str, Any]) -> list[dict[str, Any]]:
    return [mv for mv in ended.get("meterValue", [])
            if all(sv.get("context") == "Sample.Clock" for sv in mv["sampledValue"])]


async def test_ended_carries_the_clock_aligned_samples(tmp_path: Path) -> None:
    ended = await _ended_event(tmp_path, aligned_interval_s=60,
                               aligned_tx_ended_measurands=(ENERGY,))
    clock = _clock_values(ended)
    assert len(clock) in (3, 4)  # 200 s of transaction, a sample at every whole minute
    stamps = [datetime.fromisoformat(mv["timestamp"].replace("Z", "+00:00")) for mv in clock]
    assert all(s.second == 0 and s.microsecond == 0 for s in stamps)
    assert [(b - a).total_seconds() for a, b in pairwise(stamps)] == \
        [60.0] * (len(stamps) - 1)
    assert {sv.get("measurand", ENERGY) for mv in clock for sv in mv["sampledValue"]} == \
        {ENERGY}
    values = [sv["value"] for mv in clock for sv in mv["sampledValue"]]
    assert values == sorted(values)  # an energy register only grows while charging
    # the Transaction.End value of SampledDataCtrlr.TxEndedMeasurands is still there
    assert any(sv.get("context") == "Transaction.End"
               for mv in ended["meterValue"] for sv in mv["sampledValue"])


async def test_no_aligned_samples_without_tx_ended_measurands(tmp_path: Path) -> None:
    ended = await _ended_event(tmp_path, aligned_interval_s=60,
                               aligned_tx_ended_measurands=())
    assert _clock_values(ended) == []
