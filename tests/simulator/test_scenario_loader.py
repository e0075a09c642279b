"""The scenario format: schema, YAML loader with line numbers, semantic checks, typed spec."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest

from chargeloop.ocppj.versions import OcppVersion
from chargeloop.yamldoc import format_path
from simulator.scenario.durations import PATTERN, format_duration, parse_duration
from simulator.scenario.loader import (
    Problem,
    ScenarioError,
    load_scenario,
    load_scenario_text,
    scenario_schema,
)
from simulator.scenario.spec import (
    CatalogVehicleSpec,
    CustomVehicleSpec,
    ScenarioSpec,
)

MODELS = {"VW ID.3", "Tesla Model 3"}

# The format's reference example (the backend keys that belong to other backend kinds are
# exercised in their own tests below).
FULL = """\
name: quickstart                 # [a-z0-9-]+
description: A handful of stations, one simulated day.
seed: 42
start: 2026-01-05T00:00:00Z
duration: 1d
speed: max
backend:
  kind: reference
  transport: memory
  password: secret
  passwords: {OFFICE-001: pw}
  csms: {heartbeat_interval: 5m, unknown_stations: accept, stuck_session_after: 15m}
vehicles:
  mix:
    - {model: "VW ID.3", weight: 2}
    - {name: my-van, capacity_kwh: 75, ac_kw: 11, ac_phases: 3, dc_kw: 90, weight: 1}
station_templates:
  ac22:
    ocpp: "1.6"
    vendor: chargeloop
    model: SimAC22
    evses: 2
    connectors: [{type: Type2, max_power_kw: 22, phases: 3}]
    meter: {measurands: [Energy.Active.Import.Register, Power.Active.Import], sample_interval: 60s, clock_aligned_interval: 15m, noise: 0.002, signed: false}
    heartbeat_interval: 5m
    tx_start_point: [Authorized, EVConnected]
    tx_stop_point: [EVConnected, Authorized]
    auth: {cache: true, local_list: true, offline_authorize_unknown: false}
sites:
  - id: office
    kind: workplace
    location: {lat: 52.37, lon: 4.89}
    grid_limit_kw: 100
    load_balancing: equal
    stations:
      - {template: ac22, count: 4, id_prefix: OFFICE-}
drivers:
  - name: employees
    site: office
    arrivals: {profile: workplace, per_day: 12}
    dwell: {mean: 7h, sd: 1h}
    soc_at_arrival: {mean: 0.4, sd: 0.15}
    target_soc: 0.8
    tokens: {kind: rfid, count: 20}
    behaviour: {plug_first: 0.7, remote_start: 0.1, overstay: 0.1, leave_early: 0.05}
    route: {polyline: [[52.3, 4.8], [52.37, 4.89]], speed_kmh: 60}
faults:
  - {kind: network_drop, at: 6h, duration: 30m, stations: "OFFICE-00*"}
  - {kind: station_fault, random: {per_day: 0.2}, duration: 20m, error_code: GroundFailure}
  - {kind: meter_fault, at: 3h, fault: stuck, duration: 1h, stations: OFFICE-002}
  - {kind: clock_skew, at: 0s, seconds: 90, stations: OFFICE-003}
  - {kind: csms_unreachable, at: 10h, duration: 15m}
  - {kind: corrupt_frame, at: 2h, stations: "*"}
operations:
  - {at: 2h, command: reset, station: OFFICE-001, params: {type: Soft}}
  - {at: 3h, command: remote_start, station: OFFICE-002, params: {evse: 1, token: APP-0001}}
  - {at: 4h, command: reserve, station: OFFICE-003, params: {evse: 1, token: RFID-0003, expires_in: 30m}}
  - {at: 5h, command: set_charging_profile, station: "OFFICE-*", params: {limit_kw: 7, evse: 0, purpose: TxDefaultProfile}}
