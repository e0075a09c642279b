"""A scenario as typed, frozen values: what the loader returns and the engine builds from.

SI units throughout (s, W, Wh, m/s); the YAML's kW, kWh, km/h and duration strings are converted
by the loader. Defaults here are the defaults of the format (the schema's descriptions say the
same). Station templates are resolved and station ids expanded, so ``ScenarioSpec.stations``
is the complete list of stations to build; fault and operation station patterns are resolved to
``station_ids`` as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from chargeloop.ocppj.versions import OcppVersion

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DEFAULT_MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import")
DC_CONNECTOR_TYPES = frozenset({"CCS2", "CCS1", "CHAdeMO"})
DEFAULT_TX_POINTS = ("EVConnected", "Authorized")
DEFAULT_DRIVERS = 100


# -- backend -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlsSpec:
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True, slots=True)
class CsmsOverridesSpec:
    """Reference CSMS settings to override; ``None`` keeps the CSMS's own default."""

    heartbeat_interval_s: float | None = None
    unknown_stations: Literal["accept", "pending", "reject"] | None = None
    stuck_session_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class BackendSpec:
    kind: Literal["reference", "url"] = "reference"
    transport: Literal["memory", "websocket"] = "memory"  # reference only
    url: str | None = None  # url only
    password: str | None = None
    passwords: dict[str, str] = field(default_factory=dict)
    tls: TlsSpec | None = None
    csms: CsmsOverridesSpec = field(default_factory=CsmsOverridesSpec)

    @property
    def in_memory(self) -> bool:
        return self.kind == "reference" and self.transport == "memory"

    def password_for(self, station_id: str) -> str | None:
        return self.passwords.get(station_id, self.password)


# -- vehicles ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogVehicleSpec:
    model: str  # a key of simulator.vehicles.VEHICLE_CATALOG
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class CustomVehicleSpec:
    name: str
    capacity_wh: float
    ac_max_w: float
    ac_phases: int = 3
    dc_max_w: float = 0.0  # 0: no DC charging
    weight: float = 1.0


VehicleChoice = CatalogVehicleSpec | CustomVehicleSpec


@dataclass(frozen=True, slots=True)
class VehiclesSpec:
    mix: tuple[VehicleChoice, ...] | None = None  # None: the built-in default mix


# -- stations ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    type: Literal["Type2", "CCS2", "CCS1", "CHAdeMO", "Type1", "Schuko"]
    max_power_w: float
    phases: int = 3  # AC phases wired; DC connectors ignore it

    @property
    def current(self) -> Literal["AC", "DC"]:
        return "DC" if self.type in DC_CONNECTOR_TYPES else "AC"


@dataclass(frozen=True, slots=True)
class MeterSpec:
    measurands: tuple[str, ...] = DEFAULT_MEASURANDS
    sample_interval_s: float = 60.0  # 0: no sampled meter values
    clock_aligned_interval_s: float = 900.0  # 0: no clock-aligned meter values
    noise: float = 0.0  # relative, instantaneous values only
    signed: bool = False  # OCMF


@dataclass(frozen=True, slots=True)
class AuthSpec:
    cache: bool = True
    local_list: bool = False
    offline_authorize_unknown: bool = False


@dataclass(frozen=True, slots=True)
class StationTemplateSpec:
    name: str
    connectors: tuple[ConnectorSpec, ...]  # of each EVSE
    ocpp: OcppVersion = OcppVersion.V16
    vendor: str = "chargeloop"
    model: str = "SimStation"
    evses: int = 1
    meter: MeterSpec = field(default_factory=MeterSpec)
    heartbeat_interval_s: float = 300.0
    tx_start_point: tuple[str, ...] = DEFAULT_TX_POINTS  # 2.0.1 only
    tx_stop_point: tuple[str, ...] = DEFAULT_TX_POINTS  # 2.0.1 only
    auth: AuthSpec = field(default_factory=AuthSpec)

    @property
    def max_power_w(self) -> float:
        """The most one EVSE can deliver (its strongest connector)."""
        return max(c.max_power_w for c in self.connectors)


@dataclass(frozen=True, slots=True)
class StationInstance:
    """One station to build: an expanded copy of a template at a site."""

    id: str
    site_id: str
    template: StationTemplateSpec
    password: str | None = None  # Basic auth: backend.passwords[id], else backend.password


