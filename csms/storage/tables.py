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
# Prices are decimal text ("0.4567"), never floats. Versions and assignments are never changed
# in place (an assignment only gets its valid_to): a session is priced with what was in force
# at its start, found in memory, so nothing is written when a transaction starts.

tariffs = Table(
    "tariffs", metadata,
    Column("id", String(64), primary_key=True),  # chosen by the operator: "standard-ac"
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("created_by", String(100)),
)

tariff_versions = Table(
    "tariff_versions", metadata,
    Column("tariff_id", String(64), ForeignKey("tariffs.id", ondelete="CASCADE"),
           primary_key=True),
    Column("version", Integer, primary_key=True),  # 1, 2, ...
    Column("valid_from", UtcDateTime, nullable=False),
    Column("name", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),  # IANA: where band times are read
    Column("energy_price_per_kwh", String(32), nullable=False),
    Column("time_price_per_min", String(32), nullable=False),
    Column("idle_price_per_min", String(32), nullable=False),
    Column("idle_grace_min", String(32), nullable=False),
    Column("session_fee", String(32), nullable=False),
    Column("vat_percent", String(32), nullable=False),
    Column("no_show_fee", String(32)),
    Column("preauth_amount", String(32)),
    # [{name, days: [mon..sun], start: "HH:MM", end: "HH:MM", energy_price_per_kwh,
    #   time_price_per_min}] with prices as text or null
    Column("bands", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("created_by", String(100)),
)

tariff_assignments = Table(
    "tariff_assignments", metadata,
    # Which tariff applies where and when: a connector, an EVSE, a station, or (station null)
    # the default; the most specific one in force at a session's start wins.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tariff_id", String(64), ForeignKey("tariffs.id", ondelete="CASCADE"),
           nullable=False),
    Column("station_id", String(255)),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime),  # null: until replaced or removed
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("created_by", String(100)),
)
Index("ix_tariff_assignments_station", tariff_assignments.c.station_id)

charging_states = Table(
    "charging_states", metadata,
    # chargingState changes of priced 2.0.1 transactions (only changes, only where a tariff
    # applies): the charging periods that time prices and idle fees are measured on.
    Column("transaction_id", BigInteger().with_variant(Integer, "sqlite"),
           ForeignKey("transactions.id", ondelete="CASCADE"), primary_key=True),
    Column("at", UtcDateTime, primary_key=True),  # the station's time of the event
    Column("state", String(20), primary_key=True),  # Charging, EVConnected, SuspendedEV, ...
)

# Accounts and payments (csms/domain/accounts.py, csms/payments/)
# Money is stored as decimal text ("12.34"), never as a float: SQLite keeps NUMERIC as a
# double, and an amount must read back exactly as written on both databases.

accounts = Table(
    "accounts", metadata,
    Column("id", String(64), primary_key=True),  # the driver account id everything links to
    Column("name", String(100), nullable=False),
    Column("email", String(254), nullable=False),
    Column("currency", String(3), nullable=False),  # ISO 4217: statements, default holds
    Column("status", String(16), nullable=False),  # active, suspended
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)
Index("ix_accounts_email", accounts.c.email)

