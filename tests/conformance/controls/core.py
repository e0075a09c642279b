"""Negative controls of the first cases: 1.6 Core, 2.0.1 blocks A, B, C, E, G, robustness.

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from tests.conformance.controls.kit import (
    ACCEPT_ANY_TAG,
    REMOTE_START_OTHER_TAG,
    START_REFUSED,
    availability,
    crash,
    flip_status,
    generic_errors,
    on_trigger,
    plus,
    set,
    token_status,
    twice,
)
from tests.conformance.faulty_csms import Faults

# case id -> the CSMS that breaks what the case checks
CONTROLS_16: dict[str, Faults] = {
    "TC_001_CSMS": Faults(answers={"BootNotification": set(status="Rejected")}),
    "TC_003_CSMS": START_REFUSED,
    "TC_004_1_CSMS": START_REFUSED,
    "TC_004_2_CSMS": Faults(answers={"Authorize": token_status("idTagInfo", "Invalid")}),
    "TC_010_CSMS": REMOTE_START_OTHER_TAG,
    "TC_011_1_CSMS": START_REFUSED,
    "TC_011_2_CSMS": REMOTE_START_OTHER_TAG,
    "TC_012_CSMS": Faults(calls={"RemoteStopTransaction": plus("transactionId", 1000)}),
    "TC_013_CSMS": Faults(calls={"Reset": set(type="Soft")}),
    "TC_014_CSMS": Faults(calls={"Reset": set(type="Hard")}),
    "TC_017_1_CSMS": Faults(calls={"UnlockConnector": set(connectorId=2)}),
    "TC_019_1_CSMS": Faults(calls={"GetConfiguration": set(key=["HeartbeatInterval"])}),
    "TC_019_2_CSMS": Faults(calls={"GetConfiguration": set(key=["HeartbeatInterval",
                                                                 "ConnectionTimeOut"])}),
    "TC_021_CSMS": Faults(calls={"ChangeConfiguration": set(value="61")}),
    "TC_023_1_CSMS": ACCEPT_ANY_TAG,
    "TC_023_2_CSMS": ACCEPT_ANY_TAG,
    "TC_023_3_CSMS": ACCEPT_ANY_TAG,
    "TC_061_CSMS": Faults(drop_calls=frozenset({"ClearCache"})),
    "TC_064_CSMS": Faults(answers={"DataTransfer": set(status="Maybe")}),
}

CONTROLS_201: dict[str, Faults] = {
    "TC_A_01_CSMS": Faults(refuse_connections=True),
    "TC_A_02_CSMS": Faults(accept_any_credentials=True),
    "TC_A_03_CSMS": Faults(accept_any_credentials=True),
    "TC_B_01_CSMS": Faults(answers={"BootNotification": set(status="Rejected")}),
    "TC_B_06_CSMS": Faults(calls={"GetVariables": twice("getVariableData")}),
    "TC_B_09_CSMS": Faults(calls={"SetVariables": twice("setVariableData")}),
    "TC_B_20_CSMS": Faults(calls={"Reset": set(evseId=1)}),
    "TC_B_58_CSMS": Faults(select_subprotocol=lambda offered: offered[0]),
    "TC_C_02_CSMS": Faults(answers={"Authorize": token_status("idTokenInfo", "Accepted")}),
    "TC_C_06_CSMS": Faults(answers={"Authorize": token_status("idTokenInfo", "Accepted")}),
    "TC_C_07_CSMS": Faults(answers={"Authorize": token_status("idTokenInfo", "Accepted")}),
    "TC_E_04_CSMS": Faults(answers={"TransactionEvent": token_status("idTokenInfo",
                                                                       "Invalid")}),
    "TC_C_08_CSMS": on_trigger("Authorized", "Invalid"),
    "TC_C_20_CSMS": on_trigger("Authorized", "Accepted"),
    "TC_C_37_CSMS": Faults(drop_calls=frozenset({"ClearCache"})),
    "TC_C_38_CSMS": Faults(drop_calls=frozenset({"ClearCache"})),
    "TC_C_39_CSMS": Faults(answers={"Authorize": lambda p: {
        **p, "idTokenInfo": {k: v for k, v in p["idTokenInfo"].items()
                             if k != "groupIdToken"}}}),
    "TC_E_03_CSMS": on_trigger("Authorized", "Invalid"),
    "TC_E_15_CSMS": on_trigger("StopAuthorized", "Invalid"),
    "TC_E_16_CSMS": on_trigger("Authorized", "Accepted"),
    "TC_E_21_CSMS": Faults(calls={"RequestStopTransaction": set(transactionId="SOMETHING")}),
    "TC_G_03_CSMS": flip_status(),
    "TC_G_04_CSMS": flip_status(),
    "TC_G_05_CSMS": availability(evse={"id": 1}),
    "TC_G_06_CSMS": availability(evse={"id": 1}),
    "TC_G_07_CSMS": availability(**{"evse.connectorId": None}),
    "TC_G_08_CSMS": availability(**{"evse.connectorId": None}),
    "TC_G_11_CSMS": availability(evse=None),
    "TC_G_14_CSMS": flip_status(),
    "TC_G_17_CSMS": availability(**{"evse.connectorId": None}),
}


ROBUSTNESS: dict[str, Faults] = {
    "ROB_01_CSMS": Faults(close_on=lambda frame: frame is None),
    "ROB_02_CSMS": Faults(close_on=lambda frame: frame is None),
    "ROB_03_CSMS": Faults(close_on=lambda frame: frame is None),
    "ROB_04_CSMS": generic_errors(),
    "ROB_05_CSMS": Faults(close_on=lambda frame: bool(frame) and frame[0] == 7),
    "ROB_06_CSMS": generic_errors(),
    "ROB_07_CSMS": generic_errors(),
    "ROB_08_CSMS": generic_errors(),
    "ROB_10_CSMS": generic_errors(),
    "ROB_11_CSMS": generic_errors(),
    "ROB_12_CSMS": generic_errors(),
    "ROB_13_CSMS": generic_errors(),
    "ROB_14_CSMS": Faults(drop_overlapping_calls=True),
    "ROB_15_CSMS": Faults(reply_to_stray_results=True),
    "ROB_16_CSMS": Faults(drop_repeated_ids=True),
    "ROB_17_CSMS": crash(lambda raw, _: isinstance(raw, bytes)),
    "ROB_18_CSMS": crash(lambda raw, _: len(raw) > 2**20),
    "ROB_19_CSMS": crash(lambda _, frames: frames > 100),
}
CONTROLS_16.update(ROBUSTNESS)
CONTROLS_201.update(ROBUSTNESS)
CONTROLS_201["ROB_09_CSMS"] = generic_errors()
