"""OCPP 1.6J: station messages to domain calls.

1.6 numbers connectors 1..n per station (0 is the station itself); the domain speaks in EVSEs
and connectors, so 1.6 connector n is EVSE n, connector 1, and connector 0 is EVSE 0.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from csms.domain.authorization import TokenInfo
from csms.domain.connectors import StatusReport
from csms.domain.metering import samples_16
from csms.domain.stations import BootInfo
from csms.domain.timeutil import ocpp_time, parse_timestamp
from csms.domain.transactions import ENDED, STARTED, TxEvent
from csms.ocpp.adapter import Adapter
from csms.ocpp.maintenance import register_maintenance
from csms.ocpp.provisioning import register_v16

# 2.0.1 token verdicts that 1.6 spells differently or lacks.
_STATUS_16 = {"Unknown": "Invalid", "NoCredit": "Blocked", "NotAllowedTypeEVSE": "Invalid",
              "NotAtThisLocation": "Invalid", "NotAtThisTime": "Invalid"}


def id_tag_info(token: TokenInfo | None) -> dict[str, Any]:
    if token is None:
        return {"status": "Accepted"}
    info: dict[str, Any] = {"status": _STATUS_16.get(token.status, token.status)}
    if token.group_id:
        info["parentIdTag"] = token.group_id
    if token.expiry is not None:
        info["expiryDate"] = ocpp_time(token.expiry)
    return info


def evse_of(connector_id: int) -> tuple[int, int]:
    return (connector_id, 1) if connector_id > 0 else (0, 0)


class V16Adapter(Adapter):
    def register(self) -> None:
        self.route("BootNotification", self.boot_notification)
        self.route("Heartbeat", self.heartbeat)
        self.route("StatusNotification", self.status_notification)
        self.route("Authorize", self.authorize)
        self.route("StartTransaction", self.start_transaction)
        self.route("StopTransaction", self.stop_transaction)
        self.route("MeterValues", self.meter_values)
        register_v16(self)
        register_maintenance(self)

    async def boot_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        decision = await self.core.stations.boot(self.station_id, BootInfo(
            vendor=p["chargePointVendor"], model=p["chargePointModel"],
            serial_number=p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber"),
            firmware_version=p.get("firmwareVersion"), iccid=p.get("iccid"),
            imsi=p.get("imsi"), meter_type=p.get("meterType"),
            meter_serial_number=p.get("meterSerialNumber")))
        return {"status": decision.status, "currentTime": ocpp_time(decision.current_time),
                "interval": decision.interval}

    async def heartbeat(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": ocpp_time(self.now())}

    async def status_notification(self, p: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        timestamp = parse_timestamp(p.get("timestamp"), now) or now
        late = self.core.transactions.is_late(timestamp)
        self.observe_time(parse_timestamp(p.get("timestamp")), late)
        evse_id, connector_id = evse_of(p["connectorId"])
        error = p.get("errorCode")
        await self.core.connectors.report(StatusReport(
            self.station_id, evse_id, connector_id, p["status"], timestamp,
            None if error == "NoError" else error, p.get("info"), p.get("vendorErrorCode"),
            late))
        await self.core.reservations.on_connector_status_16(self.station_id, evse_id,
                                                            p["status"], timestamp, late)
        return {}

    async def authorize(self, p: dict[str, Any]) -> dict[str, Any]:
        token = p["idTag"]
        info = self.core.auth.authorize(
            token, active_elsewhere=self.core.transactions.token_active(token))
        if self.core.accounts.account_for_token(token) is not None:  # pays: hold on the card
            info = await self.core.payments.authorize_token(self.station_id, token, info)
        return {"idTagInfo": id_tag_info(info)}

    async def start_transaction(self, p: dict[str, Any]) -> dict[str, Any]:
        timestamp = parse_timestamp(p["timestamp"], self.now()) or self.now()
        evse_id, connector_id = evse_of(p["connectorId"])
        outcome = await self.core.transactions.handle(TxEvent(
            station_id=self.station_id, version=self.session.version.value, event_type=STARTED,
            timestamp=timestamp, evse_id=evse_id, connector_id=connector_id,
            id_token=p["idTag"], meter_wh=float(p["meterStart"]),
            reservation_id=p.get("reservationId")))
        self.observe_time(timestamp, outcome.late)
        assert outcome.transaction is not None
        await self.core.reservations.on_transaction(self.station_id, p.get("reservationId"),
                                                    outcome.transaction["ocpp_transaction_id"])
        token = outcome.token
        if token is not None and token.status == "Accepted" and self.core.transactions \
                .token_active(p["idTag"], exclude=outcome.transaction["id"]):
            token = replace(token, status="ConcurrentTx")  # the tag is charging elsewhere
        if self.core.accounts.account_for_token(p["idTag"]) is not None:  # the session pays
            token = await self.core.payments.session_token(self.station_id, outcome.transaction,
                                                           p["idTag"], token)
        return {"transactionId": int(outcome.transaction["ocpp_transaction_id"]),
                "idTagInfo": id_tag_info(token)}

    async def stop_transaction(self, p: dict[str, Any]) -> dict[str, Any]:
        timestamp = parse_timestamp(p["timestamp"], self.now()) or self.now()
        outcome = await self.core.transactions.handle(TxEvent(
            station_id=self.station_id, version=self.session.version.value, event_type=ENDED,
            timestamp=timestamp, ocpp_transaction_id=str(p["transactionId"]),
            id_token=p.get("idTag"), meter_wh=float(p["meterStop"]),
            stop_reason=p.get("reason", "Local"),
            samples=tuple(samples_16(p.get("transactionData", []), timestamp))))
        self.observe_time(timestamp, outcome.late)
        await self.core.tariffs.transaction_ended(self.station_id, outcome)  # transaction.cost
        return {"idTagInfo": id_tag_info(outcome.token)} if p.get("idTag") else {}

    async def meter_values(self, p: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        samples = samples_16(p["meterValue"], now)
        evse_id, connector_id = evse_of(p["connectorId"])
        transaction_id = p.get("transactionId")
        timestamp = min((s.timestamp for s in samples), default=now)
        outcome = await self.core.transactions.handle(TxEvent(
            station_id=self.station_id, version=self.session.version.value, event_type="",
            timestamp=timestamp, evse_id=evse_id, connector_id=connector_id,
            ocpp_transaction_id=None if transaction_id is None else str(transaction_id),
            samples=tuple(samples)))
        self.observe_time(max((s.timestamp for s in samples), default=None), outcome.late)
        return {}
