"""Drivers: identification tokens, behaviour, populations, and the visits they plan.

Everything random is drawn up front from the seeded ``rng`` (``plan_visits``), so the same seed
gives the same visits whatever the network or the backend does. ``plan_visit_table`` draws the
same visits as numpy columns; the fleet mode uses it directly (a million ``Visit`` objects would
cost more than the whole fleet simulation), so both modes share one set of distributions.

Dwell times, arrival SoC and targets follow ``shared/reference/simulation-defaults.md``
section 4. Where the sources stop (night hours, evening home arrivals after 18 h) the tables
below extrapolate "leave the next morning"; the comments say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from simulator.arrivals import (
    ArrivalProfile,
    ReplayRow,
    get_profile,
    local_hour_weekday,
    poisson_arrival_times,
    replay_sessions,
)
from simulator.vehicles import (
    ChargeKind,
    Vehicle,
    VehicleMix,
    VehicleModel,
    default_mix,
    mix_probabilities,
)

# -- tokens ---------------------------------------------------------------------------------------

TokenKind = Literal["ISO14443", "ISO15693", "Central", "eMAID", "KeyCode", "Local", "MacAddress",
                    "NoAuthorization", "ad-hoc"]
TOKEN_KINDS: tuple[str, ...] = ("ISO14443", "ISO15693", "Central", "eMAID", "KeyCode", "Local",
                                "MacAddress", "NoAuthorization", "ad-hoc")
# 2.0.1 has no type for a payment terminal's reference (2.1 adds DirectPayment); such an id is
# generated at the station, which is what "Local" means.
_TYPE_201 = {kind: kind for kind in TOKEN_KINDS} | {"ad-hoc": "Local"}
ID_TAG_MAX = 20  # OCPP 1.6 idTag is CiString20
ID_TOKEN_MAX = 36  # OCPP 2.0.1 IdTokenType.idToken


@dataclass(frozen=True, slots=True)
class IdToken:
    """What a driver identifies with: ``kind`` is the OCPP 2.0.1 IdTokenEnumType, or "ad-hoc"
    for a payment terminal's one-off reference."""

    id: str
    kind: TokenKind = "ISO14443"

    def __post_init__(self) -> None:
        if self.kind not in _TYPE_201:
            raise ValueError(f"unknown token kind {self.kind!r}; one of {', '.join(TOKEN_KINDS)}")
        if len(self.id) > ID_TOKEN_MAX:
            raise ValueError(f"token id {self.id!r} is longer than {ID_TOKEN_MAX} characters")
        if not self.id and self.kind != "NoAuthorization":
            raise ValueError(f"a {self.kind} token needs a non-empty id")

    @property
    def type_201(self) -> str:
        """The OCPP 2.0.1 ``IdTokenType.type``."""
        return _TYPE_201[self.kind]

    @property
    def id_tag(self) -> str:
        """The OCPP 1.6 idTag (CiString20)."""
        if len(self.id) > ID_TAG_MAX:
            raise ValueError(f"token id {self.id!r} does not fit a 1.6 idTag "
                             f"({ID_TAG_MAX} characters)")
        return self.id

    def as_201(self) -> dict[str, str]:
        return {"idToken": self.id, "type": self.type_201}


def _unique_hex(rng: np.random.Generator, n: int, digits: int) -> list[str]:
    """``n`` distinct random upper-case hex strings of ``digits`` characters (<= 16)."""
    high = 1 << (4 * digits)
    values = rng.integers(0, high, size=n, dtype=np.uint64, endpoint=False)
    uniq, first = np.unique(values, return_index=True)
    while uniq.size < n:  # collisions are rare; redraw only what is missing, deterministically
        extra = rng.integers(0, high, size=n - uniq.size, dtype=np.uint64)
        values = np.concatenate((values[np.sort(first)], extra))
        uniq, first = np.unique(values, return_index=True)
    return [f"{int(v):0{digits}X}" for v in values[np.sort(first)]]


def _check_prefix(prefix: str, digits: int) -> None:
    if len(prefix) + digits > ID_TAG_MAX:
        raise ValueError(f"prefix {prefix!r} too long: ids must fit {ID_TAG_MAX} characters")


