"""Faulty-station variants for the OCPP 2.0.1 local start/stop authorization, GroupId and master
pass cases (test_v201_auth_local.py, test_v201_local_start.py): case id -> the fault that
breaks the rule the case checks (merged into ``faulty_station.FAULTS``)."""

from __future__ import annotations

from typing import Any

from simulator.station import SimStation
from tests.conformance.station.fault_kit import Fault, accept_every_token, message_without

Gen = Any


def any_accepted_token_stops(station: SimStation) -> None:
    """Any idToken the CSMS accepts stops a running transaction, whatever its group (C_04)."""
    def stop(evse: Any, token_id: str, token_type: str) -> Gen:
        verdict = yield from station.authorize(token_id, token_type, evse.id)
        if evse.tx is None or not verdict.accepted:
            return False
        station.deauthorize(evse, "Local", "StopAuthorized")
        return True

    station._stop_by_group = stop  # type: ignore[method-assign]


def group_never_stops(station: SimStation) -> None:
    """Another idToken of the transaction's group does not stop it (C09.FR.03)."""
    def stop(evse: Any, token_id: str, token_type: str) -> Gen:
        yield from station.authorize(token_id, token_type, evse.id)
        return False

    station._stop_by_group = stop  # type: ignore[method-assign]


def group_stops_whatever_status(station: SimStation) -> None:
    """An idToken of the transaction's group stops it even when the CSMS does not accept it
    (C09.FR.11)."""
    def stop(evse: Any, token_id: str, token_type: str) -> Gen:
        started_by = evse.auth
        verdict = yield from station.authorize(token_id, token_type, evse.id)
        if evse.tx is None or started_by is None or verdict.group_id != started_by.group_id:
            return False
        station.deauthorize(evse, "Local", "StopAuthorized")
        return True

    station._stop_by_group = stop  # type: ignore[method-assign]


def authorization_lost_on_plug_in(station: SimStation) -> None:
    """The authorization given before the EV came is forgotten when it is plugged in
    (E03: idToken first)."""
    original = station.plug_in

    def plug_in(evse_id: int, vehicle: Any) -> Gen:
        station.evse(evse_id).auth = None
        return (yield from original(evse_id, vehicle))

    station.plug_in = plug_in  # type: ignore[method-assign]


def authorization_never_lapses(station: SimStation) -> None:
    """EVConnectionTimeOut is never applied: the authorization waits for the EV forever
    (E03.FR.05)."""
    def never(evse: Any, auth: Any) -> Gen:
        yield station.env.timeout(0)

    station._connection_timeout = never  # type: ignore[method-assign]


def starting_token_does_not_stop(station: SimStation) -> None:
    """The idToken that started the transaction, presented again, does not stop it (E07)."""
    def ignored(evse_id: int, token: Any) -> Gen:
        yield station.env.timeout(0)
        return False

    station.stop_by_driver = ignored  # type: ignore[method-assign]


def suspended_ev_unreported(station: SimStation) -> None:
    """An EV that takes no energy is not reported (no ChargingStateChanged SuspendedEV)."""
    original = station.proto.after_refresh

    def after_refresh(evse: Any, trigger: str | None) -> None:
        if evse.charging_state != "SuspendedEV":
            original(evse, trigger)

    station.proto.after_refresh = after_refresh  # type: ignore[method-assign]


def master_pass_unknown(station: SimStation) -> None:
    """The station ignores MasterPassGroupId: a master pass is an idToken like any other
    (C16)."""
    station._is_master_pass = lambda verdict: False  # type: ignore[method-assign]


def remote_authorization_never_disabled(station: SimStation) -> None:
    """AuthCtrlr.DisableRemoteAuthorization is accepted and ignored: the CSMS is still asked."""
    settings = station.authorizer.settings

    class Ignoring:
        disable_remote_authorization = False

        def __getattr__(self, name: str) -> Any:
            return getattr(settings, name)

    station.authorizer.settings = Ignoring()  # type: ignore[assignment]


def starts_for_any_token(station: SimStation) -> None:
    """Whatever the CSMS says, the idToken authorizes, and (TxStartPoint Authorized) a
    transaction starts at once."""
    accept_every_token(station)
    station.settings.set_actual("TxCtrlr", "TxStartPoint", "Authorized")  # type: ignore[attr-defined]


def master_pass_choice(stops: list[int] | None) -> Fault:
    """At the master pass screen, whatever the holder chooses, the station stops the
    transactions on ``stops`` (None: all) (C16.FR.01)."""
    def apply(station: SimStation) -> None:
        original = station.master_pass_choose

        def choose(evse_ids: Any) -> Gen:
            return (yield from original(stops))

        station.master_pass_choose = choose  # type: ignore[method-assign]
    return apply


FAULTS: dict[str, Fault] = {
    "TC_C_02_CS": accept_every_token,
    "TC_C_56_CS": accept_every_token,
    "TC_C_06_CS": accept_every_token,
    "TC_C_07_CS": accept_every_token,
    "TC_C_04_CS": any_accepted_token_stops,
    "TC_C_05_CS": starts_for_any_token,
    "TC_C_39_CS": group_never_stops,
    "TC_C_42_CS": group_stops_whatever_status,
    "TC_C_41_CS": group_never_stops,
    "TC_C_44_CS": group_stops_whatever_status,
    "TC_C_45_CS": master_pass_unknown,
    "TC_C_49_CS": master_pass_unknown,
    "TC_C_47_CS": master_pass_choice([1]),
    "TC_C_48_CS": master_pass_choice(None),
    "TC_E_03_CS": message_without("TransactionEvent", "idToken"),
    "TC_E_04_CS": authorization_lost_on_plug_in,
    "TC_E_05_CS": authorization_never_lapses,
    "TC_E_06_CS": starting_token_does_not_stop,
    "TC_E_38_CS": suspended_ev_unreported,
    "TC_E_52_CS": remote_authorization_never_disabled,
}
