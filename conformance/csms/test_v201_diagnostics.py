"""OCPP 2.0.1 block N (Diagnostics), CSMS under test.

* N01 Retrieve Log Information: the CSMS sends GetLogRequest (logType, requestId, log with the
  remoteLocation to upload to); the station answers and reports the upload with
  LogStatusNotificationRequests carrying the requestId.
* N09 Get Customer Information / N10 Clear Customer Information: the CSMS sends
  CustomerInformationRequest (requestId, report, clear, and exactly one of idToken,
  customerCertificate, customerIdentifier); the station answers, and
  when it reports, sends NotifyCustomerInformationRequest parts.

Every message of the station must be answered (a schema-valid response, no CALLERROR).
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    booted_station,
    check,
    csms_sends,
    id_token,
    now_iso,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio

UPLOAD_LOCATION = "https://logs.chargeloop.test/upload"


async def _started(stations: StationPool) -> TestStation:
    station = await booted_station(stations)
    return station


# -- N01 Retrieve Log Information ------------------------------------------------------------


async def _get_log(station: TestStation, triggers: Triggers, sut: Sut, log_type: str,
                   answer: str, *, request_id: int = 1, step: str = "GetLogRequest"
                   ) -> IncomingCall:
    """The CSMS's GetLogRequest, answered ``answer``; validated: logType ``log_type``, a
    requestId, log.remoteLocation."""
    call = await csms_sends(station, triggers, "GetLog", {
        "logType": log_type, "requestId": request_id,
        "log": {"remoteLocation": UPLOAD_LOCATION}}, None, step=step,
        timeout_s=sut.action_timeout_s)
    call.respond({"status": answer, **({"filename": "conformance-ts.log"}
                                       if answer != "Rejected" else {})})
    check(call.payload.get("logType") == log_type, step, f"logType {log_type}", call.payload)
    check(isinstance(call.payload.get("requestId"), int), step, "a requestId", call.payload)
    check(bool(call.payload.get("log", {}).get("remoteLocation")), step, "log.remoteLocation",
          call.payload)
    return call


async def _log_statuses(station: TestStation, request_id: int, *statuses: str) -> None:
    for status in statuses:
        await station.call("LogStatusNotification", {"status": status, "requestId": request_id},
                           step=f"LogStatusNotificationRequest {status}")


@pytest.mark.case("TC_N_25_CSMS")
async def test_TC_N_25_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve Log Information, diagnostics log, success (N01): the CSMS sends GetLogRequest
    (validated: logType DiagnosticsLog, requestId, log.remoteLocation), answered Accepted with
    a filename; LogStatusNotification Uploading and Uploaded (with the requestId) are
    answered."""
    station = await _started(stations)
    call = await _get_log(station, triggers, sut, "DiagnosticsLog", "Accepted")
    await _log_statuses(station, call.payload["requestId"], "Uploading", "Uploaded")


@pytest.mark.case("TC_N_35_CSMS")
async def test_TC_N_35_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve Log Information, security log, success (N01): the CSMS sends GetLogRequest
    (validated: logType SecurityLog, requestId, log.remoteLocation), answered Accepted;
    LogStatusNotification Uploading and Uploaded are answered."""
    station = await _started(stations)
    call = await _get_log(station, triggers, sut, "SecurityLog", "Accepted")
    await _log_statuses(station, call.payload["requestId"], "Uploading", "Uploaded")


@pytest.mark.case("TC_N_34_CSMS")
async def test_TC_N_34_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve Log Information, rejected (N01): the CSMS sends GetLogRequest (validated:
    logType DiagnosticsLog, requestId, log.remoteLocation), answered Rejected; the CSMS goes on
    answering the station (Heartbeat)."""
    station = await _started(stations)
    await _get_log(station, triggers, sut, "DiagnosticsLog", "Rejected")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_N_36_CSMS")
