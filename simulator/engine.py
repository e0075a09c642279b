"""Runs a scenario: builds the world from its spec, steps it on the shared clock against its
backend, checks its expectations and writes its run folder.

Randomness: one ``numpy`` generator seeded from the scenario (or the caller) is split into
independent streams for the drivers, the faults and each station, so adding a fault does not
change who arrives when, and the same seed gives the same tables.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from chargeloop.clock import SimClock
from chargeloop.ocppj import JsonlTraceWriter
from chargeloop.runs import RunFolder
from simulator import build, fault_injection, service_world
from simulator.backends import Backend, ReferenceBackend, UrlBackend
from simulator.drivers import plan_visits
from simulator.expectations import Evidence, check_all
from simulator.ocmf import OcmfSigner
from simulator.operations import OPERATION_COLUMNS, InProcessHttp, Operations, OperatorApi
from simulator.results import SimulationResult, kpis
from simulator.scenario.spec import BackendSpec, PopulationSpec, ScenarioSpec
from simulator.sites import Site
from simulator.station.link import Link
from simulator.station.recorder import TABLES, Recorder
from simulator.station.station import SimStation
from simulator.visits import (
    STAYED_AWAY,
    VISIT_COLUMNS,
    Bay,
    DriverRoster,
    SiteBays,
    Visit,
    VisitRecorder,
    visit_process,
)

log = logging.getLogger("chargeloop.simulator")

Progress = Callable[[float, float], None]  # (simulated seconds done, seconds in all)

# The reference CSMS's alert watchdog (offline stations, stuck sessions) scans this often in
# simulated time; its own loop sleeps in wall time, which an accelerated run outpaces.
WATCHDOG_S = 60.0
DRAIN_LIMIT_S = 86_400.0  # after the horizon, visits still plugged get at most this to finish
SETTLE_S = 120.0  # then this long for the last messages to reach the CSMS
PROGRESS_STEPS = 200
URL_DEFAULT_SPEED = 60.0  # a scenario written "as fast as possible" against a real CSMS


async def run_scenario(spec: ScenarioSpec, *, runs_root: Path | None = Path("runs"),
                       progress: Progress | None = None) -> SimulationResult:
    """Run ``spec`` to the end; ``runs_root=None`` writes no run folder."""
    folder = RunFolder.create(runs_root, spec.name, kind="scenario") if runs_root else None
    trace = folder.trace_writer() if folder else None
    wall0 = time.monotonic()
    try:
        world = World(spec, trace)
        async with world.backend() as backend:
            await world.populate(backend)
            await world.run(progress)
            evidence = await world.evidence(backend)
    finally:
        if trace is not None:
            trace.close()
    verdicts = check_all(evidence)
    evses = sum(len(s.spec.evses) for s in world.stations.values())
    result = SimulationResult(
        scenario=spec.name, seed=spec.seed, tables=evidence.tables, verdicts=verdicts,
        kpis=kpis(evidence.tables, spec.duration_s, evses), lateness=world.clock.lateness())
    result.kpis["wall_s"] = round(time.monotonic() - wall0, 3)
    if folder is not None:
        _write(folder, spec, result)
        result.run_folder = folder.path
    return result


def with_url(spec: ScenarioSpec, url: str, speed: float | None = None) -> ScenarioSpec:
    """``spec`` pointed at an external CSMS (``chargeloop run --csms-url``): a network backend
    cannot be run as fast as possible, so a scenario written that way runs accelerated."""
    backend = BackendSpec(kind="url", url=url, password=spec.backend.password,
                          passwords=dict(spec.backend.passwords), tls=spec.backend.tls)
    chosen = speed if speed is not None else (spec.speed or URL_DEFAULT_SPEED)
    return replace(spec, backend=backend, speed=chosen, operations=())


class World:
    """Everything one run simulates, and the backend it talks to."""

    def __init__(self, spec: ScenarioSpec, trace: JsonlTraceWriter | None) -> None:
        self.spec = spec
        self.trace = trace
        self.clock = SimClock(spec.start, spec.speed)
        self.recorder = Recorder(spec.start)
        self.visits = VisitRecorder()
        self.faults: list[dict[str, Any]] = []
        self.stations: dict[str, SimStation] = {}
        self.operations: Operations | None = None
        self._api: OperatorApi | None = None
        self._http: InProcessHttp | None = None
        self._visit_processes: list[simpy.Process] = []
        self.services: service_world.DriverServicesRun | None = None
        # A fourth stream for the driver services: spawning more keeps the first three as
        # they were, so scenarios without driver services run as before.
        streams = np.random.default_rng(spec.seed).spawn(4)
        self._driver_rng, self._fault_rng, self._station_rng, self._service_rng = streams
        self._workdir = tempfile.TemporaryDirectory(prefix="chargeloop-run-")

    # -- backend -----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def backend(self) -> AsyncIterator[Backend]:
        spec = self.spec.backend
        try:
            if spec.kind == "url":
                assert spec.url is not None
                yield UrlBackend(spec.url, build.passwords(spec, self.spec), _tls(spec))
                return
            config = build.csms_config(self.spec, Path(self._workdir.name) / "csms.db")
            async with ReferenceBackend(config, spec.transport, clock=self.clock.utc) as ref:
                yield ref
        finally:
            if self.services is not None:
                await self.services.close()
            if self._api is not None:
                await self._api.close()
            if self._http is not None:
                await self._http.close()
            self._workdir.cleanup()

    async def populate(self, backend: Backend) -> None:
        """Stations, drivers, faults and operations, and what the reference CSMS must know
        (the drivers' tokens, the stations' passwords)."""
        spec = self.spec
        sites = {s.id: Site(self.clock.env, s.id, s.grid_limit_w, s.load_balancing)
                 for s in spec.sites}
        station_rngs = self._station_rng.spawn(len(spec.stations))
        for instance, rng in zip(spec.stations, station_rngs, strict=True):
            station_spec = build.station_spec(instance)
            signer = OcmfSigner(rng=rng.spawn(1)[0], meter_serial=instance.id) \
                if station_spec.meter.signed else None
            station = SimStation(station_spec, self.clock,
                                 Link.to(backend, instance.id, station_spec.version),
                                 self.recorder, rng, site=sites[instance.site_id],
                                 signer=signer, trace=self.trace)
            self.stations[instance.id] = station
        mix = build.vehicle_mix(spec.vehicles)
        plans = []
        for index, (population, rng) in enumerate(zip(
                spec.drivers, self._driver_rng.spawn(len(spec.drivers)), strict=True)):
            site = spec.site(population.site)
            visits = plan_visits(rng, build.population(population, site.kind, index), site.id,
                                 spec.start, spec.duration_s, mix)
            _check_replayed_stations(population, site.station_ids, visits)
            plans.append((population, visits))
        if isinstance(backend, ReferenceBackend):
            await self._provision(backend, plans)
        bays = {site.id: SiteBays(self.clock.env, [
            Bay(self.stations[sid], evse.id, evse.kind)
            for sid in site.station_ids for evse in self.stations[sid].spec.evses])
            for site in spec.sites}
        remote_start = self._remote_start if self.operations is not None else None
        for _, visits in plans:
            roster = DriverRoster(visits)
            for visit in visits:
                if self.services is not None and self.services.stays_away(visit):
                    self.visits.add(visit, outcome=STAYED_AWAY)
                    continue
                self._visit_processes.append(self.clock.env.process(visit_process(
                    self.clock.env, visit, bays[visit.site_id], roster, self.visits,
                    remote_start)))
        events = fault_injection.timeline(self._fault_rng, spec.faults,
                                          [s.id for s in spec.stations], spec.duration_s)
        fault_injection.inject(self.clock.env, events, self.stations, self.faults)
        if self.operations is not None:
            self.operations.schedule(spec.operations)
        if isinstance(backend, ReferenceBackend):
            self.clock.env.process(self._watchdog(backend))
        for station in self.stations.values():
            station.start()

    async def _provision(self, backend: ReferenceBackend,
                         plans: list[tuple[PopulationSpec, list[Visit]]]) -> None:
        core = backend.core
        tokens = {v.token.id: v.token for _, visits in plans for v in visits}
        for token in tokens.values():
            await core.auth.upsert(token.id, type=token.type_201)
        for instance in self.spec.stations:
            if instance.password:
                await core.stations.register(instance.id)
                await core.stations.set_password(instance.id, instance.password)
        from csms.app import create_api
        from csms.domain.api_tokens import ApiRole

        token = await core.api_tokens.create(f"scenario {self.spec.name}", ApiRole.OPERATOR)
        app = create_api(core)
        self._api = OperatorApi(app, token)
        self._http = InProcessHttp(app)  # log uploads reach the CSMS whatever the transport
        for station in self.stations.values():
            station.http_transport = self._http
        self.operations = Operations(self.clock, self._api, self.stations)
        if service_world.used(self.spec):
            self.services = service_world.DriverServicesRun(self.clock, self.spec,
                                                            self._service_rng)
            await self.services.setup(core, app, token, plans)

    def _remote_start(self, station: SimStation, evse_id: int, visit: Any) -> simpy.Event:
        assert self.operations is not None
        return self.operations.send(
            "app_remote_start", station.id, "POST",
            f"/api/stations/{station.id}/commands/remote-start",
            {"id_token": visit.token.id, "evse_id": evse_id})

    def _watchdog(self, backend: ReferenceBackend) -> Generator[Any, Any, None]:
        """The reference CSMS's time-based alerts, scanned at simulated times (after the events
        published so far are handled), so they are raised whatever the speed of the run."""
        alerts = backend.core.alerts

        async def scan() -> None:
            try:
                await alerts.settle()
                await alerts.scan(wait=False)
            except Exception:  # as the CSMS's own watchdog: a failed scan is not the end
                log.exception("alert watchdog scan failed")

        while True:
            yield self.clock.env.timeout(WATCHDOG_S)
            yield self.clock.bridge(scan())

    # -- running -----------------------------------------------------------------------------------

    async def run(self, progress: Progress | None) -> None:
        """The horizon, then time for plugged-in visits to finish and last messages to go."""
        clock, duration = self.clock, self.spec.duration_s
        step = max(duration / PROGRESS_STEPS, 1.0)
        while clock.now < duration:
            await clock.run(min(duration, clock.now + step))
            if progress is not None:
                progress(clock.now, duration)
        limit = duration + DRAIN_LIMIT_S
        while clock.now < limit and any(p.is_alive for p in self._visit_processes):
            await clock.run(min(limit, clock.now + 600.0))
        await clock.run(clock.now + SETTLE_S)
        for station in self.stations.values():
            station.record_open_sessions()
            station.shutdown()
        await clock.run(clock.now + 1.0)

    # -- afterwards --------------------------------------------------------------------------------

    async def evidence(self, backend: Backend) -> Evidence:
        tables = {name: self.recorder.frame(name) for name in TABLES}
        tables["visits"] = _frame(self.visits.rows, VISIT_COLUMNS)
        tables["faults"] = _frame(self.faults, fault_injection.FAULT_COLUMNS)
        tables["operations"] = _frame(self.operations.rows if self.operations else [],
                                      OPERATION_COLUMNS)
        evidence = Evidence(self.spec, tables)
        if isinstance(backend, ReferenceBackend):
            evidence.csms_transactions, evidence.csms_alerts, reservations = \
                await _csms_tables(backend)
            config = backend.config
            evidence.offline_after_s = config.heartbeat_interval_s * \
                config.offline_after_heartbeats
            tables["csms_transactions"] = evidence.csms_transactions
            tables["csms_alerts"] = evidence.csms_alerts
            tables["csms_reservations"] = reservations
            if self.services is not None:
                tables.update(await self.services.tables())
        return evidence


RESERVATION_COLUMNS = ("id", "station_id", "evse_id", "id_token", "expiry", "status",
                       "transaction_id", "detail", "ended_at")


async def _csms_tables(backend: ReferenceBackend
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The reference CSMS's transactions, alerts and reservations."""
    from sqlalchemy import select

    from csms.storage import tables as t

    tx, alerts, reservations = t.transactions.c, t.alerts.c, t.reservations.c

    async def read(conn: Any) -> tuple[list[Any], list[Any], list[Any]]:
        transactions = (await conn.execute(select(
            tx.station_id, tx.ocpp_transaction_id.label("transaction_id"), tx.state,
            tx.energy_wh, tx.started_at, tx.stopped_at, tx.stop_reason, tx.late,
            tx.id_token).order_by(tx.id))).mappings().all()
        raised = (await conn.execute(select(alerts).order_by(alerts.id))).mappings().all()
        reserved = (await conn.execute(select(
            *(reservations[c] for c in RESERVATION_COLUMNS)).order_by(reservations.id)
        )).mappings().all()
        return ([dict(r) for r in transactions], [dict(r) for r in raised],
                [dict(r) for r in reserved])

    transactions, raised, reserved = await backend.core.db.read(read)
    return (pd.DataFrame(transactions, columns=["station_id", "transaction_id", "state",
                                                "energy_wh", "started_at", "stopped_at",
                                                "stop_reason", "late", "id_token"]),
            pd.DataFrame(raised) if raised else pd.DataFrame(
                columns=["station_id", "kind", "severity", "state"]),
            pd.DataFrame(reserved, columns=list(RESERVATION_COLUMNS)))


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns))


