"""The reference CSMS's settings, with the defaults an operator of a small network would want."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from chargeloop.ocppj import OcppVersion, ValidationMode

DEFAULT_PORT = 8180  # clear of PostgreSQL, Redis, RabbitMQ, Mosquitto, NATS and common dev ports
DEFAULT_DATABASE = "sqlite+aiosqlite:///chargeloop-csms.db"


class UnknownStations(StrEnum):
    """What happens to a station the CSMS has never seen."""

    ACCEPT = "accept"  # register it and accept its boot
    PENDING = "pending"  # register it, answer its boot Pending until an operator accepts it
    REJECT = "reject"  # refuse the WebSocket upgrade with HTTP 404


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class CsmsConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    database_url: str = DEFAULT_DATABASE
    # None: accept while bound to loopback, reject otherwise (like a database's protected mode).
    unknown_stations: UnknownStations | None = None
    versions: tuple[OcppVersion, ...] = (OcppVersion.V201, OcppVersion.V16)
    validation: ValidationMode = ValidationMode.STRICT
    heartbeat_interval_s: int = 300
    # A station whose last message is older than this many heartbeat intervals is offline.
    offline_after_heartbeats: float = 2.5
    clock_skew_threshold_s: float = 60.0
    # OCPP 1.6 messages carry no offline flag: a reading that puts a 1.6 station's clock
    # behind is believed only after its connection has lasted this long (its queue replayed).
    clock_skew_settle_s: float = 120.0
    # A message whose own timestamp is older than this when it arrives was queued offline.
    late_after_s: float = 120.0
    stuck_session_after_s: float = 900.0
    call_timeout_s: float = 30.0
    # Group commit: answers wait for the commit of a batch of at most this many writes.
    max_batch: int = 256
    admin_token_file: Path = field(default_factory=lambda: Path("chargeloop-csms-admin.token"))
    remediation_soft_reset_after_s: float | None = None  # e.g. 600: soft reset if Faulted 10 min
    # Maintenance: where stations upload logs and diagnostics (PUT/POST /uploads/{token}); the
    # address stations reach this CSMS at (default: the address the operator's API call used).
    upload_dir: Path = field(default_factory=lambda: Path("chargeloop-csms-uploads"))
    public_url: str | None = None  # e.g. "https://csms.example.com"
    upload_max_bytes: int = 512 * 1024 * 1024
    upload_token_ttl_s: float = 7 * 24 * 3600.0
    # The CA that signs station certificates (SignCertificate): these PEM files when given, else
    # one the CSMS creates on first start and keeps in its database.
    ca_certificate_file: Path | None = None
    ca_key_file: Path | None = None
    station_certificate_days: int = 365
    # Fault detection: the watchdog scans for time-based alerts (offline, stuck sessions,
    # remediation) this often; a disconnected station is offline after the grace period.
    watchdog_interval_s: float = 5.0
    offline_grace_s: float = 60.0
    # Tariffs: running costs of priced sessions are computed this often, sent to 2.0.1
    # stations (CostUpdated, and a display message where the station has a display) and
    # published as transaction.cost events.
    cost_update_interval_s: float = 60.0
    # Bookings: ReserveNow goes out this long before a booked window starts; the driver is
    # reminded this long before; windows last at most this long and start at most this far
    # ahead; a station that could not be reached is tried again this often.
    booking_lead_time_s: float = 900.0
    booking_reminder_s: float = 600.0
    booking_max_duration_s: float = 7200.0
    booking_horizon_s: float = 30 * 86400.0
    booking_retry_s: float = 30.0
    # TLS for security profiles 2 and 3: the server's certificate (PEM, may hold the key too)
    # and, for profile 3, the CA whose client certificates stations must present; their CN
    # must then be the station identity.
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    tls_client_ca: Path | None = None
    # Driver notifications (csms/notifications/). Webhooks: a delivery that fails with a 5xx,
    # 408/429, a timeout or a connection error is retried after backoff, doubling up to the
    # cap, and dead-lettered after max attempts (an operator may redeliver it). Receivers on
    # loopback or private addresses are refused unless allowed (labs, tests).
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = 10
    webhook_backoff_s: float = 5.0
    webhook_backoff_max_s: float = 3600.0
    webhook_concurrency: int = 16
    webhook_allow_private: bool = False
    # The same dedup key within the window is dropped; each account and kind may send a burst
    # of this many, then one per refill interval (beyond that, the latest one waits and
    # replaces any that waited before it: coalesced, never queued without bound).
    notification_dedup_window_s: float = 3600.0
    notification_burst: int = 10
    notification_refill_s: float = 10.0
    # How often held notifications are released and session updates fall due.
    notification_tick_s: float = 1.0
    # Notifications (with their delivery log) are kept this long, then purged; a delivery still
    # pending is kept until it ends.
    notification_retention_days: float = 90.0
    # Approaching: a driver this close to a station has arrived (no more updates about it).
    approach_arrived_km: float = 0.1
    # Payments: the hold placed when a driver with an account is identified, where the tariff
    # names no pre-authorisation amount (in the tariff's currency, else the account's); a hold
    # from an Authorize that no session used is released after payment_unused_hold_s; the
    # payment scan (unused holds, sessions that ended while the CSMS was down) runs this often.
    payment_default_hold: Decimal = Decimal("50.00")
    payment_unused_hold_s: float = 900.0
    payment_scan_interval_s: float = 60.0

    @property
    def unknown_station_policy(self) -> UnknownStations:
        if self.unknown_stations is not None:
            return self.unknown_stations
        return UnknownStations.ACCEPT if is_loopback(self.host) else UnknownStations.REJECT
