"""The CSMS's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

Times are stored in UTC; :class:`UtcDateTime` makes sure nothing naive or local gets in or out.
Energy is in Wh, power in W, as everywhere in chargeloop's code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: chargeloop stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


stations = Table(
    "stations", metadata,
    Column("id", String(255), primary_key=True),  # the OCPP identity
    Column("ocpp_version", String(16)),
    Column("registration", String(16), nullable=False, default="Accepted"),
    Column("vendor", String(50)),
    Column("model", String(50)),
    Column("serial_number", String(50)),
    Column("firmware_version", String(50)),
    Column("iccid", String(20)),
    Column("imsi", String(20)),
    Column("meter_type", String(25)),
    Column("meter_serial_number", String(25)),
    Column("boot_reason", String(32)),
    Column("security_profile", Integer, nullable=False, default=0),
    Column("password_hash", String(255)),
    Column("connected", Boolean, nullable=False, default=False),
    Column("connected_since", UtcDateTime),
    Column("last_seen", UtcDateTime),
    Column("last_boot", UtcDateTime),
    Column("clock_skew_s", Float),
    Column("firmware_status", String(40)),
    Column("diagnostics_status", String(40)),
    Column("local_list_version", Integer),
    Column("heartbeat_interval_s", Integer),
    # Where drivers find it (station search, "a free charger near me").
    Column("name", String(100)),
    Column("address", String(255)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
)

connectors = Table(
    "connectors", metadata,
    Column("station_id", String(255), ForeignKey("stations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("evse_id", Integer, primary_key=True),  # 0 is the station as a whole
    Column("connector_id", Integer, primary_key=True),  # 0 is the EVSE as a whole
    Column("status", String(32)),
    Column("error_code", String(50)),
    Column("vendor_error_code", String(255)),
    Column("info", String(255)),
    Column("status_time", UtcDateTime),  # the station's own timestamp
    Column("updated_at", UtcDateTime),
    Column("availability", String(16)),  # Operative / Inoperative as last requested
    Column("availability_pending", String(16)),  # requested, answered Scheduled, not yet in force
    Column("connector_type", String(32)),
    Column("max_power_w", Float),  # what the connector can deliver, for station search
)

status_history = Table(
    "status_history", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("station_id", String(255), nullable=False, index=True),
    Column("evse_id", Integer, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("error_code", String(50)),
    Column("info", String(255)),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("late", Boolean, nullable=False, default=False),
)

id_tokens = Table(
    "id_tokens", metadata,
    Column("token", String(255), primary_key=True),
    Column("type", String(20), nullable=False, default="ISO14443"),
    Column("status", String(20), nullable=False, default="Accepted"),  # Accepted, Blocked, ...
    Column("group_id", String(255)),
    Column("expiry", UtcDateTime),
    Column("account_id", String(64)),  # linked driver account (payments issue)
    Column("language", String(8)),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

transactions = Table(
    "transactions", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("station_id", String(255), nullable=False),
    # 1.6: the integer the CSMS issued, as text; 2.0.1: the station's transactionId.
    Column("ocpp_transaction_id", String(36), nullable=False),
    Column("ocpp_version", String(16), nullable=False),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("id_token", String(255)),
    Column("stop_id_token", String(255)),
    Column("group_id", String(255)),
    Column("auth_status", String(20)),
    Column("state", String(16), nullable=False, default="Active"),  # Active, Completed
    Column("charging_state", String(20)),
    Column("started_at", UtcDateTime),
    Column("stopped_at", UtcDateTime),
    Column("meter_start_wh", Float),
    Column("meter_stop_wh", Float),
    Column("last_register_wh", Float),
    Column("last_register_at", UtcDateTime),  # the station's time of last_register_wh
    Column("energy_wh", Float, nullable=False, default=0.0),
    Column("stop_reason", String(32)),
    Column("remote_start_id", Integer),
    Column("reservation_id", Integer),
    Column("last_seq_no", Integer),
    Column("seq_gaps", JSON),  # missing TransactionEvent seqNos
    Column("late", Boolean, nullable=False, default=False),
    Column("last_energy_flow_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
    UniqueConstraint("station_id", "ocpp_transaction_id", name="uq_transactions_station_tx"),
)
Index("ix_transactions_state", transactions.c.state)
Index("ix_transactions_token", transactions.c.id_token)
Index("ix_transactions_started_at", transactions.c.started_at)  # newest first listings

meter_values = Table(
    "meter_values", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("station_id", String(255), nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("transaction_id", BigInteger().with_variant(Integer, "sqlite"),
           ForeignKey("transactions.id", ondelete="SET NULL")),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("measurand", String(64), nullable=False),
    Column("phase", String(8)),
    Column("location", String(8)),
    Column("context", String(32)),
    Column("unit", String(16)),
    Column("value", Float, nullable=False),  # in the SI unit of the measurand (Wh, W, A, V)
    Column("signed_data", Text),
    Column("signing_method", String(50)),
    Column("encoding_method", String(50)),
    Column("public_key", Text),
    Column("late", Boolean, nullable=False, default=False),
    Column("flag", String(32)),  # non_monotonic, register_reset, ...
)
Index("ix_meter_values_tx_time", meter_values.c.transaction_id, meter_values.c.timestamp)
Index("ix_meter_values_station_time", meter_values.c.station_id, meter_values.c.timestamp)

station_variables = Table(
    "station_variables", metadata,
    # 1.6 configuration keys (component "") and 2.0.1 device model variables, one row each.
    Column("station_id", String(255), ForeignKey("stations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("component", String(50), primary_key=True),
    Column("component_instance", String(50), primary_key=True, default=""),
    Column("evse_id", Integer, primary_key=True, default=0),
    Column("connector_id", Integer, primary_key=True, default=0),
    Column("variable", String(50), primary_key=True),
    Column("variable_instance", String(50), primary_key=True, default=""),
    Column("attribute_type", String(16), primary_key=True, default="Actual"),
    Column("value", Text),
    Column("mutability", String(16)),
    Column("characteristics", JSON),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
    # The station's last word on the variable (2.0.1 names: Accepted, Rejected, RebootRequired,
    # UnknownComponent, UnknownVariable, NotSupportedAttributeType), and report flags.
    Column("status", String(32)),
    Column("persistent", Boolean),
    Column("constant", Boolean),
)

device_requests = Table(
    "device_requests", metadata,
    # Requests whose answer comes in parts (GetBaseReport / GetReport -> NotifyReport,
    # GetDisplayMessages -> NotifyDisplayMessages), by the requestId the CSMS gave them.
    Column("station_id", String(255), ForeignKey("stations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("request_id", Integer, primary_key=True),
    Column("action", String(40)),  # GetBaseReport, GetReport, GetDisplayMessages
    Column("criteria", JSON),  # reportBase, or the filters sent
    Column("status", String(32)),  # the station's answer to the request
    Column("started_at", UtcDateTime, nullable=False),
    Column("parts", Integer, nullable=False, default=0),
    Column("seq_nos", JSON),  # NotifyReport seqNos received
    Column("last_seq_no", Integer),  # the seqNo of the part with tbc false
    Column("entries", Integer, nullable=False, default=0),
    Column("generated_at", UtcDateTime),
    Column("complete", Boolean, nullable=False, default=False),
    Column("completed_at", UtcDateTime),
)

display_messages = Table(
    "display_messages", metadata,
    # The messages a station shows (OCPP 2.0.1 block O), as set by the CSMS or reported.
    Column("station_id", String(255), ForeignKey("stations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("message_id", Integer, primary_key=True),
    Column("priority", String(16), nullable=False),
    Column("state", String(16)),
    Column("start_at", UtcDateTime),
    Column("end_at", UtcDateTime),
    Column("transaction_id", String(36)),
    Column("format", String(8), nullable=False),
    Column("language", String(8)),
    Column("content", String(512), nullable=False),
    Column("display", JSON),  # the display component, if one was named
    Column("source", String(16), nullable=False),  # csms (SetDisplayMessage), station (report)
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

remote_starts = Table(
    "remote_starts", metadata,
    # RequestStartTransaction (2.0.1): the remoteStartId the CSMS issued, unique per station;
    # the transaction that carries it is linked through transactions.remote_start_id.
    Column("station_id", String(255), ForeignKey("stations.id", ondelete="CASCADE"),
           primary_key=True),
    Column("remote_start_id", Integer, primary_key=True),
    Column("id_token", String(255), nullable=False),
    Column("evse_id", Integer),
    Column("status", String(16), nullable=False),  # Requested, Accepted, Rejected
    Column("transaction_id", String(36)),  # given in the answer when one was already running
    Column("requested_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
)

reservations = Table(
    "reservations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # the OCPP reservationId
    Column("station_id", String(255), nullable=False, index=True),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("connector_type", String(32)),
    Column("id_token", String(255), nullable=False),
    Column("group_id", String(255)),
    Column("expiry", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # Requested, Accepted, Rejected, Used, ...
    Column("token_type", String(20)),  # 2.0.1 IdTokenEnumType
    Column("transaction_id", String(36)),  # the transaction that used it
    Column("detail", String(255)),  # why it failed or ended
    Column("ended_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

charging_profiles = Table(
    "charging_profiles", metadata,
    Column("station_id", String(255), primary_key=True),
    Column("profile_id", Integer, primary_key=True),
    Column("evse_id", Integer, nullable=False, default=0),
    Column("purpose", String(40), nullable=False),
    Column("stack_level", Integer, nullable=False),
    Column("transaction_id", String(36)),
    Column("profile", JSON, nullable=False),  # as sent on the wire
    Column("status", String(20), nullable=False),  # Accepted, Rejected, Cleared, Reported
    Column("source", String(20), nullable=False, default="csms"),  # csms, station (reported)
    Column("charging_limit_source", String(8)),  # EMS, Other, SO, CSO (as reported)
    Column("reported_at", UtcDateTime),  # last seen in a ReportChargingProfiles
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

station_events = Table(
    "station_events", metadata,
    # Everything a station reports that is not a status or a meter value: security events,
    # NotifyEvent, firmware and log status, data transfers, display messages, reports.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("station_id", String(255), nullable=False),
    Column("kind", String(40), nullable=False),  # e.g. SecurityEvent, NotifyEvent, Firmware
    Column("timestamp", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("request_id", Integer),
    Column("summary", String(255)),
    Column("payload", JSON, nullable=False),
    # What makes a report the same report again (a retried message): one row per key.
    Column("dedupe_key", String(64)),
)
Index("ix_station_events_station_kind", station_events.c.station_id, station_events.c.kind)
Index("uq_station_events_dedupe", station_events.c.station_id, station_events.c.kind,
      station_events.c.dedupe_key, unique=True)
Index("ix_station_events_station_time", station_events.c.station_id,
      station_events.c.timestamp)

alerts = Table(
    "alerts", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("station_id", String(255), nullable=False, index=True),
    Column("evse_id", Integer),
    Column("kind", String(40), nullable=False),  # faulted, offline, stuck_session, ...
    Column("key", String(255), nullable=False),  # one open alert per key
    Column("severity", String(16), nullable=False),  # info, warning, critical
    Column("message", String(500), nullable=False),
    Column("details", JSON),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("acknowledged_by", String(100)),
    Column("acknowledged_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
)
Index("ix_alerts_open", alerts.c.key, alerts.c.resolved_at)
# At most one open alert per key, whatever the code above the database does.
Index("uq_alerts_open_key", alerts.c.key, unique=True,
      sqlite_where=alerts.c.resolved_at.is_(None),
      postgresql_where=alerts.c.resolved_at.is_(None))
Index("ix_alerts_last_seen", alerts.c.last_seen)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),  # admin, operator, support, driver, read-only
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("subject", String(64)),  # the driver account a driver token belongs to
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("revoked_at", UtcDateTime),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("station_id", String(255)),
    Column("request", JSON),
    Column("response", JSON),
    Column("outcome", String(32), nullable=False),  # answered, callerror, timeout, offline
)
Index("ix_audit_log_station", audit_log.c.station_id)
Index("ix_audit_log_at", audit_log.c.at)

local_list = Table(
    "local_list", metadata,
    # The CSMS's authorisation list and the version each station holds.
    Column("station_id", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("entries", JSON, nullable=False),
    Column("reported_version", Integer),  # the last GetLocalListVersion answer (-1: none)
    Column("reported_at", UtcDateTime),
    Column("last_status", String(20)),  # the last SendLocalList answer
    Column("last_update_type", String(16)),
    Column("last_attempt_at", UtcDateTime),
    Column("cache_cleared_at", UtcDateTime),  # the last accepted ClearCache
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

maintenance_requests = Table(
    "maintenance_requests", metadata,
    # Firmware updates, log / diagnostics uploads and customer information requests, by the
    # requestId their status notifications carry (1.6 UpdateFirmware / GetDiagnostics have
    # none: the CSMS numbers them and relates the station's notifications to the latest one).
    Column("station_id", String(255), primary_key=True),
    Column("kind", String(24), primary_key=True),  # Firmware, Log, CustomerInformation
    Column("request_id", Integer, primary_key=True),
    Column("action", String(40)),  # UpdateFirmware, SignedUpdateFirmware, GetLog, ...
    Column("parameters", JSON),  # the request as sent
    Column("response_status", String(32)),  # the station's answer
    Column("response", JSON),
    Column("status", String(40)),  # the latest status notification
    Column("status_at", UtcDateTime),
    Column("filename", String(255)),
    Column("result", Text),  # customer information, assembled from its parts
    Column("complete", Boolean, nullable=False, default=False),
    Column("actor", String(100)),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

upload_slots = Table(
    "upload_slots", metadata,
    # Where a station may upload a log: /uploads/{token}, issued with the request.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("station_id", String(255), nullable=False, index=True),
    Column("request_id", Integer),
    Column("purpose", String(40), nullable=False),  # Diagnostics, DiagnosticsLog, SecurityLog
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("expires_at", UtcDateTime, nullable=False),
)

uploads = Table(
    "uploads", metadata,
    # Files stations uploaded; the bytes are in CsmsConfig.upload_dir.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("slot_id", Integer, ForeignKey("upload_slots.id", ondelete="CASCADE"),
           nullable=False),
    Column("station_id", String(255), nullable=False, index=True),
    Column("request_id", Integer),
    Column("filename", String(255), nullable=False),
    Column("path", String(1024), nullable=False),  # relative to upload_dir
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(255)),
    Column("remote_addr", String(64)),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("slot_id", "filename", name="uq_uploads_slot_filename"),
)

certificate_authority = Table(
    "certificate_authority", metadata,
    # The CA the CSMS signs station certificates with (row 1), unless configured from files.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("certificate_pem", Text, nullable=False),
    Column("private_key_pem", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
)

station_certificates = Table(
    "station_certificates", metadata,
    # Certificates on stations as the CSMS knows them: issued by its CA (SignCertificate ->
    # CertificateSigned), installed by InstallCertificate, or reported by
    # GetInstalledCertificateIds. Types in 2.0.1 names (CSMSRootCertificate, ...).
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("station_id", String(255), nullable=False, index=True),
    Column("certificate_type", String(40), nullable=False),
    Column("source", String(16), nullable=False),  # issued, installed, reported
    Column("status", String(20), nullable=False),  # Issued, Accepted, Rejected, Installed, ...
    Column("hash_algorithm", String(8)),
    Column("issuer_name_hash", String(128)),
    Column("issuer_key_hash", String(128)),
    Column("serial_number", String(40)),
    Column("subject", String(255)),
    Column("not_before", UtcDateTime),
    Column("not_after", UtcDateTime),
    Column("certificate_pem", Text),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

composite_schedules = Table(
    "composite_schedules", metadata,
    # The last GetCompositeSchedule answer per station and EVSE (smart charging).
    Column("station_id", String(255), primary_key=True),
    Column("evse_id", Integer, primary_key=True),
    Column("status", String(20), nullable=False),  # Accepted, Rejected
    Column("schedule_start", UtcDateTime),
    Column("duration_s", Integer),
    Column("rate_unit", String(1)),  # A or W
    Column("periods", JSON),  # [{start_s, limit, number_phases}]
    Column("response", JSON, nullable=False),  # as answered on the wire
    Column("requested_at", UtcDateTime, nullable=False),
)

charging_limits = Table(
    "charging_limits", metadata,
    # External charging limits a 2.0.1 station reports (NotifyChargingLimit / Cleared...).
    Column("station_id", String(255), primary_key=True),
    Column("evse_id", Integer, primary_key=True),  # 0: the station as a whole
    Column("source", String(8), primary_key=True),  # EMS, Other, SO, CSO
    Column("is_grid_critical", Boolean),
    Column("schedules", JSON),  # chargingSchedule as reported
    Column("reported_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime),
)

ev_charging = Table(
    "ev_charging", metadata,
    # What an ISO 15118 EV asked for and planned, per EVSE (NotifyEVChargingNeeds/Schedule).
    Column("station_id", String(255), primary_key=True),
    Column("evse_id", Integer, primary_key=True),
    Column("requested_energy_transfer", String(20)),
    Column("departure_time", UtcDateTime),
    Column("max_schedule_tuples", Integer),
    Column("needs", JSON),  # chargingNeeds as reported (Wh, A, V, W)
    Column("needs_at", UtcDateTime),
    Column("time_base", UtcDateTime),
    Column("schedule", JSON),  # the EV's chargingSchedule as reported
    Column("schedule_at", UtcDateTime),
)


# -- Drivers (issue 5). Each area keeps its tables in its own section below. -------------------

# Tariffs and pricing (csms/domain/tariffs.py, csms/domain/pricing.py)

# Accounts and payments (csms/domain/accounts.py, csms/payments/)

# Bookings (csms/domain/bookings.py)

# Notifications (csms/notifications/)

# User support (csms/domain/support.py)
