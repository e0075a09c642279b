"""OCPP 1.6J on the wire for :class:`~simulator.station.station.SimStation`: the messages the
station sends, and its answers to every CSMS-initiated action (Core, Firmware Management, Local
Auth List Management, Reservation, Smart Charging, Remote Trigger, Security whitepaper).

1.6 numbers connectors 1..n (connector n is EVSE n) and 0 for the whole station. Transactions
get their id from the CSMS: messages about a transaction whose StartTransaction is still queued
take the id at the moment they are sent.
"""

from __future__ import annotations

from typing import Any

from simulator.station.authorization import Verdict
from simulator.station.evse import (
    CABLE_LOCKED_FOR,
    CHARGING,
    SUSPENDED_EV,
    SUSPENDED_EVSE,
    EvseState,
    Transaction,
)
from simulator.station.outbox import Kind, OutMessage
from simulator.station.protocol import Gen, ProtocolBase

ERROR_CODES = frozenset({
    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
    "InternalError", "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure",
    "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage",
    "OverVoltage", "WeakSignal"})
# neutral stop reasons -> 1.6 Reason
REASONS = {"Local": "Local", "Remote": "Remote", "EVDisconnected": "EVDisconnected",
           "DeAuthorized": "DeAuthorized", "HardReset": "HardReset", "SoftReset": "SoftReset",
           "UnlockCommand": "UnlockCommand", "PowerLoss": "PowerLoss", "Reboot": "Reboot",
           "EmergencyStop": "EmergencyStop", "ImmediateReset": "HardReset", "Timeout": "Other",
           "Other": "Other"}


