"""Station settings: 1.6 configuration keys (GetConfiguration / ChangeConfiguration) and the
2.0.1 device model (GetVariables / SetVariables / GetBaseReport / GetReport), every response
checked against the official schema of its version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chargeloop.ocppj import Direction, OcppVersion, validate
from simulator.station.settings import (
    Configuration16,
    DeviceModel201,
    SettingsSeed,
    notify_report_parts,
    settings_for,
)

SECRET = "s3cret-Passw0rd-for-CS"
NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def check(version: str, action: str, payload: dict[str, Any],
          direction: Direction = Direction.RESPONSE) -> dict[str, Any]:
    validate(OcppVersion.parse(version), action, direction, payload)
    return payload


# -- 1.6 ------------------------------------------------------------------------------------------

def get16(config: Configuration16, *keys: str) -> dict[str, Any]:
    request = {"key": list(keys)} if keys else {}
    check("1.6", "GetConfiguration", request, Direction.REQUEST)
    return check("1.6", "GetConfiguration", config.get(request))


def change16(config: Configuration16, key: str, value: str) -> str:
    request = {"key": key, "value": value}
    check("1.6", "ChangeConfiguration", request, Direction.REQUEST)
    return str(check("1.6", "ChangeConfiguration", config.change(request))["status"])


def test_get_configuration_lists_every_key_with_types_and_readonly_flags() -> None:
    config = Configuration16(SettingsSeed(evse_connectors=(("cType2",), ("cType2",)),
                                          basic_auth_password=SECRET, security_profile=1))
    answer = get16(config)
    keys = {k["key"]: k for k in answer["configurationKey"]}
    assert "unknownKey" not in answer
    for required in ("HeartbeatInterval", "MeterValueSampleInterval", "ClockAlignedDataInterval",
                     "MeterValuesSampledData", "MeterValuesAlignedData", "StopTxnSampledData",
                     "StopTxnAlignedData", "AuthorizeRemoteTxRequests",
                     "AuthorizationCacheEnabled", "LocalAuthListEnabled",
                     "LocalAuthListMaxLength", "SendLocalListMaxLength", "LocalPreAuthorize",
                     "LocalAuthorizeOffline", "AllowOfflineTxForUnknownId", "ConnectionTimeOut",
                     "ResetRetries", "TransactionMessageAttempts",
                     "TransactionMessageRetryInterval", "StopTransactionOnEVSideDisconnect",
                     "StopTransactionOnInvalidId", "UnlockConnectorOnEVSideDisconnect",
                     "NumberOfConnectors", "SupportedFeatureProfiles",
                     "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit",
                     "ChargingScheduleMaxPeriods", "MaxChargingProfilesInstalled",
                     "GetConfigurationMaxKeys", "WebSocketPingInterval",
                     "MeterValuesSampledDataMaxLength", "ReserveConnectorZeroSupported",
                     "SecurityProfile", "CpoName"):
        assert required in keys, required
    assert keys["HeartbeatInterval"] == {"key": "HeartbeatInterval", "readonly": False,
                                         "value": "300"}
    assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True,
                                          "value": "2"}
    assert keys["ChargingScheduleAllowedChargingRateUnit"]["value"] == "Current,Power"
    assert keys["SupportedFeatureProfiles"]["value"].startswith("Core,")
    assert keys["MeterValuesSampledData"]["value"] == \
        "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage"


def test_authorization_key_is_write_only_never_reported() -> None:
    config = Configuration16(SettingsSeed(basic_auth_password=SECRET, security_profile=1))
    assert SECRET not in str(get16(config))
    assert "AuthorizationKey" not in {k["key"] for k in get16(config)["configurationKey"]}
    # asked for by name: the key exists and is writable, its value is not told
    assert get16(config, "AuthorizationKey")["configurationKey"] == [
        {"key": "AuthorizationKey", "readonly": False}]
    seen: list[tuple[str, Any]] = []
    config.on_change(lambda name, value: seen.append((name, value)))
    new = "another-Passw0rd-123"
    assert change16(config, "AuthorizationKey", new) == "Accepted"
    assert config.basic_auth_password == new
    assert seen == [("basic_auth_password", new)]
    assert new not in str(get16(config)) and new not in str(get16(config, "AuthorizationKey"))
    assert change16(config, "AuthorizationKey", "short") == "Rejected"  # 16..40 characters
    assert config.basic_auth_password == new


def test_get_configuration_for_named_keys_case_insensitive_and_unknown() -> None:
    config = Configuration16(SettingsSeed())
    answer = get16(config, "heartbeatinterval", "NoSuchKey", "LocalPreAuthorize")
    assert [k["key"] for k in answer["configurationKey"]] == ["HeartbeatInterval",
                                                             "LocalPreAuthorize"]
    assert answer["unknownKey"] == ["NoSuchKey"]


def test_change_configuration_outcomes() -> None:
    config = Configuration16(SettingsSeed(reboot_required=frozenset({"WebSocketPingInterval"})))
    seen: list[tuple[str, Any]] = []
    unsubscribe = config.on_change(lambda name, value: seen.append((name, value)))
    assert change16(config, "HeartbeatInterval", "60") == "Accepted"
    assert config.heartbeat_interval_s == 60
    assert change16(config, "MeterValuesSampledData", "Energy.Active.Import.Register,SoC") == \
        "Accepted"
    assert config.sampled_measurands == ("Energy.Active.Import.Register", "SoC")
    assert change16(config, "localpreauthorize", "TRUE") == "Accepted"
    assert config.local_pre_authorize is True
    assert change16(config, "ConnectorPhaseRotation", "0.RST,1.RTS") == "Accepted"
    assert seen == [("heartbeat_interval_s", 60),
                    ("sampled_measurands", ("Energy.Active.Import.Register", "SoC")),
                    ("local_pre_authorize", True), ("ConnectorPhaseRotation", "0.RST,1.RTS")]
    # read-only, unknown, and values that are no good for the key
    assert change16(config, "NumberOfConnectors", "4") == "Rejected"
    assert change16(config, "ChargeProfileMaxStackLevel", "99") == "Rejected"
    assert change16(config, "NoSuchKey", "1") == "NotSupported"
    for key, value in (("HeartbeatInterval", "sixty"), ("HeartbeatInterval", "-5"),
                       ("HeartbeatInterval", "1.5"), ("LocalPreAuthorize", "yes"),
                       ("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus"),
                       ("MeterValuesSampledData", "RPM"),  # a measurand we cannot produce
                       ("ConnectorPhaseRotation", "0.XYZ")):
        assert change16(config, key, value) == "Rejected", (key, value)
    too_many = ",".join(["Voltage"] * 11)
    assert change16(config, "MeterValuesAlignedData", too_many) == "Rejected"  # > MaxLength
    assert config.heartbeat_interval_s == 60
    assert change16(config, "WebSocketPingInterval", "30") == "RebootRequired"
    assert config.websocket_ping_interval_s == 30  # stored; takes effect after the reboot
    unsubscribe()
    assert change16(config, "HeartbeatInterval", "90") == "Accepted"
    assert len(seen) == 4


def test_security_profile_only_goes_up_to_what_the_station_can_use() -> None:
    """TC_083 / TC_084: an upgrade with the credentials in place; a downgrade is rejected."""
    config = Configuration16(SettingsSeed(security_profile=0))
    assert change16(config, "SecurityProfile", "1") == "Rejected"  # no password yet
    assert change16(config, "AuthorizationKey", SECRET) == "Accepted"
    assert change16(config, "SecurityProfile", "2") == "Accepted"
    assert change16(config, "SecurityProfile", "1") == "Rejected"  # TC_084 downgrade
    assert change16(config, "SecurityProfile", "3") == "Rejected"  # no client certificate
    assert change16(config, "SecurityProfile", "4") == "Rejected"
    assert config.security_profile == 2


def test_feature_profiles_decide_which_keys_exist() -> None:
    config = Configuration16(SettingsSeed(features=("Core", "FirmwareManagement")))
    assert get16(config, "LocalAuthListEnabled", "ReserveConnectorZeroSupported",
                 "ChargeProfileMaxStackLevel")["unknownKey"] == [
        "LocalAuthListEnabled", "ReserveConnectorZeroSupported", "ChargeProfileMaxStackLevel"]
    assert change16(config, "LocalAuthListEnabled", "true") == "NotSupported"
    assert not config.local_list_supported and not config.smart_charging_enabled
    assert not config.reservation_enabled


# -- both versions --------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_typed_properties_read_the_seed_in_either_version(version: str) -> None:
    seed = SettingsSeed(heartbeat_interval_s=120, sample_interval_s=15, aligned_interval_s=600,
                        sampled_measurands=("Energy.Active.Import.Register", "Voltage"),
                        aligned_measurands=("Energy.Active.Import.Register",),
                        tx_ended_measurands=("Energy.Active.Import.Register",),
                        local_pre_authorize=True, local_authorize_offline=False,
                        allow_offline_tx_for_unknown_id=True, cache_enabled=False,
                        local_list_enabled=False, authorize_remote_start=True,
                        stop_tx_on_ev_side_disconnect=False, transaction_message_attempts=5,
                        transaction_message_retry_interval_s=20, ev_connection_timeout_s=90,
                        max_stack_level=7, max_schedule_periods=12, max_charging_profiles=9,
                        rate_units=("A",), reserve_any_evse=True, local_list_max_length=50,
                        send_local_list_max_length=25, basic_auth_password=SECRET,
                        security_profile=1)
    settings = settings_for(version, seed)
    assert (settings.heartbeat_interval_s, settings.sample_interval_s,
            settings.aligned_interval_s) == (120, 15, 600)
    assert settings.sampled_measurands == ("Energy.Active.Import.Register", "Voltage")
    assert settings.aligned_measurands == ("Energy.Active.Import.Register",)
    assert settings.tx_ended_measurands == ("Energy.Active.Import.Register",)
    assert settings.tx_start_points == ("PowerPathClosed",)
    assert settings.tx_stop_points == ("EVConnected", "Authorized")
    assert (settings.local_pre_authorize, settings.local_authorize_offline,
            settings.allow_offline_tx_for_unknown_id, settings.cache_enabled,
            settings.local_list_enabled, settings.authorize_remote_start,
            settings.stop_tx_on_ev_side_disconnect) == (True, False, True, False, False, True,
                                                        False)
    assert (settings.transaction_message_attempts,
            settings.transaction_message_retry_interval_s,
            settings.ev_connection_timeout_s) == (5, 20, 90)
    assert (settings.max_stack_level, settings.max_schedule_periods,
            settings.max_charging_profiles, settings.rate_units) == (7, 12, 9, ("A",))
    assert settings.reserve_any_evse is True and settings.auth_enabled is True
    assert (settings.local_list_max_length, settings.send_local_list_max_length) == (50, 25)
    assert settings.basic_auth_password == SECRET and settings.security_profile == 1


# -- 2.0.1 ---------------------------------------------------------------------------------------

def get201(model: DeviceModel201, *items: dict[str, Any]) -> list[dict[str, Any]]:
    request = {"getVariableData": list(items)}
    check("2.0.1", "GetVariables", request, Direction.REQUEST)
    return check("2.0.1", "GetVariables", model.get_variables(request))["getVariableResult"]


def set201(model: DeviceModel201, *items: dict[str, Any]) -> list[dict[str, Any]]:
    request = {"setVariableData": list(items)}
    check("2.0.1", "SetVariables", request, Direction.REQUEST)
    return check("2.0.1", "SetVariables", model.set_variables(request))["setVariableResult"]


def item(component: str, variable: str, value: str | None = None, *, evse: int | None = None,
         connector: int | None = None, instance: str | None = None,
         attribute: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"component": {"name": component}, "variable": {"name": variable}}
    if evse is not None:
        data["component"]["evse"] = {"id": evse, **({"connectorId": connector}
                                                    if connector is not None else {})}
    if instance is not None:
        data["variable"]["instance"] = instance
    if attribute is not None:
        data["attributeType"] = attribute
    if value is not None:
        data["attributeValue"] = value
    return data


def test_get_variables_statuses() -> None:
    """TC_B_06/07 values; TC_B_32 UnknownComponent, TC_B_33 UnknownVariable, TC_B_34
    NotSupportedAttributeType; a WriteOnly variable is Rejected."""
    model = DeviceModel201(SettingsSeed(basic_auth_password=SECRET,
                                        evse_connectors=(("cType2",), ("cCCS2", "cType2"))),
                           now=lambda: NOW)
    results = get201(
        model, item("OCPPCommCtrlr", "HeartbeatInterval"),
        item("ocppcommctrlr", "MessageTimeout", instance="Default"),
        item("EVSE", "Power", evse=2), item("Connector", "ConnectorType", evse=2, connector=1),
        item("ClockCtrlr", "DateTime"), item("NoSuchCtrlr", "HeartbeatInterval"),
        item("OCPPCommCtrlr", "NoSuchVariable"), item("EVSE", "Power", evse=3),
        item("OCPPCommCtrlr", "HeartbeatInterval", attribute="Target"),
        item("SecurityCtrlr", "BasicAuthPassword"))
    assert [(r["attributeStatus"], r.get("attributeValue")) for r in results] == [
        ("Accepted", "300"), ("Accepted", "30"), ("Accepted", "0.0"), ("Accepted", "cCCS2"),
        ("Accepted", "2026-01-05T08:00:00Z"), ("UnknownComponent", None),
        ("UnknownVariable", None), ("UnknownComponent", None),
        ("NotSupportedAttributeType", None), ("Rejected", None)]
    assert results[2]["component"] == {"name": "EVSE", "evse": {"id": 2}}
    assert SECRET not in str(results)


def test_set_variables_statuses_and_change_callbacks() -> None:
    """TC_B_09/10 Accepted, TC_B_11 invalid values, TC_B_35/36/37 unknown, TC_B_39 read-only,
    RebootRequired where configured."""
    model = DeviceModel201(SettingsSeed(
        reboot_required=frozenset({"OCPPCommCtrlr.WebSocketPingInterval"})))
    seen: list[tuple[str, Any]] = []
    model.on_change(lambda name, value: seen.append((name, value)))
    results = set201(
        model, item("OCPPCommCtrlr", "HeartbeatInterval", "60"),
        item("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,SoC"),
        item("TxCtrlr", "TxStartPoint", "EVConnected,Authorized"),
        item("AuthCtrlr", "LocalPreAuthorize", "True"),
        item("OCPPCommCtrlr", "MessageAttempts", "4", instance="TransactionEvent"),
        item("SmartChargingCtrlr", "LimitChangeSignificance", "0.5"),
        item("OCPPCommCtrlr", "WebSocketPingInterval", "30"))
    assert [r["attributeStatus"] for r in results] == ["Accepted"] * 6 + ["RebootRequired"]
    assert (model.heartbeat_interval_s, model.sampled_measurands, model.tx_start_points,
            model.local_pre_authorize, model.transaction_message_attempts) == (
        60, ("Energy.Active.Import.Register", "SoC"), ("EVConnected", "Authorized"), True, 4)
    assert seen == [("heartbeat_interval_s", 60),
                    ("sampled_measurands", ("Energy.Active.Import.Register", "SoC")),
                    ("tx_start_points", ("EVConnected", "Authorized")),
                    ("local_pre_authorize", True), ("transaction_message_attempts", 4),
                    ("SmartChargingCtrlr.LimitChangeSignificance", "0.5")]
    refused = set201(
        model, item("OCPPCommCtrlr", "HeartbeatInterval", "often"),
        item("OCPPCommCtrlr", "HeartbeatInterval", "-1"),
        item("AuthCtrlr", "LocalPreAuthorize", "maybe"),
        item("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,RPM"),
        item("TxCtrlr", "TxStopPoint", "DataSigned"),
        item("TxCtrlr", "TxStartPoint", ""),
        item("SmartChargingCtrlr", "RateUnit", "A"),
        item("NoSuchCtrlr", "Enabled", "true"), item("AuthCtrlr", "NoSuchVariable", "true"),
        item("AuthCtrlr", "LocalPreAuthorize", "true", attribute="MaxSet"))
    assert [r["attributeStatus"] for r in refused] == ["Rejected"] * 7 + [
        "UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"]
    assert refused[1]["attributeStatusInfo"]["reasonCode"] == "ValueOutOfRange"
    assert refused[6]["attributeStatusInfo"]["reasonCode"] == "ReadOnly"
    assert model.heartbeat_interval_s == 60 and len(seen) == 6


def test_basic_auth_password_is_write_only() -> None:
    model = DeviceModel201(SettingsSeed())
    seen: list[tuple[str, Any]] = []
    model.on_change(lambda name, value: seen.append((name, value)))
    [short] = set201(model, item("SecurityCtrlr", "BasicAuthPassword", "too-short"))
    assert short["attributeStatus"] == "Rejected"  # TC_A_10
    [ok] = set201(model, item("SecurityCtrlr", "BasicAuthPassword", SECRET))
    assert ok["attributeStatus"] == "Accepted" and model.basic_auth_password == SECRET
    assert seen == [("basic_auth_password", SECRET)]
    assert get201(model, item("SecurityCtrlr", "BasicAuthPassword"))[0]["attributeStatus"] == \
        "Rejected"
    for base in ("FullInventory", "ConfigurationInventory"):
        report = model.base_report(base)
        [entry] = [r for r in report if r["variable"]["name"] == "BasicAuthPassword"]
        assert entry["variableAttribute"] == [{"type": "Actual", "mutability": "WriteOnly",
                                               "persistent": True, "constant": False}]
        assert SECRET not in str(report)


def notify_parts(model: DeviceModel201, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    parts = notify_report_parts(5, items, generated_at=NOW,
                                items_per_message=model.items_per_message)
    for part in parts:
        check("2.0.1", "NotifyReport", part, Direction.REQUEST)
    return parts


def test_base_reports() -> None:
    """TC_B_12/13/14 and TC_B_53 (the mandatory variables in a FullInventory), TC_B_15."""
    model = DeviceModel201(SettingsSeed(evse_connectors=(("cType2",), ("cCCS2",))),
                           now=lambda: NOW)
    full = model.base_report("FullInventory")
    parts = notify_parts(model, full)
    assert [p["seqNo"] for p in parts] == list(range(len(parts))) and len(parts) > 1
    assert [p["tbc"] for p in parts] == [True] * (len(parts) - 1) + [False]
    names = {(r["component"]["name"], r["variable"]["name"], r["variable"].get("instance"),
              r["component"].get("evse", {}).get("id")) for r in full}
    mandatory = [
        ("AlignedDataCtrlr", "Interval", None, None),
        ("AlignedDataCtrlr", "Measurands", None, None),
        ("AlignedDataCtrlr", "TxEndedInterval", None, None),
        ("AlignedDataCtrlr", "TxEndedMeasurands", None, None),
        ("AuthCtrlr", "AuthorizeRemoteStart", None, None),
        ("AuthCtrlr", "LocalAuthorizeOffline", None, None),
        ("AuthCtrlr", "LocalPreAuthorize", None, None),
        ("ChargingStation", "AvailabilityState", None, None),
        ("ChargingStation", "Available", None, None),
        ("ChargingStation", "SupplyPhases", None, None),
        ("ClockCtrlr", "DateTime", None, None), ("ClockCtrlr", "TimeSource", None, None),
        ("Connector", "AvailabilityState", None, 2), ("Connector", "ConnectorType", None, 1),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport", None),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", None),
        ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables", None),
        ("EVSE", "AvailabilityState", None, 1), ("EVSE", "Power", None, 2),
        ("EVSE", "SupplyPhases", None, 1),
        ("LocalAuthListCtrlr", "Entries", None, None),
        ("OCPPCommCtrlr", "FileTransferProtocols", None, None),
        ("OCPPCommCtrlr", "MessageTimeout", "Default", None),
        ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", None),
        ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", None),
        ("OCPPCommCtrlr", "NetworkConfigurationPriority", None, None),
        ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", None, None),
        ("OCPPCommCtrlr", "OfflineThreshold", None, None),
        ("OCPPCommCtrlr", "ResetRetries", None, None),
        ("OCPPCommCtrlr", "RetryBackOffRandomRange", None, None),
        ("OCPPCommCtrlr", "RetryBackOffRepeatTimes", None, None),
        ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", None, None),
        ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None, None),
        ("OCPPCommCtrlr", "WebSocketPingInterval", None, None),
        ("ReservationCtrlr", "Enabled", None, None),
        ("SampledDataCtrlr", "TxEndedMeasurands", None, None),
        ("SampledDataCtrlr", "TxStartedMeasurands", None, None),
        ("SampledDataCtrlr", "TxUpdatedInterval", None, None),
        ("SecurityCtrlr", "SecurityProfile", None, None),
        ("SecurityCtrlr", "OrganizationName", None, None),
        ("SmartChargingCtrlr", "Entries", "ChargingProfiles", None),
        ("SmartChargingCtrlr", "RateUnit", None, None),
        ("SmartChargingCtrlr", "PeriodsPerSchedule", None, None),
        ("SmartChargingCtrlr", "ProfileStackLevel", None, None),
        ("TxCtrlr", "EVConnectionTimeOut", None, None), ("TxCtrlr", "TxStartPoint", None, None),
        ("TxCtrlr", "TxStopPoint", None, None), ("TxCtrlr", "StopTxOnInvalidId", None, None),
    ]
    assert [m for m in mandatory if m not in names] == []
    configuration = model.base_report("ConfigurationInventory")
    notify_parts(model, configuration)
    assert configuration and all(
        any(a["mutability"] != "ReadOnly" for a in r["variableAttribute"]) for r in configuration)
    assert len(configuration) < len(full)
    summary = model.base_report("SummaryInventory")
    notify_parts(model, summary)
    assert {r["variable"]["name"] for r in summary} <= {"AvailabilityState", "Available",
                                                        "Problem", "Enabled"}
    assert ("EVSE", 2) in {(r["component"]["name"], r["component"].get("evse", {}).get("id"))
                           for r in summary}
    request = {"requestId": 5, "reportBase": "SummaryInventory"}
    check("2.0.1", "GetBaseReport", request, Direction.REQUEST)
    answer, items = model.get_base_report(request)
    assert check("2.0.1", "GetBaseReport", answer) == {"status": "Accepted"} and items == summary
    limited = DeviceModel201(SettingsSeed(report_bases=("FullInventory",)))
    answer, items = limited.get_base_report(request)
    assert check("2.0.1", "GetBaseReport", answer)["status"] == "NotSupported" and items == []


def test_custom_report() -> None:
    """TC_B_16/17/18/55: by component(/variable/instance/evse), by component criteria, both;
    EmptyResultSet when nothing matches."""
    model = DeviceModel201(SettingsSeed(evse_connectors=(("cType2",), ("cType2",))))

    def report(**request: Any) -> tuple[str, set[tuple[str, str]]]:
        request = {"requestId": 3, **request}
        check("2.0.1", "GetReport", request, Direction.REQUEST)
        answer, items = model.custom_report(request)
        check("2.0.1", "GetReport", answer)
        notify_parts(model, items)
        return answer["status"], {(r["component"]["name"], r["variable"]["name"]) for r in items}

    status, found = report(componentVariable=[{"component": {"name": "AuthCtrlr"}}])
    assert status == "Accepted" and found == {
        ("AuthCtrlr", v) for v in ("Enabled", "AuthorizeRemoteStart", "LocalAuthorizeOffline",
                                   "LocalPreAuthorize", "OfflineTxForUnknownIdEnabled")}
    assert report(componentVariable=[
        {"component": {"name": "OCPPCommCtrlr"},
         "variable": {"name": "MessageAttempts", "instance": "TransactionEvent"}},
        {"component": {"name": "EVSE", "evse": {"id": 2}}, "variable": {"name": "Power"}}],
    )[1] == {("OCPPCommCtrlr", "MessageAttempts"), ("EVSE", "Power")}
    _, evse_vars = report(componentVariable=[{"component": {"name": "EVSE"},
                                              "variable": {"name": "AvailabilityState"}}])
    assert evse_vars == {("EVSE", "AvailabilityState")}
    # criteria: a component without the variable counts as Enabled / Available, never Problem
    model.set_actual("AuthCacheCtrlr", "Enabled", "false")
    _, enabled = report(componentCriteria=["Enabled"])
    assert ("AuthCtrlr", "LocalPreAuthorize") in enabled
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in enabled
    assert not any(c == "AuthCacheCtrlr" for c, _ in enabled)
    assert report(componentCriteria=["Problem"]) == ("EmptyResultSet", set())
    model.set_actual("ChargingStation", "Problem", "true")
    status, problems = report(componentCriteria=["Problem"],
                              componentVariable=[{"component": {"name": "ChargingStation"},
                                                  "variable": {"name": "Model"}}])
    assert status == "Accepted" and problems == {("ChargingStation", "Model")}
    assert report(componentVariable=[{"component": {"name": "NoSuchCtrlr"}}])[0] == \
        "EmptyResultSet"


def test_station_updates_read_only_values() -> None:
    model = DeviceModel201(SettingsSeed())
    model.set_actual("Connector", "AvailabilityState", "Occupied", evse_id=1, connector_id=1)
    model.note_local_list_entries(12)
    model.note_charging_profiles(3)
    results = get201(model, item("Connector", "AvailabilityState", evse=1, connector=1),
                     item("LocalAuthListCtrlr", "Entries"),
                     item("SmartChargingCtrlr", "Entries", instance="ChargingProfiles"))
    assert [r["attributeValue"] for r in results] == ["Occupied", "12", "3"]
    with pytest.raises(KeyError):
        model.set_actual("Connector", "AvailabilityState", "Occupied", evse_id=9, connector_id=1)
