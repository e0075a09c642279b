"""When drivers arrive: hour-of-day x weekday profiles, non-homogeneous Poisson arrivals by
thinning, and replay of recorded sessions from a CSV file.

Profiles follow ``shared/reference/simulation-defaults.md`` section 4 (ElaadNL weekday
distributions as shipped with EV2Gym). Hours are local hours of the site's time zone (UTC unless
one is given).
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

DAY_S = 86_400.0
HOUR_S = 3_600.0


@dataclass(frozen=True, slots=True)
class ArrivalProfile:
    """Relative arrival intensity: 24 hourly weights (local hour 0..23) and 7 weekday weights
    (Monday first). Only the shapes matter: hourly weights are normalised to sum to 1, weekday
    weights to a Monday-Friday mean of 1, so that ``per_day`` means "arrivals on a mean weekday".
    """

    hourly: tuple[float, ...]
    weekday: tuple[float, ...] = (1.0,) * 7

    def __post_init__(self) -> None:
        hourly = tuple(float(w) for w in self.hourly)
        weekday = tuple(float(w) for w in self.weekday)
        if len(hourly) != 24:
            raise ValueError(f"hourly needs 24 weights, got {len(hourly)}")
        if len(weekday) != 7:
            raise ValueError(f"weekday needs 7 weights, got {len(weekday)}")
        if min(hourly) < 0 or sum(hourly) <= 0:
            raise ValueError("hourly weights must be >= 0 and not all 0")
        if min(weekday) < 0 or sum(weekday) <= 0:
            raise ValueError("weekday weights must be >= 0 and not all 0")
        object.__setattr__(self, "hourly", hourly)
        object.__setattr__(self, "weekday", weekday)

    @property
    def hour_shares(self) -> np.ndarray:
        """Share of a day's arrivals in each local hour (sums to 1)."""
        h = np.array(self.hourly)
        return h / h.sum()

    @property
    def day_factors(self) -> np.ndarray:
        """Per-weekday multiplier of ``per_day`` (Monday-Friday mean 1; if those are all 0, the
        week's mean is 1 instead)."""
        w = np.array(self.weekday)
        base = w[:5].mean() if w[:5].sum() > 0 else w.mean()
        return w / base

    def rate_per_s(self, per_day: float, hour: np.ndarray, weekday: np.ndarray) -> np.ndarray:
        """Arrivals per second at the given local hours and weekdays."""
        return per_day * self.day_factors[weekday] * self.hour_shares[hour] / HOUR_S


# Workplace, public and home are fitted to the ElaadNL quantiles of the defaults file:
# workplace p10/median/p90 07:15 / 09:00 / 14:15 with the 08-09 hour the peak; public 08:30 /
# 15:30 / 20:45 with the peak at 18:00; home median 18:30, p90 22:30, peak 18:00 (each within
# 5 minutes with hourly steps; tests/simulator/test_arrivals.py checks them).
_WORKPLACE = (0.002, 0.002, 0.002, 0.002, 0.002, 0.01, 0.04, 0.16, 0.28, 0.12, 0.08, 0.07,
              0.065, 0.055, 0.04, 0.02, 0.015, 0.012, 0.008, 0.005, 0.004, 0.003, 0.002, 0.001)
_PUBLIC = (0.005, 0.003, 0.002, 0.002, 0.002, 0.005, 0.015, 0.03, 0.072, 0.055, 0.055, 0.055,
           0.055, 0.055, 0.055, 0.068, 0.07, 0.085, 0.095, 0.07, 0.061, 0.04, 0.028, 0.017)
_HOME = (0.01, 0.005, 0.003, 0.002, 0.002, 0.003, 0.01, 0.015, 0.02, 0.02, 0.02, 0.025,
         0.03, 0.03, 0.035, 0.045, 0.06, 0.09, 0.15, 0.12, 0.085, 0.07, 0.065, 0.06)
# Highway: the sources give no distribution for DC fast charging. This is a plausible traffic
# shape, invented: quiet nights, a morning rise, the afternoon the busiest, and Friday and Sunday
# (holiday and weekend traffic) above the other days.
_HIGHWAY = (0.01, 0.006, 0.004, 0.004, 0.006, 0.015, 0.03, 0.045, 0.055, 0.06, 0.065, 0.068,
            0.07, 0.07, 0.072, 0.075, 0.078, 0.075, 0.065, 0.05, 0.04, 0.03, 0.02, 0.014)

