"""`sanad letter verify` and `sanad letter build-verifier` against the test database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
from sqlmodel import Session
from typer.testing import CliRunner

from cli.main import app as cli
from config.settings import Settings
from letters.credential import parse, sign
from letters.keys import private_key
from schemas.letters import LetterSigningKey
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.letter_helpers import issue_letter, verify_credential


async def _sanad(settings: Settings, *args: str) -> tuple[int, str]:
    # the commands run their own event loop: keep them off the test's
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, list(args), env={"DATABASE_URL": settings.database_url}
    )
    return result.exit_code, result.output


async def test_verify_on_the_command_line(
    client: httpx.AsyncClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    code, output = await _sanad(settings, "letter", "verify", letter["credential"])
    assert code == 0, output
    assert json.loads(output)["status"] == "valid"

    jwks = tmp_path / "jwks.json"
    jwks.write_text((await client.get("/.well-known/jwks.json")).text)
    forged = letter["credential"][:-3] + (
        "AAA" if not letter["credential"].endswith("AAA") else "BBB"
    )
    code, output = await _sanad(settings, "letter", "verify", "--jwks", str(jwks), forged)
    assert code == 1 and json.loads(output)["status"] == "invalid"

    # a saved JWKS holding other keys too (an RSA key marked for letters): they are skipped
    saved = json.loads(jwks.read_text())
    saved["keys"].append(
        {
            "kty": "RSA",
            "kid": "rsa-1",
            "n": "AQAB",
            "e": "AQAB",
            "sanad_key_use": "protection-letter",
        }
    )
    jwks.write_text(json.dumps(saved))
    code, output = await _sanad(
        settings, "letter", "verify", "--jwks", str(jwks), letter["credential"]
    )
    assert code == 0 and json.loads(output)["status"] == "valid", output


async def test_build_verifier_bundles_the_keys(
    client: httpx.AsyncClient, world: World, settings: Settings, tmp_path: Path
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    code, output = await _sanad(settings, "letter", "build-verifier", "--out", str(tmp_path))
    assert code == 0, output
    assert letter["kid"] in (tmp_path / "index.html").read_text("utf-8")


async def test_rotating_a_letter_key_destroys_its_private_half_and_its_letters_stay_valid(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    sync_session: Callable[[], Session],
) -> None:
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    code, output = await _sanad(settings, "letter", "rotate-key", "--agency-id", world.us)
    assert code == 0, output
    assert json.loads(output.splitlines()[-1])["destroyed"]["letter_signing_key"] >= 1
    with sync_session() as session:
        retired = session.get(LetterSigningKey, letter["kid"])
        assert retired is not None and retired.retired_at is not None
        assert retired.private_pem.startswith("destroyed:")
    verified = await verify_credential(client, world, letter["credential"])
    assert verified["credential"]["status"] == "valid"
    assert (await issue_letter(client, world, list_id))["kid"] != letter["kid"]


async def test_a_mission_key_vouches_only_for_letters_in_its_name(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    sync_session: Callable[[], Session],
    tmp_path: Path,
) -> None:
    """With two missions' keys published, one mission's key signing a letter that names the
    other as issuer is refused online (the checkpoint's route and the CLI) and offline."""
    list_id = await shared_pipeline(client, world)
    letter = await issue_letter(client, world, list_id)
    with sync_session() as session:
        key = session.get(LetterSigningKey, letter["kid"])
        assert key is not None
        genuine = parse(letter["credential"]).claims
        forged = sign(
            replace(genuine, issuer="another-mission"),
            key.kid,
            private_key(key.kid, key.private_pem),
        )
    verified = await verify_credential(client, world, forged)
    assert verified["credential"]["status"] == "invalid", verified
    code, output = await _sanad(settings, "letter", "verify", forged)
    assert code == 1 and json.loads(output)["status"] == "invalid", output
    jwks = tmp_path / "jwks.json"
    jwks.write_text((await client.get("/.well-known/jwks.json")).text)
    code, output = await _sanad(settings, "letter", "verify", "--jwks", str(jwks), forged)
    assert code == 1 and json.loads(output)["status"] == "invalid", output
