"""The ``chargeloop`` command line.

Only this module knows every package; each subcommand imports its package lazily, so
``chargeloop --help`` stays fast and a missing optional part breaks only its own command.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from chargeloop import __version__

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="chargeloop",
    help="Hardware-in-the-loop test and simulation harness for EV charging (OCPP 1.6J, 2.0.1, "
    "2.1).",
    no_args_is_help=True,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"chargeloop {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback,
                                          is_eager=True, help="Print the version and exit.")]
    = False,
) -> None:
    """chargeloop: simulate, load-test and check OCPP charging networks."""


def _add_lazy_group(name: str, module: str) -> None:
    """Attach a sub-application whose module is imported only when the group is used."""
    import importlib

    app.add_typer(importlib.import_module(module).app, name=name)


_add_lazy_group("csms", "chargeloop.cli_csms")
_add_lazy_group("conformance", "chargeloop.cli_conformance")
_add_lazy_group("hil", "chargeloop.cli_hil")
_add_lazy_group("load", "chargeloop.cli_load")


def _register_run() -> None:
    from chargeloop.cli_run import run

    app.command("run")(run)


_register_run()


def _register_report() -> None:
    from chargeloop.cli_report import report

    app.command("report")(report)


_register_report()


# -- demo ----------------------------------------------------------------------------------------

demo_app = typer.Typer(help="Demonstrations that need nothing but this package.",
                       no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@demo_app.command("protocol")
def demo_protocol(
    version: Annotated[list[str] | None, typer.Option(
        "--version", "-v",
        help="OCPP version(s) to run: 1.6, 2.0.1, 2.1. Repeat for several; default 1.6 and "
             "2.0.1.")] = None,
    trace_file: Annotated[Path | None, typer.Option(
        help="Also append every frame as JSON lines to this file.")] = None,
) -> None:
    """Start a loopback CSMS and station and exchange boot, heartbeat, authorize, start, meter
    values and stop, printing the OCPP trace."""
    from chargeloop.demo import run_protocol_demo
    from chargeloop.ocppj import JsonlTraceWriter, OcppVersion, TraceRecord

    try:
        versions = [OcppVersion.parse(v) for v in (version or ["1.6", "2.0.1"])]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--version") from exc
    writer = JsonlTraceWriter(trace_file) if trace_file else None

    def show(record: TraceRecord) -> None:
        arrow = "[cyan]station -> CSMS[/]" if record.direction == "out" else \
            "[magenta]CSMS -> station[/]"
        note = "" if record.outcome == "ok" else f" [red]{escape(record.outcome)}[/]"
        console.print(f"  {arrow} {escape(record.raw)}{note}", soft_wrap=True)
        if writer is not None:
            writer(record)

    failed = False
    try:
        for selected in versions:
            console.rule(f"OCPP {selected.short}")
            try:
                asyncio.run(run_protocol_demo(selected, show))
            except Exception as exc:  # noqa: BLE001 - report, then fail the command
                failed = True
                err_console.print(f"[bold red]OCPP {selected.short} demo failed:[/] "
                                  f"{escape(str(exc))}")
            else:
                console.print(f"[green]OCPP {selected.short}: session completed[/]")
    finally:
        if writer is not None:
            writer.close()
    if failed:
        raise typer.Exit(1)
