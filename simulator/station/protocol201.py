"""OCPP 2.0.1 on the wire for :class:`~simulator.station.station.SimStation`: the messages the
station sends (TransactionEvent with seqNo, triggerReason and chargingState; connector statuses
Available / Occupied / Reserved / Unavailable / Faulted) and its answers to every
CSMS-initiated action of 2.0.1, modelled or properly refused.
"""

from __future__ import annotations

from typing import Any

from chargeloop.ocppj import ErrorKind, OcppError
from simulator.station.authorization import Verdict
from simulator.station.evse import CABLE_IN_SOCKET, EvseState, Transaction
from simulator.station.outbox import Kind, OutMessage
from simulator.station.protocol import Gen, ProtocolBase
from simulator.station.settings import notify_report_parts

# neutral stop reasons -> 2.0.1 ReasonEnumType
REASONS = {"Local": "Local", "Remote": "Remote", "EVDisconnected": "EVDisconnected",
           "DeAuthorized": "DeAuthorized", "HardReset": "ImmediateReset",
           "SoftReset": "ImmediateReset", "ImmediateReset": "ImmediateReset",
           "UnlockCommand": "Other", "PowerLoss": "PowerLoss", "Reboot": "Reboot",
           "EmergencyStop": "EmergencyStop", "Timeout": "Timeout", "Other": "Other",
           "GroundFailure": "GroundFault", "OverCurrentFailure": "OvercurrentFault",
           "StoppedByEV": "StoppedByEV", "MasterPass": "MasterPass"}
BOOT_REASONS = {"Immediate": "RemoteReset", "OnIdle": "RemoteReset", "Hard": "RemoteReset",
                "Soft": "RemoteReset"}
# firmware statuses of an update under way (the others end one)
FIRMWARE_BUSY = frozenset({"Downloading", "Downloaded", "DownloadScheduled", "DownloadPaused",
                           "SignatureVerified", "InstallScheduled", "Installing",
                           "InstallRebooting"})
NOT_MODELLED = {"reasonCode": "NotSupported",
                "additionalInfo": "not modelled by the simulated station"}


def _info(reason: str, text: str) -> dict[str, str]:
    return {"reasonCode": reason, "additionalInfo": text}


