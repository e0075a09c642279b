"""CALLERROR codes per OCPP version, and the exceptions that carry them.

OCPP-J 1.6 keeps two misspelled codes (``FormationViolation``, ``OccurenceConstraintViolation``)
as known issues that will never be fixed, so on 1.6 connections they must be sent as written.
Code inside chargeloop names errors by :class:`ErrorKind` and lets :func:`error_code` spell them
for the connection's version.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from chargeloop.ocppj.versions import OcppVersion


class ErrorKind(Enum):
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMAT_VIOLATION = "FormatViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"  # 2.0.1 and later
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"  # 2.0.1 and later


_V16_SPELLING = {
    ErrorKind.FORMAT_VIOLATION: "FormationViolation",
    ErrorKind.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurenceConstraintViolation",
    # 1.6 has neither of the 2.x framework codes; ProtocolError is its nearest meaning.
    ErrorKind.RPC_FRAMEWORK_ERROR: "ProtocolError",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "ProtocolError",
}


def error_code(kind: ErrorKind, version: OcppVersion) -> str:
    """The errorCode string for ``kind`` as ``version`` spells it."""
    if version is OcppVersion.V16:
        return _V16_SPELLING.get(kind, kind.value)
    return kind.value


def valid_error_codes(version: OcppVersion) -> frozenset[str]:
    """Every errorCode a peer of ``version`` may legally send."""
    return frozenset(error_code(kind, version) for kind in ErrorKind)


def error_kind(code: str) -> ErrorKind | None:
    """Read an errorCode of any version back into its kind (``None`` if it is no OCPP code)."""
    for kind in ErrorKind:
        if code == kind.value:
            return kind
    for kind, spelled in _V16_SPELLING.items():
        if code == spelled and kind.value not in ("RpcFrameworkError", "MessageTypeNotSupported"):
            return kind
    return None


MAX_DESCRIPTION = 255


class OcppError(Exception):
    """Raise from a handler to answer the CALL with this CALLERROR."""

    def __init__(
        self,
        kind: ErrorKind,
        description: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{kind.value}: {description}" if description else kind.value)
        self.kind = kind
        self.description = description[:MAX_DESCRIPTION]
        self.details = details or {}


class CallErrorReceived(Exception):
    """The peer answered our CALL with a CALLERROR."""

    def __init__(self, action: str, code: str, description: str, details: dict[str, Any]) -> None:
        super().__init__(f"{action} answered with CALLERROR {code}: {description}")
        self.action = action
        self.code = code
        self.kind = error_kind(code)
        self.description = description
        self.details = details


class CallTimeout(Exception):
    """The peer did not answer our CALL within the timeout."""


class SessionClosed(Exception):
    """The connection is closed; nothing can be sent or awaited any more."""


class PayloadInvalid(Exception):
    """A payload does not match its schema. ``kind`` says which CALLERROR that is."""

    def __init__(self, kind: ErrorKind, message: str, path: str) -> None:
        super().__init__(f"{message} (at {path or '/'})")
        self.kind = kind
        self.message = message
        self.path = path
