"""OCPP 1.6, charging station under test: the cases of a station configured otherwise than the
usual one (test case document FINAL 2024-04) - a fixed cable (TC_017_2, TC_018_2), no local
authorization list (TC_042_1, TC_043_1), no reservations of the whole charge point
(TC_050_4), transactions ended only after the reboot that follows a power failure (TC_032_2).

Each applies where the SUT file does not claim the feature whose other side it tests
(``conformance.sut.STATION_FEATURES``); the suite's tests run them against a simulated station
built that way (``VARIANTS`` in tests/conformance/station/test_station_suite.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conformance.station.flows16 import of_connector, unlock_while_charging
from conformance.station.harness import Harness, check, transaction_id
from conformance.verdicts import not_applicable

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOT_CHARGING = ("Available", "Preparing", "Finishing")  # a connector without a transaction
RESERVATION_ID = 4712



def _unless(h: Harness, feature: str, what: str) -> None:
    """The case tests a station without ``feature``."""
    if h.sut.claims(feature):
        not_applicable(f"a station {what} (the SUT claims {feature})")


# -- unlock connector, fixed cable -----------------------------------------------------------


@pytest.mark.case("TC_017_2_CS")
async def test_TC_017_2_CS(h: Harness) -> None:
    """Unlock connector without a session, fixed cable: UnlockConnector for connector 1
    answered NotSupported (a fixed cable has no lock to release)."""
    if not h.sut.claims("fixed_cable"):
        not_applicable("fixed_cable (a station whose connectors have a fixed cable)")
    await h.booted()
    answer = await h.csms.call("UnlockConnector", {"connectorId": 1}, step="UnlockConnector")
    check(answer.get("status") == "NotSupported", "UnlockConnector.conf", "NotSupported",
          answer)


@pytest.mark.case("TC_018_2_CS")
async def test_TC_018_2_CS(h: Harness) -> None:
    """Unlock connector with a session, fixed cable: charging; UnlockConnector answered
    NotSupported; the station still finishes the transaction first (1.6 §5.17):
    StopTransaction of the transaction with reason UnlockCommand; the connector leaves
    Charging (Finishing or Available)."""
    if not h.sut.claims("fixed_cable"):
        not_applicable("fixed_cable (a station whose connectors have a fixed cable)")
    await h.booted()
    await unlock_while_charging(h, "NotSupported")


# -- power failure, transactions ended after the reboot --------------------------------------


@pytest.mark.case("TC_032_2_CS")
async def test_TC_032_2_CS(h: Harness) -> None:
    """Power failure, the station ends its transactions once it is back: charging; power
    failure (no StopTransaction before the station goes down); it boots again
    (BootNotification) and then sends StopTransaction of the transaction with reason
    PowerLoss; connector 0 Available and connector 1 without a transaction."""
    _unless(h, "power_loss_stop_before_down", "that ends its transactions after the reboot")
    await h.booted()
    start = await h.charging16(h.sut.tokens.valid)
    tx = transaction_id(start)
    before = len(h.csms.connections)
    await h.act("power_cycle", step="power failure")
    await h.csms.new_connection(before, h.connect_s, step="reconnect after the power failure")
    boot = await h.csms.receive("BootNotification", step="BootNotification",
                                timeout_s=h.connect_s)
    stop = await h.csms.receive("StopTransaction", step="StopTransaction after the boot",
                                timeout_s=h.connect_s)
    check(stop.payload.get("transactionId") == tx and
          stop.payload.get("reason") == "PowerLoss" and stop.index > boot.index,
          "StopTransaction.req", f"transactionId {tx}, reason PowerLoss, after the "
          "BootNotification", {**stop.payload,
                               "sent": "after boot" if stop.index > boot.index else "before"})
    await h.status(0, "Available", step="after boot: StatusNotification 0")
    after = await h.csms.receive("StatusNotification", step="after boot: StatusNotification 1",
                                 where=of_connector(1))
    check(after.payload.get("status") in NOT_CHARGING, "StatusNotification.req",
          f"connector 1 without a transaction ({', '.join(NOT_CHARGING)})", after.payload)


# -- local authorization list not supported --------------------------------------------------


@pytest.mark.case("TC_042_1_CS")
async def test_TC_042_1_CS(h: Harness) -> None:
    """Get Local List Version, not supported: a station without a local authorization list
    answers GetLocalListVersion with listVersion -1 (the document also accepts a CALLERROR
    NotSupported or NotImplemented)."""
    _unless(h, "local_auth_list", "without a local authorization list")
    await h.booted()
    answer = await h.csms.call_or_error("GetLocalListVersion", {}, step="GetLocalListVersion")
    if isinstance(answer, dict):
        check(answer.get("listVersion") == -1, "GetLocalListVersion.conf", "listVersion -1",
              answer)
    else:
        check(answer.code in ("NotSupported", "NotImplemented"), "GetLocalListVersion",
              "listVersion -1, or CALLERROR NotSupported / NotImplemented",
              f"CALLERROR {answer.code}")


@pytest.mark.case("TC_043_1_CS")
async def test_TC_043_1_CS(h: Harness) -> None:
    """Send Local Authorization List, NotSupported: a station without a local authorization
    list answers SendLocalList (Full, version 1, one tag) with status NotSupported."""
    _unless(h, "local_auth_list", "without a local authorization list")
    await h.booted()
    answer = await h.csms.call("SendLocalList", {
        "listVersion": 1, "updateType": "Full", "localAuthorizationList": [
            {"idTag": h.sut.tokens.valid, "idTagInfo": {"status": "Accepted"}}]},
        step="SendLocalList")
    check(answer.get("status") == "NotSupported", "SendLocalList.conf", "NotSupported", answer)


# -- reservation of the charge point not supported -------------------------------------------


def _expiry(seconds: float = 3600.0) -> str:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.mark.case("TC_050_4_CS")
async def test_TC_050_4_CS(h: Harness) -> None:
    """Reservation of the charge point, Rejected: a station that does not take reservations
    of connector 0 (ReserveConnectorZeroSupported false or absent) answers ReserveNow for
    connector 0 Rejected, and no connector becomes Reserved."""
    _unless(h, "reservation_connector_zero", "without reservations of the whole charge point")
    await h.booted()
    answer = await h.csms.call("ReserveNow", {
        "connectorId": 0, "expiryDate": _expiry(), "idTag": h.sut.tokens.valid,
        "reservationId": RESERVATION_ID}, step="ReserveNow (connector 0)")
    check(answer.get("status") == "Rejected", "ReserveNow.conf", "Rejected", answer)
    await h.csms.nothing("StatusNotification", step="no connector Reserved", within_s=1.0,
                         where=lambda p: p.get("status") == "Reserved",
                         expected="no StatusNotification Reserved")
