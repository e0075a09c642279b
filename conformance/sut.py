"""The SUT file: what the CSMS (or the charging station) under test claims, and the values its
cases need.

Station under test (issue 7) adds ``listen``, ``security_profile``, ``actions`` (how the suite
makes the station act: the simulator's control channel, an HTTP template per action, a prompt),
``intervals`` and the station features (``STATION_FEATURES``); the rest is shared.

YAML, checked against ``conformance/sut.schema.json``; a problem names the file, the line, the
key and what would be valid (``chargeloop.yamldoc``). Everything has a default, so a CSMS that
accepts unknown stations and knows the default tokens needs no file at all.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs

from chargeloop.ocppj import OcppVersion
from chargeloop.yamldoc import DocumentError, Locator, Problem, choices, load_checked
from conformance.catalogue import PROFILES, profile_code

# Optional features a CSMS may claim; a conditional case that needs one is "not applicable"
# without it. Named after the certification programme's feature list, in our words.
FEATURES: dict[str, str] = {
    "pending_boot": "answers BootNotification Pending and later Accepted (TC_B_02)",
    "rejected_boot": "answers BootNotification Rejected for a station it refuses",
    "offline_transactions": "accepts transaction messages queued while offline",
    "authorization_cache": "station-side authorization cache management (ClearCache)",
    "group_id": "id tokens with a group id (stop by another token of the group)",
    "remote_start_without_authorize": "RequestStartTransaction without prior Authorize",
    "unlock_connector": "sends UnlockConnector",
    "get_composite_schedule": "sends GetCompositeSchedule",
    "tx_default_profile_all_evses": "sets a TxDefaultProfile for all EVSEs at once, evseId 0 "
                                    "(TC_K_10)",
    "signed_meter_values": "stores signed meter values",
    "basic_auth": "HTTP Basic authentication (security profile 1)",
    "tls_server": "TLS with a server certificate (security profile 2)",
    "tls_client_certificates": "mutual TLS (security profile 3)",
    "customer_identifier": "CustomerInformation by customerIdentifier (TC_N_62)",
    "customer_certificate": "CustomerInformation by customerCertificate (TC_N_63)",
    "trigger_message": "sends TriggerMessage for MeterValues, TransactionEvent, "
                       "LogStatusNotification, FirmwareStatusNotification, StatusNotification",
    "reserve_unspecified_evse": "sends ReserveNow without an evseId (TC_H_08)",
    "reserve_connector_type": "sends ReserveNow for a connector type (TC_H_15)",
    "get_transaction_status": "sends GetTransactionStatus (TC_E_29..E_34)",
    "local_controller": "publishes firmware on a Local Controller: PublishFirmware, "
                        "UnpublishFirmware (TC_L_17..L_24)",
}

# What a charging station under test may claim (issue 7): applicability of its ``_CS`` cases.
STATION_FEATURES: dict[str, str] = {
    "fixed_cable": "station: the connectors have a fixed cable (UnlockConnector NotSupported)",
    "detachable_cable": "station: the connectors have a socket, the cable is detachable",
    "local_auth_list": "station: a local authorization list (SendLocalList); 1.6: without it "
                       "a station claiming the LocalAuthList profile must answer it is not "
                       "supported (TC_042_1, TC_043_1)",
    "authorization_cache": "station: an authorization cache (ClearCache Accepted)",
    # 2.0.1 authorization cache details (prerequisites of the C10 / C12 / C15 cases)
    "authorization_cache_persistent": "station: 2.0.1 the authorization cache is kept in "
                                      "non-volatile memory, over a reboot (TC_C_32)",
    "auth_cache_lifetime": "station: 2.0.1 AuthCacheCtrlr.LifeTime is implemented (TC_C_46)",
    "auth_cache_disable_post_authorize": "station: 2.0.1 AuthCacheCtrlr.DisablePostAuthorize "
                                         "is implemented (TC_C_57)",
    "max_energy_on_invalid_id": "station: 2.0.1 TxCtrlr.MaxEnergyOnInvalidId is implemented "
                                "(TC_C_15, C_18)",
    "offline_tx_unknown_id": "station: 2.0.1 AuthCtrlr.OfflineTxForUnknownIdEnabled, offline "
                             "transactions for unknown idTokens (C15: TC_C_26)",
    "master_pass": "station: 2.0.1 master pass, AuthCtrlr.MasterPassGroupId (C16: TC_C_45, "
                   "C_47..C_49)",
    "master_pass_ui": "station: a user interface where a master pass holder chooses the "
                      "transactions to stop (C16.FR.01: TC_C_47, C_48; without it TC_C_49)",
    "disable_remote_authorization": "station: 2.0.1 AuthCtrlr.DisableRemoteAuthorization "
                                    "(TC_E_52)",
    "aligned_send_during_idle": "station: AlignedDataCtrlr.SendDuringIdle, clock-aligned "
                                "values only while idle (C-28: TC_J_06)",
    "firmware_download_during_transaction": "station: downloads firmware while a transaction "
                                            "runs (AQ-7: TC_L_14, L_15; without it TC_L_12, "
                                            "L_13)",
    "firmware_install_during_transaction": "station: installs firmware while a transaction "
                                           "runs (C-43: TC_L_16; without it TC_L_12..L_15)",
    "firmware_update_cancel": "station: a new UpdateFirmware cancels an ongoing update "
                              "(AcceptedCanceled: TC_L_10; without it TC_L_11)",
    "log_unavailable": "station: has no log information to upload (it is in that state for "
                       "the run; GetLog Rejected: TC_N_34)",
    "log_upload_cancel": "station: a new GetLog cancels an ongoing log upload "
                         "(AcceptedCanceled, C-57: TC_N_36)",
    "reservation_connector_zero": "station: reservations of the whole station (connector 0)",
    "power_loss_stop_before_down": "station: on a power failure it ends running transactions "
                                   "(StopTransaction PowerLoss) before it goes down (1.6 TC_032_1)",
    "single_charging_rate_unit": "station: its charging profiles take one chargingRateUnit "
                                 "only, A or W (SmartChargingCtrlr.RateUnit; TC_K_12, TC_K_42)",
    "reservation_unspecified_evse": "station: 2.0.1 reservations of an unspecified EVSE, "
                                    "ReserveNow without evseId (ReservationCtrlr."
                                    "NonEvseSpecific, R-2: TC_H_08..H_14, H_24; without it "
                                    "TC_H_13)",
    "reservation_connector_type": "station: 2.0.1 reservations of a connector type, ReserveNow "
                                  "with connectorType (R-1: TC_H_15, TC_H_16)",
    "reservation_enabled_variable": "station: 2.0.1 ReservationCtrlr.Enabled is implemented, "
                                    "reservations can be switched off (R-3: TC_H_22)",
    "summary_inventory": "station: 2.0.1 GetBaseReport SummaryInventory (C-56; without it "
                         "TC_B_15)",
    "additional_root_certificate_check": "station: 2.0.1 SecurityCtrlr."
                                         "AdditionalRootCertificateCheck true, one CSMS root "
                                         "at a time, a new one signed by the old one (AS-2: "
                                         "TC_M_09, M_30, M_31, TC_B_47)",
    "cable_lock_before_authorization": "station: 2.0.1 a cable lock keeps the driver from "
                                       "connecting the EV before authorization (AQ-2; such a "
                                       "station skips the cable-first TC_F_01)",
    "authorize_remote_start_true": "station: 2.0.1 AuthCtrlr.AuthorizeRemoteStart can be set "
                                   "true, a remote start is authorized first (C-48.1: TC_F_02)",
    "authorize_remote_start_false": "station: 2.0.1 AuthCtrlr.AuthorizeRemoteStart can be set "
                                    "false, a remote start is not authorized (C-48.2: TC_F_03)",
    "reset_evse": "station: 2.0.1 Reset of a single EVSE, Reset with evseId (C-13: TC_B_25.."
                  "B_27; without it TC_B_28, B_29)",
    "trigger_meter_values": "station: 2.0.1 TriggerMessage MeterValues (C-29.1: TC_F_11, F_12)",
    "trigger_transaction_event": "station: 2.0.1 TriggerMessage TransactionEvent (C-29.2: "
                                 "TC_F_13, F_14)",
    "trigger_log_status": "station: 2.0.1 TriggerMessage LogStatusNotification (C-29.3: TC_F_15, "
                          "F_16)",
    "trigger_firmware_status": "station: 2.0.1 TriggerMessage FirmwareStatusNotification (C-29.4: "
                               "TC_F_17..F_19)",
    "trigger_status_notification": "station: 2.0.1 TriggerMessage StatusNotification for an "
                                   "EVSE (C-29.5: TC_F_23, F_24)",
    "trigger_boot_notification": "station: 2.0.1 TriggerMessage BootNotification (C-29.6: "
                                 "TC_F_26)",
    "trigger_sign_combined_certificate": "station: 2.0.1 TriggerMessage SignCombinedCertificate "
                                         "is implemented (AQ-11; without it TC_F_27)",
    # 2.0.1 TxCtrlr.TxStartPoint / TxStopPoint values the station supports (C-09.x, C-10.x:
    # the "Start/Stop transaction options" cases TC_E_01..E_22, E_26, E_27, E_35, E_37)
    "tx_start_parking_bay_occupancy": "station: 2.0.1 TxStartPoint ParkingBayOccupancy (a "
                                      "parking bay sensor starts the transaction: TC_E_12)",
    "tx_start_ev_connected": "station: 2.0.1 TxStartPoint EVConnected (TC_E_09)",
    "tx_start_authorized": "station: 2.0.1 TxStartPoint Authorized (TC_E_10, E_13)",
    "tx_start_data_signed": "station: 2.0.1 TxStartPoint DataSigned, signed meter data "
                            "(TC_E_11)",
    "tx_start_power_path_closed": "station: 2.0.1 TxStartPoint PowerPathClosed (TC_E_01)",
    "tx_start_energy_transfer": "station: 2.0.1 TxStartPoint EnergyTransfer (TC_E_02)",
    "tx_stop_parking_bay_occupancy": "station: 2.0.1 TxStopPoint ParkingBayOccupancy (a parking "
                                     "bay sensor ends the transaction: TC_E_19)",
    "tx_stop_ev_connected": "station: 2.0.1 TxStopPoint EVConnected (TC_E_14, E_20, E_54)",
    "tx_stop_authorized": "station: 2.0.1 TxStopPoint Authorized (TC_E_15..E_17, E_21, E_26, "
                          "E_27)",
    "tx_stop_power_path_closed": "station: 2.0.1 TxStopPoint PowerPathClosed (TC_E_07, E_35, "
                                 "E_37)",
    "tx_stop_energy_transfer": "station: 2.0.1 TxStopPoint EnergyTransfer (TC_E_08, E_22)",
    "transaction_before_evse_known": "station: 2.0.1 a reader shared by its EVSEs, where a "
                                     "driver is authorized before choosing an EVSE: with "
                                     "TxStartPoint Authorized the transaction starts before "
                                     "the EVSE is known (TC_J_08)",
    "iec61851_ev": "station: 2.0.1 charges an EV that uses IEC 61851-1 basic signalling (AQ-9: "
                   "TC_E_20; without it TC_E_54)",
    "csms_root_removable": "station: 2.0.1 its last CSMSRootCertificate can be removed (by "
                           "other means than OCPP), or it has none at security profile 1 "
                           "(AQ-1: TC_A_20)",
    "network_profile_fallback_to_last": "station: 2.0.1 once every NetworkConfigurationPriority "
                                        "entry failed, it reconnects with the profile of its "
                                        "last successful connection (C-47, B10.FR.07: "
                                        "TC_B_49)",
}
FEATURES.update({name: text for name, text in STATION_FEATURES.items() if name not in FEATURES})

# Actions a station-under-test case may need someone (or something) to do at the charger.
STATION_ACTIONS: dict[str, str] = {
    "fresh": "bring the station into its factory state and let it boot (simulated only)",
    "plug_in": "plug an EV into EVSE {evse}",
    "unplug": "unplug the EV from EVSE {evse}",
    "present_token": "present id token {token} at EVSE {evse}",
    "present_token_station": "present id token {token} at the station's own reader (shared by "
                             "its EVSEs), before any EVSE is chosen",
    "power_cycle": "switch the station off and on again",
    "network_down": "cut the station's network connection",
    "network_up": "restore the station's network connection",
    "lock_failure": "make the connector lock of EVSE {evse} fail",
    "fault": "make EVSE {evse} report a fault for a few seconds, then clear it",
    "local_list_fails": "bring the station into a state in which it fails to store a local "
                        "authorization list",
    "reject_reservations": "configure the station to reject reservations",
    "unplug_ev_side": "disconnect the cable of EVSE {evse} at the EV side (a detachable cable "
                      "stays in the station's socket)",
    "ev_suspends": "have the EV at EVSE {evse} suspend the energy transfer (SuspendedEV)",
    "parking_bay_occupied": "park an EV in the parking bay of EVSE {evse}",
    "parking_bay_vacated": "drive the EV out of the parking bay of EVSE {evse}",
    "plug_in_not_ready": "plug into EVSE {evse} an EV that is not ready to take energy",
    "master_pass_stop_all": "on the master pass screen, choose to stop all transactions",
    "master_pass_stop_evse": "on the master pass screen, choose to stop the transaction on "
                             "EVSE {evse} only",
}

DEFAULT_NAME = "CSMS under test"


class SutError(DocumentError):
    """A SUT file that cannot be used; ``problems`` says why."""


@dataclass(frozen=True, slots=True)
class SutStation:
    id: str
    password: str | None = None
    evses: int = 1


@dataclass(frozen=True, slots=True)
class SutTokens:
    valid: str = "CONF-VALID-1"
    valid_2: str = "CONF-VALID-2"
    invalid: str = "CONF-UNKNOWN"
    blocked: str = "CONF-BLOCKED"
    expired: str = "CONF-EXPIRED"
    group_id: str = "CONF-GROUP"
    # a token whose group is the master pass group (C16: stops any transaction)
    master_pass: str = "CONF-MASTER"
    master_pass_group_id: str = "CONF-MASTERPASS"


@dataclass(frozen=True, slots=True)
class HttpTrigger:
    path: str
    method: str = "POST"
    body: Any = None


@dataclass(frozen=True, slots=True)
class TriggerSettings:
    kind: str = "none"  # reference, http, interactive, none
    base_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    actions: dict[str, HttpTrigger] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionSettings:
    """How a station-under-test case makes the station act (plug in, present a token, ...)."""

    kind: str = "none"  # simulated, http, interactive, none
    base_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    templates: dict[str, HttpTrigger] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StationIntervals:
    """Intervals the harness (as CSMS) configures on a station under test, in seconds: short
    keeps a run short, long gives a slow charger room."""

    heartbeat_s: int = 10
    boot_retry_s: int = 10
    connection_timeout_s: int = 15
    meter_sample_s: int = 10


@dataclass(frozen=True, slots=True)
class TlsSettings:
    ca: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    server_cert: Path | None = None  # station under test: the harness's certificate chain
    server_key: Path | None = None
    # CSMS under test: where it serves security profile 2 (TLS + Basic auth) and 3 (mutual
    # TLS); each defaults to ``url`` when that is wss:// (one endpoint serving both)
    profile_2_url: str | None = None
    profile_3_url: str | None = None


@dataclass(frozen=True, slots=True)
class FirmwareSettings:
    """Station under test: firmware the charger accepts, for the firmware cases (1.6 TC_044,
    TC_080, 2.0.1 block L). Without it the harness serves an image of its own (and signs it
    with a test signing certificate), which only the simulated station installs."""

    image: Path | None = None  # 1.6 UpdateFirmware: an image the charger installs
    signed_image: Path | None = None  # 1.6 SignedUpdateFirmware / 2.0.1 UpdateFirmware
    signing_certificate: Path | None = None  # PEM, the vendor's firmware signing certificate
    signature: str | None = None  # base64 signature of signed_image


@dataclass(frozen=True, slots=True)
class Sut:
    name: str = DEFAULT_NAME
    url: str | None = None
    version: OcppVersion = OcppVersion.V201
    profiles: tuple[str, ...] = ("Core",)  # catalogue codes; Core always
    features: frozenset[str] = frozenset()
    stations: tuple[SutStation, ...] = (SutStation("CONF-CS-1"),)
    # stations the CSMS knows and answers BootNotification Pending / Rejected (TC_B_30, B_31)
    pending_station: SutStation | None = None
    rejected_station: SutStation | None = None
    tokens: SutTokens = field(default_factory=SutTokens)
    answer_timeout_s: float = 30.0
    action_timeout_s: float = 60.0
    tls: TlsSettings = field(default_factory=TlsSettings)
    triggers: TriggerSettings = field(default_factory=TriggerSettings)
    # station under test
    listen: str | None = None
    security_profile: int = 0
    actions: ActionSettings = field(default_factory=ActionSettings)
    intervals: StationIntervals = field(default_factory=StationIntervals)
    firmware: FirmwareSettings = field(default_factory=FirmwareSettings)

    def tls_url(self, profile: int) -> str | None:
        """The wss:// endpoint of security profile 2 or 3, if the SUT file gives one."""
        given = self.tls.profile_2_url if profile == 2 else self.tls.profile_3_url
        if given is not None:
            return given
        return self.url if (self.url or "").startswith("wss://") else None

    def claims(self, feature: str) -> bool:
        if feature not in FEATURES:
            raise KeyError(f"{feature!r} is not a feature the suite knows")
        return feature in self.features


