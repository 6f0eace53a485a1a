"""Entry point of the `sanad` command; each sub-command is a thin shell over a domain module."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from cli import admin, letters
from cli.audit import audit_app
from cli.errors import RefusingGroup
from cli.witness import witness_app
from config.settings import Settings
from database.migrations import upgrade_to_head

app = typer.Typer(
    help="Sanad inter-agency exchange service",
    no_args_is_help=True,
    cls=RefusingGroup,
    # a traceback's local variables would show rows, records and secrets (older releases of
    # typer, which `typer>=0.12` admits, showed them by default)
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _owner_only_files() -> None:
    """Every file a command creates (the SQLite database and its WAL, key files, exports of
    links or of the audit log) is its owner's alone: they hold lists, keys and disclosures."""
    os.umask(0o077)


app.add_typer(admin.agency_app, name="agency")
app.add_typer(admin.client_app, name="client")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(letters.letter_app, name="letter")
app.add_typer(audit_app, name="audit")
app.add_typer(witness_app, name="witness")


@app.command()
def migrate() -> None:
    """Bring the database named by DATABASE_URL to the newest schema."""
    settings = Settings()
    upgrade_to_head(settings.database_url)
    typer.echo(f"migrated {make_url(settings.database_url).render_as_string(hide_password=True)}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True,
) -> None:
    """Run the API (`api.main:app`) with uvicorn."""
    import uvicorn

    settings = Settings()  # settings that do not validate are refused here, not in each worker
    for warning in settings.insecure_choices():
        typer.echo(f"warning: {warning}", err=True)
    if migrate_first:
        upgrade_to_head(settings.database_url)
    uvicorn.run(
        "api.main:app", host=host, port=port, workers=workers, log_level="warning", access_log=False
    )


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="print credentials as JSON")] = False,
    if_absent: Annotated[bool, typer.Option(help="do nothing if demo data exists")] = False,
) -> None:
    """Create demo agencies, clients, a pipeline list and its agreements; print secrets once."""
    from cli.demo import DemoAlreadySeededError, seed_demo

    settings = Settings()
    upgrade_to_head(settings.database_url)
    try:
        summary = seed_demo(settings)
    except DemoAlreadySeededError:
        typer.echo("Demo data already present; its secrets were printed when it was created.")
        typer.echo("New secret for a client: sanad client reset-secret CLIENT_ID")
        if if_absent:
            return
        raise typer.Exit(code=1) from None
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo("Demo data created. Client secrets are shown ONCE; store them now.\n")
    for client in summary["clients"]:
        typer.echo(
            f"  {client['client_id']:<28} secret={client['client_secret']}  ({client['role']})"
        )
    typer.echo(f"\n  demo pipeline list: {summary['list_id']}")


@app.command("import")
def import_file(
    list_id: Annotated[str, typer.Argument(help="list to import into")],
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or NDJSON file")],
    client_id: Annotated[str, typer.Option(help="client of the owning agency, for the audit")],
    purpose: Annotated[
        str,
        typer.Option(
            help="Purpose-Of-Use, as the HTTP route requires (e.g. resettlement-processing)"
        ),
    ],
    idempotency_key: Annotated[
        str | None, typer.Option(help="defaults to the file's SHA-256")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Import an exchange-format file into a list, all-or-nothing, with a progress bar.
    Prints a JSON report; exits 1 unless the file was imported (or replayed)."""
    from cli.importer import run_import

    report = run_import(Settings(), list_id, path, client_id, idempotency_key, purpose, quiet)
    typer.echo(json.dumps(report, indent=2))
    if report.get("status") != "imported":
        raise typer.Exit(code=1)


@app.command()
def reconcile(
    left: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="exchange-format CSV")],
    right: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="exchange-format CSV")],
    out: Annotated[Path, typer.Option("--out", help="links CSV to write")] = Path("links.csv"),
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    memory_mb: Annotated[
        int | None,
        typer.Option(min=1, help="most memory to use, in MB (default 70 % of the machine's)"),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="also write the report an official reads (HTML, counts only)"),
    ] = None,
) -> None:
    """Link two exchange-format CSV files offline with the reconciliation engine."""
    from cli.reconcile import run_reconcile
    from reconcile.table import UnreadableFileError

    for target in (out, report):
        # refused before the linking, which takes a minute at full size, not after it
        if target is not None and not target.parent.is_dir():
            typer.echo(f"error: {target.parent} is not a directory to write into", err=True)
            raise typer.Exit(code=1)
    try:
        summary = run_reconcile(left, right, out, quiet, memory_mb, report)
    except UnreadableFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(summary, indent=2))


if __name__ == "__main__":
    app()
