"""Webhook signing secrets at rest. Standard Webhooks signs with a shared symmetric secret,
so Sanad must be able to read it back: with `SANAD_WEBHOOK_SECRET_KEY_FILE` set, each secret is
stored sealed with AES-256-GCM under a key kept outside the database and bound to its
subscription's id. A copy of the database alone (a backup, a dump, a read-only breach) then
does not let anyone sign deliveries that a partner would trust, such as a forged "detained"
event; nor can a sealed secret be moved to another subscription. Without a key file, secrets
are stored as given (the embedded default), and a secret stored plain before a key was set is
still read until `sanad webhooks seal-secrets` seals it."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "aesgcm1:"  # prefix of a sealed secret; Standard Webhooks secrets start `whsec_`
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretUnreadableError(ValueError):
    """A stored secret cannot be read with the key this process holds (or holds none)."""


@dataclass(frozen=True, slots=True)
class SecretBox:
    key: bytes

    @classmethod
    def from_file(cls, path: str | Path) -> SecretBox:
        """The key in `path`: 32 bytes, written base64 (`sanad webhooks new-key`)."""
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"webhook secret key file {path}: cannot be read ({exc})") from None
        try:
            key = base64.b64decode(text, validate=True)
        except binascii.Error:
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError(f"webhook secret key file {path}: {KEY_BYTES} bytes, base64, wanted")
        return cls(key)

    def seal(self, secret: str, subscription_id: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(nonce, secret.encode(), subscription_id.encode())
        return SEALED + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, subscription_id: str) -> str:
        raw = base64.b64decode(stored.removeprefix(SEALED))
        try:
            plain = AESGCM(self.key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], subscription_id.encode()
            )
        except InvalidTag:
            raise SecretUnreadableError("sealed under another key or subscription") from None
        return plain.decode()


def new_key() -> str:
    """A fresh key, as a key file holds it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


def stored_secret(secret: str, subscription_id: str, box: SecretBox | None) -> str:
    """What to store for a subscription's secret: sealed when there is a key."""
    return box.seal(secret, subscription_id) if box is not None else secret


def readable_secret(stored: str, subscription_id: str, box: SecretBox | None) -> str:
    """The secret to sign with, from what is stored."""
    if not is_sealed(stored):
        return stored
    if box is None:
        raise SecretUnreadableError("sealed, and no SANAD_WEBHOOK_SECRET_KEY_FILE is set")
    return box.open(stored, subscription_id)
