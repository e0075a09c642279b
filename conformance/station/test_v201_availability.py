"""OCPP 2.0.1 Core (M), charging station under test: availability (block G) — changes to the
state the EVSE, connector or station is in already, changes with a transaction going, and
the state kept across a reboot (Part 6 Edition 3, errata 2025-09)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.station.harness import Harness, check, tx_id201

pytestmark = pytest.mark.asyncio(loop_scope="session")

STATION: dict[str, Any] = {}
EVSE: dict[str, Any] = {"evse": {"id": 1}}
CONNECTOR: dict[str, Any] = {"evse": {"id": 1, "connectorId": 1}}
QUIET_S = 1.0  # how long "no status change follows" is watched


async def _change(h: Harness, target: dict[str, Any], operational: str, expected: str, *,
                  step: str) -> None:
    answer = await h.csms.call("ChangeAvailability", {"operationalStatus": operational,
                                                      **target}, step=step)
    check(answer.get("status") == expected, step.replace("Request", "Response"), expected,
          answer)


async def _inoperative(h: Harness, target: dict[str, Any]) -> None:
    """Set-up: ``target`` made Inoperative, its connectors reported Unavailable."""
    await _change(h, target, "Inoperative", "Accepted", step="set-up: ChangeAvailability")
    if target:
        await h.status(1, "Unavailable", step="set-up: StatusNotification Unavailable")
    else:
        await h.all_statuses("Unavailable", step="set-up: Unavailable")


async def _no_status_change(h: Harness, *, step: str) -> None:
    await h.csms.nothing("StatusNotification", step=step, within_s=QUIET_S,
                         expected="no StatusNotification (nothing changed)")


async def _same_again(h: Harness, target: dict[str, Any], operational: str) -> None:
    """Set to what it is already: Accepted, and no StatusNotification follows."""
    await h.booted()
    if operational == "Inoperative":
        await _inoperative(h, target)
    await _change(h, target, operational, "Accepted", step="ChangeAvailabilityRequest")
    await _no_status_change(h, step="no StatusNotificationRequest")


@pytest.mark.case("TC_G_10_CS")
async def test_TC_G_10_CS(h: Harness) -> None:
    """Change Availability of an EVSE, inoperative to inoperative: (EVSE 1 Inoperative,
    Unavailable) ChangeAvailability Inoperative for it: Accepted, and no status change."""
    await _same_again(h, EVSE, "Inoperative")


@pytest.mark.case("TC_G_12_CS")
async def test_TC_G_12_CS(h: Harness) -> None:
    """Change Availability of the charging station, operative to operative:
    ChangeAvailability Operative without an EVSE: Accepted, and no status change."""
    await _same_again(h, STATION, "Operative")


@pytest.mark.case("TC_G_13_CS")
async def test_TC_G_13_CS(h: Harness) -> None:
    """Change Availability of the charging station, inoperative to inoperative: (station
    Inoperative, every connector Unavailable) ChangeAvailability Inoperative without an EVSE:
    Accepted, and no status change."""
    await _same_again(h, STATION, "Inoperative")


@pytest.mark.case("TC_G_15_CS")
async def test_TC_G_15_CS(h: Harness) -> None:
    """Change Availability of a connector, operative to operative: ChangeAvailability
    Operative for EVSE 1 connector 1: Accepted, and no status change."""
    await _same_again(h, CONNECTOR, "Operative")


@pytest.mark.case("TC_G_16_CS")
async def test_TC_G_16_CS(h: Harness) -> None:
    """Change Availability of a connector, inoperative to inoperative: (EVSE 1 connector 1
    Inoperative, Unavailable) ChangeAvailability Inoperative for it: Accepted, and no status
    change."""
    await _same_again(h, CONNECTOR, "Inoperative")


async def _with_transaction(h: Harness, target: dict[str, Any]) -> None:
    """(EnergyTransferStarted on EVSE 1) ChangeAvailability Inoperative: Scheduled; the
    connector is not made Unavailable while the transaction goes on; the driver stops it
    (StopAuthorized): TransactionEvent Ended; the cable is unplugged: StatusNotification
    Unavailable (not Available)."""
    await h.booted()
    tx = tx_id201(await h.charging201(h.sut.tokens.valid))
    await _change(h, target, "Inoperative", "Scheduled", step="ChangeAvailabilityRequest")
    mark = max(r.index for r in h.csms.inbox)
    await h.csms.nothing("StatusNotification", step="while the transaction goes on",
                         within_s=QUIET_S,
                         where=lambda p: p.get("evseId") == 1 and
                         p.get("connectorStatus") == "Unavailable",
                         expected="no Unavailable while the transaction goes on")
    await h.act("present_token", step="StopAuthorized: present token", evse=1,
                token=h.sut.tokens.valid)
    await h.csms.receive("TransactionEvent", step="TransactionEventRequest Ended",
                         where=lambda p: p.get("eventType") == "Ended" and
                         p["transactionInfo"]["transactionId"] == tx,
                         expected=f"TransactionEvent Ended for {tx}")
    await h.act("unplug", step="EVDisconnected: unplug", evse=1)
    await h.status(1, "Unavailable", step="StatusNotificationRequest Unavailable")
    available = [r for r in h.csms.received("StatusNotification",
                                            lambda p: p.get("evseId") == 1 and
                                            p.get("connectorStatus") == "Available")
                 if r.index > mark]
    check(not available, "StatusNotificationRequest", "EVSE 1 not Available after the "
          "transaction", [r.payload for r in available])


@pytest.mark.case("TC_G_11_CS")
async def test_TC_G_11_CS(h: Harness) -> None:
    """Change Availability of an EVSE with an ongoing transaction: (EnergyTransferStarted)
    ChangeAvailability Inoperative for EVSE 1: Scheduled; no Unavailable while the
    transaction goes on; after StopAuthorized (TransactionEvent Ended) and EVDisconnected,
    StatusNotification Unavailable."""
    await _with_transaction(h, EVSE)


@pytest.mark.case("TC_G_14_CS")
async def test_TC_G_14_CS(h: Harness) -> None:
    """Change Availability of the charging station with an ongoing transaction:
    (EnergyTransferStarted on EVSE 1) ChangeAvailability Inoperative without an EVSE:
    Scheduled; no Unavailable for EVSE 1 while the transaction goes on; after StopAuthorized
    (TransactionEvent Ended) and EVDisconnected, StatusNotification Unavailable."""
    await _with_transaction(h, STATION)


@pytest.mark.case("TC_G_17_CS")
async def test_TC_G_17_CS(h: Harness) -> None:
    """Change Availability of a connector with an ongoing transaction:
    (EnergyTransferStarted) ChangeAvailability Inoperative for EVSE 1 connector 1: Scheduled;
    no Unavailable while the transaction goes on; after StopAuthorized (TransactionEvent
    Ended) and EVDisconnected, StatusNotification Unavailable."""
    await _with_transaction(h, CONNECTOR)


async def _persists(h: Harness, target: dict[str, Any]) -> None:
    """(``target`` Inoperative, Unavailable) the station is power-cycled: after its
    BootNotification every connector made Inoperative is reported Unavailable, not
    Available."""
    await h.booted()
    await _inoperative(h, target)
    before = len(h.csms.connections)
    await h.act("power_cycle", step="reboot (power cycle)")
    number = await h.csms.new_connection(before, h.connect_s, step="reconnect after reboot")
    await h.csms.receive("BootNotification", step="BootNotificationRequest",
                         timeout_s=h.connect_s)
    evses = range(1, h.evses + 1) if not target else [1]
    for evse in evses:
        await h.status(evse, "Unavailable",
                       step=f"StatusNotificationRequest EVSE {evse} after reboot")
    available = [r for r in h.csms.received("StatusNotification",
                                            lambda p: p.get("connectorStatus") == "Available"
                                            and p.get("evseId") in evses)
                 if r.connection >= number]
    check(not available, "StatusNotificationRequest after reboot",
          "no Inoperative connector Available", [r.payload for r in available])


@pytest.mark.case("TC_G_18_CS")
async def test_TC_G_18_CS(h: Harness) -> None:
    """Change Availability of an EVSE, state persists across reboot: (EVSE 1 Inoperative,
    Unavailable) the station reboots; after its BootNotification EVSE 1 is reported
    Unavailable."""
    await _persists(h, EVSE)


@pytest.mark.case("TC_G_19_CS")
async def test_TC_G_19_CS(h: Harness) -> None:
    """Change Availability of a connector, state persists across reboot: (EVSE 1 connector 1
    Inoperative, Unavailable) the station reboots; after its BootNotification the connector
    is reported Unavailable."""
    await _persists(h, CONNECTOR)


@pytest.mark.case("TC_G_21_CS")
async def test_TC_G_21_CS(h: Harness) -> None:
    """Change Availability of the charging station, state persists across reboot: (station
    Inoperative, every connector Unavailable) the station reboots; after its
    BootNotification every connector is reported Unavailable."""
    await _persists(h, STATION)
