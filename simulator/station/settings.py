"""A simulated station's settings: 1.6 configuration keys or the 2.0.1 device model.

Both are built from one small :class:`SettingsSeed` and expose the same typed properties that the
station's behaviour reads (``heartbeat_interval_s``, ``sampled_measurands``, ``local_pre_authorize``
...), so the station code is version-neutral; only the CSMS-facing requests differ:

* :class:`Configuration16`: GetConfiguration / ChangeConfiguration (1.6 section 9 keys of the Core,
  LocalAuthListManagement, Reservation and SmartCharging profiles and the Security whitepaper).
  Keys are case-insensitive (CiString50). ``AuthorizationKey`` is write-only: a full listing leaves
  it out and asking for it by name gives the key without its value.
* :class:`DeviceModel201`: GetVariables / SetVariables / GetBaseReport / GetReport over components,
  variables and attributes (Actual, Target, MinSet, MaxSet) with mutability and characteristics.
  WriteOnly values (BasicAuthPassword) are never read back or reported (B07.FR.03 errata).

``on_change(callback)`` registers ``callback(name, value)``, called after the CSMS changed a
setting (answer Accepted): ``name`` is the typed property name (``"heartbeat_interval_s"``) with
the typed value, or, for a setting without one, the 1.6 key / ``Component.Variable[instance]`` with
the text value. A change answered RebootRequired is stored and takes effect at the next boot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.timeutil import parse_timestamp

T = TypeVar("T")
ChangeCallback = Callable[[str, Any], None]

MEASURANDS_16 = frozenset({
    "Energy.Active.Export.Register", "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval", "Power.Active.Export",
    "Power.Active.Import", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import",
    "Power.Factor", "Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency",
    "Temperature", "SoC", "RPM"})
MEASURANDS_201 = (MEASURANDS_16 - {"Temperature", "RPM"}) | {
    "Energy.Active.Net", "Energy.Reactive.Net", "Energy.Apparent.Net", "Energy.Apparent.Import",
    "Energy.Apparent.Export"}
# What the simulated meter and vehicle can produce; a setting naming anything else is refused.
SIMULATED_MEASURANDS = (
    "Energy.Active.Import.Register", "Energy.Active.Import.Interval", "Power.Active.Import",
    "Power.Offered", "Power.Factor", "Current.Import", "Current.Offered", "Voltage", "Frequency",
    "SoC")
TX_POINTS = ("ParkingBayOccupancy", "EVConnected", "Authorized", "DataSigned", "PowerPathClosed",
             "EnergyTransfer")
FEATURE_PROFILES_16 = ("Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation",
                       "SmartCharging", "RemoteTrigger")
PHASE_ROTATIONS = ("RST", "RTS", "SRT", "STR", "TRS", "TSR", "NotApplicable", "Unknown")
REPORT_BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
SUMMARY_VARIABLES = frozenset({"availabilitystate", "available", "problem", "enabled", "active",
                               "tripped", "overload", "fallback"})
_INTEGER = re.compile(r"^[+-]?\d+$")
_PASSWORD = re.compile(r"^[\x21-\x7e]{16,40}$")  # passwordString: 16-40 printable, no spaces


@dataclass(frozen=True, slots=True)
class SettingsSeed:
    """What a station starts with (from its StationSpec). Units in the names; measurands and
    TxStart/StopPoints in OCPP spelling; ``features`` in 1.6 feature-profile names (they also
    decide which 2.0.1 controllers exist)."""

    station_id: str = "CS-SIM"
    vendor: str = "chargeloop"
    model: str = "SimStation"
    evse_connectors: tuple[tuple[str, ...], ...] = (("cType2",),)  # connector types per EVSE
    evse_max_power_w: float = 22_080.0
    supply_phases: int = 3
    features: tuple[str, ...] = FEATURE_PROFILES_16
    heartbeat_interval_s: int = 300
    sample_interval_s: int = 60
    aligned_interval_s: int = 900
    sampled_measurands: tuple[str, ...] = ("Energy.Active.Import.Register",
                                           "Power.Active.Import", "Current.Import", "Voltage")
    tx_started_measurands: tuple[str, ...] = ("Energy.Active.Import.Register",)
    tx_ended_measurands: tuple[str, ...] = ("Energy.Active.Import.Register",)
    aligned_measurands: tuple[str, ...] = ("Energy.Active.Import.Register",)
    aligned_tx_ended_measurands: tuple[str, ...] = ()
    supported_measurands: tuple[str, ...] = SIMULATED_MEASURANDS
    tx_start_points: tuple[str, ...] = ("PowerPathClosed",)
    tx_stop_points: tuple[str, ...] = ("EVConnected", "Authorized")
    auth_enabled: bool = True
    authorize_remote_start: bool = False
    local_pre_authorize: bool = False
    local_authorize_offline: bool = True
    allow_offline_tx_for_unknown_id: bool = False
    # 2.0.1 AuthCtrlr.DisableRemoteAuthorization (None: the station does not have it)
    disable_remote_authorization: bool | None = None
    disable_post_authorize: bool = False
    master_pass_group_id: str | None = None
    cache_enabled: bool = True
    cache_lifetime_s: int | None = None
    cache_max_entries: int = 1000
    local_list_enabled: bool = True
    local_list_max_length: int = 1000
    send_local_list_max_length: int = 100
    stop_tx_on_ev_side_disconnect: bool = True
    stop_tx_on_invalid_id: bool = True
    unlock_on_ev_side_disconnect: bool = True
    tx_before_accepted_enabled: bool = False
    ev_connection_timeout_s: int = 60
    transaction_message_attempts: int = 3
    transaction_message_retry_interval_s: int = 60
    message_timeout_s: int = 30
    offline_threshold_s: int = 60
    reset_retries: int = 1
    websocket_ping_interval_s: int = 0
    retry_backoff_wait_minimum_s: int = 5
    retry_backoff_random_range_s: int = 10
    retry_backoff_repeat_times: int = 5
    security_profile: int = 0
    basic_auth_password: str | None = None
    has_client_certificate: bool = False
    cpo_name: str | None = None
    max_stack_level: int = 10
    max_schedule_periods: int = 24
    max_charging_profiles: int = 20
    rate_units: tuple[str, ...] = ("A", "W")
    reserve_any_evse: bool = False  # 1.6 ReserveConnectorZeroSupported, 2.0.1 NonEvseSpecific
    reservation_enabled: bool = True
    get_configuration_max_keys: int = 100
    items_per_message: int = 50  # 2.0.1 DeviceDataCtrlr.ItemsPerMessage[*]
    bytes_per_message: int = 65_536
    report_bases: tuple[str, ...] = REPORT_BASES
    reboot_required: frozenset[str] = frozenset()  # keys / "Component.Variable" answered so


class _Setting(Generic[T]):
    """A typed, read-only view of one setting, whichever version holds it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: StationSettings | None, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        value: T = obj.typed(self.name)
        return value


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _csl(values: Iterable[str]) -> str:
    return ",".join(values)


def _parse(kind: str, text: str | None) -> Any:
    if kind == "int":
        return int(text) if text not in (None, "") else 0
    if kind == "optint":
        return int(text) if text not in (None, "") else None
    if kind == "bool":
        return (text or "").strip().lower() == "true"
    if kind == "list":
        return tuple(p.strip() for p in (text or "").split(",") if p.strip())
    if kind == "units":
        names = {"Current": "A", "Power": "W", "A": "A", "W": "W"}
        return tuple(names[p.strip()] for p in (text or "").split(",") if p.strip() in names)
    if kind == "optstr":
        return text or None
    return text


