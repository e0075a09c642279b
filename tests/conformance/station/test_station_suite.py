"""The station-under-test suite against the simulator's station: every implemented case passes
against the faithful station (but the recorded findings), fails against a station that breaks
its rule, and the CLI, the run folder and a real charger's path (``--listen``, Basic auth, HTTP
actions) work."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import OcppVersion
from conformance.catalogue import catalogue, profile_code
from conformance.reference import chargeloop_command
from conformance.station.simulated import SimulatedOptions, simulated_station
from conformance.station.simulated_claims import SIMULATED_FEATURES, SIMULATED_PROFILES
from tests.conformance.station.faults_v201_lal_res import ROBUSTNESS_CHECKS
from tests.conformance.station.faulty_station import FAULTS

ROOT = Path(__file__).resolve().parents[3]
SUITE = ROOT / "conformance" / "station"
FAULTY = "tests.conformance.station.faulty_station:FAULTS"
VERSIONS = {"1.6": OcppVersion.V16, "2.0.1": OcppVersion.V201}
# Findings in the simulator's station not fixed yet, recorded with their case (see
# docs/conformance-station.md): those cases may fail against the faithful station.
FINDINGS: set[str] = set()
# what the simulated station claims besides Core, as a vendor's SUT file would
PROFILES = {version: list(SIMULATED_PROFILES[v]) for version, v in VERSIONS.items()}
CLAIMED = {version: list(SIMULATED_FEATURES[v]) for version, v in VERSIONS.items()}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def sut_text(version: str, **extra: Any) -> str:
    """Short intervals and timeouts: the simulated station answers in milliseconds, and a
    faulty one must fail its case in seconds."""
    return json.dumps({"ocpp_version": version, "profiles": PROFILES[version],
                       "features": CLAIMED[version],
                       "timeouts": {"answer_s": 3, "action_s": 3},
                       "intervals": {"heartbeat_s": 1, "boot_retry_s": 1,
                                     "connection_timeout_s": 2, "meter_sample_s": 1},
                       **extra})


def start_suite(tmp_path: Path, version: str, *args: str, sut: str | None = None,
                modules: list[Path] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    """Start a suite run (of ``modules``, else all) in the background; its output goes to
    ``output.txt`` (a pipe nobody reads while it runs would fill up and stall it)."""
    sut_file = tmp_path / "sut.yaml"
    sut_file.write_text(sut or sut_text(version))
    runs = tmp_path / "runs"
    with (tmp_path / "output.txt").open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *map(str, modules or [SUITE]), "-p",
             "no:cacheprovider", "-q",
             "-c", str(ROOT / "conformance" / "pytest.ini"), "--rootdir",
             str(ROOT / "conformance"), "--sut", str(sut_file), "--runs-dir", str(runs), *args],
            stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    return process, runs


def finish_suite(process: subprocess.Popen[bytes], runs: Path) -> dict[str, Any]:
    try:
        process.wait(timeout=500)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    output = (runs.parent / "output.txt").read_text(errors="replace")
    summaries = sorted(runs.glob("*/summary.json"))
    assert summaries, f"no run folder:\n{output}"
    summary = json.loads(summaries[-1].read_text())
    summary["_output"] = output[-5000:]
    summary["_returncode"] = process.returncode
    summary["_folder"] = str(summaries[-1].parent)
    return summary


def run_suite(tmp_path: Path, version: str, *args: str, sut: str | None = None
              ) -> dict[str, Any]:
    return finish_suite(*start_suite(tmp_path, version, *args, sut=sut))


# Each long run is split into this many runs in parallel, each with its own simulated station:
# the cases mostly wait on the station's timers, so the parts overlap well even on 2 cores.
SHARDS = {"1.6": 2, "2.0.1": 3}
COUNTS = ("passed", "failed", "not_applicable", "not_run", "not_implemented")


def shards(version: str) -> list[list[Path]]:
    """The version's case modules (and the robustness checks, in the first part) in
    ``SHARDS[version]`` parts of about as many cases each."""
    prefix = "test_v16_" if version == "1.6" else "test_v201_"
    modules = sorted(SUITE.glob(f"{prefix}*.py"), key=lambda m: -_case_count(m))
    parts: list[list[Path]] = [[SUITE / "test_robustness.py"]]
    parts += [[] for _ in range(SHARDS[version] - 1)]
    for module in modules:  # the biggest first, each to the lightest part
        min(parts, key=lambda part: sum(map(_case_count, part))).append(module)
    return parts


def _case_count(module: Path) -> int:
    text = module.read_text()
    return text.count("@pytest.mark.case(") + text.count("@pytest.mark.robustness(")


def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of a run split into parts: each case has its verdict from the part that
    holds it (in the others it is "not implemented"); counts and profiles recounted."""
    cases: dict[str, dict[str, Any]] = {}
    for part in parts:
        for case in part["cases"]:
            if case["case"] not in cases or case["verdict"] != "not_implemented":
                cases[case["case"]] = case
    summary: dict[str, Any] = {"cases": list(cases.values()), **dict.fromkeys(COUNTS, 0),
                               "profiles": {}}
    for case in cases.values():
        summary[case["verdict"]] += 1
        for profile in case["profiles"]:
            summary["profiles"].setdefault(profile, dict.fromkeys(COUNTS, 0))
            summary["profiles"][profile][case["verdict"]] += 1
    summary["_output"] = "\n".join(part["_output"][-2500:] for part in parts)
    summary["_returncode"] = max(part["_returncode"] for part in parts)
    summary["_folder"] = parts[0]["_folder"]
    return summary


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    return {c["case"]: c["verdict"] for c in summary["cases"]}


