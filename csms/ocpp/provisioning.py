"""Provisioning and remote control on the wire, both OCPP versions: station messages
(DataTransfer, NotifyReport, NotifyDisplayMessages) to domain calls, and the answers to the
CSMS's commands (GetConfiguration, ChangeConfiguration, GetVariables, SetVariables,
GetBaseReport, GetReport, Reset, UnlockConnector, ChangeAvailability, TriggerMessage, remote
start and stop, display messages, DataTransfer) to the effects the CSMS records, however the
command was sent (neutral REST endpoints, the raw ``/ocpp/{Action}`` endpoint, a policy).

This module only translates; :mod:`csms.domain.provisioning` decides. It imports nothing of
:mod:`csms.core` at run time, so the core can install it.
"""

from __future__ import annotations

import binascii
import json
import logging
from typing import TYPE_CHECKING, Any

from chargeloop.ocppj import OcppVersion
from csms.domain.device_model import ACTUAL, VariableKey, VariableUpdate
from csms.domain.provisioning import DisplayMessage, ProvisioningService
from csms.domain.timeutil import ocpp_time, parse_timestamp

if TYPE_CHECKING:
    from csms.core import CsmsCore
    from csms.domain.commands import AnswerListener, CommandService, SendListener
    from csms.ocpp.adapter import Adapter

log = logging.getLogger("chargeloop.csms.ocpp")

# TriggerMessage requestedMessage -> the action the station then sends.
_TRIGGERED_AS = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
    "SignChargePointCertificate": "SignCertificate",  # 1.6 ExtendedTriggerMessage
}
_TRIGGERED_AS_EXTENDED_16 = {"FirmwareStatusNotification": "SignedFirmwareStatusNotification"}

# 1.6 ChangeConfiguration NotSupported: the key is unknown to the station.
_STATUS_16 = {"NotSupported": "UnknownVariable"}


def evse_of_16(connector_id: int | None) -> tuple[int, int]:
    """1.6 connector n is EVSE n, connector 1; connector 0 (or none) the station itself."""
    return (connector_id, 1) if connector_id else (0, 0)


def triggered_action(version: OcppVersion, requested: str, *, extended: bool = False) -> str:
    if extended and version is OcppVersion.V16:
        requested = _TRIGGERED_AS_EXTENDED_16.get(requested, requested)
    return _TRIGGERED_AS.get(requested, requested)


# -- 2.0.1 device model shapes ---------------------------------------------------------------


def variable_key(component: dict[str, Any], variable: dict[str, Any],
                 attribute_type: str | None = None) -> VariableKey:
    evse = component.get("evse") or {}
    return VariableKey(
        component=component["name"], variable=variable["name"],
        component_instance=component.get("instance") or "", evse_id=evse.get("id", 0),
        connector_id=evse.get("connectorId") or 0,
        variable_instance=variable.get("instance") or "",
        attribute_type=attribute_type or ACTUAL)


def component_of(key: VariableKey) -> dict[str, Any]:
    component: dict[str, Any] = {"name": key.component}
    if key.component_instance:
        component["instance"] = key.component_instance
    if key.evse_id:
        component["evse"] = {"id": key.evse_id}
        if key.connector_id:
            component["evse"]["connectorId"] = key.connector_id
    return component


def variable_of(key: VariableKey) -> dict[str, Any]:
    variable: dict[str, Any] = {"name": key.variable}
    if key.variable_instance:
        variable["instance"] = key.variable_instance
    return variable


def _same(entry: dict[str, Any], key: VariableKey) -> bool:
    return variable_key(entry["component"], entry["variable"],
                        entry.get("attributeType")) == key


def report_updates(report_data: list[dict[str, Any]]) -> list[VariableUpdate]:
    """NotifyReport reportData: one update per variable attribute."""
    updates = []
    for item in report_data:
        characteristics = item.get("variableCharacteristics")
        if characteristics is not None:
            characteristics = {k: v for k, v in characteristics.items() if k != "customData"}
        for attribute in item["variableAttribute"]:
            updates.append(VariableUpdate(
                variable_key(item["component"], item["variable"], attribute.get("type")),
                status="Accepted", value=attribute.get("value"), set_value=True,
                mutability=attribute.get("mutability", "ReadWrite"),
                persistent=attribute.get("persistent", False),
                constant=attribute.get("constant", False), characteristics=characteristics))
    return updates


def display_message(info: dict[str, Any]) -> DisplayMessage:
    content = info["message"]
    return DisplayMessage(
        id=info["id"], priority=info["priority"], format=content["format"],
        content=content["content"], language=content.get("language"), state=info.get("state"),
        start_at=parse_timestamp(info.get("startDateTime")),
        end_at=parse_timestamp(info.get("endDateTime")),
        transaction_id=info.get("transactionId"), display=info.get("display"))


