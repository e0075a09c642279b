"""A scenario's parts as the models want them: station specs, vehicle mix, driver populations,
and the reference CSMS's configuration.

The scenario format speaks the user's language (kW, connector names as printed on the plug,
durations); the models speak SI and OCPP enums. This is the one place that translates.
"""

from __future__ import annotations

from pathlib import Path

from chargeloop.ocppj import OcppVersion
from csms.config import CsmsConfig, UnknownStations
from simulator.drivers import DriverBehaviour, Population
from simulator.scenario.spec import (
    BackendSpec,
    CatalogVehicleSpec,
    PopulationSpec,
    ScenarioSpec,
    StationInstance,
    VehiclesSpec,
)
from simulator.station.spec import ConnectorSpec, EvseSpec, MeterSpec, StationSpec
from simulator.vehicles import VEHICLE_CATALOG, VehicleModel, default_mix

# The plug names of the scenario format -> OCPP 2.0.1 ConnectorEnumType. AC Type 2 and Type 1
# public chargers mostly have sockets (the driver brings the cable); DC connectors are tethered.
CONNECTOR_TYPES = {"Type2": "sType2", "Type1": "cType1", "CCS2": "cCCS2", "CCS1": "cCCS1",
                   "CHAdeMO": "cG105", "Schuko": "sCEE-7-7"}


def station_spec(instance: StationInstance, *, transaction_id_prefix: str = "") -> StationSpec:
    template = instance.template
    evses = []
    for evse_id in range(1, template.evses + 1):
        connectors = tuple(
            ConnectorSpec(id=index, type=CONNECTOR_TYPES[c.type],
                          fixed_cable=CONNECTOR_TYPES[c.type].startswith("c"))
            for index, c in enumerate(template.connectors, start=1))
        dc = any(c.current == "DC" for c in template.connectors)
        evses.append(EvseSpec(id=evse_id, max_power_w=template.max_power_w,
                              kind="DC" if dc else "AC",
                              phases=max(c.phases for c in template.connectors),
                              connectors=connectors))
    meter = template.meter
    # 1.6 starts and stops as PowerPathClosed whatever is set; 2.0.1 follows the template.
    return StationSpec(
        id=instance.id, version=template.ocpp, evses=tuple(evses), vendor=template.vendor,
        model=template.model, password=instance.password,
        meter=MeterSpec(noise=meter.noise, signed=meter.signed),
        heartbeat_interval_s=round(template.heartbeat_interval_s),
        meter_sample_interval_s=round(meter.sample_interval_s),
        clock_aligned_interval_s=round(meter.clock_aligned_interval_s),
        sampled_measurands=meter.measurands,
        tx_start_points=template.tx_start_point, tx_stop_points=template.tx_stop_point,
        allow_offline_tx_for_unknown_id=template.auth.offline_authorize_unknown,
        transaction_id_prefix=transaction_id_prefix,
        settings={"cache_enabled": template.auth.cache,
                  "local_list_enabled": template.auth.local_list})


def vehicle_mix(spec: VehiclesSpec) -> list[tuple[VehicleModel, float]]:
    if spec.mix is None:
        return default_mix()
    mix: list[tuple[VehicleModel, float]] = []
    for choice in spec.mix:
        if isinstance(choice, CatalogVehicleSpec):
            mix.append((VEHICLE_CATALOG[choice.model], choice.weight))
        else:
            mix.append((VehicleModel(
                name=choice.name, capacity_wh=choice.capacity_wh, ac_max_w=choice.ac_max_w,
                ac_phases=choice.ac_phases, dc_max_w=choice.dc_max_w), choice.weight))
    return mix


def population(spec: PopulationSpec, site_kind: str, index: int) -> Population:
    arrivals = spec.arrivals
    behaviour = spec.behaviour
    return Population(
        name=spec.name, site_id=spec.site, site_kind=site_kind,  # type: ignore[arg-type]
        arrivals_per_day=arrivals.per_day or 0.0,
        replay_csv=str(arrivals.replay) if arrivals.replay else None,
        profile=arrivals.profile,
        dwell_mean_s=spec.dwell.mean_s if spec.dwell else None,
        dwell_sd_s=spec.dwell.sd_s if spec.dwell else None,
        target_soc=spec.target_soc,
        soc_in_mean=spec.soc_at_arrival.mean if spec.soc_at_arrival else None,
        soc_in_sd=spec.soc_at_arrival.sd if spec.soc_at_arrival else None,
        token_kind=spec.tokens.ocpp_kind,  # type: ignore[arg-type]
        drivers=spec.tokens.count, token_ids=spec.tokens.ids,
        behaviour=DriverBehaviour(plug_first=behaviour.plug_first,
                                  remote_start=behaviour.remote_start,
                                  overstay=behaviour.overstay,
                                  leave_early=behaviour.leave_early),
        # Distinct prefixes keep two populations' tokens apart in the CSMS.
        token_prefix=f"P{index}",
        route=spec.route.polyline if spec.route else None,
        speed_kmh=(spec.route.speed_mps * 3.6) if spec.route else 50.0)


WALL_WATCHDOG_OFF_S = 365 * 86_400.0  # the engine scans on simulated time instead


def csms_config(scenario: ScenarioSpec, database: Path) -> CsmsConfig:
    """The reference CSMS for a run: its own SQLite file and upload folder beside it, the
    scenario's overrides, and a heartbeat that follows the stations' own unless the scenario
    says otherwise."""
    overrides = scenario.backend.csms
    # The engine drives the alert watchdog on simulated time; the CSMS's own wall-time loop
    # would scan at whatever simulated moment its sleep happens to end.
    config = CsmsConfig(port=0, database_url=f"sqlite+aiosqlite:///{database}",
                        admin_token_file=database.with_suffix(".admin-token"),
                        unknown_stations=UnknownStations.ACCEPT,
                        upload_dir=database.parent / "uploads",
                        watchdog_interval_s=WALL_WATCHDOG_OFF_S)
    if overrides.heartbeat_interval_s is not None:
        config.heartbeat_interval_s = round(overrides.heartbeat_interval_s)
    if overrides.unknown_stations is not None:
        config.unknown_stations = UnknownStations(overrides.unknown_stations)
    if overrides.stuck_session_after_s is not None:
        config.stuck_session_after_s = overrides.stuck_session_after_s
    return config


def versions_in(scenario: ScenarioSpec) -> set[OcppVersion]:
    return {station.template.ocpp for station in scenario.stations}


def passwords(backend: BackendSpec, scenario: ScenarioSpec) -> dict[str, str]:
    return {s.id: s.password for s in scenario.stations if s.password}
