"""What a simulated station knows about id tokens, and how it decides to authorize one.

* :class:`AuthorizationCache`: what the CSMS said about tokens lately (1.6 idTagInfo, 2.0.1
  idTokenInfo), learnt from every Authorize, StartTransaction, StopTransaction and
  TransactionEvent answer (:meth:`~AuthorizationCache.update_from`); entries expire at their
  expiry date (they then read as Expired) and after AuthCacheCtrlr.LifeTime; the least
  recently used goes when full. ClearCache is Rejected while the cache is disabled (C11.FR.04).
* :class:`LocalAuthList`: the list the CSMS installs with SendLocalList (Full / Differential),
  with its version (GetLocalListVersion). A Differential update needs a higher version
  (VersionMismatch otherwise, D01.FR.19); an entry without info removes the token; a Full update
  needs info for every entry; 2.0.1 refuses version 0 or less (D01.FR.18); duplicates, too many
  entries in one message or in the list fail the whole update. 1.6 without the
  LocalAuthListManagement profile answers NotSupported (version -1); a 2.0.1 list that is not
  enabled answers Failed (version 0, TC_D_10).
* :func:`decide` (and :class:`Authorizer` around it): may the station start for a token now,
  must it ask the CSMS, or must it refuse? The local list goes before the cache (TC_C_25).

Tokens compare case-insensitively (1.6 IdToken and 2.0.1 idToken are case-insensitive); in
2.0.1 the token type is part of the identity.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from chargeloop.ocppj.versions import OcppVersion
from csms.domain.timeutil import parse_timestamp

Token = str | Mapping[str, Any]  # a 1.6 idTag or a 2.0.1 IdTokenType
TokenKey = tuple[str, str | None]
ACCEPTED, EXPIRED = "Accepted", "Expired"
UNKNOWN = {OcppVersion.V16: "Invalid", OcppVersion.V201: "Unknown"}


class AuthSettings(Protocol):
    """The settings authorization reads (Configuration16 and DeviceModel201 provide them)."""

    @property
    def auth_enabled(self) -> bool: ...
    @property
    def cache_enabled(self) -> bool: ...
    @property
    def cache_lifetime_s(self) -> int | None: ...
    @property
    def cache_max_entries(self) -> int: ...
    @property
    def cache_disable_post_authorize(self) -> bool: ...
    @property
    def local_list_supported(self) -> bool: ...
    @property
    def local_list_enabled(self) -> bool: ...
    @property
    def local_list_max_length(self) -> int: ...
    @property
    def send_local_list_max_length(self) -> int: ...
    @property
    def local_list_disable_post_authorize(self) -> bool: ...
    @property
    def local_pre_authorize(self) -> bool: ...
    @property
    def local_authorize_offline(self) -> bool: ...
    @property
    def allow_offline_tx_for_unknown_id(self) -> bool: ...
    @property
    def disable_remote_authorization(self) -> bool: ...

    def note_local_list_entries(self, count: int) -> None: ...


def _version(version: str | OcppVersion) -> OcppVersion:
    parsed = version if isinstance(version, OcppVersion) else OcppVersion.parse(str(version))
    if parsed not in (OcppVersion.V16, OcppVersion.V201):
        raise ValueError(f"authorization for OCPP 1.6 and 2.0.1, not {parsed.short}")
    return parsed


def token_key(token: Token) -> TokenKey:
    if isinstance(token, str):
        return token.casefold(), None
    return str(token["idToken"]).casefold(), token.get("type")


@dataclass(frozen=True, slots=True)
class AuthEntry:
    """What the station knows about one token: the info as the CSMS sent it."""

    token: str
    token_type: str | None
    info: dict[str, Any]  # idTagInfo (1.6) or idTokenInfo (2.0.1)
    stored_at: datetime | None = None

    @property
    def status(self) -> str:
        return str(self.info["status"])

    @property
    def expiry(self) -> datetime | None:
        return parse_timestamp(self.info.get("expiryDate") or
                               self.info.get("cacheExpiryDateTime"))

    @property
    def group_id(self) -> str | None:
        """1.6 parentIdTag or 2.0.1 groupIdToken.idToken."""
        group = self.info.get("groupIdToken")
        if group is not None:
            return str(group["idToken"])
        parent = self.info.get("parentIdTag")
        return None if parent is None else str(parent)

    def status_at(self, now: datetime) -> str:
        """The status, Expired once the expiry date has passed."""
        expiry = self.expiry
        return EXPIRED if expiry is not None and expiry <= now else self.status

    def info_at(self, now: datetime) -> dict[str, Any]:
        status = self.status_at(now)
        return self.info if status == self.status else {**self.info, "status": status}


def _entry(token: Token, info: Mapping[str, Any], now: datetime | None) -> AuthEntry:
    if isinstance(token, str):
        return AuthEntry(token, None, dict(info), now)
    return AuthEntry(str(token["idToken"]), token.get("type"), dict(info), now)


# -- the authorization cache ------------------------------------------------------------------

class AuthorizationCache:
    """The station's authorization cache (1.6 3.5.1 / 2.0.1 C10, C11)."""

    def __init__(self, version: str | OcppVersion, settings: AuthSettings) -> None:
        self.version = _version(version)
        self.settings = settings
        self._entries: OrderedDict[TokenKey, AuthEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def update(self, token: Token, info: Mapping[str, Any], now: datetime) -> None:
        """Remember what the CSMS said about ``token`` (every status, not only Accepted)."""
        if not self.settings.cache_enabled:
            return
        if not isinstance(token, str) and token.get("type") == "NoAuthorization":
            return
        key = token_key(token)
        self._entries.pop(key, None)
        self._entries[key] = _entry(token, info, now)
        while len(self._entries) > max(self.settings.cache_max_entries, 0):
            self._entries.popitem(last=False)  # least recently used

    def update_from(self, action: str, request: Mapping[str, Any],
                    response: Mapping[str, Any], now: datetime) -> None:
        """Learn from a CSMS answer: Authorize, StartTransaction, StopTransaction (1.6) or
        Authorize, TransactionEvent (2.0.1). Answers without token info teach nothing."""
        if action not in ("Authorize", "StartTransaction", "StopTransaction",
                          "TransactionEvent"):
            return
        token = request.get("idTag") if self.version is OcppVersion.V16 \
            else request.get("idToken")
        info = response.get("idTagInfo") if self.version is OcppVersion.V16 \
            else response.get("idTokenInfo")
        if token is not None and info is not None:
            self.update(token, info, now)

    def lookup(self, token: Token, now: datetime) -> AuthEntry | None:
        """The entry for ``token`` (its status Expired once past its expiry date), None when
        unknown, out of its lifetime or the cache is disabled."""
        if not self.settings.cache_enabled:
            return None
        key = token_key(token)
        found = self._entries.get(key)
        if found is None:
            return None
        lifetime = self.settings.cache_lifetime_s
        if lifetime and found.stored_at is not None and \
                found.stored_at + timedelta(seconds=lifetime) <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return found

    def clear(self, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """ClearCache: Accepted and empty, or Rejected while the cache is disabled."""
        if not self.settings.cache_enabled:
            if self.version is OcppVersion.V16:
                return {"status": "Rejected"}
            return {"status": "Rejected", "statusInfo": {
                "reasonCode": "AuthCacheDisabled",
                "additionalInfo": "the authorization cache is disabled"}}
        self._entries.clear()
        return {"status": "Accepted"}


# -- the local authorization list -------------------------------------------------------------

class LocalAuthList:
    """The local authorization list (1.6 3.5.2 / 5.15, 2.0.1 D01, D02)."""

    def __init__(self, version: str | OcppVersion, settings: AuthSettings) -> None:
        self.version = _version(version)
        self.settings = settings
        self.version_number = 0  # 0: no list
        self._entries: dict[TokenKey, AuthEntry] = {}
        self.storage_failing = False  # a list cannot be stored (1.6 TC_043_3's prerequisite)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[AuthEntry]:
        return list(self._entries.values())

    @property
    def is_16(self) -> bool:
        return self.version is OcppVersion.V16

    def _status(self, status: str, reason: str | None = None,
                text: str | None = None) -> dict[str, Any]:
        if self.is_16 or reason is None:
            return {"status": status}
        return {"status": status, "statusInfo": {"reasonCode": reason,
                                                 "additionalInfo": text or reason}}

    def send(self, request: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
        """SendLocalList request in, response out. Nothing changes unless Accepted."""
        if not self.settings.local_list_supported:
            return self._status("NotSupported") if self.is_16 else \
                self._status("Failed", "NotSupported", "no local authorization list")
        if not self.is_16 and not self.settings.local_list_enabled:
            return self._status("Failed", "NotEnabled", "the local list is not enabled")
        if self.storage_failing:
            return self._status("Failed", "InternalError", "the list could not be stored")
        version = request["listVersion"] if self.is_16 else request["versionNumber"]
        items = request.get("localAuthorizationList") or []
        if version < (0 if self.is_16 else 1):
            return self._status("Failed", "InvalidValue", "versionNumber must be positive")
        if len(items) > self.settings.send_local_list_max_length:
            return self._status("Failed", "TooManyElements",
                                f"more than {self.settings.send_local_list_max_length} entries")
        token_field, info_field = ("idTag", "idTagInfo") if self.is_16 \
            else ("idToken", "idTokenInfo")
        keys = [token_key(item[token_field]) for item in items]
        if len(set(keys)) != len(keys):
            return self._status("Failed", "InvalidValue", "a token appears twice")
        if request["updateType"] == "Full":
            if any(item.get(info_field) is None for item in items):
                return self._status("Failed", "MissingParam",
                                    "a Full update needs info for every token")
            entries: dict[TokenKey, AuthEntry] = {}
        else:
            if version <= self.version_number:
                return self._status("VersionMismatch")
            entries = dict(self._entries)
        for key, item in zip(keys, items, strict=True):
            info = item.get(info_field)
            if info is None:
                entries.pop(key, None)
            else:
                entries[key] = _entry(item[token_field], info, now)
        if len(entries) > self.settings.local_list_max_length:
            return self._status("Failed", "TooManyElements",
                                f"the list holds at most {self.settings.local_list_max_length}")
        self._entries = entries
        self.version_number = version
        self.settings.note_local_list_entries(len(entries))
        return {"status": "Accepted"}

    def get_version(self, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GetLocalListVersion: 1.6 ``{listVersion}`` (-1 without local list support), 2.0.1
        ``{versionNumber}`` (0 when the list is not enabled)."""
        if self.is_16:
            supported = self.settings.local_list_supported
            return {"listVersion": self.version_number if supported else -1}
        enabled = self.settings.local_list_supported and self.settings.local_list_enabled
        return {"versionNumber": self.version_number if enabled else 0}

    def lookup(self, token: Token, now: datetime | None = None) -> AuthEntry | None:
        """The list's entry for ``token``; None when not listed or the list is not in use."""
        if not (self.settings.local_list_supported and self.settings.local_list_enabled):
            return None
        return self._entries.get(token_key(token))


# -- deciding ---------------------------------------------------------------------------------

class Decision(StrEnum):
    ACCEPT = "Accept"  # start now: authorized locally (or authorization is off)
    ASK_CSMS = "AskCsms"  # send Authorize and act on the answer
    REJECT = "Reject"  # do not start


@dataclass(frozen=True, slots=True)
class AuthResult:
    decision: Decision
    info: dict[str, Any] | None  # the idTagInfo / idTokenInfo to act on (None: ask)
    source: str  # LocalList, Cache, UnknownOffline, AuthDisabled, Unknown, Csms
    offline: bool = False

    @property
    def group_id(self) -> str | None:
        if self.info is None:
            return None
        return AuthEntry("", None, self.info).group_id


def decide(token: Token, *, online: bool, settings: AuthSettings, local_list: LocalAuthList,
           cache: AuthorizationCache, now: datetime) -> AuthResult:
    """May the station start for ``token`` now (1.6 3.5 "Local Authorization & Offline
    Behavior", 2.0.1 C01/C10/C12-C15)?

    Online: a token the local list (first) or the cache knows as Accepted starts at once when
    LocalPreAuthorize is set; one known with another status is refused at once only when post
    authorization is disabled (AuthCacheCtrlr / LocalAuthListCtrlr.DisablePostAuthorize);
    anything else is asked of the CSMS. Offline: a token known as Accepted starts when
    LocalAuthorizeOffline is set; one known with another status (Blocked, Expired ...) is
    refused; any other token starts only when AllowOfflineTxForUnknownId is set. With 2.0.1
    DisableRemoteAuthorization the CSMS is never asked: online too, the list and the cache
    decide and an unknown token is refused.
    """
    version = local_list.version
    if not settings.auth_enabled:
        return AuthResult(Decision.ACCEPT, {"status": ACCEPTED}, "AuthDisabled", not online)
    entry, source = local_list.lookup(token, now), "LocalList"
    if entry is None:
        entry, source = cache.lookup(token, now), "Cache"
    accepted = entry is not None and entry.status_at(now) == ACCEPTED
    if online and settings.disable_remote_authorization:
        # 2.0.1 AuthCtrlr.DisableRemoteAuthorization: no AuthorizeRequest at all, the list
        # and the cache decide alone (an unknown token is refused)
        if accepted:
            return AuthResult(Decision.ACCEPT, entry.info_at(now), source)  # type: ignore[union-attr]
        info = entry.info_at(now) if entry is not None else {"status": UNKNOWN[version]}
        return AuthResult(Decision.REJECT, info, source if entry is not None else "Unknown")
    if online:
        if entry is not None and settings.local_pre_authorize:
            if accepted:
                return AuthResult(Decision.ACCEPT, entry.info_at(now), source)
            no_post = settings.local_list_disable_post_authorize if source == "LocalList" \
                else settings.cache_disable_post_authorize
            if no_post:
                return AuthResult(Decision.REJECT, entry.info_at(now), source)
        return AuthResult(Decision.ASK_CSMS, None, "Csms")
    if entry is not None:
        if accepted and settings.local_authorize_offline:
            return AuthResult(Decision.ACCEPT, entry.info_at(now), source, True)
        if not accepted:
            return AuthResult(Decision.REJECT, entry.info_at(now), source, True)
    if settings.allow_offline_tx_for_unknown_id:
        return AuthResult(Decision.ACCEPT, {"status": ACCEPTED}, "UnknownOffline", True)
    return AuthResult(Decision.REJECT, {"status": UNKNOWN[version]}, "Unknown", True)


class Authorizer:
    """:func:`decide` bound to one station's settings, list and cache."""

    def __init__(self, settings: AuthSettings, local_list: LocalAuthList,
                 cache: AuthorizationCache) -> None:
        self.settings = settings
        self.local_list = local_list
        self.cache = cache

    def decide(self, token: Token, *, online: bool, now: datetime) -> AuthResult:
        return decide(token, online=online, settings=self.settings,
                      local_list=self.local_list, cache=self.cache, now=now)

    def remember(self, action: str, request: Mapping[str, Any], response: Mapping[str, Any],
                 now: datetime) -> None:
        """Feed a CSMS answer to the cache (see :meth:`AuthorizationCache.update_from`)."""
        self.cache.update_from(action, request, response, now)


def csms_result(info: Mapping[str, Any]) -> AuthResult:
    """The CSMS's answer to an Authorize as an :class:`AuthResult` (for uniform handling)."""
    decision = Decision.ACCEPT if info.get("status") == ACCEPTED else Decision.REJECT
    return AuthResult(decision, dict(info), "Csms")


__all__ = ["AuthEntry", "AuthResult", "AuthSettings", "AuthorizationCache", "Authorizer",
           "Decision", "LocalAuthList", "Token", "TokenKey", "csms_result", "decide",
           "token_key"]
