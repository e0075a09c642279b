"""``chargeloop load``: locust load tests that put OCPP stations on a CSMS.

``run`` wraps locust headless (one process, or ``--workers N`` for a master and N workers on
loopback), checks thresholds and exits non-zero when one fails, for CI; ``ui`` starts locust's
web UI with the same stations. The stations and shapes live in ``loadtests/``.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(help="locust load tests against a CSMS: headless with thresholds, or the web "
                       "UI.", no_args_is_help=True)

BAD_ARGUMENTS_EXIT = 2

UrlOption = Annotated[str | None, typer.Option(
    help="The CSMS's OCPP endpoint, ws:// or wss://; each station's id is appended.")]
ReferenceOption = Annotated[bool, typer.Option(
    "--reference", help="Start the chargeloop reference CSMS (SQLite, loopback) and load it.")]
MixOption = Annotated[str, typer.Option(
    help="Behaviours and weights: heartbeat-1.6, heartbeat-2.0.1, sessions-1.6, "
         "sessions-2.0.1, e.g. 'sessions-1.6=3,heartbeat-2.0.1=1'.")]
SpeedOption = Annotated[float, typer.Option(
    help="Divide every station interval by this (60: a simulated minute per second).")]


def _seconds(value: str | None, option: str) -> float | None:
    from simulator.scenario.durations import parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def _need_target(url: str | None, reference: bool) -> None:
    if bool(url) == reference:
        raise typer.BadParameter("give the CSMS: --url ws://host:port/path or --reference "
                                 "(one of them)", param_hint="--url")
    if url and not url.startswith(("ws://", "wss://")):
        raise typer.BadParameter(f"{url!r}: use ws://host:port/path or wss://...",
                                 param_hint="--url")


def _stations(mix: str, prefix: str, password: str | None, seed: int, speed: float,
              heartbeat: str | None, meter: str, session: str, pause: str,
              reconnect_at: float, reconnect_within: str, call_timeout: str) -> Any:
    from loadtests.runner import StationOptions
    from loadtests.settings import SettingsError, StationTiming, check_prefix, parse_mix

    try:
        parse_mix(mix)
        check_prefix(prefix)
        timing = StationTiming(
            speed=speed, heartbeat_interval_s=_seconds(heartbeat, "--heartbeat-interval") or 0.0,
            meter_interval_s=_seconds(meter, "--meter-interval") or 0.0,
            session_duration_s=_seconds(session, "--session-duration") or 0.0,
            session_pause_s=_seconds(pause, "--session-pause") or 0.0,
            call_timeout_s=_seconds(call_timeout, "--call-timeout") or 0.0,
            reconnect_at_s=reconnect_at,
            reconnect_within_s=_seconds(reconnect_within, "--reconnect-within") or 0.0)
    except SettingsError as exc:
        option = str(exc).split(":", 1)[0].split(" ", 1)[0]
        raise typer.BadParameter(str(exc), param_hint=option if option.startswith("--")
                                 else None) from exc
    return StationOptions(mix=mix, timing=timing, prefix=prefix, password=password, seed=seed)


@app.command("run")
def run(
    url: UrlOption = None,
    reference: ReferenceOption = False,
    stations: Annotated[int, typer.Option(min=1, help="How many stations.")] = 100,
    duration: Annotated[str, typer.Option(help="How long the shape runs: 60s, 10m, 8h.")]
    = "60s",
    shape: Annotated[str, typer.Option(
        help="steady, ramp, boot-storm, reconnect-storm or soak.")] = "steady",
    arrive_within: Annotated[str | None, typer.Option(
        help="All stations connect within this (boot storm: the storm; ramp: the ramp). "
             "Default: the shape's.")] = None,
    mix: MixOption = "sessions-1.6=1,sessions-2.0.1=1",
    speed: SpeedOption = 1.0,
    heartbeat_interval: Annotated[str | None, typer.Option(
        help="Between heartbeats (simulated time); default: what the CSMS says at boot.")]
    = None,
    meter_interval: Annotated[str, typer.Option(help="Between meter values in a session.")]
    = "60s",
    session_duration: Annotated[str, typer.Option(help="How long a session charges.")] = "20m",
    session_pause: Annotated[str, typer.Option(help="Between sessions at one station.")]
    = "10m",
    reconnect_at: Annotated[str | None, typer.Option(
        help="Every station drops its connection at this point of the run (wall time) and "
             "comes back; default for --shape reconnect-storm: half the duration.")] = None,
    reconnect_within: Annotated[str, typer.Option(
        help="Reconnect storm: stations come back spread over this.")] = "5s",
    call_timeout: Annotated[str, typer.Option(help="Wait this long for a CALLRESULT.")] = "30s",
    workers: Annotated[int, typer.Option(
        min=0, help="Distributed: a locust master and this many workers on loopback; 0: one "
                    "process.")] = 0,
    prefix: Annotated[str, typer.Option(
        "--station-prefix", help="Station ids are <prefix>-<worker>-<n>, and each is also its "
                                 "id token.")] = "LOAD",
    password: Annotated[str | None, typer.Option(
        help="HTTP Basic auth password of every station (security profile 1).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the stations' randomness.")] = 0,
    max_p95_ms: Annotated[float | None, typer.Option(
        help="Fail if the p95 of all OCPP round trips is above this.")] = None,
    max_p99_ms: Annotated[float | None, typer.Option(
        help="Fail if the p99 of all OCPP round trips is above this.")] = None,
    max_fail_ratio: Annotated[float | None, typer.Option(
        min=0, max=1, help="Fail if more than this share of requests failed (0.01 = 1%).")]
    = None,
    min_rps: Annotated[float | None, typer.Option(
        help="Fail if fewer OCPP round trips per second were made.")] = None,
    max_connect_p95_ms: Annotated[float | None, typer.Option(
        help="Fail if the p95 WebSocket handshake took longer.")] = None,
    min_connected_ratio: Annotated[float | None, typer.Option(
        min=0, max=1, help="Fail if fewer than this share of the stations were connected at "
                           "the peak.")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where the run folder goes.")] = Path("runs"),
    name: Annotated[str | None, typer.Option(help="Run name (default: load-<shape>).")] = None,
) -> None:
    """Run a headless load test; exit 0 if every threshold held, 1 if one failed, 2 for bad
    arguments or a load test that could not run."""
    from chargeloop.runs import RunFolder
    from loadtests.shape_plan import ShapePlan
    from loadtests.thresholds import Thresholds

    _need_target(url, reference)
    seconds = _seconds(duration, "--duration") or 0.0
    try:
        plan = ShapePlan(shape, stations, seconds, _seconds(arrive_within, "--arrive-within")
                         or 0.0)
    except ValueError as exc:
        hint = str(exc).split(":")[0].split(" ")[0]
        raise typer.BadParameter(str(exc).removeprefix(f"{hint}: "), param_hint=hint) from exc
    storm_at = _seconds(reconnect_at, "--reconnect-at")
    if storm_at is None and shape == "reconnect-storm":
        storm_at = seconds / 2
    if storm_at is not None and not 0 < storm_at < seconds:
        raise typer.BadParameter(f"{reconnect_at!r} must fall within the run (0 to "
                                 f"{seconds:g} s)", param_hint="--reconnect-at")
    options = _stations(mix, prefix, password, seed, speed, heartbeat_interval, meter_interval,
                        session_duration, session_pause, storm_at or 0.0, reconnect_within,
                        call_timeout)
    limits = Thresholds(max_p95_ms=max_p95_ms, max_p99_ms=max_p99_ms,
                        max_fail_ratio=max_fail_ratio, min_rps=min_rps,
                        max_connect_p95_ms=max_connect_p95_ms,
                        min_connected_ratio=min_connected_ratio)
    folder = RunFolder.create(runs_dir, name or f"load-{shape}", kind="loadtest")
    configuration = {"url": url or "reference", "stations": stations, "duration_s": seconds,
                     "shape": shape, "arrive_within_s": plan.arrival_s, "mix": mix,
                     "speed": speed, "workers": workers, "prefix": prefix, "seed": seed,
                     "reconnect_at_s": storm_at, "thresholds": {
                         k: v for k, v in vars_of(limits).items() if v is not None}}
    folder.write_manifest({"configuration": configuration})
    console.print(f"[bold]load test[/] {escape(folder.name)}: {stations} stations, {shape}, "
                  f"{seconds:g} s" + (f", {workers} workers" if workers else ""))
    try:
        summary = _run(url, reference, plan, options, folder, workers)
    except Exception as exc:  # report why and exit 2: the test did not run
        err_console.print(f"[bold red]the load test could not run:[/] {escape(str(exc))}")
        folder.write_manifest({"finished_at": _now(), "error": str(exc)})
        raise typer.Exit(BAD_ARGUMENTS_EXIT) from exc
    passed = _finish(folder, summary, limits, configuration)
    raise typer.Exit(0 if passed else 1)


def vars_of(limits: Any) -> dict[str, Any]:
    return {name: getattr(limits, name) for name in limits.__dataclass_fields__}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _run(url: str | None, reference: bool, plan: Any, options: Any, folder: Any,
         workers: int) -> dict[str, Any]:
    from loadtests.reference import provision_tokens, reference_csms
    from loadtests.runner import HeadlessRun, run_headless
    from loadtests.settings import station_identity

    with contextlib.ExitStack() as stack:
        if reference:
            console.print("starting the reference CSMS ...")
            csms = stack.enter_context(reference_csms(folder.path / "csms"))
            url = csms.ocpp_url
            folder.write_manifest({"reference_csms": {
                "ocpp_url": csms.ocpp_url, "api_url": csms.api_url,
                "admin_token_file": "csms/admin.token", "log": "csms/csms-1.log"}})
            # Every id a station may get: <prefix>-<worker>-<n>, n up to all stations (a
            # worker may be given any share of them).
            tokens = [station_identity(options.prefix, w, n)
                      for w in range(max(1, workers)) for n in range(1, plan.stations + 1)]
            with _progress() as progress:
                task = progress.add_task("id tokens", total=len(tokens))
                provision_tokens(csms, tokens, lambda n: progress.advance(task, n))
        assert url is not None
        headless = HeadlessRun(url, plan, options, folder.path, workers)
        with _progress() as progress:
            task = progress.add_task(f"{plan.shape}", total=plan.duration_s)
            summary = run_headless(headless, lambda s: progress.update(
                task, completed=min(s, plan.duration_s)))
            progress.update(task, completed=plan.duration_s)
        return summary


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def _finish(folder: Any, summary: dict[str, Any], limits: Any,
            configuration: dict[str, Any]) -> bool:
    from loadtests.results import write_results
    from loadtests.thresholds import evaluate

    verdicts = evaluate(limits, summary)
    result = write_results(folder, summary, verdicts, configuration)
    folder.write_manifest({"finished_at": _now()})
    table = Table(title="OCPP round trips")
    for column in ("type", "action", "requests", "failures", "p50 ms", "p95 ms", "p99 ms",
                   "per s"):
        table.add_column(column, justify="left" if column in ("type", "action") else "right")
    for row in summary["actions"]:
        table.add_row(row["type"], row["name"], str(row["requests"]), str(row["failures"]),
                      *(str(row[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "rps")))
    console.print(table)
    k = result["kpis"]
    console.print(f"round trips {k['round_trips']} ({k['rps']}/s), p95 {k['p95_ms']} ms, "
                  f"p99 {k['p99_ms']} ms, fail ratio {k['fail_ratio']}; stations connected "
                  f"at peak {k['stations_peak_connected']}/{k['stations_target']}"
                  + (f" (workers: {k['stations_by_worker']})" if k["stations_by_worker"]
                     else ""))
    for failure in summary["failures"][:10]:
        console.print(f"  [red]failure[/] {failure['occurrences']}x {escape(failure['type'])} "
                      f"{escape(failure['name'])}: {escape(failure['error'][:200])}")
    for verdict in result["verdicts"]:
        mark = "[green]pass[/]" if verdict["passed"] else "[bold red]FAIL[/]"
        console.print(f"  {mark} {verdict['threshold']} {verdict['limit']}: "
                      f"{verdict['value']}")
    console.print(f"results in {escape(str(folder.path))} (locust.html, locust_*.csv, "
                  "summary.json)")
    return bool(result["passed"])


@app.command("ui")
def ui(
    url: UrlOption = None,
    reference: ReferenceOption = False,
    web_port: Annotated[int, typer.Option(min=0, max=65535, help="Port of the web UI.")]
    = 8089,
    web_host: Annotated[str, typer.Option(help="Address of the web UI.")] = "127.0.0.1",
    mix: MixOption = "sessions-1.6=1,sessions-2.0.1=1",
    speed: SpeedOption = 1.0,
    prefix: Annotated[str, typer.Option("--station-prefix",
                                        help="Station ids are <prefix>-<worker>-<n>.")]
    = "LOAD",
    tokens: Annotated[int, typer.Option(
        min=0, help="With --reference: create id tokens for this many stations.")] = 1000,
    workdir: Annotated[Path | None, typer.Option(
        help="With --reference: where its database and log go (default: a new folder under "
             "runs/).")] = None,
) -> None:
    """Start locust's web UI with chargeloop's stations (Ctrl-C to stop). Choose the number
    of stations and the spawn rate in the browser."""
    import signal
    import subprocess

    from loadtests.reference import provision_tokens, reference_csms
    from loadtests.runner import ui_command
    from loadtests.settings import station_identity

    _need_target(url, reference)
    options = _stations(mix, prefix, None, 0, speed, None, "60s", "20m", "10m", 0.0, "5s",
                        "30s")
    with contextlib.ExitStack() as stack:
        if reference:
            folder = workdir or Path("runs") / f"load-ui-{secrets.token_hex(3)}"
            csms = stack.enter_context(reference_csms(folder))
            url = csms.ocpp_url
            provision_tokens(csms, [station_identity(prefix, 0, n)
                                    for n in range(1, tokens + 1)])
            console.print(f"reference CSMS at {csms.api_url} (admin token in "
                          f"{escape(str(folder / 'admin.token'))})")
        assert url is not None
        console.print(f"locust web UI at http://{web_host}:{web_port} (stations connect to "
                      f"{escape(url)})")
        process = subprocess.Popen(ui_command(url, options, web_port=web_port,
                                              web_host=web_host))

        def interrupted(*_: object) -> None:
            raise KeyboardInterrupt  # SIGTERM too: stop locust and the reference CSMS

        signal.signal(signal.SIGTERM, interrupted)
        try:
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            code = process.wait(15)
    raise typer.Exit(code if code in (0, 1) else 0)
