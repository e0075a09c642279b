"""OCPP 2.0.1 block B (Provisioning), CSMS under test: a station whose boot is Pending until
the operator accepts it (TC_B_02). The operator's act is the ``Registration`` trigger (the
reference CSMS: ``PATCH /api/stations/{id}``; any other CSMS: an http template or a prompt)."""

from __future__ import annotations

import contextlib

import pytest

from conformance.csms.harness import StationPool, boot_payload, check
from conformance.sut import Sut
from conformance.triggers import REGISTRATION, Triggers
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio


@pytest.mark.case("TC_B_02_CSMS")
async def test_TC_B_02_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Cold Boot Charging Station - Pending (B02).

    Steps: 1. the station sends BootNotificationRequest (reason PowerUp); 2. the CSMS answers
    Pending with a retry interval (while pending it may send GetVariables, SetVariables or
    GetBaseReport: the station answers them); 3. the operator accepts the station in the CSMS;
    4. the station sends BootNotificationRequest again; 5. the CSMS answers.
    Validated: status Pending with an interval above 0, then Accepted with an interval above
    0. Afterwards (not part of the case) the station is set back to Pending for TC_B_30/B_31.
    """
    held = sut.pending_station
    if held is None:
        not_applicable("pending_boot: the SUT file names no pending_station")
    assert held is not None
    station = stations.make(identity=held.id, password=held.password)
    await station.connect()
    first = await station.call("BootNotification", boot_payload(sut.version),
                               step="BootNotificationRequest")
    check(first.get("status") == "Pending" and first.get("interval", 0) > 0,
          "BootNotificationResponse", "status Pending with an interval above 0", first)
    accept = triggers.start(REGISTRATION, held.id, {"registration": "Accepted"})
    try:
        outcome = await accept.outcome(sut.action_timeout_s)
        check(outcome.ok, "the operator accepts the station", "the CSMS takes it",
              outcome.detail)
        second = await station.call("BootNotification", boot_payload(sut.version),
                                    step="BootNotificationRequest (after acceptance)")
        check(second.get("status") == "Accepted" and second.get("interval", 0) > 0,
              "BootNotificationResponse (after acceptance)",
              "status Accepted with an interval above 0", second)
    finally:
        restore = triggers.start(REGISTRATION, held.id, {"registration": "Pending"})
        with contextlib.suppress(Exception):  # the case's verdict stands either way
            await restore.outcome(sut.action_timeout_s)
