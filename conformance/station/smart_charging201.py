"""What the OCPP 2.0.1 smart charging cases (station under test) share: charging profiles as the
test system builds them, SetChargingProfile / ClearChargingProfile, and the two ways OCTT reads
back what the station holds (GetChargingProfiles with its ReportChargingProfiles, and
GetCompositeSchedule).

Profiles are Absolute and start a little in the past (the station's clock may be behind ours),
with one period from 0, in A (a station that takes W only: in W, the limits times 1000).
"""

from __future__ import annotations

import itertools
from typing import Any

from conformance.station.harness import (
    CLOCK_DEVIATION_S,
    Harness,
    Received,
    check,
    started_earlier,
)

LIMIT_A = 8.0  # the limit of the profiles the cases install
W_PER_A = 1000  # OCTT: on a station taking W, every limit is the A one times 1000
COMPOSITE_DURATION_S = 300
EVSE = 1  # OCTT's <Configured evseId>

_request_ids = itertools.count(501)


def in_unit(limit_a: float, unit: str) -> float:
    """A limit given in A as the test system sends it in ``unit``."""
    return limit_a * W_PER_A if unit == "W" else limit_a


def charging_profile(profile_id: int, purpose: str, *, stack_level: int = 0,
                     limit: float = LIMIT_A, unit: str = "A",
                     transaction_id: str | None = None) -> dict[str, Any]:
    """A 2.0.1 ChargingProfileType: Absolute, from now (less the clock deviation), one period
    from 0 of ``limit`` A (in ``unit``: W, times 1000); a TxProfile names
    ``transaction_id``."""
    profile: dict[str, Any] = {
        "id": profile_id, "stackLevel": stack_level, "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute", "chargingSchedule": [{
            "id": profile_id, "startSchedule": started_earlier(), "chargingRateUnit": unit,
            "chargingSchedulePeriod": [{"startPeriod": 0,
                                        "limit": in_unit(limit, unit)}]}]}
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


async def the_only_rate_unit(h: Harness, *, step: str) -> str:
    """The chargingRateUnit of a station claiming one unit only: its SmartChargingCtrlr.RateUnit
    (GetVariables), which must be A or W alone."""
    answer = await h.csms.call("GetVariables", {"getVariableData": [{
        "component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"}}]},
        step=step)
    result = (answer.get("getVariableResult") or [{}])[0]
    units = {u.strip() for u in str(result.get("attributeValue", "")).split(",") if u.strip()}
    check(result.get("attributeStatus") == "Accepted" and units in ({"A"}, {"W"}),
          f"{step}: GetVariablesResponse", "SmartChargingCtrlr.RateUnit A or W alone", answer)
    return units.pop()


async def unsupported_rate_unit(h: Harness, *, step: str) -> str:
    """The chargingRateUnit a station claiming one unit only does not take."""
    return "W" if await the_only_rate_unit(h, step=step) == "A" else "A"


async def profile_unit(h: Harness, *, step: str) -> str:
    """OCTT's <Configured chargingRateUnit>: A, unless the station claims one unit only
    (single_charging_rate_unit) and that is W."""
    if not h.sut.claims("single_charging_rate_unit"):
        return "A"
    return await the_only_rate_unit(h, step=step)


async def set_profile(h: Harness, evse_id: int, profile: dict[str, Any], *, step: str
                      ) -> dict[str, Any]:
    """SetChargingProfile ``profile`` on ``evse_id``: the station's answer."""
    return await h.csms.call("SetChargingProfile", {"evseId": evse_id,
                                                    "chargingProfile": profile}, step=step)


async def set_accepted(h: Harness, evse_id: int, profile: dict[str, Any], *, step: str
                       ) -> None:
    """SetChargingProfile that must be Accepted (a set-up step or the case's validation)."""
    answer = await set_profile(h, evse_id, profile, step=step)
    check(answer.get("status") == "Accepted", f"{step}: SetChargingProfileResponse",
          "status Accepted", answer)


async def set_rejected(h: Harness, evse_id: int, profile: dict[str, Any], *, step: str
                       ) -> None:
    """SetChargingProfile that must be answered Rejected."""
    answer = await set_profile(h, evse_id, profile, step=step)
    check(answer.get("status") == "Rejected", f"{step}: SetChargingProfileResponse",
          "status Rejected", answer)


async def clear(h: Harness, request: dict[str, Any], expected: str, *, step: str) -> None:
    """ClearChargingProfile ``request``, answered with status ``expected``."""
    answer = await h.csms.call("ClearChargingProfile", request, step=step)
    check(answer.get("status") == expected, f"{step}: ClearChargingProfileResponse",
          f"status {expected}", answer)


def _get_profiles(criteria: dict[str, Any], evse_id: int | None) -> dict[str, Any]:
    """A GetChargingProfilesRequest with a new requestId."""
    request: dict[str, Any] = {"requestId": next(_request_ids), "chargingProfile": criteria}
    if evse_id is not None:
        request["evseId"] = evse_id
    return request