async def test_TC_N_36_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Retrieve Log Information, second request (N01): a first GetLogRequest (validated
    as in TC_N_25) is answered Accepted and its upload reported Uploading; the CSMS sends a
    second GetLogRequest (validated the same, with another requestId), answered
    AcceptedCanceled; the first upload is reported AcceptedCanceled, the second's Uploading
    and Uploaded: all answered."""
    station = await _started(stations)
    first = await _get_log(station, triggers, sut, "DiagnosticsLog", "Accepted", request_id=1)
    first_id = first.payload["requestId"]
    await _log_statuses(station, first_id, "Uploading")
    second = await _get_log(station, triggers, sut, "DiagnosticsLog", "AcceptedCanceled",
                            request_id=2, step="second GetLogRequest")
    second_id = second.payload["requestId"]
    check(second_id != first_id, "second GetLogRequest",
          f"a requestId other than the first's ({first_id})", second.payload)
    await _log_statuses(station, first_id, "AcceptedCanceled")
    await _log_statuses(station, second_id, "Uploading", "Uploaded")


# -- N09 / N10 Customer Information ----------------------------------------------------------

IDENTIFIERS = ("idToken", "customerCertificate", "customerIdentifier")


async def _customer_information(station: TestStation, triggers: Triggers, sut: Sut, *,
                                report: bool, clear: bool, answer: str = "Accepted",
                                identify: dict[str, Any] | None = None) -> IncomingCall:
    """The CSMS's CustomerInformationRequest, answered ``answer``; validated: a requestId,
    ``report`` and ``clear`` as the case wants them, exactly one customer identifier (and the
    one the case asked for)."""
    identify = identify or {"idToken": id_token(sut.tokens.valid)}
    step = "CustomerInformationRequest"
    call = await csms_sends(station, triggers, "CustomerInformation", {
        "requestId": 1, "report": report, "clear": clear, **identify}, {"status": answer},
        step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    check(isinstance(got.get("requestId"), int), step, "a requestId", got)
    check(got.get("report") is report, step, f"report {str(report).lower()}", got)
    check(got.get("clear") is clear, step, f"clear {str(clear).lower()}", got)
    named = [key for key in IDENTIFIERS if key in got]
    check(len(named) == 1, step, "exactly one of idToken, customerCertificate, "
          "customerIdentifier", got)
    wanted = next(iter(identify))
    check(named == [wanted], step, f"{wanted} identifying the customer", got)
    check(got.get(wanted) == identify[wanted], step, f"{wanted} {identify[wanted]}", got)
    return call


async def _notify_customer(station: TestStation, request_id: int, data: str) -> None:
    await station.call("NotifyCustomerInformation", {
        "data": data, "tbc": False, "seqNo": 0, "generatedAt": now_iso(),
        "requestId": request_id}, step="NotifyCustomerInformationRequest")


CUSTOMER_DATA = "idToken CONF: 3 transactions, last 2026-01-01, authorization cache entry"


@pytest.mark.case("TC_N_27_CSMS")
async def test_TC_N_27_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Customer Information, Accepted + data (N09): the CSMS sends
    CustomerInformationRequest (validated: report true, clear false, exactly one identifier:
    the SUT's valid idToken), answered Accepted; NotifyCustomerInformation with data is
    answered."""
    station = await _started(stations)
    call = await _customer_information(station, triggers, sut, report=True, clear=False)
    await _notify_customer(station, call.payload["requestId"], CUSTOMER_DATA)


