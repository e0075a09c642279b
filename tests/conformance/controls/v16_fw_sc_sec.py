"""Negative controls of the OCPP 1.6 Firmware Management, Smart Charging and Security cases.

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conformance.controls.kit import plus, set
from tests.conformance.faulty_csms import Faults

Payload = dict[str, Any]


def _fails(status: str) -> Any:
    """A station notification with ``status`` is answered with a CALLERROR."""
    return lambda payload: payload.get("status") == status


def _profile(key: str, **values: Any) -> Any:
    """Fields of the charging profile under ``key`` rewritten (None: removed)."""
    def rewrite(payload: Payload) -> Payload:
        profile = {**payload.get(key, {}), **values}
        return {**payload, key: {k: v for k, v in profile.items() if v is not None}}
    return rewrite


def _without(key: str) -> Any:
    return lambda payload: {k: v for k, v in payload.items() if k != key}


def _other_certificate() -> str:
    """A certificate for a key the station never had (what a CSMS that ignores the CSR
    sends)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CONF-CS-1")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _hash_serial(payload: Payload) -> Payload:
    data = payload["certificateHashData"]
    return {**payload, "certificateHashData": {**data, "serialNumber": data["serialNumber"]
                                               + "0"}}


def _firmware(**values: Any) -> Any:
    return lambda payload: {**payload, "firmware": {**payload["firmware"], **values}}


CONTROLS_16: dict[str, Faults] = {
    # Firmware Management
    "TC_044_1_CSMS": Faults(calls={"UpdateFirmware": set(location="file:///fw-1.0.1.bin")}),
    "TC_044_2_CSMS": Faults(fail_calls={"FirmwareStatusNotification": _fails("DownloadFailed")}),
    "TC_044_3_CSMS": Faults(fail_calls={
        "FirmwareStatusNotification": _fails("InstallationFailed")}),
    "TC_045_1_CSMS": Faults(calls={"GetDiagnostics": set(location="file:///diagnostics/")}),
    "TC_045_2_CSMS": Faults(fail_calls={
        "DiagnosticsStatusNotification": _fails("UploadFailed")}),
    # Smart Charging
    "TC_056_CSMS": Faults(calls={"SetChargingProfile": _profile(
        "csChargingProfiles", chargingProfilePurpose="TxProfile")}),
    "TC_057_CSMS": Faults(calls={"SetChargingProfile": lambda p: _profile(
        "csChargingProfiles", transactionId=p["csChargingProfiles"].get("transactionId", 0)
        + 1000)(p)}),
    "TC_059_CSMS": Faults(calls={"RemoteStartTransaction": _without("chargingProfile")}),
    "TC_066_CSMS": Faults(calls={"GetCompositeSchedule": set(duration=0)}),
    "TC_067_CSMS": Faults(calls={"ClearChargingProfile": plus("id", 1000)}),
    # Security
    "TC_073_CSMS": Faults(station_answers={"ChangeConfiguration": set(status="Rejected")}),
    "TC_074_CSMS": Faults(calls={"CertificateSigned": set(
        certificateChain=_other_certificate())}),
    "TC_075_1_CSMS": Faults(calls={"InstallCertificate": set(
        certificateType="CentralSystemRootCertificate")}),
    "TC_075_2_CSMS": Faults(calls={"InstallCertificate": set(
        certificateType="ManufacturerRootCertificate")}),
    "TC_076_CSMS": Faults(calls={"DeleteCertificate": _hash_serial}),
    "TC_077_CSMS": Faults(fail_calls={
        "SecurityEventNotification": lambda p: p.get("type") == "InvalidChargePointCertificate"}),
    "TC_078_CSMS": Faults(fail_calls={"SecurityEventNotification": lambda p: p.get("type")
                                      == "InvalidCentralSystemCertificate"}),
    "TC_079_CSMS": Faults(calls={"GetLog": set(logType="DiagnosticsLog")}),
    "TC_080_CSMS": Faults(calls={"SignedUpdateFirmware": _firmware(signature="not Base64!")}),
    "TC_081_CSMS": Faults(fail_calls={
        "SignedFirmwareStatusNotification": _fails("InvalidSignature")}),
    "TC_085_CSMS": Faults(refuse_connections=True),
}
