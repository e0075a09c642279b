"""Fleet-mode speed, and (to come) the networked simulator's real-time ceiling.

What is measured
    1. Fleet mode (``simulator.fleet.run_fleet``): N chargers (default 1,000) over D days
       (default 365), sessions simulated as events with exact analytic energy curves. The fleet
       is half DC (highway sites, 150 kW, about 4 sessions per charger and day), 30 % public AC
       (22 kW, about 2) and 20 % workplace AC (11 kW, about 1.25), in sites of four chargers,
       with the default vehicle mix; about a million sessions at full size. The wall time
       covers everything ``run_fleet`` does: drawing the visits, the queues, the energy, and
       the pandas tables. Meter series are lazy and not part of it (``--meter-series`` times
       them separately at the run's sample interval).
    2. Networked ceiling (``measure_realtime_ceiling``): how many stations one simulator process
       keeps in real time against the reference CSMS over WebSockets with 60 s meter values,
       and the p99 clock lateness there. Not written yet (it needs the networked station);
       both figures are null until it is.

Why
    Research runs sweep many fleet configurations over a year; the target is 1,000 chargers x
    365 days in <= 60 s on one core.

Figures
    A table, then the last line: one JSON object
    ``{"charger_days_per_s": ..., "year_1000_chargers_s": ..., "realtime_stations": ...,
    "lateness_p99_ms": ...}``; ``year_1000_chargers_s`` is 365,000 charger-days divided by
    the measured rate (the wall time itself at the default sizes).

Run
    python loadtests/benchmarks/fleet.py [--chargers 1000] [--days 365] [--seed 1]
        [--sample-interval 900] [--meter-series]
    A quick run: --chargers 100 --days 30
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

START_UTC = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
SITE_SIZE = 4
# (kind share of chargers, site kind, charger W, sessions per charger per weekday)
FLEET_SHAPE = (
    (0.5, "highway", 150_000.0, 4.0),
    (0.3, "public", 22_000.0, 2.0),
    (0.2, "workplace", 11_000.0, 1.25),
)


@dataclass(frozen=True, slots=True)
class Settings:
    chargers: int
    days: float
    seed: int
    sample_interval_s: float
    meter_series: bool


@dataclass(frozen=True, slots=True)
class FleetFigures:
    chargers: int
    days: float
    sessions: int
    abandoned: int
    energy_mwh: float
    wall_s: float
    meter_series_s: float | None
    meter_rows: int | None

    @property
    def charger_days_per_s(self) -> float:
        return self.chargers * self.days / self.wall_s

    @property
    def year_1000_chargers_s(self) -> float:
        return 365 * 1000 / self.charger_days_per_s


def build_fleet(chargers: int) -> tuple[list[Any], list[Any]]:
    """Charger specs and populations of the benchmark fleet (see the module docstring)."""
    from simulator.drivers import Population
    from simulator.fleet import ChargerSpec

    counts = [round(share * chargers) for share, *_ in FLEET_SHAPE]
    counts[-1] = chargers - sum(counts[:-1])
    specs, populations = [], []
    for (_, kind, power_w, per_charger), count in zip(FLEET_SHAPE, counts, strict=True):
        for site_no, first in enumerate(range(0, count, SITE_SIZE)):
            size = min(SITE_SIZE, count - first)
            site = f"{kind[:2].upper()}{site_no:04d}"
            specs.append(ChargerSpec(site, power_w, count=size))
            # Destination sites have regulars; highway sites see many different drivers.
            drivers = 500 if kind == "highway" else 40 * size
            populations.append(Population(f"{kind}-{site_no}", site, kind,  # type: ignore[arg-type]
                                          arrivals_per_day=per_charger * size, drivers=drivers))
    return specs, populations


def measure_fleet(settings: Settings) -> FleetFigures:
    import numpy as np

    from simulator.fleet import run_fleet

    specs, populations = build_fleet(settings.chargers)
    began = time.perf_counter()
    result = run_fleet(np.random.default_rng(settings.seed), specs, None, populations,
                       START_UTC, settings.days, settings.sample_interval_s)
    wall = time.perf_counter() - began
    series_s = rows = None
    if settings.meter_series:
        began = time.perf_counter()
        rows = len(result.meter_series())
        series_s = time.perf_counter() - began
    summary = result.summary()
    return FleetFigures(settings.chargers, settings.days, summary["sessions"],
                        summary["abandoned"], summary["energy_mwh"], wall, series_s, rows)


def measure_realtime_ceiling() -> dict[str, float | None]:
    """Stations one simulator process keeps in real time against the reference CSMS over
    WebSockets (60 s meter values), and the p99 clock lateness at that count.

    To be written with the networked station (``simulator/station/``): raise the station
    count until the clock's p99 lateness passes a bound; report the last count that held.
    Until then both figures are None (null in the JSON line).
    """
    return {"realtime_stations": None, "lateness_p99_ms": None}


def report(fleet: FleetFigures, realtime: dict[str, float | None]) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Fleet mode: {fleet.chargers:,} chargers x {fleet.days:g} days")
    table.add_column("figure")
    table.add_column("value", justify="right")
    full = fleet.chargers * fleet.days >= 365 * 1000
    rows = [
        ("sessions", f"{fleet.sessions:,}"),
        ("abandoned (no charger within patience)", f"{fleet.abandoned:,}"),
        ("energy", f"{fleet.energy_mwh:,.1f} MWh"),
        ("wall time", f"{fleet.wall_s:.2f} s"),
        ("charger-days per second", f"{fleet.charger_days_per_s:,.0f}"),
        ("sessions per second", f"{fleet.sessions / fleet.wall_s:,.0f}"),
        ("1,000 chargers x 365 days" + ("" if full else ", extrapolated"),
         f"{fleet.year_1000_chargers_s:.1f} s (target <= 60 s)"),
    ]
    if fleet.meter_series_s is not None:
        rows.append(("meter series", f"{fleet.meter_rows:,} rows in {fleet.meter_series_s:.2f} s"))
    for key, value in realtime.items():
        rows.append((key, "not measured yet" if value is None else f"{value:g}"))
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    return {"charger_days_per_s": round(fleet.charger_days_per_s, 1),
            "year_1000_chargers_s": round(fleet.year_1000_chargers_s, 2),
            "realtime_stations": realtime["realtime_stations"],
            "lateness_p99_ms": realtime["lateness_p99_ms"]}


def parse_args(argv: list[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=1000, help="chargers in the fleet")
    parser.add_argument("--days", type=float, default=365.0, help="simulated days")
    parser.add_argument("--seed", type=int, default=1, help="numpy Generator seed")
    parser.add_argument("--sample-interval", type=float, default=900.0,
                        help="meter series interval, seconds")
    parser.add_argument("--meter-series", action="store_true",
                        help="also time the (lazy) meter series of all chargers")
    args = parser.parse_args(argv)
    if args.chargers < 1 or args.days <= 0:
        parser.error("--chargers must be >= 1 and --days > 0")
    return Settings(args.chargers, args.days, args.seed, args.sample_interval, args.meter_series)


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    fleet = measure_fleet(settings)
    summary = report(fleet, measure_realtime_ceiling())
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