def rfid_tokens(rng: np.random.Generator, n: int, prefix: str = "") -> list[IdToken]:
    """ISO 14443 cards: 7-byte UIDs as 14 hex digits (``prefix`` in front, to recognise them in
    traces; without it they are plain UIDs)."""
    _check_prefix(prefix, 14)
    return [IdToken(prefix + h, "ISO14443") for h in _unique_hex(rng, n, 14)]


def iso15693_tokens(rng: np.random.Generator, n: int, prefix: str = "") -> list[IdToken]:
    """ISO 15693 cards: 8-byte UIDs as 16 hex digits."""
    _check_prefix(prefix, 16)
    return [IdToken(prefix + h, "ISO15693") for h in _unique_hex(rng, n, 16)]


def app_tokens(rng: np.random.Generator, n: int, prefix: str = "APP") -> list[IdToken]:
    """App accounts (remote start): Central tokens of at most 20 characters (they fit 1.6)."""
    digits = min(16, ID_TAG_MAX - len(prefix))
    _check_prefix(prefix, digits)
    return [IdToken(prefix + h, "Central") for h in _unique_hex(rng, n, digits)]


def emaid_tokens(rng: np.random.Generator, n: int, country: str = "NL",
                 provider: str = "CLP") -> list[IdToken]:
    """Plug & Charge contracts: ISO 15118 eMAIDs without separators or check digit (both
    optional): country (2) + provider (3) + "C" + 8 digits."""
    if len(country) != 2 or len(provider) != 3:
        raise ValueError("country needs 2 characters and provider 3")
    numbers = rng.choice(10**8, size=n, replace=False)
    return [IdToken(f"{country}{provider}C{int(x):08d}".upper(), "eMAID") for x in numbers]


def keycode_tokens(rng: np.random.Generator, n: int, digits: int = 6) -> list[IdToken]:
    """PIN codes typed at the station."""
    numbers = rng.choice(10**digits, size=n, replace=False)
    return [IdToken(f"{int(x):0{digits}d}", "KeyCode") for x in numbers]


def adhoc_tokens(rng: np.random.Generator, n: int, prefix: str = "PAY") -> list[IdToken]:
    """Payment-terminal references: one per session, never reused."""
    digits = min(16, ID_TAG_MAX - len(prefix))
    _check_prefix(prefix, digits)
    return [IdToken(prefix + h, "ad-hoc") for h in _unique_hex(rng, n, digits)]


NO_AUTHORIZATION = IdToken("", "NoAuthorization")  # free vend: 2.0.1 sends an empty idToken


def make_tokens(rng: np.random.Generator, kind: str, n: int, prefix: str = "") -> list[IdToken]:
    """``n`` tokens of ``kind`` (the population's drivers)."""
    if kind == "ISO14443":
        return rfid_tokens(rng, n, prefix)
    if kind == "ISO15693":
        return iso15693_tokens(rng, n, prefix)
    if kind == "Central":
        return app_tokens(rng, n, prefix or "APP")
    if kind == "eMAID":
        return emaid_tokens(rng, n)
    if kind == "KeyCode":
        return keycode_tokens(rng, n)
    if kind == "ad-hoc":
        return adhoc_tokens(rng, n, prefix or "PAY")
    if kind == "NoAuthorization":
        return [NO_AUTHORIZATION] * n
    if kind in ("Local", "MacAddress"):
        digits = 12
        _check_prefix(prefix, digits)
        return [IdToken(prefix + h, kind) for h in _unique_hex(rng, n, digits)]  # type: ignore[arg-type]
    raise ValueError(f"unknown token kind {kind!r}; one of {', '.join(TOKEN_KINDS)}")


# -- behaviour, drivers, populations --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DriverBehaviour:
    """Probabilities (0..1) of what a driver does on a visit.

    plug_first: plugs in before presenting the token (else token first);
    remote_start: starts from the app (the CSMS sends RemoteStart);
    overstay: stays plugged longer than needed (after full when leaving at full, else beyond
      the planned dwell);
    leave_early: unplugs before the planned dwell and before full.
    """

    plug_first: float = 0.6
    remote_start: float = 0.0
    overstay: float = 0.1
    leave_early: float = 0.05

    def __post_init__(self) -> None:
        for name in ("plug_first", "remote_start", "overstay", "leave_early"):
            p = getattr(self, name)
            if not (isinstance(p, int | float) and 0.0 <= p <= 1.0):
                raise ValueError(f"DriverBehaviour.{name} must be a probability in [0, 1], "
                                 f"got {p!r}")


