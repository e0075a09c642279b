"""Faulty-station variants for OCPP 2.0.1 Local Auth List and Reservation cases added after the
first set, and the robustness checks: case id -> the fault that breaks the rule the case checks
(merged into ``faulty_station.FAULTS``).

The robustness faults break the station's OCPP-J layer, which is the shared
``chargeloop.ocppj`` session: they wrap the transport the station's link opens
(``on_the_wire``), so the session sees (or sends) what a station with that flaw would."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from chargeloop.ocppj.transport.base import Transport, TransportClosed
from simulator.station import Link, SimStation
from simulator.station.auth_store import AuthResult, Decision, LocalAuthList
from simulator.station.reservations import Reservations
from tests.conformance.station.fault_kit import (
    Fault,
    accept_every_token,
    answer,
    deciding,
    ignored,
    is_differential,
    message_without,
    with_fields,
)

Raw = str | bytes
OVERLAP_S = 0.5  # a CALL this soon after another counts as overlapping
_KEEP: set[asyncio.Task[None]] = set()  # tasks in flight (asyncio keeps weak references)


def _frame(raw: Raw) -> list[Any] | None:
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return frame if isinstance(frame, list) and len(frame) >= 2 else None


class FaultyTransport:
    """The station's transport with a flaw: ``incoming(raw)`` decides what the session gets of
    a frame from the CSMS (the frame, None: dropped, or ``CLOSE``: the station hangs up),
    ``outgoing(text)`` what goes out for what the session sends."""

    CLOSE = object()

    def __init__(self, inner: Transport, station: SimStation,
                 incoming: Callable[[FaultyTransport, Raw], Any] | None,
                 outgoing: Callable[[FaultyTransport, str], str] | None) -> None:
        self.inner = inner
        self.station = station
        self.incoming = incoming
        self.outgoing = outgoing
        self.open_calls: set[Any] = set()  # CALLs of the CSMS not answered yet
        self.seen_calls: set[Any] = set()  # every CALL id of the CSMS on this connection
        self.own_calls: set[Any] = set()  # the station's own CALL ids
        self.last_call_at = -1e9  # time.monotonic() of the CSMS's last CALL

    @property
    def subprotocol(self) -> str | None:
        return self.inner.subprotocol

    async def send(self, text: str) -> None:
        frame = _frame(text)
        if frame is not None:
            if frame[0] == 2:
                self.own_calls.add(frame[1])
            elif frame[0] in (3, 4):
                self.open_calls.discard(frame[1])
        await self.inner.send(self.outgoing(self, text) if self.outgoing else text)

    async def recv(self) -> Raw:
        while True:
            raw = await self.inner.recv()
            got = self.incoming(self, raw) if self.incoming else raw
            frame = _frame(raw)
            if got is FaultyTransport.CLOSE:
                await self.inner.close(1000, "")
                raise TransportClosed(1000, "the faulty station hung up")
            if got is None:
                continue
            if frame is not None and frame[0] == 2:
                self.open_calls.add(frame[1])
                self.seen_calls.add(frame[1])
            return got  # type: ignore[no-any-return]

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.inner.close(code, reason)


def on_the_wire(incoming: Callable[[FaultyTransport, Raw], Any] | None = None,
                outgoing: Callable[[FaultyTransport, str], str] | None = None) -> Fault:
    """Every connection the station opens goes through a ``FaultyTransport``."""
    def apply(station: SimStation) -> None:
        link = station.link

        async def open_faulty(password: str | None) -> Transport:
            return FaultyTransport(await link.open(password), station, incoming, outgoing)

        station.link = Link(open_faulty)
    return apply


def hangs_up_on(unreadable: Callable[[Raw], bool]) -> Fault:
    """The station closes the connection on a frame ``unreadable`` picks."""
    return on_the_wire(incoming=lambda wire, raw: FaultyTransport.CLOSE if unreadable(raw)
                       else raw)


def dies_on(deadly: Callable[[Raw], bool]) -> Fault:
    """A frame ``deadly`` picks kills the station's network stack for good: it never comes
    back."""
    def incoming(wire: FaultyTransport, raw: Raw) -> Any:
        if not deadly(raw):
            return raw
        station = wire.station

        def die() -> Any:
            station.go_offline(None)
            yield station.env.timeout(0)

        station.clock.spawn(die())
        return None
    return on_the_wire(incoming=incoming)


def _generic_error(wire: FaultyTransport, text: str) -> str:
    frame = _frame(text)
    if frame is None or frame[0] != 4 or len(frame) != 5:
        return text
    return json.dumps([4, frame[1], "GenericError", frame[3], frame[4]])


def generic_errors() -> Fault:
    """Every CALLERROR the station sends says GenericError, whatever the fault."""
    return on_the_wire(outgoing=_generic_error)


def _drop_overlapping(wire: FaultyTransport, raw: Raw) -> Any:
    """A CALL that comes while another is open, or right after one (the station answers
    fast, so "open" alone would depend on who is quicker), is dropped."""
    frame = _frame(raw)
    if frame is None or frame[0] != 2:
        return raw
    now = time.monotonic()
    overlapping = bool(wire.open_calls) or now - wire.last_call_at < OVERLAP_S
    wire.last_call_at = now
    return None if overlapping else raw


def _drop_repeated(wire: FaultyTransport, raw: Raw) -> Any:
    frame = _frame(raw)
    return None if frame is not None and frame[0] == 2 and frame[1] in wire.seen_calls else raw


def _answer_stray_results(wire: FaultyTransport, raw: Raw) -> Any:
    frame = _frame(raw)
    if frame is not None and frame[0] == 3 and frame[1] not in wire.own_calls:
        text = json.dumps([4, frame[1], "ProtocolError", "no such CALL", {}])
        task = asyncio.ensure_future(wire.inner.send(text))
        _KEEP.add(task)
        task.add_done_callback(_KEEP.discard)
        return None
    return raw


def _not_json(raw: Raw) -> bool:
    return _frame(raw) is None


def _empty_list(payload: dict[str, Any]) -> bool:
    return not payload.get("localAuthorizationList")


def list_lost_on_reboot(station: SimStation) -> None:
    """The local list lives in memory only: a reboot forgets it (version 0)."""
    original = station._reboot

    def reboot(kind: str, boot_reason: str | None = None) -> Any:
        station.local_list = LocalAuthList(station.version, station.settings)
        station.authorizer.local_list = station.local_list
        return (yield from original(kind, boot_reason))

    station._reboot = reboot  # type: ignore[method-assign]


def version_while_disabled(station: SimStation) -> None:
    """GetLocalListVersion reports the installed list's version even while the list is
    disabled."""
    answer_with = answer("GetLocalListVersion", lambda got, request: {
        "versionNumber": station.local_list.version_number})
    answer_with(station)


def reservation_for_anyone(station: SimStation) -> None:
    """A reserved EVSE takes any token: the reservation blocks nobody."""
    station.reservations.blocks = lambda *args, **kwargs: False  # type: ignore[method-assign]


def group_ignored(station: SimStation) -> None:
    """A reservation is held by its idToken only; its groupIdToken is ignored."""
    original = station.reservations._parse

    def parse(request: Any) -> Any:
        return original({k: v for k, v in request.items() if k != "groupIdToken"})

    station.reservations._parse = parse  # type: ignore[method-assign]


def reservation_kept_when_unavailable(station: SimStation) -> None:
    """An EVSE taken out of service keeps its reservations (and says nothing)."""
    station.reservations.drop_evse = lambda evse_id: []  # type: ignore[method-assign]


def replacement_not_applied(station: SimStation) -> None:
    """A ReserveNow with the id of an existing reservation is Accepted, and the old one
    stays as it was."""
    reservations = station.reservations
    original = reservations.reserve

    def reserve(request: Any, evse_states: Any, *, now: Any = None) -> dict[str, Any]:
        if reservations.get(request.get("id", request.get("reservationId"))) is not None:
            return {"status": "Accepted"}
        return original(request, evse_states, now=now)

    reservations.reserve = reserve  # type: ignore[method-assign]


def reservations_lost_on_reboot(station: SimStation) -> None:
    """Reservations live in memory only: a reboot forgets them."""
    original = station._reboot

    def reboot(kind: str, boot_reason: str | None = None) -> Any:
        station.reservations = Reservations(station.version, settings=station.settings)
        return (yield from original(kind, boot_reason))

    station._reboot = reboot  # type: ignore[method-assign]


def _listed(result: AuthResult) -> bool:
    return result.source == "LocalList"


# offline, the list is not consulted: a listed Accepted token is refused like an unknown one
list_unused_offline = deciding(lambda result, online: result if online or not _listed(result)
                                else AuthResult(Decision.REJECT, {"status": "Unknown"},
                                                "Unknown", True))
# offline, whatever the list says about a token counts as Accepted
list_status_ignored_offline = deciding(
    lambda result, online: result if online or not _listed(result)
    else AuthResult(Decision.ACCEPT, {"status": "Accepted"}, "LocalList", True))
# online, every token is asked of the CSMS (LocalPreAuthorize ignored)
always_asks = deciding(lambda result, online: result if not online
                        else AuthResult(Decision.ASK_CSMS, None, "Csms"))
# online, a listed token that is not Accepted is refused without asking the CSMS
no_post_authorize = deciding(
    lambda result, online: AuthResult(Decision.REJECT, {"status": "Invalid"}, "LocalList")
    if online and result.decision is Decision.ASK_CSMS and result.source == "Csms"
    else result)


def cache_before_list(station: SimStation) -> None:
    """The cache is consulted before the local list."""
    authorizer = station.authorizer
    original = authorizer.decide

    def decide(token: Any, *, online: bool, now: Any) -> AuthResult:
        cached = authorizer.cache.lookup(token, now)
        if not online and cached is not None and cached.status_at(now) != "Accepted":
            return AuthResult(Decision.REJECT, cached.info_at(now), "Cache", True)
        return original(token, online=online, now=now)

    authorizer.decide = decide  # type: ignore[method-assign]


def no_group_stop(station: SimStation) -> None:
    """Only the token that started a transaction may stop it: its group counts for nothing."""
    def stop_by_group(evse: Any, token_id: str, token_type: str) -> Any:
        yield station.env.timeout(0)
        return False

    station._stop_by_group = stop_by_group  # type: ignore[method-assign]


def group_stop_any_status(station: SimStation) -> None:
    """Any token of the group stops the transaction, whatever its status."""
    def stop_by_group(evse: Any, token_id: str, token_type: str) -> Any:
        yield station.env.timeout(0)
        if evse.tx is None or evse.auth is None:
            return False
        station.deauthorize(evse, "Local", "StopAuthorized")
        return True

    station._stop_by_group = stop_by_group  # type: ignore[method-assign]


FAULTS: dict[str, Fault] = {
    # 2.0.1 Authorization through the local list
    "TC_C_40_CS": no_group_stop,
    "TC_C_43_CS": group_stop_any_status,
    "TC_C_25_CS": cache_before_list,
    "TC_C_21_CS": list_unused_offline,
    "TC_C_22_CS": list_status_ignored_offline,
    "TC_C_23_CS": list_status_ignored_offline,
    "TC_C_24_CS": list_status_ignored_offline,
    "TC_C_27_CS": always_asks,
    "TC_C_28_CS": accept_every_token,
    "TC_C_29_CS": accept_every_token,
    "TC_C_30_CS": accept_every_token,
    "TC_C_31_CS": no_post_authorize,
    # 2.0.1 Reservation
    "TC_H_01_CS": message_without("TransactionEvent", "reservationId"),
    "TC_H_02_CS": reservation_for_anyone,
    "TC_H_03_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_H_04_CS": answer("ReserveNow", with_fields(status="Accepted")),
    "TC_H_19_CS": group_ignored,
    "TC_H_21_CS": reservation_kept_when_unavailable,
    "TC_H_23_CS": replacement_not_applied,
    "TC_B_24_CS": reservations_lost_on_reboot,
    # 2.0.1 Local Auth List Management
    "TC_D_03_CS": ignored("SendLocalList", {"status": "Accepted"}, when=is_differential),
    "TC_D_04_CS": answer("SendLocalList", with_fields(status="Failed"), when=_empty_list),
    "TC_D_05_CS": ignored("SendLocalList", {"status": "Accepted"}, when=is_differential),
    "TC_D_07_CS": list_lost_on_reboot,
    "TC_D_10_CS": version_while_disabled,
    # robustness (both versions): hangs up, answers the wrong code, drops what it must answer
    "ROB_01_CS": hangs_up_on(_not_json),
    "ROB_02_CS": hangs_up_on(_not_json),
    "ROB_03_CS": hangs_up_on(_not_json),
    "ROB_04_CS": generic_errors(),
    "ROB_05_CS": hangs_up_on(lambda raw: (_frame(raw) or [0])[0] == 7),
    "ROB_06_CS": generic_errors(),
    "ROB_07_CS": generic_errors(),
    "ROB_08_CS": generic_errors(),
    "ROB_09_CS": generic_errors(),
    "ROB_10_CS": generic_errors(),
    "ROB_11_CS": generic_errors(),
    "ROB_12_CS": generic_errors(),
    "ROB_13_CS": generic_errors(),
    "ROB_14_CS": on_the_wire(incoming=_drop_overlapping),
    "ROB_15_CS": on_the_wire(incoming=_answer_stray_results),
    "ROB_16_CS": on_the_wire(incoming=_drop_repeated),
    "ROB_17_CS": dies_on(lambda raw: isinstance(raw, bytes)),
    "ROB_18_CS": dies_on(lambda raw: len(raw) > 2**20),
}

# the robustness checks each version runs (ROB_09: 2.0.1 only), for the suite's controls
ROBUSTNESS_CHECKS = {"1.6": {c for c in FAULTS if c.startswith("ROB_")} - {"ROB_09_CS"},
                     "2.0.1": {c for c in FAULTS if c.startswith("ROB_")}}
