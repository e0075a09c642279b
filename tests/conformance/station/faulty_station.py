"""A deliberately faulty variant of the simulator's station, one broken rule per case.

``FAULTS[case_id](station)`` patches a freshly built ``SimStation`` (the simulated SUT builds a
new one before every case and applies the fault of that case, ``--simulated-faults
tests.conformance.station.faulty_station:FAULTS``), so each case meets a station that breaks
exactly the rule it checks and every other case meets the faithful one.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from simulator.station import SimStation
from simulator.station.outbox import OutMessage

Fault = Callable[[SimStation], None]
Payload = dict[str, Any]


def answer(action: str, change: Callable[[Payload, Payload], Payload], *,
           drop_follow: bool = False, when: Callable[[Payload], bool] | None = None) -> Fault:
    """The station answers ``action`` with ``change(answer, request)``; with ``drop_follow``
    it then does not do what the answer promised."""
    def apply(station: SimStation) -> None:
        proto = station.proto
        original = proto.handle

        def handle(name: str, payload: Payload) -> Any:
            result = original(name, payload)
            if name != action or (when is not None and not when(payload)):
                return result

            def broken() -> Any:
                outcome = result
                if isinstance(outcome, types.GeneratorType):
                    outcome = yield from outcome
                follow = None
                if isinstance(outcome, tuple):
                    outcome, follow = outcome
                changed = change(dict(outcome), payload)
                if follow is not None and drop_follow:
                    follow.close()
                    follow = None
                return (changed, follow) if follow is not None else changed
                yield  # a generator, as SimStation's dispatch expects of slow handlers

            return broken()

        proto.handle = handle  # type: ignore[method-assign]
    return apply


def status_instead(wrong: dict[str, str]) -> Fault:
    """The station reports another connector status than the one it is in."""
    def apply(station: SimStation) -> None:
        original = station.proto.connector_status

        def connector_status(evse: Any) -> str:
            status = original(evse)
            return wrong.get(status, status)

        station.proto.connector_status = connector_status  # type: ignore[method-assign]
    return apply


def boot_retry_at_once(station: SimStation) -> None:
    """A Rejected boot is retried at once, whatever interval the CSMS gave."""
    station.spec = replace(station.spec, boot_retry_s=0)
    original = station.call_now

    def call_now(action: str, payload: Payload) -> Any:
        result = yield from original(action, payload)
        if action == "BootNotification" and result.get("status") != "Accepted":
            result = {**result, "interval": 0}
        return result

    station.call_now = call_now  # type: ignore[method-assign]


def connection_timeout_early(station: SimStation) -> None:
    """The authorisation lapses after a fraction of ConnectionTimeOut."""
    def early(evse: Any, auth: Any) -> Any:
        yield station.env.timeout(station.settings.ev_connection_timeout_s * 0.25)
        if evse.auth is auth and not evse.plugged:
            evse.auth = None
            station.changed(evse)

    station._connection_timeout = early  # type: ignore[method-assign]


def accept_every_token(station: SimStation) -> None:
    """Whatever the CSMS says about a tag, the station takes it as Accepted."""
    from simulator.station.station import Verdict

    station.proto.authorize_verdict = lambda answer: Verdict("Accepted")  # type: ignore[method-assign]


def stop_without_id_tag(station: SimStation) -> None:
    """StopTransaction leaves out the idTag that stopped the transaction."""
    original = station.enqueue

    def enqueue(message: OutMessage) -> None:
        if message.action == "StopTransaction":
            message.payload.pop("idTag", None)
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]


def message_without(action: str, key: str) -> Fault:
    """The station's ``action`` messages leave out ``key``."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            if message.action == action:
                message.payload.pop(key, None)
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def request_changed(action: str, change: Callable[[Payload], Payload]) -> Fault:
    """The station acts on ``change(request)`` instead of the CSMS's ``action`` request (and
    answers as it would to the real one)."""
    def apply(station: SimStation) -> None:
        proto = station.proto
        original = proto.handle

        def handle(name: str, payload: Payload) -> Any:
            return original(name, change(dict(payload)) if name == action else payload)

        proto.handle = handle  # type: ignore[method-assign]
    return apply