class Protocol16(ProtocolBase):
    def __init__(self, station: Any) -> None:
        super().__init__(station)
        self._awaiting_id: list[Transaction] = []  # ended before the CSMS gave their id

    # -- statuses ----------------------------------------------------------------------------------

    def connector_status(self, evse: EvseState) -> str:
        if evse.fault is not None:
            return "Faulted"
        tx = evse.tx
        if tx is not None:
            if not evse.plugged:
                # the EV side was disconnected and the transaction goes on
                # (StopTransactionOnEVSideDisconnect false): not "Preparing", which 1.6 keeps
                # for a connector with no transaction yet
                return SUSPENDED_EV
            if evse.auth is None:
                return SUSPENDED_EVSE
            state = evse.charging_state
            if state in (CHARGING, SUSPENDED_EV, SUSPENDED_EVSE):
                return state
            return SUSPENDED_EVSE
        if not evse.operative or not self.st.operative:
            return "Unavailable"
        if evse.plugged:
            return "Finishing" if evse.finishing else "Preparing"
        if CABLE_LOCKED_FOR in evse.extras:  # the cable is still locked in the socket
            return "Finishing"
        if evse.auth is not None:
            return "Preparing"
        return "Available"

    def station_status(self) -> str:
        if self.st.fault_code is not None:
            return "Faulted"
        return "Available" if self.st.operative else "Unavailable"

    def _status_message(self, connector_id: int, status: str, error: str | None,
                        acked: Any) -> OutMessage:
        payload: dict[str, Any] = {"connectorId": connector_id, "status": status,
                                   "errorCode": "NoError", "timestamp": self.st.timestamp()}
        if error is not None:
            if error in ERROR_CODES:
                payload["errorCode"] = error
            else:
                payload["errorCode"] = "OtherError"
                payload["vendorErrorCode"] = error[:50]
        return OutMessage("StatusNotification", payload, Kind.LIVE,
                          on_answer=lambda _answer: acked(status))

    def status_messages(self, evse: EvseState, status: str) -> list[OutMessage]:
        def acked(value: str) -> None:
            evse.acked_status = value

        return [self._status_message(evse.id, status,
                                     evse.fault, acked)]

    def station_status_messages(self, status: str) -> list[OutMessage]:
        def acked(value: str) -> None:
            self.st.station_acked_status = value

        return [self._status_message(0, status, self.st.fault_code, acked)]

    def after_refresh(self, evse: EvseState, trigger: str | None) -> None:
        """1.6 has no charging state apart from the connector status."""

    def after_boot(self, everything: bool) -> None:
        """Nothing beyond the statuses in 1.6."""

    # -- boot, heartbeat, authorisation ------------------------------------------------------------

    def boot_payload(self) -> dict[str, Any]:
        spec = self.st.spec
        payload = {"chargePointVendor": spec.vendor[:20], "chargePointModel": spec.model[:20],
                   "firmwareVersion": self.st.firmware_version[:50]}
        if spec.serial_number:
            payload["chargePointSerialNumber"] = spec.serial_number[:25]
        return payload

    def boot_reason_for_reset(self, kind: str) -> str:
        return kind

    def boot_reason_for_firmware(self) -> str:
        return "FirmwareUpdate"

    def store_heartbeat_interval(self, interval: int) -> None:
        self.st.settings.change({"key": "HeartbeatInterval", "value": str(interval)})

    def heartbeat_message(self) -> OutMessage:
        return OutMessage("Heartbeat", {}, Kind.LIVE)

    @staticmethod
    def token(token_id: str, token_type: str) -> str:
        return token_id

    def authorize_message(self, token_id: str, token_type: str,
                          evse_id: int | None) -> OutMessage:
        return OutMessage("Authorize", {"idTag": token_id}, Kind.REQUEST)

    def authorize_verdict(self, answer: dict[str, Any]) -> Any:
        info = answer["idTagInfo"]
        return Verdict(info["status"], info.get("parentIdTag"), "Csms")

    # -- transactions ------------------------------------------------------------------------------

    def transaction_known(self, tx: Transaction) -> bool:
        return tx.ocpp_id is not None or tx.start_failed

    def unrecorded(self) -> list[Transaction]:
        return [tx for tx in self._awaiting_id if not tx.recorded]

    def _with_id(self, message: OutMessage, tx: Transaction) -> dict[str, Any] | None:
        if tx.ocpp_id is None:
            return None  # the start never got through: nothing to say about it
        return {**message.payload, "transactionId": int(tx.ocpp_id)}

    def tx_started(self, evse: EvseState, tx: Transaction, trigger: str) -> None:
        st = self.st
        begin = st.sample(evse, "Transaction.Begin", ("Energy.Active.Import.Register",), tx)
        tx_data = [{"timestamp": st.timestamp(), "sampledValue": begin}]
        evse.extras["tx_begin"] = tx_data
        payload: dict[str, Any] = {"connectorId": evse.id, "idTag": tx.id_token or "",
                                   "meterStart": round(tx.meter_start_wh),
                                   "timestamp": st.timestamp()}
        if tx.reservation_id is not None:
            payload["reservationId"] = tx.reservation_id
        self._awaiting_id.append(tx)

        def answered(answer: dict[str, Any]) -> None:
            tx.ocpp_id = str(answer["transactionId"])
            st.recorder.transaction_id(st.id, tx.local_id, tx.ocpp_id)
            self._awaiting_id.remove(tx)
            st.authorizer.remember("StartTransaction", payload, answer, st.utc())
            st.transaction_known(tx)
            if evse.tx is tx:
                self.install_remote_profile(evse)
            status = answer["idTagInfo"]["status"]
            if status != "Accepted" and evse.tx is tx and st.settings.stop_tx_on_invalid_id:
                st.event("transaction_deauthorized", f"evse {evse.id}: {status}")
                st.deauthorize(evse, "DeAuthorized", "Deauthorized")
            elif status != "Accepted" and evse.tx is tx and \
                    not st.settings.max_energy_on_invalid_id_wh:
                # StopTransactionOnInvalidId false: the transaction goes on, but no energy
                # beyond MaxEnergyOnInvalidId (0 or unset: none at all): SuspendedEVSE
                st.event("transaction_suspended", f"evse {evse.id}: {status}")
                evse.auth = None
                st.changed(evse, "Deauthorized")

        def given_up(error: Exception) -> None:
            # no id will ever come: what follows about this transaction is dropped, and the
            # session is recorded under the station's own id
            tx.start_failed = True
            self._awaiting_id.remove(tx)
            st.event("transaction_start_failed", f"evse {evse.id}: {error}"[:200])
            st.transaction_known(tx)

        message = OutMessage("StartTransaction", payload, Kind.TRANSACTION, essential=True,
                             on_answer=answered, on_failure=given_up)
        st.enqueue(message)

    def tx_event(self, evse: EvseState, tx: Transaction, trigger: str) -> None:
        """1.6 has no transaction events beyond start, meter values and stop."""

    def tx_sample(self, evse: EvseState, tx: Transaction, context: str) -> None:
        st = self.st
        measurands = st.settings.sampled_measurands if context != "Sample.Clock" \
            else st.settings.aligned_measurands
        values = st.sample(evse, context, measurands, tx)
        message = OutMessage("MeterValues", {
            "connectorId": evse.id,
            "meterValue": [{"timestamp": st.timestamp(), "sampledValue": values}]},
            Kind.TRANSACTION)
        message.prepare = lambda m: self._with_id(m, tx)
        st.enqueue(message)

    def tx_ended(self, evse: EvseState, tx: Transaction, reason: str, trigger: str) -> None:
        st = self.st
        end = st.sample(evse, "Transaction.End", ("Energy.Active.Import.Register",), tx)
        tx_data = [*evse.extras.pop("tx_begin", []),
                   {"timestamp": st.timestamp(), "sampledValue": end}]
        payload: dict[str, Any] = {"meterStop": round(tx.meter_stop_wh or 0.0),
                                   "timestamp": st.timestamp(),
                                   "reason": REASONS.get(reason, "Other"),
                                   "transactionData": tx_data}
        if reason == "Local" and (tx.stop_token or tx.id_token):
            payload["idTag"] = tx.stop_token or tx.id_token  # the tag that stopped it

        def answered(answer: dict[str, Any]) -> None:
            if "idTag" in payload:
                st.authorizer.remember("StopTransaction", payload, answer, st.utc())

        message = OutMessage("StopTransaction", payload, Kind.TRANSACTION, essential=True,
                             on_answer=answered)
        message.prepare = lambda m: self._with_id(m, tx)
        st.enqueue(message)

    def meter_values(self, evse: EvseState, context: str) -> None:
        st = self.st
        values = st.sample(evse, context, st.settings.aligned_measurands, None)
        st.enqueue(OutMessage("MeterValues", {
            "connectorId": evse.id,
            "meterValue": [{"timestamp": st.timestamp(), "sampledValue": values}]},
            Kind.ALIGNED if context == "Sample.Clock" else Kind.LIVE))

    def reservation_ended(self, reservation_id: int, status: str) -> None:
        """1.6 reports the end of a reservation only through the connector status."""

    # -- CSMS-initiated ----------------------------------------------------------------------------

    HANDLERS = {
        "RemoteStartTransaction": "remote_start", "RemoteStopTransaction": "remote_stop",
        "Reset": "reset", "UnlockConnector": "unlock",
        "ChangeAvailability": "change_availability", "GetConfiguration": "get_configuration",
        "ChangeConfiguration": "change_configuration", "ClearCache": "clear_cache",
        "SendLocalList": "send_local_list", "GetLocalListVersion": "local_list_version",
        "TriggerMessage": "trigger", "ExtendedTriggerMessage": "extended_trigger",
        "ReserveNow": "reserve_now", "CancelReservation": "cancel_reservation",
        "SetChargingProfile": "set_charging_profile",
        "ClearChargingProfile": "clear_charging_profile",
        "GetCompositeSchedule": "composite_schedule", "UpdateFirmware": "update_firmware",
        "SignedUpdateFirmware": "signed_update_firmware", "GetDiagnostics": "get_diagnostics",
        "GetLog": "get_log", "DataTransfer": "data_transfer",
        "InstallCertificate": "install_certificate", "DeleteCertificate": "delete_certificate",
        "GetInstalledCertificateIds": "installed_certificates",
        "CertificateSigned": "certificate_signed",
    }

    def get_configuration(self, p: dict[str, Any]) -> Any:
        return self.st.settings.get(p)  # type: ignore[attr-defined]

    def change_configuration(self, p: dict[str, Any]) -> Any:
        return self.st.settings.change(p)  # type: ignore[attr-defined]

    def remote_start(self, p: dict[str, Any]) -> Any:
        connector = p.get("connectorId")
        if connector == 0:
            return {"status": "Rejected"}
        evse = self.free_evse() if connector is None else self.evse_or_none(connector)
        if evse is None or not self.startable(evse):
            return {"status": "Rejected"}
        profile = p.get("chargingProfile")
        if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
            return {"status": "Rejected"}
        return {"status": "Accepted"}, self.remote_start_flow(evse, p["idTag"], "ISO14443",
                                                              None, profile)

    def remote_stop(self, p: dict[str, Any]) -> Any:
        wanted = str(p["transactionId"])
        evse = next((e for e in self.st.evses if e.tx is not None and e.tx.ocpp_id == wanted),
                    None)
        if evse is None:
            return {"status": "Rejected"}
        return {"status": "Accepted"}, self.later(self.st.deauthorize, evse, "Remote",
                                                  "RemoteStop")

    def reset(self, p: dict[str, Any]) -> Any:
        kind = p["type"]
        return {"status": "Accepted"}, self.later(self.st.reset, kind, f"{kind}Reset",
                                                  "ResetCommand")

    def unlock(self, p: dict[str, Any]) -> Any:
        evse = self.evse_or_none(p["connectorId"])
        if evse is None:
            return {"status": "NotSupported"}
        if evse.tx is not None:
            self.st.end_transaction(evse, "UnlockCommand", "UnlockCommand")
        if evse.spec.connectors[0].fixed_cable:
            return {"status": "NotSupported"}
        if evse.fault == "ConnectorLockFailure":
            return {"status": "UnlockFailed"}  # the lock is stuck
        return {"status": "Unlocked"}

    def change_availability(self, p: dict[str, Any]) -> Any:
        connector = p["connectorId"]
        operative = p["type"] == "Operative"
        if connector == 0:
            evses = self.st.evses
        else:
            evse = self.evse_or_none(connector)
            if evse is None:
                return {"status": "Rejected"}
            evses = [evse]
        status = self.st.change_availability(evses, operative, station=connector == 0)
        return {"status": status}, self.later(self.st.refresh_all)

    def _trigger_checks(self, p: dict[str, Any]) -> list[EvseState] | None:
        connector = p.get("connectorId")
        if connector is None or connector == 0:
            return list(self.st.evses)
        evse = self.evse_or_none(connector)
        return None if evse is None else [evse]

    def trigger(self, p: dict[str, Any], *, extended: bool = False) -> Any:
        evses = self._trigger_checks(p)
        if evses is None:
            return {"status": "Rejected"}
        requested = p["requestedMessage"]
        st = self.st
        if requested == "SignChargePointCertificate":
            # ExtendedTriggerMessage only (TC_074): a new key and CSR in SignCertificate
            if not extended:
                return {"status": "Rejected"}
            return {"status": "Accepted"}, self.sign_certificate_flow()
        follow: Gen | None = None
        if requested == "BootNotification":
            if not st.boot_again_now():
                follow = self.later(st.enqueue, OutMessage(
                    "BootNotification", self.boot_payload(), Kind.LIVE))
        elif requested == "Heartbeat":
            follow = self.later(st.enqueue, self.heartbeat_message())
        elif requested == "StatusNotification":
            follow = self.later(self._send_statuses, evses, p.get("connectorId") in (None, 0))
        elif requested == "MeterValues":
            follow = self.later(self._send_meter_values, evses)
        elif requested == "DiagnosticsStatusNotification":
            follow = self.later(st.enqueue, OutMessage(
                "DiagnosticsStatusNotification", {"status": st.diagnostics_status}, Kind.LIVE))
        elif requested == "FirmwareStatusNotification":
            if extended:
                payload: dict[str, Any] = {"status": st.firmware_status}
                if st.firmware_request_id is not None:
                    payload["requestId"] = st.firmware_request_id
                follow = self.later(st.enqueue, OutMessage(
                    "SignedFirmwareStatusNotification", payload, Kind.LIVE))
            else:
                status = st.firmware_status if st.firmware_status in (
                    "Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed",
                    "Installing", "Installed") else "Idle"
                follow = self.later(st.enqueue, OutMessage(
                    "FirmwareStatusNotification", {"status": status}, Kind.LIVE))
        elif requested == "LogStatusNotification":
            payload = {"status": st.log_status}
            if st.log_request_id is not None:
                payload["requestId"] = st.log_request_id
            follow = self.later(st.enqueue, OutMessage("LogStatusNotification", payload,
                                                     Kind.LIVE))
        else:
            return {"status": "NotImplemented"}
        return {"status": "Accepted"}, follow

    def extended_trigger(self, p: dict[str, Any]) -> Any:
        return self.trigger(p, extended=True)

    def _send_statuses(self, evses: list[EvseState], station: bool) -> None:
        if station:
            for message in self.station_status_messages(self.station_status()):
                self.st.enqueue(message)
        for evse in evses:
            for message in self.status_messages(evse, self.st.status_of(evse)):
                self.st.enqueue(message)

    def _send_meter_values(self, evses: list[EvseState]) -> None:
        st = self.st
        for evse in evses:
            evse.settle(self.env.now)
            tx = evse.tx
            values = st.sample(evse, "Trigger", st.settings.sampled_measurands, tx)
            message = OutMessage("MeterValues", {
                "connectorId": evse.id,
                "meterValue": [{"timestamp": st.timestamp(), "sampledValue": values}]},
                Kind.LIVE)
            if tx is not None:
                message.prepare = lambda m, tx=tx: self._with_id(m, tx)
            st.enqueue(message)

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

    def set_charging_profile(self, p: dict[str, Any]) -> Any:
        st = self.st
        connector = p["connectorId"]
        evse = self.evse_or_none(connector)
        if connector != 0 and evse is None:
            return {"status": "Rejected"}
        active = evse.tx.ocpp_id if evse is not None and evse.tx is not None else None
        answer = st.profiles.set(connector, p["csChargingProfiles"],
                                 active_transaction_id=active)
        if answer["status"] == "Accepted":
            st.settings.note_charging_profiles(len(st.profiles))
            return answer, self.later(st.profiles_changed, connector)
        return answer

    def clear_charging_profile(self, p: dict[str, Any]) -> Any:
        st = self.st
        answer = st.profiles.clear(p)
        if answer["status"] == "Accepted":
            st.settings.note_charging_profiles(len(st.profiles))
            return answer, self.later(st.profiles_changed, None)
        return answer

    def composite_schedule(self, p: dict[str, Any]) -> Any:
        st = self.st
        evse = self.evse_or_none(p["connectorId"])
        tx = evse.tx if evse is not None else None
        return st.profiles.get_composite_schedule(
            p, st.utc(), transaction_start_utc=st.utc(tx.started_s) if tx else None,
            phases=evse.spec.phases if evse is not None else 3,
            voltage_v=st.spec.meter.nominal_voltage_v)

    def _firmware_message(self, signed: bool, request_id: int | None) -> Any:
        def message(status: str) -> OutMessage:
            if signed:
                payload: dict[str, Any] = {"status": status}
                if request_id is not None:
                    payload["requestId"] = request_id
                return OutMessage("SignedFirmwareStatusNotification", payload, Kind.LIVE)
            return OutMessage("FirmwareStatusNotification", {"status": status}, Kind.LIVE)

        return message

    def update_firmware(self, p: dict[str, Any]) -> Any:
        return self.start_firmware_update(p, self._firmware_message(False, None))

    def signed_update_firmware(self, p: dict[str, Any]) -> Any:
        return self.start_firmware_update(p, self._firmware_message(True, p["requestId"]))

    def get_diagnostics(self, p: dict[str, Any]) -> Any:
        return self.start_log_upload(p, lambda status: OutMessage(
            "DiagnosticsStatusNotification", {"status": status}, Kind.LIVE))

    def get_log(self, p: dict[str, Any]) -> Any:
        return self.start_log_upload(p, lambda status: OutMessage(
            "LogStatusNotification", {"status": status, "requestId": p["requestId"]},
            Kind.LIVE))