# Typed property -> value kind. Where a version has no setting for it, the seed decides.
PROPERTY_KINDS: dict[str, str] = {
    "heartbeat_interval_s": "int", "sample_interval_s": "int", "aligned_interval_s": "int",
    "sampled_measurands": "list", "tx_started_measurands": "list", "tx_ended_measurands": "list",
    "tx_ended_interval_s": "int", "aligned_measurands": "list",
    "aligned_tx_ended_measurands": "list", "aligned_tx_ended_interval_s": "int",
    "aligned_send_during_idle": "bool", "tx_start_points": "list", "tx_stop_points": "list",
    "sampled_sign_readings": "bool", "aligned_sign_readings": "bool",
    "allow_new_sessions_pending_firmware": "bool",
    "ev_connection_timeout_s": "int", "stop_tx_on_ev_side_disconnect": "bool",
    "stop_tx_on_invalid_id": "bool", "max_energy_on_invalid_id_wh": "optint",
    "tx_before_accepted_enabled": "bool", "unlock_on_ev_side_disconnect": "bool",
    "auth_enabled": "bool", "authorize_remote_start": "bool", "local_pre_authorize": "bool",
    "local_authorize_offline": "bool", "allow_offline_tx_for_unknown_id": "bool",
    "disable_remote_authorization": "bool",
    "master_pass_group_id": "optstr", "cache_enabled": "bool", "cache_lifetime_s": "optint",
    "cache_max_entries": "int", "cache_disable_post_authorize": "bool",
    "local_list_supported": "bool", "local_list_enabled": "bool",
    "local_list_max_length": "int", "send_local_list_max_length": "int",
    "local_list_disable_post_authorize": "bool", "transaction_message_attempts": "int",
    "transaction_message_retry_interval_s": "int", "message_timeout_s": "int",
    "offline_threshold_s": "int", "reset_retries": "int", "websocket_ping_interval_s": "int",
    "retry_backoff_wait_minimum_s": "int", "retry_backoff_random_range_s": "int",
    "retry_backoff_repeat_times": "int", "security_profile": "int",
    "basic_auth_password": "optstr", "cpo_name": "optstr", "smart_charging_enabled": "bool",
    "max_stack_level": "int", "max_schedule_periods": "int", "max_charging_profiles": "int",
    "rate_units": "units", "reservation_enabled": "bool", "reserve_any_evse": "bool",
    "get_configuration_max_keys": "int", "items_per_message": "int",
}


def _seed_value(seed: SettingsSeed, prop: str) -> Any:
    """A property's value straight from the seed (for settings a version does not have)."""
    derived: dict[str, Any] = {
        "cache_disable_post_authorize": seed.disable_post_authorize,
        "local_list_disable_post_authorize": seed.disable_post_authorize,
        "disable_remote_authorization": bool(seed.disable_remote_authorization),
        "local_list_supported": "LocalAuthListManagement" in seed.features,
        "smart_charging_enabled": "SmartCharging" in seed.features,
        "reservation_enabled": seed.reservation_enabled and "Reservation" in seed.features,
        "tx_ended_interval_s": 0,
        "aligned_tx_ended_interval_s": seed.aligned_interval_s,
        "aligned_send_during_idle": False,  # 1.6: clock-aligned values during transactions
        "sampled_sign_readings": False,  # 1.6: signed only by a signing meter (spec)
        "aligned_sign_readings": False,
        "allow_new_sessions_pending_firmware": True,  # 1.6: no such rule
        "max_energy_on_invalid_id_wh": None,
    }
    if prop in derived:
        return derived[prop]
    return getattr(seed, prop)


