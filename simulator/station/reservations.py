"""The reservations a simulated station holds (1.6 Reservation profile, 2.0.1 block H).

Payload-shaped: ReserveNow / CancelReservation requests in, responses out, plus what the station
needs around them:

* :meth:`Reservations.reserve` answers by the state of the EVSE(s) the station passes in:
  Faulted, Unavailable, Occupied (in use, or reserved for someone else), Rejected (reservations
  disabled, unknown EVSE or connector type, connector 0 / no evseId without
  ReserveConnectorZeroSupported / NonEvseSpecific, expiry already past), else Accepted. The same
  reservation id replaces the old reservation (1.6 5.13, TC_H_23). A reservation for any EVSE is
  accepted only while more EVSEs are free than such reservations exist, so that one stays
  available for each (1.6 5.13 connector 0, H01 / TC_H_14); :meth:`reserved_evses` says which
  EVSEs must then show Reserved.
* :meth:`expired` hands back the reservations whose expiry passed: the station reports the
  connector Available again and, in 2.0.1, sends ReservationStatusUpdate(Expired) (TC_H_07,
  :func:`status_update`).
* :meth:`consume` when a transaction starts for the holder: the reservation ends without a
  status update; its id goes into StartTransaction (1.6 reservationId) / TransactionEvent (2.0.1
  reservationId). :meth:`drop_evse` when the EVSE becomes Faulted or Unavailable: 2.0.1 reports
  those ReservationStatusUpdate(Removed) (TC_H_21).
* The holder is the reserved token, or any token of the reserved group (1.6 parentIdTag, 2.0.1
  groupIdToken); tokens compare case-insensitively.

EVSE states are the station's connector statuses in either version's words: Available is free,
Faulted and Unavailable are themselves, everything else (Occupied, Preparing, Charging,
SuspendedEV, SuspendedEVSE, Finishing) is in use. Reserved counts as free: which EVSE is reserved
is this module's own bookkeeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.timeutil import parse_timestamp

FREE, FAULTED, UNAVAILABLE, IN_USE = "free", "Faulted", "Unavailable", "in use"


class ReservationSettings(Protocol):
    @property
    def reservation_enabled(self) -> bool: ...
    @property
    def reserve_any_evse(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class DefaultReservationSettings:
    reservation_enabled: bool = True
    reserve_any_evse: bool = False


@dataclass(frozen=True, slots=True)
class EvseAvailability:
    """One EVSE as reservations see it: its status and its connectors' types (2.0.1)."""

    status: str
    connector_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    evse_id: int | None  # None: any EVSE (1.6 connectorId 0, 2.0.1 without evseId)
    token: str
    expiry: datetime
    token_type: str | None = None
    group_id: str | None = None
    connector_type: str | None = None

    def held_by(self, token: str, group_id: str | None = None) -> bool:
        if token.casefold() == self.token.casefold():
            return True
        return self.group_id is not None and group_id is not None and \
            group_id.casefold() == self.group_id.casefold()


def _category(status: str) -> str:
    if status in ("Available", "Reserved"):
        return FREE
    if status in (FAULTED, UNAVAILABLE):
        return status
    return IN_USE


def _availability(value: str | EvseAvailability) -> EvseAvailability:
    return value if isinstance(value, EvseAvailability) else EvseAvailability(value)


def _version(version: str | OcppVersion) -> OcppVersion:
    parsed = version if isinstance(version, OcppVersion) else OcppVersion.parse(str(version))
    if parsed not in (OcppVersion.V16, OcppVersion.V201):
        raise ValueError(f"reservations for OCPP 1.6 and 2.0.1, not {parsed.short}")
    return parsed


def status_update(reservation: Reservation | int, status: str) -> dict[str, Any]:
    """A 2.0.1 ReservationStatusUpdate request (``Expired`` or ``Removed``)."""
    reservation_id = reservation if isinstance(reservation, int) else reservation.id
    return {"reservationId": reservation_id, "reservationUpdateStatus": status}


