"""A station that takes signed firmware only (``SimStation.signed_firmware_only``, the
conformance station): a 2.0.1 UpdateFirmware without a signing certificate and a signature is
Rejected (TC_L_18_CS); one with both is Accepted as before."""

from __future__ import annotations

from typing import Any

from chargeloop.ocppj import Direction, OcppVersion, validate
from simulator.station.maintenance import update_firmware_response


def _request(**firmware: Any) -> dict[str, Any]:
    return {"requestId": 7, "firmware": {"location": "https://firmware.example.com/v2.bin",
                                         "retrieveDateTime": "2026-01-01T00:00:00Z",
                                         **firmware}}


def test_an_unsigned_update_is_rejected() -> None:
    request = _request()
    validate(OcppVersion.V201, "UpdateFirmware", Direction.REQUEST, request)
    answer = update_firmware_response(request, version="2.0.1", signed_only=True)
    validate(OcppVersion.V201, "UpdateFirmware", Direction.RESPONSE, answer)
    assert answer["status"] == "Rejected"


def test_a_signed_update_is_accepted_and_unsigned_ones_are_by_default() -> None:
    signed = _request(signingCertificate="-----BEGIN CERTIFICATE-----", signature="c2ln")
    assert update_firmware_response(signed, version="2.0.1", signed_only=True) == {
        "status": "Accepted"}
    assert update_firmware_response(_request(), version="2.0.1") == {"status": "Accepted"}
