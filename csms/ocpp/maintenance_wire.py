"""Maintenance and security messages on the wire: version-neutral requests to the payloads of
OCPP 1.6 (with the security whitepaper's messages) and 2.0.1, and the names the two spell
differently.

Pure translation, nothing else: the domain services (``csms/domain/firmware.py``,
``diagnostics.py``, ``security.py``) decide, these functions only spell. The neutral names are
2.0.1's: ``CSMSRootCertificate`` (1.6 ``CentralSystemRootCertificate``),
``ChargingStationCertificate`` (1.6 ``ChargePointCertificate``), ``InvalidCsmsCertificate``
(1.6 ``InvalidCentralSystemCertificate``), and so on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargeloop.ocppj import OcppVersion
from csms.domain.timeutil import ocpp_time


class NotInVersion(ValueError):
    """The request cannot be expressed in the station's OCPP version."""


# -- certificate types ---------------------------------------------------------------------------

CSMS_ROOT, MANUFACTURER_ROOT = "CSMSRootCertificate", "ManufacturerRootCertificate"
V2G_ROOT, MO_ROOT, V2G_CHAIN = "V2GRootCertificate", "MORootCertificate", "V2GCertificateChain"
STATION_CERTIFICATE, V2G_CERTIFICATE = "ChargingStationCertificate", "V2GCertificate"

INSTALLABLE_201 = (CSMS_ROOT, MANUFACTURER_ROOT, V2G_ROOT, MO_ROOT)
INSTALLABLE_16 = (CSMS_ROOT, MANUFACTURER_ROOT)
LISTABLE_201 = (CSMS_ROOT, MANUFACTURER_ROOT, V2G_ROOT, MO_ROOT, V2G_CHAIN)

_TYPE_16 = {CSMS_ROOT: "CentralSystemRootCertificate"}
_TYPE_FROM_16 = {"CentralSystemRootCertificate": CSMS_ROOT, "ChargePointCertificate":
                 STATION_CERTIFICATE}


def neutral_certificate_type(wire_type: str) -> str:
    return _TYPE_FROM_16.get(wire_type, wire_type)


def wire_certificate_type(version: OcppVersion, neutral: str) -> str:
    if version is OcppVersion.V16:
        if neutral not in INSTALLABLE_16:
            raise NotInVersion(f"certificate type {neutral} does not exist in OCPP 1.6 (it has "
                               f"{', '.join(INSTALLABLE_16)})")
        return _TYPE_16.get(neutral, neutral)
    return neutral


# -- security events ---------------------------------------------------------------------------

_EVENT_FROM_16 = {
    "failedtoauthenticateatcentralsystem": "FailedToAuthenticateAtCsms",
    "centralsystemfailedtoauthenticate": "CsmsFailedToAuthenticate",
    "invalidcentralsystemcertificate": "InvalidCsmsCertificate",
    "invalidchargepointcertificate": "InvalidChargingStationCertificate",
}
STANDARD_SECURITY_EVENTS = (
    "FirmwareUpdated", "FailedToAuthenticateAtCsms", "CsmsFailedToAuthenticate",
    "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot", "SecurityLogWasCleared",
    "ReconfigurationOfSecurityParameters", "MemoryExhaustion", "InvalidMessages",
    "AttemptedReplayAttacks", "TamperDetectionActivated", "InvalidFirmwareSignature",
    "InvalidFirmwareSigningCertificate", "InvalidCsmsCertificate",
    "InvalidChargingStationCertificate", "InvalidTLSVersion", "InvalidTLSCipherSuite",
    "MaintenanceLoginAccepted", "MaintenanceLoginFailed", "DiscardedRenewedClientCertificate",
)
_STANDARD_BY_LOWER = {name.lower(): name for name in STANDARD_SECURITY_EVENTS}


def neutral_security_event(wire_type: str) -> str:
    """A security event type in its 2.0.1 spelling (1.6 names and odd capitalisation of the
    standard names mapped); vendor types unchanged."""
    lowered = wire_type.strip().lower()
    return _EVENT_FROM_16.get(lowered) or _STANDARD_BY_LOWER.get(lowered) or wire_type


# -- firmware ----------------------------------------------------------------------------------

