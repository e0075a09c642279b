"""Faulty-station variants for the security, firmware, diagnostics and certificate cases of both
versions: case id -> the fault that breaks the rule the case checks (merged into
``faulty_station.FAULTS``)."""

from __future__ import annotations

import hashlib
import ssl
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from simulator.backends import UrlBackend
from simulator.station import Link, SimStation
from simulator.station.outbox import OutMessage
from tests.conformance.station.fault_kit import (
    Fault,
    Payload,
    answer,
    ignored,
    message_without,
    request_changed,
    results_with,
    set_variables_without_storing,
    with_fields,
)


def _spki_hash(entry: Payload, pems: dict[str, str]) -> Payload:
    """CertificateHashData whose issuerKeyHash hashes the whole SubjectPublicKeyInfo (DER)
    instead of the public key's bits (a common slip)."""
    data = dict(entry)
    pem = pems.get(str(data.get("serialNumber", "")).lower())
    if pem is not None:
        key = x509.load_pem_x509_certificate(pem.encode()).public_key()
        der = key.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
        data["issuerKeyHash"] = hashlib.sha256(der).hexdigest()
    return data


def issuer_key_hash_of_spki(station: SimStation) -> None:
    """GetInstalledCertificateIds reports issuerKeyHash over the SubjectPublicKeyInfo."""
    certificates = station.proto.certificates
    original = certificates.installed_ids

    def installed_ids(request: Payload) -> Payload:
        got = original(request)
        pems = {c.hash_data["serialNumber"].lower(): c.pem for c in certificates._installed}
        if "certificateHashDataChain" in got:
            got["certificateHashDataChain"] = [
                {**e, "certificateHashData": _spki_hash(e["certificateHashData"], pems)}
                for e in got["certificateHashDataChain"]]
        if "certificateHashData" in got:
            got["certificateHashData"] = [_spki_hash(e, pems) for e in got["certificateHashData"]]
        return got

    certificates.installed_ids = installed_ids  # type: ignore[method-assign]


def _types_reported_as(use: str) -> Fault:
    """GetInstalledCertificateIds names every certificate's type ``use``."""
    def change(got: Payload, request: Payload) -> Payload:
        if "certificateHashDataChain" not in got:
            return got
        return {**got, "certificateHashDataChain": [
            {**e, "certificateType": use} for e in got["certificateHashDataChain"]]}

    return answer("GetInstalledCertificateIds", change)


def _first_type_only(got: Payload, request: Payload) -> Payload:
    """Asked for several types, the station lists only the first one's certificates."""
    uses = request.get("certificateType") or []
    if len(uses) < 2 or "certificateHashDataChain" not in got:
        return got
    return {**got, "certificateHashDataChain": [
        e for e in got["certificateHashDataChain"] if e["certificateType"] == uses[0]]}


def _filter_ignored(station: SimStation) -> None:
    """GetInstalledCertificateIds lists every certificate whatever type was asked for."""
    certificates = station.proto.certificates
    original = certificates.installed_ids

    def installed_ids(request: Payload) -> Payload:
        return original({k: v for k, v in request.items() if k != "certificateType"})

    certificates.installed_ids = installed_ids  # type: ignore[method-assign]


def _no_filter_means_nothing(station: SimStation) -> None:
    """GetInstalledCertificateIds without certificateType finds nothing."""
    certificates = station.proto.certificates
    original = certificates.installed_ids

    def installed_ids(request: Payload) -> Payload:
        if not request.get("certificateType"):
            return {"status": "NotFound"}
        return original(request)

    certificates.installed_ids = installed_ids  # type: ignore[method-assign]


def wrong_password(station: SimStation) -> None:
    """The station sends another Basic auth password than the one it was configured with."""
    link = station.link

    async def open_with_wrong(password: str | None) -> object:
        return await link.open("not-the-configured-password")

    station.link = Link(open_with_wrong)  # type: ignore[arg-type]