class StationSettings:
    """What both versions offer the station: typed properties and change callbacks."""

    heartbeat_interval_s = _Setting[int]()
    sample_interval_s = _Setting[int]()  # 0: no sampled meter values
    aligned_interval_s = _Setting[int]()  # 0: no clock-aligned meter values
    sampled_measurands = _Setting[tuple[str, ...]]()
    tx_started_measurands = _Setting[tuple[str, ...]]()
    tx_ended_measurands = _Setting[tuple[str, ...]]()
    tx_ended_interval_s = _Setting[int]()
    aligned_measurands = _Setting[tuple[str, ...]]()
    aligned_tx_ended_measurands = _Setting[tuple[str, ...]]()
    aligned_tx_ended_interval_s = _Setting[int]()
    aligned_send_during_idle = _Setting[bool]()
    sampled_sign_readings = _Setting[bool]()  # 2.0.1 SampledDataCtrlr.SignReadings
    aligned_sign_readings = _Setting[bool]()  # 2.0.1 AlignedDataCtrlr.SignReadings
    # 2.0.1 ChargingStation.AllowNewSessionsPendingFirmwareUpdate (L01.FR.07)
    allow_new_sessions_pending_firmware = _Setting[bool]()
    tx_start_points = _Setting[tuple[str, ...]]()  # 2.0.1 TxStartPoint (1.6: from the seed)
    tx_stop_points = _Setting[tuple[str, ...]]()
    ev_connection_timeout_s = _Setting[int]()
    stop_tx_on_ev_side_disconnect = _Setting[bool]()
    stop_tx_on_invalid_id = _Setting[bool]()
    max_energy_on_invalid_id_wh = _Setting[int | None]()
    tx_before_accepted_enabled = _Setting[bool]()
    unlock_on_ev_side_disconnect = _Setting[bool]()
    auth_enabled = _Setting[bool]()
    authorize_remote_start = _Setting[bool]()
    local_pre_authorize = _Setting[bool]()
    local_authorize_offline = _Setting[bool]()
    disable_remote_authorization = _Setting[bool]()
    allow_offline_tx_for_unknown_id = _Setting[bool]()
    master_pass_group_id = _Setting[str | None]()
    cache_enabled = _Setting[bool]()
    cache_lifetime_s = _Setting[int | None]()
    cache_max_entries = _Setting[int]()
    cache_disable_post_authorize = _Setting[bool]()
    local_list_supported = _Setting[bool]()
    local_list_enabled = _Setting[bool]()
    local_list_max_length = _Setting[int]()
    send_local_list_max_length = _Setting[int]()
    local_list_disable_post_authorize = _Setting[bool]()
    transaction_message_attempts = _Setting[int]()
    transaction_message_retry_interval_s = _Setting[int]()
    message_timeout_s = _Setting[int]()
    offline_threshold_s = _Setting[int]()
    reset_retries = _Setting[int]()
    websocket_ping_interval_s = _Setting[int]()
    retry_backoff_wait_minimum_s = _Setting[int]()
    retry_backoff_random_range_s = _Setting[int]()
    retry_backoff_repeat_times = _Setting[int]()
    security_profile = _Setting[int]()
    basic_auth_password = _Setting[str | None]()  # 1.6 AuthorizationKey
    cpo_name = _Setting[str | None]()
    smart_charging_enabled = _Setting[bool]()
    max_stack_level = _Setting[int]()
    max_schedule_periods = _Setting[int]()
    max_charging_profiles = _Setting[int]()
    rate_units = _Setting[tuple[str, ...]]()  # ("A", "W")
    reservation_enabled = _Setting[bool]()
    reserve_any_evse = _Setting[bool]()  # 1.6 connector 0, 2.0.1 without evseId
    get_configuration_max_keys = _Setting[int]()
    items_per_message = _Setting[int]()

    def __init__(self, seed: SettingsSeed) -> None:
        self.seed = seed
        self._callbacks: list[ChangeCallback] = []

    @property
    def evse_ids(self) -> tuple[int, ...]:
        return tuple(range(1, len(self.seed.evse_connectors) + 1))

    def on_change(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call ``callback(name, value)`` after every accepted change; returns an unsubscribe."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def _changed(self, name: str, value: Any) -> None:
        for callback in list(self._callbacks):
            callback(name, value)

    def typed(self, prop: str) -> Any:
        """The typed value of a property (what the descriptors return)."""
        raise NotImplementedError

    def note_local_list_entries(self, count: int) -> None:
        """The local list now holds ``count`` entries (2.0.1 reports it)."""

    def note_charging_profiles(self, count: int) -> None:
        """The station now holds ``count`` charging profiles (2.0.1 reports it)."""


# -- OCPP 1.6 ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class KeyDef:
    """One 1.6 configuration key."""

    name: str
    kind: str  # int, bool, str, list (comma separated)
    readonly: bool
    prop: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    members: frozenset[str] | None = None  # what a list may contain
    max_items_key: str | None = None  # the key holding a list's maximum length
    write_only: bool = False


class Configuration16(StationSettings):
    """The configuration keys of a 1.6 station."""

    def __init__(self, seed: SettingsSeed) -> None:
        super().__init__(seed)
        self._keys: dict[str, KeyDef] = {}
        self._values: dict[str, str] = {}
        self._props: dict[str, str] = {}
        for definition, value in self._definitions(seed):
            self._keys[definition.name.lower()] = definition
            self._values[definition.name.lower()] = value
            if definition.prop is not None:
                self._props[definition.prop] = definition.name.lower()
        # 1.6 has no key of its own for these; they read like the sampled/aligned sets
        self._props.setdefault("tx_started_measurands", "metervaluessampleddata")
        self._props.setdefault("aligned_tx_ended_interval_s", "clockaligneddatainterval")

    @staticmethod
    def _definitions(seed: SettingsSeed) -> list[tuple[KeyDef, str]]:
        measurands = frozenset(seed.supported_measurands) & MEASURANDS_16
        connectors = len(seed.evse_connectors)
        keys: list[tuple[KeyDef, str]] = [
            (KeyDef("AllowOfflineTxForUnknownId", "bool", False,
                    "allow_offline_tx_for_unknown_id"),
             _bool_text(seed.allow_offline_tx_for_unknown_id)),
            (KeyDef("AuthorizationCacheEnabled", "bool", False, "cache_enabled"),
             _bool_text(seed.cache_enabled)),
            (KeyDef("AuthorizeRemoteTxRequests", "bool", False, "authorize_remote_start"),
             _bool_text(seed.authorize_remote_start)),
            (KeyDef("ClockAlignedDataInterval", "int", False, "aligned_interval_s", 0),
             str(seed.aligned_interval_s)),
            (KeyDef("ConnectionTimeOut", "int", False, "ev_connection_timeout_s", 1),
             str(seed.ev_connection_timeout_s)),
            (KeyDef("ConnectorPhaseRotation", "list", False, None,
                    max_items_key="ConnectorPhaseRotationMaxLength"),
             _csl(f"{c}.{'RST' if seed.supply_phases == 3 else 'NotApplicable'}"
                  for c in range(connectors + 1))),
            (KeyDef("ConnectorPhaseRotationMaxLength", "int", True), str(connectors + 1)),
            (KeyDef("GetConfigurationMaxKeys", "int", True, "get_configuration_max_keys"),
             str(seed.get_configuration_max_keys)),
            (KeyDef("HeartbeatInterval", "int", False, "heartbeat_interval_s", 0),
             str(seed.heartbeat_interval_s)),
            (KeyDef("LocalAuthorizeOffline", "bool", False, "local_authorize_offline"),
             _bool_text(seed.local_authorize_offline)),
            (KeyDef("LocalPreAuthorize", "bool", False, "local_pre_authorize"),
             _bool_text(seed.local_pre_authorize)),
            (KeyDef("MaxEnergyOnInvalidId", "int", False, "max_energy_on_invalid_id_wh", 0),
             "0"),
            (KeyDef("MeterValuesAlignedData", "list", False, "aligned_measurands",
                    members=measurands, max_items_key="MeterValuesAlignedDataMaxLength"),
             _csl(seed.aligned_measurands)),
            (KeyDef("MeterValuesAlignedDataMaxLength", "int", True), str(len(measurands))),
            (KeyDef("MeterValuesSampledData", "list", False, "sampled_measurands",
                    members=measurands, max_items_key="MeterValuesSampledDataMaxLength"),
             _csl(seed.sampled_measurands)),
            (KeyDef("MeterValuesSampledDataMaxLength", "int", True), str(len(measurands))),
            (KeyDef("MeterValueSampleInterval", "int", False, "sample_interval_s", 0),
             str(seed.sample_interval_s)),
            (KeyDef("MinimumStatusDuration", "int", False, None, 0), "0"),
            (KeyDef("NumberOfConnectors", "int", True), str(connectors)),
            (KeyDef("ResetRetries", "int", False, "reset_retries", 0), str(seed.reset_retries)),
            (KeyDef("StopTransactionOnEVSideDisconnect", "bool", False,
                    "stop_tx_on_ev_side_disconnect"),
             _bool_text(seed.stop_tx_on_ev_side_disconnect)),
            (KeyDef("StopTransactionOnInvalidId", "bool", False, "stop_tx_on_invalid_id"),
             _bool_text(seed.stop_tx_on_invalid_id)),
            (KeyDef("StopTxnAlignedData", "list", False, "aligned_tx_ended_measurands",
                    members=measurands, max_items_key="StopTxnAlignedDataMaxLength"),
             _csl(seed.aligned_tx_ended_measurands)),
            (KeyDef("StopTxnAlignedDataMaxLength", "int", True), str(len(measurands))),
            (KeyDef("StopTxnSampledData", "list", False, "tx_ended_measurands",
                    members=measurands, max_items_key="StopTxnSampledDataMaxLength"),
             _csl(seed.tx_ended_measurands)),
            (KeyDef("StopTxnSampledDataMaxLength", "int", True), str(len(measurands))),
            (KeyDef("SupportedFeatureProfiles", "list", True), _csl(seed.features)),
            (KeyDef("SupportedFeatureProfilesMaxLength", "int", True),
             str(len(FEATURE_PROFILES_16))),
            (KeyDef("TransactionMessageAttempts", "int", False, "transaction_message_attempts",
                    0), str(seed.transaction_message_attempts)),
            (KeyDef("TransactionMessageRetryInterval", "int", False,
                    "transaction_message_retry_interval_s", 0),
             str(seed.transaction_message_retry_interval_s)),
            (KeyDef("UnlockConnectorOnEVSideDisconnect", "bool", False,
                    "unlock_on_ev_side_disconnect"),
             _bool_text(seed.unlock_on_ev_side_disconnect)),
            (KeyDef("WebSocketPingInterval", "int", False, "websocket_ping_interval_s", 0),
             str(seed.websocket_ping_interval_s)),
        ]
        if "LocalAuthListManagement" in seed.features:
            keys += [
                (KeyDef("LocalAuthListEnabled", "bool", False, "local_list_enabled"),
                 _bool_text(seed.local_list_enabled)),
                (KeyDef("LocalAuthListMaxLength", "int", True, "local_list_max_length"),
                 str(seed.local_list_max_length)),
                (KeyDef("SendLocalListMaxLength", "int", True, "send_local_list_max_length"),
                 str(seed.send_local_list_max_length)),
            ]
        if "Reservation" in seed.features:
            keys.append((KeyDef("ReserveConnectorZeroSupported", "bool", True,
                                "reserve_any_evse"), _bool_text(seed.reserve_any_evse)))
        if "SmartCharging" in seed.features:
            units = {"A": "Current", "W": "Power"}
            keys += [
                (KeyDef("ChargeProfileMaxStackLevel", "int", True, "max_stack_level"),
                 str(seed.max_stack_level)),
                (KeyDef("ChargingScheduleAllowedChargingRateUnit", "list", True, "rate_units"),
                 _csl(units[u] for u in seed.rate_units)),
                (KeyDef("ChargingScheduleMaxPeriods", "int", True, "max_schedule_periods"),
                 str(seed.max_schedule_periods)),
                (KeyDef("ConnectorSwitch3to1PhaseSupported", "bool", True), "false"),
                (KeyDef("MaxChargingProfilesInstalled", "int", True, "max_charging_profiles"),
                 str(seed.max_charging_profiles)),
            ]
        keys += [  # Security whitepaper
            (KeyDef("AdditionalRootCertificateCheck", "bool", True), "false"),
            (KeyDef("AuthorizationKey", "str", False, "basic_auth_password",
                    write_only=True), seed.basic_auth_password or ""),
            (KeyDef("CertificateSignedMaxChainSize", "int", True), "10000"),
            (KeyDef("CertificateStoreMaxLength", "int", True), "20"),
            (KeyDef("CpoName", "str", False, "cpo_name"), seed.cpo_name or ""),
            (KeyDef("SecurityProfile", "int", False, "security_profile", 0, 3),
             str(seed.security_profile)),
        ]
        return keys

    def typed(self, prop: str) -> Any:
        key = self._props.get(prop)
        if key is None:
            return _seed_value(self.seed, prop)
        return _parse(PROPERTY_KINDS[prop], self._values[key])

    def value(self, key: str) -> str | None:
        """The text value of ``key`` (any case); None if there is no such key."""
        return self._values.get(key.lower())

    def get(self, request: dict[str, Any]) -> dict[str, Any]:
        """GetConfiguration: every readable key when none is asked for; unknownKey for the
        keys the station does not have."""
        asked = request.get("key") or []
        known: list[dict[str, Any]] = []
        unknown: list[str] = []
        if not asked:
            known = [self._entry(d) for d in self._keys.values() if not d.write_only]
        for name in asked:
            definition = self._keys.get(name.lower())
            if definition is None:
                unknown.append(name)
            else:
                known.append(self._entry(definition))
        response: dict[str, Any] = {"configurationKey": known}
        if unknown:
            response["unknownKey"] = unknown
        return response

    def _entry(self, definition: KeyDef) -> dict[str, Any]:
        entry: dict[str, Any] = {"key": definition.name, "readonly": definition.readonly}
        if not definition.write_only:
            entry["value"] = self._values[definition.name.lower()][:500]
        return entry

    def change(self, request: dict[str, Any]) -> dict[str, Any]:
        """ChangeConfiguration: NotSupported for an unknown key, Rejected for a read-only key
        or a value that is not valid for it, RebootRequired where the seed says so, else
        Accepted (and the change callbacks run)."""
        definition = self._keys.get(str(request["key"]).lower())
        if definition is None:
            return {"status": "NotSupported"}
        if definition.readonly:
            return {"status": "Rejected"}
        value = self._valid(definition, str(request["value"]))
        if value is None:
            return {"status": "Rejected"}
        self._values[definition.name.lower()] = value
        if definition.name in self.seed.reboot_required:
            return {"status": "RebootRequired"}
        if definition.prop is not None:
            self._changed(definition.prop, self.typed(definition.prop))
        else:
            self._changed(definition.name, value)
        return {"status": "Accepted"}

    def _valid(self, d: KeyDef, text: str) -> str | None:
        """``text`` as stored for key ``d``, or None when it is not a valid value."""
        text = text.strip()
        if d.kind == "bool":
            return text.lower() if text.lower() in ("true", "false") else None
        if d.kind == "int":
            if not _INTEGER.match(text):
                return None
            number = int(text)
            if (d.minimum is not None and number < d.minimum) or \
                    (d.maximum is not None and number > d.maximum):
                return None
            if d.name == "SecurityProfile" and not self._profile_change_allowed(number):
                return None
            return str(number)
        if d.kind == "list":
            items = [p.strip() for p in text.split(",") if p.strip()]
            if d.members is not None and any(item not in d.members for item in items):
                return None
            if d.name == "ConnectorPhaseRotation" and not all(_phase_rotation(i)
                                                             for i in items):
                return None
            if d.max_items_key is not None and \
                    len(items) > int(self._values[d.max_items_key.lower()]):
                return None
            return ",".join(items)
        if d.name == "AuthorizationKey" and not _PASSWORD.match(text):
            return None
        return text

    def _profile_change_allowed(self, wanted: int) -> bool:
        """Security profiles only go up (TC_084: a downgrade is rejected), and only to one
        the station can connect with: 1 and 2 need the password, 3 a client certificate."""
        current = self.security_profile
        if wanted < current:
            return False
        if wanted in (1, 2) and not self.basic_auth_password:
            return False
        return not (wanted == 3 and not self.seed.has_client_certificate)


def _phase_rotation(item: str) -> bool:
    connector, _, rotation = item.partition(".")
    return connector.isdigit() and rotation in PHASE_ROTATIONS


# -- OCPP 2.0.1 ----------------------------------------------------------------------------------

MUTABILITIES = ("ReadOnly", "WriteOnly", "ReadWrite")


@dataclass
class Attribute:
    value: str | None
    mutability: str = "ReadWrite"
    persistent: bool = True
    constant: bool = False


@dataclass
class Variable:
    """One variable of one component instance, with its attributes and characteristics."""

    component: str
    name: str
    data_type: str  # string, decimal, integer, dateTime, boolean, OptionList, SequenceList,
    #                 MemberList
    attributes: dict[str, Attribute]
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    instance: str | None = None
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: tuple[str, ...] | None = None
    supports_monitoring: bool = False
    dynamic: Callable[[], str] | None = field(default=None, repr=False)  # Actual computed

    @property
    def component_key(self) -> tuple[str, str, int | None, int | None]:
        return (self.component.casefold(), (self.component_instance or "").casefold(),
                self.evse_id, self.connector_id)

    @property
    def key(self) -> tuple[str, str, int | None, int | None, str, str]:
        return (*self.component_key, self.name.casefold(), (self.instance or "").casefold())

    @property
    def label(self) -> str:
        """``Component.Variable[instance]`` (what reboot_required and callbacks use)."""
        text = f"{self.component}.{self.name}"
        return f"{text}[{self.instance}]" if self.instance else text

    def component_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.component}
        if self.component_instance:
            data["instance"] = self.component_instance
        if self.evse_id is not None:
            evse: dict[str, Any] = {"id": self.evse_id}
            if self.connector_id is not None:
                evse["connectorId"] = self.connector_id
            data["evse"] = evse
        return data

    def variable_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.instance:
            data["instance"] = self.instance
        return data

    def read(self, attribute: str = "Actual") -> str | None:
        if attribute == "Actual" and self.dynamic is not None:
            return self.dynamic()
        return self.attributes[attribute].value

    def characteristics_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {"dataType": self.data_type,
                                "supportsMonitoring": self.supports_monitoring}
        if self.unit:
            data["unit"] = self.unit
        if self.min_limit is not None:
            data["minLimit"] = self.min_limit
        if self.max_limit is not None:
            data["maxLimit"] = self.max_limit
        if self.values_list is not None:
            data["valuesList"] = ",".join(self.values_list)[:1000]
        return data


