"""The ways a faulty simulated station breaks a rule: each function returns (or is) a
``Fault``, a patch applied to a freshly built ``SimStation``. The fault tables
(``faulty_station.py`` and the ``faults_*.py`` modules it merges) combine them per case."""


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


def deciding(change: Callable[[Any, bool], Any]) -> Fault:
    """The station's authorization decision (an ``auth_store.AuthResult``), changed by
    ``change(result, online)``."""
    def apply(station: SimStation) -> None:
        authorizer = station.authorizer
        original = authorizer.decide

        def decide(token: Any, *, online: bool, now: Any) -> Any:
            return change(original(token, online=online, now=now), online)

        authorizer.decide = decide  # type: ignore[method-assign]
    return apply


def accept_every_token(station: SimStation) -> None:
    """Whatever the CSMS says about a tag, the station takes it as Accepted."""
    from simulator.station.authorization import Verdict

    station.proto.authorize_verdict = lambda answer: Verdict("Accepted")  # type: ignore[method-assign]


def stop_without_id_tag(station: SimStation) -> None:
    """StopTransaction leaves out the idTag that stopped the transaction."""
    original = station.enqueue

    def enqueue(message: OutMessage) -> None:
        if message.action == "StopTransaction":
            message.payload.pop("idTag", None)
        original(message)

    station.enqueue = enqueue  # type: ignore[method-assign]


def messages_changed(action: str, change: Callable[[Payload], object]) -> Fault:
    """The station's ``action`` messages go out as ``change`` leaves their payload."""
    def apply(station: SimStation) -> None:
        original = station.enqueue

        def enqueue(message: OutMessage) -> None:
            if message.action == action:
                change(message.payload)
            original(message)

        station.enqueue = enqueue  # type: ignore[method-assign]
    return apply


def message_without(action: str, key: str) -> Fault:
    """The station's ``action`` messages leave out ``key``."""
    return messages_changed(action, lambda payload: payload.pop(key, None))


def message_with(action: str, **values: Any) -> Fault:
    """The station's ``action`` messages carry ``values`` instead of the right ones."""
    return messages_changed(action, lambda payload: payload.update(values))


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


def is_differential(payload: Payload) -> bool:
    return payload.get("updateType") == "Differential"


def never_expiring(key: str) -> Callable[[Payload], Payload]:
    return lambda request: {**request, key: "2099-01-01T00:00:00Z"}


def request_without(key: str) -> Callable[[Payload], Payload]:
    return lambda request: {k: v for k, v in request.items() if k != key}


def with_fields(**values: Any) -> Callable[[Payload, Payload], Payload]:
    return lambda got, request: {**got, **values}


def config_without_key(key: str) -> Callable[[Payload, Payload], Payload]:
    return lambda got, request: {**got, "configurationKey": [
        k for k in got.get("configurationKey", []) if k["key"] != key]}


def results_with(field: str, **values: Any) -> Callable[[Payload, Payload], Payload]:
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
