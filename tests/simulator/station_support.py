"""Helpers for the station and backend tests: the reference CSMS on a SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from chargeloop.clock import SimClock
from csms.config import CsmsConfig
from simulator.backends import ReferenceBackend
from simulator.station import Link, Recorder, SimStation, StationSpec

WAIT_S = 10.0  # bound for anything awaited in wall time; a healthy run takes far less


def csms_config(tmp_path: Path, **overrides: Any) -> CsmsConfig:
    """The reference CSMS on a SQLite file in ``tmp_path``, on an ephemeral port, with its
    watchdog out of the way unless asked for."""
    overrides.setdefault("watchdog_interval_s", 3600.0)
    return CsmsConfig(port=0, database_url=f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}",
                      admin_token_file=tmp_path / "admin.token",
                      upload_dir=tmp_path / "uploads", **overrides)


START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@dataclass
class World:
    """A simulation clock, the reference CSMS on it, and a recorder: what station tests need."""

    clock: SimClock
    backend: ReferenceBackend
    recorder: Recorder
    stations: list[SimStation] = field(default_factory=list)

    @property
    def core(self) -> Any:
        return self.backend.core

    def station(self, spec: StationSpec, *, seed: int = 1, **options: Any) -> SimStation:
        link = Link.to(self.backend, spec.id, spec.version)
        station = SimStation(spec, self.clock, link, self.recorder, np.random.default_rng(seed),
                             **options)
        self.stations.append(station)
        return station

    async def run(self, seconds: float) -> None:
        """Advance the simulation by ``seconds``."""
        await asyncio.wait_for(self.clock.run(self.clock.now + seconds), WAIT_S * 3)

    def drive(self, generator: Any) -> Any:
        """Start a driver process (a SimPy generator); returns the process."""
        return self.clock.env.process(generator)

    async def command(self, station_id: str, action: str, payload: dict[str, Any]) -> Any:
        """A command through the CSMS's own command service, answered while the clock stands."""
        from csms.domain.commands import SYSTEM

        return await asyncio.wait_for(
            self.core.commands.call(station_id, action, payload, SYSTEM), WAIT_S)


@contextlib.asynccontextmanager
async def world(tmp_path: Path, *, transport: str = "memory", speed: float | None = None,
                start: datetime = START, **config: Any) -> AsyncIterator[World]:
    clock = SimClock(start, speed)
    backend = ReferenceBackend(csms_config(tmp_path, **config), transport,  # type: ignore[arg-type]
                               clock=clock.utc)
    async with backend:
        here = World(clock, backend, Recorder(start))
        try:
            yield here
        finally:
            for station in here.stations:
                station.shutdown()
            await asyncio.wait_for(clock.wait_idle(), WAIT_S)


def statuses(recorder: Recorder, station_id: str, evse_id: int) -> list[str]:
    return [r["status"] for r in recorder.rows("status_changes")
            if r["station_id"] == station_id and r["evse_id"] == evse_id]


def sent(recorder: Recorder, station_id: str, action: str | None = None) -> list[dict[str, Any]]:
    return [r for r in recorder.rows("messages")
            if r["station_id"] == station_id and r["direction"] == "out"
            and (action is None or r["action"] == action)]


def events(recorder: Recorder, station_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [r for r in recorder.rows("events")
            if r["station_id"] == station_id and (kind is None or r["kind"] == kind)]
