"""`sanad audit`: export the transparency log as signed NDJSON, and verify a log offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from config.settings import Settings
from database.engine import make_sync_engine
from transparency.export import PinnedKeys, export_log, verify_database, verify_export
from transparency.keys import LogKeyError, LogKeyPlace, existing_log_signer

audit_app = typer.Typer(help="The audit transparency log: export and verify", no_args_is_help=True)


@audit_app.command("export")
def export(
    out: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
) -> None:
    """Write every audit event with its leaf index, every checkpoint and cosignature, signed by
    the log key, from the database named by DATABASE_URL (one consistent snapshot)."""
    settings = Settings()
    engine = make_sync_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            signer = existing_log_signer(conn, LogKeyPlace.from_settings(settings))
            if out is None:
                summary = export_log(conn, sys.stdout.buffer, signer)
            else:
                with out.open("wb") as handle:
                    summary = export_log(conn, handle, signer)
    except LogKeyError as exc:
        typer.echo(f"export refused: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        engine.dispose()
    typer.echo(
        f"exported {summary.tree_size} leaves, {summary.checkpoints} checkpoints "
        f"(sha256 {summary.sha256})",
        err=True,
    )


@audit_app.command("verify")
def verify(
    export_file: Annotated[
        Path | None,
        typer.Option("--export", exists=True, dir_okay=False, help="verify this export file"),
    ] = None,
    log_key: Annotated[
        str | None, typer.Option(help="pinned log verifier key (default: the log's own)")
    ] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option(help="pinned witness verifier key (repeatable)")
    ] = None,
    trusted_checkpoint: Annotated[
        list[Path] | None,
        typer.Option(help="a checkpoint note known good, e.g. a witness's (repeatable)"),
    ] = None,
) -> None:
    """Re-derive the whole tree (from an export, or from DATABASE_URL) and check every leaf,
    checkpoint and cosignature; exits 1 naming the first bad leaf when anything was altered."""
    pinned = PinnedKeys(log_key, tuple(witness_key) if witness_key else None)
    trusted = [_checkpoint_note(path) for path in trusted_checkpoint or []]
    if export_file is not None:
        report = verify_export(export_file, pinned, trusted)
    else:
        engine = make_sync_engine(Settings().database_url)
        try:
            with engine.connect() as conn:
                report = verify_database(conn, pinned, trusted)
        finally:
            engine.dispose()
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(code=1)


def _checkpoint_note(path: Path) -> str:
    """A checkpoint note, or a witness state file holding the one it cosigned."""
    text = path.read_text("utf-8")
    if text.lstrip().startswith("{"):
        note: str = json.loads(text)["note"]
        return note
    return text
