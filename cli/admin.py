"""Operator commands for agencies, OAuth clients and signing keys (run on the server host)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlmodel import Session

from auth import clients as client_registry
from auth import keys as key_store
from auth import operator
from config.settings import Settings
from database.engine import make_sync_engine
from problems import ProblemError
from schemas.identity import ClientCreate
from schemas.vocabulary import AgencyKind, ClientKind
from sealing import sealing_box
from sealing.box import new_key as sealing_box_key
from sealing.repository import seal_plain

agency_app = typer.Typer(help="Agencies", no_args_is_help=True)
client_app = typer.Typer(help="OAuth clients and liaison credentials", no_args_is_help=True)
keys_app = typer.Typer(help="Token signing keys, and sealing secrets at rest", no_args_is_help=True)


def _session() -> Session:
    return Session(make_sync_engine(Settings().database_url))


@agency_app.command("create")
def create_agency(agency_id: str, name: str, kind: AgencyKind) -> None:
    with _session() as session:
        client_registry.create_agency(session, agency_id, name, kind)
        session.commit()
    typer.echo(f"agency {agency_id} created")


@client_app.command("create")
def create_client(
    agency_id: Annotated[str, typer.Option(help="agency the client belongs to")],
    name: Annotated[str, typer.Option(help="what the client is")],
    scopes: Annotated[str, typer.Option(help="space-separated scopes")],
    person_name: Annotated[str | None, typer.Option(help="named liaison person")] = None,
) -> None:
    """Register a client; its secret is printed once."""
    kind = ClientKind.LIAISON if person_name else ClientKind.SYSTEM
    data = ClientCreate(name=name, kind=kind, person_name=person_name, scopes=scopes.split())
    with _session() as session:
        try:
            client, secret = client_registry.register_client(session, agency_id, data)
        except ProblemError as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(code=2) from None
        session.commit()
        typer.echo(json.dumps({"client_id": client.id, "client_secret": secret}))


@client_app.command("list")
def list_clients(agency_id: str) -> None:
    with _session() as session:
        for client in operator.clients_of_agency(session, agency_id):
            typer.echo(f"{client.id}\t{client.kind}\t{client.scopes}")


@client_app.command("reset-secret")
def reset_secret(client_id: str) -> None:
    """Issue a new secret (the old one stops working); printed once."""
    with _session() as session:
        secret = operator.reset_client_secret(session, client_id)
        session.commit()
    typer.echo(json.dumps({"client_id": client_id, "client_secret": secret}))


@keys_app.command("rotate")
def rotate_keys() -> None:
    """Start signing with a new key; the old one verifies until its tokens expire."""
    with _session() as session:
        key = key_store.rotate_signing_key(session)
        session.commit()
    typer.echo(f"new signing key {key.kid}")


@keys_app.command("list")
def list_keys() -> None:
    with _session() as session:
        for jwk in key_store.public_jwks(session)["keys"]:  # type: ignore[attr-defined]
            typer.echo(json.dumps(jwk))


@keys_app.command("new-sealing-key")
def new_sealing_key() -> None:
    """Print a fresh key for SANAD_SEALING_KEY_FILE (keep the file off the database's host and
    out of its backups; every process of the service needs the same file)."""
    typer.echo(sealing_box_key())


@keys_app.command("seal")
def seal_stored() -> None:
    """Seal the private keys and webhook secrets stored plain, under SANAD_SEALING_KEY_FILE."""
    try:
        box = sealing_box()
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if box is None:
        typer.echo("refused: set SANAD_SEALING_KEY_FILE first", err=True)
        raise typer.Exit(code=2)
    with _session() as session:
        sealed = seal_plain(session, box)
        session.commit()
    typer.echo(json.dumps({"sealed": sealed}))
