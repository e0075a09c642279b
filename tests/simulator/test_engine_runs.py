"""Small scenarios, each pinning one thing a run must get right whatever its speed: the CSMS's
time-based alerts, drivers at reserved chargers, log uploads over the in-memory transport, and
the station's answer for every kind of operator request."""

from __future__ import annotations

from pathlib import Path

from simulator.engine import run_scenario
from simulator.scenario import load_scenario_text

STATION = """
station_templates:
  ac16: {ocpp: "1.6", evses: 1, connectors: [{type: Type2, max_power_kw: 11}]}
  ac201: {ocpp: "2.0.1", evses: 1, connectors: [{type: Type2, max_power_kw: 11}]}
"""


async def test_offline_alerts_follow_simulated_time_at_full_speed() -> None:
    # 30 simulated minutes offline pass in a blink of wall time; the CSMS's watchdog must
    # still see the station gone (and a short drop must raise nothing)
    spec = load_scenario_text("""
name: offline
duration: 3h
speed: max
""" + STATION + """
sites: [{id: s, stations: [{template: ac16, ids: [LONG]}, {template: ac201, ids: [SHORT]}]}]
faults:
  - {kind: network_drop, at: 1h, duration: 30m, stations: LONG}
  - {kind: network_drop, at: 1h, duration: 30s, stations: SHORT}
expectations:
  - no_alert_missed: true
  - alerts_raised: {kind: offline, min: 1, max: 1}
""", "offline.yaml")
    result = await run_scenario(spec, runs_root=None)
    assert all(v.passed for v in result.verdicts), result.verdicts
    [alert] = result.tables["csms_alerts"].to_dict("records")
    assert alert["station_id"] == "LONG" and alert["resolved_at"] is not None


async def test_drivers_leave_a_reserved_charger_to_the_one_who_reserved_it(
        tmp_path: Path) -> None:
    (tmp_path / "drivers.csv").write_text(
        "arrival,dwell_s,token\n"
        "2026-01-05T08:30:00Z,3600,SHOPPER-1\n"   # comes first, finds the only EVSE reserved
        "2026-01-05T09:00:00Z,3600,HOLDER-1\n")
    spec = load_scenario_text("""
name: reserved
start: 2026-01-05T08:00:00Z
duration: 3h
""" + STATION + """
sites: [{id: s, stations: [{template: ac201, ids: [ONLY]}]}]
drivers:
  # cable first: the 2.0.1 transaction starts on EVConnected, the reservation is used when
  # the holder's card is read
  - {name: d, site: s, arrivals: {replay: drivers.csv}, tokens: {count: 2},
     behaviour: {plug_first: 1}}
operations:
  - {at: 10m, command: reserve, station: ONLY,
     params: {token: HOLDER-1, evse: 1, expires_in: 2h, reservation_id: 7}}
expectations:
  - all_sessions_completed: true
""", "reserved.yaml", base_dir=tmp_path)
    result = await run_scenario(spec, runs_root=None)
    assert all(v.passed for v in result.verdicts), result.verdicts
    visits = result.visits.set_index("id_token")
    assert visits.loc["SHOPPER-1", "outcome"] == "abandoned"  # not refused at the reader
    assert visits.loc["HOLDER-1", "outcome"] == "charged"
    [reservation] = result.tables["csms_reservations"].to_dict("records")
    assert reservation["status"] == "Used" and reservation["transaction_id"] == "ONLY-1"
    statuses = result.tables["status_changes"]["status"].tolist()
    assert statuses[-3:] == ["Reserved", "Occupied", "Available"]  # not Reserved again
    assert result.tables["operations"]["status"].tolist() == ["Accepted"]


async def test_logs_reach_the_reference_csms_and_every_request_has_the_stations_answer(
        ) -> None:
    spec = load_scenario_text("""
name: logs
duration: 30m
""" + STATION + """
sites: [{id: s, stations: [{template: ac16, ids: [A]}, {template: ac201, ids: [B]}]}]
operations:
  - {at: 1m, command: get_log, station: "*", params: {}}
  - {at: 5m, command: change_configuration, station: A,
     params: {key: MeterValueSampleInterval, value: 120}}
  - {at: 5m, command: set_variables, station: B,
     params: {variables: [{component: SampledDataCtrlr, variable: TxUpdatedInterval,
                           value: 120}]}}
""", "logs.yaml")
    result = await run_scenario(spec, runs_root=None)
    events = result.events
    uploads = events[events["kind"] == "log_upload"].set_index("station_id")["detail"]
    assert sorted(uploads.index) == ["A", "B"]
    assert uploads.str.endswith(": Uploaded").all(), uploads
    operations = result.tables["operations"]
    assert (operations["http_status"] == 200).all()
    assert operations["status"].tolist() == ["Accepted"] * 4, operations