def _tls(spec: BackendSpec) -> ssl.SSLContext | None:
    if spec.tls is None:
        return None
    context = ssl.create_default_context(cafile=str(spec.tls.ca) if spec.tls.ca else None)
    if spec.tls.cert:
        context.load_cert_chain(str(spec.tls.cert), str(spec.tls.key) if spec.tls.key else None)
    return context


def _write(folder: RunFolder, spec: ScenarioSpec, result: SimulationResult) -> None:
    folder.write_manifest({"scenario": spec.name, "source": spec.source, "seed": spec.seed,
                           "scenario_sha256": spec.text_sha256, "start": spec.start.isoformat(),
                           "duration_s": spec.duration_s, "speed": spec.speed,
                           "backend": spec.backend.kind, "stations": len(spec.stations)})
    for name, frame in result.tables.items():
        folder.write_table(name, frame)
    folder.write_summary(result.summary())


__all__ = ["Progress", "World", "run_scenario", "with_url"]


def _check_replayed_stations(population: PopulationSpec, station_ids: tuple[str, ...],
                             visits: list[Visit]) -> None:
    """A replayed session must name a station of its population's site (or none)."""
    for visit in visits:
        if visit.station_id is not None and visit.station_id not in station_ids:
            raise ValueError(
                f"{population.arrivals.replay}: a session names station {visit.station_id!r}, "
                f"which is not at site {population.site!r} of drivers {population.name!r}; "
                f"its stations: {', '.join(station_ids)}")
