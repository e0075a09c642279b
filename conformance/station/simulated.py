"""``--simulated``: the simulator's charging station as the system under test.

It runs in a process of its own (``python -m conformance.station.simulated``), in real time,
and reaches the harness exactly as a charger on the bench would: over a real WebSocket to the
harness's URL, with its identity, password and TLS settings. Beside it runs its **control
channel**, a small HTTP API on a loopback port that performs what a person would do at a real
charger (``POST /actions/plug_in {"evse": 1}``): the built-in actions adapter calls it, and an
HTTP-template SUT file can point at it too.

``fresh`` replaces the station with a new one in its factory state (the suite asks for that
before every case, as OCTT's tester power-cycles into the case's initial state). A faulty
variant (``--faults module:NAME``, a dict of case id -> function patching a ``SimStation``)
breaks one rule per case, for the suite's negative controls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import math
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from chargeloop.clock import SimClock
from chargeloop.ocppj import OcppVersion
from simulator.backends import UrlBackend
from simulator.station import ConnectorSpec, EvseSpec, Link, Recorder, SimStation, StationSpec
from simulator.station.maintenance import FirmwareTimings, UploadTimings
from simulator.station.settings import FEATURE_PROFILES_16, REPORT_BASES
from simulator.vehicles import VEHICLE_CATALOG, Vehicle

log = logging.getLogger("chargeloop.conformance.simulated")

STARTUP_LIMIT_S = 60.0
VEHICLE = "Renault Zoe"
Fault = Callable[[SimStation], None]


@dataclass(frozen=True)
class SimulatedOptions:
    """What the simulated station is: its identity and how it reaches the harness."""

    url: str
    identity: str
    version: OcppVersion
    evses: int = 1
    password: str | None = None
    ca_file: str | None = None  # trust this CA for wss:// (security profiles 2 and 3)
    client_cert: str | None = None  # profile 3: key and certificate (PEM)
    fixed_cable: bool = False
    # 1.6 station configurations besides the main one (the other side of the features
    # local_auth_list, reservation_connector_zero, power_loss_stop_before_down)
    local_auth_list: bool = True
    reserve_connector_zero: bool = True
    stop_before_power_loss: bool = True  # else the transactions end after the reboot
    # 2.0.1 likewise (features reservation_unspecified_evse, summary_inventory)
    reserve_unspecified_evse: bool = True  # ReservationCtrlr.NonEvseSpecific
    summary_inventory: bool = True  # GetBaseReport SummaryInventory, else NotSupported
    evse_reset: bool = True  # Reset of a single EVSE (feature reset_evse), else Rejected
    # charging profiles in W only (feature single_charging_rate_unit), else in A and W
    single_rate_unit: bool = False
    smart_charging: bool = True  # the Smart Charging profile claimed (else TC_K_38's station)
    # a newer UpdateFirmware cancels a pending one (feature firmware_update_cancel), else
    # Rejected (TC_L_11)
    firmware_update_cancel: bool = True
    # it has log information (else GetLog Rejected: feature log_unavailable, TC_N_34)
    logs_available: bool = True
    # it downloads firmware during a transaction (feature
    # firmware_download_during_transaction), else only once none runs (TC_L_12, L_13)
    firmware_download_during_transaction: bool = True
    # it installs firmware during a transaction (feature firmware_install_during_transaction:
    # TC_L_16), else only once none runs (TC_L_12..L_15)
    firmware_install_during_transaction: bool = False
    # a cable lock keeps the EV out until the driver is authorized (feature
    # cable_lock_before_authorization: TC_C_05)
    cable_lock: bool = False
    # a master pass screen where its holder chooses what to stop (feature master_pass_ui:
    # TC_C_47, C_48), else a master pass stops every transaction (TC_C_49)
    master_pass_ui: bool = False
    # SecurityCtrlr.AdditionalRootCertificateCheck true (feature
    # additional_root_certificate_check: TC_M_09, M_30, M_31, B_47): one CSMS root at a time, the CA
    # of ca_file the first
    additional_root_certificate_check: bool = False
    faults: str | None = None  # "module:NAME" of a dict case id -> Fault


def station_spec(options: SimulatedOptions) -> StationSpec:
    """Factory state: quick to reconnect and reboot (a case waits for it), no start jitter."""
    evses = tuple(EvseSpec(i, connectors=(ConnectorSpec(fixed_cable=options.fixed_cable),))
                  for i in range(1, options.evses + 1))
    return StationSpec(
        options.identity, options.version, evses=evses, serial_number="SIM-0001",
        password=options.password, start_jitter_s=0.0, reboot_s=0.5, boot_retry_s=10,
        retry_backoff_min_s=0.5, retry_backoff_random_s=0.0, retry_backoff_repeat=2,
        call_timeout_s=10.0, connection_timeout_s=60, transaction_id_prefix="SIM-",
        evse_reset=options.evse_reset,
        # 1.6: reservations of the whole station (ReserveConnectorZeroSupported; the suite's
        # SUT file claims reservation_connector_zero for it)
        settings={**(_settings_16(options) if options.version is OcppVersion.V16
                     else _settings_201(options)),
                  **_security_settings(options)})


def _settings_16(options: SimulatedOptions) -> dict[str, Any]:
    """ReserveConnectorZeroSupported, and the LocalAuthListManagement profile (without it
    SendLocalList is answered NotSupported and GetLocalListVersion -1)."""
    profiles = tuple(p for p in FEATURE_PROFILES_16
                     if options.local_auth_list or p != "LocalAuthListManagement")
    return {"reserve_any_evse": options.reserve_connector_zero, "features": profiles}


def _settings_201(options: SimulatedOptions) -> dict[str, Any]:
    """Reservations of an unspecified EVSE (NonEvseSpecific), the SummaryInventory base
    report and Smart Charging, unless the station is built without them (TC_H_13, TC_B_15,
    TC_K_38)."""
    bases = tuple(b for b in REPORT_BASES
                  if options.summary_inventory or b != "SummaryInventory")
    features = tuple(f for f in FEATURE_PROFILES_16
                     if options.smart_charging or f != "SmartCharging")
    return {"reserve_any_evse": options.reserve_unspecified_evse, "report_bases": bases,
            "rate_units": ("W",) if options.single_rate_unit else ("A", "W"),
            "features": features,
            # AuthCtrlr.MasterPassGroupId, not set until the CSMS sets it (TC_C_45, C_49), and
            # AuthCtrlr.DisableRemoteAuthorization (TC_E_52)
            "master_pass_group_id": "", "disable_remote_authorization": False}


def _tls_context(options: SimulatedOptions) -> ssl.SSLContext:
    """What the station trusts (the CSMS root) and, for profile 3, its client certificate."""
    tls = ssl.create_default_context(cafile=options.ca_file)
    if options.client_cert:
        tls.load_cert_chain(options.client_cert)
    return tls


def _trusting(options: SimulatedOptions, roots: list[str]) -> ssl.SSLContext:
    """A client context that trusts only ``roots`` (PEM), a root signed by another one
    included (partial chain: it is a trust anchor of its own), with the profile 3 client
    certificate."""
    tls = ssl.create_default_context(cadata="\n".join(roots))
    tls.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if options.client_cert:
        tls.load_cert_chain(options.client_cert)
    return tls


def _security_settings(options: SimulatedOptions) -> dict[str, Any]:
    """The security profile the station connects with (SecurityProfile / SecurityCtrlr), so
    that a downgrade is refused: 3 with a client certificate, 2 over wss://, 1 with a
    password, else 0."""
    if options.client_cert:
        profile = 3
    elif options.url.startswith("wss://"):
        profile = 2
    else:
        profile = 1 if options.password else 0
    return {"security_profile": profile,
            "has_client_certificate": options.client_cert is not None}


class SimulatedSut:
    """The station and what the control channel does to it (inside the station's process)."""

    def __init__(self, options: SimulatedOptions) -> None:
        self.options = options
        self.clock = SimClock(datetime.now(UTC), speed=1.0)
        self.recorder = Recorder(messages=False)
        self.rng = np.random.default_rng(7)
        self.faults: dict[str, Fault] = _load_faults(options.faults)
        tls = None
        if options.url.startswith("wss://"):
            tls = _tls_context(options)
        self.backend = UrlBackend(options.url, tls=tls, open_timeout_s=5.0)
        self.station = self._build(None)

    async def _open_url(self, url: str, security_profile: int, password: str | None) -> Any:
        """Another CSMS address a 2.0.1 network connection profile gives (the same CSMS root:
        the CA and client certificate the station was built with)."""
        tls = None
        trust = self.station.proto.certificates.csms_trust()
        if url.startswith("wss://") and trust is not None:  # AdditionalRootCertificateCheck
            tls = _trusting(self.options, trust)
        elif url.startswith("wss://"):
            # also the CSMS root certificates the CSMS installed (a profile 1 station upgraded)
            tls = _tls_context(self.options)
            for pem in self.station.proto.certificates.pems(  # type: ignore[attr-defined]
                    "CSMSRootCertificate" if self.options.version is OcppVersion.V201
                    else "CentralSystemRootCertificate"):
                tls.load_verify_locations(cadata=pem)
        backend = UrlBackend(url, tls=tls, open_timeout_s=5.0)
        return await backend.connect(self.options.identity, self.options.version,
                                     password if security_profile in (1, 2) else None)

    async def _open_factory(self, password: str | None) -> Any:
        """The address the station was built with. A 1.6 station whose SecurityProfile the
        CSMS raised to 2 or 3 connects to it over TLS: wss://, the same host and port
        (TC_083)."""
        url, options = self.options.url, self.options
        profile = self.station.settings.security_profile
        if options.version is OcppVersion.V16 and profile >= 2 and url.startswith("ws://"):
            return await self._open_url("wss://" + url.removeprefix("ws://"), profile, password)
        if url.startswith("wss://") and self.station.proto.certificates.csms_trust():
            return await self._open_url(url, profile, password)  # its current CSMS root
        return await self.backend.connect(options.identity, options.version, password)

    def _build(self, case_id: str | None) -> SimStation:
        spec = station_spec(self.options)
        link = Link(self._open_factory, self._open_url)
        station = SimStation(spec, self.clock, link, self.recorder, self.rng.spawn(1)[0])
        _maintenance_and_certificates(station, self.options)
        station.master_pass_ui = self.options.master_pass_ui
        if self.options.additional_root_certificate_check:
            station.enable_additional_root_certificate_check(_read(self.options.ca_file))
        fault = self.faults.get(case_id or "")
        if fault is not None:
            log.warning("faulty station for %s", case_id)
            fault(station)
        return station

    async def run(self) -> None:
        self.station.start()
        while True:
            await self.clock.run(self.clock.now + 3600.0)

    # -- actions -------------------------------------------------------------------------------

    async def perform(self, name: str, params: dict[str, Any]) -> Any:
        action = ACTIONS.get(name)
        if action is None:
            raise KeyError(f"unknown action {name!r}; the simulated station does "
                           f"{', '.join(sorted(ACTIONS))}")
        return await action(self, params)

    async def _sim(self, generator_function: Callable[..., Any], *args: Any) -> Any:
        return await self.clock.in_sim(generator_function, *args)

    async def fresh(self, params: dict[str, Any]) -> Any:
        """A new station in its factory state (the old one disconnects for good)."""
        self.station.shutdown()
        self.station = self._build(params.get("case"))
        self.clock.spawn(_start(self.station, self.clock))
        return {"identity": self.station.id}

    def _cable_lock_lets_in(self, params: dict[str, Any]) -> None:
        """A station with a cable lock before authorization: no EV before a driver is."""
        if self.options.cable_lock and self.station.evse(_evse(params)).auth is None:
            raise RuntimeError("the cable lock keeps the EV out until a driver is authorized")

    async def plug_in(self, params: dict[str, Any]) -> Any:
        self._cable_lock_lets_in(params)
        car = Vehicle(VEHICLE_CATALOG[VEHICLE], soc=0.3, target_soc=1.0)
        await self._sim(self.station.plug_in, _evse(params), car)
        return {}

    async def master_pass_stop_all(self, params: dict[str, Any]) -> Any:
        """At the master pass screen: stop all transactions."""
        return {"stopped": bool(await self._sim(self.station.master_pass_choose, None))}

    async def master_pass_stop_evse(self, params: dict[str, Any]) -> Any:
        """At the master pass screen: stop the transaction on EVSE ``evse`` only."""
        return {"stopped": bool(await self._sim(self.station.master_pass_choose,
                                                [_evse(params)]))}

    async def present_token_station(self, params: dict[str, Any]) -> Any:
        """The token at the station's own reader, before an EVSE is chosen (TC_J_08)."""
        return {"accepted": bool(await self._sim(self.station.present_token_station,
                                                 str(params["token"])))}

    async def plug_in_not_ready(self, params: dict[str, Any]) -> Any:
        """An EV that is connected but not ready to take energy: it draws nothing (already at
        its target), so the charging state is SuspendedEV (TC_E_38)."""
        self._cable_lock_lets_in(params)
        car = Vehicle(VEHICLE_CATALOG[VEHICLE], soc=0.3, target_soc=0.3)
        await self._sim(self.station.plug_in, _evse(params), car)
        return {}

    async def unplug(self, params: dict[str, Any]) -> Any:
        await self._sim(self.station.unplug, _evse(params))
        return {}

    async def unplug_ev_side(self, params: dict[str, Any]) -> Any:
        await self._sim(self.station.unplug_ev_side, _evse(params))
        return {}

    async def ev_suspends(self, params: dict[str, Any]) -> Any:
        await self._sim(self.station.ev_suspends, _evse(params))
        return {}

    async def parking_bay_occupied(self, params: dict[str, Any]) -> Any:
        await self._sim(self.station.parking_bay, _evse(params), True)
        return {}

    async def parking_bay_vacated(self, params: dict[str, Any]) -> Any:
        await self._sim(self.station.parking_bay, _evse(params), False)
        return {}

    async def present_token(self, params: dict[str, Any]) -> Any:
        token = str(params["token"])
        return {"accepted": bool(await self._sim(self.station.present_token, _evse(params),
                                                  token))}

    async def power_cycle(self, params: dict[str, Any]) -> Any:
        """Power off and on: transactions end (PowerLoss), the station boots again."""
        station = self.station
        if not self.options.stop_before_power_loss:
            self.clock.spawn(_power_loss_stopped_after_boot(station))
            return {}
        for evse in station.evses:
            if evse.tx is not None:
                station.end_transaction(evse, "PowerLoss", "AbnormalCondition")
        self.clock.spawn(station._reboot("PowerUp", "PowerUp"))
        return {}

    async def network_down(self, params: dict[str, Any]) -> Any:
        seconds = params.get("seconds")
        self.clock.spawn(_call(self.station.go_offline,
                               None if seconds is None else float(seconds)))
        return {}

    async def network_up(self, params: dict[str, Any]) -> Any:
        self.station._net_down_until = -math.inf
        return {}

    async def lock_failure(self, params: dict[str, Any]) -> Any:
        """The connector lock fails at the next plug-in (ConnectorLockFailure)."""
        self.clock.spawn(self.station.fault(_evse(params), "ConnectorLockFailure",
                                            float(params.get("seconds", 5.0))))
        return {}

    async def fault(self, params: dict[str, Any]) -> Any:
        """EVSE ``evse`` reports a fault (GroundFailure) for ``seconds`` (default 5), then it
        clears."""
        self.clock.spawn(self.station.fault(_evse(params), "GroundFailure",
                                            float(params.get("seconds") or 5.0)))
        return {}

    async def local_list_fails(self, params: dict[str, Any]) -> Any:
        self.station.local_list.storage_failing = True
        return {}

    async def reject_reservations(self, params: dict[str, Any]) -> Any:
        self.station.reservations.rejecting = True
        return {}


ACTIONS: dict[str, Callable[[SimulatedSut, dict[str, Any]], Any]] = {
    "fresh": SimulatedSut.fresh, "plug_in": SimulatedSut.plug_in,
    "unplug": SimulatedSut.unplug, "present_token": SimulatedSut.present_token,
    "present_token_station": SimulatedSut.present_token_station,
    "power_cycle": SimulatedSut.power_cycle, "network_down": SimulatedSut.network_down,
    "network_up": SimulatedSut.network_up, "lock_failure": SimulatedSut.lock_failure,
    "local_list_fails": SimulatedSut.local_list_fails,
    "reject_reservations": SimulatedSut.reject_reservations,
    "fault": SimulatedSut.fault, "plug_in_not_ready": SimulatedSut.plug_in_not_ready,
    "master_pass_stop_all": SimulatedSut.master_pass_stop_all,
    "master_pass_stop_evse": SimulatedSut.master_pass_stop_evse,
    "unplug_ev_side": SimulatedSut.unplug_ev_side, "ev_suspends": SimulatedSut.ev_suspends,
    "parking_bay_occupied": SimulatedSut.parking_bay_occupied,
    "parking_bay_vacated": SimulatedSut.parking_bay_vacated,
}


def _maintenance_and_certificates(station: SimStation, options: SimulatedOptions) -> None:
    """Firmware updates and log uploads take well under a second (the suite waits for them in
    real time) and fetch HTTP firmware for real; the CA the station trusts for wss:// is its
    installed CSMS root certificate, as on a charger that was given it."""
    station.firmware_timings = FirmwareTimings(download_s=0.2, verify_s=0.1, install_s=0.3,
                                               retry_interval_s=1.0, jitter=0.0)
    station.upload_timings = UploadTimings(prepare_s=0.1, failure_s=0.2, retry_interval_s=1.0)
    station.real_downloads = True
    station.signed_firmware_only = True
    station.firmware_cancel = options.firmware_update_cancel
    station.logs_available = options.logs_available
    station.firmware_download_during_transaction = options.firmware_download_during_transaction
    station.firmware_install_during_transaction = options.firmware_install_during_transaction
    if options.ca_file:
        use = "CentralSystemRootCertificate" if options.version is OcppVersion.V16 \
            else "CSMSRootCertificate"
        pem = Path(options.ca_file).read_text()
        station.proto.certificates.install({"certificateType": use, "certificate": pem},
                                           station.utc())


def _power_loss_stopped_after_boot(station: SimStation) -> Any:
    """The power goes before the station can send anything: it goes down with its
    transactions running and, from the state it kept, ends them with reason PowerLoss once it
    is back (the StopTransaction waits in its queue until it has booted)."""
    yield from station._reboot("PowerUp", "PowerUp")
    for evse in station.evses:
        if evse.tx is not None:
            station.end_transaction(evse, "PowerLoss", "AbnormalCondition")


def _evse(params: dict[str, Any]) -> int:
    return int(params.get("evse", 1))


def _start(station: SimStation, clock: SimClock) -> Any:
    station.start()
    yield clock.env.timeout(0)


def _call(function: Callable[..., Any], *args: Any) -> Any:
    function(*args)
    yield from ()


def _read(path: str | None) -> str | None:
    """The text of the file at ``path`` (a CA certificate), if there is one."""
    return Path(path).read_text() if path else None


def _load_faults(spec: str | None) -> dict[str, Fault]:
    if not spec:
        return {}
    module, _, name = spec.partition(":")
    return dict(getattr(importlib.import_module(module), name))


# -- the control channel (HTTP) --------------------------------------------------------------


def control_app(sut: SimulatedSut) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "identity": sut.station.id,
                             "online": sut.station.online})

    async def action(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        try:
            params = await request.json() if await request.body() else {}
        except ValueError:
            return JSONResponse({"error": "the body must be a JSON object"}, 400)
        if not isinstance(params, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, 400)
        try:
            result = await sut.perform(name, params)
        except KeyError as exc:
            return JSONResponse({"error": str(exc).strip("'\"")}, 404)
        except (RuntimeError, ValueError) as exc:
            return JSONResponse({"error": f"{name}: {exc}"}, 409)
        return JSONResponse({"ok": True, "result": result})

    return Starlette(routes=[Route("/health", health),
                             Route("/actions/{name}", action, methods=["POST"])])


async def serve(options: SimulatedOptions, port_file: Path) -> None:
    import uvicorn

    sut = SimulatedSut(options)
    config = uvicorn.Config(control_app(sut), host="127.0.0.1", port=0, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    station = asyncio.ensure_future(sut.run())
    serving = asyncio.ensure_future(server.serve())
    while not server.started:
        if serving.done() or station.done():
            break
        await asyncio.sleep(0.01)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        port_file.write_text(str(port))
    done, _ = await asyncio.wait({station, serving}, return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        task.result()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--identity", required=True)
    parser.add_argument("--version", choices=["1.6", "2.0.1"], required=True)
    parser.add_argument("--evses", type=int, default=1)
    parser.add_argument("--password")
    parser.add_argument("--ca-file")
    parser.add_argument("--client-cert")
    parser.add_argument("--fixed-cable", action="store_true")
    parser.add_argument("--no-local-list", action="store_true")
    parser.add_argument("--no-evse-reset", action="store_true")
    parser.add_argument("--no-reserve-connector-zero", action="store_true")
    parser.add_argument("--power-loss-stop-after-boot", action="store_true")
    parser.add_argument("--no-reserve-unspecified-evse", action="store_true")
    parser.add_argument("--no-summary-inventory", action="store_true")
    parser.add_argument("--single-rate-unit", action="store_true")
    parser.add_argument("--no-smart-charging", action="store_true")
    parser.add_argument("--no-firmware-cancel", action="store_true")
    parser.add_argument("--no-logs", action="store_true")
    parser.add_argument("--no-firmware-download-during-transaction", action="store_true")
    parser.add_argument("--firmware-install-during-transaction", action="store_true")
    parser.add_argument("--cable-lock", action="store_true")
    parser.add_argument("--master-pass-ui", action="store_true")
    parser.add_argument("--additional-root-certificate-check", action="store_true")
    parser.add_argument("--faults")
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    options = SimulatedOptions(
        url=args.url, identity=args.identity, version=OcppVersion.parse(args.version),
        evses=args.evses, password=args.password, ca_file=args.ca_file,
        client_cert=args.client_cert, fixed_cable=args.fixed_cable,
        local_auth_list=not args.no_local_list, evse_reset=not args.no_evse_reset,
        reserve_connector_zero=not args.no_reserve_connector_zero,
        stop_before_power_loss=not args.power_loss_stop_after_boot,
        reserve_unspecified_evse=not args.no_reserve_unspecified_evse,
        summary_inventory=not args.no_summary_inventory,
        single_rate_unit=args.single_rate_unit, smart_charging=not args.no_smart_charging,
        firmware_update_cancel=not args.no_firmware_cancel, logs_available=not args.no_logs,
        firmware_download_during_transaction=not args.no_firmware_download_during_transaction,
        firmware_install_during_transaction=args.firmware_install_during_transaction,
        cable_lock=args.cable_lock, master_pass_ui=args.master_pass_ui,
        additional_root_certificate_check=args.additional_root_certificate_check,
        faults=args.faults)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(options, Path(args.port_file)))


# -- the suite's side: start it, find its control channel ------------------------------------


class SimulatedStationError(RuntimeError):
    pass


@contextlib.contextmanager
def simulated_station(options: SimulatedOptions, workdir: Path | None = None
                      ) -> Iterator[str]:
    """Start the simulated station; yields its control channel's base URL."""
    with contextlib.ExitStack() as stack:
        folder = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="chargeloop-simulated-")))
        folder.mkdir(parents=True, exist_ok=True)
        port_file = folder / "control.port"
        log_path = folder / "station.log"
        command = [sys.executable, "-m", "conformance.station.simulated", "--url", options.url,
                   "--identity", options.identity, "--version",
                   options.version.value.removeprefix("ocpp"), "--evses", str(options.evses),
                   "--port-file", str(port_file)]
        for flag, value in (("--password", options.password), ("--ca-file", options.ca_file),
                            ("--client-cert", options.client_cert),
                            ("--faults", options.faults)):
            if value:
                command.append(f"{flag}={value}")  # a value may begin with "-"
        if options.fixed_cable:
            command.append("--fixed-cable")
        if options.single_rate_unit:
            command.append("--single-rate-unit")
        if options.cable_lock:
            command.append("--cable-lock")
        if options.master_pass_ui:
            command.append("--master-pass-ui")
        if options.additional_root_certificate_check:
            command.append("--additional-root-certificate-check")
        if options.firmware_install_during_transaction:
            command.append("--firmware-install-during-transaction")
        for flag, wanted in (("--no-local-list", options.local_auth_list),
                             ("--no-evse-reset", options.evse_reset),
                             ("--no-reserve-connector-zero", options.reserve_connector_zero),
                             ("--power-loss-stop-after-boot", options.stop_before_power_loss),
                             ("--no-reserve-unspecified-evse",
                              options.reserve_unspecified_evse),
                             ("--no-summary-inventory", options.summary_inventory),
                             ("--no-smart-charging", options.smart_charging),
                             ("--no-firmware-cancel", options.firmware_update_cancel),
                             ("--no-logs", options.logs_available),
                             ("--no-firmware-download-during-transaction",
                              options.firmware_download_during_transaction)):
            if not wanted:
                command.append(flag)
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH"))
                                             if p)}
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                                       env=env)
        try:
            deadline = time.monotonic() + STARTUP_LIMIT_S
            while not port_file.exists() or not port_file.read_text().strip():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SimulatedStationError(
                        "the simulated station did not start:\n"
                        + log_path.read_text(errors="replace")[-4000:])
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port_file.read_text().strip()}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


if __name__ == "__main__":
    main()
