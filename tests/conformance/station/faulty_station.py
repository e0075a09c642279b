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
}

