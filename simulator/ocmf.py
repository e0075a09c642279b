"""OCMF (Open Charge Metering Format) signed meter readings: signing and verification.

An OCMF string is ``OCMF|{payload}|{signature}``: a JSON payload with the reading and who made it,
and a JSON signature section whose ``SD`` is an ECDSA P-256 / SHA-256 signature (DER, hex) over the
payload *bytes exactly as written*. Verification therefore never re-serialises the payload.

The signer uses deterministic ECDSA (RFC 6979) where ``cryptography`` offers it, so the same key
and the same readings give the same strings: runs stay reproducible, as the project wants.

Verification is meant for text received from the outside (OCPP frames, HIL benches), so
:func:`check_ocmf` never raises on garbage; it answers ``OcmfCheck(valid=False, reason=...)``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)

SIGNING_METHOD = "ECDSA-secp256r1-SHA256"
ENCODING_METHOD = "OCMF"
OBIS_IMPORT_ENERGY = "1-b:1.8.0"  # the OBIS code the OCMF specification's own example uses

# Tables 7, 10, 17 and 19 of the OCMF specification.
TX_CODES = frozenset("BCXELRAPST")
METER_STATES = frozenset("NGTDRMXIOSEF")
TIME_STATES = frozenset("UIRS")
ID_TYPES = frozenset({
    "NONE", "DENIED", "UNDEFINED", "ISO14443", "ISO15693", "EMAID", "EVCCID", "EVCOID",
    "ISO7812", "CARD_TXN_NR", "CENTRAL", "CENTRAL_1", "CENTRAL_2", "LOCAL", "LOCAL_1",
    "LOCAL_2", "PHONE_NUMBER", "KEY_CODE",
})

# A raw X||Y P-256 point becomes SubjectPublicKeyInfo (DER) with this prefix (see meters.md).
_SPKI_P256_PREFIX = bytes.fromhex("3059301306072A8648CE3D020106082A8648CE3D03010703420004")
# Far above any real record (OCPP 2.1 allows 32768 characters); stops absurd inputs early.
_MAX_TEXT = 100_000
_RV_PLACEHOLDER = "\x00RV\x00"


def _ecdsa() -> ec.ECDSA:
    try:
        return ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    except TypeError:  # cryptography < 44: randomised signatures, still valid
        return ec.ECDSA(hashes.SHA256())


class OcmfSigner:
    """The signing component of a (simulated) Eichrecht meter: one key, one pagination counter.

    ``private_key`` is a P-256 key; without one, a key is derived from ``rng`` (reproducible) or,
    lacking that too, generated from the operating system's randomness. Each :meth:`sign`
    uses the next transaction pagination number (``PG: T<n>``), as real meters do.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None, *,
                 rng: np.random.Generator | None = None,
                 meter_vendor: str = "chargeloop", meter_model: str = "SimMeter",
                 meter_serial: str = "SIM-0001", gateway_id: str = "chargeloop SimStation",
                 gateway_serial: str = "SIM-GW-0001", gateway_version: str = "1.0",
                 first_page: int = 1, decimals: int = 4) -> None:
        if private_key is None:
            private_key = _derive_key(rng) if rng is not None else ec.generate_private_key(
                ec.SECP256R1())
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
                private_key.curve, ec.SECP256R1):
            raise ValueError("OcmfSigner needs an ECDSA private key on secp256r1 (P-256)")
        if first_page < 0 or not 0 <= decimals <= 6:
            raise ValueError("first_page must be >= 0 and decimals within 0..6")
        self._key = private_key
        self.meter_vendor = meter_vendor
        self.meter_model = meter_model
        self.meter_serial = meter_serial
        self.gateway_id = gateway_id
        self.gateway_serial = gateway_serial
        self.gateway_version = gateway_version
        self.decimals = decimals
        self._next_page = first_page

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    @property
    def public_key_der(self) -> bytes:
        """SubjectPublicKeyInfo, DER: what verifiers load."""
        return self.public_key.public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def public_key_hex(self) -> str:
        return self.public_key_der.hex().upper()

    @property
    def public_key_base64(self) -> str:
        """The form OCPP 2.0.1 ``signedMeterValue.publicKey`` carries."""
        return base64.b64encode(self.public_key_der).decode("ascii")

    @property
    def next_page(self) -> int:
        return self._next_page

    def sign(self, energy_wh: float, *, timestamp: datetime, tx: str = "C",
             id_tag: str | None = None, id_type: str = "ISO14443", meter_status: str = "G",
             time_status: str = "S", current_type: str | None = None) -> str:
        """One signed reading of the import energy register as an OCMF string.

        ``tx`` is the OCMF reading reason (B begin, C charging, E end, ...); ``id_tag`` the
        user identification (``IS`` is true when one is given); ``timestamp`` must be aware.
        """
        if not (isinstance(energy_wh, int | float) and math.isfinite(energy_wh)
                and energy_wh >= 0):
            raise ValueError(f"energy_wh must be a finite number >= 0, not {energy_wh!r}")
        if timestamp.tzinfo is None or timestamp.utcoffset() is None:
            raise ValueError("timestamp must be timezone-aware (OCMF TM carries the offset)")
        _check_choice("tx", tx, TX_CODES)
        _check_choice("meter_status", meter_status, METER_STATES)
        _check_choice("time_status", time_status, TIME_STATES)
        if current_type not in (None, "AC", "DC"):
            raise ValueError(f"current_type must be 'AC', 'DC' or None, not {current_type!r}")
        if id_tag is not None:
            _check_choice("id_type", id_type, ID_TYPES)

        reading: dict[str, Any] = {
            "TM": _ocmf_time(timestamp, time_status),
            "TX": tx,
            "RV": _RV_PLACEHOLDER,
            "RI": OBIS_IMPORT_ENERGY,
            "RU": "kWh",
        }
        if current_type is not None:
            reading["RT"] = current_type
        reading["ST"] = meter_status
        payload: dict[str, Any] = {
            "FV": "1.0",
            "GI": self.gateway_id,
            "GS": self.gateway_serial,
            "GV": self.gateway_version,
            "PG": f"T{self._next_page}",
            "MV": self.meter_vendor,
            "MM": self.meter_model,
            "MS": self.meter_serial,
            "IS": id_tag is not None,
            "IT": id_type if id_tag is not None else "NONE",
        }
        if id_tag is not None:
            payload["ID"] = id_tag
        payload["RD"] = [reading]

        # RV keeps its fixed number of decimals in the text: the spec reads them as the
        # precision of the reading, so json's shortest float repr would not do.
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        rv = f"{energy_wh / 1000.0:.{self.decimals}f}"
        head, _, tail = text.rpartition(json.dumps(_RV_PLACEHOLDER))  # RD is the last key
        text = head + rv + tail
        # "|" separates the sections; inside JSON strings it can be written as an escape.
        text = text.replace("|", "\\u007c")

        signature = self._key.sign(text.encode("utf-8"), _ecdsa())
        section = json.dumps({"SA": SIGNING_METHOD, "SD": signature.hex().upper()},
                             separators=(",", ":"))
        self._next_page += 1
        return f"OCMF|{text}|{section}"