async def reported_profiles(h: Harness, criteria: dict[str, Any], *, step: str,
                            evse_id: int | None = None) -> list[Received]:
    """GetChargingProfiles (``criteria``, ``evse_id``), which must be Accepted, and the
    ReportChargingProfiles that answer it (all of them, up to the one without ``tbc``), each
    with the request's requestId."""
    request = _get_profiles(criteria, evse_id)
    request_id = request["requestId"]
    answer = await h.csms.call("GetChargingProfiles", request, step=step)
    check(answer.get("status") == "Accepted", f"{step}: GetChargingProfilesResponse",
          "status Accepted", answer)
    reports: list[Received] = []
    while not reports or reports[-1].payload.get("tbc"):
        reports.append(await h.csms.receive(
            "ReportChargingProfiles", step=f"{step}: ReportChargingProfilesRequest",
            where=lambda p: p.get("requestId") == request_id,
            expected=f"ReportChargingProfilesRequest with requestId {request_id}"))
    return reports


async def no_profiles(h: Harness, criteria: dict[str, Any], *, step: str,
                      evse_id: int | None = None) -> None:
    """GetChargingProfiles (``criteria``, ``evse_id``) finds nothing: NoProfiles."""
    answer = await h.csms.call("GetChargingProfiles", _get_profiles(criteria, evse_id),
                               step=step)
    check(answer.get("status") == "NoProfiles", f"{step}: GetChargingProfilesResponse",
          "status NoProfiles (the profile is gone)", answer)


async def report_holds(h: Harness, profile: dict[str, Any], evse_id: int, *, step: str,
                       criteria: dict[str, Any] | None = None) -> None:
    """GetChargingProfiles for ``profile``'s purpose (or ``criteria``) on ``evse_id``: the
    reports hold ``profile`` as installed, on ``evse_id``, from the CSO; no other profile has
    its id."""
    wanted = criteria or {"chargingProfilePurpose": profile["chargingProfilePurpose"]}
    reports = await reported_profiles(h, wanted, step=step, evse_id=evse_id)
    found = [(r.payload, p) for r in reports for p in r.payload.get("chargingProfile", [])
             if p.get("id") == profile["id"]]
    shown = [r.payload for r in reports]
    check(len(found) == 1, f"{step}: ReportChargingProfilesRequest",
          f"the profile with id {profile['id']} once", shown)
    report, got = found[0]
    check(report.get("evseId") == evse_id and report.get("chargingLimitSource") == "CSO",
          f"{step}: ReportChargingProfilesRequest", f"evseId {evse_id}, chargingLimitSource CSO",
          shown)
    check(_same_profile(got, profile), f"{step}: ReportChargingProfilesRequest",
          f"the profile as set: {_summary(profile)}", got)


def _summary(profile: dict[str, Any]) -> dict[str, Any]:
    """What identifies a profile and its limits, as the reports must give them back."""
    schedules = profile.get("chargingSchedule") or [{}]
    return {"id": profile.get("id"), "stackLevel": profile.get("stackLevel"),
            "chargingProfilePurpose": profile.get("chargingProfilePurpose"),
            "chargingProfileKind": profile.get("chargingProfileKind"),
            "transactionId": profile.get("transactionId"),
            "chargingRateUnit": schedules[0].get("chargingRateUnit"),
            "periods": [(p.get("startPeriod"), float(p.get("limit", -1)))
                        for p in schedules[0].get("chargingSchedulePeriod", [])]}


def _same_profile(got: dict[str, Any], sent: dict[str, Any]) -> bool:
    return _summary(got) == _summary(sent)


async def composite_limits(h: Harness, evse_id: int = EVSE, *, step: str,
                           unit: str = "A") -> list[float]:
    """GetCompositeSchedule for ``evse_id`` (300 s, ``unit``), which must be Accepted: the
    limits of its periods."""
    answer = await h.csms.call("GetCompositeSchedule", {
        "evseId": evse_id, "duration": COMPOSITE_DURATION_S, "chargingRateUnit": unit},
        step=step)
    check(answer.get("status") == "Accepted", f"{step}: GetCompositeScheduleResponse",
          "status Accepted", answer)
    periods = (answer.get("schedule") or {}).get("chargingSchedulePeriod", [])
    return [float(p["limit"]) for p in periods]


async def composite_holds(h: Harness, limit_a: float, evse_id: int = EVSE, *, step: str,
                          what: str, unit: str = "A") -> None:
    """The composite schedule of ``evse_id`` in ``unit`` is limited to ``limit_a`` (in that
    unit; ``what`` says by which profile) over the next 300 s."""
    limit = in_unit(limit_a, unit)
    limits = await composite_limits(h, evse_id, step=step, unit=unit)
    check(bool(limits) and max(limits) <= limit, f"{step}: GetCompositeScheduleResponse",
          f"a schedule limited to {limit:g} {unit} ({what})", limits)


__all__ = ["CLOCK_DEVIATION_S", "EVSE", "LIMIT_A", "W_PER_A", "charging_profile", "clear",
           "composite_holds", "composite_limits", "in_unit", "no_profiles", "profile_unit",
           "report_holds", "reported_profiles", "set_accepted", "set_profile", "set_rejected",
           "started_earlier", "the_only_rate_unit", "unsupported_rate_unit"]
