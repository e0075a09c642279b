"""Firmware updates and log uploads of a simulated station: the status sequences as SimPy
processes, the answers to the requests that start them, and the real HTTP upload.

The station starts a process with the request it answered and two callables of its own:
``notify(status)`` sends the status notification (1.6 FirmwareStatusNotification /
DiagnosticsStatusNotification, 1.6 security SignedFirmwareStatusNotification /
LogStatusNotification and 2.0.1 FirmwareStatusNotification / LogStatusNotification, with the
requestId where the message has one) and returns a SimPy event that fires once it is sent (or
None); ``reboot()`` / ``upload(location, filename, content)`` likewise. A process returns its
final status; interrupting it (a newer request cancels it) ends it with ``"Canceled"``.

Firmware (1.6 TC_044, 2.0.1 L01):

* 1.6 UpdateFirmware: [wait for retrieveDate] Downloading -> Downloaded -> Installing ->
  reboot -> Installed; DownloadFailed after the last retry, InstallationFailed.
* 2.0.1 UpdateFirmware and 1.6 SignedUpdateFirmware: [DownloadScheduled, wait] Downloading ->
  Downloaded -> SignatureVerified (when signed) -> [InstallScheduled, wait for installDateTime]
  -> Installing -> InstallRebooting -> reboot -> Installed; DownloadFailed, InvalidSignature,
  InstallVerificationFailed, InstallationFailed.

Logs (1.6 GetDiagnostics TC_045, 1.6 security GetLog, 2.0.1 GetLog N01): Uploading -> Uploaded,
or UploadFailed (GetDiagnostics) / UploadFailure (GetLog) after the last retry.

Failures on purpose, decided by the location's host and path (so scenarios and tests can provoke
them): ``fail-install`` installation fails, ``fail-verify`` the installed image does not verify,
``bad-signature`` the signature does not verify, any other ``fail`` the download / upload fails.

With a ``download(location)`` callable (the station's real HTTP GET, :func:`http_download`) an
HTTP(S) location is fetched for real: an error answer or no answer is a failed attempt, and a
signed update's signature is checked against the downloaded image with the signing
certificate's key (:func:`signature_valid`; a certificate or signature that does not parse
leaves the decision to the markers above).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import numpy as np
import simpy
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.timeutil import parse_timestamp

log = logging.getLogger("chargeloop.simulator.maintenance")

Notify = Callable[[str], simpy.Event | None]
Reboot = Callable[[], simpy.Event | None]
Upload = Callable[[str, str, bytes], simpy.Event | None]
Download = Callable[[str], simpy.Event | None]
Process = Generator[simpy.Event, Any, str]
CANCELED = "Canceled"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class FirmwareTimings:
    """How long a simulated update takes; each step varies by +-``jitter`` (from ``rng``)."""

    download_s: float = 20.0
    verify_s: float = 2.0
    install_s: float = 30.0
    retry_interval_s: float = 30.0  # when the request gives none
    jitter: float = 0.2


@dataclass(frozen=True, slots=True)
class UploadTimings:
    prepare_s: float = 2.0  # collecting the log before Uploading
    failure_s: float = 5.0  # a simulated failed attempt (connection timeout)
    retry_interval_s: float = 30.0  # when the request gives none


class UploadFailed(Exception):
    """The HTTP upload did not succeed."""


class DownloadFailed(Exception):
    """The HTTP download did not succeed."""


def _version(version: str | OcppVersion) -> OcppVersion:
    parsed = version if isinstance(version, OcppVersion) else OcppVersion.parse(str(version))
    if parsed not in (OcppVersion.V16, OcppVersion.V201):
        raise ValueError(f"maintenance for OCPP 1.6 and 2.0.1, not {parsed.short}")
    return parsed


def failure_of(location: str) -> str | None:
    """Which failure ``location`` asks for: install, verify, signature, transfer or None."""
    parts = urlsplit(location)
    text = f"{parts.hostname or ''}{parts.path}".lower()
    for marker, failure in (("fail-install", "install"), ("fail-verify", "verify"),
                            ("bad-signature", "signature")):
        if marker in text:
            return failure
    return "transfer" if "fail" in text else None


def _say(notify: Notify, status: str) -> Generator[simpy.Event, Any, None]:
    """Send one status and wait until it is sent; a failed send is logged, not fatal."""
    event = notify(status)
    if event is None:
        return
    try:
        yield event
    except simpy.Interrupt:
        raise
    except Exception as error:  # noqa: BLE001 - the station queues or drops; we go on
        log.warning("status %s not sent: %s", status, error)


def _varied(base: float, jitter: float, rng: np.random.Generator | None) -> float:
    if rng is None or jitter <= 0:
        return base
    return base * (1.0 + jitter * (2.0 * float(rng.random()) - 1.0))


def _seconds_until(text: str | None, now_utc: Callable[[], datetime] | None) -> float:
    moment = parse_timestamp(text)
    if moment is None or now_utc is None:
        return 0.0
    return max(0.0, (moment - now_utc()).total_seconds())


# -- firmware ---------------------------------------------------------------------------------

def is_secure_update(request: Mapping[str, Any]) -> bool:
    """2.0.1 UpdateFirmware and 1.6 SignedUpdateFirmware carry a ``firmware`` object."""
    return "firmware" in request


def update_firmware_response(request: Mapping[str, Any], *, version: str | OcppVersion,
                             busy: bool = False, now: datetime | None = None,
                             signed_only: bool = False) -> dict[str, Any]:
    """The answer to UpdateFirmware / SignedUpdateFirmware. 1.6 UpdateFirmware answers ``{}``.
    Otherwise InvalidCertificate / RevokedCertificate for a signing certificate saying so (TC_L_05),
    InvalidCertificate for one that parses and is not valid at ``now`` (expired, not yet
    valid), AcceptedCanceled when ``busy`` with another update (which the station then
    interrupts), else Accepted. With ``signed_only``, Rejected for a secure update without a
    signing certificate or a signature (TC_L_18)."""
    _version(version)
    if not is_secure_update(request):
        return {}
    if signed_only and not (request["firmware"].get("signingCertificate") and
                            request["firmware"].get("signature")):
        return {"status": "Rejected", "statusInfo": {
            "reasonCode": "MissingSignature",
            "additionalInfo": "no signing certificate or signature"}}
    text = str(request["firmware"].get("signingCertificate") or "")
    certificate = text.lower()
    if "revoked" in certificate:
        return {"status": "RevokedCertificate"}
    if "invalid" in certificate or not _valid_or_unparsed(text, now or datetime.now(UTC)):
        return {"status": "InvalidCertificate"}
    return {"status": "AcceptedCanceled" if busy else "Accepted"}


def _valid_or_unparsed(pem: str, now: datetime) -> bool:
    """False only for a certificate that parses and is not valid at ``now``."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return True
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def firmware_update(env: simpy.Environment, request: Mapping[str, Any], *,
                    version: str | OcppVersion, notify: Notify,
                    rng: np.random.Generator | None = None, reboot: Reboot | None = None,
                    now_utc: Callable[[], datetime] | None = None,
                    before_install: Callable[[], simpy.Event | None] | None = None,
                    before_download: Callable[[], simpy.Event | None] | None = None,
                    timings: FirmwareTimings = FirmwareTimings(),
                    download: Download | None = None) -> Process:
    """The status sequence of one firmware update (a SimPy process generator).

    ``now_utc`` (the station's clock, e.g. ``SimClock.utc``) places retrieveDate(Time) and
    installDateTime in simulation time; without it they are taken as now. ``before_install``
    may return an event to wait on before installing (transactions ending, connectors going
    Unavailable); ``before_download`` likewise before downloading (a station that does not
    download during a transaction). ``reboot`` returns an event that fires once the station
    is back.
    ``download(location)`` fetches an HTTP(S) image for real (an event with its bytes, failing
    on error).
    """
    _version(version)
    secure = is_secure_update(request)
    if secure:
        firmware = request["firmware"]
        location, retrieve = firmware["location"], firmware.get("retrieveDateTime")
        install_at, signed = firmware.get("installDateTime"), bool(firmware.get("signature"))
    else:
        location, retrieve = request["location"], request.get("retrieveDate")
        install_at, signed = None, False
    retries = max(int(request.get("retries") or 0), 0)
    interval = float(request.get("retryInterval") or timings.retry_interval_s)
    failure = failure_of(location)
    try:
        wait = _seconds_until(retrieve, now_utc)
        if wait > 0:
            if secure:
                yield from _say(notify, "DownloadScheduled")
            yield env.timeout(wait)
        if before_download is not None:
            ready = before_download()
            if ready is not None:
                yield ready
        image: bytes | None = None
        for attempt in range(retries + 1):
            yield from _say(notify, "Downloading")
            yield env.timeout(_varied(timings.download_s, timings.jitter, rng))
            if failure != "transfer":
                fetched = yield from _fetch(download, location)
                if fetched is not False:
                    image = fetched if isinstance(fetched, bytes) else None
                    break
            if attempt < retries:
                yield env.timeout(interval)
        else:
            yield from _say(notify, "DownloadFailed")
            return "DownloadFailed"
        yield from _say(notify, "Downloaded")
        if signed:
            yield env.timeout(_varied(timings.verify_s, timings.jitter, rng))
            verdict = None if image is None else signature_valid(
                image, str(firmware.get("signingCertificate") or ""),
                str(firmware.get("signature") or ""))
            if verdict is False or (verdict is None and failure == "signature"):
                yield from _say(notify, "InvalidSignature")
                return "InvalidSignature"
            yield from _say(notify, "SignatureVerified")
        wait = _seconds_until(install_at, now_utc)
        if wait > 0:
            yield from _say(notify, "InstallScheduled")
            yield env.timeout(wait)
        if before_install is not None:
            ready = before_install()
            if ready is not None:
                yield ready
        yield from _say(notify, "Installing")
        yield env.timeout(_varied(timings.install_s, timings.jitter, rng))
        if failure == "install" or (failure == "verify" and not secure):
            yield from _say(notify, "InstallationFailed")
            return "InstallationFailed"
        if failure == "verify":
            yield from _say(notify, "InstallVerificationFailed")
            return "InstallVerificationFailed"
        if secure:
            yield from _say(notify, "InstallRebooting")
        if reboot is not None:
            back = reboot()
            if back is not None:
                yield back
        yield from _say(notify, "Installed")
        return "Installed"
    except simpy.Interrupt:
        return CANCELED