PROFILES: dict[str, ArrivalProfile] = {
    # Weekend weights are not in the sources: offices are mostly closed, shops and homes not.
    "workplace": ArrivalProfile(_WORKPLACE, (1.0, 1.0, 1.0, 1.0, 0.9, 0.25, 0.15)),
    "public": ArrivalProfile(_PUBLIC, (1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 0.75)),
    "home": ArrivalProfile(_HOME, (1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9)),
    "highway": ArrivalProfile(_HIGHWAY, (0.95, 0.95, 0.95, 1.0, 1.15, 1.0, 1.1)),
    "flat": ArrivalProfile((1.0,) * 24, (1.0,) * 7),
}


def get_profile(profile: str | ArrivalProfile) -> ArrivalProfile:
    if isinstance(profile, ArrivalProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown arrival profile {profile!r}; "
                         f"built-in ones are {', '.join(sorted(PROFILES))}") from None


# -- time helpers ---------------------------------------------------------------------------------


def check_utc(start_utc: datetime) -> datetime:
    if start_utc.tzinfo is None or start_utc.utcoffset() is None:
        raise ValueError("start_utc must be timezone-aware (UTC)")
    return start_utc.astimezone(UTC)


def local_hour_weekday(start_utc: datetime, t_s: np.ndarray, tz: str | tzinfo | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Local hour (0..23) and weekday (Monday 0) of simulation times ``t_s`` (s since start)."""
    epoch = check_utc(start_utc).timestamp()
    t = np.asarray(t_s, dtype=float)
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    fixed = None if zone is None else zone.utcoffset(None)  # None for zones with DST rules
    if zone is None or fixed is not None:
        offset = 0.0 if fixed is None else fixed.total_seconds()
        absolute = epoch + offset + t
        day = np.floor(absolute / DAY_S)
        hour = ((absolute - day * DAY_S) // HOUR_S).astype(np.int64)
        # 1970-01-01 was a Thursday (weekday 3).
        return np.minimum(hour, 23), ((day.astype(np.int64) + 3) % 7)
    # A zone with daylight saving: let pandas do the calendar, vectorised.
    stamps = pd.to_datetime(np.round((epoch + t) * 1e9).astype(np.int64), utc=True)
    local = stamps.tz_convert(zone)
    return np.asarray(local.hour, dtype=np.int64), np.asarray(local.day_of_week, dtype=np.int64)


# -- Poisson arrivals -----------------------------------------------------------------------------


def poisson_arrival_times(rng: np.random.Generator, profile: str | ArrivalProfile,
                          per_day: float, start_utc: datetime, duration_s: float,
                          tz: str | tzinfo | None = None) -> np.ndarray:
    """Arrival times (s since start, sorted) of a non-homogeneous Poisson process whose rate
    follows ``profile``, by thinning: candidates at the peak rate, each kept with probability
    rate(t) / peak rate."""
    if per_day < 0 or not math.isfinite(per_day):
        raise ValueError(f"per_day must be a finite number >= 0, got {per_day}")
    if duration_s < 0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s}")
    prof = get_profile(profile)
    peak = per_day * prof.day_factors.max() * prof.hour_shares.max() / HOUR_S
    if peak <= 0 or duration_s == 0:
        return np.empty(0)
    # Given their count, the points of a homogeneous process are sorted uniform draws.
    candidates = np.sort(rng.uniform(0.0, duration_s, rng.poisson(peak * duration_s)))
    keep_draw = rng.uniform(0.0, peak, candidates.size)
    hour, weekday = local_hour_weekday(start_utc, candidates, tz)
    return candidates[keep_draw < prof.rate_per_s(per_day, hour, weekday)]


def poisson_arrivals(rng: np.random.Generator, profile: str | ArrivalProfile, per_day: float,
                     start_utc: datetime, duration_s: float,
                     tz: str | tzinfo | None = None) -> list[float]:
    """``poisson_arrival_times`` as a list of floats (the design page's signature)."""
    return poisson_arrival_times(rng, profile, per_day, start_utc, duration_s, tz).tolist()


# -- replay ---------------------------------------------------------------------------------------


class ReplayError(ValueError):
    """A sessions CSV that cannot be replayed; names the file, the row and the column."""

    def __init__(self, path: Path, message: str, row: int | None = None, line: int | None = None,
                 column: str | None = None) -> None:
        where = [str(path)]
        if row is not None:
            where.append(f"row {row} (line {line})")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")
        self.path, self.row, self.line, self.column = path, row, line, column


@dataclass(frozen=True, slots=True)
class ReplayRow:
    """One recorded session, in simulation seconds. ``energy_wh`` and ``target_soc`` are None
    when the file does not give them (``plan_visits`` then draws them)."""

    row: int
    arrival_s: float
    dwell_s: float
    energy_wh: float | None = None
    target_soc: float | None = None
    site_id: str | None = None
    station_id: str | None = None
    token_id: str | None = None


_COLUMNS = ("arrival", "departure", "dwell_s", "energy_kwh", "target_soc", "station", "site",
            "token")


def _parse_time(text: str, start: datetime) -> float:
    """Seconds since ``start``: a number is taken as seconds already, anything else must be
    ISO-8601 (``Z`` or an offset; no offset means UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - start) / timedelta(seconds=1)


def replay_sessions(csv_path: str | Path, start_utc: datetime) -> list[ReplayRow]:
    """Read a sessions CSV into rows sorted by arrival.

    Columns (header names, any case): ``arrival`` (ISO-8601 UTC, or seconds since
    ``start_utc``), ``departure`` (same forms) or ``dwell_s``, optionally ``energy_kwh`` or
    ``target_soc``, ``site``, ``station``, ``token``; others are ignored. A bad value raises
    ``ReplayError`` naming the file, the row and the column.
    """
    path = Path(csv_path)
    start = check_utc(start_utc)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ReplayError(path, f"cannot open: {exc.strerror}") from exc
    rows: list[ReplayRow] = []
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ReplayError(path, "the file is empty; expected a header line")
        names = [h.strip().lower() for h in header]
        index = {name: i for i, name in enumerate(names) if name in _COLUMNS}
        if "arrival" not in index:
            raise ReplayError(path, "no 'arrival' column in the header "
                                    f"(found: {', '.join(names)})", column="arrival")
        if "departure" not in index and "dwell_s" not in index:
            raise ReplayError(path, "needs a 'departure' or a 'dwell_s' column",
                              column="departure")
        ignored = [n for n in names if n not in _COLUMNS]
        if ignored:
            log.debug("%s: ignoring columns %s", path, ignored)
        number = 0  # data rows, blank lines not counted; the line number is in messages too
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            number += 1
            rows.append(_replay_row(path, number, reader.line_num, fields, index, start))
    rows.sort(key=lambda r: r.arrival_s)
    return rows


def _replay_row(path: Path, number: int, line: int, fields: Sequence[str], index: dict[str, int],
                start: datetime) -> ReplayRow:
    def value(column: str) -> str:
        i = index.get(column)
        return fields[i].strip() if i is not None and i < len(fields) else ""

    def fail(column: str, message: str) -> ReplayError:
        return ReplayError(path, message, number, line, column)

    def number_in(column: str, low: float, high: float) -> float | None:
        text = value(column)
        if not text:
            return None
        try:
            x = float(text)
        except ValueError:
            raise fail(column, f"{text!r} is not a number") from None
        if not (low <= x <= high) or math.isnan(x):
            raise fail(column, f"{text} is out of range [{low:g}, {high:g}]")
        return x

    def time_of(column: str) -> float | None:
        text = value(column)
        if not text:
            return None
        try:
            t = _parse_time(text, start)
        except ValueError:
            raise fail(column, f"{text!r} is neither ISO-8601 nor seconds since the start"
                       ) from None
        if not math.isfinite(t):
            raise fail(column, f"{text!r} is not a finite time")
        return t

    arrival = time_of("arrival")
    if arrival is None:
        raise fail("arrival", "empty")
    if arrival < 0:
        raise fail("arrival", f"{value('arrival')} is before the simulation start "
                              f"{start.isoformat()}")
    departure = time_of("departure")
    if departure is not None:
        dwell = departure - arrival
        if dwell <= 0:
            raise fail("departure", f"{value('departure')} is not after the arrival")
    else:
        dwell_or_none = number_in("dwell_s", 0.0, math.inf)
        if dwell_or_none is None:
            raise fail("departure" if "departure" in index else "dwell_s",
                       "needs a departure or a dwell_s")
        if dwell_or_none <= 0:
            raise fail("dwell_s", "must be > 0")
        dwell = dwell_or_none
    energy_kwh = number_in("energy_kwh", 0.0, 10_000.0)
    target = number_in("target_soc", 0.0, 1.0)
    return ReplayRow(number, arrival, dwell,
                     None if energy_kwh is None else energy_kwh * 1000.0, target,
                     value("site") or None, value("station") or None, value("token") or None)
