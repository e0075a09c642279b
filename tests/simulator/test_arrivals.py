"""Arrivals: the built-in profiles against the defaults file, Poisson arrivals by thinning, and
sessions-CSV replay with errors that name the row and the column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from simulator.arrivals import (
    PROFILES,
    ArrivalProfile,
    ReplayError,
    local_hour_weekday,
    poisson_arrival_times,
    poisson_arrivals,
    replay_sessions,
)

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DAY = 86_400.0


def quantile_hour(profile: ArrivalProfile, q: float) -> float:
    """Hour of day at quantile ``q`` of the profile (uniform within each hour)."""
    cdf = np.concatenate(([0.0], np.cumsum(profile.hour_shares)))
    return float(np.interp(q, cdf, np.arange(25)))


@pytest.mark.parametrize(("name", "anchors", "peak_hour"), [
    ("workplace", {0.1: 7.25, 0.5: 9.0, 0.9: 14.25}, 8),
    ("public", {0.1: 8.5, 0.5: 15.5, 0.9: 20.75}, 18),
    ("home", {0.5: 18.5, 0.9: 22.5}, 18),
])
def test_profiles_match_the_elaadnl_quantiles(name: str, anchors: dict[float, float],
                                              peak_hour: int) -> None:
    profile = PROFILES[name]
    for q, hour in anchors.items():
        assert quantile_hour(profile, q) == pytest.approx(hour, abs=10 / 60)
    assert int(np.argmax(profile.hour_shares)) == peak_hour


def test_profile_shapes() -> None:
    assert set(PROFILES) == {"workplace", "public", "highway", "home", "flat"}
    work = PROFILES["workplace"].day_factors
    assert work[:5].mean() == pytest.approx(1.0)
    assert work[5] < 0.5 and work[6] < 0.5  # offices are mostly closed at weekends
    highway = PROFILES["highway"].hour_shares
    assert highway[8:20].sum() > 0.75  # daytime-heavy
    with pytest.raises(ValueError):
        ArrivalProfile((1.0,) * 23)
    with pytest.raises(ValueError):
        ArrivalProfile((1.0,) * 24, (1.0,) * 6)
    with pytest.raises(ValueError):
        ArrivalProfile((0.0,) * 24)


def test_poisson_mean_count_is_within_a_statistical_bound() -> None:
    rng = np.random.default_rng(11)
    days, per_day = 200, 50.0
    counts = [poisson_arrival_times(rng, "flat", per_day, MONDAY, days * DAY).size
              for _ in range(5)]
    expected = days * per_day
    for count in counts:
        assert abs(count - expected) < 4 * expected**0.5  # 4 sigma of Poisson(10 000)
    # per_day means the mean weekday: a workplace week has 5 + 0.25 + 0.15 weekday-equivalents
    week = poisson_arrival_times(rng, "workplace", 100.0, MONDAY, 70 * DAY).size / 10
    assert week == pytest.approx(100.0 * 5.4, rel=0.05)


def test_hour_of_day_histogram_follows_the_profile() -> None:
    rng = np.random.default_rng(3)
    profile = PROFILES["workplace"]
    times = poisson_arrival_times(rng, profile, 100.0, MONDAY, 100 * DAY)
    hours, _ = local_hour_weekday(MONDAY, times)
    observed = np.bincount(hours, minlength=24)
    expected = profile.hour_shares * times.size
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 60.0  # 23 degrees of freedom: the 99.99th percentile is about 56


def test_time_zone_shifts_local_hours() -> None:
    rng = np.random.default_rng(5)
    times = poisson_arrival_times(rng, "workplace", 200.0, MONDAY, 20 * DAY,
                                  tz="Europe/Amsterdam")
    utc_hours, _ = local_hour_weekday(MONDAY, times)
    assert int(np.argmax(np.bincount(utc_hours, minlength=24))) == 7  # 08 h CET is 07 h UTC
    local, weekday = local_hour_weekday(MONDAY, np.array([0.0, 3600.0 * 23]), "Europe/Amsterdam")
    assert local.tolist() == [1, 0] and weekday.tolist() == [0, 1]


def test_same_seed_same_arrivals_different_seed_different() -> None:
    a = poisson_arrivals(np.random.default_rng(1), "public", 30.0, MONDAY, 7 * DAY)
    b = poisson_arrivals(np.random.default_rng(1), "public", 30.0, MONDAY, 7 * DAY)
    c = poisson_arrivals(np.random.default_rng(2), "public", 30.0, MONDAY, 7 * DAY)
    assert a == b and a != c
    assert a == sorted(a) and all(0 <= t < 7 * DAY for t in a)


def test_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="unknown arrival profile"):
        poisson_arrivals(rng, "stadium", 1.0, MONDAY, DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        poisson_arrivals(rng, "flat", 1.0, datetime(2026, 1, 5), DAY)
    assert poisson_arrivals(rng, "flat", 0.0, MONDAY, DAY) == []


# -- replay ---------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sessions.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_replay_reads_iso_and_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "Arrival,departure,dwell_s,energy_kwh,target_soc,site,station,token,note\n"
        "2026-01-05T09:00:00Z,2026-01-05T17:30:00Z,,12.5,,W1,CS-1,04A1B2C3D4E5F6,x\n"
        "3600,,1800,,0.8,,,,\n"
        "\n"
        "2026-01-05T08:00:00+01:00,,600,,,,,,\n"))
    rows = replay_sessions(path, MONDAY)
    assert [r.arrival_s for r in rows] == [3600.0, 7 * 3600.0, 9 * 3600.0]
    first = rows[2]
    assert (first.row, first.dwell_s, first.energy_wh, first.site_id, first.station_id,
            first.token_id) == (1, 8.5 * 3600, 12_500.0, "W1", "CS-1", "04A1B2C3D4E5F6")
    assert (rows[0].dwell_s, rows[0].target_soc, rows[0].energy_wh) == (1800.0, 0.8, None)
    assert rows[1].row == 3  # the blank line is not a row


@pytest.mark.parametrize(("text", "row", "column", "words"), [
    ("arrival,dwell_s\n100,60\nsoon,60\n", 2, "arrival", "neither ISO-8601"),
    ("arrival,departure\n2026-01-05T10:00:00Z,2026-01-05T09:00:00Z\n", 1, "departure",
     "not after"),
    ("arrival,dwell_s,energy_kwh\n0,60,lots\n", 1, "energy_kwh", "not a number"),
    ("arrival,dwell_s,target_soc\n0,60,1.5\n", 1, "target_soc", "out of range"),
    ("arrival,dwell_s\n0,\n", 1, "dwell_s", "departure or a dwell_s"),
    ("arrival,dwell_s\n2026-01-04T23:00:00Z,60\n", 1, "arrival", "before the simulation"),
    ("arrival,dwell_s\n0,-5\n", 1, "dwell_s", "out of range"),
])
def test_replay_errors_name_file_row_and_column(tmp_path: Path, text: str, row: int,
                                                column: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ReplayError) as caught:
        replay_sessions(path, MONDAY)
    error = caught.value
    assert (error.row, error.column) == (row, column)
    message = str(error)
    assert str(path) in message and f"row {row}" in message and repr(column) in message
    assert words in message


@pytest.mark.parametrize(("text", "column"), [
    ("when,dwell_s\n0,60\n", "arrival"),
    ("arrival,energy_kwh\n0,5\n", "departure"),
    ("", None),
])
def test_replay_header_errors(tmp_path: Path, text: str, column: str | None) -> None:
    with pytest.raises(ReplayError) as caught:
        replay_sessions(write(tmp_path, text), MONDAY)
    assert caught.value.column == column and caught.value.row is None


def test_replay_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match=r"nope\.csv"):
        replay_sessions(tmp_path / "nope.csv", MONDAY + timedelta(days=1))
