"""``--reference``: the chargeloop reference CSMS started for a load test.

It runs as ``chargeloop csms serve`` in a process of its own, on a SQLite file in the run
folder and a free loopback port, exactly as ``conformance/reference.py`` starts it: reached
only over its WebSocket and REST API. The stations' id tokens (their ids, see
:func:`loadtests.settings.station_identity`) are created through the API before the load starts,
so sessions are authorised as they would be at a CSMS that knows its cards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from csms.process import HOST, CsmsProcessError, csms_process, free_port

__all__ = ["HOST", "ReferenceCsms", "ReferenceCsmsError", "free_port", "provision_tokens",
           "reference_csms"]

PROVISIONING_THREADS = 8

ReferenceCsmsError = CsmsProcessError


@dataclass(frozen=True, slots=True)
class ReferenceCsms:
    ocpp_url: str
    api_url: str
    admin_token: str
    log_path: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@contextlib.contextmanager
def reference_csms(folder: Path, *, heartbeat_interval_s: int = 300) -> Iterator[ReferenceCsms]:
    """Start the reference CSMS with its files in ``folder``; stop it on leaving."""
    with csms_process(folder, "--upload-dir", str(folder.resolve() / "uploads"),
                      "--heartbeat-interval", str(heartbeat_interval_s)) as csms:
        yield ReferenceCsms(csms.ocpp_url, csms.api_url, csms.admin_token, csms.log)


def provision_tokens(csms: ReferenceCsms, tokens: list[str],
                     progress: Callable[[int], None] | None = None) -> None:
    """Create ``tokens`` as Accepted ISO14443 cards (PUT is idempotent: reruns are fine)."""
    with httpx.Client(base_url=csms.api_url, headers=csms.headers, timeout=30) as client:
        def put(token: str) -> None:
            response = client.put(f"/api/tokens/{token}", json={"type": "ISO14443"})
            if not response.is_success:
                raise ReferenceCsmsError(f"create token {token}: HTTP {response.status_code} "
                                         f"{response.text[:300]}")
            if progress is not None:
                progress(1)

        with ThreadPoolExecutor(PROVISIONING_THREADS) as pool:
            list(pool.map(put, tokens))
