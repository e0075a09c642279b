"""The pytest side of the conformance suites: options, the ``case`` marker, verdicts, the run
folder and the summary.

``conformance/conftest.py`` loads these hooks, so ``pytest conformance/csms --csms-url ...`` and
``chargeloop conformance csms ...`` (which calls pytest) behave the same. Each test is one OCTT
case (``@pytest.mark.case("TC_B_01_CSMS")``); at the end every ``_CSMS`` case of the catalogue for
the SUT's OCPP version has a verdict, ``not_implemented`` where the suite has no test for it yet.

The same hooks serve the station-under-test suite (``conformance/station``, ``--listen`` or
``--simulated``): then the side under test is ``CS`` and the ``_CS`` cases get the verdicts.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from chargeloop.ocppj import JsonlTraceWriter, OcppVersion
from chargeloop.runs import RunFolder
from conformance.catalogue import NOT_IN_PROGRAMME, Case, catalogue, in_scope, profile_code
from conformance.station.simulated_claims import (
    SIMULATED_FEATURES,
    SIMULATED_PROFILES,
    SIMULATED_TIMEOUT_S,
)
from conformance.sut import Sut, SutError, load_sut
from conformance.verdicts import (
    NOT_APPLICABLE_PREFIX,
    NOT_RUN_PREFIX,
    CaseFailed,
    CaseResult,
    Verdict,
    summarise,
)

VERSIONS = {"1.6": OcppVersion.V16, "2.0.1": OcppVersion.V201}


@dataclass
class SuiteState:
    """What the whole run shares (in ``config.stash``)."""

    sut: Sut
    strict: bool
    folder: RunFolder | None
    trace: JsonlTraceWriter | None
    results: dict[str, CaseResult] = field(default_factory=dict)
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    started: float = field(default_factory=time.monotonic)
    summary: dict[str, Any] | None = None
    deselected: set[str] = field(default_factory=set)  # cases with a test left out (-k)
    extra_cases: dict[str, Case] = field(default_factory=dict)  # robustness checks
    case_started: dict[str, float] = field(default_factory=dict)  # wall clock at setup
    side: str = "CSMS"  # the side under test: "CSMS" (the suite plays stations) or "CS"
    listen: str | None = None  # CS side: where the harness listens as the CSMS

    @property
    def run_name(self) -> str:
        return "conformance-station" if self.side == "CS" else "conformance-csms"


STATE = pytest.StashKey[SuiteState]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "chargeloop conformance (CSMS under test)")
    group.addoption("--csms-url", help="the CSMS's OCPP endpoint, ws:// or wss:// (station ids "
                                       "are appended); overrides the SUT file's url")
    group.addoption("--ocpp-version", choices=sorted(VERSIONS),
                    help="OCPP version to test (default: the SUT file's, else 2.0.1)")
    group.addoption("--profile", action="append", default=[],
                    help="a certification profile the CSMS claims (repeatable; core always)")
    group.addoption("--sut", help="the SUT file (YAML): profiles, features, stations, tokens, "
                                  "triggers, TLS")
    group.addoption("--reference", action="store_true",
                    help="start the chargeloop reference CSMS and test it")
    group.addoption("--strict-octt", action="store_true",
                    help="apply OCTT's stricter readings where they differ from the spec")
    group.addoption("--listen", help="station under test: listen as the CSMS on HOST:PORT "
                                     "(the station connects to ws://HOST:PORT/ocpp/<id>)")
    group.addoption("--simulated", action="store_true",
                    help="station under test: start the simulator's station and test it")
    group.addoption("--simulated-faults", help=argparse.SUPPRESS)  # negative controls
    group.addoption("--runs-dir", default="runs",
                    help="where the run folder goes (default: runs/); 'none' for no folder")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "case(case_id): the OCTT test case this test implements")
    config.addinivalue_line("markers", "robustness(check_id, title): a robustness check beyond "
                                       "the OCTT catalogue (not OCA certification)")
    if not _is_conformance_run(config):
        return
    sut = _sut(config)
    state = SuiteState(sut=sut, strict=config.getoption("--strict-octt"), folder=None, trace=None)
    if _station_side(config) or (sut.listen is not None and sut.url is None):
        state.side = "CS"
        state.listen = config.getoption("--listen") or sut.listen or \
            ("127.0.0.1:0" if config.getoption("--simulated") else None)
        if state.listen is None:
            raise pytest.UsageError("no address to listen on: give --listen HOST:PORT, a SUT "
                                    "file with listen, or --simulated")
        _open_run_folder(config, state)
        config.stash[STATE] = state
        return
    if config.getoption("--reference"):
        from conformance.reference import reference_csms

        state.sut = state.exits.enter_context(reference_csms(sut))
    if state.sut.url is None:
        raise pytest.UsageError("no CSMS to test: give --csms-url, a SUT file with url, or "
                                "--reference")
    _open_run_folder(config, state)
    config.stash[STATE] = state


def _open_run_folder(config: pytest.Config, state: SuiteState) -> None:
    runs_dir = config.getoption("--runs-dir")
    if runs_dir != "none":
        state.folder = RunFolder.create(Path(runs_dir), state.run_name, kind="conformance")
        state.trace = state.folder.trace_writer()


def _is_conformance_run(config: pytest.Config) -> bool:
    try:
        return any(config.getoption(o) for o in ("--csms-url", "--reference", "--sut",
                                                 "--listen", "--simulated"))
    except ValueError:
        return False


def _station_side(config: pytest.Config) -> bool:
    """A station-under-test run: ``--listen`` or ``--simulated``."""
    return bool(config.getoption("--listen") or config.getoption("--simulated"))


def _sut(config: pytest.Config) -> Sut:
    path = config.getoption("--sut")
    try:
        sut = load_sut(path) if path else Sut()
    except SutError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("--ocpp-version"):
        sut = replace(sut, version=VERSIONS[config.getoption("--ocpp-version")])
    if config.getoption("--csms-url"):
        sut = replace(sut, url=config.getoption("--csms-url"))
    profiles = list(sut.profiles)
    claimed = config.getoption("--profile")
    if not path and config.getoption("--simulated"):
        sut = replace(sut, answer_timeout_s=SIMULATED_TIMEOUT_S,
                      action_timeout_s=SIMULATED_TIMEOUT_S)
    if not path and not claimed and config.getoption("--simulated"):
        # the simulated station's own claims
        claimed = SIMULATED_PROFILES[sut.version]
        sut = replace(sut, features=sut.features | frozenset(SIMULATED_FEATURES[sut.version]))
    for name in claimed:
        try:
            code = profile_code(sut.version, name)
        except ValueError as exc:
            raise pytest.UsageError(f"--profile: {exc}") from None
        if code not in profiles:
            profiles.append(code)
    return replace(sut, profiles=tuple(profiles))


def state_of(config: pytest.Config) -> SuiteState:
    if STATE not in config.stash:
        pytest.skip("not a conformance run: give --csms-url, --sut or --reference")
    return config.stash[STATE]


ROBUSTNESS = "Robustness"  # the pseudo-profile of the checks beyond the catalogue


def case_of(item: pytest.Item) -> Case | None:
    """The catalogue case of a ``case`` test; a robustness check as a case of its own."""
    marker = item.get_closest_marker("case")
    if marker is not None:
        from conformance.catalogue import case

        return case(marker.args[0])
    marker = item.get_closest_marker("robustness")
    if marker is None or STATE not in item.config.stash:
        return None
    case_id, title = marker.args
    return Case(id=case_id, version=item.config.stash[STATE].sut.version, title=title,
                sut=item.config.stash[STATE].side, block="", profiles=(ROBUSTNESS,), requirement="",
                note="robustness: not part of OCA certification")


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        row = case_of(item)
        if row is not None and STATE in item.config.stash:
            state = item.config.stash[STATE]
            state.deselected.add(row.id)
            if row.profiles == (ROBUSTNESS,):
                state.extra_cases[row.id] = row


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if STATE not in config.stash:
        return
    sut = config.stash[STATE].sut
    side = config.stash[STATE].side
    keep, drop = [], []
    for item in items:
        row = case_of(item)
        if row is None or row.version is not sut.version or row.sut != side:
            drop.append(item)
            continue
        keep.append(item)
        if row.profiles == (ROBUSTNESS,):
            config.stash[STATE].extra_cases[row.id] = row
            continue
        if not in_scope(row, sut.profiles):
            claimed = ", ".join(sut.profiles)
            item.add_marker(pytest.mark.skip(
                reason=f"{NOT_APPLICABLE_PREFIX}profile {'/'.join(row.scope_profiles) or '-'} "
                       f"not claimed (claimed: {claimed})"))
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Allure: the case id and title as the result's name, the OCPP trace attached."""
    row = case_of(item)
    allure = _allure()
    if allure is not None and row is not None:
        allure.dynamic.title(f"{row.id} {case_title(row)}")
    try:
        return (yield)
    finally:
        funcargs = getattr(item, "funcargs", {})
        pool = funcargs.get("stations")
        csms = funcargs.get("csms")  # station under test: the CSMS the harness plays
        if allure is not None and (pool is not None or csms is not None):
            from chargeloop.ocppj.trace import format_record

            frames = [r for station in pool.made for r in station.frames] if pool is not None \
                else list(csms.frames)
            allure.attach("\n".join(format_record(r) for r in frames), name="OCPP trace",
                          attachment_type=allure.attachment_type.TEXT)


def _allure() -> Any:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest is a dependency
        return None
    return allure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    config = item.config
    row = case_of(item)
    if row is None or STATE not in config.stash:
        return report
    results = config.stash[STATE].results
    previous = results.get(row.id)
    result = _result(row, report, call)
    started = config.stash[STATE].case_started.setdefault(row.id, call.start)
    if result is not None and (previous is None or previous.verdict is Verdict.PASSED):
        result.duration_s += previous.duration_s if previous else 0.0
        result.started_at = round(started, 6)
        results[row.id] = result
    return report


def _result(row: Case, report: pytest.TestReport, call: pytest.CallInfo[None]
            ) -> CaseResult | None:
    base = CaseResult(row.id, Verdict.PASSED, case_title(row), row.profiles,
                      duration_s=report.duration)
    if report.skipped:
        reason = _skip_reason(report)
        if reason.startswith(NOT_APPLICABLE_PREFIX):
            return replace(base, verdict=Verdict.NOT_APPLICABLE,
                           reason=reason.removeprefix(NOT_APPLICABLE_PREFIX))
        return replace(base, verdict=Verdict.NOT_RUN, reason=reason.removeprefix(NOT_RUN_PREFIX))
    if report.failed:
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, CaseFailed):
            return replace(base, verdict=Verdict.FAILED, reason=str(error), step=error.step,
                           expected=error.expected, actual=error.actual)
        return replace(base, verdict=Verdict.FAILED, reason=_short(report))
    return base if report.when == "call" else None


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _short(report: pytest.TestReport) -> str:
    text = report.longreprtext.strip().splitlines()
    errors = [line for line in text if line.startswith("E ")]
    return "\n".join(errors[-5:] or text[-5:])


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if STATE not in config.stash:
        return
    state = config.stash[STATE]
    results = all_results(state)
    summary = {**summarise(results), "version": state.sut.version.value,
               "profiles_claimed": list(state.sut.profiles), "strict": state.strict,
               "duration_s": round(time.monotonic() - state.started, 1)}
    state.summary = summary
    if state.folder is not None:
        folder = state.folder
        where = {"listen": state.listen} if state.side == "CS" else {"url": state.sut.url}
        folder.write_manifest({"name": state.run_name, "sut": state.sut.name,
                               "side_under_test": state.side, **where,
                               "version": state.sut.version.value,
                               "profiles": list(state.sut.profiles),
                               "features": sorted(state.sut.features), "strict": state.strict,
                               "catalogues": "OCPP 2.0.1 Ed. 3 Part 6 (errata 2025-09); "
                                             "OCPP 1.6 test cases FINAL 2024-04"})
        folder.write_table("cases", [r.to_dict() | {"actual": _text(r.actual)}
                                     for r in results])
        folder.write_summary({**summary, "ok": summary["failed"] == 0,
                              "cases": [r.to_dict() for r in results]})


def all_results(state: SuiteState) -> list[CaseResult]:
    """A verdict for every case of the side under test (``_CSMS`` or ``_CS``) of the SUT's
    version (those run, the rest not implemented), then the robustness checks. Cases outside
    the certification programme are listed like the others, their title saying so."""
    out = []
    for row in catalogue(state.sut.version):
        if row.sut != state.side:
            continue
        title = case_title(row)
        if row.id in state.results:
            out.append(state.results[row.id])
        elif row.id in state.deselected:
            out.append(CaseResult(row.id, Verdict.NOT_RUN, title, row.profiles,
                                  reason="not selected for this run"))
        else:
            out.append(CaseResult(row.id, Verdict.NOT_IMPLEMENTED, title, row.profiles,
                                  reason="the suite has no test for this case yet"
                                  + ("" if row.in_programme else f" ({NOT_IN_PROGRAMME})")))
    for row in sorted(state.extra_cases.values(), key=lambda r: r.id):
        out.append(state.results.get(row.id) or CaseResult(
            row.id, Verdict.NOT_RUN, row.title, row.profiles, reason="not selected for this run"))
    return out


def case_title(row: Case) -> str:
    """The catalogue title, with the catalogue's note when OCA does not certify the case (a
    reader of the results sees that a verdict of it counts for no certification)."""
    return row.title if row.in_programme else f"{row.title} [{NOT_IN_PROGRAMME}]"


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    import json

    return json.dumps(value)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if STATE not in config.stash:
        return
    state = config.stash[STATE]
    summary = state.summary
    if summary is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section("OCTT conformance (station under test)" if state.side == "CS"
                             else "OCTT conformance (CSMS under test)")
    columns = [v.value for v in Verdict]
    write(f"{'profile':<20}" + "".join(f"{c:>17}" for c in columns))
    for name, counts in summary["profiles"].items():
        write(f"{name:<20}" + "".join(f"{counts[c]:>17}" for c in columns))
    write(f"{'all':<20}" + "".join(f"{summary[c]:>17}" for c in columns))
    if state.folder is not None:
        write(f"run folder: {state.folder.path}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if STATE in config.stash:
        state = config.stash[STATE]
        if state.trace is not None:
            state.trace.close()
        state.exits.close()
