"""Operator commands of a scenario, sent through the reference CSMS's own REST API.

Going through the API (in process, over httpx's ASGI transport: no socket) rather than calling
the CSMS's services directly means a scenario exercises what an operator uses: the version
mapping of each command, its checks, the audit log. The driver app's remote start takes the
same road. Each request becomes one row of the ``operations`` table with the CSMS's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import httpx
import simpy

from chargeloop.clock import SimClock
from chargeloop.ocppj import OcppVersion
from simulator.scenario.spec import OperationSpec
from simulator.station.station import SimStation

log = logging.getLogger("chargeloop.simulator.operations")

Gen = Generator[Any, Any, Any]

OPERATION_COLUMNS = ("t_s", "command", "station_id", "method", "path", "http_status", "status",
                     "detail")

RESET_TYPES = {OcppVersion.V16: {"Soft": "soft", "OnIdle": "soft", "Hard": "hard",
                                 "Immediate": "hard"},
               OcppVersion.V201: {"Soft": "on-idle", "OnIdle": "on-idle", "Hard": "immediate",
                                  "Immediate": "immediate"}}


API_BASE_URL = "http://csms"  # the in-process API's address (and so its upload locations')


class OperatorApi:
    """The reference CSMS's REST API, in process, with an operator token."""

    def __init__(self, app: Any, token: str) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=API_BASE_URL,
            headers={"Authorization": f"Bearer {token}"}, timeout=120.0)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, path, **kwargs)

    async def close(self) -> None:
        await self.client.aclose()


class InProcessHttp(httpx.AsyncBaseTransport):
    """HTTP for the stations' uploads: requests to the in-process API's address (the upload
    location the CSMS hands out by default) reach its app; anything else goes to the network."""

    def __init__(self, app: Any) -> None:
        self.app = httpx.ASGITransport(app=app)
        self.network = httpx.AsyncHTTPTransport()
        self.host = httpx.URL(API_BASE_URL).host

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inside = request.url.host == self.host
        return await (self.app if inside else self.network).handle_async_request(request)

    async def aclose(self) -> None:
        """Shared by the stations' upload clients, which close their transport: kept open
        until :meth:`close`."""

    async def close(self) -> None:
        await self.network.aclose()


