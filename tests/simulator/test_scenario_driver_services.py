"""The driver-service keys of the scenario format: tariffs, accounts, booking behaviour and
approaching notifications; their spec values and errors that name file, line, key and what is
allowed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from simulator.driver_services import tariff_error
from simulator.scenario import load_scenario
from tests.simulator.test_scenario_loader import line_of, load, problems_of, the_problem

BASE = """\
name: services
duration: 4h
station_templates:
  dc:
    connectors: [{type: CCS2, max_power_kw: 150}]
  ac:
    connectors: [{type: Type2, max_power_kw: 22}]
sites:
  - id: hub
    location: {lat: 52.0, lon: 5.0}
    stations: [{template: dc, count: 2}]
  - id: town
    stations: [{template: ac, count: 1}]
tariffs:
  - id: hub-dc
    name: Hub DC
    currency: EUR
    energy_price_per_kwh: 0.59
    session_fee: 1
    vat_percent: 19
    assign: {sites: [hub], stations: [TOWN-001]}
drivers:
  - name: app
    site: hub
    arrivals: {per_day: 20}
    account: {card: ok, declined_share: 0.25}
    behaviour: {book: 0.5, book_lead: 5m, book_no_show: 0.2}
    notifications:
      approaching: {radius_km: 3, connector_type: CCS2, min_power_kw: 100}
    route: {polyline: [[52.1, 5.0], [52.0, 5.0]]}
"""


def with_(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_keys_load_into_the_spec_in_si_units_with_exact_amounts():
    spec = load(BASE)
    (tariff,) = spec.tariffs
    assert tariff.id == "hub-dc" and not tariff.default
    assert tariff.station_ids == ("HUB-001", "HUB-002", "TOWN-001")
    assert tariff.document["energy_price_per_kwh"] == "0.59"  # not the float nearest to it
    assert Decimal(tariff.document["energy_price_per_kwh"]) == Decimal("0.59")
    assert "assign" not in tariff.document
    (group,) = spec.drivers
    assert group.account is not None and group.account.declined_share == 0.25
    assert group.behaviour.book == 0.5 and group.behaviour.book_lead_s == 300.0
    assert group.behaviour.book_no_show == 0.2
    approaching = group.notifications.approaching
    assert approaching is not None
    assert (approaching.radius_km, approaching.connector_type, approaching.min_power_w) == \
        (3.0, "CCS2", 100_000.0)
    assert approaching.position_every_s == 60.0


def test_defaults_without_the_keys():
    spec = load(with_("""    account: {card: ok, declined_share: 0.25}
    behaviour: {book: 0.5, book_lead: 5m, book_no_show: 0.2}
    notifications:
      approaching: {radius_km: 3, connector_type: CCS2, min_power_kw: 100}
""", ""))
    (group,) = spec.drivers
    assert group.account is None and group.notifications.approaching is None
    assert group.behaviour.book == 0.0 and group.behaviour.book_lead_s == 600.0


def test_the_csms_rules_for_a_tariff_point_at_the_key():
    text = with_("    vat_percent: 19\n", "    vat_percent: 190\n")
    problem = the_problem(text)
    assert problem.line == line_of(text, "vat_percent: 190")
    assert problem.key_path == "tariffs[0].vat_percent"
    assert "less than or equal to 100" in problem.message


def test_a_bad_band_time_points_inside_the_band():
    text = with_("    vat_percent: 19\n", "    vat_percent: 19\n    bands:\n"
                 "      - {name: night, start: '25:00', end: '06:00', "
                 "energy_price_per_kwh: 0.3}\n")
    problem = the_problem(text)
    assert problem.key_path == "tariffs[0].bands[0].start"
    assert problem.line == line_of(text, "name: night")
    assert "25:00" in problem.message


def test_an_unknown_tariff_key_lists_the_allowed():
    text = with_("    session_fee: 1\n", "    session_fees: 1\n")
    problem = the_problem(text)
    assert problem.key_path == "tariffs[0].session_fees"
    assert problem.line == line_of(text, "session_fees")
    assert 'did you mean "session_fee"' in problem.message
    assert "energy_price_per_kwh" in problem.message


def test_a_bad_currency_is_the_csms_s_message():
    problem = the_problem(with_("    currency: EUR\n", "    currency: EURO\n"))
    assert problem.key_path == "tariffs[0].currency"
    assert "ISO 4217" in problem.message


def test_tariff_assignments_name_sites_and_stations_that_exist():
    text = with_("assign: {sites: [hub], stations: [TOWN-001]}",
                 "assign: {sites: [hubb], stations: [CITY-*]}")
    problems = problems_of(text)
    assert [p.key_path for p in problems] == ["tariffs[0].assign.sites[0]",
                                              "tariffs[0].assign.stations[0]"]
    assert 'did you mean "hub"' in problems[0].message
    assert "matches no station" in problems[1].message


def test_one_default_tariff_at_most():
    second = """  - {id: b, name: B, currency: EUR, assign: {default: true}}
  - {id: c, name: C, currency: EUR, assign: {default: true}}
