"""`sanad audit`: export the transparency log as signed NDJSON, and verify a log offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Annotated, NoReturn

import typer

from cli.errors import open_owner_only, refuse
from config.settings import Settings
from database.engine import make_sync_engine
from tlog.checkpoint import NoteError
from transparency.export import PinnedKeys, export_log, verify_database, verify_export
from transparency.keys import (
    LogKeyError,
    LogKeyPlace,
    existing_log_signer,
    private_key_in_database,
)

audit_app = typer.Typer(help="The audit transparency log: export and verify", no_args_is_help=True)
_KEY_IN_DATABASE = (
    "warning: the log's private key is stored in the database (tlog_log_key.signer_key): "
    "whoever can write to the database can rewrite the log and sign it again, so this export's "
    "signature proves nothing against them. Verify it with the witnesses' keys pinned "
    "(--witness-key) or a checkpoint a witness cosigned (--trusted-checkpoint), and keep the "
    "key in a key file or token (docs/transparency-log.md)."
)
_SELF_CONSISTENT_ONLY = (
    "note: no witness key pinned and no trusted checkpoint given: this shows the log is "
    "self-consistent, not that it is the history the witnesses saw; whoever holds the log key "
    "can rewrite it and sign it again. Pin --witness-key or give --trusted-checkpoint."
)


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
            if private_key_in_database(conn):
                typer.echo(_KEY_IN_DATABASE, err=True)
            if out is None:
                summary = export_log(conn, sys.stdout.buffer, signer)
            else:
                # who was shown which record, when and why: owner-only, as the log key is
                with _export_file(out) as handle:
                    summary = export_log(conn, handle, signer)
    except LogKeyError as exc:
        refuse(str(exc), what="export refused")
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
        typer.Option(
            exists=True,
            dir_okay=False,
            help="a checkpoint note known good, e.g. a witness's (repeatable)",
        ),
    ] = None,
    max_unwitnessed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="fail if more leaves than this lie past the newest checkpoint a pinned "
            "witness cosigned (needs --witness-key)",
        ),
    ] = None,
) -> None:
    """Re-derive the whole tree (from an export, or from DATABASE_URL) and check every leaf,
    checkpoint and cosignature; exits 1 naming the first bad leaf when anything was altered.
    Each pinned witness must have cosigned a checkpoint of this very log; the leaves past its
    newest one are reported (what an insider holding the log key could still rewrite)."""
    if max_unwitnessed is not None and not witness_key:
        _refuse("--max-unwitnessed needs --witness-key: it bounds what pinned witnesses saw")
    try:
        pinned = PinnedKeys(log_key, tuple(witness_key) if witness_key else None, max_unwitnessed)
    except NoteError as exc:
        _refuse(str(exc))
    trusted = [_checkpoint_note(path) for path in trusted_checkpoint or []]
    if not witness_key and not trusted:
        typer.echo(_SELF_CONSISTENT_ONLY, err=True)
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


def _export_file(out: Path) -> IO[bytes]:
    try:
        return open_owner_only(out)
    except OSError as exc:
        refuse(f"{out}: {exc.strerror}", what="export refused")


def _refuse(message: str) -> NoReturn:
    refuse(message, what="verify refused")


def _checkpoint_note(path: Path) -> str:
    """A checkpoint note, or a witness state file holding the one it cosigned."""
    try:
        text = path.read_text("utf-8")
        if not text.lstrip().startswith("{"):
            return text
        note = json.loads(text)["note"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        _refuse(f"{path}: neither a checkpoint note nor a witness state file")
    if not isinstance(note, str):
        _refuse(f"{path}: its `note` is not a checkpoint note")
    return note
