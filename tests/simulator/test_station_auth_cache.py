"""The simulated OCPP 2.0.1 station when the CSMS refuses the idToken of a running transaction
(E05, C15; TC_C_15..C_18): with TxCtrlr.StopTxOnInvalidId it deauthorizes the transaction;
without it the transaction goes on, energy flowing only until MaxEnergyOnInvalidId more Wh
have been delivered (0: none), then the EVSE is SuspendedEVSE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chargeloop.ocppj import OcppVersion
from simulator.drivers import IdToken
from simulator.station import SimStation, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from tests.simulator.station_support import events, world

TOKEN = "CACHE-OK"


def _configured(station: SimStation, stop: bool, max_energy_wh: int) -> None:
    answer = station.settings.set_variables({"setVariableData": [  # type: ignore[attr-defined]
        {"component": {"name": "TxCtrlr"}, "variable": {"name": name}, "attributeValue": value}
        for name, value in (("StopTxOnInvalidId", "true" if stop else "false"),
                            ("MaxEnergyOnInvalidId", str(max_energy_wh)))]})
    assert [r["attributeStatus"] for r in answer["setVariableResult"]] == ["Accepted"] * 2


async def _refused_while_charging(tmp_path: Path, *, stop: bool, max_energy_wh: int,
                                  after_s: float) -> dict[str, Any]:
    """A transaction charges; the CSMS refuses its idToken; ``after_s`` later: what the
    EVSE does, and the energy delivered since the refusal."""
    async with world(tmp_path) as w:
        await w.core.auth.upsert(TOKEN, status="Accepted")
        station = w.station(StationSpec("CS201-REFUSED", OcppVersion.V201, start_jitter_s=0.0))
        _configured(station, stop, max_energy_wh)
        station.start()
        await w.run(10)
        seen: dict[str, Any] = {}

        def driver() -> Any:
            evse = station.evse(1)
            yield from station.plug_in(1, Vehicle(VEHICLE_CATALOG["Renault Zoe"], soc=0.2))
            yield from station.present_token(1, IdToken(TOKEN))
            yield w.clock.env.timeout(30)
            assert evse.tx is not None and evse.charging_state == "Charging"
            evse.settle(w.clock.env.now)
            refused_at_wh = evse.meter.energy_wh
            station.id_not_accepted(evse, evse.tx, "Invalid")
            yield w.clock.env.timeout(after_s)
            evse.settle(w.clock.env.now)
            seen.update(running=evse.tx is not None, state=evse.charging_state,
                        delivered_wh=evse.meter.energy_wh - refused_at_wh)

        w.drive(driver())
        await w.run(60 + after_s)
        seen["deauthorized"] = bool(events(w.recorder, "CS201-REFUSED",
                                           "transaction_deauthorized"))
        return seen


async def test_stop_tx_on_invalid_id_deauthorizes(tmp_path: Path) -> None:
    seen = await _refused_while_charging(tmp_path, stop=True, max_energy_wh=500, after_s=5)
    assert seen["deauthorized"] and not seen["running"]


async def test_without_stop_and_no_max_energy_the_evse_suspends_at_once(tmp_path: Path) -> None:
    seen = await _refused_while_charging(tmp_path, stop=False, max_energy_wh=0, after_s=5)
    assert not seen["deauthorized"] and seen["running"]
    assert seen["state"] == "SuspendedEVSE" and seen["delivered_wh"] < 1.0


async def test_without_stop_energy_flows_until_max_energy_on_invalid_id(
        tmp_path: Path) -> None:
    charging = await _refused_while_charging(tmp_path, stop=False, max_energy_wh=200,
                                             after_s=5)
    assert charging["running"] and charging["state"] == "Charging"
    assert 0 < charging["delivered_wh"] < 200
    capped = await _refused_while_charging(tmp_path, stop=False, max_energy_wh=200,
                                           after_s=600)
    assert capped["running"] and capped["state"] == "SuspendedEVSE"
    assert 199 <= capped["delivered_wh"] <= 201
