"""Sealing and signing inside a PKCS#11 token (`sealing/token.py`, `sealing/token_signing.py`),
against SoftHSM 2: round trip bound to context and key, a key that cannot leave the token,
refusals that name what is wrong, a lost session recovered, the settings that choose it,
`sanad keys` making the key and moving secrets from a key file into the token without losing
one, and access tokens and letters signed by keys the token holds, through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from joserfc import jws, jwt
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11 import exceptions as p11
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.app_factory import create_app
from auth import keys as auth_keys
from auth.clients import create_agency
from cli.main import app as cli
from config.settings import Settings
from database.engine import make_sync_engine
from letters import keys as letter_keys
from schemas.identity import SigningKey
from schemas.letters import LetterSigningKey
from schemas.vocabulary import AgencyKind
from sealing import sealing_box, token_settings
from sealing.box import SecretBox, SecretUnreadableError, new_key, readable_secret
from sealing.token import TokenBox, create_key
from sealing.token_login import TokenSettings, login
from tests.conftest import World
from tests.helpers import shared_pipeline
from tests.key_helpers import keys_database, sealing_key_file
from tests.letter_helpers import issue_letter, verify_credential
from tests.softhsm import seal_in_token, token_environment


def test_a_secret_sealed_in_the_token_opens_only_for_its_row_and_key(
    token_key: TokenSettings, softhsm_token: TokenSettings
) -> None:
    box = TokenBox(token_key)
    sealed = box.seal("whsec_abc", "subscription:1")
    assert sealed.startswith("p11gcm1:") and "whsec_abc" not in sealed
    assert sealed != box.seal("whsec_abc", "subscription:1")  # a fresh nonce each time
    assert box.open(sealed, "subscription:1") == "whsec_abc"
    with pytest.raises(SecretUnreadableError, match="another key or for another row"):
        box.open(sealed, "subscription:2")
    other = replace(softhsm_token, key_label="another-key")
    create_key(other)
    with pytest.raises(SecretUnreadableError, match="another key or for another row"):
        TokenBox(other).open(sealed, "subscription:1")
    with pytest.raises(SecretUnreadableError, match="not a sealed value"):
        box.open("p11gcm1:AAAA", "subscription:1")


def test_the_key_is_made_in_the_token_and_cannot_leave_it(token_key: TokenSettings) -> None:
    token = login(token_key)
    with token.lock:
        key = token.session.get_key(key_type=KeyType.AES, label=token_key.key_label)
        assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
        assert key[Attribute.VALUE_LEN] == 32
        assert not key[Attribute.WRAP] and not key[Attribute.DERIVE]
        with pytest.raises(p11.AttributeSensitive):
            key[Attribute.VALUE]
    with pytest.raises(ValueError, match="already in the token"):
        create_key(token_key)


def test_a_key_that_could_leave_the_token_is_refused(softhsm_token: TokenSettings) -> None:
    exportable = replace(softhsm_token, key_label="exportable")
    token = login(exportable)
    with token.lock:
        token.session.generate_key(
            KeyType.AES, 256, label="exportable", store=True,
            template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
        )  # fmt: skip
    with pytest.raises(ValueError, match="extractable or not sensitive; refused"):
        TokenBox(exportable)


def test_what_is_wrong_with_the_token_settings_is_named(
    token_key: TokenSettings, tmp_path: Path
) -> None:
    wrong_pin = tmp_path / "pin"
    wrong_pin.write_text("00000000")
    with pytest.raises(ValueError, match="PIN"):  # once logged in, another PIN is refused here
        TokenBox(replace(token_key, pin_file=str(wrong_pin)))
    with pytest.raises(ValueError, match="cannot be read"):
        TokenBox(replace(token_key, pin_file=str(tmp_path / "absent")))
    with pytest.raises(ValueError, match="none, or several"):
        TokenBox(replace(token_key, token_label="no-such-token"))
    with pytest.raises(ValueError, match="not in the token"):
        TokenBox(replace(token_key, key_label="never-made"))


def test_a_wrong_pin_is_refused_by_the_token(token_key: TokenSettings, tmp_path: Path) -> None:
    """In a process of its own: this one is logged in already, and PKCS#11 logs in once."""
    wrong_pin = tmp_path / "pin"
    wrong_pin.write_text("00000000")
    environment = {**os.environ, **token_environment(replace(token_key, pin_file=str(wrong_pin)))}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "keys", "new-sealing-key", "--pkcs11"],
        env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"PKCS#11 token {token_key.token_label!r}: the PIN is refused" in done.stderr