def _var(component: str, name: str, data_type: str, value: Any, mutability: str = "ReadWrite",
         **extra: Any) -> Variable:
    if isinstance(value, bool):
        text: str | None = _bool_text(value)
    elif isinstance(value, tuple | list):
        text = _csl(value)
    else:
        text = None if value is None else str(value)
    constant = extra.pop("constant", False)
    return Variable(component, name, data_type,
                    {"Actual": Attribute(text, mutability, True, constant)}, **extra)


# Typed property -> (component, variable, variable instance, where: value or maxLimit)
_PROPS_201: dict[str, tuple[str, str, str | None, str]] = {
    "heartbeat_interval_s": ("OCPPCommCtrlr", "HeartbeatInterval", None, "value"),
    "sample_interval_s": ("SampledDataCtrlr", "TxUpdatedInterval", None, "value"),
    "aligned_interval_s": ("AlignedDataCtrlr", "Interval", None, "value"),
    "sampled_measurands": ("SampledDataCtrlr", "TxUpdatedMeasurands", None, "value"),
    "tx_started_measurands": ("SampledDataCtrlr", "TxStartedMeasurands", None, "value"),
    "tx_ended_measurands": ("SampledDataCtrlr", "TxEndedMeasurands", None, "value"),
    "tx_ended_interval_s": ("SampledDataCtrlr", "TxEndedInterval", None, "value"),
    "aligned_measurands": ("AlignedDataCtrlr", "Measurands", None, "value"),
    "aligned_tx_ended_measurands": ("AlignedDataCtrlr", "TxEndedMeasurands", None, "value"),
    "aligned_tx_ended_interval_s": ("AlignedDataCtrlr", "TxEndedInterval", None, "value"),
    "aligned_send_during_idle": ("AlignedDataCtrlr", "SendDuringIdle", None, "value"),
    "sampled_sign_readings": ("SampledDataCtrlr", "SignReadings", None, "value"),
    "aligned_sign_readings": ("AlignedDataCtrlr", "SignReadings", None, "value"),
    "allow_new_sessions_pending_firmware": ("ChargingStation",
                                            "AllowNewSessionsPendingFirmwareUpdate", None,
                                            "value"),
    "tx_start_points": ("TxCtrlr", "TxStartPoint", None, "value"),
    "tx_stop_points": ("TxCtrlr", "TxStopPoint", None, "value"),
    "ev_connection_timeout_s": ("TxCtrlr", "EVConnectionTimeOut", None, "value"),
    "stop_tx_on_ev_side_disconnect": ("TxCtrlr", "StopTxOnEVSideDisconnect", None, "value"),
    "stop_tx_on_invalid_id": ("TxCtrlr", "StopTxOnInvalidId", None, "value"),
    "max_energy_on_invalid_id_wh": ("TxCtrlr", "MaxEnergyOnInvalidId", None, "value"),
    "tx_before_accepted_enabled": ("TxCtrlr", "TxBeforeAcceptedEnabled", None, "value"),
    "unlock_on_ev_side_disconnect": ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None,
                                     "value"),
    "auth_enabled": ("AuthCtrlr", "Enabled", None, "value"),
    "authorize_remote_start": ("AuthCtrlr", "AuthorizeRemoteStart", None, "value"),
    "local_pre_authorize": ("AuthCtrlr", "LocalPreAuthorize", None, "value"),
    "local_authorize_offline": ("AuthCtrlr", "LocalAuthorizeOffline", None, "value"),
    "disable_remote_authorization": ("AuthCtrlr", "DisableRemoteAuthorization", None, "value"),
    "allow_offline_tx_for_unknown_id": ("AuthCtrlr", "OfflineTxForUnknownIdEnabled", None,
                                        "value"),
    "master_pass_group_id": ("AuthCtrlr", "MasterPassGroupId", None, "value"),
    "cache_enabled": ("AuthCacheCtrlr", "Enabled", None, "value"),
    "cache_lifetime_s": ("AuthCacheCtrlr", "LifeTime", None, "value"),
    "cache_disable_post_authorize": ("AuthCacheCtrlr", "DisablePostAuthorize", None, "value"),
    "local_list_enabled": ("LocalAuthListCtrlr", "Enabled", None, "value"),
    "local_list_max_length": ("LocalAuthListCtrlr", "Entries", None, "maxLimit"),
    "send_local_list_max_length": ("LocalAuthListCtrlr", "ItemsPerMessage", None, "value"),
    "local_list_disable_post_authorize": ("LocalAuthListCtrlr", "DisablePostAuthorize", None,
                                          "value"),
    "transaction_message_attempts": ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent",
                                     "value"),
    "transaction_message_retry_interval_s": ("OCPPCommCtrlr", "MessageAttemptInterval",
                                             "TransactionEvent", "value"),
    "message_timeout_s": ("OCPPCommCtrlr", "MessageTimeout", "Default", "value"),
    "offline_threshold_s": ("OCPPCommCtrlr", "OfflineThreshold", None, "value"),
    "reset_retries": ("OCPPCommCtrlr", "ResetRetries", None, "value"),
    "websocket_ping_interval_s": ("OCPPCommCtrlr", "WebSocketPingInterval", None, "value"),
    "retry_backoff_wait_minimum_s": ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", None, "value"),
    "retry_backoff_random_range_s": ("OCPPCommCtrlr", "RetryBackOffRandomRange", None, "value"),
    "retry_backoff_repeat_times": ("OCPPCommCtrlr", "RetryBackOffRepeatTimes", None, "value"),
    "security_profile": ("SecurityCtrlr", "SecurityProfile", None, "value"),
    "basic_auth_password": ("SecurityCtrlr", "BasicAuthPassword", None, "value"),
    "cpo_name": ("SecurityCtrlr", "OrganizationName", None, "value"),
    "smart_charging_enabled": ("SmartChargingCtrlr", "Enabled", None, "value"),
    "max_stack_level": ("SmartChargingCtrlr", "ProfileStackLevel", None, "value"),
    "max_schedule_periods": ("SmartChargingCtrlr", "PeriodsPerSchedule", None, "value"),
    "max_charging_profiles": ("SmartChargingCtrlr", "Entries", "ChargingProfiles", "maxLimit"),
    "rate_units": ("SmartChargingCtrlr", "RateUnit", None, "value"),
    "reservation_enabled": ("ReservationCtrlr", "Enabled", None, "value"),
    "reserve_any_evse": ("ReservationCtrlr", "NonEvseSpecific", None, "value"),
    "get_configuration_max_keys": ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", "value"),
    "items_per_message": ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport", "value"),
}


