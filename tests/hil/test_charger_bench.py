"""A charger under test on the bench, without hardware: a simulated station plays the real
charger and connects over real websockets to the harness's OCPP endpoint; the reference meter is
an emulated meter read over Modbus TCP. Comparison mode finds exactly the samples a meter fault
made wrong, and OCMF signed values received over OCPP 1.6 and 2.0.1 verify; tampered ones do not.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from chargeloop.clock import SimClock
from chargeloop.ocppj import OcppVersion
from hil.comparison import ReferencePoll, Tolerance, compare, deviations
from hil.emulator import MeterEmulator
from hil.observer import ChargerObserver
from hil.reader import MeterReader
from hil.registermap import load_map
from hil.signed import verify
from simulator.backends import UrlBackend
from simulator.drivers import IdToken
from simulator.meters import MeterFault
from simulator.ocmf import OcmfSigner
from simulator.station import Link, Recorder, SimStation, StationSpec
from simulator.station.spec import MeterSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.hil.conftest import WAIT_S

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
JUMP_AT_S = 1200.0


@dataclasses.dataclass
class Bench:
    observer: ChargerObserver
    station: SimStation
    signer: OcmfSigner
    reference: list[ReferencePoll]


async def run_bench(version: OcppVersion, *, start_wh: float = 5_000.0) -> Bench:
    """A 40-minute session; the charger's meter jumps by 500 Wh after 20 minutes."""
    clock = SimClock(START, speed=None)
    observer = await ChargerObserver.start("127.0.0.1", 0, now=clock.utc)
    emulator = MeterEmulator.of(load_map("sdm630"), [1])
    _, port = await emulator.start_tcp("127.0.0.1", 0)
    reader = await MeterReader.tcp(load_map("sdm630"), "127.0.0.1", port)
    signer = OcmfSigner(rng=np.random.default_rng(5), meter_serial="REF-1")
    spec = StationSpec("CP-UNDER-TEST", version, start_jitter_s=0.0,
                       meter=MeterSpec(start_wh=start_wh, signed=True))
    station = SimStation(spec, clock, Link.to(UrlBackend(observer.url), spec.id, version),
                         Recorder(START), np.random.default_rng(3), signer=signer)
    reference: list[ReferencePoll] = []
    env = clock.env

    def reference_meter() -> Any:
        """The true energy (no faults) served over Modbus and read back every 10 s."""
        while True:
            evse = station.evse(1)
            evse.settle(env.now)
            shown = evse.meter.reading()
            truth = dataclasses.replace(shown, energy_wh=start_wh + evse.meter.delivered_wh)
            emulator.publish(1, truth)
            measurement = yield clock.bridge(reader.read())
            reference.append(ReferencePoll(clock.utc(), measurement.values))
            yield env.timeout(10)

    def driver() -> Any:
        yield env.timeout(30)
        yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["VW ID.3"], soc=0.2,
                                              target_soc=0.9))
        yield env.timeout(5)
        yield from station.present_token(1, IdToken("TOKEN-HIL"))
        yield env.timeout(JUMP_AT_S - 35)
        station.meter(1).inject(MeterFault("jump", jump_wh=500.0))
        yield env.timeout(1200)
        yield from station.unplug(1)

    try:
        station.start()
        env.process(reference_meter())
        env.process(driver())
        await asyncio.wait_for(clock.run(2700), WAIT_S * 3)
        station.shutdown()
        await asyncio.wait_for(clock.wait_idle(), WAIT_S)
    finally:
        reader.close()
        await emulator.stop()
        await observer.stop()
    return Bench(observer, station, signer, reference)


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
async def test_comparison_and_signed_values(version: OcppVersion) -> None:
    bench = await run_bench(version)
    observer = bench.observer
    energy = [s for s in observer.samples if s.quantity == "import_energy"]
    assert len(energy) >= 30  # a sample a minute for 40 minutes, plus begin and end

    rows = compare(observer.samples, bench.reference, Tolerance(relative=0.0))
    compared = [r for r in rows if r["quantity"] == "import_energy"]
    assert len(compared) == len(energy)
    wrong = deviations(rows)
    jump = START.timestamp() + JUMP_AT_S
    # every energy sample after the jump deviates by the 500 Wh, none before does
    late = [r for r in compared if datetime.fromisoformat(r["timestamp"]).timestamp() > jump]
    assert late and all(not r["ok"] for r in late)
    assert all(r["difference"] == pytest.approx(500.0, abs=1.0) for r in late)
    assert {r["quantity"] for r in wrong} == {"import_energy"}
    assert len(wrong) == len(late)
    assert all("differs from the reference" in r["problem"] for r in wrong)
    power = [r for r in rows if r["quantity"] == "power_total"]
    assert power and all(r["ok"] for r in power)

    # signed values: every one received verifies against the meter's key
    key = bench.signer.public_key_hex
    signed = verify(observer.signed, {"CP-UNDER-TEST": key})
    assert len(signed) >= 30 and all(r["valid"] for r in signed), signed[:2]
    assert {r["version"] for r in signed} == {version.short}


async def test_tampered_and_foreign_signed_values_are_reported() -> None:
    bench = await run_bench(OcppVersion.V201)
    received = bench.observer.signed
    first = received[0]
    assert first.public_key  # 2.0.1 carries the key: verifiable without configuration
    assert all(r["valid"] and r["key_source"] == "message" for r in verify(received[:3]))

    text = base64.b64decode(first.data).decode()
    tampered_text = text.replace('"RV":', '"RV":1', 1)  # a bigger reading, same signature
    tampered = dataclasses.replace(first, data=base64.b64encode(tampered_text.encode()).decode(),
                                   reported_value=None)
    [row] = verify([tampered])
    assert not row["valid"] and row["reason"] == "signature does not match payload and key"

    # a forger's own key in the message does not help when the bench knows the meter's key
    forger = OcmfSigner(rng=np.random.default_rng(99))
    forged_text = forger.sign(1.0, timestamp=START)
    forged = dataclasses.replace(first, data=forged_text, public_key=forger.public_key_base64,
                                 reported_value=None)
    assert verify([forged])[0]["valid"]  # with only the message's key, it would pass...
    [row] = verify([forged], {"CP-UNDER-TEST": bench.signer.public_key_hex})
    assert not row["valid"] and row["key_source"] == "bench"  # ...the bench's key catches it

    # a valid signature over a reading other than the plain value sent beside it
    [row] = verify([dataclasses.replace(first, reported_value=(first.reported_value or 0) + 50)])
    assert not row["valid"] and "is not the reported value" in row["reason"]

