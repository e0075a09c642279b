"""Verifying signed meter values received over OCPP: 1.6 ``SignedData`` sampled values and
2.0.1 ``signedMeterValue``, both OCMF (ECDSA P-256), with :func:`simulator.ocmf.check_ocmf`.

The key a charger sends with a 2.0.1 value proves nothing by itself (a forger sends his own),
so a key configured for the charger on the bench wins; without one, the transmitted key is used
and the row says so. OCPP 1.6 has no standard place for the key: it must be configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hil.samples import SignedSample
from simulator.ocmf import check_ocmf

KWH = 1000.0


def verify(signed: Sequence[SignedSample],
           keys: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per signed value: ``valid`` and the ``reason``, and whether the signed reading
    agrees with the plain value sent beside it."""
    keys = keys or {}
    rows: list[dict[str, Any]] = []
    for item in signed:
        key = keys.get(item.station_id)
        key_source = "bench" if key is not None else "message"
        if key is None:
            key = item.public_key
        row: dict[str, Any] = {
            "station_id": item.station_id,
            "timestamp": item.timestamp.isoformat() if item.timestamp else None,
            "version": item.version, "context": item.context, "measurand": item.measurand,
            "key_source": key_source if key is not None else "none",
            "valid": False, "reason": "", "signed_wh": None, "reported_wh": item.reported_value,
        }
        if item.encoding not in (None, "OCMF"):
            row["reason"] = f"unsupported encoding {item.encoding!r} (only OCMF is verified)"
        elif key is None:
            row["reason"] = ("no public key: configure public_key for this charger in the "
                             "bench file")
        else:
            check = check_ocmf(item.data, key)
            row["valid"], row["reason"] = check.valid, check.reason
            signed_wh = _signed_energy(check.payload)
            row["signed_wh"] = signed_wh
            if check.valid and signed_wh is not None and item.reported_value is not None \
                    and abs(signed_wh - item.reported_value) > 1.0:
                row["valid"] = False
                row["reason"] = (f"signature ok, but the signed reading {signed_wh:g} Wh is not "
                                 f"the reported value {item.reported_value:g} Wh")
        rows.append(row)
    return rows


def _signed_energy(payload: Mapping[str, Any] | None) -> float | None:
    if not payload:
        return None
    readings = payload.get("RD")
    if not isinstance(readings, list) or not readings or not isinstance(readings[-1], dict):
        return None
    last = readings[-1]
    try:
        value = float(last.get("RV"))
    except (TypeError, ValueError):
        return None
    return value * KWH if last.get("RU", "kWh") == "kWh" else value
