"""The charging profiles a simulated station holds, and the limit they put on each EVSE.

Payload-shaped so the protocol layers call it directly: the SetChargingProfile /
ClearChargingProfile / GetChargingProfiles / GetCompositeSchedule request goes in, the response
(or the ReportChargingProfiles requests) comes out, in the station's OCPP version.

The schedule arithmetic (stacking, recurrence, validity, unit conversion) is the reference
CSMS's version-neutral :mod:`csms.domain.charging_schedules`, so the station and the CSMS that
checks it compute composites alike (one difference, below: the station stacks EVSE-0
TxDefaultProfiles with the EVSE's own by stackLevel, where the CSMS helper lets the EVSE's own
win). What is station-side lives here: which profiles a station accepts, keeps, replaces and
forgets.

Rules (1.6 section 3.13 / 5.16-5.17 and 2.0.1 block K; requirement ids where 2.0.1 has them):

* A TxProfile needs a transaction running on its EVSE (1.6 TC_058_1, TC_K_02) and an EVSE > 0
  (TC_K_11); in 2.0.1 it must name that transaction (K01.FR.03). It goes when the transaction
  ends (:meth:`ChargingProfiles.expire_transaction`).
* ChargePointMaxProfile / ChargingStationMaxProfile only on EVSE 0, and never Relative in 2.0.1
  (K01.FR.38). ChargingStationExternalConstraints is refused from the CSMS (K01.FR.22) and never
  cleared by it.
* A TxDefaultProfile on EVSE (1.6: connector) 0 applies to every EVSE, competing by stackLevel
  with the EVSE's own ("applies the profile to each individual evse"); 2.0.1 refuses the same
  stackLevel on EVSE 0 and on an EVSE (K01.FR.52/53).
* The same profile id replaces the installed one (K01.FR.05). A different id with the same
  purpose and stackLevel on the same EVSE: 1.6 replaces it ("the new charging profile SHALL
  replace the existing"); 2.0.1 forbids the CSMS to send it while validity periods overlap
  (K01.FR.06; TxProfiles: same transaction, K01.FR.39), so the station refuses it with
  reasonCode ``DuplicateProfile`` rather than silently dropping a profile.
* Schedules: at least one period, the first at 0 (K01.FR.31), ascending (K01.FR.35), no more
  than the configured periods; a rate unit the station supports (K01.FR.26); 2.0.1 Absolute and
  Recurring need startSchedule, Relative must not have one (K01.FR.40/41); Recurring needs
  recurrencyKind; stackLevel within the configured maximum; no more profiles than configured.
* The limit now: the station maximum caps everything; a TxProfile beats TxDefaultProfiles;
  within a purpose the valid profile with the highest stackLevel whose schedule is running
  wins, falling through to lower levels when its duration or validity ends. A limit in A
  becomes W as A x V x phases (the period's numberPhases, default 3 (K01.FR.49), and never
  more than the vehicle uses).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.charging_schedules import (
    EXTERNAL,
    STATION_MAX,
    TX,
    TX_DEFAULT,
    CompositePeriod,
    Period,
    Profile,
    profile_from_wire,
    purpose_from_wire,
)
from csms.domain.charging_schedules import composite_schedule as _composite
from csms.domain.timeutil import parse_timestamp

DEFAULT_VOLTAGE_V = 230.0
DEFAULT_EVSE_MAX_W = 22_080.0  # 32 A on three phases at 230 V
CSO = "CSO"  # chargingLimitSource of everything a CSMS installs
NEXT_CHANGE_HORIZON_S = 8 * 86_400  # longer than a weekly recurrence
_UNIT_NAMES = {"Current": "A", "Power": "W", "A": "A", "W": "W"}


class SmartChargingLimits(Protocol):
    """What the station's settings say about smart charging (Configuration16 and DeviceModel201
    both provide it)."""

    @property
    def max_stack_level(self) -> int: ...

    @property
    def max_schedule_periods(self) -> int: ...

    @property
    def max_charging_profiles(self) -> int: ...

    @property
    def rate_units(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class DefaultLimits:
    max_stack_level: int = 10
    max_schedule_periods: int = 24
    max_charging_profiles: int = 20
    rate_units: tuple[str, ...] = ("A", "W")


@dataclass(frozen=True, slots=True)
class InstalledProfile:
    evse_id: int
    profile: Profile  # parsed, purposes in 2.0.1 names
    wire: dict[str, Any]  # as the station reports it (csChargingProfiles / chargingProfile)
    source: str = CSO


def _version(version: str | OcppVersion) -> OcppVersion:
    parsed = version if isinstance(version, OcppVersion) else OcppVersion.parse(str(version))
    if parsed not in (OcppVersion.V16, OcppVersion.V201):
        raise ValueError(f"charging profiles for OCPP 1.6 and 2.0.1, not {parsed.short}")
    return parsed


def iso_utc(moment: datetime) -> str:
    """An OCPP timestamp: UTC with Z, whole seconds unless the moment has a fraction."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def floor_tenth(value: float) -> float:
    """Down to a multiple of 0.1 (the schemas' multipleOf), never above the limit."""
    return math.floor(value * 10 + 1e-6) / 10