def ignored(action: str, reply: Payload, when: Callable[[Payload], bool] | None = None
            ) -> Fault:
    """The station answers ``action`` with ``reply`` and does nothing."""
    def apply(station: SimStation) -> None:
        proto = station.proto
        original = proto.handle

        def handle(name: str, payload: Payload) -> Any:
            if name == action and (when is None or when(payload)):
                return dict(reply)
            return original(name, payload)

        proto.handle = handle  # type: ignore[method-assign]
    return apply


def unplug_unnoticed(station: SimStation) -> None:
    """The station does not notice that the cable was pulled out."""
    def unplug(evse_id: int) -> Any:
        yield station.env.timeout(0)

    station.unplug = unplug  # type: ignore[method-assign]


def _differential(payload: Payload) -> bool:
    return payload.get("updateType") == "Differential"


def _never_expiring(key: str) -> Callable[[Payload], Payload]:
    return lambda request: {**request, key: "2099-01-01T00:00:00Z"}


def _without(key: str) -> Callable[[Payload], Payload]:
    return lambda request: {k: v for k, v in request.items() if k != key}


def _set(**values: Any) -> Callable[[Payload, Payload], Payload]:
    return lambda got, request: {**got, **values}


def _without_key(key: str) -> Callable[[Payload, Payload], Payload]:
    return lambda got, request: {**got, "configurationKey": [
        k for k in got.get("configurationKey", []) if k["key"] != key]}


def _results(field: str, **values: Any) -> Callable[[Payload, Payload], Payload]:
    return lambda got, request: {**got, field: [{**r, **values} for r in got[field]]}


def set_variables_without_storing(station: SimStation) -> None:
    """SetVariables answered Accepted, and nothing changes."""
    proto = station.proto
    original = proto.handle

    def handle(name: str, payload: Payload) -> Any:
        if name == "SetVariables":
            return {"setVariableResult": [
                {"attributeStatus": "Accepted", "component": d["component"],
                 "variable": d["variable"]} for d in payload["setVariableData"]]}
        return original(name, payload)

    proto.handle = handle  # type: ignore[method-assign]