def test_a_lost_session_is_opened_again(token_key: TokenSettings) -> None:
    box = TokenBox(token_key)
    sealed = box.seal("secret", "ctx")
    token = login(token_key)
    with token.lock:
        token.session.close()  # logs the process out, as a dropped HSM connection would
    assert box.open(sealed, "ctx") == "secret"
    assert box.open(box.seal("again", "ctx"), "ctx") == "again"
    assert login(token_key) is not token


def test_a_value_sealed_under_a_key_file_is_not_opened_by_the_token(
    token_key: TokenSettings,
) -> None:
    file_sealed = SecretBox(bytes(range(32))).seal("secret", "ctx")
    with pytest.raises(SecretUnreadableError, match="under a key file"):
        readable_secret(file_sealed, "ctx", TokenBox(token_key))
    token_sealed = TokenBox(token_key).seal("secret", "ctx")
    with pytest.raises(SecretUnreadableError, match="in a PKCS#11 token"):
        readable_secret(token_sealed, "ctx", SecretBox(bytes(range(32))))


def test_the_settings_choose_the_token(
    token_sealing: TokenSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(sealing_box(), TokenBox)
    key_file = tmp_path / "sealing.key"
    key_file.write_text(new_key())
    monkeypatch.setenv("SANAD_SEALING_KEY_FILE", str(key_file))
    with pytest.raises(ValueError, match="not both"):
        sealing_box()
    monkeypatch.delenv("SANAD_SEALING_KEY_FILE")
    monkeypatch.delenv("SANAD_SEALING_PKCS11_PIN_FILE")
    with pytest.raises(ValueError, match="also needs SANAD_SEALING_PKCS11_PIN_FILE"):
        token_settings(Settings())


def _sanad(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"DATABASE_URL": database_url})
    return result.exit_code, result.output


