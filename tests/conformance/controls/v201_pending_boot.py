"""Negative control of TC_B_02_CSMS: a CSMS that keeps a station Pending after the operator
accepted it."""

from __future__ import annotations

from tests.conformance.controls.kit import set
from tests.conformance.faulty_csms import Faults

CONTROLS_201: dict[str, Faults] = {
    "TC_B_02_CSMS": Faults(answers={"BootNotification": set(status="Pending")}),
}