def load_sut(path: str | Path) -> Sut:
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SutError([Problem(str(path), 1, 1, "", f"cannot read the SUT file: {exc}")]) \
            from None
    return load_sut_text(text, str(path), base_dir=path.parent)


def load_sut_text(text: str, source: str = "<string>", *, base_dir: Path | None = None) -> Sut:
    # every key of a SUT file is optional: an empty one describes a station with defaults
    data, locator = load_checked(text, source, schema=_schema(), validator=_validator(),
                                 error=SutError, mapping=None)
    problems: list[Problem] = []
    version = OcppVersion.V16 if data.get("ocpp_version") == "1.6" else OcppVersion.V201
    profiles = ["Core"]
    for i, name in enumerate(data.get("profiles", [])):
        try:
            code = profile_code(version, name)
        except ValueError:
            label = version.value.removeprefix("ocpp")
            problems.append(locator.problem(("profiles", i), f"{name!r} is not an OCPP {label} "
                            "profile" + choices(name, list(PROFILES[version]), "profiles")))
            continue
        if code not in profiles:
            profiles.append(code)
    for i, name in enumerate(data.get("features", [])):
        if name not in FEATURES:
            problems.append(locator.problem(("features", i), f"unknown feature {name!r}"
                                            + choices(name, list(FEATURES), "features")))
    triggers = _triggers(data.get("triggers", {"kind": "none"}), locator, problems)
    actions = _actions(data.get("actions", {"kind": "none"}), locator, problems)
    profile = int(data.get("security_profile", 0))
    stations_raw = data.get("stations", [{"id": "CONF-CS-1"}])
    if profile in (1, 2) and "listen" in data and not stations_raw[0].get("password"):
        problems.append(locator.problem(("security_profile",), f"security profile {profile} "
                                        "(HTTP Basic auth) needs stations[0].password, the "
                                        "password the station sends"))
    base = base_dir or Path.cwd()
    tls_raw = data.get("tls", {})
    urls = {k: v for k, v in tls_raw.items() if k in _TLS_URLS}
    files = {k: v for k, v in tls_raw.items() if k not in _TLS_URLS}
    tls = TlsSettings(**{k: (base / v) for k, v in files.items()}, **urls)
    for key, value in files.items():
        if not (base / value).is_file():
            problems.append(locator.problem(("tls", key), f"file not found: {base / value}"))
    firmware = _firmware(data.get("firmware", {}), base, locator, problems)
    if problems:
        raise SutError(problems)
    timeouts = data.get("timeouts", {})
    return Sut(
        name=data.get("name", DEFAULT_NAME), url=data.get("url"), version=version,
        profiles=tuple(profiles), features=frozenset(data.get("features", [])),
        stations=tuple(SutStation(s["id"], s.get("password"), s.get("evses", 1))
                       for s in data.get("stations", [{"id": "CONF-CS-1"}])),
        pending_station=_boot_station(data.get("pending_station")),
        rejected_station=_boot_station(data.get("rejected_station")),
        tokens=SutTokens(**data.get("tokens", {})),
        answer_timeout_s=float(timeouts.get("answer_s", 30.0)),
        action_timeout_s=float(timeouts.get("action_s", 60.0)), tls=tls, triggers=triggers,
        listen=data.get("listen"), security_profile=profile, actions=actions,
        intervals=StationIntervals(**data.get("intervals", {})), firmware=firmware)