@dataclass(frozen=True, slots=True)
class DriverProfile:
    """One driver of a population: a token and a car model, both fixed for the whole run."""

    token: IdToken
    model: VehicleModel


SiteKind = Literal["workplace", "public", "highway", "home"]
SITE_KINDS: tuple[str, ...] = ("workplace", "public", "highway", "home")


@dataclass(frozen=True)
class Population:
    """Who visits one site, and how: what ``plan_visits`` needs.

    Arrivals come from ``arrivals_per_day`` (mean weekday count, Poisson by ``profile``, the
    site kind's profile by default) or from ``replay_csv``. ``drivers`` is the size of the fixed
    roster (each with one token and one car drawn once from the mix); visits pick drivers from
    it at random. ``dwell_mean_s``/``dwell_sd_s`` override the site kind's dwell table;
    ``target_soc`` the kind's target. ``patience_s`` is how long a driver waits for a free
    charger before leaving (fleet mode; the engine may use it too). ``unplug_when_full``
    defaults to True on highways (drivers leave when the car reaches its target) and False
    elsewhere (the car stays until the planned dwell ends). ``route`` is an optional polyline
    of (lat, lon) the drivers approach the site along at ``speed_kmh``.
    """

    name: str
    site_id: str
    site_kind: SiteKind
    arrivals_per_day: float = 0.0
    replay_csv: str | Path | None = None
    profile: str | ArrivalProfile | None = None
    dwell_mean_s: float | None = None
    dwell_sd_s: float | None = None
    target_soc: float | None = None
    soc_in_mean: float | None = None  # None: the site kind's default distribution
    soc_in_sd: float | None = None
    token_kind: TokenKind = "ISO14443"
    drivers: int = 100
    token_ids: tuple[str, ...] = ()  # the drivers' own token ids instead of random ones
    behaviour: DriverBehaviour = field(default_factory=DriverBehaviour)
    patience_s: float = 900.0
    timezone: str | None = None
    token_prefix: str = ""
    unplug_when_full: bool | None = None
    route: tuple[tuple[float, float], ...] | None = None
    speed_kmh: float = 50.0

    def __post_init__(self) -> None:
        where = f"population {self.name!r}"
        if self.site_kind not in SITE_KINDS:
            raise ValueError(f"{where}: site_kind must be one of {', '.join(SITE_KINDS)}, "
                             f"got {self.site_kind!r}")
        if self.arrivals_per_day < 0 or not math.isfinite(self.arrivals_per_day):
            raise ValueError(f"{where}: arrivals_per_day must be >= 0")
        if self.drivers < 1:
            raise ValueError(f"{where}: needs at least one driver")
        if self.token_kind not in TOKEN_KINDS:
            raise ValueError(f"{where}: unknown token kind {self.token_kind!r}")
        if self.target_soc is not None and not 0.0 < self.target_soc <= 1.0:
            raise ValueError(f"{where}: target_soc must be in (0, 1]")
        if self.dwell_mean_s is not None and self.dwell_mean_s <= 0:
            raise ValueError(f"{where}: dwell_mean_s must be > 0")
        if self.dwell_sd_s is not None and (self.dwell_sd_s < 0 or self.dwell_mean_s is None):
            raise ValueError(f"{where}: dwell_sd_s must be >= 0 and comes with dwell_mean_s")
        if self.patience_s < 0:
            raise ValueError(f"{where}: patience_s must be >= 0")
        if self.speed_kmh <= 0:
            raise ValueError(f"{where}: speed_kmh must be > 0")
        if self.profile is not None:
            get_profile(self.profile)

    @property
    def arrival_profile(self) -> ArrivalProfile:
        return get_profile(self.profile if self.profile is not None else self.site_kind)

    @property
    def leaves_when_full(self) -> bool:
        if self.unplug_when_full is not None:
            return self.unplug_when_full
        return self.site_kind == "highway"

    @property
    def charge_kind(self) -> ChargeKind:
        """The inlet the site kind implies, for efficiencies when converting energy to SoC."""
        return "DC" if self.site_kind == "highway" else "AC"


# -- distributions per site kind ------------------------------------------------------------------