def _overlaps(a: Profile, b: Profile) -> bool:
    return (a.valid_to is None or b.valid_from is None or b.valid_from < a.valid_to) and \
        (b.valid_to is None or a.valid_from is None or a.valid_from < b.valid_to)


class ChargingProfiles:
    """The profiles one station holds. ``evse_ids`` are the EVSEs (1.6: connectors) that exist;
    ``limits`` the station's settings (read live); ``evse_max_w`` the rating of each EVSE (or
    one value for all), used where no profile limits a composite schedule."""

    def __init__(self, version: str | OcppVersion, *, evse_ids: Iterable[int] = (1,),
                 limits: SmartChargingLimits | None = None,
                 evse_max_w: Mapping[int, float] | float = DEFAULT_EVSE_MAX_W) -> None:
        self.version = _version(version)
        self.evse_ids = tuple(sorted(set(evse_ids)))
        self.limits: SmartChargingLimits = limits or DefaultLimits()
        if isinstance(evse_max_w, Mapping):
            self._evse_max_w = {e: float(evse_max_w.get(e, DEFAULT_EVSE_MAX_W))
                                for e in self.evse_ids}
        else:
            self._evse_max_w = dict.fromkeys(self.evse_ids, float(evse_max_w))
        self._installed: list[InstalledProfile] = []

    @property
    def is_16(self) -> bool:
        return self.version is OcppVersion.V16

    def profiles(self, evse_id: int | None = None) -> list[InstalledProfile]:
        return [i for i in self._installed if evse_id is None or i.evse_id == evse_id]

    def __len__(self) -> int:
        return len(self._installed)

    # -- SetChargingProfile ----------------------------------------------------------------

    def set(self, evse_id: int, profile: dict[str, Any], *,
            active_transaction_id: str | int | None, remote_start: bool = False
            ) -> dict[str, Any]:
        """Install ``profile`` (``csChargingProfiles`` / ``chargingProfile``) on ``evse_id``
        (``connectorId`` / ``evseId``); the SetChargingProfile response.

        ``active_transaction_id`` is the transaction running on that EVSE (None: none). With
        ``remote_start`` the profile came with RemoteStartTransaction / RequestStartTransaction
        and is bound to ``active_transaction_id`` (the transaction it started) without naming it.
        """
        problem = self._problem(evse_id, profile, active_transaction_id, remote_start)
        if problem is not None:
            return self._rejected(*problem)
        wire = dict(profile)
        if purpose_from_wire(wire["chargingProfilePurpose"]) == TX:
            if wire.get("transactionId") is None:
                assert active_transaction_id is not None
                wire["transactionId"] = int(active_transaction_id) if self.is_16 \
                    else str(active_transaction_id)
        else:
            wire.pop("transactionId", None)  # 1.6: only meaningful for a TxProfile
        parsed = profile_from_wire(wire, evse_id)
        replaced = [i for i in self._installed if i.profile.id == parsed.id]
        if self.is_16:
            replaced += [i for i in self._installed if i not in replaced and
                         i.evse_id == evse_id and i.profile.purpose == parsed.purpose and
                         i.profile.stack_level == parsed.stack_level and
                         i.profile.transaction_id == parsed.transaction_id]
        if len(self._installed) - len(replaced) + 1 > self.limits.max_charging_profiles:
            return self._rejected("MaxProfiles", "no room for another charging profile")
        self._installed = [i for i in self._installed if i not in replaced]
        self._installed.append(InstalledProfile(evse_id, parsed, wire))
        self._counted()
        return {"status": "Accepted"}

    def _counted(self) -> None:
        """Tell settings that report the number of profiles (2.0.1 SmartChargingCtrlr.Entries)."""
        note = getattr(self.limits, "note_charging_profiles", None)
        if note is not None:
            note(len(self._installed))

    def _problem(self, evse_id: int, p: dict[str, Any], active_tx: str | int | None,
                 remote_start: bool) -> tuple[str, str] | None:
        purpose = purpose_from_wire(p["chargingProfilePurpose"])
        kind = p["chargingProfileKind"]
        if evse_id != 0 and evse_id not in self.evse_ids:
            return "UnknownEVSE", f"no EVSE {evse_id}"
        if purpose == EXTERNAL:
            return "InvalidValue", "ChargingStationExternalConstraints is set locally only"
        if remote_start and purpose != TX:
            return "InvalidValue", "a profile with a remote start must be a TxProfile"
        if purpose == STATION_MAX:
            if evse_id != 0:
                return "InvalidValue", "a station maximum profile belongs on EVSE 0"
            if kind == "Relative" and not self.is_16:
                return "InvalidValue", "a ChargingStationMaxProfile cannot be Relative"
        tx_id = p.get("transactionId")
        if purpose == TX:
            if evse_id == 0:
                return "InvalidValue", "a TxProfile cannot be set on all EVSEs at once"
            if active_tx is None:
                return "TxNotFound", f"no transaction on EVSE {evse_id}"
            if tx_id is None and not remote_start and not self.is_16:
                return "MissingParam", "a TxProfile needs its transactionId"
            if tx_id is not None and str(tx_id) != str(active_tx):
                return "TxNotFound", f"transaction {tx_id} is not running on EVSE {evse_id}"
        elif tx_id is not None and not self.is_16:
            return "InvalidValue", "only a TxProfile names a transaction"
        stack = p["stackLevel"]
        if stack < 0 or stack > self.limits.max_stack_level:
            return "InvalidStackLevel", f"stackLevel must be 0..{self.limits.max_stack_level}"
        schedules = p["chargingSchedule"]
        for schedule in schedules if isinstance(schedules, list) else [schedules]:
            found = self._schedule_problem(kind, p.get("recurrencyKind"), schedule)
            if found is not None:
                return found
        valid_from = parse_timestamp(p.get("validFrom"))
        valid_to = parse_timestamp(p.get("validTo"))
        if valid_from is not None and valid_to is not None and valid_from >= valid_to:
            return "InvalidValue", "validTo must be after validFrom"
        if self.is_16:
            return None
        return self._conflict(evse_id, purpose, profile_from_wire(
            {**p, "transactionId": tx_id if tx_id is not None else active_tx}
            if purpose == TX else p, evse_id))

    def _schedule_problem(self, kind: str, recurrency: str | None,
                          schedule: dict[str, Any]) -> tuple[str, str] | None:
        unit = schedule["chargingRateUnit"]
        if unit not in self.limits.rate_units:
            return "UnsupportedRateUnit", f"chargingRateUnit {unit} is not supported"
        periods = schedule["chargingSchedulePeriod"]
        if not periods:
            return "InvalidSchedule", "a schedule needs at least one period"
        if len(periods) > self.limits.max_schedule_periods:
            return "InvalidSchedule", f"more than {self.limits.max_schedule_periods} periods"
        if periods[0]["startPeriod"] != 0:
            return "InvalidSchedule", "the first period must start at 0"
        starts = [period["startPeriod"] for period in periods]
        if any(b <= a for a, b in itertools.pairwise(starts)):
            return "InvalidSchedule", "periods must start in ascending order"
        for period in periods:
            if period["limit"] < 0:
                return "InvalidSchedule", "a limit cannot be negative"
            phases = period.get("numberPhases")
            if phases is not None and phases not in (1, 2, 3):
                return "InvalidSchedule", "numberPhases must be 1, 2 or 3"
            if period.get("phaseToUse") is not None:
                return "InvalidSchedule", "phase switching (phaseToUse) is not supported"
        if schedule.get("duration") is not None and schedule["duration"] < 0:
            return "InvalidSchedule", "duration cannot be negative"
        has_start = schedule.get("startSchedule") is not None
        if kind == "Recurring" and (recurrency is None or not has_start):
            return "InvalidSchedule", "a Recurring profile needs recurrencyKind and " \
                                      "startSchedule"
        if not self.is_16:
            if kind == "Absolute" and not has_start:
                return "InvalidSchedule", "an Absolute profile needs startSchedule"
            if kind == "Relative" and has_start:
                return "InvalidSchedule", "a Relative profile has no startSchedule"
        return None

    def _conflict(self, evse_id: int, purpose: str, new: Profile) -> tuple[str, str] | None:
        for old in self._installed:
            p = old.profile
            if p.id == new.id:
                if p.purpose == EXTERNAL:
                    return "InvalidValue", "an external constraint cannot be replaced"
                continue
            if p.purpose != purpose or p.stack_level != new.stack_level:
                continue
            if purpose == TX:
                if p.transaction_id == new.transaction_id:
                    return "DuplicateProfile", f"profile {p.id} has this stackLevel for the " \
                                               "transaction"
            elif old.evse_id == evse_id and _overlaps(p, new):
                return "DuplicateProfile", f"profile {p.id} has this purpose and stackLevel"
            elif purpose == TX_DEFAULT and (old.evse_id == 0) != (evse_id == 0):
                return "DuplicateProfile", f"profile {p.id} has this stackLevel on " \
                                           f"EVSE {old.evse_id}"
        return None

    def _rejected(self, reason: str, text: str) -> dict[str, Any]:
        if self.is_16:
            return {"status": "Rejected"}
        return {"status": "Rejected", "statusInfo": {"reasonCode": reason,
                                                     "additionalInfo": text}}

    # -- ClearChargingProfile ----------------------------------------------------------------

    def clear(self, request: dict[str, Any]) -> dict[str, Any]:
        """ClearChargingProfile: Accepted when something was cleared, else Unknown. A profile
        id clears that profile; otherwise every profile matching all criteria given (none: all
        of them). EVSE 0 means the profiles installed on EVSE 0."""
        if self.is_16:
            profile_id = request.get("id")
            evse, purpose, stack = (request.get("connectorId"),
                                    request.get("chargingProfilePurpose"),
                                    request.get("stackLevel"))
        else:
            profile_id = request.get("chargingProfileId")
            criteria = request.get("chargingProfileCriteria") or {}
            evse, purpose, stack = (criteria.get("evseId"),
                                    criteria.get("chargingProfilePurpose"),
                                    criteria.get("stackLevel"))
            if purpose == EXTERNAL:
                return {"status": "Unknown", "statusInfo": {
                    "reasonCode": "InvalidValue",
                    "additionalInfo": "external constraints cannot be cleared by the CSMS"}}
        purpose = None if purpose is None else purpose_from_wire(purpose)

        def matches(i: InstalledProfile) -> bool:
            if i.profile.purpose == EXTERNAL:
                return False
            if profile_id is not None:
                return i.profile.id == profile_id
            return (evse is None or i.evse_id == evse) and \
                (purpose is None or i.profile.purpose == purpose) and \
                (stack is None or i.profile.stack_level == stack)

        kept = [i for i in self._installed if not matches(i)]
        cleared = len(self._installed) - len(kept)
        self._installed = kept
        self._counted()
        return {"status": "Accepted" if cleared else "Unknown"}

    def expire_transaction(self, transaction_id: str | int) -> list[InstalledProfile]:
        """The transaction ended: its TxProfiles go with it. Returns them."""
        gone = [i for i in self._installed
                if i.profile.purpose == TX and i.profile.transaction_id == str(transaction_id)]
        self._installed = [i for i in self._installed if i not in gone]
        self._counted()
        return gone

    # -- GetChargingProfiles (2.0.1) ---------------------------------------------------------

    def report(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """GetChargingProfiles: the ReportChargingProfiles requests to send, one per EVSE (and
        limit source), ``tbc`` true on all but the last. Empty: answer ``NoProfiles``,
        otherwise ``Accepted`` and send these after the answer."""
        if self.is_16:
            raise ValueError("GetChargingProfiles is an OCPP 2.0.1 message")
        evse = request.get("evseId")
        criteria = request.get("chargingProfile") or {}
        purpose = criteria.get("chargingProfilePurpose")
        stack = criteria.get("stackLevel")
        ids = criteria.get("chargingProfileId")
        sources = criteria.get("chargingLimitSource")
        chosen = [i for i in self._installed
                  if (evse is None or i.evse_id == evse)
                  and (purpose is None or i.profile.purpose == purpose)
                  and (stack is None or i.profile.stack_level == stack)
                  and (ids is None or i.profile.id in ids)
                  and (sources is None or i.source in sources)]
        groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for i in sorted(chosen, key=lambda i: (i.evse_id, i.source)):
            groups.setdefault((i.evse_id, i.source), []).append(dict(i.wire))
        reports = [{"requestId": request["requestId"], "chargingLimitSource": source,
                    "evseId": evse_id, "chargingProfile": wires, "tbc": True}
                   for (evse_id, source), wires in groups.items()]
        if reports:
            reports[-1]["tbc"] = False
        return reports

    # -- limits and composite schedules ------------------------------------------------------

    def _for_evaluation(self, evse_id: int, transaction_id: str | int | None
                        ) -> tuple[list[Profile], str | None]:
        """The profiles as the composite helper should see them for ``evse_id``: EVSE-0
        TxDefaultProfiles moved onto the EVSE so they stack with its own, and the TxProfiles of
        the running transaction (the latest installed one's when not told)."""
        tx = None if transaction_id is None else str(transaction_id)
        if tx is None:
            tx = next((i.profile.transaction_id for i in reversed(self._installed)
                       if i.evse_id == evse_id and i.profile.purpose == TX), None)
        chosen = []
        for i in self._installed:
            p = i.profile
            if evse_id > 0 and p.purpose == TX_DEFAULT and i.evse_id == 0:
                p = replace(p, evse_id=evse_id)
            chosen.append(p)
        return chosen, tx

    def _evaluate(self, profiles: list[Profile], evse_id: int, start: datetime,
                  duration_s: int, unit: str, tx: str | None,
                  transaction_start_utc: datetime | None, voltage_v: float
                  ) -> list[CompositePeriod]:
        _, periods = _composite(profiles, evse_id=evse_id, start=start, duration_s=duration_s,
                                rate_unit=unit, transaction_id=tx,
                                transaction_start=transaction_start_utc, voltage=voltage_v)
        return periods

    def limit_w(self, evse_id: int, now_utc: datetime, *,
                transaction_start_utc: datetime | None = None, phases: int = 3,
                voltage_v: float = DEFAULT_VOLTAGE_V,
                transaction_id: str | int | None = None) -> float | None:
        """The power the profiles allow ``evse_id`` now, in W; None when nothing limits it.
        ``phases`` is how many phases the vehicle draws on (an A limit allows A x V x
        min(phases, numberPhases)); Relative schedules start at ``transaction_start_utc``
        (without one: now)."""
        profiles, tx = self._for_evaluation(evse_id, transaction_id)
        if not profiles:
            return None
        watts = [_in_watts(p, phases, voltage_v) for p in profiles]
        periods = self._evaluate(watts, evse_id, now_utc, 1, "W", tx, transaction_start_utc,
                                 voltage_v)
        return periods[0].limit if periods else None

    def station_max_w(self, now_utc: datetime, *, phases: int = 3,
                      voltage_v: float = DEFAULT_VOLTAGE_V) -> float | None:
        """What the station's maximum profiles allow all its EVSEs together now, in W; None
        when none is installed. (``limit_w`` caps each EVSE by it as well; the station shares
        it among its EVSEs.)"""
        profiles = [i.profile for i in self._installed if i.profile.purpose == STATION_MAX]
        if not profiles:
            return None
        watts = [_in_watts(p, phases, voltage_v) for p in profiles]
        periods = self._evaluate(watts, 0, now_utc, 1, "W", None, None, voltage_v)
        return periods[0].limit if periods else None

    def next_change_utc(self, evse_id: int, now_utc: datetime, *,
                        transaction_start_utc: datetime | None = None, phases: int = 3,
                        voltage_v: float = DEFAULT_VOLTAGE_V,
                        transaction_id: str | int | None = None,
                        horizon_s: int = NEXT_CHANGE_HORIZON_S) -> datetime | None:
        """When :meth:`limit_w` next changes for ``evse_id``: the station re-evaluates power
        then (and after any Set/Clear). None: no profile could change it; when nothing
        changes within ``horizon_s`` but profiles exist, the end of the horizon."""
        profiles, tx = self._for_evaluation(evse_id, transaction_id)
        if not profiles:
            return None
        watts = [_in_watts(p, phases, voltage_v) for p in profiles]
        periods = self._evaluate(watts, evse_id, now_utc, horizon_s, "W", tx,
                                 transaction_start_utc, voltage_v)
        if len(periods) > 1:
            return now_utc + timedelta(seconds=periods[1].start_s)
        return now_utc + timedelta(seconds=horizon_s)

    def get_composite_schedule(self, request: dict[str, Any], now_utc: datetime, *,
                               transaction_start_utc: datetime | None = None,
                               phases: int = 3, voltage_v: float = DEFAULT_VOLTAGE_V
                               ) -> dict[str, Any]:
        """GetCompositeSchedule request in, response out: Rejected for an unknown EVSE, an
        unsupported chargingRateUnit or no duration (TC_K_42, TC_K_47)."""
        evse_id = request["connectorId"] if self.is_16 else request["evseId"]
        unit = request.get("chargingRateUnit")
        duration = request["duration"]
        if evse_id != 0 and evse_id not in self.evse_ids:
            return self._rejected("UnknownEVSE", f"no EVSE {evse_id}")
        if unit is not None and unit not in self.limits.rate_units:
            return self._rejected("UnsupportedRateUnit",
                                  f"chargingRateUnit {unit} is not supported")
        if duration <= 0:
            return self._rejected("InvalidValue", "duration must be positive")
        return self.composite_schedule(evse_id, now_utc, duration,
                                       unit or self.limits.rate_units[0],
                                       transaction_start_utc=transaction_start_utc,
                                       phases=phases, voltage_v=voltage_v)

    def composite_schedule(self, evse_id: int, now_utc: datetime, duration_s: int, unit: str,
                           *, transaction_start_utc: datetime | None = None, phases: int = 3,
                           voltage_v: float = DEFAULT_VOLTAGE_V,
                           transaction_id: str | int | None = None) -> dict[str, Any]:
        """The GetCompositeSchedule response body (Accepted) for ``evse_id`` over
        ``[now, now + duration_s)`` in ``unit``: 1.6 ``{status, connectorId, scheduleStart,
        chargingSchedule}``, 2.0.1 ``{status, schedule}``. Where no profile limits a stretch,
        the EVSE's rating (EVSE 0: the sum) stands in, converted with ``phases``."""
        profiles, tx = self._for_evaluation(evse_id, transaction_id)
        periods = self._evaluate(profiles, evse_id, now_utc, duration_s, unit, tx,
                                 transaction_start_utc, voltage_v) if profiles else []
        rating_w = sum(self._evse_max_w.values()) if evse_id == 0 else self._evse_max_w[evse_id]
        rating = rating_w if unit == "W" else rating_w / (voltage_v * max(phases, 1))
        wire: list[dict[str, Any]] = []
        for period in periods or [CompositePeriod(0, None)]:
            limit = floor_tenth(rating if period.limit is None else period.limit)
            phases_here = period.number_phases if period.limit is not None else None
            if wire and (wire[-1]["limit"], wire[-1].get("numberPhases")) == (limit,
                                                                               phases_here):
                continue
            entry: dict[str, Any] = {"startPeriod": period.start_s, "limit": limit}
            if phases_here is not None:
                entry["numberPhases"] = phases_here
            wire.append(entry)
        start = iso_utc(now_utc)
        if self.is_16:
            return {"status": "Accepted", "connectorId": evse_id, "scheduleStart": start,
                    "chargingSchedule": {"duration": duration_s, "startSchedule": start,
                                         "chargingRateUnit": unit,
                                         "chargingSchedulePeriod": wire}}
        return {"status": "Accepted", "schedule": {
            "evseId": evse_id, "duration": duration_s, "scheduleStart": start,
            "chargingRateUnit": unit, "chargingSchedulePeriod": wire}}


def _in_watts(p: Profile, phases: int, voltage_v: float) -> Profile:
    """``p`` with its limits in W for a vehicle drawing on ``phases`` phases."""
    if p.schedule.rate_unit == "W":
        return p
    periods = tuple(Period(x.start_s, x.limit * voltage_v * min(max(phases, 1),
                                                                 x.number_phases or 3),
                           x.number_phases, x.phase_to_use) for x in p.schedule.periods)
    return replace(p, schedule=replace(p.schedule, rate_unit="W", periods=periods))


def rate_units_from_16(value: str) -> tuple[str, ...]:
    """1.6 ChargingScheduleAllowedChargingRateUnit (``Current,Power``) as ``("A", "W")``."""
    return tuple(_UNIT_NAMES[v.strip()] for v in value.split(",") if v.strip() in _UNIT_NAMES)


__all__ = ["CSO", "DEFAULT_EVSE_MAX_W", "DEFAULT_VOLTAGE_V", "ChargingProfiles",
           "DefaultLimits", "InstalledProfile", "SmartChargingLimits", "floor_tenth", "iso_utc",
           "rate_units_from_16"]
