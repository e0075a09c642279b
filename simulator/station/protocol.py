"""What the 1.6 and 2.0.1 protocol modules share: dispatch of CSMS calls, and the command
flows that are the same in both versions up to the words on the wire (remote start, firmware
update, log upload, trigger checks)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import simpy

from chargeloop.ocppj import ErrorKind, OcppError, OcppVersion
from csms.domain.timeutil import parse_timestamp
from simulator.station import maintenance
from simulator.station.certificates import Certificates
from simulator.station.evse import Authorization, EvseState
from simulator.station.outbox import Kind, OutMessage

if TYPE_CHECKING:
    from simulator.station.station import SimStation

Gen = Generator[Any, Any, Any]
Handler = Callable[[dict[str, Any]], Any]



class ProtocolBase:
    """Subclasses name in ``HANDLERS`` the method answering each CSMS-initiated action (kept
    per class, not per station: thousands of stations share it). A handler returns the answer
    payload, or ``(answer, follow_up_generator)``, or a generator returning either."""

    HANDLERS: dict[str, str] = {}

    def __init__(self, station: SimStation) -> None:
        self.st = station
        self.env = station.env
        self.certificates = Certificates(station.version)

    def actions(self) -> tuple[str, ...]:
        return tuple(self.HANDLERS)

    def handle(self, action: str, payload: dict[str, Any]) -> Any:
        name = self.HANDLERS.get(action)
        if name is None:
            raise OcppError(ErrorKind.NOT_SUPPORTED, f"{action} is not supported")
        handler: Handler = getattr(self, name)
        return handler(payload)

    # -- answers both versions give alike ----------------------------------------------------------

    def clear_cache(self, p: dict[str, Any]) -> Any:
        return self.st.auth_cache.clear(p)

    def send_local_list(self, p: dict[str, Any]) -> Any:
        return self.st.local_list.send(p, self.st.utc())

    def local_list_version(self, p: dict[str, Any]) -> Any:
        return self.st.local_list.get_version(p)

    def data_transfer(self, p: dict[str, Any]) -> Any:
        return {"status": "UnknownVendorId"}

    def install_certificate(self, p: dict[str, Any]) -> Any:
        answer = self.certificates.install(p, self.st.utc())
        if answer["status"] != "Accepted" and \
                p["certificateType"] == "CentralSystemRootCertificate":
            # 1.6 security whitepaper: an invalid Central System certificate is a security event
            return answer, self.later(self.security_event, "InvalidCentralSystemCertificate",
                                      "InstallCertificate of an invalid certificate")
        return answer

    def delete_certificate(self, p: dict[str, Any]) -> Any:
        return self.certificates.delete(p)

    def installed_certificates(self, p: dict[str, Any]) -> Any:
        return self.certificates.installed_ids(p)

    def certificate_signed(self, p: dict[str, Any]) -> Any:
        answer = self.certificates.signed(p, self.st.utc())
        if answer["status"] != "Accepted":
            kind = "InvalidChargePointCertificate" if self.st.version.value == "ocpp1.6" \
                else "InvalidChargingStationCertificate"
            return answer, self.later(self.security_event, kind,
                                      "CertificateSigned with an invalid certificate")
        return answer

    def sign_certificate_flow(self, certificate_type: str | None = None) -> Gen:
        """After an Accepted trigger (1.6 ExtendedTriggerMessage SignChargePointCertificate,
        2.0.1 TriggerMessage SignChargingStationCertificate): a new key and CSR, sent in
        SignCertificate; CertificateSigned later brings the certificate."""
        st = self.st
        organization = getattr(st.settings, "cpo_name", None) or st.spec.vendor
        payload: dict[str, Any] = {"csr": self.certificates.new_csr(st.id, organization)}
        if certificate_type is not None:
            payload["certificateType"] = certificate_type
        st.event("sign_certificate", certificate_type or "ChargePointCertificate")
        st.enqueue(OutMessage("SignCertificate", payload, Kind.LIVE))
        yield self.env.timeout(0)

    # -- helpers -----------------------------------------------------------------------------------

    def later(self, function: Callable[..., Any], *args: Any) -> Gen:
        """A follow-up that calls ``function(*args)`` once the answer is on its way."""
        function(*args)
        yield self.env.timeout(0)

    def evse_or_none(self, evse_id: int | None) -> EvseState | None:
        if evse_id is None or not 1 <= evse_id <= len(self.st.evses):
            return None
        return self.st.evses[evse_id - 1]

    def free_evse(self) -> EvseState | None:
        """An EVSE a remote start without one can use: a plugged one first."""
        candidates = [e for e in self.st.evses if e.tx is None and e.auth is None
                      and e.operative and e.fault is None]
        return next((e for e in candidates if e.plugged), None) or \
            next(iter(candidates), None)

    @staticmethod
    def startable(evse: EvseState) -> bool:
        return evse.auth is None and evse.operative and evse.fault is None and \
            (evse.tx is None or evse.tx.id_token is None)

    def utc_of(self, text: str | None) -> datetime | None:
        return parse_timestamp(text)

    def wait_until(self, moment: datetime | None) -> Gen:
        """Wait (in simulation time) until the station's clock shows ``moment``."""
        if moment is not None:
            delay = (moment - self.st.utc()).total_seconds()
            if delay > 0:
                yield self.env.timeout(delay)

    # -- flows -------------------------------------------------------------------------------------

    def remote_start_flow(self, evse: EvseState, token_id: str, token_type: str,
                          remote_start_id: int | None, profile: dict[str, Any] | None) -> Gen:
        """After answering Accepted: authorise (if AuthorizeRemoteTxRequests says so), then
        the token is in force: a plugged vehicle starts charging; otherwise the station waits
        for the cable (EV connection timeout)."""
        st = self.st
        yield self.env.timeout(0)
        if st.settings.authorize_remote_start:
            verdict = yield from st.authorize(token_id, token_type, evse.id)
            if not verdict.accepted:
                st.event("remote_start_rejected", f"evse {evse.id}: {verdict.status}")
                return
        if not self.startable(evse):
            return
        if profile is not None:
            evse.extras["remote_profile"] = profile
        st.authorized(evse, Authorization(token_id, token_type, remote_start_id=remote_start_id,
                                           remote=True, since_s=self.env.now))
        self.install_remote_profile(evse)

    def install_remote_profile(self, evse: EvseState) -> None:
        """The TxProfile that came with a remote start, once its transaction has an id."""
        profile = evse.extras.get("remote_profile")
        tx = evse.tx
        if profile is None or tx is None or (tx.ocpp_id is None and self.st.version.value ==
                                             "ocpp1.6"):
            return
        del evse.extras["remote_profile"]
        answer = self.st.profiles.set(evse.id, profile, active_transaction_id=tx.id,
                                      remote_start=True)
        self.st.event("remote_profile", f"evse {evse.id}: {answer['status']}")
        if answer["status"] == "Accepted":
            self.st.profiles_changed(evse.id)

    # -- maintenance (the sequences are simulator.station.maintenance's) ---------------------

    def start_firmware_update(self, request: dict[str, Any],
                              status_message: Callable[[str], OutMessage]) -> Any:
        """Answer UpdateFirmware / SignedUpdateFirmware and run the status sequence after the
        answer; a newer request cancels one still running (AcceptedCanceled)."""
        st = self.st
        running = st.firmware_process
        busy = running is not None and running.is_alive
        if busy and not st.firmware_cancel:
            return {"status": "Rejected", "statusInfo": {
                "reasonCode": "UnableToCancel",
                "additionalInfo": "an update is pending and cannot be canceled"}} \
                if st.version is not OcppVersion.V16 else {"status": "Rejected"}
        answer = maintenance.update_firmware_response(request, version=st.version, busy=busy,
                                                      now=st.utc(),
                                                      signed_only=st.signed_firmware_only)
        if answer.get("status", "Accepted") not in ("Accepted", "AcceptedCanceled"):
            if answer.get("status") in ("InvalidCertificate", "RevokedCertificate"):
                return answer, self.later(self.security_event,
                                          "InvalidFirmwareSigningCertificate",
                                          f"signing certificate: {answer['status']}")
            return answer
        location = request["firmware"]["location"] if "firmware" in request \
            else request["location"]

        def notify(status: str) -> simpy.Event:
            st.firmware_status = status
            request_id = request.get("requestId")
            st.firmware_request_id = request_id if isinstance(request_id, int) else None
            st.event("firmware_status", status)
            sent = self.send_waiting(status_message(status))
            if status == "InvalidSignature":
                self.security_event("InvalidFirmwareSignature", location[:200])
            return sent

        def before_install() -> simpy.Event | None:
            """Installing waits for the transactions to end (L01.FR.06), without new
            sessions meanwhile unless AllowNewSessionsPendingFirmwareUpdate (L01.FR.07);
            a station that installs during a transaction goes right on (C-43)."""
            if st.firmware_install_during_transaction:
                return None
            idle = st.idle_event()
            if idle is not None and not st.settings.allow_new_sessions_pending_firmware:
                st.hold_sessions_for_firmware(True)
            return idle

        def reboot() -> simpy.Event:
            st.firmware_pending = False  # the boot reports every connector afresh
            name = location.rstrip("/").rsplit("/", 1)[-1] or "update"
            st.firmware_version = f"{st.spec.firmware_version}+{name}"[:50]  # what boots next
            return st.reboot_and_wait("Firmware", self.boot_reason_for_firmware())

        def download(where: str) -> simpy.Event:
            return st.clock.bridge(maintenance.http_download(where,
                                                             transport=st.http_transport))

        def follow() -> Gen:
            if busy and running is not None and running.is_alive:
                running.interrupt("a newer firmware update")
            st.firmware_process = self.env.active_process
            result = yield from maintenance.firmware_update(
                self.env, request, version=st.version, notify=notify, rng=st.rng,
                reboot=reboot, now_utc=st.utc, before_install=before_install,
                before_download=None if st.firmware_download_during_transaction
                else before_install,
                timings=st.firmware_timings,
                download=download if st.real_downloads else None)
            st.hold_sessions_for_firmware(False)  # failed or canceled: available again
            st.event("firmware_done", result)

        return answer, follow()

    def start_log_upload(self, request: dict[str, Any],
                         status_message: Callable[[str], OutMessage]) -> Any:
        """Answer GetDiagnostics / GetLog and upload after the answer (a real HTTP upload where
        the location is HTTP(S)); a newer request cancels one still running."""
        st = self.st
        if maintenance.is_log_request(request) and not st.logs_available:
            return {"status": "Rejected"}  # no log information (TC_N_34)
        running = st.log_process
        busy = running is not None and running.is_alive
        filename = maintenance.log_filename(request, station_id=st.id, now=st.utc())
        if maintenance.is_log_request(request):
            answer = maintenance.get_log_response(request, version=st.version,
                                                  filename=filename, busy=busy)
        else:
            answer = maintenance.get_diagnostics_response(filename)

        def notify(status: str) -> simpy.Event:
            if maintenance.is_log_request(request):
                st.log_status, st.log_request_id = status, request["requestId"]
            else:
                st.diagnostics_status = status
            return self.send_waiting(status_message(status))

        def upload(location: str, name: str, content: bytes) -> simpy.Event:
            return st.clock.bridge(maintenance.http_upload(location, name, content,
                                                           transport=st.http_transport))

        def follow() -> Gen:
            if busy and running is not None and running.is_alive:
                running.interrupt("a newer log request")
            st.log_process = self.env.active_process
            result = yield from maintenance.log_upload(
                self.env, request, version=st.version, notify=notify, upload=upload,
                filename=filename, station_id=st.id, now_utc=st.utc,
                timings=st.upload_timings)
            st.event("log_upload", f"{filename}: {result}")

        return answer, follow()

    def security_event(self, kind: str, tech_info: str | None = None) -> None:
        """SecurityEventNotification (2.0.1 and the 1.6 security whitepaper alike), held while
        offline so that it reaches the CSMS."""
        payload: dict[str, Any] = {"type": kind, "timestamp": self.st.timestamp()}
        if tech_info:
            payload["techInfo"] = tech_info[:255]
        self.st.event("security_event", kind)
        self.st.enqueue(OutMessage("SecurityEventNotification", payload, Kind.ALIGNED))

    def send_waiting(self, message: OutMessage) -> simpy.Event:
        """Queue ``message``; the event fires once it is answered (fails if it cannot be)."""
        message.result = self.env.event()
        self.st.enqueue(message)
        return message.result
