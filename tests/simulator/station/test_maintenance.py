"""Firmware updates and log uploads: the status sequences in simulation time (plain
simpy.Environment, recorded notifications), the answers, and the real HTTP upload, ending with
an upload that lands in the reference CSMS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import simpy

from chargeloop.ocppj import Direction, OcppVersion, validate
from csms.server import running_csms
from simulator.station.maintenance import (
    CANCELED,
    FirmwareTimings,
    UploadFailed,
    UploadTimings,
    firmware_update,
    get_diagnostics_response,
    get_log_response,
    http_upload,
    log_content,
    log_filename,
    log_upload,
    update_firmware_response,
    upload_url,
)
from simulator.station.smart_charging import iso_utc
from tests.csms.conftest import make_config
from tests.csms.support import boot, connected_station

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
EXACT = FirmwareTimings(download_s=20, verify_s=2, install_s=30, jitter=0)
UPLOAD = UploadTimings(prepare_s=2, failure_s=5)


def check(version: str, action: str, payload: dict[str, Any],
          direction: Direction = Direction.RESPONSE) -> dict[str, Any]:
    validate(OcppVersion.parse(version), action, direction, payload)
    return payload


class Recorder:
    """``notify`` for the processes: remembers (simulation time, status); sending takes
    ``delay_s``."""

    def __init__(self, env: simpy.Environment, delay_s: float = 0.0) -> None:
        self.env = env
        self.delay_s = delay_s
        self.sent: list[tuple[float, str]] = []

    def __call__(self, status: str) -> simpy.Event | None:
        self.sent.append((self.env.now, status))
        return self.env.timeout(self.delay_s) if self.delay_s else None


def clock(env: simpy.Environment) -> Callable[[], datetime]:
    return lambda: START + timedelta(seconds=env.now)


def run(env: simpy.Environment, generator: Any) -> Any:
    process = env.process(generator)
    env.run()
    return process.value


# -- firmware -------------------------------------------------------------------------------------

def test_1_6_firmware_update_waits_for_retrieve_date_and_reboots_before_installed() -> None:
    """TC_044_1: Downloading, Downloaded, Installing, reboot, Installed."""
    env = simpy.Environment()
    notify = Recorder(env)
    reboots: list[float] = []

    def reboot() -> simpy.Event:
        reboots.append(env.now)
        return env.timeout(15)  # the station boots again

    request = {"location": "http://firmware.example.com/cs-1.2.bin",
               "retrieveDate": iso_utc(START + timedelta(seconds=60))}
    check("1.6", "UpdateFirmware", request, Direction.REQUEST)
    assert check("1.6", "UpdateFirmware", update_firmware_response(request, version="1.6")) == {}
    result = run(env, firmware_update(env, request, version="1.6", notify=notify, reboot=reboot,
                                      now_utc=clock(env), timings=EXACT))
    assert result == "Installed"
    assert notify.sent == [(60, "Downloading"), (80, "Downloaded"), (80, "Installing"),
                           (125, "Installed")]
    assert reboots == [110]
    for _, status in notify.sent:
        check("1.6", "FirmwareStatusNotification", {"status": status}, Direction.REQUEST)


def test_1_6_firmware_download_failure_after_retries() -> None:
    """A location with 'fail' in it: every attempt fails, DownloadFailed after the last."""
    env = simpy.Environment()
    notify = Recorder(env, delay_s=1)
    request = {"location": "ftp://fail.example.com/fw.bin", "retrieveDate": iso_utc(START),
               "retries": 2, "retryInterval": 10}
    result = run(env, firmware_update(env, request, version="1.6", notify=notify,
                                      now_utc=clock(env), timings=EXACT))
    assert result == "DownloadFailed"
    assert notify.sent == [(0, "Downloading"), (31, "Downloading"), (62, "Downloading"),
                           (83, "DownloadFailed")]


def test_1_6_installation_failure() -> None:
    env = simpy.Environment()
    notify = Recorder(env)
    request = {"location": "https://example.com/fail-install/fw.bin",
               "retrieveDate": iso_utc(START - timedelta(hours=1))}
    assert run(env, firmware_update(env, request, version="1.6", notify=notify,
                                    now_utc=clock(env), reboot=lambda: pytest.fail("rebooted"),
                                    timings=EXACT)) == "InstallationFailed"
    assert [s for _, s in notify.sent] == ["Downloading", "Downloaded", "Installing",
                                           "InstallationFailed"]


def secure_request(location: str, *, retrieve_s: float = 0, install_s: float | None = None,
                   signed: bool = True, certificate: str = "-----BEGIN CERTIFICATE-----"
                   ) -> dict[str, Any]:
    firmware: dict[str, Any] = {"location": location,
                                "retrieveDateTime": iso_utc(START + timedelta(seconds=retrieve_s))}
    if install_s is not None:
        firmware["installDateTime"] = iso_utc(START + timedelta(seconds=install_s))
    if signed:
        firmware["signingCertificate"] = certificate
        firmware["signature"] = "MEUCIQDsignature"
    return {"requestId": 42, "firmware": firmware}


def test_2_0_1_secure_update_with_scheduled_download_and_install() -> None:
    """TC_L_01 / TC_L_02 / TC_L_03: DownloadScheduled, Downloading, Downloaded,
    SignatureVerified, InstallScheduled, Installing, InstallRebooting, reboot, Installed."""
    env = simpy.Environment()
    notify = Recorder(env)
    request = secure_request("https://firmware.example.com/v2.bin", retrieve_s=100,
                             install_s=300)
    check("2.0.1", "UpdateFirmware", request, Direction.REQUEST)
    assert check("2.0.1", "UpdateFirmware",
                 update_firmware_response(request, version="2.0.1")) == {"status": "Accepted"}
    ready: list[float] = []

    def before_install() -> simpy.Event:
        ready.append(env.now)
        return env.timeout(5)  # e.g. the last transaction ends

    result = run(env, firmware_update(env, request, version="2.0.1", notify=notify,
                                      reboot=lambda: env.timeout(20), now_utc=clock(env),
                                      before_install=before_install, timings=EXACT))
    assert result == "Installed"
    assert notify.sent == [(0, "DownloadScheduled"), (100, "Downloading"), (120, "Downloaded"),
                           (122, "SignatureVerified"), (122, "InstallScheduled"),
                           (305, "Installing"), (335, "InstallRebooting"), (355, "Installed")]
    assert ready == [300]
    for _, status in notify.sent:
        check("2.0.1", "FirmwareStatusNotification", {"status": status, "requestId": 42},
              Direction.REQUEST)


def test_1_6_signed_update_uses_the_secure_sequence() -> None:
    env = simpy.Environment()
    notify = Recorder(env)
    request = secure_request("https://firmware.example.com/v2.bin")
    check("1.6", "SignedUpdateFirmware", request, Direction.REQUEST)
    check("1.6", "SignedUpdateFirmware", update_firmware_response(request, version="1.6"))
    assert run(env, firmware_update(env, request, version="1.6", notify=notify,
                                    now_utc=clock(env), timings=EXACT)) == "Installed"
    assert [s for _, s in notify.sent] == ["Downloading", "Downloaded", "SignatureVerified",
                                           "Installing", "InstallRebooting", "Installed"]
    for _, status in notify.sent:
        check("1.6", "SignedFirmwareStatusNotification", {"status": status, "requestId": 42},
              Direction.REQUEST)


@pytest.mark.parametrize(("location", "final", "statuses"), [
    ("https://example.com/bad-signature/fw.bin", "InvalidSignature",
     ["Downloading", "Downloaded", "InvalidSignature"]),  # TC_L_06
    ("https://fail.example.com/fw.bin", "DownloadFailed",
     ["Downloading", "DownloadFailed"]),  # TC_L_07
    ("https://example.com/fail-verify/fw.bin", "InstallVerificationFailed",
     ["Downloading", "Downloaded", "SignatureVerified", "Installing",
      "InstallVerificationFailed"]),  # TC_L_08
])
def test_2_0_1_secure_update_failures(location: str, final: str, statuses: list[str]) -> None:
    env = simpy.Environment()
    notify = Recorder(env)
    request = secure_request(location)
    assert run(env, firmware_update(env, request, version="2.0.1", notify=notify,
                                    now_utc=clock(env), timings=EXACT)) == final
    assert [s for _, s in notify.sent] == statuses


def test_2_0_1_update_answers_and_cancellation() -> None:
    """TC_L_05 InvalidCertificate, TC_L_10 AcceptedCanceled: the running update is
    interrupted and ends quietly."""
    bad = secure_request("https://example.com/fw.bin", certificate="INVALID certificate")
    assert check("2.0.1", "UpdateFirmware",
                 update_firmware_response(bad, version="2.0.1"))["status"] == \
        "InvalidCertificate"
    revoked = secure_request("https://example.com/fw.bin", certificate="revoked")
    assert update_firmware_response(revoked, version="2.0.1") == {"status": "RevokedCertificate"}
    env = simpy.Environment()
    notify = Recorder(env)
    request = secure_request("https://example.com/fw.bin")
    first = env.process(firmware_update(env, request, version="2.0.1", notify=notify,
                                        timings=EXACT))
    env.run(until=10)
    assert check("2.0.1", "UpdateFirmware",
                 update_firmware_response(request, version="2.0.1", busy=True)) == {
        "status": "AcceptedCanceled"}
    first.interrupt("a newer update")
    env.run()
    assert first.value == CANCELED and notify.sent == [(0, "Downloading")]


def test_firmware_timings_vary_with_the_seeded_rng() -> None:
    def statuses(seed: int) -> list[tuple[float, str]]:
        env = simpy.Environment()
        notify = Recorder(env)
        run(env, firmware_update(env, {"location": "http://x.example/fw",
                                       "retrieveDate": iso_utc(START)},
                                 version="1.6", notify=notify, rng=np.random.default_rng(seed),
                                 timings=FirmwareTimings(download_s=100, install_s=100)))
        return notify.sent

    one, again, other = statuses(7), statuses(7), statuses(8)
    assert one == again and one != other
    downloaded = dict((s, t) for t, s in one)["Downloaded"]
    assert 80 <= downloaded <= 120


# -- logs ------------------------------------------------------------------------------------------

class Uploads:
    """``upload`` for the processes: remembers what it was given; each transfer takes
    ``duration_s`` and fails while ``failures`` remain."""

    def __init__(self, env: simpy.Environment, duration_s: float = 3.0, failures: int = 0) -> None:
        self.env = env
        self.duration_s = duration_s
        self.failures = failures
        self.calls: list[tuple[float, str, str, bytes]] = []

    def __call__(self, location: str, filename: str, content: bytes) -> simpy.Event:
        self.calls.append((self.env.now, location, filename, content))
        if self.failures:
            self.failures -= 1
            event = self.env.event()
            event.fail(UploadFailed("503 Service Unavailable"))
            return event
        return self.env.timeout(self.duration_s)


def test_1_6_get_diagnostics_uploads() -> None:
    """TC_045_1: the answer names the file; Uploading, the upload, Uploaded."""
    env = simpy.Environment()
    notify, upload = Recorder(env), Uploads(env)
    request = {"location": "ftp://diag.example.com/incoming/", "retries": 1,
               "startTime": iso_utc(START - timedelta(days=1))}
    check("1.6", "GetDiagnostics", request, Direction.REQUEST)
    name = log_filename(request, station_id="CS 1", now=START)
    assert name == "CS_1-Diagnostics-20260105T080000Z.log"
    check("1.6", "GetDiagnostics", get_diagnostics_response(name))
    check("1.6", "GetDiagnostics", get_diagnostics_response(None))
    result = run(env, log_upload(env, request, version="1.6", notify=notify, upload=upload,
                                 filename=name, station_id="CS 1", now_utc=clock(env),
                                 timings=UPLOAD))
    assert result == "Uploaded"
    assert notify.sent == [(2, "Uploading"), (5, "Uploaded")]
    [(at, location, filename, content)] = upload.calls
    assert (at, location, filename) == (2, "ftp://diag.example.com/incoming/", name)
    assert content == log_content("CS 1", START) and b"CS 1" in content
    for _, status in notify.sent:
        check("1.6", "DiagnosticsStatusNotification", {"status": status}, Direction.REQUEST)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_get_log_upload_failure_path(version: str) -> None:
    """TC_N_26 / 1.6 security GetLog: a failing location, retried, ends UploadFailure."""
    env = simpy.Environment()
    notify, upload = Recorder(env), Uploads(env)
    request = {"logType": "DiagnosticsLog", "requestId": 8, "retries": 1, "retryInterval": 10,
               "log": {"remoteLocation": "https://fail.example.com/logs"}}
    check(version, "GetLog", request, Direction.REQUEST)
    answer = get_log_response(request, version=version, filename="x.log")
    assert check(version, "GetLog", answer) == {"status": "Accepted", "filename": "x.log"}
    result = run(env, log_upload(env, request, version=version, notify=notify, upload=upload,
                                 now_utc=clock(env), timings=UPLOAD))
    assert result == "UploadFailure" and upload.calls == []
    assert notify.sent == [(2, "Uploading"), (22, "UploadFailure")]
    for _, status in notify.sent:
        check(version, "LogStatusNotification", {"status": status, "requestId": 8},
              Direction.REQUEST)


def test_failed_transfer_is_retried() -> None:
    env = simpy.Environment()
    notify, upload = Recorder(env), Uploads(env, failures=1)
    request = {"logType": "SecurityLog", "requestId": 3, "retries": 2, "retryInterval": 60,
               "log": {"remoteLocation": "https://logs.example.com/upload"}}
    assert run(env, log_upload(env, request, version="2.0.1", notify=notify, upload=upload,
                               timings=UPLOAD)) == "Uploaded"
    assert [t for t, *_ in upload.calls] == [2, 62]
    assert notify.sent == [(2, "Uploading"), (65, "Uploaded")]


def test_2_0_1_second_log_request_cancels_the_first() -> None:
    """TC_N_36: the new GetLog is answered AcceptedCanceled; the running upload ends with
    LogStatusNotification AcceptedCanceled."""
    env = simpy.Environment()
    notify, upload = Recorder(env), Uploads(env, duration_s=100)
    request = {"logType": "DiagnosticsLog", "requestId": 1,
               "log": {"remoteLocation": "https://logs.example.com/upload"}}
    first = env.process(log_upload(env, request, version="2.0.1", notify=notify, upload=upload,
                                   timings=UPLOAD))
    env.run(until=50)
    second = {**request, "requestId": 2}
    assert check("2.0.1", "GetLog", get_log_response(second, version="2.0.1", filename="b.log",
                                                     busy=True))["status"] == "AcceptedCanceled"
    first.interrupt()
    env.run()
    assert first.value == CANCELED
    assert notify.sent == [(2, "Uploading"), (50, "AcceptedCanceled")]
    check("2.0.1", "LogStatusNotification", {"status": "AcceptedCanceled", "requestId": 1},
          Direction.REQUEST)


# -- the HTTP transfer ---------------------------------------------------------------------------

def test_upload_url() -> None:
    assert upload_url("http://h/uploads/tok", "a b.log") == "http://h/uploads/tok/a%20b.log"
    assert upload_url("http://h/dir/", "x.log") == "http://h/dir/x.log"
    assert upload_url("https://s3.example/b/k?X-Sig=1", "x.log") == \
        "https://s3.example/b/k?X-Sig=1"


async def test_http_upload_falls_back_to_multipart_post_on_405() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(405 if request.method == "PUT" else 201)

    await http_upload("http://logs.example.com/incoming", "diag.log", b"log lines\n",
                      transport=httpx.MockTransport(handler))
    put, post = seen
    assert (put.method, str(put.url)) == ("PUT", "http://logs.example.com/incoming/diag.log")
    assert put.content == b"log lines\n"
    assert (post.method, str(post.url)) == ("POST", "http://logs.example.com/incoming")
    assert post.headers["content-type"].startswith("multipart/form-data")
    body = post.read()
    assert b'name="file"; filename="diag.log"' in body and b"log lines\n" in body


async def test_http_upload_failures_raise() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404, text="no such slot"))
    with pytest.raises(UploadFailed, match="404"):
        await http_upload("http://logs.example.com/x", "a.log", b"", transport=transport)

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(UploadFailed, match="connection refused"):
        await http_upload("http://logs.example.com/x", "a.log", b"",
                          transport=httpx.MockTransport(unreachable))
    with pytest.raises(UploadFailed, match="ftp"):
        await http_upload("ftp://logs.example.com/x", "a.log", b"")


async def test_log_upload_lands_in_the_reference_csms(tmp_path: Path) -> None:
    """2.0.1 GetLog end to end: the CSMS asks for the log with its own upload location, the
    station answers, the SimPy process uploads over real HTTP (http_upload) and reports its
    statuses, and the CSMS holds the file with the content the station sent."""
    config = make_config(f"sqlite+aiosqlite:///{tmp_path / 'csms.db'}", tmp_path,
                         upload_dir=tmp_path / "uploads")
    async with running_csms(config) as csms:
        assert csms.admin_token is not None
        requests: list[dict[str, Any]] = []
        env = simpy.Environment()
        now_utc = clock(env)

        async def get_log(payload: dict[str, Any]) -> dict[str, Any]:
            requests.append(payload)
            return get_log_response(payload, version="2.0.1", filename=log_filename(
                payload, station_id="CS-UPLOAD", now=now_utc()))

        async with (connected_station(csms, "CS-UPLOAD", OcppVersion.V201,
                                      routes={"GetLog": get_log}) as station,
                    httpx.AsyncClient(base_url=csms.api_url, timeout=10, headers={
                        "Authorization": f"Bearer {csms.admin_token}"}) as api):
            await boot(station)
            ordered = await api.post("/api/stations/CS-UPLOAD/logs", json={})
            assert ordered.status_code == 200, ordered.text
            request_id = ordered.json()["request_id"]
            [request] = requests
            notify = Recorder(env)
            transfers: list[tuple[simpy.Event, str, str, bytes]] = []

            def upload(location: str, filename: str, content: bytes) -> simpy.Event:
                done = env.event()  # completed below, once the real upload is over
                transfers.append((done, location, filename, content))
                return done

            process = env.process(log_upload(
                env, request, version="2.0.1", notify=notify, upload=upload,
                filename=log_filename(request, station_id="CS-UPLOAD", now=now_utc()),
                station_id="CS-UPLOAD", now_utc=now_utc, timings=UPLOAD))
            env.run()  # up to the transfer, which the simulation now waits for
            [(done, location, filename, content)] = transfers
            assert location.startswith(csms.api_url + "/uploads/")
            await http_upload(location, filename, content)
            done.succeed()
            env.run()
            assert process.value == "Uploaded"
            for _, status in notify.sent:
                await station.call("LogStatusNotification",
                                   {"status": status, "requestId": request_id})
            detail = (await api.get(f"/api/stations/CS-UPLOAD/logs/{request_id}")).json()
            assert detail["status"] == "Uploaded" and detail["filename"] == filename
            assert [h["status"] for h in detail["history"]] == ["Uploading", "Uploaded"]
            [stored] = detail["uploads"]
            assert stored["filename"] == filename and stored["size_bytes"] == len(content)
            body = await api.get(f"/api/uploads/{stored['id']}/content")
            assert body.status_code == 200 and body.content == content
            assert b"CS-UPLOAD" in body.content


# -- real downloads and signatures ------------------------------------------------------------


def _signer(days: tuple[int, int] = (-1, 365)) -> tuple[str, Any]:
    """A firmware signing certificate (PEM) valid ``days`` around now, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "firmware signing")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(7)
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1])).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key


def _signed_request(image: bytes, signed_image: bytes) -> dict[str, Any]:
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    pem, key = _signer()
    request = secure_request("http://fw.example.com/v3.bin", certificate=pem)
    request["firmware"]["signature"] = base64.b64encode(
        key.sign(signed_image, ec.ECDSA(hashes.SHA256()))).decode()
    return request


def _downloading(env: simpy.Environment, image: bytes | None) -> Callable[[str], simpy.Event]:
    """``download`` that succeeds with ``image`` or fails (None) after a second."""
    def download(location: str) -> simpy.Event:
        event = env.event()

        def finish() -> Any:
            yield env.timeout(1)
            if image is None:
                event.fail(RuntimeError("404"))
            else:
                event.succeed(image)

        env.process(finish())
        return event

    return download


@pytest.mark.parametrize(("signed_image", "statuses"), [
    (b"image", ["Downloading", "Downloaded", "SignatureVerified", "Installing",
                "InstallRebooting", "Installed"]),
    (b"another image", ["Downloading", "Downloaded", "InvalidSignature"]),
])
def test_a_downloaded_image_is_checked_against_its_signature(
        signed_image: bytes, statuses: list[str]) -> None:
    env = simpy.Environment()
    notify = Recorder(env)
    request = _signed_request(b"image", signed_image)
    run(env, firmware_update(env, request, version="2.0.1", notify=notify, now_utc=clock(env),
                             timings=EXACT, download=_downloading(env, b"image")))
    assert [s for _, s in notify.sent] == statuses


def test_a_failed_real_download_is_download_failed() -> None:
    env = simpy.Environment()
    notify = Recorder(env)
    request = _signed_request(b"image", b"image")
    assert run(env, firmware_update(env, request, version="2.0.1", notify=notify,
                                    now_utc=clock(env), timings=EXACT,
                                    download=_downloading(env, None))) == "DownloadFailed"
    assert [s for _, s in notify.sent] == ["Downloading", "DownloadFailed"]


def test_an_expired_signing_certificate_is_invalid() -> None:
    from simulator.station.maintenance import signature_valid

    pem, _ = _signer(days=(-30, -1))
    request = secure_request("http://fw.example.com/v3.bin", certificate=pem)
    assert update_firmware_response(request, version="2.0.1") == {
        "status": "InvalidCertificate"}
    valid, _ = _signer()
    assert update_firmware_response(secure_request("http://x/fw.bin", certificate=valid),
                                    version="2.0.1") == {"status": "Accepted"}
    assert signature_valid(b"image", "not a certificate", "c2ln") is None


async def test_http_download_returns_the_body_or_raises() -> None:
    from simulator.station.maintenance import DownloadFailed, http_download

    found = httpx.MockTransport(lambda request: httpx.Response(200, content=b"firmware"))
    assert await http_download("http://fw.example.com/a.bin", transport=found) == b"firmware"
    missing = httpx.MockTransport(lambda request: httpx.Response(404))
    with pytest.raises(DownloadFailed, match="404"):
        await http_download("http://fw.example.com/a.bin", transport=missing)
