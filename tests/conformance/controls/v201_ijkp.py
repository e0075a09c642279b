"""Negative controls of 2.0.1 blocks I (Tariff and Cost), J (Meter Values), K (Smart Charging)
and P (Data Transfer).

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from typing import Any

from tests.conformance.controls.kit import set
from tests.conformance.faulty_csms import Faults


def _contexts(payload: dict[str, Any]) -> set[str]:
    return {s.get("context") for mv in payload.get("meterValue", [])
            for s in mv.get("sampledValue", [])}


def _signed(payload: dict[str, Any]) -> bool:
    return any("signedMeterValue" in s for mv in payload.get("meterValue", [])
               for s in mv.get("sampledValue", []))


def profile(**changes: Any) -> Faults:
    """SetChargingProfile's chargingProfile with ``changes`` (None: the field dropped)."""
    def rewrite(payload: dict[str, Any]) -> dict[str, Any]:
        changed = {**payload["chargingProfile"], **changes}
        return {**payload, "chargingProfile": {k: v for k, v in changed.items()
                                               if v is not None}}
    return Faults(calls={"SetChargingProfile": rewrite})


def every_second_profile_id_changed() -> Faults:
    """The 2nd, 4th, ... SetChargingProfile gets another chargingProfile.id (a "replacement"
    that installs a second profile instead)."""
    seen = [0]

    def rewrite(payload: dict[str, Any]) -> dict[str, Any]:
        seen[0] += 1
        if seen[0] % 2:
            return payload
        return {**payload, "chargingProfile": {**payload["chargingProfile"],
                                               "id": payload["chargingProfile"]["id"] + 1}}
    return Faults(calls={"SetChargingProfile": rewrite})


def criteria(**changes: Any) -> Faults:
    """GetChargingProfiles' chargingProfile criterion with ``changes``."""
    return Faults(calls={"GetChargingProfiles": lambda p: {
        **p, "chargingProfile": {**p["chargingProfile"], **changes}}})


def without(action: str, key: str) -> Faults:
    return Faults(calls={action: lambda p: {k: v for k, v in p.items() if k != key}})


def no_total_cost_when_ended(request: dict[str, Any], answer: dict[str, Any]
                             ) -> dict[str, Any]:
    if request.get("eventType") == "Ended":
        return {k: v for k, v in answer.items() if k != "totalCost"}
    return answer


def refuse_event(when: Any) -> Faults:
    """TransactionEvents ``when`` says yes to are answered with a CALLERROR (the CSMS cannot
    take those meter values)."""
    return Faults(fail_calls={"TransactionEvent": when})


CONTROLS_201: dict[str, Faults] = {
    # J: the CSMS refuses exactly the meter values the case sends
    "TC_J_01_CSMS": Faults(fail_calls={"MeterValues": lambda p: "Sample.Clock" in _contexts(p)}),
    "TC_J_02_CSMS": refuse_event(lambda p: p.get("triggerReason") == "MeterValueClock"),
    "TC_J_03_CSMS": refuse_event(lambda p: p.get("eventType") == "Ended"
                                 and "Sample.Clock" in _contexts(p)),
    "TC_J_04_CSMS": refuse_event(lambda p: p.get("triggerReason") == "MeterValueClock"
                                 and _signed(p)),
    "TC_J_07_CSMS": refuse_event(lambda p: p.get("eventType") == "Started"
                                 and "Transaction.Begin" in _contexts(p)),
    "TC_J_08_CSMS": refuse_event(lambda p: p.get("eventType") == "Updated"
                                 and "Transaction.Begin" in _contexts(p)),
    "TC_J_09_CSMS": refuse_event(lambda p: p.get("triggerReason") == "MeterValuePeriodic"),
    "TC_J_10_CSMS": refuse_event(lambda p: "Transaction.End" in _contexts(p)),
    "TC_J_11_CSMS": refuse_event(_signed),
    # K
    "TC_K_01_CSMS": profile(chargingProfilePurpose="ChargingStationMaxProfile"),
    "TC_K_02_CSMS": profile(chargingProfilePurpose="TxDefaultProfile", transactionId=None),
    "TC_K_03_CSMS": Faults(calls={"SetChargingProfile": set(evseId=1)}),
    "TC_K_04_CSMS": every_second_profile_id_changed(),
    "TC_K_05_CSMS": Faults(calls={"ClearChargingProfile": lambda p: {
        **p, "chargingProfileId": p["chargingProfileId"] + 1000}}),
    "TC_K_06_CSMS": Faults(calls={"ClearChargingProfile": lambda p: {
        **p, "chargingProfileCriteria": {**p["chargingProfileCriteria"], "stackLevel": 0}}}),
    "TC_K_08_CSMS": Faults(drop_calls=frozenset({"ClearChargingProfile"})),
    "TC_K_10_CSMS": Faults(calls={"SetChargingProfile": set(evseId=1)}),
    "TC_K_15_CSMS": Faults(drop_calls=frozenset({"SetChargingProfile"})),
    "TC_K_19_CSMS": profile(chargingProfileKind="Absolute", recurrencyKind=None),
    "TC_K_29_CSMS": Faults(calls={"GetChargingProfiles": set(evseId=1)}),
    "TC_K_30_CSMS": without("GetChargingProfiles", "evseId"),
    "TC_K_31_CSMS": Faults(calls={"GetChargingProfiles": set(evseId=0)}),
    "TC_K_32_CSMS": criteria(chargingProfileId=[1]),
    "TC_K_33_CSMS": criteria(stackLevel=0),
    "TC_K_34_CSMS": criteria(chargingLimitSource=["EMS"]),
    "TC_K_35_CSMS": criteria(chargingProfilePurpose="TxProfile"),
    "TC_K_36_CSMS": criteria(stackLevel=0),
    "TC_K_37_CSMS": Faults(calls={"RequestStartTransaction": lambda p: {
        **p, "chargingProfile": {**p["chargingProfile"], "transactionId": "CONF-TX-K37"}}}),
    "TC_K_43_CSMS": Faults(calls={"GetCompositeSchedule": set(evseId=0)}),
    "TC_K_44_CSMS": Faults(calls={"GetCompositeSchedule": set(evseId=1)}),
    "TC_K_60_CSMS": profile(transactionId=None),
    # I
    "TC_I_01_CSMS": Faults(calls={"CostUpdated": set(transactionId="SOMEONE-ELSES-TX")}),
    "TC_I_02_CSMS": Faults(answers_to={"TransactionEvent": no_total_cost_when_ended}),
    # P
    "TC_P_02_CSMS": Faults(answers={"DataTransfer": set(status="Accepted")}),
    "TC_P_03_CSMS": Faults(fail_calls={"Heartbeat": lambda p: "customData" in p}),
}
