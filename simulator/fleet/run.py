"""``run_fleet``: a year of a thousand chargers in seconds.

Steps, all but one vectorised:

1. every population's visits as numpy columns (``plan_visit_table``: the same draws as the
   networked mode's ``plan_visits``);
2. for every visit and every charger class at its site, the time to reach the target and hence
   how long the car would occupy the charger (the ``Visit.unplug_at`` rule);
3. the queue: one pass per site in arrival order (``queue.serve_site``; the only per-visit
   Python code);
4. SoC reached and energy for the served visits, exactly, from the per (model, charger)
   integration tables.

Meter series are derived from the sessions afterwards, on demand (``FleetResult.meter_series``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from simulator.arrivals import DAY_S, check_utc
from simulator.drivers import IdToken, Population, VisitTable, plan_visit_table
from simulator.fleet import curves
from simulator.fleet.chargers import ChargerClass, ChargerSpec, spread_chargers
from simulator.fleet.meters import meter_series, utc_stamps
from simulator.fleet.queue import serve_site
from simulator.vehicles import VehicleMix, VehicleModel

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class FleetArrays:
    """The served sessions as columns in the units the maths uses (s since start, Wh); what
    ``meter_series`` reads."""

    charger: np.ndarray
    model: np.ndarray
    klass: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    soc_in: np.ndarray
    soc_out: np.ndarray
    energy_wh: np.ndarray
    models: tuple[VehicleModel, ...]
    classes: tuple[ChargerClass, ...]


@dataclass(eq=False)
class FleetResult:
    """Sessions (served), abandoned visits (no charger within the driver's patience), the
    chargers, and meter series on demand."""

    sessions: pd.DataFrame
    abandoned: pd.DataFrame
    chargers: pd.DataFrame
    start_utc: datetime
    duration_s: float
    sample_interval_s: float
    wall_s: float
    arrays: FleetArrays = field(repr=False)
    _series: pd.DataFrame | None = field(default=None, repr=False)

    def meter_series(self, interval_s: float | None = None,
                     chargers: Sequence[int] | None = None) -> pd.DataFrame:
        """Every charger's energy register (Wh) and mean power over the interval before each
        sample (W), sampled every ``interval_s`` (default: the run's ``sample_interval_s``)
        from the start to the end of the run; long format: time, charger, energy_wh, power_w.
        One row per charger and sample, so keep ``chargers`` small for long fine-grained runs.
        """
        default = interval_s is None and chargers is None
        if default and self._series is not None:
            return self._series
        series = meter_series(self.arrays, len(self.chargers), self.start_utc, self.duration_s,
                              interval_s or self.sample_interval_s, chargers)
        if default:
            self._series = series
        return series

    def summary(self) -> dict[str, Any]:
        days = self.duration_s / DAY_S
        plugged = float(self.sessions["plugged_s"].sum())
        n_chargers = len(self.chargers)
        return {
            "chargers": n_chargers,
            "days": days,
            "sessions": len(self.sessions),
            "abandoned": len(self.abandoned),
            "energy_mwh": float(self.sessions["energy_wh"].sum()) / 1e6,
            "occupancy": plugged / (n_chargers * self.duration_s) if n_chargers else 0.0,
            "sessions_per_charger_day": len(self.sessions) / (n_chargers * days)
            if n_chargers and days else 0.0,
            "wall_s": self.wall_s,
        }


def _charger_table(specs: Sequence[ChargerSpec]) -> tuple[list[str], list[str], np.ndarray,
                                                          list[ChargerClass], np.ndarray]:
    """(charger ids, site per charger, site index per charger, classes, class per charger)."""
    ids, sites, classes = [], [], {}
    klass = []
    count: dict[str, int] = {}
    for spec in specs:
        cls = ChargerClass(spec.charge_kind, float(spec.power_w))
        for _ in range(spec.count):
            n = count.get(spec.site_id, 0) + 1
            count[spec.site_id] = n
            ids.append(f"{spec.site_id}/{n}")
            sites.append(spec.site_id)
            klass.append(classes.setdefault(cls, len(classes)))
    site_names = list(dict.fromkeys(sites))
    site_index = {s: i for i, s in enumerate(site_names)}
    return (ids, site_names, np.array([site_index[s] for s in sites], dtype=np.int64),
            list(classes), np.array(klass, dtype=np.int64))


def run_fleet(rng: np.random.Generator, chargers: int | Sequence[ChargerSpec],
              power_w: float | Sequence[float] | None = None,
              populations: Sequence[Population] = (), start_utc: datetime | None = None,
              days: float = 1.0, sample_interval_s: float = 900.0, *,
              mix: VehicleMix | None = None) -> FleetResult:
    """Simulate ``populations`` visiting ``chargers`` for ``days`` from ``start_utc``.

    ``chargers`` is a list of ``ChargerSpec`` or a count spread over the populations' sites in
    proportion to their arrivals, each rated ``power_w`` (one figure, or one per charger).
    Same ``rng`` state, same tables.
    """
    began = time.perf_counter()
    if start_utc is None:
        raise ValueError("run_fleet needs start_utc")
    start = check_utc(start_utc)
    if days <= 0:
        raise ValueError("days must be > 0")
    if sample_interval_s <= 0:
        raise ValueError("sample_interval_s must be > 0")
    if not populations:
        raise ValueError("run_fleet needs at least one population")
    if isinstance(chargers, int):
        if power_w is None:
            raise ValueError("a charger count needs power_w")
        specs = spread_chargers(chargers, power_w, populations)
    else:
        if power_w is not None:
            raise ValueError("power_w goes with a charger count; ChargerSpecs carry their own")
        specs = list(chargers)
    duration = days * DAY_S
    ids, site_names, charger_site, classes, charger_class = _charger_table(specs)
    site_index = {s: i for i, s in enumerate(site_names)}
    missing = sorted({p.site_id for p in populations} - set(site_index))
    if missing:
        raise ValueError(f"no chargers at site(s) {', '.join(missing)}")

    # 1. visits
    tables = [plan_visit_table(rng, p, start, duration, mix) for p in populations]
    models: dict[VehicleModel, int] = {}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "pop", "site", "arrival", "dwell", "driver", "model", "soc_in", "target", "leave",
        "overstay", "when_full", "patience", "token")}
    token_ids: list[str] = []
    for p_index, (pop, table) in enumerate(zip(populations, tables, strict=True)):
        n = len(table)
        global_model = np.array([models.setdefault(m, len(models)) for m in table.models],
                                dtype=np.int64)
        cols["pop"].append(np.full(n, p_index, dtype=np.int64))
        cols["site"].append(np.full(n, site_index[pop.site_id], dtype=np.int64))
        cols["arrival"].append(table.arrival_s)
        cols["dwell"].append(table.dwell_s)
        cols["driver"].append(table.driver)
        cols["model"].append(global_model[table.model])
        cols["soc_in"].append(table.soc_in)
        cols["target"].append(table.target_soc)
        cols["leave"].append(table.leave_early_s)
        cols["overstay"].append(table.overstay_s)
        cols["when_full"].append(np.full(n, pop.leaves_when_full))
        cols["patience"].append(np.full(n, pop.patience_s))
        cols["token"].append(len(token_ids) + (table.driver if table.tokens is None
                                               else np.arange(n)))
        token_ids.extend(t.id for t in _tokens(table))
    v = {k: np.concatenate(c) if c else np.empty(0) for k, c in cols.items()}
    model_list = tuple(models)
    n = v["arrival"].size

    # 2. stays per charger class column of each site
    site_classes = [sorted({int(c) for c in charger_class[charger_site == s]})
                    for s in range(len(site_names))]
    width = max(len(c) for c in site_classes)
    class_matrix = np.full((len(site_names), width), -1, dtype=np.int64)
    for s, cls in enumerate(site_classes):
        class_matrix[s, :len(cls)] = cls
    full_after = np.empty((width, n))
    stays = np.empty((width, n))
    for j in range(width):
        klass = class_matrix[v["site"], j]
        full_after[j] = curves.by_table(model_list, classes, v["model"], klass,
                                        curves.full_after_s, v["soc_in"], v["target"])
        stay = np.where(v["when_full"], np.minimum(v["dwell"], full_after[j]), v["dwell"])
        stays[j] = np.fmin(stay + v["overstay"], v["leave"])  # fmin: NaN = no early leave

    # 3. the queue, site by site
    order = np.lexsort((v["arrival"], v["site"]))
    site_sorted = v["site"][order]
    start_s = np.full(n, np.nan)
    charger = np.full(n, -1, dtype=np.int64)
    site_chargers = [np.flatnonzero(charger_site == s) for s in range(len(site_names))]
    bounds = np.searchsorted(site_sorted, np.arange(len(site_names) + 1))
    for s in range(len(site_names)):
        rows = order[bounds[s]:bounds[s + 1]]
        if rows.size == 0:
            continue
        mine = site_chargers[s]
        column = [site_classes[s].index(int(c)) for c in charger_class[mine]]
        begun, local = serve_site(v["arrival"][rows].tolist(),
                                  [stays[j][rows].tolist() for j in range(len(site_classes[s]))],
                                  v["patience"][rows].tolist(), column)
        start_s[rows] = begun
        local_arr = np.array(local, dtype=np.int64)
        charger[rows] = np.where(local_arr >= 0, mine[np.maximum(local_arr, 0)], -1)

    # 4. energy of the served visits
    served = np.flatnonzero(charger >= 0)
    gone = np.flatnonzero(charger < 0)
    ch = charger[served]
    klass = charger_class[ch]
    col = np.array([[site_classes[s].index(c) if c in site_classes[s] else -1
                     for c in range(len(classes))] for s in range(len(site_names))])
    j = col[charger_site[ch], klass]
    occupied = stays[j, served]
    to_full = full_after[j, served]
    charging = np.where(np.isinf(to_full), 0.0, np.minimum(occupied, to_full))
    model = v["model"][served]
    soc_in, target = v["soc_in"][served], v["target"][served]
    partial = curves.by_table(model_list, classes, model, klass, curves.soc_after,
                              soc_in, occupied, target)
    soc_out = np.where(occupied >= to_full, target, partial)
    energy = curves.by_table(model_list, classes, model, klass, curves.energy_between,
                             soc_in, soc_out)
    begin = start_s[served]
    arrays = FleetArrays(ch, model, klass, begin, begin + charging, soc_in, soc_out, energy,
                         model_list, tuple(classes))

    # tables
    token_codes, token_names = pd.factorize(np.array(token_ids, dtype=object))
    pop_names = [p.name for p in populations]
    kind_code = np.array([0 if c.kind == "AC" else 1 for c in classes], dtype=np.int64)

    def stamps(seconds: np.ndarray) -> pd.DatetimeIndex:
        return utc_stamps(start, seconds)

    def common(rows: np.ndarray) -> dict[str, Any]:
        return {
            "population": pd.Categorical.from_codes(v["pop"][rows], pop_names),
            "site": pd.Categorical.from_codes(v["site"][rows], site_names),
            "driver": v["driver"][rows].astype(np.int32),
            "token": pd.Categorical.from_codes(token_codes[v["token"][rows]], token_names),
            "model": pd.Categorical.from_codes(v["model"][rows], [m.name for m in model_list]),
            "arrival": stamps(v["arrival"][rows]),
        }

    sessions = pd.DataFrame(common(served) | {
        "charger": ch.astype(np.int32),
        "kind": pd.Categorical.from_codes(kind_code[klass], ["AC", "DC"]),
        "charger_w": np.array([c.power_w for c in classes])[klass],
        "start": stamps(begin),
        "end": stamps(begin + charging),
        "departure": stamps(begin + occupied),
        "waited_s": begin - v["arrival"][served],
        "charging_s": charging,
        "plugged_s": occupied,
        "energy_wh": energy,
        "soc_in": soc_in,
        "soc_out": soc_out,
        "target_soc": target,
    })
    sessions = sessions.sort_values("arrival", kind="stable", ignore_index=True)
    abandoned = pd.DataFrame(common(gone) | {"waited_s": v["patience"][gone]})
    abandoned = abandoned.sort_values("arrival", kind="stable", ignore_index=True)
    charger_frame = pd.DataFrame({
        "charger": np.arange(len(ids), dtype=np.int32), "charger_id": ids,
        "site": pd.Categorical.from_codes(charger_site, site_names),
        "kind": [classes[k].kind for k in charger_class],
        "power_w": [classes[k].power_w for k in charger_class]})
    wall = time.perf_counter() - began
    log.info("fleet: %d chargers, %.1f days, %d sessions, %d abandoned in %.2f s",
             len(ids), days, len(sessions), len(abandoned), wall)
    return FleetResult(sessions, abandoned, charger_frame, start, duration, sample_interval_s,
                       wall, arrays)


def _tokens(table: VisitTable) -> list[IdToken]:
    if table.tokens is not None:
        return list(table.tokens)
    return [d.token for d in table.drivers]
