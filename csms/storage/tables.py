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
    Column("connector_type", String(32)),
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
)
Index("ix_station_events_station_kind", station_events.c.station_id, station_events.c.kind)

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

local_list = Table(
    "local_list", metadata,
    # The CSMS's authorisation list and the version each station holds.
    Column("station_id", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("entries", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False, default=_now),
)
