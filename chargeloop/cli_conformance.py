"""``chargeloop conformance``: the OCTT-named conformance suites.

``csms`` runs the suite in ``conformance/csms`` with pytest (so ``pytest conformance/csms
--csms-url ...`` is the same run): the harness plays the stations. ``station`` runs
``conformance/station``: the harness plays the CSMS and listens (``--listen``) for the station
under test, or starts the simulator's station (``--simulated``).
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="OCTT-named conformance suites: CSMS or station under test.",
                  no_args_is_help=True)


# options both commands share
Version = Annotated[str | None, typer.Option(
    help="OCPP version: 1.6 or 2.0.1 (default: the SUT file's, else 2.0.1).")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Apply OCTT's stricter readings where they differ from the spec.")]
RunsDir = Annotated[Path, typer.Option(help="Where the run folder goes.")]
Junit = Annotated[Path | None, typer.Option(help="Also write JUnit XML here.")]
AllureDir = Annotated[Path | None, typer.Option(
    help="Also write Allure results here (allure-pytest).")]


@app.command("csms")
def csms(
    url: Annotated[str | None, typer.Option(
        help="The CSMS's OCPP endpoint, ws:// or wss://; station ids are appended.")] = None,
    version: Version = None,
    profile: Annotated[list[str] | None, typer.Option(
        help="A certification profile the CSMS claims (repeatable; core always).")] = None,
    sut: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False,
        help="SUT file (YAML): profiles, features, stations, tokens, triggers, TLS.")] = None,
    reference: Annotated[bool, typer.Option(
        "--reference", help="Start the chargeloop reference CSMS and test it.")] = False,
    strict: Strict = False,
    case: Annotated[list[str] | None, typer.Option(
        help="Run only this case id (repeatable), e.g. TC_B_01_CSMS.")] = None,
    runs_dir: RunsDir = Path("runs"),
    junit: Junit = None,
    allure_dir: AllureDir = None,
) -> None:
    """Check a CSMS: chargeloop plays the charging stations, case by case by OCTT id.
    Exit code 0 only if no case failed."""

    if not (url or sut or reference):
        raise typer.BadParameter("give the CSMS: --url, a --sut file with url, or --reference",
                                 param_hint="--url")
    args = _suite_args("csms", runs_dir, version, profile, sut)
    if url:
        args += ["--csms-url", url]
    if reference:
        args.append("--reference")
    _run_suite(args, strict=strict, case=case, junit=junit, allure_dir=allure_dir)


@app.command("station")
def station(
    listen: Annotated[str | None, typer.Option(
        help="Listen as the CSMS on HOST:PORT; the station connects to "
             "ws://HOST:PORT/ocpp/<station id>.")] = None,
    simulated: Annotated[bool, typer.Option(
        "--simulated", help="Start the simulator's station and test it.")] = False,
    version: Version = None,
    profile: Annotated[list[str] | None, typer.Option(
        help="A certification profile the station claims (repeatable; core always).")] = None,
    sut: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False,
        help="SUT file (YAML): features, station id and password, security profile, tokens, "
             "intervals, actions.")] = None,
    strict: Strict = False,
    case: Annotated[list[str] | None, typer.Option(
        help="Run only this case id (repeatable), e.g. TC_003_CS.")] = None,
    runs_dir: RunsDir = Path("runs"),
    junit: Junit = None,
    allure_dir: AllureDir = None,
) -> None:
    """Check a charging station: chargeloop plays the CSMS, case by case by OCTT id.
    Exit code 0 only if no case failed."""

    if not (listen or simulated):
        raise typer.BadParameter("give the station: --listen HOST:PORT for a station that "
                                 "connects to chargeloop, or --simulated", param_hint="--listen")
    if listen is not None:
        from conformance.station.listener import listen_address

        try:
            listen_address(listen)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--listen") from None
    args = _suite_args("station", runs_dir, version, profile, sut)
    if listen:
        args += ["--listen", listen]
    if simulated:
        args.append("--simulated")
    _run_suite(args, strict=strict, case=case, junit=junit, allure_dir=allure_dir)


def _suite_args(side: str, runs_dir: Path, version: str | None, profiles: list[str] | None,
                sut: Path | None) -> list[str]:
    """pytest's arguments for the suite of ``side`` (``conformance/<side>``) with the options
    both commands share; a version other than 1.6 or 2.0.1 is refused."""
    if version is not None and version not in ("1.6", "2.0.1"):
        raise typer.BadParameter(f"{version!r}: use 1.6 or 2.0.1", param_hint="--version")
    suite = Path(str(resources.files("conformance") / side))
    args = [str(suite), "-p", "no:cacheprovider", "-q", "--runs-dir", str(runs_dir),
            "--rootdir", str(suite.parent), "-c", str(suite.parent / "pytest.ini")]
    if version:
        args += ["--ocpp-version", version]
    for name in profiles or []:
        args += ["--profile", name]
    if sut:
        args += ["--sut", str(sut)]
    return args


def _run_suite(args: list[str], *, strict: bool, case: list[str] | None, junit: Path | None,
               allure_dir: Path | None) -> None:
    """Run a suite with the options both sides share; exit 0 only if no case failed."""
    import pytest

    if strict:
        args.append("--strict-octt")
    if case:
        args += ["-k", " or ".join(case)]
    if junit:
        args += ["--junitxml", str(junit)]
    if allure_dir:
        args += ["--alluredir", str(allure_dir)]
    code = pytest.main(args)
    if code == pytest.ExitCode.USAGE_ERROR:
        raise typer.Exit(2)
    sys.exit(0 if code == pytest.ExitCode.OK else 1)
