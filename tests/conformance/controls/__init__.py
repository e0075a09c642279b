"""Negative controls, one module per area of the suite. Each module defines ``CONTROLS_16``
and/or ``CONTROLS_201``: case id -> the ``Faults`` of the CSMS that breaks the case's rule; and,
where a case finds a real fault of the reference CSMS that is not fixed yet,
``REFERENCE_FAILS_16`` / ``REFERENCE_FAILS_201``: case id -> what is wrong (the issue note lists
them)."""

from __future__ import annotations

import importlib
import pkgutil

from tests.conformance.faulty_csms import Faults


def _modules() -> list[object]:
    return [importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if info.name != "kit"]


def known_reference_failures() -> dict[str, dict[str, str]]:
    """Cases that fail against the reference CSMS for a reason recorded, by version."""
    merged: dict[str, dict[str, str]] = {"1.6": {}, "2.0.1": {}}
    for module in _modules():
        for version, name in (("1.6", "REFERENCE_FAILS_16"), ("2.0.1", "REFERENCE_FAILS_201")):
            merged[version].update(getattr(module, name, {}))
    return merged


def all_controls() -> dict[str, dict[str, Faults]]:
    """Every module's controls, by version ("1.6", "2.0.1"); a case in two modules is an
    error."""
    merged: dict[str, dict[str, Faults]] = {"1.6": {}, "2.0.1": {}}
    for module in _modules():
        for version, name in (("1.6", "CONTROLS_16"), ("2.0.1", "CONTROLS_201")):
            for case_id, faults in getattr(module, name, {}).items():
                if case_id in merged[version]:
                    raise ValueError(f"{case_id} has two negative controls")
                merged[version][case_id] = faults
    return merged
