"""OCPP 2.0.1 block N (Core, conditional), charging station under test: get and clear customer
information (N09, N10) and log retrieval beyond the mandatory cases (N01: a second request
cancels the first upload) (Part 6 Edition 3, errata 2025-09).

Customer data is an idToken the station holds: in its local authorization list when it claims
the Local Auth List profile (installed with SendLocalList), else in its authorization cache
(the token presented and authorized online). Part 5 makes the idToken cases conditional on one
of the two.
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

import pytest

from conformance.station.csms import Received
from conformance.station.firmware201 import log_status
from conformance.station.harness import Harness, check
from conformance.station.listener import file_server
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

REQUEST_IDS = itertools.count(secrets.randbelow(1000) * 1000 + 1)
LOG_RETRY_INTERVAL_S = 30  # TC_N_36: the first upload waits this long before its retry


def _token(value: str) -> dict[str, str]:
    return {"idToken": value, "type": "ISO14443"}


def _customer_data_applies(h: Harness) -> None:
    """Part 5: the idToken cases need a station that stores tokens (local list or cache)."""
    if not h.stores_id_tokens:
        not_applicable("Local Auth List profile or feature authorization_cache (a station "
                       "that stores idTokens, the customer data of TC_N_27..N_31)")


async def _customer_information(h: Harness, customer: dict[str, Any], *, report: bool,
                                clear: bool) -> tuple[int, str]:
    """CustomerInformationRequest naming ``customer`` (none: ``{}``); the requestId and the
    status answered."""
    request_id = next(REQUEST_IDS)
    answer = await h.csms.call("CustomerInformation", {
        "requestId": request_id, "report": report, "clear": clear, **customer},
        step="CustomerInformationRequest")
    return request_id, str(answer.get("status"))


async def _report(h: Harness, request_id: int) -> list[Received]:
    """NotifyCustomerInformationRequest for ``request_id`` until a part without tbc true:
    seqNo 0, 1, ... (post scenario: all report parts received)."""
    parts: list[Received] = []
    while True:
        step = f"NotifyCustomerInformationRequest {len(parts) + 1}"
        part = await h.csms.receive(
            "NotifyCustomerInformation", step=step,
            where=lambda p: p.get("requestId") == request_id,
            expected=f"NotifyCustomerInformationRequest with requestId {request_id}")
        check(part.payload.get("seqNo") == len(parts), step, f"seqNo {len(parts)}",
              part.payload)
        parts.append(part)
        if not part.payload.get("tbc", False):
            return parts


async def _reported(h: Harness, customer: dict[str, Any], *, clear: bool,
                    with_data: bool) -> None:
    """CustomerInformation (report true, ``clear``) Accepted; the report arrives in full;
    ``with_data``: it carries the station's data (non-empty)."""
    request_id, status = await _customer_information(h, customer, report=True, clear=clear)
    check(status == "Accepted", "CustomerInformationResponse", "status Accepted", status)
    parts = await _report(h, request_id)
    if with_data:
        check(any(part.payload.get("data") for part in parts),
              "NotifyCustomerInformationRequest", "the customer's data",
              [part.payload for part in parts])


def _unknown_customer() -> dict[str, Any]:
    """An idToken the station has never seen: it holds no data about it."""
    return {"idToken": _token(f"NODATA-{secrets.token_hex(4).upper()}")}


@pytest.mark.case("TC_N_27_CS")
async def test_TC_N_27_CS(h: Harness) -> None:
    """Get customer information, Accepted + data: (the station holds the valid idToken)
    CustomerInformationRequest report true, clear false, idToken valid: Accepted;
    NotifyCustomerInformationRequest(s) with the requestId, seqNo from 0, the last without
    tbc, with data."""
    _customer_data_applies(h)
    await h.booted()
    await h.id_tokens_stored({h.sut.tokens.valid: None}, step="Before")
    await _reported(h, {"idToken": _token(h.sut.tokens.valid)}, clear=False, with_data=True)


@pytest.mark.case("TC_N_28_CS")
async def test_TC_N_28_CS(h: Harness) -> None:
    """Get customer information, Accepted + no data: CustomerInformationRequest report true,
    clear false, for an idToken the station holds nothing about: Accepted;
    NotifyCustomerInformationRequest(s) with the requestId, seqNo from 0, the last without
    tbc."""
    _customer_data_applies(h)
    await h.booted()
    await _reported(h, _unknown_customer(), clear=False, with_data=False)


@pytest.mark.case("TC_N_29_CS")
async def test_TC_N_29_CS(h: Harness) -> None:
    """Get customer information, not accepted: CustomerInformationRequest report true, clear
    false, naming no customer (no idToken, customerCertificate or customerIdentifier): the
    station does not accept it (Rejected or Invalid)."""
    await h.booted()
    _, status = await _customer_information(h, {}, report=True, clear=False)
    check(status in ("Rejected", "Invalid"), "CustomerInformationResponse",
          "status Rejected or Invalid (not Accepted)", status)


