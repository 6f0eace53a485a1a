"""Operator commands for agencies, OAuth clients and signing keys (run on the server host)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, TypeVar

import typer
from sqlmodel import Session

from auth import clients as client_registry
from auth import keys as key_store
from auth import operator
from cli.errors import refuse
from config.settings import Settings
from database.engine import make_sync_engine
from problems import ProblemError
from schemas.identity import ClientCreate
from schemas.vocabulary import AgencyKind, ClientKind
from sealing import Sealer, SecretBox, sealing_box, token_settings
from sealing.box import new_key as sealing_box_key
from sealing.repository import destroy_retired as destroy_retired_keys
from sealing.repository import seal_stored as seal_stored_secrets
from sealing.token import TokenBox
from sealing.token import create_key as create_token_key

agency_app = typer.Typer(help="Agencies", no_args_is_help=True)
client_app = typer.Typer(help="OAuth clients and liaison credentials", no_args_is_help=True)
T = TypeVar("T")
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
            refuse(str(exc))
        session.commit()
        typer.echo(json.dumps({"client_id": client.id, "client_secret": secret}))


@client_app.command("list")
def list_clients(agency_id: str) -> None:
    with _session() as session:
        if not operator.agency_exists(session, agency_id):
            refuse(f"no agency {agency_id}")
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
    """Start signing with a new key; the old one verifies until its tokens expire, and its
    private half is destroyed."""
    with _session() as session:
        kid = key_store.rotate_signing_key(session).kid  # read before the session closes
    typer.echo(f"new signing key {kid}")
    destroy_retired()


@keys_app.command("destroy-retired")
def destroy_retired() -> None:
    """Destroy the private halves of retired token and letter signing keys (in the PKCS#11
    token, or their sealed PEMs); their public halves keep verifying what they signed."""
    token = _refused_unless(lambda: token_settings(Settings()))
    with _session() as session:
        destroyed = _refused_unless(lambda: destroy_retired_keys(session, token))
        session.commit()
    typer.echo(json.dumps({"destroyed": destroyed}))


@keys_app.command("list")
def list_keys() -> None:
    with _session() as session:
        for jwk in key_store.public_jwks(session)["keys"]:  # type: ignore[attr-defined]
            typer.echo(json.dumps(jwk))


@keys_app.command("new-sealing-key")
def new_sealing_key(
    pkcs11: Annotated[
        bool, typer.Option("--pkcs11", help="make it in the token SANAD_SEALING_PKCS11_* names")
    ] = False,
) -> None:
    """Print a fresh key for SANAD_SEALING_KEY_FILE (keep the file off the database's host and
    out of its backups; every process of the service needs the same file); or, with --pkcs11,
    make the key inside the PKCS#11 token, which it never leaves."""
    if not pkcs11:
        typer.echo(sealing_box_key())
        return
    token = _refused_unless(lambda: token_settings(Settings()))
    if token is None:
        refuse("set SANAD_SEALING_PKCS11_MODULE, _TOKEN and _PIN_FILE first")
    _refused_unless(lambda: create_token_key(token))
    typer.echo(json.dumps({"token": token.token_label, "key": token.key_label}))


@keys_app.command("seal")
def seal_stored(
    previous_key_file: Annotated[
        str | None, typer.Option(help="seal again what this key file sealed")
    ] = None,
    previous_token_key: Annotated[
        str | None, typer.Option(help="seal again what this key of the same token sealed")
    ] = None,
) -> None:
    """Seal the private keys and webhook secrets stored plain under the configured sealing key
    (SANAD_SEALING_KEY_FILE or a PKCS#11 token); with a previous key, also those sealed under
    it. Nothing changes unless every secret can be sealed."""
    box = _refused_unless(sealing_box)
    if box is None:
        refuse("set SANAD_SEALING_KEY_FILE or SANAD_SEALING_PKCS11_* first")
    previous = _refused_unless(lambda: _previous_sealer(previous_key_file, previous_token_key))
    with _session() as session:
        sealed = _refused_unless(lambda: seal_stored_secrets(session, box, previous))
        session.commit()
    typer.echo(json.dumps({"sealed": sealed}))


def _previous_sealer(key_file: str | None, token_key: str | None) -> Sealer | None:
    if key_file and token_key:
        raise ValueError("name one previous key, not two")
    if key_file:
        return SecretBox.from_file(key_file)
    if not token_key:
        return None
    token = token_settings(Settings())
    if token is None:
        raise ValueError("--previous-token-key needs SANAD_SEALING_PKCS11_* set")
    return TokenBox(replace(token, key_label=token_key))


def _refused_unless(step: Callable[[], T]) -> T:
    """The step's result; a ValueError (a key, a token or a secret refused) ends the command."""
    try:
        return step()
    except ValueError as exc:
        refuse(str(exc))