# Mean dwell in hours by local arrival hour 0..23.
DWELL_MEAN_H: dict[str, tuple[float, ...]] = {
    # 8.1-8.4 h for 05-08 h arrivals, 6.6 h at 09 h, <= 4.7 h later. Night arrivals (night
    # shifts) are not in the sources: a shift's length.
    "workplace": (8.0, 8.0, 8.0, 8.0, 8.0, 8.4, 8.3, 8.2, 8.1, 6.6, 4.7, 4.3,
                  4.0, 3.6, 3.2, 2.8, 2.4, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0),
    # 2.8-4.3 h for 09-16 h arrivals, 9.5-12.5 h for 17-23 h (overnight: the later, the
    # shorter). Before 09 h extrapolated: late-night arrivals leave in the morning.
    "public": (8.0, 7.5, 7.0, 6.5, 6.0, 5.0, 4.5, 4.3, 4.3, 4.3, 4.1, 3.9,
               3.7, 3.4, 3.2, 3.0, 2.8, 12.5, 12.0, 11.5, 11.0, 10.5, 10.0, 9.5),
    # 3.4-4.6 h daytime, 13-15.5 h for 15-18 h arrivals; after 18 h extrapolated to leaving the
    # next morning.
    "home": (8.0, 7.5, 7.0, 6.5, 6.0, 5.0, 4.6, 4.5, 4.4, 4.2, 4.0, 3.8,
             3.6, 3.5, 3.4, 15.5, 15.0, 14.0, 13.0, 12.0, 11.0, 10.0, 9.0, 8.5),
}
DWELL_CV = 0.35  # spread around the table means (not in the sources)
DWELL_MIN_S, DWELL_MAX_S = 300.0, 48 * 3600.0
HIGHWAY_DWELL_S = (30 * 60.0, 45 * 60.0)  # 30-45 min, any hour

# SoC at arrival: Beta(mean * k, (1 - mean) * k) for destination charging, with means chosen so
# that mean energy lands in the section-4 ranges on the suggested battery pool (61 kWh mean):
# workplace ~13 kWh (11-16), public ~17 (12-22), home ~23 (15-32).
ARRIVAL_SOC_MEAN = {"workplace": 0.70, "public": 0.65, "home": 0.55}
ARRIVAL_SOC_K = 16.0
AC_TARGET_SOC = 0.9
# Highway: arrive at 10-30 %, leave at about 80 %. On the suggested pool that is ~35-39 kWh per
# session, more than the 20-30 kWh anchor, which comes from smaller, older batteries.
HIGHWAY_SOC_IN = (0.10, 0.30)
HIGHWAY_TARGET = (0.80, 0.03, 0.70, 0.90)  # mean, sd, clipped to [low, high]
OVERSTAY_MEAN_S = {"highway": 600.0, "workplace": 3600.0, "public": 3600.0, "home": 3600.0}
LEAVE_EARLY_FRACTION = (0.25, 0.75)  # of the planned dwell


def dwell_means_s(site_kind: str, hour: np.ndarray) -> np.ndarray:
    if site_kind == "highway":
        return np.full(np.shape(hour), sum(HIGHWAY_DWELL_S) / 2)
    return np.asarray(DWELL_MEAN_H[site_kind])[hour] * 3600.0


def draw_dwell_s(rng: np.random.Generator, population: Population, hour: np.ndarray
                 ) -> np.ndarray:
    """Planned dwell (s) per visit: lognormal around the kind's table mean for the arrival hour
    (or the population's override); uniform 30-45 min on highways."""
    n = len(hour)
    if population.dwell_mean_s is None and population.site_kind == "highway":
        return rng.uniform(*HIGHWAY_DWELL_S, n)
    if population.dwell_mean_s is not None:
        mean = np.full(n, population.dwell_mean_s)
        cv = (DWELL_CV if population.dwell_sd_s is None
              else population.dwell_sd_s / population.dwell_mean_s)
    else:
        mean = dwell_means_s(population.site_kind, hour)
        cv = DWELL_CV
    sigma2 = math.log1p(cv * cv)
    draws = rng.lognormal(np.log(mean) - sigma2 / 2, math.sqrt(sigma2), n)
    return np.clip(draws, DWELL_MIN_S, DWELL_MAX_S)


