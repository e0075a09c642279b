"""OCPP 2.0.1 block O (Display Message), CSMS under test: a message for one state only.

Use case O01 (Set DisplayMessage) with a state: the station shows the message only while it is
in that state (here Charging). The cases of ``test_v201_display.py`` cover the rest of the
block; this one is outside OCA's certification programme (the catalogue says so) and counts
with the Advanced User Interface profile for scope.
"""

from __future__ import annotations

import pytest

from conformance.csms.display201 import display_message, set_display_message
from conformance.csms.harness import StationPool, booted_station, check
from conformance.sut import Sut
from conformance.triggers import Triggers

pytestmark = pytest.mark.asyncio


@pytest.mark.case("TC_O_25_CSMS")
async def test_TC_O_25_CSMS(stations: StationPool, triggers: Triggers, sut: Sut) -> None:
    """Set Display Message - Send Specific state (O01). Booted; the CSMS sends
    SetDisplayMessageRequest for a message shown only while charging (validated as in
    TC_O_01: message id, priority NormalCycle, format UTF8 and content as asked, no
    transactionId, start or end time; and message.state Charging), answered Accepted."""
    station = await booted_station(stations)
    got = await set_display_message(station, triggers, sut, display_message(state="Charging"))
    check(got.get("state") == "Charging", "SetDisplayMessageRequest", "message.state Charging",
          got)
