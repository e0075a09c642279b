"""``chargeloop hil``: emulate a Modbus meter, run a bench file."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(help="Hardware in the loop: Modbus meters, bench runs.", no_args_is_help=True)


def _hostport(text: str, option: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise typer.BadParameter(f"{text!r} is not host:port (for example 127.0.0.1:5020)",
                                 param_hint=option)
    return host.strip("[]"), int(port)


def _quiet_pymodbus() -> None:
    # pymodbus logs every frame at debug and a traceback per unknown unit id at error level;
    # a bench console wants neither
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


@app.command("meter")
def meter(
    map_name: Annotated[str, typer.Option("--map", help="Register map: a shipped name "
                                          "(sdm630, sdm72, abb_b23, em24, sunspec203) or a "
                                          "YAML file.")],
    tcp: Annotated[str | None, typer.Option(help="Serve Modbus TCP on host:port.")] = None,
    serial: Annotated[str | None, typer.Option(help="Serve Modbus RTU on this serial "
                                               "device (or pseudo-terminal).")] = None,
    baud: Annotated[int | None, typer.Option(help="Serial baud rate (default: the map's).")]
    = None,
    parity: Annotated[str | None, typer.Option(help="Serial parity N, E or O (default: the "
                                               "map's).")] = None,
    unit: Annotated[list[int] | None, typer.Option(
        help="Unit id; repeat for several meters on one bus (default: the map's).")] = None,
    power_w: Annotated[float, typer.Option(help="Constant load the simulated meter measures, "
                                           "W.", min=0)] = 7_400.0,
    start_wh: Annotated[float, typer.Option(help="Energy register at the start, Wh.", min=0)]
    = 0.0,
    noise: Annotated[float, typer.Option(help="Relative noise on instantaneous values.",
                                         min=0, max=0.49)] = 0.0,
    duration_s: Annotated[float | None, typer.Option(help="Stop after this many seconds "
                                                     "(default: until Ctrl-C).", min=0.1)]
    = None,
    line_timing: Annotated[bool, typer.Option(help="Serial: answer only as fast as the baud "
                                              "rate allows (pseudo-terminals ignore it).")]
    = True,
    runs_dir: Annotated[Path, typer.Option(help="Where the run folder goes.")] = Path("runs"),
    seed: Annotated[int, typer.Option(help="Seed of the meter's noise.")] = 1,
) -> None:
    """Emulate a Modbus energy meter over TCP or serial (RTU), serving a simulated meter's
    live values in real time through a register map."""
    from hil.registermap import MapError, load_map

    if (tcp is None) == (serial is None):
        raise typer.BadParameter("give exactly one of --tcp host:port or --serial DEVICE",
                                 param_hint="--tcp/--serial")
    if parity is not None and parity not in ("N", "E", "O"):
        raise typer.BadParameter(f"{parity!r}: use N, E or O", param_hint="--parity")
    address = _hostport(tcp, "--tcp") if tcp is not None else None
    try:
        regmap = load_map(map_name)
    except MapError as exc:
        err_console.print(f"[bold red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(2) from None
    units = unit or [regmap.serial.unit]
    bad = [u for u in units if not 1 <= u <= 247]
    if bad or len(set(units)) != len(units):
        raise typer.BadParameter(f"unit ids must be distinct and within 1..247, not {units}",
                                 param_hint="--unit")
    _quiet_pymodbus()
    try:
        asyncio.run(_serve_meter(regmap, address, serial, baud or regmap.serial.baud,
                                 parity or regmap.serial.parity, units, power_w, start_wh,
                                 noise, duration_s, line_timing, runs_dir, seed))
    except KeyboardInterrupt:
        console.print("stopped")
    except OSError as exc:
        err_console.print(f"[bold red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(1) from None


async def _serve_meter(regmap: Any, address: tuple[str, int] | None, serial: str | None,
                       baud: int, parity: str, units: list[int], power_w: float,
                       start_wh: float, noise: float, duration_s: float | None,
                       line_timing: bool, runs_dir: Path, seed: int) -> None:
    import numpy as np

    from chargeloop.clock import SimClock
    from chargeloop.runs import RunFolder
    from hil.emulator import MeterEmulator
    from simulator.meters import Meter

    clock = SimClock(datetime.now(UTC), speed=1.0)
    emulator = MeterEmulator.of(regmap, units)
    rng = np.random.default_rng(seed)
    meters = {u: Meter(child, phases=3, noise=noise, start_wh=start_wh)
              for u, child in zip(units, rng.spawn(len(units)), strict=True)}
    if address is not None:
        host, port = await emulator.start_tcp(*address)
        where = f"Modbus TCP {host}:{port}"
    else:
        await emulator.start_serial(serial or "", baud=baud, parity=parity,
                                    line_timing=line_timing)
        where = f"Modbus RTU {serial} {baud} Bd 8{parity}1"
    folder = RunFolder.create(runs_dir, f"meter-{regmap.name}", kind="hil-meter",
                              clock_start=clock.start_utc)
    folder.write_manifest({"map": regmap.name, "endpoint": where, "units": units,
                           "power_w": power_w, "start_wh": start_wh, "noise": noise,
                           "seed": seed, "speed": 1.0})
    console.print(f"[bold]{regmap.title}[/] on {where}, unit(s) {', '.join(map(str, units))}")

    def table() -> Table:
        view = Table("unit", "energy kWh", "power W", "V L1", "A L1", "Hz", "requests")
        for u, image in emulator.meters.items():
            r = image.reading
            if r is not None:
                view.add_row(str(u), f"{r.energy_wh / 1000:.4f}", f"{r.power_w:.1f}",
                             f"{r.voltage_v[0]:.1f}", f"{r.current_a[0]:.2f}",
                             f"{r.frequency_hz:.2f}", str(emulator.requests))
        return view

    def publish() -> Any:
        while True:
            for u, meter in meters.items():
                meter.advance(power_w, 1.0 if clock.now else 0.0)
                emulator.publish(u, meter.reading())
            yield clock.env.timeout(1.0)

    clock.env.process(publish())
    try:
        with Live(table(), console=console, refresh_per_second=2) as live:
            def refresh() -> Any:
                while True:
                    live.update(table())
                    yield clock.env.timeout(1.0)

            clock.env.process(refresh())
            await clock.run(duration_s if duration_s is not None else 10 * 365 * 86400.0)
    finally:
        await emulator.stop()
        lateness = clock.lateness()
        folder.write_summary({"kind": "hil-meter", "requests": emulator.requests,
                              "served_s": clock.now, "lateness": lateness})
        folder.close()
        console.print(f"served {emulator.requests} requests; lateness p50 "
                      f"{lateness['p50_ms']:.2f} ms, p99 {lateness['p99_ms']:.2f} ms, max "
                      f"{lateness['max_ms']:.2f} ms; run folder {folder.path}")


@app.command("run")
def run(
    bench_file: Annotated[Path, typer.Argument(help="The bench file (YAML).")],
    runs_dir: Annotated[Path, typer.Option(help="Where the run folder goes.")] = Path("runs"),
) -> None:
    """Run a bench file with real and simulated devices in real time; exit status 0 when the
    run passed, 1 when it failed, 2 for a bad bench file."""
    from hil.bench import BenchError, load_bench
    from hil.reader import MeterReadError
    from hil.runner import run_bench

    try:
        bench = load_bench(bench_file)
    except BenchError as exc:
        err_console.print(f"[bold red]{escape(str(exc))}[/]", soft_wrap=True)
        raise typer.Exit(2) from None
    _quiet_pymodbus()
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                        TimeRemainingColumn(), console=console)
    try:
        with progress:
            task = progress.add_task(f"bench {bench.name}", total=bench.duration_s)
            result = asyncio.run(run_bench(
                bench, runs_dir, lambda t: progress.update(task, completed=t)))
    except (MeterReadError, OSError) as exc:
        err_console.print(f"[bold red]bench {escape(bench.name)} could not start: "
                          f"{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    summary = result.summary
    view = Table(title=f"bench {bench.name}", show_header=False)
    view.add_column()
    view.add_column()
    late = summary["lateness"]
    view.add_row("lateness p50 / p99 / max", f"{late['p50_ms']:.2f} / {late['p99_ms']:.2f} / "
                 f"{late['max_ms']:.2f} ms ({summary['lateness_verdict']})")
    for meter_id, stats in summary["meters"].items():
        view.add_row(f"meter {meter_id}", f"{stats['polls']} polls, {stats['errors']} errors")
    view.add_row("samples compared", f"{summary['samples_compared']} "
                 f"({summary['deviations']} deviations)")
    view.add_row("signed values", f"{summary['signed_values']} "
                 f"({summary['invalid_signatures']} invalid)")
    console.print(view)
    for warning in summary["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    for failure in summary["failures"]:
        console.print(f"[bold red]failed:[/] {escape(failure)}")
    console.print(f"run folder: {result.folder.path}")
    if not result.passed:
        raise typer.Exit(1)
    console.print("[green]passed[/]")