# -- sites -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocationSpec:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class SiteStationsSpec:
    """One ``stations`` entry of a site, with its ids expanded."""

    template: str
    ids: tuple[str, ...]
    id_prefix: str | None = None  # None when the entry listed ids

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class SiteSpec:
    id: str
    stations: tuple[SiteStationsSpec, ...]
    kind: Literal["workplace", "public", "highway", "home"] = "public"
    location: LocationSpec | None = None
    grid_limit_w: float | None = None  # None: no limit
    load_balancing: Literal["none", "equal", "first_come"] = "none"

    @property
    def station_ids(self) -> tuple[str, ...]:
        return tuple(i for entry in self.stations for i in entry.ids)


# -- drivers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArrivalsSpec:
    """Either random arrivals (``profile`` and ``per_day``) or a sessions CSV (``replay``)."""

    profile: Literal["workplace", "public", "highway", "home", "flat"] | None = None
    per_day: float | None = None
    replay: Path | None = None  # resolved against the scenario file's folder


@dataclass(frozen=True, slots=True)
class DwellSpec:
    mean_s: float
    sd_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SocSpec:
    mean: float
    sd: float = 0.0


TOKEN_KIND_OCPP = {"rfid": "ISO14443", "app": "Central", "adhoc": "ad-hoc"}  # -> drivers.TokenKind


@dataclass(frozen=True, slots=True)
class TokensSpec:
    kind: Literal["rfid", "app", "adhoc"] = "rfid"
    count: int = DEFAULT_DRIVERS  # drivers in the group, one token each (Population.drivers)
    ids: tuple[str, ...] = ()  # the drivers' own token ids (count is then their number)

    @property
    def ocpp_kind(self) -> str:
        """The token kind as ``simulator.drivers`` names it (ISO14443, Central, ad-hoc)."""
        return TOKEN_KIND_OCPP[self.kind]


@dataclass(frozen=True, slots=True)
class BehaviourSpec:
    """Defaults are ``simulator.drivers.DriverBehaviour``'s."""

    plug_first: float = 0.6
    remote_start: float = 0.0
    overstay: float = 0.1
    leave_early: float = 0.05
    book: float = 0.0  # share of visits booked through the driver API before arriving
    book_lead_s: float = 600.0  # how long before arriving (within the CSMS's lead time)
    book_no_show: float = 0.0  # share of the booking drivers who then do not come


CardKind = Literal["ok", "declined"]


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """Each driver of the group gets a CSMS account with a card, their token linked and a
    driver API token. ``declined_share`` of them (rounded, the first in driver order after a
    seeded shuffle) get one of the test provider's always-declining cards instead."""

    card: CardKind = "ok"
    declined_share: float = 0.0  # card ok only; card declined: every driver declines
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class ApproachingSpec:
    """An approaching subscription: told about free matching stations near posted positions."""

    radius_km: float
    connector_type: str | None = None  # a scenario connector type (CCS2, Type2, ...)
    min_power_w: float | None = None
    position_every_s: float = 60.0  # how often the app posts the driver's position


@dataclass(frozen=True, slots=True)
class NotificationsSpec:
    approaching: ApproachingSpec | None = None


@dataclass(frozen=True, slots=True)
class RouteSpec:
    polyline: tuple[tuple[float, float], ...]  # (lat, lon) degrees
    speed_mps: float = 50 / 3.6


@dataclass(frozen=True, slots=True)
class PopulationSpec:
    """A group of drivers (a ``drivers`` item) who come to one site."""

    name: str
    site: str  # a SiteSpec.id
    arrivals: ArrivalsSpec
    dwell: DwellSpec | None = None  # None: the site kind's default
    soc_at_arrival: SocSpec | None = None  # None: the site kind's default
    target_soc: float | None = None  # None: the site kind's default
    tokens: TokensSpec = field(default_factory=TokensSpec)
    behaviour: BehaviourSpec = field(default_factory=BehaviourSpec)
    route: RouteSpec | None = None
    account: AccountSpec | None = None  # None: no CSMS account (tokens only)
    notifications: NotificationsSpec = field(default_factory=NotificationsSpec)


# -- tariffs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TariffSpec:
    """A tariff created on the reference CSMS before the run. ``document`` is the API's tariff
    body (POST /api/tariffs) as written, amounts as exact strings; ``station_ids`` are where it
    is assigned (its sites' stations and the stations named), ``default`` assigns it
    everywhere else."""

    id: str
    document: dict[str, Any]
    default: bool = False
    station_ids: tuple[str, ...] = ()
    location: str = ""  # "file:line" of the item


# -- faults, operations, expectations ----------------------------------------------------------


