"""Negative controls of the 1.6 cases of ``test_v16_core_more.py``, ``test_v16_local_list.py``,
``test_v16_remote_trigger.py`` and ``test_v16_reservation.py``.

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from typing import Any

from tests.conformance.controls.kit import (
    REMOTE_START_OTHER_TAG,
    START_REFUSED,
    plus,
    set,
    token_status,
)
from tests.conformance.faulty_csms import Faults


def refuses(action: str, **fields: Any) -> Faults:
    """A CSMS that answers the station's ``action`` carrying ``fields`` with a CALLERROR."""
    return Faults(fail_calls={action: lambda p: all(p.get(k) == v for k, v in fields.items())})


def without(key: str) -> Any:
    return lambda payload: {k: v for k, v in payload.items() if k != key}


CONTROLS_16: dict[str, Faults] = {
    # Core
    "TC_005_1_CSMS": refuses("StopTransaction", reason="EVDisconnected"),
    "TC_007_CSMS": START_REFUSED,
    "TC_017_2_CSMS": Faults(calls={"UnlockConnector": set(connectorId=2)}),
    "TC_018_1_CSMS": Faults(calls={"UnlockConnector": set(connectorId=2)}),
    "TC_024_CSMS": refuses("StatusNotification", errorCode="ConnectorLockFailure"),
    "TC_026_CSMS": REMOTE_START_OTHER_TAG,
    "TC_028_CSMS": Faults(calls={"RemoteStopTransaction": plus("transactionId", 1000)}),
    "TC_030_CSMS": Faults(calls={"UnlockConnector": set(connectorId=2)}),
    "TC_031_CSMS": Faults(calls={"UnlockConnector": set(connectorId=1)}),
    "TC_032_1_CSMS": refuses("StopTransaction", reason="PowerLoss"),
    "TC_037_1_CSMS": START_REFUSED,
    "TC_037_3_CSMS": Faults(answers={"StartTransaction": token_status("idTagInfo", "Accepted")}),
    "TC_039_CSMS": START_REFUSED,
    "TC_040_1_CSMS": Faults(calls={"ChangeConfiguration": set(value="2")}),
    "TC_040_2_CSMS": Faults(calls={"ChangeConfiguration": set(value="60")}),
    # Local Auth List
    "TC_042_1_CSMS": Faults(drop_calls=frozenset({"GetLocalListVersion"})),
    "TC_042_2_CSMS": Faults(drop_calls=frozenset({"GetLocalListVersion"})),
    "TC_043_1_CSMS": Faults(calls={"SendLocalList": set(updateType="Differential")}),
    "TC_043_3_CSMS": Faults(calls={"SendLocalList": set(updateType="Differential")}),
    "TC_043_4_CSMS": Faults(calls={"SendLocalList": set(updateType="Differential")}),
    "TC_043_5_CSMS": Faults(calls={"SendLocalList": set(listVersion=1)}),
    # Remote Trigger
    "TC_054_CSMS": Faults(calls={"TriggerMessage": set(requestedMessage="Heartbeat")}),
    "TC_055_CSMS": Faults(drop_calls=frozenset({"TriggerMessage"})),
    # Reservation
    "TC_046_CSMS": Faults(calls={"ReserveNow": set(idTag="SOMEONE-ELSE")}),
    "TC_047_CSMS": Faults(calls={"ReserveNow": set(expiryDate="2020-01-01T00:00:00Z")}),
    "TC_048_1_CSMS": Faults(calls={"ReserveNow": set(connectorId=2)}),
    "TC_048_2_CSMS": Faults(calls={"ReserveNow": set(connectorId=2)}),
    "TC_048_3_CSMS": Faults(calls={"ReserveNow": set(connectorId=2)}),
    "TC_048_4_CSMS": Faults(calls={"ReserveNow": set(connectorId=2)}),
    "TC_049_CSMS": Faults(calls={"ReserveNow": set(connectorId=1)}),
    "TC_051_CSMS": Faults(calls={"CancelReservation": plus("reservationId", 1000)}),
    "TC_052_CSMS": Faults(calls={"CancelReservation": plus("reservationId", 1000)}),
    "TC_053_CSMS": Faults(calls={"ReserveNow": without("parentIdTag")}),
}
