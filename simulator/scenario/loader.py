"""Load a scenario: YAML with line numbers -> JSON Schema -> semantic checks -> ``ScenarioSpec``.

Every problem names the file, the line and column, the key path and what would be valid::

    scenarios/x.yaml:12:5: sites[0].stations[0].count: -3 is less than the minimum of 1

YAML syntax errors, schema errors and semantic errors (unknown template, duplicate station ids,
...) all become one ``ScenarioError`` listing each ``Problem``. The schema runs first; the
semantic checks need a well-formed document, so they run only when the schema found nothing.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs

from chargeloop.ocppj.versions import OcppVersion
from chargeloop.yamldoc import (
    DocumentError,
    Locator,
    Path_,
    Problem,
    choices,
    load_checked,
    show,
)
from simulator.scenario.durations import format_duration, parse_duration
from simulator.scenario.spec import (
    DEFAULT_DRIVERS,
    DEFAULT_START,
    AccountSpec,
    ApproachingSpec,
    ArrivalsSpec,
    AuthSpec,
    BackendSpec,
    BehaviourSpec,
    CatalogVehicleSpec,
    ConnectorSpec,
    CsmsOverridesSpec,
    CustomVehicleSpec,
    DwellSpec,
    ExpectationSpec,
    FaultSpec,
    LocationSpec,
    MeterSpec,
    NotificationsSpec,
    OperationSpec,
    PopulationSpec,
    RouteSpec,
    ScenarioSpec,
    SiteSpec,
    SiteStationsSpec,
    SocSpec,
    StationInstance,
    StationTemplateSpec,
    TariffSpec,
    TlsSpec,
    TokensSpec,
    VehicleChoice,
    VehiclesSpec,
)

SCHEMA_FILE = "scenario.schema.json"



class ScenarioError(DocumentError):
    """A scenario that cannot be loaded; ``problems`` says why, one line each in ``str()``."""


# -- public API --------------------------------------------------------------------------------


def scenario_schema() -> dict[str, Any]:
    """The published scenario schema (JSON Schema draft 2020-12)."""
    return json.loads(_schema_text())


def load_scenario(path: str | Path, *,
                  vehicle_models: Collection[str] | None = None) -> ScenarioSpec:
    """Load and check the scenario file at ``path``. Relative paths inside it (replay CSVs, TLS
    files) are resolved against its folder.

    ``vehicle_models``: names ``vehicles.mix[].model`` may use; by default the keys of
    ``simulator.vehicles.VEHICLE_CATALOG`` when that module exists (else unchecked).
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(str(path), 1, 1, "", f"not UTF-8 text: {exc}")]) from None
    return load_scenario_text(text, source=str(path), base_dir=path.parent,
                              vehicle_models=vehicle_models)


def load_scenario_text(text: str, source: str = "<string>", *,
                       base_dir: str | Path | None = None,
                       vehicle_models: Collection[str] | None = None) -> ScenarioSpec:
    """Load and check scenario YAML given as text; ``source`` names it in problems and
    ``base_dir`` (default: the current folder) anchors its relative paths."""
    data, locator = load_checked(
        text, source, schema=_schema(), validator=_validator(), error=ScenarioError,
        mapping="a scenario is a mapping with at least name, duration, station_templates "
                "and sites")
    if vehicle_models is None:
        vehicle_models = _catalogue_models()
    builder = _Builder(data, locator, Path(base_dir) if base_dir is not None else Path.cwd(),
                       vehicle_models)
    spec = builder.build(text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    if builder.problems:
        raise ScenarioError(builder.problems)
    return spec


# -- schema -----------------------------------------------------------------------------


@cache
def _schema_text() -> str:
    return resources.files("simulator.scenario").joinpath(SCHEMA_FILE).read_text("utf-8")


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(_schema_text()))


@cache
def _schema() -> dict[str, Any]:
    return json.loads(_schema_text())


# -- semantic checks and building --------------------------------------------------------------


def _catalogue_models() -> Collection[str] | None:
    try:
        from simulator.vehicles import VEHICLE_CATALOG  # optional until that module lands
    except ImportError:
        return None
    return frozenset(VEHICLE_CATALOG)


