"""OCPP 2.0.1 (and the 2.0.1 subset of 2.1): station messages to domain calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.domain.authorization import TokenInfo
from csms.domain.connectors import StatusReport
from csms.domain.metering import samples_201
from csms.domain.stations import BootInfo
from csms.domain.timeutil import ocpp_time, parse_timestamp
from csms.domain.transactions import ENDED, TxEvent, TxOutcome
from csms.ocpp.adapter import Adapter
from csms.ocpp.costs import wire_amount
from csms.ocpp.energy import register_energy_v201
from csms.ocpp.maintenance import register_maintenance
from csms.ocpp.provisioning import register_v201


def id_token_info(token: TokenInfo | None) -> dict[str, Any]:
    if token is None:
        return {"status": "Accepted"}
    info: dict[str, Any] = {"status": token.status}
    if token.group_id:
        info["groupIdToken"] = {"idToken": token.group_id, "type": "Central"}
    if token.expiry is not None:
        info["cacheExpiryDateTime"] = ocpp_time(token.expiry)
    if token.language:
        info["language1"] = token.language
    return info


class V201Adapter(Adapter):
    def register(self) -> None:
        self.route("BootNotification", self.boot_notification)
        self.route("Heartbeat", self.heartbeat)
        self.route("StatusNotification", self.status_notification)
        self.route("Authorize", self.authorize)
        self.route("TransactionEvent", self.transaction_event)
        self.route("MeterValues", self.meter_values)
        register_v201(self)
        register_energy_v201(self)
        register_maintenance(self)

    async def boot_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        station = p["chargingStation"]
        modem = station.get("modem") or {}
        decision = await self.core.stations.boot(self.station_id, BootInfo(
            vendor=station["vendorName"], model=station["model"],
            serial_number=station.get("serialNumber"),
            firmware_version=station.get("firmwareVersion"), reason=p["reason"],
            iccid=modem.get("iccid"), imsi=modem.get("imsi")))
        return {"status": decision.status, "currentTime": ocpp_time(decision.current_time),
                "interval": decision.interval}

    async def heartbeat(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": ocpp_time(self.now())}

    async def status_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        timestamp = parse_timestamp(p["timestamp"], self.now()) or self.now()
        late = self.core.transactions.is_late(timestamp)
        self.observe_time(timestamp, late)
        await self.core.connectors.report(StatusReport(
            self.station_id, p["evseId"], p["connectorId"], p["connectorStatus"], timestamp,
            late=late))
        return {}

    async def authorize(self, p: dict[str, Any]) -> dict[str, Any]:
        token = p["idToken"]
        info = self.core.auth.authorize(token["idToken"], token.get("type"))
        if self.core.accounts.account_for_token(token["idToken"]) is not None:  # pays: a hold
            info = await self.core.payments.authorize_token(self.station_id, token["idToken"],
                                                            info)
        return {"idTokenInfo": id_token_info(info)}

    async def transaction_event(self, p: dict[str, Any]) -> dict[str, Any]:
        timestamp = parse_timestamp(p["timestamp"], self.now()) or self.now()
        info = p["transactionInfo"]
        evse = p.get("evse") or {}
        token = p.get("idToken") or {}
        outcome = await self.core.transactions.handle(TxEvent(
            station_id=self.station_id, version=self.session.version.value,
            event_type=p["eventType"], timestamp=timestamp,
            ocpp_transaction_id=info["transactionId"], evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"), id_token=token.get("idToken"),
            token_type=token.get("type"), stop_reason=info.get("stoppedReason"),
            trigger_reason=p["triggerReason"], charging_state=info.get("chargingState"),
            seq_no=p["seqNo"], remote_start_id=info.get("remoteStartId"),
            reservation_id=p.get("reservationId"), offline=p.get("offline", False),
            samples=tuple(samples_201(p.get("meterValue", []), timestamp))))
        # offline false says the event is live: an old timestamp is then a slow clock.
        self.observe_time(timestamp, bool(p.get("offline")))
        await self.core.reservations.on_transaction(self.station_id, p.get("reservationId"),
                                                    info["transactionId"])
        verdict = outcome.token
        if token and self.core.accounts.account_for_token(token["idToken"]) is not None:
            verdict = await self.core.payments.session_token(  # the session pays
                self.station_id, outcome.transaction, token["idToken"], verdict)
        answer = {"idTokenInfo": id_token_info(verdict)} if token else {}
        return await self._with_cost(answer, p["eventType"], info, timestamp, outcome)

    async def _with_cost(self, answer: dict[str, Any], event_type: str, info: dict[str, Any],
                         timestamp: datetime, outcome: TxOutcome) -> dict[str, Any]:
        """Block I: the final totalCost on Ended (TC_I_02); on Updated the running total of
        the last cost scan, if any (memory only: no read per message)."""
        tariffs = self.core.tariffs
        if info.get("chargingState") and not outcome.duplicate:
            await tariffs.charging_state(self.station_id, outcome.transaction,
                                         info["chargingState"], timestamp)
        if event_type == ENDED:
            cost = await tariffs.transaction_ended(self.station_id, outcome)
        else:
            cost = tariffs.running_cost(self.station_id, info["transactionId"])
        if cost is not None:
            answer["totalCost"] = wire_amount(cost.total.amount)
        return answer

    async def meter_values(self, p: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        samples = samples_201(p["meterValue"], now)
        timestamp = min((s.timestamp for s in samples), default=now)
        outcome = await self.core.transactions.handle(TxEvent(
            station_id=self.station_id, version=self.session.version.value, event_type="",
            timestamp=timestamp, evse_id=p["evseId"], samples=tuple(samples)))
        self.observe_time(max((s.timestamp for s in samples), default=None), outcome.late)
        return {}