def update_firmware(version: OcppVersion, request_id: int, *, location: str,
                    retrieve_at: datetime, install_at: datetime | None = None,
                    retries: int | None = None, retry_interval_s: int | None = None,
                    signing_certificate: str | None = None,
                    signature: str | None = None) -> tuple[str, dict[str, Any]]:
    """(action, payload): 1.6 UpdateFirmware, or SignedUpdateFirmware when signed; 2.0.1
    UpdateFirmware."""
    signed = signing_certificate is not None or signature is not None
    if version is OcppVersion.V16 and not signed:
        if install_at is not None:
            raise NotInVersion("OCPP 1.6 UpdateFirmware has no install time; give a signing "
                               "certificate and signature for a SignedUpdateFirmware")
        payload: dict[str, Any] = {"location": location, "retrieveDate": ocpp_time(retrieve_at)}
        if retries is not None:
            payload["retries"] = retries
        if retry_interval_s is not None:
            payload["retryInterval"] = retry_interval_s
        return "UpdateFirmware", payload
    if version is OcppVersion.V16 and (signing_certificate is None or signature is None):
        raise NotInVersion("an OCPP 1.6 SignedUpdateFirmware needs both the signing "
                           "certificate and the signature")
    firmware: dict[str, Any] = {"location": location,
                                "retrieveDateTime": ocpp_time(retrieve_at)}
    if install_at is not None:
        firmware["installDateTime"] = ocpp_time(install_at)
    if signing_certificate is not None:
        firmware["signingCertificate"] = signing_certificate
    if signature is not None:
        firmware["signature"] = signature
    payload = {"requestId": request_id, "firmware": firmware}
    if retries is not None:
        payload["retries"] = retries
    if retry_interval_s is not None:
        payload["retryInterval"] = retry_interval_s
    return ("SignedUpdateFirmware" if version is OcppVersion.V16 else "UpdateFirmware"), payload


def firmware_parameters(request: dict[str, Any]) -> dict[str, Any]:
    """The neutral parameters of any UpdateFirmware / SignedUpdateFirmware payload."""
    firmware = request.get("firmware") or {}
    return {
        "location": firmware.get("location", request.get("location")),
        "retrieve_at": firmware.get("retrieveDateTime", request.get("retrieveDate")),
        "install_at": firmware.get("installDateTime"),
        "retries": request.get("retries"),
        "retry_interval_s": request.get("retryInterval"),
        "signed": "signature" in firmware,
    }


def publish_parameters(request: dict[str, Any]) -> dict[str, Any]:
    """The neutral parameters of a 2.0.1 PublishFirmware payload (to a Local Controller)."""
    return {"location": request.get("location"), "checksum": request.get("checksum"),
            "retries": request.get("retries"), "retry_interval_s": request.get("retryInterval")}


# -- logs and diagnostics ---------------------------------------------------------------------

DIAGNOSTICS, DIAGNOSTICS_LOG, SECURITY_LOG = "Diagnostics", "DiagnosticsLog", "SecurityLog"


def log_request(version: OcppVersion, request_id: int, *, log_type: str | None,
                location: str, oldest: datetime | None = None,
                latest: datetime | None = None, retries: int | None = None,
                retry_interval_s: int | None = None) -> tuple[str, dict[str, Any]]:
    """(action, payload): 1.6 GetDiagnostics for ``Diagnostics`` (or no type), GetLog for the
    security whitepaper's log types; 2.0.1 GetLog (``Diagnostics`` is its DiagnosticsLog)."""
    if version is OcppVersion.V16 and log_type in (None, DIAGNOSTICS):
        payload: dict[str, Any] = {"location": location}
        if oldest is not None:
            payload["startTime"] = ocpp_time(oldest)
        if latest is not None:
            payload["stopTime"] = ocpp_time(latest)
        action = "GetDiagnostics"
    else:
        log: dict[str, Any] = {"remoteLocation": location}
        if oldest is not None:
            log["oldestTimestamp"] = ocpp_time(oldest)
        if latest is not None:
            log["latestTimestamp"] = ocpp_time(latest)
        payload = {"logType": DIAGNOSTICS_LOG if log_type in (None, DIAGNOSTICS) else log_type,
                   "requestId": request_id, "log": log}
        action = "GetLog"
    if retries is not None:
        payload["retries"] = retries
    if retry_interval_s is not None:
        payload["retryInterval"] = retry_interval_s
    return action, payload


def log_parameters(request: dict[str, Any]) -> dict[str, Any]:
    log = request.get("log") or {}
    return {
        "log_type": request.get("logType", DIAGNOSTICS),
        "location": log.get("remoteLocation", request.get("location")),
        "oldest": log.get("oldestTimestamp", request.get("startTime")),
        "latest": log.get("latestTimestamp", request.get("stopTime")),
        "retries": request.get("retries"),
        "retry_interval_s": request.get("retryInterval"),
    }


