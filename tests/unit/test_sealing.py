"""Secrets sealed at rest (sealing/): round trip, bound to key and context, plain values of
before a key still read, key files checked; token and letter signing keys sealed when a key is
set, and still signing; `sanad keys seal` seals what was stored plain."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc import jwt
from sqlmodel import Session
from typer.testing import CliRunner

from auth import keys as auth_keys
from auth.clients import create_agency
from cli.main import app as cli
from database.engine import make_sync_engine
from letters import keys as letter_keys
from schemas.identity import SigningKey
from schemas.letters import LetterSigningKey
from schemas.vocabulary import AgencyKind
from sealing.box import (
    SecretBox,
    SecretUnreadableError,
    is_sealed,
    new_key,
    readable_secret,
    stored_secret,
)
from sealing.repository import seal_stored
from sealing.signing_keys import private_p256_key
from tests.key_helpers import keys_database, sealing_key_file


def _box(tmp_path: Path, name: str = "key") -> SecretBox:
    path = tmp_path / name
    path.write_text(new_key() + "\n")
    return SecretBox.from_file(path)


BOX = SecretBox(bytes(range(32)))


@given(secret=st.text(min_size=1, max_size=80), subscription_id=st.text(max_size=36))
def test_a_sealed_secret_opens_to_itself_and_does_not_show_it(
    secret: str, subscription_id: str
) -> None:
    sealed = stored_secret(secret, subscription_id, BOX)
    # a short text may occur in random base64 by chance; a secret (24+ characters) does not
    assert is_sealed(sealed) and (len(secret) < 12 or secret not in sealed)
    assert readable_secret(sealed, subscription_id, BOX) == secret


def test_a_sealed_secret_opens_only_for_its_subscription_and_key(tmp_path: Path) -> None:
    box, other = _box(tmp_path), _box(tmp_path, "other")
    sealed = box.seal("whsec_abc", "sub-1")
    assert sealed != box.seal("whsec_abc", "sub-1")  # a fresh nonce each time
    with pytest.raises(SecretUnreadableError):
        box.open(sealed, "sub-2")  # moved to another subscription's row
    with pytest.raises(SecretUnreadableError):
        other.open(sealed, "sub-1")
    with pytest.raises(SecretUnreadableError):
        readable_secret(sealed, "sub-1", None)


def test_without_a_key_secrets_are_stored_and_read_as_given() -> None:
    assert stored_secret("whsec_abc", "sub-1", None) == "whsec_abc"
    assert readable_secret("whsec_abc", "sub-1", BOX) == "whsec_abc"


@pytest.mark.parametrize("stored", ["p11key:sanad-signing-1", "destroyed:2026-12-07T00:00:00"])
def test_a_key_column_holding_no_key_is_never_read_as_a_plain_secret(stored: str) -> None:
    for box in (BOX, None):
        with pytest.raises(SecretUnreadableError, match="no key in this row"):
            readable_secret(stored, "signing_key:kid", box)


@pytest.mark.parametrize("content", ["", "not base64!", "c2hvcnQ=", None])
def test_a_key_file_that_is_not_32_bytes_of_base64_is_refused(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match="sealing key file"):
        SecretBox.from_file(path)


@pytest.fixture
def sealing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SecretBox:
    path = tmp_path / "sealing.key"
    path.write_text(new_key())
    monkeypatch.setenv("SANAD_SEALING_KEY_FILE", str(path))
    return SecretBox.from_file(path)


def test_token_and_letter_keys_are_sealed_and_still_sign(sealing_key: SecretBox) -> None:
    token_key = auth_keys.new_signing_key()
    assert is_sealed(token_key.private_pem) and "PRIVATE KEY" not in token_key.private_pem
    claims = {"sub": "c1", "aud": "sanad-api"}
    token = jwt.encode({"alg": "ES256"}, claims, auth_keys.signing_key_set(token_key))
    public = auth_keys.verification_key_set([token_key.public_jwk])[token_key.kid]
    assert jwt.decode(token, public).claims == claims
    letter_key = letter_keys.new_letter_key("us-mission")
    assert is_sealed(letter_key.private_pem)
    private = letter_keys.private_key(letter_key.kid, letter_key.private_pem)
    assert private.public_key().public_numbers() == (
        letter_keys.public_key(letter_key.public_jwk).public_numbers()
    )
    # bound to its key id: the sealed half of one key does not open as another's
    with pytest.raises(SecretUnreadableError):
        sealing_key.open(token_key.private_pem, auth_keys.sealing_context("another"))


def test_without_a_sealing_key_private_keys_are_stored_as_pem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SANAD_SEALING_KEY_FILE", raising=False)
    assert auth_keys.new_signing_key().private_pem.startswith("-----BEGIN")


def test_seal_stored_seals_what_was_stored_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = keys_database(tmp_path)
    monkeypatch.delenv("SANAD_SEALING_KEY_FILE", raising=False)
    with Session(make_sync_engine(url)) as session:
        create_agency(session, "us-mission", "US mission", AgencyKind.US_MISSION)
        session.flush()
        token_key = auth_keys.ensure_signing_key(session)
        letter_key = letter_keys.new_letter_key("us-mission")
        session.add(letter_key)
        session.commit()
        pems = {token_key.kid: token_key.private_pem, letter_key.kid: letter_key.private_pem}
    path = tmp_path / "sealing.key"
    path.write_text(new_key())
    box = SecretBox.from_file(path)
    with Session(make_sync_engine(url)) as session:
        assert seal_stored(session, box) == {
            "signing_key": 1,
            "letter_signing_key": 1,
            "webhook_subscription": 0,
        }
        session.commit()
    with Session(make_sync_engine(url)) as session:
        stored_token = session.get(SigningKey, token_key.kid)
        stored_letter = session.get(LetterSigningKey, letter_key.kid)
        assert stored_token is not None and stored_letter is not None
        assert (
            box.open(stored_token.private_pem, auth_keys.sealing_context(token_key.kid))
            == (pems[token_key.kid])
        )
        assert (
            box.open(stored_letter.private_pem, letter_keys.sealing_context(letter_key.kid))
            == (pems[letter_key.kid])
        )
        assert seal_stored(session, box)["signing_key"] == 0  # sealed ones stay as they are
        # the next key file: what the previous one sealed is sealed again, once
        rotated = _box(tmp_path, "next")
        with pytest.raises(SecretUnreadableError, match="name it"):
            seal_stored(session, rotated)
        assert seal_stored(session, rotated, previous=box)["letter_signing_key"] == 1
        assert seal_stored(session, rotated, previous=box)["letter_signing_key"] == 0
        assert stored_letter.private_pem.startswith("aesgcm1:")
        assert (
            rotated.open(stored_letter.private_pem, letter_keys.sealing_context(letter_key.kid))
            == (pems[letter_key.kid])
        )


def test_rotating_destroys_the_retired_keys_private_half_and_keeps_its_public_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = keys_database(tmp_path)
    key_file = sealing_key_file(tmp_path, monkeypatch, "sealing.key")
    with Session(make_sync_engine(url)) as session:
        old = auth_keys.ensure_signing_key(session)
        old_kid, old_pem = old.kid, old.private_pem
    result = CliRunner().invoke(cli, ["keys", "rotate"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert '"signing_key": 1' in result.output
    with Session(make_sync_engine(url)) as session:
        retired = session.get(SigningKey, old_kid)
        assert retired is not None and retired.private_pem.startswith("destroyed:")
        current = auth_keys.current_signing_key(session)
        assert current is not None and current.private_pem.startswith("aesgcm1:")
        assert old_kid in {jwk["kid"] for jwk in auth_keys.public_jwks(session)["keys"]}  # type: ignore[attr-defined]
        assert seal_stored(session, SecretBox.from_file(key_file))["signing_key"] == 0
    with pytest.raises(SecretUnreadableError, match="destroyed"):
        private_p256_key(retired.private_pem, auth_keys.sealing_context(old_kid))
    assert old_pem != retired.private_pem
