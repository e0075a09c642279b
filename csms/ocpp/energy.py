"""Station messages of reservations and smart charging (OCPP 2.0.1), translated to the domain.

``register_energy_v201(adapter)`` routes them on a 2.0.1 (or 2.1) session; 1.6 has no station
messages of its own in these areas (a 1.6 reservation ends through StatusNotification and
StartTransaction, which the core adapter hands on).
"""

from __future__ import annotations

from typing import Any

from csms.domain.timeutil import parse_timestamp
from csms.ocpp.adapter import Adapter


def register_energy_v201(adapter: Adapter) -> None:
    core = adapter.core
    station_id = adapter.station_id

    async def reservation_status_update(p: dict[str, Any]) -> dict[str, Any]:
        await core.reservations.on_status_update(station_id, p["reservationId"],
                                                 p["reservationUpdateStatus"])
        return {}

    async def report_charging_profiles(p: dict[str, Any]) -> dict[str, Any]:
        await core.smart_charging.on_report(station_id, p["requestId"],
                                            p["chargingLimitSource"], p["evseId"],
                                            p["chargingProfile"], bool(p.get("tbc", False)))
        return {}

    async def notify_charging_limit(p: dict[str, Any]) -> dict[str, Any]:
        limit = p["chargingLimit"]
        await core.smart_charging.on_charging_limit(
            station_id, p.get("evseId"), limit["chargingLimitSource"],
            limit.get("isGridCritical"), p.get("chargingSchedule"))
        return {}

    async def cleared_charging_limit(p: dict[str, Any]) -> dict[str, Any]:
        await core.smart_charging.on_cleared_limit(station_id, p["chargingLimitSource"],
                                                   p.get("evseId"))
        return {}

    async def notify_ev_charging_needs(p: dict[str, Any]) -> dict[str, Any]:
        status = await core.smart_charging.on_ev_needs(station_id, p["evseId"],
                                                       p["chargingNeeds"],
                                                       p.get("maxScheduleTuples"))
        return {"status": status}

    async def notify_ev_charging_schedule(p: dict[str, Any]) -> dict[str, Any]:
        time_base = parse_timestamp(p["timeBase"], adapter.now()) or adapter.now()
        status = await core.smart_charging.on_ev_schedule(station_id, p["evseId"], time_base,
                                                          p["chargingSchedule"])
        return {"status": status}

    adapter.route("ReservationStatusUpdate", reservation_status_update)
    adapter.route("ReportChargingProfiles", report_charging_profiles)
    adapter.route("NotifyChargingLimit", notify_charging_limit)
    adapter.route("ClearedChargingLimit", cleared_charging_limit)
    adapter.route("NotifyEVChargingNeeds", notify_ev_charging_needs)
    adapter.route("NotifyEVChargingSchedule", notify_ev_charging_schedule)
