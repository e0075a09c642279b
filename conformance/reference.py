"""``--reference``: the chargeloop reference CSMS as the system under test, started for the run.

It runs as ``chargeloop csms serve`` in a process of its own on a fresh SQLite file and a free
loopback port, exactly as a vendor's CSMS would be reached: over its WebSocket and its REST API,
nothing shared in memory. Before the cases run, the SUT file's stations and tokens are created
through that API, and the triggers use its command endpoint with the admin token.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from chargeloop.ocppj.transport.tls import TestPki
from conformance.catalogue import PROFILES
from conformance.sut import Sut, SutStation, TlsSettings, TriggerSettings
from csms.process import CsmsProcess, CsmsProcessError
from csms.process import chargeloop_command as chargeloop_command  # the suite's tests use it

# TLS endpoints by name: the test server certificate is for localhost (and 127.0.0.1), and a
# name exercises the host name check the way a vendor's FQDN does.
TLS_HOST = "localhost"
# Running costs (CostUpdated, TC_I_01) every half second, not every minute: the cases wait for it.
COST_UPDATE_INTERVAL_S = 0.5
# Optional features (conformance.sut.FEATURES) the reference CSMS has, claimed for it.
REFERENCE_FEATURES = frozenset({"tx_default_profile_all_evses", "unlock_connector",
                                "trigger_message", "reserve_unspecified_evse",
                                "reserve_connector_type", "get_transaction_status",
                                "local_controller"})
# Claimed when --reference also serves security profiles 2 and 3.
TLS_FEATURES = frozenset({"tls_server", "tls_client_certificates"})
# The tariff in force at the SUT's first station (block I: running and final costs).
TARIFF = {"id": "conformance", "name": "Conformance tariff", "currency": "EUR",
          "energy_price_per_kwh": "0.40", "session_fee": "1.00"}


ReferenceCsmsError = CsmsProcessError


@contextlib.contextmanager
def reference_csms(sut: Sut, workdir: Path | None = None, *, tls: bool = True,
                   lazy_tls: bool = True) -> Iterator[Sut]:
    """Start the reference CSMS, provision ``sut``'s stations and tokens, and yield ``sut``
    pointed at it (URL and reference triggers).

    With ``tls`` two more instances serve the TLS cases, as a CSMS configured for security
    profile 2 (wss://, a server certificate of a test CA) and for profile 3 (mutual TLS, client
    certificates of that CA whose CN is the station id): the reference CSMS serves one
    profile per port, and a profile-3 port refuses every client without a certificate.

    Their start-up costs as much CPU as the plain one's, and most runs spend it on cases that
    never go near TLS. With ``lazy_tls`` (cases in this process) they start once the plain
    one is up, beside the first cases, and a TLS case waits for its endpoint
    (``wait_for_endpoint``); without, they are ready when this yields (a suite in another
    process)."""
    with contextlib.ExitStack() as stack:
        folder = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="chargeloop-conformance-")))
        sut = _with_boot_stations(_with_password(sut))
        main = stack.enter_context(_instance(folder / "plain"))
        main.wait_ready(TlsSettings())
        _provision(sut, main.api_url, main.headers)
        material = TlsSettings()
        if tls:
            material = _tls_material(folder / "pki", sut.stations[0].id)
            assert material.server_cert is not None and material.ca is not None
            secured = {2: stack.enter_context(_instance(
                folder / "profile-2", "--tls-cert", str(material.server_cert))),
                3: stack.enter_context(_instance(
                    folder / "profile-3", "--tls-cert", str(material.server_cert),
                    "--tls-client-ca", str(material.ca)))}
            material = replace(material, profile_2_url=secured[2].ocpp_url,
                               profile_3_url=secured[3].ocpp_url)
            for profile, instance in secured.items():
                url = material.profile_2_url if profile == 2 else material.profile_3_url
                assert url is not None
                ready = _Readiness(functools.partial(
                    _ready_tls, sut.stations[0], profile, instance, material))
                if lazy_tls:
                    _STARTING[url] = ready
                    stack.callback(_STARTING.pop, url, None)
                else:
                    ready()
        # It implements every profile the suite covers: claim them all, so a plain
        # `--reference` run runs every case.
        yield replace(sut, url=main.ocpp_url, triggers=TriggerSettings(
            kind="reference", base_url=main.api_url, headers=main.headers),
            features=sut.features | REFERENCE_FEATURES | (TLS_FEATURES if tls else set()),
            profiles=tuple(PROFILES[sut.version].values()), tls=material)


class _Readiness:
    """Waiting for a TLS instance and provisioning it, once (later calls: the same outcome)."""

    def __init__(self, make_ready: Callable[[], None]) -> None:
        self._make_ready = make_ready
        self._lock = threading.Lock()
        self._done = False
        self._error: Exception | None = None

    def __call__(self) -> None:
        with self._lock:
            if not self._done:
                try:
                    self._make_ready()
                except Exception as exc:  # noqa: BLE001 - kept for every later caller
                    self._error = exc
                self._done = True
        if self._error is not None:
            raise self._error


# The lazily started TLS instances of the running --reference, by endpoint URL.
_STARTING: dict[str, _Readiness] = {}


def wait_for_endpoint(url: str) -> None:
    """Block until the reference CSMS's TLS endpoint ``url`` is up and provisioned (it starts
    in the background with ``lazy_tls``); nothing to do for any other URL."""
    ready = _STARTING.get(url)
    if ready is not None:
        ready()


def _ready_tls(station: SutStation, profile: int, instance: _Instance,
               material: TlsSettings) -> None:
    instance.wait_ready(material)
    _provision_tls_station(station, profile, instance, material)


class _Instance(CsmsProcess):
    """One ``chargeloop csms serve`` on a fresh database and a free port; profile 2 and 3
    instances are reached over https at a name their test certificate carries."""

    def __init__(self, folder: Path, extra: tuple[str, ...]) -> None:
        super().__init__(folder, "--cost-update-interval", str(COST_UPDATE_INTERVAL_S), *extra,
                         api_host=TLS_HOST)
        self.mutual = "--tls-client-ca" in extra
        self.launch()

    def verify(self, material: TlsSettings) -> ssl.SSLContext | bool:
        """How the API client trusts this instance: the test CA; on a profile-3 instance the
        API wants a client certificate too (one port, one TLS configuration)."""
        if not self.tls or material.ca is None:
            return True
        context = ssl.create_default_context(cafile=str(material.ca))
        if self.mutual and material.client_cert is not None:
            context.load_cert_chain(str(material.client_cert))
        return context

    def wait_ready(self, material: TlsSettings) -> None:  # type: ignore[override]
        super().wait_ready(self.verify(material))


@contextlib.contextmanager
def _instance(folder: Path, *extra: str) -> Iterator[_Instance]:
    instance = _Instance(folder, extra)
    try:
        yield instance
    finally:
        instance.stop()


def _tls_material(folder: Path, station_id: str) -> TlsSettings:
    """A test CA (trustme), the CSMS's server certificate for the loopback names, and the
    first station's client certificate (CN = its id), as PEM files the SUT file can name."""
    pki = TestPki()
    files = pki.write(folder)
    client = folder / "station.pem"
    pki.client_cert(station_id).private_key_and_cert_chain_pem.write_to_path(str(client))
    return TlsSettings(ca=files["ca"], client_cert=client, server_cert=files["server"])


