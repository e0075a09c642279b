"""What the simulator's station claims as a system under test, as a vendor's SUT file would:
the certification profiles it implements besides Core, and its optional features.

``--simulated`` without a SUT file and without ``--profile`` runs with these claims, so the
one-command demo checks everything the simulated station does, not Core alone. The suite's
own tests claim the same (tests/conformance/station/test_station_suite.py).
"""

from __future__ import annotations

from chargeloop.ocppj import OcppVersion

SIMULATED_PROFILES: dict[OcppVersion, tuple[str, ...]] = {
    OcppVersion.V16: ("local-auth-list", "remote-trigger", "reservation", "smart-charging",
                      "firmware-management", "security"),
    OcppVersion.V201: ("local-auth-list", "reservation", "smart-charging"),
}
# the optional station features it has (conformance.sut.STATION_FEATURES)
SIMULATED_FEATURES: dict[OcppVersion, tuple[str, ...]] = {
    OcppVersion.V16: ("local_auth_list", "reservation_connector_zero",
                      "power_loss_stop_before_down"),
    OcppVersion.V201: (),
}
