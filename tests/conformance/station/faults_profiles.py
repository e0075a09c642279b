"""Faulty-station variants for the network connection profile cases (2.0.1 block B:
SetNetworkProfile, NetworkConfigurationPriority, fallback): case id -> the fault that breaks
the rule the case checks (merged into ``faulty_station.FAULTS``)."""

from __future__ import annotations

import ssl
from typing import Any

from simulator.backends import UrlBackend
from simulator.station import Link, SimStation
from tests.conformance.station.fault_kit import Fault, ignored


def never_falls_back(station: SimStation) -> None:
    """A new network profile that does not work is tried for ever: the station never goes
    back to the previous one (B10 fallback)."""
    def failed(priority: str, attempts: int) -> Any:
        return None

    station.network.failed = failed  # type: ignore[method-assign]


def no_client_certificate(station: SimStation) -> None:
    """The station trusts the CSMS root but presents no client certificate in the TLS
    handshake (security profile 3 without its certificate)."""
    opener = station.link._opener
    backend = next(c.cell_contents for c in opener.__closure__ or ()  # type: ignore[attr-defined]
                   if isinstance(c.cell_contents, UrlBackend))
    assert backend.tls is not None, "a TLS backend (security profile 3)"
    context = ssl.create_default_context()
    for der in backend.tls.get_ca_certs(binary_form=True):
        context.load_verify_locations(cadata=der)
    station.link = Link.to(UrlBackend(backend.url, tls=context,
                                      open_timeout_s=backend.open_timeout_s),
                           station.id, station.version)


FAULTS: dict[str, Fault] = {
    # OCPP 1.6
    "TC_087_CS": no_client_certificate,
    # OCPP 2.0.1
    # the upgrade is answered Accepted and not done: the station stays on profile 1
    "TC_A_19_CS": ignored("SetNetworkProfile", {"status": "Accepted"}),
    # the new profile is answered Accepted and not stored: the station stays where it was
    "TC_B_45_CS": ignored("SetNetworkProfile", {"status": "Accepted"}),
    "TC_B_46_CS": never_falls_back,
    # the new CSMS root is answered Accepted and not kept: its server certificate is refused
    "TC_B_50_CS": ignored("InstallCertificate", {"status": "Accepted"}),
}