def draw_soc_in(rng: np.random.Generator, population: Population, n: int) -> np.ndarray:
    if population.soc_in_mean is not None:  # the scenario's own distribution
        draws = rng.normal(population.soc_in_mean, population.soc_in_sd or 0.0, n)
        return np.clip(draws, 0.02, 0.98)
    site_kind = population.site_kind
    if site_kind == "highway":
        return rng.uniform(*HIGHWAY_SOC_IN, n)
    mean = ARRIVAL_SOC_MEAN[site_kind]
    return np.clip(rng.beta(mean * ARRIVAL_SOC_K, (1 - mean) * ARRIVAL_SOC_K, n), 0.02, 0.98)


def draw_target_soc(rng: np.random.Generator, population: Population, n: int) -> np.ndarray:
    if population.target_soc is not None:
        return np.full(n, population.target_soc)
    if population.site_kind == "highway":
        mean, sd, low, high = HIGHWAY_TARGET
        return np.clip(rng.normal(mean, sd, n), low, high)
    return np.full(n, AC_TARGET_SOC)


# -- visits ---------------------------------------------------------------------------------------


class SiteLike(Protocol):
    id: str


@dataclass(slots=True)
class Visit:
    """One planned visit. The car stays plugged for ``dwell_s`` from the moment it gets a
    connector, or until full when ``unplug_when_full``; ``overstay_s`` is added to either;
    ``leave_early_s`` (from plug-in), when set, cuts everything short. ``unplug_at`` applies
    that rule."""

    arrival_s: float
    site_id: str
    dwell_s: float
    vehicle: Vehicle
    token: IdToken
    plug_first: bool = True
    remote_start: bool = False
    leave_early_s: float | None = None
    overstay_s: float = 0.0
    unplug_when_full: bool = False
    driver: int = 0
    population: str = ""
    station_id: str | None = None
    route: tuple[tuple[float, float, float], ...] | None = None

    def unplug_at(self, plug_in_s: float, full_at_s: float | None = None) -> float:
        """When the driver unplugs, given plug-in and (if known) the moment the car was full."""
        return plug_in_s + unplug_after_s(self.dwell_s, self.overstay_s, self.leave_early_s,
                                          self.unplug_when_full,
                                          None if full_at_s is None else full_at_s - plug_in_s)


def unplug_after_s(dwell_s: float, overstay_s: float, leave_early_s: float | None,
                   unplug_when_full: bool, full_after_s: float | None) -> float:
    """Seconds from plug-in to unplug (the rule of ``Visit``, shared with the fleet mode)."""
    stay = dwell_s
    if unplug_when_full and full_after_s is not None:
        stay = min(stay, full_after_s)
    stay += overstay_s
    if leave_early_s is not None:
        stay = min(stay, leave_early_s)
    return stay


@dataclass(frozen=True, eq=False)
class VisitTable:
    """A population's visits as numpy columns, in arrival order; ``visits()`` makes objects.

    ``model`` indexes ``models`` (the mix's models); ``driver`` indexes ``drivers``;
    ``leave_early_s`` is NaN where the driver stays; ``tokens`` holds one token per visit for
    ad-hoc populations and is None otherwise (the driver's token).
    """

    population: Population
    site_id: str
    drivers: tuple[DriverProfile, ...]
    models: tuple[VehicleModel, ...]
    driver_model: np.ndarray
    arrival_s: np.ndarray
    dwell_s: np.ndarray
    driver: np.ndarray
    soc_in: np.ndarray
    target_soc: np.ndarray
    plug_first: np.ndarray
    remote_start: np.ndarray
    leave_early_s: np.ndarray
    overstay_s: np.ndarray
    tokens: tuple[IdToken, ...] | None = None
    station_id: tuple[str | None, ...] | None = None
    routes: tuple[tuple[tuple[float, float, float], ...], ...] | None = None

    def __len__(self) -> int:
        return len(self.arrival_s)

    @property
    def model(self) -> np.ndarray:
        return self.driver_model[self.driver]

    def token_of(self, i: int) -> IdToken:
        return self.tokens[i] if self.tokens is not None else self.drivers[self.driver[i]].token

    def visits(self) -> list[Visit]:
        pop = self.population
        models = self.model
        leave = self.leave_early_s
        out = []
        for i in range(len(self)):
            model = self.models[models[i]]
            out.append(Visit(
                arrival_s=float(self.arrival_s[i]), site_id=self.site_id,
                dwell_s=float(self.dwell_s[i]),
                vehicle=Vehicle(model, float(self.soc_in[i]), float(self.target_soc[i])),
                token=self.token_of(i), plug_first=bool(self.plug_first[i]),
                remote_start=bool(self.remote_start[i]),
                leave_early_s=None if math.isnan(leave[i]) else float(leave[i]),
                overstay_s=float(self.overstay_s[i]), unplug_when_full=pop.leaves_when_full,
                driver=int(self.driver[i]), population=pop.name,
                station_id=None if self.station_id is None else self.station_id[i],
                route=None if self.routes is None else self.routes[i]))
        return out


