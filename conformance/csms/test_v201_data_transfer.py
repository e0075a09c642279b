"""OCPP 2.0.1 block P (Data Transfer), CSMS under test."""

from __future__ import annotations

import pytest

from conformance.csms.harness import StationPool, booted_station, check
from conformance.sut import Sut

pytestmark = pytest.mark.asyncio

# A vendorId (reverse DNS, as P02 asks vendors to use) that no CSMS has an extension for.
UNKNOWN_VENDOR = "org.chargeloop.conformance.unknown-vendor"
CUSTOM_VENDOR = "org.chargeloop.conformance"


@pytest.mark.case("TC_P_02_CSMS")
async def test_TC_P_02_CSMS(stations: StationPool, sut: Sut) -> None:
    """Data Transfer to the CSMS, Rejected / Unknown VendorId / Unknown MessageId (P02).

    Steps: "Booted"; the station sends DataTransferRequest with a vendorId the CSMS has no
    extension for, a messageId and data.
    Validated: the CSMS answers with a DataTransferResponse (not a CALLERROR) whose status is
    Rejected, UnknownVendorId or UnknownMessageId (never Accepted: it cannot have handled it).
    """
    station = await booted_station(stations)
    answer = await station.call("DataTransfer", {
        "vendorId": UNKNOWN_VENDOR, "messageId": "ConformanceProbe",
        "data": {"probe": True}}, step="DataTransferRequest")
    check(answer.get("status") in ("Rejected", "UnknownVendorId", "UnknownMessageId"),
          "DataTransferResponse", "status Rejected, UnknownVendorId or UnknownMessageId", answer)


@pytest.mark.case("TC_P_03_CSMS")
async def test_TC_P_03_CSMS(stations: StationPool, sut: Sut) -> None:
    """CustomData, receive custom data (every 2.0.1 message may carry customData).

    Steps: "Booted"; the station sends a HeartbeatRequest carrying a customData element
    (vendorId plus a vendor-specific property the CSMS does not know).
    Validated: the CSMS takes it like any Heartbeat: a schema-valid HeartbeatResponse with
    currentTime, no CALLERROR.
    """
    station = await booted_station(stations)
    answer = await station.call("Heartbeat", {"customData": {
        "vendorId": CUSTOM_VENDOR, "conformanceNote": "custom data the CSMS may ignore"}},
        step="HeartbeatRequest with customData")
    check("currentTime" in answer, "HeartbeatResponse", "currentTime", answer)