def _expand_ids(prefix: str, first: int, count: int) -> tuple[str, ...]:
    width = max(3, len(str(first + count - 1)))
    return tuple(f"{prefix}{n:0{width}d}" for n in range(first, first + count))


_WHY_MAX = ("speed max (as fast as possible) needs backend kind reference with transport "
            "memory: the clock then never waits, and only the in-process backend over the "
            "in-memory transport answers within the same simulated instant; a socket or a remote "
            "CSMS cannot keep up. Use speed: realtime or a factor such as 10")


class _Builder:
    """Builds the spec from schema-valid plain data, collecting semantic problems on the way."""

    def __init__(self, data: dict[str, Any], locator: Locator, base_dir: Path,
                 vehicle_models: Collection[str] | None) -> None:
        self.data = data
        self.locator = locator
        self.base_dir = base_dir
        self.vehicle_models = vehicle_models
        self.problems: list[Problem] = []
        self.duration_s = 0.0
        self.station_ids: list[str] = []
        self.evses: dict[str, int] = {}  # station id -> number of EVSEs

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self.locator.problem(path, message, at_key=at_key))

    def positive(self, path: Path_, value: Any) -> float:
        seconds = parse_duration(value)
        if seconds <= 0:
            self.problem(path, f"{show(value)}: the duration must be positive")
        return seconds

    def optional_duration(self, parent: dict[str, Any], key: str, path: Path_, *,
                          positive: bool = True) -> float | None:
        if key not in parent:
            return None
        if positive:
            return self.positive((*path, key), parent[key])
        return parse_duration(parent[key])

    def within_run(self, path: Path_, value: Any) -> float:
        at_s = parse_duration(value)
        if at_s >= self.duration_s > 0:
            self.problem(path, f"{show(value)} is not before the end of the run (duration "
                               f"{format_duration(self.duration_s)})")
        return at_s

    def local_path(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def match_stations(self, path: Path_, pattern: str) -> tuple[str, ...]:
        matched = tuple(s for s in self.station_ids if fnmatch.fnmatchcase(s, pattern))
        if not matched:
            self.problem(path, f"{show(pattern)} matches no station"
                               f"{choices(pattern, self.station_ids, 'stations')}")
        return matched

    def check_evse(self, path: Path_, evse: Any, station_ids: Sequence[str]) -> None:
        if not isinstance(evse, int):
            return
        for station_id in station_ids:
            if evse > self.evses.get(station_id, evse):
                self.problem(path, f"EVSE {evse} does not exist: {station_id} has "
                                   f"{self.evses[station_id]} EVSE"
                                   f"{'s' * (self.evses[station_id] != 1)}")
                return

    # -- the whole --

    def build(self, *, text_sha256: str) -> ScenarioSpec:
        d = self.data
        self.duration_s = self.positive(("duration",), d["duration"])
        start = self.start()
        backend = self.backend()
        speed = self.speed(backend)
        templates = {name: self.template(name, raw)
                     for name, raw in d["station_templates"].items()}
        sites, stations = self.sites(templates, backend)
        self.check_passwords(backend)
        site_by_id = {s.id: s for s in sites}
        drivers = self.drivers(site_by_id)
        tariffs = tuple(self.tariff(i, raw, site_by_id)
                        for i, raw in enumerate(d.get("tariffs") or []))
        self.check_driver_services(backend, tariffs, drivers)
        faults = tuple(self.fault(i, raw) for i, raw in enumerate(d.get("faults") or []))
        operations = tuple(self.operation(i, raw)
                           for i, raw in enumerate(d.get("operations") or []))
        if operations and backend.kind != "reference":
            self.problem(("operations",), "operations go through the reference CSMS's API, so "
                         "they need backend kind reference", at_key=True)
        expectations = tuple(self.expectation(i, raw)
                             for i, raw in enumerate(d.get("expectations") or []))
        return ScenarioSpec(
            name=d["name"], duration_s=self.duration_s, station_templates=templates,
            sites=sites, stations=stations, description=d.get("description", ""),
            seed=int(d.get("seed", 0)), start=start, speed=speed, backend=backend,
            vehicles=self.vehicles(), drivers=drivers, tariffs=tariffs, faults=faults,
            operations=operations, expectations=expectations, source=self.locator.source,
            text_sha256=text_sha256)

    def start(self) -> datetime:
        if "start" not in self.data:
            return DEFAULT_START
        try:
            moment = datetime.fromisoformat(self.data["start"].replace("z", "Z"))
        except ValueError as exc:  # the right shape, but 2026-13-05 or 25:00
            self.problem(("start",), f"{show(self.data['start'])} is not a real moment: {exc}")
            return DEFAULT_START
        if moment.tzinfo is None:  # a date alone: midnight UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def speed(self, backend: BackendSpec) -> float | None:
        raw = self.data.get("speed")
        if raw is None:
            return None if backend.in_memory else 1.0
        if raw == "max":
            if not backend.in_memory:
                self.problem(("speed",), _WHY_MAX)
            return None
        if raw == "realtime":
            return 1.0
        return float(raw)

    # -- backend --

    def backend(self) -> BackendSpec:
        raw = self.data.get("backend", {})
        path: Path_ = ("backend",)
        kind = raw.get("kind", "reference")
        transport = raw.get("transport", "memory")
        if kind == "url":
            if "url" not in raw:
                self.problem(path, 'kind url needs the CSMS\'s address: add url: '
                                   'ws://host:port/path (or wss://)', at_key=True)
            for key in ("transport", "csms"):
                if key in raw:
                    self.problem((*path, key), f"{key} applies only to kind reference (the "
                                 "CSMS chargeloop starts); a url backend is already running",
                                 at_key=True)
        elif "url" in raw:
            self.problem((*path, "url"), "url applies only to kind url; the reference backend "
                         "runs in this process", at_key=True)
        if "tls" in raw and kind == "reference" and transport == "memory":
            self.problem((*path, "tls"), "tls needs a socket: use transport: websocket, or "
                         "kind: url with a wss:// url", at_key=True)
        if kind == "url" and "tls" in raw and str(raw.get("url", "")).startswith("ws://"):
            self.problem((*path, "url"), "tls is set but the url is ws://; use wss://")
        tls = None
        if "tls" in raw:
            files = {}
            for key, value in raw["tls"].items():
                files[key] = self.local_path(value)
                if not files[key].is_file():
                    self.problem((*path, "tls", key), f"file not found: {files[key]}")
            tls = TlsSpec(**files)
        csms_raw = raw.get("csms", {})
        csms = CsmsOverridesSpec(
            heartbeat_interval_s=self.optional_duration(csms_raw, "heartbeat_interval",
                                                        (*path, "csms")),
            unknown_stations=csms_raw.get("unknown_stations"),
            stuck_session_after_s=self.optional_duration(csms_raw, "stuck_session_after",
                                                         (*path, "csms")))
        return BackendSpec(kind=kind, transport=transport, url=raw.get("url"),
                           password=raw.get("password"), passwords=dict(raw.get("passwords", {})),
                           tls=tls, csms=csms)

    def check_passwords(self, backend: BackendSpec) -> None:
        known = set(self.station_ids)
        for station_id in backend.passwords:
            if station_id not in known:
                self.problem(("backend", "passwords", station_id),
                             f"no station has the id {show(station_id)}"
                             f"{choices(station_id, self.station_ids, 'stations')}",
                             at_key=True)

    # -- vehicles --

    def vehicles(self) -> VehiclesSpec:
        raw = self.data.get("vehicles", {})
        if "mix" not in raw:
            return VehiclesSpec()
        mix: list[VehicleChoice] = []
        for i, item in enumerate(raw["mix"]):
            path: Path_ = ("vehicles", "mix", i)
            if "model" in item:
                extra = sorted(set(item) - {"model", "weight"})
                if extra:
                    self.problem((*path, extra[0]), f"{', '.join(extra)} cannot go with model: "
                                 "a catalogue model brings its own figures; drop model to "
                                 "describe a vehicle of your own", at_key=True)
                models = self.vehicle_models
                if models is not None and item["model"] not in models:
                    self.problem((*path, "model"), f"{show(item['model'])} is not in the vehicle "
                                 f"catalogue{choices(item['model'], sorted(models), 'models')}")
                mix.append(CatalogVehicleSpec(model=item["model"],
                                              weight=float(item.get("weight", 1.0))))
            else:
                mix.append(CustomVehicleSpec(
                    name=item["name"], capacity_wh=item["capacity_kwh"] * 1000.0,
                    ac_max_w=item["ac_kw"] * 1000.0, ac_phases=item.get("ac_phases", 3),
                    dc_max_w=item.get("dc_kw", 0.0) * 1000.0,
                    weight=float(item.get("weight", 1.0))))
        return VehiclesSpec(mix=tuple(mix))

    # -- stations and sites --

    def template(self, name: str, raw: dict[str, Any]) -> StationTemplateSpec:
        path: Path_ = ("station_templates", name)
        meter_raw = raw.get("meter", {})
        meter_defaults = MeterSpec()
        meter = MeterSpec(
            measurands=tuple(meter_raw.get("measurands", meter_defaults.measurands)),
            sample_interval_s=parse_duration(meter_raw.get("sample_interval",
                                                           meter_defaults.sample_interval_s)),
            clock_aligned_interval_s=parse_duration(
                meter_raw.get("clock_aligned_interval", meter_defaults.clock_aligned_interval_s)),
            noise=float(meter_raw.get("noise", meter_defaults.noise)),
            signed=meter_raw.get("signed", meter_defaults.signed))
        connectors = tuple(ConnectorSpec(type=c["type"], max_power_w=c["max_power_kw"] * 1000.0,
                                         phases=c.get("phases", 3))
                           for c in raw["connectors"])
        fields: dict[str, Any] = {}
        if "heartbeat_interval" in raw:
            fields["heartbeat_interval_s"] = self.positive((*path, "heartbeat_interval"),
                                                           raw["heartbeat_interval"])
        for key in ("vendor", "model", "evses"):
            if key in raw:
                fields[key] = raw[key]
        for key in ("tx_start_point", "tx_stop_point"):
            if key in raw:
                fields[key] = tuple(raw[key])
        if "ocpp" in raw:
            fields["ocpp"] = OcppVersion.parse(raw["ocpp"])
        return StationTemplateSpec(name=name, connectors=connectors, meter=meter,
                                   auth=AuthSpec(**raw.get("auth", {})), **fields)

    def sites(self, templates: dict[str, StationTemplateSpec],
              backend: BackendSpec) -> tuple[tuple[SiteSpec, ...], tuple[StationInstance, ...]]:
        sites: list[SiteSpec] = []
        stations: list[StationInstance] = []
        first_seen: dict[str, str] = {}  # station id -> where
        next_number: dict[str, int] = {}  # id prefix -> next number
        site_ids: dict[str, str] = {}
        for i, raw in enumerate(self.data["sites"]):
            path: Path_ = ("sites", i)
            if raw["id"] in site_ids:
                self.problem((*path, "id"), f"site id {show(raw['id'])} is already used at "
                             f"{site_ids[raw['id']]}")
            site_ids.setdefault(raw["id"], self.locator.where((*path, "id")))
            if raw.get("load_balancing", "none") != "none" and "grid_limit_kw" not in raw:
                self.problem((*path, "load_balancing"), f"load_balancing "
                             f"{raw['load_balancing']} shares grid_limit_kw, which this site "
                             "does not set")
            entries: list[SiteStationsSpec] = []
            for j, entry in enumerate(raw["stations"]):
                entry_path = (*path, "stations", j)
                template = templates.get(entry["template"])
                if template is None:
                    self.problem((*entry_path, "template"), f"unknown station template "
                                 f"{show(entry['template'])}"
                                 f"{choices(entry['template'], list(templates), 'templates')}")
                if "ids" in entry:
                    prefix = None
                    if "count" in entry and entry["count"] != len(entry["ids"]):
                        self.problem((*entry_path, "count"), f"count {entry['count']} but "
                                     f"{len(entry['ids'])} ids listed; give one or the other")
                    ids = tuple(entry["ids"])
                else:
                    prefix = entry["id_prefix"] if "id_prefix" in entry else raw["id"].upper() + "-"
                    first = next_number.get(prefix, 1)
                    ids = _expand_ids(prefix, first, entry.get("count", 1))
                    next_number[prefix] = first + len(ids)
                for station_id in ids:
                    if station_id in first_seen:
                        self.problem(entry_path, f"station id {show(station_id)} is already used "
                                     f"at {first_seen[station_id]}; station ids must be unique "
                                     "(set id_prefix or ids)", at_key=True)
                        continue
                    first_seen[station_id] = self.locator.where(entry_path)
                    self.station_ids.append(station_id)
                    if template is not None:
                        self.evses[station_id] = template.evses
                        stations.append(StationInstance(id=station_id, site_id=raw["id"],
                                                        template=template,
                                                        password=backend.password_for(station_id)))
                entries.append(SiteStationsSpec(template=entry["template"], ids=ids,
                                                id_prefix=prefix))
            location = None
            if "location" in raw:
                location = LocationSpec(lat=float(raw["location"]["lat"]),
                                        lon=float(raw["location"]["lon"]))
            grid_limit_w = raw["grid_limit_kw"] * 1000.0 if "grid_limit_kw" in raw else None
            sites.append(SiteSpec(id=raw["id"], stations=tuple(entries),
                                  kind=raw.get("kind", "public"), location=location,
                                  grid_limit_w=grid_limit_w,
                                  load_balancing=raw.get("load_balancing", "none")))
        return tuple(sites), tuple(stations)

    # -- drivers --

    def drivers(self, sites: dict[str, SiteSpec]) -> tuple[PopulationSpec, ...]:
        out: list[PopulationSpec] = []
        names: dict[str, str] = {}
        for i, raw in enumerate(self.data.get("drivers") or []):
            path: Path_ = ("drivers", i)
            if raw["name"] in names:
                self.problem((*path, "name"), f"driver group name {show(raw['name'])} is "
                             f"already used at {names[raw['name']]}")
            names.setdefault(raw["name"], self.locator.where((*path, "name")))
            site = sites.get(raw["site"])
            if site is None:
                self.problem((*path, "site"), f"unknown site {show(raw['site'])}"
                             f"{choices(raw['site'], list(sites), 'sites')}")
            arrivals_raw = raw["arrivals"]
            if "replay" in arrivals_raw:
                extra = sorted(set(arrivals_raw) - {"replay"})
                if extra:
                    self.problem((*path, "arrivals", extra[0]), f"{', '.join(extra)} cannot go "
                                 "with replay: replayed sessions bring their own arrival times",
                                 at_key=True)
                replay = self.local_path(arrivals_raw["replay"])
                if not replay.is_file():
                    self.problem((*path, "arrivals", "replay"), f"file not found: {replay}")
                arrivals = ArrivalsSpec(replay=replay)
            else:
                profile = arrivals_raw.get("profile", site.kind if site else "flat")
                arrivals = ArrivalsSpec(profile=profile, per_day=float(arrivals_raw["per_day"]))
            dwell = None
            if "dwell" in raw:
                dwell = DwellSpec(mean_s=self.positive((*path, "dwell", "mean"),
                                                       raw["dwell"]["mean"]),
                                  sd_s=parse_duration(raw["dwell"].get("sd", 0)))
            soc = None
            if "soc_at_arrival" in raw:
                soc = SocSpec(mean=float(raw["soc_at_arrival"]["mean"]),
                              sd=float(raw["soc_at_arrival"].get("sd", 0.0)))
            route = None
            if "route" in raw:
                route = RouteSpec(polyline=tuple((float(p[0]), float(p[1]))
                                                 for p in raw["route"]["polyline"]),
                                  speed_mps=raw["route"].get("speed_kmh", 50.0) / 3.6)
            out.append(PopulationSpec(
                name=raw["name"], site=raw["site"], arrivals=arrivals, dwell=dwell,
                soc_at_arrival=soc,
                target_soc=float(raw["target_soc"]) if "target_soc" in raw else None,
                tokens=self.tokens((*path, "tokens"), raw.get("tokens", {})),
                behaviour=self.behaviour((*path, "behaviour"), raw.get("behaviour", {})),
                route=route, account=self.account((*path, "account"), raw),
                notifications=self.notifications((*path, "notifications"), raw)))
        return tuple(out)

    def behaviour(self, path: Path_, raw: dict[str, Any]) -> BehaviourSpec:
        values: dict[str, float] = {k: float(v) for k, v in raw.items() if k != "book_lead"}
        if "book_lead" in raw:
            values["book_lead_s"] = self.positive((*path, "book_lead"), raw["book_lead"])
        return BehaviourSpec(**values)

    def account(self, path: Path_, raw: dict[str, Any]) -> AccountSpec | None:
        if "account" not in raw:
            return None
        account = raw["account"] or {}
        card = account.get("card", "ok")
        if card == "declined" and "declined_share" in account:
            self.problem((*path, "declined_share"), "declined_share applies to card: ok (a "
                         "share of the drivers decline); with card: declined every card "
                         "declines", at_key=True)
        return AccountSpec(card=card, declined_share=float(account.get("declined_share", 0.0)),
                           currency=account.get("currency", "EUR"))

    def notifications(self, path: Path_, raw: dict[str, Any]) -> NotificationsSpec:
        approaching_raw = (raw.get("notifications") or {}).get("approaching")
        if approaching_raw is None:
            return NotificationsSpec()
        power = approaching_raw.get("min_power_kw")
        every = self.optional_duration(approaching_raw, "position_every",
                                       (*path, "approaching"))
        return NotificationsSpec(approaching=ApproachingSpec(
            radius_km=float(approaching_raw["radius_km"]),
            connector_type=approaching_raw.get("connector_type"),
            min_power_w=None if power is None else float(power) * 1000.0,
            position_every_s=every or 60.0))

    # -- driver services: tariffs, accounts, bookings, notifications --

    def tariff(self, i: int, raw: dict[str, Any], sites: dict[str, SiteSpec]) -> TariffSpec:
        path: Path_ = ("tariffs", i)
        document = {k: _exact(v) for k, v in raw.items() if k != "assign"}
        for problem_path, message in tariff_problems(document):
            self.problem((*path, *problem_path), message,
                         at_key=bool(problem_path) and problem_path[0] not in document)
        assign = raw["assign"]
        station_ids: list[str] = []
        for j, site_id in enumerate(assign.get("sites", [])):
            site = sites.get(site_id)
            if site is None:
                self.problem((*path, "assign", "sites", j), f"unknown site {show(site_id)}"
                             f"{choices(site_id, list(sites), 'sites')}")
            else:
                station_ids.extend(site.station_ids)
        for j, pattern in enumerate(assign.get("stations", [])):
            station_ids.extend(self.match_stations((*path, "assign", "stations", j), pattern))
        default = bool(assign.get("default", False))
        if not default and not station_ids and not self.problems:
            self.problem((*path, "assign"), "assign it somewhere: default: true, sites or "
                         "stations", at_key=True)
        return TariffSpec(id=str(raw["id"]), document=document, default=default,
                          station_ids=tuple(dict.fromkeys(station_ids)),
                          location=self.locator.where(path))

    def check_driver_services(self, backend: BackendSpec, tariffs: tuple[TariffSpec, ...],
                              drivers: tuple[PopulationSpec, ...]) -> None:
        """What the driver services need: the reference CSMS (their API is its own), an
        account for booking and notifications, a route and located sites to approach."""
        why = ("go through the reference CSMS's driver API, so they need backend kind "
               "reference")
        if tariffs and backend.kind != "reference":
            self.problem(("tariffs",), f"tariffs {why}", at_key=True)
        seen: dict[str, str] = {}
        for i, tariff in enumerate(tariffs):
            if tariff.id in seen:
                self.problem(("tariffs", i, "id"), f"tariff id {show(tariff.id)} is already "
                             f"used at {seen[tariff.id]}")
            seen.setdefault(tariff.id, tariff.location)
        defaults = [t for t in tariffs if t.default]
        if len(defaults) > 1:
            self.problem(("tariffs", tariffs.index(defaults[1]), "assign", "default"),
                         f"only one tariff can be the default; {defaults[0].id} already is")
        needs = {"payments_match_costs": (any(g.account for g in drivers),
                                           "a driver group with an account"),
                 "bookings_honoured": (any(g.behaviour.book > 0 for g in drivers),
                                       "a driver group that books (behaviour: {book: ...})"),
                 "approach_alerts": (any(g.notifications.approaching for g in drivers),
                                     "a driver group with notifications: {approaching: ...}")}
        for i, raw_expectation in enumerate(self.data.get("expectations") or []):
            for kind in raw_expectation:
                if kind in needs and not needs[kind][0]:
                    self.problem(("expectations", i, kind), f"{kind} has nothing to check "
                                 f"without {needs[kind][1]}", at_key=True)
        raw_drivers = self.data.get("drivers") or []
        for i, group in enumerate(drivers):
            path: Path_ = ("drivers", i)
            raw = raw_drivers[i]
            for key in ("account", "notifications"):
                if key in raw and backend.kind != "reference":
                    self.problem((*path, key), f"{key} {why}", at_key=True)
            if group.behaviour.book > 0 and group.account is None:
                self.problem((*path, "behaviour", "book"), "booking uses the driver API: "
                             "give the group an account (account: {card: ok})", at_key=True)
            approaching = group.notifications.approaching
            if approaching is None:
                continue
            if group.account is None:
                self.problem((*path, "notifications"), "notifications use the driver API: "
                             "give the group an account (account: {card: ok})", at_key=True)
            if group.route is None:
                self.problem((*path, "notifications", "approaching"), "approaching alerts "
                             "follow the positions posted along the group's route: add route: "
                             "{polyline: [[lat, lon], ...]}", at_key=True)
            site = next((s for s in self.data["sites"] if s["id"] == group.site), None)
            if site is not None and "location" not in site:
                self.problem((*path, "notifications", "approaching"), f"site {group.site} "
                             "has no location, so the CSMS cannot tell anybody is near it: "
                             "add location: {lat: ..., lon: ...} to the site", at_key=True)

    def tokens(self, path: Path_, raw: dict[str, Any]) -> TokensSpec:
        ids = tuple(str(i) for i in raw.get("ids", ()))
        if ids and "count" in raw and raw["count"] != len(ids):
            self.problem((*path, "count"), f"count {raw['count']} but {len(ids)} ids: give "
                         "one of them (with ids, count is their number)")
        count = len(ids) or int(raw.get("count", DEFAULT_DRIVERS))
        return TokensSpec(kind=raw.get("kind", "rfid"), count=count, ids=ids)

    # -- faults, operations, expectations --

    def fault(self, i: int, raw: dict[str, Any]) -> FaultSpec:
        path: Path_ = ("faults", i)
        kind = raw["kind"]
        if ("at" in raw) == ("random" in raw):
            self.problem(path, "give either at (a fixed time) or random: {per_day: ...}, not "
                         + ("both" if "at" in raw else "neither"), at_key=True)
        at_s = self.within_run((*path, "at"), raw["at"]) if "at" in raw else None
        duration_s = self.optional_duration(raw, "duration", path)
        station_ids: tuple[str, ...] = ()
        if kind != "csms_unreachable":
            station_ids = self.match_stations((*path, "stations"), raw.get("stations", "*"))
        if "evse" in raw:
            self.check_evse((*path, "evse"), raw["evse"], station_ids)
        fields: dict[str, Any] = {}
        if kind == "station_fault":
            fields["error_code"] = raw.get("error_code", "OtherError")
            fields["evse"] = raw.get("evse", 1)
        elif kind == "meter_fault":
            fault = raw["fault"]
            owners = {"drift_pct_per_h": "drift", "jump_kwh": "jump", "reset_to_kwh": "reset"}
            for key, owner in owners.items():
                if key in raw and fault != owner:
                    self.problem((*path, key), f"{key} applies only to fault: {owner}",
                                 at_key=True)
                elif key not in raw and fault == owner and owner != "reset":
                    self.problem((*path, "fault"), f"fault: {owner} needs {key}")
            fields.update(meter_fault=fault, evse=raw.get("evse", 1))
            if fault == "drift" and "drift_pct_per_h" in raw:
                fields["drift_pct_per_h"] = float(raw["drift_pct_per_h"])
            if fault == "jump" and "jump_kwh" in raw:
                fields["jump_wh"] = float(raw["jump_kwh"]) * 1000.0
            if fault == "reset":
                fields["reset_to_wh"] = float(raw.get("reset_to_kwh", 0.0)) * 1000.0
        elif kind == "clock_skew":
            fields["skew_s"] = float(raw["seconds"])
        elif kind == "corrupt_frame":
            fields["count"] = raw.get("count", 1)
        return FaultSpec(kind=kind, at_s=at_s,
                         random_per_day=float(raw["random"]["per_day"]) if "random" in raw
                         else None,
                         duration_s=duration_s, stations=raw.get("stations", "*"),
                         station_ids=station_ids, location=self.locator.where(path), **fields)

    def operation(self, i: int, raw: dict[str, Any]) -> OperationSpec:
        path: Path_ = ("operations", i)
        command = raw["command"]
        params = dict(raw.get("params", {}))
        params_path = (*path, "params")
        defaults = _PARAM_DEFAULTS.get(command, {})
        params = {**defaults, **params}
        if "limit_kw" in params:
            params["limit_w"] = float(params.pop("limit_kw")) * 1000.0
        for key in ("expires_in", "duration"):
            if key in params:
                params[f"{key}_s"] = self.positive((*params_path, key), params.pop(key))
        if "retrieve_in" in params:
            params["retrieve_in_s"] = parse_duration(params.pop("retrieve_in"))
        station_ids = self.match_stations((*path, "station"), raw["station"])
        if "evse" in params:
            self.check_evse((*params_path, "evse"), params["evse"], station_ids)
        return OperationSpec(at_s=self.within_run((*path, "at"), raw["at"]), command=command,
                             station=raw["station"], station_ids=station_ids, params=params,
                             location=self.locator.where(path))

    def expectation(self, i: int, raw: dict[str, Any]) -> ExpectationSpec:
        ((kind, value),) = raw.items()
        if kind == "energy_within_pct":
            value = {"of": value.get("of", "needed"), "pct": float(value["pct"])}
        elif kind == "transactions_match_csms":
            value = {"energy_tolerance_wh": float(value.get("energy_tolerance_wh", 1.0))}
        elif kind == "p99_latency_ms_below":
            value = float(value)
        elif kind == "alerts_raised":
            value = {"kind": value["kind"], "min": value.get("min", 1), "max": value.get("max")}
            if value["max"] is not None and value["max"] < value["min"]:
                self.problem(("expectations", i, kind, "max"), f"max {value['max']} is below "
                             f"min {value['min']}")
        return ExpectationSpec(kind=kind, value=value,
                               location=self.locator.where(("expectations", i)))


def _exact(value: Any) -> Any:
    """Amounts as exact decimal strings (0.35, not the float nearest to it)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    return value


TARIFF_KEYS_NOT_IN_SCENARIOS = ("valid_from",)  # a scenario's tariffs start with the run


def tariff_problems(document: dict[str, Any]) -> list[tuple[Path_, str]]:
    """The reference CSMS's own checks of a tariff document (its API's 422s), as key paths
    inside the document and messages; unknown keys too (the API would ignore them)."""
    from pydantic import ValidationError

    from csms.api.tariffs import TariffCreate

    allowed = [k for k in TariffCreate.model_fields if k not in TARIFF_KEYS_NOT_IN_SCENARIOS]
    problems: list[tuple[Path_, str]] = [
        ((key,), f"unknown tariff key {show(key)}{choices(key, [*allowed, 'assign'], 'keys')}")
        for key in document if key not in allowed]
    try:
        TariffCreate.model_validate(document)
    except ValidationError as error:
        problems.extend(unprocessable(error.errors()))
    return problems


def unprocessable(errors: Sequence[dict[str, Any]]) -> list[tuple[Path_, str]]:
    """FastAPI/pydantic error entries (``loc``, ``msg``) as (path in the document, message);
    the ``body`` prefix of an API answer is dropped."""
    out: list[tuple[Path_, str]] = []
    for entry in errors:
        loc = tuple(entry.get("loc", ()))
        if loc[:1] == ("body",):
            loc = loc[1:]
        out.append((loc, str(entry.get("msg", "invalid"))))
    return out


_PARAM_DEFAULTS: dict[str, dict[str, Any]] = {
    "reset": {"type": "Soft"},
    "unlock": {"connector": 1},
    "change_availability": {"evse": 0},
    "reserve": {"evse": 0},
    "set_charging_profile": {"evse": 0, "purpose": "TxDefaultProfile", "stack_level": 0},
    "get_log": {"log_type": "DiagnosticsLog"},
}