def draw_drivers(rng: np.random.Generator, population: Population, mix: VehicleMix,
                 tokens: Sequence[IdToken] | None = None
                 ) -> tuple[tuple[DriverProfile, ...], np.ndarray]:
    """The population's fixed roster, and each driver's index into ``mix``."""
    n = population.drivers if tokens is None else len(tokens)
    if tokens is None:
        kind = "ISO14443" if population.token_kind == "ad-hoc" else population.token_kind
        # Ad-hoc payers have no token of their own; their roster cards are never shown.
        tokens = make_tokens(rng, kind, n, population.token_prefix)
    model_index = rng.choice(len(mix), size=n, p=mix_probabilities(mix))
    drivers = tuple(DriverProfile(t, mix[int(m)][0]) for t, m in zip(tokens, model_index,
                                                                       strict=True))
    return drivers, model_index.astype(np.int64)


def plan_visit_table(rng: np.random.Generator, population: Population, start_utc: datetime,
                     duration_s: float, mix: VehicleMix | None = None,
                     site_id: str | None = None) -> VisitTable:
    """Draw all of a population's visits in ``[0, duration_s)`` as columns (see ``VisitTable``).

    The order of draws is fixed (roster, arrivals, drivers, SoC, targets, dwell, behaviour), so
    a seed always gives the same table.
    """
    mix = default_mix() if mix is None else list(mix)
    models = tuple(m for m, _ in mix)
    pop = population
    replay: list[ReplayRow] | None = None
    roster_tokens: list[IdToken] | None = None
    if pop.replay_csv is not None:
        wanted = site_id or pop.site_id
        replay = [r for r in replay_sessions(pop.replay_csv, start_utc)
                  if r.arrival_s < duration_s and (r.site_id is None or r.site_id == wanted)]
        named = list(dict.fromkeys(r.token_id for r in replay if r.token_id))
        if named:
            kind = "ISO14443" if pop.token_kind in ("ad-hoc", "NoAuthorization") else pop.token_kind
            # Replayed token ids keep their own drivers; the rest of the roster is drawn.
            extra = make_tokens(rng, kind, max(pop.drivers - len(named), 0), pop.token_prefix)
            roster_tokens = [IdToken(t, kind) for t in named] + extra  # type: ignore[arg-type]
    if roster_tokens is None and pop.token_ids:
        kind = "ISO14443" if pop.token_kind in ("ad-hoc", "NoAuthorization") else pop.token_kind
        roster_tokens = [IdToken(t, kind) for t in pop.token_ids]  # type: ignore[arg-type]
    drivers, driver_model = draw_drivers(rng, pop, mix, roster_tokens)

    if replay is None:
        arrival = poisson_arrival_times(rng, pop.arrival_profile, pop.arrivals_per_day,
                                        start_utc, duration_s, pop.timezone)
    else:
        arrival = np.array([r.arrival_s for r in replay], dtype=float)
    n = arrival.size
    driver = rng.integers(0, len(drivers), n)
    if replay is not None and roster_tokens is not None:
        position = {t.id: i for i, t in enumerate(roster_tokens)}
        for i, r in enumerate(replay):
            if r.token_id:
                driver[i] = position[r.token_id]
    soc_in = draw_soc_in(rng, pop, n)
    target = draw_target_soc(rng, pop, n)
    soc_in = np.minimum(soc_in, target)  # arriving above the target: nothing to charge
    hour, _ = local_hour_weekday(start_utc, arrival, pop.timezone)
    dwell = draw_dwell_s(rng, pop, hour)
    behaviour = pop.behaviour
    u = rng.random((4, n))
    plug_first = u[0] < behaviour.plug_first
    remote_start = u[1] < behaviour.remote_start
    overstay = np.where(u[2] < behaviour.overstay,
                        rng.exponential(OVERSTAY_MEAN_S[pop.site_kind], n), 0.0)
    leave_fraction = rng.uniform(*LEAVE_EARLY_FRACTION, n)
    leave_early = np.where(u[3] < behaviour.leave_early, dwell * leave_fraction, np.nan)

    station: tuple[str | None, ...] | None = None
    if replay is not None:
        dwell = np.array([r.dwell_s for r in replay], dtype=float)
        leave_early = np.where(np.isnan(leave_early), np.nan, dwell * leave_fraction)
        soc_in, target = _replayed_soc(replay, soc_in, target, models, driver_model[driver], pop)
        if any(r.station_id for r in replay):
            station = tuple(r.station_id for r in replay)

    tokens = None
    if pop.token_kind == "ad-hoc":
        tokens = tuple(adhoc_tokens(rng, n, pop.token_prefix or "PAY"))
    routes = None
    if pop.route is not None:
        routes = tuple(tuple(route_positions(pop.route, pop.speed_kmh, float(t)))
                       for t in arrival)
    return VisitTable(pop, site_id or pop.site_id, drivers, models, driver_model, arrival, dwell,
                      driver, soc_in, target, plug_first, remote_start, leave_early, overstay,
                      tokens, station, routes)