FAULTS: dict[str, Fault] = {
    # OCPP 1.6
    "TC_001_CS": boot_retry_at_once,
    "TC_003_CS": status_instead({"Preparing": "Available"}),
    "TC_004_1_CS": status_instead({"Charging": "SuspendedEVSE"}),
    "TC_004_2_CS": connection_timeout_early,
    "TC_010_CS": answer("RemoteStartTransaction", _set(), drop_follow=True),
    "TC_011_1_CS": answer("RemoteStartTransaction", _set(), drop_follow=True),
    "TC_012_CS": answer("RemoteStopTransaction", _set(), drop_follow=True),
    "TC_013_CS": answer("Reset", _set(), drop_follow=True),
    "TC_014_CS": answer("Reset", _set(), drop_follow=True),
    "TC_019_CS": answer("GetConfiguration", _without_key("ConnectionTimeOut")),
    "TC_021_CS": answer("GetConfiguration", lambda got, request: {
        **got, "configurationKey": [{**k, "value": "1"} for k in got["configurationKey"]]}),
    "TC_023_CS": accept_every_token,
    "TC_027_CS": answer("RemoteStartTransaction", _set(status="Accepted")),
    "TC_028_CS": answer("RemoteStopTransaction", _set(status="Accepted")),
    "TC_031_CS": answer("UnlockConnector", _set(status="UnlockFailed")),
    "TC_040_1_CS": answer("ChangeConfiguration", _set(status="Rejected")),
    "TC_040_2_CS": answer("ChangeConfiguration", _set(status="Accepted")),
    "TC_061_CS": answer("ClearCache", _set(status="Rejected")),
    "TC_068_CS": stop_without_id_tag,
    "TC_042_2_CS": answer("GetLocalListVersion", _set(listVersion=1)),
    "TC_043_CS": answer("SendLocalList", _set(status="Failed"), when=_differential),
    "TC_043_2_CS": answer("SendLocalList", _set(status="Accepted"), when=_differential),
    "TC_054_CS": answer("TriggerMessage", _set(), drop_follow=True),
    "TC_055_CS": answer("TriggerMessage", _set(status="Accepted")),
    "TC_046_1_CS": message_without("StartTransaction", "reservationId"),
    "TC_047_CS": request_changed("ReserveNow", _never_expiring("expiryDate")),
    "TC_048_2_CS": answer("ReserveNow", _set(status="Accepted")),
    "TC_048_3_CS": answer("ReserveNow", _set(status="Accepted")),
    "TC_051_CS": answer("CancelReservation", _set(), drop_follow=True),
    "TC_052_CS": answer("CancelReservation", _set(status="Accepted")),
    "TC_056_CS": ignored("SetChargingProfile", {"status": "Accepted"}),
    "TC_058_1_CS": answer("SetChargingProfile", _set(status="Accepted")),
    "TC_058_2_CS": answer("SetChargingProfile", _set(status="Accepted")),
    "TC_067_CS": ignored("ClearChargingProfile", {"status": "Accepted"}),
    "TC_059_CS": request_changed("RemoteStartTransaction", _without("chargingProfile")),
    # OCPP 2.0.1
    "TC_B_01_CS": status_instead({"Available": "Unavailable"}),
    "TC_B_06_CS": answer("GetVariables", _results("getVariableResult", attributeValue="999")),
    "TC_B_09_CS": set_variables_without_storing,
    "TC_B_20_CS": answer("Reset", _set(), drop_follow=True),
    "TC_B_32_CS": answer("GetVariables", _results("getVariableResult",
                                                  attributeStatus="Rejected")),
    "TC_B_33_CS": answer("GetVariables", _results("getVariableResult",
                                                  attributeStatus="UnknownComponent")),
    "TC_E_28_CS": answer("GetTransactionStatus", _set(ongoingIndicator=True)),
    "TC_F_09_CS": answer("RequestStopTransaction", _set(status="Accepted")),
    "TC_F_20_CS": answer("TriggerMessage", _set(), drop_follow=True),
    "TC_G_03_CS": answer("ChangeAvailability", _set(), drop_follow=True),
    "TC_G_04_CS": answer("ChangeAvailability", _set(), drop_follow=True,
                         when=lambda p: p.get("operationalStatus") == "Operative"),
    "TC_D_01_CS": answer("GetLocalListVersion", _set(versionNumber=0)),
    "TC_D_02_CS": ignored("SendLocalList", {"status": "Accepted"}, when=_differential),
    "TC_D_06_CS": answer("SendLocalList", _set(status="Accepted"), when=_differential),
    "TC_D_08_CS": answer("GetLocalListVersion", _set(versionNumber=1)),
    "TC_H_06_CS": answer("ReserveNow", _set(status="Accepted")),
    "TC_H_07_CS": request_changed("ReserveNow", _never_expiring("expiryDateTime")),
    "TC_H_17_CS": answer("CancelReservation", _set(), drop_follow=True),
    "TC_H_18_CS": answer("CancelReservation", _set(status="Accepted")),
    "TC_B_07_CS": answer("GetVariables", lambda got, request: {
        **got, "getVariableResult": got["getVariableResult"][:1]}),
    "TC_B_10_CS": set_variables_without_storing,
    "TC_B_35_CS": answer("SetVariables", _results("setVariableResult",
                                                  attributeStatus="Rejected")),
    "TC_B_36_CS": answer("SetVariables", _results("setVariableResult",
                                                  attributeStatus="Rejected")),
    "TC_B_39_CS": answer("SetVariables", _results("setVariableResult",
                                                  attributeStatus="Accepted")),
    "TC_G_01_CS": status_instead({"Occupied": "Available"}),
    "TC_G_02_CS": unplug_unnoticed,
    "TC_G_05_CS": answer("ChangeAvailability", _set(), drop_follow=True),
    "TC_G_09_CS": answer("ChangeAvailability", _set(status="Rejected")),
    "TC_F_08_CS": answer("RequestStopTransaction", _set(), drop_follow=True),
    "TC_B_34_CS": answer("GetVariables", _results("getVariableResult",
                                                  attributeStatus="Accepted")),
    "TC_G_06_CS": answer("ChangeAvailability", _set(), drop_follow=True,
                         when=lambda p: p.get("operationalStatus") == "Operative"),
    "TC_G_07_CS": status_instead({"Unavailable": "Available"}),
    "TC_G_08_CS": answer("ChangeAvailability", _set(), drop_follow=True,
                         when=lambda p: p.get("operationalStatus") == "Operative"),
    "TC_E_30_CS": answer("GetTransactionStatus", _set(ongoingIndicator=False)),
    "TC_K_37_CS": request_changed("RequestStartTransaction", _without("chargingProfile")),
}

