"""Faulty-station variants for OCPP 2.0.1 Authorization Cache cases (area: auth_cache): case
id -> the fault that breaks the rule the case checks (merged into ``faulty_station.FAULTS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.station import SimStation
from simulator.station.auth_store import AuthEntry, AuthResult, Decision, token_key
from tests.conformance.station.fault_kit import (
    Fault,
    accept_every_token,
    answer,
    deciding,
    ignored,
    with_fields,
)
from tests.conformance.station.faults_v201_lal_res import always_asks

CacheRule = Callable[[AuthResult, AuthEntry | None, bool], AuthResult]


def _with_cache(change: CacheRule) -> Fault:
    """The authorization decision changed by ``change(result, cached entry, online)``."""
    def apply(station: SimStation) -> None:
        authorizer = station.authorizer
        original = authorizer.decide

        def decide(token: Any, *, online: bool, now: Any) -> AuthResult:
            result = original(token, online=online, now=now)
            return change(result, authorizer.cache.lookup(token, now), online)

        authorizer.decide = decide  # type: ignore[method-assign]
    return apply


def _accepted(entry: AuthEntry | None) -> bool:
    return entry is not None and entry.status == "Accepted"


# online, a cached idToken that is not Accepted is refused without asking the CSMS
# (AuthCacheCtrlr.DisablePostAuthorize false ignored)
no_post_authorize = _with_cache(
    lambda result, entry, online: AuthResult(Decision.REJECT, entry.info, "Cache")
    if online and entry is not None and not _accepted(entry)
    and result.decision is Decision.ASK_CSMS else result)
# online, a cached idToken that is not Accepted is asked of the CSMS although
# AuthCacheCtrlr.DisablePostAuthorize is true
post_authorize_anyway = deciding(
    lambda result, online: AuthResult(Decision.ASK_CSMS, None, "Csms")
    if online and result.decision is Decision.REJECT and result.source == "Cache" else result)
# online, a cached Accepted idToken starts at once although LocalPreAuthorize is false
pre_authorize_anyway = _with_cache(
    lambda result, entry, online: AuthResult(Decision.ACCEPT, entry.info, "Cache")
    if online and _accepted(entry) and result.decision is Decision.ASK_CSMS else result)
# offline, an unknown idToken is refused although OfflineTxForUnknownIdEnabled is true
unknown_refused_offline = deciding(
    lambda result, online: AuthResult(Decision.REJECT, {"status": "Unknown"}, "Unknown", True)
    if not online and result.source == "UnknownOffline" else result)


def not_learning_from(action: str) -> Fault:
    """The cache ignores the idTokenInfo of the CSMS's ``action`` answers."""
    def apply(station: SimStation) -> None:
        authorizer = station.authorizer
        original = authorizer.remember

        def remember(name: str, request: Any, response: Any, now: Any) -> None:
            if name != action:
                original(name, request, response, now)

        authorizer.remember = remember  # type: ignore[method-assign]
    return apply


def cache_lost_on_reboot(station: SimStation) -> None:
    """The cache lives in volatile memory: a reboot empties it."""
    original = station._reboot

    def reboot(kind: str, boot_reason: str | None = None) -> Any:
        station.auth_cache._entries.clear()
        return (yield from original(kind, boot_reason))

    station._reboot = reboot  # type: ignore[method-assign]


def lifetime_ignored(station: SimStation) -> None:
    """A cache entry never expires by AuthCacheCtrlr.LifeTime."""
    cache = station.auth_cache

    def lookup(token: Any, now: Any) -> AuthEntry | None:
        return cache._entries.get(token_key(token)) if cache.settings.cache_enabled else None

    cache.lookup = lookup  # type: ignore[method-assign]


def refused_as_if_stop_is(stop: Callable[[SimStation], bool]) -> Fault:
    """When the CSMS refuses a running transaction's idToken, the station acts as if
    TxCtrlr.StopTxOnInvalidId were ``stop(station)``."""
    def apply(station: SimStation) -> None:
        original = station.id_not_accepted

        def id_not_accepted(evse: Any, tx: Any, status: str) -> None:
            settings = station.settings
            settings.__dict__["stop_tx_on_invalid_id"] = stop(station)  # shadows the setting
            try:
                original(evse, tx, status)
            finally:
                del settings.__dict__["stop_tx_on_invalid_id"]

        station.id_not_accepted = id_not_accepted  # type: ignore[method-assign]
    return apply


def energy_on_after_refusal(station: SimStation) -> None:
    """When the CSMS refuses a running transaction's idToken, nothing changes: energy flows
    on (StopTxOnInvalidId false and MaxEnergyOnInvalidId 0 ignored)."""
    station.id_not_accepted = lambda evse, tx, status: None  # type: ignore[method-assign]


FAULTS: dict[str, Fault] = {
    # C12 authorization through the cache
    "TC_C_08_CS": always_asks,
    "TC_C_13_CS": always_asks,
    "TC_C_09_CS": no_post_authorize,
    "TC_C_10_CS": accept_every_token,
    "TC_C_11_CS": accept_every_token,
    "TC_C_12_CS": no_post_authorize,
    "TC_C_57_CS": post_authorize_anyway,
    # StopTxOnInvalidId / MaxEnergyOnInvalidId
    "TC_C_15_CS": refused_as_if_stop_is(lambda station: True),
    "TC_C_16_CS": refused_as_if_stop_is(lambda station: False),
    "TC_C_17_CS": energy_on_after_refusal,
    # MaxEnergyOnInvalidId taken to go before StopTxOnInvalidId
    "TC_C_18_CS": refused_as_if_stop_is(
        lambda station: not station.settings.max_energy_on_invalid_id_wh),
    # C10 storing, C11 clearing, C15 unknown offline
    "TC_C_32_CS": cache_lost_on_reboot,
    "TC_C_33_CS": not_learning_from("Authorize"),
    "TC_C_34_CS": not_learning_from("TransactionEvent"),
    "TC_C_36_CS": pre_authorize_anyway,
    "TC_C_46_CS": lifetime_ignored,
    "TC_C_37_CS": ignored("ClearCache", {"status": "Accepted"}),
    "TC_C_38_CS": answer("ClearCache", with_fields(status="Accepted")),
    "TC_C_26_CS": unknown_refused_offline,
}