NETWORK_SLOTS = ("0", "1", "2")  # the network profile slots (network_profiles.SLOTS)


def _standard_variables(seed: SettingsSeed, now: Callable[[], datetime]) -> list[Variable]:
    """The device model of a simulated 2.0.1 station: the controllers the OCTT cases touch, the
    station, and each EVSE and connector."""
    rw, ro, wo = "ReadWrite", "ReadOnly", "WriteOnly"
    measurands = tuple(m for m in seed.supported_measurands if m in MEASURANDS_201)
    interval = {"unit": "s", "min_limit": 0}
    features = set(seed.features)
    v: list[Variable] = [
        # OCPPCommCtrlr
        _var("OCPPCommCtrlr", "ActiveNetworkProfile", "integer", 0, ro),
        _var("OCPPCommCtrlr", "FileTransferProtocols", "MemberList", ("HTTP", "HTTPS"), ro,
             values_list=("HTTP", "HTTPS")),
        _var("OCPPCommCtrlr", "HeartbeatInterval", "integer", seed.heartbeat_interval_s,
             **interval),
        _var("OCPPCommCtrlr", "MessageTimeout", "integer", seed.message_timeout_s,
             instance="Default", unit="s", min_limit=1),
        _var("OCPPCommCtrlr", "MessageAttempts", "integer", seed.transaction_message_attempts,
             instance="TransactionEvent", min_limit=0),
        _var("OCPPCommCtrlr", "MessageAttemptInterval", "integer",
             seed.transaction_message_retry_interval_s, instance="TransactionEvent",
             **interval),
        _var("OCPPCommCtrlr", "NetworkConfigurationPriority", "SequenceList", "0",
             values_list=NETWORK_SLOTS),
        _var("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "integer", 3, min_limit=0),
        _var("OCPPCommCtrlr", "OfflineThreshold", "integer", seed.offline_threshold_s,
             **interval),
        _var("OCPPCommCtrlr", "ResetRetries", "integer", seed.reset_retries, min_limit=0),
        _var("OCPPCommCtrlr", "RetryBackOffRandomRange", "integer",
             seed.retry_backoff_random_range_s, **interval),
        _var("OCPPCommCtrlr", "RetryBackOffRepeatTimes", "integer",
             seed.retry_backoff_repeat_times, min_limit=0),
        _var("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "integer",
             seed.retry_backoff_wait_minimum_s, **interval),
        _var("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "boolean",
             seed.unlock_on_ev_side_disconnect),
        _var("OCPPCommCtrlr", "WebSocketPingInterval", "integer",
             seed.websocket_ping_interval_s, **interval),
        # AuthCtrlr
        _var("AuthCtrlr", "Enabled", "boolean", seed.auth_enabled),
        _var("AuthCtrlr", "AuthorizeRemoteStart", "boolean", seed.authorize_remote_start),
        _var("AuthCtrlr", "LocalAuthorizeOffline", "boolean", seed.local_authorize_offline),
        _var("AuthCtrlr", "LocalPreAuthorize", "boolean", seed.local_pre_authorize),
        _var("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "boolean",
             seed.allow_offline_tx_for_unknown_id),
        # AuthCacheCtrlr
        _var("AuthCacheCtrlr", "Available", "boolean", True, ro),
        _var("AuthCacheCtrlr", "Enabled", "boolean", seed.cache_enabled),
        _var("AuthCacheCtrlr", "LifeTime", "integer", seed.cache_lifetime_s or 86_400,
             **interval),
        _var("AuthCacheCtrlr", "Policy", "OptionList", "LRU", ro, values_list=("LRU",)),
        _var("AuthCacheCtrlr", "Storage", "integer", seed.cache_max_entries * 256, ro,
             unit="B", max_limit=seed.cache_max_entries * 256),
        _var("AuthCacheCtrlr", "DisablePostAuthorize", "boolean", seed.disable_post_authorize),
        # TxCtrlr
        _var("TxCtrlr", "EVConnectionTimeOut", "integer", seed.ev_connection_timeout_s,
             unit="s", min_limit=1),
        _var("TxCtrlr", "StopTxOnEVSideDisconnect", "boolean",
             seed.stop_tx_on_ev_side_disconnect),
        _var("TxCtrlr", "StopTxOnInvalidId", "boolean", seed.stop_tx_on_invalid_id),
        _var("TxCtrlr", "MaxEnergyOnInvalidId", "integer", 0, unit="Wh", min_limit=0),
        _var("TxCtrlr", "TxBeforeAcceptedEnabled", "boolean", seed.tx_before_accepted_enabled),
        _var("TxCtrlr", "TxStartPoint", "MemberList", seed.tx_start_points,
             values_list=TX_POINTS),
        _var("TxCtrlr", "TxStopPoint", "MemberList", seed.tx_stop_points,
             values_list=tuple(p for p in TX_POINTS if p != "DataSigned")),
        # SampledDataCtrlr
        _var("SampledDataCtrlr", "Enabled", "boolean", True),
        _var("SampledDataCtrlr", "Available", "boolean", True, ro),
        _var("SampledDataCtrlr", "SignReadings", "boolean", False),
        _var("SampledDataCtrlr", "TxEndedMeasurands", "MemberList", seed.tx_ended_measurands,
             values_list=measurands),
        _var("SampledDataCtrlr", "TxEndedInterval", "integer", 0, **interval),
        _var("SampledDataCtrlr", "TxStartedMeasurands", "MemberList",
             seed.tx_started_measurands, values_list=measurands),
        _var("SampledDataCtrlr", "TxUpdatedMeasurands", "MemberList", seed.sampled_measurands,
             values_list=measurands),
        _var("SampledDataCtrlr", "TxUpdatedInterval", "integer", seed.sample_interval_s,
             **interval),
        # AlignedDataCtrlr
        _var("AlignedDataCtrlr", "Enabled", "boolean", True),
        _var("AlignedDataCtrlr", "Available", "boolean", True, ro),
        _var("AlignedDataCtrlr", "Interval", "integer", seed.aligned_interval_s, **interval),
        _var("AlignedDataCtrlr", "Measurands", "MemberList", seed.aligned_measurands,
             values_list=measurands),
        _var("AlignedDataCtrlr", "SendDuringIdle", "boolean", False),
        _var("AlignedDataCtrlr", "SignReadings", "boolean", False),
        _var("AlignedDataCtrlr", "TxEndedInterval", "integer", seed.aligned_interval_s,
             **interval),
        _var("AlignedDataCtrlr", "TxEndedMeasurands", "MemberList",
             seed.aligned_tx_ended_measurands, values_list=measurands),
        # SecurityCtrlr
        _var("SecurityCtrlr", "BasicAuthPassword", "string", seed.basic_auth_password, wo,
             max_limit=40),
        _var("SecurityCtrlr", "Identity", "string", seed.station_id, ro, max_limit=48),
        _var("SecurityCtrlr", "OrganizationName", "string", seed.cpo_name or "", rw),
        _var("SecurityCtrlr", "CertificateEntries", "integer", 0, ro),
        _var("SecurityCtrlr", "SecurityProfile", "integer", seed.security_profile, ro,
             min_limit=0, max_limit=3),
        _var("SecurityCtrlr", "AdditionalRootCertificateCheck", "boolean", False, ro),
        _var("SecurityCtrlr", "MaxCertificateChainSize", "integer", 10_000, ro),
        # DeviceDataCtrlr
        *(_var("DeviceDataCtrlr", "ItemsPerMessage", "integer", seed.items_per_message, ro,
               instance=i) for i in ("GetReport", "GetVariables", "SetVariables")),
        *(_var("DeviceDataCtrlr", "BytesPerMessage", "integer", seed.bytes_per_message, ro,
               instance=i) for i in ("GetReport", "GetVariables", "SetVariables")),
        _var("DeviceDataCtrlr", "ValueSize", "integer", 1000, ro),
        _var("DeviceDataCtrlr", "ReportingValueSize", "integer", 2500, ro),
        # ClockCtrlr
        _var("ClockCtrlr", "DateTime", "dateTime", None, ro,
             dynamic=lambda: now().astimezone(UTC).isoformat(timespec="seconds")
             .replace("+00:00", "Z")),
        _var("ClockCtrlr", "TimeSource", "SequenceList", "Heartbeat",
             values_list=("Heartbeat", "NTP", "RealTimeClock")),
        # ChargingStation
        _var("ChargingStation", "AvailabilityState", "OptionList", "Available", ro,
             values_list=("Available", "Occupied", "Reserved", "Unavailable", "Faulted")),
        _var("ChargingStation", "Available", "boolean", True, ro),
        _var("ChargingStation", "Model", "string", seed.model, ro),
        _var("ChargingStation", "VendorName", "string", seed.vendor, ro),
        _var("ChargingStation", "SupplyPhases", "integer", seed.supply_phases, ro),
        _var("ChargingStation", "Problem", "boolean", False, ro),
        _var("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate", "boolean", False),
        # DisplayMessageCtrlr
        _var("DisplayMessageCtrlr", "Enabled", "boolean", True),
        _var("DisplayMessageCtrlr", "Available", "boolean", True, ro),
        _var("DisplayMessageCtrlr", "DisplayMessages", "integer", 0, ro, max_limit=10),
        _var("DisplayMessageCtrlr", "SupportedFormats", "MemberList", ("ASCII", "UTF8"), ro,
             values_list=("ASCII", "HTML", "URI", "UTF8")),
        _var("DisplayMessageCtrlr", "SupportedPriorities", "MemberList",
             ("AlwaysFront", "InFront", "NormalCycle"), ro,
             values_list=("AlwaysFront", "InFront", "NormalCycle")),
    ]
    if seed.disable_remote_authorization is not None:
        v.append(_var("AuthCtrlr", "DisableRemoteAuthorization", "boolean",
                      seed.disable_remote_authorization))
    if seed.master_pass_group_id is not None:
        v.append(_var("AuthCtrlr", "MasterPassGroupId", "string", seed.master_pass_group_id,
                      max_limit=36))
    if "LocalAuthListManagement" in features:
        v += [
            _var("LocalAuthListCtrlr", "Available", "boolean", True, ro),
            _var("LocalAuthListCtrlr", "Enabled", "boolean", seed.local_list_enabled),
            _var("LocalAuthListCtrlr", "Entries", "integer", 0, ro,
                 max_limit=seed.local_list_max_length),
            _var("LocalAuthListCtrlr", "ItemsPerMessage", "integer",
                 seed.send_local_list_max_length, ro),
            _var("LocalAuthListCtrlr", "BytesPerMessage", "integer", seed.bytes_per_message, ro),
            _var("LocalAuthListCtrlr", "Storage", "integer", seed.local_list_max_length * 256,
                 ro, unit="B"),
            _var("LocalAuthListCtrlr", "DisablePostAuthorize", "boolean",
                 seed.disable_post_authorize),
        ]
    if "SmartCharging" in features:
        v += [
            _var("SmartChargingCtrlr", "Available", "boolean", True, ro),
            _var("SmartChargingCtrlr", "Enabled", "boolean", True),
            _var("SmartChargingCtrlr", "Entries", "integer", 0, ro, instance="ChargingProfiles",
                 max_limit=seed.max_charging_profiles),
            _var("SmartChargingCtrlr", "ExternalControlSignalsEnabled", "boolean", False),
            _var("SmartChargingCtrlr", "LimitChangeSignificance", "decimal", 0.1, min_limit=0,
                 max_limit=1),
            _var("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules", "boolean", False),
            _var("SmartChargingCtrlr", "PeriodsPerSchedule", "integer",
                 seed.max_schedule_periods, ro),
            _var("SmartChargingCtrlr", "ProfileStackLevel", "integer", seed.max_stack_level, ro),
            _var("SmartChargingCtrlr", "RateUnit", "MemberList", seed.rate_units, ro,
                 values_list=("A", "W")),
            _var("SmartChargingCtrlr", "Phases3to1", "boolean", False, ro),
        ]
    if "Reservation" in features:
        v += [
            _var("ReservationCtrlr", "Available", "boolean", True, ro),
            _var("ReservationCtrlr", "Enabled", "boolean", seed.reservation_enabled),
            _var("ReservationCtrlr", "NonEvseSpecific", "boolean", seed.reserve_any_evse, ro),
        ]
    states = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
    for evse_id, connectors in enumerate(seed.evse_connectors, start=1):
        at = {"evse_id": evse_id}
        v += [
            _var("EVSE", "AvailabilityState", "OptionList", "Available", ro, values_list=states,
                 **at),
            _var("EVSE", "Available", "boolean", True, ro, **at),
            _var("EVSE", "EvseId", "string", f"{seed.station_id}*{evse_id}", ro, **at),
            _var("EVSE", "Power", "decimal", 0.0, ro, unit="W",
                 max_limit=seed.evse_max_power_w, **at),
            _var("EVSE", "SupplyPhases", "integer", seed.supply_phases, ro, **at),
            _var("EVSE", "AllowReset", "boolean", True, ro, **at),
        ]
        for connector_id, connector_type in enumerate(connectors, start=1):
            at_connector = {"evse_id": evse_id, "connector_id": connector_id}
            v += [
                _var("Connector", "AvailabilityState", "OptionList", "Available", ro,
                     values_list=states, **at_connector),
                _var("Connector", "Available", "boolean", True, ro, **at_connector),
                _var("Connector", "ConnectorType", "string", connector_type, ro,
                     **at_connector),
                _var("Connector", "SupplyPhases", "integer", seed.supply_phases, ro,
                     **at_connector),
            ]
    return v


def _wire_key(component: Mapping[str, Any], variable: Mapping[str, Any]
              ) -> tuple[tuple[str, str, int | None, int | None], tuple[str, str]]:
    evse = component.get("evse") or {}
    return ((str(component["name"]).casefold(), str(component.get("instance") or "").casefold(),
             evse.get("id"), evse.get("connectorId")),
            (str(variable["name"]).casefold(), str(variable.get("instance") or "").casefold()))


def _status_info(reason: str, text: str) -> dict[str, Any]:
    return {"reasonCode": reason, "additionalInfo": text[:512]}


class DeviceModel201(StationSettings):
    """The device model of a 2.0.1 station. ``now`` gives ClockCtrlr.DateTime."""

    def __init__(self, seed: SettingsSeed, *,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__(seed)
        self._variables: dict[tuple[Any, ...], Variable] = {}
        self._components: set[tuple[str, str, int | None, int | None]] = set()
        # checks beyond the data type, per variable label: the (reasonCode, why) a value is
        # refused for, else None (NetworkConfigurationPriority: the certificates, A05.FR.02)
        self.value_checks: dict[str, Callable[[str], tuple[str, str] | None]] = {}
        for variable in _standard_variables(seed, now):
            self.add(variable)

    def add(self, variable: Variable) -> None:
        """Add (or replace) a variable: for tests and scenario extensions."""
        self._variables[variable.key] = variable
        self._components.add(variable.component_key)

    def variables(self) -> list[Variable]:
        return list(self._variables.values())

    def find(self, component: str, variable: str, *, instance: str | None = None,
             evse_id: int | None = None, connector_id: int | None = None,
             component_instance: str | None = None) -> Variable | None:
        key = (component.casefold(), (component_instance or "").casefold(), evse_id,
               connector_id, variable.casefold(), (instance or "").casefold())
        return self._variables.get(key)

    def typed(self, prop: str) -> Any:
        where = _PROPS_201.get(prop)
        variable = None if where is None else self.find(where[0], where[1], instance=where[2])
        if where is None or variable is None:
            return _seed_value(self.seed, prop)
        if where[3] == "maxLimit":
            return int(variable.max_limit or 0)
        return _parse(PROPERTY_KINDS[prop], variable.read())

    def set_actual(self, component: str, variable: str, value: str, *,
                   instance: str | None = None, evse_id: int | None = None,
                   connector_id: int | None = None) -> None:
        """The station's own update of a value (AvailabilityState, Power ...), whatever its
        mutability."""
        found = self.find(component, variable, instance=instance, evse_id=evse_id,
                          connector_id=connector_id)
        if found is None:
            raise KeyError(f"no variable {component}.{variable} at EVSE {evse_id} "
                           f"connector {connector_id}")
        found.attributes["Actual"].value = value

    def note_local_list_entries(self, count: int) -> None:
        if self.find("LocalAuthListCtrlr", "Entries") is not None:
            self.set_actual("LocalAuthListCtrlr", "Entries", str(count))

    def note_charging_profiles(self, count: int) -> None:
        if self.find("SmartChargingCtrlr", "Entries", instance="ChargingProfiles") is not None:
            self.set_actual("SmartChargingCtrlr", "Entries", str(count),
                            instance="ChargingProfiles")

    # -- GetVariables / SetVariables -----------------------------------------------------------

    def _lookup(self, component: Mapping[str, Any], variable: Mapping[str, Any]
                ) -> tuple[Variable | None, str | None]:
        component_key, variable_key = _wire_key(component, variable)
        if component_key not in self._components:
            return None, "UnknownComponent"
        found = self._variables.get((*component_key, *variable_key))
        if found is None:
            return None, "UnknownVariable"
        return found, None

    def get_variables(self, request: dict[str, Any]) -> dict[str, Any]:
        """GetVariables: per item Accepted with the value, UnknownComponent, UnknownVariable,
        NotSupportedAttributeType, or Rejected for a WriteOnly variable."""
        results = []
        for item in request["getVariableData"]:
            attribute = item.get("attributeType", "Actual")
            result: dict[str, Any] = {"attributeType": attribute,
                                      "component": item["component"],
                                      "variable": item["variable"]}
            found, status = self._lookup(item["component"], item["variable"])
            if found is None:
                result["attributeStatus"] = status
            elif attribute not in found.attributes:
                result["attributeStatus"] = "NotSupportedAttributeType"
            elif found.attributes[attribute].mutability == "WriteOnly":
                result["attributeStatus"] = "Rejected"
                result["attributeStatusInfo"] = _status_info("WriteOnly",
                                                             f"{found.label} is write-only")
            else:
                result["attributeStatus"] = "Accepted"
                value = found.read(attribute)
                if value is not None:
                    result["attributeValue"] = value[:2500]
            results.append(result)
        return {"getVariableResult": results}

    def set_variables(self, request: dict[str, Any]) -> dict[str, Any]:
        """SetVariables: per item Accepted (change callbacks run), RebootRequired (stored, in
        effect after the next boot), Rejected (read-only or an invalid value, with the reason),
        UnknownComponent, UnknownVariable or NotSupportedAttributeType."""
        results = []
        changed: list[Variable] = []
        for item in request["setVariableData"]:
            attribute = item.get("attributeType", "Actual")
            result: dict[str, Any] = {"attributeType": attribute,
                                      "component": item["component"],
                                      "variable": item["variable"]}
            found, status = self._lookup(item["component"], item["variable"])
            if found is None:
                result["attributeStatus"] = status
            elif attribute not in found.attributes:
                result["attributeStatus"] = "NotSupportedAttributeType"
            elif found.attributes[attribute].mutability == "ReadOnly":
                result["attributeStatus"] = "Rejected"
                result["attributeStatusInfo"] = _status_info("ReadOnly",
                                                             f"{found.label} is read-only")
            else:
                value, problem = _checked(found, str(item["attributeValue"]))
                if problem is None and found.label in self.value_checks:
                    problem = self.value_checks[found.label](value)
                if problem is not None:
                    result["attributeStatus"] = "Rejected"
                    result["attributeStatusInfo"] = _status_info(*problem)
                else:
                    found.attributes[attribute].value = value
                    if found.label in self.seed.reboot_required:
                        result["attributeStatus"] = "RebootRequired"
                    else:
                        result["attributeStatus"] = "Accepted"
                        if attribute == "Actual":
                            changed.append(found)
            results.append(result)
        for variable in changed:
            self._announce(variable)
        return {"setVariableResult": results}

    def _announce(self, variable: Variable) -> None:
        for prop, where in _PROPS_201.items():
            if where[3] == "value" and (where[0], where[1], where[2]) == (
                    variable.component, variable.name, variable.instance) and \
                    variable.evse_id is None:
                self._changed(prop, self.typed(prop))
                return
        self._changed(variable.label, variable.read())

    # -- reports ------------------------------------------------------------------------------

    def _report_item(self, variable: Variable) -> dict[str, Any]:
        attributes = []
        for kind, attribute in variable.attributes.items():
            entry: dict[str, Any] = {"type": kind, "mutability": attribute.mutability,
                                     "persistent": attribute.persistent,
                                     "constant": attribute.constant}
            value = variable.read(kind)
            if attribute.mutability != "WriteOnly" and value is not None:
                entry["value"] = value[:2500]
            attributes.append(entry)
        return {"component": variable.component_wire(), "variable": variable.variable_wire(),
                "variableAttribute": attributes,
                "variableCharacteristics": variable.characteristics_wire()}

    def base_report(self, report_base: str) -> list[dict[str, Any]]:
        """The reportData items of GetBaseReport ``report_base``: ConfigurationInventory (what
        the CSMS can set), FullInventory (everything) or SummaryInventory (availability and
        problem state of each component)."""
        if report_base == "ConfigurationInventory":
            chosen = [v for v in self._variables.values()
                      if any(a.mutability != "ReadOnly" for a in v.attributes.values())]
        elif report_base == "SummaryInventory":
            chosen = [v for v in self._variables.values()
                      if v.name.casefold() in SUMMARY_VARIABLES]
        elif report_base == "FullInventory":
            chosen = list(self._variables.values())
        else:
            raise ValueError(f"unknown reportBase {report_base!r}")
        return [self._report_item(v) for v in chosen]

    def get_base_report(self, request: dict[str, Any]
                        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """GetBaseReport: (the response, the reportData to send in NotifyReport parts).
        NotSupported for a report base the seed leaves out (TC_B_15)."""
        base = request["reportBase"]
        if base not in self.seed.report_bases:
            return {"status": "NotSupported", "statusInfo": _status_info(
                "UnsupportedParam", f"reportBase {base} is not supported")}, []
        items = self.base_report(base)
        return ({"status": "Accepted"} if items else {"status": "EmptyResultSet"}), items

    def custom_report(self, request: dict[str, Any]
                      ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """GetReport: (the response, the reportData). Items match any componentVariable given
        (an absent evse, instance or variable matches all) and any componentCriteria given
        (Active / Available / Enabled true, or Problem true; a component without the criterion's
        variable counts as Active / Available / Enabled, never as having a Problem).
        EmptyResultSet when nothing matches."""
        chosen = list(self._variables.values())
        wanted = request.get("componentVariable")
        if wanted:
            chosen = [v for v in chosen if any(_matches(cv, v) for cv in wanted)]
        criteria = request.get("componentCriteria")
        if criteria:
            chosen = [v for v in chosen if self._meets(v.component_key, criteria)]
        if not chosen:
            return {"status": "EmptyResultSet"}, []
        return {"status": "Accepted"}, [self._report_item(v) for v in chosen]

    def _meets(self, component_key: tuple[str, str, int | None, int | None],
               criteria: list[str]) -> bool:
        for criterion in criteria:
            found = self._variables.get((*component_key, criterion.casefold(), ""))
            if found is None:
                if criterion != "Problem":
                    return True
            elif (found.read() or "").lower() == "true":
                return True
        return False


def _matches(wanted: Mapping[str, Any], v: Variable) -> bool:
    component = wanted["component"]
    if str(component["name"]).casefold() != v.component.casefold():
        return False
    if component.get("instance") is not None and \
            str(component["instance"]).casefold() != (v.component_instance or "").casefold():
        return False
    evse = component.get("evse")
    if evse is not None and (evse["id"] != v.evse_id or (
            evse.get("connectorId") is not None and evse["connectorId"] != v.connector_id)):
        return False
    variable = wanted.get("variable")
    if variable is None:
        return True
    if str(variable["name"]).casefold() != v.name.casefold():
        return False
    return variable.get("instance") is None or \
        str(variable["instance"]).casefold() == (v.instance or "").casefold()


def _checked(v: Variable, text: str) -> tuple[str, tuple[str, str] | None]:
    """``text`` as stored for ``v``, or the (reasonCode, why) it is refused."""
    bad = ("InvalidValue", f"{text!r} is not a valid {v.data_type} for {v.label}")
    if v.data_type == "boolean":
        lowered = text.strip().lower()
        return (lowered, None) if lowered in ("true", "false") else (text, bad)
    if v.data_type in ("integer", "decimal"):
        text = text.strip()
        try:
            number = float(text)
        except ValueError:
            return text, bad
        if not math.isfinite(number) or (v.data_type == "integer" and not _INTEGER.match(text)):
            return text, bad
        if (v.min_limit is not None and number < v.min_limit) or \
                (v.max_limit is not None and number > v.max_limit):
            return text, ("ValueOutOfRange", f"{v.label} must be within "
                                             f"{v.min_limit}..{v.max_limit}")
        return (str(int(number)) if v.data_type == "integer" else text), None
    if v.data_type == "dateTime":
        return (text, None) if parse_timestamp(text) is not None else (text, bad)
    if v.data_type in ("OptionList", "MemberList", "SequenceList"):
        items = [p.strip() for p in text.split(",") if p.strip()]
        allowed = v.values_list or ()
        if any(item not in allowed for item in items) or \
                (v.data_type == "OptionList" and len(items) != 1) or \
                (v.data_type == "SequenceList" and len(set(items)) != len(items)):
            return text, bad
        if v.component == "TxCtrlr" and not items:
            return text, ("InvalidValue", f"{v.label} needs at least one point")
        return ",".join(items), None
    if v.label == "SecurityCtrlr.BasicAuthPassword" and not _PASSWORD.match(text):
        return text, ("InvalidValue", "the password must be 16 to 40 printable characters")
    if v.max_limit is not None and len(text) > v.max_limit:
        return text, ("ValueTooLong", f"{v.label} takes at most {int(v.max_limit)} characters")
    return text, None


def notify_report_parts(request_id: int, items: list[dict[str, Any]], *,
                        generated_at: datetime, items_per_message: int
                        ) -> list[dict[str, Any]]:
    """NotifyReport requests carrying ``items``: seqNo from 0, ``tbc`` on all but the last.
    No items: one part without reportData."""
    stamp = generated_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    size = max(1, items_per_message)
    chunks = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    parts = []
    for seq, chunk in enumerate(chunks):
        part: dict[str, Any] = {"requestId": request_id, "generatedAt": stamp, "seqNo": seq,
                                "tbc": seq < len(chunks) - 1}
        if chunk:
            part["reportData"] = chunk
        parts.append(part)
    return parts


def settings_for(version: str | OcppVersion, seed: SettingsSeed, **options: Any) -> StationSettings:
    """The settings class of ``version`` ("1.6" or "2.0.1")."""
    parsed = OcppVersion.parse(str(version))
    if parsed is OcppVersion.V16:
        return Configuration16(seed)
    if parsed is OcppVersion.V201:
        return DeviceModel201(seed, **options)
    raise ValueError(f"no station settings for OCPP {parsed.short}")


__all__ = ["MEASURANDS_16", "MEASURANDS_201", "PROPERTY_KINDS", "REPORT_BASES",
           "SIMULATED_MEASURANDS", "TX_POINTS", "Attribute", "ChangeCallback", "Configuration16",
           "DeviceModel201", "KeyDef", "SettingsSeed", "StationSettings", "Variable",
           "notify_report_parts", "settings_for"]
