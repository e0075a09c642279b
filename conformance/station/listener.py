"""Where and how the harness listens: the address, and TLS for security profiles 2 and 3.

Without a certificate in the SUT file, the harness makes a test CA (``trustme``, via
``chargeloop.ocppj.transport.tls.TestPki``) and writes ``ca.pem`` into the run folder: the
station under test must trust it (for the simulated station the suite passes it on). Profile 3
also needs the station's client certificate: from the SUT file's CA (``tls.ca``), or issued by
the test CA (``client.pem`` in the run folder) for the simulated station.

Also here: the certificates the certificate cases hand to the station (``root_certificate``,
their CertificateHashData) and the harness's file server on loopback (firmware to download,
logs to upload: ``FileServer``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import ssl
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargeloop.certificate_hash import certificate_hash_data as hash_data
from chargeloop.ocppj.transport.tls import TestPki
from conformance.sut import FirmwareSettings, Sut

# what a server context made by ssl.create_default_context offers (Python's default list)
SERVER_CIPHERS = getattr(ssl, "_DEFAULT_CIPHERS", "DEFAULT")
FILE_REQUEST_LIMIT_S = 10.0  # a request to the file server must arrive whole within this


@dataclass
class TlsSetup:
    server_context: ssl.SSLContext | None = None
    ca_file: Path | None = None  # what the station must trust
    client_cert: Path | None = None  # profile 3: the simulated station's certificate


def listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port); ValueError saying what is valid."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"listen address {text!r}: use HOST:PORT, e.g. 127.0.0.1:9000")
    return host.strip("[]"), int(port)


def tls_setup(sut: Sut, folder: Path | None, stack: contextlib.ExitStack) -> TlsSetup:
    profile = sut.security_profile
    if profile < 2:
        return TlsSetup()
    out = folder or Path(stack.enter_context(tempfile.TemporaryDirectory(
        prefix="chargeloop-tls-")))
    tls = sut.tls
    if tls.server_cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(tls.server_cert),
                                str(tls.server_key) if tls.server_key else None)
        if profile == 3:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=str(tls.ca) if tls.ca else None)
        return TlsSetup(context, tls.ca)
    pki = TestPki()
    paths = pki.write(out)
    client = None
    if profile == 3:
        client = out / "client.pem"
        pki.client_cert(sut.stations[0].id).private_key_and_cert_chain_pem.write_to_path(
            str(client))
    context = pki.server_context(require_client_cert=profile == 3)
    global _ACTIVE_TLS
    _ACTIVE_TLS = TlsControl(context, pki)
    return TlsSetup(context, paths["ca"], client)


def new_root_tls() -> tuple[ssl.SSLContext, str]:
    """TLS of a CSMS under a new root (TC_B_50), or for a station upgraded from security
    profile 1 to 2 (TC_A_19): a server context (TLS 1.2 or later) from a new test CA, and that
    CA's certificate (PEM), which the case installs on the station as a CSMS root certificate
    first."""
    pki = TestPki()
    return pki.server_context(), pki.ca.cert_pem.bytes().decode()


# -- what the TLS cases do to the harness's server (TC_A_05, TC_A_06) --------------------------


class TlsControl:
    """The harness's own TLS server context (the test CA's): a case may serve another
    certificate or only an old TLS version for a while (new handshakes take it up at once)
    and, meanwhile, sees every handshake begin (``handshakes``: the ClientHellos read, through
    the context's message callback, which ``ssl`` offers for debugging as ``_msg_callback``)."""

    def __init__(self, context: ssl.SSLContext, pki: TestPki) -> None:
        self.context = context
        self.pki = pki
        self.handshakes = 0
        self._changed = asyncio.Event()

    def ca_root(self) -> TestCertificate:
        """The test CA (the CSMS root the station was given) with its key, to sign another
        root with (trustme keeps both private)."""
        ca = self.pki.ca
        certificate = ca._certificate  # type: ignore[attr-defined]
        return TestCertificate(certificate.public_bytes(serialization.Encoding.PEM).decode(),
                               ca._private_key, certificate)  # type: ignore[attr-defined]

    def _message(self, connection: Any, direction: str, version: Any, content_type: Any,
                 message_type: Any, data: bytes) -> None:
        if direction == "read" and content_type == ssl._TLSContentType.HANDSHAKE and \
                message_type == ssl._TLSMessageType.CLIENT_HELLO:  # type: ignore[attr-defined]
            self.handshakes += 1
            self._changed.set()

    async def handshake_after(self, count: int, timeout_s: float) -> bool:
        """Whether a handshake beyond the first ``count`` begins within ``timeout_s``."""
        async def wait() -> None:
            while self.handshakes <= count:
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    @contextlib.contextmanager
    def serving(self, certificate: trustme.LeafCert | None = None,
                old_tls: ssl.TLSVersion | None = None) -> Iterator[None]:
        """Serve ``certificate`` instead of the test CA's server certificate, or only TLS up
        to ``old_tls`` (below 1.2: the lowest security level lets OpenSSL speak it)."""
        self.context._msg_callback = self._message  # type: ignore[attr-defined]
        try:
            if certificate is not None:
                certificate.configure_cert(self.context)
            if old_tls is not None:
                self.context.set_ciphers("DEFAULT:@SECLEVEL=0")
                self.context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
                with warnings.catch_warnings():  # old TLS on purpose
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self.context.maximum_version = old_tls
            yield
        finally:
            self.context._msg_callback = None  # type: ignore[attr-defined]
            self.pki.server_cert.configure_cert(self.context)
            if old_tls is not None:
                self.context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
                self.context.minimum_version = ssl.TLSVersion.TLSv1_2
                self.context.set_ciphers(SERVER_CIPHERS)

    def invalid_server_certificates(self) -> dict[str, trustme.LeafCert]:
        """The server certificates a station must refuse (TC_A_05): expired, not yet valid,
        from another root, for another host name, with a wildcard name."""
        now = datetime.now(UTC)
        names = self.pki.server_names
        return {
            "expired": self.pki.ca.issue_cert(*names, not_before=now - timedelta(days=30),
                                              not_after=now - timedelta(days=1)),
            "not yet valid": self.pki.ca.issue_cert(*names, not_before=now + timedelta(days=1),
                                                    not_after=now + timedelta(days=30)),
            "another root": trustme.CA().issue_cert(*names),
            "another host name": self.pki.ca.issue_cert("csms.invalid"),
            "wildcard name": self.pki.ca.issue_cert("*.invalid"),
        }


_ACTIVE_TLS: TlsControl | None = None


def tls_control() -> TlsControl | None:
    """The TLS control of the harness's test CA server, if the harness made one (security
    profile 2 or 3 without a server certificate in the SUT file)."""
    return _ACTIVE_TLS


# -- certificates the certificate cases install, look up and delete --------------------------


@dataclass(frozen=True)
class TestCertificate:
    """A certificate a case hands to the station (PEM) with the key that made it."""

    __test__ = False  # not a pytest test class, whatever its name

    pem: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    issuer: x509.Certificate | None = None  # who signed it (None: itself)


def root_certificate(name: str, *, not_before_days: float = -1.0,
                     not_after_days: float = 365.0,
                     signed_by: TestCertificate | None = None) -> TestCertificate:
    """A self-signed CA certificate (EC P-256) called ``name``, valid from ``not_before_days``
    to ``not_after_days`` from now: both negative makes an expired one. ``signed_by``: a root
    of its own key and name that another root signed (a new root signed by the old one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargeloop conformance"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject)
        .issuer_name(signed_by.certificate.subject if signed_by else subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=not_before_days))
        .not_valid_after(now + timedelta(days=not_after_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(signed_by.key if signed_by else key, hashes.SHA256()))
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return TestCertificate(pem, key, certificate,
                           signed_by.certificate if signed_by is not None else None)


def issued_certificate(issuer: TestCertificate, name: str, *,
                       public_key: Any | None = None, not_before_days: float = -1.0,
                       not_after_days: float = 365.0) -> TestCertificate:
    """A leaf certificate for ``name`` signed by ``issuer`` (its own new key unless
    ``public_key``, from a CSR, is given; then ``key`` is the issuer's, not the leaf's), valid
    from ``not_before_days`` to ``not_after_days`` from now."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key if public_key is not None else key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=not_before_days))
        .not_valid_after(now + timedelta(days=not_after_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer.key, hashes.SHA256()))
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return TestCertificate(pem, issuer.key if public_key is not None else key, certificate)


def certificate_hash_data(certificate: TestCertificate,
                          issuer: TestCertificate | None = None) -> dict[str, str]:
    """CertificateHashData (SHA256) of ``certificate``; ``issuer`` defaults to the one that
    signed it (itself, for a self-signed root)."""
    return hash_data(certificate.certificate,
                     issuer.certificate if issuer is not None else certificate.issuer)


def same_certificate(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two CertificateHashData name the same certificate (hex case and leading zeros of the
    serial number aside)."""
    def serial(data: dict[str, Any]) -> str:
        return str(data.get("serialNumber", "")).lower().lstrip("0")

    return all(str(a.get(k, "")).lower() == str(b.get(k, "")).lower()
               for k in ("hashAlgorithm", "issuerNameHash", "issuerKeyHash")) and \
        serial(a) == serial(b)


# -- files: firmware to download, logs to upload (HTTP on loopback) --------------------------


@dataclass
class Upload:
    path: str
    content: bytes
    at: float  # time.monotonic()


class FileServer:
    """A small HTTP/1.1 server for the firmware and log cases: ``GET`` serves the files a case
    published (404 for anything else), ``PUT`` and ``POST`` below ``/upload/`` store the body
    (201), anything else is refused (403: an upload location that fails). One request per
    connection."""

    def __init__(self, host: str = "127.0.0.1", public_host: str | None = None) -> None:
        self.host = host
        self.public_host = public_host or host  # what the station is told (the URLs)
        self.files: dict[str, bytes] = {}
        self.uploads: list[Upload] = []
        self.requests: list[tuple[str, str]] = []  # (method, path), in order
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()
        # requests below a path prefix answered only once its event is set (``hold``)
        self._holds: dict[str, asyncio.Event] = {}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, 0)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        port = self._server.sockets[0].getsockname()[1]
        host = f"[{self.public_host}]" if ":" in self.public_host else self.public_host
        return f"http://{host}:{port}"

    def publish(self, path: str, content: bytes) -> str:
        """Serve ``content`` at ``path``; its URL."""
        self.files[path] = content
        return self.base_url + path

    def url(self, path: str) -> str:
        return self.base_url + path

    def hold(self, prefix: str) -> asyncio.Event:
        """Answer requests below ``prefix`` only once the returned event is set (a transfer
        that takes as long as a case needs: the station stays Downloading / Uploading);
        closing the server sets it."""
        release = self._holds[prefix] = asyncio.Event()
        return release

    async def upload(self, prefix: str, timeout_s: float) -> Upload | None:
        """The first upload whose path starts with ``prefix``, waiting up to ``timeout_s``."""
        def found() -> Upload | None:
            return next((u for u in self.uploads if u.path.startswith(prefix)), None)

        async def wait() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: found() is not None)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wait(), timeout_s)
        return found()

    async def close(self) -> None:
        for release in self._holds.values():
            release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await asyncio.wait_for(self._handle(reader), FILE_REQUEST_LIMIT_S)
        except (TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
            status, body = 400, f"bad request: {exc}".encode()
        reason = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden",
                  404: "Not Found"}[status]
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
                     "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
                     .encode() + body)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:] if line)}
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        path = target.split("?", 1)[0]
        self.requests.append((method, path))
        for prefix, release in self._holds.items():
            if path.startswith(prefix):
                await release.wait()
        if method == "GET":
            content = self.files.get(path)
            return (200, content) if content is not None else (404, b"no such file")
        if method in ("PUT", "POST") and path.startswith("/upload/"):
            self.uploads.append(Upload(path, body, time.monotonic()))
            async with self._arrived:
                self._arrived.notify_all()
            return 201, b""
        return 403, b"uploads are refused here"


@contextlib.asynccontextmanager
async def file_server(listen_url: str) -> AsyncIterator[FileServer]:
    """A ``FileServer`` for one case, on the host the harness listens on (``listen_url``, the
    harness's ``ws(s)://`` URL); a wildcard address is announced by this machine's name."""
    host = urlsplit(listen_url).hostname or "127.0.0.1"
    public = socket.gethostname() if host in ("0.0.0.0", "::") else host
    server = FileServer(host, public)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def sign_image(image: bytes, signer: TestCertificate) -> str:
    """The base64 signature (ECDSA with SHA-256) of a firmware ``image`` with ``signer``'s
    key, as UpdateFirmware's ``signature`` carries it."""
    return base64.b64encode(signer.key.sign(image, ec.ECDSA(hashes.SHA256()))).decode()


HARNESS_IMAGE = b"chargeloop conformance firmware image\n" * 64


@dataclass(frozen=True)
class SignedFirmware:
    """A signed firmware image to serve, with its signing certificate (PEM) and base64
    signature."""

    image: bytes
    signing_certificate: str
    signature: str


def signed_firmware(settings: FirmwareSettings, *, tampered: bool = False,
                    expired_certificate: bool = False, harness_image: bool = False
                    ) -> SignedFirmware:
    """The SUT file's signed image (``firmware``), else one the harness makes and signs with a
    firmware signing certificate from a test manufacturer root. ``tampered``: the image served
    is not the one signed; ``expired_certificate``: the harness's own, expired;
    ``harness_image``: the harness's own in any case."""
    if settings.signed_image is not None and settings.signing_certificate is not None and \
            settings.signature is not None and not expired_certificate and not harness_image:
        image = settings.signed_image.read_bytes()
        certificate, signature = settings.signing_certificate.read_text(), settings.signature
    else:
        root = root_certificate("conformance manufacturer root")
        signer = issued_certificate(root, "conformance firmware signing",
                                    **({"not_before_days": -30, "not_after_days": -1}
                                       if expired_certificate else {}))
        image, certificate = HARNESS_IMAGE, signer.pem
        signature = sign_image(image, signer)
    return SignedFirmware(image + (b"tampered" if tampered else b""), certificate, signature)


def firmware_image(settings: FirmwareSettings) -> bytes:
    """The SUT file's installable image (``firmware.image``), else one the harness makes."""
    return settings.image.read_bytes() if settings.image is not None else HARNESS_IMAGE
