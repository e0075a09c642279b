"""Negative controls of the 2.0.1 ``_CSMS`` cases outside OCA's certification programme
(the catalogue's note "not in certification programme"): block L's Local Controller cases,
block K's external charging limits, block B's GetVariables limit, block O's message state.

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from typing import Any

from tests.conformance.controls.kit import set
from tests.conformance.faulty_csms import Faults

Payload = dict[str, Any]

NOT_AN_MD5 = "not-an-md5-checksum"  # schema-valid (at most 32 characters), not hexadecimal
OTHER_MD5 = "0" * 32  # a well-formed checksum of some other firmware


def bad_answer_to_publish_status(status: str) -> Faults:
    """The CSMS answers the PublishFirmwareStatusNotification of ``status`` with a
    schema-invalid response (the others as they should be)."""
    def rewrite(sent: Payload, answer: Payload) -> Payload:
        if sent.get("status") == status:
            return {**answer, "unexpectedField": "from the faulty CSMS"}
        return answer
    return Faults(answers_to={"PublishFirmwareStatusNotification": rewrite})


def bad_answer_to_rate_change() -> Faults:
    """The CSMS answers TransactionEvent triggerReason ChargingRateChanged schema-invalid."""
    def rewrite(sent: Payload, answer: Payload) -> Payload:
        if sent.get("triggerReason") == "ChargingRateChanged":
            return {**answer, "unexpectedField": "from the faulty CSMS"}
        return answer
    return Faults(answers_to={"TransactionEvent": rewrite})


def cannot_take(action: str) -> Faults:
    """Every ``action`` of the station gets a CALLERROR (a CSMS without the message)."""
    return Faults(fail_calls={action: lambda payload: True})


def one_variable_more(payload: Payload) -> Payload:
    """A GetVariablesRequest with one more getVariableData than the CSMS put in (the first
    again): more than the station's ItemsPerMessageGetVariables when the CSMS filled it."""
    data = list(payload.get("getVariableData", []))
    return {**payload, "getVariableData": data + data[:1]}


def get_profiles_of_the_cso(payload: Payload) -> Payload:
    """GetChargingProfiles for the CSO's TxDefaultProfiles, not the external constraints."""
    return {**payload, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile",
                                           "chargingLimitSource": ["CSO"]}}


CONTROLS_201: dict[str, Faults] = {
    # L03 Publish Firmware: the request's checksum is not an MD5 in hexadecimal
    "TC_L_17_CSMS": Faults(calls={"PublishFirmware": set(checksum=NOT_AN_MD5)}),
    # ... or the notification the case is about gets a broken answer
    "TC_L_19_CSMS": bad_answer_to_publish_status("InvalidChecksum"),
    "TC_L_20_CSMS": bad_answer_to_publish_status("PublishFailed"),
    "TC_L_24_CSMS": bad_answer_to_publish_status("DownloadFailed"),
    # L04 Unpublish Firmware: another firmware's checksum than the one published, or not an MD5
    "TC_L_21_CSMS": Faults(calls={"UnpublishFirmware": set(checksum=OTHER_MD5)}),
    "TC_L_22_CSMS": Faults(calls={"UnpublishFirmware": set(checksum=NOT_AN_MD5)}),
    "TC_L_23_CSMS": Faults(calls={"UnpublishFirmware": set(checksum=OTHER_MD5)}),
    # K12, K13 external charging limits: the station's message is not taken, or the report is
    # asked for the wrong profiles
    "TC_K_48_CSMS": cannot_take("NotifyChargingLimit"),
    "TC_K_50_CSMS": cannot_take("ClearedChargingLimit"),
    "TC_K_51_CSMS": bad_answer_to_rate_change(),
    "TC_K_52_CSMS": Faults(calls={"GetChargingProfiles": get_profiles_of_the_cso}),
    # B06: more getVariableData in one request than the station takes
    "TC_B_08_CSMS": Faults(calls={"GetVariables": one_variable_more}),
    # O01 with a state: the message for another state than asked
    "TC_O_25_CSMS": Faults(calls={"SetDisplayMessage": lambda p: {
        **p, "message": {**p.get("message", {}), "state": "Idle"}}}),
}
