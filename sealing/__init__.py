"""Secrets the service must read back, sealed at rest under a key kept outside the database
(`SANAD_SEALING_KEY_FILE`): the private keys that sign access tokens and protection letters,
and the secrets that sign webhook deliveries. A copy of the database alone (a backup, a dump,
a read-only breach) then lets no one mint tokens, forge letters or sign deliveries a partner
would trust. Without a key file they are stored as they are (the embedded default); values
stored plain before a key was set are read as they are until `sanad keys seal` seals them."""

from __future__ import annotations

from functools import cache

from config.settings import Settings
from sealing.box import SecretBox, SecretUnreadableError, is_sealed, readable_secret, stored_secret

__all__ = ["SecretBox", "SecretUnreadableError", "seal", "sealing_box", "unseal"]


@cache
def _box_in(path: str | None) -> SecretBox | None:
    return SecretBox.from_file(path) if path else None


def sealing_box() -> SecretBox | None:
    """The key `SANAD_SEALING_KEY_FILE` names, read once per path (ValueError if unreadable)."""
    return _box_in(Settings().sealing_key_file)


def seal(secret: str, context: str) -> str:
    """What to store for a secret belonging to `context` (e.g. `signing_key:KID`)."""
    return stored_secret(secret, context, sealing_box())


def unseal(stored: str, context: str) -> str:
    # a value stored plain needs no key: the settings are read only for a sealed one
    return readable_secret(stored, context, sealing_box() if is_sealed(stored) else None)