class Reservations:
    def __init__(self, version: str | OcppVersion, *,
                 settings: ReservationSettings | None = None) -> None:
        self.version = _version(version)
        self.settings: ReservationSettings = settings or DefaultReservationSettings()
        self._by_id: dict[int, Reservation] = {}
        # the operator has set the station to reject reservations (1.6 has no setting for it;
        # TC_048_4's prerequisite)
        self.rejecting = False

    @property
    def is_16(self) -> bool:
        return self.version is OcppVersion.V16

    def __len__(self) -> int:
        return len(self._by_id)

    def all(self) -> list[Reservation]:
        return sorted(self._by_id.values(), key=lambda r: r.id)

    def get(self, reservation_id: int) -> Reservation | None:
        return self._by_id.get(reservation_id)

    def _answer(self, status: str, reason: str | None = None,
                text: str | None = None) -> dict[str, Any]:
        if self.is_16 or reason is None:
            return {"status": status}
        return {"status": status, "statusInfo": {"reasonCode": reason,
                                                 "additionalInfo": text or reason}}

    def _parse(self, request: Mapping[str, Any]) -> Reservation:
        if self.is_16:
            connector = request["connectorId"]
            return Reservation(request["reservationId"], connector or None, request["idTag"],
                               _expiry(request["expiryDate"]), None,
                               request.get("parentIdTag"))
        token = request["idToken"]
        group = request.get("groupIdToken")
        return Reservation(request["id"], request.get("evseId") or None, str(token["idToken"]),
                           _expiry(request["expiryDateTime"]), token.get("type"),
                           None if group is None else str(group["idToken"]),
                           request.get("connectorType"))

    def reserve(self, request: Mapping[str, Any],
                evse_states: Mapping[int, str | EvseAvailability], *,
                now: datetime | None = None) -> dict[str, Any]:
        """ReserveNow request in, response out; ``evse_states`` maps every EVSE (1.6:
        connector) id to its status (or :class:`EvseAvailability` with connector types)."""
        if not self.settings.reservation_enabled or self.rejecting:
            return self._answer("Rejected", "NotEnabled", "reservations are disabled")
        wanted = self._parse(request)
        if self.is_16 and request["connectorId"] < 0:
            return self._answer("Rejected")
        if now is not None and wanted.expiry <= now:
            return self._answer("Rejected", "InvalidValue", "the expiry date has passed")
        states = {e: _availability(s) for e, s in evse_states.items()}
        others = [r for r in self._by_id.values() if r.id != wanted.id]
        status = self._specific(wanted, states, others) if wanted.evse_id is not None \
            else self._any(wanted, states, others)
        if status != "Accepted":
            return self._answer(*status) if isinstance(status, tuple) else self._answer(status)
        self._by_id[wanted.id] = wanted
        return self._answer("Accepted")

    def _specific(self, wanted: Reservation, states: dict[int, EvseAvailability],
                  others: list[Reservation]) -> str | tuple[str, str, str]:
        evse = states.get(wanted.evse_id)  # type: ignore[arg-type]
        if evse is None:
            return "Rejected", "UnknownEvse", f"no EVSE {wanted.evse_id}"
        if wanted.connector_type and evse.connector_types and \
                wanted.connector_type not in evse.connector_types:
            return "Rejected", "UnknownConnectorType", \
                f"EVSE {wanted.evse_id} has no {wanted.connector_type} connector"
        category = _category(evse.status)
        if category in (FAULTED, UNAVAILABLE):
            return category
        if category == IN_USE or any(r.evse_id == wanted.evse_id for r in others):
            return "Occupied"
        # one free EVSE must remain for each reservation of any EVSE
        free = self._free(states, others, exclude=wanted.evse_id)
        if len(free) < len([r for r in others if r.evse_id is None]):
            return "Occupied"
        return "Accepted"

    def _any(self, wanted: Reservation, states: dict[int, EvseAvailability],
             others: list[Reservation]) -> str | tuple[str, str, str]:
        if not self.settings.reserve_any_evse:
            return "Rejected", "NonEvseSpecific", "a reservation needs an EVSE"
        candidates = {e: s for e, s in states.items()
                      if not wanted.connector_type or not s.connector_types
                      or wanted.connector_type in s.connector_types}
        if not candidates:
            return "Rejected", "UnknownConnectorType", f"no {wanted.connector_type} connector"
        free = self._free(candidates, others)
        unspecified = [r for r in others if r.evse_id is None and (
            not wanted.connector_type or not r.connector_type
            or r.connector_type == wanted.connector_type)]
        if len(free) > len(unspecified):
            return "Accepted"
        categories = {_category(s.status) for s in candidates.values()}
        if categories == {FAULTED}:
            return FAULTED
        if categories <= {FAULTED, UNAVAILABLE}:
            return UNAVAILABLE
        return "Occupied"

    @staticmethod
    def _free(states: Mapping[int, EvseAvailability], reservations: list[Reservation],
              exclude: int | None = None) -> list[int]:
        taken = {r.evse_id for r in reservations if r.evse_id is not None}
        return [e for e, s in states.items()
                if e != exclude and e not in taken and _category(s.status) == FREE]

    def cancel(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """CancelReservation: Accepted and gone, or Rejected for an unknown id. The station
        then reports the EVSE Available again."""
        if self._by_id.pop(request["reservationId"], None) is None:
            return self._answer("Rejected", "UnknownReservation",
                                f"no reservation {request['reservationId']}")
        return self._answer("Accepted")

    def expired(self, now: datetime) -> list[Reservation]:
        """Remove and return the reservations whose expiry has come (earliest first)."""
        gone = sorted((r for r in self._by_id.values() if r.expiry <= now),
                      key=lambda r: (r.expiry, r.id))
        for r in gone:
            del self._by_id[r.id]
        return gone

    def next_expiry(self) -> datetime | None:
        return min((r.expiry for r in self._by_id.values()), default=None)

    def reserved_evses(self, evse_states: Mapping[int, str | EvseAvailability]
                       ) -> dict[int, Reservation | None]:
        """The EVSEs that must show Reserved: those reserved by id, and, once reservations of
        any EVSE take up every free EVSE, all free ones (value None); likewise the free EVSEs
        with a connector type once reservations of that type take them all up (TC_H_15/16)."""
        states = {e: _availability(s) for e, s in evse_states.items()}
        reserved: dict[int, Reservation | None] = {
            r.evse_id: r for r in self._by_id.values()
            if r.evse_id is not None and r.evse_id in states
            and _category(states[r.evse_id].status) == FREE}
        unspecified = [r for r in self._by_id.values() if r.evse_id is None]
        free = self._free(states, list(self._by_id.values()))
        if unspecified and len(free) <= len(unspecified):
            reserved.update(dict.fromkeys(free))
        for kind in {r.connector_type for r in unspecified if r.connector_type}:
            of_kind = [e for e in free if kind in states[e].connector_types]
            if len(of_kind) <= len([r for r in unspecified if r.connector_type == kind]):
                reserved.update(dict.fromkeys(of_kind))
        return reserved

    def find(self, evse_id: int, token: str, group_id: str | None = None
             ) -> Reservation | None:
        """The reservation ``token`` (or its group) holds that lets it use ``evse_id``: one on
        that EVSE, else one for any EVSE."""
        mine = [r for r in self._by_id.values() if r.held_by(token, group_id)]
        return next((r for r in mine if r.evse_id == evse_id), None) or \
            next((r for r in mine if r.evse_id is None), None)

    def matches(self, evse_id: int, token: str, group_id: str | None = None) -> bool:
        """Does ``token`` (or its group) hold a reservation usable on ``evse_id``?"""
        return self.find(evse_id, token, group_id) is not None

    def blocks(self, evse_id: int, token: str, group_id: str | None,
               evse_states: Mapping[int, str | EvseAvailability]) -> bool:
        """Is ``evse_id`` reserved for someone other than ``token`` (and its group)?"""
        reserved = self.reserved_evses(evse_states)
        if evse_id not in reserved:
            return False
        holder = reserved[evse_id]
        if holder is not None:
            return not holder.held_by(token, group_id)
        return not any(r.evse_id is None and r.held_by(token, group_id)
                       for r in self._by_id.values())

    def consume(self, evse_id: int, token: str, group_id: str | None = None
                ) -> Reservation | None:
        """A transaction starts on ``evse_id`` for ``token``: its reservation ends (no status
        update; the id goes into StartTransaction / TransactionEvent). None: it held none."""
        found = self.find(evse_id, token, group_id)
        if found is not None:
            del self._by_id[found.id]
        return found

    def drop_evse(self, evse_id: int) -> list[Reservation]:
        """The EVSE became Faulted or Unavailable: its reservations end (2.0.1: Removed)."""
        gone = [r for r in self._by_id.values() if r.evse_id == evse_id]
        for r in gone:
            del self._by_id[r.id]
        return gone


def _expiry(text: str) -> datetime:
    parsed = parse_timestamp(text)
    if parsed is None:
        raise ValueError(f"not a timestamp: {text!r}")
    return parsed


__all__ = ["DefaultReservationSettings", "EvseAvailability", "Reservation",
           "ReservationSettings", "Reservations", "status_update"]
