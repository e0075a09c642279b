"""OCPP 2.0.1 smart-charging pieces the CSMS cases share (block K): a fresh transaction id and the
charging profile a case hands the CSMS."""

from __future__ import annotations

import uuid
from typing import Any

from conformance.csms.harness import (
    now_iso,
)


def new_tx_id(case: str) -> str:
    """A transaction id of its own per run: a station never reuses one, and a CSMS that keeps
    its data between runs must not take this run's transaction for an older, ended one."""
    return f"CONF-TX-{case}-{uuid.uuid4().hex[:8]}"


EVSE = 1  # every SUT station has at least one EVSE


def charging_profile(profile_id: int, purpose: str, *, stack_level: int = 0,
                     kind: str = "Absolute", transaction_id: str | None = None,
                     limit: float = 16.0) -> dict[str, Any]:
    """A chargingProfile with one schedule (amperes) of one period."""
    schedule: dict[str, Any] = {"id": profile_id, "chargingRateUnit": "A",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}
    profile: dict[str, Any] = {"id": profile_id, "stackLevel": stack_level,
                               "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
                               "chargingSchedule": [schedule]}
    if kind == "Recurring":
        profile["recurrencyKind"] = "Daily"
        schedule["startSchedule"] = now_iso()
        schedule["duration"] = 86400
    elif kind == "Absolute":
        schedule["startSchedule"] = now_iso()
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile
