"""The rows that hold sealable secrets, for `sanad keys seal`: token and letter signing keys
and webhook subscriptions whose secret is still stored plain, or sealed under a previous key
(moving from a key file to a PKCS#11 token, or from one key to the next); and, for `sanad keys
destroy-retired`, the private halves of retired signing keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from auth.keys import sealing_context as token_key_context
from changes.signing import secret_context
from letters.keys import sealing_context as letter_key_context
from schemas.changes import WebhookSubscription
from schemas.identity import SigningKey
from schemas.letters import LetterSigningKey
from sealing.box import (
    DESTROYED,
    KEY_NOT_IN_ROW,
    TOKEN_KEY,
    Sealer,
    SecretUnreadableError,
    is_sealed,
)
from sealing.token_login import TokenSettings, TokenUnavailableError
from sealing.token_signing import destroy_key_pair

Row = SigningKey | LetterSigningKey | WebhookSubscription
# table, the column holding the secret, and what its sealed value is bound to
SEALABLE: tuple[tuple[type[Row], str, Callable[[Any], str]], ...] = (
    (SigningKey, "private_pem", lambda row: token_key_context(row.kid)),
    (LetterSigningKey, "private_pem", lambda row: letter_key_context(row.kid)),
    (WebhookSubscription, "secret", lambda row: secret_context(row.id)),
)


def seal_stored(session: Session, box: Sealer, previous: Sealer | None = None) -> dict[str, int]:
    """Seal under `box` every secret stored plain and, given the `previous` sealer, every one
    sealed under it; how many per table (the caller commits, so that a secret neither key opens
    leaves everything as it was)."""
    sealed: dict[str, int] = {}
    for table, column, context in SEALABLE:
        count = 0
        for row in session.execute(select(table)).scalars().all():
            stored = getattr(row, column)
            secret = _to_seal(stored, context(row), box, previous)
            if secret is not None:
                setattr(row, column, box.seal(secret, context(row)))
                count += 1
        sealed[str(table.__tablename__)] = count
    return sealed


def _to_seal(stored: str, context: str, box: Sealer, previous: Sealer | None) -> str | None:
    """The secret when it must be sealed under `box`; None when it already is."""
    if stored.startswith(KEY_NOT_IN_ROW):
        return None  # a private key in the token, or none left: nothing of it to seal
    if not is_sealed(stored):
        return stored
    if stored.startswith(box.prefix):
        try:
            box.open(stored, context)
            return None
        except TokenUnavailableError:
            raise
        except SecretUnreadableError:
            pass  # under an earlier key of the same kind
    if previous is None:
        raise SecretUnreadableError("sealed under another key: name it to seal again under this")
    if not stored.startswith(previous.prefix):
        raise SecretUnreadableError("sealed under neither this key nor the previous one")
    return previous.open(stored, context)


def destroy_retired(session: Session, token: TokenSettings | None) -> dict[str, int]:
    """Destroy the private half of every retired token and letter signing key: a retired key
    never signs again, and its public half, which verifies what it signed, is kept apart
    (`public_jwk`). A key in the token is destroyed there (before the caller commits: a failed
    commit leaves retired rows naming keys that are gone, which nothing reads); a sealed PEM is
    overwritten. How many per table; a key in a token when none is configured is left."""
    destroyed: dict[str, int] = {}
    for table in (SigningKey, LetterSigningKey):
        rows = session.execute(
            select(table).where(
                col(table.retired_at).is_not(None),
                ~col(table.private_pem).startswith(DESTROYED),
            )
        ).scalars()
        count = 0
        for row in rows:
            if row.private_pem.startswith(TOKEN_KEY):
                if token is None:
                    continue
                destroy_key_pair(token, row.private_pem)
            row.private_pem = DESTROYED + row.retired_at.isoformat()
            count += 1
        destroyed[str(table.__tablename__)] = count
    return destroyed