# the faithful 2.0.1 run goes over security profile 2 (TLS with the harness's test CA, Basic
# auth): every 2.0.1 case then also shows that the TLS path works
SUTS = {("faithful", "2.0.1"): sut_text("2.0.1", security_profile=2),
        # the faulty 2.0.1 station too: the Basic auth and TLS cases (TC_A_01, A_04 to A_06,
        # A_09, A_10, A_22) apply only there, and their faults must meet them
        ("broken", "2.0.1"): sut_text("2.0.1", security_profile=2),
        # 1.6 likewise (TC_073, 084, 085, 086)
        ("faithful", "1.6"): sut_text("1.6", security_profile=2),
        ("broken", "1.6"): sut_text("1.6", security_profile=2)}


@dataclass(frozen=True)
class Variant:
    """A station configuration besides the main one (a fixed cable, no local list, ...) for the
    cases that apply only there: the suite runs just those cases against a simulated station
    configured so, faithful and faulty."""

    version: str
    cases: tuple[str, ...]
    sut: dict[str, Any]  # SUT file entries that differ from sut_text's (profiles, features)


VARIANTS: dict[str, Variant] = {
    # a plain 1.6 station: a fixed cable, no local list (though the LocalAuthList profile is
    # claimed, so that its "not supported" cases run), no reservations of connector 0, and
    # transactions ended only after the reboot that follows a power failure
    "1.6-plain": Variant("1.6", ("TC_017_2_CS", "TC_018_2_CS", "TC_032_2_CS", "TC_042_1_CS",
                                 "TC_043_1_CS", "TC_050_4_CS"),
                         {"features": ["fixed_cable"]}),
    # a 1.6 station at security profile 3: mutual TLS with a client certificate of the test CA
    "1.6-profile-3": Variant("1.6", ("TC_087_CS",), {"security_profile": 3}),
    # a 1.6 station at security profile 1 (ws:// with Basic auth), upgraded to 2 on the same
    # address
    "1.6-profile-1": Variant("1.6", ("TC_083_CS",), {"security_profile": 1}),
    # a 2.0.1 station at security profile 1 (ws:// with Basic auth), upgraded to 2; without
    # a CSMS root certificate it refuses a TLS profile in NetworkConfigurationPriority
    "2.0.1-profile-1": Variant("2.0.1", ("TC_A_19_CS", "TC_A_20_CS"),
                               {"security_profile": 1}),
    # a 2.0.1 station with two EVSEs: reservations of an unspecified EVSE or of a connector
    # type leave one free EVSE per reservation, and Reserved shows only when they take up all
    "2.0.1-two-evses": Variant("2.0.1", ("TC_H_08_CS", "TC_H_09_CS", "TC_H_10_CS", "TC_H_12_CS",
                                         "TC_H_14_CS", "TC_H_15_CS", "TC_H_16_CS",
                                         "TC_H_24_CS",
                                         # profiles of one purpose/stackLevel on two EVSEs
                                         "TC_K_24_CS",
                                         # a station Reset OnIdle with two transactions,
                                         # triggers for all EVSEs
                                         "TC_B_41_CS", "TC_F_12_CS", "TC_F_14_CS",
                                         # a new session, or none, while a firmware
                                         # update waits for a transaction
                                         "TC_L_14_CS", "TC_L_15_CS",
                                         # a transaction started at the shared reader
                                         # before the EVSE is known
                                         "TC_J_08_CS"),
                               {"stations": [{"id": "CONF-CS-1", "evses": 2}]}),
    # a 2.0.1 station whose charging profiles take W only (SmartChargingCtrlr.RateUnit)
    "2.0.1-one-rate-unit": Variant("2.0.1", ("TC_K_12_CS", "TC_K_42_CS"), {
        "features": [*CLAIMED["2.0.1"], "single_charging_rate_unit"]}),
    # a 2.0.1 station without Smart Charging: a remote start's charging profile is ignored
    "2.0.1-no-smart-charging": Variant("2.0.1", ("TC_K_38_CS",), {
        "profiles": [p for p in PROFILES["2.0.1"] if p != "smart-charging"]}),
    # a plain 2.0.1 station: no reservations of an unspecified EVSE, no SummaryInventory, no
    # Reset of a single EVSE, a pending firmware update it cannot cancel, no firmware download
    # during a transaction
    "2.0.1-plain": Variant("2.0.1", ("TC_H_13_CS", "TC_B_15_CS", "TC_B_28_CS", "TC_B_29_CS",
                                     "TC_L_11_CS", "TC_L_12_CS", "TC_L_13_CS"),
                           {"features": []}),
    # a 2.0.1 station that installs firmware during a transaction (C-43), which goes on
    "2.0.1-firmware-install-during-tx": Variant("2.0.1", ("TC_L_16_CS",), {
        "features": [*CLAIMED["2.0.1"], "firmware_install_during_transaction"]}),
    # a 2.0.1 station whose cable lock keeps the EV out until a driver is authorized
    "2.0.1-cable-lock": Variant("2.0.1", ("TC_C_05_CS",), {
        "features": [*CLAIMED["2.0.1"], "cable_lock_before_authorization"]}),
    # a 2.0.1 station without log information: GetLog is Rejected
    "2.0.1-no-logs": Variant("2.0.1", ("TC_N_34_CS",), {
        "features": [*CLAIMED["2.0.1"], "log_unavailable"]}),
    # a 2.0.1 station with two EVSEs and a master pass screen (its holder chooses what to stop)
    "2.0.1-master-pass-ui": Variant("2.0.1", ("TC_C_47_CS", "TC_C_48_CS"), {
        "features": [*CLAIMED["2.0.1"], "master_pass_ui"],
        "stations": [{"id": "CONF-CS-1", "evses": 2}]}),
    # a 2.0.1 station with AdditionalRootCertificateCheck true (one CSMS root at a time, a new
    # one signed by the old one), over TLS so that its CSMS root is the harness's test CA
    "2.0.1-root-check": Variant("2.0.1", ("TC_M_09_CS", "TC_M_30_CS", "TC_M_31_CS",
                                          "TC_B_47_CS"), {
        "security_profile": 2,
        "features": [*CLAIMED["2.0.1"], "additional_root_certificate_check"]}),
    # a 2.0.1 station like a DC charger: a fixed cable, and an EV with basic IEC 61851-1
    # signalling is not one it charges
    "2.0.1-dc-fixed-cable": Variant("2.0.1", ("TC_E_27_CS", "TC_E_54_CS"), {"features": [
        *(f for f in CLAIMED["2.0.1"] if f not in ("detachable_cable", "iec61851_ev")),
        "fixed_cable"]}),
}


