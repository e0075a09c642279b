"""OCPP 2.0.1 block A (Security), CSMS under test: updating the station's Basic auth password
(use case A01)."""

from __future__ import annotations

import contextlib
import secrets

import pytest

from conformance.csms.csr import certificate_signing_request, chain_problem
from conformance.csms.harness import (
    CHANGED_PASSWORDS,
    StationPool,
    booted_station,
    check,
    csms_sends,
)
from conformance.harness_station import IncomingCall, TestStation
from conformance.sut import Sut
from conformance.triggers import TriggerHandle, Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio

_PASSWORD_VARIABLE = {"component": {"name": "SecurityCtrlr"},
                      "variable": {"name": "BasicAuthPassword"}}


def _password(sut: Sut) -> str:
    password = sut.stations[0].password
    if password is None:
        not_applicable("basic_auth: the SUT file gives the station no password")
    assert password is not None
    return password


async def _set_password(station: TestStation, triggers: Triggers, sut: Sut, password: str
                        ) -> tuple[IncomingCall, TriggerHandle]:
    """The CSMS sends SetVariablesRequest(SecurityCtrlr.BasicAuthPassword); not answered yet."""
    waiting = station.expect("SetVariables")
    handle = triggers.start("SetVariables", station.identity, {"setVariableData": [
        {**_PASSWORD_VARIABLE, "attributeValue": password}]})
    call = await station.receive("SetVariables", sut.action_timeout_s,
                                 step="SetVariablesRequest", waiting=waiting)
    return call, handle


def _new_password(call: IncomingCall) -> str:
    """Validations of the SetVariablesRequest: one setVariableData, SecurityCtrlr's
    BasicAuthPassword (attributeType Actual or absent), a value of 16 to 40 characters."""
    data = call.payload.get("setVariableData", [])
    check(len(data) == 1, "SetVariablesRequest", "exactly one setVariableData", call.payload)
    item = data[0]
    check(item.get("component", {}).get("name") == "SecurityCtrlr"
          and item.get("variable", {}).get("name") == "BasicAuthPassword",
          "SetVariablesRequest", "component SecurityCtrlr, variable BasicAuthPassword",
          call.payload)
    check(item.get("attributeType", "Actual") == "Actual", "SetVariablesRequest",
          "attributeType Actual (or absent)", call.payload)
    value = item.get("attributeValue", "")
    check(16 <= len(value) <= 40, "SetVariablesRequest",
          "a password of 16 to 40 characters", call.payload)
    return str(value)


def _answer(call: IncomingCall, status: str) -> None:
    call.respond({"setVariableResult": [{
        "attributeStatus": status, "component": item["component"],
        "variable": item["variable"]} for item in call.payload.get("setVariableData", [])]})


async def _taken(handle: TriggerHandle, sut: Sut, status: str) -> None:
    outcome = await handle.outcome(sut.answer_timeout_s)
    check(outcome.ok, "SetVariablesResponse", f"the CSMS to take the answer {status}",
          outcome.detail)


RESTORE_ATTEMPTS = 3


async def _restore(stations: StationPool, triggers: Triggers, sut: Sut, original: str,
                   changed: str) -> None:
    """Not part of the case: if the CSMS now holds ``changed``, set the SUT file's password
    back, so the cases after this one log in as before; if that keeps failing, they log in
    with ``changed`` (``CHANGED_PASSWORDS``)."""
    identity = sut.stations[0].id  # the station the password cases play
    for _ in range(RESTORE_ATTEMPTS):
        station = stations.make(password=changed)
        try:
            await station.connect(step="restore the password")
        except Exception:  # noqa: BLE001 - the CSMS does not hold the changed password
            CHANGED_PASSWORDS.pop(identity, None)
            return
        CHANGED_PASSWORDS[identity] = changed  # until the CSMS has taken the original back
        with contextlib.suppress(Exception):
            call, handle = await _set_password(station, triggers, sut, original)
            _answer(call, "Accepted")
            await handle.outcome(sut.action_timeout_s)
            CHANGED_PASSWORDS.pop(identity, None)
            await station.close()
            return
        await station.close()


