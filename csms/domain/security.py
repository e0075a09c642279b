"""Security: security events, the CSMS's certificate authority, station certificates.

* **Security events** (1.6 security whitepaper and 2.0.1 SecurityEventNotification): stored
  (kind ``SecurityEvent``, once however often retried) and published as
  ``station.security_event``. The type is published in its 2.0.1 spelling (1.6's
  ``InvalidCentralSystemCertificate`` is ``InvalidCsmsCertificate``); ``critical`` says whether
  it signals an attack or a security failure an operator must look at (tampering, invalid
  signatures or certificates, failed authentication, a cleared log, ...). That is not the
  specification's "critical" column, which says which events a station must push at all and
  marks routine ones (FirmwareUpdated, StartupOfTheDevice, ResetOrReboot) critical too.
* **Certificate authority**: the CSMS signs station certificates (SignCertificate) with its own
  CA: the PEM files of ``ca_certificate_file`` / ``ca_key_file`` when configured, else one it
  creates on first start (EC P-256, 20 years) and keeps in its database. A CSR is signed only
  if its signature is valid, its key is strong enough (RSA >= 2048 bits, EC P-256 / P-384) and,
  for a ChargingStationCertificate, its CN is the station's identity. The answer (Accepted or
  Rejected) goes out first; the CertificateSigned with the chain (certificate + CA) follows.
* **Station certificates** (``station_certificates``): issued by the CA (status Issued, then
  the station's CertificateSigned answer, or NotDelivered), installed by InstallCertificate,
  deleted by DeleteCertificate, and as reported by GetInstalledCertificateIds, which replaces
  what the CSMS knew of the types it asked for. Recorded by answer listeners, so this holds
  however the command was sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.certificate_hash import public_key_bits
from chargeloop.ocppj import OcppVersion
from csms.config import CsmsConfig
from csms.domain.commands import SYSTEM, Actor, CommandError, CommandInvalid, CommandService
from csms.domain.maintenance import SECURITY_EVENT, MaintenanceStore, dedupe_key
from csms.domain.timeutil import Clock, utcnow
from csms.events import EventBus
from csms.ocpp import maintenance_wire as wire
from csms.storage import tables as t
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.security")

CERTIFICATE_EVENT = "Certificate"
ISSUED, INSTALLED, REPORTED = "issued", "installed", "reported"

# Security event types (2.0.1 spelling) that signal an attack or a security failure.
CRITICAL_SECURITY_EVENTS = frozenset({
    "FailedToAuthenticateAtCsms", "CsmsFailedToAuthenticate", "SecurityLogWasCleared",
    "MemoryExhaustion", "AttemptedReplayAttacks", "TamperDetectionActivated",
    "InvalidFirmwareSignature", "InvalidFirmwareSigningCertificate", "InvalidCsmsCertificate",
    "InvalidChargingStationCertificate", "InvalidTLSVersion", "InvalidTLSCipherSuite",
    "MaintenanceLoginFailed",
})

_HASHES = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}
_CURVES = (ec.SECP256R1, ec.SECP384R1)


def is_critical(event_type: str) -> bool:
    return wire.neutral_security_event(event_type) in CRITICAL_SECURITY_EVENTS


# -- X.509 helpers --------------------------------------------------------------------------------

def hash_data(certificate: x509.Certificate, issuer: x509.Certificate | None = None,
              algorithm: str = "SHA256") -> dict[str, Any]:
    """OCPP CertificateHashData of ``certificate`` (neutral keys). The issuer key hash needs the
    issuer: given, or the certificate itself when self-signed; else it is None."""
    digest = _HASHES[algorithm]
    if issuer is None and certificate.issuer == certificate.subject:
        issuer = certificate
    return {"hash_algorithm": algorithm,
            "issuer_name_hash": digest(certificate.issuer.public_bytes()).hexdigest(),
            "issuer_key_hash": None if issuer is None else
            digest(public_key_bits(issuer.public_key())).hexdigest(),
            "serial_number": format(certificate.serial_number, "x")}


def load_certificates(pem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise ValueError(f"not a PEM certificate: {exc}") from exc


def _load_csr(text: str) -> x509.CertificateSigningRequest:
    text = text.strip()
    if "-----BEGIN" not in text:  # bare base64 DER, as some stations send it
        text = "-----BEGIN CERTIFICATE REQUEST-----\n" + text + \
            "\n-----END CERTIFICATE REQUEST-----"
    return x509.load_pem_x509_csr(text.encode())


def _certificate_row(certificate: x509.Certificate, issuer: x509.Certificate | None
                     ) -> dict[str, Any]:
    return {**hash_data(certificate, issuer),
            "subject": certificate.subject.rfc4514_string()[:255],
            "not_before": certificate.not_valid_before_utc,
            "not_after": certificate.not_valid_after_utc,
            "certificate_pem": certificate.public_bytes(serialization.Encoding.PEM).decode()}


class CsrRejected(ValueError):
    """A CSR the CA will not sign; the message says why."""


class CertificateAuthority:
    def __init__(self, certificate: x509.Certificate, key: Any) -> None:
        self.certificate = certificate
        self.key = key

    @classmethod
    def generate(cls, now: datetime) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chargeloop CSMS CA"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargeloop")])
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
        return cls(certificate, key)

    @classmethod
    def from_pem(cls, certificate_pem: str | bytes, key_pem: str | bytes) -> CertificateAuthority:
        certificate_data = certificate_pem.encode() if isinstance(certificate_pem, str) \
            else certificate_pem
        key_data = key_pem.encode() if isinstance(key_pem, str) else key_pem
        return cls(x509.load_pem_x509_certificate(certificate_data),
                   serialization.load_pem_private_key(key_data, password=None))

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()

    def sign(self, csr_text: str, station_id: str, certificate_type: str, *, days: int,
             now: datetime) -> x509.Certificate:
        try:
            csr = _load_csr(csr_text)
        except ValueError as exc:
            raise CsrRejected(f"not a PEM certificate signing request: {exc}") from exc
        if not csr.is_signature_valid:
            raise CsrRejected("the CSR's signature does not verify")
        names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = str(names[0].value) if names else None
        if certificate_type != wire.V2G_CERTIFICATE and common_name != station_id:
            raise CsrRejected(f"the CSR's CN {common_name!r} is not the station's identity "
                              f"{station_id!r}")
        if certificate_type == wire.V2G_CERTIFICATE and not common_name:
            raise CsrRejected("the CSR has no CN")
        key = csr.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < 2048:
                raise CsrRejected(f"RSA key of {key.key_size} bits; at least 2048 needed")
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(key.curve, _CURVES):
                raise CsrRejected(f"EC curve {key.curve.name}; secp256r1 or secp384r1 needed")
        else:
            raise CsrRejected(f"unsupported key type {type(key).__name__}")
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if certificate_type == wire.V2G_CERTIFICATE:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        rsa_key = isinstance(key, rsa.RSAPublicKey)
        not_after = min(now + timedelta(days=days), self.certificate.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder().subject_name(csr.subject)
            .issuer_name(self.certificate.subject).public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=rsa_key,
                data_encipherment=False, key_agreement=not rsa_key, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False))
        return builder.sign(self.key, hashes.SHA256())


@dataclass(slots=True)
class _Signed:
    fingerprint: str  # of the CSR and certificate type
    at: datetime
    serial_number: str
    chain: str
    delivery: asyncio.Task[None] | None


RESIGN_AFTER = timedelta(minutes=10)  # the same CSR later than this is signed anew


@dataclass(frozen=True, slots=True)
class SigningVerdict:
    accepted: bool
    reason: str | None = None
    serial_number: str | None = None


class SecurityService:
    def __init__(self, db: Database, store: MaintenanceStore, events: EventBus,
                 commands: CommandService, config: CsmsConfig, clock: Clock = utcnow) -> None:
        self.db = db
        self.store = store
        self.events = events
        self.commands = commands
        self.config = config
        self.clock = clock
        self.ca: CertificateAuthority | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._signed: dict[str, _Signed] = {}  # the last CSR signed per station
        commands.on_answer("CertificateSigned", self._certificate_signed_answered)
        commands.on_answer("InstallCertificate", self._install_answered)
        commands.on_answer("DeleteCertificate", self._delete_answered)
        commands.on_answer("GetInstalledCertificateIds", self._list_answered)

    async def load(self) -> None:
        self.ca = await self._load_ca()

    async def _load_ca(self) -> CertificateAuthority:
        config = self.config
        if config.ca_certificate_file is not None or config.ca_key_file is not None:
            if config.ca_certificate_file is None or config.ca_key_file is None:
                raise ValueError("ca_certificate_file and ca_key_file go together")
            return CertificateAuthority.from_pem(Path(config.ca_certificate_file).read_bytes(),
                                                 Path(config.ca_key_file).read_bytes())

        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.certificate_authority).where(
                t.certificate_authority.c.id == 1))).mappings().first()
            return dict(row) if row is not None else None

        row = await self.db.read(read)
        if row is None:
            fresh = CertificateAuthority.generate(self.clock())

            async def write(conn: AsyncConnection) -> None:
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                await conn.execute(dialect.insert(t.certificate_authority).values(
                    id=1, certificate_pem=fresh.certificate_pem,
                    private_key_pem=fresh.key_pem, created_at=self.clock(),
                ).on_conflict_do_nothing(index_elements=["id"]))

            await self.db.write(write)
            row = await self.db.read(read)  # another instance may have been first
            assert row is not None
            log.warning("created the CSMS certificate authority (kept in the database)")
        return CertificateAuthority.from_pem(row["certificate_pem"], row["private_key_pem"])

    @property
    def authority(self) -> CertificateAuthority:
        if self.ca is None:
            raise RuntimeError("SecurityService.load() was not called")
        return self.ca

    # -- security events --------------------------------------------------------------------------

    async def security_event(self, station_id: str, event_type: str, timestamp: datetime,
                             tech_info: str | None) -> bool:
        """Store and publish one security event; False if it was a retried one."""
        neutral = wire.neutral_security_event(event_type)
        critical = neutral in CRITICAL_SECURITY_EVENTS

        async def write(conn: AsyncConnection) -> int | None:
            return await self.store.insert_event(
                conn, station_id, SECURITY_EVENT, timestamp,
                {"type": event_type, "timestamp": timestamp.isoformat(), "techInfo": tech_info,
                 "normalizedType": neutral, "critical": critical},
                summary=neutral + (f": {tech_info}" if tech_info else ""),
                dedupe=dedupe_key(event_type, timestamp, tech_info))

        if await self.db.write(write) is None:
            return False
        (log.warning if critical else log.info)("%s security event %s %s", station_id,
                                                neutral, tech_info or "")
        self.events.publish("station.security_event", station_id=station_id, type=neutral,
                            reported_type=event_type, tech_info=tech_info, timestamp=timestamp,
                            critical=critical)
        return True

    # -- SignCertificate -> CertificateSigned --------------------------------------------------

    async def sign_certificate(self, station_id: str, csr: str,
                               certificate_type: str | None) -> SigningVerdict:
        """A station's CSR: sign it with the CSMS CA and record the certificate (before the
        answer), then send it in a CertificateSigned once the answer is out."""
        kind = certificate_type or wire.STATION_CERTIFICATE
        now = self.clock()
        fingerprint = hashlib.sha256(f"{kind}\n{csr.strip()}".encode()).hexdigest()
        previous = self._signed.get(station_id)
        if previous is not None and previous.fingerprint == fingerprint and \
                now - previous.at < RESIGN_AFTER:
            # The same CSR again (a retried SignCertificate): the same certificate, sent again
            # unless it is still on its way.
            if previous.delivery is None or previous.delivery.done():
                previous.delivery = self._spawn_delivery(station_id, previous.chain, kind,
                                                         previous.serial_number)
            return SigningVerdict(True, serial_number=previous.serial_number)
        try:
            certificate = self.authority.sign(csr, station_id, kind,
                                              days=self.config.station_certificate_days, now=now)
        except CsrRejected as exc:
            await self._record(station_id, "SignCertificate", "Rejected", {
                "certificateType": kind, "reason": str(exc)})
            log.warning("%s: CSR rejected: %s", station_id, exc)
            return SigningVerdict(False, str(exc))
        row = {**_certificate_row(certificate, self.authority.certificate),
               "station_id": station_id, "certificate_type": kind, "source": ISSUED,
               "status": "Issued", "created_at": now, "updated_at": now}

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(insert(t.station_certificates).values(**row))
            await self.store.insert_event(conn, station_id, CERTIFICATE_EVENT, now, {
                "action": "SignCertificate", "status": "Accepted", "certificateType": kind,
                "serialNumber": row["serial_number"], "subject": row["subject"],
                "notAfter": row["not_after"].isoformat()},
                summary=f"SignCertificate Accepted: {row['serial_number']}")

        await self.db.write(write)
        chain = row["certificate_pem"] + self.authority.certificate_pem
        self._signed[station_id] = _Signed(
            fingerprint, now, row["serial_number"], chain,
            self._spawn_delivery(station_id, chain, kind, row["serial_number"]))
        self.events.publish("station.certificate", station_id=station_id,
                            action="SignCertificate", status="Accepted", certificate_type=kind,
                            serial_number=row["serial_number"], not_after=row["not_after"])
        return SigningVerdict(True, serial_number=row["serial_number"])

    def _spawn_delivery(self, station_id: str, chain: str, certificate_type: str,
                        serial_number: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._deliver(station_id, chain, certificate_type,
                                                 serial_number),
                                   name=f"certificate-signed-{station_id}")
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)
        return task

    async def _deliver(self, station_id: str, chain: str, certificate_type: str,
                       serial_number: str) -> None:
        # This task runs once the SignCertificate handler has returned: its answer is written
        # to the connection before this CALL (the session answers before it yields).
        try:
            version = self.commands.version_of(station_id)
            await self.commands.call(station_id, "CertificateSigned",
                                     wire.certificate_signed(version, chain, certificate_type),
                                     SYSTEM)
        except CommandError as error:
            log.warning("%s: CertificateSigned not delivered: %s", station_id, error)
            now = self.clock()
            c = t.station_certificates.c

            async def write(conn: AsyncConnection) -> None:
                await conn.execute(update(t.station_certificates).where(and_(
                    c.station_id == station_id, c.source == ISSUED,
                    c.serial_number == serial_number, c.status == "Issued",
                )).values(status="NotDelivered", updated_at=now))

            await self.db.write(write)

    async def wait_deliveries(self) -> None:
        """Wait for the CertificateSigned messages on their way (tests, shutdown)."""
        if self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)

    async def _certificate_signed_answered(self, station_id: str, version: OcppVersion,
                                           request: dict[str, Any],
                                           answer: dict[str, Any]) -> None:
        status = answer.get("status", "")
        kind = request.get("certificateType", wire.STATION_CERTIFICATE)
        try:
            leaf = load_certificates(request["certificateChain"])[0]
        except (ValueError, IndexError):
            leaf = None
        serial = format(leaf.serial_number, "x") if leaf is not None else None
        now = self.clock()
        c = t.station_certificates.c

        async def write(conn: AsyncConnection) -> None:
            if serial is not None:
                found = await conn.execute(update(t.station_certificates).where(and_(
                    c.station_id == station_id, c.source == ISSUED, c.serial_number == serial,
                )).values(status=status, updated_at=now))
                if found.rowcount == 0 and leaf is not None:  # a chain we did not issue
                    await conn.execute(insert(t.station_certificates).values(
                        **_certificate_row(leaf, None), station_id=station_id,
                        certificate_type=kind, source=ISSUED, status=status, created_at=now,
                        updated_at=now))
            await self.store.insert_event(conn, station_id, CERTIFICATE_EVENT, now, {
                "action": "CertificateSigned", "status": status, "certificateType": kind,
                "serialNumber": serial, "statusInfo": answer.get("statusInfo")},
                summary=f"CertificateSigned {status}: {serial}")

        await self.db.write(write)
        self.events.publish("station.certificate", station_id=station_id,
                            action="CertificateSigned", status=status, certificate_type=kind,
                            serial_number=serial)

    # -- install, delete, list ----------------------------------------------------------------

    async def install(self, station_id: str, certificate_type: str, certificate_pem: str,
                      actor: Actor) -> dict[str, Any]:
        try:
            load_certificates(certificate_pem)
        except ValueError as exc:
            raise CommandInvalid(str(exc), "certificate") from exc
        version = self.commands.version_of(station_id)
        try:
            payload = wire.install_certificate(version, certificate_type, certificate_pem)
        except wire.NotInVersion as exc:
            raise CommandInvalid(str(exc), "certificate_type") from exc
        return await self.commands.call(station_id, "InstallCertificate", payload, actor)

    async def _install_answered(self, station_id: str, version: OcppVersion,
                                request: dict[str, Any], answer: dict[str, Any]) -> None:
        status = answer.get("status", "")
        kind = wire.neutral_certificate_type(request["certificateType"])
        try:
            certificates = load_certificates(request["certificate"])
        except ValueError:
            certificates = []
        now = self.clock()
        c = t.station_certificates.c

        async def write(conn: AsyncConnection) -> None:
            if status == "Accepted" and certificates:
                issuer = certificates[1] if len(certificates) > 1 else None
                row = _certificate_row(certificates[0], issuer)
                await conn.execute(delete(t.station_certificates).where(and_(
                    c.station_id == station_id, c.certificate_type == kind,
                    c.serial_number == row["serial_number"],
                    c.issuer_name_hash == row["issuer_name_hash"])))
                await conn.execute(insert(t.station_certificates).values(
                    **row, station_id=station_id, certificate_type=kind, source=INSTALLED,
                    status="Installed", created_at=now, updated_at=now))
            await self.store.insert_event(conn, station_id, CERTIFICATE_EVENT, now, {
                "action": "InstallCertificate", "status": status, "certificateType": kind,
                "statusInfo": answer.get("statusInfo")},
                summary=f"InstallCertificate {kind} {status}")

        await self.db.write(write)
        self.events.publish("station.certificate", station_id=station_id,
                            action="InstallCertificate", status=status, certificate_type=kind)

    async def delete(self, station_id: str, certificate: dict[str, Any],
                     actor: Actor) -> dict[str, Any]:
        """DeleteCertificate of the certificate with this (neutral) hash data."""
        return await self.commands.call(
            station_id, "DeleteCertificate",
            {"certificateHashData": wire.hash_data_wire(certificate)}, actor)

    async def known_certificate(self, station_id: str,
                                serial_number: str) -> dict[str, Any] | None:
        """The certificate the CSMS knows on the station by serial number, with full hash
        data (what a DeleteCertificate needs)."""
        serial = serial_number.lower().lstrip("0") or "0"
        c = t.station_certificates.c

        async def read(conn: AsyncConnection) -> dict[str, Any] | None:
            row = (await conn.execute(select(t.station_certificates).where(and_(
                c.station_id == station_id, c.serial_number == serial,
                c.issuer_key_hash.is_not(None), c.issuer_name_hash.is_not(None)))
                .order_by(c.updated_at.desc()))).mappings().first()
            return dict(row) if row is not None else None

        return await self.db.read(read)

    async def _delete_answered(self, station_id: str, version: OcppVersion,
                               request: dict[str, Any], answer: dict[str, Any]) -> None:
        status = answer.get("status", "")
        hashed = wire.hash_data_neutral(request["certificateHashData"])
        now = self.clock()
        c = t.station_certificates.c

        async def write(conn: AsyncConnection) -> None:
            if status in ("Accepted", "NotFound"):  # either way, the station does not have it
                await conn.execute(delete(t.station_certificates).where(and_(
                    c.station_id == station_id, c.source != ISSUED,
                    c.serial_number == hashed["serial_number"],
                    func.lower(c.issuer_name_hash) == hashed["issuer_name_hash"])))
            await self.store.insert_event(conn, station_id, CERTIFICATE_EVENT, now, {
                "action": "DeleteCertificate", "status": status,
                "serialNumber": hashed["serial_number"], "statusInfo": answer.get("statusInfo")},
                summary=f"DeleteCertificate {hashed['serial_number']} {status}")

        await self.db.write(write)
        self.events.publish("station.certificate", station_id=station_id,
                            action="DeleteCertificate", status=status,
                            serial_number=hashed["serial_number"])

    async def refresh(self, station_id: str, types: list[str],
                      actor: Actor) -> list[dict[str, Any]]:
        """Ask the station which certificates it has (1.6: one message per type)."""
        version = self.commands.version_of(station_id)
        try:
            payloads = wire.get_installed_certificate_ids(version, types)
        except wire.NotInVersion as exc:
            raise CommandInvalid(str(exc), "types") from exc
        return [await self.commands.call(station_id, "GetInstalledCertificateIds", payload,
                                         actor) for payload in payloads]

    async def _list_answered(self, station_id: str, version: OcppVersion,
                             request: dict[str, Any], answer: dict[str, Any]) -> None:
        types = wire.requested_certificate_types(version, request)
        reported = wire.installed_certificates(version, request, answer)
        now = self.clock()
        c = t.station_certificates.c

        async def write(conn: AsyncConnection) -> None:
            existing = [dict(r) for r in (await conn.execute(select(t.station_certificates)
                        .where(and_(c.station_id == station_id, c.source != ISSUED,
                                    c.certificate_type.in_(types))))).mappings()]
            kept: set[int] = set()
            for found in reported:
                match = next((r for r in existing if r["id"] not in kept
                              and r["certificate_type"] == found["certificate_type"]
                              and r["serial_number"] == found["serial_number"]
                              and (r["issuer_name_hash"] or "").lower()
                              == found["issuer_name_hash"]), None)
                hashed = {k: found[k] for k in ("hash_algorithm", "issuer_name_hash",
                                                "issuer_key_hash", "serial_number")}
                if match is not None:
                    kept.add(match["id"])
                    await conn.execute(update(t.station_certificates)
                                       .where(c.id == match["id"])
                                       .values(**hashed, status="Installed", updated_at=now))
                else:
                    await conn.execute(insert(t.station_certificates).values(
                        **hashed, station_id=station_id,
                        certificate_type=found["certificate_type"], source=REPORTED,
                        status="Installed", created_at=now, updated_at=now))
            gone = [r["id"] for r in existing if r["id"] not in kept]
            if gone:
                await conn.execute(delete(t.station_certificates).where(c.id.in_(gone)))
            await self.store.insert_event(conn, station_id, CERTIFICATE_EVENT, now, {
                "action": "GetInstalledCertificateIds", "status": answer.get("status"),
                "types": types, "count": len(reported)},
                summary=f"GetInstalledCertificateIds: {len(reported)} certificates")

        await self.db.write(write)

    async def certificates(self, station_id: str) -> list[dict[str, Any]]:
        c = t.station_certificates.c

        async def read(conn: AsyncConnection) -> list[dict[str, Any]]:
            rows = await conn.execute(select(t.station_certificates)
                                      .where(c.station_id == station_id)
                                      .order_by(c.certificate_type, c.created_at.desc()))
            return [dict(r) for r in rows.mappings()]

        return await self.db.read(read)

    # -- triggers --------------------------------------------------------------------------------

    async def renew(self, station_id: str, certificate_type: str,
                    actor: Actor) -> tuple[str, dict[str, Any]]:
        """Ask the station for a new CSR (1.6 ExtendedTriggerMessage, 2.0.1 TriggerMessage)."""
        version = self.commands.version_of(station_id)
        try:
            action, payload = wire.renew_certificate(version, certificate_type)
        except wire.NotInVersion as exc:
            raise CommandInvalid(str(exc), "certificate_type") from exc
        return action, await self.commands.call(station_id, action, payload, actor)

    async def _record(self, station_id: str, action: str, status: str,
                      payload: dict[str, Any]) -> None:
        now = self.clock()
        await self.db.write(lambda conn: self.store.insert_event(
            conn, station_id, CERTIFICATE_EVENT, now, {"action": action, "status": status,
                                                       **payload},
            summary=f"{action} {status}"))
        self.events.publish("station.certificate", station_id=station_id, action=action,
                            status=status, reason=payload.get("reason"))

