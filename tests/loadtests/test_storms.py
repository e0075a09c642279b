"""Boot storm and reconnect storm against the reference CSMS."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.reference import ReferenceCsms
from tests.loadtests.conftest import by_action, headless

pytestmark = pytest.mark.slow


def test_boot_storm_then_reconnect_storm(csms: ReferenceCsms, tmp_path: Path) -> None:
    """24 stations connect and boot within 2 s; at 4 s every one drops its connection and all
    are back within 1 s, as after a CSMS restart."""
    summary = headless(csms, tmp_path, prefix="STORM", shape="boot-storm", stations=24,
                       duration_s=6.5, arrive_within_s=2, reconnect_at_s=4,
                       reconnect_within_s=1)
    stations = summary["stations"]
    assert stations["peak_connected"] == 24
    # The gauge is sampled twice a second; locust needs a moment to start its first users.
    assert stations["all_connected_after_s"] is not None
    assert stations["all_connected_after_s"] <= 2 + 1.5
    assert stations["connected_before_stop"] == 24  # all came back
    rows = by_action(summary)
    boots = sum(rows[(v, "BootNotification")]["requests"] for v in ("ocpp1.6", "ocpp2.0.1"))
    assert boots == 24  # one boot each: a reconnect is no reboot
    assert rows[("WS", "connect")]["requests"] == 48  # the storm and the return
    statuses = sum(rows[(v, "StatusNotification")]["requests"] for v in ("ocpp1.6",
                                                                          "ocpp2.0.1"))
    assert statuses == 48  # after boot, and again after reconnecting
    assert summary["failures"] == []