def _boot_station(raw: dict[str, Any] | None) -> SutStation | None:
    return None if raw is None else SutStation(raw["id"], raw.get("password"))


_TLS_URLS = ("profile_2_url", "profile_3_url")  # the tls section's keys that are not files


def _firmware(raw: dict[str, Any], base: Path, locator: Locator, problems: list[Problem]
              ) -> FirmwareSettings:
    """The ``firmware`` section: its files relative to the SUT file, which must exist; a
    signed image comes with its signing certificate and signature."""
    files = {k: base / v for k, v in raw.items() if k != "signature"}
    for key, path in files.items():
        if not path.is_file():
            problems.append(locator.problem(("firmware", key), f"file not found: {path}"))
    signed = [k for k in ("signed_image", "signing_certificate", "signature") if k in raw]
    if signed and len(signed) != 3:
        problems.append(locator.problem(("firmware",), "signed_image, signing_certificate and "
                                        "signature go together; missing: " + ", ".join(
                                            k for k in ("signed_image", "signing_certificate",
                                                        "signature") if k not in raw)))
    return FirmwareSettings(**files, signature=raw.get("signature"))

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _triggers(raw: dict[str, Any], locator: Locator, problems: list[Problem]) -> TriggerSettings:
    kind = raw["kind"]
    headers = {}
    for name, value in raw.get("headers", {}).items():
        missing = [m for m in _ENV.findall(value) if m not in os.environ]
        if missing:
            problems.append(locator.problem(("triggers", "headers", name),
                                            f"environment variable {missing[0]} is not set"))
        headers[name] = _ENV.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if kind == "http" and not raw.get("base_url"):
        problems.append(locator.problem(("triggers", "kind"), "http triggers need base_url",
                                        at_key=True))
    if kind == "http" and not raw.get("actions"):
        problems.append(locator.problem(("triggers", "kind"), "http triggers need actions: "
                                        "one request per OCPP action", at_key=True))
    actions = {action: HttpTrigger(path=t["path"], method=t.get("method", "POST"),
                                   body=t.get("body"))
               for action, t in raw.get("actions", {}).items()}
    return TriggerSettings(kind=kind, base_url=raw.get("base_url"), headers=headers,
                           actions=actions)


