"""Negative controls of the 2.0.1 cases of blocks F (Remote Control), H (Reservation) and the
further cases of blocks C and E (test_v201_remote_control.py, test_v201_reservation.py,
test_v201_transactions_more.py).

Each entry: case id -> the faulty CSMS that breaks exactly the rule the case checks.
"""

from __future__ import annotations

from typing import Any

from tests.conformance.controls.kit import on_trigger, plus, set, token_status
from tests.conformance.faulty_csms import Faults

Payload = dict[str, Any]


def refuse_event(reason: str, event_type: str | None = None) -> Faults:
    """TransactionEvents with ``reason`` (and ``event_type``) answered idTokenInfo Invalid,
    whether or not the CSMS put an idTokenInfo in its answer."""
    def rewrite(request: Payload, answer: Payload) -> Payload:
        if request.get("triggerReason") == reason and event_type in (None,
                                                                     request.get("eventType")):
            return {**answer, "idTokenInfo": {**answer.get("idTokenInfo", {}),
                                              "status": "Invalid"}}
        return answer
    return Faults(answers_to={"TransactionEvent": rewrite})


def refuse_second_start() -> Faults:
    """The second transaction of a connection that starts at seqNo 0 is answered Invalid (a
    CSMS that takes a seqNo it has seen as a repeat)."""
    seen: list[str] = []

    def rewrite(request: Payload, answer: Payload) -> Payload:
        if request.get("eventType") == "Started" and request.get("seqNo") == 0:
            seen.append(request["transactionInfo"]["transactionId"])
            if len(seen) % 2 == 0:
                return token_status("idTokenInfo", "Invalid")(answer)
        return answer
    return Faults(answers_to={"TransactionEvent": rewrite})


def trigger(**values: Any) -> Faults:
    return Faults(calls={"TriggerMessage": set(**values)})


def reserve(**values: Any) -> Faults:
    return Faults(calls={"ReserveNow": set(**values)})


def without(key: str) -> Any:
    return lambda payload: {k: v for k, v in payload.items() if k != key}


# a schema-invalid answer: the CSMS does not answer the message as OCPP says
GARBLED_ANSWER = set(status="Garbled")
OTHER_TOKEN = {"idToken": "SOMEONE-ELSE", "type": "ISO14443"}
NO_GROUP = lambda p: {**p, "idTokenInfo": {  # noqa: E731
    k: v for k, v in p.get("idTokenInfo", {}).items() if k != "groupIdToken"}}

CONTROLS_201: dict[str, Faults] = {
    # F: remote start
    "TC_F_01_CSMS": Faults(calls={"RequestStartTransaction": set(idToken=OTHER_TOKEN)}),
    "TC_F_02_CSMS": Faults(answers={"Authorize": token_status("idTokenInfo", "Invalid")}),
    "TC_F_03_CSMS": on_trigger("RemoteStart", "Invalid"),
    "TC_F_04_CSMS": refuse_event("EVConnectTimeout"),
    "TC_F_06_CSMS": Faults(calls={"UnlockConnector": set(connectorId=2)}),
    # F: trigger message
    "TC_F_11_CSMS": trigger(evse={"id": 2}),
    "TC_F_12_CSMS": trigger(evse={"id": 1}),
    "TC_F_13_CSMS": trigger(requestedMessage="MeterValues"),
    "TC_F_14_CSMS": trigger(evse={"id": 1}),
    "TC_F_15_CSMS": trigger(requestedMessage="FirmwareStatusNotification"),
    "TC_F_18_CSMS": trigger(requestedMessage="LogStatusNotification"),
    "TC_F_20_CSMS": trigger(requestedMessage="BootNotification"),
    "TC_F_23_CSMS": trigger(evse={"id": 1}),
    "TC_F_24_CSMS": trigger(evse={"id": 1, "connectorId": 2}),
    "TC_F_27_CSMS": Faults(drop_calls=frozenset({"TriggerMessage"})),
    # H: reservation
    "TC_H_01_CSMS": reserve(evseId=2),
    "TC_H_07_CSMS": Faults(answers={"ReservationStatusUpdate": GARBLED_ANSWER}),
    "TC_H_08_CSMS": reserve(evseId=1),
    "TC_H_14_CSMS": reserve(evseId=1),
    "TC_H_15_CSMS": reserve(connectorType="cCCS1"),
    "TC_H_17_CSMS": Faults(calls={"CancelReservation": plus("reservationId", 1)}),
    "TC_H_19_CSMS": Faults(answers={"Authorize": NO_GROUP}),
    "TC_H_20_CSMS": Faults(answers={"ReservationStatusUpdate": GARBLED_ANSWER}),
    "TC_H_22_CSMS": Faults(drop_calls=frozenset({"ReserveNow"})),
    # E: start options
    "TC_E_01_CSMS": on_trigger("ChargingStateChanged", "Invalid"),
    "TC_E_02_CSMS": on_trigger("ChargingStateChanged", "Invalid"),
    "TC_E_09_CSMS": on_trigger("Authorized", "Invalid"),
    "TC_E_10_CSMS": on_trigger("Authorized", "Invalid"),
    "TC_E_11_CSMS": on_trigger("SignedDataReceived", "Invalid"),
    "TC_E_12_CSMS": refuse_event("EVDetected"),
    "TC_E_38_CSMS": refuse_event("ChargingStateChanged"),
    # E: stop options
    "TC_E_07_CSMS": on_trigger("StopAuthorized", "Invalid"),
    "TC_E_08_CSMS": on_trigger("StopAuthorized", "Invalid"),
    "TC_E_14_CSMS": refuse_event("EVCommunicationLost"),
    "TC_E_19_CSMS": refuse_event("EVDeparted"),
    "TC_E_20_CSMS": refuse_event("EVCommunicationLost"),
    "TC_E_22_CSMS": refuse_event("ChargingStateChanged", "Ended"),
    "TC_E_26_CSMS": refuse_event("EVCommunicationLost"),
    "TC_E_39_CSMS": refuse_event("EVConnectTimeout"),
    "TC_E_53_CSMS": refuse_second_start(),
    # E: GetTransactionStatus
    "TC_E_29_CSMS": Faults(calls={"GetTransactionStatus": set(transactionId="SOMETHING")}),
    "TC_E_30_CSMS": Faults(calls={"GetTransactionStatus": set(transactionId="SOMETHING")}),
    "TC_E_31_CSMS": Faults(calls={"GetTransactionStatus": without("transactionId")}),
    "TC_E_33_CSMS": Faults(calls={"GetTransactionStatus": set(transactionId="SOMETHING")}),
    "TC_E_34_CSMS": Faults(calls={"GetTransactionStatus": set(transactionId="SOMETHING")}),
}
