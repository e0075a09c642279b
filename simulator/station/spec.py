"""What a simulated station is: its EVSEs and connectors, meter, intervals, transaction and
authorisation behaviour, as frozen data (a scenario's station entry becomes one of these).

Values a CSMS may change at run time (intervals, measurands, TxStart/StopPoint, auth switches)
start from here and then live in the station's settings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from chargeloop.ocppj import OcppVersion
from simulator.station.settings import SettingsSeed

ChargeKind = Literal["AC", "DC"]

# OCPP 2.0.1 TxStartPoint / TxStopPoint values (1.6 behaves as PowerPathClosed for both).
TX_POINTS: tuple[str, ...] = ("ParkingBayOccupancy", "EVConnected", "Authorized", "DataSigned",
                              "PowerPathClosed", "EnergyTransfer")

DEFAULT_SAMPLED = ("Energy.Active.Import.Register", "Power.Active.Import")
DEFAULT_ALIGNED = ("Energy.Active.Import.Register",)


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """One connector of an EVSE: its OCPP 2.0.1 ConnectorEnumType (``cType2``, ``cCCS2``,
    ``sType2``, ...) and whether the cable is fixed (then it cannot be unlocked)."""

    id: int = 1
    type: str = "cType2"
    fixed_cable: bool = True


@dataclass(frozen=True, slots=True)
class EvseSpec:
    """One EVSE: what it can deliver and the connectors that share it (one at a time)."""

    id: int
    max_power_w: float = 11_000.0
    kind: ChargeKind = "AC"
    phases: int = 3
    connectors: tuple[ConnectorSpec, ...] = (ConnectorSpec(),)

    def __post_init__(self) -> None:
        if self.id < 1:
            raise ValueError(f"EVSE ids start at 1, not {self.id}")
        if not (math.isfinite(self.max_power_w) and self.max_power_w > 0):
            raise ValueError(f"EVSE {self.id}: max_power_w must be > 0")
        if self.kind not in ("AC", "DC"):
            raise ValueError(f"EVSE {self.id}: kind must be AC or DC, not {self.kind!r}")
        if self.phases not in (1, 2, 3):
            raise ValueError(f"EVSE {self.id}: phases must be 1, 2 or 3")
        if not self.connectors:
            raise ValueError(f"EVSE {self.id}: needs at least one connector")


@dataclass(frozen=True, slots=True)
class MeterSpec:
    nominal_voltage_v: float = 230.0
    frequency_hz: float = 50.0
    noise: float = 0.0
    start_wh: float = 0.0
    signed: bool = False  # OCMF-signed energy register readings


@dataclass(frozen=True, slots=True)
class StationSpec:
    id: str
    version: OcppVersion = OcppVersion.V201
    evses: tuple[EvseSpec, ...] = (EvseSpec(1),)
    vendor: str = "chargeloop"
    model: str = "SimStation"
    serial_number: str | None = None
    firmware_version: str = "1.0.0"
    password: str | None = None
    meter: MeterSpec = field(default_factory=MeterSpec)
    # timing (s); the CSMS's boot answer sets the heartbeat interval
    heartbeat_interval_s: int = 300
    meter_sample_interval_s: int = 60
    clock_aligned_interval_s: int = 900
    sampled_measurands: tuple[str, ...] = DEFAULT_SAMPLED
    aligned_measurands: tuple[str, ...] = DEFAULT_ALIGNED
    connection_timeout_s: int = 120  # plug in within this after authorising / a remote start
    start_jitter_s: float = 10.0  # the first connect comes uniformly within this
    boot_retry_s: int = 60  # retry a Pending/Rejected boot after this if the CSMS gave 0
    reboot_s: float = 10.0  # a reset takes this long before the station connects again
    call_timeout_s: float = 30.0
    # OCPP 2.0.1 transaction points (1.6 always starts and stops as PowerPathClosed)
    tx_start_points: tuple[str, ...] = ("PowerPathClosed",)
    tx_stop_points: tuple[str, ...] = ("PowerPathClosed",)
    # authorisation
    authorize_remote_start: bool = False  # AuthorizeRemoteTxRequests / AuthorizeRemoteStart
    local_pre_authorize: bool = True  # accept cached / local-list tokens without asking
    local_authorize_offline: bool = True
    allow_offline_tx_for_unknown_id: bool = False
    stop_tx_on_invalid_id: bool = True
    stop_tx_on_ev_side_disconnect: bool = True
    # offline behaviour
    offline_queue_size: int = 1000
    transaction_message_attempts: int = 3
    transaction_message_retry_s: int = 60
    retry_backoff_min_s: float = 3.0  # RetryBackOffWaitMinimum
    retry_backoff_random_s: float = 10.0  # RetryBackOffRandomRange
    retry_backoff_repeat: int = 5  # RetryBackOffRepeatTimes
    # 2.0.1: also send NotifyEvent (AvailabilityState) with every connector status
    notify_event_on_status: bool = False
    # 2.0.1: a single EVSE can be reset (Reset with evseId); else such a Reset is Rejected
    evse_reset: bool = True
    # 2.0.1 transaction ids are made by the station: this prefix, then a counter (give each run
    # its own prefix when a persistent CSMS sees the same stations run after run)
    transaction_id_prefix: str = ""
    # further settings (SettingsSeed fields, e.g. {"local_list_enabled": False})
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a station needs an id")
        object.__setattr__(self, "version", OcppVersion.parse(str(self.version)))
        if self.version not in (OcppVersion.V16, OcppVersion.V201):
            raise ValueError(f"{self.id}: the simulated station speaks 1.6 or 2.0.1, "
                             f"not {self.version.short}")
        ids = [e.id for e in self.evses]
        if not ids or sorted(ids) != list(range(1, len(ids) + 1)):
            raise ValueError(f"{self.id}: EVSE ids must be 1..n, got {ids}")
        for points, name in ((self.tx_start_points, "tx_start_points"),
                             (self.tx_stop_points, "tx_stop_points")):
            unknown = [p for p in points if p not in TX_POINTS]
            if unknown or not points:
                raise ValueError(f"{self.id}: {name} must be some of {', '.join(TX_POINTS)}; "
                                 f"got {points}")
        if self.version is OcppVersion.V16 and any(len(e.connectors) != 1 for e in self.evses):
            raise ValueError(f"{self.id}: an OCPP 1.6 station has one connector per EVSE "
                             "(1.6 connector n is EVSE n)")

        seed_fields = {f.name for f in fields(SettingsSeed)}
        unknown = sorted(set(self.settings) - seed_fields)
        if unknown:
            raise ValueError(f"{self.id}: unknown settings {', '.join(unknown)}; valid: "
                             f"{', '.join(sorted(seed_fields))}")

    def evse(self, evse_id: int) -> EvseSpec:
        return self.evses[evse_id - 1]

    def settings_seed(self) -> SettingsSeed:
        """The station's starting settings (1.6 configuration keys / 2.0.1 device model)."""
        values: dict[str, Any] = {
            "station_id": self.id, "vendor": self.vendor, "model": self.model,
            "evse_connectors": tuple(tuple(c.type for c in e.connectors) for e in self.evses),
            "evse_max_power_w": max(e.max_power_w for e in self.evses),
            "supply_phases": max(e.phases for e in self.evses),
            "heartbeat_interval_s": self.heartbeat_interval_s,
            "sample_interval_s": self.meter_sample_interval_s,
            "aligned_interval_s": self.clock_aligned_interval_s,
            "sampled_measurands": self.sampled_measurands,
            "tx_started_measurands": ("Energy.Active.Import.Register",),
            "tx_ended_measurands": ("Energy.Active.Import.Register",),
            "aligned_measurands": self.aligned_measurands,
            "tx_start_points": self.tx_start_points, "tx_stop_points": self.tx_stop_points,
            "authorize_remote_start": self.authorize_remote_start,
            "local_pre_authorize": self.local_pre_authorize,
            "local_authorize_offline": self.local_authorize_offline,
            "allow_offline_tx_for_unknown_id": self.allow_offline_tx_for_unknown_id,
            "stop_tx_on_invalid_id": self.stop_tx_on_invalid_id,
            "stop_tx_on_ev_side_disconnect": self.stop_tx_on_ev_side_disconnect,
            "ev_connection_timeout_s": self.connection_timeout_s,
            "transaction_message_attempts": self.transaction_message_attempts,
            "transaction_message_retry_interval_s": self.transaction_message_retry_s,
            "message_timeout_s": max(1, round(self.call_timeout_s)),
            "retry_backoff_wait_minimum_s": round(self.retry_backoff_min_s),
            "retry_backoff_random_range_s": round(self.retry_backoff_random_s),
            "retry_backoff_repeat_times": self.retry_backoff_repeat,
            "basic_auth_password": self.password,
            "security_profile": 1 if self.password else 0,
        }
        values.update(self.settings)
        return SettingsSeed(**values)
