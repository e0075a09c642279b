"""What the driver services did, read from the reference CSMS's REST API at the end of a run:
``csms_payments`` (every payment, with the session's final cost from its CDR), ``bookings``
(every booking, with what the simulator planned for it) and ``csms_notifications`` (every
notification of the run's accounts). Times become simulation seconds. Payments and bookings
repeat exactly for a seed; notifications made by the CSMS's workers carry the moment a worker
got to the event, which a run at full speed does not fix (hence the ``csms_`` prefix, as for
the CSMS's other bookkeeping).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd

from chargeloop.clock import SimClock
from simulator.bookings import BOOKING_COLUMNS
from simulator.driver_services import Api, DriverAccount
from simulator.notifications import NOTIFICATION_COLUMNS

PAYMENT_COLUMNS = ("id", "account_id", "kind", "status", "currency", "held", "captured",
                   "refunded", "outstanding", "due", "cost", "station_id", "evse_id",
                   "transaction_id", "id_token", "reason", "decline_code", "created_s",
                   "stop_requested_s")
PAGE = 1000


def _seconds(clock: SimClock, value: str | None) -> float | None:
    return None if value is None else clock.seconds(datetime.fromisoformat(value))


async def payments(api: Api, clock: SimClock) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await api.call("GET", "/api/payments", params={"limit": PAGE, "offset": offset})
        rows.extend(page["payments"])
        offset += PAGE
        if offset >= page["total"]:
            break
    out = []
    for p in sorted(rows, key=lambda p: (p["created_at"], p["id"])):
        cost = None
        if p["kind"] == "session" and p["transaction_id"] is not None:
            response = await api.client.get(
                f"/api/transactions/{p['station_id']}/{p['transaction_id']}/cdr")
            if response.status_code == 200:  # 409 still active, 404 free or unknown
                cost = response.json()["total_cost_incl_vat"]
        out.append({**{k: p.get(k) for k in PAYMENT_COLUMNS}, "cost": cost,
                    "created_s": _seconds(clock, p["created_at"]),
                    "stop_requested_s": _seconds(clock, p["stop_requested_at"])})
    return pd.DataFrame(out, columns=list(PAYMENT_COLUMNS))


async def bookings(api: Api, clock: SimClock, requests: list[dict[str, Any]]) -> pd.DataFrame:
    listed = await api.call("GET", "/api/bookings", params={"limit": 5000})
    planned = {r["booking_id"]: r for r in requests if r["booking_id"] is not None}
    out = []
    for b in sorted(listed, key=lambda b: b["id"]):
        plan = planned.get(b["id"], {})
        out.append({**{k: b.get(k) for k in BOOKING_COLUMNS},
                    "population": plan.get("population"), "driver": plan.get("driver"),
                    "arrival_s": plan.get("arrival_s"), "booked_s": plan.get("t_s"),
                    "starts_s": _seconds(clock, b["starts_at"]),
                    "ends_s": _seconds(clock, b["ends_at"])})
    return pd.DataFrame(out, columns=list(BOOKING_COLUMNS))


async def notifications(api: Api, clock: SimClock,
                        accounts: list[DriverAccount]) -> pd.DataFrame:
    out = []
    for account in accounts:
        offset = 0
        while True:
            page = await api.call("GET", "/api/notifications", params={
                "account_id": account.account_id, "limit": 500, "offset": offset})
            for n in page["items"]:
                data = n.get("data") or {}
                out.append({"account_id": account.account_id,
                            "kind": n["kind"], "t_s": _seconds(clock, n["created_at"]),
                            "station_id": data.get("station_id"), "state": n.get("state"),
                            "data": json.dumps(data, sort_keys=True)})
            offset += 500
            if offset >= page["total"]:
                break
    # By time, not by the CSMS's row ids: what happens at one instant is written in whatever
    # order its tasks ran, and equal runs must give equal tables.
    out.sort(key=lambda n: (n["t_s"], n["account_id"], n["kind"], n["station_id"] or ""))
    return pd.DataFrame(out, columns=list(NOTIFICATION_COLUMNS))