def _replayed_soc(rows: Sequence[ReplayRow], soc_in: np.ndarray, target: np.ndarray,
                  models: Sequence[VehicleModel], model_index: np.ndarray, pop: Population
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Targets from the file: a recorded energy becomes target = arrival SoC + energy in SoC
    (arrival SoC lowered when that would pass 100 %); a recorded target is taken as is."""
    soc_in, target = soc_in.copy(), target.copy()
    for i, r in enumerate(rows):
        if r.target_soc is not None:
            target[i] = r.target_soc
            soc_in[i] = min(soc_in[i], target[i])
        elif r.energy_wh is not None:
            model = models[model_index[i]]
            delta = r.energy_wh * model.efficiency_for(pop.charge_kind) / model.capacity_wh
            delta = min(delta, 1.0)
            soc_in[i] = min(soc_in[i], 1.0 - delta)
            target[i] = soc_in[i] + delta
    return soc_in, target


def plan_visits(rng: np.random.Generator, population: Population,
                site: SiteLike | str | None, start_utc: datetime, duration_s: float,
                mix: VehicleMix | None = None) -> list[Visit]:
    """All of a population's visits to ``site`` (a Site, a site id, or None for the
    population's own ``site_id``) in ``[0, duration_s)``, drawn up front, in arrival order."""
    site_id = site if isinstance(site, str) or site is None else site.id
    return plan_visit_table(rng, population, start_utc, duration_s, mix, site_id).visits()


# -- routes ---------------------------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


def route_positions(polyline: Sequence[tuple[float, float]], speed_kmh: float, arrival_s: float,
                    step_s: float | None = None) -> list[tuple[float, float, float]]:
    """Timed positions (t, lat, lon) of a driver who follows ``polyline`` at a constant speed and
    reaches its last point at ``arrival_s``: one per vertex, or one every ``step_s`` seconds
    (plus the arrival) interpolated linearly along the segments."""
    if not polyline:
        raise ValueError("a route needs at least one point")
    if speed_kmh <= 0:
        raise ValueError("speed_kmh must be > 0")
    speed = speed_kmh / 3.6
    cumulative = [0.0]
    for (a_lat, a_lon), (b_lat, b_lon) in pairwise(polyline):
        cumulative.append(cumulative[-1] + haversine_m(a_lat, a_lon, b_lat, b_lon))
    total = cumulative[-1]
    depart = arrival_s - total / speed
    if step_s is None:
        return [(depart + d / speed, float(lat), float(lon))
                for d, (lat, lon) in zip(cumulative, polyline, strict=True)]
    if step_s <= 0:
        raise ValueError("step_s must be > 0")
    times = np.append(np.arange(depart, arrival_s, step_s), arrival_s)
    dist = np.clip((times - depart) * speed, 0.0, total)
    lat = np.interp(dist, cumulative, [p[0] for p in polyline])
    lon = np.interp(dist, cumulative, [p[1] for p in polyline])
    return list(zip(times.tolist(), lat.tolist(), lon.tolist(), strict=True))
