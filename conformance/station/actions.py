"""The actions adapter: what a station-under-test case needs done at the charger.

Many cases need something physical: plug in an EV, present a token, unplug, power cycle, cut
the network, fail the lock. ``perform(name, step=..., evse=1, token=...)`` has it done by

* ``simulated``: the simulator's station, through its control channel (``--simulated``);
* ``http``: one request template per action (a station with a test API), SUT file
  ``actions.templates``;
* ``interactive``: a person at the charger, asked on the terminal (Enter when done);
* ``none``: nothing; the case ends "not run: needs action X".

An action a kind cannot do ends the case "not run: needs action X" too; an action that was
tried and failed (HTTP error) fails the case's step.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import httpx

from conformance.sut import STATION_ACTIONS, ActionSettings, HttpTrigger
from conformance.triggers import render
from conformance.verdicts import CaseFailed, not_run

HTTP_TIMEOUT_S = 30.0


class Actions(Protocol):
    kind: str

    def can(self, name: str) -> bool:
        """Whether this adapter can do ``name`` (``fresh`` decides how a case starts)."""
        ...

    async def perform(self, name: str, *, step: str, **params: Any) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class NoActions:
    kind = "none"

    def can(self, name: str) -> bool:
        return False

    async def perform(self, name: str, *, step: str, **params: Any) -> dict[str, Any]:
        not_run(f"needs action {name} (the SUT file configures no actions)")
        raise AssertionError("unreachable")

    async def close(self) -> None:
        return None


class HttpActions:
    """One HTTP request per action. ``simulated`` is this with the control channel's own
    templates (``POST /actions/<name>`` with the parameters as the body)."""

    def __init__(self, base_url: str, headers: dict[str, str],
                 templates: dict[str, HttpTrigger], kind: str = "http") -> None:
        self.kind = kind
        self.templates = templates
        self.client = httpx.AsyncClient(base_url=base_url, headers=headers,
                                        timeout=HTTP_TIMEOUT_S)

    def can(self, name: str) -> bool:
        return name in self.templates

    async def perform(self, name: str, *, step: str, **params: Any) -> dict[str, Any]:
        template = self.templates.get(name)
        if template is None:
            not_run(f"needs action {name} ({STATION_ACTIONS.get(name, name)}); the "
                    f"{self.kind} actions have no template for it")
            raise AssertionError("unreachable")
        values = {"evse": params.get("evse", 1), "token": params.get("token"),
                  "seconds": params.get("seconds"), "case": params.get("case")}
        path = str(render(template.path, values, params))
        body = render(template.body, values, params)
        try:
            response = await self.client.request(template.method, path, json=body)
        except httpx.HTTPError as exc:
            raise CaseFailed(step, f"action {name} done", f"{type(exc).__name__}: {exc}") \
                from None
        if not response.is_success:
            raise CaseFailed(step, f"action {name} done",
                             f"HTTP {response.status_code} {response.text[:300]}")
        try:
            answer = response.json()
        except ValueError:
            return {}
        return answer.get("result", {}) if isinstance(answer, dict) else {}

    async def close(self) -> None:
        await self.client.aclose()


def simulated_actions(control_url: str) -> HttpActions:
    """The simulator's station: every action through its control channel."""
    templates = {name: HttpTrigger(path=f"/actions/{name}", body="{payload}")
                 for name in STATION_ACTIONS}
    return HttpActions(control_url, {}, templates, kind="simulated")


class InteractiveActions:
    """Asks the person at the charger and waits for Enter (``fresh`` is not a thing a person
    does between cases: the station stays as the previous case left it)."""

    kind = "interactive"

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)

    def can(self, name: str) -> bool:
        return name in STATION_ACTIONS and name != "fresh"

    async def perform(self, name: str, *, step: str, **params: Any) -> dict[str, Any]:
        if not self.can(name):
            not_run(f"needs action {name}, which a person cannot do")
        what = STATION_ACTIONS[name].format(evse=params.get("evse", 1),
                                            token=params.get("token"))
        self.console.print(f"[bold yellow]{step}:[/] please {what}, then press Enter")
        await asyncio.to_thread(input)
        return {}

    async def close(self) -> None:
        return None


def make_actions(settings: ActionSettings, control_url: str | None = None) -> Actions:
    if settings.kind == "simulated" or control_url is not None:
        if control_url is None:
            raise ValueError("simulated actions need the simulated station (--simulated)")
        return simulated_actions(control_url)
    if settings.kind == "http":
        assert settings.base_url is not None, "http actions need base_url"
        return HttpActions(settings.base_url, settings.headers, settings.templates)
    if settings.kind == "interactive":
        return InteractiveActions()
    return NoActions()
