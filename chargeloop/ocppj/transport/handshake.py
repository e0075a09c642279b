"""The OCPP-J opening-handshake policy, independent of the server that runs it.

Who may connect (identity from the path, HTTP Basic auth, client certificate CN, known stations)
and which version is spoken. The websockets server (``websocket.py``) and the reference CSMS's
ASGI endpoint apply the same policy, so both refuse and negotiate alike.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from chargeloop.ocppj.versions import ALL_VERSIONS, OcppVersion

log = logging.getLogger("chargeloop.ocppj.handshake")

# (identity, password or None when no Basic auth was sent) -> allowed?
PasswordCheck = Callable[[str, str | None], bool | Awaitable[bool]]
IdentityCheck = Callable[[str], bool | Awaitable[bool]]

NO_SUBPROTOCOL_CLOSE = 1002  # protocol error: no OCPP version in common


def identity_from_path(path: str) -> str:
    """The station identity: the last non-empty path segment, percent-decoded."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    return unquote(segments[-1]) if segments else ""


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` value, or None if absent or broken."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


@dataclass(frozen=True, slots=True)
class Admitted:
    identity: str
    basic_auth_user: str | None
    client_certificate_cn: str | None


@dataclass(frozen=True, slots=True)
class Refused:
    status: HTTPStatus
    reason: str
    headers: tuple[tuple[str, str], ...] = ()


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@dataclass(frozen=True)
class HandshakePolicy:
    """``versions`` in order of preference; ``check_password(identity, password)`` turns on
    HTTP Basic auth (it gets ``None`` when the station sent none, so a policy can let stations
    without a password in); ``known_identity`` answers 404 for unknown stations; with
    ``require_certificate_identity`` the client certificate's CN must be the identity."""

    versions: Sequence[OcppVersion] = ALL_VERSIONS
    check_password: PasswordCheck | None = None
    known_identity: IdentityCheck | None = None
    require_certificate_identity: bool = False

    @property
    def subprotocols(self) -> list[str]:
        return [v.value for v in self.versions]

    def select_version(self, offered: Sequence[str]) -> OcppVersion | None:
        """The most preferred version the client offers; None when there is none in common
        (OCPP-J: the handshake then completes without the header and the server closes)."""
        for version in self.versions:
            if version.value in offered:
                return version
        return None

    async def admit(self, path: str, headers: Mapping[str, str],
                    certificate_cn: str | None) -> Admitted | Refused:
        identity = identity_from_path(path)
        if not identity:
            return Refused(HTTPStatus.NOT_FOUND, "no station identity in the path")
        if self.known_identity is not None and not await _maybe_await(
                self.known_identity(identity)):
            log.info("refused unknown station %r", identity)
            return Refused(HTTPStatus.NOT_FOUND, f"unknown station {identity}")
        user = None
        if self.check_password is not None:
            credentials = basic_credentials(headers.get("Authorization"))
            password = credentials[1] if credentials is not None else None
            refusal = None
            if credentials is not None and credentials[0] != identity:
                refusal = "Basic auth username must be the station identity"
            elif not await _maybe_await(self.check_password(identity, password)):
                refusal = ("HTTP Basic authentication required" if password is None
                           else "wrong password")
            if refusal is not None:
                log.warning("refused %r at the handshake: %s", identity, refusal)
                return Refused(HTTPStatus.UNAUTHORIZED, refusal,
                               (("WWW-Authenticate", 'Basic realm="OCPP", charset="UTF-8"'),))
            user = credentials[0] if credentials is not None else None
        if self.require_certificate_identity and certificate_cn != identity:
            log.warning("refused %r: client certificate CN is %r", identity, certificate_cn)
            return Refused(HTTPStatus.FORBIDDEN, "client certificate does not name this station")
        return Admitted(identity, user, certificate_cn)


def common_name(peer_certificate: Mapping[str, Any] | None) -> str | None:
    """The subject CN of a certificate as ``ssl.SSLSocket.getpeercert()`` returns it."""
    if not peer_certificate:
        return None
    for rdn in peer_certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def no_version_reason(offered: str | None, policy: HandshakePolicy) -> str:
    return (f"no common OCPP version: offered {offered or '(none)'}; "
            f"supported {','.join(policy.subprotocols)}")[:120]
