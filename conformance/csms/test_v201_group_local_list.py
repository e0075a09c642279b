"""OCPP 2.0.1 block C (Authorization), C09 Authorization by GroupId with the Local Authorization
List (profile LAL), CSMS under test.

The station holds the valid idToken and valid_2 (the SUT file's ``tokens``, both in the group
``tokens.group_id``) in its local authorization list, so it starts on the valid idToken
without asking the CSMS (no AuthorizeRequest). What the CSMS sees are the TransactionEvents
with the idTokens, and (TC_C_43) an AuthorizeRequest for a token whose local entry is not
Accepted; it must answer them with the group's groupIdToken, which is what lets the station
stop a transaction with another token of the group.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.csms.harness import (
    StationPool,
    Transaction201,
    check,
    id_token,
    status_payload,
)
from conformance.sut import Sut

pytestmark = pytest.mark.asyncio


def _accepted_in_group(answer: dict[str, Any], sut: Sut, step: str) -> None:
    info = answer.get("idTokenInfo", {})
    group = sut.tokens.group_id
    check(info.get("status") == "Accepted", step, "idTokenInfo.status Accepted", answer)
    check(info.get("groupIdToken", {}).get("idToken") == group, step,
          f"idTokenInfo.groupIdToken.idToken {group} (the configured GroupId)", answer)


async def _charging_on_local_list(stations: StationPool, sut: Sut, tx_id: str
                                  ) -> Transaction201:
    """EVConnectedPreSession (StatusNotification Occupied, TransactionEvent Started on
    CablePluggedIn); the valid idToken, found in the local list, authorizes at once:
    TransactionEvent Updated (Authorized, the idToken), validated Accepted with the
    configured GroupId; then EnergyTransferStarted (Updated, Charging)."""
    station = await stations.booted()
    await station.call("StatusNotification", status_payload(station.version, 1, "Occupied"),
                       step="StatusNotification Occupied")
    tx = Transaction201(station, tx_id)
    await tx.event("Started", "CablePluggedIn", charging_state="EVConnected", meter_wh=0,
                   step="TransactionEvent Started (CablePluggedIn)")
    answer = await tx.event("Updated", "Authorized", token=sut.tokens.valid,
                            step="TransactionEvent Updated (Authorized, local list)")
    _accepted_in_group(answer, sut, "TransactionEventResponse (Authorized)")
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="TransactionEvent Updated (Charging)")
    return tx


@pytest.mark.case("TC_C_40_CSMS")
async def test_TC_C_40_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorization by GroupId, success with the Local Authorization List (C09.FR.02,
    C09.FR.03). Before: EVConnectedPreSession. Steps: the valid idToken is presented, found in
    the local list: TransactionEvent (triggerReason Authorized, the idToken, no
    AuthorizeRequest); EnergyTransferStarted; valid_2 (same GroupId, in the local list) is
    presented and stops the transaction: TransactionEvent Ended (StopAuthorized, stoppedReason
    Local, idToken valid_2). Validated: both TransactionEventResponses idTokenInfo.status
    Accepted with groupIdToken.idToken the configured GroupId."""
    tx = await _charging_on_local_list(stations, sut, "CONF-TX-C40")
    answer = await tx.event("Ended", "StopAuthorized", token=sut.tokens.valid_2,
                            charging_state="EVConnected", stopped_reason="Local", meter_wh=900,
                            step="TransactionEvent Ended (StopAuthorized, valid_2)")
    _accepted_in_group(answer, sut, "TransactionEventResponse (StopAuthorized)")


@pytest.mark.case("TC_C_43_CSMS")
async def test_TC_C_43_CSMS(stations: StationPool, sut: Sut) -> None:
    """Authorization by GroupId, invalid status with the Local Authorization List (C09, C14).
    Before: EVConnectedPreSession. Steps: the valid idToken, found in the local list, starts:
    TransactionEvent (Authorized, the idToken); EnergyTransferStarted; valid_2 is presented,
    whose local list entry is not Accepted, so the station asks the CSMS: AuthorizeRequest
    (valid_2); on the CSMS's Accepted answer with the group, it stops the transaction:
    TransactionEvent Ended (StopAuthorized, idToken valid_2). Validated: the Authorized event
    answered Accepted with the configured GroupId; AuthorizeResponse idTokenInfo.status
    Accepted with groupIdToken.idToken the configured GroupId; the Ended event answered without
    a refusal."""
    tx = await _charging_on_local_list(stations, sut, "CONF-TX-C43")
    answer = await tx.station.call("Authorize", {"idToken": id_token(sut.tokens.valid_2)},
                                   step="AuthorizeRequest (valid_2, not Accepted locally)")
    _accepted_in_group(answer, sut, "AuthorizeResponse (valid_2)")
    ended = await tx.event("Ended", "StopAuthorized", token=sut.tokens.valid_2,
                           charging_state="EVConnected", stopped_reason="Local", meter_wh=900,
                           step="TransactionEvent Ended (StopAuthorized, valid_2)")
    info = ended.get("idTokenInfo")
    check(info is None or info.get("status") == "Accepted",
          "TransactionEventResponse (StopAuthorized)",
          "no idTokenInfo, or idTokenInfo.status Accepted", ended)
