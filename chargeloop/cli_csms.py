"""``chargeloop csms``: serve the reference CSMS, migrate its database, create API tokens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(help="The reference CSMS: serve, migrate, tokens.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens with roles.", no_args_is_help=True)
app.add_typer(token_app, name="token")

DatabaseOption = Annotated[str | None, typer.Option(
    "--database", help="SQLAlchemy URL: sqlite+aiosqlite:///file.db (default) or "
                       "postgresql+asyncpg://user@host/db.")]


def _database(url: str | None) -> str:
    from csms.config import DEFAULT_DATABASE

    url = url or DEFAULT_DATABASE
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise typer.BadParameter(
            f"{url!r}: use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db",
            param_hint="--database")
    return url


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to bind. Loopback by default.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for OCPP, API and events.")]
    = 8180,
    database: DatabaseOption = None,
    unknown_stations: Annotated[str | None, typer.Option(
        help="accept | pending | reject. Default: accept on loopback, reject elsewhere.")] = None,
    admin_token_file: Annotated[Path, typer.Option(
        help="Where the first admin API token is written.")]
    = Path("chargeloop-csms-admin.token"),
    heartbeat_interval: Annotated[int, typer.Option(min=10, help="Seconds, sent at boot.")] = 300,
    validation: Annotated[str, typer.Option(
        help="strict: reject what the schemas reject; lenient: repair known charger quirks "
             "and log each repair.")] = "strict",
    public_url: Annotated[str | None, typer.Option(
        help="How stations reach this CSMS (for log and diagnostics upload URLs).")] = None,
    upload_dir: Annotated[Path, typer.Option(help="Where station uploads are kept.")]
    = Path("chargeloop-csms-uploads"),
    stuck_session_after: Annotated[float, typer.Option(
        min=1, help="Seconds of charging with no energy flow before a stuck-session alert.")]
    = 900.0,
    clock_skew_threshold: Annotated[float, typer.Option(
        min=1, help="Seconds a station's clock may be off before a clock-skew alert.")] = 60.0,
    soft_reset_faulted_after: Annotated[float | None, typer.Option(
        min=1, help="Remediation: soft-reset a station Faulted this many seconds (off by "
                    "default).")] = None,
    tls_cert: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False,
        help="Server certificate (PEM; may hold the key) for wss:// (security profile 2).")]
    = None,
    tls_key: Annotated[Path | None, typer.Option(exists=True, dir_okay=False,
                                                 help="Server key (PEM), if not in --tls-cert.")]
    = None,
    tls_client_ca: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False,
        help="Require client certificates from this CA, CN = station id (profile 3).")] = None,
    cost_update_interval: Annotated[float, typer.Option(
        min=0.1, help="Seconds between running-cost updates of priced sessions (CostUpdated "
                      "to 2.0.1 stations).")] = 60.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Start the reference CSMS: OCPP-J at ws://HOST:PORT/ocpp/{stationId}, the REST API
    under /api/, OpenAPI at /openapi.json and /docs, events at /api/events."""
    from chargeloop.ocppj import ValidationMode
    from csms.config import CsmsConfig, UnknownStations
    from csms.server import serve as run

    policy = None
    if unknown_stations is not None:
        try:
            policy = UnknownStations(unknown_stations)
        except ValueError as exc:
            raise typer.BadParameter(f"{unknown_stations!r}: use accept, pending or reject",
                                     param_hint="--unknown-stations") from exc
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        mode = ValidationMode(validation)
    except ValueError as exc:
        raise typer.BadParameter(f"{validation!r}: use strict or lenient",
                                 param_hint="--validation") from exc
    config = CsmsConfig(host=host, port=port, database_url=_database(database),
                        unknown_stations=policy, admin_token_file=admin_token_file,
                        heartbeat_interval_s=heartbeat_interval, validation=mode,
                        public_url=public_url, upload_dir=upload_dir,
                        stuck_session_after_s=stuck_session_after,
                        clock_skew_threshold_s=clock_skew_threshold,
                        remediation_soft_reset_after_s=soft_reset_faulted_after,
                        tls_certfile=tls_cert, tls_keyfile=tls_key, tls_client_ca=tls_client_ca,
                        cost_update_interval_s=cost_update_interval)
    if tls_client_ca is not None and tls_cert is None:
        raise typer.BadParameter("mutual TLS needs a server certificate too",
                                 param_hint="--tls-cert")
    console.print(f"[bold]chargeloop reference CSMS[/] on http://{host}:{port} "
                  f"(OCPP: ws://{host}:{port}/ocpp/<stationId>, API docs: /docs)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(config))


@app.command("migrate")
def migrate(database: DatabaseOption = None) -> None:
    """Apply the database schema migrations (serve also does this on start)."""
    from csms.storage.migrate import upgrade

    url = _database(database)
    upgrade(url)
    console.print(f"[green]database at {url} is up to date[/]")


@token_app.command("create")
def create_token(
    role: Annotated[str, typer.Option(help="admin, operator, support, driver or read-only.")],
    name: Annotated[str, typer.Option(help="Who or what the token is for.")],
    subject: Annotated[str | None, typer.Option(help="Driver account (driver tokens).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Create an API token; it is printed once and only its hash is stored."""
    from csms.config import CsmsConfig
    from csms.core import CsmsCore
    from csms.domain.api_tokens import ApiRole

    try:
        api_role = ApiRole(role)
    except ValueError as exc:
        valid = ", ".join(r.value for r in ApiRole)
        raise typer.BadParameter(f"{role!r}: use one of {valid}", param_hint="--role") from exc

    async def create() -> str:
        core = CsmsCore(CsmsConfig(database_url=_database(database)))
        await core.start()
        try:
            return await core.api_tokens.create(name, api_role, subject)
        finally:
            await core.stop()

    console.print(asyncio.run(create()))
