"""Authorization cache, local authorization list and the authorization decision (1.6 3.5 and
5.x, 2.0.1 blocks C and D), every response checked against the official schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargeloop.ocppj import Direction, OcppVersion, validate
from simulator.station.auth_store import (
    AuthorizationCache,
    Authorizer,
    Decision,
    LocalAuthList,
    csms_result,
)
from simulator.station.settings import SettingsSeed, StationSettings, settings_for
from simulator.station.smart_charging import iso_utc

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
VERSIONS = ["1.6", "2.0.1"]


def check(version: str, action: str, payload: dict[str, Any],
          direction: Direction = Direction.RESPONSE) -> dict[str, Any]:
    validate(OcppVersion.parse(version), action, direction, payload)
    return payload


def token(version: str, text: str, kind: str = "ISO14443") -> Any:
    return text if version == "1.6" else {"idToken": text, "type": kind}


def info(version: str, status: str, *, expiry: datetime | None = None,
         group: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"status": status}
    if expiry is not None:
        data["expiryDate" if version == "1.6" else "cacheExpiryDateTime"] = iso_utc(expiry)
    if group is not None:
        data["parentIdTag" if version == "1.6" else "groupIdToken"] = \
            group if version == "1.6" else {"idToken": group, "type": "Central"}
    return data


def entry(version: str, text: str, data: dict[str, Any] | None) -> dict[str, Any]:
    if version == "1.6":
        return {"idTag": text, **({"idTagInfo": data} if data else {})}
    return {"idToken": token(version, text), **({"idTokenInfo": data} if data else {})}


def send(auth_list: LocalAuthList, version: str, number: int, update: str,
         entries: list[dict[str, Any]]) -> str:
    request: dict[str, Any] = {"listVersion" if version == "1.6" else "versionNumber": number,
                               "updateType": update}
    if entries:
        request["localAuthorizationList"] = entries
    check(version, "SendLocalList", request, Direction.REQUEST)
    return str(check(version, "SendLocalList", auth_list.send(request, NOW))["status"])


def list_version(auth_list: LocalAuthList, version: str) -> int:
    answer = check(version, "GetLocalListVersion", auth_list.get_version({}))
    return int(answer["listVersion" if version == "1.6" else "versionNumber"])


def world(version: str, **seed: Any) -> tuple[StationSettings, LocalAuthList,
                                              AuthorizationCache, Authorizer]:
    settings = settings_for(version, SettingsSeed(**seed))
    auth_list, cache = LocalAuthList(version, settings), AuthorizationCache(version, settings)
    return settings, auth_list, cache, Authorizer(settings, auth_list, cache)


# -- the cache -----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_cache_learns_from_every_answer_with_token_info(version: str) -> None:
    """TC_C_33 / TC_C_34: the cache is updated from Authorize and transaction answers."""
    _, _, cache, _ = world(version)
    if version == "1.6":
        exchanges = [
            ("Authorize", {"idTag": "AAA"}, {"idTagInfo": info(version, "Accepted")}),
            ("StartTransaction", {"connectorId": 1, "idTag": "BBB", "meterStart": 0,
                                  "timestamp": iso_utc(NOW)},
             {"transactionId": 1, "idTagInfo": info(version, "Blocked")}),
            ("StopTransaction", {"idTag": "CCC", "meterStop": 10, "timestamp": iso_utc(NOW),
                                 "transactionId": 1},
             {"idTagInfo": info(version, "Expired")}),
            ("Heartbeat", {}, {"currentTime": iso_utc(NOW)}),
        ]
    else:
        event = {"eventType": "Started", "timestamp": iso_utc(NOW), "triggerReason": "Authorized",
                 "seqNo": 0, "transactionInfo": {"transactionId": "t1"}}
        exchanges = [
            ("Authorize", {"idToken": token(version, "AAA")},
             {"idTokenInfo": info(version, "Accepted")}),
            ("TransactionEvent", {**event, "idToken": token(version, "BBB")},
             {"idTokenInfo": info(version, "Blocked")}),
            ("TransactionEvent", {**event, "idToken": token(version, "CCC")},
             {"idTokenInfo": info(version, "Expired")}),
            ("TransactionEvent", event, {}),  # no token info: nothing learnt
        ]
    for action, request, response in exchanges:
        check(version, action, request, Direction.REQUEST)
        check(version, action, response)
        cache.update_from(action, request, response, NOW)
    assert len(cache) == 3
    statuses = {t: cache.lookup(token(version, t), NOW).status  # type: ignore[union-attr]
                for t in ("AAA", "BBB", "CCC")}
    assert statuses == {"AAA": "Accepted", "BBB": "Blocked", "CCC": "Expired"}
    assert cache.lookup(token(version, "aaa"), NOW) is not None  # case-insensitive
    if version == "2.0.1":  # the token type is part of the identity
        assert cache.lookup(token(version, "AAA", "KeyCode"), NOW) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_cache_expiry_lifetime_and_size(version: str) -> None:
    """Entries read Expired past their expiry date; AuthCacheCtrlr.LifeTime ends them (TC_C_46);
    the least recently used goes first when the cache is full."""
    _, _, cache, _ = world(version, cache_lifetime_s=3600, cache_max_entries=2)
    cache.update(token(version, "A"), info(version, "Accepted",
                                           expiry=NOW + timedelta(minutes=10)), NOW)
    assert cache.lookup(token(version, "A"), NOW).status_at(NOW) == "Accepted"  # type: ignore
    later = NOW + timedelta(minutes=11)
    found = cache.lookup(token(version, "A"), later)
    assert found is not None and found.status_at(later) == "Expired"
    assert found.info_at(later)["status"] == "Expired"
    cache.update(token(version, "B"), info(version, "Accepted"), NOW)
    cache.lookup(token(version, "A"), NOW)  # A is used: B is now the least recent
    cache.update(token(version, "C"), info(version, "Accepted"), NOW)
    assert cache.lookup(token(version, "B"), NOW) is None
    assert cache.lookup(token(version, "A"), NOW) is not None
    # the lifetime (2.0.1 AuthCacheCtrlr.LifeTime; 1.6 has no key, the seed decides)
    assert cache.lookup(token(version, "C"), NOW + timedelta(minutes=59)) is not None
    assert cache.lookup(token(version, "C"), NOW + timedelta(hours=1)) is None
    if version == "1.6":  # without a lifetime, entries live until their expiry or eviction
        _, _, forever, _ = world(version)
        forever.update(token(version, "C"), info(version, "Accepted"), NOW)
        assert forever.lookup(token(version, "C"), NOW + timedelta(days=300)) is not None


@pytest.mark.parametrize("version", VERSIONS)
def test_clear_cache_accepted_or_rejected_when_disabled(version: str) -> None:
    """TC_C_37 / TC_C_38 (C11.FR.04)."""
    _, _, cache, _ = world(version)
    cache.update(token(version, "A"), info(version, "Accepted"), NOW)
    check(version, "ClearCache", {}, Direction.REQUEST)
    assert check(version, "ClearCache", cache.clear({})) == {"status": "Accepted"}
    assert len(cache) == 0
    _, _, disabled, _ = world(version, cache_enabled=False)
    disabled.update(token(version, "A"), info(version, "Accepted"), NOW)
    assert len(disabled) == 0 and disabled.lookup(token(version, "A"), NOW) is None
    assert check(version, "ClearCache", disabled.clear({}))["status"] == "Rejected"


# -- the local list ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_full_and_differential_updates(version: str) -> None:
    """TC_D_01 Full, TC_D_02 Differential update, TC_D_03 Differential remove, TC_D_04 Full with
    an empty list, TC_D_05 Differential with an empty list, TC_D_06 VersionMismatch, TC_D_08."""
    _, auth_list, _, _ = world(version)
    assert list_version(auth_list, version) == 0
    assert send(auth_list, version, 5, "Full", [
        entry(version, "A", info(version, "Accepted")),
        entry(version, "B", info(version, "Blocked", group="G1"))]) == "Accepted"
    assert list_version(auth_list, version) == 5 and len(auth_list) == 2
    assert auth_list.lookup(token(version, "b")).group_id == "G1"  # type: ignore[union-attr]
    assert send(auth_list, version, 6, "Differential", [
        entry(version, "C", info(version, "Accepted")),
        entry(version, "A", info(version, "Invalid")),
        entry(version, "B", None)]) == "Accepted"
    assert {e.token: e.status for e in auth_list.entries()} == {"A": "Invalid", "C": "Accepted"}
    # a Differential update must raise the version: lower or equal is a mismatch, nothing changes
    for stale in (5, 6):
        assert send(auth_list, version, stale, "Differential",
                    [entry(version, "D", info(version, "Accepted"))]) == "VersionMismatch"
    assert list_version(auth_list, version) == 6 and len(auth_list) == 2
    assert send(auth_list, version, 7, "Differential", []) == "Accepted"
    assert list_version(auth_list, version) == 7 and len(auth_list) == 2
    # a Full update replaces, whatever the version
    assert send(auth_list, version, 3, "Full", [entry(version, "E", info(version, "Accepted"))]
                ) == "Accepted"
    assert [e.token for e in auth_list.entries()] == ["E"] and list_version(auth_list, version) == 3
    assert send(auth_list, version, 4, "Full", []) == "Accepted"
    assert len(auth_list) == 0 and list_version(auth_list, version) == 4


@pytest.mark.parametrize("version", VERSIONS)
def test_updates_that_fail_change_nothing(version: str) -> None:
    _, auth_list, _, _ = world(version, local_list_max_length=3, send_local_list_max_length=2)
    assert send(auth_list, version, 1, "Full", [entry(version, "A", info(version, "Accepted"))]
                ) == "Accepted"
    failing = [
        (2, "Full", [entry(version, "B", None)]),  # a Full update needs every token's info
        (2, "Full", [entry(version, "B", info(version, "Accepted")),
                     entry(version, "b", info(version, "Blocked"))]),  # duplicate
        (2, "Differential", [entry(version, x, info(version, "Accepted"))
                             for x in "BCD"]),  # more than SendLocalListMaxLength
    ]
    for number, update, entries in failing:
        assert send(auth_list, version, number, update, entries) == "Failed"
    assert send(auth_list, version, 2, "Differential",
                [entry(version, x, info(version, "Accepted")) for x in "BC"]) == "Accepted"
    assert send(auth_list, version, 3, "Differential",
                [entry(version, "D", info(version, "Accepted"))]) == "Failed"  # list is full
    assert list_version(auth_list, version) == 2 and len(auth_list) == 3


def test_version_rules_per_version() -> None:
    """2.0.1: versionNumber 0 fails (D01.FR.18); not enabled: Failed and version 0 (TC_D_10).
    1.6: without the LocalAuthListManagement profile NotSupported and version -1."""
    settings, auth_list, _, _ = world("2.0.1")
    assert send(auth_list, "2.0.1", 0, "Full", []) == "Failed"
    assert send(auth_list, "2.0.1", 2, "Full", [entry("2.0.1", "A", info("2.0.1", "Accepted"))]
                ) == "Accepted"
    assert settings.typed("local_list_enabled") is True
    [result] = settings.set_variables({"setVariableData": [{  # type: ignore[attr-defined]
        "component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": "Enabled"},
        "attributeValue": "false"}]})["setVariableResult"]
    assert result["attributeStatus"] == "Accepted"
    assert list_version(auth_list, "2.0.1") == 0
    assert send(auth_list, "2.0.1", 3, "Full", []) == "Failed"
    assert auth_list.lookup(token("2.0.1", "A")) is None  # a disabled list is not used
    _, unsupported, _, _ = world("1.6", features=("Core",))
    assert send(unsupported, "1.6", 1, "Full", []) == "NotSupported"
    assert list_version(unsupported, "1.6") == -1
    _, disabled16, _, _ = world("1.6", local_list_enabled=False)
    assert send(disabled16, "1.6", 1, "Full", [entry("1.6", "A", info("1.6", "Accepted"))]
                ) == "Accepted"  # 1.6 keeps the list up to date even while not using it
    assert list_version(disabled16, "1.6") == 1 and disabled16.lookup("A") is None


def test_device_model_reports_the_number_of_entries() -> None:
    settings, auth_list, _, _ = world("2.0.1")
    send(auth_list, "2.0.1", 1, "Full", [entry("2.0.1", x, info("2.0.1", "Accepted"))
                                         for x in "ABC"])
    [result] = settings.get_variables({"getVariableData": [  # type: ignore[attr-defined]
        {"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": "Entries"}}]}
    )["getVariableResult"]
    assert result["attributeValue"] == "3"


# -- deciding ------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_online_decisions(version: str) -> None:
    """Online: LocalPreAuthorize starts from list or cache (TC_C_08, TC_C_27); otherwise, or for
    a token known with another status, the CSMS is asked (TC_C_28, TC_C_31), unless post
    authorization is disabled (TC_C_57)."""
    _, auth_list, cache, authorizer = world(version, local_pre_authorize=True)
    send(auth_list, version, 1, "Full", [entry(version, "LIST-OK", info(version, "Accepted")),
                                         entry(version, "LIST-BAD", info(version, "Invalid"))])
    cache.update(token(version, "CACHE-OK"), info(version, "Accepted", group="G"), NOW)
    cache.update(token(version, "OLD"), info(version, "Accepted",
                                             expiry=NOW - timedelta(days=1)), NOW)

    def decide(text: str) -> tuple[Decision, str]:
        result = authorizer.decide(token(version, text), online=True, now=NOW)
        return result.decision, result.source

    assert decide("LIST-OK") == (Decision.ACCEPT, "LocalList")
    assert decide("CACHE-OK") == (Decision.ACCEPT, "Cache")
    assert authorizer.decide(token(version, "CACHE-OK"), online=True, now=NOW).group_id == "G"
    assert decide("LIST-BAD") == (Decision.ASK_CSMS, "Csms")
    assert decide("OLD") == (Decision.ASK_CSMS, "Csms")  # expired in the cache
    assert decide("NEW") == (Decision.ASK_CSMS, "Csms")
    strict = world(version, local_pre_authorize=True, disable_post_authorize=True)
    send(strict[1], version, 1, "Full", [entry(version, "LIST-BAD", info(version, "Blocked"))])
    strict[2].update(token(version, "OLD"), info(version, "Accepted",
                                                 expiry=NOW - timedelta(days=1)), NOW)
    refused = strict[3].decide(token(version, "LIST-BAD"), online=True, now=NOW)
    assert (refused.decision, refused.info) == (Decision.REJECT, {"status": "Blocked"})
    expired = strict[3].decide(token(version, "OLD"), online=True, now=NOW)
    assert expired.decision is Decision.REJECT
    assert expired.info == {"status": "Expired", **({"expiryDate": iso_utc(NOW - timedelta(days=1))}
                                                   if version == "1.6" else
                                                   {"cacheExpiryDateTime":
                                                    iso_utc(NOW - timedelta(days=1))})}
    # without LocalPreAuthorize everything is asked online (C12 precondition)
    _, _, cache2, asking = world(version)
    cache2.update(token(version, "CACHE-OK"), info(version, "Accepted"), NOW)
    assert asking.decide(token(version, "CACHE-OK"), online=True, now=NOW).decision is \
        Decision.ASK_CSMS


@pytest.mark.parametrize("version", VERSIONS)
def test_offline_decisions(version: str) -> None:
    """Offline: LocalAuthorizeOffline with list or cache (TC_C_21, TC_C_12); a token the list
    knows as not Accepted is refused even when the cache says Accepted (TC_C_22..25);
    unknown tokens only with AllowOfflineTxForUnknownId (TC_C_26, 1.6 TC_039)."""
    settings, auth_list, cache, authorizer = world(version)
    send(auth_list, version, 1, "Full", [entry(version, "LIST-OK", info(version, "Accepted")),
                                         entry(version, "BLOCKED", info(version, "Blocked"))])
    cache.update(token(version, "BLOCKED"), info(version, "Accepted"), NOW)
    cache.update(token(version, "CACHE-OK"), info(version, "Accepted"), NOW)
    cache.update(token(version, "EXPIRED"), info(version, "Accepted",
                                                 expiry=NOW - timedelta(hours=1)), NOW)

    def decide(text: str, via: Authorizer = authorizer) -> tuple[Decision, str, str]:
        result = via.decide(token(version, text), online=False, now=NOW)
        assert result.offline
        return result.decision, result.source, result.info["status"]  # type: ignore[index]

    unknown = "Invalid" if version == "1.6" else "Unknown"
    assert decide("LIST-OK") == (Decision.ACCEPT, "LocalList", "Accepted")
    assert decide("CACHE-OK") == (Decision.ACCEPT, "Cache", "Accepted")
    assert decide("BLOCKED") == (Decision.REJECT, "LocalList", "Blocked")
    assert decide("EXPIRED") == (Decision.REJECT, "Cache", "Expired")
    assert decide("STRANGER") == (Decision.REJECT, "Unknown", unknown)
    # allowing unknown ids lets strangers in, never tokens known to be refused
    generous = Authorizer(SettingsWith(settings, allow_offline_tx_for_unknown_id=True),
                          auth_list, cache)
    assert decide("STRANGER", generous) == (Decision.ACCEPT, "UnknownOffline", "Accepted")
    assert decide("BLOCKED", generous)[0] is Decision.REJECT
    # without LocalAuthorizeOffline, known tokens count as unknown
    no_local = Authorizer(SettingsWith(settings, local_authorize_offline=False), auth_list,
                          cache)
    assert decide("LIST-OK", no_local) == (Decision.REJECT, "Unknown", unknown)
    both = Authorizer(SettingsWith(settings, local_authorize_offline=False,
                                   allow_offline_tx_for_unknown_id=True), auth_list, cache)
    assert decide("LIST-OK", both) == (Decision.ACCEPT, "UnknownOffline", "Accepted")


def test_authorization_disabled_accepts_everything() -> None:
    authorizer = world("2.0.1", auth_enabled=False)[3]
    for online in (True, False):
        result = authorizer.decide(token("2.0.1", "ANY"), online=online, now=NOW)
        assert (result.decision, result.source) == (Decision.ACCEPT, "AuthDisabled")


def test_csms_answers_feed_the_cache_and_decisions() -> None:
    authorizer = world("1.6", local_pre_authorize=True)[3]
    first = authorizer.decide("TAG-1", online=True, now=NOW)
    assert first.decision is Decision.ASK_CSMS
    answer = {"idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}}
    authorizer.remember("Authorize", {"idTag": "TAG-1"}, answer, NOW)
    assert csms_result(answer["idTagInfo"]).decision is Decision.ACCEPT
    assert csms_result({"status": "Blocked"}).decision is Decision.REJECT
    again = authorizer.decide("tag-1", online=True, now=NOW)
    assert (again.decision, again.source, again.group_id) == (Decision.ACCEPT, "Cache", "FLEET")


class SettingsWith:
    """``settings`` with some properties replaced (a test double for what-if decisions)."""

    def __init__(self, settings: StationSettings, **overrides: Any) -> None:
        self._settings = settings
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._settings, name)



@pytest.mark.parametrize("version", VERSIONS)
def test_a_list_the_station_cannot_store_fails_and_keeps_the_old_one(version: str) -> None:
    """1.6 TC_043_3: in a state where it cannot store a list, SendLocalList is Failed and the
    list and its version stay as they were."""
    _, auth_list, _, _ = world(version, local_list_enabled=True)
    assert send(auth_list, version, 1, "Full", [entry(version, "TAG-1", info(version,
                                                                              "Accepted"))]) \
        == "Accepted"
    auth_list.storage_failing = True
    assert send(auth_list, version, 2, "Full", [entry(version, "TAG-2", info(version,
                                                                              "Accepted"))]) \
        == "Failed"
    assert list_version(auth_list, version) == 1
    assert [e.token for e in auth_list.entries()] == ["TAG-1"]
