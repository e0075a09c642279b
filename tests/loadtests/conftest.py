"""One reference CSMS (a real ``chargeloop csms serve`` process on a SQLite file) for the load
tests that do not start their own, and a helper to run locust headless against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtests.reference import ReferenceCsms, provision_tokens, reference_csms
from loadtests.runner import HeadlessRun, StationOptions, run_headless
from loadtests.settings import StationTiming, station_identity
from loadtests.shape_plan import ShapePlan


@pytest.fixture(scope="session")
def csms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceCsms]:
    with reference_csms(tmp_path_factory.mktemp("reference-csms")) as running:
        yield running


def headless(csms: ReferenceCsms, folder: Path, *, prefix: str, shape: str = "steady",
             stations: int = 2, duration_s: float = 6.0, arrive_within_s: float = 0.0,
             mix: str = "heartbeat-1.6=1,heartbeat-2.0.1=1", workers: int = 0,
             url: str | None = None, **timing: Any) -> dict[str, Any]:
    """Create the stations' tokens, run locust to the end, return its summary."""
    provision_tokens(csms, [station_identity(prefix, w, n) for w in range(max(1, workers))
                            for n in range(1, stations + 1)])
    run = HeadlessRun(url or csms.ocpp_url, ShapePlan(shape, stations, duration_s,
                                                      arrive_within_s),
                      StationOptions(mix=mix, timing=StationTiming(**timing), prefix=prefix),
                      folder, workers)
    return run_headless(run)


def api(csms: ReferenceCsms) -> httpx.Client:
    return httpx.Client(base_url=csms.api_url, headers=csms.headers, timeout=30)


def by_action(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["type"], row["name"]): row for row in summary["actions"]}
