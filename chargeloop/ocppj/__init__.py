"""The OCPP-J core: sans-IO frames and schema validation, an asyncio session, and transports.

Every part of chargeloop (simulator, reference CSMS, conformance suites, load tests, HIL) speaks
OCPP through this package.
"""

from chargeloop.ocppj.actions import Role
from chargeloop.ocppj.errors import (
    CallErrorReceived,
    CallTimeout,
    ErrorKind,
    OcppError,
    PayloadInvalid,
    SessionClosed,
    error_code,
)
from chargeloop.ocppj.frames import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    Malformed,
    MessageType,
    Send,
    parse_frame,
)
from chargeloop.ocppj.schemas import Direction, ValidationMode, validate
from chargeloop.ocppj.session import CallContext, OcppSession
from chargeloop.ocppj.trace import JsonlTraceWriter, TraceRecord
from chargeloop.ocppj.versions import ALL_VERSIONS, OcppVersion

__all__ = [
    "ALL_VERSIONS", "Call", "CallContext", "CallError", "CallErrorReceived", "CallResult",
    "CallResultError", "CallTimeout", "Direction", "ErrorKind", "JsonlTraceWriter", "Malformed",
    "MessageType", "OcppError", "OcppSession", "OcppVersion", "PayloadInvalid", "Role", "Send",
    "SessionClosed", "TraceRecord", "ValidationMode", "error_code", "parse_frame", "validate",
]
