"""Expectation checks on hand-made result tables, and the station outcome they count on:
which session is a visit's own, and which messages count as lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from chargeloop.ocppj import OcppVersion
from simulator.expectations import Evidence, check
from simulator.scenario import load_scenario_text
from simulator.scenario.spec import ExpectationSpec
from simulator.station import StationSpec
from simulator.station.recorder import TABLES
from simulator.vehicles import VEHICLE_CATALOG, Vehicle
from simulator.visits import VISIT_COLUMNS
from tests.simulator.station_support import sent, world

SPEC = load_scenario_text("""
name: tiny
duration: 1d
station_templates: {dc: {ocpp: "2.0.1", connectors: [{type: CCS2, max_power_kw: 150}]}}
sites: [{id: hub, kind: highway, stations: [{template: dc, ids: [HUB-1]}]}]
""", "tiny.yaml")


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = VISIT_COLUMNS if name == "visits" else TABLES[name]
    return pd.DataFrame([{c: row.get(c) for c in columns} for row in rows],
                        columns=list(columns))


def _visit(**values: Any) -> dict[str, Any]:
    return {"station_id": "HUB-1", "evse_id": 1, "outcome": "charged", "soc_out": 0.8,
            "target_soc": 0.8, **values}


def _session(**values: Any) -> dict[str, Any]:
    return {"station_id": "HUB-1", "evse_id": 1, "transaction_id": values.pop("tx"), **values}


def _energy_verdict(visits: list[dict[str, Any]], sessions: list[dict[str, Any]]) -> Any:
    evidence = Evidence(SPEC, {"visits": _frame("visits", visits),
                               "sessions": _frame("sessions", sessions)})
    return check(ExpectationSpec("energy_within_pct", {"of": "needed", "pct": 1.0}), evidence)


def test_a_queueing_driver_starting_as_the_last_one_unplugs_is_not_counted_twice() -> None:
    # B queued while A charged, took the EVSE the moment A unplugged and started at once
    visits = [_visit(arrival_s=0.0, waited_s=0.0, plugged_s=0.0, unplugged_s=1800.0,
                     needed_wh=30_000.0),
              _visit(arrival_s=600.0, waited_s=1200.0, plugged_s=1800.0, unplugged_s=3600.0,
                     needed_wh=25_000.0)]
    sessions = [_session(tx="1", started_s=0.0, stopped_s=1800.0, energy_wh=30_000.0),
                _session(tx="2", started_s=1800.0, stopped_s=3600.0, energy_wh=25_000.0)]
    verdict = _energy_verdict(visits, sessions)
    assert verdict.passed, verdict.observed
    assert "2 sessions" in verdict.observed


def test_a_session_started_by_badge_before_the_cable_is_the_visits_own() -> None:
    # badge first: the 2.0.1 transaction starts on Authorized, 20 s before plug-in
    visits = [_visit(arrival_s=100.0, waited_s=0.0, plugged_s=120.0, unplugged_s=2000.0,
                     needed_wh=30_000.0)]
    sessions = [_session(tx="1", started_s=100.0, stopped_s=2000.0, energy_wh=30_000.0)]
    verdict = _energy_verdict(visits, sessions)
    assert verdict.passed and "1 sessions" in verdict.observed, verdict.observed


def test_an_earlier_drivers_session_is_not_the_next_visits() -> None:
    # B arrived while A was still setting up; A's session starts after B's arrival, but B
    # only got the EVSE once A left
    visits = [_visit(arrival_s=0.0, waited_s=0.0, plugged_s=0.0, unplugged_s=1800.0,
                     needed_wh=30_000.0, soc_out=0.5),  # left before full: not checked
              _visit(arrival_s=5.0, waited_s=1795.0, plugged_s=1800.0, unplugged_s=3600.0,
                     needed_wh=25_000.0)]
    sessions = [_session(tx="1", started_s=20.0, stopped_s=1800.0, energy_wh=20_000.0),
                _session(tx="2", started_s=1800.0, stopped_s=3600.0, energy_wh=25_000.0)]
    verdict = _energy_verdict(visits, sessions)
    assert verdict.passed and "1 sessions" in verdict.observed, verdict.observed


def test_statuses_not_sent_offline_are_not_lost_messages_but_a_full_queue_loses() -> None:
    messages = _frame("messages", [
        {"station_id": "HUB-1", "action": "StatusNotification", "outcome": "dropped"},
        {"station_id": "HUB-1", "action": "Heartbeat", "outcome": "dropped"},
        {"station_id": "HUB-1", "action": "TransactionEvent", "outcome": "queued"},
        {"station_id": "HUB-1", "action": "TransactionEvent", "outcome": "replayed"}])
    expectation = ExpectationSpec("max_offline_queue_lost", 0)
    assert check(expectation, Evidence(SPEC, {"messages": messages})).passed
    lost = pd.concat([messages, _frame("messages", [
        {"station_id": "HUB-1", "action": "MeterValues", "outcome": "lost"}])])
    verdict = check(expectation, Evidence(SPEC, {"messages": lost}))
    assert not verdict.passed and verdict.observed == "1 lost"


async def test_a_full_offline_queue_records_what_it_pushes_out_as_lost(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.core.auth.upsert("TAG-Q")
        station = w.station(StationSpec(
            "CS16-Q", OcppVersion.V16, start_jitter_s=0.0, offline_queue_size=5,
            meter_sample_interval_s=60, clock_aligned_interval_s=0))
        station.start()
        await w.run(30)
        car = Vehicle(VEHICLE_CATALOG["Tesla Model 3 LR"], soc=0.1, target_soc=1.0)

        def driver() -> Any:
            yield from station.plug_in(1, car)
            assert (yield from station.present_token(1, "TAG-Q"))
            station.go_offline(1200)

        w.drive(driver())
        await w.run(1800)
        outcomes = [m["outcome"] for m in sent(w.recorder, "CS16-Q")]
        meter = [m["outcome"] for m in sent(w.recorder, "CS16-Q", "MeterValues")]
        assert outcomes.count("lost") >= 10 and meter.count("lost") >= 10
        assert "dropped" not in meter  # held messages are never merely "dropped"
        # the start is essential: a full queue never pushes it out
        start = [m["outcome"] for m in sent(w.recorder, "CS16-Q", "StartTransaction")]
        assert "lost" not in start and start[-1] in ("ok", "replayed")
