"""What CSMS-under-test cases share: the stations the suite plays, making the CSMS act, and the
OCTT reusable states (Booted, Authorized, EnergyTransferStarted, ...).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chargeloop.ocppj import OcppVersion, TraceRecord
from conformance.harness_station import IncomingCall, TestStation
from conformance.rawpeer import RawPeer
from conformance.sut import Sut, SutStation
from conformance.triggers import Triggers
from conformance.verdicts import CaseFailed


def now_iso(offset_s: float = 0.0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=offset_s)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check(condition: bool, step: str, expected: str, actual: Any) -> None:
    """A validation of the case document: fail the case with the step unless it holds."""
    if not condition:
        raise CaseFailed(step, expected, actual)


OWN_PASSWORD = "\x00own"  # StationPool.make: the SUT file's password for the station
# Passwords a case changed at the CSMS and could not set back (a slow CSMS, a lost answer),
# by station id: the cases after it log in with what the CSMS holds, not with what it no longer
# accepts, and fail on their own rules rather than on a login.
CHANGED_PASSWORDS: dict[str, str] = {}


class StationPool:
    """The stations one case plays, closed and checked when the case ends."""

    def __init__(self, sut: Sut, trace: Callable[[TraceRecord], None] | None,
                 case_id: str | None = None) -> None:
        self.sut = sut
        self.trace = trace
        self.case_id = case_id
        self.made: list[TestStation] = []
        self.raw_peers: list[RawPeer] = []

    def make(self, index: int = 0, *, password: str | None = OWN_PASSWORD,
             identity: str | None = None, url: str | None = None,
             ssl_context: ssl.SSLContext | None = None) -> TestStation:
        """A (not yet connected) station: the SUT file's ``index``-th, optionally with another
        password (None: none), identity, endpoint (``url`` with ``ssl_context``: the TLS
        cases, see ``conformance.csms.tls``)."""
        spec: SutStation = self.sut.stations[min(index, len(self.sut.stations) - 1)]
        station = TestStation(
            url or self.sut.url or "", identity or spec.id, self.sut.version,
            password=CHANGED_PASSWORDS.get(identity or spec.id, spec.password)
            if password is OWN_PASSWORD else password,
            ssl_context=ssl_context if url else self._ssl(),
            answer_timeout_s=self.sut.answer_timeout_s, trace=self.trace, case_id=self.case_id)
        self.made.append(station)
        return station

    def raw(self, index: int = 0) -> RawPeer:
        """A bare connection (not yet open) as the ``index``-th station, for frames that
        ``TestStation`` would refuse to send."""
        station = self.make(index)
        self.made.remove(station)
        peer = RawPeer(self.sut.url or "", station.identity, self.sut.version,
                       {**station.basic_auth_headers(), **station.case_headers},
                       station.ssl_context)
        self.raw_peers.append(peer)
        return peer

    async def connected(self, index: int = 0) -> TestStation:
        station = self.make(index)
        await station.connect()
        return station

    async def booted(self, index: int = 0) -> TestStation:
        """A connected station in OCTT's reusable state "Booted"."""
        station = await self.connected(index)
        await booted(station)
        return station

    def _ssl(self) -> ssl.SSLContext | None:
        tls = self.sut.tls
        if not (self.sut.url or "").startswith("wss://"):
            return None
        context = ssl.create_default_context(cafile=str(tls.ca) if tls.ca else None)
        if tls.client_cert is not None:
            context.load_cert_chain(str(tls.client_cert),
                                    str(tls.client_key) if tls.client_key else None)
        return context

    async def close(self) -> list[TraceRecord]:
        """Close every station; the frames of the CSMS that broke the rules."""
        violations = []
        for peer in self.raw_peers:
            await peer.close()
        for station in self.made:
            await station.close()
            violations.extend(station.violations)
        return violations


@dataclass
class CsmsAction:
    """A CALL the CSMS sent because the case triggered it, answered by the case."""

    call: IncomingCall
    trigger_detail: str


async def csms_sends(station: TestStation, triggers: Triggers, action: str,
                     payload: dict[str, Any], answer: dict[str, Any] | None, *, step: str,
                     timeout_s: float) -> IncomingCall:
    """Make the CSMS send ``action`` to ``station`` (the trigger asks for ``payload``), wait for
    the CALL and answer it with ``answer`` (None: the case answers it itself)."""
    waiting = station.expect(action)
    handle = triggers.start(action, station.identity, payload)
    try:
        call = await station.receive(action, timeout_s, step=step, waiting=waiting)
    except CaseFailed:
        outcome = await handle.outcome(1.0)
        if not outcome.ok:
            raise CaseFailed(step, f"the CSMS to send {action}",
                             f"the trigger failed: {outcome.detail}") from None
        raise
    if answer is not None:
        call.respond(answer)
    return call


# -- OCTT reusable states --------------------------------------------------------------------


def boot_payload(version: OcppVersion, reason: str = "PowerUp") -> dict[str, Any]:
    if version is OcppVersion.V16:
        return {"chargePointVendor": "chargeloop", "chargePointModel": "conformance-ts",
                "chargePointSerialNumber": "TS-0001", "firmwareVersion": "1.0.0"}
    return {"reason": reason, "chargingStation": {
        "vendorName": "chargeloop", "model": "conformance-ts", "serialNumber": "TS-0001",
        "firmwareVersion": "1.0.0"}}


