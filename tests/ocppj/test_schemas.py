"""Schema validation: strict error kinds, decimal multipleOf, lenient repairs, off mode."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chargeloop.ocppj import Direction, ErrorKind, OcppVersion, PayloadInvalid, ValidationMode
from chargeloop.ocppj import validate as _validate
from chargeloop.ocppj.schemas import known_actions, warm_up

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21
REQ, RES = Direction.REQUEST, Direction.RESPONSE
STRICT, LENIENT, OFF = ValidationMode.STRICT, ValidationMode.LENIENT, ValidationMode.OFF
TS = "2024-05-01T12:00:00Z"


def validate(version: OcppVersion, action: str, payload: dict[str, Any],
             mode: ValidationMode = STRICT, direction: Direction = REQ) -> Any:
    return _validate(version, action, direction, payload, mode)


def boot(version: OcppVersion) -> tuple[str, dict[str, Any]]:
    """A valid BootNotification request of ``version``."""
    if version is V16:
        return "BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "X1"}
    return "BootNotification", {"reason": "PowerUp",
                                "chargingStation": {"vendorName": "ACME", "model": "X1"}}


def strict_error(version: OcppVersion, action: str, payload: dict[str, Any],
                 direction: Direction = REQ) -> PayloadInvalid:
    with pytest.raises(PayloadInvalid) as info:
        validate(version, action, payload, STRICT, direction)
    return info.value


# -- strict --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_valid_payload_passes_unchanged(version: OcppVersion) -> None:
    action, payload = boot(version)
    original = copy.deepcopy(payload)
    for mode in ValidationMode:
        result = validate(version, action, payload, mode)
        assert result.payload == original
        assert result.leniencies == ()


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_missing_required_is_occurrence(version: OcppVersion) -> None:
    action, payload = boot(version)
    payload.pop("chargePointModel" if version is V16 else "reason")
    exc = strict_error(version, action, payload)
    assert exc.kind is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION
    assert exc.path == "/"


@pytest.mark.parametrize("version", [V201, V21])
def test_missing_nested_required_is_occurrence_with_path(version: OcppVersion) -> None:
    action, payload = boot(version)
    del payload["chargingStation"]["model"]
    exc = strict_error(version, action, payload)
    assert exc.kind is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION
    assert exc.path == "/chargingStation"


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_extra_property_is_format_violation(version: OcppVersion) -> None:
    action, payload = boot(version)
    payload["firmwareColour"] = "blue"
    exc = strict_error(version, action, payload)
    assert exc.kind is ErrorKind.FORMAT_VIOLATION
    assert "firmwareColour" in exc.message


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_wrong_type_is_type_constraint(version: OcppVersion) -> None:
    action, payload = boot(version)
    if version is V16:
        payload["chargePointVendor"] = 17
        path = "/chargePointVendor"
    else:
        payload["chargingStation"]["model"] = 17
        path = "/chargingStation/model"
    exc = strict_error(version, action, payload)
    assert exc.kind is ErrorKind.TYPE_CONSTRAINT_VIOLATION
    assert exc.path == path


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_string_too_long_is_property_constraint(version: OcppVersion) -> None:
    action, payload = boot(version)
    if version is V16:
        payload["chargePointVendor"] = "x" * 21
    else:
        payload["chargingStation"]["model"] = "x" * 21
    assert strict_error(version, action, payload).kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION
    # exactly at the limit is fine
    if version is V16:
        payload["chargePointVendor"] = "x" * 20
    else:
        payload["chargingStation"]["model"] = "x" * 20
    validate(version, action, payload)


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_bad_enum_is_property_constraint(version: OcppVersion) -> None:
    if version is V16:
        action, payload = "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                 "status": "Sleeping"}
    else:
        action, payload = boot(version)
        payload["reason"] = "Sleeping"
    assert strict_error(version, action, payload).kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_bad_timestamp_is_property_constraint(version: OcppVersion) -> None:
    exc = strict_error(version, "Heartbeat", {"currentTime": "yesterday"}, RES)
    assert exc.kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION
    validate(version, "Heartbeat", {"currentTime": TS}, direction=RES)


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_responses_are_validated_too(version: OcppVersion) -> None:
    exc = strict_error(version, "Heartbeat", {}, RES)
    assert exc.kind is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION
    # the request schema of Heartbeat is empty: no confusion between the directions
    validate(version, "Heartbeat", {})
    assert strict_error(version, "Heartbeat", {"currentTime": TS}).kind is (
        ErrorKind.FORMAT_VIOLATION)


def test_unknown_action_passes_unchecked() -> None:
    assert validate(V201, "NoSuchAction", {"anything": [1]}).payload == {"anything": [1]}
    assert validate(V201, "StartTransaction", {"x": 1}).payload == {"x": 1}


# -- decimals ------------------------------------------------------------------------------------


def set_charging_profile(limit: float, min_rate: float | None = None) -> dict[str, Any]:
    schedule: dict[str, Any] = {"chargingRateUnit": "A",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}
    if min_rate is not None:
        schedule["minChargingRate"] = min_rate
    return {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": schedule}}


@pytest.mark.parametrize("limit", [8.1, 0.3, 0.7, 16, 16.0, 32.2, 1.1, 0.1, 12345.6])
def test_multiple_of_is_decimal(limit: float) -> None:
    # 8.1 / 0.1 is 80.99999999999999 in binary floating point; OCPP wants it accepted.
    validate(V16, "SetChargingProfile", set_charging_profile(limit))
    validate(V16, "SetChargingProfile", set_charging_profile(16, min_rate=limit))


@pytest.mark.parametrize("limit", [4.11, 0.05, 8.15, 0.01])
def test_multiple_of_rejects_finer_values(limit: float) -> None:
    exc = strict_error(V16, "SetChargingProfile", set_charging_profile(limit))
    assert exc.kind is ErrorKind.PROPERTY_CONSTRAINT_VIOLATION
    assert "limit" in exc.path


# -- lenient -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_lenient_removes_unknown_field(version: OcppVersion) -> None:
    action, payload = boot(version)
    expected = copy.deepcopy(payload)
    payload["firmwareColour"] = "blue"
    sent = copy.deepcopy(payload)
    result = validate(version, action, payload, LENIENT)
    assert result.payload == expected
    assert len(result.leniencies) == 1
    assert "firmwareColour" in result.leniencies[0]
    assert payload == sent  # the caller's dict is left alone


def test_lenient_removes_nested_unknown_fields() -> None:
    _, payload = boot(V201)
    payload["chargingStation"]["colour"] = "red"
    payload["chargingStation"]["shape"] = "round"
    result = validate(V201, "BootNotification", payload, LENIENT)
    assert result.payload == boot(V201)[1]
    assert result.leniencies
    assert all("/chargingStation" in note for note in result.leniencies)


@pytest.mark.parametrize("version", [V201, V21])
def test_lenient_fixes_enum_case(version: OcppVersion) -> None:
    action, payload = boot(version)
    payload["reason"] = "powerUP"
    result = validate(version, action, payload, LENIENT)
    assert result.payload["reason"] == "PowerUp"
    assert len(result.leniencies) == 1
    assert "'powerUP'" in result.leniencies[0]
    assert "'PowerUp'" in result.leniencies[0]


def test_lenient_fixes_enum_case_16() -> None:
    payload = {"connectorId": 1, "errorCode": "noerror", "status": "AVAILABLE"}
    result = validate(V16, "StatusNotification", payload, LENIENT)
    assert result.payload == {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    assert len(result.leniencies) == 2


@pytest.mark.parametrize(("stamp", "read_as"), [
    ("2024-05-01T12:00:00", "2024-05-01T12:00:00Z"),
    ("2024-05-01T12:00:00.123", "2024-05-01T12:00:00.123Z"),
    ("2024-05-01T12:00", "2024-05-01T12:00:00Z"),
])
def test_lenient_reads_naive_timestamp_as_utc(stamp: str, read_as: str) -> None:
    result = validate(V201, "Heartbeat", {"currentTime": stamp}, LENIENT, RES)
    assert result.payload == {"currentTime": read_as}
    assert len(result.leniencies) == 1
    assert "without a zone" in result.leniencies[0]
    with pytest.raises(PayloadInvalid):
        validate(V201, "Heartbeat", {"currentTime": stamp}, STRICT, RES)


def test_lenient_reads_numbers_sent_as_strings() -> None:
    payload = {"connectorId": "1", "idTag": "TAG", "meterStart": " 1500 ",
               "timestamp": TS}
    result = validate(V16, "StartTransaction", payload, LENIENT)
    assert result.payload == {"connectorId": 1, "idTag": "TAG", "meterStart": 1500,
                              "timestamp": TS}
    assert type(result.payload["connectorId"]) is int
    assert len(result.leniencies) == 2
    assert all("number sent as string" in note for note in result.leniencies)


def test_lenient_reads_decimal_string_for_number() -> None:
    result = validate(V16, "SetChargingProfile", set_charging_profile("8.1"), LENIENT)  # type: ignore[arg-type]
    period = result.payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]
    assert period[0]["limit"] == 8.1
    assert len(result.leniencies) == 1


@pytest.mark.parametrize("value", ["8.5", "1e400", "-1e400", "1e-400x", "12abc", "", "NaN"])
def test_lenient_does_not_invent_integers(value: str) -> None:
    # A repair may read the same number in another notation; it must never change the number.
    payload = {"connectorId": 1, "idTag": "TAG", "meterStart": value, "timestamp": TS}
    with pytest.raises(PayloadInvalid) as info:
        validate(V16, "StartTransaction", payload, LENIENT)
    assert info.value.kind is ErrorKind.TYPE_CONSTRAINT_VIOLATION


def test_lenient_repairs_several_quirks_at_once() -> None:
    payload = {"connectorId": "2", "errorCode": "noError", "status": "charging",
               "timestamp": "2024-05-01T12:00:00", "vendorColour": "green"}
    result = validate(V16, "StatusNotification", payload, LENIENT)
    assert result.payload == {"connectorId": 2, "errorCode": "NoError", "status": "Charging",
                              "timestamp": "2024-05-01T12:00:00Z"}
    assert len(result.leniencies) == 5


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_lenient_still_rejects_what_it_cannot_repair(version: OcppVersion) -> None:
    action, payload = boot(version)
    payload.pop("chargePointModel" if version is V16 else "chargingStation")
    with pytest.raises(PayloadInvalid) as info:
        validate(version, action, payload, LENIENT)
    assert info.value.kind is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION


@pytest.mark.parametrize(("payload", "kind"), [
    ({"reason": "Sleeping", "chargingStation": {"vendorName": "A", "model": "B"}},
     ErrorKind.PROPERTY_CONSTRAINT_VIOLATION),
    ({"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": "B" * 21}},
     ErrorKind.PROPERTY_CONSTRAINT_VIOLATION),
    ({"reason": "PowerUp", "chargingStation": {"vendorName": "A", "model": 5}},
     ErrorKind.TYPE_CONSTRAINT_VIOLATION),
    # a repair first (extra field), then something it cannot mend
    ({"reason": "PowerUp", "x": 1, "chargingStation": {"vendorName": "A", "model": 5}},
     ErrorKind.TYPE_CONSTRAINT_VIOLATION),
])
def test_lenient_rejections_keep_their_kind(payload: dict[str, Any], kind: ErrorKind) -> None:
    with pytest.raises(PayloadInvalid) as info:
        validate(V201, "BootNotification", payload, LENIENT)
    assert info.value.kind is kind


def test_lenient_does_not_repair_multiple_of() -> None:
    with pytest.raises(PayloadInvalid):
        validate(V16, "SetChargingProfile", set_charging_profile(4.11), LENIENT)


# -- off -----------------------------------------------------------------------------------------


def test_off_mode_accepts_anything() -> None:
    garbage: dict[str, Any] = {"reason": 17, "extra": {"deep": [None]}}
    result = validate(V201, "BootNotification", garbage, OFF)
    assert result.payload is garbage
    assert result.leniencies == ()
    assert validate(V16, "Heartbeat", {"x": 1}, OFF, RES).payload == {"x": 1}


# -- action tables -------------------------------------------------------------------------------


def test_known_actions_16() -> None:
    actions = known_actions(V16)
    assert {"BootNotification", "StartTransaction", "StopTransaction", "RemoteStartTransaction",
            "ChangeConfiguration", "DataTransfer", "Heartbeat", "MeterValues"} <= actions
    # Security whitepaper messages are part of 1.6 here
    assert {"SignCertificate", "SecurityEventNotification", "ExtendedTriggerMessage",
            "SignedUpdateFirmware", "GetLog"} <= actions
    assert "TransactionEvent" not in actions
    assert not any(a.endswith(("Request", "Response")) for a in actions)
    assert len(actions) == 28 + 11


def test_known_actions_201() -> None:
    actions = known_actions(V201)
    assert {"TransactionEvent", "BootNotification", "RequestStartTransaction", "GetVariables",
            "NotifyReport", "DataTransfer"} <= actions
    assert not {"StartTransaction", "StopTransaction", "RemoteStartTransaction",
                "ChangeConfiguration"} & actions
    assert not any(a.endswith(("Request", "Response")) for a in actions)
    assert len(actions) == 64


def test_known_actions_21() -> None:
    actions = known_actions(V21)
    assert known_actions(V201) <= actions
    assert {"BatterySwap", "AFRRSignal", "SetDERControl", "OpenPeriodicEventStream",
            "NotifyPeriodicEventStream"} <= actions
    assert "StartTransaction" not in actions
    assert not any(a.endswith(("Request", "Response")) for a in actions)


def test_21_send_only_message_is_validated() -> None:
    # NotifyPeriodicEventStream is the SEND-only message of 2.1; its schema has no suffix.
    good = {"id": 1, "pending": 0, "basetime": TS, "data": [{"t": 0.5, "v": "230.1"}]}
    assert validate(V21, "NotifyPeriodicEventStream", good).payload == good
    exc = strict_error(V21, "NotifyPeriodicEventStream", {"id": 1})
    assert exc.kind is ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_warm_up_compiles_every_schema(version: OcppVersion) -> None:
    count = warm_up(version)
    actions = known_actions(version)
    # every action has a request schema; all but SEND-only ones a response schema
    assert len(actions) <= count <= 2 * len(actions)
    assert count >= 2 * len(actions) - 1