def message_info(message: DisplayMessage) -> dict[str, Any]:
    """A DisplayMessage as 2.0.1 MessageInfoType."""
    content: dict[str, Any] = {"format": message.format, "content": message.content}
    if message.language:
        content["language"] = message.language
    info: dict[str, Any] = {"id": message.id, "priority": message.priority, "message": content}
    if message.state:
        info["state"] = message.state
    if message.start_at is not None:
        info["startDateTime"] = ocpp_time(message.start_at)
    if message.end_at is not None:
        info["endDateTime"] = ocpp_time(message.end_at)
    if message.transaction_id:
        info["transactionId"] = message.transaction_id
    if message.display:
        info["display"] = message.display
    return info


def decode_authorization_key(value: str) -> str | None:
    """1.6 AuthorizationKey is the Basic auth password, hex encoded (Security Whitepaper)."""
    try:
        return binascii.unhexlify(value).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


# -- station -> CSMS -------------------------------------------------------------------------


def register_v16(adapter: Adapter) -> None:
    service: ProvisioningService = adapter.core.provisioning
    service.bind_gate(adapter.station_id, adapter.triggered)
    station_id = adapter.station_id

    async def data_transfer(p: dict[str, Any]) -> dict[str, Any]:
        answer = await service.data_transfer(station_id, p["vendorId"], p.get("messageId"),
                                             p.get("data"))
        result: dict[str, Any] = {"status": answer.status}
        if answer.data is not None:
            # 1.6 data is text: anything else goes as JSON.
            result["data"] = answer.data if isinstance(answer.data, str) else _json(answer.data)
        return result

    adapter.route("DataTransfer", data_transfer)


def register_v201(adapter: Adapter) -> None:
    service: ProvisioningService = adapter.core.provisioning
    service.bind_gate(adapter.station_id, adapter.triggered)
    station_id = adapter.station_id

    async def data_transfer(p: dict[str, Any]) -> dict[str, Any]:
        answer = await service.data_transfer(station_id, p["vendorId"], p.get("messageId"),
                                             p.get("data"))
        result: dict[str, Any] = {"status": answer.status}
        if answer.data is not None:
            result["data"] = answer.data
        return result

    async def notify_report(p: dict[str, Any]) -> dict[str, Any]:
        await service.device_model.report_part(
            station_id, p["requestId"], p["seqNo"], p.get("tbc", False),
            parse_timestamp(p.get("generatedAt")), report_updates(p.get("reportData", [])))
        return {}

    async def notify_display_messages(p: dict[str, Any]) -> dict[str, Any]:
        await service.display_messages_reported(
            station_id, p["requestId"], [display_message(m) for m in p.get("messageInfo", [])],
            p.get("tbc", False))
        return {}

    adapter.route("DataTransfer", data_transfer)
    adapter.route("NotifyReport", notify_report)
    adapter.route("NotifyDisplayMessages", notify_display_messages)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# -- CSMS -> station: what the answers mean ---------------------------------------------------


def _tolerant_sender(action: str, sender: SendListener) -> SendListener:
    """A malformed request (the raw endpoint) is refused by the session right after this; it
    must not fail here first."""
    def send(station_id: str, version: OcppVersion, request: dict[str, Any]) -> None:
        try:
            sender(station_id, version, request)
        except (KeyError, TypeError, ValueError, AttributeError):
            log.debug("%s to %s: not remembered, malformed", action, station_id)

    return send


def _tolerant_listener(action: str, listener: AnswerListener) -> AnswerListener:
    """The station did what it answered; a request or answer we cannot read (validation off)
    costs its record, logged, not the caller's answer."""
    async def answered(station_id: str, version: OcppVersion, request: dict[str, Any],
                       answer: dict[str, Any]) -> None:
        try:
            await listener(station_id, version, request, answer)
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("%s answered by %s: not recorded, unexpected shape", action,
                        station_id, exc_info=True)

    return answered


def install(core: CsmsCore) -> None:
    """Register the command-answer listeners (once per core)."""
    _Answers(core.provisioning).install(core.commands)