class Operations:
    """Runs a scenario's operations and the driver app's remote starts at their times."""

    def __init__(self, clock: SimClock, api: OperatorApi, stations: dict[str, SimStation]) -> None:
        self.clock = clock
        self.api = api
        self.stations = stations
        self.rows: list[dict[str, Any]] = []

    def schedule(self, operations: tuple[OperationSpec, ...]) -> None:
        for operation in operations:
            for station_id in operation.station_ids:
                self.clock.env.process(self._at(operation, station_id))

    def _at(self, operation: OperationSpec, station_id: str) -> Gen:
        env = self.clock.env
        yield env.timeout(max(0.0, operation.at_s - env.now))
        for method, path, body in self.requests(operation, self.stations[station_id]):
            yield self.send(operation.command, station_id, method, path, body)

    def send(self, command: str, station_id: str, method: str, path: str,
             body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None) -> simpy.Event:
        """One API request from inside the simulation; the event's value is the response JSON
        (or None when the CSMS refused)."""
        t_s = self.clock.now

        async def call() -> Any:
            response = await self.api.request(method, path, json=body, params=params)
            try:
                answer = response.json()
            except ValueError:
                answer = {"detail": response.text}
            ok = response.status_code < 300
            status = _station_status(answer) if ok else None
            self.rows.append({"t_s": t_s, "command": command, "station_id": station_id,
                              "method": method, "path": path,
                              "http_status": response.status_code, "status": status,
                              "detail": "" if ok else str(answer.get("detail", ""))[:500]})
            if not ok:
                log.info("%s %s for %s: HTTP %d %s", method, path, station_id,
                         response.status_code, answer)
            return answer if ok else None

        return self.clock.bridge(call())

    # -- the scenario's commands as API requests ---------------------------------------------------

    def requests(self, operation: OperationSpec, station: SimStation
                 ) -> list[tuple[str, str, dict[str, Any] | None]]:
        p = operation.params
        base = f"/api/stations/{station.id}"
        command = operation.command
        version = station.version
        if command == "remote_start":
            return [("POST", f"{base}/commands/remote-start",
                     _drop_none({"id_token": p["token"], "evse_id": p.get("evse")}))]
        if command == "remote_stop":
            evses = [p["evse"]] if p.get("evse") else [e.id for e in station.evses]
            return [("POST", f"{base}/commands/remote-stop", {"transaction_id": tx.id})
                    for evse_id in evses if (tx := station.transaction(evse_id)) is not None]
        if command == "reset":
            return [("POST", f"{base}/commands/reset",
                     {"type": RESET_TYPES[version][p.get("type", "Soft")]})]
        if command == "unlock":
            return [("POST", f"{base}/commands/unlock",
                     {"evse_id": p["evse"], "connector_id": p.get("connector", 1)})]
        if command == "change_availability":
            return [("POST", f"{base}/commands/availability",
                     {"operative": p["availability"] == "Operative",
                      "evse_id": p.get("evse", 0) or None})]
        if command == "trigger_message":
            return [("POST", f"{base}/commands/trigger",
                     _drop_none({"message": p["message"], "evse_id": p.get("evse")}))]
        if command == "reserve":
            return [("POST", f"{base}/reservations", _drop_none({
                "id_token": p["token"], "expires_in_s": p["expires_in_s"],
                "evse_id": p.get("evse") or None, "id": p.get("reservation_id")}))]
        if command == "cancel_reservation":
            return [("DELETE", f"/api/reservations/{p['reservation_id']}", None)]
        if command == "set_charging_profile":
            return [("POST", f"{base}/charging-profiles", self._profile(p, station))]
        if command == "clear_charging_profile":
            query = _drop_none({"id": p.get("profile_id"), "evse_id": p.get("evse"),
                                "purpose": _purpose(p.get("purpose"))})
            path = f"{base}/charging-profiles?" + "&".join(
                f"{k}={v}" for k, v in (query or {"all": "true"}).items())
            return [("DELETE", path, None)]
        if command == "update_firmware":
            retrieve = self.clock.utc() + timedelta(seconds=p.get("retrieve_in_s", 0))
            return [("POST", f"{base}/firmware",
                     {"location": p["location"], "retrieve_at": retrieve.isoformat()})]
        if command == "get_log":
            log_type = p.get("log_type", "DiagnosticsLog")
            return [("POST", f"{base}/logs", _drop_none({
                "type": "Diagnostics" if log_type == "DiagnosticsLog" else log_type,
                "location": p.get("location")}))]
        if command == "data_transfer":
            return [("POST", f"{base}/commands/data-transfer", _drop_none({
                "vendor_id": p["vendor_id"], "message_id": p.get("message_id"),
                "data": p.get("data")}))]
        if command == "set_variables":
            return [("PUT", f"{base}/commands/configuration", {"values": [_drop_none({
                "component": v["component"], "variable": v["variable"],
                "value": _text(v["value"]), "evse_id": v.get("evse"),
                "component_instance": v.get("instance")}) for v in p["variables"]]})]
        if command == "change_configuration":
            return [("PUT", f"{base}/commands/configuration",
                     {"values": [{"key": p["key"], "value": _text(p["value"])}]})]
        raise ValueError(f"unknown operation {command!r}")

    def _profile(self, p: dict[str, Any], station: SimStation) -> dict[str, Any]:
        schedule: dict[str, Any] = {"rate_unit": "W",
                                    "periods": [{"start_s": 0, "limit": p["limit_w"]}]}
        if p.get("duration_s"):
            schedule["duration_s"] = round(p["duration_s"])
        purpose = _purpose(p.get("purpose", "TxDefaultProfile"))
        body: dict[str, Any] = {"evse_id": p.get("evse", 0), "purpose": purpose,
                                "stack_level": p.get("stack_level", 0), "schedule": schedule,
                                "kind": "Relative" if purpose == "TxProfile" else "Absolute"}
        if purpose == "TxProfile":
            tx = station.transaction(p.get("evse") or 1)
            if tx is not None:
                body["transaction_id"] = tx.id
        else:
            schedule["start_schedule"] = self.clock.utc().isoformat()
        return body


def _station_status(answer: Any) -> str | None:
    """The station's answer in an API response: its ``status``, the reservation endpoints'
    ``response.status``, or the configuration endpoint's status per key (joined by commas).
    None when the answer has none (1.6 UpdateFirmware's)."""
    if not isinstance(answer, dict):
        return None
    if answer.get("status") is not None:
        return str(answer["status"])
    results = answer.get("results")
    if isinstance(results, list) and results:
        return ",".join(str(r.get("status")) for r in results if isinstance(r, dict))
    response = answer.get("response")
    if isinstance(response, dict) and response.get("status") is not None:
        return str(response["status"])
    return None


def _purpose(purpose: str | None) -> str | None:
    # The API speaks 2.0.1's name for the station-wide maximum and maps it for 1.6 stations.
    return "ChargingStationMaxProfile" if purpose == "ChargePointMaxProfile" else purpose


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