# -- certificates ---------------------------------------------------------------------------------

def install_certificate(version: OcppVersion, certificate_type: str,
                        certificate: str) -> dict[str, Any]:
    if version is not OcppVersion.V16 and certificate_type not in INSTALLABLE_201:
        raise NotInVersion(f"certificate type {certificate_type} cannot be installed; use one "
                           f"of {', '.join(INSTALLABLE_201)}")
    return {"certificateType": wire_certificate_type(version, certificate_type),
            "certificate": certificate}


def hash_data_wire(hash_data: dict[str, Any]) -> dict[str, Any]:
    return {"hashAlgorithm": hash_data["hash_algorithm"],
            "issuerNameHash": hash_data["issuer_name_hash"],
            "issuerKeyHash": hash_data["issuer_key_hash"],
            "serialNumber": hash_data["serial_number"]}


def hash_data_neutral(wire: dict[str, Any]) -> dict[str, Any]:
    return {"hash_algorithm": wire["hashAlgorithm"],
            "issuer_name_hash": wire["issuerNameHash"].lower(),
            "issuer_key_hash": wire["issuerKeyHash"].lower(),
            "serial_number": wire["serialNumber"].lower().lstrip("0") or "0"}


def get_installed_certificate_ids(version: OcppVersion,
                                  types: list[str]) -> list[dict[str, Any]]:
    """The payloads to send: 1.6 asks for one type per message, 2.0.1 for a list (or all)."""
    if version is OcppVersion.V16:
        return [{"certificateType": wire_certificate_type(version, kind)}
                for kind in (types or list(INSTALLABLE_16))]
    for kind in types:
        if kind not in LISTABLE_201:
            raise NotInVersion(f"certificate type {kind} cannot be listed; use one of "
                               f"{', '.join(LISTABLE_201)}")
    return [{"certificateType": list(types)} if types else {}]


def requested_certificate_types(version: OcppVersion, request: dict[str, Any]) -> list[str]:
    """The neutral types a GetInstalledCertificateIds payload asked for (all when none)."""
    wanted = request.get("certificateType")
    if wanted is None:
        return list(INSTALLABLE_16 if version is OcppVersion.V16 else LISTABLE_201)
    if isinstance(wanted, str):
        wanted = [wanted]
    return [neutral_certificate_type(kind) for kind in wanted]


def installed_certificates(version: OcppVersion, request: dict[str, Any],
                           answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The certificates a GetInstalledCertificateIds answer lists, neutral: dicts of
    certificate_type and hash data (2.0.1 child certificates of a V2G chain included)."""
    if answer.get("status") != "Accepted":
        return []
    if version is OcppVersion.V16:
        kind = requested_certificate_types(version, request)[0]
        return [{"certificate_type": kind, **hash_data_neutral(h)}
                for h in answer.get("certificateHashData") or []]
    found: list[dict[str, Any]] = []
    for chain in answer.get("certificateHashDataChain") or []:
        kind = chain["certificateType"]
        found.append({"certificate_type": kind, **hash_data_neutral(chain["certificateHashData"])})
        for child in chain.get("childCertificateHashData") or []:
            found.append({"certificate_type": kind, "child": True, **hash_data_neutral(child)})
    return found


def certificate_signed(version: OcppVersion, chain_pem: str,
                       certificate_type: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"certificateChain": chain_pem}
    if version is not OcppVersion.V16:
        payload["certificateType"] = certificate_type
    return payload


def renew_certificate(version: OcppVersion, certificate_type: str) -> tuple[str, dict[str, Any]]:
    """(action, payload) that makes the station send a SignCertificate."""
    if version is OcppVersion.V16:
        if certificate_type != STATION_CERTIFICATE:
            raise NotInVersion("OCPP 1.6 stations renew only their ChargePointCertificate")
        return "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
    message = ("SignV2GCertificate" if certificate_type == V2G_CERTIFICATE
               else "SignChargingStationCertificate")
    return "TriggerMessage", {"requestedMessage": message}


# -- customer information ------------------------------------------------------------------------

def customer_information(request_id: int, *, report: bool, clear: bool,
                         id_token: dict[str, Any] | None = None,
                         customer_identifier: str | None = None,
                         customer_certificate: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"requestId": request_id, "report": report, "clear": clear}
    if id_token is not None:
        payload["idToken"] = id_token
    if customer_identifier is not None:
        payload["customerIdentifier"] = customer_identifier
    if customer_certificate is not None:
        payload["customerCertificate"] = hash_data_wire(customer_certificate)
    return payload
