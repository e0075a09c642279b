"""What a load-test station says and how it answers the CSMS, per OCPP version, with no I/O.

The station has one EVSE with one connector, an energy register and at most one transaction.
Payloads are built here and sent by the locust user (:mod:`loadtests.station_user`); CALLs from
the CSMS are answered here at once, and what they ask the station to *do* (start or stop a
transaction, reboot, send a message) is queued as an :class:`Effect` for the user's loop, which
is the only sender of CALLs (OCPP-J allows one outstanding CALL).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chargeloop.ocppj.errors import ErrorKind, OcppError
from chargeloop.ocppj.versions import OcppVersion

VENDOR = "chargeloop"
MODEL = "LoadStation"
FIRMWARE = "1.0.0"
CONNECTOR_ID = 1
EVSE_ID = 1

# 1.6 configuration keys the station reports and lets the CSMS change.
_CONFIG_16 = {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60",
              "NumberOfConnectors": "1", "AuthorizeRemoteTxRequests": "false",
              "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import"}
_READ_ONLY_16 = {"NumberOfConnectors"}
# 2.0.1 device model variables (component, variable) -> value.
_VARIABLES_201 = {("OCPPCommCtrlr", "HeartbeatInterval"): "300",
                  ("SampledDataCtrlr", "TxUpdatedInterval"): "60",
                  ("AuthCtrlr", "AuthorizeRemoteStart"): "false",
                  ("ChargingStation", "Model"): MODEL}
_READ_ONLY_201 = {("ChargingStation", "Model")}
# TriggerMessage requests the load station can honour.
TRIGGERABLE = frozenset({"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"})


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Effect:
    """Something the CSMS asked for that the station's loop must do: ``start`` (with
    ``token`` and 2.0.1 ``remote_start_id``), ``stop``, ``reset`` or ``trigger`` (``message``)."""

    kind: str
    token: str | None = None
    remote_start_id: int | None = None
    message: str | None = None


@dataclass
class Transaction:
    id: str
    token: str
    remote: bool
    seq_no: int = 0
    remote_start_id: int | None = None

    def next_seq(self) -> int:
        value = self.seq_no
        self.seq_no += 1
        return value


@dataclass
class LoadStation:
    """Protocol state of one station. ``power_w`` is what it draws while charging."""

    identity: str
    version: OcppVersion
    token: str
    power_w: float = 11_000.0
    run_tag: str = ""
    energy_wh: float = 0.0
    transaction: Transaction | None = None
    status: str = "Available"
    effects: deque[Effect] = field(default_factory=deque)
    config: dict[str, str] = field(default_factory=dict)
    variables: dict[tuple[str, str], str] = field(default_factory=dict)
    _tx_counter: int = 0

    def __post_init__(self) -> None:
        self.config = dict(_CONFIG_16)
        self.variables = dict(_VARIABLES_201)

    @property
    def v16(self) -> bool:
        return self.version is OcppVersion.V16

    # -- what the station sends --

    def boot(self, reason: str = "PowerUp") -> tuple[str, dict[str, Any]]:
        if self.v16:
            return "BootNotification", {
                "chargePointVendor": VENDOR, "chargePointModel": MODEL,
                "chargePointSerialNumber": self.identity[:25], "firmwareVersion": FIRMWARE}
        return "BootNotification", {"reason": reason, "chargingStation": {
            "vendorName": VENDOR, "model": MODEL, "serialNumber": self.identity[:25],
            "firmwareVersion": FIRMWARE}}

    def heartbeat(self) -> tuple[str, dict[str, Any]]:
        return "Heartbeat", {}

    def status_notification(self, status: str | None = None) -> tuple[str, dict[str, Any]]:
        """``status`` in 1.6 words (Available, Preparing, Charging, Finishing); 2.0.1 says
        Occupied for all but Available."""
        self.status = status or self.status
        if self.v16:
            return "StatusNotification", {"connectorId": CONNECTOR_ID, "errorCode": "NoError",
                                          "status": self.status, "timestamp": now_iso()}
        connector = "Available" if self.status == "Available" else "Occupied"
        return "StatusNotification", {"timestamp": now_iso(), "connectorStatus": connector,
                                      "evseId": EVSE_ID, "connectorId": CONNECTOR_ID}

    def authorize(self, token: str) -> tuple[str, dict[str, Any]]:
        if self.v16:
            return "Authorize", {"idTag": token}
        return "Authorize", {"idToken": self._id_token(token)}

    def start_transaction(self, token: str, *, remote: bool = False,
                          remote_start_id: int | None = None) -> tuple[str, dict[str, Any]]:
        self._tx_counter += 1
        # 2.0.1 ids are the station's own: identity and counter keep them unique at the CSMS.
        self.transaction = Transaction(f"{self.identity}-{self.run_tag}{self._tx_counter}", token,
                                       remote,
                                       remote_start_id=remote_start_id)
        if self.v16:
            return "StartTransaction", {"connectorId": CONNECTOR_ID, "idTag": token,
                                        "meterStart": round(self.energy_wh),
                                        "timestamp": now_iso()}
        tx = self.transaction
        info: dict[str, Any] = {"transactionId": tx.id, "chargingState": "Charging"}
        if remote_start_id is not None:
            info["remoteStartId"] = remote_start_id
        return "TransactionEvent", {
            "eventType": "Started", "timestamp": now_iso(),
            "triggerReason": "RemoteStart" if remote else "Authorized",
            "seqNo": tx.next_seq(), "transactionInfo": info,
            "evse": {"id": EVSE_ID, "connectorId": CONNECTOR_ID},
            "idToken": self._id_token(token),
            "meterValue": [self._meter_value("Transaction.Begin")]}

    def started(self, answer: dict[str, Any]) -> bool:
        """Take the CSMS's answer to the start; False when it refused the token (then the
        station stops the transaction it has already begun, as 1.6 and 2.0.1 stations do)."""
        assert self.transaction is not None
        if self.v16:
            self.transaction.id = str(answer["transactionId"])
            return answer["idTagInfo"]["status"] == "Accepted"
        info = answer.get("idTokenInfo")
        return info is None or info["status"] == "Accepted"

    def charge(self, seconds: float) -> None:
        """Energy flows for ``seconds`` of (simulated) time."""
        self.energy_wh += self.power_w * seconds / 3600.0

    def meter_values(self) -> tuple[str, dict[str, Any]]:
        tx = self.transaction
        if self.v16:
            payload: dict[str, Any] = {"connectorId": CONNECTOR_ID,
                                       "meterValue": [self._meter_value("Sample.Periodic")]}
            if tx is not None:
                payload["transactionId"] = int(tx.id)
            return "MeterValues", payload
        if tx is None:
            return "MeterValues", {"evseId": EVSE_ID,
                                   "meterValue": [self._meter_value("Sample.Periodic")]}
        return "TransactionEvent", {
            "eventType": "Updated", "timestamp": now_iso(), "triggerReason": "MeterValuePeriodic",
            "seqNo": tx.next_seq(), "transactionInfo": {"transactionId": tx.id,
                                                        "chargingState": "Charging"},
            "meterValue": [self._meter_value("Sample.Periodic")]}

    def stop_transaction(self, reason: str = "Local") -> tuple[str, dict[str, Any]]:
        """``reason`` in 1.6 words (Local, Remote, DeAuthorized, SoftReset)."""
        tx = self.transaction
        assert tx is not None
        self.transaction = None
        if self.v16:
            return "StopTransaction", {"transactionId": int(tx.id), "idTag": tx.token,
                                       "meterStop": round(self.energy_wh),
                                       "timestamp": now_iso(), "reason": reason}
        trigger = {"Remote": "RemoteStop", "DeAuthorized": "Deauthorized",
                   "Reboot": "ResetCommand"}.get(reason, "StopAuthorized")
        return "TransactionEvent", {
            "eventType": "Ended", "timestamp": now_iso(), "triggerReason": trigger,
            "seqNo": tx.next_seq(), "transactionInfo": {
                "transactionId": tx.id, "chargingState": "EVConnected", "stoppedReason": reason},
            "idToken": self._id_token(tx.token),
            "meterValue": [self._meter_value("Transaction.End")]}

    def _id_token(self, token: str) -> dict[str, str]:
        return {"idToken": token, "type": "ISO14443"}

    def _meter_value(self, context: str) -> dict[str, Any]:
        charging = self.transaction is not None and context != "Transaction.End"
        samples = [{"value": f"{self.energy_wh:.0f}", "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh", "context": context},
                   {"value": f"{self.power_w if charging else 0.0:.0f}",
                    "measurand": "Power.Active.Import", "unit": "W", "context": context}]
        if not self.v16:
            samples = [{"value": float(s["value"]), "measurand": s["measurand"],
                        "context": context, "unitOfMeasure": {"unit": s["unit"]}}
                       for s in samples]
        return {"timestamp": now_iso(), "sampledValue": samples}

    # -- answering the CSMS --

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The answer to a CSMS-initiated CALL (already checked against its schema)."""
        method = getattr(self, f"_on_{action}", None)
        if method is None:
            raise OcppError(ErrorKind.NOT_IMPLEMENTED,
                            f"{action} is not implemented by the load test station")
        return method(payload)

    def _on_RemoteStartTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.transaction is not None or any(e.kind == "start" for e in self.effects):
            return {"status": "Rejected"}
        self.effects.append(Effect("start", token=p["idTag"]))
        return {"status": "Accepted"}

    def _on_RequestStartTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.transaction is not None or any(e.kind == "start" for e in self.effects):
            return {"status": "Rejected"}
        self.effects.append(Effect("start", token=p["idToken"]["idToken"],
                                   remote_start_id=p["remoteStartId"]))
        return {"status": "Accepted"}

    def _on_RemoteStopTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        tx = self.transaction
        if tx is None or tx.id != str(p["transactionId"]):
            return {"status": "Rejected"}
        self.effects.append(Effect("stop"))
        return {"status": "Accepted"}

    def _on_RequestStopTransaction(self, p: dict[str, Any]) -> dict[str, Any]:
        tx = self.transaction
        if tx is None or tx.id != p["transactionId"]:
            return {"status": "Rejected"}
        self.effects.append(Effect("stop"))
        return {"status": "Accepted"}

    def _on_Reset(self, p: dict[str, Any]) -> dict[str, Any]:
        self.effects.append(Effect("reset"))
        return {"status": "Accepted"}

    def _on_TriggerMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        requested = p["requestedMessage"]
        if requested not in TRIGGERABLE:
            return {"status": "NotImplemented"}
        self.effects.append(Effect("trigger", message=requested))
        return {"status": "Accepted"}

    def _on_GetConfiguration(self, p: dict[str, Any]) -> dict[str, Any]:
        wanted = p.get("key") or list(self.config)
        known = [{"key": k, "readonly": k in _READ_ONLY_16, "value": self.config[k]}
                 for k in wanted if k in self.config]
        unknown = [k for k in wanted if k not in self.config]
        return {"configurationKey": known, **({"unknownKey": unknown} if unknown else {})}

    def _on_ChangeConfiguration(self, p: dict[str, Any]) -> dict[str, Any]:
        key = p["key"]
        if key not in self.config:
            return {"status": "NotSupported"}
        if key in _READ_ONLY_16:
            return {"status": "Rejected"}
        self.config[key] = p["value"]
        return {"status": "Accepted"}

    def _on_GetVariables(self, p: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in p["getVariableData"]:
            key = (item["component"]["name"], item["variable"]["name"])
            result: dict[str, Any] = {"component": item["component"],
                                      "variable": item["variable"]}
            if key in self.variables:
                result.update(attributeStatus="Accepted", attributeValue=self.variables[key])
            else:
                result["attributeStatus"] = "UnknownVariable"
            results.append(result)
        return {"getVariableResult": results}

    def _on_SetVariables(self, p: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in p["setVariableData"]:
            key = (item["component"]["name"], item["variable"]["name"])
            if key not in self.variables:
                status = "UnknownVariable"
            elif key in _READ_ONLY_201:
                status = "Rejected"
            else:
                self.variables[key] = item["attributeValue"]
                status = "Accepted"
            results.append({"component": item["component"], "variable": item["variable"],
                            "attributeStatus": status})
        return {"setVariableResult": results}

    def _on_ChangeAvailability(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    def _on_UnlockConnector(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Unlocked"}  # the same word in 1.6 and 2.0.1

    def _on_ClearCache(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    def _on_DataTransfer(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "UnknownVendorId"}

    def _on_CostUpdated(self, p: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _on_SetDisplayMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}