expectations:
  - all_sessions_completed: true
  - energy_within_pct: {of: needed, pct: 2}
  - transactions_match_csms: {energy_tolerance_wh: 1}
  - p99_latency_ms_below: 200
  - no_alert_missed: true
  - min_sessions: 10
  - max_offline_queue_lost: 0
  - alerts_raised: {kind: station_faulted, min: 1}
  - site_power_within_limit: true
  - all_stations_booted: true
"""  # noqa: E501 - the example as users write it

MINIMAL = """\
name: tiny
duration: 2h
station_templates:
  ac:
    connectors: [{type: Type2, max_power_kw: 11}]
sites:
  - id: home
    stations: [{template: ac}]
"""


def load(text: str, **kwargs) -> ScenarioSpec:
    return load_scenario_text(text, "scenarios/x.yaml", vehicle_models=MODELS, **kwargs)


def problems_of(text: str, **kwargs) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load(text, **kwargs)
    return caught.value.problems


def the_problem(text: str, **kwargs) -> Problem:
    problems = problems_of(text, **kwargs)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line holding ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def changed(old: str, new: str, text: str = FULL) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# -- the schema --------------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12_and_shipped_as_package_data():
    shipped = resources.files("simulator.scenario").joinpath("scenario.schema.json")
    schema = json.loads(shipped.read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema_rs.meta.validate(schema)
    assert scenario_schema() == schema


def test_every_property_in_the_schema_is_documented():
    undocumented = []

    schema = scenario_schema()

    def documented(sub):
        while "description" not in sub and "$ref" in sub:
            sub = schema["$defs"][sub["$ref"].removeprefix("#/$defs/")]
        return "description" in sub or "const" in sub

    def walk(node, where):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if isinstance(sub, dict) and not documented(sub):
                    undocumented.append(f"{where}.{name}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(schema, "#")
    assert undocumented == []


def test_the_schema_duration_pattern_is_the_parsers():
    assert scenario_schema()["$defs"]["duration"]["anyOf"][1]["pattern"] == PATTERN


def test_the_full_example_passes_the_schema_alone():
    from chargeloop.yamldoc import parse_yaml, plain  # the document as the schema sees it

    instance = plain(parse_yaml(FULL, "x"))
    assert list(jsonschema_rs.validator_for(scenario_schema()).iter_errors(instance)) == []


# -- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("15m", 900), ("8h", 28_800), ("1d", 86_400), ("1h30m", 5400),
    ("1.5h", 5400), ("500ms", 0.5), ("1d2h3m4s", 93_784), (0, 0), (42, 42), (2.5, 2.5),
])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "90", "1x", "30m1h", "-5s", "1 h", True, -1])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_durations_format_back():
    for seconds in (0, 0.5, 59, 90, 5400, 86_400, 93_784):
        assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)
    assert format_duration(5400) == "1h30m"


# -- a valid scenario --------------------------------------------------------------------------


def test_the_full_example_loads_with_units_converted(tmp_path):
    path = tmp_path / "quickstart.yaml"
    path.write_text(FULL)
    spec = load_scenario(path, vehicle_models=MODELS)

    assert spec.name == "quickstart"
    assert spec.description == "A handful of stations, one simulated day."
    assert spec.seed == 42
    assert spec.start == datetime(2026, 1, 5, tzinfo=UTC)
    assert spec.duration_s == 86_400
    assert spec.speed is None
    assert spec.source == str(path)
    assert len(spec.text_sha256) == 64

    backend = spec.backend
    assert (backend.kind, backend.transport, backend.in_memory) == ("reference", "memory", True)
    assert backend.csms.heartbeat_interval_s == 300
    assert backend.csms.unknown_stations == "accept"
    assert backend.csms.stuck_session_after_s == 900
    assert backend.password_for("OFFICE-001") == "pw"
    assert backend.password_for("OFFICE-002") == "secret"

    assert spec.vehicles.mix == (
        CatalogVehicleSpec(model="VW ID.3", weight=2.0),
        CustomVehicleSpec(name="my-van", capacity_wh=75_000, ac_max_w=11_000, ac_phases=3,
                          dc_max_w=90_000, weight=1.0))

    template = spec.station_templates["ac22"]
    assert template.ocpp is OcppVersion.V16
    assert (template.vendor, template.model, template.evses) == ("chargeloop", "SimAC22", 2)
    assert template.connectors[0].max_power_w == 22_000
    assert template.connectors[0].current == "AC"
    assert template.meter.sample_interval_s == 60
    assert template.meter.clock_aligned_interval_s == 900
    assert template.meter.noise == 0.002
    assert template.heartbeat_interval_s == 300
    assert template.tx_start_point == ("Authorized", "EVConnected")
    assert template.auth.local_list is True

    (site,) = spec.sites
    assert site.grid_limit_w == 100_000
    assert site.load_balancing == "equal"
    assert site.location.lat == 52.37
    assert site.station_ids == ("OFFICE-001", "OFFICE-002", "OFFICE-003", "OFFICE-004")
    assert [s.id for s in spec.stations] == list(site.station_ids)
    assert spec.station("OFFICE-001").password == "pw"
    assert spec.station("OFFICE-004").template is template

    (drivers,) = spec.drivers
    assert drivers.arrivals.profile == "workplace"
    assert drivers.arrivals.per_day == 12
    assert (drivers.dwell.mean_s, drivers.dwell.sd_s) == (25_200, 3600)
    assert (drivers.soc_at_arrival.mean, drivers.soc_at_arrival.sd) == (0.4, 0.15)
    assert (drivers.tokens.count, drivers.tokens.ocpp_kind) == (20, "ISO14443")
    assert drivers.target_soc == 0.8
    assert drivers.behaviour.plug_first == 0.7
    assert drivers.route.polyline == ((52.3, 4.8), (52.37, 4.89))
    assert drivers.route.speed_mps == pytest.approx(60 / 3.6)

    drop, station_fault, meter, skew, csms, corrupt = spec.faults
    assert (drop.at_s, drop.duration_s) == (21_600, 1800)
    assert drop.station_ids == site.station_ids
    assert (station_fault.at_s, station_fault.random_per_day) == (None, 0.2)
    assert (station_fault.error_code, station_fault.evse) == ("GroundFailure", 1)
    assert (meter.meter_fault, meter.station_ids) == ("stuck", ("OFFICE-002",))
    assert (skew.at_s, skew.skew_s, skew.duration_s) == (0, 90, None)
    assert csms.station_ids == ()
    assert (corrupt.station_ids, corrupt.count) == (site.station_ids, 1)
    assert drop.location == f"{path}:{line_of(FULL, 'network_drop')}"

    reset, start, reserve, profile = spec.operations
    assert (reset.at_s, reset.params) == (7200, {"type": "Soft"})
    assert start.params == {"evse": 1, "token": "APP-0001"}
    assert reserve.params == {"evse": 1, "token": "RFID-0003", "expires_in_s": 1800}
    assert profile.params == {"limit_w": 7000, "evse": 0, "purpose": "TxDefaultProfile",
                              "stack_level": 0}
    assert profile.station_ids == site.station_ids

    kinds = [e.kind for e in spec.expectations]
    assert kinds == ["all_sessions_completed", "energy_within_pct", "transactions_match_csms",
                     "p99_latency_ms_below", "no_alert_missed", "min_sessions",
                     "max_offline_queue_lost", "alerts_raised", "site_power_within_limit",
                     "all_stations_booted"]
    values = {e.kind: e.value for e in spec.expectations}
    assert values["energy_within_pct"] == {"of": "needed", "pct": 2.0}
    assert values["transactions_match_csms"] == {"energy_tolerance_wh": 1.0}
    assert values["alerts_raised"] == {"kind": "station_faulted", "min": 1, "max": None}
    assert values["p99_latency_ms_below"] == 200.0


def test_a_minimal_scenario_gets_the_defaults():
    spec = load(MINIMAL)
    assert spec.seed == 0
    assert spec.start == datetime(2026, 1, 5, tzinfo=UTC)
    assert spec.speed is None
    assert spec.backend.in_memory
    assert spec.vehicles.mix is None
    assert spec.drivers == spec.faults == spec.operations == spec.expectations == ()
    (station,) = spec.stations
    assert station.id == "HOME-001"
    assert station.password is None
    template = station.template
    assert template.ocpp is OcppVersion.V16
    assert template.evses == 1
    assert template.connectors[0].phases == 3
    assert template.heartbeat_interval_s == 300
    assert template.meter.measurands == ("Energy.Active.Import.Register", "Power.Active.Import")
    assert spec.sites[0].kind == "public"


def test_whole_numbers_written_as_floats_count_as_whole_numbers():
    spec = load(MINIMAL.replace("stations: [{template: ac}]", "stations: [{template: ac, "
                                "count: 2.0}]") + "seed: 7.0\n")
    assert [s.id for s in spec.stations] == ["HOME-001", "HOME-002"]
    assert spec.seed == 7 and isinstance(spec.seed, int)


def test_empty_optional_lists_count_as_omitted():
    spec = load(MINIMAL + "faults:\noperations:\nexpectations:\ndrivers:\n")
    assert spec.faults == spec.operations == spec.drivers == ()


def test_station_numbering_continues_across_entries_with_the_same_prefix():
    text = changed("      - {template: ac22, count: 4, id_prefix: OFFICE-}",
                   "      - {template: ac22, count: 4, id_prefix: OFFICE-}\n"
                   "      - {template: ac22, count: 2}\n"
                   "      - {template: ac22, ids: [ST-1, ST-2]}")
    spec = load(text)
    assert [s.id for s in spec.stations] == [
        "OFFICE-001", "OFFICE-002", "OFFICE-003", "OFFICE-004", "OFFICE-005", "OFFICE-006",
        "ST-1", "ST-2"]


def test_speed_defaults_to_realtime_when_the_backend_is_not_in_memory():
    text = MINIMAL + "backend: {transport: websocket}\n"
    assert load(text).speed == 1.0
    assert load(MINIMAL + "speed: 10\nbackend: {transport: websocket}\n").speed == 10.0
    assert load(MINIMAL + "speed: realtime\n").speed == 1.0


def test_a_url_backend_with_tls_resolves_files_against_the_scenario(tmp_path):
    (tmp_path / "ca.pem").write_text("ca")
    (tmp_path / "sessions.csv").write_text("arrival\n")
    text = MINIMAL + (
        "speed: 5\n"
        "backend: {kind: url, url: 'wss://csms.example:443/ocpp', tls: {ca: ca.pem}}\n"
        "drivers:\n  - {name: residents, site: home, arrivals: {replay: sessions.csv}}\n")
    path = tmp_path / "remote.yaml"
    path.write_text(text)
    spec = load_scenario(path, vehicle_models=MODELS)
    assert spec.backend.url == "wss://csms.example:443/ocpp"
    assert spec.backend.tls.ca == tmp_path / "ca.pem"
    assert spec.drivers[0].arrivals.replay == tmp_path / "sessions.csv"
    assert spec.drivers[0].arrivals.per_day is None


def test_start_accepts_offsets_and_dates():
    assert load(MINIMAL + "start: 2026-03-02T09:00:00+01:00\n").start == \
        datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert load(MINIMAL + "start: 2026-03-02\n").start == datetime(2026, 3, 2, tzinfo=UTC)
    assert load(MINIMAL + "start: '2026-03-02T09:00:00Z'\n").start == \
        datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_the_spec_serialises_for_a_manifest():
    from chargeloop.runs import dumps_json

    data = json.loads(dumps_json(load(FULL)))
    assert data["stations"][0]["id"] == "OFFICE-001"
    assert data["station_templates"]["ac22"]["ocpp"] == "ocpp1.6"


# -- problems: each kind names file:line:col, key path and what would be valid ------------------


def test_unknown_key_suggests_the_closest_and_lists_the_allowed():
    problem = the_problem(changed("seed: 42", "sede: 42"))
    assert (problem.file, problem.line, problem.column) == ("scenarios/x.yaml", 3, 1)
    assert problem.key_path == "sede"
    assert 'unknown key "sede"; did you mean "seed"?' in problem.message
    assert "Allowed keys: backend, description, drivers, duration" in problem.message
    assert str(problem).startswith('scenarios/x.yaml:3:1: sede: unknown key "sede"')


def test_unknown_key_deep_inside_points_at_the_key():
    text = changed("error_code: GroundFailure", "eror_code: GroundFailure")
    problem = the_problem(text)
    assert problem.line == line_of(text, "eror_code")
    assert problem.column == text.splitlines()[problem.line - 1].index("eror_code") + 1
    assert problem.key_path == "faults[1].eror_code"
    assert 'did you mean "error_code"?' in problem.message
    assert "Allowed keys: at, duration, error_code, evse, kind, random, stations" in \
        problem.message


def test_unknown_key_without_a_near_miss_still_lists_the_allowed():
    problem = the_problem(changed("seed: 42", "colour: blue"))
    assert problem.message.startswith('unknown key "colour"; allowed keys: backend,')


def test_bad_enum_lists_the_allowed_values_and_suggests():
    text = changed("    kind: workplace", "    kind: Workplace")
    problem = the_problem(text)
    assert (problem.line, problem.column) == (line_of(text, "kind: Workplace"), 11)
    assert problem.key_path == "sites[0].kind"
    assert problem.message == ('"Workplace" is not one of the allowed values: workplace, '
                               'public, highway, home; did you mean "workplace"?')


def test_an_unquoted_version_is_explained():
    problem = the_problem(changed('ocpp: "1.6"', "ocpp: 1.6"))
    assert problem.key_path == "station_templates.ac22.ocpp"
    assert 'write it in quotes: "1.6"' in problem.message
    assert '"2.0.1"' in problem.message


def test_wrong_type():
    text = changed("evses: 2", "evses: two")
    problem = the_problem(text)
    assert (problem.line, problem.column) == (line_of(text, "evses: two"), 12)
    assert problem.key_path == "station_templates.ac22.evses"
    assert problem.message == 'expected a whole number, got a string ("two")'


def test_negative_count():
    text = changed("count: 4,", "count: -3,")
    problem = the_problem(text)
    line = line_of(text, "count: -3")
    assert (problem.line, problem.column) == (line, text.splitlines()[line - 1].index("-3") + 1)
    assert str(problem) == (f"scenarios/x.yaml:{line}:{problem.column}: "
                            "sites[0].stations[0].count: -3 is less than the minimum of 1")


def test_bad_duration_string():
    problem = the_problem(changed("duration: 1d", "duration: 1x"))
    assert (problem.line, problem.column, problem.key_path) == (5, 11, "duration")
    assert problem.message.startswith('"1x" is not a valid duration: expected a number of '
                                      "seconds, or a string")
    assert "1h30m" in problem.message


def test_durations_must_be_positive_where_zero_makes_no_sense():
    problem = the_problem(changed("duration: 1d", "duration: 0s"))
    assert (problem.line, problem.key_path) == (5, "duration")
    assert "positive" in problem.message
    problem = the_problem(changed("    heartbeat_interval: 5m\n", "    heartbeat_interval: 0\n"))
    assert problem.key_path == "station_templates.ac22.heartbeat_interval"


def test_missing_template_reference():
    text = changed("template: ac22", "template: ac2")
    problem = the_problem(text)
    assert problem.line == line_of(text, "template: ac2,")
    assert problem.key_path == "sites[0].stations[0].template"
    assert problem.message == 'unknown station template "ac2"; did you mean "ac22"? Templates: ac22'


def test_unknown_population_site():
    text = changed("    site: office", "    site: ofice")
    problem = the_problem(text)
    assert (problem.line, problem.key_path) == (line_of(text, "site: ofice"), "drivers[0].site")
    assert 'did you mean "office"?' in problem.message


def test_duplicate_station_ids():
    text = changed("      - {template: ac22, count: 4, id_prefix: OFFICE-}",
                   "      - {template: ac22, count: 4, id_prefix: OFFICE-}\n"
                   "      - {template: ac22, ids: [ST-1, OFFICE-002]}")
    problem = the_problem(text)
    first = line_of(text, "id_prefix: OFFICE-")
    assert (problem.line, problem.column) == (first + 1, 9)
    assert problem.key_path == "sites[0].stations[1]"
    assert problem.message.startswith(f'station id "OFFICE-002" is already used at '
                                      f"scenarios/x.yaml:{first}")


def test_duplicate_site_ids():
    text = MINIMAL + "  - {id: home, stations: [{template: ac, id_prefix: H2-}]}\n"
    problem = the_problem(text)
    assert problem.key_path == "sites[1].id"
    assert "already used at scenarios/x.yaml:7" in problem.message


@pytest.mark.parametrize(("broken", "line", "column", "says"), [
    ("seed: [42\n", 4, 6, "expected ',' or ']'"),
    ("seed: 42\nseed: 43\n", 4, 1, 'duplicate key "seed"'),
    ("seed: 42\n\tfoo: 1\n", 4, 1, "'\\t'"),
])
def test_yaml_syntax_errors_have_a_line(broken, line, column, says):
    problem = the_problem(changed("seed: 42\n", broken))
    assert (problem.line, problem.key_path) == (line, "")
    assert problem.message.startswith("YAML syntax error: ")
    assert says in problem.message
    assert str(problem).startswith(f"scenarios/x.yaml:{line}:")


def test_empty_and_non_mapping_documents():
    assert "empty" in the_problem("").message
    problem = the_problem("- a\n- b\n")
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message == ("a scenario is a mapping with at least name, duration, "
                               "station_templates and sites")


def test_url_backend_without_url():
    text = changed("speed: max\n", "").replace(
        "  kind: reference\n  transport: memory\n", "  kind: url\n").replace(
        "  csms: {heartbeat_interval: 5m, unknown_stations: accept, stuck_session_after: 15m}\n",
        "").split("operations:")[0]
    problem = the_problem(text)
    assert (problem.line, problem.column, problem.key_path) == (6, 1, "backend")
    assert problem.message.startswith("kind url needs the CSMS's address: add url: ws://")


def test_reference_only_keys_on_a_url_backend():
    text = MINIMAL + ("speed: 2\nbackend: {kind: url, url: 'ws://x/ocpp', transport: memory}\n"
                      "operations: [{at: 1h, command: reset, station: HOME-001}]\n")
    messages = {p.key_path: p.message for p in problems_of(text)}
    assert "applies only to kind reference" in messages["backend.transport"]
    assert "need backend kind reference" in messages["operations"]


def test_speed_max_with_a_websocket_explains_why():
    text = changed("transport: memory", "transport: websocket")
    problem = the_problem(text)
    assert (problem.line, problem.column, problem.key_path) == (6, 8, "speed")
    assert "needs backend kind reference with transport memory" in problem.message
    assert "never waits" in problem.message
    assert "realtime" in problem.message


def test_bad_speed_word():
    problem = the_problem(changed("speed: max", "speed: fast"))
    assert problem.message.startswith('"fast" is not a valid speed: expected max (as fast as '
                                      "possible")


def test_naive_start_time_is_refused():
    problem = the_problem(changed("start: 2026-01-05T00:00:00Z", "start: 2026-01-05T00:00:00"))
    assert (problem.line, problem.key_path) == (4, "start")
    assert "not a valid timestamp" in problem.message
    problem = the_problem(changed("start: 2026-01-05T00:00:00Z", "start: 2026-13-05"))
    assert (problem.line, problem.key_path) == (4, "start")
    assert problem.message.startswith('"2026-13-05" is not a real moment: month must be in')


def test_expectations_are_single_key_mappings_of_known_kinds():
    text = changed("  - min_sessions: 10", "  - min_sessions: 10\n    no_alert_missed: true")
    problem = the_problem(text)
    assert problem.key_path == "expectations[5]"
    assert "exactly one key" in problem.message
    problem = the_problem(changed("  - min_sessions: 10", "  - min_session: 10"))
    assert problem.key_path == "expectations[5].min_session"
    assert 'did you mean "min_sessions"?' in problem.message


def test_fault_kind_and_kind_specific_keys():
    problem = the_problem(changed("kind: network_drop", "kind: network_dorp"))
    assert problem.key_path == "faults[0].kind"
    assert "network_drop, station_fault, meter_fault, clock_skew, csms_unreachable, " \
        "corrupt_frame" in problem.message
    problem = the_problem(changed("{kind: network_drop, at: 6h, duration: 30m",
                                  "{kind: network_drop, at: 6h"))
    assert problem.key_path == "faults[0]"
    assert problem.message == 'required key "duration" is missing'


def test_fault_timing_and_station_patterns():
    text = changed("{kind: network_drop, at: 6h,", "{kind: network_drop, at: 25h,")
    assert "not before the end of the run (duration 1d)" in the_problem(text).message
    text = changed("{kind: corrupt_frame, at: 2h,", "{kind: corrupt_frame, at: 2h, random: "
                   "{per_day: 1},")
    assert the_problem(text).message.startswith("give either at (a fixed time) or random")
    text = changed('stations: "OFFICE-00*"', 'stations: "OFICE-00*"')
    problem = the_problem(text)
    assert problem.key_path == "faults[0].stations"
    assert problem.message == ('"OFICE-00*" matches no station; stations: OFFICE-001, '
                               "OFFICE-002, OFFICE-003, OFFICE-004")


def test_meter_faults_take_the_parameter_of_their_kind():
    text = changed("fault: stuck, duration: 1h", "fault: drift, drift_pct_per_h: 2")
    assert load(text).faults[2].drift_pct_per_h == 2
    text = changed("fault: stuck, duration: 1h", "fault: jump, jump_kwh: 1.5")
    assert load(text).faults[2].jump_wh == 1500
    assert load(changed("fault: stuck,", "fault: reset,")).faults[2].reset_to_wh == 0
    problem = the_problem(changed("fault: stuck,", "fault: drift,"))
    assert (problem.key_path, problem.message) == ("faults[2].fault",
                                                   "fault: drift needs drift_pct_per_h")
    problem = the_problem(changed("fault: stuck,", "fault: stuck, jump_kwh: 2,"))
    assert (problem.key_path, problem.message) == ("faults[2].jump_kwh",
                                                   "jump_kwh applies only to fault: jump")


def test_operation_params_are_checked_per_command():
    problems = problems_of(changed("limit_kw: 7", "limit_kws: 7"))
    assert [(p.key_path, p.message.split(";")[0]) for p in problems] == [
        ("operations[3].params", 'required key "limit_kw" is missing'),
        ("operations[3].params.limit_kws", 'unknown key "limit_kws"')]
    problem = the_problem(changed("command: reset", "command: rest"))
    assert problem.message.endswith('did you mean "reset"?')


def test_catalogue_models_are_checked_when_a_catalogue_is_known():
    problem = the_problem(changed('model: "VW ID.3"', 'model: "VW ID3"'))
    assert problem.key_path == "vehicles.mix[0].model"
    assert 'did you mean "VW ID.3"?' in problem.message
    # without a catalogue (vehicle_models unknown) the name is taken as written
    spec = load_scenario_text(changed('model: "VW ID.3"', 'model: "VW ID3"'),
                              vehicle_models=frozenset({"VW ID3"}))
    assert spec.vehicles.mix[0].model == "VW ID3"


def test_a_vehicle_is_either_a_model_or_your_own():
    problem = the_problem(changed('{model: "VW ID.3", weight: 2}', "{weight: 2}"))
    assert problem.key_path == "vehicles.mix[0]"
    assert "not a valid vehicle: expected either model" in problem.message
    problem = the_problem(changed('{model: "VW ID.3", weight: 2}',
                                  '{model: "VW ID.3", ac_kw: 7}'))
    assert problem.key_path == "vehicles.mix[0].ac_kw"
    assert "cannot go with model" in problem.message


def test_passwords_name_existing_stations():
    problem = the_problem(changed("passwords: {OFFICE-001: pw}", "passwords: {OFICE-001: pw}"))
    assert problem.key_path == "backend.passwords.OFICE-001"
    assert 'did you mean "OFFICE-001"?' in problem.message


def test_load_balancing_needs_a_grid_limit():
    problem = the_problem(changed("    grid_limit_kw: 100\n", ""))
    assert problem.key_path == "sites[0].load_balancing"
    assert "grid_limit_kw" in problem.message


def test_evse_numbers_must_exist_on_the_stations():
    text = changed("params: {evse: 1, token: APP-0001}", "params: {evse: 3, token: APP-0001}")
    problem = the_problem(text)
    assert problem.key_path == "operations[1].params.evse"
    assert problem.message == "EVSE 3 does not exist: OFFICE-002 has 2 EVSEs"
    text = changed("error_code: GroundFailure", "error_code: GroundFailure, evse: 5")
    assert the_problem(text).key_path == "faults[1].evse"


def test_merged_mappings_point_at_the_anchor():
    text = MINIMAL.replace("  ac:\n", "  ac: &ac\n    evses: -2\n") + (
        "  - id: work\n    stations: [{template: ac2}]\n")
    text = text.replace("sites:\n", "  ac2:\n    <<: *ac\n    ocpp: \"2.0.1\"\nsites:\n")
    problems = problems_of(text)
    assert {p.key_path for p in problems} == {"station_templates.ac.evses",
                                              "station_templates.ac2.evses"}
    assert {(p.line, p.column) for p in problems} == {(line_of(text, "evses: -2"), 12)}


def test_bad_template_names_point_at_the_name():
    text = changed("  ac22:\n", "  ac 22:\n")
    problem = the_problem(text)
    assert (problem.line, problem.column) == (line_of(text, "ac 22:"), 3)
    assert problem.key_path == 'station_templates["ac 22"]'


def test_several_problems_are_reported_together_in_line_order():
    text = changed("seed: 42", "sede: 42")
    text = changed("evses: 2", "evses: two", text)
    text = changed("count: 4,", "count: -3,", text)
    text = changed("kind: corrupt_frame", "kind: corrupted_frame", text)
    with pytest.raises(ScenarioError) as caught:
        load(text)
    problems = caught.value.problems
    assert [p.key_path for p in problems] == ["sede", "station_templates.ac22.evses",
                                              "sites[0].stations[0].count", "faults[5].kind"]
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    lines = str(caught.value).splitlines()
    assert len(lines) == 4
    assert all(line.startswith("scenarios/x.yaml:") for line in lines)


def test_several_semantic_problems_are_reported_together():
    text = changed("template: ac22", "template: ac2")
    text = changed("    site: office", "    site: nowhere", text)
    text = changed("at: 10h", "at: 2d", text)
    keys = [p.key_path for p in problems_of(text)]
    assert keys == ["sites[0].stations[0].template", "drivers[0].site", "faults[4].at"]


def test_key_paths_read_like_the_yaml():
    assert format_path(("sites", 0, "stations", 1, "count")) == "sites[0].stations[1].count"
    assert format_path(("vehicles", "mix", 0, "model")) == "vehicles.mix[0].model"
    assert format_path(("station_templates", "ac 22")) == 'station_templates["ac 22"]'
    assert format_path(()) == ""


def test_load_scenario_reports_the_file_path(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text(changed("seed: 42", "sede: 42"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, vehicle_models=MODELS)
    assert str(caught.value).startswith(f"{path}:3:1: sede: ")
