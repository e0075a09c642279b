"""The webhook signature: how a receiver knows a delivery came from this CSMS, unaltered.

Every delivery carries two headers::

    X-Chargeloop-Timestamp: 1718000000            (Unix seconds when it was sent)
    X-Chargeloop-Signature: sha256=<hex digest>

where the digest is HMAC-SHA256, keyed with the webhook's secret, over the timestamp, a dot and
the raw request body: ``f"{timestamp}.".encode() + body``. A receiver recomputes it over the body
exactly as received (before parsing the JSON), compares in constant time, and refuses
timestamps too far from its own clock (replays). :func:`verify` does all three.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Chargeloop-Timestamp"
SIGNATURE_HEADER = "X-Chargeloop-Signature"
DELIVERY_HEADER = "X-Chargeloop-Delivery"
KIND_HEADER = "X-Chargeloop-Kind"
SCHEME = "sha256="
DEFAULT_TOLERANCE_S = 300.0


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Chargeloop-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SCHEME + digest.hexdigest()


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: signature(secret, stamp, body)}


def verify(secret: str, headers: Mapping[str, str], body: bytes, *,
           tolerance_s: float = DEFAULT_TOLERANCE_S, now: float | None = None) -> bool:
    """Whether ``body`` with these headers (names as sent, or lower-case) was signed with
    ``secret`` within ``tolerance_s`` of ``now``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not stamp.isdigit() or not given.startswith(SCHEME):
        return False
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, int(stamp), body), given)