def variant_of(case_id: str, version: str) -> str | None:
    return next((name for name, v in VARIANTS.items()
                 if v.version == version and case_id in v.cases), None)


_HANDED_OUT: set[int] = set()
_HANDING_OUT = threading.Lock()


def _free_port() -> int:
    """A free port for the harness to listen on later, below Linux's ephemeral range (32768
    and up): the dozens of processes this module starts get their ports from that range, so
    none of them can take this one meanwhile (a port from bind(0) could be)."""
    with _HANDING_OUT:
        for port in random.sample(range(20000, 30000), 200):
            if port in _HANDED_OUT:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port between 20000 and 29999")


def bench_listen(tmp_path: Path) -> dict[str, Any]:
    """A charger on the bench: the harness listens on a fixed address with security profile 1;
    the station (the simulated one, started on its own) is configured with that URL and its
    password; actions go through HTTP templates."""
    port = _free_port()
    password = "conformance-pass-0123"
    options = SimulatedOptions(url=f"ws://127.0.0.1:{port}/ocpp", identity="BENCH-CS-1",
                               version=OcppVersion.V16, password=password)
    with simulated_station(options, tmp_path / "station") as control:
        templates = {name: {"path": f"/actions/{name}", "body": {"evse": "{evse}",
                                                                 "token": "{token}"}}
                     for name in ("plug_in", "present_token")}
        sut = sut_text("1.6", listen=f"127.0.0.1:{port}", security_profile=1,
                       stations=[{"id": "BENCH-CS-1", "password": password}],
                       actions={"kind": "http", "base_url": control, "templates": templates})
        summary = run_suite(tmp_path, "1.6", "-k", "TC_003_CS or TC_019_CS", sut=sut)
    summary["_port"] = port
    return summary


def bench_wrong_password(tmp_path: Path) -> dict[str, Any]:
    port = _free_port()
    options = SimulatedOptions(url=f"ws://127.0.0.1:{port}/ocpp", identity="BENCH-CS-2",
                               version=OcppVersion.V16, password="not-the-password-00")
    with simulated_station(options, tmp_path / "station"):
        sut = sut_text("1.6", listen=f"127.0.0.1:{port}", security_profile=1,
                       stations=[{"id": "BENCH-CS-2", "password": "conformance-pass-0123"}])
        return run_suite(tmp_path, "1.6", "-k", "TC_019_CS", sut=sut)


def bench_untrusted(tmp_path: Path) -> dict[str, Any]:
    """A station started without the test CA (a charger that was not given ca.pem) against
    the harness on security profile 2."""
    port = _free_port()
    options = SimulatedOptions(url=f"wss://127.0.0.1:{port}/ocpp", identity="BENCH-CS-3",
                               version=OcppVersion.V16, password="conformance-pass-0123")
    with simulated_station(options, tmp_path / "station"):
        sut = sut_text("1.6", listen=f"127.0.0.1:{port}", security_profile=2,
                       stations=[{"id": "BENCH-CS-3", "password": "conformance-pass-0123"}],
                       timeouts={"answer_s": 3, "action_s": 2})
        return run_suite(tmp_path, "1.6", "-k", "TC_019_CS", sut=sut)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*chargeloop_command(), "conformance", "station", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd, check=False,
                          env={"COLUMNS": "200", "PATH": str(Path(sys.executable).parent)})


def bench_cli(tmp_path: Path) -> dict[str, Any]:
    """The CLI without a station, with a bad --listen, with a SUT file naming an unknown
    action."""
    sut = tmp_path / "sut.yaml"
    sut.write_text('ocpp_version: "1.6"\nactions:\n  kind: http\n  base_url: http://x\n'
                   '  templates:\n    plug_inn: {path: /p}\n')
    return {"runs": [cli(cwd=tmp_path), cli("--listen", "localhost", cwd=tmp_path),
                     cli("--simulated", "--sut", str(sut), cwd=tmp_path)]}


BENCHES = {
    "test_a_charger_pointed_at_listen_with_basic_auth_and_http_actions": bench_listen,
    "test_a_wrong_password_is_refused_and_the_case_says_so": bench_wrong_password,
    "test_a_station_that_does_not_trust_the_test_ca_is_not_let_in": bench_untrusted,
    "test_the_cli_needs_a_station_and_names_bad_input": bench_cli,
}


PARALLEL_RUNS = 8  # suite runs at once: more would start too many processes together on 2 cores
KINDS = (("faithful", ()), ("broken", ("--simulated-faults", FAULTY)))


class BackgroundRuns:
    """Every suite run this module needs, started when the module starts: the long runs
    (faithful and faulty station, both versions, each in ``SHARDS`` parts), the variant runs
    and the bench scenarios (a station started on its own, the harness on ``--listen``). They
    mostly wait on the station's timers and on process start-up, so they overlap each other,
    ``PARALLEL_RUNS`` at a time, the longest first; a test that needs one waits for it. Only
    what the selected tests read is started (``-k`` one test: that one)."""

    def __init__(self, factory: pytest.TempPathFactory, wanted: set[str]) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.stopping = False
        self.runs: dict[tuple[str, str], Future[dict[str, Any]]] = {}
        self.finished: dict[tuple[str, str], dict[str, Any]] = {}
        self.run_pool = ThreadPoolExecutor(max_workers=PARALLEL_RUNS)
        if wanted & VERDICT_TESTS:
            for version in sorted(VERSIONS, reverse=True):  # 2.0.1, the longest, first
                for kind, extra in KINDS:
                    for n, modules in enumerate(shards(version)):
                        self._submit(factory, (kind, f"{version}#{n}"), version,
                                     ["--simulated", *extra], SUTS[(kind, version)], modules)
            for name, variant in VARIANTS.items():
                for kind, extra in KINDS:
                    self._submit(factory, (kind, name), variant.version,
                                 ["--simulated", *extra, "-k", " or ".join(variant.cases)],
                                 sut_text(variant.version, **variant.sut), None)
        benches = {name: scenario for name, scenario in BENCHES.items() if name in wanted}
        self.pool = ThreadPoolExecutor(max_workers=max(1, len(benches)))
        self.benches = {name: self.pool.submit(scenario, factory.mktemp(name[5:25]))
                        for name, scenario in benches.items()}

    def _submit(self, factory: pytest.TempPathFactory, key: tuple[str, str], version: str,
                args: list[str], sut: str, modules: list[Path] | None) -> None:
        folder = factory.mktemp("-".join(key).replace("#", "-"))

        def run() -> dict[str, Any]:
            process, runs = start_suite(folder, version, *args, sut=sut, modules=modules)
            self.processes.append(process)
            if self.stopping:
                process.kill()
            return finish_suite(process, runs)

        self.runs[key] = self.run_pool.submit(run)

    def summary(self, kind: str, run: str) -> dict[str, Any]:
        """The summary of the ``kind`` run (faithful, broken) of ``run`` (a version, or the name
        of a variant)."""
        key = (kind, run)
        if key not in self.finished:
            if run in VERSIONS:
                self.finished[key] = merged([self.summary(kind, f"{run}#{n}")
                                             for n in range(SHARDS[run])])
            else:
                self.finished[key] = self.runs[key].result(timeout=1200)
        return self.finished[key]

    def bench(self, test_name: str) -> dict[str, Any]:
        return self.benches[test_name].result(timeout=600)

    def stop(self) -> None:
        self.stopping = True
        self.run_pool.shutdown(wait=False, cancel_futures=True)
        for process in list(self.processes):
            if process.poll() is None:
                process.kill()
                process.wait(10)
        self.run_pool.shutdown(wait=True)
        self.pool.shutdown(wait=True)


# the tests that read the long runs' verdicts
VERDICT_TESTS = {"test_the_suite_passes_against_the_simulated_station_and_every_case_has_a_control",
                 "test_the_cases_of_another_station_configuration_pass_there",
                 "test_the_case_fails_against_a_station_that_breaks_its_rule",
                 "test_the_cases_run_over_security_profile_2_tls_with_the_test_ca"}


