"""Faulty-station variants for the security, firmware, diagnostics and certificate cases of both
versions: case id -> the fault that breaks the rule the case checks (merged into
``faulty_station.FAULTS``)."""

from __future__ import annotations

from tests.conformance.station.fault_kit import Fault

FAULTS: dict[str, Fault] = {}