drivers:"""
    text = with_("drivers:", second)
    problem = the_problem(text)
    assert problem.key_path == "tariffs[2].assign.default"
    assert "b already is" in problem.message


def test_booking_and_notifications_need_an_account():
    text = with_("    account: {card: ok, declined_share: 0.25}\n", "")
    problems = problems_of(text)
    assert [p.key_path for p in problems] == ["drivers[0].behaviour.book",
                                              "drivers[0].notifications"]
    assert all("account" in p.message for p in problems)
    assert problems[0].line == line_of(text, "behaviour:")


def test_approaching_needs_a_route_and_a_located_site():
    text = with_("    route: {polyline: [[52.1, 5.0], [52.0, 5.0]]}\n", "")
    text = with_("    site: hub\n", "    site: town\n", text)
    problems = problems_of(text)
    assert [p.key_path for p in problems] == ["drivers[0].notifications.approaching"] * 2
    assert "add route" in problems[0].message
    assert "site town has no location" in problems[1].message


def test_declined_share_goes_with_card_ok():
    problem = the_problem(with_("{card: ok, declined_share: 0.25}",
                                "{card: declined, declined_share: 0.25}"))
    assert problem.key_path == "drivers[0].account.declined_share"
    assert "card: ok" in problem.message


def test_schema_errors_for_the_new_keys_list_what_is_allowed():
    problem = the_problem(with_("{card: ok, declined_share: 0.25}", "{card: maybe}"))
    assert problem.key_path == "drivers[0].account.card"
    assert "allowed values: ok, declined" in problem.message
    problem = the_problem(with_("book: 0.5,", "book: 1.5,"))
    assert problem.key_path == "drivers[0].behaviour.book"
    problem = the_problem(with_("connector_type: CCS2,", "connector_type: CCS3,"))
    assert problem.key_path == "drivers[0].notifications.approaching.connector_type"
    assert 'did you mean "CCS2"' in problem.message


def test_driver_services_need_the_reference_backend():
    text = with_("duration: 4h\n", "duration: 4h\nbackend: {kind: url, url: 'ws://x/ocpp'}\n")
    paths = [p.key_path for p in problems_of(text)]
    assert paths == ["tariffs", "drivers[0].account", "drivers[0].notifications"]


def test_the_new_expectations_need_what_they_check():
    text = with_("""    account: {card: ok, declined_share: 0.25}
    behaviour: {book: 0.5, book_lead: 5m, book_no_show: 0.2}
    notifications:
      approaching: {radius_km: 3, connector_type: CCS2, min_power_kw: 100}
""", "") + "expectations:\n  - payments_match_costs: true\n  - bookings_honoured: true\n" \
        "  - approach_alerts: true\n"
    problems = problems_of(text)
    assert [p.key_path for p in problems] == [
        "expectations[0].payments_match_costs", "expectations[1].bookings_honoured",
        "expectations[2].approach_alerts"]
    assert "without a driver group with an account" in problems[0].message
    assert problems[2].line == line_of(text, "approach_alerts")


def test_tariff_ids_are_unique():
    text = with_("drivers:", "  - {id: hub-dc, name: Again, currency: EUR, "
                 "assign: {default: true}}\ndrivers:")
    problem = the_problem(text)
    assert problem.key_path == "tariffs[1].id"
    assert "already used at scenarios/x.yaml:" in problem.message


def test_a_422_from_the_csms_at_run_time_points_at_the_scenario_key(tmp_path: Path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    spec = load_scenario(path)
    error = tariff_error(spec, spec.tariffs[0], [
        {"loc": ["body", "energy_price_per_kwh"], "msg": "too dear", "type": "value_error"}])
    [problem] = error.problems
    assert (problem.file, problem.key_path) == (str(path), "tariffs[0].energy_price_per_kwh")
    assert problem.line == line_of(BASE, "energy_price_per_kwh")
    assert "the CSMS refused tariff hub-dc: too dear" in problem.message