def _actions(raw: dict[str, Any], locator: Locator, problems: list[Problem]) -> ActionSettings:
    kind = raw["kind"]
    headers = {}
    for name, value in raw.get("headers", {}).items():
        missing = [m for m in _ENV.findall(value) if m not in os.environ]
        if missing:
            problems.append(locator.problem(("actions", "headers", name),
                                            f"environment variable {missing[0]} is not set"))
        headers[name] = _ENV.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if kind == "http" and not raw.get("base_url"):
        problems.append(locator.problem(("actions", "kind"), "http actions need base_url",
                                        at_key=True))
    templates = {}
    for name, t in raw.get("templates", {}).items():
        if name not in STATION_ACTIONS:
            problems.append(locator.problem(("actions", "templates", name),
                                            f"unknown action {name!r}"
                                            + choices(name, list(STATION_ACTIONS), "actions")))
            continue
        templates[name] = HttpTrigger(path=t["path"], method=t.get("method", "POST"),
                                      body=t.get("body"))
    return ActionSettings(kind=kind, base_url=raw.get("base_url"), headers=headers,
                          templates=templates)


@cache
def _schema() -> dict[str, Any]:
    return json.loads(resources.files("conformance").joinpath("sut.schema.json")
                      .read_text("utf-8"))


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(_schema())
