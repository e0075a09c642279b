"""Making the CSMS under test act: many cases start with "the CSMS sends Reset" or "... sends
RequestStartTransaction", and only the CSMS's own interface can make it do that.

A trigger adapter asks the CSMS to send ``action`` with (at least) the fields of ``payload`` to a
station. It runs beside the case: the CSMS's CALL arrives at the station the suite plays while
the request that triggered it may still be waiting for that very answer (the reference CSMS's
command endpoint returns the station's answer), so ``start`` returns at once and the case awaits
the outcome only after it has answered the CALL.

* ``reference``: the chargeloop reference CSMS's REST API
  (``POST /api/stations/{id}/ocpp/{action}``).
* ``http``: one request template per action from the SUT file.
* ``interactive``: the person running the suite is asked to make the CSMS do it.
* ``none``: nothing can make the CSMS act; such cases end "not run: needs trigger X".

Besides OCPP actions there is one operator act: ``REGISTRATION``, setting a station's
registration status (Accepted, Pending) in the CSMS, which TC_B_02 needs (payload
``{"registration": ...}``; an ``http`` template under ``Registration``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from conformance.sut import TriggerSettings
from conformance.verdicts import not_run

log = logging.getLogger("chargeloop.conformance")


# Not an OCPP action: the operator sets the station's registration status in the CSMS.
REGISTRATION = "Registration"


@dataclass
class TriggerOutcome:
    ok: bool
    detail: str = ""


class TriggerHandle:
    """A trigger in flight."""

    def __init__(self, task: asyncio.Task[TriggerOutcome] | None) -> None:
        self._task = task

    async def outcome(self, timeout: float) -> TriggerOutcome:
        if self._task is None:
            return TriggerOutcome(True, "asked the operator")
        try:
            return await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            return TriggerOutcome(False, f"the trigger request did not finish in {timeout:g} s")

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Triggers(Protocol):
    kind: str

    def start(self, action: str, station_id: str, payload: dict[str, Any]) -> TriggerHandle:
        """Ask the CSMS to send ``action`` to ``station_id``; ``not_run`` if it cannot."""
        ...

    async def close(self) -> None: ...


class NoTriggers:
    kind = "none"

    def start(self, action: str, station_id: str, payload: dict[str, Any]) -> TriggerHandle:
        not_run(f"needs trigger {action} (the SUT file configures no triggers)")
        raise AssertionError("unreachable")

    async def close(self) -> None:
        return None


class _HttpBase:
    def __init__(self, base_url: str, headers: dict[str, str], timeout_s: float) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, headers=headers,
                                        timeout=timeout_s)

    def _send(self, method: str, path: str, body: Any, action: str) -> TriggerHandle:
        async def run() -> TriggerOutcome:
            try:
                response = await self.client.request(method, path, json=body)
            except httpx.HTTPError as exc:
                return TriggerOutcome(False, f"{action} trigger: {type(exc).__name__}: {exc}")
            if response.is_success:
                return TriggerOutcome(True, response.text[:500])
            return TriggerOutcome(False, f"{action} trigger: HTTP {response.status_code} "
                                         f"{response.text[:500]}")

        return TriggerHandle(asyncio.get_running_loop().create_task(run()))

    async def close(self) -> None:
        await self.client.aclose()


class ReferenceTriggers(_HttpBase):
    """The reference CSMS's command endpoint: any CSMS-initiated action, payload as is."""

    kind = "reference"

    def start(self, action: str, station_id: str, payload: dict[str, Any]) -> TriggerHandle:
        if action == REGISTRATION:
            return self._send("PATCH", f"/api/stations/{station_id}",
                              {"registration": payload["registration"]}, action)
        return self._send("POST", f"/api/stations/{station_id}/ocpp/{action}", payload, action)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def render(template: Any, values: dict[str, Any], payload: dict[str, Any]) -> Any:
    """``template`` with placeholders filled: ``"{payload}"`` alone is the whole payload,
    ``{payload.a.b}`` a field of it, ``{name}`` one of ``values``. An unknown placeholder
    raises KeyError naming it."""
    if isinstance(template, dict):
        return {k: render(v, values, payload) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values, payload) for v in template]
    if not isinstance(template, str):
        return template
    if template == "{payload}":
        return payload
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:  # a lone placeholder keeps its value's type (an evse id stays a number)
        return _lookup(whole.group(1), values, payload)
    return _PLACEHOLDER.sub(lambda m: str(_lookup(m.group(1), values, payload)), template)


def _lookup(name: str, values: dict[str, Any], payload: dict[str, Any]) -> Any:
    if name.startswith("payload."):
        node: Any = payload
        for part in name.split(".")[1:]:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"placeholder {{{name}}}: the payload has no {part!r}")
            node = node[part]
        return node
    if name not in values:
        raise KeyError(f"unknown placeholder {{{name}}}; use one of "
                       f"{', '.join(sorted(values))}, payload or payload.<field>")
    return values[name]


class HttpTriggers(_HttpBase):
    """One request template per action (SUT file ``triggers.actions``)."""

    kind = "http"

    def __init__(self, settings: TriggerSettings, timeout_s: float) -> None:
        assert settings.base_url is not None
        super().__init__(settings.base_url, settings.headers, timeout_s)
        self.actions = settings.actions

    def start(self, action: str, station_id: str, payload: dict[str, Any]) -> TriggerHandle:
        template = self.actions.get(action)
        if template is None:
            not_run(f"needs trigger {action} (not in the SUT file's triggers.actions)")
            raise AssertionError("unreachable")
        values = _values(station_id, payload)
        path = render(template.path, values, payload)
        body = render(template.body, values, payload)
        return self._send(template.method, str(path), body, action)


def _values(station_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    evse = payload.get("evse") or {}
    token = payload.get("idToken") or {}
    return {"station_id": station_id,
            "evse_id": payload.get("evseId", evse.get("id", payload.get("connectorId"))),
            "connector_id": payload.get("connectorId", evse.get("connectorId")),
            "id_token": token.get("idToken", payload.get("idTag"))}


class InteractiveTriggers:
    """Asks the person running the suite (the CSMS's own UI does it)."""

    kind = "interactive"

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)

    def start(self, action: str, station_id: str, payload: dict[str, Any]) -> TriggerHandle:
        if action == REGISTRATION:
            self.console.print(f"[bold yellow]Set the registration status of {station_id} to "
                               f"{payload['registration']} in the CSMS[/]")
            return TriggerHandle(None)
        self.console.print(f"[bold yellow]Make the CSMS send {action} to {station_id}[/] "
                           f"with: {json.dumps(payload)}")
        return TriggerHandle(None)

    async def close(self) -> None:
        return None


def make_triggers(settings: TriggerSettings, timeout_s: float) -> Triggers:
    if settings.kind == "reference":
        assert settings.base_url is not None, "reference triggers need base_url"
        return ReferenceTriggers(settings.base_url, settings.headers, timeout_s)
    if settings.kind == "http":
        return HttpTriggers(settings, timeout_s)
    if settings.kind == "interactive":
        return InteractiveTriggers()
    return NoTriggers()
