"""The shipped scenario library (``scenarios/*.yaml``): every scenario loads, runs against the
reference CSMS with all its expectations held, and shows what it exists to show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from simulator.engine import run_scenario
from simulator.expectations import Evidence, check
from simulator.library import shipped
from simulator.power_series import total_power_w
from simulator.results import SimulationResult
from simulator.scenario import load_scenario
from simulator.scenario.spec import ExpectationSpec

SCHEMA_COMMENT = "# yaml-language-server: $schema=../simulator/scenario/scenario.schema.json"


def test_the_library_is_there() -> None:
    assert {"quickstart", "workplace-ac", "highway-dc-hub", "network-outage", "boot-storm",
            "meter-faults", "smart-charging-site-limit", "reservations",
            "remote-operations", "payments", "bookings", "notifications"} <= set(shipped())


@pytest.mark.parametrize("name", sorted(shipped()))
def test_a_shipped_scenario_loads_and_says_what_it_shows(name: str) -> None:
    path = shipped()[name]
    spec = load_scenario(path)  # checked against the schema
    assert spec.name == name  # what users type is what the run folder is called
    assert path.read_text().splitlines()[0] == SCHEMA_COMMENT
    assert len(spec.description) > 80
    assert spec.expectations


async def _run(name: str) -> SimulationResult:
    result = await run_scenario(load_scenario(shipped()[name]), runs_root=None)
    failed = [f"{v.kind}: expected {v.expected}; observed {v.observed} ({v.location})"
              for v in result.verdicts if not v.passed]
    assert not failed, f"{name}: " + "\n".join(failed)
    return result


def _verdict(result: SimulationResult, kind: str, value: object) -> str:
    """What another check would say of this run."""
    tables = result.tables
    evidence = Evidence(load_scenario(shipped()[result.scenario]), tables,
                        csms_transactions=tables.get("csms_transactions"),
                        csms_alerts=tables.get("csms_alerts"))
    return check(ExpectationSpec(kind, value), evidence).status  # type: ignore[arg-type]


# -- what each scenario shows --------------------------------------------------------------------


def _workplace_ac(result: SimulationResult) -> None:
    power = result.tables["power"]
    total = total_power_w(power)
    assert total.max() == pytest.approx(40_000, rel=1e-3)  # the limit binds ...
    at = float(total.idxmax())
    latest = power[power["t_s"] <= at].groupby(["station_id", "evse_id"])["power_w"].last()
    charging = latest[latest > 0]
    # ... so the cars charging share it equally (one tapering off may take less than its
    # share), each below the 11 kW it could take
    share = charging.max()
    assert len(charging) >= 4 and share < 11_000
    assert ((charging - share).abs() < 1).sum() >= 3
    days = (result.visits["arrival_s"] // 86_400).value_counts()
    assert days.get(0, 0) > days.get(1, 0) > 0  # a busy Friday, a quiet Saturday


def _highway_dc_hub(result: SimulationResult) -> None:
    visits = result.visits
    queued = visits[(visits["outcome"] == "charged") & (visits["waited_s"] > 0)]
    assert len(queued) >= 10  # drivers queued for a charger, then charged
    assert (visits["outcome"] == "abandoned").any()  # and some drove on
    assert set(visits["outcome"]) <= {"charged", "abandoned"}
    power = result.tables["power"]
    assert power.loc[power["station_id"] == "HUB-004", "power_w"].max() > 150_000  # the 350


def _network_outage(result: SimulationResult) -> None:
    messages = result.tables["messages"]
    outcomes = messages["outcome"].value_counts()
    assert outcomes.get("queued", 0) == outcomes.get("replayed", 0) > 20
    replayed = set(messages.loc[messages["outcome"] == "replayed", "action"])
    assert {"StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"} & replayed
    csms = result.tables["csms_transactions"]
    assert csms["late"].astype(bool).any()  # stored with the stations' own, older timestamps
    sessions = result.sessions
    assert sessions["started_offline"].any()  # charges began while the CSMS was out of reach
    alerts = result.tables["csms_alerts"]
    offline = alerts[alerts["kind"] == "offline"]
    morning = {"PLAZA-A001", "PLAZA-A002", "PLAZA-B001", "PLAZA-B002"}
    first_seen = pd.to_datetime(offline["first_seen"], utc=True)
    assert set(offline.loc[first_seen.dt.hour == 10, "station_id"]) == morning
    assert offline.loc[first_seen.dt.hour == 14, "station_id"].nunique() == 8


def _boot_storm(result: SimulationResult) -> None:
    events = result.events
    booted = events[events["kind"] == "boot_accepted"]
    assert len(booted) == 300
    assert booted["t_s"].max() < 30  # all of them in the first seconds
    boots = result.tables["messages"]
    boots = boots[boots["action"] == "BootNotification"]
    assert (boots["outcome"] == "ok").all()


def _meter_faults(result: SimulationResult) -> None:
    sessions = result.sessions.set_index(["station_id", "transaction_id"])
    csms = result.tables["csms_transactions"].set_index(["station_id", "transaction_id"])
    assert (csms["energy_wh"] >= 0).all()
    alerts = result.tables["csms_alerts"]
    stuck = alerts[alerts["kind"] == "stuck_session"]
    assert set(stuck["station_id"]) == {"OFFICE-001", "OFFICE-003"}
    # the reset: the CSMS keeps the highest register it saw, the station's books say less
    reset = sessions.loc["OFFICE-003"].sort_values("started_s").iloc[0]
    booked = csms.loc[("OFFICE-003", reset.name), "energy_wh"]
    assert reset["energy_wh"] < booked < reset["needed_wh"]
    # the jump: both agree on 40 kWh that never reached the car
    jumped = sessions.loc["OFFICE-002"].sort_values("started_s").iloc[0]
    assert jumped["energy_wh"] - jumped["needed_wh"] == pytest.approx(40_000, abs=50)
    assert csms.loc[("OFFICE-002", jumped.name), "energy_wh"] == pytest.approx(
        jumped["energy_wh"], abs=1)
    # the checks the scenario leaves out catch the faulty meters
    assert _verdict(result, "energy_within_pct", {"of": "needed", "pct": 1.0}) == "failed"
    assert _verdict(result, "transactions_match_csms", {"energy_tolerance_wh": 1.0}) == "failed"


def _smart_charging_site_limit(result: SimulationResult) -> None:
    operations = result.tables["operations"]
    assert len(operations) == 8
    assert (operations["http_status"] == 200).all() and (operations["status"] == "Accepted").all()
    profile_at = 3600.0
    power = result.tables["power"]
    before, after = power[power["t_s"] < profile_at], power[power["t_s"] >= profile_at]
    assert before["power_w"].max() == pytest.approx(22_000)
    total = total_power_w(power)
    assert total[total.index < profile_at].max() == pytest.approx(44_000)  # two vans in
    assert after["power_w"].max() <= 12_000 + 1e-6  # every station at once, 1.6 and 2.0.1
    latest = before.groupby(["station_id", "evse_id"])["power_w"].last()
    cut = after[after["t_s"] == profile_at].set_index(["station_id", "evse_id"])["power_w"]
    assert (latest[cut.index] > cut).all() and len(cut) == 2  # both charging vans dropped
    assert total[total.index >= profile_at].max() <= 96_000 + 1e-6


def _reservations(result: SimulationResult) -> None:
    operations = result.tables["operations"]
    assert (operations["http_status"].isin([200, 201])).all()
    assert (operations["status"] == "Accepted").all()
    reservations = result.tables["csms_reservations"].set_index("id")
    assert reservations["status"].to_dict() == {101: "Used", 102: "Used", 103: "Cancelled",
                                                104: "Expired"}
    visits = result.visits.set_index("id_token")
    sessions = result.sessions.set_index("id_token")
    for reservation_id in (101, 102):  # the holders charged at the EVSE held for them
        held = reservations.loc[reservation_id]
        visit = visits.loc[held["id_token"]]
        assert (visit["station_id"], visit["evse_id"]) == (held["station_id"], held["evse_id"])
        assert str(sessions.loc[held["id_token"], "transaction_id"]) == held["transaction_id"]
    assert visits.loc["CHLOE-0003", "outcome"] == "charged"
    events = result.events
    assert not events["kind"].eq("token_rejected").any()  # nobody refused at a reserved bay
    statuses = result.tables["status_changes"]
    assert (statuses["status"] == "Reserved").sum() >= 4


# every command of the format but the reservations, which reservations.yaml shows
REMOTE_COMMANDS = {"remote_start", "remote_stop", "reset", "unlock", "change_availability",
                   "trigger_message", "set_charging_profile", "clear_charging_profile",
                   "update_firmware", "get_log", "data_transfer", "set_variables",
                   "change_configuration"}


def _remote_operations(result: SimulationResult) -> None:
    operations = result.tables["operations"]
    assert set(operations["command"]) == REMOTE_COMMANDS
    assert operations["http_status"].isin([200, 201]).all(), operations
    # every request got the station's answer; 1.6 UpdateFirmware's answer has no status
    silent = operations[operations["status"].isna()]
    assert list(zip(silent["command"], silent["station_id"], strict=True)) == [
        ("update_firmware", "YARD-A002")]
    answers = operations.dropna(subset=["status"]).set_index(["command", "station_id"])["status"]
    assert answers[("data_transfer", "YARD-A002")] == "UnknownVendorId"
    assert answers[("unlock", "YARD-B001")] == "Unlocked"
    assert (answers.drop(["data_transfer", "unlock"]) == "Accepted").all(), answers
    events = result.events
    uploads = events.loc[events["kind"] == "log_upload", "detail"]
    assert len(uploads) == 2 and uploads.str.endswith(": Uploaded").all()
    firmware = events[events["kind"] == "firmware_done"]
    assert set(firmware["station_id"]) == {"YARD-A002", "YARD-B002"}
    assert (firmware["detail"] == "Installed").all()
    # the fleet cars: limited to 7 kW at 08:30, released at 09:00, stopped at 09:30
    power = result.tables["power"]
    for station in ("YARD-A001", "YARD-B001"):
        steps = power[power["station_id"] == station].set_index("t_s")["power_w"]
        assert steps[9000.0] == pytest.approx(7000) and steps[10800.0] > 7000
        assert steps[12600.0] == 0
    stopped = result.sessions[result.sessions["evse_id"] == 1]
    assert (stopped["stop_reason"] == "Remote").all() and len(stopped) == 2


def _payments(result: SimulationResult) -> None:
    accounts = result.tables["driver_accounts"]
    assert 0 < accounts["declines"].sum() < len(accounts)
    payments = result.tables["csms_payments"]
    captured = payments[payments["status"] == "captured"]
    assert len(captured) >= 5
    assert (captured["captured"].map(float) == captured["cost"].map(float)).all()
    declining = set(accounts.loc[accounts["declines"], "id_token"])
    refused = result.visits[result.visits["id_token"].isin(declining)]
    assert len(refused) and (refused["outcome"] == "rejected").all()
    assert (payments.loc[payments["status"] == "declined", "captured"].map(float) == 0).all()


def _bookings(result: SimulationResult) -> None:
    bookings = result.tables["bookings"]
    statuses = bookings["status"].value_counts()
    assert statuses["used"] >= 3 and statuses["no_show"] >= 1
    assert set(statuses.index) == {"used", "no_show"}
    stayed_away = result.visits[result.visits["outcome"] == "stayed_away"]
    assert set(stayed_away["id_token"]) == set(bookings.loc[bookings["status"] == "no_show",
                                                             "id_token"])
    fees = result.tables["csms_payments"].query("kind == 'fee'")
    assert (fees["captured"] == "5.00").all() and len(fees) == statuses["no_show"]
    walk_ins = result.visits[result.visits["population"] == "walk-ins"]
    assert len(walk_ins) and not result.events["kind"].eq("token_rejected").any()


def _notifications(result: SimulationResult) -> None:
    notes = result.tables["csms_notifications"]
    kinds = notes["kind"].value_counts()
    assert kinds["approaching.free"] >= 10 and kinds.get("approaching.taken", 0) >= 1
    told = notes.loc[notes["kind"].str.startswith("approaching."), "station_id"]
    assert set(told) == {"SERVICES-001", "SERVICES-002"}  # the 50 kW one never matches


SHOWS: dict[str, Callable[[SimulationResult], None]] = {
    "payments": _payments,
    "bookings": _bookings,
    "notifications": _notifications,
    "workplace-ac": _workplace_ac,
    "highway-dc-hub": _highway_dc_hub,
    "network-outage": _network_outage,
    "boot-storm": _boot_storm,
    "meter-faults": _meter_faults,
    "smart-charging-site-limit": _smart_charging_site_limit,
    "reservations": _reservations,
    "remote-operations": _remote_operations,
}


@pytest.mark.parametrize("name", sorted(shipped()))
async def test_a_shipped_scenario_passes_against_the_reference_csms(name: str) -> None:
    result = await _run(name)
    shows = SHOWS.get(name)
    if shows is not None:
        shows(result)


def test_every_scenario_has_its_own_check_or_is_the_quickstart() -> None:
    assert set(shipped()) - set(SHOWS) <= {"quickstart"}
    assert set(SHOWS) <= set(shipped())


def test_scenario_data_files_are_next_to_the_scenarios() -> None:
    # replayed sessions CSVs are relative to the scenario file
    for name in ("smart-charging-site-limit", "reservations", "remote-operations"):
        spec = load_scenario(shipped()[name])
        for population in spec.drivers:
            replay = population.arrivals.replay
            if replay is not None:
                assert Path(replay).is_file()
                assert Path(replay).parent.parent == shipped()[name].parent


async def test_the_depot_without_its_profile_goes_over_its_connection() -> None:
    """The smart charging scenario's point: the same day without the operator's profile has no
    local balancer to hold the vans back."""
    from dataclasses import replace

    spec = load_scenario(shipped()["smart-charging-site-limit"])
    result = await run_scenario(replace(spec, operations=()), runs_root=None)
    verdict = next(v for v in result.verdicts if v.kind == "site_power_within_limit")
    assert verdict.status == "failed", verdict