def _fetch(download: Download | None, location: str
           ) -> Generator[simpy.Event, Any, bytes | bool]:
    """One download attempt: the image's bytes, True when there is nothing to fetch for real
    (no downloader, not HTTP), False when the transfer failed."""
    if download is None or urlsplit(location).scheme.lower() not in ("http", "https"):
        return True
    done = download(location)
    if done is None:
        return True
    try:
        content = yield done
    except simpy.Interrupt:
        raise
    except Exception as error:  # noqa: BLE001 - any transfer error is a failed attempt
        log.info("download of %s failed: %s", location, error)
        return False
    return content if isinstance(content, bytes) else True


def signature_valid(image: bytes, certificate_pem: str, signature_b64: str) -> bool | None:
    """Whether ``signature_b64`` (base64) signs ``image`` (SHA-256, ECDSA or RSA PKCS#1 v1.5)
    with the key of ``certificate_pem``; None when the certificate or the signature does not
    parse (the caller decides by other means)."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
        signature = base64.b64decode(signature_b64, validate=True)
    except (ValueError, binascii.Error):
        return None
    key = certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, image, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, image, padding.PKCS1v15(), hashes.SHA256())
        else:
            return None
    except InvalidSignature:
        return False
    return True


async def http_download(location: str, *, timeout_s: float = 30.0, limit_bytes: int = 64 << 20,
                        transport: httpx.AsyncBaseTransport | None = None) -> bytes:
    """GET ``location``; its body. Raises :class:`DownloadFailed` for anything but a 2xx
    answer (or a body over ``limit_bytes``)."""
    async with httpx.AsyncClient(timeout=timeout_s, transport=transport,
                                 follow_redirects=True) as client:
        try:
            response = await client.get(location)
        except httpx.HTTPError as error:
            raise DownloadFailed(f"download of {location} failed: {error}") from error
    if not response.is_success:
        raise DownloadFailed(f"download of {location} answered {response.status_code}")
    if len(response.content) > limit_bytes:
        raise DownloadFailed(f"{location}: more than {limit_bytes} bytes")
    return response.content


# -- logs and diagnostics ---------------------------------------------------------------------

def is_log_request(request: Mapping[str, Any]) -> bool:
    """GetLog (1.6 security, 2.0.1) rather than 1.6 GetDiagnostics."""
    return "log" in request


def log_filename(request: Mapping[str, Any], *, station_id: str, now: datetime) -> str:
    """The file name a log upload announces (GetDiagnostics fileName, GetLog filename)."""
    kind = str(request.get("logType", "Diagnostics"))
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return _UNSAFE.sub("_", f"{station_id}-{kind}-{stamp}.log")


def get_diagnostics_response(filename: str | None) -> dict[str, Any]:
    """1.6 GetDiagnostics answer: the file name, or ``{}`` when there is nothing to upload."""
    return {} if filename is None else {"fileName": filename[:255]}


def get_log_response(request: Mapping[str, Any], *, version: str | OcppVersion, filename: str,
                     busy: bool = False) -> dict[str, Any]:
    """GetLog answer (1.6 security / 2.0.1): Accepted, or AcceptedCanceled when ``busy`` with
    another upload (which the station then interrupts, TC_N_36)."""
    _version(version)
    return {"status": "AcceptedCanceled" if busy else "Accepted", "filename": filename[:255]}


def log_content(station_id: str, now: datetime) -> bytes:
    """A small, plausible station log ending at ``now``."""
    start = now.astimezone(UTC) - timedelta(hours=1)

    def at(seconds: int) -> str:
        return (start + timedelta(seconds=seconds)).isoformat(timespec="seconds") \
            .replace("+00:00", "Z")

    lines = [
        f"{at(0)} INFO  boot: {station_id} chargeloop SimStation firmware 1.0.0 starting",
        f"{at(2)} INFO  net: websocket connected, subprotocol negotiated",
        f"{at(2)} INFO  ocpp: BootNotification accepted, heartbeat interval 300 s",
        f"{at(3)} INFO  evse 1: status Available",
        f"{at(900)} INFO  evse 1: cable plugged in",
        f"{at(905)} INFO  auth: token presented, authorized",
        f"{at(906)} INFO  evse 1: transaction started, meter 0 Wh",
        f"{at(1800)} WARN  meter 1: voltage L2 229.1 V below nominal",
        f"{at(3000)} INFO  evse 1: transaction stopped (Local), energy 11840 Wh",
        f"{at(3600)} INFO  diag: log collected for upload",
    ]
    return ("\n".join(lines) + "\n").encode()


def log_upload(env: simpy.Environment, request: Mapping[str, Any], *,
               version: str | OcppVersion, notify: Notify, upload: Upload,
               filename: str | None = None, content: bytes | None = None,
               station_id: str = "CS-SIM", now_utc: Callable[[], datetime] | None = None,
               timings: UploadTimings = UploadTimings()) -> Process:
    """The status sequence of one log upload (a SimPy process generator). ``upload(location,
    filename, content)`` performs the transfer and returns an event that fails on error
    (e.g. ``clock.bridge(http_upload(...))``); ``filename`` should be the one announced in the
    answer (:func:`log_filename`), ``content`` defaults to :func:`log_content`."""
    parsed = _version(version)
    is_log = is_log_request(request)
    location = request["log"]["remoteLocation"] if is_log else request["location"]
    failed = "UploadFailure" if is_log else "UploadFailed"
    retries = max(int(request.get("retries") or 0), 0)
    interval = float(request.get("retryInterval") or timings.retry_interval_s)
    now = now_utc() if now_utc is not None else datetime.now(UTC)
    name = filename or log_filename(request, station_id=station_id, now=now)
    body = content if content is not None else log_content(station_id, now)
    try:
        yield env.timeout(timings.prepare_s)
        yield from _say(notify, "Uploading")
        for attempt in range(retries + 1):
            if (yield from _attempt(env, upload, location, name, body, timings)):
                yield from _say(notify, "Uploaded")
                return "Uploaded"
            if attempt < retries:
                yield env.timeout(interval)
        yield from _say(notify, failed)
        return failed
    except simpy.Interrupt:
        if is_log and parsed is OcppVersion.V201:
            yield from _say(notify, "AcceptedCanceled")
        return CANCELED


def _attempt(env: simpy.Environment, upload: Upload, location: str, filename: str,
             content: bytes, timings: UploadTimings) -> Generator[simpy.Event, Any, bool]:
    if failure_of(location) is not None:
        yield env.timeout(timings.failure_s)
        return False
    done = upload(location, filename, content)
    if done is None:
        return True
    try:
        yield done
    except simpy.Interrupt:
        raise
    except Exception as error:  # noqa: BLE001 - any transfer error is a failed attempt
        log.info("upload of %s to %s failed: %s", filename, location, error)
        return False
    return True


def upload_url(location: str, filename: str) -> str:
    """Where a file goes: ``location/filename`` (a location names a folder, as 1.6 diagnostics
    and the reference CSMS's ``/uploads/{token}`` do), or ``location`` itself when it carries a
    query (a pre-signed URL)."""
    parts = urlsplit(location)
    if parts.query:
        return location
    return location.rstrip("/") + "/" + quote(filename, safe="")


async def http_upload(location: str, filename: str, content: bytes, *, timeout_s: float = 30.0,
                      transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Upload ``content`` as ``filename`` to ``location``: HTTP PUT to :func:`upload_url`; if
    the server answers 405, a multipart/form-data POST (field ``file``) to ``location``.
    Raises :class:`UploadFailed` for any other outcome than a 2xx answer."""
    scheme = urlsplit(location).scheme.lower()
    if scheme not in ("http", "https"):
        raise UploadFailed(f"cannot upload over {scheme or 'no scheme'}: {location}")
    async with httpx.AsyncClient(timeout=timeout_s, transport=transport,
                                 follow_redirects=True) as client:
        try:
            response = await client.put(upload_url(location, filename), content=content,
                                        headers={"Content-Type": "application/octet-stream"})
            if response.status_code == httpx.codes.METHOD_NOT_ALLOWED:
                response = await client.post(location, files={
                    "file": (filename, content, "application/octet-stream")})
        except httpx.HTTPError as error:
            raise UploadFailed(f"upload to {location} failed: {error}") from error
    if not response.is_success:
        raise UploadFailed(f"upload to {location} answered {response.status_code}: "
                           f"{response.text[:200]}")


__all__ = ["CANCELED", "DownloadFailed", "FirmwareTimings", "UploadFailed", "UploadTimings",
           "failure_of", "firmware_update", "get_diagnostics_response", "get_log_response",
           "http_download", "http_upload", "is_log_request", "is_secure_update", "log_content",
           "log_filename", "log_upload", "signature_valid", "update_firmware_response",
           "upload_url"]
