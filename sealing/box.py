"""AES-256-GCM sealing of one secret under a 32-byte key, bound to a context (what the secret
belongs to), so that a sealed value copied to another row does not open."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "aesgcm1:"  # prefix of a sealed value: no PEM, `whsec_` secret or base64 starts so
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretUnreadableError(ValueError):
    """A stored secret cannot be read with the key this process holds (or holds none)."""


@dataclass(frozen=True, slots=True)
class SecretBox:
    key: bytes

    @classmethod
    def from_file(cls, path: str | Path) -> SecretBox:
        """The key in `path`: 32 bytes, written base64 (`sanad keys new-sealing-key`)."""
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"sealing key file {path}: cannot be read ({exc})") from None
        try:
            key = base64.b64decode(text, validate=True)
        except binascii.Error:
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError(f"sealing key file {path}: {KEY_BYTES} bytes, base64, wanted")
        return cls(key)

    def seal(self, secret: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(nonce, secret.encode(), context.encode())
        return SEALED + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, context: str) -> str:
        raw = base64.b64decode(stored.removeprefix(SEALED))
        try:
            plain = AESGCM(self.key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise SecretUnreadableError("sealed under another key or for another row") from None
        return plain.decode()


def new_key() -> str:
    """A fresh key, as a key file holds it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


def stored_secret(secret: str, context: str, box: SecretBox | None) -> str:
    """What to store: sealed when there is a key, else the secret as given."""
    return box.seal(secret, context) if box is not None else secret


def readable_secret(stored: str, context: str, box: SecretBox | None) -> str:
    """The secret, from what is stored (stored plain before a key was set: as it is)."""
    if not is_sealed(stored):
        return stored
    if box is None:
        raise SecretUnreadableError("sealed, and no SANAD_SEALING_KEY_FILE is set")
    return box.open(stored, context)