@pytest.mark.case("TC_N_30_CS")
async def test_TC_N_30_CS(h: Harness) -> None:
    """Clear customer information, clear and report + data: (the station holds the valid
    idToken) CustomerInformationRequest report true, clear true, idToken valid: Accepted;
    NotifyCustomerInformationRequest(s) with the requestId, seqNo from 0, the last without
    tbc, with data."""
    _customer_data_applies(h)
    await h.booted()
    await h.id_tokens_stored({h.sut.tokens.valid: None}, step="Before")
    await _reported(h, {"idToken": _token(h.sut.tokens.valid)}, clear=True, with_data=True)


@pytest.mark.case("TC_N_31_CS")
async def test_TC_N_31_CS(h: Harness) -> None:
    """Clear customer information, clear and report + no data: CustomerInformationRequest
    report true, clear true, for an idToken the station holds nothing about: Accepted;
    NotifyCustomerInformationRequest(s) with the requestId, seqNo from 0, the last without
    tbc."""
    _customer_data_applies(h)
    await h.booted()
    await _reported(h, _unknown_customer(), clear=True, with_data=False)


@pytest.mark.case("TC_N_62_CS")
async def test_TC_N_62_CS(h: Harness) -> None:
    """Clear customer information, clear and report, customerIdentifier (conditional on the
    station supporting customer identifiers): CustomerInformationRequest report true, clear
    true, customerIdentifier: Accepted; NotifyCustomerInformationRequest(s) with the
    requestId, seqNo from 0, the last without tbc."""
    if not h.sut.claims("customer_identifier"):
        not_applicable("feature customer_identifier (CustomerInformation by "
                       "customerIdentifier)")
    await h.booted()
    await _reported(h, {"customerIdentifier": h.sut.tokens.valid}, clear=True,
                    with_data=False)


# -- N01: retrieve log, second request --------------------------------------------------------


async def get_log(h: Harness, location: str, *, step: str, **extra: Any) -> tuple[int, str]:
    request_id = next(REQUEST_IDS)
    answer = await h.csms.call("GetLog", {"logType": "DiagnosticsLog", "requestId": request_id,
                                          "log": {"remoteLocation": location}, **extra},
                               step=step)
    return request_id, str(answer.get("status"))


@pytest.mark.case("TC_N_34_CS")
async def test_TC_N_34_CS(h: Harness) -> None:
    """Retrieve log information, Rejected (conditional: a station without log information,
    as its SUT file says): GetLogRequest (DiagnosticsLog, a location the harness serves):
    Rejected; no LogStatusNotification for the request."""
    if not h.sut.claims("log_unavailable"):
        not_applicable("feature log_unavailable (a station without log information)")
    await h.booted()
    async with file_server(h.csms.url) as files:
        request_id, status = await get_log(h, files.url(f"/upload/{secrets.token_hex(4)}/"),
                                           step="GetLogRequest")
        check(status == "Rejected", "GetLogResponse", "status Rejected", status)
        await h.csms.nothing("LogStatusNotification", step="no upload", within_s=1.0,
                             where=lambda p: p.get("requestId") == request_id,
                             expected="no LogStatusNotification for a rejected request")


@pytest.mark.case("TC_N_36_CS")
async def test_TC_N_36_CS(h: Harness) -> None:
    """Retrieve log information, second request (conditional on the station cancelling an
    ongoing upload): GetLogRequest #1 Accepted, LogStatusNotification Uploading #1; while
    that upload is in progress GetLogRequest #2: AcceptedCanceled; LogStatusNotification
    AcceptedCanceled #1 (errata 2025-04: may come before the answer), then Uploading #2 and
    Uploaded #2. Upload #1 goes to a location that refuses it, with a retry a while later,
    so that it is still in progress when the second request comes."""
    if not h.sut.claims("log_upload_cancel"):
        not_applicable("feature log_upload_cancel (a new GetLog cancels an ongoing upload)")
    await h.booted()
    async with file_server(h.csms.url) as files:
        first, status = await get_log(
            h, files.url(f"/refused/{secrets.token_hex(4)}/"), step="GetLogRequest #1",
            retries=1, retryInterval=LOG_RETRY_INTERVAL_S)
        check(status == "Accepted", "GetLogResponse #1", "status Accepted", status)
        await log_status(h, first, ("Uploading",), step="LogStatusNotification Uploading #1")
        folder = f"/upload/{secrets.token_hex(4)}/"
        second, status = await get_log(h, files.url(folder), step="GetLogRequest #2")
        check(status == "AcceptedCanceled", "GetLogResponse #2", "status AcceptedCanceled",
              status)
        await log_status(h, first, ("AcceptedCanceled",),
                         step="LogStatusNotification AcceptedCanceled #1")
        uploading = await log_status(h, second, ("Uploading",),
                                     step="LogStatusNotification Uploading #2")
        uploaded = await log_status(h, second, ("Uploaded",),
                                    step="LogStatusNotification Uploaded #2")
    check(uploading.index < uploaded.index, "LogStatusNotification #2",
          "Uploading before Uploaded", [uploading.payload, uploaded.payload])