async def _password_case(stations: StationPool, triggers: Triggers, sut: Sut,
                         status: str) -> None:
    original = _password(sut)
    station = await booted_station(stations)
    asked = secrets.token_hex(12)
    sent: str | None = None
    try:
        call, handle = await _set_password(station, triggers, sut, asked)
        sent = str(next(iter(call.payload.get("setVariableData", [])), {})
                   .get("attributeValue", asked))
        try:
            _new_password(call)
        finally:
            _answer(call, status)
        await _taken(handle, sut, status)
        await station.close()
        login = sent if status == "Accepted" else original
        again = stations.make(password=login)
        await again.connect(step="reconnect with the "
                            + ("new" if status == "Accepted" else "old") + " password")
        await again.close()
    finally:
        if sent is not None and sent != original:
            await _restore(stations, triggers, sut, original, sent)


@pytest.mark.case("TC_A_09_CSMS")
async def test_TC_A_09_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Update Charging Station Password for HTTP Basic Authentication - Accepted (A01).

    Before: Booted (security profile 1). Steps: 1. the CSMS sends SetVariablesRequest for
    SecurityCtrlr.BasicAuthPassword; 2. the station answers Accepted; 3. the station
    disconnects and reconnects with the new password. Validated: the request sets exactly
    BasicAuthPassword of SecurityCtrlr to a password of 16 to 40 characters; the CSMS accepts
    the connection with the new password."""
    await _password_case(stations, triggers, sut, "Accepted")


@pytest.mark.case("TC_A_10_CSMS")
async def test_TC_A_10_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Update Charging Station Password for HTTP Basic Authentication - Rejected (A01).

    Before: Booted (security profile 1). Steps: 1. the CSMS sends SetVariablesRequest for
    SecurityCtrlr.BasicAuthPassword; 2. the station answers Rejected; 3. the station
    disconnects and reconnects with its old password. Validated: the request sets exactly
    BasicAuthPassword of SecurityCtrlr to a password of 16 to 40 characters; the CSMS still
    accepts the old password (a rejected change is not applied)."""
    await _password_case(stations, triggers, sut, "Rejected")


# -- A_11: certificate update at the CSMS's request (A02) --------------------------------------


@pytest.mark.case("TC_A_11_CSMS")
async def test_TC_A_11_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Update Charging Station Certificate by request of CSMS - Success - Charging Station
    Certificate (A02).

    Before: Booted. Steps: 1. the CSMS sends TriggerMessageRequest SignChargingStationCertificate;
    2. the station answers Accepted; 3. it sends SignCertificateRequest with a CSR (CN: its
    identity) and certificateType ChargingStationCertificate; 4. the CSMS answers; 5. the CSMS
    sends CertificateSignedRequest; 6. the station answers Accepted. Validated: requestedMessage
    SignChargingStationCertificate; SignCertificateResponse Accepted; CertificateSignedRequest
    with certificateType ChargingStationCertificate (or absent) and a PEM chain whose first
    certificate is for the CSR's key, each certificate issued by the next."""
    station = await booted_station(stations)
    trigger = await csms_sends(station, triggers, "TriggerMessage",
                               {"requestedMessage": "SignChargingStationCertificate"},
                               {"status": "Accepted"}, step="TriggerMessageRequest",
                               timeout_s=sut.action_timeout_s)
    check(trigger.payload.get("requestedMessage") == "SignChargingStationCertificate",
          "TriggerMessageRequest", "requestedMessage SignChargingStationCertificate",
          trigger.payload)
    csr, public_der = certificate_signing_request(station.identity)
    signed = station.expect("CertificateSigned")
    answer = await station.call("SignCertificate", {
        "csr": csr, "certificateType": "ChargingStationCertificate"},
        step="SignCertificateRequest")
    check(answer.get("status") == "Accepted", "SignCertificateResponse", "status Accepted",
          answer)
    call = await station.receive("CertificateSigned", sut.action_timeout_s,
                                 step="CertificateSignedRequest", waiting=signed)
    call.respond({"status": "Accepted"})
    check(call.payload.get("certificateType", "ChargingStationCertificate")
          == "ChargingStationCertificate", "CertificateSignedRequest",
          "certificateType ChargingStationCertificate", call.payload)
    problem = chain_problem(str(call.payload.get("certificateChain", "")), public_der)
    check(problem is None, "CertificateSignedRequest",
          "a certificate chain for the CSR's key", problem)