@pytest.mark.case("TC_N_28_CSMS")
async def test_TC_N_28_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Customer Information, Accepted + no data (N09): CustomerInformationRequest
    (validated as in TC_N_27) answered Accepted; NotifyCustomerInformation with empty data is
    answered."""
    station = await _started(stations)
    call = await _customer_information(station, triggers, sut, report=True, clear=False)
    await _notify_customer(station, call.payload["requestId"], "")


@pytest.mark.case("TC_N_29_CSMS")
async def test_TC_N_29_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Customer Information, not accepted (N09): CustomerInformationRequest (validated as
    in TC_N_27) answered Rejected; the CSMS goes on answering the station (Heartbeat)."""
    station = await _started(stations)
    await _customer_information(station, triggers, sut, report=True, clear=False,
                                answer="Rejected")
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_N_30_CSMS")
async def test_TC_N_30_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Customer Information, clear and report + data (N10): CustomerInformationRequest
    (validated: report true, clear true, exactly one identifier: the SUT's valid idToken)
    answered Accepted; NotifyCustomerInformation with data is answered."""
    station = await _started(stations)
    call = await _customer_information(station, triggers, sut, report=True, clear=True)
    await _notify_customer(station, call.payload["requestId"], CUSTOMER_DATA)


@pytest.mark.case("TC_N_31_CSMS")
async def test_TC_N_31_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Customer Information, clear and report + no data (N10): CustomerInformationRequest
    (validated: report true, clear true, one identifier) answered Accepted;
    NotifyCustomerInformation with empty data is answered."""
    station = await _started(stations)
    call = await _customer_information(station, triggers, sut, report=True, clear=True)
    await _notify_customer(station, call.payload["requestId"], "")


@pytest.mark.case("TC_N_32_CSMS")
async def test_TC_N_32_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Customer Information, clear and no report (N10): CustomerInformationRequest
    (validated: report false, clear true, one identifier) answered Accepted; the station sends
    no NotifyCustomerInformation and the CSMS goes on answering it (Heartbeat)."""
    station = await _started(stations)
    await _customer_information(station, triggers, sut, report=False, clear=True)
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_N_62_CSMS")
async def test_TC_N_62_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Customer Information, clear and report by customerIdentifier (N10, conditional on
    the CSMS supporting customer identifiers): CustomerInformationRequest (validated: report
    true, clear true, exactly one identifier: customerIdentifier) answered Accepted;
    NotifyCustomerInformation with data is answered."""
    if not sut.claims("customer_identifier"):
        not_applicable("feature customer_identifier (CustomerInformation by customerIdentifier)")
    station = await _started(stations)
    call = await _customer_information(
        station, triggers, sut, report=True, clear=True,
        identify={"customerIdentifier": sut.tokens.valid})
    await _notify_customer(station, call.payload["requestId"], CUSTOMER_DATA)


@pytest.mark.case("TC_N_46_CSMS")
async def test_TC_N_46_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Customer Information, update the Local Authorization List (N10, D01; errata
    2024-11 and 2025-02). Before: the CSMS installs a local list holding the SUT's valid
    idToken (SendLocalListRequest, answered Accepted). Main: CustomerInformationRequest
    (validated: report true, clear true, idToken the valid idToken and its type) answered
    Accepted; NotifyCustomerInformation answered; the CSMS then sends SendLocalListRequest
    (validated: updateType Differential, versionNumber above the installed list's, the list
    holding only that idToken, without idTokenInfo; or updateType Full, a list without it),
    answered Accepted."""
    station = await _started(stations)
    token = id_token(sut.tokens.valid)
    installed = await csms_sends(station, triggers, "SendLocalList", {
        "versionNumber": 1, "updateType": "Full", "localAuthorizationList": [
            {"idToken": token, "idTokenInfo": {"status": "Accepted"}}]},
        {"status": "Accepted"}, step="Before: SendLocalListRequest",
        timeout_s=sut.action_timeout_s)
    version = installed.payload.get("versionNumber", 0)
    check(any(e.get("idToken") == token
              for e in installed.payload.get("localAuthorizationList", [])),
          "Before: SendLocalListRequest", f"a local list holding {token}", installed.payload)
    call = await _customer_information(station, triggers, sut, report=True, clear=True)
    await _notify_customer(station, call.payload["requestId"], CUSTOMER_DATA)
    step = "SendLocalListRequest"
    update = await csms_sends(station, triggers, "SendLocalList", {
        "versionNumber": version + 1, "updateType": "Differential",
        "localAuthorizationList": [{"idToken": token}]}, {"status": "Accepted"}, step=step,
        timeout_s=sut.action_timeout_s)
    got = update.payload
    entries = got.get("localAuthorizationList", [])
    if got.get("updateType") == "Full":
        check(all(e.get("idToken") != token for e in entries), step,
              f"updateType Full: a list without {token}", got)
    else:
        check(got.get("updateType") == "Differential", step, "updateType Differential", got)
        check(got.get("versionNumber", 0) > version, step,
              f"versionNumber above {version}", got)
        check(entries == [{"idToken": token}], step,
              f"localAuthorizationList: only {token}, without idTokenInfo", got)


# -- N02 Get Monitoring Report ---------------------------------------------------------------

POWER = {"component": {"name": "ChargingStation"}, "variable": {"name": "Power"}}
AVAILABILITY = {"component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "AvailabilityState"}}


def _monitor_data(target: dict[str, Any], monitor_id: int = 1, kind: str = "UpperThreshold",
                  value: float = 22000.0) -> dict[str, Any]:
    return {**target, "variableMonitoring": [{"id": monitor_id, "transaction": False,
                                              "value": value, "type": kind, "severity": 5}]}


async def _get_monitoring_report(station: TestStation, triggers: Triggers, sut: Sut,
                                 criteria: list[str] | None,
                                 targets: list[dict[str, Any]] | None, *,
                                 request_id: int = 1,
                                 step: str = "GetMonitoringReportRequest") -> None:
    """The CSMS's GetMonitoringReportRequest (validated: a requestId; monitoringCriteria and
    componentVariable present exactly when the case asks for them, with what it asks: the
    components and variables by name and EVSE, without instances), answered Accepted;
    NotifyMonitoringReport with the requestId is answered."""
    wanted: dict[str, Any] = {"requestId": request_id}
    if criteria is not None:
        wanted["monitoringCriteria"] = criteria
    if targets is not None:
        wanted["componentVariable"] = targets
    call = await csms_sends(station, triggers, "GetMonitoringReport", wanted,
                            {"status": "Accepted"}, step=step, timeout_s=sut.action_timeout_s)
    got = call.payload
    check(isinstance(got.get("requestId"), int), step, "a requestId", got)
    for key in ("monitoringCriteria", "componentVariable"):
        if key not in wanted:
            check(key not in got, step, f"{key} omitted", got)
    if criteria is not None:
        check(sorted(got.get("monitoringCriteria", [])) == sorted(criteria), step,
              f"monitoringCriteria {criteria}", got)
    if targets is not None:
        check(got.get("componentVariable") == targets, step,
              f"componentVariable {targets} (no instances)", got)
    reported = targets or [POWER]
    await station.call("NotifyMonitoringReport", {
        "requestId": got["requestId"], "seqNo": 0, "generatedAt": now_iso(), "tbc": False,
        "monitor": [_monitor_data(t, i + 1) for i, t in enumerate(reported)]},
        step=f"NotifyMonitoringReportRequest ({step})")


@pytest.mark.case("TC_N_01_CSMS")
async def test_TC_N_01_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Monitoring Report with monitoringCriteria (N02; errata 2025-06: fields not tested
    omitted): GetMonitoringReportRequest (validated: monitoringCriteria [DeltaMonitoring],
    componentVariable omitted), answered Accepted, NotifyMonitoringReport answered; then a
    second one (validated: monitoringCriteria [ThresholdMonitoring], componentVariable
    omitted), answered Accepted, NotifyMonitoringReport answered."""
    station = await _started(stations)
    await _get_monitoring_report(station, triggers, sut, ["DeltaMonitoring"], None)
    await _get_monitoring_report(station, triggers, sut, ["ThresholdMonitoring"], None,
                                 request_id=2, step="second GetMonitoringReportRequest")


