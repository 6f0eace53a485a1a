"""Operator commands for webhook signing secrets at rest (changes/secret_box.py)."""

from __future__ import annotations

import typer
from sqlmodel import Session

from changes.secret_box import new_key
from changes.subscriptions import seal_plain_secrets
from changes.webhook_settings import WebhookSettings
from config.settings import Settings
from database.engine import make_sync_engine

webhooks_app = typer.Typer(help="Webhook signing secrets", no_args_is_help=True)


@webhooks_app.command("new-key")
def print_new_key() -> None:
    """Print a fresh key for SANAD_WEBHOOK_SECRET_KEY_FILE (keep the file off the database's
    host and backups)."""
    typer.echo(new_key())


@webhooks_app.command("seal-secrets")
def seal_secrets() -> None:
    """Seal the secrets stored plain, under the key SANAD_WEBHOOK_SECRET_KEY_FILE names."""
    try:
        box = WebhookSettings().load_secret_box()
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if box is None:
        typer.echo("refused: set SANAD_WEBHOOK_SECRET_KEY_FILE first", err=True)
        raise typer.Exit(code=2)
    with Session(make_sync_engine(Settings().database_url)) as session:
        sealed = seal_plain_secrets(session, box)
        session.commit()
    typer.echo(f"sealed {sealed} webhook secrets")
