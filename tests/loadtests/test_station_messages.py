"""The load-test station's messages and answers, checked against the official OCPP schemas.

A load generator that sends invalid payloads would blame the CSMS for its own faults, so every
message a session sends and every answer to a CSMS command must pass strict validation.
"""

from __future__ import annotations

from typing import Any

import pytest

from chargeloop.ocppj.errors import OcppError
from chargeloop.ocppj.schemas import Direction, validate
from chargeloop.ocppj.versions import OcppVersion
from loadtests.station import LoadStation

VERSIONS = [OcppVersion.V16, OcppVersion.V201]


def _check(version: OcppVersion, message: tuple[str, dict[str, Any]]) -> str:
    action, payload = message
    validate(version, action, Direction.REQUEST, payload)  # raises PayloadInvalid
    return action


@pytest.mark.parametrize("version", VERSIONS)
def test_a_whole_session_is_valid_ocpp(version: OcppVersion) -> None:
    station = LoadStation("LOAD-0-1", version, token="LOAD-0-1", run_tag="ab")
    sent = [_check(version, station.boot()), _check(version, station.heartbeat()),
            _check(version, station.status_notification("Preparing")),
            _check(version, station.authorize("LOAD-0-1")),
            _check(version, station.start_transaction("LOAD-0-1"))]
    station.started({"transactionId": 42, "idTagInfo": {"status": "Accepted"}}
                    if version is OcppVersion.V16 else {"idTokenInfo": {"status": "Accepted"}})
    station.charge(600)  # ten minutes at 11 kW
    meter = station.meter_values()
    sent.append(_check(version, meter))
    sent.append(_check(version, station.stop_transaction("Local")))
    if version is OcppVersion.V16:
        assert sent[4:] == ["StartTransaction", "MeterValues", "StopTransaction"]
        assert meter[1]["transactionId"] == 42
    else:
        assert sent[4:] == ["TransactionEvent"] * 3
        assert meter[1]["seqNo"] == 1 and meter[1]["eventType"] == "Updated"
    assert station.energy_wh == pytest.approx(1833.33, abs=0.01)
    assert station.transaction is None


def test_a_refused_card_stops_the_started_transaction() -> None:
    station = LoadStation("LOAD-0-1", OcppVersion.V16, token="LOAD-0-1")
    station.start_transaction("LOAD-0-1")
    assert not station.started({"transactionId": 7, "idTagInfo": {"status": "ConcurrentTx"}})


@pytest.mark.parametrize(("version", "action", "payload", "effect"), [
    (OcppVersion.V16, "RemoteStartTransaction", {"idTag": "T1", "connectorId": 1}, "start"),
    (OcppVersion.V201, "RequestStartTransaction",
     {"idToken": {"idToken": "T1", "type": "ISO14443"}, "remoteStartId": 5, "evseId": 1},
     "start"),
    (OcppVersion.V16, "Reset", {"type": "Soft"}, "reset"),
    (OcppVersion.V201, "Reset", {"type": "Immediate"}, "reset"),
    (OcppVersion.V16, "TriggerMessage", {"requestedMessage": "Heartbeat"}, "trigger"),
    (OcppVersion.V201, "TriggerMessage", {"requestedMessage": "StatusNotification",
                                          "evse": {"id": 1, "connectorId": 1}}, "trigger"),
])
def test_commands_are_accepted_and_queued_for_the_station_loop(
        version: OcppVersion, action: str, payload: dict[str, Any], effect: str) -> None:
    station = LoadStation("LOAD-0-1", version, token="LOAD-0-1")
    validate(version, action, Direction.REQUEST, payload)
    answer = station.answer(action, payload)
    validate(version, action, Direction.RESPONSE, answer)
    assert answer["status"] == "Accepted"
    assert [e.kind for e in station.effects] == [effect]


@pytest.mark.parametrize("version", VERSIONS)
def test_remote_stop_only_for_the_running_transaction(version: OcppVersion) -> None:
    station = LoadStation("LOAD-0-1", version, token="LOAD-0-1")
    stop = "RemoteStopTransaction" if version is OcppVersion.V16 else "RequestStopTransaction"
    assert station.answer(stop, {"transactionId": 1})["status"] == "Rejected"
    station.start_transaction("LOAD-0-1", remote=True)
    station.started({"transactionId": 9, "idTagInfo": {"status": "Accepted"}}
                    if version is OcppVersion.V16 else {})
    tx_id = 9 if version is OcppVersion.V16 else station.transaction.id  # type: ignore[union-attr]
    answer = station.answer(stop, {"transactionId": tx_id})
    validate(version, stop, Direction.RESPONSE, answer)
    assert answer["status"] == "Accepted"
    assert [e.kind for e in station.effects] == ["stop"]
    # A second remote start while charging is refused, not queued.
    start = ("RemoteStartTransaction", {"idTag": "X"}) if version is OcppVersion.V16 else \
        ("RequestStartTransaction", {"idToken": {"idToken": "X", "type": "Central"},
                                     "remoteStartId": 1})
    assert station.answer(*start)["status"] == "Rejected"


def test_configuration_16_reads_and_changes_keys() -> None:
    station = LoadStation("LOAD-0-1", OcppVersion.V16, token="t")
    v = OcppVersion.V16
    changed = station.answer("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"})
    assert changed == {"status": "Accepted"}
    assert station.answer("ChangeConfiguration", {"key": "NumberOfConnectors",
                                                  "value": "2"}) == {"status": "Rejected"}
    assert station.answer("ChangeConfiguration", {"key": "Nope", "value": "1"}) == \
        {"status": "NotSupported"}
    answer = station.answer("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
    validate(v, "GetConfiguration", Direction.RESPONSE, answer)
    assert answer == {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                            "value": "60"}], "unknownKey": ["Nope"]}


def test_variables_201_get_and_set() -> None:
    station = LoadStation("LOAD-0-1", OcppVersion.V201, token="t")
    v = OcppVersion.V201
    hb = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    answer = station.answer("SetVariables", {"setVariableData": [
        {**hb, "attributeValue": "90"},
        {"component": {"name": "X"}, "variable": {"name": "Y"}, "attributeValue": "1"}]})
    validate(v, "SetVariables", Direction.RESPONSE, answer)
    assert [r["attributeStatus"] for r in answer["setVariableResult"]] == \
        ["Accepted", "UnknownVariable"]
    answer = station.answer("GetVariables", {"getVariableData": [hb]})
    validate(v, "GetVariables", Direction.RESPONSE, answer)
    assert answer["getVariableResult"][0]["attributeValue"] == "90"


def test_an_unknown_command_is_not_implemented() -> None:
    station = LoadStation("LOAD-0-1", OcppVersion.V201, token="t")
    with pytest.raises(OcppError) as caught:
        station.answer("GetLog", {})
    assert caught.value.kind.value == "NotImplemented"