@pytest.mark.case("TC_N_02_CSMS")
async def test_TC_N_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Monitoring Report with component/variable (N02; errata 2025-06): a
    GetMonitoringReportRequest (validated: componentVariable ChargingStation / Power, no
    instances, monitoringCriteria omitted), answered Accepted, NotifyMonitoringReport
    answered; then a second one (validated: componentVariable EVSE 1 / AvailabilityState, no
    instances, monitoringCriteria omitted), answered Accepted, NotifyMonitoringReport
    answered."""
    station = await _started(stations)
    await _get_monitoring_report(station, triggers, sut, None, [POWER])
    await _get_monitoring_report(station, triggers, sut, None, [AVAILABILITY], request_id=2,
                                 step="second GetMonitoringReportRequest")


@pytest.mark.case("TC_N_03_CSMS")
async def test_TC_N_03_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Monitoring Report with component criteria and component/variable (N02):
    GetMonitoringReportRequest (validated: monitoringCriteria [ThresholdMonitoring],
    componentVariable ChargingStation / Power), answered Accepted; NotifyMonitoringReport
    is answered."""
    station = await _started(stations)
    await _get_monitoring_report(station, triggers, sut, ["ThresholdMonitoring"], [POWER])


@pytest.mark.case("TC_N_60_CSMS")
async def test_TC_N_60_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Monitoring Report with component criteria and a list of components/variables (N02):
    GetMonitoringReportRequest (validated: monitoringCriteria [ThresholdMonitoring],
    componentVariable ChargingStation / Power and EVSE 1 / AvailabilityState), answered
    Accepted; NotifyMonitoringReport is answered."""
    station = await _started(stations)
    await _get_monitoring_report(station, triggers, sut, ["ThresholdMonitoring"],
                                 [POWER, AVAILABILITY])


@pytest.mark.case("TC_N_47_CSMS")
async def test_TC_N_47_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Get Monitoring Report, report all (N02): GetMonitoringReportRequest (validated:
    neither monitoringCriteria nor componentVariable), answered Accepted;
    NotifyMonitoringReport is answered."""
    station = await _started(stations)
    await _get_monitoring_report(station, triggers, sut, None, None)