class Protocol201(ProtocolBase):
    def __init__(self, station: Any) -> None:
        super().__init__(station)
        self._display: dict[int, dict[str, Any]] = {}
        self._event_id = 0

    # -- statuses ----------------------------------------------------------------------------------

    def connector_status(self, evse: EvseState) -> str:
        if evse.fault is not None:
            return "Faulted"
        if evse.plugged or evse.extras.get(CABLE_IN_SOCKET):
            return "Occupied"
        if not evse.operative or not self.st.operative or \
                (self.st.firmware_pending and evse.tx is None):
            return "Unavailable"
        return "Available"

    def station_status(self) -> None:
        return None

    def status_messages(self, evse: EvseState, status: str) -> list[OutMessage]:
        st = self.st
        stamp = st.timestamp()

        def acked(_answer: dict[str, Any]) -> None:
            evse.acked_status = status

        messages = [OutMessage("StatusNotification", {
            "timestamp": stamp, "connectorStatus": status, "evseId": evse.id,
            "connectorId": evse.connector_id}, Kind.LIVE, on_answer=acked)]
        if st.spec.notify_event_on_status:
            self._event_id += 1
            messages.append(OutMessage("NotifyEvent", {
                "generatedAt": stamp, "seqNo": 0, "eventData": [{
                    "eventId": self._event_id, "timestamp": stamp, "trigger": "Delta",
                    "actualValue": status, "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "Connector", "evse": {
                        "id": evse.id, "connectorId": evse.connector_id}},
                    "variable": {"name": "AvailabilityState"}}]}, Kind.LIVE))
        if evse.fault == "ConnectorLockFailure" and status == "Faulted":
            messages.append(self._lock_problem(evse, stamp))
        return messages

    def _lock_problem(self, evse: EvseState, stamp: str) -> OutMessage:
        """G05.FR.02: the plug retention lock failed: NotifyEvent ConnectorPlugRetentionLock
        Problem true (TC_G_20)."""
        self._event_id += 1
        return OutMessage("NotifyEvent", {
            "generatedAt": stamp, "seqNo": 0, "eventData": [{
                "eventId": self._event_id, "timestamp": stamp, "trigger": "Delta",
                "actualValue": "true", "eventNotificationType": "HardWiredNotification",
                "component": {"name": "ConnectorPlugRetentionLock", "evse": {
                    "id": evse.id, "connectorId": evse.connector_id}},
                "variable": {"name": "Problem"}}]}, Kind.LIVE)

    def station_status_messages(self, status: str) -> list[OutMessage]:
        return []

    def after_refresh(self, evse: EvseState, trigger: str | None) -> None:
        tx = evse.tx
        if tx is not None and tx.reported_state != evse.charging_state:
            if evse.charging_state == "SuspendedEV" and tx.reported_state == "Charging" and \
                    "EnergyTransfer" in self.st.settings.tx_stop_points:
                # TxStopPoint EnergyTransfer: the EV stopping the energy transfer ends the
                # transaction (E06.FR.07)
                self.st.end_transaction(evse, "StoppedByEV", "ChargingStateChanged")
                return
            self.tx_event(evse, tx, "ChargingStateChanged")

    def after_boot(self, everything: bool) -> None:
        """Nothing beyond the statuses (NotifyEvent comes with them when configured)."""

    # -- boot, heartbeat, authorisation ------------------------------------------------------------

    def boot_payload(self) -> dict[str, Any]:
        st = self.st
        station: dict[str, Any] = {"model": st.spec.model[:20],
                                   "vendorName": st.spec.vendor[:50],
                                   "firmwareVersion": st.firmware_version[:50]}
        if st.spec.serial_number:
            station["serialNumber"] = st.spec.serial_number[:25]
        return {"reason": st.boot_reason, "chargingStation": station}

    def boot_reason_for_reset(self, kind: str) -> str:
        return BOOT_REASONS.get(kind, "RemoteReset")

    def boot_reason_for_firmware(self) -> str:
        return "FirmwareUpdate"

    def store_heartbeat_interval(self, interval: int) -> None:
        settings = self.st.settings
        if settings.find("OCPPCommCtrlr", "HeartbeatInterval") is not None:  # type: ignore[attr-defined]
            settings.set_actual("OCPPCommCtrlr", "HeartbeatInterval",  # type: ignore[attr-defined]
                                str(interval))

    def heartbeat_message(self) -> OutMessage:
        return OutMessage("Heartbeat", {}, Kind.LIVE)

    @staticmethod
    def token(token_id: str, token_type: str) -> dict[str, str]:
        return {"idToken": token_id, "type": token_type}

    def authorize_message(self, token_id: str, token_type: str,
                          evse_id: int | None) -> OutMessage:
        return OutMessage("Authorize", {"idToken": self.token(token_id, token_type)},
                          Kind.REQUEST)

    def authorize_verdict(self, answer: dict[str, Any]) -> Any:
        info = answer["idTokenInfo"]
        group = info.get("groupIdToken")
        return Verdict(info["status"], group["idToken"] if group else None, "Csms")

    # -- transactions ------------------------------------------------------------------------------

    def transaction_known(self, tx: Transaction) -> bool:
        return True

    def unrecorded(self) -> list[Transaction]:
        return []

    def _event(self, evse: EvseState, tx: Transaction, event_type: str, trigger: str, *,
               meter_value: list[dict[str, Any]] | None = None, with_token: bool = False,
               reason: str | None = None, essential: bool = False) -> OutMessage:
        st = self.st
        info: dict[str, Any] = {"transactionId": tx.local_id}
        state = evse.charging_state
        # a triggered event reports the state as it is (F06: chargingState with meterValue)
        if tx.reported_state != state or event_type != "Updated" or trigger == "Trigger":
            info["chargingState"] = state
            tx.reported_state = state
        if reason is not None:
            info["stoppedReason"] = reason
        payload: dict[str, Any] = {"eventType": event_type, "timestamp": st.timestamp(),
                                   "triggerReason": trigger, "seqNo": tx.next_seq(),
                                   "transactionInfo": info}
        payload["evse"] = {"id": evse.id, "connectorId": evse.connector_id}
        if with_token and evse.auth is not None:
            payload["idToken"] = self.token(evse.auth.id_token, evse.auth.token_type)
            tx.authorized_seen = True
            # F02.FR.01: the remoteStartId goes in the event that first carries the remote
            # start's token, whether the remote start or (a remote start first, TxStartPoint
            # not Authorized) the cable started the transaction
            if evse.auth.remote_start_id is not None:
                info["remoteStartId"] = evse.auth.remote_start_id
        if trigger == "StopAuthorized" and tx.stop_token is not None and \
                "idToken" not in payload:
            # the idToken that ended the authorization, another of the group or a master pass
            # (TransactionEventRequest.idToken: required when the driver ends it; TC_E_45)
            kind = evse.auth.token_type if evse.auth is not None else "ISO14443"
            payload["idToken"] = self.token(tx.stop_token, kind)
        if tx.reservation_id is not None and not tx.reservation_reported:
            payload["reservationId"] = tx.reservation_id  # the event that used it
            tx.reservation_reported = True
        if meter_value:
            payload["meterValue"] = meter_value

        def prepare(message: OutMessage) -> dict[str, Any]:
            if message.queued:
                return {**message.payload, "offline": True}
            return message.payload

        def answered(answer: dict[str, Any]) -> None:
            if "idToken" not in payload:
                return
            st.authorizer.remember("TransactionEvent", payload, answer, st.utc())
            info = answer.get("idTokenInfo")
            if info is not None and info["status"] != "Accepted" and evse.tx is tx and \
                    evse.auth is not None:
                st.id_not_accepted(evse, tx, info["status"])

        message = OutMessage("TransactionEvent", payload, Kind.TRANSACTION,
                             essential=essential, prepare=prepare, on_answer=answered)
        st.enqueue(message)
        return message

    def _meter_value(self, evse: EvseState, tx: Transaction | None, context: str,
                     measurands: tuple[str, ...]) -> list[dict[str, Any]]:
        if not measurands:
            return []
        values = self.st.sample(evse, context, measurands, tx)
        return [{"timestamp": self.st.timestamp(), "sampledValue": values}] if values else []

    def tx_started(self, evse: EvseState, tx: Transaction, trigger: str) -> None:
        measurands = self.st.settings.tx_started_measurands
        if self.starts_on_signed_data():
            # the transaction starts on the meter's signed reading (E01.FR.04): the register,
            # signed, is in the Started event
            trigger = "SignedDataReceived"
            measurands = tuple(dict.fromkeys((*measurands, "Energy.Active.Import.Register")))
        meter = self._meter_value(evse, tx, "Transaction.Begin", measurands)
        if self._starts_on_energy_transfer():
            # the transaction starts as the energy starts to flow (E01.FR.06)
            self.st.evaluate(evse)
            trigger = "ChargingStateChanged"
        else:
            evse.charging_state = "EVConnected" if evse.plugged else "Idle"
        self._event(evse, tx, "Started", trigger, meter_value=meter,
                    with_token=evse.auth is not None, essential=True)

    def tx_started_without_evse(self, tx: Transaction) -> None:
        """Started by a token at the station's reader before an EVSE is chosen (TxStartPoint
        Authorized): no evse, and no meterValue, as no EVSE's meter is known yet — the
        Transaction.Begin values go in the first event after the EVSE is known (TC_J_08)."""
        tx.authorized_seen = True
        self._event_without_evse(tx, "Started", "Authorized", {"chargingState": "Idle"},
                                 id_token=self.token(tx.id_token or "", tx.token_type or
                                                     "ISO14443"))

    def tx_ended_without_evse(self, tx: Transaction) -> None:
        """No EV came for a transaction that never got an EVSE (EVConnectionTimeOut)."""
        self._event_without_evse(tx, "Ended", "EVConnectTimeout", {
            "chargingState": "Idle", "stoppedReason": "Timeout"})

    def _event_without_evse(self, tx: Transaction, event_type: str, trigger: str,
                            info: dict[str, Any], *,
                            id_token: dict[str, Any] | None = None) -> None:
        tx.reported_state = info["chargingState"]
        payload: dict[str, Any] = {"eventType": event_type, "timestamp": self.st.timestamp(),
                                   "triggerReason": trigger, "seqNo": tx.next_seq(),
                                   "transactionInfo": {"transactionId": tx.local_id, **info}}
        if id_token is not None:
            payload["idToken"] = id_token

        def prepare(message: OutMessage) -> dict[str, Any]:
            return {**message.payload, "offline": True} if message.queued else message.payload

        self.st.enqueue(OutMessage("TransactionEvent", payload, Kind.TRANSACTION,
                                   essential=True, prepare=prepare))

    def tx_evse_known(self, evse: EvseState, tx: Transaction) -> None:
        """The EV plugged in at ``evse`` for a transaction started before the EVSE was known:
        Updated with the evse and the Transaction.Begin values (TxStartedMeasurands)."""
        evse.charging_state = "EVConnected"
        meter = self._meter_value(evse, tx, "Transaction.Begin",
                                  self.st.settings.tx_started_measurands)
        self._event(evse, tx, "Updated", "CablePluggedIn", meter_value=meter)

    def starts_on_signed_data(self) -> bool:
        """TxStartPoint DataSigned starts the transaction (no earlier point in it)."""
        points = set(self.st.settings.tx_start_points)
        return "DataSigned" in points and not points & {
            "ParkingBayOccupancy", "EVConnected", "Authorized"}

    def _starts_on_energy_transfer(self) -> bool:
        """TxStartPoint is EnergyTransfer alone (no earlier point starts the transaction)."""
        points = set(self.st.settings.tx_start_points)
        return "EnergyTransfer" in points and not points & {
            "ParkingBayOccupancy", "EVConnected", "Authorized", "PowerPathClosed", "DataSigned"}

    def tx_event(self, evse: EvseState, tx: Transaction, trigger: str) -> None:
        self.st.evaluate(evse)
        with_token = trigger in ("Authorized", "RemoteStart") and not tx.authorized_seen
        if with_token and evse.auth is not None:
            tx.id_token, tx.token_type = evse.auth.id_token, evse.auth.token_type
            tx.remote_start_id = evse.auth.remote_start_id
        self._event(evse, tx, "Updated", trigger, with_token=with_token)

    def tx_sample(self, evse: EvseState, tx: Transaction, context: str) -> None:
        settings = self.st.settings
        measurands = settings.sampled_measurands if context != "Sample.Clock" \
            else settings.aligned_measurands
        meter = self._meter_value(evse, tx, context, measurands)
        if not meter:
            return
        trigger = "MeterValueClock" if context == "Sample.Clock" else "MeterValuePeriodic"
        self._event(evse, tx, "Updated", trigger, meter_value=meter)

    def tx_ended(self, evse: EvseState, tx: Transaction, reason: str, trigger: str) -> None:
        meter = tx.ended_values + self._meter_value(evse, tx, "Transaction.End",
                                                    self.st.settings.tx_ended_measurands)
        evse.charging_state = "EVConnected" if evse.plugged else "Idle"
        self._event(evse, tx, "Ended", trigger, meter_value=meter,
                    reason=REASONS.get(reason, "Other"), essential=True)

    def meter_values(self, evse: EvseState, context: str) -> None:
        meter = self._meter_value(evse, None, context, self.st.settings.aligned_measurands)
        if meter:
            self.st.enqueue(OutMessage("MeterValues", {"evseId": evse.id, "meterValue": meter},
                                     Kind.ALIGNED if context == "Sample.Clock" else Kind.LIVE))

    def reservation_ended(self, reservation_id: int, status: str) -> None:
        self.st.enqueue(OutMessage("ReservationStatusUpdate", {
            "reservationId": reservation_id, "reservationUpdateStatus": status}, Kind.LIVE))

    # -- CSMS-initiated ----------------------------------------------------------------------------

    HANDLERS = {
        "RequestStartTransaction": "request_start", "RequestStopTransaction": "request_stop",
        "Reset": "reset", "UnlockConnector": "unlock",
        "ChangeAvailability": "change_availability", "GetVariables": "get_variables",
        "SetVariables": "set_variables", "GetBaseReport": "get_base_report",
        "GetReport": "get_report", "ClearCache": "clear_cache",
        "SendLocalList": "send_local_list", "GetLocalListVersion": "local_list_version",
        "TriggerMessage": "trigger", "ReserveNow": "reserve_now",
        "CancelReservation": "cancel_reservation", "SetChargingProfile": "set_charging_profile",
        "ClearChargingProfile": "clear_charging_profile",
        "GetChargingProfiles": "get_charging_profiles",
        "GetCompositeSchedule": "composite_schedule", "UpdateFirmware": "update_firmware",
        "GetLog": "get_log", "GetTransactionStatus": "transaction_status",
        "DataTransfer": "data_transfer", "SetDisplayMessage": "set_display_message",
        "GetDisplayMessages": "get_display_messages",
        "ClearDisplayMessage": "clear_display_message",
        "CustomerInformation": "customer_information",
        "SetNetworkProfile": "set_network_profile",
        "InstallCertificate": "install_certificate", "DeleteCertificate": "delete_certificate",
        "GetInstalledCertificateIds": "installed_certificates",
        "CertificateSigned": "certificate_signed", "CostUpdated": "cost_updated",
        "SetMonitoringBase": "not_modelled_not_supported",
        "SetMonitoringLevel": "not_modelled_rejected",
        "GetMonitoringReport": "not_modelled_not_supported",
        "SetVariableMonitoring": "set_variable_monitoring",
        "ClearVariableMonitoring": "clear_variable_monitoring",
        "PublishFirmware": "not_modelled_rejected", "UnpublishFirmware": "unpublish_firmware",
    }

    def get_variables(self, p: dict[str, Any]) -> Any:
        return self.st.settings.get_variables(p)  # type: ignore[attr-defined]

    def set_variables(self, p: dict[str, Any]) -> Any:
        return self.st.settings.set_variables(p)  # type: ignore[attr-defined]

    def set_network_profile(self, p: dict[str, Any]) -> Any:
        settings = self.st.settings
        return self.st.network.set_profile(  # type: ignore[attr-defined]
            p, settings.security_profile, bool(settings.seed.has_client_certificate))

    def cost_updated(self, p: dict[str, Any]) -> Any:
        return {}

    def not_modelled_rejected(self, p: dict[str, Any]) -> Any:
        return {"status": "Rejected", "statusInfo": NOT_MODELLED}

    def not_modelled_not_supported(self, p: dict[str, Any]) -> Any:
        return {"status": "NotSupported", "statusInfo": NOT_MODELLED}

    def clear_variable_monitoring(self, p: dict[str, Any]) -> Any:
        return {"clearMonitoringResult": [{"id": i, "status": "NotFound"} for i in p["id"]]}

    def unpublish_firmware(self, p: dict[str, Any]) -> Any:
        return {"status": "NoFirmware"}

    def request_start(self, p: dict[str, Any]) -> Any:
        evse_id = p.get("evseId")
        evse = self.free_evse() if evse_id is None else self.evse_or_none(evse_id)
        rejected = {"status": "Rejected"}
        if evse is None or not self.startable(evse):
            return rejected
        # F01.FR.12: a station without Smart Charging ignores the profile
        profile = p.get("chargingProfile") if self.smart_charging else None
        if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
            return {"status": "Rejected", "statusInfo": _info(
                "InvalidProfile", "a profile with a remote start must be a TxProfile")}
        token = p["idToken"]
        answer: dict[str, Any] = {"status": "Accepted"}
        if evse.tx is not None:
            answer["transactionId"] = evse.tx.local_id  # started at the cable, not yet authorised
        return answer, self.remote_start_flow(evse, token["idToken"], token["type"],
                                              p["remoteStartId"], profile)

    def request_stop(self, p: dict[str, Any]) -> Any:
        wanted = p["transactionId"]
        evse = next((e for e in self.st.evses if e.tx is not None and e.tx.local_id == wanted),
                    None)
        if evse is None:
            return {"status": "Rejected"}
        if evse.auth is None:
            return {"status": "Accepted"}, self.later(self.st.end_transaction, evse, "Remote",
                                                      "RemoteStop")
        return {"status": "Accepted"}, self.later(self.st.deauthorize, evse, "Remote",
                                                  "RemoteStop")

    def reset(self, p: dict[str, Any]) -> Any:
        st = self.st
        kind = p["type"]
        evse_id = p.get("evseId")
        if evse_id:
            if not st.spec.evse_reset:  # B11.FR.09 / B12.FR.09
                return {"status": "Rejected", "statusInfo": _info(
                    "NotSupported", "a single EVSE cannot be reset")}
            evse = self.evse_or_none(evse_id)
            if evse is None:
                return {"status": "Rejected", "statusInfo": _info("UnknownEvse",
                                                                  f"no EVSE {evse_id}")}
            if evse.tx is not None and kind == "OnIdle":
                return {"status": "Scheduled"}
            return {"status": "Accepted"}, self.later(st.end_transaction, evse, "ImmediateReset",
                                                      "ResetCommand")
        if kind == "OnIdle" and any(e.tx is not None for e in st.evses):
            st.reset_when_idle(kind)
            return {"status": "Scheduled"}
        return {"status": "Accepted"}, self.later(st.reset, kind, "ImmediateReset",
                                                  "ResetCommand")

    def unlock(self, p: dict[str, Any]) -> Any:
        evse = self.evse_or_none(p["evseId"])
        if evse is None or not any(c.id == p["connectorId"] for c in evse.spec.connectors):
            return {"status": "UnknownConnector"}
        if evse.tx is not None and evse.auth is not None:
            return {"status": "OngoingAuthorizedTransaction"}
        if evse.spec.connectors[0].fixed_cable:
            return {"status": "UnlockFailed", "statusInfo": _info("FixedCable",
                                                                  "the cable is fixed")}
        return {"status": "Unlocked"}

    def change_availability(self, p: dict[str, Any]) -> Any:
        operative = p["operationalStatus"] == "Operative"
        wanted = p.get("evse")
        if wanted is None or wanted["id"] == 0:
            evses, station = self.st.evses, True
        else:
            evse = self.evse_or_none(wanted["id"])
            if evse is None:
                return {"status": "Rejected", "statusInfo": _info("UnknownEvse",
                                                                  f"no EVSE {wanted['id']}")}
            evses, station = [evse], False
        status = self.st.change_availability(evses, operative, station=station)
        return {"status": status}, self.later(self.st.refresh_all)

    def get_base_report(self, p: dict[str, Any]) -> Any:
        answer, items = self.st.settings.get_base_report(p)  # type: ignore[attr-defined]
        if answer["status"] != "Accepted":
            return answer
        return answer, self.later(self._notify_report, p["requestId"], items)

    def get_report(self, p: dict[str, Any]) -> Any:
        answer, items = self.st.settings.custom_report(p)  # type: ignore[attr-defined]
        if answer["status"] != "Accepted":
            return answer
        return answer, self.later(self._notify_report, p["requestId"], items)

    def _notify_report(self, request_id: int, items: list[dict[str, Any]]) -> None:
        st = self.st
        for part in notify_report_parts(request_id, items, generated_at=st.utc(),
                                        items_per_message=st.settings.items_per_message):
            st.enqueue(OutMessage("NotifyReport", part, Kind.LIVE))

    def trigger(self, p: dict[str, Any]) -> Any:
        st = self.st
        wanted = p.get("evse")
        evses = list(st.evses)
        if wanted is not None and wanted.get("id"):
            evse = self.evse_or_none(wanted["id"])
            if evse is None:
                return {"status": "Rejected", "statusInfo": _info("UnknownEvse",
                                                                  f"no EVSE {wanted['id']}")}
            evses = [evse]
        requested = p["requestedMessage"]
        follow: Gen
        if requested == "BootNotification":
            if st.boot_again_now():
                return {"status": "Accepted"}
            return {"status": "Rejected", "statusInfo": _info(
                "NotEnabled", "the boot has been accepted already")}
        if requested == "Heartbeat":
            follow = self.later(st.enqueue, self.heartbeat_message())
        elif requested == "StatusNotification":
            follow = self.later(self._send_statuses, evses)
        elif requested == "MeterValues":
            follow = self.later(self._send_meter_values, evses)
        elif requested == "TransactionEvent":
            running = [e for e in evses if e.tx is not None]
            if not running:
                return {"status": "Rejected", "statusInfo": _info("NoTransaction",
                                                                  "no transaction running")}
            follow = self.later(self._send_transaction_events, running)
        elif requested == "FirmwareStatusNotification":
            # F06.FR.16 / L01.FR.25: Idle unless an update is under way (its last status)
            payload: dict[str, Any] = {"status": st.firmware_status
                                       if st.firmware_status in FIRMWARE_BUSY else "Idle"}
            if st.firmware_request_id is not None and payload["status"] != "Idle":
                payload["requestId"] = st.firmware_request_id
            follow = self.later(st.enqueue, OutMessage("FirmwareStatusNotification", payload,
                                                     Kind.LIVE))
        elif requested == "LogStatusNotification":
            payload = {"status": st.log_status if st.log_status == "Uploading" else "Idle"}
            if st.log_request_id is not None and payload["status"] != "Idle":
                payload["requestId"] = st.log_request_id
            follow = self.later(st.enqueue, OutMessage("LogStatusNotification", payload,
                                                     Kind.LIVE))
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}, follow

    def _send_statuses(self, evses: list[EvseState]) -> None:
        for evse in evses:
            for message in self.status_messages(evse, self.st.status_of(evse)):
                self.st.enqueue(message)

    def _send_meter_values(self, evses: list[EvseState]) -> None:
        for evse in evses:
            evse.settle(self.env.now)
            meter = self._meter_value(evse, evse.tx, "Trigger",
                                      self.st.settings.sampled_measurands)
            if meter:
                self.st.enqueue(OutMessage("MeterValues", {"evseId": evse.id,
                                                         "meterValue": meter}, Kind.LIVE))

    def _send_transaction_events(self, evses: list[EvseState]) -> None:
        for evse in evses:
            if evse.tx is not None:
                evse.settle(self.env.now)
                meter = self._meter_value(evse, evse.tx, "Trigger",
                                          self.st.settings.sampled_measurands)
                self._event(evse, evse.tx, "Updated", "Trigger", meter_value=meter)

    def reserve_now(self, p: dict[str, Any]) -> Any:
        st = self.st
        answer = st.reservations.reserve(p, st.reservation_view(), now=st.utc())
        if answer["status"] == "Accepted":
            return answer, self.later(st.refresh_all)
        return answer

    def cancel_reservation(self, p: dict[str, Any]) -> Any:
        st = self.st
        answer = st.reservations.cancel(p)
        if answer["status"] == "Accepted":
            return answer, self.later(st.refresh_all)
        return answer

    @property
    def smart_charging(self) -> bool:
        """Whether the station implements Smart Charging (without it the smart charging
        messages are not supported and a remote start's profile is ignored)."""
        return "SmartCharging" in self.st.settings.seed.features

    def _smart_charging_needed(self, action: str) -> None:
        if not self.smart_charging:
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{action}: no Smart Charging here")

    def set_charging_profile(self, p: dict[str, Any]) -> Any:
        self._smart_charging_needed("SetChargingProfile")
        st = self.st
        evse_id = p["evseId"]
        evse = self.evse_or_none(evse_id)
        active = evse.tx.local_id if evse is not None and evse.tx is not None else None
        answer = st.profiles.set(evse_id, p["chargingProfile"], active_transaction_id=active)
        if answer["status"] == "Accepted":
            st.settings.note_charging_profiles(len(st.profiles))
            return answer, self.later(st.profiles_changed, evse_id)
        return answer

    def clear_charging_profile(self, p: dict[str, Any]) -> Any:
        self._smart_charging_needed("ClearChargingProfile")
        st = self.st
        answer = st.profiles.clear(p)
        if answer["status"] == "Accepted":
            st.settings.note_charging_profiles(len(st.profiles))
            return answer, self.later(st.profiles_changed, None)
        return answer

    def get_charging_profiles(self, p: dict[str, Any]) -> Any:
        self._smart_charging_needed("GetChargingProfiles")
        reports = self.st.profiles.report(p)
        if not reports:
            return {"status": "NoProfiles"}
        return {"status": "Accepted"}, self.later(self._send_reports, reports)

    def _send_reports(self, reports: list[dict[str, Any]]) -> None:
        for report in reports:
            self.st.enqueue(OutMessage("ReportChargingProfiles", report, Kind.LIVE))

    def composite_schedule(self, p: dict[str, Any]) -> Any:
        self._smart_charging_needed("GetCompositeSchedule")
        st = self.st
        evse = self.evse_or_none(p["evseId"])
        tx = evse.tx if evse is not None else None
        return st.profiles.get_composite_schedule(
            p, st.utc(), transaction_start_utc=st.utc(tx.started_s) if tx else None,
            phases=evse.spec.phases if evse is not None else 3,
            voltage_v=st.spec.meter.nominal_voltage_v)

    def update_firmware(self, p: dict[str, Any]) -> Any:
        return self.start_firmware_update(p, lambda status: OutMessage(
            "FirmwareStatusNotification", {"status": status, "requestId": p["requestId"]},
            Kind.LIVE))

    def get_log(self, p: dict[str, Any]) -> Any:
        return self.start_log_upload(p, lambda status: OutMessage(
            "LogStatusNotification", {"status": status, "requestId": p["requestId"]},
            Kind.LIVE))

    def transaction_status(self, p: dict[str, Any]) -> Any:
        st = self.st
        wanted = p.get("transactionId")
        if wanted is None:
            return {"messagesInQueue": st.outbox_holds(
                lambda m: m.action == "TransactionEvent")}
        ongoing = any(e.tx is not None and e.tx.local_id == wanted for e in st.evses)
        queued = st.outbox_holds(lambda m: m.action == "TransactionEvent" and
                                 m.payload["transactionInfo"]["transactionId"] == wanted)
        return {"ongoingIndicator": ongoing, "messagesInQueue": queued}

    def set_display_message(self, p: dict[str, Any]) -> Any:
        message = p["message"]
        transaction = message.get("transactionId")
        if transaction is not None and not any(
                e.tx is not None and e.tx.local_id == transaction for e in self.st.evses):
            return {"status": "UnknownTransaction"}
        self._display[message["id"]] = message
        return {"status": "Accepted"}

    def get_display_messages(self, p: dict[str, Any]) -> Any:
        ids = p.get("id")
        found = [m for i, m in sorted(self._display.items())
                 if (ids is None or i in ids)
                 and (p.get("priority") is None or m.get("priority") == p["priority"])
                 and (p.get("state") is None or m.get("state") == p["state"])]
        if not found:
            return {"status": "Unknown"}
        return {"status": "Accepted"}, self.later(self.st.enqueue, OutMessage(
            "NotifyDisplayMessages", {"requestId": p["requestId"], "messageInfo": found},
            Kind.LIVE))

    def clear_display_message(self, p: dict[str, Any]) -> Any:
        if self._display.pop(p["id"], None) is None:
            return {"status": "Unknown"}
        return {"status": "Accepted"}

    def customer_information(self, p: dict[str, Any]) -> Any:
        """N09 / N10: a request naming no customer (idToken, customerCertificate or
        customerIdentifier) is Invalid (TC_N_29); the report says what the station holds
        about the customer (its local list and cache entries for an idToken), read before a
        clear empties the cache."""
        st = self.st
        token = p.get("idToken")
        if not any(key in p for key in ("idToken", "customerCertificate",
                                        "customerIdentifier")):
            return {"status": "Invalid", "statusInfo": _info(
                "InvalidValue", "no idToken, customerCertificate or customerIdentifier")}
        data = self._customer_data(p)
        if p["clear"] and token is not None:
            st.auth_cache.clear()
        if not p["report"]:
            return {"status": "Accepted"}
        return {"status": "Accepted"}, self.later(st.enqueue, OutMessage(
            "NotifyCustomerInformation", {"data": data[:512], "seqNo": 0,
                                          "generatedAt": st.timestamp(),
                                          "requestId": p["requestId"], "tbc": False},
            Kind.LIVE))

    def _customer_data(self, p: dict[str, Any]) -> str:
        """What the station holds about the customer of a CustomerInformation request."""
        st = self.st
        token = p.get("idToken")
        if token is None:
            who = p.get("customerIdentifier") or "the certificate's customer"
            return f"customer {who}: no stored data"
        held = [f"{where} entry {entry.status}" for where, entry in (
            ("local list", st.local_list.lookup(token)),
            ("authorization cache", st.auth_cache.lookup(token, st.utc())))
            if entry is not None]
        return f"token {token['idToken']}: " + ("; ".join(held) or "no stored data")

    def set_variable_monitoring(self, p: dict[str, Any]) -> Any:
        return {"setMonitoringResult": [{
            "status": "UnsupportedMonitorType", "type": item["type"],
            "severity": item["severity"], "component": item["component"],
            "variable": item["variable"], "statusInfo": NOT_MODELLED}
            for item in p["setMonitoringData"]]}