def _keys_sealed_under_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A database whose token and letter signing keys are sealed under a key file."""
    url = keys_database(tmp_path)
    key_file = sealing_key_file(tmp_path, monkeypatch, "old.key")
    with Session(make_sync_engine(url)) as session:
        create_agency(session, "us-mission", "US mission", AgencyKind.US_MISSION)
        session.flush()
        auth_keys.ensure_signing_key(session)
        session.add(letter_keys.new_letter_key("us-mission"))
        session.commit()
    monkeypatch.delenv("SANAD_SEALING_KEY_FILE")
    return url, key_file


def _stored(url: str) -> dict[str, str]:
    with Session(make_sync_engine(url)) as session:
        rows = [*session.exec(select(SigningKey)), *session.exec(select(LetterSigningKey))]
        return {row.kid: row.private_pem for row in rows}


def test_keys_seal_moves_secrets_from_a_key_file_into_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, softhsm_token: TokenSettings
) -> None:
    url, old_key = _keys_sealed_under_a_file(tmp_path, monkeypatch)
    old = SecretBox.from_file(old_key)
    before = _stored(url)
    contexts = {kid: auth_keys.sealing_context(kid) for kid in before}
    with Session(make_sync_engine(url)) as session:
        for row in session.exec(select(LetterSigningKey)):
            contexts[row.kid] = letter_keys.sealing_context(row.kid)
    secrets = {kid: old.open(sealed, contexts[kid]) for kid, sealed in before.items()}

    label = "moved-into-the-token"
    seal_in_token(monkeypatch, replace(softhsm_token, key_label=label))
    code, output = _sanad(url, "keys", "new-sealing-key", "--pkcs11")
    assert code == 0, output
    assert json.loads(output) == {"token": softhsm_token.token_label, "key": label}
    assert _sanad(url, "keys", "new-sealing-key", "--pkcs11")[0] == 2  # never replaced

    code, output = _sanad(url, "keys", "seal")  # without the old key, nothing can move
    assert code == 2 and "sealed under another key" in output
    assert _stored(url) == before
    code, output = _sanad(url, "keys", "seal", "--previous-key-file", str(old_key))
    assert code == 0, output
    assert json.loads(output)["sealed"] == {
        "signing_key": 1,
        "letter_signing_key": 1,
        "webhook_subscription": 0,
    }
    box = TokenBox(replace(softhsm_token, key_label=label))
    after = _stored(url)
    assert all(sealed.startswith("p11gcm1:") for sealed in after.values())
    assert {kid: box.open(sealed, contexts[kid]) for kid, sealed in after.items()} == secrets
    code, output = _sanad(url, "keys", "seal", "--previous-key-file", str(old_key))
    assert code == 0 and json.loads(output)["sealed"]["signing_key"] == 0  # already moved


def test_keys_seal_changes_nothing_when_one_secret_opens_under_neither_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token_key: TokenSettings
) -> None:
    url, old_key = _keys_sealed_under_a_file(tmp_path, monkeypatch)
    seal_in_token(monkeypatch, token_key)
    stranger = tmp_path / "stranger.key"
    stranger.write_text(new_key())
    with Session(make_sync_engine(url)) as session:
        letter_key = session.exec(select(LetterSigningKey)).one()
        letter_key.private_pem = SecretBox.from_file(stranger).seal("pem", "elsewhere")
        session.commit()
    before = _stored(url)
    code, output = _sanad(url, "keys", "seal", "--previous-key-file", str(old_key))
    assert code == 2 and "refused: " in output
    assert _stored(url) == before


def test_the_service_does_not_start_on_a_key_the_token_does_not_hold(
    token_sealing: TokenSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANAD_SEALING_PKCS11_KEY", "never-made")
    with pytest.raises(ValueError, match="'never-made': not in the token"):
        create_app(Settings())


def test_signing_keys_are_made_in_the_token_and_sign_there(token_sealing: TokenSettings) -> None:
    token_key = auth_keys.new_signing_key()
    assert token_key.private_pem.startswith("p11key:")  # a label: nothing of the key is stored
    claims = {"sub": "c1", "aud": "sanad-api"}
    token = jwt.encode({"alg": "ES256"}, claims, auth_keys.signing_key_set(token_key))
    public = auth_keys.verification_key_set([token_key.public_jwk])[token_key.kid]
    assert jwt.decode(token, public).claims == claims

    letter_key = letter_keys.new_letter_key("us-mission")
    private = letter_keys.private_key(letter_key.kid, letter_key.private_pem)
    signature = private.sign(b"letter", ec.ECDSA(hashes.SHA256()))
    letter_keys.public_key(letter_key.public_jwk).verify(
        signature, b"letter", ec.ECDSA(hashes.SHA256())
    )
    with pytest.raises(TypeError, match="never leaves"):
        private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    held_in = login(token_sealing)
    with held_in.lock:
        label = letter_key.private_pem.removeprefix("p11key:")
        held = held_in.session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
        assert held[Attribute.SENSITIVE] and not held[Attribute.EXTRACTABLE]


def test_signing_keys_can_stay_sealed_pems_under_a_token(
    token_sealing: TokenSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANAD_SEALING_PKCS11_SIGNING_KEYS", "false")
    assert auth_keys.new_signing_key().private_pem.startswith("p11gcm1:")


async def test_through_the_api_tokens_and_letters_are_signed_in_the_token(
    client: httpx.AsyncClient,
    world: World,
    sync_session: Callable[[], Session],
    token_sealing: TokenSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with sync_session() as session:
        current = auth_keys.rotate_signing_key(session)
        kid, stored = current.kid, current.private_pem
    try:
        assert stored.startswith("p11key:")
        list_id = await shared_pipeline(client, world)  # authorised by a token the HSM signed
        signed = jws.extract_compact((await world.token("us_mission")).encode())
        assert signed.headers()["kid"] == kid
        letter = await issue_letter(client, world, list_id)
        verified = await verify_credential(client, world, letter["credential"])
        assert verified["credential"]["status"] == "valid"
        with sync_session() as session:
            mission_key = session.exec(
                select(LetterSigningKey).where(LetterSigningKey.agency_id == world.us)
            ).one()
            assert mission_key.private_pem.startswith("p11key:")
    finally:
        for name in token_environment(token_sealing):
            monkeypatch.delenv(name)
        with sync_session() as session:  # the next tests sign without the token
            auth_keys.rotate_signing_key(session)


def test_rotating_destroys_the_retired_key_in_the_token(
    tmp_path: Path, token_sealing: TokenSettings
) -> None:
    url = keys_database(tmp_path)
    with Session(make_sync_engine(url)) as session:
        label = auth_keys.ensure_signing_key(session).private_pem.removeprefix("p11key:")
    code, output = _sanad(url, "keys", "rotate")
    assert code == 0, output
    assert json.loads(output.splitlines()[-1])["destroyed"]["signing_key"] == 1
    held_in = login(token_sealing)
    with held_in.lock:
        assert list(held_in.session.get_objects({Attribute.LABEL: label})) == []
    with Session(make_sync_engine(url)) as session:
        current = auth_keys.current_signing_key(session)
        assert current is not None and current.private_pem.startswith("p11key:")