# -- N03 Set Monitoring Base, N05 Set Monitoring Level ---------------------------------------


@pytest.mark.case("TC_N_05_CSMS")
async def test_TC_N_05_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Monitoring Base, success (N03): SetMonitoringBaseRequest (validated: monitoringBase
    FactoryDefault as asked), answered Accepted."""
    station = await _started(stations)
    call = await csms_sends(station, triggers, "SetMonitoringBase",
                            {"monitoringBase": "FactoryDefault"}, {"status": "Accepted"},
                            step="SetMonitoringBaseRequest", timeout_s=sut.action_timeout_s)
    check(call.payload.get("monitoringBase") == "FactoryDefault", "SetMonitoringBaseRequest",
          "monitoringBase FactoryDefault", call.payload)


@pytest.mark.case("TC_N_16_CSMS")
async def test_TC_N_16_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Monitoring Level, success (N05): SetMonitoringLevelRequest (validated: severity 4 as
    asked, within 0-9), answered Accepted."""
    station = await _started(stations)
    call = await csms_sends(station, triggers, "SetMonitoringLevel", {"severity": 4},
                            {"status": "Accepted"}, step="SetMonitoringLevelRequest",
                            timeout_s=sut.action_timeout_s)
    severity = call.payload.get("severity")
    check(severity == 4 and 0 <= severity <= 9, "SetMonitoringLevelRequest",
          "severity 4 (0-9)", call.payload)


# -- N04 Set Variable Monitoring, N06 Clear Variable Monitoring -----------------------------


def _monitoring_setting(target: dict[str, Any], kind: str = "UpperThreshold",
                        value: float = 22000.0) -> dict[str, Any]:
    return {**target, "value": value, "type": kind, "severity": 5}