payment_methods = Table(
    "payment_methods", metadata,
    # A card as the provider's reference to it: never the card number.
    Column("id", String(40), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("provider", String(32), nullable=False),
    Column("reference", String(64), nullable=False),  # the provider's card token
    Column("brand", String(20), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("removed_at", UtcDateTime),
)

payments = Table(
    "payments", metadata,
    # One payment per charging session (hold -> capture / release) or per fee.
    Column("id", String(40), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # session, fee
    Column("status", String(24), nullable=False),  # pending, authorized, declined, captured, ...
    Column("currency", String(3), nullable=False),
    Column("method_id", String(40)),
    Column("provider", String(32), nullable=False),
    Column("authorization_id", String(64)),  # the provider's hold
    Column("capture_id", String(64)),  # the provider's capture
    Column("amount_held", String(32), nullable=False, default="0"),
    Column("amount_captured", String(32), nullable=False, default="0"),
    Column("amount_refunded", String(32), nullable=False, default="0"),
    Column("amount_outstanding", String(32), nullable=False, default="0"),  # owed, not paid
    Column("amount_due", String(32)),  # the final cost (sessions) or the fee
    Column("station_id", String(255)),
    Column("evse_id", Integer),
    Column("transaction_id", String(36)),  # the OCPP transaction id at station_id
    Column("id_token", String(255)),
    Column("reason", String(255)),  # what a fee is for, or why it was declined
    Column("decline_code", String(40)),  # insufficient_funds, expired_card, do_not_honor, ...
    Column("idempotency_key", String(128), unique=True),
    Column("stop_requested_at", UtcDateTime),  # the CSMS stopped the session: not paid for
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
    Column("settled_at", UtcDateTime),  # captured, released or found unpaid
)
Index("ix_payments_session", payments.c.station_id, payments.c.transaction_id)
Index("ix_payments_status", payments.c.status)
Index("ix_payments_settled_at", payments.c.settled_at)

payment_refunds = Table(
    "payment_refunds", metadata,
    Column("id", String(40), primary_key=True),
    Column("payment_id", String(40), ForeignKey("payments.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("status", String(16), nullable=False),  # pending, succeeded, refused
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(255), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("provider_refund_id", String(64)),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
)
Index("ix_payment_refunds_created_at", payment_refunds.c.created_at)

payment_provider_events = Table(
    "payment_provider_events", metadata,
    # What the payment provider told the CSMS on its own (holds approved, captured, expired,
    # refunds settled): the log a webhook would fill with a real provider.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("provider", String(32), nullable=False),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("payment_id", String(40), index=True),
    Column("data", JSON, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

receipts = Table(
    "receipts", metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("payment_id", String(40), nullable=False, unique=True),
    Column("station_id", String(255), nullable=False),
    Column("transaction_id", String(36), nullable=False),
    Column("evse_id", Integer),
    Column("currency", String(3), nullable=False),
    Column("net", String(32), nullable=False),
    Column("vat_percent", String(16), nullable=False),
    Column("vat", String(32), nullable=False),
    Column("total", String(32), nullable=False),  # the session's cost, VAT included
    Column("paid", String(32), nullable=False),
    Column("outstanding", String(32), nullable=False),
    Column("energy_wh", Float),  # for the driver's eyes; the money is in lines and total
    Column("started_at", UtcDateTime),
    Column("stopped_at", UtcDateTime),
    Column("tariff_id", String(64)),
    Column("tariff_version", Integer),
    Column("lines", JSON, nullable=False),  # the pricing lines, amounts as decimal text
    Column("issued_at", UtcDateTime, nullable=False),
    UniqueConstraint("station_id", "transaction_id", name="uq_receipts_session"),
)
Index("ix_receipts_issued_at", receipts.c.issued_at)

# The built-in test payment provider's own books (csms/payments/test_provider.py): what a card
# processor keeps on its side, here in the CSMS's database so a restart loses nothing.
test_provider_cards = Table(
    "test_provider_cards", metadata,
    Column("reference", String(64), primary_key=True),
    Column("brand", String(20), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("behaviour", String(32)),  # a test card's scripted decline, e.g. insufficient_funds
    # Spending room left: holds take from it, releases and refunds give back. The test
    # provider converts no currencies: it counts amounts in any currency alike.
    Column("available", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
)

test_provider_operations = Table(
    "test_provider_operations", metadata,
    Column("id", String(40), primary_key=True),  # auth_..., cap_..., rel_..., inc_..., ref_...
    Column("kind", String(16), nullable=False),  # authorization, increment, capture, ...
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("fingerprint", String(64), nullable=False),  # what the request asked for
    Column("card_reference", String(64), nullable=False),
    Column("parent_id", String(40)),  # the authorization (or, for a refund, the capture)
    Column("status", String(16), nullable=False),  # authorized, declined, captured, ...
    Column("currency", String(3), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("held", String(32), nullable=False, default="0"),  # an authorization's live hold
    Column("captured", String(32), nullable=False, default="0"),
    Column("refunded", String(32), nullable=False, default="0"),  # a capture's refunds
    Column("decline_code", String(32)),
    Column("result", JSON, nullable=False),  # the answer, repeated for the same key
    Column("expires_at", UtcDateTime),  # an authorization's hold lapses then
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)
Index("ix_test_provider_operations_parent", test_provider_operations.c.parent_id)

# Bookings (csms/domain/bookings.py)

bookings = Table(
    "bookings", metadata,
    # A driver's booking of one EVSE for a time window; reserved on the station (ReserveNow,
    # ``reservations``) a lead time before it starts.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("station_id", String(255), nullable=False),
    Column("evse_id", Integer, nullable=False),
    Column("connector_type", String(32)),  # asked for (2.0.1 ReserveNow connectorType)
    Column("id_token", String(255), nullable=False),  # the account's token it is reserved for
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    # pending, reserved, used, cancelled, expired, no_show, failed
    Column("status", String(16), nullable=False),
    Column("reservation_id", Integer),  # the OCPP reservationId, once sent
    Column("transaction_id", String(36)),  # the transaction that used it
    Column("detail", String(255)),  # why it failed, or what went wrong on the way
    Column("reserve_attempted_at", UtcDateTime),  # last ReserveNow attempt (retries)
    Column("reminded_at", UtcDateTime),
    Column("no_show_fee", String(32)),  # Decimal as text, in fee_currency
    Column("fee_currency", String(3)),
    Column("fee_payment_id", String(64)),
    Column("fee_status", String(32)),  # the payment's outcome
    Column("cancelled_by", String(100)),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
    Column("ended_at", UtcDateTime),
)
Index("ix_bookings_station_evse", bookings.c.station_id, bookings.c.evse_id, bookings.c.starts_at)
Index("ix_bookings_account", bookings.c.account_id, bookings.c.starts_at)
Index("ix_bookings_status", bookings.c.status)

# Notifications (csms/notifications/)

notification_subscriptions = Table(
    "notification_subscriptions", metadata,
    # What a driver wants to hear about: a matching connector turning free near a place
    # (availability), or near wherever the driver is as they post positions (approaching).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # availability, approaching
    Column("connector_type", String(32)),  # None: any type
    Column("min_power_w", Float),  # None: any power
    Column("latitude", Float),  # availability: the place; approaching: none (the driver)
    Column("longitude", Float),
    Column("radius_km", Float, nullable=False),
    Column("label", String(100)),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
)

notification_settings = Table(
    "notification_settings", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("session_update_interval_s", Integer),  # energy and cost updates; None: none
    Column("muted_kinds", JSON),  # kinds or kind prefixes the driver does not want
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)

notification_webhooks = Table(
    "notification_webhooks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("url", String(2048), nullable=False),
    # The HMAC key deliveries are signed with; kept in clear because signing needs it.
    Column("secret", String(128), nullable=False),
    Column("kinds", JSON),  # kind prefixes to deliver; None: all
    Column("created_at", UtcDateTime, nullable=False, default=_now),
)

notifications = Table(
    "notifications", metadata,
    # Every notification accepted for a driver (the outbox: deliveries are made from it, so a
    # restart loses none), and those held back by the rate limit or coalesced away.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    Column("dedup_key", String(200)),
    Column("state", String(16), nullable=False),  # sent, held (rate limited), coalesced
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
)
Index("ix_notifications_account", notifications.c.account_id, notifications.c.id)
Index("ix_notifications_created_at", notifications.c.created_at)
Index("ix_notifications_state", notifications.c.state)

notification_deliveries = Table(
    "notification_deliveries", metadata,
    # One notification to one webhook, retried with back-off until delivered or dead-lettered.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("notification_id", BigInteger().with_variant(Integer, "sqlite"),
           ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("webhook_id", Integer, nullable=False),  # kept after the webhook is deleted
    Column("account_id", String(64), nullable=False),
    Column("url", String(2048), nullable=False),  # where it went (the webhook may change)
    Column("state", String(16), nullable=False),  # pending, delivered, dead, cancelled
    Column("attempts", Integer, nullable=False, default=0),  # in the current round
    Column("next_attempt_at", UtcDateTime),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("dead_at", UtcDateTime),
    Column("redelivered_by", String(100)),  # the operator who last sent a dead letter again
)
Index("ix_notification_deliveries_state", notification_deliveries.c.state,
      notification_deliveries.c.id)
Index("ix_notification_deliveries_account", notification_deliveries.c.account_id)

notification_attempts = Table(
    "notification_attempts", metadata,
    # The delivery log: every attempt to deliver to a webhook, as it went.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("delivery_id", BigInteger().with_variant(Integer, "sqlite"),
           ForeignKey("notification_deliveries.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Float),
    Column("error", String(500)),
    Column("outcome", String(16), nullable=False),  # delivered, retry, dead
)

# User support (csms/domain/support.py)

support_tickets = Table(
    "support_tickets", metadata,
    # A driver's problem and what was done about it (csms/support/). Status life and its
    # allowed transitions: csms/support/workflow.py.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("category", String(20), nullable=False),  # cable_stuck, wont_start, wrong_charge, ...
    Column("status", String(24), nullable=False),  # open, in_progress, waiting_for_driver, ...
    Column("subject", String(200), nullable=False),
    # What it is about: a station (and connector), a session, a payment; each optional.
    Column("station_id", String(255)),
    Column("evse_id", Integer),
    Column("connector_id", Integer),
    Column("transaction_id", String(36)),  # the OCPP transaction id at station_id
    Column("payment_id", String(64)),
    Column("assignee", String(100)),  # the agent's API token name
    Column("opened_by", String(100), nullable=False),
    Column("opened_by_role", String(16), nullable=False),
    Column("facts", JSON),  # the gathered facts, as last collected
    Column("facts_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False, default=_now),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
)
Index("ix_support_tickets_status", support_tickets.c.status, support_tickets.c.updated_at)
Index("ix_support_tickets_account", support_tickets.c.account_id)
Index("ix_support_tickets_station", support_tickets.c.station_id)

support_messages = Table(
    "support_messages", metadata,
    # A ticket's thread, append-only: driver and agent messages, internal notes, status
    # changes, assignments and agent actions (with the station's or provider's answer).
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("support_tickets.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("author", String(100), nullable=False),  # account id or API token name
    Column("author_role", String(16), nullable=False),  # driver, support, operator, admin
    Column("kind", String(16), nullable=False),  # message, note, status, assignment, action
    Column("internal", Boolean, nullable=False, default=False),  # hidden from the driver
    Column("body", Text, nullable=False),
    Column("details", JSON),  # an action's request, answer and outcome
)
