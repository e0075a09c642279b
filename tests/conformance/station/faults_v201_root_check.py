"""Faulty-station variants for the AdditionalRootCertificateCheck cases
(conformance/station/test_v201_root_certificate_check.py, variant "2.0.1-root-check"): case
id -> the fault that breaks the rule the case checks (merged into ``faulty_station.FAULTS``)."""

from __future__ import annotations

from simulator.station import SimStation
from tests.conformance.station.fault_kit import Fault


def any_csms_root_taken(station: SimStation) -> None:
    """A new CSMSRootCertificate is installed whoever signed it (M05.FR.10 / FR.11 broken)."""
    certificates = station.proto.certificates
    certificates.root_check = False  # install() no longer asks for the old root's signature


def new_csms_root_unused(station: SimStation) -> None:
    """A new CSMSRootCertificate is Accepted, but the station keeps connecting with the old
    one (M05.FR.13 broken)."""
    certificates = station.proto.certificates
    original = certificates.csms_trust
    fallback: list[list[str] | None] = [None]

    def trust() -> list[str] | None:
        if fallback[0] is None:
            fallback[0] = original()  # the root it was built with, before any install
        return fallback[0]

    certificates.csms_trust = trust  # type: ignore[method-assign]


def no_fallback_to_old_root(station: SimStation) -> None:
    """Connections that fail with the new CSMS root, on every network profile, are never
    tried with the old one (M05.FR.14 / FR.15 broken)."""
    station.proto.certificates.connection_failed = (  # type: ignore[method-assign]
        lambda every_entry_failed=True: None)


FAULTS: dict[str, Fault] = {
    "TC_M_09_CS": any_csms_root_taken,
    "TC_M_30_CS": new_csms_root_unused,
    "TC_M_31_CS": no_fallback_to_old_root,
    "TC_B_47_CS": no_fallback_to_old_root,
}