async def _set_monitoring(station: TestStation, triggers: Triggers, sut: Sut,
                          settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The CSMS's SetVariableMonitoringRequest, answered Accepted for every element with a
    monitor id; validated: as many setMonitoringData as asked, each with the component,
    variable and type asked for."""
    step = "SetVariableMonitoringRequest"
    call = await csms_sends(station, triggers, "SetVariableMonitoring",
                            {"setMonitoringData": settings}, None, step=step,
                            timeout_s=sut.action_timeout_s)
    data = call.payload.get("setMonitoringData", [])
    call.respond({"setMonitoringResult": [{
        "id": i + 1, "status": "Accepted", "type": d["type"], "severity": d["severity"],
        "component": d["component"], "variable": d["variable"]} for i, d in enumerate(data)]})
    check(len(data) == len(settings), step, f"{len(settings)} setMonitoringData", call.payload)
    for got, wanted in zip(data, settings, strict=False):
        for key in ("component", "variable", "type"):
            check(got.get(key) == wanted[key], step, f"{key} {wanted[key]}", call.payload)
    return data


@pytest.mark.case("TC_N_08_CSMS")
async def test_TC_N_08_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Variable Monitoring, one SetMonitoringData element (N04): SetVariableMonitoringRequest
    (validated: exactly one setMonitoringData, an UpperThreshold monitor on ChargingStation
    Power),
    answered Accepted."""
    station = await _started(stations)
    await _set_monitoring(station, triggers, sut, [_monitoring_setting(POWER)])


@pytest.mark.case("TC_N_09_CSMS")
async def test_TC_N_09_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Variable Monitoring, multiple elements on different component and variable (N04):
    SetVariableMonitoringRequest (validated: two setMonitoringData, on different
    component/variable pairs), answered Accepted for each."""
    station = await _started(stations)
    data = await _set_monitoring(station, triggers, sut, [
        _monitoring_setting(POWER), _monitoring_setting(AVAILABILITY, "Delta", 1.0)])
    pairs = {(str(d.get("component")), str(d.get("variable"))) for d in data}
    check(len(pairs) == 2, "SetVariableMonitoringRequest",
          "the elements on different component/variable pairs", data)


@pytest.mark.case("TC_N_24_CSMS")
async def test_TC_N_24_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Variable Monitoring, periodic event (N04, N08): SetVariableMonitoringRequest
    (validated: one setMonitoringData of type Periodic with an interval value), answered
    Accepted; the station's periodic NotifyEvent (trigger Periodic, the monitor's id) is
    answered."""
    station = await _started(stations)
    data = await _set_monitoring(station, triggers, sut,
                                 [_monitoring_setting(POWER, "Periodic", 60.0)])
    check(float(data[0].get("value", 0)) > 0, "SetVariableMonitoringRequest",
          "value: the period in seconds, above 0", data)
    await station.call("NotifyEvent", {"generatedAt": now_iso(), "seqNo": 0, "tbc": False,
                                       "eventData": [{
                                           "eventId": 1, "timestamp": now_iso(),
                                           "trigger": "Periodic", "actualValue": "7400",
                                           "eventNotificationType": "CustomMonitor",
                                           "variableMonitoringId": 1, **POWER}]},
                       step="NotifyEventRequest Periodic")


@pytest.mark.case("TC_N_44_CSMS")
async def test_TC_N_44_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Monitoring, rejected (N06): ClearVariableMonitoringRequest (validated: the monitor
    id asked for), answered with clearMonitoringResult Rejected for it; the CSMS goes on
    answering the station (Heartbeat)."""
    station = await _started(stations)
    step = "ClearVariableMonitoringRequest"
    call = await csms_sends(station, triggers, "ClearVariableMonitoring", {"id": [1]}, None,
                            step=step, timeout_s=sut.action_timeout_s)
    ids = call.payload.get("id", [])
    call.respond({"clearMonitoringResult": [{"id": i, "status": "Rejected"} for i in ids]})
    check(ids == [1], step, "id [1]", call.payload)
    await station.call("Heartbeat", {}, step="HeartbeatRequest")


@pytest.mark.case("TC_N_63_CSMS")
async def test_TC_N_63_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Clear Customer Information, clear and report by customerCertificate (N10, ISO 15118
    profile, conditional on the CSMS identifying customers by their contract certificate):
    CustomerInformationRequest (validated: report true, clear true, exactly one identifier:
    customerCertificate with its hash data) answered Accepted; NotifyCustomerInformation with
    data is answered."""
    if not sut.claims("customer_certificate"):
        not_applicable("feature customer_certificate (CustomerInformation by "
                       "customerCertificate)")
    station = await _started(stations)
    certificate = {"hashAlgorithm": "SHA256", "issuerNameHash": "a" * 64,
                   "issuerKeyHash": "b" * 64, "serialNumber": "01"}
    call = await _customer_information(station, triggers, sut, report=True, clear=True,
                                       identify={"customerCertificate": certificate})
    got = call.payload["customerCertificate"]
    check(all(got.get(k) for k in certificate), "CustomerInformationRequest",
          "customerCertificate with hashAlgorithm, issuerNameHash, issuerKeyHash, "
          "serialNumber", call.payload)
    await _notify_customer(station, call.payload["requestId"], CUSTOMER_DATA)