@pytest.fixture(scope="module", autouse=True)
def background(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[BackgroundRuns]:
    wanted = {getattr(item, "originalname", "") for item in request.session.items}
    runs = BackgroundRuns(tmp_path_factory, wanted)
    try:
        yield runs
    finally:
        runs.stop()


def test_a_charger_pointed_at_listen_with_basic_auth_and_http_actions(
        background: BackgroundRuns) -> None:
    """The real-charger path (``bench_listen``): both cases pass, and the run folder says
    which side was under test and where the harness listened."""
    summary = background.bench("test_a_charger_pointed_at_listen_with_basic_auth_and_http_actions")
    got = verdicts(summary)
    assert got["TC_003_CS"] == "passed" and got["TC_019_CS"] == "passed", summary["_output"]
    manifest = json.loads((Path(summary["_folder"]) / "manifest.json").read_text())
    assert manifest["side_under_test"] == "CS"
    assert manifest["listen"] == f"127.0.0.1:{summary['_port']}"


def test_a_wrong_password_is_refused_and_the_case_says_so(background: BackgroundRuns) -> None:
    summary = background.bench("test_a_wrong_password_is_refused_and_the_case_says_so")
    case = next(c for c in summary["cases"] if c["case"] == "TC_019_CS")
    assert case["verdict"] == "failed" and "wrong password" in case["reason"], case


def test_the_cli_needs_a_station_and_names_bad_input(background: BackgroundRuns) -> None:
    nothing, bad, wrong = background.bench("test_the_cli_needs_a_station_and_names_bad_input")[
        "runs"]
    assert nothing.returncode == 2 and "--simulated" in nothing.stderr
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr
    assert wrong.returncode == 2
    assert "sut.yaml:6" in wrong.stdout + wrong.stderr and "plug_in" in wrong.stdout + \
        wrong.stderr


def test_a_station_that_does_not_trust_the_test_ca_is_not_let_in(
        background: BackgroundRuns) -> None:
    """The negative side of profile 2 (``bench_untrusted``): the station fails the TLS
    handshake, and the case fails for want of a connection."""
    summary = background.bench("test_a_station_that_does_not_trust_the_test_ca_is_not_let_in")
    case = next(c for c in summary["cases"] if c["case"] == "TC_019_CS")
    assert case["verdict"] == "failed" and "connect" in case["reason"], case


def test_the_cases_run_over_security_profile_2_tls_with_the_test_ca(
        background: BackgroundRuns | None) -> None:
    """Security profile 2: in the faithful 2.0.1 run the harness listens with TLS only (a
    server certificate from the test CA it makes with trustme) and Basic auth; the simulated
    station trusts that CA and gets in over wss:// with its password, and the cases pass."""
    assert background is not None
    summary = background.summary("faithful", "2.0.1")
    got = verdicts(summary)
    assert got["TC_B_01_CS"] == "passed" and got["TC_B_06_CS"] == "passed", summary["_output"]
    folder = Path(summary["_folder"])
    ca, server = folder / "ca.pem", folder / "server.pem"
    assert ca.is_file() and server.is_file(), sorted(p.name for p in folder.iterdir())
    # the certificate the harness served is the one the test CA issued for it
    from cryptography import x509

    issued = x509.load_pem_x509_certificate(server.read_bytes())
    authority = x509.load_pem_x509_certificate(ca.read_bytes())
    issued.verify_directly_issued_by(authority)


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_the_suite_passes_against_the_simulated_station_and_every_case_has_a_control(
        version: str, background: BackgroundRuns | None) -> None:
    assert background is not None
    summary = background.summary("faithful", version)
    got = verdicts(summary)
    ran = {case for case, verdict in got.items() if verdict in ("passed", "failed")}
    failed = {case for case, verdict in got.items() if verdict == "failed"}
    assert failed <= FINDINGS, summary["_output"]
    assert ran, summary["_output"]
    assert ran <= set(FAULTS), f"cases without a faulty station: {ran - set(FAULTS)}"
    # every _CS case of the catalogue has a verdict (those outside the certification programme
    # too); a case that did not run is not applicable or not implemented
    catalogued = {r.id for r in catalogue(VERSIONS[version]) if r.sut == "CS"}
    assert catalogued <= set(got)
    assert not any(case.endswith("_CSMS") for case in got)
    counts = {k: summary[k] for k in COUNTS}
    assert sum(counts.values()) == len(summary["cases"])
    assert {case for case in catalogued if got[case] in ("not_implemented", "not_applicable")} \
        == catalogued - ran
    assert counts["passed"] >= len(ran - FINDINGS)
    for name in ["core", *PROFILES[version]]:
        profile = profile_code(VERSIONS[version], name)
        assert summary["profiles"][profile]["passed"] > 0, (profile, summary["profiles"])


@pytest.mark.parametrize(("version", "case_id"), [
    (v, c) for v in sorted(VERSIONS) for c in sorted(FAULTS)
    if any(r.id == c for r in catalogue(VERSIONS[v])) or c in ROBUSTNESS_CHECKS[v]])
def test_the_case_fails_against_a_station_that_breaks_its_rule(
        version: str, case_id: str, background: BackgroundRuns | None) -> None:
    assert background is not None
    broken = background.summary("broken", variant_of(case_id, version) or version)
    assert verdicts(broken)[case_id] == "failed", broken["_output"]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_cases_of_another_station_configuration_pass_there(
        name: str, background: BackgroundRuns | None) -> None:
    assert background is not None
    summary = background.summary("faithful", name)
    got = verdicts(summary)
    assert {case: got[case] for case in VARIANTS[name].cases} == \
        dict.fromkeys(VARIANTS[name].cases, "passed"), summary["_output"]
