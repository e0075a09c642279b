"""Faulty-station variants for OCPP 2.0.1 Core cases added after the first set: case id -> the
fault that breaks the rule the case checks (merged into ``faulty_station.FAULTS``)."""

from __future__ import annotations

from tests.conformance.station.fault_kit import Fault

FAULTS: dict[str, Fault] = {}
