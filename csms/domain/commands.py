"""Commands to stations: REST -> here -> the station's live session -> the answer back to the
caller and into the audit log, with who asked."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chargeloop.ocppj import (
    CallErrorReceived,
    CallTimeout,
    PayloadInvalid,
    SessionClosed,
)
from chargeloop.ocppj.actions import Role, may_send
from chargeloop.ocppj.schemas import known_actions
from chargeloop.ocppj.versions import OcppVersion
from csms.domain.timeutil import Clock, utcnow
from csms.ocpp.registry import ConnectionRegistry
from csms.storage import tables as t
from csms.storage.database import Database

log = logging.getLogger("chargeloop.csms.commands")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked: the API token's name and role (or "csms" for the CSMS's own policies)."""

    name: str
    role: str


SYSTEM = Actor("csms", "system")


class CommandError(Exception):
    """A command that could not be answered; ``outcome`` is the audit log's word for it."""

    def __init__(self, outcome: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.details = details or {}


class StationOffline(CommandError):
    def __init__(self, station_id: str) -> None:
        super().__init__("offline", f"station {station_id} is not connected")


class CommandTimeout(CommandError):
    def __init__(self, station_id: str, action: str, timeout: float) -> None:
        super().__init__("timeout", f"station {station_id} did not answer {action} "
                                    f"within {timeout:g} s")


class CommandRejected(CommandError):
    """The station answered with a CALLERROR."""

    def __init__(self, error: CallErrorReceived) -> None:
        super().__init__("callerror", f"station answered CALLERROR {error.code}: "
                                      f"{error.description}",
                         {"error_code": error.code, "description": error.description,
                          "details": error.details})


class CommandInvalid(CommandError):
    def __init__(self, message: str, path: str = "") -> None:
        super().__init__("invalid", message, {"path": path})


AnswerListener = Callable[[str, OcppVersion, dict[str, Any], dict[str, Any]], Awaitable[None]]
SendListener = Callable[[str, OcppVersion, dict[str, Any]], None]


class CommandService:
    def __init__(self, db: Database, registry: ConnectionRegistry, *, timeout_s: float = 30.0,
                 clock: Clock = utcnow) -> None:
        self.db = db
        self.registry = registry
        self.timeout_s = timeout_s
        self.clock = clock
        self._listeners: dict[str, list[AnswerListener]] = {}
        self._before_send: dict[str, list[SendListener]] = {}

    def on_answer(self, action: str, listener: AnswerListener) -> None:
        """Call ``listener(station_id, version, request, answer)`` after every answered
        ``action``, however it was sent (REST, policy, another service): the one place where a
        command's outcome becomes CSMS state (a profile installed, a list version, ...)."""
        self._listeners.setdefault(action, []).append(listener)

    def before_send(self, action: str, listener: SendListener) -> None:
        """Call ``listener(station_id, version, request)`` (synchronously) just before
        ``action`` goes out, for what must be in place before the station can react (a
        triggered message let through boot gating)."""
        self._before_send.setdefault(action, []).append(listener)

    def version_of(self, station_id: str) -> OcppVersion:
        session = self.registry.get(station_id)
        if session is None:
            raise StationOffline(station_id)
        return session.version

    async def call(self, station_id: str, action: str, payload: dict[str, Any], actor: Actor,
                   *, timeout_s: float | None = None) -> dict[str, Any]:
        """Send ``action`` to the station and return its answer's payload.

        Raises :class:`StationOffline`, :class:`CommandTimeout`, :class:`CommandRejected` or
        :class:`CommandInvalid`; every attempt, answered or not, lands in the audit log.
        """
        timeout = self.timeout_s if timeout_s is None else timeout_s
        session = self.registry.get(station_id)
        try:
            if session is None:
                raise StationOffline(station_id)
            if action not in known_actions(session.version) or not may_send(
                    session.version, Role.CSMS, action):
                raise CommandInvalid(f"{action} is not a CSMS-initiated message of "
                                     f"{session.version}")
            for hook in self._before_send.get(action, ()):
                hook(station_id, session.version, payload)
            try:
                answer = await session.call(action, payload, timeout=timeout)
            except CallTimeout as exc:
                raise CommandTimeout(station_id, action, timeout) from exc
            except SessionClosed as exc:
                raise StationOffline(station_id) from exc
            except CallErrorReceived as exc:
                raise CommandRejected(exc) from exc
            except PayloadInvalid as exc:
                raise CommandInvalid(str(exc), exc.path) from exc
        except CommandError as error:
            await self._audit(actor, action, station_id, payload, error.details or None,
                              error.outcome)
            raise
        await self._audit(actor, action, station_id, payload, answer, "answered")
        version = session.version
        for listener in self._listeners.get(action, ()):
            await listener(station_id, version, payload, answer)
        return answer

    async def _audit(self, actor: Actor, action: str, station_id: str,
                     request: dict[str, Any], response: dict[str, Any] | None,
                     outcome: str) -> None:
        async def write(conn: AsyncConnection) -> None:
            await conn.execute(insert(t.audit_log).values(
                at=self.clock(), actor=actor.name, role=actor.role, action=action,
                station_id=station_id, request=redact_secrets(request), response=response,
                outcome=outcome))

        await self.db.write(write)
        log.info("%s (%s) -> %s %s: %s", actor.name, actor.role, station_id, action, outcome)


REDACTED = "***"
_SECRET_CONFIGURATION_KEYS = frozenset({"AuthorizationKey"})  # 1.6 Basic auth password
_SECRET_VARIABLES = frozenset({"BasicAuthPassword"})  # 2.0.1 SecurityCtrlr


def redact_secrets(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the audit log may keep it: passwords replaced, everything else as sent."""
    if not isinstance(payload, dict):
        return payload
    cleaned: dict[str, Any] = {}
    for key, value in payload.items():
        if "password" in key.lower():
            cleaned[key] = REDACTED
        elif isinstance(value, dict):
            cleaned[key] = redact_secrets(value)
        elif isinstance(value, list):
            cleaned[key] = [redact_secrets(v) if isinstance(v, dict) else v for v in value]
        else:
            cleaned[key] = value
    key = cleaned.get("key")  # a list in GetConfiguration, a string in ChangeConfiguration
    if isinstance(key, str) and key in _SECRET_CONFIGURATION_KEYS and "value" in cleaned:
        cleaned["value"] = REDACTED  # ChangeConfiguration(AuthorizationKey)
    variable = cleaned.get("variable")
    if isinstance(variable, dict) and variable.get("name") in _SECRET_VARIABLES \
            and "attributeValue" in cleaned:
        cleaned["attributeValue"] = REDACTED  # SetVariables(SecurityCtrlr.BasicAuthPassword)
    return cleaned