class _Answers:
    def __init__(self, service: ProvisioningService) -> None:
        self.service = service

    def install(self, commands: CommandService) -> None:
        senders: list[tuple[str, SendListener]] = [
            ("TriggerMessage", self.trigger_sending(extended=False)),
            ("ExtendedTriggerMessage", self.trigger_sending(extended=True)),
            # Ids chosen elsewhere (the raw endpoint) are never handed out again.
            ("RequestStartTransaction", lambda station_id, _, request:
             self.service.remote_start_ids.seen(station_id, request["remoteStartId"])),
            ("SetDisplayMessage", lambda station_id, _, request:
             self.service.display_message_ids.seen(station_id, request["message"]["id"])),
        ]
        senders += [(action, self.request_sending(action))
                    for action in ("GetBaseReport", "GetReport", "GetDisplayMessages")]
        for action, sender in senders:
            commands.before_send(action, _tolerant_sender(action, sender))
        listeners = {
            "TriggerMessage": self.trigger_answered(extended=False),
            "ExtendedTriggerMessage": self.trigger_answered(extended=True),
            "GetConfiguration": self.get_configuration,
            "ChangeConfiguration": self.change_configuration,
            "GetVariables": self.get_variables,
            "SetVariables": self.set_variables,
            "GetBaseReport": self.report_answered("GetBaseReport"),
            "GetReport": self.report_answered("GetReport"),
            "Reset": self.reset,
            "UnlockConnector": self.unlock,
            "ChangeAvailability": self.change_availability,
            "RemoteStartTransaction": self.remote_start,
            "RequestStartTransaction": self.remote_start,
            "RemoteStopTransaction": self.remote_stop,
            "RequestStopTransaction": self.remote_stop,
            "SetDisplayMessage": self.set_display_message,
            "GetDisplayMessages": self.get_display_messages,
            "ClearDisplayMessage": self.clear_display_message,
            "DataTransfer": self.data_transfer,
        }
        for action, listener in listeners.items():
            commands.on_answer(action, _tolerant_listener(action, listener))

    # -- boot gating and multi-part requests, before sending

    def trigger_sending(self, extended: bool) -> SendListener:
        def sending(station_id: str, version: OcppVersion, request: dict[str, Any]) -> None:
            targeted = request.get("connectorId") is not None or request.get("evse") is not None
            self.service.trigger_sending(station_id, triggered_action(
                version, request["requestedMessage"], extended=extended), targeted=targeted)

        return sending

    def request_sending(self, action: str) -> SendListener:
        def sending(station_id: str, version: OcppVersion, request: dict[str, Any]) -> None:
            self.service.requests.sending(station_id, request["requestId"], action,
                                          request_criteria(action, request))

        return sending

    # -- listeners

    def trigger_answered(self, extended: bool) -> AnswerListener:
        async def answered(station_id: str, version: OcppVersion, request: dict[str, Any],
                           answer: dict[str, Any]) -> None:
            if version is OcppVersion.V16:
                connector = request.get("connectorId")
                evse_id, connector_id = (None, None) if connector is None \
                    else evse_of_16(connector)
            else:
                evse = request.get("evse") or {}
                evse_id, connector_id = evse.get("id"), evse.get("connectorId")
            self.service.trigger_answered(
                station_id, triggered_action(version, request["requestedMessage"],
                                             extended=extended),
                answer["status"], evse_id, connector_id)

        return answered

    async def get_configuration(self, station_id: str, version: OcppVersion,
                                request: dict[str, Any], answer: dict[str, Any]) -> None:
        updates = [VariableUpdate(
            VariableKey("", item["key"]), status="Accepted", value=item.get("value"),
            set_value=True, mutability="ReadOnly" if item["readonly"] else "ReadWrite")
            for item in answer.get("configurationKey", [])]
        updates += [VariableUpdate(VariableKey("", key), status="UnknownVariable")
                    for key in answer.get("unknownKey", [])]
        # Without keys the answer is the station's whole configuration.
        await self.service.device_model.record(
            station_id, updates, complete=not request.get("key"), source="GetConfiguration")

    async def change_configuration(self, station_id: str, version: OcppVersion,
                                   request: dict[str, Any], answer: dict[str, Any]) -> None:
        status = answer["status"]
        changed = status in ("Accepted", "RebootRequired")
        key = VariableKey("", request["key"])
        await self.service.device_model.record(station_id, [VariableUpdate(
            key, status=_STATUS_16.get(status, status), value=request["value"],
            set_value=changed)], source="ChangeConfiguration")
        if changed and key.secret:
            password = decode_authorization_key(request["value"])
            if password is None:
                log.warning("%s accepted an AuthorizationKey that is not hex-encoded UTF-8; "
                            "its stored password is unchanged", station_id)
            else:
                await self.service.password_accepted(station_id, password)

    async def get_variables(self, station_id: str, version: OcppVersion,
                            request: dict[str, Any], answer: dict[str, Any]) -> None:
        updates = []
        for result in answer["getVariableResult"]:
            accepted = result["attributeStatus"] == "Accepted"
            updates.append(VariableUpdate(
                variable_key(result["component"], result["variable"],
                             result.get("attributeType")),
                status=result["attributeStatus"], value=result.get("attributeValue"),
                set_value=accepted))
        await self.service.device_model.record(station_id, updates, source="GetVariables")

    async def set_variables(self, station_id: str, version: OcppVersion,
                            request: dict[str, Any], answer: dict[str, Any]) -> None:
        updates, passwords = [], []
        for result in answer["setVariableResult"]:
            key = variable_key(result["component"], result["variable"],
                               result.get("attributeType"))
            sent = next((d for d in request["setVariableData"] if _same(d, key)), None)
            changed = result["attributeStatus"] in ("Accepted", "RebootRequired")
            updates.append(VariableUpdate(
                key, status=result["attributeStatus"],
                value=sent["attributeValue"] if sent else None,
                set_value=changed and sent is not None))
            if changed and sent is not None and key.secret and key.attribute_type == ACTUAL:
                passwords.append(sent["attributeValue"])
        await self.service.device_model.record(station_id, updates, source="SetVariables")
        for password in passwords[-1:]:
            await self.service.password_accepted(station_id, password)

    def report_answered(self, action: str) -> AnswerListener:
        async def answered(station_id: str, version: OcppVersion, request: dict[str, Any],
                           answer: dict[str, Any]) -> None:
            await self.service.device_model.report_answered(
                station_id, request["requestId"], action, request_criteria(action, request),
                answer["status"])

        return answered

    async def reset(self, station_id: str, version: OcppVersion, request: dict[str, Any],
                    answer: dict[str, Any]) -> None:
        self.service.command_answered("reset", station_id, type=request["type"],
                                      evse_id=request.get("evseId"), status=answer["status"])

    async def unlock(self, station_id: str, version: OcppVersion, request: dict[str, Any],
                     answer: dict[str, Any]) -> None:
        if version is OcppVersion.V16:
            evse_id, connector_id = evse_of_16(request["connectorId"])
        else:
            evse_id, connector_id = request["evseId"], request["connectorId"]
        self.service.command_answered("unlock", station_id, evse_id=evse_id,
                                      connector_id=connector_id, status=answer["status"])

    async def change_availability(self, station_id: str, version: OcppVersion,
                                  request: dict[str, Any], answer: dict[str, Any]) -> None:
        if version is OcppVersion.V16:
            evse_id, connector_id = evse_of_16(request["connectorId"])
            wanted = request["type"]
        else:
            evse = request.get("evse") or {}
            evse_id, connector_id = evse.get("id", 0), evse.get("connectorId") or 0
            wanted = request["operationalStatus"]
        await self.service.availability_answered(station_id, evse_id, connector_id,
                                                 wanted == "Operative", answer["status"])

    async def remote_start(self, station_id: str, version: OcppVersion,
                           request: dict[str, Any], answer: dict[str, Any]) -> None:
        if version is OcppVersion.V16:
            connector = request.get("connectorId")
            await self.service.remote_start_answered(
                station_id, None, request["idTag"],
                None if connector is None else evse_of_16(connector)[0], answer["status"],
                None)
        else:
            await self.service.remote_start_answered(
                station_id, request["remoteStartId"], request["idToken"]["idToken"],
                request.get("evseId"), answer["status"], answer.get("transactionId"))

    async def remote_stop(self, station_id: str, version: OcppVersion,
                          request: dict[str, Any], answer: dict[str, Any]) -> None:
        self.service.command_answered("remote_stop", station_id,
                                      transaction_id=str(request["transactionId"]),
                                      status=answer["status"])

    async def set_display_message(self, station_id: str, version: OcppVersion,
                                  request: dict[str, Any], answer: dict[str, Any]) -> None:
        await self.service.display_message_set(station_id, display_message(request["message"]),
                                               answer["status"])

    async def get_display_messages(self, station_id: str, version: OcppVersion,
                                   request: dict[str, Any], answer: dict[str, Any]) -> None:
        await self.service.display_messages_answered(
            station_id, request["requestId"], request_criteria("GetDisplayMessages", request),
            answer["status"])

    async def clear_display_message(self, station_id: str, version: OcppVersion,
                                    request: dict[str, Any], answer: dict[str, Any]) -> None:
        await self.service.display_message_cleared(station_id, request["id"], answer["status"])

    async def data_transfer(self, station_id: str, version: OcppVersion,
                            request: dict[str, Any], answer: dict[str, Any]) -> None:
        self.service.command_answered("data_transfer_sent", station_id,
                                      vendor_id=request["vendorId"],
                                      message_id=request.get("messageId"),
                                      status=answer["status"])


def request_criteria(action: str, request: dict[str, Any]) -> dict[str, Any]:
    """What a GetBaseReport, GetReport or GetDisplayMessages request asks for (empty: all)."""
    return {k: v for k, v in request.items() if k not in ("requestId", "customData")}
