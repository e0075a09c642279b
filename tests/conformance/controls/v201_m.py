"""Negative controls of 2.0.1 block M (certificate management) and of TC_A_12 / TC_A_14
(certificates signed at the CSMS's request).

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conformance.controls.kit import crash, set
from tests.conformance.controls.v201_lno import bad_answer_when
from tests.conformance.faulty_csms import Faults

Payload = dict[str, Any]


def install_as(certificate_type: str) -> Faults:
    """InstallCertificate of another type than the one asked for."""
    return Faults(calls={"InstallCertificate": set(certificateType=certificate_type)})


def list_types(*types: str) -> Faults:
    """GetInstalledCertificateIds asking for ``types`` whatever was asked for."""
    return Faults(calls={"GetInstalledCertificateIds": set(certificateType=list(types))})


def crash_on_answer(status: str) -> Faults:
    """A CSMS that falls over when a station answers one of its CALLs with ``status``."""
    def when(raw: str | bytes, _frames: int) -> bool:
        try:
            frame = json.loads(raw)
        except ValueError:
            return False
        return (isinstance(frame, list) and len(frame) == 3 and frame[0] == 3
                and isinstance(frame[2], dict) and frame[2].get("status") == status)
    return crash(when)


def other_serial(payload: Payload) -> Payload:
    """DeleteCertificate of a certificate the station did not report (the serial number's last
    digit changed)."""
    hashed = payload["certificateHashData"]
    serial = hashed["serialNumber"]
    last = "1" if serial.endswith("0") else "0"
    return {**payload, "certificateHashData": {**hashed, "serialNumber": serial[:-1] + last}}


CONTROLS_201: dict[str, Faults] = {
    "TC_M_01_CSMS": install_as("ManufacturerRootCertificate"),
    "TC_M_02_CSMS": install_as("CSMSRootCertificate"),
    "TC_M_03_CSMS": install_as("MORootCertificate"),
    "TC_M_04_CSMS": install_as("V2GRootCertificate"),
    "TC_M_05_CSMS": crash_on_answer("Failed"),
    "TC_M_12_CSMS": list_types("ManufacturerRootCertificate"),
    "TC_M_13_CSMS": list_types("CSMSRootCertificate"),
    "TC_M_14_CSMS": list_types("MORootCertificate"),
    "TC_M_15_CSMS": list_types("V2GRootCertificate"),
    "TC_M_16_CSMS": list_types("V2GRootCertificate"),
    "TC_M_17_CSMS": list_types("CSMSRootCertificate"),
    "TC_M_18_CSMS": list_types("CSMSRootCertificate"),
    "TC_M_19_CSMS": crash_on_answer("NotFound"),
    "TC_M_20_CSMS": Faults(calls={"DeleteCertificate": other_serial}),
    "TC_M_21_CSMS": crash_on_answer("Failed"),
    "TC_A_12_CSMS": Faults(calls={"CertificateSigned": set(
        certificateType="ChargingStationCertificate")}),
    # takes the station's report of the rejected certificate badly
    "TC_A_14_CSMS": bad_answer_when("SecurityEventNotification",
                                    type="InvalidChargingStationCertificate"),
}
