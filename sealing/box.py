"""AES-256-GCM sealing of one secret under a 32-byte key, bound to a context (what the secret
belongs to), so that a sealed value copied to another row does not open; and what any sealer
(this key file's, or a PKCS#11 token's: `sealing/token.py`) offers the code that stores
secrets."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "aesgcm1:"  # prefix of a sealed value: no PEM, `whsec_` secret or base64 starts so
TOKEN_SEALED = "p11gcm1:"  # noqa: S105  # sealed in a PKCS#11 token, under a key it keeps
TOKEN_KEY = "p11key:"  # noqa: S105  # a private key made in a token: its label is stored
DESTROYED = "destroyed:"  # a retired key's private half, destroyed: it never signs again
SEALED_PREFIXES = (SEALED, TOKEN_SEALED)
KEY_NOT_IN_ROW = (TOKEN_KEY, DESTROYED)  # a private key column with no key in it to read
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretUnreadableError(ValueError):
    """A stored secret cannot be read with the key this process holds (or holds none)."""


class Sealer(Protocol):
    """Seals secrets under one key; `prefix` starts every value it seals."""

    @property
    def prefix(self) -> str: ...

    def seal(self, secret: str, context: str) -> str: ...

    def open(self, stored: str, context: str) -> str: ...


@dataclass(frozen=True, slots=True)
class SecretBox:
    """A key read from a key file, held in this process's memory."""

    key: bytes
    prefix: ClassVar[str] = SEALED

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
        return encoded(self.prefix, nonce, sealed)

    def open(self, stored: str, context: str) -> str:
        nonce, sealed = decoded(self.prefix, stored)
        try:
            plain = AESGCM(self.key).decrypt(nonce, sealed, context.encode())
        except InvalidTag:
            raise SecretUnreadableError(WRONG_KEY_OR_ROW) from None
        return plain.decode()


WRONG_KEY_OR_ROW = "sealed under another key or for another row"


def encoded(prefix: str, nonce: bytes, sealed: bytes) -> str:
    """A stored value: the prefix, then base64 of the nonce and the ciphertext with its tag."""
    return prefix + base64.b64encode(nonce + sealed).decode("ascii")


def decoded(prefix: str, stored: str) -> tuple[bytes, bytes]:
    try:
        raw = base64.b64decode(stored.removeprefix(prefix), validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) <= NONCE_BYTES:
        raise SecretUnreadableError("not a sealed value")
    return raw[:NONCE_BYTES], raw[NONCE_BYTES:]


def new_key() -> str:
    """A fresh key, as a key file holds it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIXES)


def stored_secret(secret: str, context: str, box: Sealer | None) -> str:
    """What to store: sealed when there is a key, else the secret as given."""
    return box.seal(secret, context) if box is not None else secret


def readable_secret(stored: str, context: str, box: Sealer | None) -> str:
    """The secret, from what is stored (stored plain before a key was set: as it is)."""
    if stored.startswith(KEY_NOT_IN_ROW):
        raise SecretUnreadableError("no key in this row: it is in a PKCS#11 token, or destroyed")
    if not is_sealed(stored):
        return stored
    if box is None:
        raise SecretUnreadableError("sealed, and no sealing key is configured")
    if not stored.startswith(box.prefix):
        where = "in a PKCS#11 token" if stored.startswith(TOKEN_SEALED) else "under a key file"
        raise SecretUnreadableError(f"sealed {where}, which this process does not seal with")
    return box.open(stored, context)