def _backend_of(station: SimStation) -> UrlBackend:
    """The backend the station's link connects to (``Link.to`` keeps it in its opener)."""
    opener = station.link._opener
    cells = [c.cell_contents for c in opener.__closure__ or ()]
    return next(c for c in cells if isinstance(c, UrlBackend))


def ca_not_trusted(station: SimStation) -> None:
    """The station does not trust the CSMS root certificate it was given (only the system's
    roots): the TLS handshake with the harness fails."""
    backend = _backend_of(station)
    untrusted = UrlBackend(backend.url, tls=ssl.create_default_context(),
                           open_timeout_s=backend.open_timeout_s)
    station.link = Link.to(untrusted, station.id, station.version)


def installs_without_reboot(station: SimStation) -> None:
    """A firmware update is installed and reported Installed without the station rebooting."""
    def no_reboot(kind: str, boot_reason: str | None = None) -> Any:
        done = station.env.event()
        done.succeed()
        return done

    station.reboot_and_wait = no_reboot  # type: ignore[method-assign]


def downloads_nothing(station: SimStation) -> None:
    """The station reports a firmware image Downloaded without fetching it (a download that
    fails goes unnoticed)."""
    station.real_downloads = False


def reports_instead(action: str, wrong: dict[str, str]) -> Fault:
    """The station's ``action`` status notifications say ``wrong[status]`` instead."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            if message.action == action:
                status = message.payload.get("status")
                message.payload["status"] = wrong.get(status, status)
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def _firmware_changed(change: dict[str, Any]) -> Any:
    """A 2.0.1 UpdateFirmware acted on with ``change`` applied to its firmware (None drops a
    field)."""
    def changed(request: Payload) -> Payload:
        firmware = {**request["firmware"], **change}
        return {**request, "firmware": {k: v for k, v in firmware.items() if v is not None}}

    return changed


def _long_ago() -> str:
    return "2000-01-01T00:00:00Z"


def _trusting(station: SimStation, context: ssl.SSLContext) -> None:
    """The station connects with ``context``, trusting the CA it was given."""
    backend = _backend_of(station)
    assert backend.tls is not None, "a TLS backend (security profile 2 or 3)"
    for der in backend.tls.get_ca_certs(binary_form=True):
        context.load_verify_locations(cadata=der)
    station.link = Link.to(UrlBackend(backend.url, tls=context,
                                      open_timeout_s=backend.open_timeout_s),
                           station.id, station.version)


def any_server_certificate(station: SimStation) -> None:
    """The station takes whatever certificate the server presents (no verification)."""
    backend = _backend_of(station)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    station.link = Link.to(UrlBackend(backend.url, tls=context,
                                      open_timeout_s=backend.open_timeout_s),
                           station.id, station.version)


def old_tls_allowed(station: SimStation) -> None:
    """The station speaks TLS 1.0 and 1.1 too."""
    import warnings

    context = ssl.create_default_context()
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    _trusting(station, context)


def _is_password(request: Payload) -> bool:
    return any(d["variable"]["name"] == "BasicAuthPassword"
               for d in request.get("setVariableData", []))


def _profile_kept(request: Payload) -> Payload:
    """ChangeConfiguration SecurityProfile is stored as 1: the station accepts the upgrade but
    goes on connecting with its old profile."""
    return {**request, "value": "1"} if request.get("key") == "SecurityProfile" else request


FAULTS: dict[str, Fault] = {
    "TC_083_CS": request_changed("ChangeConfiguration", _profile_kept),
    # OCPP 1.6 Firmware Management
    "TC_044_1_CS": installs_without_reboot,
    "TC_044_2_CS": downloads_nothing,
    "TC_044_3_CS": reports_instead("FirmwareStatusNotification",
                                   {"InstallationFailed": "Installed"}),
    "TC_045_1_CS": answer("GetDiagnostics", with_fields(), drop_follow=True),
    "TC_045_2_CS": reports_instead("DiagnosticsStatusNotification", {"UploadFailed": "Uploaded"}),
    # OCPP 1.6 Security
    "TC_073_CS": ignored("ChangeConfiguration", {"status": "Accepted"},
                         when=lambda p: p.get("key") == "AuthorizationKey"),
    "TC_074_CS": answer("ExtendedTriggerMessage", with_fields(), drop_follow=True),
    "TC_075_1_CS": ignored("InstallCertificate", {"status": "Accepted"}),
    "TC_075_2_CS": ignored("InstallCertificate", {"status": "Accepted"}),
    "TC_076_CS": ignored("DeleteCertificate", {"status": "Accepted"}),
    "TC_077_CS": answer("CertificateSigned", with_fields(status="Accepted")),
    "TC_078_CS": answer("InstallCertificate", with_fields(), drop_follow=True),
    "TC_079_CS": answer("GetLog", with_fields(), drop_follow=True),
    "TC_080_CS": installs_without_reboot,
    "TC_081_CS": request_changed("SignedUpdateFirmware", _firmware_changed(
        {"signature": None, "signingCertificate": None})),
    "TC_084_CS": answer("ChangeConfiguration", with_fields(status="Accepted"),
                        when=lambda p: p.get("key") == "SecurityProfile"),
    "TC_085_CS": wrong_password,
    "TC_086_CS": ca_not_trusted,
    # OCPP 2.0.1 block L
    "TC_L_01_CS": installs_without_reboot,
    "TC_L_02_CS": request_changed("UpdateFirmware", _firmware_changed({"installDateTime": None})),
    "TC_L_03_CS": request_changed("UpdateFirmware",
                                  _firmware_changed({"retrieveDateTime": _long_ago()})),
    "TC_L_05_CS": answer("UpdateFirmware", with_fields(status="Accepted")),
    "TC_L_06_CS": request_changed("UpdateFirmware", _firmware_changed(
        {"signature": None, "signingCertificate": None})),
    "TC_L_07_CS": downloads_nothing,
    "TC_L_08_CS": reports_instead("FirmwareStatusNotification",
                                  {"InstallationFailed": "Installed",
                                   "InstallVerificationFailed": "Installed"}),
    # OCPP 2.0.1 block N (logs)
    "TC_N_25_CS": answer("GetLog", with_fields(), drop_follow=True),
    "TC_N_26_CS": reports_instead("LogStatusNotification", {"UploadFailure": "Uploaded"}),
    "TC_N_35_CS": message_without("LogStatusNotification", "requestId"),
    # OCPP 2.0.1 block A
    "TC_A_01_CS": wrong_password,
    "TC_A_04_CS": ca_not_trusted,
    "TC_A_05_CS": any_server_certificate,
    "TC_A_06_CS": old_tls_allowed,
    "TC_A_09_CS": set_variables_without_storing,
    "TC_A_10_CS": answer("SetVariables", results_with("setVariableResult",
                                                      attributeStatus="Accepted"),
                         when=_is_password),
    "TC_A_22_CS": answer("SetNetworkProfile", with_fields(status="Accepted")),
    # OCPP 2.0.1 block M
    "TC_M_01_CS": ignored("InstallCertificate", {"status": "Accepted"}),
    "TC_M_02_CS": ignored("InstallCertificate", {"status": "Accepted"}),
    "TC_M_07_CS": answer("InstallCertificate", with_fields(status="Accepted")),
    "TC_M_12_CS": issuer_key_hash_of_spki,
    "TC_M_13_CS": _types_reported_as("CSMSRootCertificate"),
    "TC_M_17_CS": answer("GetInstalledCertificateIds", _first_type_only),
    "TC_M_18_CS": _no_filter_means_nothing,
    "TC_M_19_CS": _filter_ignored,
    "TC_M_20_CS": ignored("DeleteCertificate", {"status": "Accepted"}),
    "TC_M_22_CS": answer("DeleteCertificate", with_fields(status="Accepted")),
}

