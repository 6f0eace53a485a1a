"""`sanad witness`: what an agency runs on its own machine to cosign the audit log's checkpoints
after checking them against the last one it cosigned; it refuses loudly on any contradiction."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, NoReturn

import httpx
import typer

from sealing.token_login import TokenSettings, TokenUnavailableError
from tlog.checkpoint import NoteSigner
from transparency.witness import (
    WitnessAlarm,
    WitnessConfig,
    WitnessError,
    register_witness_key,
    revoke_witness_key,
    witness_once,
)
from transparency.witness_key import WitnessKeyError, load_witness_signer, new_witness_key

witness_app = typer.Typer(
    help="Witness the audit log: keygen, register, run, revoke", no_args_is_help=True
)

ALARM_EXIT = 3
ERROR_EXIT = 2
Server = Annotated[str, typer.Option(help="base URL of the Sanad API", envvar="SANAD_SERVER")]
ClientId = Annotated[
    str, typer.Option(help="OAuth client of your agency", envvar="SANAD_CLIENT_ID")
]
ClientSecret = Annotated[
    str, typer.Option(help="its secret", envvar="SANAD_CLIENT_SECRET", prompt=True, hide_input=True)
]
KeyFile = Annotated[Path, typer.Option(help="the witness key file")]


@witness_app.command("keygen")
def keygen(
    name: Annotated[str, typer.Option(help="witness name, e.g. unhcr.example/sanad-witness")],
    key_file: KeyFile,
    pkcs11_module: Annotated[
        str | None,
        typer.Option(
            help="make the key in a PKCS#11 token: the token's library",
            envvar="SANAD_WITNESS_PKCS11_MODULE",
        ),
    ] = None,
    pkcs11_token: Annotated[
        str | None, typer.Option(help="the token's label", envvar="SANAD_WITNESS_PKCS11_TOKEN")
    ] = None,
    pkcs11_pin_file: Annotated[
        str | None,
        typer.Option(help="a file holding its user PIN", envvar="SANAD_WITNESS_PKCS11_PIN_FILE"),
    ] = None,
) -> None:
    """Create a witness key and print its verifier key to register: in an owner-only key file,
    or, with the --pkcs11 options, in a token it never leaves (the key file then names it)."""
    given = [pkcs11_module, pkcs11_token, pkcs11_pin_file]
    if any(given) and not all(given):
        _fail("keygen", "--pkcs11-module, --pkcs11-token and --pkcs11-pin-file go together")
    token = None
    if pkcs11_module and pkcs11_token and pkcs11_pin_file:
        token = TokenSettings(pkcs11_module, pkcs11_token, pkcs11_pin_file, key_label="")
    try:
        signer = new_witness_key(name, key_file, token)
    except (ValueError, OSError) as exc:  # the token refused, or the key file exists
        _fail("keygen", str(exc))
    typer.echo(signer.verifier().verifier_key())


@witness_app.command("register")
def register(
    server: Server, client_id: ClientId, client_secret: ClientSecret, key_file: KeyFile
) -> None:
    """Register the witness key for your agency (needs a client with the admin scope)."""
    signer = _signer(key_file)

    async def go() -> dict[str, object]:
        async with httpx.AsyncClient(base_url=server, timeout=30) as http:
            return await register_witness_key(http, client_id, client_secret, signer)

    try:
        typer.echo(json.dumps(asyncio.run(go()), indent=2))
    except (WitnessError, httpx.HTTPError) as exc:
        _fail("registration", str(exc))


@witness_app.command("revoke")
def revoke(
    server: Server,
    client_id: ClientId,
    client_secret: ClientSecret,
    witness_id: Annotated[str, typer.Option(help="the id `register` printed")],
    reason: Annotated[str, typer.Option(help="why (public to every agency's auditors)")],
) -> None:
    """Revoke a witness key of your agency whose private key was lost or leaked, for good:
    its cosignatures, earlier ones included, count nowhere (needs the admin scope)."""

    async def go() -> dict[str, object]:
        async with httpx.AsyncClient(base_url=server, timeout=30) as http:
            return await revoke_witness_key(http, client_id, client_secret, witness_id, reason)

    try:
        typer.echo(json.dumps(asyncio.run(go()), indent=2))
    except (WitnessError, httpx.HTTPError) as exc:
        _fail("revocation", str(exc))


@witness_app.command("run")
def run(
    server: Server,
    client_id: ClientId,
    client_secret: ClientSecret,
    key_file: KeyFile,
    state_file: Annotated[Path, typer.Option(help="where this witness remembers what it signed")],
    log_key: Annotated[
        str | None, typer.Option(help="the log's verifier key (pinned on the first run)")
    ] = None,
    interval: Annotated[
        float, typer.Option(min=0, help="seconds between rounds; 0 runs one round")
    ] = 0.0,
) -> None:
    """Fetch the latest checkpoint, verify it against the stored state, cosign and post.
    Exits 3 with an alarm if the log contradicts anything this witness cosigned."""
    config = WitnessConfig(client_id, client_secret, _signer(key_file), state_file, log_key)

    async def one_round() -> str:
        async with httpx.AsyncClient(base_url=server, timeout=30) as http:
            return (await witness_once(http, config)).message

    while True:
        try:
            typer.echo(asyncio.run(one_round()))
        except WitnessAlarm as exc:
            _alarm(str(exc))
            raise typer.Exit(code=ALARM_EXIT) from None
        except (WitnessError, httpx.HTTPError, TokenUnavailableError) as exc:
            typer.echo(f"witness round failed (nothing signed): {exc}", err=True)
            if not interval:
                raise typer.Exit(code=ERROR_EXIT) from None
        if not interval:
            return
        time.sleep(interval)


def _signer(key_file: Path) -> NoteSigner:
    try:
        return load_witness_signer(key_file)
    except (WitnessKeyError, OSError) as exc:
        _fail("loading the witness key", str(exc))


def _fail(what: str, message: str) -> NoReturn:
    typer.echo(f"{what} failed: {message}", err=True)
    raise typer.Exit(code=ERROR_EXIT)


def _alarm(message: str) -> None:
    banner = "!" * 78
    typer.secho(
        f"{banner}\nWITNESS ALARM: THE AUDIT LOG IS NOT TRUSTWORTHY\n{message}\n"
        "This witness signed nothing. Keep the state file and the evidence file, and tell the "
        f"other agencies' auditors now.\n{banner}",
        fg=typer.colors.RED,
        bold=True,
        err=True,
    )