FaultKind = Literal["network_drop", "station_fault", "meter_fault", "clock_skew",
                    "csms_unreachable", "corrupt_frame"]


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One ``faults`` item. Exactly one of ``at_s`` and ``random_per_day`` is set; the fields
    after ``station_ids`` apply to one kind each and are ``None`` for the others."""

    kind: FaultKind
    at_s: float | None = None  # simulated seconds since the start
    random_per_day: float | None = None  # per matching station (per run for csms_unreachable)
    duration_s: float | None = None  # None: lasts to the end (or is instantaneous)
    stations: str = "*"  # the pattern as written
    station_ids: tuple[str, ...] = ()  # what it matched, in scenario order; () for csms_unreachable
    evse: int | None = None  # station_fault (0: whole station), meter_fault; default 1
    error_code: str | None = None  # station_fault (default OtherError)
    meter_fault: Literal["stuck", "drift", "jump", "reset"] | None = None  # meter_fault: `fault`
    drift_pct_per_h: float | None = None  # meter_fault drift (required there)
    jump_wh: float | None = None  # meter_fault jump (required there, > 0)
    reset_to_wh: float | None = None  # meter_fault reset (default 0)
    skew_s: float | None = None  # clock_skew: `seconds`
    count: int | None = None  # corrupt_frame: frames each time (default 1)
    location: str = ""  # "file:line" of the item, for messages


Command = Literal["remote_start", "remote_stop", "reset", "unlock", "change_availability",
                  "trigger_message", "reserve", "cancel_reservation", "set_charging_profile",
                  "clear_charging_profile", "update_firmware", "get_log", "data_transfer",
                  "set_variables", "change_configuration"]


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """An operator command. ``params`` are the YAML's with SI names: ``limit_kw`` -> ``limit_w``
    (W), ``expires_in`` -> ``expires_in_s``, ``duration`` -> ``duration_s``, ``retrieve_in`` ->
    ``retrieve_in_s``; documented defaults are filled in (reset ``type`` Soft, set_charging_profile
    ``evse`` 0, ``purpose`` TxDefaultProfile, ``stack_level`` 0, change_availability ``evse`` 0,
    reserve ``evse`` 0, unlock ``connector`` 1, get_log ``log_type`` DiagnosticsLog)."""

    at_s: float
    command: Command
    station: str  # the pattern as written
    station_ids: tuple[str, ...]  # what it matched, in scenario order
    params: dict[str, Any] = field(default_factory=dict)
    location: str = ""


ExpectationKind = Literal["all_sessions_completed", "energy_within_pct", "transactions_match_csms",
                          "p99_latency_ms_below", "no_alert_missed", "min_sessions",
                          "max_offline_queue_lost", "alerts_raised", "site_power_within_limit",
                          "all_stations_booted", "payments_match_costs", "bookings_honoured",
                          "approach_alerts"]


@dataclass(frozen=True, slots=True)
class ExpectationSpec:
    """One check. ``value`` is a bool, a number or, for the mapping kinds, a dict with defaults
    filled in: energy_within_pct ``{"of": "needed", "pct": float}``, transactions_match_csms
    ``{"energy_tolerance_wh": float}``, alerts_raised ``{"kind": str, "min": int, "max": int |
    None}``."""

    kind: ExpectationKind
    value: Any
    location: str = ""  # "file:line", so a failed check can point at its source


# -- the scenario ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    name: str
    duration_s: float
    station_templates: dict[str, StationTemplateSpec]
    sites: tuple[SiteSpec, ...]
    stations: tuple[StationInstance, ...]  # every station, in site order then entry order
    description: str = ""
    seed: int = 0
    start: datetime = DEFAULT_START  # aware, UTC
    speed: float | None = None  # None: as fast as possible; 1.0: real time
    backend: BackendSpec = field(default_factory=BackendSpec)
    vehicles: VehiclesSpec = field(default_factory=VehiclesSpec)
    drivers: tuple[PopulationSpec, ...] = ()
    tariffs: tuple[TariffSpec, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    operations: tuple[OperationSpec, ...] = ()
    expectations: tuple[ExpectationSpec, ...] = ()
    source: str = "<string>"  # the file it came from
    text_sha256: str = ""  # of the scenario text, for run manifests

    def station(self, station_id: str) -> StationInstance:
        for station in self.stations:
            if station.id == station_id:
                return station
        raise KeyError(station_id)

    def site(self, site_id: str) -> SiteSpec:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)