def _provision_tls_station(station: SutStation, profile: int, instance: _Instance,
                           material: TlsSettings) -> None:
    """The first station on a TLS instance: with its password for profile 2 (TLS + Basic
    auth), without for profile 3 (its certificate identifies it)."""
    body: dict[str, object] = {"id": station.id, "security_profile": profile}
    if profile == 2 and station.password:
        body["password"] = station.password
    with httpx.Client(base_url=instance.api_url, headers=instance.headers, timeout=30,
                      verify=instance.verify(material)) as client:
        _ok(client.post("/api/stations", json=body),
            f"register station {station.id} (security profile {profile})")


def _with_password(sut: Sut) -> Sut:
    """The first station gets a Basic auth password when the SUT file gives none, so the
    security profile 1 cases run against the reference CSMS too."""
    first = sut.stations[0]
    if first.password is not None:
        return sut
    password = secrets.token_urlsafe(18)[:24]
    return replace(sut, stations=(replace(first, password=password), *sut.stations[1:]))


def _with_boot_stations(sut: Sut) -> Sut:
    """A station the reference CSMS answers Pending and one it answers Rejected (registration
    status), for TC_B_30/B_31, unless the SUT file names its own."""
    return replace(sut, pending_station=sut.pending_station or SutStation("CONF-CS-PENDING"),
                   rejected_station=sut.rejected_station or SutStation("CONF-CS-REJECTED"))


def _provision(sut: Sut, api: str, headers: dict[str, str]) -> None:
    """The stations (with passwords) and tokens the cases expect the CSMS to know."""
    tokens = sut.tokens
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with httpx.Client(base_url=api, headers=headers, timeout=30) as client:
        for station in sut.stations:
            body: dict[str, object] = {"id": station.id}
            if station.password:
                body.update(password=station.password, security_profile=1)
            _ok(client.post("/api/stations", json=body), f"register station {station.id}")
        for held, registration in ((sut.pending_station, "Pending"),
                                   (sut.rejected_station, "Rejected")):
            if held is not None:
                body = {"id": held.id, "registration": registration}
                if held.password:
                    body.update(password=held.password, security_profile=1)
                _ok(client.post("/api/stations", json=body), f"register station {held.id}")
        for token, values in (
                (tokens.valid, {"group_id": tokens.group_id}),
                (tokens.valid_2, {"group_id": tokens.group_id}),
                (tokens.master_pass, {"group_id": tokens.master_pass_group_id}),
                (tokens.blocked, {"status": "Blocked"}),
                (tokens.expired, {"status": "Accepted", "expiry": past})):
            _ok(client.put(f"/api/tokens/{token}", json=values), f"create token {token}")
        _ok(client.post("/api/tariffs", json=TARIFF), "create the tariff")
        _ok(client.post(f"/api/tariffs/{TARIFF['id']}/assignments",
                        json={"station_id": sut.stations[0].id}),
            f"assign the tariff to {sut.stations[0].id}")


def _ok(response: httpx.Response, what: str) -> None:
    if not response.is_success:
        raise ReferenceCsmsError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
