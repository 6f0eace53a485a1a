"""Webhook signing secrets sealed at rest: round trip, bound to key and subscription, plain
secrets of before a key still read, key files checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changes.secret_box import (
    SecretBox,
    SecretUnreadableError,
    is_sealed,
    new_key,
    readable_secret,
    stored_secret,
)


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


@pytest.mark.parametrize("content", ["", "not base64!", "c2hvcnQ=", None])
def test_a_key_file_that_is_not_32_bytes_of_base64_is_refused(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match="webhook secret key file"):
        SecretBox.from_file(path)
