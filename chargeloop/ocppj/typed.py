"""Typed payloads: the ``ocpp`` package's dataclasses on top of chargeloop's dict payloads.

``call_typed(v201.call.BootNotification(...))`` sends the request and returns a
``v201.call_result.BootNotification``; a handler registered with ``typed=True`` receives the
request dataclass and may return the result dataclass. Field names are snake_case there and
camelCase on the wire, converted by the ``ocpp`` package's own helpers.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, is_dataclass
from typing import Any

from ocpp.charge_point import camel_to_snake_case, remove_nones, snake_to_camel_case

from chargeloop.ocppj.versions import OcppVersion


def to_payload(value: Any) -> dict[str, Any]:
    """A dataclass (or dict) as the camelCase dict that goes on the wire."""
    if is_dataclass(value) and not isinstance(value, type):
        return snake_to_camel_case(remove_nones(asdict(value)))
    if isinstance(value, dict):
        return value
    raise TypeError(f"a payload must be a dict or an ocpp dataclass, not {type(value).__name__}")


def action_of(request: Any) -> str:
    return type(request).__name__.removesuffix("Payload")


def _module(version: OcppVersion, kind: str) -> Any:
    return importlib.import_module(f"ocpp.{version.package_dir}.{kind}")


def _build(version: OcppVersion, kind: str, action: str, payload: dict[str, Any]) -> Any:
    module = _module(version, kind)
    cls = getattr(module, action, None) or getattr(module, action + "Payload", None)
    if cls is None:
        raise LookupError(f"the ocpp package has no {kind} dataclass for {action} in {version}")
    return cls(**camel_to_snake_case(payload))


def request_object(version: OcppVersion, action: str, payload: dict[str, Any]) -> Any:
    return _build(version, "call", action, payload)


def result_object(version: OcppVersion, action: str, payload: dict[str, Any]) -> Any:
    return _build(version, "call_result", action, payload)
