"""Check a command's payload against its official schema before anything is recorded, so an
invalid operator request is a 422 and leaves no trace but the answer."""

from __future__ import annotations

from typing import Any

from chargeloop.ocppj import Direction, PayloadInvalid, validate
from chargeloop.ocppj.versions import OcppVersion
from csms.domain.commands import CommandInvalid


def check_payload(version: OcppVersion, action: str, payload: dict[str, Any]) -> None:
    """Raise :class:`CommandInvalid` if ``payload`` is no valid ``action`` request."""
    try:
        validate(version, action, Direction.REQUEST, payload)
    except PayloadInvalid as exc:
        raise CommandInvalid(f"{action}: {exc}", exc.path) from exc