def _derive_key(rng: np.random.Generator) -> ec.EllipticCurvePrivateKey:
    # The group order of P-256; a scalar in [1, n-1] is a valid private key.
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(rng.bytes(32), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _check_choice(name: str, value: str, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} {value!r} is not valid; allowed: {', '.join(sorted(allowed))}")


def _ocmf_time(moment: datetime, sync: str) -> str:
    """``2018-07-24T13:22:04,000+0200 S``: comma before milliseconds, offset without colon."""
    millis = moment.microsecond // 1000
    return f"{moment:%Y-%m-%dT%H:%M:%S},{millis:03d}{moment:%z} {sync}"


# -- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OcmfCheck:
    """The verdict on one OCMF string; ``payload`` is the parsed payload when it could be read."""

    valid: bool
    reason: str
    payload: Mapping[str, Any] | None = None

    def __bool__(self) -> bool:
        return self.valid


PublicKeyLike = ec.EllipticCurvePublicKey | bytes | str


def load_public_key(key: PublicKeyLike) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from an object, DER/PEM bytes, a raw point, or hex/base64/PEM text.

    Raises ValueError when ``key`` is none of these.
    """
    if isinstance(key, ec.EllipticCurvePublicKey):
        loaded: Any = key
    elif isinstance(key, bytes):
        loaded = _key_from_bytes(key)
    elif isinstance(key, str):
        text = key.strip()
        if text.startswith("-----BEGIN"):
            loaded = _key_from_bytes(text.encode("ascii", "replace"))
        else:
            raw = _hex_or_base64(text)
            if raw is None:
                raise ValueError("public key text is neither PEM, hex nor base64")
            loaded = _key_from_bytes(raw)
    else:
        raise ValueError(f"cannot use a {type(key).__name__} as a public key")
    if not isinstance(loaded, ec.EllipticCurvePublicKey) or not isinstance(loaded.curve,
                                                                           ec.SECP256R1):
        raise ValueError("public key is not an ECDSA key on secp256r1 (P-256)")
    return loaded


def _key_from_bytes(data: bytes) -> Any:
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            return serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"unreadable PEM public key: {exc}") from None
    if len(data) == 64:  # raw X||Y
        data = _SPKI_P256_PREFIX + data
    elif len(data) == 65 and data[0] == 4:  # uncompressed point
        data = _SPKI_P256_PREFIX + data[1:]
    try:
        return serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"unreadable DER public key: {exc}") from None


def _hex_or_base64(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def check_ocmf(text: Any, public_key: Any) -> OcmfCheck:
    """Verify an OCMF string against ``public_key``; never raises.

    ``text`` may also be the base64 form OCPP 2.0.1 puts in ``signedMeterData``. Beyond the
    signature, the payload must be a JSON object with a non-empty ``RD`` list of readings.
    """
    try:
        return _check(text, public_key)
    except RecursionError:  # absurdly nested JSON
        return OcmfCheck(False, "payload or signature nests too deeply")


def verify_ocmf(text: Any, public_key: Any) -> bool:
    """True when ``text`` is an OCMF string whose signature ``public_key`` verifies."""
    return check_ocmf(text, public_key).valid


def _check(text: Any, public_key: Any) -> OcmfCheck:
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return OcmfCheck(False, "not UTF-8 text")
    if not isinstance(text, str):
        return OcmfCheck(False, f"not a string but a {type(text).__name__}")
    if len(text) > _MAX_TEXT:
        return OcmfCheck(False, f"longer than {_MAX_TEXT} characters")
    text = text.strip()
    if not text.startswith("OCMF|"):
        decoded = _from_base64(text)
        if decoded is None:
            return OcmfCheck(False, "no 'OCMF|' header (and not base64 of one)")
        text = decoded

    sections = text.split("|")
    if len(sections) != 3:
        return OcmfCheck(False, f"expected 3 sections separated by '|', found {len(sections)}")
    _, payload_text, signature_text = sections

    try:
        payload = json.loads(payload_text)
    except ValueError as exc:
        return OcmfCheck(False, f"payload is not JSON: {exc}")
    if not isinstance(payload, dict):
        return OcmfCheck(False, "payload is not a JSON object")
    readings = payload.get("RD")
    if not (isinstance(readings, list) and readings
            and all(isinstance(r, dict) for r in readings)):
        return OcmfCheck(False, "payload has no readings (RD must be a non-empty list)", payload)

    try:
        signature_section = json.loads(signature_text)
    except ValueError as exc:
        return OcmfCheck(False, f"signature section is not JSON: {exc}", payload)
    if not isinstance(signature_section, dict):
        return OcmfCheck(False, "signature section is not a JSON object", payload)
    algorithm = signature_section.get("SA", SIGNING_METHOD)  # SA absent means the default
    if algorithm != SIGNING_METHOD:
        return OcmfCheck(False, f"unsupported signature algorithm {algorithm!r}", payload)
    mime = signature_section.get("SM", "application/x-der")
    if mime != "application/x-der":
        return OcmfCheck(False, f"unsupported signature mime type {mime!r}", payload)
    signature = _signature_bytes(signature_section)
    if signature is None:
        return OcmfCheck(False, "signature data (SD) missing or not decodable", payload)

    try:
        key = load_public_key(public_key)
    except ValueError as exc:
        return OcmfCheck(False, f"unusable public key: {exc}", payload)
    try:
        key.verify(signature, payload_text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return OcmfCheck(False, "signature does not match payload and key", payload)
    except ValueError as exc:  # a malformed DER signature
        return OcmfCheck(False, f"malformed signature: {exc}", payload)
    return OcmfCheck(True, "ok", payload)


def _from_base64(text: str) -> str | None:
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    decoded = decoded.strip()
    return decoded if decoded.startswith("OCMF|") else None


def _signature_bytes(section: Mapping[str, Any]) -> bytes | None:
    data = section.get("SD")
    if not isinstance(data, str) or not data:
        return None
    encoding = section.get("SE", "hex")
    try:
        if encoding == "hex":
            return bytes.fromhex(data)
        if encoding == "base64":
            return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return None