def status_payload(version: OcppVersion, evse_id: int, status: str,
                   error_code: str = "NoError") -> dict[str, Any]:
    """A StatusNotification; 2.0.1 statuses by their 2.0.1 names (Available, Occupied, ...)."""
    if version is OcppVersion.V16:
        return {"connectorId": evse_id, "errorCode": error_code, "status": status,
                "timestamp": now_iso()}
    return {"timestamp": now_iso(), "connectorStatus": status, "evseId": evse_id,
            "connectorId": 1}


async def booted(station: TestStation, evses: int = 1, *, step: str = "Booted") -> dict[str, Any]:
    """OCTT "Booted": BootNotification answered Accepted, then every connector Available.
    Returns the BootNotification response."""
    version = station.version
    answer = await station.call("BootNotification", boot_payload(version),
                                step=f"{step}: BootNotification")
    check(answer.get("status") == "Accepted", f"{step}: BootNotification",
          "status Accepted", answer)
    if version is OcppVersion.V16:
        await station.call("StatusNotification", status_payload(version, 0, "Available"),
                           step=f"{step}: StatusNotification connector 0")
    for evse in range(1, evses + 1):
        await station.call("StatusNotification", status_payload(version, evse, "Available"),
                           step=f"{step}: StatusNotification EVSE {evse}")
    return answer


async def booted_station(stations: StationPool) -> TestStation:
    """A station of the pool, connected and "Booted"."""
    station = await stations.connected()
    await booted(station)
    return station


def id_token(token: str, kind: str = "ISO14443") -> dict[str, str]:
    return {"idToken": token, "type": kind}


async def authorized(station: TestStation, token: str, *, step: str = "Authorized"
                     ) -> dict[str, Any]:
    """OCTT "Authorized" (local): Authorize answered Accepted; returns the token info."""
    if station.version is OcppVersion.V16:
        answer = await station.call("Authorize", {"idTag": token}, step=f"{step}: Authorize")
        info = answer.get("idTagInfo", {})
    else:
        answer = await station.call("Authorize", {"idToken": id_token(token)},
                                    step=f"{step}: Authorize")
        info = answer.get("idTokenInfo", {})
    check(info.get("status") == "Accepted", f"{step}: Authorize", "idTokenInfo status Accepted",
          answer)
    return info


class Transaction201:
    """A 2.0.1 transaction the station runs: it numbers its TransactionEvents."""

    def __init__(self, station: TestStation, transaction_id: str, evse_id: int = 1) -> None:
        self.station = station
        self.id = transaction_id
        self.evse_id = evse_id
        self.seq_no = 0
        self.meter_wh = 0.0

    async def event(self, event_type: str, trigger_reason: str, *, step: str,
                    charging_state: str | None = None, token: str | None = None,
                    stopped_reason: str | None = None, meter_wh: float | None = None,
                    extra: dict[str, Any] | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {"transactionId": self.id}
        if charging_state:
            info["chargingState"] = charging_state
        if stopped_reason:
            info["stoppedReason"] = stopped_reason
        payload: dict[str, Any] = {
            "eventType": event_type, "timestamp": now_iso(), "triggerReason": trigger_reason,
            "seqNo": self.seq_no, "transactionInfo": info}
        if self.seq_no == 0:
            payload["evse"] = {"id": self.evse_id, "connectorId": 1}
        if token:
            payload["idToken"] = id_token(token)
        if meter_wh is not None:
            self.meter_wh = meter_wh
            payload["meterValue"] = [{"timestamp": now_iso(), "sampledValue": [
                {"value": meter_wh, "measurand": "Energy.Active.Import.Register",
                 "context": "Transaction.Begin" if event_type == "Started" else
                 "Transaction.End" if event_type == "Ended" else "Sample.Periodic"}]}]
        payload.update(extra or {})
        self.seq_no += 1
        return await self.station.call("TransactionEvent", payload, step=step)


async def energy_transfer_started_201(station: TestStation, token: str, transaction_id: str,
                                      *, evse_id: int = 1) -> Transaction201:
    """OCTT "Authorized" then "EnergyTransferStarted" (2.0.1, authorization first)."""
    await authorized(station, token, step="Authorized")
    await station.call("StatusNotification", status_payload(station.version, evse_id,
                                                            "Occupied"),
                       step="EnergyTransferStarted: StatusNotification Occupied")
    tx = Transaction201(station, transaction_id, evse_id)
    answer = await tx.event("Started", "Authorized", token=token, charging_state="EVConnected",
                            meter_wh=0, step="EnergyTransferStarted: TransactionEvent Started")
    info = answer.get("idTokenInfo", {})
    check(info.get("status") == "Accepted", "EnergyTransferStarted: TransactionEvent Started",
          "idTokenInfo status Accepted", answer)
    await tx.event("Updated", "ChargingStateChanged", charging_state="Charging",
                   step="EnergyTransferStarted: TransactionEvent Charging")
    return tx


async def energy_transfer_started_16(station: TestStation, token: str, *, connector_id: int = 1
                                     ) -> int:
    """1.6: Authorize, StartTransaction Accepted, StatusNotification Charging; the
    transactionId the CSMS gave."""
    await authorized(station, token)
    await station.call("StatusNotification", status_payload(station.version, connector_id,
                                                            "Preparing"),
                       step="StatusNotification Preparing")
    answer = await station.call("StartTransaction", {
        "connectorId": connector_id, "idTag": token, "meterStart": 0,
        "timestamp": now_iso()}, step="StartTransaction")
    check(answer.get("idTagInfo", {}).get("status") == "Accepted", "StartTransaction",
          "idTagInfo status Accepted", answer)
    await station.call("StatusNotification", status_payload(station.version, connector_id,
                                                            "Charging"),
                       step="StatusNotification Charging")
    return int(answer["transactionId"])
