"""The rows that hold sealable secrets, for `sanad keys seal`: token and letter signing keys
and webhook subscriptions whose secret is still stored plain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from auth.keys import sealing_context as token_key_context
from changes.signing import secret_context
from letters.keys import sealing_context as letter_key_context
from schemas.changes import WebhookSubscription
from schemas.identity import SigningKey
from schemas.letters import LetterSigningKey
from sealing.box import SEALED, SecretBox

Row = SigningKey | LetterSigningKey | WebhookSubscription
# table, the column holding the secret, and what its sealed value is bound to
SEALABLE: tuple[tuple[type[Row], str, Callable[[Any], str]], ...] = (
    (SigningKey, "private_pem", lambda row: token_key_context(row.kid)),
    (LetterSigningKey, "private_pem", lambda row: letter_key_context(row.kid)),
    (WebhookSubscription, "secret", lambda row: secret_context(row.id)),
)


def seal_plain(session: Session, box: SecretBox) -> dict[str, int]:
    """Seal every secret stored plain; how many per table (the caller commits)."""
    sealed: dict[str, int] = {}
    for table, column, context in SEALABLE:
        holder = getattr(table, column)
        rows = session.execute(select(table).where(~holder.startswith(SEALED))).scalars().all()
        for row in rows:
            setattr(row, column, box.seal(getattr(row, column), context(row)))
        sealed[str(table.__tablename__)] = len(rows)
    return sealed
